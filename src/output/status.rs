//! The status table: one row per agent, and the summary line.

use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};

use crate::ops::status::FleetStatus;

/// "45s", "12m", "3h", "5d", as kubectl shows ages.
pub fn age(seconds: Option<i64>) -> String {
    match seconds {
        None => "-".into(),
        Some(s) if s < 120 => format!("{}s", s.max(0)),
        Some(s) if s < 2 * 3600 => format!("{}m", s / 60),
        Some(s) if s < 2 * 86_400 => format!("{}h", s / 3600),
        Some(s) => format!("{}d", s / 86_400),
    }
}

pub fn table(status: &FleetStatus) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY);
    // A gateway hosting several agents is one row (one pod); the column of its agents
    // shows only when the fleet has one.
    let hosted = status.agents.iter().any(|a| !a.agents.is_empty());
    let mut header = vec!["agent", "team"];
    if hosted {
        header.push("agents");
    }
    header.extend([
        "image", "ready", "phase", "restarts", "volume", "age", "reason",
    ]);
    table.set_header(header);
    for a in &status.agents {
        let mut row = vec![a.agent.clone(), a.team.clone()];
        if hosted {
            row.push(a.agents.join(", "));
        }
        row.extend([
            a.image.clone(),
            a.ready.clone(),
            format!("{:?}", a.phase),
            a.restarts.to_string(),
            a.volume.clone(),
            age(a.age_seconds),
            a.reason.clone().unwrap_or_default(),
        ]);
        table.add_row(row);
    }
    let router = status.router.as_ref().map(|r| {
        let reason = r
            .reason
            .as_deref()
            .map(|w| format!(": {w}"))
            .unwrap_or_default();
        format!(
            "router {}/{}: image {}, {} ready, {:?}, {} restarts{reason}\n",
            r.namespace, r.name, r.image, r.ready, r.phase, r.restarts
        )
    });
    format!(
        "{table}\n{}{}",
        router.unwrap_or_default(),
        status.summary()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::status::{AgentStatus, Phase, RouterStatus};

    #[test]
    fn each_value_sits_under_its_header_and_the_router_has_a_line() {
        let status = FleetStatus {
            fleet: "demo".into(),
            agents: vec![AgentStatus {
                agent: "alpha".into(),
                team: "core".into(),
                namespace: "core".into(),
                image: "2026.4.14".into(),
                ready: "1/1".into(),
                phase: Phase::Ready,
                restarts: 0,
                volume: "Bound".into(),
                agents: Vec::new(),
                age_seconds: Some(60),
                reason: None,
                idle_since: None,
            }],
            router: Some(RouterStatus {
                name: "demo-router".into(),
                namespace: "demo-router".into(),
                image: "0.1.0".into(),
                ready: "0/1".into(),
                phase: Phase::Degraded,
                restarts: 3,
                reason: Some("back-off".into()),
            }),
        };
        let text = table(&status);
        let lines: Vec<&str> = text.lines().collect();
        let header = lines.iter().find(|l| l.contains("phase")).expect("header");
        let row = lines.iter().find(|l| l.contains("alpha")).expect("row");
        for (title, value) in [
            ("image", "2026.4.14"),
            ("ready", "1/1"),
            ("phase", "Ready"),
            ("volume", "Bound"),
        ] {
            assert_eq!(
                header.find(title),
                row.find(value),
                "{title} over {value}:\n{text}"
            );
        }
        assert!(
            text.contains("router demo-router/demo-router: image 0.1.0, 0/1 ready, Degraded, 3 restarts: back-off"),
            "{text}"
        );
    }

    #[test]
    fn ages_read_like_kubectl() {
        assert_eq!(age(Some(59)), "59s");
        assert_eq!(age(Some(600)), "10m");
        assert_eq!(age(Some(3 * 3600)), "3h");
        assert_eq!(age(Some(3 * 86_400)), "3d");
        assert_eq!(age(None), "-");
    }
}
