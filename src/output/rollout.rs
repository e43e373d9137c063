//! What a rollout shows: its plan before it starts, per-agent lines as it goes
//! (spinners per agent on a terminal), and the final table of what happened to each agent.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::history::tag;
use crate::cluster::readiness::Rollout;
use crate::cluster::wait::{Progress, Workload};
use crate::ops::rollout::{Mode, Outcome, Plan, Report, Reporter};

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
            None => super::readiness::plain(false, text),
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
    let result = |outcome: &Outcome| match outcome {
        Outcome::Updated => ("updated", String::new()),
        Outcome::Failed(why) => ("failed", why.clone()),
        Outcome::RolledBack => ("rolled back", String::new()),
        Outcome::RollbackFailed(why) => ("rollback failed", why.clone()),
        Outcome::NotStarted => ("not started", String::new()),
        Outcome::Interrupted => ("interrupted", String::new()),
    };
    if let Some(r) = &report.router {
        let (result, reason) = result(&r.outcome);
        table.add_row([
            format!("(router {})", r.name),
            "first".to_string(),
            result.to_string(),
            reason,
        ]);
    }
    for a in &report.agents {
        let (result, reason) = result(&a.outcome);
        let group = if a.group == 0 && has_canary {
            "canary".to_string()
        } else {
            a.group.to_string()
        };
        table.add_row([a.agent.clone(), group, result.to_string(), reason]);
    }
    for skip in &report.skipped {
        table.add_row([
            skip.agent.clone(),
            "-".to_string(),
            "skipped".to_string(),
            skip.reason.clone(),
        ]);
    }
    format!("{table}{}", super::snapshot::taken(&report.snapshots))
}

/// A group's name: `canary`, then `wave 1`, `wave 2`...
fn group_name(index: usize, canary: bool) -> String {
    match (canary, index) {
        (true, 0) => "canary".into(),
        (true, n) => format!("wave {n}"),
        (false, n) => format!("wave {}", n + 1),
    }
}

/// `200ms`, `60s`, `10m`, `1h30m`.
fn duration(seconds: f64) -> String {
    let d = Duration::from_secs_f64(seconds.max(0.0));
    let secs = d.as_secs();
    if secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    [(h, "h"), (m, "m"), (s, "s")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect()
}

/// What a rollout will do, for people (stderr, before the question or under
/// `--dry-run`): the target image, each group's agents with the image they leave, the
/// gates, and the agents it leaves alone; for `--abort`, the revision each agent
/// returns to.
pub fn plan(plan: &Plan) -> String {
    let mut lines = Vec::new();
    let phase = plan.phase.map(|p| p.as_str()).unwrap_or_default();
    if plan.mode == Mode::Abort {
        lines.push(format!(
            "abort the {phase} rollout of fleet {} to {} on {}: {} agent(s) it changed go back \
             to the revision they had before",
            plan.fleet,
            plan.target,
            plan.cluster,
            plan.returns.len()
        ));
        if !plan.returns.is_empty() {
            let problems = plan.returns.iter().any(|r| r.problem.is_some());
            let mut table = Table::new();
            table.load_preset(UTF8_BORDERS_ONLY);
            let mut header = vec!["agent", "now", "back to"];
            header.extend(problems.then_some("problem"));
            table.set_header(header);
            for r in &plan.returns {
                let mut row = vec![
                    r.agent.clone(),
                    tag(&r.from),
                    r.to.as_ref()
                        .map(|p| format!("revision {} ({})", p.revision, tag(&p.image)))
                        .unwrap_or_else(|| "-".into()),
                ];
                row.extend(problems.then(|| r.problem.clone().unwrap_or_default()));
                table.add_row(row);
            }
            lines.push(table.to_string());
        }
        return lines.join("\n");
    }
    if plan.is_noop() {
        lines.push(format!(
            "rollout of fleet {} on {}: {}",
            plan.fleet,
            plan.cluster,
            plan.noop_message()
        ));
    } else {
        // The groups this run works through: an earlier run may have done the first ones.
        let left: Vec<usize> = (plan.start..plan.groups.len())
            .filter(|g| plan.agents.iter().any(|m| m.group == *g && !m.done))
            .collect();
        let canary = plan.canary && left.first() == Some(&0);
        let waves = left.len() - usize::from(canary);
        let how = match (canary, waves) {
            (true, 0) => "the canary only".to_string(),
            (true, n) => format!("canary first, then {n} wave(s)"),
            (false, n) if plan.canary => format!("{n} wave(s) after the canary"),
            (false, n) => format!("{n} wave(s), no canary"),
        };
        let todo = plan.agents.iter().filter(|m| !m.done).count();
        let what = match plan.mode {
            Mode::Resume => format!("resume the {phase} rollout of fleet"),
            Mode::Promote => "promote the rollout (canary passed) of fleet".to_string(),
            _ => "rollout of fleet".to_string(),
        };
        lines.push(format!(
            "{what} {} to {} on {}: {todo} agent(s), {how}",
            plan.fleet, plan.target, plan.cluster
        ));
        let mut table = Table::new();
        table.load_preset(UTF8_BORDERS_ONLY);
        table.set_header(["group", "agent", "from", "to"]);
        for m in plan.agents.iter().filter(|m| !m.done) {
            // A multi-agent gateway moves as one pod: its agents beside it.
            let agent = if m.hosts.is_empty() {
                m.agent.clone()
            } else {
                format!("{} ({})", m.agent, m.hosts.join(", "))
            };
            table.add_row([
                group_name(m.group, plan.canary),
                agent,
                tag(&m.from),
                tag(&m.to),
            ]);
        }
        lines.push(table.to_string());
        let done: Vec<&str> = plan
            .agents
            .iter()
            .filter(|m| m.done)
            .map(|m| m.agent.as_str())
            .collect();
        if !done.is_empty() {
            lines.push(format!(
                "already moved by this rollout: {}",
                done.join(", ")
            ));
        }
        lines.push(format!(
            "gates: each agent healthy for {} after its update; {} per wave; {} agent(s) at a \
             time; {}",
            duration(plan.soak_seconds),
            duration(plan.timeout_seconds),
            plan.max_parallel,
            if plan.auto_rollback {
                "a failed gate rolls back every agent this rollout changed"
            } else {
                "automatic rollback off: a failed gate leaves agents as they are"
            }
        ));
        if plan.stop_after_canary {
            lines.push(
                "--canary: stops once the canary passed; `rollout --promote` runs the waves".into(),
            );
        }
    }
    if let Some(r) = &plan.router {
        lines.push(format!(
            "first the router {}/{}: {} -> {}, gated on its Deployment becoming ready within {}{}",
            r.namespace,
            r.name,
            if r.from.is_empty() {
                "-".to_string()
            } else {
                tag(&r.from)
            },
            tag(&r.to),
            duration(plan.timeout_seconds),
            if plan.auto_rollback {
                "; if it fails it goes back and no agent moves"
            } else {
                "; if it fails no agent moves"
            }
        ));
    }
    lines.extend(super::snapshot::before_moving(
        &plan.snapshots,
        &plan.unsnapshotted,
    ));
    let mut by_reason: Vec<(&str, Vec<&str>)> = Vec::new();
    for skip in &plan.skipped {
        match by_reason.iter_mut().find(|(r, _)| *r == skip.reason) {
            Some((_, agents)) => agents.push(&skip.agent),
            None => by_reason.push((&skip.reason, vec![&skip.agent])),
        }
    }
    for (reason, agents) in by_reason {
        lines.push(format!("left alone ({reason}): {}", agents.join(", ")));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::rollout::{Move, Skip};

    fn moves(groups: &[&[&str]]) -> Vec<Move> {
        groups
            .iter()
            .enumerate()
            .flat_map(|(group, agents)| {
                agents.iter().map(move |a| Move {
                    agent: a.to_string(),
                    group,
                    from: "img:1".into(),
                    to: "img:2".into(),
                    done: false,
                    hosts: Vec::new(),
                })
            })
            .collect()
    }

    fn full(groups: &[&[&str]], canary: bool) -> Plan {
        Plan {
            fleet: "demo".into(),
            cluster: "https://k8s:6443".into(),
            mode: Mode::Full,
            target: "img:2".into(),
            phase: None,
            canary,
            groups: groups
                .iter()
                .map(|g| g.iter().map(|a| a.to_string()).collect())
                .collect(),
            start: 0,
            stop_after_canary: false,
            agents: moves(groups),
            router: None,
            skipped: vec![Skip {
                agent: "zeta".into(),
                reason: "already runs the target".into(),
                suspended: false,
                idle: false,
            }],
            returns: Vec::new(),
            snapshots: Vec::new(),
            unsnapshotted: Vec::new(),
            soak_seconds: 0.2,
            timeout_seconds: 600.0,
            max_parallel: 5,
            auto_rollback: true,
        }
    }

    #[test]
    fn a_multi_agent_gateway_moves_with_its_agents_named() {
        let mut p = full(&[&["home"], &["beta"]], true);
        p.agents[0].hosts = vec!["work".into(), "support".into()];
        let text = plan(&p);
        assert!(text.contains("home (work, support)"), "{text}");
    }

    #[test]
    fn the_plan_names_the_target_each_wave_and_the_gates() {
        let text = plan(&full(&[&["alpha"], &["beta", "delta"], &["gamma"]], true));
        assert!(
            text.starts_with(
                "rollout of fleet demo to img:2 on https://k8s:6443: 4 agent(s), canary first, \
                 then 2 wave(s)"
            ),
            "{text}"
        );
        let row = |group: &str, agent: &str| {
            let cells = format!("{group} {agent} 1 2");
            text.lines().any(|l| {
                l.trim_matches(|c: char| c == '│' || c.is_whitespace())
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    == cells
            })
        };
        assert!(row("canary", "alpha"), "{text}");
        assert!(row("wave 1", "beta") && row("wave 1", "delta"), "{text}");
        assert!(row("wave 2", "gamma"), "{text}");
        assert!(
            text.contains("healthy for 200ms after its update; 10m per wave; 5 agent(s)"),
            "{text}"
        );
        assert!(
            text.contains("left alone (already runs the target): zeta"),
            "{text}"
        );
        // Without a canary the waves count from 1.
        let text = plan(&full(&[&["alpha", "beta"]], false));
        assert!(text.contains("1 wave(s), no canary"), "{text}");
        assert!(
            text.lines()
                .any(|l| l.contains("wave 1") && l.contains("alpha"))
        );
    }

    #[test]
    fn promote_shows_the_waves_left_and_what_is_done() {
        let mut promote = full(&[&["alpha"], &["beta", "delta"], &["gamma"]], true);
        promote.mode = Mode::Promote;
        promote.phase = Some(crate::ops::rollout::state::Phase::CanaryPassed);
        promote.start = 1;
        promote.agents[0].done = true;
        let text = plan(&promote);
        assert!(
            text.starts_with(
                "promote the rollout (canary passed) of fleet demo to img:2 on \
                 https://k8s:6443: 3 agent(s), 2 wave(s) after the canary"
            ),
            "{text}"
        );
        assert!(
            !text.lines().any(|l| l.contains("canary   alpha")),
            "{text}"
        );
        assert!(
            text.contains("already moved by this rollout: alpha"),
            "{text}"
        );
    }

    #[test]
    fn nothing_to_move_says_so() {
        let text = plan(&full(&[], true));
        assert!(
            text.contains("nothing to move: every deployed agent runs img:2"),
            "{text}"
        );
    }

    #[test]
    fn durations_read_like_the_flags() {
        assert_eq!(duration(0.2), "200ms");
        assert_eq!(duration(60.0), "1m");
        assert_eq!(duration(5400.0), "1h30m");
        assert_eq!(duration(90.0), "1m30s");
    }
}
