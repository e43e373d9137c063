//! What `suspend` and `resume` show: the plan (stderr, before the question) and the
//! report (stdout, a table).

use comfy_table::Table;
use comfy_table::presets::UTF8_BORDERS_ONLY;

use crate::ops::suspend::{Action, Plan, Report, State};

fn state(state: State) -> &'static str {
    match state {
        State::Running => "running",
        State::Suspended => "suspended",
        State::SuspendedByFleet => "suspended (fleet file)",
        State::Idle => "idle (asleep)",
        State::NotDeployed => "not deployed",
    }
}

/// Per agent: where it stands and what the command does with it.
pub fn plan(plan: &Plan) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY);
    table.set_header(["agent", "namespace", "now", plan.action.as_str()]);
    for a in &plan.agents {
        let what = match (&a.problem, &a.note, a.change) {
            (Some(problem), _, _) => format!("no: {problem}"),
            (None, Some(note), _) => format!("no: {note}"),
            (None, None, true) => "yes".to_string(),
            (None, None, false) => "no".to_string(),
        };
        table.add_row([
            a.agent.clone(),
            a.namespace.clone(),
            state(a.state).to_string(),
            what,
        ]);
    }
    let going = plan.agents.iter().filter(|a| a.change).count();
    let what = match plan.action {
        Action::Suspend => "scaled to 0 replicas; volumes, Services and configuration kept",
        Action::Resume => "back to 1 replica",
    };
    format!(
        "{} of fleet {} on {}: {going} of {} agent(s) {what}\n{table}",
        plan.action.as_str(),
        plan.fleet,
        plan.cluster,
        plan.agents.len()
    )
}

/// One row per agent: its result and why.
pub fn table(report: &Report) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY);
    table.set_header(["agent", "result", "reason"]);
    for a in &report.agents {
        table.add_row([
            a.agent.clone(),
            a.result.to_string(),
            a.reason.clone().unwrap_or_default(),
        ]);
    }
    table.to_string()
}
