//! Showing plans and diffs: the per-kind/team summary table, unified diffs of objects
//! (coloured on a terminal), the removal list, and the JSON change list.

use std::collections::BTreeMap;
use std::io::{self, Write};

use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};
use serde_json::{Value, json};

use crate::ops::apply::Outcome;
use crate::ops::diff::{FleetDiff, ObjectDiff};
use crate::plan::{Action, Change, Plan};

const ACTIONS: [Action; 5] = [
    Action::Create,
    Action::Update,
    Action::Unchanged,
    Action::Prune,
    Action::Keep,
];

/// The plan as a table: one row per team and kind, a column per action.
pub fn plan_table(plan: &Plan, prune: bool) -> String {
    let mut counts: BTreeMap<(String, String), [usize; 5]> = BTreeMap::new();
    for change in &plan.changes {
        let row = counts
            .entry((
                change.team.clone().unwrap_or_else(|| "-".into()),
                change.object.kind.clone(),
            ))
            .or_default();
        if let Some(i) = ACTIONS.iter().position(|a| *a == change.action) {
            row[i] += 1;
        }
    }
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY);
    let prune_header = if prune {
        "prune"
    } else {
        "prune (needs --prune)"
    };
    table.set_header([
        "team",
        "kind",
        "create",
        "update",
        "unchanged",
        prune_header,
        "keep",
    ]);
    for ((team, kind), row) in &counts {
        let mut cells = vec![team.clone(), kind.clone()];
        cells.extend(row.iter().map(|n| {
            if *n == 0 {
                String::new()
            } else {
                n.to_string()
            }
        }));
        table.add_row(cells);
    }
    let mut text = table.to_string();
    for change in &plan.changes {
        if let (Action::Keep, Some(note)) = (change.action, &change.note) {
            text.push_str(&format!("\nkeep {}: {note}", change.object));
        }
    }
    for line in conflicts(plan) {
        text.push('\n');
        text.push_str(&line);
    }
    text
}

/// One line per object the fleet renders that someone else owns: "conflict ConfigMap
/// ns/name: belongs to clawctl fleet \"knowledge\"".
pub fn conflicts(plan: &Plan) -> Vec<String> {
    plan.conflicts()
        .iter()
        .map(|c| {
            format!(
                "conflict {}: {}",
                c.object,
                c.note.as_deref().unwrap_or("not this fleet's")
            )
        })
        .collect()
}

/// One line of totals: "2 to create, 1 to update, 40 unchanged, 1 to prune, 1 kept".
pub fn totals(plan: &Plan) -> String {
    let parts: Vec<String> = ACTIONS
        .iter()
        .filter_map(|action| {
            let n = plan.count(*action);
            (n > 0).then(|| match action {
                Action::Unchanged => format!("{n} unchanged"),
                Action::Keep => format!("{n} kept"),
                other => format!("{n} to {}", other.as_str()),
            })
        })
        .collect();
    let mut parts = parts;
    let conflicts = plan.count(Action::Conflict);
    if conflicts > 0 {
        parts.push(format!("{conflicts} in conflict (not this fleet's)"));
    }
    if parts.is_empty() {
        "nothing in the fleet".into()
    } else {
        parts.join(", ")
    }
}

/// Writes each changed object as a unified diff of its YAML.
pub fn write_diff(out: &mut dyn Write, diff: &FleetDiff, color: bool) -> io::Result<()> {
    for object in &diff.objects {
        write_object_diff(out, object, color)?;
    }
    Ok(())
}

fn yaml(value: &Option<Value>) -> String {
    match value {
        None => String::new(),
        Some(v) => crate::yaml::to_yaml(v).unwrap_or_else(|e| format!("# cannot show: {e}\n")),
    }
}

fn write_object_diff(out: &mut dyn Write, object: &ObjectDiff, color: bool) -> io::Result<()> {
    let (bold, red, green, cyan, reset) = if color {
        ("\x1b[1m", "\x1b[31m", "\x1b[32m", "\x1b[36m", "\x1b[0m")
    } else {
        ("", "", "", "", "")
    };
    let verb = match (&object.before, &object.after) {
        (None, _) => "create",
        (_, None) => "delete",
        _ => "update",
    };
    writeln!(out, "{bold}{verb} {}{reset}", object.change.object)?;
    for conflict in &object.conflicts {
        writeln!(
            out,
            "{bold}  drift: {} was changed by field manager {:?}; `apply --force-conflicts` takes it back{reset}",
            conflict.field, conflict.manager
        )?;
    }
    let before = yaml(&object.before);
    let after = yaml(&object.after);
    let text = similar::TextDiff::from_lines(&before, &after);
    let name = object.change.object.to_string();
    let unified = text
        .unified_diff()
        .context_radius(3)
        .header(&format!("live/{name}"), &format!("fleet/{name}"))
        .to_string();
    for line in unified.lines() {
        let paint = if line.starts_with("+++") || line.starts_with("---") {
            bold
        } else if line.starts_with('+') {
            green
        } else if line.starts_with('-') {
            red
        } else if line.starts_with("@@") {
            cyan
        } else {
            ""
        };
        if paint.is_empty() {
            writeln!(out, "{line}")?;
        } else {
            writeln!(out, "{paint}{line}{reset}")?;
        }
    }
    writeln!(out)
}

/// Removals the plan holds (listed in the diff even without `--prune`).
pub fn removals(plan: &Plan, prune: bool) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|c| matches!(c.action, Action::Prune | Action::Keep))
        .map(|c| match (c.action, &c.note) {
            (Action::Keep, Some(note)) => format!("keep {}: {note}", c.object),
            _ if prune => format!("prune {}", c.object),
            _ => format!("prune {} (with --prune)", c.object),
        })
        .collect()
}

/// The diff as JSON: `{"changes": [{action, apiVersion, kind, namespace, name, team,
/// agent, conflicts, before, after}], "removals": [...], "unchanged": N}`.
pub fn diff_json(plan: &Plan, diff: &FleetDiff) -> Value {
    let changes: Vec<Value> = diff
        .objects
        .iter()
        .map(|o| {
            let c = &o.change;
            json!({
                "action": match (&o.before, &o.after) { (None, _) => "create", (_, None) => "delete", _ => "update" },
                "apiVersion": c.object.api_version,
                "kind": c.object.kind,
                "namespace": c.object.namespace,
                "name": c.object.name,
                "team": c.team,
                "agent": c.agent,
                "conflicts": o.conflicts,
                "before": o.before,
                "after": o.after,
            })
        })
        .collect();
    let removals: Vec<Value> = plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::Prune | Action::Keep))
        .map(|c| {
            json!({
                "action": c.action.as_str(),
                "apiVersion": c.object.api_version,
                "kind": c.object.kind,
                "namespace": c.object.namespace,
                "name": c.object.name,
                "team": c.team,
                "agent": c.agent,
                "note": c.note,
            })
        })
        .collect();
    let not_owned: Vec<Value> = plan
        .conflicts()
        .iter()
        .map(|c| {
            json!({
                "apiVersion": c.object.api_version,
                "kind": c.object.kind,
                "namespace": c.object.namespace,
                "name": c.object.name,
                "team": c.team,
                "agent": c.agent,
                "owner": c.note,
            })
        })
        .collect();
    json!({"changes": changes, "removals": removals, "unchanged": diff.unchanged, "ownershipConflicts": not_owned})
}

/// Writes what the server said of each change in `apply --dry-run`, one line each
/// (refusals even with `quiet`), then that nothing changed. Returns whether any was
/// refused.
pub fn write_dry_run(
    out: &mut dyn Write,
    results: &[(Change, Outcome)],
    quiet: bool,
) -> io::Result<bool> {
    let mut failed = false;
    for (change, outcome) in results {
        match outcome {
            Outcome::Applied if !quiet => writeln!(
                out,
                "server accepts {} {}",
                change.action.as_str(),
                change.object
            )?,
            Outcome::NotTried if !quiet => writeln!(
                out,
                "not checked {}: its namespace does not exist yet",
                change.object
            )?,
            Outcome::Failed { message, .. } => {
                failed = true;
                writeln!(out, "server refuses {}: {message}", change.object)?;
            }
            _ => {}
        }
    }
    if !quiet {
        writeln!(out, "dry run: nothing was changed")?;
    }
    Ok(failed)
}
