//! `backup`, `restore` and `clone`: snapshots of agents' brains in their knowledge
//! buckets (layout and scripts: `crate::snapshot`), taken and restored by one-pod Jobs
//! beside the agents (`cluster::jobs`), or as local archives streamed over `pods/exec`
//! from a helper pod (`snapshot::archive`, `cluster::exec`). `agent` says what an agent
//! allows; `carry` moves the bytes and runs a restore.
//!
//! The rules:
//! - A bucket snapshot needs the agent's `knowledge` bucket, and credentials that write
//!   it: a `readOnly` agent is refused (its identity only reads, by design). A local
//!   archive needs neither, and never overwrites a file.
//! - A backup runs beside a running gateway (same node, its ReadWriteOnce volumes
//!   mounted read-only): what OpenClaw writes during the copy may be caught half way, as
//!   with the knowledge push; a suspended agent's snapshot is exact.
//! - A restore replaces the agent's volume, so it asks for the agent's name typed (the
//!   command's job) or `--yes`, and then, under the fleet Lease: takes a snapshot of
//!   what it replaces (unless told not to, or the agent cannot write its bucket),
//!   suspends the agent (`cluster::suspend`) and waits for its pod to stop, runs the
//!   restore Job (or the archive's restore), and resumes the agent if it was running. A failed restore leaves the
//!   agent suspended: a half-restored brain does not start; `clawctl restore` again or
//!   `clawctl resume` decide.
//! - `clone SOURCE TARGET` restores TARGET from a snapshot of SOURCE (a new one unless
//!   `--snapshot` names one), with TARGET's own identity reading SOURCE's snapshots: both
//!   agents' buckets must be the same service, and TARGET must be deployed (`apply` it
//!   first, `suspended: true` keeps it from starting before the clone).
//! - Channel credentials, session transcripts and model keys are never in a snapshot,
//!   and a restore leaves TARGET's own in place.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use super::planning;
use crate::cluster::wait;
use crate::cluster::{Cluster, lease};
use crate::error::InvalidInput;
use crate::snapshot::{self, Reason};

mod agent;
mod carry;
mod work;

use agent::{Agent, agents, archive_restore_step, restore_step, safety};
use carry::restore_agent;
pub use carry::take;
pub use work::{Backup, BackupReport, Restore, RestoreReport};

/// What the command asks for.
#[derive(Debug, Clone)]
pub enum Ask {
    Backup {
        agents: Vec<String>,
        /// To a local archive instead of the bucket (one agent).
        to: Option<PathBuf>,
    },
    Restore {
        agent: String,
        from: Origin,
    },
    Clone {
        source: String,
        target: String,
        snapshot: Option<String>,
    },
}

/// Where a restore's brain comes from.
#[derive(Debug, Clone)]
pub enum Origin {
    /// A snapshot in the agent's bucket, by id.
    Snapshot(String),
    /// A local archive (`backup --to`).
    File(PathBuf),
}

pub struct Request<'a> {
    pub planning: planning::Request<'a>,
    pub ask: Ask,
    /// How long one Job may run.
    pub timeout: Duration,
    /// Restore and clone: snapshot what is replaced first.
    pub safety_snapshot: bool,
    /// Wait this long for a restored agent to be ready again (`None`: `--no-wait`).
    pub wait: Option<Duration>,
}

/// What a run will do, from reads alone.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub fleet: String,
    pub cluster: String,
    pub operation: &'static str,
    /// Snapshots taken first (a backup's, a clone's source, a restore's safety copy).
    pub backups: Vec<Backup>,
    pub restore: Option<Restore>,
}

impl Plan {
    pub fn has_problems(&self) -> bool {
        self.backups.iter().any(|b| b.problem.is_some())
    }
}

pub struct Planned {
    pub plan: Plan,
    pub cluster: Cluster,
    fleet_namespace: String,
    selector: String,
    timeout: Duration,
    wait: Option<Duration>,
}

/// An agent that gets no snapshot before its image moves, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unsnapshotted {
    pub agent: String,
    pub reason: String,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub fleet: String,
    pub operation: &'static str,
    pub backups: Vec<BackupReport>,
    pub restore: Option<RestoreReport>,
}

impl Report {
    pub fn succeeded(&self) -> bool {
        self.backups.iter().all(|b| b.result == "taken")
            && self.restore.as_ref().is_none_or(|r| r.result == "restored")
    }
}

/// Reads the fleet file and the agents' Deployments; writes nothing.
pub async fn plan(request: &Request<'_>) -> anyhow::Result<Planned> {
    let (_, fleet) = super::load(request.planning.fleet)?;
    let names: Vec<&str> = match &request.ask {
        Ask::Backup { agents, to } => {
            if to.is_some() && agents.len() != 1 {
                return Err(InvalidInput(
                    "--to writes one agent's archive: name exactly one agent".into(),
                )
                .into());
            }
            agents.iter().map(String::as_str).collect()
        }
        Ask::Restore { agent, from } => {
            match from {
                Origin::Snapshot(id) => {
                    if let Some(problem) = snapshot::id_problem(id) {
                        return Err(InvalidInput(format!("--snapshot: {problem}")).into());
                    }
                }
                Origin::File(file) => {
                    if !file.is_file() {
                        return Err(InvalidInput(format!(
                            "--from-file: {} is not a file",
                            file.display()
                        ))
                        .into());
                    }
                }
            }
            vec![agent]
        }
        Ask::Clone {
            source,
            target,
            snapshot,
        } => {
            if let Some(problem) = snapshot.as_deref().and_then(snapshot::id_problem) {
                return Err(InvalidInput(format!("--snapshot: {problem}")).into());
            }
            if source == target {
                return Err(InvalidInput(format!(
                    "cannot clone {source:?} into itself: `clawctl restore` returns an agent to its own snapshot"
                ))
                .into());
            }
            vec![source, target]
        }
    };
    // Names are checked before anything is read.
    agents(&fleet, &BTreeMap::new(), &names)?;
    let cluster = Cluster::connect(&request.planning.target).await?;
    let selector = planning::selector(&fleet.name);
    let live = super::agents::live_deployments(&cluster, &fleet.name, &fleet.namespace).await?;
    let chosen = agents(&fleet, &live, &names)?;
    let id = snapshot::new_id(Timestamp::now());
    let timeout = request.timeout;

    let (operation, backups, restore) = match &request.ask {
        Ask::Backup { to, .. } => {
            let backups = chosen
                .iter()
                .map(|a| match to {
                    Some(file) => a.archive(&id, Reason::Manual, file, timeout),
                    None => a.backup(&id, Reason::Manual, timeout),
                })
                .collect();
            ("backup", backups, None)
        }
        Ask::Restore {
            from: Origin::Snapshot(snapshot),
            ..
        } => {
            let target = &chosen[0];
            let restore = restore_step(target, target, snapshot, timeout)?;
            let backups = safety(target, request.safety_snapshot, &id, timeout, None);
            ("restore", backups, Some(restore))
        }
        Ask::Restore {
            from: Origin::File(file),
            ..
        } => {
            let target = &chosen[0];
            let restore = archive_restore_step(target, file, &id, timeout)?;
            let dir = file.parent().unwrap_or(Path::new("."));
            let backups = safety(target, request.safety_snapshot, &id, timeout, Some(dir));
            ("restore", backups, Some(restore))
        }
        Ask::Clone { snapshot, .. } => {
            let (source, target) = (&chosen[0], &chosen[1]);
            let mut backups = Vec::new();
            if snapshot.is_none() {
                let b = source.backup(&id, Reason::Manual, timeout);
                if let Some(problem) = &b.problem {
                    return Err(InvalidInput(format!(
                        "cannot take a snapshot of {:?} to clone: {problem}; name one with --snapshot",
                        source.name
                    ))
                    .into());
                }
                backups.push(b);
            }
            let restore =
                restore_step(target, source, snapshot.as_deref().unwrap_or(&id), timeout)?;
            backups.extend(safety(target, request.safety_snapshot, &id, timeout, None));
            ("clone", backups, Some(restore))
        }
    };
    Ok(Planned {
        plan: Plan {
            fleet: fleet.name.clone(),
            cluster: cluster.url.clone(),
            operation,
            backups,
            restore,
        },
        cluster,
        fleet_namespace: fleet.namespace.clone(),
        selector,
        timeout,
        wait: request.wait,
    })
}

/// Carries out a plan: the snapshots first; then, under the fleet Lease, the restore.
pub async fn execute(planned: Planned, progress: &dyn wait::Progress) -> anyhow::Result<Report> {
    let Planned {
        plan,
        cluster,
        fleet_namespace,
        selector,
        timeout,
        wait: wait_for,
    } = planned;
    let Some(restore) = plan.restore.clone() else {
        let backups = take(&cluster, &plan.backups, timeout, progress).await;
        return Ok(Report {
            fleet: plan.fleet,
            operation: plan.operation,
            backups,
            restore: None,
        });
    };
    let lock = lease::acquire(
        &cluster,
        &fleet_namespace,
        &plan.fleet,
        plan.operation,
        progress,
    )
    .await?;
    let backups = take(&cluster, &plan.backups, timeout, progress).await;
    let mut report = RestoreReport {
        agent: restore.agent.clone(),
        from_agent: restore.from_agent.clone(),
        snapshot: restore.snapshot.clone(),
        result: "not-started",
        why: None,
        left_suspended: false,
        dropped: Vec::new(),
    };
    if let Some(failed) = backups.iter().find(|b| b.result != "taken") {
        report.why = Some(format!(
            "the snapshot of {:?} failed, so nothing was replaced",
            failed.agent
        ));
    } else {
        restore_agent(
            &cluster,
            &selector,
            &restore,
            timeout,
            wait_for,
            progress,
            &mut report,
        )
        .await;
    }
    lock.release().await;
    Ok(Report {
        fleet: plan.fleet,
        operation: plan.operation,
        backups,
        restore: Some(report),
    })
}

/// The snapshots to take before moving `agents` to another image (`rollout`,
/// `rollback`), from their live Deployments: every one that has a bucket it can write.
/// The others that have a bucket are returned with why they get none, to be said, not
/// failed; agents without a bucket have nothing to keep there.
pub fn before_image_change(
    live: &BTreeMap<(String, String), Deployment>,
    agents: &[(&str, &str)],
    reason: Reason,
    timeout: Duration,
) -> (Vec<Backup>, Vec<Unsnapshotted>) {
    let id = snapshot::new_id(Timestamp::now());
    let mut backups = Vec::new();
    let mut skipped = Vec::new();
    for (namespace, name) in agents {
        let live = live.get(&(namespace.to_string(), name.to_string()));
        let a = Agent::new(name, namespace, live);
        match a.backup_problem() {
            None => backups.push(a.backup(&id, reason, timeout)),
            Some(reason) if a.bucket.is_some() => skipped.push(Unsnapshotted {
                agent: name.to_string(),
                reason,
            }),
            Some(_) => {}
        }
    }
    (backups, skipped)
}
