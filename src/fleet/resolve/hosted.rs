//! Several OpenClaw agents in one gateway (`spec.agents[i].agents`): each hosted agent's
//! settings layered over the gateway's, resolved by the same modules as a gateway's
//! (model, workspace, storage), and its `bindings` checked against the gateway's channels.

use std::collections::{BTreeMap, HashMap};

use super::cx::At;
use super::cx::Cx;
use super::layers::merged;
use super::workspace::WorkspaceEntry;
use super::{model, resources, workspace};
use crate::fleet::model::{Binding, Channel, HostedAgent, Quantity, Settings};
use crate::fleet::rules;

/// One agent of a multi-agent gateway, ready to render.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ResolvedHosted {
    /// OpenClaw's agent id.
    pub name: String,
    pub model_primary: String,
    pub model_fallbacks: Vec<String>,
    /// Its workspace files by name, SOUL.md included.
    pub files: BTreeMap<String, WorkspaceEntry>,
    pub storage_size: Quantity,
    pub storage_class: Option<String>,
    pub bindings: Vec<Binding>,
}

/// Every model a gateway's agents name, in order: its own primary and fallbacks, then
/// each hosted agent's (what its model endpoint and the image's plugins must serve).
pub fn gateway_models<'a>(
    primary: &'a str,
    fallbacks: &'a [String],
    hosted: &'a [ResolvedHosted],
) -> impl Iterator<Item = &'a str> {
    let own = std::iter::once(primary).chain(fallbacks.iter().map(String::as_str));
    let theirs = hosted.iter().flat_map(|h| {
        std::iter::once(h.model_primary.as_str())
            .chain(h.model_fallbacks.iter().map(String::as_str))
    });
    own.chain(theirs)
}

/// Objects are named `agent-<gateway>-<name>`: a DNS label of at most 63 characters.
const MAX_OBJECT_NAME: usize = 63;

/// Resolves the hosted agents of the gateway at `at`, whose merged settings are
/// `gateway` and whose channels are `channels`.
pub(super) fn resolve(
    cx: &mut Cx,
    at: At,
    gateway_name: &str,
    hosted: &[HostedAgent],
    gateway: &Settings,
    channels: &[Channel],
) -> Vec<ResolvedHosted> {
    if hosted.is_empty() {
        cx.error(
            &at.path().key("agents"),
            "lists no agents: leave `agents` out for a gateway with one agent",
        );
        return Vec::new();
    }
    let mut out = Vec::with_capacity(hosted.len());
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut matches: HashMap<&Binding, &str> = HashMap::new();
    let mut total = 0usize;
    for (j, agent) in hosted.iter().enumerate() {
        let here = At {
            hosted: Some(j),
            ..at
        };
        let path = here.path();
        let max = MAX_OBJECT_NAME.saturating_sub(format!("agent-{gateway_name}-").len());
        cx.check(&path.key("name"), rules::dns_label(&agent.name, max.max(1)));
        if let Some(first) = seen.insert(&agent.name, j) {
            cx.error(
                &path.key("name"),
                format!(
                    "duplicate agent {:?}: also at {}",
                    agent.name,
                    at.path().key("agents").index(first)
                ),
            );
        }
        if agent.soul.is_some() && agent.soul_inline.is_some() {
            cx.error(
                &path.key("soulInline"),
                "set either `soul` or `soulInline`, not both",
            );
        }
        if agent.model.as_ref().is_some_and(|m| m.endpoint.is_some()) {
            cx.error(
                &path.key("model").key("endpoint"),
                "a gateway has one model endpoint for all its agents: set it on the gateway",
            );
        }
        let settings = merged(gateway.clone(), agent.settings());
        let model = model::resolve(cx, here, &settings);
        let files = workspace::resolve(cx, here, &settings);
        let storage = resources::storage(cx, here, &settings);
        total += files.values().map(|f| f.content.len()).sum::<usize>();
        for (b, binding) in agent.bindings.iter().enumerate() {
            check_binding(cx, &path.key("bindings").index(b), binding, channels);
            if let Some(other) = matches.insert(binding, &agent.name) {
                cx.error(
                    &path.key("bindings").index(b),
                    format!(
                        "the same match already routes to agent {other:?}: OpenClaw would only ever use the first"
                    ),
                );
            }
        }
        if agent.bindings.is_empty() && j > 0 {
            cx.warn(
                &path,
                format!(
                    "agent {:?} has no bindings: no message reaches it (only the first agent, the default, needs none)",
                    agent.name
                ),
            );
        }
        out.push(ResolvedHosted {
            name: agent.name.clone(),
            model_primary: model.primary,
            model_fallbacks: model.fallbacks,
            files,
            storage_size: storage.size,
            storage_class: storage.class,
            bindings: agent.bindings.clone(),
        });
    }
    if total > workspace::MAX_FILES_TOTAL {
        cx.error(
            &at.path().key("agents"),
            format!(
                "the agents' workspace files add up to {} KiB; the gateway's ConfigMap holds at most 1 MiB (keep them under {} KiB)",
                total / 1024,
                workspace::MAX_FILES_TOTAL / 1024
            ),
        );
    }
    out
}

fn check_binding(
    cx: &mut Cx,
    path: &crate::diag::FieldPath,
    binding: &Binding,
    channels: &[Channel],
) {
    let names: Vec<&str> = channels.iter().map(|c| c.channel.as_str()).collect();
    if !names.contains(&binding.channel.as_str()) {
        let hint = crate::diag::did_you_mean(&binding.channel, &names)
            .map(|s| format!(" (did you mean {s:?}?)"))
            .unwrap_or_else(|| {
                if names.is_empty() {
                    "; the gateway has no `channels`".to_string()
                } else {
                    format!("; its channels are: {}", names.join(", "))
                }
            });
        cx.error(
            &path.key("channel"),
            format!(
                "{:?} is not one of the gateway's channels{hint}",
                binding.channel
            ),
        );
    }
    for (key, value) in [
        ("accountId", &binding.account_id),
        ("guildId", &binding.guild_id),
        ("teamId", &binding.team_id),
    ] {
        if value.as_ref().is_some_and(|v| v.trim().is_empty()) {
            cx.error(&path.key(key), "is empty: leave it out to match any");
        }
    }
    if let Some(peer) = &binding.peer
        && peer.id.trim().is_empty()
    {
        cx.error(&path.key("peer").key("id"), "the peer id is empty");
    }
}
