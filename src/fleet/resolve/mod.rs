//! Turns a decoded fleet into resolved agents: layers merged (fleet defaults, team
//! defaults, agent), policy applied, referenced files read, every rule of the fleet
//! file checked. All problems are reported together, each where it is written.
//! Each of an agent's concerns is resolved by its own module (see `agent`).

mod across;
mod advice;
mod agent;
mod cx;
mod env;
mod exposure;
mod gateway;
mod hosted;
mod knowledge;
mod layers;
mod model;
mod network;
mod pod;
mod resources;
mod routing;
mod self_service;
mod suspend;
mod tools;
mod types;
mod workspace;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::Loaded;
use super::model::{Agent, DEFAULT_FLEET_NAMESPACE, Policy, Rollout, Settings};
use super::{guardrails, rules};
use crate::diag::{Diagnostics, FieldPath};
use cx::{Cx, safe_path};
pub use hosted::ResolvedHosted;
use layers::merged;
pub use pod::{ResolvedPod, ResolvedSidecar};
pub use types::{ResolvedAgent, ResolvedFleet, ResolvedSelfService, ResolvedTeam, Subject};

/// Resolves `loaded`, or returns every problem found. Sees no self-service claims (they
/// live in the cluster): `validate` and `render` show the file's own agents.
pub fn resolve(loaded: &Loaded) -> Result<ResolvedFleet, Diagnostics> {
    resolve_with_claims(loaded, &[])
}

/// [`resolve`] with the self-service claims read from the cluster, each added as an
/// agent of `selfService.team` with `selfService.defaults` as a layer. The claims must
/// have passed [`crate::fleet::self_service::check_claims`].
pub fn resolve_with_claims(
    loaded: &Loaded,
    claims: &[crate::fleet::self_service::Claim],
) -> Result<ResolvedFleet, Diagnostics> {
    let mut cx = Cx {
        loaded,
        diags: loaded.unknown_fields.clone(),
        warnings: Vec::new(),
        files: HashMap::new(),
        agent_objects: Arc::new(guardrails::agent_objects(&loaded.fleet.spec.agents)),
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
            return Some(std::path::PathBuf::from(t));
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
    let defaults = &spec.defaults;
    let team_layers: Vec<Settings> = spec
        .teams
        .iter()
        .map(|t| merged(defaults.clone(), t.defaults.clone()))
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
            agent::resolve_agent(&mut cx, i, agent, &teams, defaults, &team_layers)
        {
            agents.push(resolved);
        }
    }
    let self_service =
        self_service::resolve(&mut cx, claims, &teams, &agents, (defaults, &team_layers));
    agents.extend(self_service.agents);
    routing::route_agents(
        &mut cx,
        &effective_routing,
        &mut agents,
        &spec_path.key("routing"),
    );
    across::unique_hosts(&mut cx, &agents);
    advice::runtime_tools(&mut cx, &agents);
    across::shared_credentials(&mut cx, &agents);
    across::foreign_writers(&mut cx, &agents);
    across::access_reach(&mut cx, &agents);
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

/// A problem in a shared layer is found once per agent; report it once, naming them.
fn merge_per_agent(diags: &mut Diagnostics) {
    let mut merged: Vec<crate::diag::Diagnostic> = Vec::new();
    for d in std::mem::take(&mut diags.0) {
        let same = merged.iter_mut().find(|m| {
            !m.agents.is_empty()
                && !d.agents.is_empty()
                && (&m.file, m.line, m.column, &m.path, &m.message)
                    == (&d.file, d.line, d.column, &d.path, &d.message)
        });
        match same {
            Some(m) => {
                for agent in d.agents {
                    if !m.agents.contains(&agent) {
                        m.agents.push(agent);
                    }
                }
            }
            None => merged.push(d),
        }
    }
    diags.0 = merged;
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

    /// `over` merged onto `base`, both written as the fleet file would (JSON here).
    fn merge_json(base: serde_json::Value, over: serde_json::Value) -> serde_json::Value {
        let layer = |v| serde_json::from_value::<Settings>(v).expect("a valid layer");
        serde_json::to_value(merged(layer(base), layer(over))).expect("serializes")
    }

    #[test]
    fn merge_is_field_by_field_and_lists_replace() {
        let base = serde_json::json!({"env": {"A": "1", "B": "2"}, "secrets": ["x"], "resources": {"limits": {"cpu": "1"}}});
        let over = serde_json::json!({"env": {"B": "3"}, "secrets": ["y"], "resources": {"limits": {"memory": "1Gi"}}});
        assert_eq!(
            merge_json(base, over),
            serde_json::json!({"env": {"A": "1", "B": "3"}, "secrets": ["y"], "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}})
        );
    }

    #[test]
    fn workspace_entries_and_souls_replace_whole() {
        let base = serde_json::json!({"soul": "a.md", "workspace": {"A.md": {"file": "a"}, "B.md": {"file": "b"}}});
        let over = serde_json::json!({"soulInline": "hi", "workspace": {"A.md": {"inline": "x"}}});
        assert_eq!(
            merge_json(base, over),
            serde_json::json!({"workspace": {"A.md": {"inline": "x", "mode": "managed"}, "B.md": {"file": "b", "mode": "managed"}}, "soulInline": "hi"})
        );
    }

    #[test]
    fn sidecars_and_volumes_merge_by_name_and_affinity_replaces_whole() {
        const REQUIRED: &str = "requiredDuringSchedulingIgnoredDuringExecution";
        let term = |key: &str| serde_json::json!({"nodeSelectorTerms": [{"matchExpressions": [{"key": key, "operator": "Exists"}]}]});
        let base = serde_json::json!({
            "sidecars": {"chrome": {"image": "a:1", "args": ["x"]}, "proxy": {"image": "p:1"}},
            "volumes": {"gigs": {"mountPath": "/mnt/gigs", "readOnly": true}},
            "scheduling": {"nodeSelector": {"a": "1"}, "tolerations": [{"key": "t"}],
                           "affinity": {"nodeAffinity": {REQUIRED: term("x")},
                                        "podAffinity": {REQUIRED: [{"topologyKey": "zone"}]}}},
        });
        let over = serde_json::json!({
            "sidecars": {"chrome": {"image": "a:2"}, "proxy": null},
            "volumes": {"media": {"mountPath": "/mnt/media"}},
            "scheduling": {"nodeSelector": {"b": "2"}, "tolerations": [],
                           "affinity": {"nodeAffinity": {REQUIRED: term("z")}}},
        });
        assert_eq!(
            merge_json(base, over),
            serde_json::json!({
                "sidecars": {"chrome": {"image": "a:2"}, "proxy": null},
                "volumes": {"gigs": {"mountPath": "/mnt/gigs", "readOnly": true},
                            "media": {"mountPath": "/mnt/media"}},
                "scheduling": {"nodeSelector": {"a": "1", "b": "2"}, "tolerations": [],
                               "affinity": {"nodeAffinity": {REQUIRED: term("z")}}},
            })
        );
    }

    #[test]
    fn a_layers_knowledge_bucket_replaces_the_bucket_below_whole() {
        let base = serde_json::json!({"knowledge": {"s3": {"bucket": "a", "region": "eu-west-1"}, "prefix": "p"}});
        let over = serde_json::json!({"knowledge": {"gcs": {"bucket": "b"}, "mode": "readOnly"}});
        assert_eq!(
            merge_json(base, over),
            serde_json::json!({"knowledge": {"prefix": "p", "gcs": {"bucket": "b"}, "mode": "readOnly"}})
        );
        // Without a bucket, the layer's other fields merge onto the bucket below.
        let base = serde_json::json!({"knowledge": {"s3": {"bucket": "a", "region": "eu-west-1"}}});
        let over = serde_json::json!({"knowledge": {"prefix": "q"}});
        assert_eq!(
            merge_json(base, over),
            serde_json::json!({"knowledge": {"s3": {"bucket": "a", "region": "eu-west-1"}, "prefix": "q"}})
        );
    }

    #[test]
    fn nested_settings_merge_field_by_field_at_every_depth() {
        let base = serde_json::json!({
            "model": {"primary": "a/x", "endpoint": {"provider": "a", "baseUrl": "http://a", "apiKeyEnv": "K",
                      "models": {"x": {"contextWindow": 1000, "maxTokens": 10}}}},
            "exposure": {"ingress": {"className": "nginx", "annotations": {"a": "1"}},
                         "from": {"namespace": "ingress", "podSelector": {"app": "nginx"}}},
            "config": {"agents": {"defaults": {"a": 1, "workspace": {"k": 1}}}},
        });
        let over = serde_json::json!({
            "model": {"endpoint": {"provider": "a", "baseUrl": "http://b",
                      "models": {"x": {"maxTokens": 20}}}},
            "exposure": {"ingress": {"host": "h", "annotations": {"b": "2"}},
                         "from": {"namespace": "gw", "podSelector": {"tier": "edge"}}},
            "config": {"agents": {"defaults": {"b": 2, "workspace": {"j": 2}}}},
        });
        assert_eq!(
            merge_json(base, over),
            serde_json::json!({
                "model": {"primary": "a/x", "endpoint": {"provider": "a", "baseUrl": "http://b", "apiKeyEnv": "K",
                          "models": {"x": {"contextWindow": 1000, "maxTokens": 20}}}},
                "exposure": {"ingress": {"className": "nginx", "host": "h", "annotations": {"a": "1", "b": "2"}},
                             "from": {"namespace": "gw", "podSelector": {"app": "nginx", "tier": "edge"}}},
                "config": {"agents": {"defaults": {"a": 1, "b": 2, "workspace": {"k": 1, "j": 2}}}},
            })
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
