//! The fleet file's schema (`apiVersion: clawctl.io/v1alpha1`, `kind: Fleet`), as serde
//! and JSON Schema types. Only shape lives here; rules live in `validate`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::layering::{self, Merge};

pub use super::units::{Duration, ObjectName, Quantity};

pub const API_VERSION: &str = "clawctl.io/v1alpha1";
pub const KIND: &str = "Fleet";
pub const DEFAULT_FLEET_NAMESPACE: &str = "clawctl-system";

/// A fleet of OpenClaw agents: who they are, what they may do, how they are rolled out.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "clawctl Fleet")]
pub struct FleetFile {
    /// Always `clawctl.io/v1alpha1`.
    pub api_version: String,
    /// Always `Fleet`.
    pub kind: String,
    pub metadata: FleetMetadata,
    pub spec: FleetSpec,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FleetMetadata {
    /// The fleet's name (a DNS-1123 label); labels every object clawctl manages.
    pub name: String,
    /// Where fleet-level objects live (routing table, lock, inventory). Default `clawctl-system`.
    #[serde(default)]
    pub namespace: Option<String>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FleetSpec {
    /// The OpenClaw image, pinned by tag or `@sha256:` digest.
    pub image: String,
    /// The OpenClaw release the image runs (`2026.9.6`), when its tag does not say: a
    /// digest or a private tag. openclaw.json differs between releases.
    #[serde(default)]
    pub openclaw_version: Option<String>,
    /// A folder of `*.yaml.j2` files overriding built-in templates one file at a time,
    /// relative to the fleet file.
    #[serde(default)]
    pub templates: Option<String>,
    /// The security baseline. Agents may tighten it, never loosen it.
    #[serde(default)]
    pub policy: Policy,
    /// Defaults for `clawctl rollout`.
    #[serde(default)]
    pub rollout: Rollout,
    /// Who may reach the agents.
    #[serde(default)]
    pub routing: Routing,
    /// Namespaces that exist already, made by someone else, that the fleet may take
    /// over (its own or its teams'). Without this, apply refuses a namespace clawctl did
    /// not create. An adopted namespace is never deleted by clawctl.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adopt_namespaces: Vec<String>,
    /// Settings for every agent (layer 1 of 3).
    #[serde(default)]
    pub defaults: Settings,
    #[serde(default)]
    pub teams: Vec<Team>,
    #[serde(default)]
    pub agents: Vec<Agent>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    pub tools: ToolPolicy,
    /// No agent's requests or limits may exceed these.
    #[serde(default)]
    pub max_resources: Option<ResourceList>,
    /// Allow `:latest` and untagged images. Off by default.
    #[serde(default)]
    pub allow_floating_tags: bool,
}

/// The tool baseline written into every agent's openclaw.json.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ToolPolicy {
    /// Whether agents may run elevated (host) tools. Default false.
    #[serde(default)]
    pub elevated: bool,
    /// Restrict file tools to the agent's workspace. Default true.
    #[serde(default = "yes")]
    pub fs_workspace_only: bool,
    /// Tools no agent may use.
    #[serde(default)]
    pub deny: Vec<String>,
}

impl Default for ToolPolicy {
    fn default() -> Self {
        ToolPolicy {
            elevated: false,
            fs_workspace_only: true,
            deny: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

/// An agent's or a layer's tool settings: may only tighten the policy.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema, Merge)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[merge(strategy = layering::over)]
pub struct ToolSettings {
    #[serde(default)]
    pub elevated: Option<bool>,
    #[serde(default)]
    pub fs_workspace_only: Option<bool>,
    /// Tools denied in addition to the policy's.
    #[serde(default)]
    pub deny: Option<Vec<String>>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Merge)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[merge(strategy = layering::over)]
pub struct ResourceList {
    #[serde(default)]
    pub cpu: Option<Quantity>,
    #[serde(default)]
    pub memory: Option<Quantity>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rollout {
    /// Which agents go first. Exactly one of `agents`, `count`, `percent`.
    #[serde(default)]
    pub canary: Option<Canary>,
    /// Steps of the remaining agents after the canary passes, as cumulative percentages.
    #[serde(default)]
    pub waves: Option<Vec<String>>,
    /// How long an updated agent must stay healthy. Default 60s.
    #[serde(default)]
    pub soak: Option<Duration>,
    /// Time limit per wave. Default 10m.
    #[serde(default)]
    pub timeout: Option<Duration>,
    /// Roll back every agent the rollout changed when a gate fails. Default true.
    #[serde(default)]
    pub auto_rollback: Option<bool>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Canary {
    #[serde(default)]
    pub agents: Option<Vec<String>>,
    #[serde(default)]
    pub count: Option<u32>,
    #[serde(default)]
    pub percent: Option<u32>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Routing {
    /// The only pods allowed to open connections to agents (an orchestrator, a gateway).
    /// With it, every agent gets its own gateway token (a Secret clawctl creates) and
    /// OpenClaw's HTTP chat endpoint, for the orchestrator to forward messages.
    #[serde(default)]
    pub from: Option<PeerSelector>,
    /// Run clawctl's own router (clawctl-router), in a namespace of its own, as the
    /// orchestrator: the only Slack connection and/or an HTTP front door, forwarding each
    /// person's messages to their agent. Sets `from` to the router's pods; the two are
    /// exclusive.
    #[serde(default)]
    pub router: Option<RouterSpec>,
    /// Agents on request (`/setup-agent`): the router makes one for a person it admits,
    /// in `team`, recording a claim in its namespace that `clawctl apply` reads back as
    /// part of the fleet. Needs `router`.
    #[serde(default)]
    pub self_service: Option<SelfService>,
}

/// `spec.routing.selfService`: who may ask the router for an agent, where it goes, and
/// its settings.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SelfService {
    /// The team new agents join. It must hold no agents of the file: the router's
    /// rights in its namespace then reach only agents the router made.
    pub team: String,
    /// Who may ask. At least one entry.
    #[serde(default)]
    pub allow: SelfServiceAllow,
    /// The most agents made on request. Default 100.
    #[serde(default)]
    pub max_agents: Option<u32>,
    /// Settings for agents made on request, a layer over the fleet's and the team's
    /// defaults. Inline only (no `file:`), and no `access`, `exposure` or `suspended`:
    /// the router could not grant, expose or keep them.
    #[serde(default)]
    pub defaults: Settings,
}

/// Who may ask for an agent.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SelfServiceAllow {
    /// Slack user ids (`U0ABC`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slack: Vec<String>,
    /// Slack user groups (`S0XYZ`): the router asks Slack who is in them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slack_groups: Vec<String>,
    /// Emails from the HTTP door's authenticating proxy; `*@example.com` admits a domain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
}

/// clawctl-router, the swarm's front door.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouterSpec {
    /// The router's image (built from router/Containerfile), pinned by tag or digest.
    pub image: String,
    /// The router's own namespace (default `<fleet>-router`): it may read every routed
    /// agent's gateway token, so nothing else runs beside it. Not the fleet namespace
    /// and not a team's.
    #[serde(default)]
    pub namespace: Option<String>,
    /// A Secret in the fleet namespace with SLACK_APP_TOKEN (xapp-, Socket Mode) and
    /// SLACK_BOT_TOKEN (xoxb-): turns on the Slack door.
    #[serde(default)]
    pub slack_secret: Option<String>,
    /// The HTTP door, behind an authenticating proxy.
    #[serde(default)]
    pub http: Option<RouterHttp>,
    /// Put an agent to sleep (its Deployment scaled to zero by the router) after this
    /// long without a message, and wake it at the next one. At least 1m; absent: agents
    /// never sleep.
    #[serde(default)]
    pub idle_after: Option<Duration>,
}

/// The router's HTTP door: identities come only from a header the proxy sets, and only
/// on connections from the proxy's addresses.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouterHttp {
    /// The authenticating proxy's addresses (CIDRs, e.g. `10.0.3.0/24`); nobody else may
    /// name an identity.
    pub proxy: Vec<String>,
    /// The header the proxy puts the person's email in. Default `X-Forwarded-Email`
    /// (oauth2-proxy's).
    #[serde(default)]
    pub header: Option<String>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PeerSelector {
    pub namespace: String,
    #[serde(default)]
    pub pod_selector: BTreeMap<String, String>,
    /// The orchestrator's ServiceAccount in `namespace` (routing only): allowed to read
    /// exactly the agents' gateway token Secrets.
    #[serde(default)]
    pub service_account: Option<String>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Team {
    pub name: String,
    /// Defaults to the team's name.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Subjects (`group:NAME`, `user:NAME`, `serviceaccount:NS:NAME`) with read-only access
    /// to pods and pods/log in the team's namespace.
    #[serde(default)]
    pub viewers: Vec<String>,
    /// A ResourceQuota for the team's namespace.
    #[serde(default)]
    pub quota: Option<ResourceList>,
    /// Settings for the team's agents (layer 2 of 3).
    #[serde(default)]
    pub defaults: Settings,
}

/// The model an agent talks to.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema, Merge)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[merge(strategy = layering::over)]
pub struct Model {
    /// `provider/model`, e.g. `anthropic/claude-sonnet-4-20250514`.
    #[serde(default)]
    pub primary: Option<String>,
    /// Tried in order when the primary fails.
    #[serde(default)]
    pub fallbacks: Option<Vec<String>>,
    /// An OpenAI-compatible endpoint (LiteLLM, vLLM, Ollama) the models are reached through.
    #[serde(default)]
    #[merge(strategy = layering::deep)]
    pub endpoint: Option<ModelEndpoint>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema, Merge)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[merge(strategy = layering::over)]
pub struct ModelEndpoint {
    /// The provider name models are addressed by (`litellm/...`).
    #[merge(strategy = layering::replace)]
    pub provider: String,
    /// e.g. `http://litellm-service.llama.svc.cluster.local:4000`.
    #[merge(strategy = layering::replace)]
    pub base_url: String,
    /// Environment variable (from `secrets`) holding the API key, if the endpoint needs one.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Let the gateway reach the endpoint on a private or cluster-internal address, which
    /// OpenClaw blocks by default. Default: true when `baseUrl`'s host is cluster-internal
    /// (`*.svc`, `*.cluster.local`, `*.internal`, `*.local`, a name without dots) or a
    /// private, loopback or link-local IP address.
    #[serde(default)]
    pub allow_private_network: Option<bool>,
    /// Parameters of the models reached through the endpoint, by model id (the part of
    /// `primary`/`fallbacks` after `provider/`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[merge(strategy = layering::by_name_deep)]
    pub models: BTreeMap<String, EndpointModel>,
}

/// What OpenClaw cannot learn from a custom endpoint by itself.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema, Merge)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[merge(strategy = layering::over)]
pub struct EndpointModel {
    /// The model's context window, in tokens.
    #[serde(default)]
    pub context_window: Option<u64>,
    /// The most tokens one reply may use.
    #[serde(default)]
    pub max_tokens: Option<u64>,
}

/// The gateway's browser Control UI.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema, Merge)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[merge(strategy = layering::over)]
pub struct ControlUi {
    /// Serve the Control UI. Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Browser origins (`https://claw.example.com`) allowed to open the Control UI.
    /// Default: only the gateway's own loopback origins, which a port-forward reaches.
    #[serde(default)]
    pub allowed_origins: Option<Vec<String>>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema, Merge)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[merge(strategy = layering::over)]
pub struct Resources {
    #[serde(default)]
    #[merge(strategy = layering::deep)]
    pub requests: Option<ResourceList>,
    #[serde(default)]
    #[merge(strategy = layering::deep)]
    pub limits: Option<ResourceList>,
}

/// The agent's volume: its memory. Never deleted unless asked for exactly that.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema, Merge)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[merge(strategy = layering::over)]
pub struct Storage {
    #[serde(default)]
    pub size: Option<Quantity>,
    #[serde(default)]
    pub storage_class_name: Option<String>,
}

/// A file placed in the agent's workspace (`~/.openclaw/workspace`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkspaceFile {
    /// Path relative to the fleet file. Exactly one of `file` and `inline`.
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub inline: Option<String>,
    /// `managed`: rewritten at every start (default); `seed`: written only when absent,
    /// so the agent may change it; `tracked`: written when absent or when the fleet's
    /// version changed since it was last written, otherwise the agent's edits are kept.
    #[serde(default)]
    pub mode: FileMode,
}

/// How the init container treats a workspace file at every start of the pod.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FileMode {
    /// The fleet's version, rewritten at every start: the agent's edits last until then.
    #[default]
    Managed,
    /// Written only when absent: the agent owns it from then on.
    Seed,
    /// Written when absent or when the fleet's version changed (its SHA-256 differs from
    /// the one recorded on the volume when it was last written); otherwise the agent's
    /// edits are kept. An agent refines it, and still gets the fleet's updates.
    Tracked,
}

impl FileMode {
    /// The folder of the init container's ConfigMap mount the file is placed in, which
    /// tells the init script what to do with it (see `openclaw::INIT_SCRIPT`).
    pub fn folder(self) -> &'static str {
        match self {
            FileMode::Managed => "managed",
            FileMode::Seed => "seed",
            FileMode::Tracked => "tracked",
        }
    }
}

/// Allowed outbound traffic. With no `namespace` and no `cidr`, any destination on `ports`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EgressRule {
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub pod_selector: Option<BTreeMap<String, String>>,
    /// An IP block such as `10.0.0.0/8`.
    #[serde(default)]
    pub cidr: Option<String>,
    #[serde(default)]
    pub ports: Vec<u16>,
}

/// A chat channel the agent answers on.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Channel {
    /// `slack`, `telegram`, `discord`, ...
    pub channel: String,
}

/// A namespaced RBAC rule for the agent's own service account.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessRule {
    #[serde(default)]
    pub api_groups: Vec<String>,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_names: Vec<String>,
    pub verbs: Vec<String>,
    /// Not allowed: non-resource URLs are cluster-scoped. Accepted by the schema only to
    /// explain the refusal.
    #[serde(
        default,
        rename = "nonResourceURLs",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(skip)]
    pub non_resource_urls: Vec<String>,
}

/// A container beside the gateway in the agent's pod (a headless browser the gateway
/// reaches on localhost, say). It shares the pod's network, so it needs no Service.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Sidecar {
    /// Pinned by tag or digest, like the fleet's image.
    pub image: String,
    /// Replaces the image's entrypoint.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    #[serde(default)]
    pub args: Option<Vec<String>>,
    #[serde(default)]
    pub env: Option<BTreeMap<String, String>>,
    /// Ports it listens on, reached by the gateway on localhost.
    #[serde(default)]
    pub ports: Option<Vec<SidecarPort>>,
    /// Default requests 100m/128Mi, limits 500m/512Mi; within `policy.maxResources`.
    #[serde(default)]
    pub resources: Option<Resources>,
    /// Extra volumes (from `volumes`) mounted into this container too.
    #[serde(default)]
    pub volume_mounts: Option<Vec<VolumeMount>>,
    /// Default true. `false` needs `writableRootReason`.
    #[serde(default)]
    pub read_only_root_filesystem: Option<bool>,
    /// Why the container must write to its root filesystem.
    #[serde(default)]
    pub writable_root_reason: Option<String>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SidecarPort {
    /// An IANA service name (at most 15 characters), e.g. `cdp`.
    #[serde(default)]
    pub name: Option<String>,
    pub container_port: u16,
}

/// An extra volume mounted into a sidecar.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VolumeMount {
    /// The volume's name in `volumes`.
    pub name: String,
    pub mount_path: String,
    /// Default: the volume's `readOnly`.
    #[serde(default)]
    pub read_only: Option<bool>,
}

/// An extra volume, mounted into the gateway at `mountPath`. Exactly one source:
/// `persistentVolumeClaim`, `nfs`, `secret` or `configMap`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Volume {
    /// Where the gateway sees it; may not cover OpenClaw's state directory or clawctl's
    /// own mounts.
    pub mount_path: String,
    /// Mount read-only. Default false; Secrets and ConfigMaps are always read-only.
    #[serde(default)]
    pub read_only: Option<bool>,
    /// An existing claim in the team's namespace (clawctl neither creates nor deletes it).
    #[serde(default)]
    pub persistent_volume_claim: Option<ClaimSource>,
    #[serde(default)]
    pub nfs: Option<NfsSource>,
    /// Files of a Secret, owner-read only (mode 0400); clawctl never reads it.
    #[serde(default)]
    pub secret: Option<SecretSource>,
    #[serde(default)]
    pub config_map: Option<ConfigMapSource>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimSource {
    pub claim_name: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NfsSource {
    /// Host name or IP address of the NFS server.
    pub server: String,
    /// The exported path, absolute.
    pub path: String,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretSource {
    pub secret_name: String,
    /// Only these keys, at these file names. Default: every key.
    #[serde(default)]
    pub items: Option<Vec<KeyToPath>>,
    /// Start even when the Secret (or a key) is missing.
    #[serde(default)]
    pub optional: Option<bool>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigMapSource {
    pub name: String,
    #[serde(default)]
    pub items: Option<Vec<KeyToPath>>,
    #[serde(default)]
    pub optional: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyToPath {
    pub key: String,
    /// A relative file name inside the mount.
    pub path: String,
}

/// How the agent is reached from outside its namespace: its Service's type, a Gateway
/// API HTTPRoute and/or an Ingress, and the proxy pods its NetworkPolicy admits.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema, Merge)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[merge(strategy = layering::over)]
pub struct Exposure {
    /// The Service's type. Default and only allowed value `ClusterIP`: the gateway speaks
    /// plain HTTP, so TLS ends at a proxy (`httpRoute`, `ingress`).
    #[serde(default)]
    pub service_type: Option<ServiceType>,
    /// A Gateway API HTTPRoute (gateway.networking.k8s.io/v1) to the agent's Service.
    #[serde(default)]
    #[merge(strategy = layering::deep)]
    pub http_route: Option<HttpRoute>,
    /// An Ingress (networking.k8s.io/v1) to the agent's Service.
    #[serde(default)]
    #[merge(strategy = layering::deep)]
    pub ingress: Option<IngressSpec>,
    /// The path prefix the HTTPRoute and the Ingress send to the agent, default `/`;
    /// another prefix is also the Control UI's base path (`gateway.controlUi.basePath`).
    #[serde(default)]
    pub path: Option<String>,
    /// The proxy's pods (the Gateway's data plane or the ingress controller), admitted
    /// on port 18789 by the agent's NetworkPolicy. Required with `httpRoute` or `ingress`.
    #[serde(default)]
    #[merge(strategy = layering::deep)]
    pub from: Option<ProxySelector>,
    /// Addresses or CIDR blocks of that proxy, whose `X-Forwarded-For` the gateway
    /// trusts (OpenClaw's `gateway.trustedProxies`): without them the gateway sees every
    /// browser as the proxy, and its login rate limit locks them all out together.
    #[serde(default)]
    pub trusted_proxies: Option<Vec<String>>,
}

/// A Service type (`ServiceSpec.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum ServiceType {
    ClusterIP,
    NodePort,
    LoadBalancer,
}

/// Gateway API HTTPRoute settings: attached to `parentRefs`, for `hostnames`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema, Merge)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[merge(strategy = layering::over)]
pub struct HttpRoute {
    /// The Gateways (and listeners) the route attaches to.
    #[serde(default)]
    pub parent_refs: Option<Vec<ParentRef>>,
    /// DNS names the route answers for; each becomes an allowed Control UI origin
    /// `https://<hostname>`.
    #[serde(default)]
    pub hostnames: Option<Vec<String>>,
}

/// A Gateway an HTTPRoute attaches to.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParentRef {
    /// The Gateway's name.
    pub name: String,
    /// The Gateway's namespace. Default: the agent's.
    #[serde(default)]
    pub namespace: Option<String>,
    /// One listener of the Gateway, by name.
    #[serde(default)]
    pub section_name: Option<String>,
}

/// Ingress settings: one host, one path, to the agent's gateway port.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema, Merge)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[merge(strategy = layering::over)]
pub struct IngressSpec {
    /// The IngressClass (`nginx`, `traefik`). Required: a default class would make the
    /// agent's exposure depend on the cluster.
    #[serde(default)]
    pub class_name: Option<String>,
    /// The DNS name the Ingress answers for. Required.
    #[serde(default)]
    pub host: Option<String>,
    /// A `kubernetes.io/tls` Secret in the agent's namespace; the allowed origin is then
    /// `https://<host>`, else `http://<host>`.
    #[serde(default)]
    pub tls_secret_name: Option<String>,
    /// Annotations for the ingress controller (merge key by key).
    #[serde(default)]
    #[merge(strategy = layering::by_name)]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// Pods in a namespace, for a NetworkPolicy rule.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema, Merge)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[merge(strategy = layering::over)]
pub struct ProxySelector {
    #[merge(strategy = layering::replace)]
    pub namespace: String,
    /// Labels of the proxy's pods. Empty: every pod of `namespace`.
    #[serde(default)]
    #[merge(strategy = layering::by_name_always)]
    pub pod_selector: BTreeMap<String, String>,
}

/// Where the agent's pod may run. Fields as in a Pod spec.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema, Merge)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[merge(strategy = layering::over)]
pub struct Scheduling {
    /// Node labels the node must have. Merges key by key across layers.
    #[serde(default)]
    #[merge(strategy = layering::by_name)]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Replaces the layer's below whole.
    #[serde(default)]
    pub tolerations: Option<Vec<Toleration>>,
    /// Replaces the layer's below whole.
    #[serde(default)]
    pub affinity: Option<Affinity>,
    #[serde(default)]
    pub priority_class_name: Option<String>,
    /// A RuntimeClass (gVisor, Kata) isolating the pod further.
    #[serde(default)]
    pub runtime_class_name: Option<String>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Toleration {
    /// Empty or left out with `Exists`: every taint.
    #[serde(default)]
    pub key: Option<String>,
    /// Default `Equal`.
    #[serde(default)]
    pub operator: Option<TolerationOperator>,
    #[serde(default)]
    pub value: Option<String>,
    /// Default: every effect.
    #[serde(default)]
    pub effect: Option<TaintEffect>,
    /// Only with `NoExecute`.
    #[serde(default)]
    pub toleration_seconds: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum TolerationOperator {
    Equal,
    Exists,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Affinity {
    #[serde(default)]
    pub node_affinity: Option<NodeAffinity>,
    #[serde(default)]
    pub pod_affinity: Option<PodAffinity>,
    #[serde(default)]
    pub pod_anti_affinity: Option<PodAffinity>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeAffinity {
    #[serde(
        default,
        rename = "requiredDuringSchedulingIgnoredDuringExecution",
        skip_serializing_if = "Option::is_none"
    )]
    pub required: Option<NodeSelector>,
    #[serde(
        default,
        rename = "preferredDuringSchedulingIgnoredDuringExecution",
        skip_serializing_if = "Option::is_none"
    )]
    pub preferred: Option<Vec<PreferredNodeTerm>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeSelector {
    /// Any one term must match.
    pub node_selector_terms: Vec<NodeSelectorTerm>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeSelectorTerm {
    /// Every expression must match.
    #[serde(default)]
    pub match_expressions: Option<Vec<NodeRequirement>>,
    #[serde(default)]
    pub match_fields: Option<Vec<NodeRequirement>>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeRequirement {
    pub key: String,
    pub operator: NodeOperator,
    #[serde(default)]
    pub values: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum NodeOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    Gt,
    Lt,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreferredNodeTerm {
    /// 1 to 100.
    pub weight: i32,
    pub preference: NodeSelectorTerm,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PodAffinity {
    #[serde(
        default,
        rename = "requiredDuringSchedulingIgnoredDuringExecution",
        skip_serializing_if = "Option::is_none"
    )]
    pub required: Option<Vec<PodAffinityTerm>>,
    #[serde(
        default,
        rename = "preferredDuringSchedulingIgnoredDuringExecution",
        skip_serializing_if = "Option::is_none"
    )]
    pub preferred: Option<Vec<PreferredPodTerm>>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodAffinityTerm {
    #[serde(default)]
    pub label_selector: Option<LabelSelector>,
    #[serde(default)]
    pub namespaces: Option<Vec<String>>,
    /// A node label, e.g. `kubernetes.io/hostname`.
    pub topology_key: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreferredPodTerm {
    /// 1 to 100.
    pub weight: i32,
    pub pod_affinity_term: PodAffinityTerm,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelector {
    #[serde(default)]
    pub match_labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub match_expressions: Option<Vec<LabelRequirement>>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelRequirement {
    pub key: String,
    pub operator: LabelOperator,
    #[serde(default)]
    pub values: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum LabelOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

/// Defines [`Settings`] and [`Agent`] from one list of the fields that layer (fleet
/// defaults, team defaults, the agent), each with the rule it merges by after `=>` (a
/// function of `layering`): a setting is declared once, here.
macro_rules! settings_structs {
    ($( $(#[$meta:meta])* pub $field:ident : $ty:ty => $strategy:ident, )*) => {
        /// Settings that layer: fleet defaults, then team defaults, then the agent. Maps
        /// merge key by key, lists and scalars replace.
        #[serde_with::skip_serializing_none]
        #[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct Settings {
            $( $(#[$meta])* pub $field: $ty, )*
        }

        /// One agent: an OpenClaw gateway with its own volume, identity and persona.
        #[serde_with::skip_serializing_none]
        #[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct Agent {
            /// DNS-1123 label, at most 57 characters (objects are named `agent-<name>`).
            pub name: String,
            /// The team it belongs to; may be left out when the fleet has exactly one team.
            #[serde(default)]
            pub team: Option<String>,
            /// The owner's identities by channel (`slack: U012ABC`), for the routing table.
            #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
            pub user: BTreeMap<String, String>,
            /// Several OpenClaw agents in this one gateway (OpenClaw's multi-agent routing),
            /// each with its own workspace volume, persona files, model and `bindings`. The
            /// entry's settings are then the gateway's (pod, channels, tools) and every hosted
            /// agent's defaults. The first is the default agent. Without it the gateway
            /// hosts one agent.
            #[serde(default)]
            pub agents: Option<Vec<HostedAgent>>,
            $( $(#[$meta])* pub $field: $ty, )*
        }

        impl Merge for Settings {
            /// `above` over `self`, each field by the rule written after it.
            fn merge(&mut self, above: Self) {
                $( layering::$strategy(&mut self.$field, above.$field); )*
            }
        }

        impl Agent {
            /// The agent's own layer: its entry without its name, team, user and agents.
            pub fn settings(&self) -> Settings {
                Settings { $( $field: self.$field.clone(), )* }
            }

            /// An agent entry whose own layer is `settings`.
            pub fn with_settings(
                name: String,
                team: Option<String>,
                user: BTreeMap<String, String>,
                settings: Settings,
            ) -> Agent {
                Agent { name, team, user, agents: None, $( $field: settings.$field, )* }
            }
        }
    };
}

settings_structs! {
    #[serde(default)]
    pub model: Option<Model> => deep,
    #[serde(default)]
    pub resources: Option<Resources> => deep,
    #[serde(default)]
    pub storage: Option<Storage> => deep,
    /// Secret names loaded with envFrom. clawctl never reads their values.
    #[serde(default)]
    pub secrets: Option<Vec<String>> => over,
    /// Secrets (`kubernetes.io/dockerconfigjson`, in the team's namespace) the kubelet
    /// pulls the pod's images with: a private registry or mirror. Replaces the layer's
    /// below whole.
    #[serde(default)]
    pub image_pull_secrets: Option<Vec<ObjectName>> => over,
    #[serde(default)]
    pub env: Option<BTreeMap<String, String>> => by_name,
    /// Files placed in the workspace, by file name.
    #[serde(default)]
    pub workspace: Option<BTreeMap<String, WorkspaceFile>> => by_name,
    /// SOUL.md from a file relative to the fleet file.
    #[serde(default)]
    pub soul: Option<String> => over,
    /// SOUL.md written inline.
    #[serde(default)]
    pub soul_inline: Option<String> => over,
    #[serde(default)]
    pub egress: Option<Vec<EgressRule>> => over,
    #[serde(default)]
    pub tools: Option<ToolSettings> => deep,
    #[serde(default)]
    pub channels: Option<Vec<Channel>> => over,
    /// The gateway's browser Control UI and the origins allowed to open it.
    #[serde(default)]
    pub control_ui: Option<ControlUi> => deep,
    /// Let OpenClaw run its first-run BOOTSTRAP.md ritual (an interview that fills
    /// in IDENTITY.md and USER.md) on a new workspace. Default false: the fleet
    /// provides the persona.
    #[serde(default)]
    pub bootstrap: Option<bool> => over,
    /// Containers beside the gateway, by name. An entry replaces the same-named
    /// one of a layer below whole; `NAME: null` removes it.
    #[serde(default)]
    pub sidecars: Option<BTreeMap<String, Option<Sidecar>>> => by_name,
    /// Extra volumes mounted into the gateway, by name. An entry replaces the
    /// same-named one of a layer below whole; `NAME: null` removes it.
    #[serde(default)]
    pub volumes: Option<BTreeMap<String, Option<Volume>>> => by_name,
    /// Where the pod may run: nodeSelector (merges by key), tolerations and
    /// affinity (replace whole), priorityClassName, runtimeClassName.
    #[serde(default)]
    pub scheduling: Option<Scheduling> => deep,
    /// How the agent is reached: Service type, HTTPRoute, Ingress, proxy pods.
    #[serde(default)]
    pub exposure: Option<Exposure> => deep,
    /// Scale the gateway to zero, keeping its volume (its memory), its Service and
    /// everything else; `false` runs it again. A team or an agent setting: fleet
    /// defaults may not carry it. `clawctl suspend`/`resume` do the same without
    /// editing the file.
    #[serde(default)]
    pub suspended: Option<bool> => over,
    /// RBAC rules for the agent's service account (namespaced resources only).
    #[serde(default)]
    pub access: Option<Vec<AccessRule>> => over,
    /// An openclaw.json fragment, merged under the policy baseline.
    #[serde(default)]
    #[schemars(with = "Option<BTreeMap<String, serde_json::Value>>")]
    pub config: Option<serde_json::Value> => json,
    /// The agent's knowledge (its workspace) kept in an S3-compatible or GCS bucket:
    /// pulled before the gateway starts, pushed every `interval` and at shutdown.
    #[serde(default)]
    pub knowledge: Option<Knowledge> => deep,
    /// Cloud identities for the agent's ServiceAccount (GKE Workload Identity, EKS
    /// IRSA, Azure Workload Identity): credentials without static keys.
    #[serde(default)]
    pub identity: Option<Identity> => deep,
}

/// One OpenClaw agent in a gateway that hosts several. Unset fields come from the
/// gateway's settings.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HostedAgent {
    /// OpenClaw's agent id: a DNS-1123 label. Its workspace volume is named
    /// `agent-<gateway>-<name>`.
    pub name: String,
    /// Which messages it answers: a channel, narrowed by account, peer, guild or team.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bindings: Vec<Binding>,
    /// Its model. The endpoint (one provider config per gateway) is the gateway's.
    #[serde(default)]
    pub model: Option<Model>,
    /// Its workspace volume. Default: the gateway's storage settings.
    #[serde(default)]
    pub storage: Option<Storage>,
    /// Files placed in its workspace, over the gateway's, by file name.
    #[serde(default)]
    pub workspace: Option<BTreeMap<String, WorkspaceFile>>,
    /// Its SOUL.md from a file relative to the fleet file.
    #[serde(default)]
    pub soul: Option<String>,
    /// Its SOUL.md written inline.
    #[serde(default)]
    pub soul_inline: Option<String>,
}

impl HostedAgent {
    /// Its own layer over the gateway's settings: the fields a hosted agent may set.
    pub fn settings(&self) -> Settings {
        Settings {
            model: self.model.clone(),
            storage: self.storage.clone(),
            workspace: self.workspace.clone(),
            soul: self.soul.clone(),
            soul_inline: self.soul_inline.clone(),
            ..Settings::default()
        }
    }
}

/// Routes a gateway's messages to one of its agents (OpenClaw `bindings[].match`). Every
/// field given must match; the most specific binding wins (peer, guild, team, account,
/// then the channel).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Binding {
    /// One of the gateway's `channels`.
    pub channel: String,
    /// A channel account (`*`: every account). Default: the channel's default account.
    #[serde(default)]
    pub account_id: Option<String>,
    /// One conversation: a direct chat, a group or a channel.
    #[serde(default)]
    pub peer: Option<Peer>,
    /// A Discord server.
    #[serde(default)]
    pub guild_id: Option<String>,
    /// A Slack workspace.
    #[serde(default)]
    pub team_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Peer {
    pub kind: PeerKind,
    /// The chat's id on the channel (a user id, a phone number, a group id).
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PeerKind {
    Direct,
    Group,
    Channel,
}

/// Where an agent's knowledge is kept and how it syncs. Exactly one of `s3` and `gcs`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Knowledge {
    /// An S3 or S3-compatible bucket (MinIO, Ceph, R2).
    #[serde(default)]
    pub s3: Option<S3Bucket>,
    /// A Google Cloud Storage bucket.
    #[serde(default)]
    pub gcs: Option<GcsBucket>,
    /// Where in the bucket the fleet's agents keep their knowledge, each under
    /// `<prefix>/<agent>/`. Default: the bucket's root.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Whose knowledge this agent syncs (the folder under `prefix`). Default: its own
    /// name. A read-only agent names another to read what that one writes.
    #[serde(default)]
    pub from: Option<String>,
    /// `readWrite` (default): pull at start, push periodically and at shutdown;
    /// `readOnly`: pull only, the pod has no push container.
    #[serde(default)]
    pub mode: Option<KnowledgeMode>,
    /// How often changes are pushed. Default 15m.
    #[serde(default)]
    pub interval: Option<Duration>,
    /// What syncs: rclone glob patterns relative to OpenClaw's state directory. Default
    /// `workspace/**`, `workspace-*/**` (a multi-agent gateway's agents) and
    /// `openclaw.json` (pushed for the record, never pulled). `credentials/` and
    /// `agents/*/sessions/` never sync, whatever this says.
    #[serde(default)]
    pub include: Option<Vec<String>>,
    /// A Secret (in the team's namespace) with the bucket's keys, loaded into the sync
    /// containers only, never the gateway. Leave out to use the cloud identity.
    #[serde(default)]
    pub credentials_secret: Option<String>,
    /// The rclone image, pinned. Default `docker.io/rclone/rclone:1.68.2`.
    #[serde(default)]
    pub image: Option<String>,
}

/// A layer naming a bucket (`s3` or `gcs`) replaces the bucket below whole: a region or
/// an endpoint is another bucket's. The other fields each replace the layer's below.
impl Merge for Knowledge {
    fn merge(&mut self, above: Self) {
        let Knowledge {
            s3,
            gcs,
            prefix,
            from,
            mode,
            interval,
            include,
            credentials_secret,
            image,
        } = above;
        if s3.is_some() || gcs.is_some() {
            self.s3 = s3;
            self.gcs = gcs;
        }
        layering::over(&mut self.prefix, prefix);
        layering::over(&mut self.from, from);
        layering::over(&mut self.mode, mode);
        layering::over(&mut self.interval, interval);
        layering::over(&mut self.include, include);
        layering::over(&mut self.credentials_secret, credentials_secret);
        layering::over(&mut self.image, image);
    }
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct S3Bucket {
    pub bucket: String,
    /// e.g. `eu-west-1`.
    #[serde(default)]
    pub region: Option<String>,
    /// An S3-compatible endpoint, `https://host[:port]`. Default: AWS S3.
    #[serde(default)]
    pub endpoint: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GcsBucket {
    pub bucket: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum KnowledgeMode {
    #[default]
    ReadWrite,
    ReadOnly,
}

/// The cloud identities the agent's ServiceAccount stands for, one per cloud.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema, Merge)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[merge(strategy = layering::over)]
pub struct Identity {
    #[serde(default)]
    pub gcp: Option<GcpIdentity>,
    #[serde(default)]
    pub aws: Option<AwsIdentity>,
    #[serde(default)]
    pub azure: Option<AzureIdentity>,
}

/// GKE Workload Identity.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GcpIdentity {
    /// `NAME@PROJECT.iam.gserviceaccount.com`.
    pub service_account: String,
}

/// EKS IAM roles for service accounts (IRSA). EKS Pod Identity needs nothing here.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AwsIdentity {
    /// `arn:aws:iam::ACCOUNT:role/NAME`.
    pub role_arn: String,
}

/// Azure Workload Identity.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AzureIdentity {
    /// The managed identity's or application's client id (a UUID).
    pub client_id: String,
}

/// The JSON Schema of the fleet file.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(FleetFile);
    serde_json::to_value(schema).unwrap_or_default()
}
