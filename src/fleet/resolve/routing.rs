//! `spec.routing`: who may reach the agents, and what an orchestrator needs to reach
//! them. With `routing.from` every agent gets its own gateway token (a Secret clawctl
//! creates on first apply) and OpenClaw's HTTP chat endpoint; the orchestrator's
//! ServiceAccount may read exactly those Secrets.

use super::{Cx, ResolvedAgent, check_selector};
use crate::diag::{FieldPath, agents_phrase};
use crate::fleet::model::Routing;
use crate::fleet::rules;
use crate::openclaw::TOKEN_ENV;

pub(super) fn check(cx: &mut Cx, routing: &Routing, path: &FieldPath) {
    let Some(from) = &routing.from else {
        return;
    };
    let from_path = path.key("from");
    cx.check(
        &from_path.key("namespace"),
        rules::dns_label(&from.namespace, 63),
    );
    check_selector(cx, &from.pod_selector, &|_| from_path.key("podSelector"));
    match &from.service_account {
        Some(account) => cx.check(
            &from_path.key("serviceAccount"),
            rules::dns_subdomain(account),
        ),
        None => cx.error(
            &from_path.key("serviceAccount"),
            "required with routing.from: the orchestrator's ServiceAccount (in routing.from.namespace), \
             which clawctl lets read each agent's gateway token Secret",
        ),
    }
}

/// Marks every agent as routed when `routing.from` is set: its gateway token is its own,
/// so no layer may set OPENCLAW_GATEWAY_TOKEN; and an agent that also opens its own Slack
/// connection deserves a warning (one Slack app's events are spread across all its
/// connections, so the orchestrator would miss some).
pub(super) fn route_agents(
    cx: &mut Cx,
    routing: &Routing,
    agents: &mut [ResolvedAgent],
    path: &FieldPath,
) {
    if routing.from.is_none() {
        return;
    }
    let mut token_set: Vec<&str> = Vec::new();
    let mut on_slack: Vec<&str> = Vec::new();
    for agent in agents.iter_mut() {
        agent.routed = true;
    }
    for agent in agents.iter() {
        if agent.env.contains_key(TOKEN_ENV) {
            token_set.push(&agent.name);
        }
        if agent.channels.iter().any(|c| c.channel == "slack") {
            on_slack.push(&agent.name);
        }
    }
    if !token_set.is_empty() {
        cx.error(
            &path.key("from"),
            format!(
                "routing.from gives each agent its own gateway token (a Secret clawctl creates), \
                 but `env` sets {TOKEN_ENV} for {}: remove it",
                agents_phrase(&token_set)
            ),
        );
    }
    if !on_slack.is_empty() {
        cx.warn(
            &path.key("from"),
            format!(
                "{} also connect to Slack themselves (channels: slack) while an orchestrator \
                 routes to them: with one Slack app, Slack spreads its events across every \
                 connection, so the orchestrator misses some; let the orchestrator hold the \
                 only connection",
                agents_phrase(&on_slack)
            ),
        );
    }
}
