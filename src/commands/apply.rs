//! `clawctl apply FLEET`: plan table, confirmation, ordered server-side apply under
//! the fleet Lease, waiting for readiness, summary; agents whose image changes move
//! afterwards by the rollout strategy (`ops::deploy`).

use std::sync::OnceLock;

use crate::cli::{ApplyArgs, Format};
use crate::error::ExitStatus;
use crate::interrupt::{self, Stop};
use crate::ops::{self, apply::Outcome, deploy, rollout};
use crate::output::{self, changes, progress};
use crate::plan::Action;
use crate::prompt;

pub fn run(args: &ApplyArgs, quiet: bool) -> anyhow::Result<ExitStatus> {
    let timeout = args.timeout;
    let mut request = super::cluster::request(
        &args.fleet,
        args.templates.as_deref(),
        &args.connect,
        args.delete_volumes,
        usize::from(args.concurrency),
    );
    // A new image moves by the rollout strategy (canary, waves, gates), not all at once.
    request.hold_image_changes = !args.all_at_once && args.dry_run.is_none();
    let say = |text: &str| {
        if !quiet {
            eprintln!("{text}");
        }
    };
    super::cluster::runtime()?.block_on(async {
        let planned = ops::planning::plan_and_check(&request).await?;
        super::print::warnings(&planned.warnings, quiet);
        // The plan's dry runs already draw the warnings the apply would.
        let mut api_warnings = super::print::api_warnings(&planned.cluster).len();
        let cluster = planned.cluster.clone();
        let plan = &planned.plan;
        let held = &planned.held;
        say(&changes::plan_table(plan, args.prune));
        say(&changes::totals(plan));
        if let Some(conflicts) = ops::planning::Conflicts::of(plan) {
            return Err(conflicts.into());
        }
        if !held.is_empty() {
            say(&format!(
                "{} agent(s) change image ({}): they move after the rest, canary first, by the \
                 rollout strategy (--all-at-once moves them with everything else)",
                held.len(),
                held.join(", ")
            ));
        }

        if args.dry_run.is_some() {
            let results =
                ops::apply::dry_run(&planned, args.force_conflicts, request.concurrency).await;
            super::print::api_warnings(&planned.cluster);
            let failed = changes::write_dry_run(&mut std::io::stderr().lock(), &results, quiet)?;
            return Ok(if failed { ExitStatus::Error } else { ExitStatus::Ok });
        }

        if plan.is_noop(args.prune) && held.is_empty() {
            say(&format!(
                "nothing to change: {} objects already match the fleet; no request was sent to change them",
                plan.count(Action::Unchanged)
            ));
            return Ok(ExitStatus::Ok);
        }
        let question = format!(
            "Apply these changes to {} ({})?",
            planned.cluster.url, planned.cluster.source
        );
        ops::preflight::permissions(
            &planned.cluster,
            plan,
            args.prune,
            &args.fleet,
            request.concurrency,
        )
        .await?;
        if !prompt::confirm(&question, args.yes)? {
            say("cancelled: nothing was changed");
            return Ok(ExitStatus::Error);
        }
        let claims = plan
            .changes
            .iter()
            .filter(|c| c.action == Action::Prune && c.object.kind == "PersistentVolumeClaim")
            .map(|c| c.object.to_string())
            .collect::<Vec<_>>();
        if !claims.is_empty() {
            let question = format!(
                "--delete-volumes deletes {} volume(s), the memory of removed agents, for good: {}",
                claims.len(),
                claims.join(", ")
            );
            if !prompt::confirm_typed(&question, &planned.fleet, args.yes)? {
                say("cancelled: nothing was changed");
                return Ok(ExitStatus::Error);
            }
        }
        let options = ops::apply::Options {
            force_conflicts: args.force_conflicts,
            prune: args.prune,
            concurrency: request.concurrency,
            wait: (!args.no_wait).then_some(timeout),
            history_max: usize::from(args.history_max),
        };
        let reporter = progress::ApplyProgress::new(quiet);
        let handover = ToRollout {
            quiet,
            progress: OnceLock::new(),
        };
        let deployed = deploy::deploy(planned, &request, &options, &reporter, &handover).await?;
        if let Some(report) = &deployed.applied {
            api_warnings += super::print::api_warnings(&cluster).len();
            let failed = report.failed();
            if !quiet || failed {
                eprintln!("{}", progress::apply_summary(report));
                if api_warnings > 0 {
                    eprintln!("{api_warnings} warning(s) from the API server, shown above");
                }
            }
            for (change, outcome) in &report.objects {
                if let Outcome::Failed { conflicts, .. } = outcome
                    && !conflicts.is_empty()
                {
                    eprintln!(
                        "{}: fields changed by another field manager: {}; rerun with --force-conflicts to take them back",
                        change.object,
                        conflicts.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                    );
                }
            }
            if failed {
                return Ok(ExitStatus::Error);
            }
        }
        match &deployed.rollout {
            Some(report) => super::rollout::show(report, Format::Table, quiet),
            None => Ok(ExitStatus::Ok),
        }
    })
}

/// Shows the held-back agents' rollout plan, then arms Ctrl-C for it: from here on an
/// interruption is recorded and resumable (`rollout --resume`), as in `clawctl rollout`.
struct ToRollout {
    quiet: bool,
    progress: OnceLock<output::rollout::RolloutProgress>,
}

impl deploy::Handover for ToRollout {
    fn rollout(&self, plan: &rollout::Plan) -> (&dyn rollout::Reporter, Stop) {
        if !self.quiet && !plan.is_noop() {
            eprintln!("{}", output::rollout::plan(plan));
        }
        let stop = Stop::new();
        interrupt::on_signal(stop.clone());
        let progress = self
            .progress
            .get_or_init(|| output::rollout::RolloutProgress::new(self.quiet));
        (progress, stop)
    }
}
