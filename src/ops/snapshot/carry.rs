//! Carrying a snapshot's bytes: a Job to or from the bucket, or a helper pod and a
//! local archive over `pods/exec`; and the restore's stop, replace and start.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;

use super::work::{
    Backup, BackupReport, Carrier, DEADLINE_GRACE, PARALLEL, Restore, RestoreReport,
};
use crate::cluster::Cluster;
use crate::cluster::exec;
use crate::cluster::jobs::{self, Outcome as JobOutcome};
use crate::cluster::suspend;
use crate::cluster::wait::{self, Outcome as WaitOutcome, Workload};
use crate::names::resource_name;
use crate::snapshot::{self, archive};

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
                Ok(_) => ("taken", None),
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

pub(super) async fn restore_agent(
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
    match carry(cluster, &restore.carrier, timeout).await {
        Ok(dropped) => report.dropped = dropped,
        Err(why) => return fail(why, restore.running),
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

/// Runs a carrier to its end: the Job, or the helper pod with its exec. A restore from
/// an archive returns what it dropped or changed, one line each (a Job's are in its
/// log).
pub(super) async fn carry(
    cluster: &Cluster,
    carrier: &Carrier,
    timeout: Duration,
) -> Result<Vec<String>, String> {
    match carrier {
        Carrier::Job(job) => match jobs::run(cluster, job, timeout + DEADLINE_GRACE).await {
            Ok(JobOutcome::Succeeded) => Ok(Vec::new()),
            Ok(JobOutcome::Failed(why)) => Err(why),
            Ok(JobOutcome::Unfinished(why)) => Err(format!("not done in time: {why}")),
            Err(e) => Err(format!("{e:#}")),
        },
        Carrier::Archive { pod, file, mark } => {
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
                    archive_in(cluster, namespace, name, file, *mark).await
                } else {
                    archive_out(cluster, namespace, name, file)
                        .await
                        .map(|()| Vec::new())
                }
            })
            .await
            .unwrap_or_else(|_| Err(format!("not done in {}s", timeout.as_secs())));
            exec::delete_pod(cluster, namespace, name).await;
            result
        }
    }
}

/// Streams the helper pod's archive into `file`: written to `<file>.partial`, created
/// exclusively (`O_EXCL`: never an existing file, never through a symlink) with mode
/// 0600 (a brain is private), then published by a hard link to `file`, which fails
/// rather than replace anything there, and only while `<file>.partial` is still the
/// file this run created.
async fn archive_out(
    cluster: &Cluster,
    namespace: &str,
    pod: &str,
    file: &Path,
) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let partial = PathBuf::from(format!("{}.partial", file.display()));
    let mut out = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .await
        .map_err(|e| format!("cannot create {}: {e}", partial.display()))?;
    let created = out
        .metadata()
        .await
        .map(|m| (m.dev(), m.ino()))
        .map_err(|e| format!("cannot read {}: {e}", partial.display()))?;
    let still_ours = |partial: PathBuf| async move {
        tokio::fs::symlink_metadata(&partial)
            .await
            .is_ok_and(|m| (m.dev(), m.ino()) == created)
    };
    let result = async {
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
        if !still_ours(partial.clone()).await {
            return Err(format!(
                "{} was replaced while the archive was written: not published",
                partial.display()
            ));
        }
        tokio::fs::hard_link(&partial, file).await.map_err(|e| {
            format!(
                "cannot publish {} as {}: {e} (a backup never replaces a file)",
                partial.display(),
                file.display()
            )
        })
    }
    .await;
    if still_ours(partial.clone()).await {
        let _ = tokio::fs::remove_file(&partial).await;
    }
    result
}

/// Streams `file` into the helper pod's restore script; what it dropped or changed, from
/// its report lines.
async fn archive_in(
    cluster: &Cluster,
    namespace: &str,
    pod: &str,
    file: &Path,
    mark: bool,
) -> Result<Vec<String>, String> {
    let input = tokio::fs::File::open(file)
        .await
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let command = archive::restore_command(mark);
    let command: Vec<&str> = command.iter().map(String::as_str).collect();
    let mut stdout = Vec::new();
    let exited = exec::run(
        cluster,
        namespace,
        pod,
        archive::CONTAINER,
        &command,
        Some(input),
        &mut stdout,
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
    Ok(archive::report_lines(&String::from_utf8_lossy(&stdout)))
}

pub(super) async fn wait_one(
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
