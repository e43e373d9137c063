//! The agent's `openclaw.json`, in the dialect of the release it runs: the user's
//! `config` fragment, then clawctl's fields on top (the policy baseline always wins).

use serde_json::{Map, Value, json};

use crate::fleet::{ResolvedAgent, ResolvedHosted};
use crate::openclaw::{
    Dialect, GATEWAY_PORT, Release, STATE_DIR, agent_dir, channel_plugin, workspace_dir,
};

/// Failed gateway logins allowed per client before it is locked out: OpenClaw's own
/// audit suggestion (`gateway.auth_no_rate_limit`), the same on every verified release.
fn rate_limit() -> Value {
    json!({ "maxAttempts": 10, "windowMs": 60_000, "lockoutMs": 300_000 })
}

/// The origins a browser has when it reaches the gateway through a port-forward, which
/// is what OpenClaw itself seeds for a `lan` bind; explicit, so the security audit has
/// nothing to report and the config does not change under the gateway.
fn loopback_origins() -> Vec<String> {
    vec![
        format!("http://127.0.0.1:{GATEWAY_PORT}"),
        format!("http://localhost:{GATEWAY_PORT}"),
    ]
}

/// A `SecretRef` to an environment variable: the value stays in the pod's environment
/// (from a Secret) and is never written into openclaw.json, which OpenClaw's doctor
/// would flag for a `${VAR}` string. Both verified releases take this form.
fn env_secret(var: &str) -> Value {
    json!({ "source": "env", "provider": "default", "id": var })
}

/// The agent's openclaw.json for `release`.
pub fn config_json(agent: &ResolvedAgent, release: &Release) -> Value {
    let mut model = json!({ "primary": agent.model_primary });
    if !agent.model_fallbacks.is_empty() {
        model["fallbacks"] = json!(agent.model_fallbacks);
    }
    // Explicit origins replace the port-forward defaults; the origins of the hosts the
    // agent is exposed on (`exposure`) are always added, so a route works as declared.
    let mut origins = if agent.control_ui.allowed_origins.is_empty() {
        loopback_origins()
    } else {
        agent.control_ui.allowed_origins.clone()
    };
    for origin in &agent.exposure.origins {
        if !origins.contains(origin) {
            origins.push(origin.clone());
        }
    }
    let mut owned = json!({
        "gateway": {
            "mode": "local",
            "bind": "lan",
            "port": GATEWAY_PORT,
            // No `token` key: the gateway reads OPENCLAW_GATEWAY_TOKEN from its
            // environment, so the token is never in the ConfigMap nor on the volume.
            "auth": { "mode": "token", "rateLimit": rate_limit() },
            "controlUi": { "enabled": agent.control_ui.enabled, "allowedOrigins": origins },
        },
        "agents": {
            "defaults": {
                "workspace": format!("{STATE_DIR}/workspace"),
                "model": model,
                "skipBootstrap": !agent.bootstrap,
            }
        },
        "tools": {
            "elevated": { "enabled": agent.tools.elevated },
            "fs": { "workspaceOnly": agent.tools.fs_workspace_only },
        },
    });
    if !agent.hosted.is_empty() {
        hosted_agents(&mut owned, &agent.hosted, release);
        // Agents sharing a gateway keep out of each other's sessions unless the fleet's
        // config says otherwise (OpenClaw lets them reach each other by default).
        let set = agent
            .config
            .get("tools")
            .and_then(|t| t.get("agentToAgent"));
        if set.is_none() {
            owned["tools"]["agentToAgent"] = json!({ "enabled": false });
        }
    }
    if let Some(base) = agent.exposure.base_path() {
        // Served under a prefix by the HTTPRoute or Ingress (docs/web/control-ui.md).
        owned["gateway"]["controlUi"]["basePath"] = json!(base);
    }
    if !agent.exposure.trusted_proxies.is_empty() {
        // The proxy's X-Forwarded-For names the browser (docs/gateway/security: reverse
        // proxy configuration), so rate limits and audits see clients, not the proxy.
        owned["gateway"]["trustedProxies"] = json!(agent.exposure.trusted_proxies);
    }
    if agent.routed {
        // The orchestrator forwards each message over HTTP: OpenClaw's OpenAI-compatible
        // endpoint (docs/gateway/openai-http-api.md, the same key on every verified
        // release), behind the agent's own token.
        owned["gateway"]["http"] =
            json!({ "endpoints": { "chatCompletions": { "enabled": true } } });
    }
    let mut deny: Vec<Value> = agent
        .config
        .get("tools")
        .and_then(|t| t.get("deny"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for tool in &agent.tools.deny {
        if !deny.iter().any(|d| d.as_str() == Some(tool)) {
            deny.push(json!(tool));
        }
    }
    if !deny.is_empty() {
        owned["tools"]["deny"] = Value::Array(deny);
    }
    if !agent.channels.is_empty() {
        let mut channels = Map::new();
        let mut entries = Map::new();
        let mut paths = Vec::new();
        for ch in &agent.channels {
            channels.insert(ch.channel.clone(), json!({ "enabled": true }));
            if let Some(plugin) = channel_plugin(release.dialect, &ch.channel) {
                entries.insert(plugin.id.to_string(), json!({ "enabled": true }));
                paths.push(plugin.path());
            }
        }
        owned["channels"] = Value::Object(channels);
        if !entries.is_empty() {
            owned["plugins"] = json!({ "load": { "paths": paths }, "entries": entries });
        }
    }
    if let Some(endpoint) = &agent.model_endpoint {
        // Models reached through the endpoint are those addressed as `<provider>/<id>`.
        let prefix = format!("{}/", endpoint.provider);
        let mut ids: Vec<&str> = agent
            .models()
            .filter_map(|m| m.strip_prefix(&prefix))
            .collect();
        // Each model once, in the order first named.
        let mut seen = std::collections::HashSet::new();
        ids.retain(|id| seen.insert(*id));
        let models: Vec<Value> = ids
            .into_iter()
            .map(|id| {
                let mut model = json!({ "id": id, "name": id });
                if let Some(params) = endpoint.models.get(id) {
                    if let Some(window) = params.context_window {
                        model["contextWindow"] = json!(window);
                    }
                    if let Some(max) = params.max_tokens {
                        model["maxTokens"] = json!(max);
                    }
                }
                model
            })
            .collect();
        let mut provider =
            json!({ "baseUrl": endpoint.base_url, "api": "openai-completions", "models": models });
        if let Some(var) = &endpoint.api_key_env {
            provider["apiKey"] = env_secret(var);
        }
        if endpoint.allow_private_network == Some(true) {
            // OpenClaw's SSRF guard refuses private and cluster addresses unless the
            // provider allows them (2026.9 enforces it for model requests too).
            provider["request"] = json!({ "allowPrivateNetwork": true });
        }
        owned["models"] =
            json!({ "mode": "merge", "providers": { endpoint.provider.clone(): provider } });
    }
    let mut out = Value::Object(agent.config.clone());
    overlay(&mut out, owned);
    out
}

/// A multi-agent gateway's roster and bindings, in `release`'s dialect: 2026.4 takes
/// `agents.list` with the default marked; 2026.9 keys `agents.entries` by id, retired the
/// marker, and wants the roster's ownership explicit (what its doctor would otherwise
/// write into the file) with the default named as the system agent.
fn hosted_agents(owned: &mut Value, hosted: &[ResolvedHosted], release: &Release) {
    let entry = |h: &ResolvedHosted| {
        let mut model = json!({ "primary": h.model_primary });
        // The object form with `fallbacks`, even empty: a bare primary is strict on 2026.9
        // and inherits the defaults' fallbacks on 2026.4.
        model["fallbacks"] = json!(h.model_fallbacks);
        json!({
            "workspace": workspace_dir(&h.name),
            "agentDir": agent_dir(&h.name),
            "model": model,
        })
    };
    let agents = &mut owned["agents"];
    match release.dialect {
        Dialect::V2026_4 => {
            let list: Vec<Value> = hosted
                .iter()
                .enumerate()
                .map(|(i, h)| {
                    let mut e = json!({ "id": h.name });
                    if i == 0 {
                        e["default"] = json!(true);
                    }
                    overlay(&mut e, entry(h));
                    e
                })
                .collect();
            agents["list"] = Value::Array(list);
        }
        Dialect::V2026_9 => {
            let entries: Map<String, Value> =
                hosted.iter().map(|h| (h.name.clone(), entry(h))).collect();
            agents["ownership"] = json!("explicit");
            agents["entries"] = Value::Object(entries);
            agents["defaults"]["systemAgent"] = json!({ "agentId": hosted[0].name });
        }
    }
    let bindings: Vec<Value> = hosted
        .iter()
        .flat_map(|h| {
            h.bindings.iter().map(|b| {
                let mut m = json!({ "channel": b.channel });
                if let Some(account) = &b.account_id {
                    m["accountId"] = json!(account);
                }
                if let Some(peer) = &b.peer {
                    m["peer"] = json!({ "kind": peer.kind, "id": peer.id });
                }
                if let Some(guild) = &b.guild_id {
                    m["guildId"] = json!(guild);
                }
                if let Some(team) = &b.team_id {
                    m["teamId"] = json!(team);
                }
                json!({ "agentId": h.name, "match": m })
            })
        })
        .collect();
    if !bindings.is_empty() {
        owned["bindings"] = Value::Array(bindings);
    }
}

/// Deep-merges `top` onto `base`; `top` wins on every scalar and list.
fn overlay(base: &mut Value, top: Value) {
    match (base, top) {
        (Value::Object(b), Value::Object(t)) => {
            for (k, v) in t {
                match b.get_mut(&k) {
                    Some(existing) => overlay(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, top) => *slot = top,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_keeps_user_keys_and_lets_clawctl_win() {
        let mut base =
            json!({"tools": {"elevated": {"enabled": true}, "web": {"search": true}}, "ui": 1});
        overlay(
            &mut base,
            json!({"tools": {"elevated": {"enabled": false}}}),
        );
        assert_eq!(
            base,
            json!({"tools": {"elevated": {"enabled": false}, "web": {"search": true}}, "ui": 1})
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod dialect_tests {
    use super::*;
    use crate::fleet::{self, ResolvedFleet};

    fn fleet(image: &str, settings: &str) -> ResolvedFleet {
        let text = format!(
            "apiVersion: clawctl.io/v1alpha1\nkind: Fleet\nmetadata: {{name: t}}\nspec:\n  image: {image}\n  defaults:\n{settings}\n  teams: [{{name: core}}]\n  agents: [{{name: a}}]\n"
        );
        let loaded = fleet::load_str("t.yaml", std::env::temp_dir(), &text).unwrap();
        fleet::resolve(&loaded).unwrap()
    }

    fn config(image: &str, settings: &str) -> Value {
        let f = fleet(image, settings);
        let (release, _) = crate::openclaw::release(&f.image, None).unwrap();
        config_json(&f.agents[0], &release)
    }

    const SLACK: &str = "    model: {primary: anthropic/claude-sonnet-4-20250514}\n    channels: [{channel: slack}, {channel: telegram}]";

    #[test]
    fn slack_is_built_in_on_2026_4_and_a_trusted_plugin_from_the_image_on_2026_9() {
        let old = config("ghcr.io/openclaw/openclaw:2026.4.14", SLACK);
        assert_eq!(old["channels"]["slack"], json!({"enabled": true}));
        assert!(old.get("plugins").is_none(), "{old}");
        let new = config("ghcr.io/openclaw/openclaw:2026.9.6", SLACK);
        assert_eq!(new["channels"]["slack"], json!({"enabled": true}));
        assert_eq!(
            new["plugins"],
            json!({"load": {"paths": ["/usr/local/lib/node_modules/@openclaw/slack"]},
                   "entries": {"slack": {"enabled": true}}})
        );
    }

    #[test]
    fn discord_on_2026_9_is_warned_about() {
        let discord = "    model: {primary: anthropic/claude-sonnet-4-20250514}\n    channels: [{channel: discord}]";
        let warned = |image: &str| {
            fleet(image, discord)
                .warnings
                .iter()
                .any(|w| w.message.contains("refuses to register the Discord plugin"))
        };
        assert!(warned("ghcr.io/openclaw/openclaw:2026.9.6"));
        assert!(!warned("ghcr.io/openclaw/openclaw:2026.4.14"));
    }

    #[test]
    fn both_dialects_keep_the_token_out_and_lock_the_gateway_down() {
        for image in [
            "ghcr.io/openclaw/openclaw:2026.4.14",
            "ghcr.io/openclaw/openclaw:2026.9.6",
        ] {
            let c = config(image, SLACK);
            let gateway = &c["gateway"];
            assert_eq!(gateway["auth"]["mode"], "token");
            assert!(gateway["auth"].get("token").is_none(), "{c}");
            assert_eq!(gateway["auth"]["rateLimit"]["maxAttempts"], 10);
            assert_eq!(
                gateway["controlUi"]["allowedOrigins"],
                json!(["http://127.0.0.1:18789", "http://localhost:18789"])
            );
            assert_eq!(c["agents"]["defaults"]["skipBootstrap"], true);
            assert!(!c.to_string().contains("${"), "{c}");
        }
    }

    const HOSTED: &str = "    model: {primary: litellm/big, fallbacks: [litellm/small]}\n    channels: [{channel: slack}, {channel: discord}]\n    agents:\n      - {name: work, bindings: [{channel: slack}]}\n      - {name: support, model: {primary: litellm/small, fallbacks: []}, bindings: [{channel: discord, guildId: \"42\", peer: {kind: channel, id: c1}}]}\n    ";

    fn hosted_config(image: &str) -> Value {
        // `agents` is the entry's own field, not a layered setting: write the agent whole.
        let text = format!(
            "apiVersion: clawctl.io/v1alpha1\nkind: Fleet\nmetadata: {{name: t}}\nspec:\n  image: {image}\n  teams: [{{name: core}}]\n  agents:\n  - name: gw\n    model: {{primary: litellm/big, fallbacks: [litellm/small], endpoint: {{provider: litellm, baseUrl: \"http://l.svc:4000\"}}}}\n{}",
            &HOSTED[HOSTED.find("    channels").unwrap_or(0)..]
        );
        let loaded = fleet::load_str("t.yaml", std::env::temp_dir(), &text).unwrap();
        let f = fleet::resolve(&loaded).unwrap();
        let (release, _) = crate::openclaw::release(&f.image, None).unwrap();
        config_json(&f.agents[0], &release)
    }

    #[test]
    fn a_multi_agent_gateway_lists_its_agents_in_each_releases_dialect() {
        let old = hosted_config("ghcr.io/openclaw/openclaw:2026.4.14");
        assert_eq!(
            old["agents"]["list"],
            json!([
                {"id": "work", "default": true, "workspace": "/home/node/.openclaw/workspace-work",
                 "agentDir": "/home/node/.openclaw/agents/work/agent",
                 "model": {"primary": "litellm/big", "fallbacks": ["litellm/small"]}},
                {"id": "support", "workspace": "/home/node/.openclaw/workspace-support",
                 "agentDir": "/home/node/.openclaw/agents/support/agent",
                 "model": {"primary": "litellm/small", "fallbacks": []}},
            ])
        );
        assert!(old["agents"].get("entries").is_none(), "{old}");
        let new = hosted_config("ghcr.io/openclaw/openclaw:2026.9.6");
        assert!(new["agents"].get("list").is_none(), "{new}");
        assert_eq!(new["agents"]["ownership"], "explicit");
        assert_eq!(new["agents"]["defaults"]["systemAgent"]["agentId"], "work");
        assert_eq!(
            new["agents"]["entries"]["support"]["workspace"],
            "/home/node/.openclaw/workspace-support"
        );
        assert!(new["agents"]["entries"]["work"].get("default").is_none());
        for c in [&old, &new] {
            assert_eq!(
                c["bindings"],
                json!([
                    {"agentId": "work", "match": {"channel": "slack"}},
                    {"agentId": "support", "match": {"channel": "discord", "peer": {"kind": "channel", "id": "c1"}, "guildId": "42"}},
                ])
            );
            assert_eq!(c["tools"]["agentToAgent"], json!({"enabled": false}));
            // Each model the agents use once, through the gateway's endpoint.
            let ids: Vec<&str> = c["models"]["providers"]["litellm"]["models"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap())
                .collect();
            assert_eq!(ids, ["big", "small"]);
        }
    }

    #[test]
    fn endpoints_get_secret_refs_private_network_and_model_parameters() {
        let c = config(
            "ghcr.io/openclaw/openclaw:2026.9.6",
            "    model:\n      primary: litellm/gemini\n      endpoint:\n        provider: litellm\n        baseUrl: http://litellm.llama.svc.cluster.local:4000\n        apiKeyEnv: LITELLM_API_KEY\n        models: {gemini: {contextWindow: 1000000, maxTokens: 8192}}\n    controlUi: {allowedOrigins: [\"https://claw.example.com\"]}\n    bootstrap: true",
        );
        let provider = &c["models"]["providers"]["litellm"];
        assert_eq!(
            provider["apiKey"],
            json!({"source": "env", "provider": "default", "id": "LITELLM_API_KEY"})
        );
        assert_eq!(provider["request"], json!({"allowPrivateNetwork": true}));
        assert_eq!(
            provider["models"],
            json!([{"id": "gemini", "name": "gemini", "contextWindow": 1_000_000, "maxTokens": 8192}])
        );
        assert_eq!(
            c["gateway"]["controlUi"]["allowedOrigins"],
            json!(["https://claw.example.com"])
        );
        assert_eq!(c["agents"]["defaults"]["skipBootstrap"], false);
        let public = config(
            "ghcr.io/openclaw/openclaw:2026.4.14",
            "    model:\n      primary: or/x\n      endpoint: {provider: or, baseUrl: \"https://openrouter.ai/api/v1\"}",
        );
        assert!(public["models"]["providers"]["or"].get("request").is_none());
    }
}
