//! Rollback's plan (agent, the revision it runs, the one it returns to), its progress
//! (one line per event on stderr, nothing with `--quiet`) and its report table (agent,
//! from, to, recorded revision, result, reason).

use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};

use super::history::tag;
use super::readiness::Readiness;
use crate::cluster::history::Revision;
use crate::cluster::readiness::Rollout;
use crate::cluster::wait::{Progress, Workload};
use crate::ops::rollback::{AgentReport, Plan, Point, Report, Reporter};

/// Lines on stderr; readiness changes are shown once per distinct state.
pub struct RollbackProgress {
    quiet: bool,
    readiness: Readiness,
}

impl RollbackProgress {
    pub fn new(quiet: bool) -> RollbackProgress {
        RollbackProgress {
            quiet,
            readiness: Readiness::default(),
        }
    }

    fn line(&self, text: &str) {
        super::readiness::plain(self.quiet, text);
    }
}

fn point(point: Option<&Point>) -> String {
    point
        .map(|p| format!("{} ({})", p.revision, tag(&p.image)))
        .unwrap_or_else(|| "-".into())
}

impl Reporter for RollbackProgress {
    fn started(&self, agent: &str, from: &Revision, to: &Revision) {
        self.line(&format!(
            "{agent}: rolling back from revision {} ({}) to revision {} ({})",
            from.number,
            tag(&from.image),
            to.number,
            tag(&to.image)
        ));
    }

    fn finished(&self, agent: &AgentReport) {
        let reason = agent
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        self.line(&format!(
            "{}: {}{reason}",
            agent.agent,
            agent.result.as_str()
        ));
    }
}

impl Progress for RollbackProgress {
    fn changed(&self, workload: &Workload, state: &Rollout) {
        if let Some(line) = self.readiness.line(workload, state) {
            self.line(&line);
        }
    }

    fn note(&self, text: &str) {
        self.line(text);
    }
}

/// What a rollback will do, for people (stderr, before the question or under
/// `--dry-run`): per agent its current revision and image and the ones it returns to, or
/// why it cannot be rolled back.
pub fn plan(plan: &Plan) -> String {
    let going = plan.agents.iter().filter(|a| a.problem.is_none()).count();
    let problems = going < plan.agents.len();
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY);
    let mut header = vec!["agent", "now", "back to"];
    header.extend(problems.then_some("problem"));
    table.set_header(header);
    for a in &plan.agents {
        let mut row = vec![
            a.agent.clone(),
            point(a.from.as_ref()),
            point(a.to.as_ref()),
        ];
        row.extend(problems.then(|| a.problem.clone().unwrap_or_default()));
        table.add_row(row);
    }
    let mut text = format!(
        "rollback of fleet {} on {}: {going} of {} agent(s) go back (config and image \
         together; volumes untouched)\n{table}",
        plan.fleet,
        plan.cluster,
        plan.agents.len()
    );
    if going == 0 {
        text.push_str("\nnothing to roll back: no agent has a revision to return to");
    }
    for line in super::snapshot::before_moving(&plan.snapshots, &plan.unsnapshotted) {
        text.push('\n');
        text.push_str(&line);
    }
    text
}

/// The report as a table and a closing line.
pub fn table(report: &Report) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY);
    table.set_header(["agent", "from", "to", "recorded", "result", "reason"]);
    for a in &report.agents {
        table.add_row([
            a.agent.clone(),
            point(a.from.as_ref()),
            point(a.to.as_ref()),
            a.recorded
                .map(|n| n.to_string())
                .unwrap_or_else(|| "-".into()),
            a.result.as_str().to_string(),
            a.reason.clone().unwrap_or_default(),
        ]);
    }
    let done = report
        .agents
        .iter()
        .filter(|a| a.recorded.is_some())
        .count();
    let mut text = format!(
        "{table}\nfleet {}: {done}/{} agents rolled back",
        report.fleet,
        report.agents.len()
    );
    if report.interrupted {
        text.push_str(" (interrupted: no further agent was started)");
    }
    text.push_str(&super::snapshot::taken(&report.snapshots));
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::rollback::{Outcome, Step};

    #[test]
    fn the_plan_names_each_agents_current_and_target_revision() {
        let plan = Plan {
            fleet: "demo".into(),
            cluster: "https://k8s:6443".into(),
            snapshots: Vec::new(),
            unsnapshotted: Vec::new(),
            agents: vec![
                Step {
                    agent: "alpha".into(),
                    namespace: Some("core".into()),
                    from: Some(Point {
                        revision: 3,
                        image: "img:2026.5.1".into(),
                    }),
                    to: Some(Point {
                        revision: 2,
                        image: "img:2026.4.14".into(),
                    }),
                    problem: None,
                },
                Step {
                    agent: "beta".into(),
                    namespace: None,
                    from: None,
                    to: None,
                    problem: Some("there is no earlier revision".into()),
                },
            ],
        };
        let text = super::plan(&plan);
        assert!(
            text.starts_with("rollback of fleet demo on https://k8s:6443: 1 of 2 agent(s) go back"),
            "{text}"
        );
        let alpha = text
            .lines()
            .find(|l| l.contains("alpha"))
            .expect("alpha row");
        assert!(
            alpha.contains("3 (2026.5.1)") && alpha.contains("2 (2026.4.14)"),
            "{alpha}"
        );
        assert!(text.contains("there is no earlier revision"), "{text}");
        assert!(!text.contains("nothing to roll back"), "{text}");
    }

    #[test]
    fn the_table_names_both_revisions_and_the_result() {
        let report = Report {
            fleet: "demo".into(),
            snapshots: Vec::new(),
            agents: vec![
                AgentReport {
                    agent: "alpha".into(),
                    namespace: Some("core".into()),
                    from: Some(Point {
                        revision: 3,
                        image: "img:crashy".into(),
                    }),
                    to: Some(Point {
                        revision: 2,
                        image: "img:2026.4.14".into(),
                    }),
                    recorded: Some(4),
                    result: Outcome::Ready,
                    reason: None,
                },
                AgentReport {
                    agent: "beta".into(),
                    namespace: None,
                    from: None,
                    to: None,
                    recorded: None,
                    result: Outcome::Failed,
                    reason: Some("no revisions recorded".into()),
                },
            ],
            interrupted: false,
        };
        let text = table(&report);
        assert!(text.contains("3 (crashy)"), "{text}");
        assert!(text.contains("2 (2026.4.14)"), "{text}");
        assert!(text.contains("no revisions recorded"), "{text}");
        assert!(
            text.ends_with("fleet demo: 1/2 agents rolled back"),
            "{text}"
        );
    }
}
