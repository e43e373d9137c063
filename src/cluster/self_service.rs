//! Self-service claims and the bundle in the router's namespace: listing the claims (by
//! label, in that one namespace: claims anywhere else are never read), making one, and
//! reading the bundle. What a claim means is `fleet::self_service`'s.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, ListParams, PostParams};

use super::errors::{Request, describe};
use super::{Cluster, retry};
use crate::fleet::self_service::{CLAIM_LABEL, Claim, claim_name};
use crate::names::FLEET_LABEL;

/// The label selector of a fleet's claims.
pub fn selector(fleet: &str) -> String {
    format!("{FLEET_LABEL}={fleet},{CLAIM_LABEL}=true")
}

/// One claim ConfigMap as found: its name and data (not yet checked).
#[derive(Debug, Clone)]
pub struct Found {
    pub name: String,
    pub data: BTreeMap<String, String>,
}

/// The fleet's claim ConfigMaps in `namespace` (the router's), sorted by name. A
/// namespace that does not exist holds none.
pub async fn list(cluster: &Cluster, namespace: &str, fleet: &str) -> anyhow::Result<Vec<Found>> {
    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), namespace);
    let params = ListParams::default().labels(&selector(fleet));
    let request = Request {
        verb: "list",
        resource: "configmaps",
        namespace: Some(namespace),
        name: None,
    };
    let listed = match retry::idempotent(|| api.list(&params)).await {
        Ok(listed) => listed.items,
        Err(kube::Error::Api(status)) if status.code == 404 => Vec::new(),
        Err(e) => anyhow::bail!("{}", describe(&e, &request)),
    };
    let mut found: Vec<Found> = listed
        .into_iter()
        .map(|cm| Found {
            name: cm.metadata.name.unwrap_or_default(),
            data: cm.data.unwrap_or_default(),
        })
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// Makes the claim ConfigMap of `claim` in `namespace`. `Ok(false)`: one of that name
/// exists already (someone else's request won the name).
pub async fn create(
    cluster: &Cluster,
    namespace: &str,
    fleet: &str,
    claim: &Claim,
) -> anyhow::Result<bool> {
    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), namespace);
    let name = claim_name(&claim.agent);
    let config = ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(namespace.to_string()),
            // Not an ApplySet member: prune never deletes a claim.
            labels: Some(BTreeMap::from([
                (FLEET_LABEL.to_string(), fleet.to_string()),
                (CLAIM_LABEL.to_string(), "true".to_string()),
            ])),
            ..ObjectMeta::default()
        },
        data: Some(claim.data()),
        ..ConfigMap::default()
    };
    match api.create(&PostParams::default(), &config).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
        Err(e) => {
            let request = Request {
                verb: "create",
                resource: "configmaps",
                namespace: Some(namespace),
                name: Some(&name),
            };
            anyhow::bail!("{}", describe(&e, &request))
        }
    }
}

/// The self-service bundle `name`, if this identity may read one. A 403 is the same
/// answer as no bundle: the router may read it only through the Role clawctl renders
/// with `selfService`, so a fleet without it has neither.
pub async fn read_bundle(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
) -> anyhow::Result<Option<ConfigMap>> {
    get_configmap(cluster, namespace, name, true).await
}

/// The data of ConfigMap `name` in `namespace`, `None` when it does not exist.
pub async fn read_configmap(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
) -> anyhow::Result<Option<ConfigMap>> {
    get_configmap(cluster, namespace, name, false).await
}

/// One ConfigMap by name; `None` when it does not exist, or (`forbidden_is_none`) when
/// this identity may not read it.
async fn get_configmap(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    forbidden_is_none: bool,
) -> anyhow::Result<Option<ConfigMap>> {
    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), namespace);
    let request = Request {
        verb: "get",
        resource: "configmaps",
        namespace: Some(namespace),
        name: Some(name),
    };
    match retry::idempotent(|| api.get_opt(name)).await {
        Ok(found) => Ok(found),
        Err(kube::Error::Api(status)) if forbidden_is_none && status.code == 403 => Ok(None),
        Err(e) => Err(anyhow::anyhow!("{}", describe(&e, &request))),
    }
}
