//! Generated Secret keys: a routed agent's gateway token. clawctl's manifest of the
//! Secret carries no data, only the annotation naming the key to generate; `fill` writes
//! a random value into that key once (as field manager `clawctl-token`, so clawctl's
//! server-side applies never touch it), never again while it is there and still
//! clawctl's, and never returns, prints or keeps it. A value that someone else wrote (a
//! Secret made or edited by hand, by another tool, by whoever could write Secrets in the
//! namespace) is not a token clawctl chose: it is replaced, so nobody can pick the token
//! an orchestrator will trust.

use base64::Engine;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

use super::errors::{self, Request};
use super::{Cluster, retry};

/// The field manager of generated keys.
pub use crate::ownership::TOKEN_MANAGER as FIELD_MANAGER;

/// Pod template annotation that restarts an agent whose token was made anew.
pub const TOKEN_RENEWED: &str = "clawctl.io/token-renewed-at";

/// 32 random bytes from the operating system, hex: 256 bits, as `openssl rand -hex 32`.
fn random_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no random source: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

pub use crate::ownership::{generated_here, key_managers};

/// What [`fill`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filled {
    /// The key held clawctl's own value: untouched.
    Kept,
    /// The key was empty or missing: a new value.
    Generated,
    /// The key held a value these managers wrote: replaced by a new one.
    Replaced(Vec<String>),
}

/// Writes a random value into `key` of Secret `name` unless the key holds one clawctl
/// generated ([`generated_here`]).
pub async fn fill(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    key: &str,
) -> anyhow::Result<Filled> {
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), namespace);
    let request = |verb| Request {
        verb,
        resource: "secrets",
        namespace: Some(namespace),
        name: Some(name),
    };
    let secret = retry::idempotent(|| api.get(name))
        .await
        .map_err(|e| anyhow::anyhow!(errors::describe(&e, &request("get"))))?;
    let held = secret
        .data
        .as_ref()
        .is_some_and(|data| data.get(key).is_some_and(|v| !v.0.is_empty()));
    // Only what ownership needs; the value itself is dropped here.
    let meta = json!({
        "data": {key: ""},
        "metadata": {"managedFields": secret.metadata.managed_fields},
    });
    drop(secret);
    let filled = match (held, generated_here(&meta, key)) {
        (true, true) => return Ok(Filled::Kept),
        (true, false) => Filled::Replaced(
            key_managers(&meta, key)
                .into_iter()
                .filter(|m| m != FIELD_MANAGER)
                .collect(),
        ),
        (false, _) => Filled::Generated,
    };
    let value = base64::engine::general_purpose::STANDARD.encode(random_token()?);
    let patch = json!({ "data": { key: value } });
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..PatchParams::default()
    };
    api.patch(name, &params, &Patch::Merge(&patch))
        .await
        .map_err(|e| anyhow::anyhow!(errors::describe(&e, &request("patch"))))?;
    Ok(filled)
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
    use serde_json::json;

    #[test]
    fn only_a_value_written_by_clawctl_token_is_kept() {
        let secret = |managers: &[&str]| {
            json!({"data": {"T": ""}, "metadata": {"managedFields": managers.iter().map(|m| json!({
                "manager": m, "operation": "Update", "fieldsV1": {"f:data": {"f:T": {}}}
            })).chain([json!({"manager": "clawctl", "operation": "Apply",
                               "fieldsV1": {"f:metadata": {"f:labels": {}}}})])
            .collect::<Vec<_>>()}})
        };
        assert!(super::generated_here(&secret(&["clawctl-token"]), "T"));
        // Made by hand, then or later edited by someone else: not clawctl's token.
        assert!(!super::generated_here(&secret(&["kubectl-create"]), "T"));
        assert!(!super::generated_here(
            &secret(&["clawctl-token", "kubectl-edit"]),
            "T"
        ));
        assert_eq!(
            super::key_managers(&secret(&["kubectl-edit"]), "T"),
            ["kubectl-edit"]
        );
        // No managed fields at all: nobody can say who wrote it.
        assert!(!super::generated_here(&json!({"data": {"T": ""}}), "T"));
    }

    #[test]
    fn tokens_are_256_random_bits() {
        let a = super::random_token().expect("token");
        let b = super::random_token().expect("token");
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
