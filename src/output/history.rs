//! The history table: one row per revision (agent, revision, age, image tag, cause,
//! gate, summary).

use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};
use k8s_openapi::jiff::Timestamp;

use crate::cluster::history::{self, Revision};

/// The tag of an image reference ("2026.4.14"), a shortened digest, or "latest".
pub fn tag(image: &str) -> String {
    if image.is_empty() {
        return "-".into();
    }
    if let Some((_, digest)) = image.split_once('@') {
        return digest.chars().take(19).collect();
    }
    match image.rsplit_once(':') {
        Some((_, tag)) if !tag.contains('/') => tag.to_string(),
        _ => "latest".to_string(),
    }
}

/// The revisions as a table; ages are counted from `now`.
pub fn table(revisions: &[Revision], now: Timestamp) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY);
    table.set_header([
        "agent", "revision", "age", "image", "cause", "gate", "summary",
    ]);
    for r in revisions {
        table.add_row([
            r.agent.clone(),
            r.number.to_string(),
            super::status::age(history::age_seconds(r, now)),
            tag(&r.image),
            r.cause.as_str().to_string(),
            r.gate.as_str().to_string(),
            match &r.refused {
                // Planted or corrupt: shown so that someone looks, never applied.
                Some(why) => format!("REFUSED ({}): {why}", r.name),
                None => r.summary.clone(),
            },
        ]);
    }
    table.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::history::{Cause, Gate};

    #[test]
    fn rows_show_tag_age_cause_gate_and_summary() {
        let revision = Revision {
            agent: "alpha".into(),
            team: None,
            namespace: "core".into(),
            name: "agent-alpha-r2".into(),
            number: 2,
            image: "ghcr.io/openclaw/openclaw:2026.5.1".into(),
            cause: Cause::Rollback,
            gate: Gate::Failed,
            created: Some("2026-11-21T00:00:00Z".into()),
            summary: "ConfigMap agent-alpha: SOUL.md".into(),
            digest: "0011".into(),
            manifests: Vec::new(),
            refused: None,
            stored: history::Stored::Secret,
            sealed: true,
        };
        let now: Timestamp = "2026-11-21T00:10:00Z".parse().expect("time");
        let text = table(&[revision], now);
        let row = text
            .lines()
            .find(|l| l.contains("alpha"))
            .expect("a row for alpha");
        for cell in [
            "2",
            "10m",
            "2026.5.1",
            "rollback",
            "failed",
            "ConfigMap agent-alpha: SOUL.md",
        ] {
            assert!(row.contains(cell), "{cell} missing from {row}");
        }
        assert_eq!(tag("localhost:5000/openclaw"), "latest");
        assert_eq!(tag(""), "-");
    }
}
