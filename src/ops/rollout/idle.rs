//! Idle agents in a rollout: asleep (the router scaled them to zero after `idleAfter`),
//! so no pod can pass or fail a health gate. They are skipped by the gated groups; once
//! every gate has passed (phase done), their Deployment templates move to the target
//! without `spec.replicas` (the router's while they sleep, see `cluster::idle`), so
//! nothing starts now and each starts on the new image at its next message. A failed,
//! interrupted or canary-only run leaves them where they were, so an image that did not
//! pass never reaches them. An agent woken while the rollout ran is left for the next
//! rollout (moving a running pod without a gate is what the groups are for).

use futures::StreamExt;

use super::{Run, Skip};
use crate::cluster::history::{self, Cause, Gate};
use crate::cluster::objects;
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

/// Moves the templates of the `idle` agents that are still asleep to the target, as the
/// rollout's other agents were moved (same objects, same ApplySet and applied-hash, a
/// revision recorded) but without `spec.replicas` and without a gate. Returns each
/// agent's skip.
pub(super) async fn move_templates(run: &Run<'_>, idle: &[String]) -> Vec<Skip> {
    if idle.is_empty() {
        return Vec::new();
    }
    let asleep = match super::live_images(&run.cluster, &run.fleet, &run.fleet_namespace).await {
        Ok(live) => live.idle,
        Err(e) => {
            let why = format!("not moved: cannot read the Deployments ({e:#})");
            return idle.iter().map(|a| Skip::idle(a, &why)).collect();
        }
    };
    let history = history::list(
        &run.cluster,
        &run.fleet,
        &run.fleet_namespace,
        &run.namespaces,
        None,
    )
    .await
    .unwrap_or_default();
    futures::stream::iter(idle)
        .map(|agent| {
            let (asleep, history) = (&asleep, &history);
            async move {
                if !asleep.contains(agent) {
                    return Skip::idle(agent, WOKE);
                }
                match move_one(run, agent, history).await {
                    Ok(()) => {
                        run.reporter.agent(agent, "template moved (idle)");
                        Skip::idle(agent, MOVED)
                    }
                    Err(why) => Skip::idle(agent, &format!("idle, not moved: {why}")),
                }
            }
        })
        .buffer_unordered(run.strategy.max_parallel)
        .collect::<Vec<_>>()
        .await
}

async fn move_one(run: &Run<'_>, agent: &str, history: &[history::Revision]) -> Result<(), String> {
    let objects = run.agents.get(agent).ok_or("not in the fleet file")?;
    for manifest in &objects.manifests {
        let object = ObjectRef::of(manifest).ok_or("an object without apiVersion, kind or name")?;
        let mut desired = plan::prepare(manifest.clone(), &run.applyset_id);
        if object.kind == "Deployment"
            && let Some(spec) = desired.get_mut("spec").and_then(|s| s.as_object_mut())
        {
            spec.remove("replicas");
        }
        objects::apply(&run.cluster, &object, &desired, false, false)
            .await
            .map_err(|e| e.message)?;
    }
    let mine: Vec<history::Revision> = history
        .iter()
        .filter(|r| r.agent == agent)
        .cloned()
        .collect();
    let record = history::Record {
        fleet: &run.fleet,
        fleet_namespace: &run.fleet_namespace,
        agent,
        team: objects.team.as_deref(),
        namespace: &objects.namespace,
        manifests: objects.manifests.clone(),
        cause: Cause::Rollout,
        gate: Gate::Unknown,
    };
    history::record(&run.cluster, record, &mine, run.history_max)
        .await
        .map(|_| ())
        .map_err(|e| format!("{e:#}"))
}
