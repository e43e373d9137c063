//! The pod's parts of an agent's context, each a Kubernetes fragment placed whole by the
//! Deployment and NetworkPolicy templates: volumes and mounts, sidecars, scheduling,
//! network rules, the API token, cloud-identity labels, the knowledge sync containers.

use std::collections::BTreeMap;

use minijinja::Value;
use serde_json::{Value as Json, json};

use super::shared::{AgentShared, ingress, map, restricted_security, str_map, to_value};
use crate::fleet::model::KnowledgeMode;
use crate::fleet::{ResolvedAgent, ResolvedFleet};
use crate::knowledge::{self, Direction};
use crate::names::{
    AZURE_SKIP_ANNOTATION, AZURE_USE_LABEL, EKS_SKIP_ANNOTATION, HOSTED_AGENT_LABEL,
};
use crate::openclaw::{self, GATEWAY_PORT, STATE_DIR};

/// A multi-agent gateway's per-agent workspace volumes: the claims, their pod volumes,
/// and where the init container and the gateway mount them.
pub(super) struct Workspaces {
    pub claims: Json,
    pub mounts: Json,
    pub volumes: Json,
}

pub(super) fn workspaces(agent: &ResolvedAgent, labels: &BTreeMap<String, String>) -> Workspaces {
    let mut claims = Vec::new();
    let mut mounts = Vec::new();
    let mut volumes = Vec::new();
    for h in &agent.hosted {
        let claim = crate::names::workspace_claim(&agent.name, &h.name);
        let volume = openclaw::workspace_volume(&h.name);
        let mut claim_labels = labels.clone();
        claim_labels.insert(HOSTED_AGENT_LABEL.to_string(), h.name.clone());
        claims.push(json!({
            "name": claim,
            "labels": claim_labels,
            "size": h.storage_size.as_str(),
            "className": h.storage_class,
        }));
        mounts.push(mount(&volume, &openclaw::workspace_dir(&h.name), false));
        volumes.push(json!({"name": volume, "persistentVolumeClaim": {"claimName": claim}}));
    }
    Workspaces {
        claims: Json::Array(claims),
        mounts: Json::Array(mounts),
        volumes: Json::Array(volumes),
    }
}

/// The extra volumes' mounts in the gateway container, by volume name.
pub(super) fn gateway_mounts(agent: &ResolvedAgent) -> Json {
    let mounts: Vec<Json> = agent
        .pod
        .volumes
        .iter()
        .map(|(name, v)| {
            let files = v.secret.is_some() || v.config_map.is_some();
            mount(name, &v.mount_path, files || v.read_only.unwrap_or(false))
        })
        .collect();
    Json::Array(mounts)
}

/// A volume mount. `readOnly` only when true: `VolumeMount.ReadOnly` is a plain `bool`
/// with `omitempty`, so the API server stores `false` as no field at all, and a rendered
/// `false` would differ from the live object at every apply.
pub(super) fn mount(name: &str, path: &str, read_only: bool) -> Json {
    let mut mount = json!({"name": name, "mountPath": path});
    if read_only {
        mount["readOnly"] = json!(true);
    }
    mount
}

/// Secrets are mounted owner-read only: an SSH client refuses a key others may read.
const SECRET_MODE: u32 = 0o400;

/// The extra volumes, then each sidecar's scratch space.
pub(super) fn extra_volumes(agent: &ResolvedAgent) -> Json {
    let items = |items: &Option<Vec<crate::fleet::model::KeyToPath>>| {
        items.as_ref().map(|items| {
            items
                .iter()
                .map(|i| json!({"key": i.key, "path": i.path}))
                .collect::<Vec<_>>()
        })
    };
    let mut out: Vec<Json> = Vec::new();
    for (name, v) in &agent.pod.volumes {
        let read_only = v.read_only.unwrap_or(false);
        let mut volume = serde_json::Map::new();
        volume.insert("name".into(), json!(name));
        if let Some(claim) = &v.persistent_volume_claim {
            let mut source = json!({"claimName": claim.claim_name});
            if read_only {
                source["readOnly"] = json!(true);
            }
            volume.insert("persistentVolumeClaim".into(), source);
        } else if let Some(nfs) = &v.nfs {
            let mut source = json!({"server": nfs.server, "path": nfs.path});
            if read_only {
                source["readOnly"] = json!(true);
            }
            volume.insert("nfs".into(), source);
        } else if let Some(secret) = &v.secret {
            let mut source = json!({"secretName": secret.secret_name, "defaultMode": SECRET_MODE});
            if let Some(items) = items(&secret.items) {
                source["items"] = json!(items);
            }
            if let Some(optional) = secret.optional {
                source["optional"] = json!(optional);
            }
            volume.insert("secret".into(), source);
        } else if let Some(cm) = &v.config_map {
            let mut source = json!({"name": cm.name});
            if let Some(items) = items(&cm.items) {
                source["items"] = json!(items);
            }
            if let Some(optional) = cm.optional {
                source["optional"] = json!(optional);
            }
            volume.insert("configMap".into(), source);
        }
        out.push(Json::Object(volume));
    }
    for sidecar in &agent.pod.sidecars {
        out.push(json!({"name": openclaw::sidecar_tmp_volume(&sidecar.name), "emptyDir": {}}));
    }
    Json::Array(out)
}

/// Sidecar containers: the gateway's restricted security context (the root
/// filesystem writable only where the fleet gave a reason), a scratch `/tmp` of their
/// own, and the extra volumes they asked for.
pub(super) fn sidecars(agent: &ResolvedAgent) -> Json {
    let quantities = |l: &crate::fleet::model::ResourceList| {
        json!({
            "cpu": l.cpu.as_ref().map(|q| q.as_str()),
            "memory": l.memory.as_ref().map(|q| q.as_str()),
        })
    };
    let containers: Vec<Json> = agent
        .pod
        .sidecars
        .iter()
        .map(|s| {
            let mut c = serde_json::Map::new();
            c.insert("name".into(), json!(s.name));
            c.insert("image".into(), json!(s.image));
            if let Some(command) = &s.command {
                c.insert("command".into(), json!(command));
            }
            if let Some(args) = &s.args {
                c.insert("args".into(), json!(args));
            }
            if !s.ports.is_empty() {
                let ports: Vec<Json> = s
                    .ports
                    .iter()
                    .map(|p| {
                        let mut port =
                            json!({"containerPort": p.container_port, "protocol": "TCP"});
                        if let Some(name) = &p.name {
                            port["name"] = json!(name);
                        }
                        port
                    })
                    .collect();
                c.insert("ports".into(), json!(ports));
            }
            if !s.env.is_empty() {
                let env: Vec<Json> = s
                    .env
                    .iter()
                    .map(|(k, v)| json!({"name": k, "value": v}))
                    .collect();
                c.insert("env".into(), json!(env));
            }
            c.insert(
                "resources".into(),
                json!({"requests": quantities(&s.requests), "limits": quantities(&s.limits)}),
            );
            c.insert(
                "securityContext".into(),
                json!({
                    "allowPrivilegeEscalation": false,
                    "readOnlyRootFilesystem": s.read_only_root,
                    "runAsNonRoot": true,
                    "capabilities": {"drop": ["ALL"]},
                    "seccompProfile": {"type": "RuntimeDefault"},
                }),
            );
            let mut mounts = vec![json!({
                "name": openclaw::sidecar_tmp_volume(&s.name),
                "mountPath": openclaw::TMP_DIR,
            })];
            mounts.extend(
                s.mounts
                    .iter()
                    .map(|m| mount(&m.name, &m.mount_path, m.read_only.unwrap_or(false))),
            );
            c.insert("volumeMounts".into(), json!(mounts));
            Json::Object(c)
        })
        .collect();
    Json::Array(containers)
}

/// The pod spec's scheduling fields the fleet set, as a Pod spec spells them.
pub(super) fn scheduling(agent: &ResolvedAgent) -> Json {
    let mut s = agent.pod.scheduling.clone();
    if s.node_selector.as_ref().is_some_and(|m| m.is_empty()) {
        s.node_selector = None;
    }
    if s.tolerations.as_ref().is_some_and(|t| t.is_empty()) {
        s.tolerations = None;
    }
    serde_json::to_value(&s).unwrap_or_else(|_| json!({}))
}

/// The NetworkPolicy's ingress rules: the fleet's `routing.from`, then the proxy the
/// agent is exposed through (`exposure.from`), each on the gateway port only.
pub(super) fn ingress_rules(
    shared: &AgentShared,
    fleet: &ResolvedFleet,
    agent: &ResolvedAgent,
) -> Value {
    let Some(from) = &agent.exposure.from else {
        return shared.ingress.clone();
    };
    let mut rules = match ingress(fleet) {
        Json::Array(rules) => rules,
        _ => Vec::new(),
    };
    rules.push(json!({
        "from": [{
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": from.namespace}},
            "podSelector": {"matchLabels": from.pod_selector},
        }],
        "ports": [{"port": GATEWAY_PORT, "protocol": "TCP"}],
    }));
    to_value(Json::Array(rules))
}

/// The HTTPRoute's parentRefs and hostnames, `null` without one. A parentRef names its
/// group and kind as the CRD's defaults would fill them (Gateway API `ParentReference`),
/// so what clawctl applies equals what the API server stores.
pub(super) fn http_route(agent: &ResolvedAgent) -> Json {
    let Some(route) = &agent.exposure.http_route else {
        return Json::Null;
    };
    let refs: Vec<Json> = route
        .parent_refs
        .iter()
        .map(|p| {
            let mut r =
                json!({"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": p.name});
            if let Some(ns) = &p.namespace {
                r["namespace"] = json!(ns);
            }
            if let Some(section) = &p.section_name {
                r["sectionName"] = json!(section);
            }
            r
        })
        .collect();
    json!({"parentRefs": refs, "hostnames": route.hostnames})
}

/// The Ingress's class, host, TLS Secret and annotations, `null` without one.
pub(super) fn ingress_route(agent: &ResolvedAgent) -> Json {
    let Some(ing) = &agent.exposure.ingress else {
        return Json::Null;
    };
    json!({
        "className": ing.class_name,
        "host": ing.host,
        "tlsSecretName": ing.tls_secret_name,
        "annotations": ing.annotations,
    })
}

pub(super) fn egress(shared: &AgentShared, agent: &ResolvedAgent) -> Value {
    let mut rules = vec![shared.dns_egress.clone()];
    for rule in &agent.egress {
        let mut out = Vec::new();
        let mut peer = Vec::new();
        if let Some(ns) = &rule.namespace {
            let labels = map([("kubernetes.io/metadata.name", Value::from(ns.as_str()))]);
            peer.push(("namespaceSelector", map([("matchLabels", labels)])));
        }
        if let Some(sel) = &rule.pod_selector {
            peer.push(("podSelector", map([("matchLabels", str_map(sel))])));
        }
        if let Some(cidr) = &rule.cidr {
            peer.push(("ipBlock", map([("cidr", Value::from(cidr.as_str()))])));
        }
        if !peer.is_empty() {
            out.push(("to", Value::from(vec![map(peer)])));
        }
        if !rule.ports.is_empty() {
            let ports: Vec<Value> = rule
                .ports
                .iter()
                .map(|p| map([("port", Value::from(*p)), ("protocol", Value::from("TCP"))]))
                .collect();
            out.push(("ports", Value::from(ports)));
        }
        rules.push(map(out));
    }
    Value::from(rules)
}

/// The Kubernetes API token of an agent with `access`: the projected volume the
/// ServiceAccount admission plugin would inject (k8s.io/kubernetes
/// plugin/pkg/admission/serviceaccount `TokenVolumeSource`: a bound token expiring in
/// 3607 s, the cluster CA from `kube-root-ca.crt`, the namespace), `null` without
/// `access`. Automounting is off for the pod, so init containers, sidecars and the
/// knowledge sync never hold the token; the gateway mounts it ([`api_token_mount`]).
pub(super) fn api_token_volume(agent: &ResolvedAgent) -> Json {
    if agent.access.is_empty() {
        return Json::Null;
    }
    json!({
        "name": openclaw::API_TOKEN_VOLUME,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{
                    "path": "namespace",
                    "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                }]}},
            ],
        },
    })
}

/// The gateway container's mount of [`api_token_volume`], read-only where clients
/// look for it; `null` without `access`.
pub(super) fn api_token_mount(agent: &ResolvedAgent) -> Json {
    if agent.access.is_empty() {
        return Json::Null;
    }
    json!({"name": openclaw::API_TOKEN_VOLUME, "mountPath": openclaw::API_TOKEN_DIR, "readOnly": true})
}

/// The pod template's labels: the agent's, plus what a cloud identity needs.
pub(super) fn pod_labels(
    agent: &ResolvedAgent,
    labels: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut labels = labels.clone();
    if agent.identity.azure.is_some() {
        labels.insert(AZURE_USE_LABEL.to_string(), "true".to_string());
    }
    labels
}

/// The pod template's annotations beyond the config hash: the cloud identity's skip
/// lists, so that only the knowledge sync containers get the bucket role (the agent's
/// cloud identity exists for them). The gateway (whose runtime tools may read its
/// environment and files), the `workspace` init container and the fleet's sidecars are
/// skipped. EKS's list is set when the agent has an AWS role or reaches an S3 bucket
/// without a `credentialsSecret` (EKS Pod Identity needs no annotation on clawctl's
/// side, yet its webhook injects all the same); Azure's with an Azure identity. GKE
/// has no such list: its metadata server answers every container of the pod (README).
pub(super) fn pod_annotations(agent: &ResolvedAgent) -> BTreeMap<String, String> {
    let sync = crate::knowledge::containers(agent.knowledge.as_ref());
    let skip: Vec<&str> = ["workspace", "gateway"]
        .into_iter()
        .chain(agent.pod.sidecars.iter().map(|s| s.name.as_str()))
        .filter(|n| !sync.contains(n))
        .collect();
    let mut out = BTreeMap::new();
    let ambient_s3 = agent.knowledge.as_ref().is_some_and(|k| {
        k.credentials_secret.is_none() && matches!(k.backend, crate::knowledge::Backend::S3 { .. })
    });
    if agent.identity.aws.is_some() || ambient_s3 {
        out.insert(EKS_SKIP_ANNOTATION.to_string(), skip.join(","));
    }
    if agent.identity.azure.is_some() {
        out.insert(AZURE_SKIP_ANNOTATION.to_string(), skip.join(";"));
    }
    out
}

/// The ServiceAccount's cloud identity annotations. None of them needs the Kubernetes
/// API token mounted (`automountServiceAccountToken` stays off; only the gateway of an
/// agent with `access` mounts it, [`api_token_volume`]):
/// EKS's pod identity webhook and Azure's webhook inject their own projected token
/// volumes (audiences `sts.amazonaws.com`, `api://AzureADTokenExchange`), and GKE's
/// metadata server identifies the pod without any token in it. EKS Pod Identity needs
/// no annotation at all: its association is made AWS-side, by namespace and name.
pub(super) fn service_account_annotations(agent: &ResolvedAgent) -> BTreeMap<String, String> {
    let id = &agent.identity;
    let mut out = BTreeMap::new();
    // https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity
    if let Some(gcp) = &id.gcp {
        out.insert("iam.gke.io/gcp-service-account".to_string(), gcp.clone());
    }
    // https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html
    if let Some(aws) = &id.aws {
        out.insert("eks.amazonaws.com/role-arn".to_string(), aws.clone());
    }
    // https://azure.github.io/azure-workload-identity/docs/topics/service-account-labels-and-annotations.html
    if let Some(azure) = &id.azure {
        out.insert(
            "azure.workload.identity/client-id".to_string(),
            azure.clone(),
        );
    }
    out
}

/// The knowledge sync containers and their scratch volume: a pull init container
/// (before `workspace`), a push native sidecar (after it, `readWrite` only).
pub(super) struct KnowledgeContainers {
    pub pull: Json,
    pub push: Json,
    pub volumes: Json,
}

pub(super) fn knowledge_containers(
    agent: &ResolvedAgent,
    workspace_mounts: &Json,
) -> KnowledgeContainers {
    let Some(k) = &agent.knowledge else {
        return KnowledgeContainers {
            pull: json!([]),
            push: json!([]),
            volumes: json!([]),
        };
    };
    let mut mounts = vec![
        mount("state", STATE_DIR, false),
        mount(knowledge::TMP_VOLUME, openclaw::TMP_DIR, false),
    ];
    mounts.extend(workspace_mounts.as_array().into_iter().flatten().cloned());
    let container = |name: &str, script: &str, direction: Direction| {
        let env: Vec<Json> = knowledge::env(k, direction)
            .into_iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect();
        let mut c = json!({
            "name": name,
            "image": k.image,
            "command": ["/bin/sh", "-c", script],
            "env": env,
            "resources": {
                "requests": {"cpu": knowledge::REQUESTS.0, "memory": knowledge::REQUESTS.1},
                "limits": {"cpu": knowledge::LIMITS.0, "memory": knowledge::LIMITS.1},
            },
            "securityContext": restricted_security(),
            "volumeMounts": mounts,
        });
        // The bucket's keys reach the sync containers only, never the gateway (whose
        // runtime tools could read its environment).
        if let Some(secret) = &k.credentials_secret {
            c["envFrom"] = json!([{"secretRef": {"name": secret}}]);
        }
        c
    };
    let pull = container(
        knowledge::PULL_CONTAINER,
        knowledge::PULL_SCRIPT,
        Direction::Pull,
    );
    let push = match k.mode {
        KnowledgeMode::ReadWrite => {
            let mut push = container(
                knowledge::PUSH_CONTAINER,
                knowledge::PUSH_SCRIPT,
                Direction::Push,
            );
            // A native sidecar: started after the init containers before it, stopped
            // after the gateway exits.
            push["restartPolicy"] = json!("Always");
            json!([push])
        }
        KnowledgeMode::ReadOnly => json!([]),
    };
    KnowledgeContainers {
        pull: json!([pull]),
        push,
        volumes: json!([{"name": knowledge::TMP_VOLUME, "emptyDir": {}}]),
    }
}
