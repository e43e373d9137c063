//! Progress while applying: a bar per step on a terminal, one plain line per event
//! otherwise (CI logs), nothing with `--quiet`. Always on stderr.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::readiness::Readiness;
use crate::cluster::readiness::Rollout;
use crate::cluster::wait::{Progress, Workload};
use crate::ops::apply::{Outcome, Reporter};
use crate::plan::Change;

/// Chooses bars or lines from whether stderr is a terminal.
pub struct ApplyProgress {
    quiet: bool,
    bars: bool,
    bar: Mutex<Option<ProgressBar>>,
    readiness: Readiness,
}

impl ApplyProgress {
    pub fn new(quiet: bool) -> ApplyProgress {
        ApplyProgress {
            quiet,
            bars: !quiet && std::io::stderr().is_terminal(),
            bar: Mutex::new(None),
            readiness: Readiness::default(),
        }
    }

    fn line(&self, text: &str) {
        if self.quiet {
            return;
        }
        let bar = self.bar.lock().ok();
        match bar.as_ref().and_then(|b| b.as_ref()) {
            Some(bar) => bar.println(text),
            None => {
                let _ = writeln!(std::io::stderr(), "{text}");
            }
        }
    }
}

fn verb(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Applied => "applied",
        Outcome::Deleted => "deleted",
        Outcome::Skipped => "skipped",
        Outcome::Failed { .. } => "FAILED",
        Outcome::NotTried => "not tried",
    }
}

impl Reporter for ApplyProgress {
    fn step(&self, name: &str, objects: usize) {
        if self.bars {
            let bar =
                ProgressBar::with_draw_target(Some(objects as u64), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_prefix("applying");
            bar.set_message(name.to_string());
            if let Ok(mut slot) = self.bar.lock() {
                *slot = Some(bar);
            }
        } else {
            self.line(&format!("step: {name} ({objects} objects)"));
        }
    }

    fn object(&self, change: &Change, outcome: &Outcome) {
        if let Ok(slot) = self.bar.lock()
            && let Some(bar) = slot.as_ref()
        {
            bar.inc(1);
        }
        match outcome {
            Outcome::Failed { message, .. } => {
                self.line(&format!("FAILED {}: {message}", change.object))
            }
            other if !self.bars => self.line(&format!("{} {}", verb(other), change.object)),
            _ => {}
        }
    }

    fn step_done(&self, name: &str) {
        if let Ok(mut slot) = self.bar.lock()
            && let Some(bar) = slot.take()
        {
            bar.finish_and_clear();
            let _ = writeln!(std::io::stderr(), "done: {name}");
        }
    }

    fn waiting(&self, workloads: usize) {
        self.line(&format!("waiting for {workloads} agent(s) to become ready"));
    }
}

impl Progress for ApplyProgress {
    fn changed(&self, workload: &Workload, state: &Rollout) {
        if let Some(line) = self.readiness.line(workload, state) {
            self.line(&line);
        }
    }

    fn note(&self, text: &str) {
        self.line(text);
    }
}

/// The summary after apply: what was applied, what failed, what was not tried, and the
/// readiness of the workloads.
pub fn apply_summary(report: &crate::ops::apply::Report) -> String {
    use crate::cluster::wait::Outcome as Ready;
    let mut counts: std::collections::BTreeMap<&'static str, usize> = Default::default();
    for (_, outcome) in &report.objects {
        *counts.entry(verb(outcome)).or_default() += 1;
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
    table.set_header(["result", "objects"]);
    for (verb, n) in &counts {
        table.add_row([verb.to_string(), n.to_string()]);
    }
    let mut text = table.to_string();
    for (change, outcome) in &report.objects {
        match outcome {
            Outcome::Failed { message, .. } => {
                text.push_str(&format!("\nfailed: {}: {message}", change.object));
            }
            Outcome::NotTried => text.push_str(&format!("\nnot tried: {}", change.object)),
            _ => {}
        }
    }
    for (workload, outcome) in &report.waited {
        let state = match outcome {
            Ready::Ready => continue,
            Ready::Failed(why) => format!("failed: {why}"),
            Ready::Unfinished(why) => format!("not ready: {why}"),
        };
        text.push_str(&format!(
            "\n{}/{} {state}",
            workload.namespace, workload.name
        ));
    }
    // Agents and the fleet's other workloads (the router) are counted apart.
    for (is_agent, noun) in [(true, "agents"), (false, "other workloads (the router)")] {
        let mine: Vec<_> = report
            .waited
            .iter()
            .filter(|(w, _)| w.agent.is_some() == is_agent)
            .collect();
        let ready = mine
            .iter()
            .filter(|(_, o)| matches!(o, Ready::Ready))
            .count();
        if !mine.is_empty() {
            text.push_str(&format!("\n{ready}/{} {noun} ready", mine.len()));
        }
    }
    text
}
