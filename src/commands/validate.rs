//! `clawctl validate FLEET`: every problem of the fleet file, or a one-line summary.

use std::io::Write;

use crate::cli::{ReportFormat, ValidateArgs};
use crate::diag::{Diagnostic, Diagnostics, FieldPath};
use crate::error::{ExitStatus, InvalidInput};
use crate::ops;

pub fn run(args: &ValidateArgs, quiet: bool) -> anyhow::Result<ExitStatus> {
    let result = ops::validate(&args.fleet, args.templates.as_deref());
    if args.output == ReportFormat::Table {
        let v = result?;
        super::print::warnings(&v.warnings, quiet);
        if !quiet {
            // With multi-agent gateways, count OpenClaw agents and the pods they run in.
            let agents = if v.openclaw_agents == v.agents {
                format!("{} agent{}", v.agents, plural(v.agents))
            } else {
                format!(
                    "{} agents ({} gateway{})",
                    v.openclaw_agents,
                    v.agents,
                    plural(v.agents)
                )
            };
            println!(
                "{} is valid: {agents} in {} team{}, {} objects",
                args.fleet.display(),
                v.teams,
                plural(v.teams),
                v.objects
            );
        }
        return Ok(ExitStatus::Ok);
    }
    // JSON: the list is the answer, empty when valid; input errors are data here.
    let diags = match result {
        Ok(_) => Diagnostics::default(),
        Err(err) => match (
            err.downcast_ref::<Diagnostics>(),
            err.downcast_ref::<InvalidInput>(),
        ) {
            (Some(d), _) => d.clone(),
            (None, Some(InvalidInput(message))) => {
                let file = args.fleet.display().to_string();
                Diagnostics(vec![Diagnostic::new(
                    &file,
                    None,
                    &FieldPath::root(),
                    message.clone(),
                )])
            }
            (None, None) => return Err(err),
        },
    };
    let mut stdout = std::io::stdout().lock();
    crate::output::diagnostics::write_json(&mut stdout, &diags)?;
    stdout.flush()?;
    Ok(if diags.is_empty() {
        ExitStatus::Ok
    } else {
        ExitStatus::Invalid
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
