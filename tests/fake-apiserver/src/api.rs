//! The write verbs (create, replace, patch, apply, delete) over the [`Store`]: server-set
//! metadata, status and generation rules, defaulting, validation, optimistic concurrency,
//! managedFields (through [`crate::ssa`]) and dry runs. Shared by the HTTP layer, the
//! test-facing methods and the controllers.
//!
//! Simplifications (vs the real registry strategies):
//! - defaulting covers the fields a rendered manifest commonly omits (Deployment strategy,
//!   replicas, history limits, pod template and container defaults, Service type/ports,
//!   PVC volumeMode, a Job's spec and generated selector and labels), not every default
//!   of every kind;
//! - validation covers names (RFC 1123), a Deployment's or Job's selector against its
//!   template labels, a Job's restartPolicy and generated selector, and
//!   kind/name/namespace consistency with the URL; no schema validation;
//! - server-side apply through the `status` subresource drops the applied status (the
//!   ssa module strips `status` from every applied configuration); use PUT or PATCH;
//! - deletion is immediate (no grace periods, no finalizers) except for Namespaces, which
//!   go Terminating: their content is deleted at once and the Namespace itself is removed
//!   by the namespace controller after the rollout delay;
//! - Foreground propagation behaves like Background (dependents are deleted at once);
//!   a DELETE naming no propagation policy orphans a batch/v1 Job's pods, as the real
//!   Job strategy's `DefaultGarbageCollectionPolicy` does (the real server also answers
//!   with a `Warning` header saying so; this one sends none);
//! - a Job's `spec.template`, `selector`, `completions` and `completionMode` are
//!   immutable, as on the real server, but the template of a suspended Job that never
//!   started may change whole (the real server allows only scheduling directives, labels
//!   and annotations) and the rejected value is printed as `{...}` where the real server
//!   prints Go's `%#v` of it.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::resources::{RESOURCES, ResIdx, ResourceType, idx};
use crate::ssa;
use crate::status::{self, ApiError};
use crate::store::{Store, meta_str};

/// Who writes and how.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Field manager for managedFields.
    pub manager: String,
    pub dry_run: bool,
    /// Timestamp for creationTimestamp and managedFields.
    pub now: String,
    /// `Warning` headers admission added to the response (see [`crate::admission`]).
    pub warnings: std::cell::RefCell<Vec<String>>,
}

impl Ctx {
    pub fn new(manager: &str, dry_run: bool) -> Self {
        Self {
            manager: manager.to_string(),
            dry_run,
            now: crate::util::now_rfc3339(),
            warnings: Default::default(),
        }
    }
}

/// The patch flavours of a PATCH request, by Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Apply,
    Merge,
    Strategic,
    Json,
}

impl PatchType {
    pub fn from_content_type(ct: &str) -> Option<Self> {
        let ct = ct.split(';').next().unwrap_or("").trim();
        match ct {
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => Some(Self::Apply),
            "application/merge-patch+json" => Some(Self::Merge),
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            "application/json-patch+json" => Some(Self::Json),
            _ => None,
        }
    }
}

/// DELETE options (query parameters and the DeleteOptions body).
#[derive(Debug, Clone, Default)]
pub struct DeleteOpts {
    pub orphan: bool,
    /// The request named a `propagationPolicy` (or `orphanDependents`). Without one, a
    /// Job's pods are orphaned (batch/v1's legacy default); other kinds' dependents are
    /// deleted in the background.
    pub explicit_policy: bool,
    pub precondition_rv: Option<String>,
    pub precondition_uid: Option<String>,
}

fn rt(res: ResIdx) -> &'static ResourceType {
    &RESOURCES[res]
}

/// Parses a request body: JSON first, else YAML (apply bodies may be either).
pub fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return Ok(v);
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| status::bad_request("the body of the request is not valid UTF-8"))?;
    serde_saphyr::from_str::<Value>(text)
        .map_err(|e| status::bad_request(format!("error decoding YAML: {e}")))
}

fn metadata_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.is_object() {
        *obj = json!({});
    }
    if !obj["metadata"].is_object() {
        obj["metadata"] = json!({});
    }
    obj["metadata"]
        .as_object_mut()
        .expect("metadata was just made an object")
}

/// The namespace must exist (and not be terminating) for new namespaced content.
fn check_namespace(store: &Store, r: &ResourceType, ns: &str, name: &str) -> Result<(), ApiError> {
    if !r.namespaced {
        return Ok(());
    }
    match store.get(idx("namespaces"), "", ns) {
        None => Err(status::not_found(&RESOURCES[idx("namespaces")], ns)),
        Some(n) if !n["metadata"]["deletionTimestamp"].is_null() => {
            Err(status::namespace_terminating(r, name, ns))
        }
        Some(_) => Ok(()),
    }
}

/// Checks the object's apiVersion/kind/name/namespace against the request.
fn check_identity(
    r: &ResourceType,
    obj: &mut Value,
    ns: &str,
    url_name: Option<&str>,
) -> Result<(), ApiError> {
    if !obj.is_object() {
        return Err(status::bad_request(
            "the body of the request was not a JSON object",
        ));
    }
    let api_version = r.api_version();
    match obj["apiVersion"].as_str() {
        None | Some("") => obj["apiVersion"] = json!(api_version),
        Some(v) if v != api_version => {
            return Err(status::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({api_version})"
            )));
        }
        Some(_) => {}
    }
    match obj["kind"].as_str() {
        None | Some("") => obj["kind"] = json!(r.kind),
        Some(k) if k != r.kind => {
            return Err(status::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                r.kind
            )));
        }
        Some(_) => {}
    }
    let meta = metadata_mut(obj);
    if let Some(url_name) = url_name {
        match meta.get("name").and_then(Value::as_str) {
            None | Some("") => {
                meta.insert("name".into(), json!(url_name));
            }
            Some(n) if n != url_name => {
                return Err(status::bad_request(format!(
                    "the name of the object ({n}) does not match the name on the URL ({url_name})"
                )));
            }
            Some(_) => {}
        }
    }
    if r.namespaced {
        match meta.get("namespace").and_then(Value::as_str) {
            None | Some("") => {
                meta.insert("namespace".into(), json!(ns));
            }
            Some(n) if n != ns => {
                return Err(status::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            Some(_) => {}
        }
    } else {
        meta.remove("namespace");
    }
    Ok(())
}

const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_label)
}

/// Validation the real server would refuse with 422.
fn validate(r: &ResourceType, obj: &Value) -> Result<(), ApiError> {
    let name = meta_str(obj, "name");
    let mut causes: Vec<(String, String, String)> = Vec::new();
    if name.is_empty() {
        causes.push((
            "metadata.name".into(),
            "FieldValueRequired".into(),
            "Required value: name or generateName is required".into(),
        ));
    } else if r.kind == "Namespace" || r.kind == "Service" {
        if !is_label(name) {
            causes.push((
                "metadata.name".into(),
                "FieldValueInvalid".into(),
                format!("Invalid value: {name:?}: {LABEL_MSG}"),
            ));
        }
    } else if !is_subdomain(name) && !matches!(r.group, "rbac.authorization.k8s.io") {
        causes.push((
            "metadata.name".into(),
            "FieldValueInvalid".into(),
            format!("Invalid value: {name:?}: {SUBDOMAIN_MSG}"),
        ));
    }
    if r.kind == "Job" {
        validate_job(obj, &mut causes);
    }
    if r.kind == "Deployment" || r.kind == "ReplicaSet" || r.kind == "Job" {
        let selector = &obj["spec"]["selector"];
        if selector.is_null() {
            causes.push((
                "spec.selector".into(),
                "FieldValueRequired".into(),
                "Required value".into(),
            ));
        } else {
            let labels = &obj["spec"]["template"]["metadata"]["labels"];
            let ok = selector_matches(selector, labels);
            if !ok {
                causes.push((
                    "spec.template.metadata.labels".into(),
                    "FieldValueInvalid".into(),
                    format!(
                        "Invalid value: {}: `selector` does not match template `labels`",
                        go_map(labels)
                    ),
                ));
            }
        }
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(status::invalid_object(r, name, &causes))
    }
}

/// The label the real server generates a Job's selector from (and its legacy twin), and
/// the job-name labels it adds to the pod template.
pub const JOB_UID_LABEL: &str = "batch.kubernetes.io/controller-uid";
pub const JOB_NAME_LABEL: &str = "batch.kubernetes.io/job-name";
const LEGACY_JOB_UID_LABEL: &str = "controller-uid";
const LEGACY_JOB_NAME_LABEL: &str = "job-name";

/// The Job strategy's validation (pkg/apis/batch/validation and pkg/registry/batch/job):
/// the pod template's restartPolicy, and a generated selector that must select only this
/// Job's uid (`validateGeneratedSelector`) unless `spec.manualSelector` is true.
fn validate_job(obj: &Value, causes: &mut Vec<(String, String, String)>) {
    let policy = &obj["spec"]["template"]["spec"]["restartPolicy"];
    if policy != "Never" && policy != "OnFailure" {
        causes.push((
            "spec.template.spec.restartPolicy".into(),
            "FieldValueNotSupported".into(),
            format!(
                "Unsupported value: {}: supported values: \"OnFailure\", \"Never\"",
                serde_json::to_string(policy.as_str().unwrap_or("")).unwrap_or_default()
            ),
        ));
    }
    let uid = meta_str(obj, "uid");
    if obj["spec"]["manualSelector"] == json!(true) || uid.is_empty() {
        return;
    }
    let labels = &obj["spec"]["template"]["metadata"]["labels"];
    for (key, want) in [
        (LEGACY_JOB_UID_LABEL, uid),
        (LEGACY_JOB_NAME_LABEL, meta_str(obj, "name")),
    ] {
        let have = labels[key].as_str();
        if have != Some(want) {
            causes.push((
                format!("spec.template.metadata.labels[{key}]"),
                if have.is_none() {
                    "FieldValueRequired"
                } else {
                    "FieldValueInvalid"
                }
                .into(),
                match have {
                    None => "Required value".into(),
                    Some(v) => format!("Invalid value: {v:?}: must be '{want}'"),
                },
            ));
        }
    }
    let selector = &obj["spec"]["selector"];
    if !selector.is_null() && !selector_matches(selector, &json!({JOB_UID_LABEL: uid})) {
        causes.push((
            "spec.selector".into(),
            "FieldValueInvalid".into(),
            format!(
                "Invalid value: {}: `selector` not auto-generated",
                serde_json::to_string(selector).unwrap_or_default()
            ),
        ));
    }
}

/// Update validation: the immutable parts of a Job's spec (batch `ValidateJobSpecUpdate`).
fn validate_update(r: &ResourceType, old: &Value, new: &Value) -> Result<(), ApiError> {
    if r.kind != "Job" {
        return Ok(());
    }
    let mut causes = Vec::new();
    let never_started_suspended =
        new["spec"]["suspend"] == json!(true) && old["status"]["startTime"].is_null();
    for field in ["selector", "template", "completions", "completionMode"] {
        if field == "template" && never_started_suspended {
            continue;
        }
        let (was, is) = (&old["spec"][field], &new["spec"][field]);
        if was != is {
            let shown = match is {
                Value::Object(_) => "{...}".to_string(),
                Value::String(s) => format!("{s:?}"),
                v => v.to_string(),
            };
            causes.push((
                format!("spec.{field}"),
                "FieldValueInvalid".into(),
                format!("Invalid value: {shown}: field is immutable"),
            ));
        }
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(status::invalid_object(r, meta_str(new, "name"), &causes))
    }
}

/// The Job strategy's `generateSelector` (PrepareForCreate, unless
/// `spec.manualSelector`): job-name and controller-uid labels (current and legacy) on
/// the pod template, unless already there, and `batch.kubernetes.io/controller-uid` in
/// `spec.selector.matchLabels`.
fn generate_job_selector(obj: &mut Value) {
    if obj["spec"]["manualSelector"] == json!(true) || !obj["spec"].is_object() {
        return;
    }
    let uid = meta_str(obj, "uid").to_string();
    let name = meta_str(obj, "name").to_string();
    let template = &mut obj["spec"]["template"];
    if !template.is_object() {
        *template = json!({});
    }
    if !template["metadata"].is_object() {
        template["metadata"] = json!({});
    }
    let labels = &mut template["metadata"]["labels"];
    if !labels.is_object() {
        *labels = json!({});
    }
    for (key, value) in [
        (LEGACY_JOB_NAME_LABEL, &name),
        (JOB_NAME_LABEL, &name),
        (LEGACY_JOB_UID_LABEL, &uid),
        (JOB_UID_LABEL, &uid),
    ] {
        set_default(labels, key, json!(value));
    }
    let selector = &mut obj["spec"]["selector"];
    if !selector.is_object() {
        *selector = json!({});
    }
    if !selector["matchLabels"].is_object() {
        selector["matchLabels"] = json!({});
    }
    set_default(&mut selector["matchLabels"], JOB_UID_LABEL, json!(uid));
}

/// Go's `%#v` of a `map[string]string`, as validation messages print label maps.
fn go_map(labels: &Value) -> String {
    let mut pairs: Vec<(String, String)> = labels
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default();
    pairs.sort();
    let inner: Vec<String> = pairs.iter().map(|(k, v)| format!("{k:?}:{v:?}")).collect();
    format!("map[string]string{{{}}}", inner.join(", "))
}

/// A `metav1.LabelSelector` (matchLabels + matchExpressions) against labels.
pub fn selector_matches(selector: &Value, labels: &Value) -> bool {
    let get = |k: &str| labels.get(k).and_then(Value::as_str);
    if let Some(ml) = selector["matchLabels"].as_object()
        && !ml.iter().all(|(k, v)| get(k) == v.as_str())
    {
        return false;
    }
    if let Some(exprs) = selector["matchExpressions"].as_array() {
        for e in exprs {
            let key = e["key"].as_str().unwrap_or("");
            let values: Vec<&str> = e["values"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let ok = match e["operator"].as_str().unwrap_or("") {
                "In" => get(key).is_some_and(|v| values.contains(&v)),
                "NotIn" => get(key).is_none_or(|v| !values.contains(&v)),
                "Exists" => get(key).is_some(),
                "DoesNotExist" => get(key).is_none(),
                _ => false,
            };
            if !ok {
                return false;
            }
        }
    }
    true
}

fn set_default(obj: &mut Value, key: &str, value: Value) {
    if let Some(m) = obj.as_object_mut()
        && m.get(key).is_none_or(Value::is_null)
    {
        m.insert(key.to_string(), value);
    }
}

fn default_pod_spec(spec: &mut Value) {
    if !spec.is_object() {
        return;
    }
    set_default(spec, "restartPolicy", json!("Always"));
    set_default(spec, "terminationGracePeriodSeconds", json!(30));
    set_default(spec, "dnsPolicy", json!("ClusterFirst"));
    set_default(spec, "securityContext", json!({}));
    set_default(spec, "schedulerName", json!("default-scheduler"));
    for list in ["initContainers", "containers"] {
        if let Some(cs) = spec[list].as_array_mut() {
            for c in cs {
                set_default(c, "terminationMessagePath", json!("/dev/termination-log"));
                set_default(c, "terminationMessagePolicy", json!("File"));
                let image = c["image"].as_str().unwrap_or("");
                let last = image.rsplit('/').next().unwrap_or(image);
                let policy = if image.contains('@') {
                    "IfNotPresent"
                } else {
                    match last.split_once(':') {
                        None => "Always",
                        Some((_, "latest")) => "Always",
                        Some(_) => "IfNotPresent",
                    }
                };
                set_default(c, "imagePullPolicy", json!(policy));
                set_default(c, "resources", json!({}));
                if let Some(ports) = c["ports"].as_array_mut() {
                    for p in ports {
                        set_default(p, "protocol", json!("TCP"));
                    }
                }
            }
        }
    }
}

/// Defaults the real API server fills in on every write (a subset; see the module doc).
fn apply_defaults(r: &ResourceType, obj: &mut Value, store: &Store) {
    match r.kind {
        "Deployment" => {
            let spec = &mut obj["spec"];
            if !spec.is_object() {
                return;
            }
            set_default(spec, "replicas", json!(1));
            set_default(spec, "revisionHistoryLimit", json!(10));
            set_default(spec, "progressDeadlineSeconds", json!(600));
            set_default(
                spec,
                "strategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}),
            );
            if spec["strategy"]["type"] == "RollingUpdate" {
                set_default(&mut spec["strategy"], "rollingUpdate", json!({}));
                set_default(
                    &mut spec["strategy"]["rollingUpdate"],
                    "maxUnavailable",
                    json!("25%"),
                );
                set_default(
                    &mut spec["strategy"]["rollingUpdate"],
                    "maxSurge",
                    json!("25%"),
                );
            }
            default_pod_spec(&mut spec["template"]["spec"]);
            if spec["template"]["metadata"].is_object() {
                set_default(
                    &mut spec["template"]["metadata"],
                    "creationTimestamp",
                    Value::Null,
                );
            }
        }
        "Job" => {
            // batch/v1 `SetDefaults_Job` as a 1.30+ server applies it on every decode
            // (https://kubernetes.io/docs/concepts/workloads/controllers/job/: completions
            // and parallelism 1 for a non-parallel Job, backoffLimit 6, completionMode
            // NonIndexed, suspend false, podReplacementPolicy TerminatingOrFailed without
            // a podFailurePolicy). manualSelector stays absent.
            let spec = &mut obj["spec"];
            if !spec.is_object() {
                return;
            }
            if spec["completions"].is_null() && spec["parallelism"].is_null() {
                spec["completions"] = json!(1);
            }
            set_default(spec, "parallelism", json!(1));
            let backoff = if spec["backoffLimitPerIndex"].is_null() {
                6
            } else {
                i32::MAX as i64
            };
            set_default(spec, "backoffLimit", json!(backoff));
            set_default(spec, "completionMode", json!("NonIndexed"));
            set_default(spec, "suspend", json!(false));
            let replacement = if spec["podFailurePolicy"].is_null() {
                "TerminatingOrFailed"
            } else {
                "Failed"
            };
            set_default(spec, "podReplacementPolicy", json!(replacement));
            default_pod_spec(&mut spec["template"]["spec"]);
            if spec["template"]["metadata"].is_object() {
                set_default(
                    &mut spec["template"]["metadata"],
                    "creationTimestamp",
                    Value::Null,
                );
            }
            // A Job without labels takes its pod template's (the generated ones included,
            // since the server defaults again when it reads the stored object back).
            let template_labels = spec["template"]["metadata"]["labels"].clone();
            let has_labels = obj["metadata"]["labels"]
                .as_object()
                .is_some_and(|m| !m.is_empty());
            if template_labels.is_object() && !has_labels {
                metadata_mut(obj).insert("labels".into(), template_labels);
            }
        }
        "ReplicaSet" => {
            set_default(&mut obj["spec"], "replicas", json!(1));
            default_pod_spec(&mut obj["spec"]["template"]["spec"]);
        }
        "Pod" => {
            default_pod_spec(&mut obj["spec"]);
            set_default(&mut obj["spec"], "enableServiceLinks", json!(true));
        }
        "Service" => {
            let spec = &mut obj["spec"];
            if !spec.is_object() {
                return;
            }
            set_default(spec, "type", json!("ClusterIP"));
            set_default(spec, "sessionAffinity", json!("None"));
            if spec["clusterIP"].is_null() && spec["type"] != "ExternalName" {
                // Allocated from 10.96.0.0/12 by count; stable per object because updates
                // keep the old value (below).
                let n = store.count(idx("services"), None) as u32 + 10;
                let ip = format!("10.96.{}.{}", (n >> 8) & 0xff, n & 0xff);
                spec["clusterIP"] = json!(ip.clone());
                spec["clusterIPs"] = json!([ip]);
            }
            set_default(spec, "ipFamilies", json!(["IPv4"]));
            set_default(spec, "ipFamilyPolicy", json!("SingleStack"));
            set_default(spec, "internalTrafficPolicy", json!("Cluster"));
            if let Some(ports) = spec["ports"].as_array_mut() {
                for p in ports {
                    set_default(p, "protocol", json!("TCP"));
                    let port = p["port"].clone();
                    set_default(p, "targetPort", port);
                }
            }
        }
        "PersistentVolumeClaim" => {
            set_default(&mut obj["spec"], "volumeMode", json!("Filesystem"));
        }
        "Namespace" => {
            set_default(obj, "spec", json!({"finalizers": ["kubernetes"]}));
            let name = meta_str(obj, "name").to_string();
            let meta = metadata_mut(obj);
            if !meta.get("labels").is_some_and(Value::is_object) {
                meta.insert("labels".into(), json!({}));
            }
            meta["labels"]["kubernetes.io/metadata.name"] = json!(name);
        }
        "Secret" => set_default(obj, "type", json!("Opaque")),
        _ => {}
    }
}

/// The status a new object starts with (the registry's PrepareForCreate).
fn initial_status(r: &ResourceType) -> Option<Value> {
    match r.kind {
        "Namespace" => Some(json!({"phase": "Active"})),
        "Pod" => Some(json!({"phase": "Pending", "qosClass": "BestEffort"})),
        "PersistentVolumeClaim" => Some(json!({"phase": "Pending"})),
        "Service" => Some(json!({"loadBalancer": {}})),
        _ if r.status_subresource => Some(json!({})),
        _ => None,
    }
}

/// Server-owned metadata and status of a new object.
fn prepare_create(r: &ResourceType, obj: &mut Value, ctx: &Ctx, store: &Store) {
    let meta = metadata_mut(obj);
    if meta
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty()
        && let Some(prefix) = meta.get("generateName").and_then(Value::as_str)
    {
        let name = format!("{prefix}{}", crate::util::random_suffix(5));
        meta.insert("name".into(), json!(name));
    }
    meta.insert("uid".into(), json!(crate::util::new_uid()));
    meta.insert("creationTimestamp".into(), json!(ctx.now));
    meta.remove("resourceVersion");
    meta.remove("deletionTimestamp");
    meta.remove("deletionGracePeriodSeconds");
    meta.remove("selfLink");
    if r.generation {
        meta.insert("generation".into(), json!(1));
    } else {
        meta.remove("generation");
    }
    if r.status_subresource
        && let Some(m) = obj.as_object_mut()
    {
        m.remove("status");
        if let Some(s) = initial_status(r) {
            m.insert("status".into(), s);
        }
    }
    if r.kind == "Job" {
        generate_job_selector(obj);
    }
    apply_defaults(r, obj, store);
    crate::normalize::stored_form(r.kind, obj);
}

/// Everything but metadata/status/type fields, for the generation rule.
fn spec_part(r: &ResourceType, obj: &Value) -> Value {
    let mut out = Map::new();
    if let Some(m) = obj.as_object() {
        for (k, v) in m {
            if !matches!(k.as_str(), "metadata" | "status" | "apiVersion" | "kind") {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    if r.kind == "Deployment" {
        // The Deployment strategy also bumps generation on annotation changes (they are
        // copied to ReplicaSets).
        out.insert(
            "\0annotations".into(),
            obj["metadata"]["annotations"].clone(),
        );
    }
    Value::Object(out)
}

/// Server-owned metadata of an updated object, carried over from `old`.
fn prepare_update(r: &ResourceType, old: &Value, new: &mut Value, store: &Store) {
    let old_meta = &old["metadata"];
    let meta = metadata_mut(new);
    for key in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "generation",
        "resourceVersion",
    ] {
        match old_meta.get(key) {
            Some(v) if !v.is_null() => {
                meta.insert(key.into(), v.clone());
            }
            _ => {
                meta.remove(key);
            }
        }
    }
    meta.remove("selfLink");
    if !meta.contains_key("managedFields")
        && let Some(mf) = old_meta.get("managedFields")
    {
        meta.insert("managedFields".into(), mf.clone());
    }
    if r.status_subresource
        && let Some(m) = new.as_object_mut()
    {
        match old.get("status") {
            Some(s) => m.insert("status".into(), s.clone()),
            None => m.remove("status"),
        };
    }
    if r.kind == "Service" {
        // clusterIP is allocated once and immutable.
        for k in ["clusterIP", "clusterIPs"] {
            if new["spec"][k].is_null() && !old["spec"][k].is_null() {
                new["spec"][k] = old["spec"][k].clone();
            }
        }
    }
    apply_defaults(r, new, store);
    crate::normalize::stored_form(r.kind, new);
    if r.generation && spec_part(r, old) != spec_part(r, new) {
        let g = old["metadata"]["generation"].as_i64().unwrap_or(0) + 1;
        new["metadata"]["generation"] = json!(g);
    }
}

fn without_mf_times(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(mf) = o["metadata"]["managedFields"].as_array_mut() {
        for e in mf {
            if let Some(m) = e.as_object_mut() {
                m.remove("time");
            }
        }
    }
    o
}

/// Whether an update changes nothing but managedFields timestamps (a no-op the real
/// server does not persist).
pub fn is_noop(old: &Value, new: &Value) -> bool {
    without_mf_times(old) == without_mf_times(new)
}

/// Stores an updated object unless it is a no-op or a dry run; returns what the client sees.
fn finish_update(
    store: &mut Store,
    res: ResIdx,
    old: &Arc<Value>,
    new: Value,
    ctx: &Ctx,
    admit: bool,
) -> Result<Value, ApiError> {
    validate(rt(res), &new)?;
    validate_update(rt(res), old, &new)?;
    if admit {
        let warnings = crate::admission::admit(store, res, &new, false)?;
        ctx.warnings.borrow_mut().extend(warnings);
    }
    if is_noop(old, &new) {
        return Ok((**old).clone());
    }
    if ctx.dry_run {
        return Ok(new);
    }
    let stored = (*store.put(res, new)).clone();
    after_write(store, res);
    Ok(stored)
}

/// What runs synchronously after a stored write: the clusterrole-aggregation controller
/// after any ClusterRole change (see [`crate::rbac`]).
fn after_write(store: &mut Store, res: ResIdx) {
    if rt(res).plural == "clusterroles" {
        crate::rbac::aggregate(store, |store, role| {
            controller_update_as(store, res, role, "clusterrole-aggregation-controller");
        });
    }
}

fn finish_create(store: &mut Store, res: ResIdx, obj: Value, ctx: &Ctx) -> Result<Value, ApiError> {
    let r = rt(res);
    validate(r, &obj)?;
    let ns = meta_str(&obj, "namespace").to_string();
    let name = meta_str(&obj, "name").to_string();
    if store.get(res, &ns, &name).is_some() {
        return Err(status::already_exists(r, &name));
    }
    check_namespace(store, r, &ns, &name)?;
    let warnings = crate::admission::admit(store, res, &obj, true)?;
    ctx.warnings.borrow_mut().extend(warnings);
    if ctx.dry_run {
        return Ok(obj);
    }
    let stored = (*store.put(res, obj)).clone();
    after_write(store, res);
    Ok(stored)
}

/// POST: create.
pub fn create(
    store: &mut Store,
    res: ResIdx,
    ns: &str,
    mut obj: Value,
    ctx: &Ctx,
) -> Result<Value, ApiError> {
    let r = rt(res);
    check_identity(r, &mut obj, ns, None)?;
    if let Some(m) = obj["metadata"].as_object_mut() {
        m.remove("managedFields");
    }
    prepare_create(r, &mut obj, ctx, store);
    let mut obj = obj;
    ssa::update(None, &mut obj, &ctx.manager, &ctx.now);
    finish_create(store, res, obj, ctx)
}

fn get_live(store: &Store, res: ResIdx, ns: &str, name: &str) -> Result<Arc<Value>, ApiError> {
    store
        .get(res, ns, name)
        .cloned()
        .ok_or_else(|| status::not_found(rt(res), name))
}

fn check_rv_precondition(r: &ResourceType, live: &Value, obj: &Value) -> Result<(), ApiError> {
    let want = meta_str(obj, "resourceVersion");
    if !want.is_empty() && want != meta_str(live, "resourceVersion") {
        return Err(status::conflict(r, meta_str(live, "name")));
    }
    Ok(())
}

/// A write through the `status` subresource: only status (and, as the Deployment status
/// strategy allows, annotations are not touched here) changes.
fn status_only(old: &Value, candidate: &Value) -> Value {
    let mut new = old.clone();
    match candidate.get("status") {
        Some(s) => new["status"] = s.clone(),
        None => {
            if let Some(m) = new.as_object_mut() {
                m.remove("status");
            }
        }
    }
    new
}

/// PUT: replace (optimistic concurrency on metadata.resourceVersion when set).
pub fn replace(
    store: &mut Store,
    res: ResIdx,
    ns: &str,
    name: &str,
    mut obj: Value,
    status_sub: bool,
    ctx: &Ctx,
) -> Result<Value, ApiError> {
    let r = rt(res);
    check_identity(r, &mut obj, ns, Some(name))?;
    let live = get_live(store, res, ns, name)?;
    check_rv_precondition(r, &live, &obj)?;
    if status_sub {
        let mut new = status_only(&live, &obj);
        ssa::update_subresource(Some(&live), &mut new, &ctx.manager, "status", &ctx.now);
        return finish_update(store, res, &live, new, ctx, false);
    }
    prepare_update(r, &live, &mut obj, store);
    ssa::update(Some(&live), &mut obj, &ctx.manager, &ctx.now);
    finish_update(store, res, &live, obj, ctx, true)
}

/// Marks which managers of `live` are appliers (their conflicts print without `using`).
fn conflict_error(live: Option<&Value>, err: ssa::ApplyError) -> ApiError {
    let mut e = match &err {
        ssa::ApplyError::Conflicts(cs) => status::apply_conflicts(cs, |m| {
            live.and_then(|l| l["metadata"]["managedFields"].as_array())
                .is_some_and(|mf| {
                    mf.iter()
                        .any(|e| e["manager"] == m && e["operation"] == "Apply")
                })
        }),
        ssa::ApplyError::Invalid(msg) => status::invalid_message(msg),
    };
    e.apply_error = Some(Box::new(err));
    e
}

/// Server-side apply (`application/apply-patch+yaml`); creates a missing object (201).
#[allow(clippy::too_many_arguments)]
pub fn apply(
    store: &mut Store,
    res: ResIdx,
    ns: &str,
    name: &str,
    mut applied: Value,
    force: bool,
    status_sub: bool,
    ctx: &Ctx,
) -> Result<(u16, Value), ApiError> {
    let r = rt(res);
    if applied["apiVersion"].as_str().unwrap_or("").is_empty()
        || applied["kind"].as_str().unwrap_or("").is_empty()
    {
        let e = status::bad_request(
            "apiVersion and kind must be set in an apply patch (Object 'Kind' is missing)",
        );
        return Err(e);
    }
    check_identity(r, &mut applied, ns, Some(name))?;
    if r.status_subresource
        && !status_sub
        && let Some(m) = applied.as_object_mut()
    {
        // The main resource ignores applied status (the status reset strategy).
        m.remove("status");
    }
    let live = store.get(res, ns, name).cloned();
    let Some(live) = live else {
        if status_sub {
            return Err(status::not_found(r, name));
        }
        let mut obj = ssa::apply(None, &applied, &ctx.manager, force, &ctx.now)
            .map_err(|e| conflict_error(None, e))?;
        prepare_create(r, &mut obj, ctx, store);
        return finish_create(store, res, obj, ctx).map(|o| (201, o));
    };
    let result = ssa::apply(Some(&live), &applied, &ctx.manager, force, &ctx.now)
        .map_err(|e| conflict_error(Some(&live), e))?;
    let new = if status_sub {
        status_only(&live, &result)
    } else {
        let mut new = result;
        prepare_update(r, &live, &mut new, store);
        new
    };
    finish_update(store, res, &live, new, ctx, !status_sub).map(|o| (200, o))
}

/// PATCH with a merge, strategic-merge or JSON patch.
#[allow(clippy::too_many_arguments)]
pub fn patch(
    store: &mut Store,
    res: ResIdx,
    ns: &str,
    name: &str,
    kind: PatchType,
    patch: &Value,
    status_sub: bool,
    ctx: &Ctx,
) -> Result<Value, ApiError> {
    let r = rt(res);
    let live = get_live(store, res, ns, name)?;
    let mut obj = (*live).clone();
    match kind {
        PatchType::Merge => ssa::merge_patch(&mut obj, patch),
        PatchType::Strategic => ssa::strategic_merge_patch(&mut obj, patch),
        PatchType::Json => json_patch(&mut obj, patch).map_err(status::json_patch_error)?,
        PatchType::Apply => unreachable!("apply patches go through api::apply"),
    }
    check_rv_precondition(r, &live, &obj)?;
    check_identity(r, &mut obj, ns, Some(name))?;
    if status_sub {
        let mut new = status_only(&live, &obj);
        ssa::update_subresource(Some(&live), &mut new, &ctx.manager, "status", &ctx.now);
        return finish_update(store, res, &live, new, ctx, false);
    }
    prepare_update(r, &live, &mut obj, store);
    ssa::update(Some(&live), &mut obj, &ctx.manager, &ctx.now);
    finish_update(store, res, &live, obj, ctx, true)
}

/// RFC 6902 JSON patch.
pub fn json_patch(target: &mut Value, ops: &Value) -> Result<(), String> {
    fn unescape(s: &str) -> String {
        s.replace("~1", "/").replace("~0", "~")
    }
    fn split(path: &str) -> Result<(Vec<String>, String), String> {
        let mut parts: Vec<String> = path
            .strip_prefix('/')
            .ok_or_else(|| format!("invalid path {path:?}"))?
            .split('/')
            .map(unescape)
            .collect();
        let last = parts.pop().unwrap_or_default();
        Ok((parts, last))
    }
    fn parent<'a>(t: &'a mut Value, parts: &[String]) -> Result<&'a mut Value, String> {
        let mut cur = t;
        for p in parts {
            cur = match cur {
                Value::Object(m) => m.get_mut(p).ok_or_else(|| format!("missing path {p:?}"))?,
                Value::Array(a) => {
                    let i: usize = p.parse().map_err(|_| format!("bad index {p:?}"))?;
                    a.get_mut(i)
                        .ok_or_else(|| format!("index {i} out of range"))?
                }
                _ => return Err(format!("cannot descend into {p:?}")),
            };
        }
        Ok(cur)
    }
    fn get(t: &Value, path: &str) -> Result<Value, String> {
        t.pointer(path)
            .cloned()
            .ok_or_else(|| format!("missing path {path:?}"))
    }
    fn remove(t: &mut Value, path: &str) -> Result<Value, String> {
        let (parts, last) = split(path)?;
        match parent(t, &parts)? {
            Value::Object(m) => m
                .remove(&last)
                .ok_or_else(|| format!("missing path {path:?}")),
            Value::Array(a) => {
                let i: usize = last.parse().map_err(|_| format!("bad index {last:?}"))?;
                if i < a.len() {
                    Ok(a.remove(i))
                } else {
                    Err(format!("index {i} out of range"))
                }
            }
            _ => Err(format!("missing path {path:?}")),
        }
    }
    fn add(t: &mut Value, path: &str, v: Value, replace: bool) -> Result<(), String> {
        if path.is_empty() {
            *t = v;
            return Ok(());
        }
        let (parts, last) = split(path)?;
        match parent(t, &parts)? {
            Value::Object(m) => {
                if replace && !m.contains_key(&last) {
                    return Err(format!("missing path {path:?}"));
                }
                m.insert(last, v);
                Ok(())
            }
            Value::Array(a) => {
                if last == "-" && !replace {
                    a.push(v);
                    return Ok(());
                }
                let i: usize = last.parse().map_err(|_| format!("bad index {last:?}"))?;
                if replace {
                    *a.get_mut(i)
                        .ok_or_else(|| format!("index {i} out of range"))? = v;
                } else if i <= a.len() {
                    a.insert(i, v);
                } else {
                    return Err(format!("index {i} out of range"));
                }
                Ok(())
            }
            _ => Err(format!("missing path {path:?}")),
        }
    }
    let ops = ops.as_array().ok_or("a JSON patch must be an array")?;
    for op in ops {
        let path = op["path"].as_str().ok_or("op without path")?;
        match op["op"].as_str().unwrap_or("") {
            "add" => add(target, path, op["value"].clone(), false)?,
            "replace" => add(target, path, op["value"].clone(), true)?,
            "remove" => {
                remove(target, path)?;
            }
            "test" => {
                if get(target, path)? != op["value"] {
                    return Err(format!("testing value {path} failed"));
                }
            }
            "move" => {
                let from = op["from"].as_str().ok_or("move without from")?;
                let v = remove(target, from)?;
                add(target, path, v, false)?;
            }
            "copy" => {
                let from = op["from"].as_str().ok_or("copy without from")?;
                let v = get(target, from)?;
                add(target, path, v, false)?;
            }
            other => return Err(format!("Unexpected kind: {other}")),
        }
    }
    Ok(())
}

/// DELETE: returns the HTTP body (the object for Namespaces and Pods, else a Success Status).
pub fn delete(
    store: &mut Store,
    res: ResIdx,
    ns: &str,
    name: &str,
    opts: &DeleteOpts,
    ctx: &Ctx,
) -> Result<Value, ApiError> {
    let r = rt(res);
    let live = get_live(store, res, ns, name)?;
    if let Some(want) = &opts.precondition_rv
        && want != meta_str(&live, "resourceVersion")
    {
        let mut e = status::conflict(r, name);
        e.body["message"] = json!(format!(
            "Operation cannot be fulfilled on {} {:?}: Precondition failed: ResourceVersion in precondition: {}, ResourceVersion in object meta: {}",
            r.qualified(),
            name,
            want,
            meta_str(&live, "resourceVersion")
        ));
        return Err(e);
    }
    if let Some(want) = &opts.precondition_uid
        && want != meta_str(&live, "uid")
    {
        let mut e = status::conflict(r, name);
        e.body["message"] = json!(format!(
            "Operation cannot be fulfilled on {} {:?}: Precondition failed: UID in precondition: {}, UID in object meta: {}",
            r.qualified(),
            name,
            want,
            meta_str(&live, "uid")
        ));
        return Err(e);
    }
    if r.kind == "Namespace" {
        if !live["metadata"]["deletionTimestamp"].is_null() {
            return Ok((*live).clone());
        }
        let mut term = (*live).clone();
        term["metadata"]["deletionTimestamp"] = json!(ctx.now);
        term["status"]["phase"] = json!("Terminating");
        if ctx.dry_run {
            return Ok(term);
        }
        let stored = store.put(res, term);
        store.delete_namespace_content(name);
        return Ok((*stored).clone());
    }
    if ctx.dry_run {
        return Ok(deleted_body(r, &live));
    }
    let orphan = opts.orphan || (r.kind == "Job" && !opts.explicit_policy);
    let gone = store
        .delete_cascading(res, ns, name, orphan)
        .ok_or_else(|| status::not_found(r, name))?;
    after_write(store, res);
    Ok(deleted_body(r, &gone))
}

fn deleted_body(r: &ResourceType, obj: &Value) -> Value {
    if r.kind == "Pod" {
        obj.clone()
    } else {
        status::deleted(r, meta_str(obj, "name"), meta_str(obj, "uid"))
    }
}

/// Creates an object on behalf of a controller (manager `kube-controller-manager`).
pub fn controller_create(store: &mut Store, res: ResIdx, mut obj: Value) -> Option<Arc<Value>> {
    let r = rt(res);
    let ctx = Ctx::new("kube-controller-manager", false);
    let ns = meta_str(&obj, "namespace").to_string();
    prepare_create(r, &mut obj, &ctx, store);
    let name = meta_str(&obj, "name").to_string();
    if store.get(res, &ns, &name).is_some() || check_namespace(store, r, &ns, &name).is_err() {
        return None;
    }
    ssa::update(None, &mut obj, &ctx.manager, &ctx.now);
    Some(store.put(res, obj))
}

/// A controller's spec/metadata update through the main resource (records managedFields).
pub fn controller_update(store: &mut Store, res: ResIdx, new: Value) -> Option<Arc<Value>> {
    controller_update_as(store, res, new, "kube-controller-manager")
}

/// [`controller_update`] recorded under another manager.
pub fn controller_update_as(
    store: &mut Store,
    res: ResIdx,
    mut new: Value,
    manager: &str,
) -> Option<Arc<Value>> {
    let r = rt(res);
    let ns = meta_str(&new, "namespace").to_string();
    let name = meta_str(&new, "name").to_string();
    let live = store.get(res, &ns, &name)?.clone();
    let ctx = Ctx::new(manager, false);
    prepare_update(r, &live, &mut new, store);
    ssa::update(Some(&live), &mut new, &ctx.manager, &ctx.now);
    if is_noop(&live, &new) {
        return Some(live);
    }
    Some(store.put(res, new))
}

/// A controller's write through the `status` subresource as `manager`
/// (`kube-controller-manager`, `kubelet`): `f` edits a copy; stored only when something
/// changed. Annotations may change too (the Deployment controller writes its revision
/// annotation this way), never spec or generation.
pub fn controller_status(
    store: &mut Store,
    res: ResIdx,
    ns: &str,
    name: &str,
    manager: &str,
    f: impl FnOnce(&mut Value),
) -> Option<Arc<Value>> {
    let live = store.get(res, ns, name)?.clone();
    let mut new = (*live).clone();
    f(&mut new);
    if new == *live {
        return Some(live);
    }
    ssa::update_subresource(
        Some(&live),
        &mut new,
        manager,
        "status",
        &crate::util::now_rfc3339(),
    );
    Some(store.put(res, new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_patch_operations() {
        let mut v = json!({"a": {"b": [1, 2]}, "c": "x"});
        let ops = json!([
            {"op": "add", "path": "/a/b/-", "value": 3},
            {"op": "replace", "path": "/c", "value": "y"},
            {"op": "test", "path": "/c", "value": "y"},
            {"op": "copy", "from": "/c", "path": "/d"},
            {"op": "move", "from": "/d", "path": "/e"},
            {"op": "remove", "path": "/a/b/0"},
        ]);
        json_patch(&mut v, &ops).expect("applies");
        assert_eq!(v, json!({"a": {"b": [2, 3]}, "c": "y", "e": "y"}));
        let err = json_patch(&mut v, &json!([{"op": "test", "path": "/c", "value": "z"}]));
        assert!(err.is_err());
        assert!(
            json_patch(
                &mut v,
                &json!([{"op": "replace", "path": "/nope", "value": 1}])
            )
            .is_err()
        );
    }

    #[test]
    fn noop_ignores_managed_fields_times_only() {
        let a = json!({"metadata": {"managedFields": [{"manager": "m", "time": "2024-01-01T00:00:00Z"}]}, "data": {"k": "v"}});
        let mut b = a.clone();
        b["metadata"]["managedFields"][0]["time"] = json!("2025-01-01T00:00:00Z");
        assert!(is_noop(&a, &b));
        b["data"]["k"] = json!("w");
        assert!(!is_noop(&a, &b));
    }

    #[test]
    fn deployment_generation_counts_spec_and_annotations() {
        let r = &RESOURCES[idx("deployments")];
        let old = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"replicas": 1}, "status": {"replicas": 1}});
        let mut new = old.clone();
        new["metadata"]["labels"]["a"] = json!("2");
        new["status"]["replicas"] = json!(2);
        assert_eq!(spec_part(r, &old), spec_part(r, &new));
        new["metadata"]["annotations"] = json!({"x": "y"});
        assert_ne!(spec_part(r, &old), spec_part(r, &new));
    }

    #[test]
    fn selector_matches_expressions() {
        let sel = json!({"matchLabels": {"app": "a"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}, {"key": "x", "operator": "DoesNotExist"}]});
        assert!(selector_matches(&sel, &json!({"app": "a", "tier": "web"})));
        assert!(!selector_matches(&sel, &json!({"app": "a", "tier": "db"})));
        assert!(!selector_matches(
            &sel,
            &json!({"app": "a", "tier": "web", "x": "1"})
        ));
    }
}
