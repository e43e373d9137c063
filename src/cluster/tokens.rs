//! Generated Secret keys: a routed agent's gateway token. clawctl's manifest of the
//! Secret carries no data, only the annotation naming the key to generate; `fill` writes
//! a random value into that key once (as field manager `clawctl-token`, so clawctl's
//! server-side applies never touch it), never again while it is there, and never returns,
//! prints or keeps it.

use base64::Engine;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

use super::errors::{self, Request};
use super::{Cluster, retry};

/// The field manager of generated keys.
pub const FIELD_MANAGER: &str = "clawctl-token";

/// Pod template annotation that restarts an agent whose token was made anew.
pub const TOKEN_RENEWED: &str = "clawctl.io/token-renewed-at";

/// 32 random bytes from the operating system, hex: 256 bits, as `openssl rand -hex 32`.
fn random_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no random source: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Writes a random value into `key` of Secret `name` unless the key holds one already.
/// Returns whether it wrote.
pub async fn fill(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    key: &str,
) -> anyhow::Result<bool> {
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), namespace);
    let request = |verb| Request {
        verb,
        resource: "secrets",
        namespace: Some(namespace),
        name: Some(name),
    };
    let held = retry::idempotent(|| api.get(name))
        .await
        .map_err(|e| anyhow::anyhow!(errors::describe(&e, &request("get"))))?
        .data
        .is_some_and(|data| data.get(key).is_some_and(|v| !v.0.is_empty()));
    if held {
        return Ok(false);
    }
    let value = base64::engine::general_purpose::STANDARD.encode(random_token()?);
    let patch = json!({ "data": { key: value } });
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..PatchParams::default()
    };
    api.patch(name, &params, &Patch::Merge(&patch))
        .await
        .map_err(|e| anyhow::anyhow!(errors::describe(&e, &request("patch"))))?;
    Ok(true)
}

/// Restarts a Deployment's pods (as `kubectl rollout restart` does: a pod template
/// annotation with the time), so they read a token made anew.
pub async fn restart(cluster: &Cluster, namespace: &str, name: &str) -> anyhow::Result<()> {
    let api: Api<Deployment> = Api::namespaced(cluster.client.clone(), namespace);
    let patch = json!({"spec": {"template": {"metadata": {"annotations": {
        TOKEN_RENEWED: Timestamp::now().to_string()
    }}}}});
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..PatchParams::default()
    };
    api.patch(name, &params, &Patch::Merge(&patch))
        .await
        .map_err(|e| {
            anyhow::anyhow!(errors::describe(
                &e,
                &Request {
                    verb: "patch",
                    resource: "deployments.apps",
                    namespace: Some(namespace),
                    name: Some(name),
                }
            ))
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_256_random_bits() {
        let a = super::random_token().expect("token");
        let b = super::random_token().expect("token");
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
