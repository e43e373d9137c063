//! The agent's pod beyond the gateway: sidecar containers, extra volumes (an existing
//! claim, NFS, a Secret, a ConfigMap) and where the pod may run (`scheduling`).
//! Mount paths are checked against OpenClaw's own (`openclaw::mount_conflict`), names
//! against the pod's own volumes and containers.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::cx::At;
use super::cx::{Cx, check_selector};
use super::resources;
use crate::diag::FieldPath;
use crate::fleet::model::{
    LabelOperator, LabelSelector, NodeOperator, NodeSelectorTerm, PodAffinityTerm, ResourceList,
    Scheduling, Settings, SidecarPort, TaintEffect, TolerationOperator, Volume, VolumeMount,
};
use crate::fleet::{guardrails, rules};
use crate::names;
use crate::openclaw;

/// The pod shape of one agent, checked.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ResolvedPod {
    /// By name (the order containers take after the gateway).
    pub sidecars: Vec<ResolvedSidecar>,
    /// Extra volumes by name, each mounted into the gateway at its `mountPath`.
    pub volumes: BTreeMap<String, Volume>,
    pub scheduling: Scheduling,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ResolvedSidecar {
    pub name: String,
    pub image: String,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub env: BTreeMap<String, String>,
    pub ports: Vec<SidecarPort>,
    pub requests: ResourceList,
    pub limits: ResourceList,
    /// Mounts of extra volumes, `readOnly` decided.
    pub mounts: Vec<VolumeMount>,
    pub read_only_root: bool,
}

/// Volume names are DNS labels; a sidecar's scratch volume is `tmp-<sidecar>`.
const MAX_SIDECAR_NAME: usize = 59;

pub(super) fn resolve(cx: &mut Cx, at: At, settings: &Settings) -> ResolvedPod {
    // A layer removes an entry from below with `NAME: null`.
    let sidecar_names: Vec<&str> = settings
        .sidecars
        .iter()
        .flatten()
        .filter(|(_, s)| s.is_some())
        .map(|(n, _)| n.as_str())
        .collect();
    let volumes: BTreeMap<String, Volume> = settings
        .volumes
        .iter()
        .flatten()
        .filter_map(|(n, v)| Some((n.clone(), v.clone()?)))
        .collect();
    check_volumes(cx, at, &volumes, &sidecar_names);
    let sidecars = sidecars(cx, at, settings, &volumes);
    let scheduling = settings.scheduling.clone().unwrap_or_default();
    check_scheduling(cx, at, &scheduling);
    ResolvedPod {
        sidecars,
        volumes,
        scheduling,
    }
}

fn volume_path(name: &str) -> FieldPath {
    FieldPath::root().key("volumes").key(name)
}

fn sidecar_path(name: &str) -> FieldPath {
    FieldPath::root().key("sidecars").key(name)
}

fn check_volumes(cx: &mut Cx, at: At, volumes: &BTreeMap<String, Volume>, sidecars: &[&str]) {
    // Built once per fleet (Cx): per agent it made validation quadratic, 70 s of the
    // 10,000-agent bench_render.
    let objects = Arc::clone(&cx.agent_objects);
    // An agent made on request is not in the file: none of these objects are its own.
    let me = match at.self_service {
        true => String::new(),
        false => cx.loaded.fleet.spec.agents[at.agent].name.clone(),
    };
    let mut paths: HashMap<&str, &str> = HashMap::new();
    for (name, volume) in volumes {
        let path = |cx: &Cx| at.src_path(cx, &volume_path(name));
        if let Err(e) = rules::dns_label(name, 63) {
            cx.error(&path(cx), e);
        } else if openclaw::POD_VOLUMES.contains(&name.as_str())
            || sidecars
                .iter()
                .any(|s| openclaw::sidecar_tmp_volume(s) == *name)
        {
            cx.error(
                &path(cx),
                format!("volume name {name:?} is taken by clawctl's own volumes ({}, tmp-SIDECAR); choose another", openclaw::POD_VOLUMES.join(", ")),
            );
        }
        let mount = volume.mount_path.as_str();
        let mount_at = |cx: &Cx| path(cx).key("mountPath");
        match rules::mount_path(mount) {
            Err(e) => cx.error(&mount_at(cx), e),
            Ok(()) => {
                if let Some(conflict) = openclaw::mount_conflict(mount) {
                    cx.error(&mount_at(cx), format!("{conflict}; mount it elsewhere"));
                } else if let Some(other) = paths.insert(mount, name) {
                    cx.error(
                        &mount_at(cx),
                        format!("{mount} is already where volume {other:?} is mounted"),
                    );
                }
            }
        }
        let sources = [
            volume.persistent_volume_claim.is_some(),
            volume.nfs.is_some(),
            volume.secret.is_some(),
            volume.config_map.is_some(),
        ];
        if sources.iter().filter(|s| **s).count() != 1 {
            cx.error(
                &path(cx),
                "set exactly one of `persistentVolumeClaim`, `nfs`, `secret` and `configMap`",
            );
        }
        if let Some(claim) = &volume.persistent_volume_claim {
            let at_claim = |cx: &Cx| path(cx).key("persistentVolumeClaim").key("claimName");
            cx.check_at(at_claim, rules::dns_subdomain(&claim.claim_name));
            // An agent's state volume is its memory: no other agent (nor a second
            // mount of its own) may open it.
            if let Some((owner, _)) = objects
                .get(&claim.claim_name)
                .filter(|(owner, _)| names::resource_name(owner) == claim.claim_name)
            {
                cx.error(
                    &at_claim(cx),
                    format!(
                        "{:?} is agent {owner:?}'s own state volume; it cannot be mounted as an extra volume",
                        claim.claim_name
                    ),
                );
            } else {
                cx.check_at(
                    at_claim,
                    guardrails::foreign_object(&me, &claim.claim_name, &objects),
                );
            }
        }
        if let Some(nfs) = &volume.nfs {
            // Every team namespace enforces Pod Security `restricted` (DESIGN §3), whose
            // volume check (pod-security-admission policy/check_restrictedVolumes.go)
            // refuses an inline `nfs` source: the ReplicaSet controller's pod creates
            // would all be refused. A claim bound to an NFS PersistentVolume is allowed.
            cx.error(
                &path(cx).key("nfs"),
                "an `nfs` volume is refused by Pod Security level \"restricted\", which every team \
                 namespace enforces (restricted volume types allow configMap, csi, downwardAPI, \
                 emptyDir, ephemeral, persistentVolumeClaim, projected and secret): have the share \
                 mounted through an NFS PersistentVolume bound to a claim, and mount the claim with \
                 `persistentVolumeClaim`",
            );
            if nfs.server.trim().is_empty() || nfs.server.contains(char::is_whitespace) {
                cx.error(
                    &path(cx).key("nfs").key("server"),
                    format!("{:?} is not a host name or IP address", nfs.server),
                );
            }
            if !nfs.path.starts_with('/') {
                cx.error(
                    &path(cx).key("nfs").key("path"),
                    format!("{:?} is not an absolute path on the server", nfs.path),
                );
            }
        }
        let files = match (&volume.secret, &volume.config_map) {
            (Some(s), _) => {
                let at_name = |cx: &Cx| path(cx).key("secret").key("secretName");
                cx.check_at(
                    at_name,
                    rules::dns_subdomain(&s.secret_name)
                        .and_then(|()| guardrails::foreign_object(&me, &s.secret_name, &objects)),
                );
                Some(("secret", &s.items))
            }
            (None, Some(c)) => {
                let at_name = |cx: &Cx| path(cx).key("configMap").key("name");
                cx.check_at(
                    at_name,
                    rules::dns_subdomain(&c.name)
                        .and_then(|()| guardrails::foreign_object(&me, &c.name, &objects)),
                );
                Some(("configMap", &c.items))
            }
            (None, None) => None,
        };
        if let Some((kind, items)) = files {
            if volume.read_only == Some(false) {
                cx.error(
                    &path(cx).key("readOnly"),
                    format!("a {kind} volume is always read-only; remove `readOnly: false`"),
                );
            }
            let mut seen = HashMap::new();
            for (j, item) in items.iter().flatten().enumerate() {
                let item_at = |cx: &Cx| path(cx).key(kind).key("items").index(j);
                cx.check_at(|cx| item_at(cx).key("key"), rules::data_key(&item.key));
                cx.check_at(|cx| item_at(cx).key("path"), rules::item_path(&item.path));
                if let Some(first) = seen.insert(item.path.as_str(), j) {
                    cx.error(
                        &item_at(cx).key("path"),
                        format!("{:?} is also the path of items[{first}]", item.path),
                    );
                }
            }
        }
    }
}

fn sidecars(
    cx: &mut Cx,
    at: At,
    settings: &Settings,
    volumes: &BTreeMap<String, Volume>,
) -> Vec<ResolvedSidecar> {
    let allow_floating = cx.loaded.fleet.spec.policy.allow_floating_tags;
    let volume_names: Vec<&str> = volumes.keys().map(String::as_str).collect();
    let mut ports: HashMap<u16, String> = HashMap::new();
    let mut port_names: HashMap<String, String> = HashMap::new();
    port_names.insert("gateway".to_string(), "gateway".to_string());
    let mut out = Vec::new();
    let present = settings
        .sidecars
        .iter()
        .flatten()
        .filter_map(|(n, s)| Some((n, s.as_ref()?)));
    for (name, sidecar) in present {
        let path = |cx: &Cx| at.src_path(cx, &sidecar_path(name));
        if let Err(e) = rules::dns_label(name, MAX_SIDECAR_NAME) {
            cx.error(&path(cx), e);
        } else if openclaw::POD_CONTAINERS.contains(&name.as_str()) {
            cx.error(
                &path(cx),
                format!(
                    "container name {name:?} is taken by clawctl's own containers ({}); choose another",
                    openclaw::POD_CONTAINERS.join(", ")
                ),
            );
        }
        let image = |cx: &Cx| path(cx).key("image");
        if !allow_floating {
            cx.check_at(image, rules::image_pin(&sidecar.image));
        } else if sidecar.image.trim().is_empty() {
            cx.error(&image(cx), "the image is empty");
        }
        let env = sidecar.env.clone().unwrap_or_default();
        for var in env.keys() {
            cx.check_at(
                |cx| path(cx).key("env").key(var.as_str()),
                rules::env_name(var),
            );
        }
        let sidecar_ports = sidecar.ports.clone().unwrap_or_default();
        for (j, port) in sidecar_ports.iter().enumerate() {
            let port_at = |cx: &Cx| path(cx).key("ports").index(j);
            let number = port.container_port;
            if number == 0 {
                cx.error(
                    &port_at(cx).key("containerPort"),
                    "ports must be from 1 to 65535",
                );
            } else if number == openclaw::GATEWAY_PORT {
                cx.error(
                    &port_at(cx).key("containerPort"),
                    format!("port {number} is the gateway's; containers of a pod share its ports"),
                );
            } else if let Some(other) = ports.insert(number, name.clone()) {
                cx.error(
                    &port_at(cx).key("containerPort"),
                    format!("port {number} is already taken by sidecar {other:?}; containers of a pod share its ports"),
                );
            }
            if let Some(port_name) = &port.name {
                if let Err(e) = rules::port_name(port_name) {
                    cx.error(&port_at(cx).key("name"), e);
                } else if let Some(other) = port_names.insert(port_name.clone(), name.clone()) {
                    cx.error(
                        &port_at(cx).key("name"),
                        format!(
                            "port name {port_name:?} is already used by the {other:?} container"
                        ),
                    );
                }
            }
        }
        let rel = format!("sidecars.{name}.resources");
        let res = resources::sidecar(cx, at, &rel, sidecar.resources.as_ref());

        let mut mounts = Vec::new();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (j, mount) in sidecar.volume_mounts.iter().flatten().enumerate() {
            let mount_at = |cx: &Cx| path(cx).key("volumeMounts").index(j);
            let Some(volume) = volumes.get(&mount.name) else {
                let hint = crate::diag::did_you_mean(&mount.name, &volume_names)
                    .map(|s| format!(" (did you mean {s:?}?)"))
                    .unwrap_or_else(|| {
                        if volume_names.is_empty() {
                            "; declare it under `volumes`".to_string()
                        } else {
                            format!("; volumes are: {}", volume_names.join(", "))
                        }
                    });
                cx.error(
                    &mount_at(cx).key("name"),
                    format!("no volume named {:?}{hint}", mount.name),
                );
                continue;
            };
            match rules::mount_path(&mount.mount_path) {
                Err(e) => cx.error(&mount_at(cx).key("mountPath"), e),
                Ok(())
                    if mount.mount_path == "/"
                        || mount.mount_path == openclaw::TMP_DIR
                        || mount
                            .mount_path
                            .starts_with(&format!("{}/", openclaw::TMP_DIR)) =>
                {
                    cx.error(
                        &mount_at(cx).key("mountPath"),
                        format!(
                            "{} would cover the sidecar's own scratch space {}; mount it elsewhere",
                            mount.mount_path,
                            openclaw::TMP_DIR
                        ),
                    );
                }
                Ok(()) => {
                    if let Some(first) = seen.insert(mount.mount_path.as_str(), j) {
                        cx.error(
                            &mount_at(cx).key("mountPath"),
                            format!(
                                "{} is also where volumeMounts[{first}] is mounted",
                                mount.mount_path
                            ),
                        );
                    }
                }
            }
            let files = volume.secret.is_some() || volume.config_map.is_some();
            if files && mount.read_only == Some(false) {
                cx.error(
                    &mount_at(cx).key("readOnly"),
                    "a Secret or ConfigMap volume is always read-only; remove `readOnly: false`",
                );
            }
            mounts.push(VolumeMount {
                name: mount.name.clone(),
                mount_path: mount.mount_path.clone(),
                read_only: Some(files || mount.read_only.or(volume.read_only).unwrap_or(false)),
            });
        }

        let writable = sidecar.read_only_root_filesystem == Some(false);
        let reason = sidecar
            .writable_root_reason
            .as_deref()
            .is_some_and(|r| !r.trim().is_empty());
        if writable && !reason {
            cx.error(
                &path(cx).key("readOnlyRootFilesystem"),
                "a writable root filesystem needs a reason: say why in `writableRootReason`",
            );
        }
        if !writable && sidecar.writable_root_reason.is_some() {
            cx.error(
                &path(cx).key("writableRootReason"),
                "`writableRootReason` only goes with `readOnlyRootFilesystem: false`",
            );
        }
        out.push(ResolvedSidecar {
            name: name.clone(),
            image: sidecar.image.clone(),
            command: sidecar.command.clone(),
            args: sidecar.args.clone(),
            env,
            ports: sidecar_ports,
            requests: res.requests,
            limits: res.limits,
            mounts,
            read_only_root: !writable,
        });
    }
    out
}

fn check_scheduling(cx: &mut Cx, at: At, scheduling: &Scheduling) {
    let base = FieldPath::root().key("scheduling");
    if let Some(selector) = &scheduling.node_selector {
        let sel = base.key("nodeSelector");
        for (k, v) in selector {
            cx.check_at(
                |cx| at.src_path(cx, &sel.key(k.as_str())),
                rules::label_key(k).and(rules::label_value(v)),
            );
        }
    }
    for (j, t) in scheduling.tolerations.iter().flatten().enumerate() {
        let t_at = |cx: &Cx| at.src_path(cx, &base.key("tolerations").index(j));
        let exists = t.operator == Some(TolerationOperator::Exists);
        let key = t.key.as_deref().unwrap_or("");
        if key.is_empty() && !exists {
            cx.error(
                &t_at(cx),
                "a toleration without a `key` must have `operator: Exists` (it tolerates every taint)",
            );
        }
        if !key.is_empty() {
            cx.check_at(|cx| t_at(cx).key("key"), rules::label_key(key));
        }
        if exists && t.value.as_deref().is_some_and(|v| !v.is_empty()) {
            cx.error(
                &t_at(cx).key("value"),
                "`operator: Exists` matches any value; remove `value`",
            );
        }
        if t.toleration_seconds.is_some() && t.effect != Some(TaintEffect::NoExecute) {
            cx.error(
                &t_at(cx).key("tolerationSeconds"),
                "`tolerationSeconds` only applies to `effect: NoExecute`",
            );
        }
    }
    if let Some(affinity) = &scheduling.affinity {
        let aff = base.key("affinity");
        if let Some(node) = &affinity.node_affinity {
            let na = aff.key("nodeAffinity");
            if let Some(required) = &node.required {
                let req = na
                    .key("requiredDuringSchedulingIgnoredDuringExecution")
                    .key("nodeSelectorTerms");
                if required.node_selector_terms.is_empty() {
                    cx.error(
                        &at.src_path(cx, &req),
                        "needs at least one term (a node must match one of them)",
                    );
                }
                for (j, term) in required.node_selector_terms.iter().enumerate() {
                    node_term(cx, at, &req.index(j), term);
                }
            }
            for (j, pref) in node.preferred.iter().flatten().enumerate() {
                let p = na
                    .key("preferredDuringSchedulingIgnoredDuringExecution")
                    .index(j);
                weight(cx, at, &p, pref.weight);
                node_term(cx, at, &p.key("preference"), &pref.preference);
            }
        }
        for (field, pod) in [
            ("podAffinity", &affinity.pod_affinity),
            ("podAntiAffinity", &affinity.pod_anti_affinity),
        ] {
            let Some(pod) = pod else { continue };
            let pa = aff.key(field);
            for (j, term) in pod.required.iter().flatten().enumerate() {
                let p = pa
                    .key("requiredDuringSchedulingIgnoredDuringExecution")
                    .index(j);
                pod_term(cx, at, &p, term);
            }
            for (j, pref) in pod.preferred.iter().flatten().enumerate() {
                let p = pa
                    .key("preferredDuringSchedulingIgnoredDuringExecution")
                    .index(j);
                weight(cx, at, &p, pref.weight);
                pod_term(cx, at, &p.key("podAffinityTerm"), &pref.pod_affinity_term);
            }
        }
    }
    if let Some(class) = &scheduling.priority_class_name {
        let p = |cx: &Cx| at.src_path(cx, &base.key("priorityClassName"));
        cx.check_at(p, rules::dns_subdomain(class));
        if class.starts_with("system-") {
            cx.error(
                &p(cx),
                format!("{class:?}: the system- priority classes are kept for kube-system; use a PriorityClass of your own"),
            );
        }
    }
    if let Some(class) = &scheduling.runtime_class_name {
        cx.check_at(
            |cx| at.src_path(cx, &base.key("runtimeClassName")),
            rules::dns_subdomain(class),
        );
    }
}

fn weight(cx: &mut Cx, at: At, rel: &FieldPath, weight: i32) {
    if !(1..=100).contains(&weight) {
        cx.error(
            &at.src_path(cx, &rel.key("weight")),
            format!("weight {weight} must be from 1 to 100"),
        );
    }
}

fn node_term(cx: &mut Cx, at: At, rel: &FieldPath, term: &NodeSelectorTerm) {
    for (field, reqs) in [
        ("matchExpressions", &term.match_expressions),
        ("matchFields", &term.match_fields),
    ] {
        for (j, r) in reqs.iter().flatten().enumerate() {
            let p = rel.key(field).index(j);
            if field == "matchExpressions" {
                cx.check_at(
                    |cx| at.src_path(cx, &p.key("key")),
                    rules::label_key(&r.key),
                );
            }
            let values = r.values.as_deref().unwrap_or_default();
            let problem = match r.operator {
                NodeOperator::In | NodeOperator::NotIn if values.is_empty() => {
                    Some("`In` and `NotIn` need at least one value")
                }
                NodeOperator::Exists | NodeOperator::DoesNotExist if !values.is_empty() => {
                    Some("`Exists` and `DoesNotExist` take no values")
                }
                NodeOperator::Gt | NodeOperator::Lt
                    if values.len() != 1 || values[0].parse::<i64>().is_err() =>
                {
                    Some("`Gt` and `Lt` take exactly one integer value")
                }
                _ => None,
            };
            if let Some(problem) = problem {
                cx.error(&at.src_path(cx, &p.key("operator")), problem);
            }
            for (k, v) in values.iter().enumerate() {
                cx.check_at(
                    |cx| at.src_path(cx, &p.key("values").index(k)),
                    rules::label_value(v),
                );
            }
        }
    }
}

fn pod_term(cx: &mut Cx, at: At, rel: &FieldPath, term: &PodAffinityTerm) {
    cx.check_at(
        |cx| at.src_path(cx, &rel.key("topologyKey")),
        rules::label_key(&term.topology_key),
    );
    for (j, ns) in term.namespaces.iter().flatten().enumerate() {
        cx.check_at(
            |cx| at.src_path(cx, &rel.key("namespaces").index(j)),
            rules::dns_label(ns, 63),
        );
    }
    if let Some(selector) = &term.label_selector {
        label_selector(cx, at, &rel.key("labelSelector"), selector);
    }
}

fn label_selector(cx: &mut Cx, at: At, rel: &FieldPath, selector: &LabelSelector) {
    if let Some(labels) = &selector.match_labels {
        let p = rel.key("matchLabels");
        check_selector(cx, labels, &|cx| at.src_path(cx, &p));
    }
    for (j, r) in selector.match_expressions.iter().flatten().enumerate() {
        let p = rel.key("matchExpressions").index(j);
        cx.check_at(
            |cx| at.src_path(cx, &p.key("key")),
            rules::label_key(&r.key),
        );
        let values = r.values.as_deref().unwrap_or_default();
        let problem = match r.operator {
            LabelOperator::In | LabelOperator::NotIn if values.is_empty() => {
                Some("`In` and `NotIn` need at least one value")
            }
            LabelOperator::Exists | LabelOperator::DoesNotExist if !values.is_empty() => {
                Some("`Exists` and `DoesNotExist` take no values")
            }
            _ => None,
        };
        if let Some(problem) = problem {
            cx.error(&at.src_path(cx, &p.key("operator")), problem);
        }
    }
}
