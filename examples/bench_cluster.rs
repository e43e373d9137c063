//! Benchmark: clawctl's cluster engine (plan, apply, diff) against the fake API server
//! with a simulated per-request latency. For each fleet size it runs, in process:
//!
//! 1. first apply, waiting for every Deployment to roll out;
//! 2. no-op apply (nothing changed);
//! 3. diff with no changes;
//! 4. diff after editing one agent's soul;
//! 5. apply of that edit, waiting for its rollout;
//!
//! and prints, per phase, wall time (and the parts spent planning and waiting for
//! rollouts), CPU time of clawctl's threads and of the fake server's, requests by verb,
//! writes, server-side dry-runs, reads, reads per object, and the lower bound
//! `requests / concurrency x latency`.
//!
//!     cargo run --release --example bench_cluster               # 100 and 1,000 agents
//!     cargo run --release --example bench_cluster -- 100 1000   # chosen sizes
//!
//! Each size runs in its own process, so its peak RSS (VmHWM) is that size's alone; it
//! includes the fake server, which runs in the same process and holds every object.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clawctl::cluster::Target;
use clawctl::cluster::readiness::Rollout;
use clawctl::cluster::wait::{self, Workload};
use clawctl::ops::apply::{self, Outcome, Reporter};
use clawctl::ops::diff;
use clawctl::ops::planning::{self, DEFAULT_CONCURRENCY, Request};
use clawctl::plan::{Action, Change};
use fake_apiserver::{FakeApiServer, Options};

mod support;
use support::{CLAWCTL_THREADS, cpu_times, peak_rss_mb, seconds, write_fleet};

const SIZES: &[usize] = &[100, 1_000];
const LATENCY: Duration = Duration::from_millis(5);
const ROLLOUT_DELAY: Duration = Duration::from_millis(50);
const WAIT: Duration = Duration::from_secs(300);
/// `--history-max`'s default: revisions kept per agent.
const HISTORY_MAX: usize = 10;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--one") {
        let n = args
            .get(2)
            .and_then(|a| a.parse::<usize>().ok())
            .context("--one needs a fleet size")?;
        return run_one(n);
    }
    let sizes: Vec<usize> = if args.len() > 1 {
        args[1..]
            .iter()
            .map(|a| a.parse().with_context(|| format!("not a fleet size: {a}")))
            .collect::<anyhow::Result<_>>()?
    } else {
        SIZES.to_vec()
    };
    println!(
        "latency {} ms per request, rollout delay {} ms, concurrency {DEFAULT_CONCURRENCY}\n",
        LATENCY.as_millis(),
        ROLLOUT_DELAY.as_millis()
    );
    println!(
        "| agents | phase | wall | of which plan | of which wait | clawctl CPU | server CPU | requests by verb | writes | dry-runs | reads | reads/object | bound |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|");
    let mut footer = Vec::new();
    for n in sizes {
        let out = Command::new(&args[0])
            .args(["--one", &n.to_string()])
            .output()?;
        if !out.status.success() {
            bail!("size {n} failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            match line.strip_prefix("# ") {
                Some(note) => footer.push(note.to_string()),
                None => println!("{line}"),
            }
        }
    }
    println!();
    for note in footer {
        println!("{note}");
    }
    Ok(())
}

/// One fleet size: a fresh fake server, every phase in order, one table row per phase.
fn run_one(agents: usize) -> anyhow::Result<()> {
    let server = FakeApiServer::start_with(Options {
        latency: LATENCY,
        rollout_delay: Some(ROLLOUT_DELAY),
        ..Options::default()
    });
    let dir = tempfile::tempdir()?;
    let fleet = write_fleet(dir.path(), agents, false)?;
    let request = Request {
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

    let first = measure(&server, "first apply (wait)", || {
        runtime.block_on(apply_phase(&request, agents, Some(agents)))
    })?;
    let objects = first.objects;
    let noop = measure(&server, "no-op apply", || {
        runtime.block_on(apply_phase(&request, agents, None))
    })?;
    let diff_none = measure(&server, "diff, no changes", || {
        runtime.block_on(diff_phase(&request, false))
    })?;
    write_fleet(dir.path(), agents, true)?;
    let diff_edit = measure(&server, "diff, one soul edited", || {
        runtime.block_on(diff_phase(&request, true))
    })?;
    let apply_edit = measure(&server, "apply one soul edit (wait)", || {
        runtime.block_on(apply_phase(&request, agents, Some(1)))
    })?;
    for phase in [&first, &noop, &diff_none, &diff_edit, &apply_edit] {
        println!("{}", phase.row(agents));
    }
    println!(
        "# {agents} agents: {objects} objects (ApplySet parent included), {} stored by the fake server after the first apply (pods and ReplicaSets included); peak RSS {:.0} MB (clawctl and the fake server)",
        first.stored,
        peak_rss_mb()
    );
    Ok(())
}

/// One phase's measurements.
struct Phase {
    name: &'static str,
    wall: Duration,
    plan: Duration,
    wait: Duration,
    cpu: Duration,
    server_cpu: Duration,
    /// Requests by verb (`discovery` covers `/version`); dry-runs counted with their verb.
    by_verb: BTreeMap<String, usize>,
    writes: usize,
    dry_runs: usize,
    reads: usize,
    objects: usize,
    stored: usize,
}

impl Phase {
    fn requests(&self) -> usize {
        self.by_verb.values().sum()
    }

    /// Requests / concurrency x latency: the time the requests take if the server
    /// answers at once after its latency and clawctl always keeps `concurrency` in flight.
    fn bound(&self) -> Duration {
        LATENCY * self.requests().div_ceil(DEFAULT_CONCURRENCY) as u32
    }

    fn row(&self, agents: usize) -> String {
        let verbs = self
            .by_verb
            .iter()
            .map(|(verb, n)| format!("{verb} {}", thousands(*n)))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "| {} | {} | {} | {} | {} | {} | {} | {verbs} | {} | {} | {} | {:.3} | {} |",
            thousands(agents),
            self.name,
            seconds(self.wall),
            seconds(self.plan),
            seconds(self.wait),
            seconds(self.cpu),
            seconds(self.server_cpu),
            thousands(self.writes),
            thousands(self.dry_runs),
            thousands(self.reads),
            self.reads as f64 / self.objects.max(1) as f64,
            seconds(self.bound()),
        )
    }
}

/// What a phase reports back: time spent planning and waiting for rollouts, and the
/// plan's object count.
struct Ran {
    plan: Duration,
    wait: Duration,
    objects: usize,
}

fn measure(
    server: &FakeApiServer,
    name: &'static str,
    run: impl FnOnce() -> anyhow::Result<Ran>,
) -> anyhow::Result<Phase> {
    server.clear_requests();
    let (cpu, server_cpu) = cpu_times();
    let start = Instant::now();
    let ran = run().with_context(|| format!("phase {name:?}"))?;
    let wall = start.elapsed();
    let (cpu_after, server_cpu_after) = cpu_times();
    let (cpu, server_cpu) = (
        cpu_after.saturating_sub(cpu),
        server_cpu_after.saturating_sub(server_cpu),
    );
    let mut by_verb = BTreeMap::new();
    let (mut writes, mut dry_runs, mut reads) = (0, 0, 0);
    for r in server.requests() {
        *by_verb.entry(r.verb.clone()).or_insert(0) += 1;
        match r.verb.as_str() {
            "get" | "list" | "watch" => reads += 1,
            "discovery" => {}
            _ if r.dry_run => dry_runs += 1,
            _ => writes += 1,
        }
    }
    Ok(Phase {
        name,
        wall,
        plan: ran.plan,
        wait: ran.wait,
        cpu,
        server_cpu,
        by_verb,
        writes,
        dry_runs,
        reads,
        objects: ran.objects,
        stored: server.object_count(),
    })
}

/// Plans and applies. `wait_for`: how many Deployments must roll out (`None`: the
/// plan must be a no-op).
async fn apply_phase(
    request: &Request<'_>,
    agents: usize,
    wait_for: Option<usize>,
) -> anyhow::Result<Ran> {
    let start = Instant::now();
    let planned = planning::plan(request).await?;
    let plan = start.elapsed();
    let objects = planned.plan.changes.len();
    let noop = planned.plan.is_noop(false);
    if noop != wait_for.is_none() {
        bail!(
            "expected {} plan, got {} creates and {} updates",
            if noop { "a changing" } else { "a no-op" },
            planned.plan.count(Action::Create),
            planned.plan.count(Action::Update)
        );
    }
    let options = apply::Options {
        force_conflicts: false,
        prune: false,
        concurrency: DEFAULT_CONCURRENCY,
        wait: Some(WAIT),
        history_max: HISTORY_MAX,
    };
    let quiet = Quiet::default();
    let report = apply::apply(planned, &options, &quiet).await?;
    let wait = quiet.waited();
    if report.failed() {
        let failed: Vec<String> = report
            .objects
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Failed { .. }))
            .map(|(c, o)| format!("{}: {o:?}", c.object))
            .chain(
                report
                    .waited
                    .iter()
                    .filter(|(_, o)| **o != wait::Outcome::Ready)
                    .map(|(w, o)| format!("{}/{}: {o:?}", w.namespace, w.name)),
            )
            .take(5)
            .collect();
        bail!("apply failed ({agents} agents): {}", failed.join("; "));
    }
    let ready = report.waited.len();
    if ready != wait_for.unwrap_or(0) {
        bail!(
            "waited for {ready} Deployments, expected {}",
            wait_for.unwrap_or(0)
        );
    }
    Ok(Ran {
        plan,
        wait,
        objects,
    })
}

/// Plans and diffs; `changed`: whether the diff must show changes.
async fn diff_phase(request: &Request<'_>, changed: bool) -> anyhow::Result<Ran> {
    let start = Instant::now();
    let planned = planning::plan(request).await?;
    let plan = start.elapsed();
    let found = diff::diff(&planned, DEFAULT_CONCURRENCY, false).await?;
    if found.has_changes() != changed {
        bail!(
            "expected {}changes, the diff shows {} objects",
            if changed { "" } else { "no " },
            found.objects.len()
        );
    }
    Ok(Ran {
        plan,
        wait: Duration::ZERO,
        objects: planned.plan.changes.len(),
    })
}

/// Shows nothing; notes when the wait for rollouts starts.
#[derive(Default)]
struct Quiet {
    waiting_since: Mutex<Option<Instant>>,
}

impl Quiet {
    /// Time since the wait started (zero when apply did not wait).
    fn waited(&self) -> Duration {
        self.waiting_since
            .lock()
            .ok()
            .and_then(|since| *since)
            .map_or(Duration::ZERO, |since| since.elapsed())
    }
}

impl wait::Progress for Quiet {
    fn changed(&self, _: &Workload, _: &Rollout) {}
}

impl Reporter for Quiet {
    fn step(&self, _: &str, _: usize) {}
    fn object(&self, _: &Change, _: &Outcome) {}
    fn step_done(&self, _: &str) {}
    fn waiting(&self, _: usize) {
        if let Ok(mut since) = self.waiting_since.lock() {
            *since = Some(Instant::now());
        }
    }
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
