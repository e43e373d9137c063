//! `diff`: what the API server *would* store (server-side dry-run apply) against what
//! is live, per object, with server-owned fields dropped and Secret data masked.

use futures::StreamExt;
use serde_json::{Map, Value};

use super::planning::Planned;
use crate::cluster::errors::FieldConflict;
use crate::cluster::objects;
use crate::plan::{APPLIED_HASH, Action, Change};

/// One object's difference.
#[derive(Debug, Clone)]
pub struct ObjectDiff {
    pub change: Change,
    /// Live, cleaned (`None`: the object does not exist).
    pub before: Option<Value>,
    /// What the server would store, cleaned (`None`: the object would be deleted).
    pub after: Option<Value>,
    /// Fields another manager owns; the dry-run was forced to show them anyway.
    pub conflicts: Vec<FieldConflict>,
}

/// The diff of a whole plan; unchanged objects are left out.
#[derive(Debug, Clone, Default)]
pub struct FleetDiff {
    pub objects: Vec<ObjectDiff>,
    pub unchanged: usize,
}

impl FleetDiff {
    /// Whether anything would change (the `--exit-code` question).
    pub fn has_changes(&self) -> bool {
        self.objects.iter().any(|d| d.before != d.after)
    }
}

/// Dry-runs every create and update (bounded by `concurrency`) and lists removals.
/// A 409 from another field manager is answered by a forced dry-run, so the change
/// still shows, with the conflicting manager and field (as `kubectl diff --server-side
/// --force-conflicts` would).
pub async fn diff(planned: &Planned, concurrency: usize, prune: bool) -> anyhow::Result<FleetDiff> {
    let creating_namespaces = planned.plan.namespaces_to_create();
    let results = futures::stream::iter(planned.plan.changes.iter().enumerate())
        .map(|(index, change)| {
            let creating_namespaces = &creating_namespaces;
            async move {
                let result = match change.action {
                    Action::Create | Action::Update => {
                        let in_new_namespace = change
                            .object
                            .namespace
                            .as_deref()
                            .is_some_and(|ns| creating_namespaces.contains(&ns));
                        dry_run(planned, change, in_new_namespace).await
                    }
                    Action::Prune if prune => Ok((None, Vec::new())),
                    _ => return Ok(None),
                };
                result.map(|(after, conflicts)| Some((index, after, conflicts)))
            }
        })
        .buffered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    let mut diff = FleetDiff::default();
    for result in results {
        let Some((index, after, conflicts)) = result? else {
            continue;
        };
        let change = planned.plan.changes[index].clone();
        let before = change.live.as_ref().map(clean);
        let after = after.as_ref().map(clean);
        let (before, after) = mask_secret(&change, before, after);
        if before == after && conflicts.is_empty() {
            diff.unchanged += 1;
            continue;
        }
        diff.objects.push(ObjectDiff {
            change,
            before,
            after,
            conflicts,
        });
    }
    diff.unchanged += planned.plan.count(Action::Unchanged);
    Ok(diff)
}

async fn dry_run(
    planned: &Planned,
    change: &Change,
    in_new_namespace: bool,
) -> anyhow::Result<(Option<Value>, Vec<FieldConflict>)> {
    let desired = change
        .desired
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("no desired object"))?;
    // The API server refuses even a dry-run create in a namespace that does not exist
    // yet; what it would store is then the configuration itself.
    if in_new_namespace {
        return Ok((Some(desired.clone()), Vec::new()));
    }
    match objects::apply(&planned.cluster, &change.object, desired, false, true).await {
        Ok(stored) => Ok((Some(stored), Vec::new())),
        Err(e) if !e.conflicts.is_empty() => {
            let stored =
                objects::apply(&planned.cluster, &change.object, desired, true, true).await?;
            Ok((Some(stored), e.conflicts))
        }
        Err(e) => Err(e.into()),
    }
}

/// Drops what the server owns and what clawctl keeps for itself, so a diff shows only
/// configuration: status, managedFields, resourceVersion, uid, timestamps, generation
/// (DESIGN §4), and the applied-hash annotation. Keys come out in one order on both
/// sides (apiVersion, kind, metadata, then sorted, as kubectl diff prints them), so a
/// diff shows values that changed, not keys that moved.
pub fn clean(value: &Value) -> Value {
    let mut value = sorted(value);
    if let Some(map) = value.as_object_mut() {
        map.remove("status");
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for field in [
                "managedFields",
                "resourceVersion",
                "uid",
                "creationTimestamp",
                "generation",
                "selfLink",
            ] {
                meta.remove(field);
            }
            if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
                annotations.remove(APPLIED_HASH);
                annotations.remove("deployment.kubernetes.io/revision");
                if annotations.is_empty() {
                    meta.remove("annotations");
                }
            }
        }
    }
    value
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            let rank = |k: &str| match k {
                "apiVersion" => 0,
                "kind" => 1,
                "metadata" => 2,
                _ => 3,
            };
            keys.sort_by(|a, b| (rank(a), a).cmp(&(rank(b), b)));
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Secret values never leave clawctl: each becomes `***`, or `*** (before)` and
/// `*** (after)` when it changes, as kubectl diff shows them.
fn mask_secret(
    change: &Change,
    before: Option<Value>,
    after: Option<Value>,
) -> (Option<Value>, Option<Value>) {
    if change.object.kind != "Secret" {
        return (before, after);
    }
    let field = |v: &Option<Value>, key: &str| -> Map<String, Value> {
        v.as_ref()
            .and_then(|v| v.get(key))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let mask = |v: Option<Value>, other: &Option<Value>, tag: &str| {
        v.map(|mut v| {
            for key in ["data", "stringData"] {
                let theirs = field(other, key);
                if let Some(map) = v.get_mut(key).and_then(Value::as_object_mut) {
                    for (name, value) in map.iter_mut() {
                        let same = theirs.get(name) == Some(value);
                        *value = Value::String(if same {
                            "***".into()
                        } else {
                            format!("*** ({tag})")
                        });
                    }
                }
            }
            v
        })
    };
    let masked_before = mask(before.clone(), &after, "before");
    let masked_after = mask(after, &before, "after");
    (masked_before, masked_after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::ObjectRef;
    use serde_json::json;

    fn secret_change() -> Change {
        Change {
            object: ObjectRef {
                api_version: "v1".into(),
                kind: "Secret".into(),
                namespace: Some("ns".into()),
                name: "s".into(),
            },
            action: Action::Update,
            rank: 6,
            team: None,
            agent: None,
            desired: None,
            live: None,
            notes: Vec::new(),
        }
    }

    #[test]
    fn secret_values_are_masked_and_changes_still_show() {
        let before = json!({"data": {"same": "c2VjcmV0", "changed": "b2xk"}});
        let after = json!({"data": {"same": "c2VjcmV0", "changed": "bmV3"}});
        let (b, a) = mask_secret(&secret_change(), Some(before), Some(after));
        let text = format!("{b:?}{a:?}");
        assert!(!text.contains("c2VjcmV0") && !text.contains("b2xk") && !text.contains("bmV3"));
        assert_eq!(b.expect("before")["data"]["changed"], "*** (before)");
        assert_eq!(a.expect("after")["data"]["same"], "***");
    }

    #[test]
    fn server_owned_fields_are_dropped() {
        let live = json!({"metadata": {"name": "x", "uid": "u", "resourceVersion": "3",
            "generation": 2, "creationTimestamp": "t", "managedFields": [],
            "annotations": {APPLIED_HASH: "abc"}}, "status": {"x": 1}, "spec": {"a": 1}});
        assert_eq!(
            clean(&live),
            json!({"metadata": {"name": "x"}, "spec": {"a": 1}})
        );
    }
}
