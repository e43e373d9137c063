//! `clawctl rollback [FLEET | --fleet NAME] (--agent NAME ... | --all)`: returns agents
//! to a recorded revision (see `ops::rollback` for the rules). Shows per agent the
//! revision it runs and the one it returns to, and asks, unless `--yes`; without a
//! terminal and without `--yes` it refuses; `--dry-run` shows the plan and stops.
//! Progress on stderr; the report on stdout (a table, or `-o json`). Exit 0 when every
//! agent was rolled back (and is ready, unless `--no-wait`), 1 otherwise, 130 when
//! interrupted.

use std::io::Write;

use crate::cli::{Format, RollbackArgs};
use crate::error::{ExitStatus, InvalidInput};
use crate::interrupt::{self, Stop};
use crate::ops::history::Source;
use crate::ops::rollback::{self, Agents, Options, Request};
use crate::output;
use crate::prompt;

pub fn run(args: &RollbackArgs, quiet: bool) -> anyhow::Result<ExitStatus> {
    let timeout = args.timeout;
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
            snapshot: !args.no_snapshot,
        },
    };
    let runtime = super::cluster::runtime()?;
    let planned = runtime.block_on(rollback::plan(&request))?;
    let plan = &planned.plan;
    if args.dry_run {
        match args.output {
            Format::Json => super::print::json(plan)?,
            Format::Table if !quiet => eprintln!("{}", output::rollback::plan(plan)),
            Format::Table => {}
        }
        if !quiet {
            eprintln!("dry run: nothing was changed");
        }
        // As the real run would: an agent with nothing to return to is a failure.
        let complete = plan.agents.iter().all(|a| a.problem.is_none());
        return Ok(if complete {
            ExitStatus::Ok
        } else {
            ExitStatus::Error
        });
    }
    // No agent can go back: nothing to ask; the report says why for each.
    if !plan.is_noop() {
        if !quiet {
            eprintln!("{}", output::rollback::plan(plan));
        }
        let question = format!(
            "Roll these agents back on {} ({})?",
            planned.cluster.url, planned.cluster.source
        );
        if !prompt::confirm(&question, args.yes)? {
            if !quiet {
                eprintln!("cancelled: nothing was changed");
            }
            return Ok(ExitStatus::Error);
        }
    }
    let reporter = output::rollback::RollbackProgress::new(quiet);
    let report = runtime.block_on(async {
        // Only now: Ctrl-C at the question ends the process the ordinary way.
        let stop = Stop::new();
        interrupt::on_signal(stop.clone());
        rollback::execute(planned, &reporter, &stop).await
    })?;
    match args.output {
        Format::Json => super::print::json(&report)?,
        Format::Table => {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{}", output::rollback::table(&report))?;
            stdout.flush()?;
        }
    }
    Ok(if report.interrupted {
        ExitStatus::Interrupted
    } else if report.succeeded() {
        ExitStatus::Ok
    } else {
        ExitStatus::Error
    })
}
