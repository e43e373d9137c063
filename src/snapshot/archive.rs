//! Snapshots as local files: a gzipped tar of the agent's volumes streamed out of (or
//! into) a short-lived helper pod over `pods/exec`, the transport of `kubectl cp`. For
//! agents without a bucket, and for brains that should leave the cluster.
//!
//! The helper pod is derived from the agent's live Deployment: the gateway's own image
//! (on the node already; a Debian-based image with GNU tar and `sh`), its pod security
//! context, ServiceAccount, scheduling, and the volumes the `workspace` init container
//! mounts (the state volume and a multi-agent gateway's workspace volumes, at the same
//! paths). It runs `sleep` until clawctl is done, at most its `activeDeadlineSeconds`.
//!
//! What an archive holds is what a bucket snapshot holds: every path but
//! [`crate::brain::excludes`], tar's `--exclude` patterns anchored, with and without
//! `./`. A restore ([`restore_script`]) is the one place an archive's content reaches a
//! volume, and lands only what it should:
//! 1. tar extracts into a staging folder on the state volume (a damaged archive changes
//!    nothing). GNU tar keeps every member inside it: it strips a leading `/`, skips a
//!    member whose name holds `..`, and makes a symlink pointing out a placeholder
//!    until the end, so nothing is written through one. A complaint about one member
//!    is reported and that member dropped; anything else (not gzip, not tar,
//!    truncated, the volume full) refuses the whole archive (exit 3).
//! 2. In the staging folder: the excluded paths and openclaw.json are dropped, then
//!    whatever is not a regular file or a folder (symlink, device, FIFO, socket), then
//!    every name of a file with more than one (a hard link); setuid and setgid bits
//!    are cleared. Each is reported by path.
//! 3. On the volume: everything but the excluded paths, a regular openclaw.json and
//!    folders is deleted (so no link or FIFO stays to be written through), empty
//!    folders removed, and the staged files moved in with `mkdir -p` and `mv` rather
//!    than tar, which would try to chmod the volumes' root-owned folders (a volume's
//!    root belongs to root, group `fsGroup`; the pod runs as uid 1000).
//! 4. With a bucket, the volume is marked restored for the next knowledge pull.
//!
//! Report lines on stdout start `clawctl: dropped `, `clawctl: cleared ` or
//! `clawctl: renamed ` (tar's "Removing leading `/' from member names").

use anyhow::{Context, anyhow};
use serde_json::{Value, json};

use crate::brain::excludes;
use crate::openclaw::STATE_DIR;

/// The helper pod's container.
pub const CONTAINER: &str = "brain";

/// Where a restore's report lines start.
pub const DROPPED: &str = "clawctl: dropped ";
pub const CLEARED: &str = "clawctl: cleared ";
pub const RENAMED: &str = "clawctl: renamed ";

/// The command that writes the archive to stdout.
pub fn backup_command() -> Vec<String> {
    let mut cmd: Vec<String> = ["tar", "-c", "-z", "-f", "-"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    cmd.extend(excludes::tar_args(false));
    cmd.extend(["-C".to_string(), STATE_DIR.to_string(), ".".to_string()]);
    cmd
}

/// tar's complaints about one member (after `tar: NAME: `), which drop that member
/// only; any other line refuses the archive.
const MEMBER_COMPLAINTS: &str = "^tar: Removing leading|^tar: Exiting with failure status due to previous errors$|^tar: .*: (Member name contains .\\.\\..|Cannot (open|mknod|mkfifo|hard link to .*|create symlink to .*|mkdir|utime|change mode to .*|change ownership to .*): (Not a directory|File exists|Operation not permitted|No such file or directory|Too many levels of symbolic links|Is a directory|Invalid argument))$";

/// The restore script (see the module doc): `sh -c SCRIPT sh ROOT MARK`, the archive
/// on stdin; MARK `1` marks the volume restored for the agent's knowledge pull.
pub fn restore_script() -> String {
    let prune = excludes::find_test(true);
    let keep = excludes::find_test(false);
    format!(
        r#"set -eu
root=$1
mark=${{2:-}}
stage="$root/{STAGE}"
tree="$stage/tree"
rm -rf "$stage"
mkdir -p "$tree"
rc=0
tar -x -z -f - -C "$tree" --no-same-owner --no-same-permissions 2> "$stage/tar.log" || rc=$?
if [ "$rc" -ne 0 ] && grep -v -E "$complaints" "$stage/tar.log" >/dev/null; then
  cat "$stage/tar.log" >&2
  rm -rf "$stage"
  echo "clawctl: the archive could not be read; nothing was changed" >&2
  exit 3
fi
grep -v -E '^tar: Exiting with failure status' "$stage/tar.log" | sed -e 's/^tar: \(Removing leading .*\)$/{RENAMED}\1/' -e t -e 's/^tar: \(.*\)$/{DROPPED}by tar: \1/' || true
chmod -R u+rwX "$tree" 2>/dev/null || true
cd "$tree"
find . -mindepth 1 {prune} -prune -exec sh -c 'for p do echo "{DROPPED}${{p#./}} (never restored: excluded, or the rendered config)"; rm -rf "$p"; done' sh {{}} +
find . -mindepth 1 ! -type f ! -type d -exec sh -c 'for p do
  if [ -L "$p" ]; then k=symlink; elif [ -p "$p" ]; then k=FIFO; elif [ -S "$p" ]; then k=socket; else k=device; fi
  echo "{DROPPED}${{p#./}} ($k)"; rm -f "$p"; done' sh {{}} +
find . -type f -links +1 -exec sh -c 'for p do echo "{DROPPED}${{p#./}} (hard link)"; rm -f "$p"; done' sh {{}} +
find . -type f -perm /6000 -exec sh -c 'for p do chmod ug-s "$p"; echo "{CLEARED}setuid/setgid on ${{p#./}}"; done' sh {{}} +
cd "$root"
find . -mindepth 1 \( {keep} -o \( -path ./openclaw.json -type f \) \) -prune -o ! -type d -exec rm -f {{}} +
find . -mindepth 1 {keep} -prune -o -type d -print | sort -r | while IFS= read -r d; do rmdir "$d" 2>/dev/null || true; done
cd "$tree"
failed=0
find . -type d -exec sh -c 'for d do mkdir -p "$0/$d" && find "$d" -mindepth 1 -maxdepth 1 -type f -print0 | xargs -0 -r mv -f -t "$0/$d" || exit 1; done' "$root" {{}} + || failed=1
cd "$root"
rm -rf "$stage"
if [ "$failed" -ne 0 ]; then
  echo "clawctl: some files could not be moved in (above); the volume is partly restored" >&2
  exit 4
fi
if [ "$mark" = 1 ]; then
  rm -f "$root/{RESTORED}"
  : > "$root/{RESTORED}"
fi
echo "clawctl: restored"
"#,
        STAGE = excludes::RESTORE_STAGE,
        RESTORED = excludes::RESTORED_MARKER,
    )
    .replace("\"$complaints\"", &format!("'{MEMBER_COMPLAINTS}'"))
}

/// The restore script's report lines in its output, without the `clawctl: ` prefix.
pub fn report_lines(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| [DROPPED, CLEARED, RENAMED].iter().any(|p| l.starts_with(p)))
        .map(|l| l.trim_start_matches("clawctl: ").to_string())
        .collect()
}

/// The command that restores the archive on stdin; `mark` when the agent has a
/// knowledge bucket (see [`restore_script`]).
pub fn restore_command(mark: bool) -> Vec<String> {
    vec![
        "sh".to_string(),
        "-c".to_string(),
        restore_script(),
        "sh".to_string(),
        STATE_DIR.to_string(),
        if mark { "1" } else { "0" }.to_string(),
    ]
}

/// The helper pod for the agent whose live Deployment (JSON) this is.
pub fn helper_pod(
    deployment: &Value,
    agent: &str,
    name: &str,
    read_only: bool,
    beside_gateway: bool,
    seconds: u64,
) -> anyhow::Result<Value> {
    let pod = &deployment["spec"]["template"]["spec"];
    let namespace = deployment["metadata"]["namespace"]
        .as_str()
        .context("the Deployment has no namespace")?;
    let containers = || {
        pod["initContainers"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(pod["containers"].as_array().into_iter().flatten())
    };
    let gateway = containers()
        .find(|c| c["name"] == "gateway")
        .ok_or_else(|| anyhow!("agent {agent:?}'s Deployment has no gateway container"))?;
    let workspace = containers()
        .find(|c| c["name"] == "workspace")
        .ok_or_else(|| anyhow!("agent {agent:?}'s Deployment has no workspace init container"))?;
    // The agent's volumes: what the workspace init container mounts under the state
    // directory (not its read-only config).
    let mut mounts: Vec<Value> = workspace["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| {
            m["mountPath"]
                .as_str()
                .is_some_and(|p| p == STATE_DIR || p.starts_with(&format!("{STATE_DIR}/")))
        })
        .cloned()
        .collect();
    if mounts.is_empty() {
        return Err(anyhow!(
            "agent {agent:?}'s Deployment mounts nothing at {STATE_DIR}"
        ));
    }
    if read_only {
        for m in &mut mounts {
            m["readOnly"] = json!(true);
        }
    }
    let container = json!({
        "name": CONTAINER,
        "image": gateway["image"],
        "command": ["sleep", seconds.to_string()],
        "resources": {
            "requests": {"cpu": "10m", "memory": "32Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
        "securityContext": workspace["securityContext"],
        "volumeMounts": mounts,
    });
    let mut spec = super::pod_spec(deployment, container, beside_gateway);
    spec["activeDeadlineSeconds"] = json!(seconds);
    Ok(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                crate::names::MANAGED_BY: "clawctl",
                super::SNAPSHOT_OF_LABEL: agent,
                super::OPERATION_LABEL: if read_only { "backup" } else { "restore" },
            },
            // It runs as the agent's ServiceAccount but never reaches the bucket: EKS's
            // webhook (which goes by the ServiceAccount's role) injects no credentials
            // into it. Azure's goes by a pod label this pod does not have.
            "annotations": {
                crate::names::EKS_SKIP_ANNOTATION: CONTAINER,
            },
        },
        "spec": spec,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backup_command_excludes_the_list() {
        let cmd = backup_command();
        assert_eq!(cmd[..5], ["tar", "-c", "-z", "-f", "-"]);
        assert_eq!(cmd[5..cmd.len() - 3], excludes::tar_args(false)[..]);
        assert_eq!(cmd[cmd.len() - 3..], ["-C", STATE_DIR, "."]);
    }

    #[test]
    fn the_restore_script_prunes_the_list() {
        let script = restore_script();
        assert!(script.contains(&excludes::find_test(true)));
        assert!(script.contains(&excludes::find_test(false)));
        assert!(!script.contains("$complaints"));
    }
}
