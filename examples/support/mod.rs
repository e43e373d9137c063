//! What the benchmarks share: the generated fleet, CPU time per thread group, peak
//! memory and number formatting. Each example includes it with `mod support;`, so any
//! one example uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Name prefix of clawctl's runtime threads in the benchmarks that run the fake server
/// in the same process, so CPU time can be told apart.
pub const CLAWCTL_THREADS: &str = "clawctl-rt";

/// A fleet shaped like a real one: 10 teams with their own
/// namespaces, team defaults, a shared AGENTS.md, a soul file per 10 agents and inline
/// souls for the rest, user ids, env and egress. `edited`: agent-1's soul differs.
pub fn write_fleet(dir: &Path, n: usize, edited: bool) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir.join("souls"))?;
    std::fs::write(
        dir.join("AGENTS.md"),
        "# Agents\n\nShared operating notes.\n".repeat(20),
    )?;
    let mut y = String::from(
        "apiVersion: clawctl.io/v1alpha1\nkind: Fleet\nmetadata: {name: bench}\nspec:\n  image: ghcr.io/openclaw/openclaw:2026.4.14\n  policy:\n    tools: {elevated: false, fsWorkspaceOnly: true, deny: [gateway, sessions_spawn]}\n    maxResources: {cpu: \"2\", memory: 4Gi}\n  routing:\n    from: {namespace: clawctl-system, podSelector: {app: orchestrator}, serviceAccount: orchestrator}\n  defaults:\n    model: {primary: anthropic/claude-sonnet-4-20250514, fallbacks: [openai/gpt-4.1]}\n    resources: {requests: {cpu: 250m, memory: 256Mi}, limits: {cpu: 500m, memory: 512Mi}}\n    env: {NODE_ENV: production}\n    workspace:\n      AGENTS.md: {file: AGENTS.md, mode: managed}\n    egress:\n      - {ports: [443]}\n      - {namespace: data, podSelector: {app: elasticsearch}, ports: [9200]}\n  teams:\n",
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
            let extra = if edited && i == 1 { " Be brief." } else { "" };
            y.push_str(&format!(
                "      soulInline: \"# Soul {i}\\n\\nYou help person {i}.{extra}\\n\"\n"
            ));
        }
        y.push_str("      workspace: {USER.md: {inline: \"A person\", mode: seed}}\n");
    }
    let path = dir.join("fleet.yaml");
    std::fs::write(&path, y)?;
    Ok(path)
}

/// User + system CPU time of clawctl (the main thread, where `block_on` runs the
/// phase, and clawctl's runtime threads) and of the fake server (every other thread).
/// Clock ticks are 10 ms, so short phases read as 0 or 10 ms per thread.
pub fn cpu_times() -> (Duration, Duration) {
    let pid = std::process::id().to_string();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return (Duration::ZERO, Duration::ZERO);
    };
    let (mut clawctl, mut server) = (0u64, 0u64);
    for task in tasks.flatten() {
        let tid = task.file_name().to_string_lossy().into_owned();
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // "tid (comm) state ppid ...": comm may hold spaces, so split after the last ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        let ticks = if tid == pid || comm.starts_with(CLAWCTL_THREADS) {
            &mut clawctl
        } else {
            &mut server
        };
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        // After comm: state is field 3 of stat(5), utime 14 and stime 15.
        let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
        *ticks += field(14).unwrap_or(0) + field(15).unwrap_or(0);
    }
    let time = |ticks: u64| Duration::from_millis(ticks * 10);
    (time(clawctl), time(server))
}

/// Peak resident memory of this process (VmHWM), in MB.
pub fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// "250 ms" or "1.25 s".
pub fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{:.0} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}
