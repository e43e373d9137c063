//! What every context builder shares: the team's labels, the router's idle time, and
//! the parts of an agent's context that do not depend on the agent ([`AgentShared`]).

use std::collections::BTreeMap;

use minijinja::Value;
use serde_json::{Value as Json, json};

use crate::error::InvalidInput;
use crate::fleet::ResolvedFleet;
use crate::names::{TEAM_LABEL, fleet_labels};
use crate::openclaw::{self, GATEWAY_PORT, Release};

pub(super) fn team_labels(fleet: &ResolvedFleet, team: &str) -> BTreeMap<String, String> {
    let mut labels = fleet_labels(&fleet.name);
    labels.insert(TEAM_LABEL.to_string(), team.to_string());
    labels
}

/// The router's `idleAfter`, when it puts agents to sleep.
pub(super) fn idle_after(fleet: &ResolvedFleet) -> Option<std::time::Duration> {
    let router = fleet.routing.router.as_ref()?;
    router.idle_after.as_ref().map(|d| d.get())
}

/// The parts of every agent's context that do not depend on the agent, built once per
/// render and shared (a minijinja value clones by reference count).
pub struct AgentShared {
    pub(super) release: Release,
    pub(super) image: Value,
    pub(super) readiness_path: &'static str,
    pub(super) command: Value,
    pub(super) ingress: Value,
    pub(super) container_security: Value,
    pub(super) dns_egress: Value,
}

impl AgentShared {
    /// Fails when the fleet's image runs an OpenClaw release clawctl cannot render for
    /// (a rollout to a new tag renders again, so this is checked here, not only by
    /// `validate`).
    pub fn new(fleet: &ResolvedFleet) -> Result<Self, InvalidInput> {
        let (release, _) = openclaw::release(&fleet.image, fleet.openclaw_version.as_deref())
            .map_err(|e| InvalidInput(format!("image {}: {e}", fleet.image)))?;
        Ok(AgentShared {
            release,
            image: Value::from(fleet.image.as_str()),
            readiness_path: openclaw::readiness_path(release.dialect),
            command: to_value(json!(openclaw::gateway_command())),
            ingress: to_value(ingress(fleet)),
            container_security: to_value(restricted_security()),
            // DNS is always allowed: without it no egress rule by name can work.
            dns_egress: to_value(json!({
                "to": [{
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }],
                "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
            })),
        })
    }
}

/// The restricted security context of clawctl's own containers (Pod Security
/// Standards, `restricted`).
pub(super) fn restricted_security() -> Json {
    json!({
        "allowPrivilegeEscalation": false,
        "readOnlyRootFilesystem": true,
        "runAsNonRoot": true,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    })
}

/// A JSON value as a template value.
pub fn to_value(value: Json) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// A mapping as the template engine builds one from JSON: keys in their sorted order.
pub(super) fn map<'k>(entries: impl IntoIterator<Item = (&'k str, Value)>) -> Value {
    Value::from(
        entries
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect::<BTreeMap<Value, Value>>(),
    )
}

pub(super) fn str_map(m: &BTreeMap<String, String>) -> Value {
    map(m.iter().map(|(k, v)| (k.as_str(), Value::from(v.as_str()))))
}

pub(super) fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

pub(super) fn ingress(fleet: &ResolvedFleet) -> Json {
    let Some(from) = &fleet.routing.from else {
        return json!([]);
    };
    json!([{
        "from": [{
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": from.namespace}},
            "podSelector": {"matchLabels": from.pod_selector},
        }],
        "ports": [{"port": GATEWAY_PORT, "protocol": "TCP"}],
    }])
}
