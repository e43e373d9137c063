//! `clawctl rollout FLEET`: canary, waves, gates, automatic rollback; `--canary`,
//! `--promote`, `--resume`, `--abort`. Shows the plan (target image, who moves in which
//! wave, or what `--abort` returns) and asks, unless `--yes`; without a terminal and
//! without `--yes` it refuses; `--dry-run` shows the plan and stops. Exit codes of
//! DESIGN §4.

use std::io::Write;

use crate::cli::{Format, RolloutArgs};
use crate::error::{ExitStatus, InvalidInput};
use crate::interrupt::{self, Stop};
use crate::ops::planning::DEFAULT_CONCURRENCY;
use crate::ops::rollout::strategy::{self, Canary};
use crate::ops::rollout::{self, Mode, Overrides, Request};
use crate::output;
use crate::prompt;

pub fn run(args: &RolloutArgs, quiet: bool) -> anyhow::Result<ExitStatus> {
    let canary = match (
        &args.canary_agents[..],
        args.canary_count,
        args.canary_percent,
    ) {
        ([], None, None) => None,
        ([], Some(n), _) => Some(Canary::Count(n)),
        ([], None, Some(p)) => Some(Canary::Percent(p)),
        (names, _, _) => Some(Canary::Agents(names.to_vec())),
    };
    let waves = if args.waves.is_empty() {
        None
    } else {
        Some(strategy::waves(&args.waves).map_err(|e| InvalidInput(format!("--waves: {e}")))?)
    };
    let overrides = Overrides {
        canary,
        waves,
        soak: args.soak,
        timeout: args.timeout,
        max_parallel: Some(usize::from(args.max_parallel)),
        no_auto_rollback: args.no_auto_rollback,
        no_snapshot: args.no_snapshot,
    };
    let mode = match (args.canary, args.promote, args.resume, args.abort) {
        (true, ..) => Mode::CanaryOnly,
        (_, true, ..) => Mode::Promote,
        (_, _, true, _) => Mode::Resume,
        (.., true) => Mode::Abort,
        _ => Mode::Full,
    };
    let request = Request {
        planning: super::cluster::request(
            &args.fleet,
            args.templates.as_deref(),
            &args.connect,
            false,
            DEFAULT_CONCURRENCY,
        ),
        tag: args.tag.clone(),
        mode,
        overrides,
        history_max: usize::from(args.history_max),
    };
    let runtime = super::cluster::runtime()?;
    let planned = runtime.block_on(rollout::plan(request))?;
    let plan = &planned.plan;
    if args.dry_run {
        match args.output {
            Format::Json => super::print::json(plan)?,
            Format::Table if !quiet => eprintln!("{}", output::rollout::plan(plan)),
            Format::Table => {}
        }
        if !quiet {
            eprintln!("dry run: nothing was changed");
        }
        return Ok(ExitStatus::Ok);
    }
    // Nothing to move: nothing to ask; the report says so.
    if !plan.is_noop() {
        if !quiet {
            eprintln!("{}", output::rollout::plan(plan));
        }
        let what = match plan.mode {
            Mode::Full | Mode::CanaryOnly => "Start this rollout",
            Mode::Promote => "Promote this rollout",
            Mode::Resume => "Resume this rollout",
            Mode::Abort => "Abort this rollout and roll these agents back",
        };
        let question = format!(
            "{what} on {} ({})?",
            planned.cluster.url, planned.cluster.source
        );
        if !prompt::confirm(&question, args.yes)? {
            if !quiet {
                eprintln!("cancelled: nothing was changed");
            }
            return Ok(ExitStatus::Error);
        }
    }
    let report = runtime.block_on(async {
        // Only now: Ctrl-C at the question ends the process the ordinary way.
        let stop = Stop::new();
        interrupt::on_signal(stop.clone());
        let progress = output::rollout::RolloutProgress::new(quiet);
        rollout::execute(planned, &progress, &stop).await
    })?;
    show(&report, args.output, quiet)
}

/// The rollout's report: its table on stdout, one sentence on stderr; the exit status of
/// DESIGN §4.
pub(super) fn show(
    report: &rollout::Report,
    format: Format,
    quiet: bool,
) -> anyhow::Result<ExitStatus> {
    match format {
        Format::Json => super::print::json(report)?,
        Format::Table => {
            if !report.agents.is_empty() {
                let mut stdout = std::io::stdout().lock();
                writeln!(stdout, "{}", output::rollout::table(report))?;
                stdout.flush()?;
            }
        }
    }
    let status = report.exit_status();
    if !quiet || status != ExitStatus::Ok {
        eprintln!(
            "rollout of {} to {}: {}",
            report.fleet, report.target, report.message
        );
    }
    Ok(status)
}
