//! Everything clawctl shows a person or a pipeline: diagnostics, summaries, data.
//! Data goes to stdout; errors, progress and summaries go to stderr.

pub mod changes;
pub mod diagnostics;
pub mod history;
pub mod progress;
pub mod readiness;
pub mod rollback;
pub mod rollout;
pub mod snapshot;
pub mod status;
pub mod suspend;

use std::io::IsTerminal;

/// Whether stderr is a terminal that wants colour (`NO_COLOR` honoured).
pub fn color_stderr() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Whether stdout is a terminal that wants colour (`NO_COLOR` honoured).
pub fn color_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
