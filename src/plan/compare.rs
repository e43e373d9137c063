//! Comparing the rendered manifests with the fleet's live objects: the [`Draft`] of a
//! plan, and what makes an object unchanged (the applied-hash annotation, and every
//! field clawctl sets as the API server stores it).

use std::collections::HashMap;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::change::{Action, Change, ObjectRef, Options, Plan, annotation};
use crate::fleet::Quantity;
use crate::names::ADOPTED;
use crate::render::Manifest;

/// Annotation holding a hash of the configuration clawctl last applied to an object.
/// With it a no-op apply needs no request per object: an object is unchanged when its
/// hash matches and every field clawctl sets still has clawctl's value.
pub const APPLIED_HASH: &str = "clawctl.io/applied-hash";

/// Label KEP-3659 puts on every member of an ApplySet.
pub use crate::ownership::PART_OF as APPLYSET_PART_OF;

/// The rendered manifests compared with the fleet's live objects, before what else the
/// cluster says settles it: [`Draft::lookups`] and [`Draft::namespaces_to_prune`] name
/// what to read, and [`Draft::finish`] makes the [`Plan`].
#[derive(Debug, Clone)]
pub struct Draft {
    pub(super) plan: Plan,
    pub(super) options: Options,
}

impl Draft {
    /// Compares the rendered manifests with the live objects of the fleet (found by its
    /// labels; each must carry `apiVersion` and `kind`).
    pub fn new(desired: Vec<Manifest>, live: Vec<Value>, options: &Options) -> Draft {
        let mut live: HashMap<ObjectRef, Value> = live
            .into_iter()
            .filter_map(|v| Some((ObjectRef::of(&v)?, v)))
            .collect();
        let mut changes = Vec::with_capacity(desired.len());
        for manifest in desired {
            let rank = manifest.rank();
            let object = ObjectRef {
                api_version: manifest.api_version.clone(),
                kind: manifest.kind.clone(),
                namespace: manifest.namespace.clone(),
                name: manifest.name.clone(),
            };
            let desired = prepare(manifest.value, &options.applyset_id);
            let current = live.remove(&object);
            let action = match &current {
                None => Action::Create,
                Some(live) if unchanged(&desired, live) => Action::Unchanged,
                Some(_) => Action::Update,
            };
            changes.push(Change {
                object,
                action,
                rank,
                team: manifest.team,
                agent: manifest.agent,
                desired: Some(desired),
                live: current,
                notes: Vec::new(),
            });
        }
        changes.sort_by(|a, b| (a.rank, &a.object).cmp(&(b.rank, &b.object)));

        let mut removed: Vec<Change> = live
            .into_iter()
            .map(|(object, value)| {
                let rank = crate::render::rank(&object.kind);
                let label = |key: &str| {
                    value
                        .pointer(&format!("/metadata/labels/{}", key.replace('/', "~1")))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                };
                let (action, note) =
                    if object.kind == "PersistentVolumeClaim" && !options.delete_volumes {
                        (
                            Action::Keep,
                            Some("an agent's memory: kept; --delete-volumes deletes it".into()),
                        )
                    } else if object.kind == "Namespace" && annotation(&value, ADOPTED).is_some() {
                        (
                            Action::Keep,
                            Some(
                                "adopted by the fleet (it existed before): clawctl never deletes it"
                                    .into(),
                            ),
                        )
                    } else {
                        (Action::Prune, None)
                    };
                Change {
                    team: label(crate::names::TEAM_LABEL),
                    agent: label(crate::names::AGENT_LABEL),
                    object,
                    action,
                    rank,
                    desired: None,
                    live: Some(value),
                    notes: note.into_iter().collect(),
                }
            })
            .collect();
        removed.sort_by(|a, b| (b.rank, &a.object).cmp(&(a.rank, &b.object)));
        changes.extend(removed);
        Draft {
            plan: Plan { changes },
            options: options.clone(),
        }
    }
}

/// `desired` with the annotation that marks a Namespace the fleet adopted.
pub(super) fn adopted(mut desired: Value, applyset_id: &str) -> Value {
    if let Some(meta) = desired.get_mut("metadata").and_then(Value::as_object_mut) {
        entry_map(meta, "annotations").insert(ADOPTED.to_string(), Value::String("true".into()));
    }
    prepare(desired, applyset_id)
}

/// The object clawctl applies: the rendered manifest plus the ApplySet membership label
/// and the hash of everything else, so the next run can tell it is unchanged.
pub fn prepare(mut value: Value, applyset_id: &str) -> Value {
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        // The ApplySet parent carries the id; it is not a member of itself.
        let is_parent = meta
            .get("labels")
            .and_then(|l| l.get(crate::cluster::applyset::PARENT_ID))
            .is_some();
        if !applyset_id.is_empty() && !is_parent {
            entry_map(meta, "labels").insert(
                APPLYSET_PART_OF.to_string(),
                Value::String(applyset_id.to_string()),
            );
        }
        if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            annotations.remove(APPLIED_HASH);
        }
    }
    let hash = hash(&value);
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        entry_map(meta, "annotations").insert(APPLIED_HASH.to_string(), Value::String(hash));
    }
    value
}

fn entry_map<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = map
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(map) => map,
        _ => unreachable!("just made an object"),
    }
}

/// The first 16 hex digits of the SHA-256 of the object's JSON (keys in order).
fn hash(value: &Value) -> String {
    let digest = Sha256::digest(value.to_string().as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Unchanged: the live object carries the hash of exactly this configuration, and
/// every field of it still has the value clawctl applied (so nobody edited them).
pub(super) fn unchanged(desired: &Value, live: &Value) -> bool {
    let applied = annotation(desired, APPLIED_HASH);
    applied.is_some() && applied == annotation(live, APPLIED_HASH) && contains(live, desired)
}

/// Whether every field of `want` is in `have` with an equal value, as the API server
/// stores it:
/// - An empty list or map, or null, equals an absent field. Built-in kinds are stored as
///   protobuf, which cannot tell an empty list or map from a missing one, and k8s.io/api
///   marks optional lists and maps `omitempty`, so the server answers without them
///   (`ingress: []` on a NetworkPolicy, `envFrom: []` on a container: measured on
///   kube-apiserver v1.32.13, issue 11). A required list may come back `null` instead.
///   An empty struct (`emptyDir: {}`) is kept by the server and compares as usual.
/// - Lists of objects with a `name` match items by name (the API server merges such
///   lists by key, and other managers may add items); other lists match item for item.
/// - Quantities compare by value: the server stores them in canonical form (`0.5` →
///   `500m`, `2048Mi` → `2Gi`; `Quantity.CanonicalizeBytes` in
///   k8s.io/apimachinery/pkg/api/resource).
/// - Numbers compare by value (`1` and `1.0`).
///
/// Fields the server adds (defaults, status) are not in `want`, so they never differ.
pub fn contains(have: &Value, want: &Value) -> bool {
    contains_at(have, want, Slot::Plain)
}

/// What a value is, for the comparisons that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Plain,
    /// A map of quantities by resource name.
    QuantityMap,
    Quantity,
}

/// Maps whose values are quantities: `ResourceList` (`resources.requests`/`limits`, a
/// PVC's `requests`, a ResourceQuota's `hard`) and a LimitRange item's per-resource maps.
const QUANTITY_MAPS: &[&str] = &[
    "requests",
    "limits",
    "hard",
    "default",
    "defaultRequest",
    "max",
    "min",
    "maxLimitRequestRatio",
];

/// Whether the server stores `value` as an absent field (or `null`).
fn stored_as_absent(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

fn contains_at(have: &Value, want: &Value, slot: Slot) -> bool {
    match (have, want) {
        (Value::Null, want) if stored_as_absent(want) => true,
        (Value::Object(have), Value::Object(want)) => want.iter().all(|(key, w)| {
            let slot = if slot == Slot::QuantityMap || key == "sizeLimit" {
                Slot::Quantity
            } else if QUANTITY_MAPS.contains(&key.as_str()) {
                Slot::QuantityMap
            } else {
                Slot::Plain
            };
            match have.get(key) {
                Some(h) => contains_at(h, w, slot),
                None => stored_as_absent(w),
            }
        }),
        (Value::Array(have), Value::Array(want)) => {
            let named = |v: &Value| v.get("name").and_then(Value::as_str).map(str::to_string);
            if !want.is_empty() && want.iter().all(|w| named(w).is_some()) {
                want.iter().all(|w| {
                    have.iter()
                        .find(|h| named(h) == named(w))
                        .is_some_and(|h| contains_at(h, w, Slot::Plain))
                })
            } else {
                have.len() == want.len()
                    && have
                        .iter()
                        .zip(want)
                        .all(|(h, w)| contains_at(h, w, Slot::Plain))
            }
        }
        (Value::Number(h), Value::Number(w)) => h.as_f64() == w.as_f64(),
        (Value::String(h), want) if slot == Slot::Quantity => match want {
            Value::String(w) => same_quantity(h, w),
            Value::Number(w) => same_quantity(h, &w.to_string()),
            _ => false,
        },
        _ => have == want,
    }
}

/// Whether two quantities have the same value (`500m` and `0.5`).
fn same_quantity(a: &str, b: &str) -> bool {
    a == b
        || match (Quantity::parse(a), Quantity::parse(b)) {
            (Ok(a), Ok(b)) => a.millis() == b.millis(),
            _ => false,
        }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn manifest(kind: &str, ns: Option<&str>, name: &str, value: Value) -> Manifest {
        Manifest {
            api_version: "v1".into(),
            kind: kind.into(),
            name: name.into(),
            namespace: ns.map(str::to_string),
            team: Some("t".into()),
            agent: Some("a".into()),
            value,
        }
    }

    fn cm(name: &str, data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "namespace": "ns", "labels": {"x": "1"}},
               "data": data})
    }

    /// The plan before finishing, to test one pass alone.
    fn compare(desired: Vec<Manifest>, live: Vec<Value>, options: &Options) -> Plan {
        Draft::new(desired, live, options).plan
    }

    fn options() -> Options {
        Options {
            applyset_id: "applyset-abc-v1".into(),
            delete_volumes: false,
        }
    }

    /// What the server stores after applying `desired`: plus server-owned fields.
    fn stored(desired: &Value) -> Value {
        let mut live = desired.clone();
        live["metadata"]["uid"] = json!("u-1");
        live["metadata"]["resourceVersion"] = json!("7");
        live["metadata"]["managedFields"] = json!([{"manager": "clawctl"}]);
        live
    }

    #[test]
    fn absent_objects_are_created_and_applied_ones_are_unchanged() {
        let m = manifest("ConfigMap", Some("ns"), "a", cm("a", json!({"k": "v"})));
        let plan = compare(vec![m.clone()], vec![], &options());
        assert_eq!(plan.changes[0].action, Action::Create);
        let desired = plan.changes[0].desired.clone().expect("desired");
        assert_eq!(
            desired["metadata"]["labels"][APPLYSET_PART_OF],
            "applyset-abc-v1"
        );
        assert_eq!(
            desired["metadata"]["annotations"][APPLIED_HASH]
                .as_str()
                .map(str::len),
            Some(16)
        );

        let plan = compare(vec![m], vec![stored(&desired)], &options());
        assert_eq!(plan.changes[0].action, Action::Unchanged);
        assert!(plan.is_noop(true));
    }

    #[test]
    fn a_changed_config_or_an_edited_field_is_an_update() {
        let old = manifest("ConfigMap", Some("ns"), "a", cm("a", json!({"k": "v"})));
        let applied = prepare(old.value.clone(), "applyset-abc-v1");

        let new = manifest("ConfigMap", Some("ns"), "a", cm("a", json!({"k": "w"})));
        let plan = compare(vec![new], vec![stored(&applied)], &options());
        assert_eq!(plan.changes[0].action, Action::Update);

        // Someone else edited a field clawctl set: the hash still matches, the value not.
        let mut edited = stored(&applied);
        edited["data"]["k"] = json!("edited");
        let plan = compare(vec![old.clone()], vec![edited], &options());
        assert_eq!(plan.changes[0].action, Action::Update);

        // A field clawctl does not set (another manager's label) is not a change.
        let mut extra = stored(&applied);
        extra["metadata"]["labels"]["team-tool"] = json!("x");
        let plan = compare(vec![old], vec![extra], &options());
        assert_eq!(plan.changes[0].action, Action::Unchanged);
    }

    #[test]
    fn lists_of_named_items_match_by_name_and_quantities_by_value() {
        let want = json!({"containers": [{"name": "gateway", "image": "a:1",
                          "resources": {"limits": {"cpu": "0.5", "memory": "1Gi"}}}]});
        let have = json!({"containers": [
            {"name": "sidecar", "image": "s:1"},
            {"name": "gateway", "image": "a:1", "imagePullPolicy": "IfNotPresent",
             "resources": {"limits": {"cpu": "500m", "memory": "1Gi"}}}]});
        assert!(contains(&have, &want));
        let other = json!({"containers": [{"name": "gateway", "image": "a:2",
                           "resources": {"limits": {"cpu": "500m", "memory": "1Gi"}}}]});
        assert!(!contains(&other, &want));
        // Positional lists must match exactly.
        assert!(!contains(
            &json!({"args": ["a", "b"]}),
            &json!({"args": ["a"]})
        ));
        // A quantity-looking string elsewhere is compared as text.
        assert!(!contains(&json!({"label": "1"}), &json!({"label": "1.0"})));
    }

    #[test]
    fn empty_lists_and_maps_equal_what_the_server_stores_for_them() {
        // The server drops optional empty lists and maps (protobuf + omitempty) and may
        // answer null for a required one; an empty struct it keeps.
        let want = json!({"spec": {"ingress": [], "podSelector": {},
                          "template": {"metadata": {"annotations": {}},
                                       "spec": {"containers": [{"name": "g", "envFrom": [], "env": null}],
                                                "volumes": [{"name": "tmp", "emptyDir": {}}]}}}});
        let stored = json!({"spec": {"podSelector": {},
                            "template": {"metadata": {},
                                         "spec": {"containers": [{"name": "g", "image": "x"}],
                                                  "volumes": [{"name": "tmp", "emptyDir": {}}]}}}});
        assert!(contains(&stored, &want));
        assert!(contains(&json!({"rules": null}), &json!({"rules": []})));
        // An empty list still differs from a list with items, both ways.
        assert!(!contains(
            &json!({"ingress": [{"from": []}]}),
            &json!({"ingress": []})
        ));
        assert!(!contains(&json!({}), &json!({"ingress": [{"from": []}]})));
        // Absent is not an empty string, false or 0: those the server keeps where set.
        assert!(!contains(
            &json!({}),
            &json!({"automountServiceAccountToken": false})
        ));
        assert!(!contains(&json!({}), &json!({"name": ""})));
    }

    #[test]
    fn quantities_compare_by_value_wherever_the_server_canonicalizes_them() {
        let want = json!({
            "resources": {"requests": {"cpu": "0.5", "memory": "2048Mi"}, "limits": {"cpu": 1}},
            "spec": {"hard": {"requests.cpu": "4000m", "pods": 10, "requests.storage": "0.5Ti"}},
            "emptyDir": {"sizeLimit": "1024Mi"},
        });
        let stored = json!({
            "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"cpu": "1"}},
            "spec": {"hard": {"requests.cpu": "4", "pods": "10", "requests.storage": "512Gi"}},
            "emptyDir": {"sizeLimit": "1Gi"},
        });
        assert!(contains(&stored, &want));
        let bigger = json!({"resources": {"requests": {"cpu": "600m", "memory": "2Gi"}}});
        assert!(!contains(
            &bigger,
            &json!({"resources": {"requests": {"cpu": "0.5"}}})
        ));
    }
}
