//! `clawctl rollback [FLEET | --fleet NAME] (--agent NAME ... | --all)`: returns agents
//! to a recorded revision (see `ops::rollback` for the rules). Does not ask: naming the
//! agents is the confirmation. Progress on stderr; the report on stdout (a table, or
//! `-o json`). Exit 0 when every agent was rolled back (and is ready, unless
//! `--no-wait`), 1 otherwise, 130 when interrupted.

use std::io::Write;

use crate::cli::{Format, RollbackArgs};
use crate::error::{ExitStatus, InvalidInput};
use crate::interrupt::{self, Stop};
use crate::ops::history::Source;
use crate::ops::rollback::{self, Agents, Options, Request};
use crate::output;

pub fn run(args: &RollbackArgs, quiet: bool) -> anyhow::Result<ExitStatus> {
    let timeout = crate::fleet::Duration::parse(&args.timeout)
        .map_err(|e| InvalidInput(format!("--timeout: {e}")))?
        .get();
    if let Some(n) = args.to_revision
        && n < 1
    {
        return Err(InvalidInput(format!(
            "--to-revision {n}: revision numbers start at 1 (see `clawctl history`)"
        ))
        .into());
    }
    let source = match (&args.fleet, &args.fleet_name) {
        (Some(path), _) => Source::File(path),
        (None, Some(name)) => Source::Name(name),
        (None, None) => unreachable!("clap requires a fleet file or --fleet"),
    };
    let request = Request {
        source,
        target: super::cluster::target(&args.connect),
        agents: if args.all {
            Agents::All
        } else {
            Agents::Named(args.agents.clone())
        },
        options: Options {
            to_revision: args.to_revision,
            wait: (!args.no_wait).then_some(timeout),
            history_max: usize::from(args.history_max),
            parallel: rollback::DEFAULT_PARALLEL,
        },
    };
    let reporter = output::rollback::RollbackProgress::new(quiet);
    let report = super::cluster::runtime()?.block_on(async {
        let stop = Stop::new();
        interrupt::on_signal(stop.clone());
        rollback::rollback(&request, &reporter, &stop).await
    })?;
    let mut stdout = std::io::stdout().lock();
    match args.output {
        Format::Json => {
            serde_json::to_writer_pretty(&mut stdout, &report)?;
            writeln!(stdout)?;
        }
        Format::Table => writeln!(stdout, "{}", output::rollback::table(&report))?,
    }
    stdout.flush()?;
    Ok(if report.interrupted {
        ExitStatus::Interrupted
    } else if report.succeeded() {
        ExitStatus::Ok
    } else {
        ExitStatus::Error
    })
}
