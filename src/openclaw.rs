//! What clawctl knows of OpenClaw itself: the gateway's port and paths, and the
//! `openclaw.json` it generates per agent (the user's `config` fragment merged under
//! the policy baseline, which always wins).

use serde_json::{Map, Value, json};

use crate::fleet::ResolvedAgent;
use crate::fleet::model::ToolPolicy;

/// The gateway's port (OpenClaw's default).
pub const GATEWAY_PORT: u16 = 18789;
/// The node user's state directory: config, credentials, sessions, workspace. The volume.
pub const STATE_DIR: &str = "/home/node/.openclaw";
/// The gateway reads its auth token from this variable (put it in one of `secrets`).
pub const TOKEN_ENV: &str = "OPENCLAW_GATEWAY_TOKEN";

/// Environment variables clawctl sets itself in the gateway container.
const RESERVED_ENV: &[&str] = &[
    "NODE_OPTIONS",
    "HOME",
    "OPENCLAW_DISABLE_BONJOUR",
    "OPENCLAW_STATE_DIR",
    "OPENCLAW_CONFIG_PATH",
];

/// Whether the gateway's environment variable `name` is clawctl's to set.
pub fn is_reserved_env(name: &str) -> bool {
    RESERVED_ENV.contains(&name)
}

/// Top-level sections of openclaw.json that clawctl writes itself.
const OWNED: &[(&str, &str)] = &[(
    "gateway",
    "the gateway's bind, port and auth are set by clawctl",
)];

/// Problems with a `config` fragment: (path below `config`, message) for every key that
/// would weaken the policy or take a field clawctl owns.
pub fn policy_conflicts(config: &Map<String, Value>, tools: &ToolPolicy) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    for (key, why) in OWNED {
        if config.contains_key(*key) {
            problems.push((
                (*key).to_string(),
                format!("`{key}` cannot be set in config: {why}"),
            ));
        }
    }
    let at = |path: &[&str]| -> Option<&Value> {
        path.iter().try_fold(None::<&Value>, |v, k| match v {
            None => config.get(*k).map(Some),
            Some(v) => v.get(*k).map(Some),
        })?
    };
    const ELEVATED: &str = "elevated tools are disabled by spec.policy.tools.elevated and cannot be re-enabled in config";
    const FS: &str = "spec.policy.tools.fsWorkspaceOnly confines file tools to the workspace and cannot be lifted in config";
    // A weakening value is anything but the policy's own: `true`, but also a string or a
    // mapping OpenClaw might read as enabled.
    let weakens = |path: &[&str], safe: bool| at(path).is_some_and(|v| v != &Value::Bool(safe));
    if !tools.elevated && weakens(&["tools", "elevated", "enabled"], false) {
        problems.push(("tools.elevated.enabled".to_string(), ELEVATED.to_string()));
    }
    if !tools.elevated
        && at(&["tools", "elevated"]).is_some_and(|v| !v.is_object() && v != &Value::Bool(false))
    {
        problems.push(("tools.elevated".to_string(), ELEVATED.to_string()));
    }
    if tools.fs_workspace_only && weakens(&["tools", "fs", "workspaceOnly"], true) {
        problems.push(("tools.fs.workspaceOnly".to_string(), FS.to_string()));
    }
    if let Some(Value::Array(allowed)) = at(&["tools", "allow"]) {
        for tool in allowed.iter().filter_map(Value::as_str) {
            if tools.deny.iter().any(|d| d == tool) {
                problems.push((
                    "tools.allow".to_string(),
                    format!(
                        "tool {tool:?} is denied by the policy and cannot be allowed in config"
                    ),
                ));
            }
        }
    }
    problems
}

/// The agent's openclaw.json: the `config` fragment, then clawctl's fields on top.
pub fn config_json(agent: &ResolvedAgent) -> Value {
    let mut model = json!({ "primary": agent.model_primary });
    if !agent.model_fallbacks.is_empty() {
        model["fallbacks"] = json!(agent.model_fallbacks);
    }
    let mut owned = json!({
        "gateway": {
            "mode": "local",
            "bind": "lan",
            "port": GATEWAY_PORT,
            // OpenClaw substitutes `${VAR}` from the environment: the token stays in
            // the Secret, never in the ConfigMap.
            "auth": { "mode": "token", "token": format!("${{{TOKEN_ENV}}}") },
        },
        "agents": {
            "defaults": {
                "workspace": format!("{STATE_DIR}/workspace"),
                "model": model,
            }
        },
        "tools": {
            "elevated": { "enabled": agent.tools.elevated },
            "fs": { "workspaceOnly": agent.tools.fs_workspace_only },
        },
    });
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
        for ch in &agent.channels {
            channels.insert(ch.channel.clone(), json!({ "enabled": true }));
        }
        owned["channels"] = Value::Object(channels);
    }
    if let Some(endpoint) = &agent.model_endpoint {
        // Models reached through the endpoint are those addressed as `<provider>/<id>`.
        let prefix = format!("{}/", endpoint.provider);
        let models: Vec<Value> = std::iter::once(&agent.model_primary)
            .chain(&agent.model_fallbacks)
            .filter_map(|m| m.strip_prefix(&prefix))
            .map(|id| json!({ "id": id, "name": id }))
            .collect();
        let mut provider =
            json!({ "baseUrl": endpoint.base_url, "api": "openai-completions", "models": models });
        if let Some(var) = &endpoint.api_key_env {
            provider["apiKey"] = json!(format!("${{{var}}}"));
        }
        owned["models"] =
            json!({ "mode": "merge", "providers": { endpoint.provider.clone(): provider } });
    }
    let mut out = Value::Object(agent.config.clone());
    overlay(&mut out, owned);
    out
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

/// The gateway container's command (as OpenClaw's docker-compose runs it, from the
/// image's /app): the gateway on all interfaces (`lan`) so the Service and probes reach
/// it; it refuses that bind without auth, which openclaw.json sets to a token.
pub fn gateway_command() -> Vec<String> {
    [
        "node",
        "/app/dist/index.js",
        "gateway",
        "--bind",
        "lan",
        "--port",
        "18789",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
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

    #[test]
    fn conflicts_name_the_field() {
        let tools = ToolPolicy {
            elevated: false,
            fs_workspace_only: true,
            deny: vec!["gateway".into()],
        };
        let config = json!({"tools": {"elevated": {"enabled": true}, "fs": {"workspaceOnly": false}, "allow": ["gateway"]}, "gateway": {}});
        let Value::Object(config) = config else {
            unreachable!()
        };
        let paths: Vec<String> = policy_conflicts(&config, &tools)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(
            paths,
            vec![
                "gateway",
                "tools.elevated.enabled",
                "tools.fs.workspaceOnly",
                "tools.allow"
            ]
        );
    }
}
