//! What a rollout shows: per-agent lines as it goes (spinners per agent on a terminal),
//! and the final table of what happened to each agent.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cluster::readiness::Rollout;
use crate::cluster::wait::{Progress, Workload};
use crate::ops::rollout::{Outcome, Report, Reporter};

/// Spinners on a terminal, plain lines otherwise, nothing with `--quiet`.
pub struct RolloutProgress {
    quiet: bool,
    multi: Option<MultiProgress>,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl RolloutProgress {
    pub fn new(quiet: bool) -> RolloutProgress {
        let tty = !quiet && std::io::stderr().is_terminal();
        RolloutProgress {
            quiet,
            multi: tty.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            bars: Mutex::new(HashMap::new()),
        }
    }

    fn line(&self, text: &str) {
        if self.quiet {
            return;
        }
        match &self.multi {
            Some(multi) => {
                let _ = multi.println(text);
            }
            None => {
                let _ = writeln!(std::io::stderr(), "{text}");
            }
        }
    }
}

impl Reporter for RolloutProgress {
    fn group(&self, index: usize, total: usize, canary: bool, agents: &[String]) {
        let name = if canary {
            "canary".to_string()
        } else {
            format!("group {}", index + 1)
        };
        self.line(&format!(
            "{name} ({}/{total}): {}",
            index + 1,
            agents.join(", ")
        ));
    }

    fn agent(&self, agent: &str, what: &str) {
        match &self.multi {
            Some(multi) => {
                let Ok(mut bars) = self.bars.lock() else {
                    return;
                };
                let bar = bars.entry(agent.to_string()).or_insert_with(|| {
                    let bar = multi.add(ProgressBar::new_spinner());
                    bar.set_style(
                        ProgressStyle::with_template("{spinner} {prefix:<24} {msg} ({elapsed})")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.set_prefix(agent.to_string());
                    bar.enable_steady_tick(Duration::from_millis(120));
                    bar
                });
                bar.set_message(what.to_string());
                if matches!(what, "passed" | "rolled back")
                    || what.starts_with("FAILED")
                    || what.starts_with("ROLLBACK FAILED")
                {
                    bar.finish();
                }
            }
            None => self.line(&format!("{agent}: {what}")),
        }
    }
}

impl Progress for RolloutProgress {
    fn changed(&self, _workload: &Workload, _state: &Rollout) {}

    fn note(&self, text: &str) {
        self.line(text);
    }
}

/// The final table: agent, group, result, reason.
pub fn table(report: &Report) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY);
    table.set_header(["agent", "group", "result", "reason"]);
    let has_canary = report.groups.len() > 1;
    for a in &report.agents {
        let (result, reason) = match &a.outcome {
            Outcome::Updated => ("updated", String::new()),
            Outcome::Failed(why) => ("failed", why.clone()),
            Outcome::RolledBack => ("rolled back", String::new()),
            Outcome::RollbackFailed(why) => ("rollback failed", why.clone()),
            Outcome::NotStarted => ("not started", String::new()),
            Outcome::Interrupted => ("interrupted", String::new()),
        };
        let group = if a.group == 0 && has_canary {
            "canary".to_string()
        } else {
            a.group.to_string()
        };
        table.add_row([a.agent.clone(), group, result.to_string(), reason]);
    }
    table.to_string()
}
