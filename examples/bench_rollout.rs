//! Benchmark: a rollout of 100 agents to a new image tag, canary then three waves,
//! against the fake API server, and the time clawctl adds on top of the simulated
//! rollout time.
//!
//! The fake's Deployment controller makes an agent's pod Ready `ROLLOUT_DELAY` after its
//! template changes. A wave's agents go together (`--max-parallel` covers the largest
//! wave), so a group can take no less than the delay plus the soak: that is the floor,
//! and what a group takes beyond it is what clawctl adds (applying, starting watches,
//! noticing readiness, recording revisions and state). The target is under 1 s
//! per group, which holds only if readiness is noticed through watches, not by polling.
//!
//!     cargo run --release --example bench_rollout
//!
//! Everything runs in this process: the fleet is applied with `ops::planning::plan` and
//! `ops::apply::apply` (as `clawctl apply --yes` does; that apply records the revisions a
//! rollout needs and is set-up, not measured), and the rollout is `ops::rollout::rollout`,
//! the call `clawctl rollout` makes, on a runtime built as the command builds its own.
//! In process, a `Reporter` sees each group start and each agent pass, which a child
//! process would only show as stderr lines with no timestamps.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clawctl::cluster::Target;
use clawctl::cluster::readiness::Rollout;
use clawctl::cluster::wait::{self, Progress, Workload};
use clawctl::interrupt::Stop;
use clawctl::ops::apply::{self, Outcome};
use clawctl::ops::planning::{self, DEFAULT_CONCURRENCY};
use clawctl::ops::rollout::strategy::Canary;
use clawctl::ops::rollout::{self, Mode, Overrides, Reporter, state::Phase};
use clawctl::plan::Change;
use fake_apiserver::{FakeApiServer, Options};

mod support;
use support::{CLAWCTL_THREADS, cpu_times, seconds};

const AGENTS: usize = 100;
const TEAMS: usize = 4;
const LATENCY: Duration = Duration::from_millis(2);
const ROLLOUT_DELAY: Duration = Duration::from_millis(500);
/// Canary 1, then 33%, 66%, 100% of the other 99: groups of 1, 33, 33, 33.
const WAVES: [u32; 3] = [33, 66, 100];
/// One rollout per soak, one after the other on the same cluster.
const SOAKS: [Duration; 2] = [Duration::ZERO, Duration::from_millis(300)];
const MAX_PARALLEL: usize = 100;
const TIMEOUT: Duration = Duration::from_secs(120);
const IMAGE: &str = "ghcr.io/openclaw/openclaw";

fn main() -> anyhow::Result<()> {
    let server = FakeApiServer::start_with(Options {
        latency: LATENCY,
        rollout_delay: Some(ROLLOUT_DELAY),
        ..Options::default()
    });
    let dir = tempfile::tempdir()?;
    let fleet = write_fleet(dir.path())?;
    let request = || planning::Request {
        fleet: &fleet,
        templates: None,
        target: Target {
            kubeconfig: Some(server.write_kubeconfig(dir.path())),
            context: None,
        },
        delete_volumes: false,
        concurrency: DEFAULT_CONCURRENCY,
        hold_image_changes: false,
    };
    // Built as clawctl's commands build theirs (two workers), with named threads.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(CLAWCTL_THREADS)
        .enable_all()
        .build()?;

    let started = Instant::now();
    runtime.block_on(apply_fleet(request()))?;
    println!(
        "set-up: {AGENTS} agents in {TEAMS} teams applied and Ready in {} (not measured below)\n",
        seconds(started.elapsed())
    );
    println!(
        "latency {} ms per request, rollout delay {} ms, canary 1 then waves {}, --max-parallel {MAX_PARALLEL}\n",
        LATENCY.as_millis(),
        ROLLOUT_DELAY.as_millis(),
        WAVES.map(|w| format!("{w}%")).join(",")
    );

    let mut runs = Vec::new();
    for (i, soak) in SOAKS.into_iter().enumerate() {
        let tag = format!("2026.5.{}", i + 1);
        server.clear_requests();
        let cpu = cpu_times();
        let timeline = Timeline::new(&server);
        let start = Instant::now();
        let report = runtime.block_on(rollout::rollout(
            rollout::Request {
                planning: request(),
                tag: Some(tag.clone()),
                mode: Mode::Full,
                overrides: Overrides {
                    canary: Some(Canary::Count(1)),
                    waves: Some(WAVES.to_vec()),
                    soak: Some(soak),
                    timeout: Some(TIMEOUT),
                    max_parallel: Some(MAX_PARALLEL),
                    no_auto_rollback: false,
                    no_snapshot: false,
                },
                history_max: 10,
            },
            &timeline,
            &Stop::new(),
        ))?;
        let wall = start.elapsed();
        let cpu_after = cpu_times();
        if report.phase != Phase::Done {
            bail!("rollout to {tag}: {:?}: {}", report.phase, report.message);
        }
        let moved = deployment_images(&server)
            .iter()
            .filter(|image| image.ends_with(&format!(":{tag}")))
            .count();
        if moved != AGENTS {
            bail!("rollout to {tag}: {moved} of {AGENTS} Deployments run it");
        }
        runs.push(Run {
            soak,
            wall,
            groups: timeline.groups(start + wall),
            by_verb: server.counts(),
            cpu: cpu_after.0.saturating_sub(cpu.0),
            server_cpu: cpu_after.1.saturating_sub(cpu.1),
        });
    }

    println!(
        "| soak | group | agents | wall | floor | added | last agent applied | start spacing | gate beyond floor | requests |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for run in &runs {
        for group in &run.groups {
            println!("{}", group.row(run.soak));
        }
        let floor = run.floor();
        println!(
            "| {} | **whole rollout** | {AGENTS} | {} | {} | {} | | | | {} |",
            seconds(run.soak),
            seconds(run.wall),
            seconds(floor),
            seconds(run.wall.saturating_sub(floor)),
            run.by_verb.values().sum::<usize>(),
        );
    }
    println!(
        "\nwall: from the group's start to the next group's start (the last group: to the \
         rollout's return); floor: rollout delay + soak; added: wall - floor; last agent \
         applied: when the group's last agent had its objects applied, from the group's \
         start; start spacing: (last - first agent applied) / (agents - 1); gate beyond \
         floor: the median agent's time from applied to passed, less the floor (noticing \
         readiness, recording the revision). The whole rollout adds, besides its groups, \
         connecting, the fleet lock, the rollout state and one history list.\n"
    );

    println!(
        "| soak | requests by verb | reads | reads per agent | writes | writes per agent | clawctl CPU | server CPU |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|");
    for run in &runs {
        let verbs = run
            .by_verb
            .iter()
            .map(|(verb, n)| format!("{verb} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let count = |verbs: &[&str]| -> usize {
            verbs
                .iter()
                .filter_map(|v| run.by_verb.get(*v))
                .sum::<usize>()
        };
        let reads = count(&["get", "list", "watch"]);
        let writes = count(&["create", "update", "patch", "delete"]);
        println!(
            "| {} | {verbs} | {reads} | {:.1} | {writes} | {:.1} | {} | {} |",
            seconds(run.soak),
            reads as f64 / AGENTS as f64,
            writes as f64 / AGENTS as f64,
            seconds(run.cpu),
            seconds(run.server_cpu),
        );
    }
    Ok(())
}

/// One rollout's measurements.
struct Run {
    soak: Duration,
    wall: Duration,
    groups: Vec<Group>,
    by_verb: BTreeMap<String, usize>,
    cpu: Duration,
    server_cpu: Duration,
}

impl Run {
    fn floor(&self) -> Duration {
        (ROLLOUT_DELAY + self.soak) * self.groups.len() as u32
    }
}

/// One group (the canary or a wave), times from its start.
struct Group {
    name: String,
    agents: usize,
    wall: Duration,
    /// When the last agent had its objects applied.
    applied: Duration,
    /// Between one agent's objects applied and the next's, on average: agents start one
    /// after the other when something serialises them.
    spacing: Duration,
    /// Median over the group's agents of (passed - applied): the gate's own time.
    gate: Duration,
    requests: usize,
}

impl Group {
    fn row(&self, soak: Duration) -> String {
        let floor = ROLLOUT_DELAY + soak;
        format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            seconds(soak),
            self.name,
            self.agents,
            seconds(self.wall),
            seconds(floor),
            seconds(self.wall.saturating_sub(floor)),
            seconds(self.applied),
            seconds(self.spacing),
            seconds(self.gate.saturating_sub(floor)),
            self.requests,
        )
    }
}

/// A `Reporter` that shows nothing and notes when each group starts and when each agent
/// was applied and passed.
struct Timeline<'s> {
    server: &'s FakeApiServer,
    starts: Mutex<Vec<GroupStart>>,
    applied: Mutex<HashMap<String, Instant>>,
    passed: Mutex<HashMap<String, Instant>>,
}

/// When a group started, and how many requests the server had answered by then.
struct GroupStart {
    at: Instant,
    name: String,
    agents: Vec<String>,
    requests: usize,
}

impl<'s> Timeline<'s> {
    fn new(server: &'s FakeApiServer) -> Self {
        Timeline {
            server,
            starts: Mutex::new(Vec::new()),
            applied: Mutex::new(HashMap::new()),
            passed: Mutex::new(HashMap::new()),
        }
    }

    fn groups(&self, end: Instant) -> Vec<Group> {
        let starts = lock(&self.starts);
        let (applied, passed) = (lock(&self.applied), lock(&self.passed));
        let total = self.server.counts().values().sum::<usize>();
        starts
            .iter()
            .enumerate()
            .map(|(i, start)| {
                let GroupStart {
                    at,
                    name,
                    agents,
                    requests,
                } = start;
                let (until, requests_then) = starts
                    .get(i + 1)
                    .map_or((end, total), |next| (next.at, next.requests));
                let mut applied_at: Vec<Instant> = agents
                    .iter()
                    .filter_map(|a| applied.get(a))
                    .copied()
                    .collect();
                applied_at.sort();
                let spacing = match (applied_at.first(), applied_at.last()) {
                    (Some(first), Some(last)) if applied_at.len() > 1 => {
                        last.duration_since(*first) / (applied_at.len() - 1) as u32
                    }
                    _ => Duration::ZERO,
                };
                let mut gates: Vec<Duration> = agents
                    .iter()
                    .filter_map(|a| Some(passed.get(a)?.duration_since(*applied.get(a)?)))
                    .collect();
                gates.sort();
                Group {
                    name: name.clone(),
                    agents: agents.len(),
                    wall: until.duration_since(*at),
                    applied: applied_at
                        .last()
                        .map_or(Duration::ZERO, |t| t.duration_since(*at)),
                    spacing,
                    gate: gates.get(gates.len() / 2).copied().unwrap_or_default(),
                    requests: requests_then - requests,
                }
            })
            .collect()
    }
}

impl Progress for Timeline<'_> {
    fn changed(&self, _: &Workload, _: &Rollout) {}
}

impl Reporter for Timeline<'_> {
    fn group(&self, index: usize, total: usize, canary: bool, agents: &[String]) {
        let now = Instant::now();
        // Counting the log takes microseconds; it is what splits requests by group.
        let requests = self.server.counts().values().sum();
        let name = if canary {
            "canary".to_string()
        } else {
            format!("wave {index}/{}", total - 1)
        };
        lock(&self.starts).push(GroupStart {
            at: now,
            name,
            agents: agents.to_vec(),
            requests,
        });
    }

    fn agent(&self, agent: &str, what: &str) {
        let now = Instant::now();
        match what {
            "checking health" => lock(&self.applied).insert(agent.to_string(), now),
            "passed" => lock(&self.passed).insert(agent.to_string(), now),
            _ => None,
        };
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Plans and applies the fleet, waiting for every Deployment (and recording the first
/// revision of every agent).
async fn apply_fleet(request: planning::Request<'_>) -> anyhow::Result<()> {
    let planned = planning::plan(&request).await?;
    let options = apply::Options {
        force_conflicts: false,
        prune: false,
        concurrency: DEFAULT_CONCURRENCY,
        wait: Some(TIMEOUT),
        history_max: 10,
    };
    let report = apply::apply(planned, &options, &Quiet).await?;
    let ready = report
        .waited
        .values()
        .filter(|o| **o == wait::Outcome::Ready)
        .count();
    if report.failed() || ready != AGENTS {
        bail!("the first apply failed: {ready} of {AGENTS} Deployments ready");
    }
    Ok(())
}

/// An apply reporter that shows nothing.
struct Quiet;

impl Progress for Quiet {
    fn changed(&self, _: &Workload, _: &Rollout) {}
}

impl apply::Reporter for Quiet {
    fn step(&self, _: &str, _: usize) {}
    fn object(&self, _: &Change, _: &Outcome) {}
    fn step_done(&self, _: &str) {}
    fn waiting(&self, _: usize) {}
}

fn deployment_images(server: &FakeApiServer) -> Vec<String> {
    (0..TEAMS)
        .flat_map(|t| server.list("apps/v1", "Deployment", Some(&format!("team-{t}"))))
        .filter_map(|d| {
            d["spec"]["template"]["spec"]["containers"][0]["image"]
                .as_str()
                .map(str::to_string)
        })
        .collect()
}

/// A fleet shaped like `bench_cluster`'s, smaller: teams with their own namespaces and
/// defaults, a shared AGENTS.md, inline souls, user ids, env and egress.
fn write_fleet(dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::write(
        dir.join("AGENTS.md"),
        "# Agents\n\nShared operating notes.\n".repeat(20),
    )?;
    let mut y = format!(
        "apiVersion: clawctl.io/v1alpha1\nkind: Fleet\nmetadata: {{name: bench}}\nspec:\n  image: {IMAGE}:2026.4.14\n  policy:\n    tools: {{elevated: false, fsWorkspaceOnly: true, deny: [gateway, sessions_spawn]}}\n    maxResources: {{cpu: \"2\", memory: 4Gi}}\n  routing:\n    from: {{namespace: clawctl-system, podSelector: {{app: orchestrator}}, serviceAccount: orchestrator}}\n  defaults:\n    model: {{primary: anthropic/claude-sonnet-4-20250514, fallbacks: [openai/gpt-4.1]}}\n    resources: {{requests: {{cpu: 250m, memory: 256Mi}}, limits: {{cpu: 500m, memory: 512Mi}}}}\n    env: {{NODE_ENV: production}}\n    workspace:\n      AGENTS.md: {{file: AGENTS.md, mode: managed}}\n    egress:\n      - {{ports: [443]}}\n  teams:\n"
    );
    for t in 0..TEAMS {
        y.push_str(&format!(
            "    - name: team-{t}\n      viewers: [group:team-{t}]\n      defaults: {{resources: {{limits: {{memory: 1Gi}}}}}}\n"
        ));
    }
    y.push_str("  agents:\n");
    for i in 0..AGENTS {
        y.push_str(&format!(
            "    - name: agent-{i:03}\n      team: team-{}\n      user: {{slack: U{i:08}}}\n      soulInline: \"# Soul {i}\\n\\nYou help person {i}.\\n\"\n",
            i % TEAMS
        ));
    }
    let path = dir.join("fleet.yaml");
    std::fs::write(&path, y).context("write the fleet")?;
    Ok(path)
}
