//! What resolving produces: the fleet, its teams and its agents, complete and checked,
//! ready to render. Each concern's own part (pod, exposure, control UI, hosted agents,
//! cloud identity) is defined by the module that resolves it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Map, Value};

use super::exposure::ResolvedExposure;
use super::gateway::ResolvedControlUi;
use super::hosted::{self, ResolvedHosted};
use super::knowledge::ResolvedIdentity;
use super::pod::ResolvedPod;
use super::workspace::WorkspaceEntry;
use crate::diag::Diagnostic;
use crate::fleet::model::{
    AccessRule, Channel, EgressRule, ModelEndpoint, Policy, Quantity, ResourceList, Rollout,
    Routing, Settings, ToolPolicy,
};

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
    pub allow: crate::fleet::model::SelfServiceAllow,
    pub max_agents: u32,
    /// Every file the fleet file references, by the path written in it: with the file's
    /// own text, what the router needs to resolve the fleet as clawctl does.
    pub sources: BTreeMap<String, std::sync::Arc<str>>,
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
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, serde::Serialize)]
pub struct Subject {
    pub kind: String,
    pub name: String,
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
    /// Its merged settings as written (fleet defaults, team defaults, its own): a
    /// setting that needs no check or derivation is read from here by the template
    /// context, so adding one touches the model, the context and a template only.
    #[serde(skip)]
    pub settings: Settings,
}

impl ResolvedAgent {
    /// Every model the gateway's agents name (see [`hosted::gateway_models`]).
    pub fn models(&self) -> impl Iterator<Item = &str> {
        hosted::gateway_models(&self.model_primary, &self.model_fallbacks, &self.hosted)
    }
}
