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
    for line in noted(plan) {
        text.push('\n');
        text.push_str(&line);
    }
    for line in conflicts(plan) {
        text.push('\n');
        text.push_str(&line);
    }
    text
}

/// One line per change that is written or kept and carries notes, with all of them:
/// "update Secret ns/x: token is missing: apply generates it". Unchanged objects' notes
/// (held back, kept at zero replicas, assumed to exist) are summed up elsewhere, once
/// per agent or kind, and conflicts have lines of their own ([`conflicts`]).
fn noted(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|c| !matches!(c.action, Action::Unchanged | Action::Conflict))
        .filter_map(|c| Some(format!("{} {}: {}", c.action.as_str(), c.object, c.note()?)))
        .collect()
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
                c.note().as_deref().unwrap_or("not this fleet's")
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
    for note in &object.change.notes {
        writeln!(out, "{bold}  note: {note}{reset}")?;
    }
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
        .map(|c| match (c.action, c.note()) {
            (Action::Keep, Some(note)) => format!("keep {}: {note}", c.object),
            _ if prune => format!("prune {}", c.object),
            _ => format!("prune {} (with --prune)", c.object),
        })
        .collect()
}

/// The diff as JSON: `{"changes": [{action, apiVersion, kind, namespace, name, team,
/// agent, note, conflicts, before, after}], "removals": [...], "unchanged": N}`; `note`
/// is all of a change's notes on one line, or null.
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
                "note": c.note(),
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
                "note": c.note(),
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
                "owner": c.note(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::ObjectRef;

    fn change(kind: &str, name: &str, action: Action, notes: &[&str]) -> Change {
        Change {
            object: ObjectRef {
                api_version: "v1".into(),
                kind: kind.into(),
                namespace: Some("ns".into()),
                name: name.into(),
            },
            action,
            rank: 6,
            team: Some("t".into()),
            agent: None,
            desired: None,
            live: None,
            notes: notes.iter().map(|n| n.to_string()).collect(),
        }
    }

    #[test]
    fn every_note_of_a_change_is_shown_in_the_table_the_diff_and_json() {
        let token = change(
            "Secret",
            "token",
            Action::Update,
            &["token is missing: apply generates it", "second note"],
        );
        let claim = change(
            "PersistentVolumeClaim",
            "memory",
            Action::Keep,
            &["an agent's memory: kept", "another reason"],
        );
        let held = change("ConfigMap", "held", Action::Unchanged, &["held back"]);
        let plan = Plan {
            changes: vec![token.clone(), held, claim],
        };
        let table = plan_table(&plan, false);
        assert!(
            table.contains(
                "\nupdate Secret ns/token: token is missing: apply generates it; second note"
            ),
            "{table}"
        );
        assert!(
            table.contains(
                "\nkeep PersistentVolumeClaim ns/memory: an agent's memory: kept; another reason"
            ),
            "{table}"
        );
        // Unchanged objects' notes are summed up elsewhere (warnings, the held line).
        assert!(!table.contains("held back"), "{table}");
        assert_eq!(
            removals(&plan, false),
            ["keep PersistentVolumeClaim ns/memory: an agent's memory: kept; another reason"]
        );

        let diff = FleetDiff {
            objects: vec![ObjectDiff {
                change: token,
                before: Some(serde_json::json!({"data": {}})),
                after: Some(serde_json::json!({"data": {"token": "***"}})),
                conflicts: Vec::new(),
            }],
            unchanged: 1,
        };
        let mut out = Vec::new();
        write_diff(&mut out, &diff, false).expect("written");
        let text = String::from_utf8(out).expect("utf-8");
        assert!(
            text.starts_with(
                "update Secret ns/token\n  note: token is missing: apply generates it\n  note: second note\n"
            ),
            "{text}"
        );
        let json = diff_json(&plan, &diff);
        assert_eq!(
            json["changes"][0]["note"],
            "token is missing: apply generates it; second note"
        );
        assert_eq!(
            json["removals"][0]["note"],
            "an agent's memory: kept; another reason"
        );
    }
}
