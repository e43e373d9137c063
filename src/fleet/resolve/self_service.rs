//! `spec.routing.selfService`: its rules, and the agents made on request (the claims
//! read from the cluster), each resolved like a file agent of `selfService.team` whose
//! own layer is `selfService.defaults`.
//!
//! What an agent made on request may carry is limited by what the router may do: it
//! applies an agent's ordinary objects in one namespace and nothing else, so no `access`
//! (RBAC it would have to grant), no `exposure` (HTTPRoute/Ingress), no `suspended`; and
//! its files are inline (`defaults` travels in the bundle the router reads). The merged
//! settings are checked once, on a stand-in agent, so `validate` finds every problem
//! before any claim exists.

use std::collections::BTreeMap;

use super::agent;
use super::cx::{Cx, self_service_defaults};
use super::types::{ResolvedAgent, ResolvedSelfService, ResolvedTeam};
use crate::diag::FieldPath;
use crate::fleet::model::{Agent, SelfService, Settings};
use crate::fleet::self_service::{Claim, DEFAULT_MAX_AGENTS, allow_problems};

fn block_path() -> FieldPath {
    FieldPath::root()
        .key("spec")
        .key("routing")
        .key("selfService")
}

/// The stand-in whose merged settings are checked; never rendered.
const PROBE: &str = "self-service-probe";

/// What [`resolve`] found.
#[derive(Default)]
pub(super) struct SelfServiceAgents {
    /// The claims' agents.
    pub agents: Vec<ResolvedAgent>,
    /// The block, when the fleet has one and it is valid.
    pub resolved: Option<ResolvedSelfService>,
}

/// Checks `spec.routing.selfService` and resolves the claims' agents.
pub(super) fn resolve(
    cx: &mut Cx,
    claims: &[Claim],
    teams: &[ResolvedTeam],
    file_agents: &[ResolvedAgent],
    layers: (&Settings, &[Settings]),
) -> SelfServiceAgents {
    let spec = &cx.loaded.fleet.spec;
    let Some(block) = spec.routing.self_service.clone() else {
        return SelfServiceAgents::default();
    };
    let has_router = spec.routing.router.is_some();
    let file_count = spec.agents.len();
    let errors_before = cx.diags.0.len();
    let path = block_path();
    if !has_router {
        cx.error(
            &path,
            "selfService needs routing.router: the router makes the agents people ask for",
        );
    }
    let team = teams.iter().position(|t| t.name == block.team);
    match team {
        None => {
            let names: Vec<&str> = teams.iter().map(|t| t.name.as_str()).collect();
            let hint = crate::diag::did_you_mean(&block.team, &names)
                .map(|s| format!(" (did you mean {s:?}?)"))
                .unwrap_or_default();
            cx.error(
                &path.key("team"),
                format!("unknown team {:?}{hint}", block.team),
            );
        }
        Some(_) => {
            let in_team: Vec<&str> = file_agents
                .iter()
                .filter(|a| a.team == block.team)
                .map(|a| a.name.as_str())
                .collect();
            if !in_team.is_empty() {
                cx.error(
                    &path.key("team"),
                    format!(
                        "team {:?} holds {} of the fleet file: the router's rights in that \
                         namespace must reach only agents it made; give self-service agents a \
                         team of their own",
                        block.team,
                        crate::diag::agents_phrase(&in_team)
                    ),
                );
            }
        }
    }
    check_allow(cx, &block, &path);
    check_defaults(cx, &block);
    if cx.diags.0.len() > errors_before {
        return SelfServiceAgents::default();
    }
    let Some(team) = team else {
        return SelfServiceAgents::default();
    };

    // The merged settings, once, on a stand-in: what every agent made on request gets.
    let probe = agent_of(&block, PROBE, None);
    let before = cx.diags.0.len();
    let resolved = agent::resolve_at(cx, file_count, true, &probe, teams, layers);
    // A problem of a shared layer names the agents it concerns: here, not the stand-in.
    for d in &mut cx.diags.0[before..] {
        if let Some(i) = d.agents.iter().position(|a| a == PROBE) {
            d.agents.remove(i);
            d.message.push_str(" (for agents made on request)");
        }
    }
    if let Some(probe) = &resolved {
        let inherited = [
            (
                !probe.access.is_empty(),
                "`access` rules (RBAC the router cannot grant)",
            ),
            (
                probe.exposure.http_route.is_some() || probe.exposure.ingress.is_some(),
                "`exposure` (an HTTPRoute or Ingress the router does not make)",
            ),
            (
                probe.suspended,
                "`suspended` (an agent made on request runs)",
            ),
        ];
        for (_, what) in inherited.iter().filter(|(found, _)| *found) {
            cx.error(
                &path.key("team"),
                format!(
                    "agents made on request would inherit {what} from the fleet's or team {:?}'s \
                     defaults: move it to the agents that need it",
                    block.team
                ),
            );
        }
    }
    if cx.diags.0.len() > errors_before {
        return SelfServiceAgents::default();
    }

    let mut agents = Vec::with_capacity(claims.len());
    for (k, claim) in claims.iter().enumerate() {
        let user = BTreeMap::from([(claim.identity.channel.clone(), claim.identity.id.clone())]);
        let spec_agent = agent_of(&block, &claim.agent, Some(user));
        if let Some(resolved) =
            agent::resolve_at(cx, file_count + 1 + k, true, &spec_agent, teams, layers)
        {
            agents.push(resolved);
        }
    }
    SelfServiceAgents {
        agents,
        resolved: Some(ResolvedSelfService {
            team: teams[team].name.clone(),
            namespace: teams[team].namespace.clone(),
            allow: block.allow.clone(),
            max_agents: block.max_agents.unwrap_or(DEFAULT_MAX_AGENTS),
            sources: BTreeMap::new(),
        }),
    }
}

/// An agent entry as the file would have it: `selfService.defaults` as its own settings.
fn agent_of(block: &SelfService, name: &str, user: Option<BTreeMap<String, String>>) -> Agent {
    Agent::with_settings(
        name.to_string(),
        Some(block.team.clone()),
        user.unwrap_or_default(),
        block.defaults.clone(),
    )
}

fn check_allow(cx: &mut Cx, block: &SelfService, path: &FieldPath) {
    let allow = &block.allow;
    let path = path.key("allow");
    if allow.slack.is_empty() && allow.slack_groups.is_empty() && allow.emails.is_empty() {
        cx.error(
            &path,
            "name who may ask for an agent: slack (user ids), slackGroups and/or emails",
        );
    }
    for (field, i, problem) in allow_problems(allow) {
        cx.error(&path.key(field).index(i), problem);
    }
    if block.max_agents == Some(0) {
        cx.error(
            &block_path().key("maxAgents"),
            "must be at least 1 (remove selfService to offer none)",
        );
    }
}

/// What `selfService.defaults` may not carry, each refused where it is written.
fn check_defaults(cx: &mut Cx, block: &SelfService) {
    let d = &block.defaults;
    let path = self_service_defaults();
    if d.access.is_some() {
        cx.error(
            &path.key("access"),
            "agents made on request get no `access` rules: the router would have to grant RBAC, \
             which it may not",
        );
    }
    if d.exposure.is_some() {
        cx.error(
            &path.key("exposure"),
            "agents made on request get no `exposure`: the router does not make HTTPRoutes or \
             Ingresses; they are reached through the router",
        );
    }
    if d.suspended.is_some() {
        cx.error(
            &path.key("suspended"),
            "agents made on request run: `suspended` is not a self-service setting",
        );
    }
    if d.soul.is_some() {
        cx.error(
            &path.key("soul"),
            "self-service settings are inline only (the router reads no files): use soulInline",
        );
    }
    for (name, file) in d.workspace.iter().flatten() {
        if file.file.is_some() {
            cx.error(
                &path.key("workspace").key(name.as_str()).key("file"),
                "self-service settings are inline only (the router reads no files): use inline",
            );
        }
    }
}
