//! `clawctl suspend|resume FLEET [AGENT...] [--team NAME]`: scales agents to zero and
//! back without editing the fleet file (see `ops::suspend` for how this and the file
//! interact). Shows per agent what it does and asks, unless `--yes`; without a terminal
//! and without `--yes` it refuses; `--dry-run` shows the plan and stops. Exit 0 when
//! every named agent is as asked, 1 otherwise.

use std::io::Write;

use crate::cli::{Format, SuspendArgs};
use crate::error::ExitStatus;
use crate::ops::planning::DEFAULT_CONCURRENCY;
use crate::ops::suspend::{self, Action, Request};
use crate::output;
use crate::prompt;

pub fn run(args: &SuspendArgs, action: Action, quiet: bool) -> anyhow::Result<ExitStatus> {
    let timeout = args.timeout;
    let request = Request {
        planning: super::cluster::request(
            &args.fleet,
            None,
            &args.connect,
            false,
            DEFAULT_CONCURRENCY,
        ),
        action,
        agents: args.agents.clone(),
        teams: args.teams.clone(),
        wait: (!args.no_wait).then_some(timeout),
    };
    let runtime = super::cluster::runtime()?;
    let planned = runtime.block_on(suspend::plan(&request))?;
    let plan = &planned.plan;
    let outcome = if plan.has_problems() {
        ExitStatus::Error
    } else {
        ExitStatus::Ok
    };
    if args.dry_run {
        match args.output {
            Format::Json => super::print::json(plan)?,
            Format::Table if !quiet => eprintln!("{}", output::suspend::plan(plan)),
            Format::Table => {}
        }
        if !quiet {
            eprintln!("dry run: nothing was changed");
        }
        return Ok(outcome);
    }
    if !quiet {
        eprintln!("{}", output::suspend::plan(plan));
    }
    if !plan.is_noop() {
        let question = format!(
            "{} these agents on {} ({})?",
            match action {
                Action::Suspend => "Suspend",
                Action::Resume => "Resume",
            },
            planned.cluster.url,
            planned.cluster.source
        );
        if !prompt::confirm(&question, args.yes)? {
            if !quiet {
                eprintln!("cancelled: nothing was changed");
            }
            return Ok(ExitStatus::Error);
        }
    }
    let progress = output::progress::ApplyProgress::new(quiet);
    let report = runtime.block_on(suspend::execute(planned, request.wait, &progress))?;
    match args.output {
        Format::Json => super::print::json(&report)?,
        Format::Table => {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{}", output::suspend::table(&report))?;
            stdout.flush()?;
        }
    }
    Ok(if report.succeeded() {
        ExitStatus::Ok
    } else {
        ExitStatus::Error
    })
}
