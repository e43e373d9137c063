//! The values templates see: labels, names and everything derived from a resolved agent
//! (openclaw.json, config hash, network rules). Templates only place these values.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::fleet::model::FileMode;
use crate::fleet::{ResolvedAgent, ResolvedFleet, ResolvedTeam};
use crate::openclaw::{self, GATEWAY_PORT, STATE_DIR};

pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const PART_OF: &str = "app.kubernetes.io/part-of";
pub const FLEET_LABEL: &str = "clawctl.io/fleet";
pub const TEAM_LABEL: &str = "clawctl.io/team";
pub const AGENT_LABEL: &str = "clawctl.io/agent";
pub const CONFIG_HASH: &str = "clawctl.io/config-hash";

/// Copies managed files at every start and seed files only when absent. Static text:
/// file names reach it only as ConfigMap item paths, never as shell words.
const INIT_SCRIPT: &str = r#"set -eu
state=/home/node/.openclaw
ws="$state/workspace"
mkdir -p "$ws"
cp -L /clawctl/openclaw.json "$state/openclaw.json"
for f in /clawctl/managed/*; do
  if [ -f "$f" ]; then cp -L "$f" "$ws/"; fi
done
for f in /clawctl/seed/*; do
  if [ -f "$f" ] && [ ! -e "$ws/${f##*/}" ]; then cp -L "$f" "$ws/"; fi
done
"#;

/// The name of an agent's objects.
pub fn resource_name(agent: &str) -> String {
    format!("agent-{agent}")
}

pub fn fleet_labels(fleet: &ResolvedFleet) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY.to_string(), "clawctl".to_string()),
        (PART_OF.to_string(), fleet.name.clone()),
        (FLEET_LABEL.to_string(), fleet.name.clone()),
    ])
}

fn team_labels(fleet: &ResolvedFleet, team: &str) -> BTreeMap<String, String> {
    let mut labels = fleet_labels(fleet);
    labels.insert(TEAM_LABEL.to_string(), team.to_string());
    labels
}

pub fn fleet_context(fleet: &ResolvedFleet) -> Value {
    let routes: BTreeMap<String, String> = fleet
        .agents
        .iter()
        .flat_map(|a| {
            let address = format!(
                "{}.{}.svc.cluster.local:{GATEWAY_PORT}",
                resource_name(&a.name),
                a.namespace
            );
            a.user
                .iter()
                .map(move |(channel, id)| (format!("{channel}:{id}"), address.clone()))
        })
        .collect();
    let routes_json = serde_json::to_string_pretty(&routes).unwrap_or_default() + "\n";
    json!({
        "name": fleet.name,
        "namespace": fleet.namespace,
        "image": fleet.image,
        "labels": fleet_labels(fleet),
        "routesName": format!("{}-routes", fleet.name),
        "routesJson": routes_json,
    })
}

pub fn team_context(fleet: &ResolvedFleet, team: &ResolvedTeam) -> Value {
    let labels = team_labels(fleet, &team.name);
    let mut ns_labels = labels.clone();
    ns_labels.insert(
        "pod-security.kubernetes.io/enforce".to_string(),
        "restricted".to_string(),
    );
    let viewers: Vec<Value> = team
        .viewers
        .iter()
        .map(|s| match &s.namespace {
            Some(ns) => json!({"kind": s.kind, "name": s.name, "namespace": ns}),
            None => {
                json!({"kind": s.kind, "name": s.name, "apiGroup": "rbac.authorization.k8s.io"})
            }
        })
        .collect();
    let quota = team.quota.as_ref().map(|q| {
        let mut hard = serde_json::Map::new();
        if let Some(cpu) = &q.cpu {
            hard.insert("requests.cpu".into(), json!(cpu.as_str()));
            hard.insert("limits.cpu".into(), json!(cpu.as_str()));
        }
        if let Some(memory) = &q.memory {
            hard.insert("requests.memory".into(), json!(memory.as_str()));
            hard.insert("limits.memory".into(), json!(memory.as_str()));
        }
        Value::Object(hard)
    });
    json!({
        "name": team.name,
        "namespace": team.namespace,
        "labels": labels,
        "namespaceLabels": ns_labels,
        "viewers": viewers,
        "quota": quota,
    })
}

pub fn agent_context(fleet: &ResolvedFleet, agent: &ResolvedAgent) -> Value {
    let name = resource_name(&agent.name);
    let mut labels = team_labels(fleet, &agent.team);
    labels.insert(AGENT_LABEL.to_string(), agent.name.clone());
    labels.insert("app.kubernetes.io/name".to_string(), "openclaw".to_string());
    labels.insert("app.kubernetes.io/instance".to_string(), name.clone());
    let selector = BTreeMap::from([
        (FLEET_LABEL.to_string(), fleet.name.clone()),
        (AGENT_LABEL.to_string(), agent.name.clone()),
    ]);

    let openclaw_json =
        serde_json::to_string_pretty(&openclaw::config_json(agent)).unwrap_or_default() + "\n";
    let mut data = BTreeMap::new();
    data.insert("openclaw.json".to_string(), openclaw_json.as_str());
    let mut items = vec![json!({"key": "openclaw.json", "path": "openclaw.json"})];
    for (file, entry) in &agent.files {
        data.insert(file.clone(), &entry.content);
        let folder = match entry.mode {
            FileMode::Managed => "managed",
            FileMode::Seed => "seed",
        };
        items.push(json!({"key": file, "path": format!("{folder}/{file}")}));
    }
    let mut hasher = Sha256::new();
    for (key, value) in &data {
        hasher.update((key.len() as u64).to_le_bytes());
        hasher.update(key.as_bytes());
        hasher.update((value.len() as u64).to_le_bytes());
        hasher.update(value.as_bytes());
    }
    // Modes change where the init container puts a file, so they count too.
    for item in &items {
        hasher.update(item.to_string().as_bytes());
    }
    let config_hash: String = hasher
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();

    // ~75% of the memory limit for the V8 heap, leaving room for native memory.
    let memory_mib = agent
        .limits
        .memory
        .as_ref()
        .map_or(512, |m| m.units() / (1024 * 1024));
    let heap = (memory_mib * 3 / 4).max(64);
    let mut env = vec![
        json!({"name": "HOME", "value": "/home/node"}),
        json!({"name": "NODE_OPTIONS", "value": format!("--max-old-space-size={heap}")}),
        json!({"name": "OPENCLAW_DISABLE_BONJOUR", "value": "1"}),
    ];
    env.extend(
        agent
            .env
            .iter()
            .map(|(k, v)| json!({"name": k, "value": v})),
    );
    let env_from: Vec<Value> = agent
        .secrets
        .iter()
        .map(|s| json!({"secretRef": {"name": s}}))
        .collect();

    let quantities = |l: &crate::fleet::model::ResourceList| json!({"cpu": l.cpu.as_ref().map(|q| q.as_str()), "memory": l.memory.as_ref().map(|q| q.as_str())});
    let access: Vec<Value> = agent
        .access
        .iter()
        .map(|r| {
            let mut rule =
                json!({"apiGroups": r.api_groups, "resources": r.resources, "verbs": r.verbs});
            if !r.resource_names.is_empty() {
                rule["resourceNames"] = json!(r.resource_names);
            }
            rule
        })
        .collect();

    json!({
        "name": agent.name,
        "resourceName": name,
        "namespace": agent.namespace,
        "team": agent.team,
        "image": fleet.image,
        "labels": labels,
        "selector": selector,
        "port": GATEWAY_PORT,
        "stateDir": STATE_DIR,
        "automountToken": !agent.access.is_empty(),
        "access": access,
        "configData": data,
        "configItems": items,
        "configHash": config_hash,
        "initScript": INIT_SCRIPT,
        "command": openclaw::gateway_command(),
        "env": env,
        "envFrom": env_from,
        "resources": {"requests": quantities(&agent.requests), "limits": quantities(&agent.limits)},
        "storage": {"size": agent.storage_size.as_str(), "className": agent.storage_class},
        "ingress": ingress(fleet),
        "egress": egress(agent),
        "containerSecurity": {
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "runAsNonRoot": true,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    })
}

fn ingress(fleet: &ResolvedFleet) -> Value {
    let Some(from) = &fleet.routing.from else {
        return json!([]);
    };
    json!([{
        "from": [{
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": from.namespace}},
            "podSelector": {"matchLabels": from.pod_selector},
        }],
        "ports": [{"port": GATEWAY_PORT, "protocol": "TCP"}],
    }])
}

fn egress(agent: &ResolvedAgent) -> Value {
    // DNS is always allowed: without it no egress rule by name can work.
    let mut rules = vec![json!({
        "to": [{
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }],
        "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
    })];
    for rule in &agent.egress {
        let mut out = serde_json::Map::new();
        let mut peer = serde_json::Map::new();
        if let Some(ns) = &rule.namespace {
            peer.insert(
                "namespaceSelector".into(),
                json!({"matchLabels": {"kubernetes.io/metadata.name": ns}}),
            );
        }
        if let Some(sel) = &rule.pod_selector {
            peer.insert("podSelector".into(), json!({"matchLabels": sel}));
        }
        if let Some(cidr) = &rule.cidr {
            peer.insert("ipBlock".into(), json!({"cidr": cidr}));
        }
        if !peer.is_empty() {
            out.insert("to".into(), json!([peer]));
        }
        if !rule.ports.is_empty() {
            let ports: Vec<Value> = rule
                .ports
                .iter()
                .map(|p| json!({"port": p, "protocol": "TCP"}))
                .collect();
            out.insert("ports".into(), Value::Array(ports));
        }
        rules.push(Value::Object(out));
    }
    Value::Array(rules)
}
