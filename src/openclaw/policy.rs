//! What a user's openclaw.json fragment may not do: weaken the tool policy or take
//! a section clawctl writes itself.

use serde_json::{Map, Value};

use crate::fleet::model::ToolPolicy;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_name_the_field() {
        let tools = ToolPolicy {
            elevated: false,
            fs_workspace_only: true,
            deny: vec!["gateway".into()],
        };
        let config = serde_json::json!({"tools": {"elevated": {"enabled": true}, "fs": {"workspaceOnly": false}, "allow": ["gateway"]}, "gateway": {}});
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
