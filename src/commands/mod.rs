//! One module per subcommand: arguments -> one ops call -> output. `run` dispatches.

mod apply;
mod cluster;
mod completions;
mod diff;
mod history;
mod init;
mod render;
mod rollback;
mod rollout;
mod snapshot;
mod status;
mod suspend;
mod validate;

use crate::cli::{Cli, Command};
use crate::error::ExitStatus;
use crate::ops::suspend::Action;

/// Prints warnings to stderr, one `warning: ...` line each, unless `--quiet`.
fn print_warnings(warnings: &[String], quiet: bool) {
    if quiet {
        return;
    }
    let color = crate::output::color_stderr();
    for w in warnings {
        eprintln!("{}", crate::output::diagnostics::warning_line(w, color));
    }
}

/// Shows what the API server warned about since the last call (`Warning` headers on
/// applies, dry runs and diffs), each once with the object it is about, even under
/// `--quiet`: like kubectl, a warning is not progress chatter. Returns them.
fn print_api_warnings(
    cluster: &crate::cluster::Cluster,
) -> Vec<crate::cluster::warnings::ApiWarning> {
    let warnings = cluster.warnings.take();
    let color = crate::output::color_stderr();
    for w in &warnings {
        let text = format!("the API server warns about {}: {}", w.object, w.message);
        eprintln!("{}", crate::output::diagnostics::warning_line(&text, color));
    }
    warnings
}

/// Writes `value` as pretty JSON and a newline to stdout.
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut stdout, value)?;
    writeln!(stdout)?;
    stdout.flush()?;
    Ok(())
}

/// Runs the parsed command line; errors go back to `main`, which prints them once.
pub fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Validate(args) => validate::run(&args, cli.quiet),
        Command::Render(args) => render::run(&args, cli.quiet),
        Command::Completions(args) => completions::run(&args),
        Command::Schema => completions::schema(),
        Command::Init(args) => init::run(&args, cli.quiet),
        Command::Diff(args) => diff::run(&args, cli.quiet),
        Command::Apply(args) => apply::run(&args, cli.quiet),
        Command::Status(args) => status::run(&args, cli.quiet),
        Command::Rollout(args) => rollout::run(&args, cli.quiet),
        Command::Rollback(args) => rollback::run(&args, cli.quiet),
        Command::Suspend(args) => suspend::run(&args, Action::Suspend, cli.quiet),
        Command::Resume(args) => suspend::run(&args, Action::Resume, cli.quiet),
        Command::History(args) => history::run(&args, cli.quiet),
        Command::Backup(args) => snapshot::backup(&args, cli.quiet),
        Command::Restore(args) => snapshot::restore(&args, cli.quiet),
        Command::Clone(args) => snapshot::clone(&args, cli.quiet),
    }
}
