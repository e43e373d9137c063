//! What apply does to one object ([`Change`]: create, update, unchanged, prune, keep,
//! conflict, with the notes saying why) and the [`Plan`] that holds them all.

use std::fmt;

use serde_json::Value;

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
    /// Why an object is kept, owned by someone else, held back, and other context for
    /// the reader: one line from each pass that settled it, in the order they ran
    /// (see [`super::Draft::finish`]).
    pub notes: Vec<String>,
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

    /// All its notes on one line, if it has any.
    pub fn note(&self) -> Option<String> {
        (!self.notes.is_empty()).then(|| self.notes.join("; "))
    }
}

/// The value of annotation `key` of an object.
pub(super) fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
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
/// Made only by [`super::Draft::finish`] (or by hand, in tests).
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub changes: Vec<Change>,
}

impl Plan {
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
    pub(super) fn namespaces_to_prune(&self) -> Vec<String> {
        self.changes
            .iter()
            .filter(|c| c.action == Action::Prune && c.object.kind == "Namespace")
            .map(|c| c.object.name.clone())
            .collect()
    }

    /// The objects the plan cannot write because someone else owns them.
    pub fn conflicts(&self) -> Vec<&Change> {
        self.changes
            .iter()
            .filter(|c| c.action == Action::Conflict)
            .collect()
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

/// The agents finishing leaves at zero replicas (`Plan::keep_scaled_down`), by who
/// keeps them there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScaledDown {
    /// By `clawctl suspend`.
    pub suspended: Vec<String>,
    /// Asleep: the router scaled them to zero after `idleAfter` without a message.
    pub idle: Vec<String>,
}
