//! `clawctl render FLEET`: the manifests as one YAML stream, or one file each with -o DIR.

use std::io::Write;

use crate::cli::RenderArgs;
use crate::error::ExitStatus;
use crate::ops;
use crate::render::{self, Filter};

pub fn run(args: &RenderArgs, quiet: bool) -> anyhow::Result<ExitStatus> {
    let filter = Filter {
        agents: args.agents.clone(),
        teams: args.teams.clone(),
    };
    let manifests = ops::render_fleet(&args.fleet, args.templates.as_deref(), &filter)?;
    match &args.output_dir {
        Some(dir) => {
            let written = ops::write_manifests(dir, &manifests)?;
            if !quiet {
                eprintln!("wrote {} files to {}", written.len(), dir.display());
            }
        }
        None => {
            let text = render::to_yaml_stream(&manifests)?;
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
        }
    }
    Ok(ExitStatus::Ok)
}
