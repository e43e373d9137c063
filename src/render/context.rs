//! The values templates see: labels, names and everything derived from a resolved agent
//! (openclaw.json, config hash, network rules). Templates only place these values.

use std::collections::BTreeMap;

use minijinja::Value;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

use crate::error::InvalidInput;
use crate::fleet::model::KnowledgeMode;
use crate::fleet::{ResolvedAgent, ResolvedFleet, ResolvedHosted, ResolvedTeam};
use crate::knowledge::{self, Direction};
use crate::openclaw::{self, GATEWAY_PORT, Release, STATE_DIR};

use crate::names::{
    AGENT_LABEL, AZURE_SKIP_ANNOTATION, AZURE_USE_LABEL, EKS_SKIP_ANNOTATION, FLEET_LABEL,
    GENERATED_KEY, HOSTED_AGENT_LABEL, TEAM_LABEL, fleet_labels, resource_name, token_secret,
};

fn team_labels(fleet: &ResolvedFleet, team: &str) -> BTreeMap<String, String> {
    let mut labels = fleet_labels(&fleet.name);
    labels.insert(TEAM_LABEL.to_string(), team.to_string());
    labels
}

/// What every template sees as `fleet`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FleetContext<'a> {
    /// The fleet's name (`metadata.name`).
    pub name: &'a str,
    /// The fleet namespace (`metadata.namespace`, default `clawctl-system`).
    pub namespace: &'a str,
    /// `spec.image`.
    pub image: &'a str,
    /// The labels every object of the fleet carries (`app.kubernetes.io/managed-by`,
    /// `app.kubernetes.io/part-of`, `clawctl.io/fleet`).
    pub labels: BTreeMap<String, String>,
    /// The routing table ConfigMap's name, `<fleet>-routes`.
    pub routes_name: String,
    /// Its `routes.json`: `channel:user-id` to `{agent, address}`, plus `url` and
    /// `tokenSecret` for routed agents (and `deployment` with `idleAfter`).
    pub routes_json: String,
    /// clawctl-router's values (`fleet.router`), or null without `routing.router`.
    pub router: Option<RouterContext<'a>>,
    /// The router's rights for self-service (`fleet.selfService`), or null without
    /// `routing.selfService`.
    pub self_service: Option<super::self_service::SelfServiceContext<'a>>,
}

/// `fleet` for the templates.
pub fn fleet_value(fleet: &ResolvedFleet) -> Value {
    Value::from(minijinja::value::Serde(fleet_context(fleet)))
}

/// What every template sees as `fleet`.
pub fn fleet_context(fleet: &ResolvedFleet) -> FleetContext<'_> {
    // user identity -> where the orchestrator sends that user's messages, and which
    // Secret holds the token it sends with them (routed agents only); with the router's
    // `idleAfter`, also the Deployment it puts to sleep and wakes (the agents of a
    // multi-agent gateway share one).
    // Agents made on request are routed by the router from their claims, so the table
    // (and this ConfigMap) does not change when one is made.
    let sleeps = idle_after(fleet).is_some();
    let routes: BTreeMap<String, Json> = fleet
        .agents
        .iter()
        .filter(|a| !a.self_service)
        .flat_map(|a| {
            let host = format!(
                "{}.{}.svc.cluster.local",
                resource_name(&a.name),
                a.namespace
            );
            let mut route = json!({
                "agent": a.name,
                "address": format!("{host}:{GATEWAY_PORT}"),
            });
            if a.routed {
                // OpenClaw's chat endpoint, enabled for routed agents only.
                route["url"] = json!(format!("http://{host}:{GATEWAY_PORT}/v1/chat/completions"));
                route["tokenSecret"] = json!({
                    "namespace": a.namespace,
                    "name": token_secret(&a.name),
                    "key": openclaw::TOKEN_ENV,
                });
                if sleeps {
                    route["deployment"] =
                        json!({"namespace": a.namespace, "name": resource_name(&a.name)});
                }
            }
            a.user
                .iter()
                .map(move |(channel, id)| (format!("{channel}:{id}"), route.clone()))
        })
        .collect();
    let routes_json = serde_json::to_string_pretty(&routes).unwrap_or_default() + "\n";
    FleetContext {
        name: &fleet.name,
        namespace: &fleet.namespace,
        image: &fleet.image,
        labels: fleet_labels(&fleet.name),
        routes_name: format!("{}-routes", fleet.name),
        routes_json,
        router: router_context(fleet),
        self_service: super::self_service::context(fleet),
    }
}

/// The router's `idleAfter`, when it puts agents to sleep.
fn idle_after(fleet: &ResolvedFleet) -> Option<std::time::Duration> {
    let router = fleet.routing.router.as_ref()?;
    router.idle_after.as_ref().map(|d| d.get())
}

/// clawctl-router's values (`spec.routing.router`), or null without one: its names,
/// labels and pod selector, its image, doors and environment, and the namespaces of the
/// agents it forwards to (its only egress besides DNS, the API server and Slack).
fn router_context(fleet: &ResolvedFleet) -> Option<RouterContext<'_>> {
    let (Some(router), Some(namespace)) = (&fleet.routing.router, fleet.router_namespace()) else {
        return None;
    };
    let mut namespace_labels = fleet_labels(&fleet.name);
    namespace_labels.insert(
        "pod-security.kubernetes.io/enforce".to_string(),
        "restricted".to_string(),
    );
    let name = crate::names::router(&fleet.name);
    let selector = crate::names::router_selector(&fleet.name);
    let mut labels = fleet_labels(&fleet.name);
    labels.extend(selector.clone());
    let mut agent_namespaces: Vec<&str> = fleet
        .agents
        .iter()
        .filter(|a| a.routed)
        .map(|a| a.namespace.as_str())
        // Self-service: the team's namespace whether or not it holds agents yet.
        .chain(fleet.self_service.as_ref().map(|s| s.namespace.as_str()))
        .collect();
    agent_namespaces.sort_unstable();
    agent_namespaces.dedup();
    let mut env = vec![
        json!({"name": "CLAWCTL_FLEET", "value": fleet.name}),
        json!({"name": "CLAWCTL_FLEET_NAMESPACE", "value": fleet.namespace}),
        json!({"name": "CLAWCTL_ROUTES_CONFIGMAP", "value": format!("{}-routes", fleet.name)}),
    ];
    if let Some(idle) = idle_after(fleet) {
        env.push(json!({"name": "ROUTER_IDLE_AFTER_SECONDS", "value": idle.as_secs().to_string()}));
    }
    env.extend(super::self_service::env(fleet));
    if let Some(http) = &router.http {
        env.push(json!({"name": "ROUTER_HTTP_ADDR", "value": format!("0.0.0.0:{ROUTER_PORT}")}));
        env.push(json!({"name": "ROUTER_TRUSTED_PROXIES", "value": http.proxy.join(",")}));
        env.push(json!({"name": "ROUTER_IDENTITY_HEADER",
                        "value": http.header.as_deref().unwrap_or("X-Forwarded-Email")}));
    }
    let ingress: Vec<Json> = match &router.http {
        // Only the authenticating proxy may connect; a single address is a /32 (/128).
        Some(http) => vec![json!({
            "from": http.proxy.iter().map(|cidr| {
                let cidr = if cidr.contains('/') {
                    cidr.clone()
                } else if cidr.contains(':') {
                    format!("{cidr}/128")
                } else {
                    format!("{cidr}/32")
                };
                json!({"ipBlock": {"cidr": cidr}})
            }).collect::<Vec<_>>(),
            "ports": [{"port": ROUTER_PORT, "protocol": "TCP"}],
        })],
        None => Vec::new(),
    };
    let mut egress = vec![json!({
        "to": [{
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }],
        "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
    })];
    if !agent_namespaces.is_empty() {
        egress.push(json!({
            "to": agent_namespaces.iter().map(|ns| json!({
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}
            })).collect::<Vec<_>>(),
            "ports": [{"port": GATEWAY_PORT, "protocol": "TCP"}],
        }));
    }
    // The API server (443 or 6443) and Slack's Web API and Socket Mode (443).
    egress.push(
        json!({"ports": [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}]}),
    );
    let probe = |path: &str, period: u32| json!({"httpGet": {"path": path, "port": "http"}, "periodSeconds": period});
    let mut container = json!({
        "name": "router",
        "image": router.image,
        "ports": [{"name": "http", "containerPort": ROUTER_PORT}],
        "env": env,
        "readinessProbe": probe("/readyz", 5),
        "livenessProbe": probe("/healthz", 10),
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"},
                      "limits": {"cpu": "500m", "memory": "256Mi"}},
        "securityContext": restricted_security(),
    });
    if let Some(secret) = &router.slack_secret {
        container["envFrom"] = json!([{"secretRef": {"name": secret}}]);
    }
    Some(RouterContext {
        name,
        namespace,
        namespace_labels,
        labels,
        selector,
        http: router.http.is_some(),
        rules: std::iter::once(json!({"apiGroups": [""], "resources": ["configmaps"],
                   "resourceNames": [format!("{}-routes", fleet.name)],
                   "verbs": ["get", "list", "watch"]}))
        .chain(super::self_service::fleet_rules(fleet))
        .collect(),
        pod_security: json!({"runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532,
                        "seccompProfile": {"type": "RuntimeDefault"}}),
        containers: vec![container],
        policy: json!({
            "podSelector": {"matchLabels": crate::names::router_selector(&fleet.name)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        }),
        service_ports: vec![
            json!({"name": "http", "port": ROUTER_PORT, "targetPort": "http", "protocol": "TCP"}),
        ],
    })
}

/// What the router's template sees as `fleet.router`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RouterContext<'a> {
    /// The router's object name, `<fleet>-router`.
    pub name: String,
    /// Its namespace (`routing.router.namespace`, default `<fleet>-router`).
    pub namespace: &'a str,
    /// The fleet's labels plus `pod-security.kubernetes.io/enforce: restricted`.
    pub namespace_labels: BTreeMap<String, String>,
    /// The fleet's labels plus its pod selector.
    pub labels: BTreeMap<String, String>,
    /// The labels selecting its pods.
    pub selector: BTreeMap<String, String>,
    /// Whether the HTTP door is on (`routing.router.http`).
    pub http: bool,
    /// Its Role's rules in the fleet namespace: read the routing table ConfigMap (and,
    /// with self-service, the fleet lock and the ApplySet parent, by name).
    pub rules: Vec<Json>,
    /// The pod's security context (non-root, uid and gid 65532, RuntimeDefault seccomp).
    pub pod_security: Json,
    /// Its container: image, port 8080, environment, probes, resources, restricted
    /// security context, the Slack Secret as `envFrom`.
    pub containers: Vec<Json>,
    /// Its NetworkPolicy's spec: in from the proxy only, out to DNS, the routed agents'
    /// namespaces on 18789 and 443/6443.
    pub policy: Json,
    /// Its Service's ports.
    pub service_ports: Vec<Json>,
}

/// The port of the router's HTTP door and health checks.
const ROUTER_PORT: u16 = 8080;

/// What a team's templates see as `team`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamContext<'a> {
    /// The team's name.
    pub name: &'a str,
    /// Its namespace.
    pub namespace: &'a str,
    /// The fleet's labels plus `clawctl.io/team`.
    pub labels: BTreeMap<String, String>,
    /// `labels` plus `pod-security.kubernetes.io/enforce: restricted`.
    pub namespace_labels: BTreeMap<String, String>,
    /// RoleBinding subjects from `viewers`.
    pub viewers: Vec<Json>,
    /// The ResourceQuota's `hard` map from `quota`, or null.
    pub quota: Option<Json>,
    /// The orchestrator's ServiceAccount as a subject list (`routing.from.serviceAccount`),
    /// or null when the team has no routed agent.
    pub orchestrator: Option<Json>,
    /// The names of the team's routed agents' token Secrets.
    pub token_secrets: Vec<String>,
    /// With the router's `idleAfter`: the team's routed agents' Deployments, which the
    /// router may read, watch and scale (sleep and wake).
    pub deployments: Vec<String>,
}

/// `team` for the templates.
pub fn team_value(fleet: &ResolvedFleet, team: &ResolvedTeam) -> Value {
    Value::from(minijinja::value::Serde(team_context(fleet, team)))
}

/// What a team's templates see as `team`.
pub fn team_context<'a>(fleet: &ResolvedFleet, team: &'a ResolvedTeam) -> TeamContext<'a> {
    let labels = team_labels(fleet, &team.name);
    let mut ns_labels = labels.clone();
    ns_labels.insert(
        "pod-security.kubernetes.io/enforce".to_string(),
        "restricted".to_string(),
    );
    let viewers: Vec<Json> = team
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
        Json::Object(hard)
    });
    // The orchestrator may read exactly this team's routed agents' token Secrets.
    let token_secrets: Vec<String> = fleet
        .agents
        .iter()
        // Agents made on request: read through the self-service Role instead, so this
        // Role does not change when one is made.
        .filter(|a| a.routed && !a.self_service && a.team == team.name)
        .map(|a| token_secret(&a.name))
        .collect();
    // With the router's idleAfter it may also read, watch and scale exactly these agents'
    // Deployments (sleep and wake: `clawctl-router`'s field manager).
    let deployments: Vec<String> = match idle_after(fleet) {
        Some(_) => fleet
            .agents
            .iter()
            .filter(|a| a.routed && a.team == team.name)
            .map(|a| resource_name(&a.name))
            .collect(),
        None => Vec::new(),
    };
    let orchestrator = fleet
        .routing
        .from
        .as_ref()
        .filter(|_| !token_secrets.is_empty())
        .and_then(|from| {
            Some(json!([{
                "kind": "ServiceAccount",
                "name": from.service_account.as_ref()?,
                "namespace": from.namespace,
            }]))
        });
    TeamContext {
        name: &team.name,
        namespace: &team.namespace,
        labels,
        namespace_labels: ns_labels,
        viewers,
        quota,
        orchestrator,
        token_secrets,
        deployments,
    }
}

/// The JSON Schema of each value the templates see, by the name a template uses: one
/// source for the book's templates page (generated from these by a test).
pub fn template_context_schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![
        ("fleet", schemars::schema_for!(FleetContext<'static>)),
        (
            "fleet.router",
            schemars::schema_for!(RouterContext<'static>),
        ),
        (
            "fleet.selfService",
            schemars::schema_for!(super::self_service::SelfServiceContext<'static>),
        ),
        ("team", schemars::schema_for!(TeamContext<'static>)),
        ("agent", schemars::schema_for!(AgentContext<'static>)),
    ]
}

/// The parts of every agent's context that do not depend on the agent, built once per
/// render and shared (a minijinja value clones by reference count).
pub struct AgentShared {
    release: Release,
    image: Value,
    readiness_path: &'static str,
    command: Value,
    ingress: Value,
    container_security: Value,
    dns_egress: Value,
}

impl AgentShared {
    /// Fails when the fleet's image runs an OpenClaw release clawctl cannot render for
    /// (a rollout to a new tag renders again, so this is checked here, not only by
    /// `validate`).
    pub fn new(fleet: &ResolvedFleet) -> Result<Self, InvalidInput> {
        let (release, _) = openclaw::release(&fleet.image, fleet.openclaw_version.as_deref())
            .map_err(|e| InvalidInput(format!("image {}: {e}", fleet.image)))?;
        Ok(AgentShared {
            release,
            image: Value::from(fleet.image.as_str()),
            readiness_path: openclaw::readiness_path(release.dialect),
            command: to_value(json!(openclaw::gateway_command())),
            ingress: to_value(ingress(fleet)),
            container_security: to_value(restricted_security()),
            // DNS is always allowed: without it no egress rule by name can work.
            dns_egress: to_value(json!({
                "to": [{
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }],
                "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
            })),
        })
    }
}

/// The restricted security context of clawctl's own containers (Pod Security
/// Standards, `restricted`).
fn restricted_security() -> Json {
    json!({
        "allowPrivilegeEscalation": false,
        "readOnlyRootFilesystem": true,
        "runAsNonRoot": true,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    })
}

/// A JSON value as a template value.
pub fn to_value(value: Json) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// A mapping as the template engine builds one from JSON: keys in their sorted order.
fn map<'k>(entries: impl IntoIterator<Item = (&'k str, Value)>) -> Value {
    Value::from(
        entries
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect::<BTreeMap<Value, Value>>(),
    )
}

fn str_map(m: &BTreeMap<String, String>) -> Value {
    map(m.iter().map(|(k, v)| (k.as_str(), Value::from(v.as_str()))))
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// What an agent's templates see as `agent`: one gateway, everything clawctl derived
/// from its merged settings. Values that are Kubernetes fragments are already in the
/// shape of the field they fill, so a template places them whole. The book's templates
/// page lists these fields from this type's schema (`render::context_schema`).
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

    let openclaw_json =
        serde_json::to_string_pretty(&super::openclaw_json::config_json(agent, &shared.release))
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

/// A multi-agent gateway's per-agent workspace volumes: the claims, their pod volumes,
/// and where the init container and the gateway mount them.
struct Workspaces {
    claims: Json,
    mounts: Json,
    volumes: Json,
}

fn workspaces(agent: &ResolvedAgent, labels: &BTreeMap<String, String>) -> Workspaces {
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
fn gateway_mounts(agent: &ResolvedAgent) -> Json {
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
fn mount(name: &str, path: &str, read_only: bool) -> Json {
    let mut mount = json!({"name": name, "mountPath": path});
    if read_only {
        mount["readOnly"] = json!(true);
    }
    mount
}

/// Secrets are mounted owner-read only: an SSH client refuses a key others may read.
const SECRET_MODE: u32 = 0o400;

/// The extra volumes, then each sidecar's scratch space.
fn extra_volumes(agent: &ResolvedAgent) -> Json {
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
fn sidecars(agent: &ResolvedAgent) -> Json {
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
fn scheduling(agent: &ResolvedAgent) -> Json {
    let mut s = agent.pod.scheduling.clone();
    if s.node_selector.as_ref().is_some_and(|m| m.is_empty()) {
        s.node_selector = None;
    }
    if s.tolerations.as_ref().is_some_and(|t| t.is_empty()) {
        s.tolerations = None;
    }
    serde_json::to_value(&s).unwrap_or_else(|_| json!({}))
}

fn ingress(fleet: &ResolvedFleet) -> Json {
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

/// The NetworkPolicy's ingress rules: the fleet's `routing.from`, then the proxy the
/// agent is exposed through (`exposure.from`), each on the gateway port only.
fn ingress_rules(shared: &AgentShared, fleet: &ResolvedFleet, agent: &ResolvedAgent) -> Value {
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
fn http_route(agent: &ResolvedAgent) -> Json {
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
fn ingress_route(agent: &ResolvedAgent) -> Json {
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

fn egress(shared: &AgentShared, agent: &ResolvedAgent) -> Value {
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
fn api_token_volume(agent: &ResolvedAgent) -> Json {
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
fn api_token_mount(agent: &ResolvedAgent) -> Json {
    if agent.access.is_empty() {
        return Json::Null;
    }
    json!({"name": openclaw::API_TOKEN_VOLUME, "mountPath": openclaw::API_TOKEN_DIR, "readOnly": true})
}

/// The pod template's labels: the agent's, plus what a cloud identity needs.
fn pod_labels(
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
fn pod_annotations(agent: &ResolvedAgent) -> BTreeMap<String, String> {
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
fn service_account_annotations(agent: &ResolvedAgent) -> BTreeMap<String, String> {
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
struct KnowledgeContainers {
    pull: Json,
    push: Json,
    volumes: Json,
}

fn knowledge_containers(agent: &ResolvedAgent, workspace_mounts: &Json) -> KnowledgeContainers {
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
