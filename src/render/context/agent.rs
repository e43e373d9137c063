//! `agent`: the typed context of one gateway's templates, built from its resolved agent
//! (openclaw.json and the workspace files, the config hash, environment, resources).

use std::collections::BTreeMap;

use minijinja::Value;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

use super::pod::{
    api_token_mount, api_token_volume, egress, extra_volumes, gateway_mounts, http_route,
    ingress_route, ingress_rules, knowledge_containers, pod_annotations, pod_labels, scheduling,
    service_account_annotations, sidecars, workspaces,
};
use super::shared::{AgentShared, json_str, team_labels};
use crate::fleet::model::KnowledgeMode;
use crate::fleet::{ResolvedAgent, ResolvedFleet, ResolvedHosted};
use crate::knowledge;
use crate::names::{AGENT_LABEL, FLEET_LABEL, GENERATED_KEY, resource_name, token_secret};
use crate::openclaw::{self, GATEWAY_PORT, STATE_DIR};

/// What an agent's templates see as `agent`: one gateway, everything clawctl derived
/// from its merged settings. Values that are Kubernetes fragments are already in the
/// shape of the field they fill, so a template places them whole. The book's templates
/// page lists these fields from this type's schema (`template_context_schemas`).
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentContext<'a> {
    /// The agent's (gateway's) name.
    pub name: &'a str,
    /// Its objects' name, `agent-<name>`.
    pub resource_name: &'a str,
    /// A multi-agent gateway's agent ids, default first, comma-separated (the
    /// `clawctl.io/agents` annotation), or null.
    pub hosted_agents: Option<String>,
    /// A multi-agent gateway's workspace claims: `{name, labels, size, className}` each.
    pub workspace_claims: Json,
    /// Where those volumes are mounted.
    pub workspace_mounts: Json,
    /// The pod volumes of those claims.
    pub workspace_volumes: Json,
    /// Its team's namespace.
    pub namespace: &'a str,
    /// Its team's name.
    pub team: &'a str,
    /// The image it runs (`spec.image`, or a rollout's target).
    #[schemars(with = "String")]
    pub image: Value,
    /// The team's labels plus `clawctl.io/agent`, `app.kubernetes.io/name: openclaw`,
    /// `app.kubernetes.io/instance`.
    pub labels: &'a BTreeMap<String, String>,
    /// The Deployment's and Service's selector (`clawctl.io/fleet`, `clawctl.io/agent`).
    pub selector: BTreeMap<&'a str, &'a str>,
    /// The gateway port, 18789.
    pub port: u16,
    /// OpenClaw's state directory, `/home/node/.openclaw` (the volume's mount).
    pub state_dir: &'static str,
    /// Always false: the pod never automounts the API token.
    pub automount_token: bool,
    /// The projected API token volume when the agent has `access`, else null.
    pub api_token_volume: Json,
    /// The gateway's mount of it, else null.
    pub api_token_mount: Json,
    /// Whether an orchestrator or the router forwards to it (token Secret, chat endpoint).
    pub routed: bool,
    /// Its token Secret's name, `agent-<name>-gateway-token`.
    pub token_secret: String,
    /// The key in it, `OPENCLAW_GATEWAY_TOKEN`.
    pub token_key: &'static str,
    /// The annotation that tells `apply` which key to generate.
    pub generated_key_annotation: &'static str,
    /// Its Role's rules, from `access`.
    pub access: Vec<Json>,
    /// The ConfigMap's data: `openclaw.json` and every workspace file.
    pub config_data: BTreeMap<&'a str, &'a str>,
    /// The ConfigMap volume's items: each key and where the init container finds it.
    pub config_items: Vec<ConfigItem<'a>>,
    /// A hash of `configData` and `configItems`, the pod template annotation that
    /// restarts only this agent when they change.
    pub config_hash: String,
    /// 1, or 0 while `suspended`.
    pub replicas: u8,
    /// The init container's script, static text.
    pub init_script: &'static str,
    /// 330, or 390 with a knowledge push to finish.
    pub termination_grace_period_seconds: u32,
    /// The gateway container's command.
    #[schemars(with = "Vec<String>")]
    pub command: Value,
    /// `/startupz` on OpenClaw 2026.9, `/readyz` on 2026.4.
    pub readiness_path: &'static str,
    /// The gateway's environment: clawctl's (`HOME`, `NODE_OPTIONS`,
    /// `OPENCLAW_DISABLE_BONJOUR`, caches under `/tmp`), then the fleet's `env`, then the
    /// token from its Secret when routed.
    pub env: Vec<Json>,
    /// `secrets`, as `secretRef`s.
    pub env_from: Vec<Json>,
    /// `{requests: {cpu, memory}, limits: {cpu, memory}}`.
    pub resources: ResourcesContext<'a>,
    /// The state volume's `{size, className}`.
    pub storage: StorageContext<'a>,
    /// The NetworkPolicy's ingress rules: `routing.from`, then `exposure.from`, on 18789.
    #[schemars(with = "Vec<Json>")]
    pub ingress: Value,
    /// `exposure.path` (default `/`).
    pub exposure_path: &'a str,
    /// The HTTPRoute's `{parentRefs, hostnames}`, or null.
    pub http_route: Json,
    /// The Ingress's class, host, TLS Secret and annotations, or null.
    pub ingress_route: Json,
    /// Its egress rules: DNS first, then `egress` (with the knowledge bucket's port when
    /// it needs one).
    #[schemars(with = "Vec<Json>")]
    pub egress: Value,
    /// The restricted security context of clawctl's containers.
    #[schemars(with = "Json")]
    pub container_security: Value,
    /// The gateway's mounts of `volumes`.
    pub gateway_mounts: Json,
    /// The `sidecars` as containers.
    pub sidecars: Json,
    /// The pod volumes of `volumes`, then each sidecar's `/tmp`.
    pub extra_volumes: Json,
    /// `nodeSelector`, `tolerations`, `affinity`, `priorityClassName`,
    /// `runtimeClassName` as set.
    pub scheduling: Json,
    /// The pod template's labels: `labels`, plus what a cloud identity needs.
    pub pod_labels: BTreeMap<String, String>,
    /// The pod template's annotations for cloud identity webhooks (which containers they
    /// skip).
    pub pod_annotations: BTreeMap<String, String>,
    /// The cloud identities of `identity`.
    pub service_account_annotations: BTreeMap<String, String>,
    /// The pod's `imagePullSecrets` from `imagePullSecrets`, `{name}` each (empty when
    /// none: the API server drops an empty list, so a template writes it only if set).
    pub image_pull_secrets: Vec<BTreeMap<&'static str, &'a str>>,
    /// The `knowledge-pull` init container, or an empty list.
    pub knowledge_pull: Json,
    /// The `knowledge-push` native sidecar, or an empty list (read-only agents, no
    /// bucket).
    pub knowledge_push: Json,
    /// The sync containers' `/tmp`.
    pub knowledge_volumes: Json,
}

/// One item of the ConfigMap volume: a key and the path the init container reads.
#[derive(Serialize, JsonSchema)]
pub struct ConfigItem<'a> {
    pub key: &'a str,
    pub path: &'a str,
}

/// A container's requests and limits. A template places it whole, so its fields are in
/// the sorted order the rendered YAML keeps.
#[derive(Serialize, JsonSchema)]
pub struct ResourcesContext<'a> {
    pub limits: Quantities<'a>,
    pub requests: Quantities<'a>,
}

/// CPU and memory, each null when not set.
#[derive(Serialize, JsonSchema)]
pub struct Quantities<'a> {
    pub cpu: Option<&'a str>,
    pub memory: Option<&'a str>,
}

impl<'a> Quantities<'a> {
    fn of(list: &'a crate::fleet::model::ResourceList) -> Self {
        Quantities {
            cpu: list.cpu.as_ref().map(|q| q.as_str()),
            memory: list.memory.as_ref().map(|q| q.as_str()),
        }
    }
}

/// The state volume's claim.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StorageContext<'a> {
    pub class_name: Option<&'a str>,
    pub size: &'a str,
}

pub fn agent_context(shared: &AgentShared, fleet: &ResolvedFleet, agent: &ResolvedAgent) -> Value {
    let name = resource_name(&agent.name);
    let mut labels = team_labels(fleet, &agent.team);
    labels.insert(AGENT_LABEL.to_string(), agent.name.clone());
    labels.insert("app.kubernetes.io/name".to_string(), "openclaw".to_string());
    labels.insert("app.kubernetes.io/instance".to_string(), name.clone());
    let selector = BTreeMap::from([
        (FLEET_LABEL, fleet.name.as_str()),
        (AGENT_LABEL, agent.name.as_str()),
    ]);

    let openclaw_json = serde_json::to_string_pretty(&crate::render::openclaw_json::config_json(
        agent,
        &shared.release,
    ))
    .unwrap_or_default()
        + "\n";
    let mut data: BTreeMap<&str, &str> = BTreeMap::new();
    data.insert("openclaw.json", openclaw_json.as_str());
    let mut items: Vec<(&str, String)> = vec![("openclaw.json", "openclaw.json".to_string())];
    for (file, entry) in &agent.files {
        data.insert(file, &entry.content);
        items.push((file, format!("{}/{file}", entry.mode.folder())));
    }
    // A multi-agent gateway's agents' files: keys `<id>_<file>` (an id has no `_`, and
    // openclaw.json none), placed under `agents/<id>/` for the init container.
    let hosted_keys: Vec<(String, &ResolvedHosted, &str)> = agent
        .hosted
        .iter()
        .flat_map(|h| {
            h.files
                .keys()
                .map(move |file| (format!("{}_{file}", h.name), h, file.as_str()))
        })
        .collect();
    for (key, h, file) in &hosted_keys {
        let entry = &h.files[*file];
        data.insert(key, &entry.content);
        items.push((
            key,
            format!("agents/{}/{}/{file}", h.name, entry.mode.folder()),
        ));
    }
    let mut hasher = Sha256::new();
    for (key, value) in &data {
        hasher.update((key.len() as u64).to_le_bytes());
        hasher.update(key.as_bytes());
        hasher.update((value.len() as u64).to_le_bytes());
        hasher.update(value.as_bytes());
    }
    // Modes change where the init container puts a file, so they count too. Each item
    // counts as its compact JSON text.
    for (key, path) in &items {
        let item = format!("{{\"key\":{},\"path\":{}}}", json_str(key), json_str(path));
        hasher.update(item.as_bytes());
    }
    let config_hash: String = hasher
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    let memory_mib = agent
        .limits
        .memory
        .as_ref()
        .map_or(512, |m| m.units() / (1024 * 1024));
    let env_var = |name: &str, value: &str| json!({"name": name, "value": value});
    let mut env: Vec<Json> = openclaw::gateway_env(memory_mib)
        .iter()
        .map(|(k, v)| env_var(k, v))
        .collect();
    env.extend(agent.env.iter().map(|(k, v)| env_var(k, v)));
    if agent.routed {
        // The agent's own token; `env` wins over the shared Secrets' envFrom.
        env.push(json!({
            "name": openclaw::TOKEN_ENV,
            "valueFrom": {"secretKeyRef": {
                "name": token_secret(&agent.name),
                "key": openclaw::TOKEN_ENV,
            }},
        }));
    }
    let env_from: Vec<Json> = agent
        .secrets
        .iter()
        .map(|s| json!({"secretRef": {"name": s}}))
        .collect();

    let access: Vec<Json> = agent
        .access
        .iter()
        .map(|r| {
            let mut rule = json!({
                "apiGroups": r.api_groups,
                "resources": r.resources,
                "verbs": r.verbs,
            });
            if !r.resource_names.is_empty() {
                rule["resourceNames"] = json!(r.resource_names);
            }
            rule
        })
        .collect();

    let workspaces = workspaces(agent, &labels);
    let knowledge = knowledge_containers(agent, &workspaces.mounts);
    let termination_grace = match &agent.knowledge {
        Some(k) if k.mode == KnowledgeMode::ReadWrite => {
            openclaw::TERMINATION_GRACE_SECONDS + knowledge::FINAL_PUSH_SECONDS
        }
        _ => openclaw::TERMINATION_GRACE_SECONDS,
    };
    let context = AgentContext {
        name: &agent.name,
        resource_name: &name,
        hosted_agents: hosted_names(agent),
        workspace_claims: workspaces.claims,
        workspace_mounts: workspaces.mounts,
        workspace_volumes: workspaces.volumes,
        namespace: &agent.namespace,
        team: &agent.team,
        image: shared.image.clone(),
        labels: &labels,
        selector,
        port: GATEWAY_PORT,
        state_dir: STATE_DIR,
        automount_token: false,
        api_token_volume: api_token_volume(agent),
        api_token_mount: api_token_mount(agent),
        routed: agent.routed,
        token_secret: token_secret(&agent.name),
        token_key: openclaw::TOKEN_ENV,
        generated_key_annotation: GENERATED_KEY,
        access,
        config_data: data,
        config_items: items
            .iter()
            .map(|(key, path)| ConfigItem {
                key,
                path: path.as_str(),
            })
            .collect(),
        config_hash,
        replicas: u8::from(!agent.suspended),
        init_script: openclaw::INIT_SCRIPT,
        termination_grace_period_seconds: termination_grace,
        command: shared.command.clone(),
        readiness_path: shared.readiness_path,
        env,
        env_from,
        resources: ResourcesContext {
            requests: Quantities::of(&agent.requests),
            limits: Quantities::of(&agent.limits),
        },
        storage: StorageContext {
            size: agent.storage_size.as_str(),
            class_name: agent.storage_class.as_deref(),
        },
        ingress: ingress_rules(shared, fleet, agent),
        exposure_path: &agent.exposure.path,
        http_route: http_route(agent),
        ingress_route: ingress_route(agent),
        egress: egress(shared, agent),
        container_security: shared.container_security.clone(),
        gateway_mounts: gateway_mounts(agent),
        sidecars: sidecars(agent),
        extra_volumes: extra_volumes(agent),
        scheduling: scheduling(agent),
        pod_labels: pod_labels(agent, &labels),
        pod_annotations: pod_annotations(agent),
        service_account_annotations: service_account_annotations(agent),
        image_pull_secrets: (agent.settings.image_pull_secrets.iter().flatten())
            .map(|name| BTreeMap::from([("name", name.as_str())]))
            .collect(),
        knowledge_pull: knowledge.pull,
        knowledge_push: knowledge.push,
        knowledge_volumes: knowledge.volumes,
    };
    Value::from(minijinja::value::Serde(&context))
}

/// A multi-agent gateway's agent ids, default first, for its Deployment's
/// `clawctl.io/agents` annotation (what `status` shows).
fn hosted_names(agent: &ResolvedAgent) -> Option<String> {
    let names: Vec<&str> = agent.hosted.iter().map(|h| h.name.as_str()).collect();
    (!names.is_empty()).then(|| names.join(","))
}
