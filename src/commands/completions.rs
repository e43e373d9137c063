//! `clawctl completions SHELL` and `clawctl schema`: generated text on stdout.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::ExitStatus;

/// The completion script for `shell`, generated from the clap definitions.
pub fn script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "clawctl", &mut out);
    out
}

pub fn run(args: &CompletionsArgs) -> anyhow::Result<ExitStatus> {
    std::io::stdout().lock().write_all(&script(args.shell))?;
    Ok(ExitStatus::Ok)
}

pub fn schema() -> anyhow::Result<ExitStatus> {
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, &crate::fleet::model::json_schema())?;
    writeln!(stdout)?;
    Ok(ExitStatus::Ok)
}
