//! Server-side apply: field ownership (metadata.managedFields, FieldsV1), merging and conflicts.
//!
//! Pure functions over `serde_json::Value` objects; the HTTP layer calls them and then
//! sets server-owned metadata (uid, resourceVersion, generation, creationTimestamp).
//! INTERFACE CONTRACT (shared by the server module): keep these signatures.
//!
//! # What this follows
//!
//! The algorithms are those of the real API server's field manager:
//! * sigs.k8s.io/structured-merge-diff `merge/update.go` (`Updater.Apply`, `Updater.Update`,
//!   `update`, `prune`, `addBackOwnedItems`, `addBackDanglingItems`), `typed/` (merge,
//!   compare, to-field-set, remove) and `fieldpath/` (sets, FieldsV1) — see the submodules;
//! * k8s.io/apiserver `pkg/endpoints/handlers/fieldmanager` (now
//!   k8s.io/apimachinery/pkg/util/managedfields/internal): `stripMetaManager` (the
//!   metadata fields nobody owns), `managedFieldsUpdater` (the time stamps),
//!   `skipNonAppliedManager` (`before-first-apply`; updates of untracked objects stay
//!   untracked), `BuildManagerIdentifier` (an Apply entry is identified without its
//!   apiVersion), `sortEncodedManagedFields` (entry order), `conflict.go` (messages);
//! * the Kubernetes documentation "Server-Side Apply"
//!   (kubernetes.io/docs/reference/using-api/server-side-apply/): conflicts, shared
//!   ownership, removal of fields dropped from a configuration, resetting managedFields
//!   with `[{}]`.
//!
//! # Simplifications (compared with the real server)
//!
//! * No OpenAPI: the list types and atomic maps come from the table in [`schema`]; unknown
//!   lists are atomic, unknown maps granular; struct fields and map keys are not told apart
//!   ([`fieldpath::FieldSet::ensure_named_fields_are_members`]).
//! * No version conversion: every manager's set is read as if it were in the applied
//!   apiVersion.
//! * The fields nobody owns through the main resource are the `stripMetaManager` ones plus
//!   top-level `status` for every kind (the real reset fields depend on the kind's strategy).
//!   `status` is also dropped from an applied configuration.
//! * Null values in an applied configuration are dropped before anything else (the real
//!   server owns them but the typed object omits them; `creationTimestamp: null` from
//!   generated manifests is the usual case).
//! * A map or list emptied by pruning is dropped (the real walker leaves null, which the
//!   typed object omits for `omitempty` fields).
//! * A new Apply entry gets `time` even when the apply changed nothing (the real server
//!   leaves such an entry without a time).
//! * Not done: the cap of 10 Update entries (`ancient-changes`), the
//!   `kubectl.kubernetes.io/last-applied-configuration` interplay, unions, the subresource
//!   reset rules beyond "the status subresource owns nothing under `spec`".
//! * FieldsV1 JSON is written by serde_json: no `\u003c`-style HTML escaping of `<>&` in
//!   `k:`/`v:` elements (the Go encoder does that).

pub mod fieldpath;
pub mod schema;
pub mod typed;

#[cfg(test)]
mod tests;

use fieldpath::{FieldSet, Path, PathElement, path_string};
use serde_json::{Map, Value, json};

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

/// One `metadata.managedFields` entry, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedEntry {
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    pub api_version: String,
    pub time: Option<String>,
    pub subresource: Option<String>,
    pub set: FieldSet,
}

impl ManagedEntry {
    /// `BuildManagerIdentifier`: manager, operation and subresource, plus the apiVersion
    /// for Update entries only ("for appliers, don't include the APIVersion in the manager
    /// identifier, so it will always have the same manager identifier each time it applied").
    fn same_identity(
        &self,
        manager: &str,
        operation: &str,
        api_version: &str,
        sub: Option<&str>,
    ) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.as_deref() == sub
            && (operation == "Apply" || self.api_version == api_version)
    }

    fn to_json(&self) -> Value {
        // Field order of metav1.ManagedFieldsEntry.
        let mut m = Map::new();
        m.insert("manager".into(), json!(self.manager));
        m.insert("operation".into(), json!(self.operation));
        m.insert("apiVersion".into(), json!(self.api_version));
        if let Some(t) = &self.time {
            m.insert("time".into(), json!(t));
        }
        m.insert("fieldsType".into(), json!("FieldsV1"));
        m.insert("fieldsV1".into(), self.set.to_fields_v1());
        if let Some(s) = &self.subresource {
            m.insert("subresource".into(), json!(s));
        }
        Value::Object(m)
    }
}

/// Decodes `metadata.managedFields` (entries with the same identity are merged; entries
/// that are not objects are skipped).
pub fn decode_managed_fields(obj: &Value) -> Vec<ManagedEntry> {
    let Some(items) = obj
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    let mut out: Vec<ManagedEntry> = Vec::new();
    for item in items {
        let Some(m) = item.as_object() else { continue };
        let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
        let entry = ManagedEntry {
            manager: s("manager").unwrap_or_default(),
            operation: s("operation").unwrap_or_default(),
            api_version: s("apiVersion").unwrap_or_default(),
            time: s("time"),
            subresource: s("subresource").filter(|s| !s.is_empty()),
            set: m
                .get("fieldsV1")
                .map(FieldSet::from_fields_v1)
                .unwrap_or_default(),
        };
        let (man, op, av, sub) = (
            &entry.manager,
            &entry.operation,
            &entry.api_version,
            entry.subresource.as_deref(),
        );
        match out.iter_mut().find(|e| e.same_identity(man, op, av, sub)) {
            Some(e) => e.set = e.set.union(&entry.set),
            None => out.push(entry),
        }
    }
    out
}

/// Encodes entries as `metadata.managedFields` (`None`: no entry left), dropping empty
/// sets and sorting like `sortEncodedManagedFields`: operation (`Apply` before `Update`),
/// then time (none first), manager, apiVersion, subresource.
pub fn encode_managed_fields(entries: &[ManagedEntry]) -> Option<Value> {
    let mut kept: Vec<&ManagedEntry> = entries.iter().filter(|e| !e.set.is_empty()).collect();
    if kept.is_empty() {
        return None;
    }
    kept.sort_by(|p, q| {
        p.operation
            .cmp(&q.operation)
            .then_with(|| p.time.cmp(&q.time))
            .then_with(|| p.manager.cmp(&q.manager))
            .then_with(|| p.api_version.cmp(&q.api_version))
            .then_with(|| p.subresource.cmp(&q.subresource))
    });
    Some(Value::Array(
        kept.into_iter().map(ManagedEntry::to_json).collect(),
    ))
}

/// The paths `stripMetaManager` removes from the set of the manager that writes
/// (exact paths: `metadata.labels.x` stays).
fn strip_set() -> FieldSet {
    let mut s = FieldSet::new();
    s.insert(&[PathElement::field("apiVersion")]);
    s.insert(&[PathElement::field("kind")]);
    s.insert(&[PathElement::field("metadata")]);
    for f in [
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    ] {
        s.insert(&[PathElement::field("metadata"), PathElement::field(f)]);
    }
    s
}

/// The fields a write through (`None`) the main resource or a subresource does not own
/// (the strategy's reset fields, simplified: `status` for the main resource, `spec` for
/// the status subresource).
fn ignored_set(subresource: Option<&str>) -> FieldSet {
    let mut s = FieldSet::new();
    match subresource {
        None => s.insert(&[PathElement::field("status")]),
        Some("status") => s.insert(&[PathElement::field("spec")]),
        Some(_) => {}
    }
    s
}

/// `obj` without `metadata.managedFields`, and where that field was (the index in
/// `metadata`), to put the new one back in the same place.
fn without_managed_fields(obj: &Value) -> (Value, Option<usize>) {
    let mut obj = obj.clone();
    let idx = obj
        .get_mut("metadata")
        .and_then(Value::as_object_mut)
        .and_then(|m| {
            let idx = m.keys().position(|k| k == "managedFields");
            m.shift_remove("managedFields");
            idx
        });
    (obj, idx)
}

/// Sets (or removes, for `None`) `metadata.managedFields`, at index `idx` of `metadata`
/// when given (where the field used to be), else at the end.
fn set_managed_fields(obj: &mut Value, fields: Option<Value>, idx: Option<usize>) {
    let Some(root) = obj.as_object_mut() else {
        return;
    };
    let Some(fields) = fields else {
        if let Some(m) = root.get_mut("metadata").and_then(Value::as_object_mut) {
            m.shift_remove("managedFields");
        }
        return;
    };
    let meta = root.entry("metadata").or_insert_with(|| json!({}));
    let Some(m) = meta.as_object_mut() else {
        return;
    };
    m.shift_remove("managedFields");
    let idx = idx.unwrap_or(m.len()).min(m.len());
    let mut out = Map::new();
    for (i, (k, v)) in std::mem::take(m).into_iter().enumerate() {
        if i == idx {
            out.insert("managedFields".into(), fields.clone());
        }
        out.insert(k, v);
    }
    if !out.contains_key("managedFields") {
        out.insert("managedFields".into(), fields);
    }
    *m = out;
}

/// Drops null values from maps (recursively), see the module notes.
fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

fn validate_applied(applied: &Value) -> Result<(), ApplyError> {
    let invalid = |m: &str| Err(ApplyError::Invalid(m.to_string()));
    let Some(obj) = applied.as_object() else {
        return invalid("error decoding patch: the applied configuration is not an object");
    };
    let nonempty = |v: Option<&Value>| v.and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    if !nonempty(obj.get("apiVersion")) {
        return invalid("apiVersion must be set");
    }
    if !nonempty(obj.get("kind")) {
        return invalid("kind must be set");
    }
    let meta = obj.get("metadata");
    if meta.is_some_and(|m| !m.is_null() && !m.is_object()) {
        return invalid("metadata must be an object");
    }
    // The real server's wording (fieldmanager: `errors.NewBadRequest("metadata.managedFields must be nil")`).
    if meta
        .and_then(|m| m.get("managedFields"))
        .is_some_and(|mf| !mf.is_null())
    {
        return invalid("metadata.managedFields must be nil");
    }
    if !nonempty(meta.and_then(|m| m.get("name"))) {
        return invalid("metadata.name must be set");
    }
    Ok(())
}

/// Server-side apply of `applied` (the request body) by `manager` onto `live` (`None`: the
/// object does not exist yet and is created). Returns the new object with
/// `metadata.managedFields` updated (operation `Apply`, `time` = `now`).
///
/// When the apply changes nothing in the object, the result is `live` itself (same key
/// order) with only the managed field sets updated and the applier's old `time` kept: so a
/// repeated apply returns a value `==` to `live` (see [`same_object`]) and the caller can
/// skip the write (the real server does not bump resourceVersion then).
pub fn apply(
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    now: &str,
) -> Result<Value, ApplyError> {
    validate_applied(applied)?;
    let api_version = applied["apiVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut config = applied.clone();
    if let Some(m) = config.as_object_mut() {
        m.shift_remove("status");
    }
    strip_nulls(&mut config);
    let (live_obj, mf_idx) = match live {
        Some(l) => without_managed_fields(l),
        None => (json!({}), None),
    };
    let mut managers = live.map(decode_managed_fields).unwrap_or_default();
    let ignored = ignored_set(None);
    let strip = strip_set();
    if live.is_some() && managers.is_empty() {
        // skipNonAppliedManager.Apply: an object nobody tracked yet is first recorded as an
        // Update by "before-first-apply" from an empty object.
        let c = typed::compare(&json!({}), &live_obj).exclude(&ignored);
        let set = c
            .added
            .union(&c.modified)
            .recursive_difference(&ignored)
            .difference(&strip);
        managers.push(ManagedEntry {
            manager: "before-first-apply".into(),
            operation: "Update".into(),
            api_version: api_version.clone(),
            time: Some(now.to_string()),
            subresource: None,
            set,
        });
    }

    let merged = typed::merge(&live_obj, &config).map_err(ApplyError::Invalid)?;
    let new_set = typed::to_field_set(&config, true)
        .map_err(ApplyError::Invalid)?
        .recursive_difference(&ignored)
        .difference(&strip);

    let me = managers
        .iter()
        .position(|e| e.same_identity(manager, "Apply", &api_version, None));
    let (last_set, old_time) = match me {
        Some(i) => (Some(managers[i].set.clone()), managers[i].time.clone()),
        None => (None, None),
    };
    match me {
        Some(i) => {
            managers[i].set = new_set;
            managers[i].api_version = api_version.clone();
        }
        None => managers.push(ManagedEntry {
            manager: manager.to_string(),
            operation: "Apply".into(),
            api_version: api_version.clone(),
            time: None,
            subresource: None,
            set: new_set,
        }),
    }
    let me = |e: &ManagedEntry| e.same_identity(manager, "Apply", &api_version, None);

    let pruned = match &last_set {
        Some(last) => prune(&merged, &managers, last),
        None => merged,
    };

    // Updater.update(live, pruned, ..., workflow = the applier, force).
    let cmp = typed::compare(&live_obj, &pruned).exclude(&ignored);
    let changed = cmp.modified.union(&cmp.added);
    let mut conflicts = Vec::new();
    for e in managers.iter_mut().filter(|e| !me(e)) {
        let owned = e.set.intersection(&changed);
        for p in owned.paths() {
            conflicts.push((e.manager.clone(), e.api_version.clone(), p));
        }
        e.set = e.set.difference(&owned).difference(&cmp.removed);
    }
    if !force && !conflicts.is_empty() {
        conflicts.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.2.cmp(&b.2)));
        return Err(ApplyError::Conflicts(
            conflicts
                .into_iter()
                .map(|(manager, api_version, p)| Conflict {
                    manager,
                    api_version,
                    field: path_string(&p),
                })
                .collect(),
        ));
    }

    let unchanged = live.is_some() && pruned == live_obj;
    for e in managers.iter_mut().filter(|e| me(e)) {
        e.time = match (&old_time, unchanged) {
            (Some(t), true) => Some(t.clone()),
            _ => Some(now.to_string()),
        };
    }
    let fields = encode_managed_fields(&managers);
    let mut out = match (unchanged, live) {
        (true, Some(l)) => l.clone(),
        _ => pruned,
    };
    set_managed_fields(&mut out, fields, mf_idx);
    Ok(out)
}

/// `Updater.prune`: removes from `merged` what the applier owned last time (`last`), no
/// longer applies, and nobody else owns — with the real three steps (remove everything of
/// the last set, add back what any manager owns, then add back what the applier never
/// owned), so that the edge cases (an item removed with the children another manager owns,
/// defaulted fields nobody owns) come out the same.
fn prune(merged: &Value, managers: &[ManagedEntry], last: &FieldSet) -> Value {
    if last.is_empty() {
        return merged.clone();
    }
    let set_of = |v: &Value| {
        typed::to_field_set(v, false)
            .unwrap_or_default()
            .ensure_named_fields_are_members()
    };
    let last = last.ensure_named_fields_are_members();
    let pruned = typed::remove_items(merged, &last);
    // addBackOwnedItems
    let managed = managers
        .iter()
        .fold(FieldSet::new(), |acc, e| acc.union(&e.set))
        .ensure_named_fields_are_members();
    let merged_set = set_of(merged);
    let pruned = typed::remove_items(
        merged,
        &merged_set.difference(&set_of(&pruned).union(&managed)),
    );
    // addBackDanglingItems
    let gone = merged_set.difference(&set_of(&pruned)).intersection(&last);
    typed::remove_items(merged, &gone)
}

/// Record a non-apply write (create, PUT, merge/strategic/JSON patch) by `manager` that
/// turned `old` (`None` on create) into `new`: fields it added or changed become owned by
/// `manager` (operation `Update`) and leave other managers' sets; removed fields leave
/// every set. Writes the result into `new`'s `metadata.managedFields`.
///
/// The base is `old`'s managedFields, unless `new` carries different ones (a client that
/// sets them explicitly, as the real server honours): `[{}]` resets them (the object is
/// then untracked), `[]` counts as "not set". An update of an existing object that has no
/// managedFields stays untracked (`skipNonAppliedManager`). The entry's `time` becomes
/// `now` only when the write changed a field it now owns (`managedFieldsUpdater`).
pub fn update(old: Option<&Value>, new: &mut Value, manager: &str, now: &str) {
    update_impl(old, new, manager, None, now)
}

/// [`update`] through a subresource (e.g. `status`): the entry records the subresource,
/// and the status subresource owns nothing under `spec`.
pub fn update_subresource(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    subresource: &str,
    now: &str,
) {
    update_impl(old, new, manager, Some(subresource), now)
}

fn update_impl(old: Option<&Value>, new: &mut Value, manager: &str, sub: Option<&str>, now: &str) {
    let old_mf = old.and_then(|o| o.pointer("/metadata/managedFields"));
    let new_mf = new
        .pointer("/metadata/managedFields")
        .filter(|v| !v.is_null())
        .cloned();
    let explicit = new_mf
        .as_ref()
        .filter(|mf| Some(*mf) != old_mf && mf.as_array().is_none_or(|a| !a.is_empty()));
    let mut managers = match explicit {
        Some(mf)
            if mf
                .as_array()
                .is_some_and(|a| a.iter().all(|e| e == &json!({}))) =>
        {
            // "[{}]" resets managedFields; the object is then untracked.
            set_managed_fields(new, None, None);
            return;
        }
        Some(_) => decode_managed_fields(new),
        None => old.map(decode_managed_fields).unwrap_or_default(),
    };
    if old.is_some() && managers.is_empty() {
        set_managed_fields(new, None, None);
        return;
    }
    let api_version = new
        .get("apiVersion")
        .or_else(|| old.and_then(|o| o.get("apiVersion")))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let (old_obj, _) = match old {
        Some(o) => without_managed_fields(o),
        None => (create_baseline(), None),
    };
    let (new_obj, mf_idx) = without_managed_fields(new);
    let ignored = ignored_set(sub);
    let cmp = typed::compare(&old_obj, &new_obj).exclude(&ignored);
    let changed = cmp.modified.union(&cmp.added);
    // The write as "current-operation": what it changed, minus what nobody owns.
    let op_set = changed
        .difference(&cmp.removed)
        .recursive_difference(&ignored)
        .difference(&strip_set());
    for e in managers.iter_mut() {
        e.set = e.set.difference(&changed).difference(&cmp.removed);
    }
    if !op_set.is_empty() {
        match managers
            .iter_mut()
            .find(|e| e.same_identity(manager, "Update", &api_version, sub))
        {
            Some(e) => {
                e.set = e.set.union(&op_set);
                e.time = Some(now.to_string());
            }
            None => managers.push(ManagedEntry {
                manager: manager.to_string(),
                operation: "Update".into(),
                api_version,
                time: Some(now.to_string()),
                subresource: sub.map(str::to_string),
                set: op_set,
            }),
        }
    }
    let fields = encode_managed_fields(&managers);
    set_managed_fields(new, fields, mf_idx);
}

/// What a create is compared against. The real server compares with the kind's zero
/// value (`objectCreater.New`), in which Go's non-pointer structs are present as `{}` and
/// non-`omitempty` slices as `null`; so they are not "added" by the create and get no `.`
/// in the creator's entry (`f:spec` has none, `f:labels`/`f:data`/`k:{...}` have one). This
/// is that zero value for the common shapes (a Pod spec at `spec` or `spec.template.spec`,
/// a Deployment's `strategy`); shapes a kind does not have only count as "removed", which
/// owns nothing.
fn create_baseline() -> Value {
    json!({
        "metadata": {},
        "spec": {
            "containers": null,
            "strategy": {},
            "template": {"metadata": {}, "spec": {"containers": null}}
        },
        "status": {}
    })
}

/// Whether two objects are the same (JSON equality, key order ignored, managedFields
/// included). After [`apply`], `same_object(live, &result)` means a no-op: nothing to
/// store, no new resourceVersion.
pub fn same_object(a: &Value, b: &Value) -> bool {
    a == b
}

/// The Status message of a 409 as the real server words it (`getConflictMessage`), e.g.
/// `Apply failed with 1 conflict: conflict with "kubectl-edit" using v1: .data.x`.
/// (The real server leaves out "using <apiVersion>" when the other manager applied; the
/// [`Conflict`] type does not carry the operation, so it is always written here.)
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    let who = |c: &Conflict| format!("{:?} using {}", c.manager, c.api_version);
    if let [c] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            who(c),
            c.field
        );
    }
    let mut managers: Vec<String> = conflicts.iter().map(who).collect();
    managers.sort();
    managers.dedup();
    let mut lines = Vec::new();
    for m in managers {
        lines.push(format!("conflicts with {m}:"));
        for c in conflicts.iter().filter(|c| who(c) == m) {
            lines.push(format!("- {}", c.field));
        }
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// RFC 7386 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    let t = target.as_object_mut().expect("an object");
    for (k, v) in p {
        if v.is_null() {
            t.shift_remove(k);
        } else {
            merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// Strategic merge patch: a merge patch in which the associative lists Kubernetes
/// declares (containers by name, ports, env, volumes, ...) merge item by item by key.
///
/// Items match on the list's patch merge key (the first key of [`schema`]'s table:
/// `name`, `containerPort`, `port`, `mountPath`, `uid`, `type`); a matched item is patched
/// recursively in place, a new one is appended; an item with `"$patch": "delete"` removes
/// its match; set lists (`finalizers`) take the union. Simplified: the other directives
/// (`$retainKeys`, `$setElementOrder/...`, `$deleteFromPrimitiveList/...`, `$patch: replace`)
/// are ignored (dropped from the patch).
pub fn strategic_merge_patch(target: &mut Value, patch: &Value) {
    smp_at(target, patch, &mut Vec::new())
}

fn smp_at(target: &mut Value, patch: &Value, path: &mut Path) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            let t = target.as_object_mut().expect("an object");
            for (k, v) in p {
                if k.starts_with('$') {
                    continue;
                }
                if v.is_null() {
                    t.shift_remove(k);
                    continue;
                }
                path.push(PathElement::Field(k.clone()));
                let slot = t.entry(k.clone()).or_insert(Value::Null);
                smp_at(slot, v, path);
                path.pop();
            }
        }
        Value::Array(items) => {
            let Value::Array(current) = target else {
                *target = Value::Array(items.iter().map(strip_directives).collect());
                return;
            };
            match schema::list_type(path) {
                schema::ListType::Atomic => {
                    *target = Value::Array(items.iter().map(strip_directives).collect())
                }
                schema::ListType::Set => {
                    for item in items {
                        if !current.contains(item) {
                            current.push(item.clone());
                        }
                    }
                }
                schema::ListType::Map(keys) => {
                    let key = keys[0].name;
                    for item in items {
                        let id = item.get(key);
                        let found =
                            id.and_then(|id| current.iter().position(|c| c.get(key) == Some(id)));
                        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
                        match (found, delete) {
                            (Some(i), true) => {
                                current.remove(i);
                            }
                            (None, true) => {}
                            (Some(i), false) => {
                                path.push(PathElement::Index(i));
                                smp_at(&mut current[i], item, path);
                                path.pop();
                            }
                            (None, false) => current.push(strip_directives(item)),
                        }
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// A patch value without `$`-directives and nulls (for values that are inserted whole).
fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, v)| !k.starts_with('$') && !v.is_null())
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}
