//! Idle agents in a rollout: asleep (the router scaled them to zero after `idleAfter`),
//! so no pod can pass or fail a health gate. They are skipped by the gated groups; once
//! every gate has passed (phase done), their Deployment templates move to the target
//! without `spec.replicas` (the router's while they sleep, see `cluster::idle`), so
//! nothing starts now and each starts on the new image at its next message. A failed,
//! interrupted or canary-only run leaves them where they were, so an image that did not
//! pass never reaches them. An agent woken while the rollout ran is left for the next
//! rollout (moving a running pod without a gate is what the groups are for).

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;

use super::outcome::Skip;
use crate::cluster::history::{self, Cause, Gate};
use crate::cluster::{Cluster, objects};
use crate::ops::agents::AgentObjects;
use crate::plan::{self, ObjectRef};

/// Why a rollout's plan leaves an idle agent out of its groups.
pub const PLANNED: &str = "idle: no pod to check; its template moves to the target once every \
     gate passed, and it starts on it at its next message";

/// An idle agent whose template moved.
pub const MOVED: &str =
    "idle: no pod to check; its template moved to the target, it starts on it at its next message";

/// An idle agent the router woke while the rollout ran.
pub const WOKE: &str =
    "woke during the rollout: not moved without a gate; the next rollout moves it";

impl Skip {
    /// An idle agent's skip, with one of the reasons above.
    pub fn idle(agent: &str, reason: &str) -> Skip {
        Skip {
            agent: agent.to_string(),
            reason: reason.to_string(),
            suspended: false,
            idle: true,
        }
    }
}

/// Where the templates move: the run's cluster, fleet and rendered objects.
pub(super) struct Target<'a> {
    pub cluster: &'a Cluster,
    pub fleet: &'a str,
    pub fleet_namespace: &'a str,
    /// The namespaces the fleet renders into: where its history is read.
    pub namespaces: &'a [String],
    pub applyset_id: &'a str,
    /// The agents' objects at the target image.
    pub agents: &'a BTreeMap<String, AgentObjects>,
    pub history_max: usize,
    /// Agents moved at once.
    pub concurrency: usize,
}

/// Moves the templates of the `idle` agents that are still `asleep` to the target, as
/// the rollout's other agents were moved (same objects, same ApplySet and applied-hash,
/// a revision recorded) but without `spec.replicas` and without a gate. Returns each
/// agent's skip.
pub(super) async fn move_templates(
    target: &Target<'_>,
    idle: &[String],
    asleep: &BTreeSet<String>,
) -> Vec<Skip> {
    let history = history::list(
        target.cluster,
        target.fleet,
        target.fleet_namespace,
        target.namespaces,
        None,
    )
    .await
    .unwrap_or_default();
    futures::stream::iter(idle)
        .map(|agent| {
            let history = &history;
            async move {
                if !asleep.contains(agent) {
                    return Skip::idle(agent, WOKE);
                }
                match move_one(target, agent, history).await {
                    Ok(()) => Skip::idle(agent, MOVED),
                    Err(why) => Skip::idle(agent, &format!("idle, not moved: {why}")),
                }
            }
        })
        .buffer_unordered(target.concurrency.max(1))
        .collect::<Vec<_>>()
        .await
}

async fn move_one(
    target: &Target<'_>,
    agent: &str,
    history: &[history::Revision],
) -> Result<(), String> {
    let objects = target.agents.get(agent).ok_or("not in the fleet file")?;
    for manifest in &objects.manifests {
        let object = ObjectRef::of(manifest).ok_or("an object without apiVersion, kind or name")?;
        let mut desired = plan::prepare(manifest.clone(), target.applyset_id);
        if object.kind == "Deployment"
            && let Some(spec) = desired.get_mut("spec").and_then(|s| s.as_object_mut())
        {
            spec.remove("replicas");
        }
        objects::apply(target.cluster, &object, &desired, false, false)
            .await
            .map_err(|e| e.message)?;
    }
    let mine: Vec<history::Revision> = history
        .iter()
        .filter(|r| r.agent == agent)
        .cloned()
        .collect();
    let record = history::Record {
        fleet: target.fleet,
        fleet_namespace: target.fleet_namespace,
        agent,
        team: objects.team.as_deref(),
        namespace: &objects.namespace,
        manifests: objects.manifests.clone(),
        cause: Cause::Rollout,
        gate: Gate::Unknown,
    };
    history::record(target.cluster, record, &mine, target.history_max)
        .await
        .map(|_| ())
        .map_err(|e| format!("{e:#}"))
}
