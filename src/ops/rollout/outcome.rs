//! How one agent (or the router) came out of a rollout.

use serde::Serialize;

/// What happened to one agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "result", content = "reason")]
pub enum Outcome {
    /// Moved to the target and passed its gate.
    Updated,
    /// Its gate failed.
    Failed(String),
    /// Moved back to its previous revision.
    RolledBack,
    /// Its rollback failed too.
    RollbackFailed(String),
    /// Not started (an earlier gate failed, or the run was interrupted).
    NotStarted,
    /// Started but not finished when the run was interrupted.
    Interrupted,
}
