//! clawctl's JSON output read back: a report, its agents' results, `status`'s phases.

use serde_json::Value;

use crate::harness::Output;
use crate::harness::backend::Backend;

/// The JSON report a command printed on stdout.
pub(crate) fn report(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not a JSON report ({e}):\n{out}"))
}

/// [`report`] of a run's stdout, naming its stderr when it is not JSON.
pub(crate) fn json_of(out: &Output) -> Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", out.stdout, out.stderr))
}

/// (agent, field) of every row of `report["agents"]`.
fn column(report: &Value, field: &str) -> Vec<(String, String)> {
    report["agents"]
        .as_array()
        .unwrap_or_else(|| panic!("no agents in {report}"))
        .iter()
        .map(|a| {
            (
                a["agent"].as_str().unwrap_or_default().to_string(),
                a[field].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// (agent, result) of a rollout's, rollback's or resume's report.
pub(crate) fn results(report: &Value) -> Vec<(String, String)> {
    column(report, "result")
}

/// (agent, phase) of `status -o json`.
pub(crate) fn phases(status: &Value) -> Vec<(String, String)> {
    column(status, "phase")
}

/// (agent, phase, reason) of `status -o json`.
pub(crate) fn phases_and_reasons(status: &Value) -> Vec<(String, String, String)> {
    phases(status)
        .into_iter()
        .zip(column(status, "reason"))
        .map(|((agent, phase), (_, reason))| (agent, phase, reason))
        .collect()
}

/// `(agent, phase)` pairs from string literals, to compare with [`phases`].
pub(crate) fn pairs(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

impl Backend {
    /// `status` with `args` (`fleet.yaml`, or `--fleet NAME`) and `-o json`.
    pub(crate) fn status_json(&self, fleet_text: &str, args: &[&str]) -> Value {
        let mut all = vec!["status"];
        all.extend_from_slice(args);
        all.extend(["-o", "json"]);
        json_of(&self.clawctl(fleet_text, &all).success())
    }
}
