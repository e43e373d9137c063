//! StorageClasses and PersistentVolumeClaims, to say why an agent's volume is not there:
//! whether a class exists (the preflight), and why a claim is still Pending (the wait).

use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, ListParams};

use super::errors::{self, Request};
use super::{Cluster, retry};

/// Whether an object exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found,
    Missing,
    /// RBAC does not let this user read it: the message says which permission.
    Forbidden(String),
}

/// Whether StorageClass `name` exists.
pub async fn class(cluster: &Cluster, name: &str) -> anyhow::Result<Lookup> {
    let api: Api<StorageClass> = Api::all(cluster.client.clone());
    match retry::idempotent(|| api.get_opt(name)).await {
        Ok(Some(_)) => Ok(Lookup::Found),
        Ok(None) => Ok(Lookup::Missing),
        Err(err) => {
            let request = Request {
                verb: "get",
                resource: "storageclasses.storage.k8s.io",
                namespace: None,
                name: Some(name),
            };
            let message = errors::describe(&err, &request);
            match &err {
                kube::Error::Api(status) if status.code == 403 => Ok(Lookup::Forbidden(message)),
                _ => Err(anyhow::anyhow!(message)),
            }
        }
    }
}

/// Whether claim `name` exists in `namespace` (an existing claim an agent mounts).
pub async fn claim(cluster: &Cluster, namespace: &str, name: &str) -> anyhow::Result<Lookup> {
    let api: Api<PersistentVolumeClaim> = Api::namespaced(cluster.client.clone(), namespace);
    match retry::idempotent(|| api.get_opt(name)).await {
        Ok(Some(_)) => Ok(Lookup::Found),
        Ok(None) => Ok(Lookup::Missing),
        Err(err) => {
            let request = Request {
                verb: "get",
                resource: "persistentvolumeclaims",
                namespace: Some(namespace),
                name: Some(name),
            };
            let message = errors::describe(&err, &request);
            match &err {
                kube::Error::Api(status) if status.code == 403 => Ok(Lookup::Forbidden(message)),
                _ => Err(anyhow::anyhow!(message)),
            }
        }
    }
}

/// Why a claim is not bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unbound {
    /// Kubernetes will not bind it by itself: someone has to act.
    Stuck(String),
    /// It may still bind; the text says what the cluster last reported.
    Pending(String),
}

/// Why claim `name` in `namespace` is not bound, or `None` when it is (or when the
/// cluster does not let this user look: the diagnosis is a courtesy, never an error).
pub async fn unbound(cluster: &Cluster, namespace: &str, name: &str) -> Option<Unbound> {
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(cluster.client.clone(), namespace);
    let claim = claims.get_opt(name).await.ok()?;
    let what = format!("PersistentVolumeClaim {namespace}/{name}");
    let Some(claim) = claim else {
        return Some(Unbound::Pending(format!("{what} does not exist (yet)")));
    };
    let phase = claim.status.as_ref().and_then(|s| s.phase.as_deref());
    if phase == Some("Bound") {
        return None;
    }
    let phase = phase.unwrap_or("Pending");
    let class = claim
        .spec
        .as_ref()
        .and_then(|s| s.storage_class_name.clone())
        .filter(|c| !c.is_empty());
    let class_missing = |class: &str| {
        format!(
            "{what} is {phase}: StorageClass {class:?} does not exist, so nothing will \
             provision its volume (create the class, or set storage.storageClassName to one \
             that `kubectl get storageclass` lists; a claim's class cannot change, so this \
             claim, which never held data, must then be deleted)"
        )
    };
    if let Some(class) = &class
        && matches!(self::class(cluster, class).await, Ok(Lookup::Missing))
    {
        return Some(Unbound::Stuck(class_missing(class)));
    }
    // The newest warning the volume controllers recorded about it.
    let events: Api<Event> = Api::namespaced(cluster.client.clone(), namespace);
    let fields = format!("involvedObject.kind=PersistentVolumeClaim,involvedObject.name={name}");
    let latest = events
        .list(&ListParams::default().fields(&fields))
        .await
        .ok()
        .and_then(|list| {
            list.items
                .into_iter()
                .filter(|e| e.type_.as_deref() == Some("Warning"))
                .max_by_key(|e| {
                    e.last_timestamp
                        .as_ref()
                        .map(|t| t.0)
                        .or_else(|| e.event_time.as_ref().map(|t| t.0))
                })
        });
    let Some(event) = latest else {
        return Some(Unbound::Pending(format!("{what} is {phase}")));
    };
    let reason = event.reason.unwrap_or_default();
    let message = event.message.unwrap_or_default();
    // Where this user may not read StorageClasses, the persistent volume controller's
    // event says the same (`storageclass.storage.k8s.io "local-path" not found`).
    if let Some(class) = &class
        && reason == "ProvisioningFailed"
        && message.contains(&format!("storageclass.storage.k8s.io {class:?} not found"))
    {
        return Some(Unbound::Stuck(class_missing(class)));
    }
    Some(Unbound::Pending(format!(
        "{what} is {phase}: {reason}: {message}"
    )))
}
