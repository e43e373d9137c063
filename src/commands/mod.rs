//! One module per subcommand: arguments -> one ops call -> output. `run` dispatches.

mod apply;
mod cluster;
mod completions;
mod diff;
mod history;
mod init;
mod print;
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
