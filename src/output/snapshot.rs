//! What `backup`, `restore` and `clone` show: the plan (stderr, before the question)
//! and the report (stdout, a table: one row per snapshot and one for the restore).

use comfy_table::Table;
use comfy_table::presets::UTF8_BORDERS_ONLY;

use crate::ops::snapshot::{Backup, BackupReport, Plan, Report, Unsnapshotted};
use crate::snapshot::Reason;

fn reason(r: Reason) -> &'static str {
    match r {
        Reason::Manual => "snapshot",
        Reason::PreRollout => "snapshot before rollout",
        Reason::PreRollback => "snapshot before rollback",
        Reason::PreRestore => "snapshot of what is replaced",
    }
}

/// The lines a rollout or rollback plan adds for the snapshots it takes first.
pub fn before_moving(backups: &[Backup], unsnapshotted: &[Unsnapshotted]) -> Vec<String> {
    let mut lines = Vec::new();
    if !backups.is_empty() {
        let agents: Vec<&str> = backups.iter().map(|b| b.agent.as_str()).collect();
        lines.push(format!(
            "first, a snapshot of each moved agent's brain to its bucket: {} (--no-snapshot skips)",
            agents.join(", ")
        ));
    }
    for u in unsnapshotted {
        lines.push(format!("no snapshot of {}: {}", u.agent, u.reason));
    }
    lines
}

/// The lines a rollout or rollback report adds for the snapshots it took.
pub fn taken(reports: &[BackupReport]) -> String {
    reports
        .iter()
        .map(|b| {
            format!(
                "\n{} of {}: {} ({})",
                reason(b.reason),
                b.agent,
                b.id,
                b.location
            )
        })
        .collect()
}

/// What will be copied where, in order.
pub fn plan(plan: &Plan) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY);
    table.set_header(["step", "agent", "namespace", "what"]);
    let mut step = 0;
    for b in &plan.backups {
        step += 1;
        let what = match &b.problem {
            Some(problem) => format!("cannot: {problem}"),
            None => format!("{} {} -> {}", reason(b.reason), b.id, b.location),
        };
        table.add_row([step.to_string(), b.agent.clone(), b.namespace.clone(), what]);
    }
    if let Some(r) = &plan.restore {
        if r.running {
            step += 1;
            table.add_row([
                step.to_string(),
                r.agent.clone(),
                r.namespace.clone(),
                "stop the gateway (suspend)".to_string(),
            ]);
        }
        step += 1;
        table.add_row([
            step.to_string(),
            r.agent.clone(),
            r.namespace.clone(),
            match &r.snapshot {
                Some(id) => format!(
                    "replace its brain with {}'s snapshot {id} <- {}",
                    r.from_agent, r.location
                ),
                None => format!("replace its brain with the archive {}", r.location),
            },
        ]);
        if r.running {
            step += 1;
            table.add_row([
                step.to_string(),
                r.agent.clone(),
                r.namespace.clone(),
                "start the gateway again (resume)".to_string(),
            ]);
        }
    }
    let mut out = format!(
        "{} in fleet {} on {}\n{table}",
        plan.operation, plan.fleet, plan.cluster
    );
    if plan.restore.is_some() {
        out.push_str(
            "\nchannel credentials, session transcripts and model keys are not in snapshots: \
             the agent keeps its own",
        );
    }
    out
}

/// One row per snapshot and one for the restore: result and why.
pub fn table(report: &Report) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY);
    table.set_header(["agent", "what", "snapshot", "result", "reason"]);
    for b in &report.backups {
        table.add_row([
            b.agent.clone(),
            reason(b.reason).to_string(),
            format!("{} ({})", b.id, b.location),
            b.result.to_string(),
            b.why.clone().unwrap_or_default(),
        ]);
    }
    if let Some(r) = &report.restore {
        let mut why = r.why.clone().unwrap_or_default();
        if r.left_suspended {
            why.push_str(
                " (left suspended: `clawctl restore` again, or `clawctl resume` to start it as it is)",
            );
        }
        table.add_row([
            r.agent.clone(),
            match &r.snapshot {
                Some(_) => format!("restore from {}", r.from_agent),
                None => "restore from an archive".to_string(),
            },
            r.snapshot.clone().unwrap_or_default(),
            r.result.to_string(),
            why.trim().to_string(),
        ]);
    }
    table.to_string()
}
