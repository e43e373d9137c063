//! Server-side apply: field ownership (metadata.managedFields, FieldsV1), merging and conflicts.
//!
//! Pure functions over `serde_json::Value` objects; the HTTP layer calls them and then
//! sets server-owned metadata (uid, resourceVersion, generation, creationTimestamp).
//! INTERFACE CONTRACT (shared by the server module): keep these signatures.

use serde_json::Value;

/// One field another manager owns with a different value than the applied one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The manager that owns the field, e.g. `kubectl-edit`.
    pub manager: String,
    /// The apiVersion that manager used, e.g. `apps/v1`.
    pub api_version: String,
    /// The field in the API server's notation, e.g. `.spec.replicas` or
    /// `.spec.template.spec.containers[name="gateway"].image`.
    pub field: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyError {
    /// 409: fields owned by other managers would change (and `force` was false).
    Conflicts(Vec<Conflict>),
    /// 400/422: the applied configuration is malformed (message as the API server words it).
    Invalid(String),
}

/// Server-side apply of `applied` (the request body) by `manager` onto `live` (`None`: the
/// object does not exist yet and is created). Returns the new object with
/// `metadata.managedFields` updated (operation `Apply`, `time` = `now`).
pub fn apply(
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    now: &str,
) -> Result<Value, ApplyError> {
    let _ = (live, applied, manager, force, now);
    unimplemented!("being written")
}

/// Record a non-apply write (create, PUT, merge/strategic/JSON patch) by `manager` that
/// turned `old` (`None` on create) into `new`: fields it added or changed become owned by
/// `manager` (operation `Update`) and leave other managers' sets; removed fields leave
/// every set. Writes the result into `new`'s `metadata.managedFields`.
pub fn update(old: Option<&Value>, new: &mut Value, manager: &str, now: &str) {
    let _ = (old, new, manager, now);
    unimplemented!("being written")
}

/// RFC 7386 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let _ = (target, patch);
    unimplemented!("being written")
}

/// Strategic merge patch: a merge patch in which the associative lists Kubernetes
/// declares (containers by name, ports, env, volumes, ...) merge item by item by key.
pub fn strategic_merge_patch(target: &mut Value, patch: &Value) {
    let _ = (target, patch);
    unimplemented!("being written")
}
