//! The change set: what apply does to each object (create, update, unchanged, prune,
//! keep), computed from the rendered manifests and the live objects. Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::fleet::Quantity;
use crate::names::ADOPTED;
use crate::ownership::Owner;
use crate::render::Manifest;

/// Annotation holding a hash of the configuration clawctl last applied to an object.
/// With it a no-op apply needs no request per object: an object is unchanged when its
/// hash matches and every field clawctl sets still has clawctl's value.
pub const APPLIED_HASH: &str = "clawctl.io/applied-hash";

/// Label KEP-3659 puts on every member of an ApplySet.
pub use crate::ownership::PART_OF as APPLYSET_PART_OF;

/// Names one object on the cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    /// The reference of a JSON object (`apiVersion`, `kind`, `metadata`).
    pub fn of(value: &Value) -> Option<ObjectRef> {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        Some(ObjectRef {
            api_version: text(value.get("apiVersion"))?,
            kind: text(value.get("kind"))?,
            namespace: text(value.pointer("/metadata/namespace")),
            name: text(value.pointer("/metadata/name"))?,
        })
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// What apply does with one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    Create,
    Update,
    Unchanged,
    /// Left the fleet; deleted by `apply --prune`.
    Prune,
    /// Left the fleet but kept: a PersistentVolumeClaim (an agent's memory) without
    /// `--delete-volumes`, a Namespace that still holds one, or one the fleet adopted.
    Keep,
    /// The fleet renders it, but an object of that name exists and is not the fleet's
    /// (another fleet's, or not clawctl's): never written; apply refuses the plan.
    Conflict,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Unchanged => "unchanged",
            Action::Prune => "prune",
            Action::Keep => "keep",
            Action::Conflict => "conflict",
        }
    }

    /// Whether the object is written (created, updated or deleted).
    pub fn writes(self) -> bool {
        matches!(self, Action::Create | Action::Update | Action::Prune)
    }
}

/// One object's planned change.
#[derive(Debug, Clone)]
pub struct Change {
    pub object: ObjectRef,
    pub action: Action,
    /// Apply order (see `Manifest::rank`); prunes go in reverse.
    pub rank: u8,
    pub team: Option<String>,
    pub agent: Option<String>,
    /// What clawctl applies (with the applied-hash annotation and ApplySet label).
    pub desired: Option<Value>,
    pub live: Option<Value>,
    /// Why an object is kept, or other context for the reader.
    pub note: Option<String>,
}

impl Change {
    /// The key of this Secret that apply fills with a random value (its manifest's
    /// `clawctl.io/generated-key` annotation).
    pub fn generated_key(&self) -> Option<&str> {
        if self.object.kind != "Secret" {
            return None;
        }
        annotation(self.desired.as_ref()?, crate::names::GENERATED_KEY)
    }
}

/// The value of annotation `key` of an object.
fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object.pointer("/metadata/annotations")?.get(key)?.as_str()
}

/// Inputs that are not objects.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The ApplySet id members are labelled with (`applyset::id`).
    pub applyset_id: String,
    /// `--delete-volumes`: removed agents' PersistentVolumeClaims are pruned too.
    pub delete_volumes: bool,
}

/// Every change, creates and updates in apply order, then removals in reverse order.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub changes: Vec<Change>,
}

impl Plan {
    /// Compares the rendered manifests with the live objects of the fleet (found by its
    /// labels; each must carry `apiVersion` and `kind`).
    pub fn new(desired: Vec<Manifest>, live: Vec<Value>, options: &Options) -> Plan {
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
                note: None,
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
                    note,
                }
            })
            .collect();
        removed.sort_by(|a, b| (b.rank, &a.object).cmp(&(a.rank, &b.object)));
        changes.extend(removed);
        Plan { changes }
    }

    /// Namespaces the plan creates: objects in them cannot be dry-run yet (the API server
    /// refuses even a dry-run create in a namespace that does not exist).
    pub fn namespaces_to_create(&self) -> Vec<&str> {
        self.changes
            .iter()
            .filter(|c| c.action == Action::Create && c.object.kind == "Namespace")
            .map(|c| c.object.name.as_str())
            .collect()
    }

    /// Namespaces the plan would delete, so the caller can look for volumes in them.
    pub fn namespaces_to_prune(&self) -> Vec<String> {
        self.changes
            .iter()
            .filter(|c| c.action == Action::Prune && c.object.kind == "Namespace")
            .map(|c| c.object.name.clone())
            .collect()
    }

    /// Keeps every pruned Namespace that still holds a PersistentVolumeClaim which is
    /// not itself being deleted: deleting the Namespace would delete the volume.
    /// `claims` maps a namespace to the names of all claims in it (not only the fleet's).
    pub fn protect_volumes(&mut self, claims: &BTreeMap<String, Vec<String>>) {
        let deleted: BTreeSet<(String, String)> = self
            .changes
            .iter()
            .filter(|c| c.action == Action::Prune && c.object.kind == "PersistentVolumeClaim")
            .filter_map(|c| Some((c.object.namespace.clone()?, c.object.name.clone())))
            .collect();
        for change in &mut self.changes {
            if change.action != Action::Prune || change.object.kind != "Namespace" {
                continue;
            }
            let ns = &change.object.name;
            let held: Vec<&String> = claims
                .get(ns)
                .into_iter()
                .flatten()
                .filter(|name| !deleted.contains(&(ns.clone(), (*name).clone())))
                .collect();
            if !held.is_empty() {
                change.action = Action::Keep;
                change.note = Some(format!(
                    "still holds PersistentVolumeClaim {}: deleting the namespace would delete it",
                    held.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }

    /// Agents whose Deployment update changes the gateway image: what `apply` hands to
    /// the rollout strategy instead of moving them all at once. A suspended or idle agent
    /// is not among them: no pod starts, so there is no health to gate on; its
    /// Deployment's template moves with the rest of the apply, and `clawctl resume` (or
    /// the next message) starts that pod.
    pub fn image_changes(&self) -> Vec<String> {
        const IMAGE: &str = "/spec/template/spec/containers/0/image";
        let mut agents: Vec<String> = self
            .changes
            .iter()
            .filter(|c| c.action == Action::Update && c.object.kind == "Deployment")
            .filter(|c| !is_suspended(c))
            .filter(|c| {
                let desired = c.desired.as_ref().and_then(|d| d.pointer(IMAGE));
                let live = c.live.as_ref().and_then(|l| l.pointer(IMAGE));
                desired.is_some() && desired != live
            })
            .filter_map(|c| c.agent.clone())
            .collect();
        agents.sort();
        agents.dedup();
        agents
    }

    /// Leaves `spec.replicas` out of the Deployments another field manager scaled to zero
    /// on purpose (the live object carries its annotation): `clawctl suspend`
    /// (`clawctl-suspend`, until `clawctl resume`) and the router putting an idle agent to
    /// sleep (`clawctl-router`, until the next message wakes it). That field is theirs
    /// then (see `cluster::suspend`, `cluster::idle`), and applying it would either start
    /// the agent again (forced) or conflict. The applied-hash stays the hash of the
    /// fleet's whole configuration, so such an otherwise unchanged agent costs no write.
    /// Returns those agents, suspended first.
    pub fn keep_scaled_down(&mut self) -> ScaledDown {
        let mut kept = ScaledDown::default();
        for change in &mut self.changes {
            if change.object.kind != "Deployment"
                || !matches!(change.action, Action::Update | Action::Unchanged)
            {
                continue;
            }
            let (Some(desired), Some(live)) = (&mut change.desired, &change.live) else {
                continue;
            };
            // Suspension wins: a suspended agent is never woken by the router.
            let (note, agents) = if crate::cluster::suspend::annotated(live) {
                (
                    "suspended by `clawctl suspend`: kept at 0 replicas until `clawctl resume`",
                    &mut kept.suspended,
                )
            } else if crate::cluster::idle::annotated(live) {
                (
                    "idle: asleep (replicas left to the router, which wakes it at its next message)",
                    &mut kept.idle,
                )
            } else {
                continue;
            };
            if let Some(spec) = desired.get_mut("spec").and_then(Value::as_object_mut) {
                spec.remove("replicas");
            }
            if unchanged(desired, live) {
                change.action = Action::Unchanged;
            }
            change.note = Some(note.into());
            agents.extend(change.agent.clone());
        }
        kept
    }

    /// Settles the creates whose object exists already (`existing`, by reference, read
    /// without the fleet's labels): this fleet's ApplySet members become updates; another
    /// fleet's, or anything clawctl did not create, become conflicts naming their owner;
    /// a Namespace named in `adopt` (the fleet's `adoptNamespaces`) is adopted instead.
    pub fn settle_existing(
        &mut self,
        existing: &HashMap<ObjectRef, Value>,
        fleet: &str,
        applyset_id: &str,
        adopt: &[String],
    ) {
        for change in &mut self.changes {
            if change.action != Action::Create {
                continue;
            }
            let Some(live) = existing.get(&change.object) else {
                continue;
            };
            match crate::ownership::of(live, fleet, applyset_id) {
                Owner::Fleet => {
                    change.action = Action::Update;
                    change.live = Some(live.clone());
                }
                Owner::Unmanaged { .. }
                    if change.object.kind == "Namespace" && adopt.contains(&change.object.name) =>
                {
                    if let Some(desired) = change.desired.take() {
                        change.desired = Some(adopted(desired, applyset_id));
                    }
                    change.action = Action::Update;
                    change.live = Some(live.clone());
                    change.note =
                        Some("adopted (spec.adoptNamespaces): never deleted by clawctl".into());
                }
                owner => {
                    let hint = if change.object.kind == "Namespace" {
                        "; if the fleet should take it over, name it in spec.adoptNamespaces"
                    } else {
                        ""
                    };
                    change.action = Action::Conflict;
                    change.note = Some(format!("{owner}{hint}"));
                }
            }
        }
        self.keep_adopted(applyset_id);
    }

    /// A Namespace the fleet adopted keeps its annotation in every later apply (the
    /// annotation is applied by clawctl, so leaving it out would remove it).
    fn keep_adopted(&mut self, applyset_id: &str) {
        for change in &mut self.changes {
            let adopted_live = change.object.kind == "Namespace"
                && change
                    .live
                    .as_ref()
                    .is_some_and(|l| annotation(l, ADOPTED).is_some());
            if !adopted_live || !matches!(change.action, Action::Update | Action::Unchanged) {
                continue;
            }
            let (Some(desired), Some(live)) = (change.desired.take(), &change.live) else {
                continue;
            };
            let desired = adopted(desired, applyset_id);
            change.action = if unchanged(&desired, live) {
                Action::Unchanged
            } else {
                Action::Update
            };
            change.desired = Some(desired);
        }
    }

    /// The objects the plan cannot write because someone else owns them.
    pub fn conflicts(&self) -> Vec<&Change> {
        self.changes
            .iter()
            .filter(|c| c.action == Action::Conflict)
            .collect()
    }

    /// Leaves these agents' creates and updates out (their volumes stay in the plan).
    pub fn hold_back(&mut self, agents: &[String]) {
        for change in &mut self.changes {
            let held = change.agent.as_ref().is_some_and(|a| agents.contains(a))
                && matches!(change.action, Action::Create | Action::Update)
                && change.object.kind != "PersistentVolumeClaim";
            if held {
                change.action = Action::Unchanged;
                change.note = Some("held back for the rollout".into());
            }
        }
    }

    /// Secrets whose generated key the live object lacks: updated, so that apply fills
    /// the key.
    pub fn fill_missing_keys(&mut self) {
        for change in &mut self.changes {
            if change.action != Action::Unchanged {
                continue;
            }
            let Some(key) = change.generated_key() else {
                continue;
            };
            let Some(live) = change.live.as_ref() else {
                continue;
            };
            let held = live
                .get("data")
                .and_then(Value::as_object)
                .is_some_and(|data| data.contains_key(key));
            if !held {
                change.note = Some(format!("{key} is missing: apply generates it"));
                change.action = Action::Update;
            } else if !crate::ownership::generated_here(live, key) {
                change.note = Some(format!(
                    "{key} was written by someone other than clawctl: apply replaces it"
                ));
                change.action = Action::Update;
            }
        }
    }

    /// Objects of `kind` that could not be read: those the plan would create are taken to
    /// exist, left unchanged with `note` (a user bound to the fleet's namespaces can
    /// neither see nor write its Namespaces). Returns how many.
    pub fn assume_present(&mut self, kind: &str, note: &str) -> usize {
        let mut count = 0;
        for change in &mut self.changes {
            if change.object.kind == kind && change.action == Action::Create {
                change.action = Action::Unchanged;
                change.note = Some(note.to_string());
                count += 1;
            }
        }
        count
    }

    pub fn count(&self, action: Action) -> usize {
        self.changes.iter().filter(|c| c.action == action).count()
    }

    /// Whether applying would write nothing (removals count only when pruning).
    pub fn is_noop(&self, prune: bool) -> bool {
        self.changes.iter().all(|c| match c.action {
            Action::Create | Action::Update => false,
            Action::Prune => !prune,
            Action::Conflict => false,
            Action::Unchanged | Action::Keep => true,
        })
    }
}

/// Whether a Deployment change is of an agent kept at zero replicas: suspended by
/// `clawctl suspend` or put to sleep by the router (the live annotations), or suspended
/// by the fleet file (no replicas).
fn is_suspended(change: &Change) -> bool {
    change.live.as_ref().is_some_and(|live| {
        crate::cluster::suspend::annotated(live) || crate::cluster::idle::annotated(live)
    }) || change
        .desired
        .as_ref()
        .and_then(|d| d.pointer("/spec/replicas"))
        .and_then(Value::as_i64)
        == Some(0)
}

/// The agents [`Plan::keep_scaled_down`] leaves at zero replicas, by who keeps them there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScaledDown {
    /// By `clawctl suspend`.
    pub suspended: Vec<String>,
    /// Asleep: the router scaled them to zero after `idleAfter` without a message.
    pub idle: Vec<String>,
}

/// `desired` with the annotation that marks a Namespace the fleet adopted.
fn adopted(mut desired: Value, applyset_id: &str) -> Value {
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
fn unchanged(desired: &Value, live: &Value) -> bool {
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
        let plan = Plan::new(vec![m.clone()], vec![], &options());
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

        let plan = Plan::new(vec![m], vec![stored(&desired)], &options());
        assert_eq!(plan.changes[0].action, Action::Unchanged);
        assert!(plan.is_noop(true));
    }

    #[test]
    fn a_changed_config_or_an_edited_field_is_an_update() {
        let old = manifest("ConfigMap", Some("ns"), "a", cm("a", json!({"k": "v"})));
        let applied = prepare(old.value.clone(), "applyset-abc-v1");

        let new = manifest("ConfigMap", Some("ns"), "a", cm("a", json!({"k": "w"})));
        let plan = Plan::new(vec![new], vec![stored(&applied)], &options());
        assert_eq!(plan.changes[0].action, Action::Update);

        // Someone else edited a field clawctl set: the hash still matches, the value not.
        let mut edited = stored(&applied);
        edited["data"]["k"] = json!("edited");
        let plan = Plan::new(vec![old.clone()], vec![edited], &options());
        assert_eq!(plan.changes[0].action, Action::Update);

        // A field clawctl does not set (another manager's label) is not a change.
        let mut extra = stored(&applied);
        extra["metadata"]["labels"]["team-tool"] = json!("x");
        let plan = Plan::new(vec![old], vec![extra], &options());
        assert_eq!(plan.changes[0].action, Action::Unchanged);
    }

    #[test]
    fn removed_objects_are_pruned_in_reverse_order_but_volumes_are_kept() {
        let live = vec![
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gone"}}),
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                   "metadata": {"name": "agent-x", "namespace": "gone",
                                "labels": {"clawctl.io/agent": "x"}}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "agent-x", "namespace": "gone"}}),
        ];
        let mut plan = Plan::new(vec![], live.clone(), &options());
        let order: Vec<(&str, Action)> = plan
            .changes
            .iter()
            .map(|c| (c.object.kind.as_str(), c.action))
            .collect();
        assert_eq!(
            order,
            [
                ("Deployment", Action::Prune),
                ("PersistentVolumeClaim", Action::Keep),
                ("Namespace", Action::Prune),
            ]
        );
        assert_eq!(plan.changes[1].agent.as_deref(), Some("x"));
        assert_eq!(plan.namespaces_to_prune(), ["gone"]);
        let claims = BTreeMap::from([("gone".to_string(), vec!["agent-x".to_string()])]);
        plan.protect_volumes(&claims);
        assert_eq!(plan.changes[2].action, Action::Keep);
        assert!(
            plan.changes[2]
                .note
                .as_deref()
                .is_some_and(|n| n.contains("agent-x"))
        );

        // --delete-volumes: the claim goes, and then the namespace may go too.
        let mut plan = Plan::new(
            vec![],
            live,
            &Options {
                delete_volumes: true,
                ..options()
            },
        );
        plan.protect_volumes(&claims);
        assert_eq!(plan.count(Action::Prune), 3);
        // ... unless it holds a claim that is not the fleet's.
        let foreign = BTreeMap::from([(
            "gone".to_string(),
            vec!["agent-x".to_string(), "someone-elses".to_string()],
        )]);
        plan.protect_volumes(&foreign);
        assert_eq!(plan.changes[2].action, Action::Keep);
    }

    #[test]
    fn image_changes_are_found_and_held_back() {
        let deployment = |image: &str| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "agent-a", "namespace": "ns"},
                   "spec": {"template": {"spec": {"containers": [{"name": "gateway", "image": image}]}}}})
        };
        let m = |value: Value| Manifest {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            name: "agent-a".into(),
            namespace: Some("ns".into()),
            team: None,
            agent: Some("a".into()),
            value,
        };
        let live = stored(&prepare(deployment("img:1"), "applyset-abc-v1"));
        let mut plan = Plan::new(vec![m(deployment("img:2"))], vec![live.clone()], &options());
        assert_eq!(plan.image_changes(), ["a"]);
        plan.hold_back(&["a".into()]);
        assert!(plan.is_noop(false));
        let plan = Plan::new(vec![m(deployment("img:1"))], vec![live], &options());
        assert!(plan.image_changes().is_empty());
    }

    #[test]
    fn a_suspended_agents_replicas_are_left_to_clawctl_suspend() {
        let deployment = |image: &str, replicas: i64| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "agent-a", "namespace": "ns"},
                   "spec": {"replicas": replicas,
                            "template": {"spec": {"containers": [{"name": "gateway", "image": image}]}}}})
        };
        let m = |value: Value| Manifest {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            name: "agent-a".into(),
            namespace: Some("ns".into()),
            team: None,
            agent: Some("a".into()),
            value,
        };
        // Applied with one replica, then `clawctl suspend`: zero and the annotation.
        let mut live = stored(&prepare(deployment("img:1", 1), "applyset-abc-v1"));
        live["spec"]["replicas"] = json!(0);
        live["metadata"]["annotations"][crate::cluster::suspend::ANNOTATION] = json!("true");

        // Without the rule apply would take the replica back.
        let plan = Plan::new(
            vec![m(deployment("img:1", 1))],
            vec![live.clone()],
            &options(),
        );
        assert_eq!(plan.changes[0].action, Action::Update);
        // With it: nothing to write, and replicas are not clawctl's to apply.
        let mut plan = Plan::new(
            vec![m(deployment("img:1", 1))],
            vec![live.clone()],
            &options(),
        );
        assert_eq!(plan.keep_scaled_down().suspended, ["a"]);
        assert_eq!(plan.changes[0].action, Action::Unchanged);
        // Another change is applied, without replicas, and is not held for a rollout.
        let mut plan = Plan::new(
            vec![m(deployment("img:2", 1))],
            vec![live.clone()],
            &options(),
        );
        plan.keep_scaled_down();
        assert_eq!(plan.changes[0].action, Action::Update);
        let desired = plan.changes[0].desired.as_ref().expect("desired");
        assert_eq!(desired.pointer("/spec/replicas"), None);
        assert!(plan.image_changes().is_empty());
        // Suspended by the fleet file: zero replicas are clawctl's own, and applied.
        let live = stored(&prepare(deployment("img:1", 0), "applyset-abc-v1"));
        let mut plan = Plan::new(vec![m(deployment("img:2", 0))], vec![live], &options());
        assert_eq!(plan.keep_scaled_down(), ScaledDown::default());
        let desired = plan.changes[0].desired.as_ref().expect("desired");
        assert_eq!(desired.pointer("/spec/replicas"), Some(&json!(0)));
        assert!(plan.image_changes().is_empty());
    }

    #[test]
    fn an_idle_agents_replicas_are_left_to_the_router() {
        let deployment = |image: &str| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "agent-a", "namespace": "ns"},
                   "spec": {"replicas": 1,
                            "template": {"spec": {"containers": [{"name": "gateway", "image": image}]}}}})
        };
        let m = |value: Value| Manifest {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            name: "agent-a".into(),
            namespace: Some("ns".into()),
            team: None,
            agent: Some("a".into()),
            value,
        };
        // Applied with one replica, then put to sleep by the router.
        let mut live = stored(&prepare(deployment("img:1"), "applyset-abc-v1"));
        live["spec"]["replicas"] = json!(0);
        live["metadata"]["annotations"][crate::cluster::idle::ANNOTATION] =
            json!("2026-03-01T10:00:00Z");
        let mut plan = Plan::new(vec![m(deployment("img:1"))], vec![live.clone()], &options());
        assert_eq!(plan.changes[0].action, Action::Update, "without the rule");
        let kept = plan.keep_scaled_down();
        assert_eq!((kept.idle, kept.suspended), (vec!["a".to_string()], vec![]));
        assert_eq!(plan.changes[0].action, Action::Unchanged);
        // A new image reaches its template, without replicas and without a rollout gate.
        let mut plan = Plan::new(vec![m(deployment("img:2"))], vec![live.clone()], &options());
        plan.keep_scaled_down();
        assert_eq!(plan.changes[0].action, Action::Update);
        let desired = plan.changes[0].desired.as_ref().expect("desired");
        assert_eq!(desired.pointer("/spec/replicas"), None);
        assert!(plan.image_changes().is_empty());
        // Suspended and idle at once: suspended wins.
        live["metadata"]["annotations"][crate::cluster::suspend::ANNOTATION] = json!("true");
        let mut plan = Plan::new(vec![m(deployment("img:1"))], vec![live], &options());
        let kept = plan.keep_scaled_down();
        assert_eq!((kept.idle, kept.suspended), (vec![], vec!["a".to_string()]));
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
