//! `clawctl diff FLEET`: per-object unified diffs on stdout, a summary on stderr;
//! `--exit-code` gives 3 when anything would change.

use std::io::Write;

use crate::cli::{DiffArgs, Format};
use crate::error::ExitStatus;
use crate::ops;
use crate::output::{self, changes};
use crate::plan::Action;

pub fn run(args: &DiffArgs, quiet: bool) -> anyhow::Result<ExitStatus> {
    let request = super::cluster::request(
        &args.fleet,
        args.templates.as_deref(),
        &args.connect,
        false,
        usize::from(args.concurrency),
    );
    let (planned, diff) = super::cluster::runtime()?.block_on(async {
        let planned = ops::planning::plan_and_check(&request).await?;
        super::print::warnings(&planned.warnings, quiet);
        let diff = ops::diff::diff(&planned, request.concurrency, false).await?;
        anyhow::Ok((planned, diff))
    })?;
    let api_warnings = super::print::api_warnings(&planned.cluster);
    let removals = planned.plan.count(Action::Prune);
    let mut stdout = std::io::stdout().lock();
    match args.output {
        Format::Json => {
            let mut json = changes::diff_json(&planned.plan, &diff);
            json["warnings"] = serde_json::json!(api_warnings);
            serde_json::to_writer_pretty(&mut stdout, &json)?;
            writeln!(stdout)?;
        }
        Format::Table => {
            for line in changes::conflicts(&planned.plan) {
                writeln!(stdout, "{line}")?;
            }
            changes::write_diff(&mut stdout, &diff, output::color_stdout())?;
            for line in changes::removals(&planned.plan, false) {
                writeln!(stdout, "{line}")?;
            }
            stdout.flush()?;
            if !quiet {
                eprintln!("{}", changes::plan_table(&planned.plan, false));
                if diff.has_changes() || removals > 0 {
                    eprintln!("{}", changes::totals(&planned.plan));
                } else {
                    eprintln!("no changes: the cluster matches the fleet");
                }
            }
        }
    }
    stdout.flush()?;
    // What apply would refuse is an error for diff too, after it was shown: a pull
    // request check must not pass over it.
    if let Some(conflicts) = ops::planning::Conflicts::of(&planned.plan) {
        return Err(conflicts.into());
    }
    let changed = diff.has_changes() || removals > 0;
    Ok(if args.exit_code && changed {
        ExitStatus::Changes
    } else {
        ExitStatus::Ok
    })
}
