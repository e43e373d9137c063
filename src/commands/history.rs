//! `clawctl history [FLEET | --fleet NAME] [--agent NAME]`: the recorded revisions as a
//! table, or `-o json` a list of revisions. No history is not an error: a message on
//! stderr (and `[]` with `-o json`), exit 0.

use std::io::Write;

use k8s_openapi::jiff::Timestamp;

use crate::cli::{Format, HistoryArgs};
use crate::error::ExitStatus;
use crate::ops::history::{self, Query, Source};
use crate::output;

pub fn run(args: &HistoryArgs, quiet: bool) -> anyhow::Result<ExitStatus> {
    let source = match (&args.fleet, &args.fleet_name) {
        (Some(path), _) => Source::File(path),
        (None, Some(name)) => Source::Name(name),
        (None, None) => unreachable!("clap requires a fleet file or --fleet"),
    };
    let query = Query {
        source,
        target: super::cluster::target(&args.connect),
        agent: args.agent.as_deref(),
    };
    let found = super::cluster::runtime()?.block_on(history::history(&query))?;
    if found.revisions.is_empty() && !quiet {
        eprintln!("{}", found.empty_message());
    }
    let mut stdout = std::io::stdout().lock();
    match args.output {
        Format::Json => {
            serde_json::to_writer_pretty(&mut stdout, &found.revisions)?;
            writeln!(stdout)?;
        }
        Format::Table if found.revisions.is_empty() => {}
        Format::Table => {
            writeln!(
                stdout,
                "{}",
                output::history::table(&found.revisions, Timestamp::now())
            )?;
        }
    }
    stdout.flush()?;
    Ok(ExitStatus::Ok)
}
