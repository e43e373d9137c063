//! An agent's own objects (everything labelled with it except its volume): grouping
//! rendered manifests per agent, applying one agent's set in order, and the fleet's
//! live Deployments by agent.

use std::collections::BTreeMap;

use anyhow::Context;
use k8s_openapi::api::apps::v1::Deployment;
use serde_json::Value;

use crate::cluster::{Cluster, objects, scoped};
use crate::names::AGENT_LABEL;
use crate::plan::{self, ObjectRef};
use crate::render::Manifest;

/// One agent's objects, in apply order, without its PersistentVolumeClaim (rollouts and
/// rollbacks never touch volumes).
#[derive(Debug, Clone)]
pub struct AgentObjects {
    pub agent: String,
    pub team: Option<String>,
    pub namespace: String,
    pub manifests: Vec<Value>,
}

impl AgentObjects {
    /// Its Deployment's name.
    pub fn deployment(&self) -> Option<String> {
        self.manifests
            .iter()
            .find(|m| m["kind"] == "Deployment")
            .and_then(|m| m["metadata"]["name"].as_str())
            .map(str::to_string)
    }
}

/// The image a Deployment's pods run: its first container's (the gateway, or the
/// router's only one).
pub fn image(d: &Deployment) -> Option<String> {
    d.spec
        .as_ref()?
        .template
        .spec
        .as_ref()?
        .containers
        .first()?
        .image
        .clone()
}

/// The fleet's live Deployments by (namespace, agent), from one list (cluster-wide
/// where allowed, else per namespace: `cluster::scoped`).
pub async fn live_deployments(
    cluster: &Cluster,
    fleet: &str,
    fleet_namespace: &str,
) -> anyhow::Result<BTreeMap<(String, String), Deployment>> {
    let selector = super::planning::selector(fleet);
    let deployments: Vec<Deployment> =
        scoped::list_members(cluster, &selector, fleet, Some(fleet_namespace))
            .await
            .context("cannot list the fleet's Deployments")?;
    let id = crate::cluster::applyset::id(fleet, fleet_namespace);
    Ok(deployments
        .into_iter()
        // Labels anyone can set; ApplySet membership says the Deployment is the fleet's.
        .filter(|d| crate::ownership::is_ours(d.metadata.labels.as_ref(), fleet, &id))
        .filter_map(|d| {
            let agent = d.metadata.labels.as_ref()?.get(AGENT_LABEL)?.clone();
            Some(((d.metadata.namespace.clone()?, agent), d))
        })
        .collect())
}

/// Groups rendered manifests by agent.
pub fn by_agent(manifests: &[Manifest]) -> BTreeMap<String, AgentObjects> {
    let mut sorted: Vec<&Manifest> = manifests
        .iter()
        .filter(|m| m.agent.is_some() && m.kind != "PersistentVolumeClaim")
        .collect();
    sorted.sort_by_key(|m| m.key());
    let mut agents: BTreeMap<String, AgentObjects> = BTreeMap::new();
    for m in sorted {
        let Some(agent) = &m.agent else { continue };
        let entry = agents.entry(agent.clone()).or_insert_with(|| AgentObjects {
            agent: agent.clone(),
            team: m.team.clone(),
            namespace: m.namespace.clone().unwrap_or_default(),
            manifests: Vec::new(),
        });
        entry.manifests.push(m.value.clone());
    }
    agents
}

/// Applies one agent's objects one after the other (config before the workload that
/// reads it), as `apply` would: same ApplySet label and applied-hash, so a later apply
/// sees them unchanged.
pub async fn apply(
    cluster: &Cluster,
    applyset_id: &str,
    manifests: &[Value],
    force: bool,
) -> Result<(), String> {
    for manifest in manifests {
        let object = ObjectRef::of(manifest).ok_or("an object without apiVersion, kind or name")?;
        let desired = plan::prepare(manifest.clone(), applyset_id);
        objects::apply(cluster, &object, &desired, force, false)
            .await
            .map_err(|e| e.message)?;
    }
    Ok(())
}
