//! The units of work of `backup`, `restore` and `clone` (a snapshot to take, a restore
//! to run, what carries their bytes) and what became of them: shared by planning
//! (`mod.rs`), the agents' rules (`agent`) and the carrying (`carry`).

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::snapshot::Reason;

/// How much longer than its `activeDeadlineSeconds` a Job is waited for, so that its
/// controller says why it ended (`DeadlineExceeded`) before clawctl stops waiting.
pub(super) const DEADLINE_GRACE: Duration = Duration::from_secs(10);
/// Snapshots taken at once.
pub(super) const PARALLEL: usize = 4;

/// What carries the bytes: a Job to or from the bucket, or a helper pod and a local
/// archive streamed over exec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Carrier {
    Job(Value),
    Archive {
        pod: Value,
        file: PathBuf,
        /// A restore marks the volume for the agent's knowledge pull (it has a bucket).
        mark: bool,
    },
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
    pub(super) carrier: Option<Carrier>,
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
    pub(super) carrier: Carrier,
}

/// What happened to one snapshot.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupReport {
    pub agent: String,
    pub id: String,
    pub location: String,
    pub reason: Reason,
    /// `taken` or `failed`.
    pub result: &'static str,
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
    /// What a restore from an archive dropped or changed, by path (`dropped PATH
    /// (symlink)`, `cleared setuid/setgid on PATH`, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<String>,
}
