//! Benchmark: load + validate + render (and YAML output) of generated fleets with 10 to
//! 10,000 agents, single-threaded. Prints wall time and peak memory per size.
//!
//!     cargo run --release --example bench_render            # all sizes
//!     cargo run --release --example bench_render -- 1000    # one size
//!
//! Each size runs in its own process, so peak memory (VmHWM) is that size's alone.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use clawctl::render::{self, Filter};

const SIZES: &[usize] = &[10, 100, 1_000, 10_000];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(n) = args.get(1).and_then(|a| a.parse::<usize>().ok()) {
        return run_one(n);
    }
    println!(
        "{:>7}  {:>9}  {:>9}  {:>9}  {:>8}  {:>9}",
        "agents", "load+val", "render", "total", "objects", "peak RSS"
    );
    for n in SIZES {
        let out = Command::new(&args[0]).arg(n.to_string()).output()?;
        if !out.status.success() {
            anyhow::bail!("size {n} failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
    Ok(())
}

fn run_one(n: usize) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = write_fleet(dir.path(), n)?;
    let start = Instant::now();
    let (_, fleet) = clawctl::ops::load(&path)?;
    let loaded = start.elapsed();
    // What `clawctl render` does: render, check, keep each object's text, write the stream.
    let manifests = render::render_yaml(&fleet, &render::Templates::builtin(), &Filter::default())?;
    render::write_stream(&mut std::io::sink(), &manifests)?;
    let total = start.elapsed();
    println!(
        "{n:>7}  {:>7.1}ms  {:>7.1}ms  {:>7.1}ms  {:>8}  {:>6.1} MB",
        loaded.as_secs_f64() * 1e3,
        (total - loaded).as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3,
        manifests.len(),
        peak_rss_mb()
    );
    Ok(())
}

/// A fleet shaped like a real one: 10 teams, team defaults, a shared AGENTS.md file,
/// a soul file per 10 agents, inline souls for the rest, user ids, env and egress.
fn write_fleet(dir: &Path, n: usize) -> anyhow::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir.join("souls"))?;
    std::fs::write(
        dir.join("AGENTS.md"),
        "# Agents\n\nShared operating notes.\n".repeat(20),
    )?;
    let mut y = String::from(
        "apiVersion: clawctl.io/v1alpha1\nkind: Fleet\nmetadata: {name: bench}\nspec:\n  image: ghcr.io/openclaw/openclaw:2026.4.14\n  policy:\n    tools: {elevated: false, fsWorkspaceOnly: true, deny: [gateway, sessions_spawn]}\n    maxResources: {cpu: \"2\", memory: 4Gi}\n  routing:\n    from: {namespace: clawctl-system, podSelector: {app: orchestrator}}\n  defaults:\n    model: {primary: anthropic/claude-sonnet-4-20250514, fallbacks: [openai/gpt-4.1]}\n    resources: {requests: {cpu: 250m, memory: 256Mi}, limits: {cpu: 500m, memory: 512Mi}}\n    secrets: [openclaw-shared-secrets]\n    env: {NODE_ENV: production}\n    workspace:\n      AGENTS.md: {file: AGENTS.md, mode: managed}\n    egress:\n      - {ports: [443]}\n      - {namespace: data, podSelector: {app: elasticsearch}, ports: [9200]}\n  teams:\n",
    );
    for t in 0..10 {
        y.push_str(&format!("    - name: team-{t}\n      viewers: [group:team-{t}]\n      defaults: {{resources: {{limits: {{memory: 1Gi}}}}}}\n"));
    }
    y.push_str("  agents:\n");
    for i in 0..n {
        y.push_str(&format!(
            "    - name: agent-{i}\n      team: team-{}\n      user: {{slack: U{i:08}}}\n",
            i % 10
        ));
        if i % 10 == 0 {
            let soul = format!("souls/s{i}.md");
            std::fs::write(
                dir.join(&soul),
                format!("# Soul {i}\n\nYou help person {i}.\n"),
            )?;
            y.push_str(&format!("      soul: {soul}\n"));
        } else {
            y.push_str(&format!(
                "      soulInline: \"# Soul {i}\\n\\nYou help person {i}.\\n\"\n"
            ));
        }
        y.push_str("      workspace: {USER.md: {inline: \"A person\", mode: seed}}\n");
    }
    let path = dir.join("fleet.yaml");
    std::fs::write(&path, y)?;
    Ok(path)
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
