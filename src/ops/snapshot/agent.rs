//! The snapshot commands' view of one agent: its live Deployment and bucket, what can
//! be done with it (and why not), and the snapshot and restore steps it allows.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::work::{Backup, Carrier, Restore};
use crate::cluster::suspend::{self, SuspendedBy};
use crate::error::InvalidInput;
use crate::fleet::ResolvedFleet;
use crate::names::resource_name;
use crate::snapshot::{self, JobSpec, Operation, Reason, archive};

/// An agent of the fleet as the snapshot commands see it: by its live Deployment, so a
/// snapshot goes where the agent's running sync goes, with the identity it runs with.
pub(super) struct Agent<'f> {
    pub(super) name: &'f str,
    pub(super) namespace: &'f str,
    /// Its live Deployment, as typed and as JSON: `None` when it is not deployed.
    pub(super) live: Option<(&'f Deployment, Value)>,
    pub(super) bucket: Option<snapshot::Bucket>,
}

impl<'f> Agent<'f> {
    pub(super) fn new(
        name: &'f str,
        namespace: &'f str,
        live: Option<&'f Deployment>,
    ) -> Agent<'f> {
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
    pub(super) fn running(&self) -> bool {
        self.live.as_ref().is_some_and(|(d, _)| {
            suspend::suspended(d).is_none()
                || d.status.as_ref().and_then(|s| s.replicas).unwrap_or(0) > 0
        })
    }

    pub(super) fn suspended_by_command(&self) -> bool {
        self.live
            .as_ref()
            .is_some_and(|(d, _)| suspend::suspended(d) == Some(SuspendedBy::Command))
    }

    /// Why no snapshot of it can be taken, if none can.
    pub(super) fn backup_problem(&self) -> Option<String> {
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

    pub(super) fn backup(&self, id: &str, reason: Reason, timeout: Duration) -> Backup {
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
            legacy_remote: None,
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
    pub(super) fn archive(
        &self,
        id: &str,
        reason: Reason,
        file: &Path,
        timeout: Duration,
    ) -> Backup {
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
        // A symlink counts, dangling or not: the archive never goes through one.
        if std::fs::symlink_metadata(file).is_ok() {
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
                    mark: false,
                })
            }
            Err(e) => out.problem = Some(format!("{e:#}")),
        }
        out
    }

    pub(super) fn live_image(&self) -> Option<String> {
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
pub(super) fn agents<'f>(
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
                        crate::ops::history::hint(name, &known)
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

/// The safety snapshot before a restore, when asked for: to the agent's bucket when it
/// can write one; else, for a restore from a local archive, to a local archive in
/// `local_dir` (`<agent>-<id>-pre-restore.tar.gz`); else none (a read-only agent's
/// identity cannot write its bucket).
pub(super) fn safety(
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
pub(super) fn archive_restore_step(
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
            mark: target.bucket.is_some(),
        },
    })
}

/// The restore of `target` from `source`'s snapshot `id`, or why there is none.
pub(super) fn restore_step(
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
        // Snapshots taken before they moved out of the knowledge folder.
        legacy_remote: Some(snapshot::legacy_remote(sb, source.name, id)),
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
