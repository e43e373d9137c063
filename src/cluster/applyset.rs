//! The fleet's ApplySet parent (KEP-3659), so `kubectl` can see what belongs to a fleet:
//! a ConfigMap in the fleet namespace whose id labels every member.

use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub use crate::ownership::PARENT_ID;
pub const TOOLING: &str = "applyset.kubernetes.io/tooling";
pub const CONTAINS_GROUP_KINDS: &str = "applyset.kubernetes.io/contains-group-kinds";
pub const ADDITIONAL_NAMESPACES: &str = "applyset.kubernetes.io/additional-namespaces";

/// The parent's name in the fleet namespace.
pub fn parent_name(fleet: &str) -> String {
    format!("clawctl-applyset-{fleet}")
}

/// `applyset-<base64url(sha256(<name>.<namespace>.<kind>.<group>))>-v1`, the id format
/// kubectl defines (k8s.io/kubectl/pkg/cmd/apply/applyset.go, V1ApplySetIdFormat), for a
/// ConfigMap parent (group "").
pub fn id(fleet: &str, namespace: &str) -> String {
    let unencoded = format!("{}.{namespace}.ConfigMap.", parent_name(fleet));
    let hashed = Sha256::digest(unencoded.as_bytes());
    format!(
        "applyset-{}-v1",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hashed)
    )
}

/// The parent object: its id label, the tooling, the group-kinds and namespaces of
/// its members (sorted, comma-separated, as kubectl writes them).
pub fn parent(
    fleet: &str,
    namespace: &str,
    labels: &Value,
    group_kinds: &[String],
    namespaces: &[String],
) -> Value {
    let mut group_kinds = group_kinds.to_vec();
    group_kinds.sort();
    group_kinds.dedup();
    let mut namespaces: Vec<&String> = namespaces.iter().filter(|ns| *ns != namespace).collect();
    namespaces.sort();
    namespaces.dedup();
    let mut labels = labels.clone();
    if let Some(map) = labels.as_object_mut() {
        map.insert(PARENT_ID.into(), Value::String(id(fleet, namespace)));
    }
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": parent_name(fleet),
            "namespace": namespace,
            "labels": labels,
            "annotations": {
                TOOLING: concat!("clawctl/v", env!("CARGO_PKG_VERSION")),
                CONTAINS_GROUP_KINDS: group_kinds.join(","),
                ADDITIONAL_NAMESPACES: namespaces.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","),
            }
        }
    })
}

/// The fleet namespace of a fleet known only by name: where its ApplySet parent lives
/// (a ConfigMap labelled with the fleet and carrying the id kubectl's format gives that
/// name and namespace). `None` when the cluster holds no parent for the fleet; an error
/// when several do.
pub async fn find_namespace(
    cluster: &super::Cluster,
    fleet: &str,
) -> anyhow::Result<Option<String>> {
    use anyhow::Context;
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::{Api, ListParams};

    let api: Api<ConfigMap> = Api::all(cluster.client.clone());
    let selector = format!("{}={fleet},{PARENT_ID}", crate::names::FLEET_LABEL);
    let params = ListParams::default().labels(&selector);
    let parents = super::retry::idempotent(|| api.list(&params))
        .await
        .with_context(|| format!("cannot look for the ApplySet parent of fleet {fleet:?}"))?;
    let mut namespaces: Vec<String> = parents
        .items
        .iter()
        .filter(|cm| cm.metadata.name.as_deref() == Some(parent_name(fleet).as_str()))
        .filter_map(|cm| {
            let namespace = cm.metadata.namespace.clone()?;
            let label = cm.metadata.labels.as_ref()?.get(PARENT_ID)?;
            (*label == id(fleet, &namespace)).then_some(namespace)
        })
        .collect();
    namespaces.sort();
    namespaces.dedup();
    match namespaces.len() {
        0 => Ok(None),
        1 => Ok(namespaces.pop()),
        _ => anyhow::bail!(
            "fleet {fleet:?} has ApplySet parents in several namespaces ({}); give the fleet file instead",
            namespaces.join(", ")
        ),
    }
}

/// The namespaces a fleet's objects live in, as its ApplySet parent in `namespace`
/// records them: that namespace and the parent's additional namespaces. One namespaced
/// read, so it works with credentials bound to the fleet's namespaces.
pub async fn member_namespaces(
    cluster: &super::Cluster,
    fleet: &str,
    namespace: &str,
) -> anyhow::Result<Vec<String>> {
    use anyhow::Context;
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::Api;

    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), namespace);
    let name = parent_name(fleet);
    let parent = super::retry::idempotent(|| api.get_opt(&name))
        .await
        .with_context(|| format!("cannot read the ApplySet parent {namespace}/{name}"))?;
    let mut namespaces = vec![namespace.to_string()];
    if let Some(additional) = parent
        .as_ref()
        .and_then(|p| p.metadata.annotations.as_ref())
        .and_then(|a| a.get(ADDITIONAL_NAMESPACES))
    {
        namespaces.extend(
            additional
                .split(',')
                .map(str::trim)
                .filter(|ns| !ns.is_empty())
                .map(str::to_string),
        );
    }
    Ok(namespaces)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_follows_the_kubectl_format() {
        let id = id("swarm", "swarm");
        // "applyset-" + 43 characters of unpadded base64url (32 bytes) + "-v1": a valid
        // label value (at most 63 characters, alphanumeric at both ends).
        assert!(id.starts_with("applyset-") && id.ends_with("-v1"), "{id}");
        assert_eq!(id.len(), 9 + 43 + 3);
        assert!(!id.contains(['+', '/', '=']));
        assert_ne!(id, super::id("swarm", "other"));
    }

    #[test]
    fn parent_lists_members_sorted_without_its_own_namespace() {
        let parent = parent(
            "swarm",
            "swarm",
            &serde_json::json!({"clawctl.io/fleet": "swarm"}),
            &[
                "Deployment.apps".into(),
                "ConfigMap".into(),
                "ConfigMap".into(),
            ],
            &["team-b".into(), "swarm".into(), "team-a".into()],
        );
        let annotations = &parent["metadata"]["annotations"];
        assert_eq!(
            annotations[CONTAINS_GROUP_KINDS],
            "ConfigMap,Deployment.apps"
        );
        assert_eq!(annotations[ADDITIONAL_NAMESPACES], "team-a,team-b");
        assert_eq!(
            parent["metadata"]["labels"][PARENT_ID],
            id("swarm", "swarm")
        );
    }
}
