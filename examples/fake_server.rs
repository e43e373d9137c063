//! The fake API server as a process, for running the end-to-end suites (or clawctl by
//! hand) against it: writes a kubeconfig, prints its path, and serves until killed.
//!
//!     cargo run --example fake_server -- /tmp/fake-kubeconfig &
//!     CLAWCTL_E2E_KUBECONFIG=/tmp/fake-kubeconfig cargo test --test cli e2e -- --ignored
//!
//! The end-to-end suites are written for a real cluster; the fake answers them as far as
//! it simulates one (see tests/fake-apiserver/src/lib.rs). Its pods have no containers:
//! an exec runs the command on this machine, with the OpenClaw state directory an
//! empty-at-first folder per namespace and agent under a temporary directory (what the
//! snapshot archives of the suites need: `tar` and `sh`).
//!
//! Each further argument `NAMESPACE/NAME=PATH` also writes, to PATH, a kubeconfig that
//! authenticates as that ServiceAccount (so RBAC applies to it, as it would to a pod):
//! the conformance suite runs clawctl-router with its own ServiceAccount's.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use fake_apiserver::FakeApiServer;
use fake_apiserver::{ExecCall, ExecReply, Options};

const STATE: &str = "/home/node/.openclaw";

/// Runs `call` here, its state directory being `<root>/<namespace>/<agent>` (the agent
/// from the helper pod's name, `agent-<name>-<backup|restore>-<id>`).
fn exec_here(root: &std::path::Path, call: &ExecCall) -> ExecReply {
    let name = call.pod.strip_prefix("agent-").unwrap_or(&call.pod);
    let agent = ["-backup-", "-restore-"]
        .iter()
        .find_map(|op| name.split_once(op).map(|(agent, _)| agent))
        .unwrap_or(name)
        .to_string();
    let volume: PathBuf = root.join(&call.namespace).join(agent);
    // No init container runs here: a new volume gets the SOUL.md it would have written.
    if !volume.exists() {
        let made = std::fs::create_dir_all(volume.join("workspace")).and_then(|()| {
            std::fs::write(
                volume.join("workspace/SOUL.md"),
                "written by the fake volume\n",
            )
        });
        if let Err(e) = made {
            return ExecReply::exit(1, e.to_string());
        }
    }
    let args: Vec<String> = call
        .command
        .iter()
        .map(|a| {
            if a == STATE {
                volume.display().to_string()
            } else {
                a.clone()
            }
        })
        .collect();
    let Some((program, rest)) = args.split_first() else {
        return ExecReply::exit(127, "no command");
    };
    let child = Command::new(program)
        .args(rest)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return ExecReply::exit(127, e.to_string()),
    };
    if let Some(mut stdin) = child.stdin.take() {
        let input = call.stdin.clone();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    match child.wait_with_output() {
        Ok(out) => ExecReply {
            stdout: out.stdout,
            stderr: out.stderr,
            exit_code: out.status.code().unwrap_or(1),
        },
        Err(e) => ExecReply::exit(1, e.to_string()),
    }
}

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fake-kubeconfig".to_string());
    let mut service_accounts = Vec::new();
    for arg in std::env::args().skip(2) {
        let parsed = arg
            .split_once('=')
            .and_then(|(sa, path)| sa.split_once('/').map(|(ns, name)| (ns, name, path)));
        match parsed {
            Some((ns, name, path)) if !ns.is_empty() && !name.is_empty() && !path.is_empty() => {
                service_accounts.push((ns.to_string(), name.to_string(), path.to_string()));
            }
            _ => anyhow::bail!("{arg:?} is not NAMESPACE/NAME=PATH"),
        }
    }
    let server = FakeApiServer::start_with(Options {
        rollout_delay: Some(Duration::from_millis(200)),
        ..Options::default()
    });
    // What a registry would answer for the suites' deliberately missing tags.
    server.unpullable_images("does-not-exist");
    // The suites' knowledge buckets are closed ports: rclone fails there, in the
    // agents' pull init containers and in snapshot Jobs alike.
    server.crash_images("rclone");
    let volumes = std::env::temp_dir().join(format!("clawctl-fake-volumes-{}", std::process::id()));
    server.on_exec(move |call| exec_here(&volumes, &call));
    for (ns, name, sa_path) in &service_accounts {
        std::fs::write(sa_path, server.kubeconfig_for_service_account(ns, name))?;
    }
    std::fs::write(&path, server.kubeconfig())?;
    println!("{path}: {}", server.url());
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
