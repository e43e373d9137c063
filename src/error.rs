//! Exit codes (DESIGN §4) and the error kinds that choose them.

use std::fmt;

use crate::diag::Diagnostics;

/// How clawctl exits. Scripts depend on these values; they never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Success.
    Ok = 0,
    /// A failure not caused by the input (I/O, cluster, a bug).
    Error = 1,
    /// Invalid input or usage: nothing was changed.
    Invalid = 2,
    /// `diff --exit-code` found changes.
    Changes = 3,
    /// A rollout failed and was rolled back.
    RolledBack = 4,
    /// A rollout failed and its rollback failed too.
    RollbackFailed = 5,
    /// Interrupted by Ctrl-C or SIGTERM.
    Interrupted = 130,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        std::process::ExitCode::from(status as u8)
    }
}

/// Bad input that is not a fleet-file diagnostic: an unknown `--agent`, a broken
/// template override. Exits 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidInput(pub String);

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidInput {}

/// The exit status for an error chain.
pub fn exit_status(err: &anyhow::Error) -> ExitStatus {
    if err
        .chain()
        .any(|e| e.is::<Diagnostics>() || e.is::<InvalidInput>())
    {
        ExitStatus::Invalid
    } else {
        ExitStatus::Error
    }
}
