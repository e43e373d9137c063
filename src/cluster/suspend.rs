//! Suspending an agent without editing the fleet file: its Deployment scaled to zero by
//! server-side apply under a field manager of its own, and how a live Deployment tells
//! that it is suspended.
//!
//! Field ownership is the whole design. `clawctl suspend` applies `spec.replicas: 0` and
//! the annotation [`ANNOTATION`] as [`FIELD_MANAGER`], forcing: `spec.replicas` moves
//! from the `clawctl` manager to it ("Writes to objects with managed fields can be
//! forced, in which case the value of any conflicted field will be overridden, and the
//! ownership will be transferred", Server-Side Apply, Conflicts). `clawctl apply` then
//! sees the annotation and leaves `spec.replicas` out of what it applies
//! (`Plan::keep_scaled_down`), as a manifest does for a field an autoscaler owns
//! (Server-Side Apply, "Transferring ownership"): apply neither takes the agent back to
//! one replica nor gets a conflict. `clawctl resume` applies an empty configuration as
//! the same manager, which gives both fields up: "Removed fields which have no other
//! owners are deleted from the live object, or reset to their default value if they have
//! one" — the annotation goes, and `spec.replicas` returns to the Deployment default, 1
//! (apps/v1 `SetDefaults_Deployment`). The fleet file's own `suspended: true` is
//! rendered as `replicas: 0` owned by `clawctl`; either one keeps the agent stopped.

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

use super::errors::{self, Request};
use super::{Cluster, retry};

/// The field manager of `clawctl suspend` and `clawctl resume`.
pub const FIELD_MANAGER: &str = "clawctl-suspend";

/// Deployment annotation `clawctl suspend` sets (`"true"`); `resume` removes it.
pub const ANNOTATION: &str = "clawctl.io/suspended";

/// Deployment annotation the fleet file's `suspended: true` renders (`"true"`, owned by
/// `clawctl` with the `replicas: 0` it comes with), so a reader without the file
/// (`status --fleet NAME`) can tell it from a scale to zero by someone else.
pub const FLEET_ANNOTATION: &str = "clawctl.io/suspended-in-fleet";

/// Who keeps an agent at zero replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuspendedBy {
    /// `clawctl suspend` (the annotation).
    Command,
    /// `spec.replicas: 0` with [`FLEET_ANNOTATION`]: the fleet file's `suspended: true`.
    Fleet,
    /// `spec.replicas: 0` without either annotation: another manager's scale to zero (or
    /// a file-suspended agent applied before clawctl rendered [`FLEET_ANNOTATION`]).
    Replicas,
}

/// Whether `d` is suspended, and by what.
pub fn suspended(d: &Deployment) -> Option<SuspendedBy> {
    let annotated = d
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ANNOTATION))
        .is_some_and(|v| v == "true");
    let in_fleet = d
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(FLEET_ANNOTATION))
        .is_some_and(|v| v == "true");
    if annotated {
        Some(SuspendedBy::Command)
    } else if d.spec.as_ref().and_then(|s| s.replicas) == Some(0) {
        Some(if in_fleet {
            SuspendedBy::Fleet
        } else {
            SuspendedBy::Replicas
        })
    } else {
        None
    }
}

/// Whether a live object (JSON) carries the annotation of `clawctl suspend`.
pub fn annotated(live: &serde_json::Value) -> bool {
    live.pointer("/metadata/annotations")
        .and_then(|a| a.get(ANNOTATION))
        .and_then(serde_json::Value::as_str)
        == Some("true")
}

/// The agents of `fleet` whose Deployment `clawctl suspend` suspended, from one list.
pub async fn suspended_agents(
    cluster: &Cluster,
    selector: &str,
    fleet: &str,
    fleet_namespace: &str,
) -> anyhow::Result<std::collections::BTreeSet<String>> {
    let deployments: Vec<Deployment> =
        super::scoped::list_members(cluster, selector, fleet, Some(fleet_namespace)).await?;
    Ok(deployments
        .iter()
        .filter(|d| suspended(d) == Some(SuspendedBy::Command))
        .filter_map(|d| {
            d.metadata
                .labels
                .as_ref()?
                .get(crate::names::AGENT_LABEL)
                .cloned()
        })
        .collect())
}

/// Scales Deployment `name` to zero and annotates it, as [`FIELD_MANAGER`], forcing
/// (taking `spec.replicas` from clawctl's apply).
pub async fn suspend(cluster: &Cluster, namespace: &str, name: &str) -> anyhow::Result<()> {
    let patch = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "annotations": {ANNOTATION: "true"}},
        "spec": {"replicas": 0},
    });
    write(cluster, FIELD_MANAGER, namespace, name, &patch, true).await
}

/// Gives up what [`suspend`] took: the annotation goes and `spec.replicas` returns to its
/// default of 1 (unless the fleet file's `replicas: 0`, owned by clawctl, holds it).
pub async fn resume(cluster: &Cluster, namespace: &str, name: &str) -> anyhow::Result<()> {
    release_all(cluster, FIELD_MANAGER, namespace, name).await
}

/// Gives up every field `manager` holds on Deployment `name` by applying an empty
/// configuration as that manager ("Removed fields which have no other owners are
/// deleted from the live object, or reset to their default value", Server-Side Apply).
/// `resume` does it as `clawctl suspend`'s manager, waking an idle agent as the router's.
pub(super) async fn release_all(
    cluster: &Cluster,
    manager: &str,
    namespace: &str,
    name: &str,
) -> anyhow::Result<()> {
    let patch = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
    });
    write(cluster, manager, namespace, name, &patch, false).await
}

async fn write(
    cluster: &Cluster,
    manager: &str,
    namespace: &str,
    name: &str,
    patch: &serde_json::Value,
    force: bool,
) -> anyhow::Result<()> {
    let api: Api<Deployment> = Api::namespaced(cluster.client.clone(), namespace);
    let mut params = PatchParams::apply(manager);
    params.force = force;
    let request = Request {
        verb: "apply",
        resource: "deployments.apps",
        namespace: Some(namespace),
        name: Some(name),
    };
    // Server-side apply is idempotent: sending the same configuration twice is safe.
    let patch = Patch::Apply(patch);
    retry::idempotent(|| api.patch(name, &params, &patch))
        .await
        .map_err(|e| anyhow::anyhow!(errors::describe(&e, &request)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(yaml: &str) -> Deployment {
        let docs = crate::yaml::parse_documents(yaml).expect("yaml");
        serde_json::from_value(docs.into_iter().next().expect("one document")).expect("typed")
    }

    #[test]
    fn the_annotation_or_zero_replicas_is_suspended() {
        let base = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a";
        let d = deployment(&format!(
            "{base}, annotations: {{clawctl.io/suspended: \"true\"}}}}\nspec: {{replicas: 0, selector: {{}}, template: {{}}}}\n"
        ));
        assert_eq!(suspended(&d), Some(SuspendedBy::Command));
        let d = deployment(&format!(
            "{base}}}\nspec: {{replicas: 0, selector: {{}}, template: {{}}}}\n"
        ));
        assert_eq!(suspended(&d), Some(SuspendedBy::Replicas));
        let d = deployment(&format!(
            "{base}, annotations: {{clawctl.io/suspended-in-fleet: \"true\"}}}}\nspec: {{replicas: 0, selector: {{}}, template: {{}}}}\n"
        ));
        assert_eq!(suspended(&d), Some(SuspendedBy::Fleet));
        let d = deployment(&format!(
            "{base}}}\nspec: {{replicas: 1, selector: {{}}, template: {{}}}}\n"
        ));
        assert_eq!(suspended(&d), None);
        // No replicas: the default, 1.
        let d = deployment(&format!(
            "{base}}}\nspec: {{selector: {{}}, template: {{}}}}\n"
        ));
        assert_eq!(suspended(&d), None);
    }
}
