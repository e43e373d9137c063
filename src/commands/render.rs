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
    let rendered = ops::render_fleet(&args.fleet, args.templates.as_deref(), &filter)?;
    super::print::warnings(&rendered.warnings, quiet);
    let manifests = rendered.objects;
    match &args.output_dir {
        Some(dir) => {
            let written = ops::write_manifests(dir, &manifests)?;
            if !quiet {
                eprintln!("wrote {} files to {}", written.len(), dir.display());
            }
        }
        None => {
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            render::write_stream(&mut stdout, &manifests)?;
            stdout.flush()?;
        }
    }
    Ok(ExitStatus::Ok)
}
