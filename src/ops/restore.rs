//! Returning one agent to a recorded revision: the one path `rollback` and a rollout's
//! automatic rollback (and `rollout --abort`) share. A revision that fails
//! `history::check` is never applied; otherwise its objects are applied with force, the
//! agent gated, and the restore recorded as a new revision (cause `rollback`).

use std::time::Duration;

use crate::cluster::Cluster;
use crate::cluster::gate::{self, Verdict};
use crate::cluster::history::{self, Cause, Gate, Revision};
use crate::cluster::wait::{Progress, Workload};
use crate::interrupt::Stop;

/// What every restore of a run shares.
pub struct Context<'a> {
    pub cluster: &'a Cluster,
    pub fleet: &'a str,
    /// Where the fleet's history key lives.
    pub fleet_namespace: &'a str,
    pub applyset_id: &'a str,
    /// The agents' recorded revisions (the new one is numbered after them).
    pub existing: &'a [Revision],
    pub history_max: usize,
    pub progress: &'a dyn Progress,
}

/// How a restore that applied went.
#[derive(Debug)]
pub struct Restored {
    /// The gate's verdict; `None` when not waited for.
    pub verdict: Option<Verdict>,
    /// The number of the revision recorded for it, or why none was.
    pub recorded: Result<i64, String>,
}

/// Applies `target`'s objects, gates the agent within `wait` (none: not gated), and
/// records the new revision. `Err`: nothing was recorded, and nothing was applied when
/// the revision was refused (an apply that failed part way is said so).
pub async fn restore(
    context: &Context<'_>,
    target: &Revision,
    wait: Option<(Duration, &Stop)>,
) -> Result<Restored, String> {
    if let Some(why) = &target.refused {
        return Err(format!(
            "revision {} ({} in namespace {}) is refused and was not applied: {why}",
            target.number, target.name, target.namespace
        ));
    }
    // Forced: a restore is an explicit return to a recorded state, so fields another
    // field manager took since (a `kubectl edit`, say) are taken back, as
    // `apply --force-conflicts` would; a conflict must not leave an agent half restored.
    super::agents::apply(
        context.cluster,
        context.applyset_id,
        &target.manifests,
        true,
    )
    .await
    .map_err(|why| {
        format!(
            "applying revision {} failed: {why}; nothing was recorded",
            target.number
        )
    })?;
    let (gate, verdict) = match wait {
        None => (Gate::Unknown, None),
        Some((timeout, stop)) => {
            let verdict = match workload(target) {
                None => Verdict::Failed(format!("revision {} holds no Deployment", target.number)),
                Some(workload) => gate::agent(
                    context.cluster,
                    context.fleet,
                    &workload,
                    timeout,
                    Duration::ZERO,
                    context.progress,
                    stop,
                )
                .await
                .unwrap_or_else(|e| Verdict::Failed(format!("{e:#}"))),
            };
            let gate = match verdict {
                Verdict::Passed => Gate::Passed,
                Verdict::Failed(_) => Gate::Failed,
                Verdict::Stopped => Gate::Unknown,
            };
            (gate, Some(verdict))
        }
    };
    let record = history::Record {
        fleet: context.fleet,
        fleet_namespace: context.fleet_namespace,
        agent: &target.agent,
        team: target.team.as_deref(),
        namespace: &target.namespace,
        manifests: target.manifests.clone(),
        cause: Cause::Rollback,
        gate,
    };
    let recorded = history::record(
        context.cluster,
        record,
        context.existing,
        context.history_max,
    )
    .await
    .map(|revision| revision.number)
    .map_err(|e| format!("{e:#}"));
    Ok(Restored { verdict, recorded })
}

/// The revision's Deployment, to gate on.
fn workload(revision: &Revision) -> Option<Workload> {
    let name = revision
        .manifests
        .iter()
        .find(|m| m["kind"] == "Deployment")?
        .pointer("/metadata/name")?
        .as_str()?;
    Some(Workload {
        namespace: revision.namespace.clone(),
        name: name.to_string(),
        agent: Some(revision.agent.clone()),
    })
}
