//! The `clawctl` binary: parse, run, print the error once, exit with its code.

use std::process::ExitCode;

use clap::Parser;

use clawctl::cli::Cli;
use clawctl::diag::Diagnostics;
use clawctl::error::{ExitStatus, exit_status};
use clawctl::output;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            // clap uses 0 for --help/--version and 2 for usage errors, as we do.
            return ExitCode::from(err.exit_code() as u8);
        }
    };
    match clawctl::commands::run(cli) {
        Ok(status) => status.into(),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitStatus::Ok.into();
            }
            let mut stderr = std::io::stderr().lock();
            if let Some(diags) = err.downcast_ref::<Diagnostics>() {
                let _ =
                    output::diagnostics::write_human(&mut stderr, diags, output::color_stderr());
            } else {
                use std::io::Write;
                // Multi-line messages (lists of problems) stay as written; what kube-rs
                // says of an API error becomes its message, code and reason.
                let _ = writeln!(
                    stderr,
                    "error: {}",
                    clawctl::cluster::errors::one_line(&err)
                );
            }
            exit_status(&err).into()
        }
    }
}

/// `clawctl render | head` closes the pipe early; that is not a failure.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
