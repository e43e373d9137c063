//! `clawctl init [DIR]`: a starter fleet to edit, never overwriting a file.

use crate::cli::InitArgs;
use crate::error::ExitStatus;
use crate::ops;

pub fn run(args: &InitArgs, quiet: bool) -> anyhow::Result<ExitStatus> {
    let written = ops::init(&args.dir, &args.name)?;
    if !quiet {
        for path in &written {
            eprintln!("wrote {}", path.display());
        }
        let fleet = args.dir.join("fleet.yaml");
        eprintln!(
            "next: clawctl validate {0} && clawctl render {0}",
            fleet.display()
        );
    }
    Ok(ExitStatus::Ok)
}
