//! One agent: its team, its three layers merged, then each concern resolved by the
//! module that owns it (model, resources, workspace, env, network, tools, pod).

use super::cx::{At, Cx};
use super::layers::merged;
use super::types::{ResolvedAgent, ResolvedTeam};
use super::{
    env, exposure, gateway, hosted, knowledge, model, network, pod, resources, suspend, tools,
    workspace,
};
use crate::diag::FieldPath;
use crate::fleet::model::{Agent, Settings};
use crate::fleet::rules;

/// Objects are named `agent-<name>`, and a Service name is a 63-character DNS label.
const MAX_AGENT_NAME: usize = 57;

pub(super) fn resolve_agent(
    cx: &mut Cx,
    i: usize,
    agent: &Agent,
    teams: &[ResolvedTeam],
    defaults: &Settings,
    team_layers: &[Settings],
) -> Option<ResolvedAgent> {
    resolve_at(cx, i, false, agent, teams, (defaults, team_layers))
}

/// [`resolve_agent`] for the agent at `i` of the file, or for one made on request
/// (`self_service`: its own layer is `selfService.defaults`).
pub(super) fn resolve_at(
    cx: &mut Cx,
    i: usize,
    self_service: bool,
    agent: &Agent,
    teams: &[ResolvedTeam],
    (defaults, team_layers): (&Settings, &[Settings]),
) -> Option<ResolvedAgent> {
    let path = At {
        agent: i,
        team: None,
        hosted: None,
        self_service,
    }
    .path();
    cx.check(
        &path.key("name"),
        rules::dns_label(&agent.name, MAX_AGENT_NAME),
    );
    for (channel, id) in &agent.user {
        if id.trim().is_empty() {
            cx.error(
                &path.key("user").key(channel.as_str()),
                "the user id is empty",
            );
        }
    }
    let team_index = find_team(cx, agent, teams, &path);
    let team = team_index.and_then(|t| teams.get(t));

    let base = team_index
        .and_then(|t| team_layers.get(t))
        .unwrap_or(defaults);
    let settings = merged(base.clone(), agent.settings());
    if agent.soul.is_some() && agent.soul_inline.is_some() {
        cx.error(
            &path.key("soulInline"),
            "set either `soul` or `soulInline`, not both",
        );
    }
    let at = At {
        agent: i,
        team: team_index,
        hosted: None,
        self_service,
    };
    // Errors found in a shared layer are reported there, naming the agent they concern.
    let errors_before = cx.diags.0.len();

    let model = model::resolve(cx, at, &settings);
    let resources = resources::resolve(cx, at, &settings);
    let storage = resources::storage(cx, at, &settings);
    let env = env::resolve(cx, at, &settings);
    let files = workspace::resolve(cx, at, &settings);
    let mut egress = network::egress(cx, at, &settings);
    let tools = tools::resolve(cx, at, &settings);
    let config = tools::config(cx, at, &settings, &tools);
    let control_ui = gateway::control_ui(cx, at, &settings);
    let pod = pod::resolve(cx, at, &settings);
    let exposure = exposure::resolve(cx, at, &settings);
    let bootstrap = settings.bootstrap.unwrap_or(false);
    let knowledge = knowledge::resolve(cx, at, &settings, &agent.name, &pod);
    if let Some(rule) = knowledge
        .as_ref()
        .and_then(|k| knowledge::egress(k, &egress))
    {
        egress.push(rule);
    }
    let identity = knowledge::identity(cx, at, &settings);
    let suspended = suspend::resolve(&settings);

    let channels = settings.channels.clone().unwrap_or_default();
    for (j, ch) in channels.iter().enumerate() {
        cx.check_at(
            |cx| at.src(cx, &format!("channels[{j}].channel")),
            rules::dns_label(&ch.channel, 63),
        );
    }
    // A multi-agent gateway's settings are also its agents' defaults.
    let hosted = match &agent.agents {
        Some(list) => hosted::resolve(cx, at, &agent.name, list, &settings, &channels),
        None => Vec::new(),
    };
    if let Some(endpoint) = &model.endpoint {
        let models = hosted::gateway_models(&model.primary, &model.fallbacks, &hosted);
        model::check_endpoint_models(cx, at, endpoint, models);
    }
    for (j, h) in hosted.iter().enumerate() {
        let volume = crate::openclaw::workspace_volume(&h.name);
        if pod.volumes.contains_key(&volume) {
            let path = at.src(cx, "volumes").key(volume.as_str());
            cx.error(
                &path,
                format!(
                    "{volume:?} is the workspace volume of agent {:?} (spec.agents[{i}].agents[{j}]): name this volume otherwise",
                    h.name
                ),
            );
        }
    }
    let access = settings.access.clone().unwrap_or_default();
    for (j, rule) in access.iter().enumerate() {
        for (rel, problem) in rules::access_rule(rule) {
            let p = at.src(cx, &format!("access[{j}]"));
            cx.error(&p.join(&rel), problem);
        }
    }

    let own_prefix = format!("{path}.");
    for d in &mut cx.diags.0[errors_before..] {
        if !d.path.starts_with(&own_prefix) && d.path != path.to_string() {
            d.agents.push(agent.name.clone());
        }
    }
    let team = team?;
    Some(ResolvedAgent {
        name: agent.name.clone(),
        team: team.name.clone(),
        namespace: team.namespace.clone(),
        user: agent.user.clone(),
        model_primary: model.primary,
        model_fallbacks: model.fallbacks,
        model_endpoint: model.endpoint,
        requests: resources.requests,
        limits: resources.limits,
        storage_size: storage.size,
        storage_class: storage.class,
        secrets: env.secrets,
        env: env.vars,
        // A multi-agent gateway's files are its agents' (its own workspace is unused).
        files: if hosted.is_empty() {
            files
        } else {
            Default::default()
        },
        egress,
        tools,
        channels,
        access,
        config,
        control_ui,
        bootstrap,
        routed: false,
        pod,
        hosted,
        knowledge,
        identity,
        exposure,
        suspended,
        self_service,
        settings,
    })
}

/// The agent's team by name, or the only team when it names none.
fn find_team(
    cx: &mut Cx,
    agent: &Agent,
    teams: &[ResolvedTeam],
    path: &FieldPath,
) -> Option<usize> {
    match &agent.team {
        Some(team) => {
            let found = teams.iter().position(|t| &t.name == team);
            if found.is_none() {
                let names: Vec<&str> = teams.iter().map(|t| t.name.as_str()).collect();
                let hint = crate::diag::did_you_mean(team, &names)
                    .map(|s| format!(" (did you mean {s:?}?)"))
                    .unwrap_or_else(|| format!("; teams are: {}", names.join(", ")));
                cx.error(&path.key("team"), format!("unknown team {team:?}{hint}"));
            }
            found
        }
        None if teams.len() == 1 => Some(0),
        None => {
            cx.error(
                path,
                format!(
                    "missing `team`: the fleet has {} teams, so each agent must name one",
                    teams.len()
                ),
            );
            None
        }
    }
}
