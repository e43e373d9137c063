//! The fake API server's `pods/exec` played on this machine: the command clawctl sent
//! to an agent's pod (GNU tar, `sh`) runs here, with the OpenClaw state directory a
//! folder standing in for the agent's volume.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use fake_apiserver::{ExecCall, ExecReply};

/// The OpenClaw state directory in an agent's pod, replaced by the volume's folder.
const STATE: &str = "/home/node/.openclaw";

/// The agent an exec's pod belongs to, from the helper pod's name
/// (`agent-<name>-<backup|restore>-<id>`), else the name's first word after `agent-`.
fn agent_of(pod: &str) -> &str {
    let name = pod.strip_prefix("agent-").unwrap_or(pod);
    ["-backup-", "-restore-"]
        .iter()
        .find_map(|op| name.split_once(op).map(|(agent, _)| agent))
        .unwrap_or_else(|| name.split('-').next().unwrap_or(name))
}

/// Runs an exec on the host, the agent's volume being `volumes[agent]`, as the pod's
/// user when [`as_pod_user`].
pub(crate) fn run_on_host(call: &ExecCall, volumes: &BTreeMap<String, PathBuf>) -> ExecReply {
    let Some(volume) = volumes.get(agent_of(&call.pod)) else {
        return ExecReply::exit(127, format!("no volume for pod {}", call.pod));
    };
    run(call, volume, as_pod_user())
}

/// Runs an exec on the host, the agent's volume being `<root>/<namespace>/<agent>`,
/// made at the first exec with the `workspace/SOUL.md` the agent's init container would
/// have written: the fake's [`crate::harness::backend::Backend`], whose scenarios bring
/// no volumes of their own.
pub(crate) fn in_a_folder_per_agent(root: &Path, call: &ExecCall) -> ExecReply {
    let volume = root.join(&call.namespace).join(agent_of(&call.pod));
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
    run(call, &volume, false)
}

/// Runs `call`'s command here with its stdin, the state directory being `volume`; as uid
/// and gid 1000 (the fleet's runAsUser, runAsGroup and fsGroup) when `as_pod_user`.
fn run(call: &ExecCall, volume: &Path, as_pod_user: bool) -> ExecReply {
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
    let mut cmd = if as_pod_user {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=1000", "--regid=1000", "--clear-groups", "--"]);
        c.args(&args);
        c
    } else {
        let mut c = Command::new(program);
        c.args(rest);
        c
    };
    let child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return ExecReply::exit(127, e.to_string()),
    };
    let writer = child.stdin.take().map(|mut stdin| {
        let input = call.stdin.clone();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        })
    });
    let out = child.wait_with_output();
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    match out {
        Ok(out) => ExecReply {
            stdout: out.stdout,
            stderr: out.stderr,
            exit_code: out.status.code().unwrap_or(1),
        },
        Err(e) => ExecReply::exit(1, e.to_string()),
    }
}

/// Whether [`run_on_host`] runs commands as the pod's user (uid 1000): when the tests
/// run as root and `setpriv` is there.
pub(crate) fn as_pod_user() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    root && Command::new("setpriv").arg("--version").output().is_ok()
}

/// Gives `volume` the ownership a pod's volume has: the root folder root's, group 1000
/// with the setgid bit (what the kubelet does for `fsGroup`), and the files the pod's.
pub(crate) fn as_a_volume(volume: &Path, mounts: &[&str]) {
    if !as_pod_user() {
        return;
    }
    let run = |args: &[&str]| {
        let ok = Command::new(args[0])
            .args(&args[1..])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "{args:?}");
    };
    let v = volume.to_str().expect("utf-8");
    run(&["chown", "-R", "1000:1000", v]);
    for root in std::iter::once(volume.to_path_buf()).chain(mounts.iter().map(|m| volume.join(m))) {
        let root = root.to_str().expect("utf-8").to_string();
        run(&["chown", "0:1000", &root]);
        run(&["chmod", "2775", &root]);
    }
}
