//! `backup`, `restore` and `clone`: snapshots of agents' brains in their knowledge
//! buckets (layout and scripts: `crate::snapshot`), taken and restored by one-pod Jobs
//! beside the agents (`cluster::jobs`).
//!
//! The rules:
//! - A snapshot needs the agent's `knowledge` bucket, and credentials that write it: a
//!   `readOnly` agent is refused (its identity only reads, by design).
//! - A backup runs beside a running gateway (same node, its ReadWriteOnce volumes
//!   mounted read-only): what OpenClaw writes during the copy may be caught half way, as
//!   with the knowledge push; a suspended agent's snapshot is exact.
//! - A restore replaces the agent's volume, so it asks for the agent's name typed (the
//!   command's job) or `--yes`, and then, under the fleet Lease: takes a snapshot of
//!   what it replaces (unless told not to, or the agent cannot write its bucket),
//!   suspends the agent (`cluster::suspend`) and waits for its pod to stop, runs the
//!   restore Job, and resumes the agent if it was running. A failed restore leaves the
//!   agent suspended: a half-restored brain does not start; `clawctl restore` again or
//!   `clawctl resume` decide.
//! - `clone SOURCE TARGET` restores TARGET from a snapshot of SOURCE (a new one unless
//!   `--snapshot` names one), with TARGET's own identity reading SOURCE's folder: both
//!   agents' buckets must be the same service, and TARGET must be deployed (`apply` it
//!   first, `suspended: true` keeps it from starting before the clone).
//! - Channel credentials, session transcripts and model keys are never in a snapshot,
//!   and a restore leaves TARGET's own in place.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};

use super::planning;
use crate::cluster::exec;
use crate::cluster::jobs::{self, Outcome as JobOutcome};
use crate::cluster::suspend::{self, SuspendedBy};
use crate::cluster::wait::{self, Outcome as WaitOutcome, Workload};
use crate::cluster::{Cluster, lease, scoped};
use crate::error::InvalidInput;
use crate::fleet::ResolvedFleet;
use crate::render::context::{AGENT_LABEL, resource_name};
use crate::snapshot::{self, JobSpec, Operation, Reason, archive};

/// How often a Job's status is read.
const POLL: Duration = Duration::from_secs(2);
/// Snapshots taken at once.
const PARALLEL: usize = 4;

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

/// What carries the bytes: a Job to or from the bucket, or a helper pod and a local
/// archive streamed over exec.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Carrier {
    Job(Value),
    Archive { pod: Value, file: PathBuf },
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

/// One snapshot to take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Backup {
    pub agent: String,
    pub namespace: String,
    pub id: String,
    /// Where it goes, as a URL (`s3://bucket/...`, `gs://bucket/...`).
    pub location: String,
    pub reason: Reason,
    /// Why it cannot be taken, when it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    #[serde(skip)]
    carrier: Option<Carrier>,
}

/// The restore of one agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Restore {
    pub agent: String,
    pub namespace: String,
    /// The agent whose snapshot it is (itself, or a clone's source).
    pub from_agent: String,
    /// The snapshot's id: `None` until the source's new snapshot is taken (clone).
    pub snapshot: Option<String>,
    pub location: String,
    /// The gateway runs now: it is suspended for the restore and resumed after.
    pub running: bool,
    #[serde(skip)]
    carrier: Carrier,
}

/// What a run will do, from reads alone.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub fleet: String,
    pub cluster: String,
    pub operation: &'static str,
    /// Snapshots taken first (a backup's, a clone's source, a restore's safety copy).
    pub backups: Vec<Backup>,
    #[serde(skip_serializing_if = "Option::is_none")]
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

/// What happened to one snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupReport {
    pub agent: String,
    pub id: String,
    pub location: String,
    pub reason: Reason,
    /// `taken` or `failed`.
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// What happened to the restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreReport {
    pub agent: String,
    pub from_agent: String,
    pub snapshot: Option<String>,
    /// `restored`, `failed` or `not-started`.
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// Left at zero replicas by this run (a failed restore).
    pub left_suspended: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub fleet: String,
    pub operation: &'static str,
    pub backups: Vec<BackupReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore: Option<RestoreReport>,
}

impl Report {
    pub fn succeeded(&self) -> bool {
        self.backups.iter().all(|b| b.result == "taken")
            && self.restore.as_ref().is_none_or(|r| r.result == "restored")
    }
}

/// An agent of the fleet as the snapshot commands see it: by its live Deployment, so a
/// snapshot goes where the agent's running sync goes, with the identity it runs with.
struct Agent<'f> {
    name: &'f str,
    namespace: &'f str,
    /// Its live Deployment, as typed and as JSON: `None` when it is not deployed.
    live: Option<(&'f Deployment, Value)>,
    bucket: Option<snapshot::Bucket>,
}

impl<'f> Agent<'f> {
    fn new(name: &'f str, namespace: &'f str, live: Option<&'f Deployment>) -> Agent<'f> {
        let live = live.map(|d| (d, serde_json::to_value(d).unwrap_or(Value::Null)));
        let bucket = live.as_ref().and_then(|(_, json)| snapshot::bucket(json));
        Agent {
            name,
            namespace,
            live,
            bucket,
        }
    }

    /// Its gateway has (or is getting) a pod.
    fn running(&self) -> bool {
        self.live.as_ref().is_some_and(|(d, _)| {
            suspend::suspended(d).is_none()
                || d.status.as_ref().and_then(|s| s.replicas).unwrap_or(0) > 0
        })
    }

    fn suspended_by_command(&self) -> bool {
        self.live
            .as_ref()
            .is_some_and(|(d, _)| suspend::suspended(d) == Some(SuspendedBy::Command))
    }

    /// Why no snapshot of it can be taken, if none can.
    fn backup_problem(&self) -> Option<String> {
        if self.live.is_none() {
            return Some(format!(
                "agent {:?} is not deployed: `clawctl apply` creates it",
                self.name
            ));
        }
        match &self.bucket {
            None => Some(format!(
                "agent {:?} has no knowledge bucket (none on its live Deployment): snapshots \
                 live in the bucket `knowledge` sets",
                self.name
            )),
            Some(b) if !b.writable => Some(format!(
                "agent {:?} reads its bucket read-only (`knowledge.mode: readOnly`): its \
                 identity cannot write a snapshot",
                self.name
            )),
            Some(_) => None,
        }
    }

    fn backup(&self, id: &str, reason: Reason, timeout: Duration) -> Backup {
        let mut out = Backup {
            agent: self.name.to_string(),
            namespace: self.namespace.to_string(),
            id: id.to_string(),
            location: self
                .bucket
                .as_ref()
                .map(|b| snapshot::url(b, self.name, id))
                .unwrap_or_default(),
            reason,
            problem: self.backup_problem(),
            carrier: None,
        };
        let (Some(bucket), Some((_, deployment)), None) = (&self.bucket, &self.live, &out.problem)
        else {
            return out;
        };
        let marker = json!({
            "agent": self.name,
            "id": id,
            "reason": reason,
            "image": self.live_image(),
            "takenAt": Timestamp::now().to_string(),
        });
        let spec = JobSpec {
            operation: Operation::Backup,
            agent: self.name,
            remote: snapshot::remote(bucket, self.name, id),
            marker: Some(marker),
            name: snapshot::job_name(&resource_name(self.name), Operation::Backup, id),
            deadline_seconds: timeout.as_secs(),
            beside_gateway: self.running(),
        };
        match snapshot::job(deployment, &spec) {
            Ok(job) => out.carrier = Some(Carrier::Job(job)),
            Err(e) => out.problem = Some(format!("{e:#}")),
        }
        out
    }

    /// A snapshot of it to the local archive `file`.
    fn archive(&self, id: &str, reason: Reason, file: &Path, timeout: Duration) -> Backup {
        let mut out = Backup {
            agent: self.name.to_string(),
            namespace: self.namespace.to_string(),
            id: id.to_string(),
            location: file.display().to_string(),
            reason,
            problem: None,
            carrier: None,
        };
        let Some((_, deployment)) = &self.live else {
            out.problem = Some(format!(
                "agent {:?} is not deployed: `clawctl apply` creates it",
                self.name
            ));
            return out;
        };
        if file.exists() {
            out.problem = Some(format!(
                "{} exists: name a new file (a backup never overwrites one)",
                file.display()
            ));
            return out;
        }
        let name = snapshot::job_name(&resource_name(self.name), Operation::Backup, id);
        match archive::helper_pod(
            deployment,
            self.name,
            &name,
            true,
            self.running(),
            timeout.as_secs(),
        ) {
            Ok(pod) => {
                out.carrier = Some(Carrier::Archive {
                    pod,
                    file: file.to_path_buf(),
                })
            }
            Err(e) => out.problem = Some(format!("{e:#}")),
        }
        out
    }

    fn live_image(&self) -> Option<String> {
        self.live
            .as_ref()?
            .0
            .spec
            .as_ref()?
            .template
            .spec
            .as_ref()?
            .containers
            .iter()
            .find(|c| c.name == "gateway")?
            .image
            .clone()
    }
}

/// The fleet's agents named in `names`, with their live Deployments.
fn agents<'f>(
    fleet: &'f ResolvedFleet,
    live: &'f BTreeMap<(String, String), Deployment>,
    names: &[&str],
) -> anyhow::Result<Vec<Agent<'f>>> {
    let known: Vec<&str> = fleet.agents.iter().map(|a| a.name.as_str()).collect();
    names
        .iter()
        .map(|name| {
            let a = fleet
                .agents
                .iter()
                .find(|a| a.name == *name)
                .ok_or_else(|| {
                    InvalidInput(format!(
                        "the fleet has no agent named {name:?}{}",
                        super::history::hint(name, &known)
                    ))
                })?;
            Ok(Agent::new(
                &a.name,
                &a.namespace,
                live.get(&(a.namespace.clone(), a.name.clone())),
            ))
        })
        .collect()
}

/// The fleet's live Deployments by (namespace, agent).
pub async fn live_deployments(
    cluster: &Cluster,
    fleet: &str,
    fleet_namespace: &str,
) -> anyhow::Result<BTreeMap<(String, String), Deployment>> {
    let selector = planning::selector(fleet);
    let deployments: Vec<Deployment> =
        scoped::list_members(cluster, &selector, fleet, Some(fleet_namespace))
            .await
            .context("cannot list the fleet's Deployments")?;
    Ok(deployments
        .into_iter()
        .filter_map(|d| {
            let agent = d.metadata.labels.as_ref()?.get(AGENT_LABEL)?.clone();
            Some(((d.metadata.namespace.clone()?, agent), d))
        })
        .collect())
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
    let live = live_deployments(&cluster, &fleet.name, &fleet.namespace).await?;
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

/// The safety snapshot before a restore, when asked for: to the agent's bucket when it
/// can write one; else, for a restore from a local archive, to a local archive in
/// `local_dir` (`<agent>-<id>-pre-restore.tar.gz`); else none (a read-only agent's
/// identity cannot write its bucket).
fn safety(
    target: &Agent<'_>,
    wanted: bool,
    id: &str,
    timeout: Duration,
    local_dir: Option<&Path>,
) -> Vec<Backup> {
    let id = format!("{id}-pre-restore");
    if !wanted {
        return Vec::new();
    }
    if target.backup_problem().is_none() {
        return vec![target.backup(&id, Reason::PreRestore, timeout)];
    }
    match local_dir {
        Some(dir) => {
            let file = dir.join(format!("{}-{id}.tar.gz", target.name));
            vec![target.archive(&id, Reason::PreRestore, &file, timeout)]
        }
        None => Vec::new(),
    }
}

/// The restore of `target` from the local archive `file`.
fn archive_restore_step(
    target: &Agent<'_>,
    file: &Path,
    id: &str,
    timeout: Duration,
) -> anyhow::Result<Restore> {
    let Some((_, deployment)) = &target.live else {
        return Err(InvalidInput(format!(
            "agent {:?} is not deployed: `clawctl apply` creates its volume first \
             (`suspended: true` keeps it stopped until the restore)",
            target.name
        ))
        .into());
    };
    let name = snapshot::job_name(&resource_name(target.name), Operation::Restore, id);
    let pod = archive::helper_pod(
        deployment,
        target.name,
        &name,
        false,
        false,
        timeout.as_secs(),
    )
    .map_err(|e| InvalidInput(format!("{e:#}")))?;
    Ok(Restore {
        agent: target.name.to_string(),
        namespace: target.namespace.to_string(),
        from_agent: target.name.to_string(),
        snapshot: None,
        location: file.display().to_string(),
        running: target.running() && !target.suspended_by_command(),
        carrier: Carrier::Archive {
            pod,
            file: file.to_path_buf(),
        },
    })
}

/// The restore of `target` from `source`'s snapshot `id`, or why there is none.
fn restore_step(
    target: &Agent<'_>,
    source: &Agent<'_>,
    id: &str,
    timeout: Duration,
) -> anyhow::Result<Restore> {
    let refuse = |why: String| -> anyhow::Result<Restore> { Err(InvalidInput(why).into()) };
    let Some((_, deployment)) = &target.live else {
        return refuse(format!(
            "agent {:?} is not deployed: `clawctl apply` creates its volume first \
             (`suspended: true` keeps it stopped until the restore)",
            target.name
        ));
    };
    let Some(tb) = &target.bucket else {
        return refuse(format!(
            "agent {:?} has no knowledge bucket: a restore reads the snapshot with the \
             agent's own bucket settings and identity",
            target.name
        ));
    };
    let Some(sb) = &source.bucket else {
        return refuse(format!(
            "agent {:?} has no knowledge bucket (none on its live Deployment), so it has no snapshots",
            source.name
        ));
    };
    if tb.service != sb.service {
        return refuse(format!(
            "agents {:?} and {:?} keep their knowledge in different bucket services: {:?} \
             reads the snapshot with its own settings and identity",
            source.name, target.name, target.name
        ));
    }
    let spec = JobSpec {
        operation: Operation::Restore,
        agent: target.name,
        remote: snapshot::remote(sb, source.name, id),
        marker: None,
        name: snapshot::job_name(&resource_name(target.name), Operation::Restore, id),
        deadline_seconds: timeout.as_secs(),
        beside_gateway: false,
    };
    let job = snapshot::job(deployment, &spec).map_err(|e| InvalidInput(format!("{e:#}")))?;
    Ok(Restore {
        agent: target.name.to_string(),
        namespace: target.namespace.to_string(),
        from_agent: source.name.to_string(),
        snapshot: Some(id.to_string()),
        location: snapshot::url(sb, source.name, id),
        running: target.running() && !target.suspended_by_command(),
        carrier: Carrier::Job(job),
    })
}

/// Takes `backups` (those without a problem), a few at a time.
pub async fn take(
    cluster: &Cluster,
    backups: &[Backup],
    timeout: Duration,
    progress: &dyn wait::Progress,
) -> Vec<BackupReport> {
    let runs = backups.iter().map(|b| async move {
        let (result, why) = match (&b.problem, &b.carrier) {
            (Some(problem), _) => ("failed", Some(problem.clone())),
            (None, None) => ("failed", Some("nothing to run".to_string())),
            (None, Some(carrier)) => match carry(cluster, carrier, timeout).await {
                Ok(()) => ("taken", None),
                Err(why) => ("failed", Some(why)),
            },
        };
        progress.note(&match &why {
            None => format!("snapshot of {}: taken ({})", b.agent, b.location),
            Some(why) => format!("snapshot of {}: failed: {why}", b.agent),
        });
        BackupReport {
            agent: b.agent.clone(),
            id: b.id.clone(),
            location: b.location.clone(),
            reason: b.reason,
            result,
            why,
        }
    });
    futures::stream::iter(runs)
        .buffered(PARALLEL)
        .collect()
        .await
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

async fn restore_agent(
    cluster: &Cluster,
    selector: &str,
    restore: &Restore,
    timeout: Duration,
    wait_for: Option<Duration>,
    progress: &dyn wait::Progress,
    report: &mut RestoreReport,
) {
    let name = resource_name(&restore.agent);
    let workload = Workload {
        namespace: restore.namespace.clone(),
        name: name.clone(),
        agent: Some(restore.agent.clone()),
    };
    let mut fail = |why: String, left_suspended: bool| {
        report.result = "failed";
        report.why = Some(why);
        report.left_suspended = left_suspended;
    };
    if restore.running {
        if let Err(e) = suspend::suspend(cluster, &restore.namespace, &name).await {
            return fail(format!("cannot stop the agent: {e:#}"), false);
        }
        // Its pod must be gone before the volume is written (zero replicas count as
        // ready once the old pod is gone).
        match wait_one(cluster, selector, &workload, timeout, progress).await {
            Ok(()) => {}
            Err(why) => return fail(format!("its pod did not stop: {why}"), true),
        }
    }
    if let Err(why) = carry(cluster, &restore.carrier, timeout).await {
        return fail(why, restore.running);
    }
    report.result = "restored";
    if restore.running {
        if let Err(e) = suspend::resume(cluster, &restore.namespace, &name).await {
            report.why = Some(format!("restored, but not resumed: {e:#}"));
            report.left_suspended = true;
            report.result = "failed";
            return;
        }
        if let Some(wait_for) = wait_for
            && let Err(why) = wait_one(cluster, selector, &workload, wait_for, progress).await
        {
            report.result = "failed";
            report.why = Some(format!("restored, but not ready again: {why}"));
        }
    }
}

/// Runs a carrier to its end: the Job, or the helper pod with its exec.
async fn carry(cluster: &Cluster, carrier: &Carrier, timeout: Duration) -> Result<(), String> {
    match carrier {
        Carrier::Job(job) => match jobs::run(cluster, job, timeout + POLL * 5, POLL).await {
            Ok(JobOutcome::Succeeded) => Ok(()),
            Ok(JobOutcome::Failed(why)) => Err(why),
            Ok(JobOutcome::Unfinished(why)) => Err(format!("not done in time: {why}")),
            Err(e) => Err(format!("{e:#}")),
        },
        Carrier::Archive { pod, file } => {
            let namespace = pod["metadata"]["namespace"].as_str().unwrap_or_default();
            let name = pod["metadata"]["name"].as_str().unwrap_or_default();
            exec::create_pod(cluster, pod)
                .await
                .map_err(|e| format!("{e:#}"))?;
            let restore = pod["metadata"]["labels"][snapshot::OPERATION_LABEL] == "restore";
            let result = tokio::time::timeout(timeout, async {
                exec::wait_running(cluster, namespace, name, timeout)
                    .await
                    .map_err(|e| format!("{e:#}"))?;
                if restore {
                    archive_in(cluster, namespace, name, file).await
                } else {
                    archive_out(cluster, namespace, name, file).await
                }
            })
            .await
            .unwrap_or_else(|_| Err(format!("not done in {}s", timeout.as_secs())));
            exec::delete_pod(cluster, namespace, name).await;
            result
        }
    }
}

/// Streams the helper pod's archive into `file` (through `<file>.partial`, renamed
/// once the archive is whole).
async fn archive_out(
    cluster: &Cluster,
    namespace: &str,
    pod: &str,
    file: &Path,
) -> Result<(), String> {
    let partial = PathBuf::from(format!("{}.partial", file.display()));
    let result = async {
        let mut out = tokio::fs::File::create(&partial)
            .await
            .map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
        let command = archive::backup_command();
        let command: Vec<&str> = command.iter().map(String::as_str).collect();
        let exited = exec::run(
            cluster,
            namespace,
            pod,
            archive::CONTAINER,
            &command,
            None::<tokio::fs::File>,
            &mut out,
        )
        .await
        .map_err(|e| format!("{e:#}"))?;
        // GNU tar exits 1 when a file changed while it was read (the gateway runs):
        // the archive is whole, that file as tar saw it.
        if exited.code > 1 {
            return Err(format!(
                "tar exited {}: {}",
                exited.code,
                exited.stderr.trim()
            ));
        }
        out.sync_all()
            .await
            .map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
        tokio::fs::rename(&partial, file).await.map_err(|e| {
            format!(
                "cannot rename {} to {}: {e}",
                partial.display(),
                file.display()
            )
        })
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&partial).await;
    }
    result
}

/// Streams `file` into the helper pod's restore script.
async fn archive_in(
    cluster: &Cluster,
    namespace: &str,
    pod: &str,
    file: &Path,
) -> Result<(), String> {
    let input = tokio::fs::File::open(file)
        .await
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let command = archive::restore_command();
    let command: Vec<&str> = command.iter().map(String::as_str).collect();
    let exited = exec::run(
        cluster,
        namespace,
        pod,
        archive::CONTAINER,
        &command,
        Some(input),
        &mut tokio::io::sink(),
    )
    .await
    .map_err(|e| format!("{e:#}"))?;
    if exited.code != 0 {
        return Err(format!(
            "the restore exited {}: {}",
            exited.code,
            exited.stderr.trim()
        ));
    }
    Ok(())
}

async fn wait_one(
    cluster: &Cluster,
    selector: &str,
    workload: &Workload,
    timeout: Duration,
    progress: &dyn wait::Progress,
) -> Result<(), String> {
    let outcomes = wait::deployments(
        cluster,
        selector,
        std::slice::from_ref(workload),
        timeout,
        progress,
    )
    .await
    .map_err(|e| format!("{e:#}"))?;
    match outcomes.into_values().next() {
        Some(WaitOutcome::Ready) => Ok(()),
        Some(WaitOutcome::Failed(why)) => Err(why),
        Some(WaitOutcome::Unfinished(why)) => Err(format!("not done in time: {why}")),
        None => Err("no status".to_string()),
    }
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
