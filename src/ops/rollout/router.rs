//! The router's step of a rollout. When the fleet file's router image (`spec.routing.router.image`)
//! differs from the one the live router runs, the router moves first, before any agent:
//! its objects are applied as `apply` would, and its gate is its Deployment becoming
//! ready within the rollout's timeout. Every person's messages pass through it, so a
//! router that fails its gate is put back at once (with auto-rollback) to the image it
//! ran, and no agent moves: the run ends rolled back (exit 4). `--tag` moves the agents'
//! image only; the router's comes from the file. A resumed or promoted rollout finds
//! the router moved already; `--abort` leaves it alone (its step never stays half-done:
//! it is rolled back before the run goes on).

use k8s_openapi::api::apps::v1::Deployment;
use serde::Serialize;
use serde_json::Value;

use super::outcome::Outcome;
use crate::cluster::wait::{self, Outcome as WaitOutcome, Progress, Workload};
use crate::cluster::{Cluster, objects};
use crate::fleet::ResolvedFleet;
use crate::render::Manifest;

/// The router's move.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub namespace: String,
    pub name: String,
    /// The image it runs now (empty when it is not deployed).
    pub from: String,
    pub to: String,
    /// Its rendered objects but the Namespace, in apply order.
    #[serde(skip)]
    manifests: Vec<Value>,
}

/// How the router's step ended.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouterReport {
    pub name: String,
    pub from: String,
    pub to: String,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Why its gate failed, when it did.
    pub failure: Option<String>,
}

/// The router's live Deployment, if the fleet has one (ApplySet membership decides).
pub async fn live(
    cluster: &Cluster,
    fleet: &ResolvedFleet,
    applyset_id: &str,
) -> anyhow::Result<Option<Deployment>> {
    let Some(namespace) = fleet.router_namespace() else {
        return Ok(None);
    };
    let name = crate::names::router(&fleet.name);
    let kind = crate::cluster::kinds::find("apps/v1", "Deployment")
        .ok_or_else(|| anyhow::anyhow!("Deployment is not a kind clawctl manages"))?;
    let Some(value) = objects::get(cluster, kind, Some(namespace), &name)
        .await
        .map_err(|e| anyhow::anyhow!("cannot read the router's Deployment: {}", e.message))?
    else {
        return Ok(None);
    };
    let deployment: Deployment = serde_json::from_value(value)?;
    let ours = crate::ownership::is_ours(
        deployment.metadata.labels.as_ref(),
        &fleet.name,
        applyset_id,
    );
    Ok(ours.then_some(deployment))
}

/// The router's step, when the file's router image is not the live one's. Pure.
pub fn plan(
    fleet: &ResolvedFleet,
    manifests: &[Manifest],
    live: Option<&Deployment>,
) -> Option<Step> {
    let router = fleet.routing.router.as_ref()?;
    let namespace = fleet.router_namespace()?.to_string();
    let from = live.and_then(crate::ops::agents::image).unwrap_or_default();
    if from == router.image {
        return None;
    }
    let mut ours: Vec<&Manifest> = manifests
        .iter()
        .filter(|m| m.agent.is_none() && m.namespace.as_deref() == Some(namespace.as_str()))
        .collect();
    ours.sort_by_key(|m| m.key());
    Some(Step {
        name: crate::names::router(&fleet.name),
        namespace,
        from,
        to: router.image.clone(),
        manifests: ours.into_iter().map(|m| m.value.clone()).collect(),
    })
}

/// Moves the router and waits for its gate; on failure (with `auto_rollback`) puts its
/// Deployment back on the image it ran.
pub async fn run(
    cluster: &Cluster,
    applyset_id: &str,
    selector: &str,
    step: &Step,
    timeout: std::time::Duration,
    auto_rollback: bool,
    progress: &dyn Progress,
) -> RouterReport {
    let report = |outcome, failure: Option<&String>| RouterReport {
        name: step.name.clone(),
        from: step.from.clone(),
        to: step.to.clone(),
        outcome,
        failure: failure.cloned(),
    };
    let failed = match move_to(
        cluster,
        applyset_id,
        selector,
        &step.manifests,
        step,
        timeout,
        progress,
    )
    .await
    {
        Ok(()) => return report(Outcome::Updated, None),
        Err(why) => why,
    };
    if !auto_rollback || step.from.is_empty() {
        return report(Outcome::Failed(failed.clone()), Some(&failed));
    }
    let back: Vec<Value> = step
        .manifests
        .iter()
        .filter(|m| m["kind"] == "Deployment")
        .map(|m| with_image(m, &step.from))
        .collect();
    match move_to(
        cluster,
        applyset_id,
        selector,
        &back,
        step,
        timeout,
        progress,
    )
    .await
    {
        Ok(()) => report(Outcome::RolledBack, Some(&failed)),
        Err(why) => report(
            Outcome::RollbackFailed(format!(
                "{failed}; going back to {} failed too: {why}",
                step.from
            )),
            Some(&failed),
        ),
    }
}

/// `deployment` with the router container's image replaced.
fn with_image(deployment: &Value, image: &str) -> Value {
    let mut back = deployment.clone();
    if let Some(containers) = back
        .pointer_mut("/spec/template/spec/containers")
        .and_then(Value::as_array_mut)
    {
        for container in containers {
            container["image"] = Value::String(image.to_string());
        }
    }
    back
}

async fn move_to(
    cluster: &Cluster,
    applyset_id: &str,
    selector: &str,
    manifests: &[Value],
    step: &Step,
    timeout: std::time::Duration,
    progress: &dyn Progress,
) -> Result<(), String> {
    crate::ops::agents::apply(cluster, applyset_id, manifests, true).await?;
    let workload = Workload {
        namespace: step.namespace.clone(),
        name: step.name.clone(),
        agent: None,
    };
    let outcomes = wait::deployments(
        cluster,
        selector,
        std::slice::from_ref(&workload),
        timeout,
        progress,
    )
    .await
    .map_err(|e| e.to_string())?;
    match outcomes.get(&workload) {
        Some(WaitOutcome::Ready) => Ok(()),
        Some(WaitOutcome::Failed(why) | WaitOutcome::Unfinished(why)) => Err(why.clone()),
        None => Err("no status".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn going_back_changes_only_the_image() {
        let d = json!({"kind": "Deployment", "spec": {"template": {"spec": {"containers": [
            {"name": "router", "image": "r:2", "env": [{"name": "A", "value": "b"}]}]}}}});
        let back = with_image(&d, "r:1");
        assert_eq!(
            back["spec"]["template"]["spec"]["containers"][0]["image"],
            "r:1"
        );
        assert_eq!(
            back["spec"]["template"]["spec"]["containers"][0]["env"],
            d["spec"]["template"]["spec"]["containers"][0]["env"]
        );
    }
}
