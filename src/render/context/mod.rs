//! The values templates see: labels, names and everything derived from a resolved agent
//! (openclaw.json, config hash, network rules). Templates only place these values.
//!
//! Here: `fleet` and `team`, and the list of every context's schema; `router`, `agent`
//! and the pod's parts (`pod`) each in their own module, over `shared`.

mod agent;
mod pod;
mod router;
mod shared;

use std::collections::BTreeMap;

use minijinja::Value;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value as Json, json};

pub use agent::{AgentContext, agent_context};
pub use router::RouterContext;
use router::router_context;
pub use shared::{AgentShared, to_value};
use shared::{idle_after, team_labels};

use crate::fleet::{ResolvedFleet, ResolvedTeam};
use crate::names::{fleet_labels, resource_name, token_secret};
use crate::openclaw::{self, GATEWAY_PORT};

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
    pub self_service: Option<crate::render::self_service::SelfServiceContext<'a>>,
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
        self_service: crate::render::self_service::context(fleet),
    }
}

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
            schemars::schema_for!(crate::render::self_service::SelfServiceContext<'static>),
        ),
        ("team", schemars::schema_for!(TeamContext<'static>)),
        ("agent", schemars::schema_for!(AgentContext<'static>)),
    ]
}
