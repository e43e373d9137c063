//! `spec.routing`: who may reach the agents, and what an orchestrator needs to reach
//! them. With `routing.from` every agent gets its own gateway token (a Secret clawctl
//! creates on first apply) and OpenClaw's HTTP chat endpoint; the orchestrator's
//! ServiceAccount may read exactly those Secrets.

use super::cx::{Cx, check_selector};
use super::types::ResolvedAgent;
use crate::diag::{FieldPath, agents_phrase};
use crate::fleet::model::{PeerSelector, Routing};
use crate::fleet::{guardrails, rules};
use crate::openclaw::TOKEN_ENV;

/// The routing the fleet renders: `routing.from` as written, or, with `routing.router`,
/// the router's own pods and ServiceAccount in the router's namespace.
pub(super) fn effective(routing: &Routing, fleet: &str) -> Routing {
    let mut routing = routing.clone();
    if let Some(router) = &routing.router {
        routing.from = Some(PeerSelector {
            namespace: router
                .namespace
                .clone()
                .unwrap_or_else(|| crate::names::router_namespace(fleet)),
            pod_selector: crate::names::router_selector(fleet),
            service_account: Some(crate::names::router(fleet)),
        });
    }
    routing
}

/// The shortest `routing.router.idleAfter`: a wake costs a pod start (seconds to
/// minutes), so sleeping sooner than this would make people wait more than it saves.
const MIN_IDLE_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// `routing.router`: exclusive with `from`, a pinned image, at least one door, a Secret
/// name, proxy CIDRs and a header name that parse, `idleAfter` at least a minute.
fn check_router(cx: &mut Cx, routing: &Routing, allow_floating: bool, path: &FieldPath) {
    let Some(router) = &routing.router else {
        return;
    };
    let path = path.key("router");
    if routing.from.is_some() {
        cx.error(
            &path,
            "routing.router runs the orchestrator, and routing.from names another one: keep one",
        );
    }
    if !allow_floating {
        cx.check(&path.key("image"), rules::image_pin(&router.image));
    }
    if router.slack_secret.is_none() && router.http.is_none() {
        cx.error(
            &path,
            "the router needs a door: slackSecret (the Slack app's tokens) and/or http (behind an authenticating proxy)",
        );
    }
    if let Some(secret) = &router.slack_secret {
        cx.check(&path.key("slackSecret"), rules::dns_subdomain(secret));
    }
    if let Some(idle) = &router.idle_after
        && idle.get() < MIN_IDLE_AFTER
    {
        cx.error(
            &path.key("idleAfter"),
            format!(
                "{idle} is too short: an agent sleeps after at least 1m without a message \
                 (waking it takes as long as its pod takes to start)"
            ),
        );
    }
    if let Some(http) = &router.http {
        let http_path = path.key("http");
        if http.proxy.is_empty() {
            cx.error(
                &http_path.key("proxy"),
                "name the authenticating proxy's addresses: without them anyone who reaches the router could pick an identity",
            );
        }
        for (i, cidr) in http.proxy.iter().enumerate() {
            if let Err(why) = parse_cidr(cidr) {
                cx.error(&http_path.key("proxy").index(i), why);
            }
        }
        if let Some(header) = &http.header
            && (header.is_empty()
                || !header
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        {
            cx.error(
                &http_path.key("header"),
                format!("{header:?} is not a header name (letters, digits and '-')"),
            );
        }
    }
}

/// The router's namespace is its alone: a DNS label, not reserved, not the fleet
/// namespace (the lock, history key and ApplySet parent live there) and not a team's (the
/// agents and whoever may run pods there).
pub(super) fn check_router_namespace(
    cx: &mut Cx,
    routing: &Routing,
    fleet: (&str, &str),
    team_namespaces: &[&str],
    path: &FieldPath,
) {
    let (fleet_name, fleet_namespace) = fleet;
    let (Some(router), Some(from)) = (&routing.router, &routing.from) else {
        return;
    };
    let path = path.key("router").key("namespace");
    let ns = from.namespace.as_str();
    if router.namespace.is_some() {
        cx.check(
            &path,
            rules::dns_label(ns, 63).and_then(|()| guardrails::reserved_namespace(ns)),
        );
    }
    if ns == fleet_namespace {
        cx.error(
            &path,
            format!(
                "{ns:?} is the fleet namespace: the router holds every agent's token and gets a \
                 namespace of its own (leave `namespace` out for {:?})",
                crate::names::router_namespace(fleet_name)
            ),
        );
    } else if team_namespaces.contains(&ns) {
        cx.error(
            &path,
            format!(
                "{ns:?} is a team's namespace: the router holds every agent's token and gets a \
                 namespace of its own"
            ),
        );
    }
}

/// `10.0.0.0/8`, `192.168.1.7` (a single address) or an IPv6 CIDR.
fn parse_cidr(text: &str) -> Result<(), String> {
    let (address, prefix) = text.split_once('/').unwrap_or((text, ""));
    let ip: std::net::IpAddr = address
        .parse()
        .map_err(|_| format!("{text:?} is not an IP address or CIDR"))?;
    if !prefix.is_empty() {
        let bits: u8 = prefix
            .parse()
            .map_err(|_| format!("{text:?}: the prefix length is not a number"))?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        if bits > max {
            return Err(format!("{text:?}: a prefix length is at most {max}"));
        }
    }
    Ok(())
}

pub(super) fn check(cx: &mut Cx, routing: &Routing, allow_floating: bool, path: &FieldPath) {
    check_router(cx, routing, allow_floating, path);
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
