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
//! What an archive holds is what a bucket snapshot holds ([`super::filter`]): tar's
//! `--exclude` patterns here say the same thing in tar's words, unanchored (so at any
//! depth) unless they start with `./`, with `*` matching `/` (GNU tar's defaults for
//! exclusion). A restore extracts into a staging folder on the volume first (a damaged
//! archive changes nothing), then deletes what the archive replaces (every file but the
//! excluded ones and openclaw.json) and moves the staged files in, with `mkdir -p` and
//! `mv` rather than tar, which would try to chmod the volumes' root-owned folders (a
//! volume's root belongs to root, group `fsGroup`; the pod runs as uid 1000).

use anyhow::{Context, anyhow};
use serde_json::{Value, json};

use crate::openclaw::STATE_DIR;

/// The helper pod's container.
pub const CONTAINER: &str = "brain";
/// The staging folder of a restore, on the state volume.
pub const STAGE: &str = ".clawctl-restore";

/// What an archive never holds (tar `--exclude` patterns; see the module doc), the same
/// set as [`super::filter`]'s excludes, plus the restore's staging folder.
pub const EXCLUDES: [&str; 8] = [
    "credentials",
    "./agents/*/sessions",
    "auth-profiles.json",
    "openclaw-agent.sqlite*",
    "./agents/*/agent/codex-home",
    "lost+found",
    "./.clawctl-snapshot.json",
    "./.clawctl-restore",
];

/// The command that writes the archive to stdout.
pub fn backup_command() -> Vec<String> {
    let mut cmd: Vec<String> = ["tar", "-c", "-z", "-f", "-"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    cmd.extend(EXCLUDES.iter().map(|e| format!("--exclude={e}")));
    cmd.extend(["-C".to_string(), STATE_DIR.to_string(), ".".to_string()]);
    cmd
}

/// The restore script: `sh -c RESTORE_SCRIPT sh ROOT`, the archive on stdin. The
/// `find` expression prunes exactly what [`EXCLUDES`] keeps out of an archive, and the
/// rendered openclaw.json; everything else on the volume is the brain being replaced.
pub const RESTORE_SCRIPT: &str = r#"set -eu
root=$1
stage="$root/.clawctl-restore"
excludes='--exclude=credentials --exclude=./agents/*/sessions --exclude=auth-profiles.json --exclude=openclaw-agent.sqlite* --exclude=./agents/*/agent/codex-home --exclude=lost+found --exclude=./.clawctl-snapshot.json --exclude=./.clawctl-restore --exclude=./openclaw.json'
rm -rf "$stage"
mkdir "$stage"
set -f
# shellcheck disable=SC2086
if ! tar -x -z -f - -C "$stage" --no-same-owner $excludes; then
  rm -rf "$stage"
  echo "clawctl: the archive could not be read; nothing was changed" >&2
  exit 3
fi
cd "$root"
find . -mindepth 1 \( -path ./.clawctl-restore -o -name credentials -o -path './agents/*/sessions' \
  -o -name auth-profiles.json -o -name 'openclaw-agent.sqlite*' -o -path './agents/*/agent/codex-home' \
  -o -name lost+found -o -path ./openclaw.json \) -prune -o \( -type f -o -type l \) -exec rm -f {} +
find . -mindepth 1 -depth -type d -empty ! -path ./.clawctl-restore -exec rmdir {} + 2>/dev/null || true
# Move the staged files in (a rename on the state volume; a copy onto a workspace
# volume). Not tar: it would try to chmod the volumes' root-owned folders.
cd "$stage"
find . -mindepth 1 -type d -exec sh -c 'for d do mkdir -p "$0/$d"; done' "$root" {} +
find . -mindepth 1 ! -type d -exec sh -c 'for f do mv -f "$f" "$0/$f"; done' "$root" {} +
cd "$root"
rm -rf "$stage"
echo "clawctl: restored"
"#;

/// The command that restores the archive on stdin.
pub fn restore_command() -> Vec<String> {
    ["sh", "-c", RESTORE_SCRIPT, "sh", STATE_DIR]
        .iter()
        .map(|s| s.to_string())
        .collect()
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
        },
        "spec": spec,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_restore_script_prunes_what_an_archive_never_holds() {
        for e in EXCLUDES {
            assert!(
                RESTORE_SCRIPT.contains(&format!("--exclude={e} "))
                    || RESTORE_SCRIPT.contains(&format!("--exclude={e}'")),
                "{e} is not excluded from extraction"
            );
            let pattern = e.trim_start_matches("./");
            let by_path = format!("-path './{pattern}'");
            let by_path_bare = format!("-path ./{pattern}");
            let by_name = format!("-name {pattern}");
            let by_name_quoted = format!("-name '{pattern}'");
            assert!(
                e == "./.clawctl-snapshot.json"
                    || [by_path, by_path_bare, by_name, by_name_quoted]
                        .iter()
                        .any(|p| RESTORE_SCRIPT.contains(p.as_str())),
                "{e} is not pruned from deletion"
            );
        }
        let cmd = backup_command();
        assert_eq!(cmd[..5], ["tar", "-c", "-z", "-f", "-"]);
        assert_eq!(cmd[cmd.len() - 3..], ["-C", STATE_DIR, "."]);
    }
}
