//! Admission as kube-apiserver's built-in plugins do it for what clawctl renders: Pod
//! Security by namespace labels, and ResourceQuota for pods and PersistentVolumeClaims.
//!
//! Facts followed (the code is this crate's own):
//! - Pod Security (k8s.io/pod-security-admission): `api/helpers.go` `PolicyToEvaluate`
//!   (labels `pod-security.kubernetes.io/{enforce,warn}[-version]`; without a warn label,
//!   warn defaults to a stricter enforce level); `admission/admission.go` (`ValidatePod`
//!   refuses a pod create with `violates PodSecurity "<level>:<version>": <details>`;
//!   `ValidatePodController` only adds the `would violate PodSecurity ...` warning to a
//!   workload's create or update, never refuses it); `policy/checks.go` (details are
//!   `reason (detail)` joined by `, `); `policy/registry.go` (baseline checks first, then
//!   restricted ones, each group sorted by check id; a restricted check overrides its
//!   baseline twin); one `policy/check_*.go` per rule, named on each function below.
//! - ResourceQuota (kubernetes `plugin/pkg/admission/resourcequota/controller.go`
//!   `checkRequest`): a create whose usage would pass a quota's `hard` is refused with
//!   `exceeded quota: <name>, requested: <r>, used: <u>, limited: <l>`, each list only the
//!   exceeded resources as sorted `name=quantity` joined by `,` (`prettyPrint`); the pod
//!   evaluator (`pkg/quota/v1/evaluator/core/pods.go`) counts `pods`, `count/pods`,
//!   `requests.*`/`limits.*` (`cpu`/`memory` meaning `requests.*`) of non-terminal pods,
//!   and refuses a pod missing a tracked request or limit with `failed quota: <name>: must
//!   specify <resource> for: <containers>`; the claim evaluator (`persistent_volume_claims.go`)
//!   counts `persistentvolumeclaims`, `requests.storage` and their per-class forms.
//!
//! Simplifications: only the Pod Security checks a pod template of clawctl's can trip
//! (no AppArmor, SELinux, procMount, sysctls, Windows, probes' host fields), every
//! version label is accepted and printed but all versions are judged by the latest rules;
//! no exemptions. Quota usage is computed from the stored objects at admission time (the
//! real plugin starts from `status.used`, kept by the quota controller); quota scopes are
//! ignored; quantities print in the fake's canonical form.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::resources::{RESOURCES, ResIdx, idx};
use crate::status::{self, ApiError};
use crate::store::{Store, meta_str};

/// A Pod Security level, least to most restrictive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "privileged" => Some(Self::Privileged),
            "baseline" => Some(Self::Baseline),
            "restricted" => Some(Self::Restricted),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Privileged => "privileged",
            Self::Baseline => "baseline",
            Self::Restricted => "restricted",
        }
    }
}

/// A level and the version label that goes with it (`latest` when none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelVersion {
    pub level: Level,
    pub version: String,
}

impl std::fmt::Display for LevelVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.level.name(), self.version)
    }
}

/// The enforce and warn policies of a namespace (`PolicyToEvaluate`): a missing or
/// unparsable enforce label is `privileged`; without a warn label, warn takes the enforce
/// policy when that is stricter.
pub fn namespace_policy(labels: &Value) -> (LevelVersion, LevelVersion) {
    let get = |mode: &str| {
        let level = labels[format!("pod-security.kubernetes.io/{mode}")].as_str();
        let version = labels[format!("pod-security.kubernetes.io/{mode}-version")]
            .as_str()
            .unwrap_or("latest")
            .to_string();
        (level.and_then(Level::parse), version)
    };
    let (enforce_level, enforce_version) = get("enforce");
    let enforce = LevelVersion {
        level: enforce_level.unwrap_or(Level::Privileged),
        version: enforce_version,
    };
    let (warn_level, warn_version) = get("warn");
    let has_warn = labels["pod-security.kubernetes.io/warn"].is_string();
    let warn = match warn_level {
        Some(level) => LevelVersion {
            level,
            version: warn_version,
        },
        // A present but unparsable warn label fails open.
        None if has_warn => LevelVersion {
            level: Level::Privileged,
            version: warn_version,
        },
        None if enforce_level.is_some() => enforce.clone(),
        None => LevelVersion {
            level: Level::Privileged,
            version: warn_version,
        },
    };
    (enforce, warn)
}

fn plural<'a>(one: &'a str, many: &'a str, n: usize) -> &'a str {
    if n == 1 { one } else { many }
}

fn join_quote<S: AsRef<str>>(items: &[S]) -> String {
    let items: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    format!("\"{}\"", items.join("\", \""))
}

/// Every container of the pod: init containers, containers, ephemeral containers
/// (`policy/visitor.go` `visitContainers`).
fn containers(spec: &Value) -> Vec<&Value> {
    ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .flat_map(|k| spec[*k].as_array().into_iter().flatten())
        .collect()
}

fn cname(c: &Value) -> String {
    c["name"].as_str().unwrap_or_default().to_string()
}

type Check = fn(&Value, &Value) -> Option<(String, String)>;

/// policy/check_capabilities_baseline.go: only the default capabilities may be added.
fn capabilities_baseline(_meta: &Value, spec: &Value) -> Option<(String, String)> {
    const ALLOWED: &[&str] = &[
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    ];
    let mut bad = Vec::new();
    let mut caps = BTreeSet::new();
    for c in containers(spec) {
        let added: Vec<&str> = c["securityContext"]["capabilities"]["add"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|a| !ALLOWED.contains(a))
            .collect();
        if !added.is_empty() {
            bad.push(cname(c));
            caps.extend(added.into_iter().map(str::to_string));
        }
    }
    (!bad.is_empty()).then(|| {
        let caps: Vec<String> = caps.into_iter().collect();
        (
            "non-default capabilities".into(),
            format!(
                "{} {} must not include {} in securityContext.capabilities.add",
                plural("container", "containers", bad.len()),
                join_quote(&bad),
                join_quote(&caps)
            ),
        )
    })
}

/// policy/check_hostNamespaces.go.
fn host_namespaces(_meta: &Value, spec: &Value) -> Option<(String, String)> {
    let set: Vec<&str> = [
        ("hostNetwork", "hostNetwork=true"),
        ("hostPID", "hostPID=true"),
        ("hostIPC", "hostIPC=true"),
    ]
    .iter()
    .filter(|(k, _)| spec[*k] == Value::Bool(true))
    .map(|(_, t)| *t)
    .collect();
    (!set.is_empty()).then(|| ("host namespaces".into(), set.join(", ")))
}

/// policy/check_hostPathVolumes.go.
fn host_path_volumes(_meta: &Value, spec: &Value) -> Option<(String, String)> {
    let bad: Vec<String> = spec["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["hostPath"].is_object())
        .map(cname)
        .collect();
    (!bad.is_empty()).then(|| {
        (
            "hostPath volumes".into(),
            format!(
                "{} {}",
                plural("volume", "volumes", bad.len()),
                join_quote(&bad)
            ),
        )
    })
}

/// policy/check_hostPorts.go (ports listed as sorted strings, as the Go set does).
fn host_ports(_meta: &Value, spec: &Value) -> Option<(String, String)> {
    let mut bad = Vec::new();
    let mut ports = BTreeSet::new();
    for c in containers(spec) {
        let used: Vec<String> = c["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["hostPort"].as_i64())
            .filter(|p| *p != 0)
            .map(|p| p.to_string())
            .collect();
        if !used.is_empty() {
            bad.push(cname(c));
            ports.extend(used);
        }
    }
    (!bad.is_empty()).then(|| {
        let ports: Vec<String> = ports.into_iter().collect();
        (
            "hostPort".into(),
            format!(
                "{} {} {} {} {}",
                plural("container", "containers", bad.len()),
                join_quote(&bad),
                plural("uses", "use", bad.len()),
                plural("hostPort", "hostPorts", ports.len()),
                ports.join(", ")
            ),
        )
    })
}

/// policy/check_privileged.go.
fn privileged(_meta: &Value, spec: &Value) -> Option<(String, String)> {
    let bad: Vec<String> = containers(spec)
        .into_iter()
        .filter(|c| c["securityContext"]["privileged"] == Value::Bool(true))
        .map(cname)
        .collect();
    (!bad.is_empty()).then(|| {
        (
            "privileged".into(),
            format!(
                "{} {} must not set securityContext.privileged=true",
                plural("container", "containers", bad.len()),
                join_quote(&bad)
            ),
        )
    })
}

fn valid_seccomp(t: &Value) -> bool {
    t == "RuntimeDefault" || t == "Localhost"
}

/// The explicit bad seccomp setters and values of a pod (shared by the baseline and
/// restricted checks), plus whether the pod level sets a valid profile.
fn seccomp_setters(spec: &Value) -> (Vec<String>, BTreeSet<String>, Vec<String>, bool) {
    let mut setters = Vec::new();
    let mut values = BTreeSet::new();
    let pod = &spec["securityContext"]["seccompProfile"];
    let mut pod_set = false;
    if pod.is_object() {
        if valid_seccomp(&pod["type"]) {
            pod_set = true;
        } else {
            setters.push("pod".to_string());
            values.insert(pod["type"].as_str().unwrap_or_default().to_string());
        }
    }
    let (mut explicit, mut implicit) = (Vec::new(), Vec::new());
    for c in containers(spec) {
        let p = &c["securityContext"]["seccompProfile"];
        if p.is_object() {
            if !valid_seccomp(&p["type"]) {
                explicit.push(cname(c));
                values.insert(p["type"].as_str().unwrap_or_default().to_string());
            }
        } else if !pod_set {
            implicit.push(cname(c));
        }
    }
    if !explicit.is_empty() {
        setters.push(format!(
            "{} {}",
            plural("container", "containers", explicit.len()),
            join_quote(&explicit)
        ));
    }
    (setters, values, implicit, pod_set)
}

fn seccomp_explicit(setters: &[String], values: &BTreeSet<String>) -> (String, String) {
    let values: Vec<&String> = values.iter().collect();
    (
        "seccompProfile".into(),
        format!(
            "{} must not set securityContext.seccompProfile.type to {}",
            setters.join(" and "),
            join_quote(&values)
        ),
    )
}

/// policy/check_seccompProfile_baseline.go (the field form; the pre-1.19 annotations are
/// not looked at).
fn seccomp_baseline(_meta: &Value, spec: &Value) -> Option<(String, String)> {
    let (setters, values, _, _) = seccomp_setters(spec);
    (!setters.is_empty()).then(|| seccomp_explicit(&setters, &values))
}

/// policy/check_allowPrivilegeEscalation.go.
fn allow_privilege_escalation(_meta: &Value, spec: &Value) -> Option<(String, String)> {
    let bad: Vec<String> = containers(spec)
        .into_iter()
        .filter(|c| c["securityContext"]["allowPrivilegeEscalation"] != Value::Bool(false))
        .map(cname)
        .collect();
    (!bad.is_empty()).then(|| {
        (
            "allowPrivilegeEscalation != false".into(),
            format!(
                "{} {} must set securityContext.allowPrivilegeEscalation=false",
                plural("container", "containers", bad.len()),
                join_quote(&bad)
            ),
        )
    })
}

/// policy/check_capabilities_restricted.go: drop ALL, add at most NET_BIND_SERVICE.
fn capabilities_restricted(_meta: &Value, spec: &Value) -> Option<(String, String)> {
    let (mut missing_drop, mut adding) = (Vec::new(), Vec::new());
    let mut caps = BTreeSet::new();
    for c in containers(spec) {
        let capabilities = &c["securityContext"]["capabilities"];
        if !capabilities.is_object() {
            missing_drop.push(cname(c));
            continue;
        }
        let list = |k: &str| -> Vec<String> {
            capabilities[k]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        };
        if !list("drop").iter().any(|d| d == "ALL") {
            missing_drop.push(cname(c));
        }
        let added: Vec<String> = list("add")
            .into_iter()
            .filter(|a| a != "NET_BIND_SERVICE")
            .collect();
        if !added.is_empty() {
            adding.push(cname(c));
            caps.extend(added);
        }
    }
    let mut details = Vec::new();
    if !missing_drop.is_empty() {
        details.push(format!(
            "{} {} must set securityContext.capabilities.drop=[\"ALL\"]",
            plural("container", "containers", missing_drop.len()),
            join_quote(&missing_drop)
        ));
    }
    if !adding.is_empty() {
        let caps: Vec<String> = caps.into_iter().collect();
        details.push(format!(
            "{} {} must not include {} in securityContext.capabilities.add",
            plural("container", "containers", adding.len()),
            join_quote(&adding),
            join_quote(&caps)
        ));
    }
    (!details.is_empty()).then(|| ("unrestricted capabilities".into(), details.join("; ")))
}

/// policy/check_restrictedVolumes.go: the allowed volume sources; any other is named by
/// its field.
fn restricted_volumes(_meta: &Value, spec: &Value) -> Option<(String, String)> {
    const ALLOWED: &[&str] = &[
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "image",
        "persistentVolumeClaim",
        "projected",
        "secret",
    ];
    const NAMED: &[&str] = &[
        "hostPath",
        "gcePersistentDisk",
        "awsElasticBlockStore",
        "gitRepo",
        "nfs",
        "iscsi",
        "glusterfs",
        "rbd",
        "flexVolume",
        "cinder",
        "cephfs",
        "flocker",
        "fc",
        "azureFile",
        "vsphereVolume",
        "quobyte",
        "azureDisk",
        "photonPersistentDisk",
        "portworxVolume",
        "scaleIO",
        "storageos",
    ];
    let mut bad = Vec::new();
    let mut types = BTreeSet::new();
    for v in spec["volumes"].as_array().into_iter().flatten() {
        if ALLOWED.iter().any(|k| !v[*k].is_null()) {
            continue;
        }
        bad.push(cname(v));
        let ty = NAMED
            .iter()
            .find(|k| !v[**k].is_null())
            .unwrap_or(&"unknown");
        types.insert(ty.to_string());
    }
    (!bad.is_empty()).then(|| {
        let types: Vec<String> = types.into_iter().collect();
        (
            "restricted volume types".into(),
            format!(
                "{} {} {} {} {}",
                plural("volume", "volumes", bad.len()),
                join_quote(&bad),
                plural("uses", "use", bad.len()),
                plural(
                    "restricted volume type",
                    "restricted volume types",
                    types.len()
                ),
                join_quote(&types)
            ),
        )
    })
}

/// policy/check_runAsNonRoot.go.
fn run_as_non_root(_meta: &Value, spec: &Value) -> Option<(String, String)> {
    let mut setters = Vec::new();
    let pod = &spec["securityContext"]["runAsNonRoot"];
    let pod_true = *pod == Value::Bool(true);
    if *pod == Value::Bool(false) {
        setters.push("pod".to_string());
    }
    let (mut explicit, mut implicit) = (Vec::new(), Vec::new());
    for c in containers(spec) {
        match &c["securityContext"]["runAsNonRoot"] {
            Value::Bool(false) => explicit.push(cname(c)),
            Value::Bool(true) => {}
            _ if !pod_true => implicit.push(cname(c)),
            _ => {}
        }
    }
    if !explicit.is_empty() {
        setters.push(format!(
            "{} {}",
            plural("container", "containers", explicit.len()),
            join_quote(&explicit)
        ));
    }
    if !setters.is_empty() {
        return Some((
            "runAsNonRoot != true".into(),
            format!(
                "{} must not set securityContext.runAsNonRoot=false",
                setters.join(" and ")
            ),
        ));
    }
    (!implicit.is_empty()).then(|| {
        (
            "runAsNonRoot != true".into(),
            format!(
                "pod or {} {} must set securityContext.runAsNonRoot=true",
                plural("container", "containers", implicit.len()),
                join_quote(&implicit)
            ),
        )
    })
}

/// policy/check_runAsUser.go: uid 0 is refused wherever it is set.
fn run_as_user(_meta: &Value, spec: &Value) -> Option<(String, String)> {
    let mut setters = Vec::new();
    if spec["securityContext"]["runAsUser"].as_i64() == Some(0) {
        setters.push("pod".to_string());
    }
    let bad: Vec<String> = containers(spec)
        .into_iter()
        .filter(|c| c["securityContext"]["runAsUser"].as_i64() == Some(0))
        .map(cname)
        .collect();
    if !bad.is_empty() {
        setters.push(format!(
            "{} {}",
            plural("container", "containers", bad.len()),
            join_quote(&bad)
        ));
    }
    (!setters.is_empty()).then(|| {
        (
            "runAsUser=0".into(),
            format!("{} must not set runAsUser=0", setters.join(" and ")),
        )
    })
}

/// policy/check_seccompProfile_restricted.go.
fn seccomp_restricted(_meta: &Value, spec: &Value) -> Option<(String, String)> {
    let (setters, values, implicit, _) = seccomp_setters(spec);
    if !setters.is_empty() {
        return Some(seccomp_explicit(&setters, &values));
    }
    (!implicit.is_empty()).then(|| {
        (
            "seccompProfile".into(),
            format!(
                "pod or {} {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                plural("container", "containers", implicit.len()),
                join_quote(&implicit)
            ),
        )
    })
}

/// The checks of a level, in the registry's order (baseline ids sorted, then restricted
/// ids sorted; a restricted check replaces its baseline twin).
fn checks(level: Level) -> Vec<Check> {
    match level {
        Level::Privileged => Vec::new(),
        Level::Baseline => vec![
            capabilities_baseline,
            host_namespaces,
            host_path_volumes,
            host_ports,
            privileged,
            seccomp_baseline,
        ],
        Level::Restricted => vec![
            host_namespaces,
            host_ports,
            privileged,
            allow_privilege_escalation,
            capabilities_restricted,
            restricted_volumes,
            run_as_non_root,
            run_as_user,
            seccomp_restricted,
        ],
    }
}

/// What `level` finds wrong with a pod (metadata, spec), as `ForbiddenDetail` prints
/// it; `None` when allowed.
pub fn evaluate(level: Level, meta: &Value, spec: &Value) -> Option<String> {
    let found: Vec<String> = checks(level)
        .into_iter()
        .filter_map(|check| check(meta, spec))
        .map(|(reason, detail)| {
            if detail.is_empty() {
                reason
            } else {
                format!("{reason} ({detail})")
            }
        })
        .collect();
    (!found.is_empty()).then(|| found.join(", "))
}

fn namespace_labels(store: &Store, ns: &str) -> Value {
    store
        .get(idx("namespaces"), "", ns)
        .map(|n| n["metadata"]["labels"].clone())
        .unwrap_or(Value::Null)
}

/// The pod template of a workload kind, if `res` is one.
fn pod_template(res: ResIdx, obj: &Value) -> Option<&Value> {
    match RESOURCES[res].plural {
        "deployments"
        | "replicasets"
        | "statefulsets"
        | "daemonsets"
        | "jobs"
        | "replicationcontrollers" => Some(&obj["spec"]["template"]),
        "cronjobs" => Some(&obj["spec"]["jobTemplate"]["spec"]["template"]),
        _ => None,
    }
}

/// Admits a create or update of `obj` (its namespace already set): an error refuses it;
/// the strings are `Warning` headers for the response. `create`: whether the object is
/// new (quota and the pod check apply to creates only; the fake never updates a pod's
/// spec).
pub fn admit(
    store: &Store,
    res: ResIdx,
    obj: &Value,
    create: bool,
) -> Result<Vec<String>, ApiError> {
    let ns = meta_str(obj, "namespace");
    if ns.is_empty() {
        return Ok(Vec::new());
    }
    let plural = RESOURCES[res].plural;
    if plural == "pods" {
        if create {
            admit_pod(store, obj)?;
        }
        return Ok(Vec::new());
    }
    if plural == "persistentvolumeclaims" && create {
        check_quota(store, res, obj)?;
        return Ok(Vec::new());
    }
    let Some(template) = pod_template(res, obj) else {
        return Ok(Vec::new());
    };
    let (_, warn) = namespace_policy(&namespace_labels(store, ns));
    let found = evaluate(warn.level, &template["metadata"], &template["spec"]);
    Ok(found
        .map(|detail| vec![format!("would violate PodSecurity \"{warn}\": {detail}")])
        .unwrap_or_default())
}

/// The checks a pod create goes through (Pod Security enforce, then quota), also used by
/// the controllers before they store a pod. The error is the API's 403.
pub fn admit_pod(store: &Store, pod: &Value) -> Result<(), ApiError> {
    let ns = meta_str(pod, "namespace");
    let name = meta_str(pod, "name");
    let (enforce, _) = namespace_policy(&namespace_labels(store, ns));
    if let Some(detail) = evaluate(enforce.level, &pod["metadata"], &pod["spec"]) {
        return Err(status::forbidden(
            "",
            "pods",
            name,
            &format!("violates PodSecurity \"{enforce}\": {detail}"),
        ));
    }
    check_quota(store, idx("pods"), pod)
}

/// A quantity as an exact count of nano-units, and whether it was written in binary SI.
fn nanos(text: &str) -> Option<(i128, bool)> {
    let canonical = crate::normalize::canonical_quantity(text)?;
    let split = canonical
        .find(|c: char| !(c.is_ascii_digit() || c == '-'))
        .unwrap_or(canonical.len());
    let (number, suffix) = canonical.split_at(split);
    let n: i128 = number.parse().ok()?;
    let (scale, binary): (i128, bool) = match suffix {
        "" => (1_000_000_000, false),
        "n" => (1, false),
        "u" => (1_000, false),
        "m" => (1_000_000, false),
        "k" => (1_000_000_000_000, false),
        "M" => (1_000_000_000_000_000, false),
        "G" => (1_000_000_000_000_000_000, false),
        "T" => (1_000_000_000_000_000_000_000, false),
        "Ki" => (1_024_000_000_000, true),
        "Mi" => (1_048_576_000_000_000, true),
        "Gi" => (1_073_741_824_000_000_000, true),
        "Ti" => (1_099_511_627_776_000_000_000, true),
        _ => return None,
    };
    Some((n.checked_mul(scale)?, binary))
}

/// A summed quantity printed back: binary SI when the values were, else decimal.
fn show(value: i128, binary: bool) -> String {
    let text = if binary && value % 1_000_000_000 == 0 {
        let bytes = value / 1_000_000_000;
        let mut n = bytes;
        let mut power = 0;
        while n != 0 && n % 1024 == 0 && power < 4 {
            n /= 1024;
            power += 1;
        }
        if bytes >= 1024 {
            return format!("{n}{}", ["", "Ki", "Mi", "Gi", "Ti"][power]);
        }
        bytes.to_string()
    } else {
        format!("{value}n")
    };
    crate::normalize::canonical_quantity(&text).unwrap_or(text)
}

/// Usage of one object by quota resource name (value in nano-units, binary flag).
type Usage = BTreeMap<String, (i128, bool)>;

fn add(usage: &mut Usage, key: &str, (v, binary): (i128, bool)) {
    let e = usage.entry(key.to_string()).or_insert((0, binary));
    e.0 += v;
    e.1 |= binary;
}

fn one() -> (i128, bool) {
    (1_000_000_000, false)
}

/// The pod evaluator's usage: per resource, the larger of the containers' sum and the
/// largest init container (`PodUsageFunc`).
fn pod_usage(pod: &Value) -> Usage {
    let mut usage = Usage::new();
    add(&mut usage, "pods", one());
    add(&mut usage, "count/pods", one());
    for (kind, key) in [
        ("requests", "cpu"),
        ("requests", "memory"),
        ("limits", "cpu"),
        ("limits", "memory"),
    ] {
        let of = |c: &Value| {
            c["resources"][kind][key]
                .as_str()
                .map(str::to_string)
                .or_else(|| c["resources"][kind][key].as_i64().map(|n| n.to_string()))
                .and_then(|t| nanos(&t))
        };
        let list = |k: &str| -> Vec<(i128, bool)> {
            pod["spec"][k]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(of)
                .collect()
        };
        let sum = list("containers")
            .into_iter()
            .fold((0, false), |a, b| (a.0 + b.0, a.1 | b.1));
        let init = list("initContainers")
            .into_iter()
            .fold((0, false), |a, b| if b.0 > a.0 { b } else { a });
        let total = if init.0 > sum.0 { init } else { sum };
        if total.0 != 0 {
            add(&mut usage, &format!("{kind}.{key}"), total);
            if kind == "requests" {
                add(&mut usage, key, total);
            }
        }
    }
    usage
}

fn claim_usage(claim: &Value) -> Usage {
    let mut usage = Usage::new();
    add(&mut usage, "persistentvolumeclaims", one());
    add(&mut usage, "count/persistentvolumeclaims", one());
    let class = claim["spec"]["storageClassName"]
        .as_str()
        .unwrap_or_default();
    if !class.is_empty() {
        add(
            &mut usage,
            &format!("{class}.storageclass.storage.k8s.io/persistentvolumeclaims"),
            one(),
        );
    }
    if let Some(size) = claim["spec"]["resources"]["requests"]["storage"]
        .as_str()
        .and_then(nanos)
    {
        add(&mut usage, "requests.storage", size);
        if !class.is_empty() {
            add(
                &mut usage,
                &format!("{class}.storageclass.storage.k8s.io/requests.storage"),
                size,
            );
        }
    }
    usage
}

fn terminal(pod: &Value) -> bool {
    let phase = &pod["status"]["phase"];
    phase == "Succeeded" || phase == "Failed"
}

fn pretty(usage: &Usage) -> String {
    usage
        .iter()
        .map(|(k, (v, b))| format!("{k}={}", show(*v, *b)))
        .collect::<Vec<_>>()
        .join(",")
}

/// ResourceQuota admission of a new pod or claim in its namespace.
fn check_quota(store: &Store, res: ResIdx, obj: &Value) -> Result<(), ApiError> {
    let ns = meta_str(obj, "namespace");
    let plural = RESOURCES[res].plural;
    let name = meta_str(obj, "name");
    let quotas: Vec<_> = store
        .iter(idx("resourcequotas"), Some(ns), None)
        .cloned()
        .collect();
    if quotas.is_empty() {
        return Ok(());
    }
    let pods = plural == "pods";
    let usage_of = |o: &Value| if pods { pod_usage(o) } else { claim_usage(o) };
    let requested_all = usage_of(obj);
    let mut used_all = Usage::new();
    for other in store.iter(res, Some(ns), None) {
        if pods && terminal(other) {
            continue;
        }
        for (k, v) in usage_of(other) {
            add(&mut used_all, &k, v);
        }
    }
    for quota in &quotas {
        let qname = meta_str(quota, "name");
        let hard: Usage = quota["spec"]["hard"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| {
                let text = v
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string());
                Some((k.clone(), nanos(&text)?))
            })
            .collect();
        if pods {
            // Constraints: a tracked compute resource must be set on every container.
            let mut missing = Vec::new();
            for key in [
                "limits.cpu",
                "limits.memory",
                "requests.cpu",
                "requests.memory",
            ] {
                let short = key.strip_prefix("requests.").unwrap_or("");
                if !hard.contains_key(key) && (short.is_empty() || !hard.contains_key(short)) {
                    continue;
                }
                let (kind, res_name) = key.split_once('.').unwrap_or_default();
                let lacking: Vec<String> = containers(&obj["spec"])
                    .into_iter()
                    .filter(|c| c["resources"][kind][res_name].is_null())
                    .map(cname)
                    .collect();
                if !lacking.is_empty() {
                    missing.push(format!("{key} for: {}", lacking.join(",")));
                }
            }
            if !missing.is_empty() {
                return Err(status::forbidden(
                    "",
                    plural,
                    name,
                    &format!("failed quota: {qname}: must specify {}", missing.join("; ")),
                ));
            }
        }
        let mut requested = Usage::new();
        let mut used = Usage::new();
        let mut limited = Usage::new();
        for (k, h) in &hard {
            let Some(r) = requested_all.get(k) else {
                continue;
            };
            if r.0 == 0 {
                continue;
            }
            let u = used_all.get(k).copied().unwrap_or((0, r.1 || h.1));
            if u.0 + r.0 > h.0 {
                requested.insert(k.clone(), *r);
                used.insert(k.clone(), (u.0, u.1 || r.1));
                limited.insert(k.clone(), *h);
            }
        }
        if !requested.is_empty() {
            return Err(status::forbidden(
                "",
                plural,
                name,
                &format!(
                    "exceeded quota: {qname}, requested: {}, used: {}, limited: {}",
                    pretty(&requested),
                    pretty(&used),
                    pretty(&limited)
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn policy_defaults_warn_to_a_stricter_enforce() {
        let (e, w) = namespace_policy(&json!({"pod-security.kubernetes.io/enforce": "restricted"}));
        assert_eq!(e.to_string(), "restricted:latest");
        assert_eq!(w, e);
        let (e, w) = namespace_policy(&json!({
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/warn-version": "v1.32",
        }));
        assert_eq!(e.level, Level::Baseline);
        assert_eq!(w.to_string(), "restricted:v1.32");
        let (e, w) = namespace_policy(&Value::Null);
        assert_eq!((e.level, w.level), (Level::Privileged, Level::Privileged));
    }

    #[test]
    fn restricted_names_each_rule_in_the_registry_order() {
        let good_sc = json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]},
                             "runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}});
        let spec = json!({"containers": [{"name": "gateway", "securityContext": good_sc}],
                          "volumes": [{"name": "nas", "nfs": {"server": "s", "path": "/"}}]});
        assert_eq!(
            evaluate(Level::Restricted, &json!({}), &spec).as_deref(),
            Some("restricted volume types (volume \"nas\" uses restricted volume type \"nfs\")")
        );
        assert_eq!(evaluate(Level::Baseline, &json!({}), &spec), None);
        let spec = json!({"hostNetwork": true, "containers": [
            {"name": "a", "ports": [{"containerPort": 80, "hostPort": 80}],
             "securityContext": {"privileged": true, "capabilities": {"add": ["NET_ADMIN"]}}}]});
        assert_eq!(
            evaluate(Level::Baseline, &json!({}), &spec).as_deref(),
            Some(
                "non-default capabilities (container \"a\" must not include \"NET_ADMIN\" in securityContext.capabilities.add), \
                 host namespaces (hostNetwork=true), hostPort (container \"a\" uses hostPort 80), \
                 privileged (container \"a\" must not set securityContext.privileged=true)"
            )
        );
        let restricted = evaluate(Level::Restricted, &json!({}), &spec).unwrap_or_default();
        assert!(
            restricted.starts_with("host namespaces (hostNetwork=true), hostPort"),
            "{restricted}"
        );
        assert!(restricted.contains("allowPrivilegeEscalation != false (container \"a\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \"a\" must set securityContext.capabilities.drop=[\"ALL\"]; container \"a\" must not include \"NET_ADMIN\" in securityContext.capabilities.add)"), "{restricted}");
        assert!(restricted.ends_with("seccompProfile (pod or container \"a\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"), "{restricted}");
    }

    #[test]
    fn quantities_sum_and_print() {
        let (a, b) = (nanos("1536Mi").unwrap(), nanos("512Mi").unwrap());
        assert_eq!(show(a.0 + b.0, true), "2Gi");
        assert_eq!(show(nanos("250m").unwrap().0 * 4, false), "1");
        assert_eq!(show(nanos("250m").unwrap().0 * 3, false), "750m");
    }
}
