//! Turns a decoded fleet into resolved agents: layers merged (fleet defaults, team
//! defaults, agent), policy applied, referenced files read, every rule of the fleet
//! file checked. All problems are reported together, each where it is written.
//! Each of an agent's concerns is resolved by its own module (see `agent`).

mod advice;
mod agent;
mod env;
mod exposure;
mod gateway;
mod hosted;
mod knowledge;
mod model;
mod network;
mod pod;
mod resources;
mod routing;
mod self_service;
mod suspend;
mod tools;
mod workspace;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::Loaded;
use super::model::{
    AccessRule, Agent, Channel, DEFAULT_FLEET_NAMESPACE, EgressRule, FileMode, ModelEndpoint,
    Policy, Quantity, ResourceList, Rollout, Routing, Settings, ToolPolicy,
};
use super::{guardrails, rules};
use crate::diag::{Diagnostic, Diagnostics, FieldPath};
pub use exposure::ResolvedExposure;
pub use gateway::ResolvedControlUi;
pub use hosted::ResolvedHosted;
pub use knowledge::ResolvedIdentity;
pub use pod::{ResolvedPod, ResolvedSidecar};

/// Largest workspace or soul file: a ConfigMap holds at most 1 MiB in all.
const MAX_FILE_BYTES: usize = 512 * 1024;

/// A fleet ready to render: every agent complete, every rule checked.
#[derive(Debug, Clone)]
pub struct ResolvedFleet {
    pub name: String,
    pub namespace: String,
    pub image: String,
    /// `spec.openclawVersion`: the release, when the image tag does not name it.
    pub openclaw_version: Option<String>,
    pub policy: Policy,
    pub rollout: Rollout,
    pub routing: Routing,
    /// A template override folder named by `spec.templates`, resolved against the file.
    pub templates: Option<PathBuf>,
    pub teams: Vec<ResolvedTeam>,
    pub agents: Vec<ResolvedAgent>,
    /// Existing namespaces the fleet may take over (`spec.adoptNamespaces`).
    pub adopt_namespaces: Vec<String>,
    /// Problems that do not stop the fleet from rendering, for the user to read.
    pub warnings: Vec<Diagnostic>,
    /// `spec.routing.selfService`, resolved.
    pub self_service: Option<ResolvedSelfService>,
}

/// `spec.routing.selfService` as the renderer and the router need it.
#[derive(Debug, Clone)]
pub struct ResolvedSelfService {
    pub team: String,
    /// The team's namespace, where the router makes agents.
    pub namespace: String,
    pub allow: super::model::SelfServiceAllow,
    pub max_agents: u32,
    /// Every file the fleet file references, by the path written in it: with the file's
    /// own text, what the router needs to resolve the fleet as clawctl does.
    pub sources: BTreeMap<String, Arc<str>>,
}

impl ResolvedFleet {
    /// The namespace clawctl-router runs in, with `routing.router`.
    pub fn router_namespace(&self) -> Option<&str> {
        self.routing.router.as_ref()?;
        self.routing.from.as_ref().map(|f| f.namespace.as_str())
    }

    /// Every namespace the fleet renders: its own, the teams', the router's.
    pub fn namespaces(&self) -> Vec<&str> {
        let mut all = vec![self.namespace.as_str()];
        all.extend(self.teams.iter().map(|t| t.namespace.as_str()));
        all.extend(self.router_namespace());
        all
    }
}

#[derive(Debug, Clone)]
pub struct ResolvedTeam {
    pub name: String,
    pub namespace: String,
    pub viewers: Vec<Subject>,
    pub quota: Option<ResourceList>,
}

/// An RBAC subject for a team's viewers.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Subject {
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ResolvedAgent {
    pub name: String,
    pub team: String,
    pub namespace: String,
    pub user: BTreeMap<String, String>,
    pub model_primary: String,
    pub model_fallbacks: Vec<String>,
    pub model_endpoint: Option<ModelEndpoint>,
    pub requests: ResourceList,
    pub limits: ResourceList,
    pub storage_size: Quantity,
    pub storage_class: Option<String>,
    pub secrets: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// Workspace files by name, SOUL.md included.
    pub files: BTreeMap<String, WorkspaceEntry>,
    pub egress: Vec<EgressRule>,
    pub tools: ToolPolicy,
    pub channels: Vec<Channel>,
    pub access: Vec<AccessRule>,
    /// The openclaw.json fragment from all layers, already checked against the policy.
    pub config: Map<String, Value>,
    pub control_ui: ResolvedControlUi,
    /// Whether OpenClaw's first-run bootstrap ritual runs on a new workspace.
    pub bootstrap: bool,
    /// Reached through an orchestrator (`routing.from`): its own gateway token, in a
    /// Secret clawctl creates, and OpenClaw's HTTP chat endpoint.
    pub routed: bool,
    /// Sidecars, extra volumes and scheduling.
    pub pod: ResolvedPod,
    /// The OpenClaw agents of a multi-agent gateway, the default first; empty when the
    /// gateway hosts one agent (this one).
    pub hosted: Vec<ResolvedHosted>,
    /// Service type, HTTPRoute, Ingress, and the proxy the NetworkPolicy admits.
    pub exposure: ResolvedExposure,
    /// Scaled to zero by the fleet file (`suspended: true`).
    pub suspended: bool,
    /// Made on request by the router (a claim, `spec.routing.selfService`): routed by
    /// the router from its claim, so not in `routes.json`.
    pub self_service: bool,
    /// The bucket its knowledge syncs with, if any.
    pub knowledge: Option<crate::knowledge::Knowledge>,
    /// The cloud identities its ServiceAccount stands for.
    pub identity: ResolvedIdentity,
}

impl ResolvedAgent {
    /// Every model the gateway's agents name (see [`hosted::gateway_models`]).
    pub fn models(&self) -> impl Iterator<Item = &str> {
        hosted::gateway_models(&self.model_primary, &self.model_fallbacks, &self.hosted)
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct WorkspaceEntry {
    pub content: Arc<str>,
    pub mode: FileMode,
}

/// Resolves `loaded`, or returns every problem found. Sees no self-service claims (they
/// live in the cluster): `validate` and `render` show the file's own agents.
pub fn resolve(loaded: &Loaded) -> Result<ResolvedFleet, Diagnostics> {
    resolve_with_claims(loaded, &[])
}

/// [`resolve`] with the self-service claims read from the cluster, each added as an
/// agent of `selfService.team` with `selfService.defaults` as a layer. The claims must
/// have passed [`super::self_service::check_claims`].
pub fn resolve_with_claims(
    loaded: &Loaded,
    claims: &[super::self_service::Claim],
) -> Result<ResolvedFleet, Diagnostics> {
    let mut cx = Cx {
        loaded,
        diags: loaded.unknown_fields.clone(),
        warnings: Vec::new(),
        files: HashMap::new(),
    };
    let fleet = &loaded.fleet;
    let spec = &fleet.spec;
    let root = FieldPath::root();

    cx.check(
        &root.key("metadata").key("name"),
        rules::dns_label(&fleet.metadata.name, 63),
    );
    let namespace = fleet
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| DEFAULT_FLEET_NAMESPACE.to_string());
    cx.check(
        &root.key("metadata").key("namespace"),
        rules::dns_label(&namespace, 63).and_then(|()| guardrails::reserved_namespace(&namespace)),
    );
    let spec_path = root.key("spec");
    if !spec.policy.allow_floating_tags {
        cx.check(&spec_path.key("image"), rules::image_pin(&spec.image));
    } else if spec.image.trim().is_empty() {
        cx.error(&spec_path.key("image"), "the image is empty");
    }
    let release = check_release(&mut cx, &spec_path);
    check_policy(&mut cx, &spec.policy, &spec_path.key("policy"));
    routing::check(
        &mut cx,
        &spec.routing,
        spec.policy.allow_floating_tags,
        &spec_path.key("routing"),
    );
    let effective_routing = routing::effective(&spec.routing, &fleet.metadata.name);
    let templates = spec.templates.as_ref().and_then(|t| {
        let path = spec_path.key("templates");
        // From a bundle: the templates travel with it (the caller builds them).
        if loaded.files.is_some() {
            return Some(PathBuf::from(t));
        }
        match safe_path(&loaded.dir, t) {
            Ok(p) if p.is_dir() => Some(p),
            Ok(_) => {
                cx.error(&path, format!("{t:?} is not a folder"));
                None
            }
            Err(e) => {
                cx.error(&path, e);
                None
            }
        }
    });

    let teams = resolve_teams(&mut cx, &namespace);
    let team_namespaces: Vec<&str> = teams.iter().map(|t| t.namespace.as_str()).collect();
    routing::check_router_namespace(
        &mut cx,
        &effective_routing,
        (&fleet.metadata.name, &namespace),
        &team_namespaces,
        &spec_path.key("routing"),
    );
    let router_namespace = effective_routing
        .router
        .as_ref()
        .and(effective_routing.from.as_ref())
        .map(|from| from.namespace.as_str());
    for (i, adopt) in spec.adopt_namespaces.iter().enumerate() {
        if *adopt != namespace
            && Some(adopt.as_str()) != router_namespace
            && !team_namespaces.contains(&adopt.as_str())
        {
            cx.error(
                &spec_path.key("adoptNamespaces").index(i),
                format!(
                    "{adopt:?} is not one of this fleet's namespaces (metadata.namespace, a \
                     team's or the router's namespace): only those can be adopted"
                ),
            );
        }
    }
    let defaults = to_layer(&spec.defaults);
    let team_layers: Vec<Map<String, Value>> = spec
        .teams
        .iter()
        .map(|t| merged(defaults.clone(), to_layer(&t.defaults)))
        .collect();
    for (i, team) in spec.teams.iter().enumerate() {
        let base = spec_path.key("teams").index(i).key("defaults");
        check_layer_only_fields(&mut cx, &team.defaults, &base);
    }
    check_layer_only_fields(&mut cx, &spec.defaults, &spec_path.key("defaults"));
    suspend::check_fleet_defaults(&mut cx, &spec.defaults, &spec_path.key("defaults"));

    let mut agents = Vec::with_capacity(spec.agents.len());
    let mut seen_names: HashMap<&str, usize> = HashMap::new();
    let mut seen_users: HashMap<(&str, &str), &str> = HashMap::new();
    for (i, agent) in spec.agents.iter().enumerate() {
        let path = spec_path.key("agents").index(i);
        if let Some(first) = seen_names.insert(&agent.name, i) {
            cx.error(
                &path.key("name"),
                format!(
                    "duplicate agent {:?}: also defined at spec.agents[{first}]",
                    agent.name
                ),
            );
        }
        for (channel, id) in &agent.user {
            if let Some(other) = seen_users.insert((channel, id), &agent.name) {
                cx.error(
                    &path.key("user").key(channel.as_str()),
                    format!("{channel} user {id:?} is already routed to agent {other:?}"),
                );
            }
        }
        if let Some(resolved) =
            agent::resolve_agent(&mut cx, i, agent, &teams, &defaults, &team_layers)
        {
            agents.push(resolved);
        }
    }
    let self_service =
        self_service::resolve(&mut cx, claims, &teams, &agents, (&defaults, &team_layers));
    agents.extend(self_service.agents);
    routing::route_agents(
        &mut cx,
        &effective_routing,
        &mut agents,
        &spec_path.key("routing"),
    );
    exposure::unique_hosts(&mut cx, &agents);
    advice::runtime_tools(&mut cx, &agents);
    knowledge::shared_credentials(&mut cx, &agents);
    knowledge::foreign_writers(&mut cx, &agents);
    check_access_reach(&mut cx, &agents);
    if let Some(release) = &release {
        advice::plugins(&mut cx, release, &agents);
        advice::unlinked_channels(&mut cx, release, &agents);
    }
    check_rollout(
        &mut cx,
        &spec.rollout,
        &spec_path.key("rollout"),
        &spec.agents,
    );

    merge_per_agent(&mut cx.diags);
    cx.diags.into_result()?;
    let self_service = self_service.resolved.map(|mut s| {
        s.sources = cx
            .files
            .iter()
            .filter_map(|(rel, text)| Some((rel.clone(), text.as_ref().ok()?.clone())))
            .collect();
        s
    });
    Ok(ResolvedFleet {
        name: fleet.metadata.name.clone(),
        namespace,
        image: spec.image.clone(),
        openclaw_version: spec.openclaw_version.clone(),
        policy: spec.policy.clone(),
        rollout: spec.rollout.clone(),
        routing: effective_routing,
        templates,
        teams,
        agents,
        adopt_namespaces: spec.adopt_namespaces.clone(),
        warnings: cx.warnings,
        self_service,
    })
}

struct Cx<'a> {
    loaded: &'a Loaded,
    diags: Diagnostics,
    warnings: Vec<Diagnostic>,
    /// Referenced files, read once however many agents share them.
    files: HashMap<String, Result<Arc<str>, String>>,
}

impl Cx<'_> {
    fn error(&mut self, path: &FieldPath, message: impl Into<String>) {
        let d = self.loaded.diag(path, message);
        self.diags.push(d);
    }

    fn warn(&mut self, path: &FieldPath, message: impl Into<String>) {
        let d = self.loaded.diag(path, message);
        self.warnings.push(d);
    }

    fn check(&mut self, path: &FieldPath, result: Result<(), String>) {
        if let Err(message) = result {
            self.error(path, message);
        }
    }

    /// [`Cx::check`] with the path found only for an error: finding where a merged
    /// setting was written walks the file, which adds up over thousands of agents.
    fn check_at(&mut self, at: impl FnOnce(&Self) -> FieldPath, result: Result<(), String>) {
        if let Err(message) = result {
            let path = at(self);
            self.error(&path, message);
        }
    }

    /// Reads a file referenced at the path `at` finds (only needed for an error),
    /// relative to the fleet file's folder.
    fn read(&mut self, at: impl FnOnce(&Self) -> FieldPath, rel: &str) -> Option<Arc<str>> {
        let dir = self.loaded.dir.clone();
        let memory = self.loaded.files.clone();
        let result =
            self.files
                .entry(rel.to_string())
                .or_insert_with(|| match memory {
                    Some(files) => files.get(rel).cloned().ok_or_else(|| {
                        format!("cannot read {rel:?}: not in the self-service bundle")
                    }),
                    None => read_text(&dir, rel),
                })
                .clone();
        match result {
            Ok(text) => Some(text),
            Err(message) => {
                let path = at(self);
                self.error(&path, message);
                None
            }
        }
    }
}

/// Resolves `rel` inside `dir`, refusing absolute paths, `..` and symlinks leading out.
fn safe_path(dir: &Path, rel: &str) -> Result<PathBuf, String> {
    let p = Path::new(rel);
    if rel.is_empty() {
        return Err("the path is empty".to_string());
    }
    if p.components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "{rel:?} escapes the fleet file's folder: use a path inside it"
        ));
    }
    let base = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let full = base.join(p);
    let canonical = full
        .canonicalize()
        .map_err(|e| format!("cannot read {rel:?}: {}", io_reason(&e)))?;
    let canonical_base = base
        .canonicalize()
        .map_err(|e| format!("cannot read the fleet's folder: {e}"))?;
    if !canonical.starts_with(&canonical_base) {
        return Err(format!(
            "{rel:?} escapes the fleet file's folder through a symbolic link"
        ));
    }
    Ok(canonical)
}

fn read_text(dir: &Path, rel: &str) -> Result<Arc<str>, String> {
    let path = safe_path(dir, rel)?;
    if path.is_dir() {
        return Err(format!("cannot read {rel:?}: it is a folder"));
    }
    let bytes = super::read_limited(&path, MAX_FILE_BYTES).map_err(|_| {
        format!(
            "{rel:?} is larger than {} KiB, more than an agent's ConfigMap can hold",
            MAX_FILE_BYTES / 1024
        )
    })?;
    String::from_utf8(bytes)
        .map(Arc::from)
        .map_err(|_| format!("{rel:?} is not UTF-8 text"))
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

/// The image must run an OpenClaw release whose config clawctl knows: that release.
fn check_release(cx: &mut Cx, spec_path: &FieldPath) -> Option<crate::openclaw::Release> {
    let spec = &cx.loaded.fleet.spec;
    if !spec.policy.allow_floating_tags && rules::image_pin(&spec.image).is_err() {
        return None; // already reported: an unpinned image names no release
    }
    let declared = spec.openclaw_version.as_deref();
    let at = if declared.is_some() {
        spec_path.key("openclawVersion")
    } else {
        spec_path.key("image")
    };
    match crate::openclaw::release(&spec.image, declared) {
        Ok((release, warning)) => {
            if let Some(warning) = warning {
                cx.warn(&at, warning);
            }
            Some(release)
        }
        Err(e) => {
            cx.error(&at, e);
            None
        }
    }
}

fn check_policy(cx: &mut Cx, policy: &Policy, path: &FieldPath) {
    if let Some(max) = &policy.max_resources {
        for (field, q) in [("cpu", &max.cpu), ("memory", &max.memory)] {
            if q.as_ref().is_some_and(|q| q.millis() == 0) {
                cx.error(
                    &path.key("maxResources").key(field),
                    "must be greater than zero",
                );
            }
        }
    }
}

/// Checks the labels of a selector written at the path `at` finds.
fn check_selector(cx: &mut Cx, selector: &BTreeMap<String, String>, at: &dyn Fn(&Cx) -> FieldPath) {
    for (k, v) in selector {
        cx.check_at(
            |cx| at(cx).key(k.as_str()),
            rules::label_key(k).and(rules::label_value(v)),
        );
    }
}

fn resolve_teams(cx: &mut Cx, fleet_ns: &str) -> Vec<ResolvedTeam> {
    let spec = &cx.loaded.fleet.spec;
    let mut names = HashSet::new();
    let mut namespaces: HashMap<String, String> = HashMap::new();
    let mut teams = Vec::new();
    for (i, team) in spec.teams.iter().enumerate() {
        let path = FieldPath::root().key("spec").key("teams").index(i);
        cx.check(&path.key("name"), rules::dns_label(&team.name, 63));
        if !names.insert(team.name.clone()) {
            cx.error(&path.key("name"), format!("duplicate team {:?}", team.name));
            continue;
        }
        let namespace = team.namespace.clone().unwrap_or_else(|| team.name.clone());
        let ns_path = if team.namespace.is_some() {
            path.key("namespace")
        } else {
            path.key("name")
        };
        cx.check(
            &ns_path,
            rules::dns_label(&namespace, 63)
                .and_then(|()| guardrails::reserved_namespace(&namespace)),
        );
        if namespace == fleet_ns {
            cx.error(
                &ns_path,
                format!("namespace {namespace:?} is the fleet's own namespace (metadata.namespace); give the team its own"),
            );
        }
        if let Some(other) = namespaces.insert(namespace.clone(), team.name.clone()) {
            cx.error(
                &ns_path,
                format!("namespace {namespace:?} is already used by team {other:?}"),
            );
        }
        let mut viewers = Vec::new();
        for (j, viewer) in team.viewers.iter().enumerate() {
            match rules::subject(viewer) {
                Ok((kind, name, namespace)) => viewers.push(Subject {
                    kind,
                    name,
                    namespace,
                }),
                Err(e) => cx.error(&path.key("viewers").index(j), e),
            }
        }
        teams.push(ResolvedTeam {
            name: team.name.clone(),
            namespace,
            viewers,
            quota: team.quota.clone(),
        });
    }
    teams
}

/// Fields that only make sense on one agent are refused in the shared layers.
fn check_layer_only_fields(cx: &mut Cx, layer: &Settings, path: &FieldPath) {
    if layer.soul.is_some() && layer.soul_inline.is_some() {
        cx.error(
            &path.key("soulInline"),
            "set either `soul` or `soulInline`, not both",
        );
    }
}

fn to_layer<T: serde::Serialize>(settings: &T) -> Map<String, Value> {
    match serde_json::to_value(settings) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// Settings whose entries (by name) are each one thing: a layer's entry replaces the
/// same-named entry below whole, as a workspace file, a sidecar or a volume does.
const WHOLE_ENTRIES: [&str; 3] = ["workspace", "sidecars", "volumes"];

/// Merges `over` onto `base`: mappings merge key by key, everything else replaces.
/// A workspace file, a sidecar and a volume are one thing each, so their entries
/// replace whole; so does `scheduling.affinity` (half of one layer's affinity and half
/// of another's is a rule nobody wrote). `soul` and `soulInline` are one choice, so a
/// layer setting either drops both from below.
fn merged(mut base: Map<String, Value>, over: Map<String, Value>) -> Map<String, Value> {
    if over.contains_key("soul") || over.contains_key("soulInline") {
        base.remove("soul");
        base.remove("soulInline");
    }
    for (key, value) in over {
        let replace_children = WHOLE_ENTRIES.contains(&key.as_str());
        match (base.get_mut(&key), value) {
            (Some(Value::Object(b)), Value::Object(o)) if replace_children => {
                for (k, v) in o {
                    b.insert(k, v);
                }
            }
            (Some(Value::Object(b)), Value::Object(mut o)) if key == "scheduling" => {
                if let Some(affinity) = o.remove("affinity") {
                    b.insert("affinity".to_string(), affinity);
                }
                let inner = std::mem::take(b);
                *b = merged(inner, o);
            }
            // The knowledge bucket is one choice: a layer naming `s3` or `gcs`
            // replaces the bucket below whole (a region is another bucket's).
            (Some(Value::Object(b)), Value::Object(o)) if key == "knowledge" => {
                if o.contains_key("s3") || o.contains_key("gcs") {
                    b.remove("s3");
                    b.remove("gcs");
                }
                let inner = std::mem::take(b);
                *b = merged(inner, o);
            }
            (Some(Value::Object(b)), Value::Object(o)) => {
                let inner = std::mem::take(b);
                *b = merged(inner, o);
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
    base
}

/// Where a merged setting was written: the most specific layer that has it.
fn source(cx: &Cx, at: agent::At, rel: &FieldPath) -> FieldPath {
    let spec = FieldPath::root().key("spec");
    let gateway_path = match at.self_service {
        true => self_service::defaults_path().join(rel),
        false => spec.key("agents").index(at.agent).join(rel),
    };
    let mut candidates = Vec::with_capacity(4);
    if let Some(j) = at.hosted {
        candidates.push(
            spec.key("agents")
                .index(at.agent)
                .key("agents")
                .index(j)
                .join(rel),
        );
    }
    candidates.push(gateway_path.clone());
    if let Some(t) = at.team {
        candidates.push(spec.key("teams").index(t).key("defaults").join(rel));
    }
    candidates.push(spec.key("defaults").join(rel));
    let first = candidates[0].clone();
    candidates
        .into_iter()
        .find(|p| cx.loaded.has(p))
        .unwrap_or(first)
}

/// A problem in a shared layer is found once per agent; report it once, naming them.
fn merge_per_agent(diags: &mut Diagnostics) {
    const MARK: &str = " (for agent \"";
    let mut merged: Vec<crate::diag::Diagnostic> = Vec::new();
    let mut agents: Vec<Vec<String>> = Vec::new();
    for d in std::mem::take(&mut diags.0) {
        let Some(i) = d.message.find(MARK) else {
            merged.push(d);
            agents.push(Vec::new());
            continue;
        };
        let agent = d.message[i + MARK.len()..]
            .trim_end_matches("\")")
            .to_string();
        let base = d.message[..i].to_string();
        let same = |m: &crate::diag::Diagnostic| {
            (
                m.file.as_str(),
                m.line,
                m.column,
                m.path.as_str(),
                m.message.as_str(),
            ) == (
                d.file.as_str(),
                d.line,
                d.column,
                d.path.as_str(),
                base.as_str(),
            )
        };
        match merged.iter().position(same) {
            Some(j) if !agents[j].is_empty() => agents[j].push(agent),
            _ => {
                merged.push(crate::diag::Diagnostic { message: base, ..d });
                agents.push(vec![agent]);
            }
        }
    }
    for (d, names) in merged.iter_mut().zip(agents) {
        let mut seen = HashSet::new();
        let unique: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|n| seen.insert(*n))
            .collect();
        if !unique.is_empty() {
            let phrase = crate::diag::agents_phrase(&unique);
            d.message.push_str(&format!(" (for {phrase})"));
        }
    }
    diags.0 = merged;
}

/// `access` rules reaching beyond their agent (see [`guardrails::access_findings`]):
/// errors where the namespace holds other agents, warnings where it holds just one.
fn check_access_reach(cx: &mut Cx, agents: &[ResolvedAgent]) {
    let subjects: Vec<guardrails::AccessSubject> = agents
        .iter()
        .map(|a| {
            let mounted = a.pod.volumes.values().filter_map(|v| v.secret.as_ref());
            let knowledge = a
                .knowledge
                .iter()
                .filter_map(|k| k.credentials_secret.as_deref());
            guardrails::AccessSubject {
                name: &a.name,
                namespace: &a.namespace,
                secrets: a
                    .secrets
                    .iter()
                    .map(String::as_str)
                    .chain(mounted.map(|s| s.secret_name.as_str()))
                    .chain(knowledge)
                    .collect(),
                access: &a.access,
            }
        })
        .collect();
    let spec = &cx.loaded.fleet.spec;
    for finding in guardrails::access_findings(&subjects) {
        let agent = &agents[finding.agent];
        let Some(i) = spec.agents.iter().position(|a| a.name == agent.name) else {
            continue;
        };
        let at = agent::At {
            agent: i,
            team: spec.teams.iter().position(|t| t.name == agent.team),
            hosted: None,
            self_service: false,
        };
        let path = at
            .src(cx, &format!("access[{}]", finding.rule))
            .join(&finding.at);
        let own = at.path().to_string();
        let mut message = finding.message;
        if !path.to_string().starts_with(&format!("{own}.")) {
            message.push_str(&format!(" (for agent {:?})", agent.name));
        }
        if finding.refused {
            cx.error(&path, message);
        } else {
            cx.warn(&path, message);
        }
    }
}

fn check_rollout(cx: &mut Cx, rollout: &Rollout, path: &FieldPath, agents: &[Agent]) {
    if let Some(canary) = &rollout.canary {
        let at = path.key("canary");
        let set = [
            canary.agents.is_some(),
            canary.count.is_some(),
            canary.percent.is_some(),
        ];
        if set.iter().filter(|s| **s).count() != 1 {
            cx.error(&at, "set exactly one of `agents`, `count` and `percent`");
        }
        for (j, name) in canary.agents.iter().flatten().enumerate() {
            if !agents.iter().any(|a| &a.name == name) {
                let names: Vec<&str> = agents.iter().map(|a| a.name.as_str()).collect();
                let hint = crate::diag::did_you_mean(name, &names)
                    .map(|s| format!(" (did you mean {s:?}?)"))
                    .unwrap_or_default();
                cx.error(
                    &at.key("agents").index(j),
                    format!("no agent named {name:?}{hint}"),
                );
            }
        }
        if canary.count == Some(0) {
            cx.error(&at.key("count"), "the canary needs at least one agent");
        }
        if canary.percent.is_some_and(|p| !(1..=100).contains(&p)) {
            cx.error(&at.key("percent"), "must be from 1 to 100");
        }
    }
    if let Some(waves) = &rollout.waves {
        let mut last = 0;
        for (j, wave) in waves.iter().enumerate() {
            match rules::wave_percent(wave) {
                Ok(p) if p <= last => cx.error(
                    &path.key("waves").index(j),
                    format!("waves are cumulative and must grow: {wave} after {last}%"),
                ),
                Ok(p) => last = p,
                Err(e) => cx.error(&path.key("waves").index(j), e),
            }
        }
        if last != 100 && !waves.is_empty() {
            cx.error(
                &path.key("waves"),
                "the last wave must be 100% so every agent is reached",
            );
        }
    }
    if rollout.timeout.as_ref().is_some_and(|d| d.get().is_zero()) {
        cx.error(
            &path.key("timeout"),
            "the timeout must be greater than zero",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_is_field_by_field_and_lists_replace() {
        let base = serde_json::json!({"env": {"A": "1", "B": "2"}, "secrets": ["x"], "resources": {"limits": {"cpu": "1"}}});
        let over = serde_json::json!({"env": {"B": "3"}, "secrets": ["y"], "resources": {"limits": {"memory": "1Gi"}}});
        let (Value::Object(b), Value::Object(o)) = (base, over) else {
            unreachable!()
        };
        let m = Value::Object(merged(b, o));
        assert_eq!(
            m,
            serde_json::json!({"env": {"A": "1", "B": "3"}, "secrets": ["y"], "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}})
        );
    }

    #[test]
    fn workspace_entries_and_souls_replace_whole() {
        let base = serde_json::json!({"soul": "a.md", "workspace": {"A.md": {"file": "a"}, "B.md": {"file": "b"}}});
        let over = serde_json::json!({"soulInline": "hi", "workspace": {"A.md": {"inline": "x"}}});
        let (Value::Object(b), Value::Object(o)) = (base, over) else {
            unreachable!()
        };
        let m = Value::Object(merged(b, o));
        assert_eq!(
            m,
            serde_json::json!({"workspace": {"A.md": {"inline": "x"}, "B.md": {"file": "b"}}, "soulInline": "hi"})
        );
    }

    #[test]
    fn sidecars_and_volumes_merge_by_name_and_affinity_replaces_whole() {
        let base = serde_json::json!({
            "sidecars": {"chrome": {"image": "a:1", "args": ["x"]}, "proxy": {"image": "p:1"}},
            "volumes": {"gigs": {"mountPath": "/mnt/gigs", "readOnly": true}},
            "scheduling": {"nodeSelector": {"a": "1"}, "tolerations": [{"key": "t"}],
                           "affinity": {"nodeAffinity": {"x": 1}, "podAffinity": {"y": 1}}},
        });
        let over = serde_json::json!({
            "sidecars": {"chrome": {"image": "a:2"}},
            "volumes": {"media": {"mountPath": "/mnt/media"}},
            "scheduling": {"nodeSelector": {"b": "2"}, "tolerations": [],
                           "affinity": {"nodeAffinity": {"z": 1}}},
        });
        let (Value::Object(b), Value::Object(o)) = (base, over) else {
            unreachable!()
        };
        let m = Value::Object(merged(b, o));
        assert_eq!(
            m,
            serde_json::json!({
                "sidecars": {"chrome": {"image": "a:2"}, "proxy": {"image": "p:1"}},
                "volumes": {"gigs": {"mountPath": "/mnt/gigs", "readOnly": true},
                            "media": {"mountPath": "/mnt/media"}},
                "scheduling": {"nodeSelector": {"a": "1", "b": "2"}, "tolerations": [],
                               "affinity": {"nodeAffinity": {"z": 1}}},
            })
        );
    }

    #[test]
    fn a_layers_knowledge_bucket_replaces_the_bucket_below_whole() {
        let base = serde_json::json!({"knowledge": {"s3": {"bucket": "a", "region": "eu-west-1"}, "prefix": "p"}});
        let over = serde_json::json!({"knowledge": {"gcs": {"bucket": "b"}, "mode": "readOnly"}});
        let (Value::Object(b), Value::Object(o)) = (base, over) else {
            unreachable!()
        };
        let m = Value::Object(merged(b, o));
        assert_eq!(
            m,
            serde_json::json!({"knowledge": {"prefix": "p", "gcs": {"bucket": "b"}, "mode": "readOnly"}})
        );
    }

    #[test]
    fn paths_may_not_leave_the_folder() {
        let dir = std::env::temp_dir();
        assert!(safe_path(&dir, "../etc/passwd").is_err());
        assert!(safe_path(&dir, "/etc/passwd").is_err());
        assert!(safe_path(&dir, "").is_err());
    }
}
