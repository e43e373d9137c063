//! The agent's tools (the policy is the floor: agents only tighten it) and its
//! openclaw.json fragment, which may not weaken the policy or take clawctl's fields.

use serde_json::{Map, Value};

use super::cx::At;
use super::cx::Cx;
use crate::diag::FieldPath;
use crate::fleet::guardrails;
use crate::fleet::model::{Settings, ToolPolicy};

pub(super) fn resolve(cx: &mut Cx, at: At, settings: &Settings) -> ToolPolicy {
    let policy = &cx.loaded.fleet.spec.policy.tools;
    let mut tools = policy.clone();
    if let Some(own) = &settings.tools {
        if own.elevated == Some(true) && !policy.elevated {
            cx.error(&at.src(cx, "tools.elevated"), "elevated tools are disabled by spec.policy.tools.elevated and cannot be re-enabled");
        }
        if own.fs_workspace_only == Some(false) && policy.fs_workspace_only {
            cx.error(
                &at.src(cx, "tools.fsWorkspaceOnly"),
                "spec.policy.tools.fsWorkspaceOnly confines file tools to the workspace and cannot be lifted",
            );
        }
        tools.elevated = policy.elevated && own.elevated.unwrap_or(true);
        tools.fs_workspace_only =
            policy.fs_workspace_only || own.fs_workspace_only.unwrap_or(false);
        for tool in own.deny.iter().flatten() {
            if !tools.deny.contains(tool) {
                tools.deny.push(tool.clone());
            }
        }
    }
    tools
}

pub(super) fn config(
    cx: &mut Cx,
    at: At,
    settings: &Settings,
    tools: &ToolPolicy,
) -> Map<String, Value> {
    let config = match settings.config.clone() {
        None => Map::new(),
        Some(Value::Object(map)) => map,
        Some(other) => {
            let kind = if other.is_array() {
                "a list"
            } else {
                "a scalar"
            };
            cx.error(
                &at.src(cx, "config"),
                format!("expected a mapping (an openclaw.json fragment), found {kind}"),
            );
            Map::new()
        }
    };
    for (rel, problem) in guardrails::config_fragment(&config) {
        let path = at.src_path(cx, &FieldPath::root().key("config").join(&rel));
        cx.error(&path, problem);
    }
    for (rel, problem) in crate::openclaw::policy_conflicts(&config, tools) {
        let path = at.src(cx, &format!("config.{rel}"));
        cx.error(&path, problem);
    }
    config
}
