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
    format!("{table}\n{}", status.summary())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectl() {
        assert_eq!(age(Some(59)), "59s");
        assert_eq!(age(Some(600)), "10m");
        assert_eq!(age(Some(3 * 3600)), "3h");
        assert_eq!(age(Some(3 * 86_400)), "3d");
        assert_eq!(age(None), "-");
    }
}
