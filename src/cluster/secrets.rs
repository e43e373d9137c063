//! Reading which keys a Secret holds, for preflight checks. Values are read (the API has
//! no keys-only view of a Secret) but dropped at once: they are never returned, printed,
//! logged or kept.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;

use super::errors::{self, Request};
use super::{Cluster, retry};

/// What a Secret lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretKeys {
    /// The Secret exists and holds these keys.
    Found(BTreeSet<String>),
    /// No such Secret (or no such namespace).
    Missing,
    /// RBAC does not let this user read it: the message says which permission.
    Forbidden(String),
}

/// The keys of Secret `name` in `namespace`.
pub async fn keys(cluster: &Cluster, namespace: &str, name: &str) -> anyhow::Result<SecretKeys> {
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), namespace);
    match retry::idempotent(|| api.get_opt(name)).await {
        Ok(Some(secret)) => {
            // `stringData` is write-only: the server merges it into `data`.
            let keys: BTreeSet<String> = secret.data.unwrap_or_default().into_keys().collect();
            Ok(SecretKeys::Found(keys))
        }
        Ok(None) => Ok(SecretKeys::Missing),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(SecretKeys::Missing),
        Err(err) => {
            let request = Request {
                verb: "get",
                resource: "secrets",
                namespace: Some(namespace),
                name: Some(name),
            };
            let message = errors::describe(&err, &request);
            match &err {
                kube::Error::Api(status) if status.code == 403 => {
                    Ok(SecretKeys::Forbidden(message))
                }
                _ => Err(anyhow::anyhow!(message)),
            }
        }
    }
}
