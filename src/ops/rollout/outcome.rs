//! How one agent (or the router) came out of a rollout, and why one was left out of it.

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

/// Why a rollout skips a suspended agent. It is not moved: no pod runs, so no health gate
/// can pass or fail, and an image nobody checked would start at `clawctl resume`. Its
/// Deployment keeps the image it was suspended with (and `clawctl resume` starts that
/// one, known to have run); once resumed, the next `rollout` moves it through its gate.
/// (`kubectl set image` on a Deployment scaled to zero would change the template and
/// start nothing, which is exactly the unchecked move this avoids.)
pub const SUSPENDED: &str = "suspended: no pod to check; `clawctl resume` it, then roll out";

/// An agent of the fleet file a rollout leaves alone, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skip {
    pub agent: String,
    pub reason: String,
    /// Skipped because it is suspended (the reason is then [`SUSPENDED`]).
    #[serde(skip)]
    pub suspended: bool,
    /// Idle: left out of the gated groups, its template moved at the end (`idle`).
    #[serde(skip)]
    pub idle: bool,
}

impl Skip {
    /// A suspended agent's skip.
    pub fn suspended(agent: &str) -> Skip {
        Skip {
            agent: agent.to_string(),
            reason: SUSPENDED.into(),
            suspended: true,
            idle: false,
        }
    }
}
