//! Names of the objects clawctl makes for an agent: a leaf that renders nothing and
//! imports nothing, so validation (which must know which names are another agent's)
//! and rendering agree on them.

/// The name of an agent's objects (ServiceAccount, ConfigMap, state claim, Deployment...).
pub fn resource_name(agent: &str) -> String {
    format!("agent-{agent}")
}

/// The Secret holding a routed agent's own gateway token (`routing.from`), created and
/// filled by `apply`, never rendered with a value.
pub fn token_secret(agent: &str) -> String {
    format!("{}-gateway-token", resource_name(agent))
}

/// The workspace claim of agent `hosted` in the multi-agent gateway `gateway`.
pub fn workspace_claim(gateway: &str, hosted: &str) -> String {
    format!("{}-{hosted}", resource_name(gateway))
}
