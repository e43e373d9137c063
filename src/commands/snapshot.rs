//! `clawctl backup FLEET AGENT...`, `clawctl restore FLEET AGENT --snapshot ID` and
//! `clawctl clone FLEET SOURCE TARGET`: snapshots of agents' brains in their knowledge
//! buckets (see `ops::snapshot`). Restore and clone replace a volume, so they show what
//! they will do and ask for the agent's name typed, unless `--yes`. `--dry-run` shows
//! the plan and stops. Exit 0 when everything asked for was done, 1 otherwise.

use std::io::Write;

use crate::cli::{BackupArgs, CloneArgs, Format, ReplaceArgs, RestoreArgs, SnapshotJobArgs};
use crate::error::{ExitStatus, InvalidInput};
use crate::ops::planning::DEFAULT_CONCURRENCY;
use crate::ops::snapshot::{self, Ask, Origin, Request};
use crate::output;
use crate::prompt;

pub fn backup(args: &BackupArgs, quiet: bool) -> anyhow::Result<ExitStatus> {
    let ask = Ask::Backup {
        agents: args.agents.clone(),
        to: args.to.clone(),
    };
    run(&args.fleet, ask, &args.job, None, quiet)
}

pub fn restore(args: &RestoreArgs, quiet: bool) -> anyhow::Result<ExitStatus> {
    let from = match (&args.snapshot, &args.from_file) {
        (None, Some(file)) => Origin::File(file.clone()),
        (Some(id), None) => Origin::Snapshot(id.clone()),
        _ => {
            return Err(
                InvalidInput("name exactly one of --snapshot and --from-file".into()).into(),
            );
        }
    };
    let ask = Ask::Restore {
        agent: args.agent.clone(),
        from,
    };
    run(
        &args.fleet,
        ask,
        &args.replace.job,
        Some(&args.replace),
        quiet,
    )
}

pub fn clone(args: &CloneArgs, quiet: bool) -> anyhow::Result<ExitStatus> {
    let ask = Ask::Clone {
        source: args.source.clone(),
        target: args.target.clone(),
        snapshot: args.snapshot.clone(),
    };
    run(
        &args.fleet,
        ask,
        &args.replace.job,
        Some(&args.replace),
        quiet,
    )
}

fn run(
    fleet: &std::path::Path,
    ask: Ask,
    job: &SnapshotJobArgs,
    replace: Option<&ReplaceArgs>,
    quiet: bool,
) -> anyhow::Result<ExitStatus> {
    let timeout = job.timeout;
    let request = Request {
        planning: super::cluster::request(fleet, None, &job.connect, false, DEFAULT_CONCURRENCY),
        ask,
        timeout,
        safety_snapshot: replace.is_none_or(|r| !r.no_snapshot),
        wait: replace.is_none_or(|r| !r.no_wait).then_some(timeout),
    };
    let runtime = super::cluster::runtime()?;
    let planned = runtime.block_on(snapshot::plan(&request))?;
    let plan = &planned.plan;
    if job.dry_run {
        match job.output {
            Format::Json => super::print::json(plan)?,
            Format::Table if !quiet => eprintln!("{}", output::snapshot::plan(plan)),
            Format::Table => {}
        }
        if !quiet {
            eprintln!("dry run: nothing was changed");
        }
        return Ok(if plan.has_problems() {
            ExitStatus::Error
        } else {
            ExitStatus::Ok
        });
    }
    if !quiet {
        eprintln!("{}", output::snapshot::plan(plan));
    }
    if let (Some(restore), Some(replace)) = (&plan.restore, replace) {
        let question = format!(
            "Replace the brain of agent {:?} on {} ({}) with {}?",
            restore.agent, planned.cluster.url, planned.cluster.source, restore.location
        );
        if !prompt::confirm_typed(&question, &restore.agent, replace.yes)? {
            if !quiet {
                eprintln!("cancelled: nothing was changed");
            }
            return Ok(ExitStatus::Error);
        }
    }
    let progress = output::progress::ApplyProgress::new(quiet);
    let report = runtime.block_on(snapshot::execute(planned, &progress))?;
    match job.output {
        Format::Json => super::print::json(&report)?,
        Format::Table => {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{}", output::snapshot::table(&report))?;
            stdout.flush()?;
        }
    }
    Ok(if report.succeeded() {
        ExitStatus::Ok
    } else {
        ExitStatus::Error
    })
}
