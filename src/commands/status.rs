//! `clawctl status [FLEET | --fleet NAME]`: the agent table on stdout; `--watch`
//! reprints it when something changes; `-o json` for scripts.

use std::io::{IsTerminal, Write};

use crate::cli::{Format, StatusArgs};
use crate::error::ExitStatus;
use crate::ops::planning::DEFAULT_CONCURRENCY;
use crate::ops::status::{self, FleetStatus, Source};
use crate::output;

fn print(status: &FleetStatus, format: Format, clear: bool) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match format {
        Format::Json => {
            serde_json::to_writer(&mut stdout, status)?;
            writeln!(stdout)?;
        }
        Format::Table => {
            if clear {
                // Home and clear the screen, as `watch` does.
                write!(stdout, "\x1b[H\x1b[2J")?;
            }
            writeln!(stdout, "{}", output::status::table(status))?;
        }
    }
    stdout.flush()
}

pub fn run(args: &StatusArgs, _quiet: bool) -> anyhow::Result<ExitStatus> {
    let source = match (&args.fleet, &args.fleet_name) {
        (Some(path), _) => Source::File(super::cluster::request(
            path,
            args.templates.as_deref(),
            &args.connect,
            false,
            DEFAULT_CONCURRENCY,
        )),
        (None, Some(name)) => Source::Name {
            name: name.clone(),
            target: super::cluster::target(&args.connect),
        },
        (None, None) => unreachable!("clap requires a fleet file or --fleet"),
    };
    super::cluster::runtime()?.block_on(async {
        let prepared = status::prepare(source).await?;
        let snapshot = status::status(&prepared).await?;
        print(&snapshot, args.output, false)?;
        if args.watch {
            // With -o json, one document per line per change (JSON Lines).
            let clear = args.output == Format::Table && std::io::stdout().is_terminal();
            status::watch(&prepared, |s| print(s, args.output, clear).is_ok()).await?;
        }
        Ok(ExitStatus::Ok)
    })
}
