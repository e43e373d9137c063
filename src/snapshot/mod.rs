//! What clawctl knows about snapshots of an agent's brain (its volume, secrets left out)
//! in its knowledge bucket: where one lives, what it holds, the scripts that take and
//! restore it, and the one-pod Job that runs them beside the agent.
//!
//! Layout: `<bucket>/<prefix>/.clawctl-snapshots/<agent>/<id>/` holds a copy of
//! OpenClaw's state directory, and `.clawctl-snapshot.json` (written last, so a
//! snapshot without it is unfinished and never restored). That is beside the knowledge
//! folders, inside none of them: a `readOnly` agent that shares a writer's folder
//! (`knowledge.from`) holds credentials scoped to that folder, which reach no snapshot,
//! while the writer's are scoped to its folder and its own snapshots (the README's
//! recommended IAM policy, tested against moto in `tests/cli/snapshot_iam.rs`).
//!
//! Snapshots taken before this layout live inside the agent's knowledge folder,
//! `<bucket>/<prefix>/<folder>/.clawctl-snapshots/<agent>/<id>/` ([`legacy_remote`]):
//! a restore looks there when the new place has no such snapshot, so they stay
//! restorable; the knowledge sync never takes them (they are excluded).
//!
//! What a snapshot holds: everything on the agent's volumes (a multi-agent gateway's
//! workspaces included) except what never leaves the pod for a bucket
//! ([`crate::brain::excludes`]: channel credentials, device identity, session
//! transcripts, model keys, the filesystems' `lost+found`). A restore makes the volume
//! equal to the snapshot for those files, deleting what the snapshot lacks, and leaves
//! the excluded ones and the rendered `openclaw.json` as they are: the agent keeps its
//! channel logins, and the fleet's config still wins. It lands only regular files and
//! folders: what else is on the volume outside the excluded paths (a symlink, a FIFO)
//! is removed first, so nothing is written through a link.
//!
//! The Job is derived from the agent's live Deployment: its ServiceAccount (the cloud
//! identity), security context, scheduling and the knowledge pull container (the rclone
//! image, remote configuration, credentials and volume mounts), so it reaches the
//! bucket exactly as the agent's own sync does. Local archives: [`archive`].

pub mod archive;

use anyhow::{Context, anyhow};
use serde_json::{Value, json};

use crate::brain::excludes;
use crate::knowledge::{self, REMOTE};

/// The folder of snapshots inside an agent's knowledge folder.
pub const SNAPSHOT_DIR: &str = excludes::SNAPSHOTS_DIR;
/// The file a finished snapshot holds at its root.
pub const MARKER: &str = excludes::SNAPSHOT_MARKER;
/// The Job's container.
pub const CONTAINER: &str = "snapshot";
/// Label on a snapshot Job and its pod: the agent it is for.
pub const SNAPSHOT_OF_LABEL: &str = "clawctl.io/snapshot-of";
/// Label on a snapshot Job and its pod: `backup` or `restore`.
pub const OPERATION_LABEL: &str = "clawctl.io/snapshot-operation";
/// A finished Job stays this long for `kubectl logs` before Kubernetes deletes it
/// (clawctl deletes a successful one itself).
pub const TTL_AFTER_FINISHED_SECONDS: u32 = 24 * 60 * 60;

/// Which way a Job copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Backup,
    Restore,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Backup => "backup",
            Operation::Restore => "restore",
        }
    }
}

/// Why a snapshot was taken (recorded in its marker).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// `clawctl backup`.
    Manual,
    /// Before `rollout` moved the agent's image.
    PreRollout,
    /// Before `rollback` moved the agent's image.
    PreRollback,
    /// Before `restore` or `clone` replaced the agent's volume.
    PreRestore,
}

/// A new snapshot id from the time: `20261202-011503` (UTC), sortable.
pub fn new_id(now: k8s_openapi::jiff::Timestamp) -> String {
    now.strftime("%Y%m%d-%H%M%S").to_string()
}

/// Why `id` cannot name a snapshot, if it cannot.
pub fn id_problem(id: &str) -> Option<String> {
    let ok = !id.is_empty()
        && id.len() <= 40
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-')
        && !id.ends_with('-');
    (!ok).then(|| {
        format!(
            "{id:?} is not a snapshot id: expected what `clawctl backup` printed, \
             such as 20261202-011503"
        )
    })
}

/// An agent's bucket as its Deployment shows it: the knowledge pull container's remote
/// and configuration, and whether the pod can write (it has a push container).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// `knowledge:<bucket>/<prefix>/<folder>`.
    pub remote: String,
    /// The same as a URL: `s3://...`, `gs://...`.
    pub url: String,
    pub writable: bool,
    /// The remote's configuration (`RCLONE_CONFIG_KNOWLEDGE_*`): two agents with the same
    /// reach the same service.
    pub service: Vec<(String, String)>,
}

/// The bucket of the agent whose Deployment (JSON) this is, if it has one.
pub fn bucket(deployment: &Value) -> Option<Bucket> {
    let pod = &deployment["spec"]["template"]["spec"];
    let containers = || pod["initContainers"].as_array().into_iter().flatten();
    let pull = containers().find(|c| c["name"] == knowledge::PULL_CONTAINER)?;
    let env: Vec<(String, String)> = pull["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            Some((
                e["name"].as_str()?.to_string(),
                e["value"].as_str()?.to_string(),
            ))
        })
        .collect();
    let get = |name: &str| env.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let remote = get("KNOWLEDGE_REMOTE")?;
    let path = remote.strip_prefix(&format!("{REMOTE}:"))?.to_string();
    let prefix = format!("RCLONE_CONFIG_{}_", REMOTE.to_uppercase());
    let scheme = match get(&format!("{prefix}TYPE")).as_deref() {
        Some("s3") => "s3",
        _ => "gs",
    };
    Some(Bucket {
        url: format!("{scheme}://{path}"),
        remote,
        writable: containers().any(|c| c["name"] == knowledge::PUSH_CONTAINER),
        service: env
            .into_iter()
            .filter(|(n, _)| n.starts_with(&prefix))
            .collect(),
    })
}

/// The parent of a knowledge folder's path: `<bucket>/<prefix>` (or `<bucket>`).
/// The folder is one name (`knowledge.from` is a DNS label), the last of the path.
fn beside_folder(folder: &str) -> &str {
    match folder.rsplit_once('/') {
        // `knowledge:bucket/folder` -> `knowledge:bucket`; `s3://bucket/folder` ->
        // `s3://bucket`.
        Some((parent, _)) if !parent.ends_with(':') && !parent.ends_with("//") => parent,
        _ => folder,
    }
}

/// The rclone path of a snapshot: `knowledge:<bucket>/<prefix>/.clawctl-snapshots/<agent>/<id>`,
/// beside the knowledge folders and inside none of them.
pub fn remote(bucket: &Bucket, agent: &str, id: &str) -> String {
    format!(
        "{}/{SNAPSHOT_DIR}/{agent}/{id}",
        beside_folder(&bucket.remote)
    )
}

/// [`remote`] as a URL, for people.
pub fn url(bucket: &Bucket, agent: &str, id: &str) -> String {
    format!("{}/{SNAPSHOT_DIR}/{agent}/{id}", beside_folder(&bucket.url))
}

/// Where a snapshot taken before the current layout is: inside the agent's knowledge
/// folder, `<folder remote>/.clawctl-snapshots/<agent>/<id>`. Read only by restores.
pub fn legacy_remote(bucket: &Bucket, agent: &str, id: &str) -> String {
    format!("{}/{SNAPSHOT_DIR}/{agent}/{id}", bucket.remote)
}

/// rclone filter rules (`--filter-from`) of a snapshot: the excludes (the marker among
/// them), on a restore also the rendered openclaw.json and the keys no volume can hold
/// ([`excludes::RCLONE_DOT_NAMES`]); then everything else.
pub fn filter(operation: Operation) -> String {
    let restore = operation == Operation::Restore;
    let mut out = excludes::rclone_rules(restore);
    if restore {
        out.push_str(excludes::RCLONE_DOT_NAMES);
    }
    out.push_str("+ **\n");
    out
}

/// The backup script: copy the volume into the snapshot's folder, then write the marker.
/// Static text: every value comes from the environment. rclone checks each upload's
/// checksum (S3's MD5, GCS's CRC32C) before it counts it copied.
pub const BACKUP_SCRIPT: &str = r#"set -eu
printf '%s\n' "$SNAPSHOT_FILTER" > "$HOME/snapshot.filter"
rclone copy "$SNAPSHOT_LOCAL" "$SNAPSHOT_REMOTE" --filter-from "$HOME/snapshot.filter" --skip-links --log-level NOTICE
printf '%s\n' "$SNAPSHOT_MARKER" | rclone rcat "$SNAPSHOT_REMOTE/.clawctl-snapshot.json"
echo "clawctl: snapshot written to $SNAPSHOT_REMOTE"
"#;

/// The restore script: find the snapshot, at `$SNAPSHOT_REMOTE` or else (taken before
/// the current layout) at `$SNAPSHOT_LEGACY_REMOTE`, finished (its marker, found by
/// listing: `rclone cat` of a missing object prints nothing and succeeds); without
/// one, list the agent's finished snapshots at both places and fail. Then say, by key,
/// what it will not restore: keys no volume can hold (an empty, `.` or `..` name: the
/// sync leaves them out, [`excludes::RCLONE_DOT_NAMES`]) and excluded paths (or the
/// rendered config), whoever wrote them into the bucket. Then remove what
/// is neither a regular file nor a folder from the volume outside the excluded paths
/// (rclone would write through a linked folder, and skips links and FIFOs it finds),
/// saying so; then make the volume equal to the snapshot for the files a snapshot
/// holds (`sync`: what the snapshot lacks is deleted; excluded files are neither copied
/// nor deleted; a bucket holds only files, so only regular files land); then mark the
/// volume restored for the next knowledge pull (`crate::knowledge`). The rclone image's
/// busybox `find` runs it.
pub fn restore_script() -> String {
    format!(
        r#"set -eu
finished() {{
  [ "$(rclone lsf "$1" --files-only --max-depth 1 --include "/{MARKER}" 2>/dev/null || true)" = "{MARKER}" ]
}}
listing() {{
  ids=$(rclone lsf "${{1%/*}}" --dirs-only --max-depth 1 2>/dev/null | tr -d / | tr '\n' ' ' || true)
  echo "clawctl: snapshots under ${{1%/*}}: ${{ids:-none}}" >&2
}}
from=
if finished "$SNAPSHOT_REMOTE"; then
  from=$SNAPSHOT_REMOTE
elif [ -n "${{SNAPSHOT_LEGACY_REMOTE:-}}" ] && finished "$SNAPSHOT_LEGACY_REMOTE"; then
  from=$SNAPSHOT_LEGACY_REMOTE
fi
if [ -z "$from" ]; then
  echo "clawctl: no finished snapshot at $SNAPSHOT_REMOTE${{SNAPSHOT_LEGACY_REMOTE:+ or $SNAPSHOT_LEGACY_REMOTE}}" >&2
  listing "$SNAPSHOT_REMOTE"
  if [ -n "${{SNAPSHOT_LEGACY_REMOTE:-}}" ]; then listing "$SNAPSHOT_LEGACY_REMOTE"; fi
  exit 3
fi
printf '%s\n' "$SNAPSHOT_FILTER" > "$HOME/snapshot.filter"
rclone lsf -R --files-only "$from" > "$HOME/snapshot.all"
rclone lsf -R --files-only "$from" --filter-from "$HOME/snapshot.filter" > "$HOME/snapshot.kept"
awk -v marker="{MARKER}" 'FILENAME == ARGV[1] {{ kept[$0] = 1; next }}
  $0 == marker {{ next }}
  {{ name = $0; gsub("．", ".", name) }}
  $0 ~ /^\/|\/\/|(^|\/)(．|．．)(\/|$)/ {{ print "clawctl: dropped " name " (a key no volume holds: an empty, . or .. name)"; next }}
  !($0 in kept) {{ print "clawctl: dropped " name " (never restored: excluded, or the rendered config)" }}' "$HOME/snapshot.kept" "$HOME/snapshot.all"
rm -f "$HOME/snapshot.all" "$HOME/snapshot.kept"
cd "$SNAPSHOT_LOCAL"
find . -mindepth 1 {prune} -prune -o ! -type f ! -type d -exec sh -c 'for p do echo "clawctl: dropped ${{p#./}} (not a regular file or folder)"; rm -f "$p"; done' sh {{}} +
rclone sync "$from" "$SNAPSHOT_LOCAL" --filter-from "$HOME/snapshot.filter" --skip-links --log-level NOTICE
rm -f "$SNAPSHOT_LOCAL/{RESTORED}"
: > "$SNAPSHOT_LOCAL/{RESTORED}"
echo "clawctl: restored from $from"
"#,
        prune = excludes::find_test(false),
        RESTORED = excludes::RESTORED_MARKER,
    )
}

/// What a Job is asked to do.
#[derive(Debug, Clone)]
pub struct JobSpec<'a> {
    pub operation: Operation,
    /// The agent whose volume the Job mounts (its rendered Deployment).
    pub agent: &'a str,
    /// The snapshot's rclone path ([`remote`]).
    pub remote: String,
    /// A restore also looks here ([`legacy_remote`]) when `remote` has no finished
    /// snapshot.
    pub legacy_remote: Option<String>,
    /// The marker's JSON (backups).
    pub marker: Option<Value>,
    /// The Job's name.
    pub name: String,
    /// Kubernetes fails the Job after this long.
    pub deadline_seconds: u64,
    /// The gateway runs: the Job must share its node (the volumes are ReadWriteOnce).
    pub beside_gateway: bool,
}

/// The Job's name: `<deployment>-<operation>-<id>`, shortened with a hash to stay a
/// valid label value (the Job controller labels its pod `job-name`: 63 characters).
pub fn job_name(deployment: &str, operation: Operation, id: &str) -> String {
    let full = format!("{deployment}-{}-{id}", operation.as_str());
    if full.len() <= 63 {
        return full;
    }
    use sha2::Digest;
    let hash = sha2::Sha256::digest(full.as_bytes());
    let hex: String = hash.iter().take(3).map(|b| format!("{b:02x}")).collect();
    let tail = format!("-{}-{id}-{hex}", operation.as_str());
    let keep = 63usize.saturating_sub(tail.len());
    let head: String = deployment.chars().take(keep).collect();
    format!("{}{tail}", head.trim_end_matches('-'))
}

/// The Job for `spec`, from the agent's rendered Deployment. Fails when the Deployment
/// has no knowledge pull container (the agent has no bucket, or a template override
/// left it out).
pub fn job(deployment: &Value, spec: &JobSpec<'_>) -> anyhow::Result<Value> {
    let pod = &deployment["spec"]["template"]["spec"];
    let namespace = deployment["metadata"]["namespace"]
        .as_str()
        .context("the Deployment has no namespace")?;
    let pull = pod["initContainers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == knowledge::PULL_CONTAINER)
        .ok_or_else(|| {
            anyhow!(
                "agent {:?} has no knowledge bucket (its Deployment has no {} container): \
                 snapshots live in the bucket set by `knowledge`",
                spec.agent,
                knowledge::PULL_CONTAINER
            )
        })?;

    let mut env: Vec<Value> = pull["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| {
            !e["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("KNOWLEDGE_"))
        })
        .cloned()
        .collect();
    let local = pull["env"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["name"] == "KNOWLEDGE_LOCAL")
        .and_then(|e| e["value"].as_str())
        .unwrap_or(crate::openclaw::STATE_DIR)
        .to_string();
    env.push(json!({"name": "SNAPSHOT_REMOTE", "value": spec.remote}));
    if let Some(legacy) = &spec.legacy_remote {
        env.push(json!({"name": "SNAPSHOT_LEGACY_REMOTE", "value": legacy}));
    }
    env.push(json!({"name": "SNAPSHOT_LOCAL", "value": local}));
    env.push(json!({"name": "SNAPSHOT_FILTER", "value": filter(spec.operation)}));
    if let Some(marker) = &spec.marker {
        env.push(json!({"name": "SNAPSHOT_MARKER", "value": marker.to_string()}));
    }

    // Only the volumes the pull container mounts; a backup mounts the agent's volumes
    // read-only.
    let mut mounts: Vec<Value> = pull["volumeMounts"].as_array().cloned().unwrap_or_default();
    let scratch = knowledge::TMP_VOLUME;
    if spec.operation == Operation::Backup {
        for m in &mut mounts {
            if m["name"] != scratch {
                m["readOnly"] = json!(true);
            }
        }
    }
    let script = match spec.operation {
        Operation::Backup => BACKUP_SCRIPT.to_string(),
        Operation::Restore => restore_script(),
    };
    let mut container = json!({
        "name": CONTAINER,
        "image": pull["image"],
        "command": ["/bin/sh", "-c", script],
        "env": env,
        "resources": pull["resources"],
        "securityContext": pull["securityContext"],
        // A failure's last log lines become the pod's termination message, which
        // clawctl reports (no log access needed).
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": mounts,
    });
    if !pull["envFrom"].is_null() {
        container["envFrom"] = pull["envFrom"].clone();
    }

    let mut labels = serde_json::Map::new();
    labels.insert(crate::names::MANAGED_BY.into(), json!("clawctl"));
    labels.insert(SNAPSHOT_OF_LABEL.into(), json!(spec.agent));
    labels.insert(OPERATION_LABEL.into(), json!(spec.operation.as_str()));
    let mut pod_labels = labels.clone();
    // What a cloud identity's webhook needs on the pod (Azure's `use` label). Not the
    // Deployment's skip annotations: the Job's one container is the one that needs
    // the role.
    if let Some(template) = deployment["spec"]["template"]["metadata"]["labels"].as_object() {
        for (k, v) in template {
            if k.contains("workload.identity") {
                pod_labels.insert(k.clone(), v.clone());
            }
        }
    }

    let pod_spec = pod_spec(deployment, container, spec.beside_gateway);

    Ok(json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": spec.name,
            "namespace": namespace,
            "labels": labels,
        },
        "spec": {
            // One try: a failed copy is reported, not repeated behind the user's back.
            "backoffLimit": 0,
            "activeDeadlineSeconds": spec.deadline_seconds,
            "ttlSecondsAfterFinished": TTL_AFTER_FINISHED_SECONDS,
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": pod_spec,
            },
        },
    }))
}

/// The pod spec of a snapshot's Job or helper pod around `container`: from the agent's
/// Deployment its ServiceAccount (its cloud identity), pod security context and
/// scheduling, and only the volumes `container` mounts; with `beside_gateway`, pod
/// affinity to the gateway's node (ReadWriteOnce volumes attach to one node).
pub(crate) fn pod_spec(deployment: &Value, container: Value, beside_gateway: bool) -> Value {
    let pod = &deployment["spec"]["template"]["spec"];
    let mounted: Vec<&str> = container["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["name"].as_str())
        .collect();
    let volumes: Vec<Value> = pod["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["name"].as_str().is_some_and(|n| mounted.contains(&n)))
        .cloned()
        .collect();
    let mut spec = json!({
        "restartPolicy": "Never",
        "serviceAccountName": pod["serviceAccountName"],
        "automountServiceAccountToken": false,
        "enableServiceLinks": false,
        "securityContext": pod["securityContext"],
        "volumes": volumes,
        "containers": [container],
    });
    for key in ["nodeSelector", "tolerations", "priorityClassName"] {
        if !pod[key].is_null() {
            spec[key] = pod[key].clone();
        }
    }
    if beside_gateway {
        spec["affinity"] = json!({"podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [{
                "labelSelector": deployment["spec"]["selector"],
                "topologyKey": "kubernetes.io/hostname",
            }],
        }});
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_keep_secrets_out_and_the_rendered_config_in_place() {
        let backup = filter(Operation::Backup);
        assert!(backup.starts_with(&crate::brain::excludes::rclone_rules(false)));
        assert!(backup.contains("- /credentials/**\n"));
        assert!(backup.contains("- /lost+found/**\n"));
        assert!(!backup.contains("openclaw.json"));
        assert!(backup.ends_with("+ **\n"));
        let restore = filter(Operation::Restore);
        assert!(restore.contains("- /openclaw.json\n- /openclaw.json/**\n"));
        assert!(restore.contains("- /.clawctl-snapshot.json\n"));
        assert!(restore.contains(crate::brain::excludes::RCLONE_DOT_NAMES));
        assert!(!backup.contains(crate::brain::excludes::RCLONE_DOT_NAMES));
    }

    #[test]
    fn ids_are_what_backup_prints() {
        let t: k8s_openapi::jiff::Timestamp = "2026-12-02T01:15:03Z".parse().expect("time");
        assert_eq!(new_id(t), "20261202-011503");
        assert!(id_problem("20261202-011503").is_none());
        for bad in ["", "../x", "a/b", "-a", "A1", &"1".repeat(41)] {
            assert!(id_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn job_names_stay_label_values() {
        assert_eq!(
            job_name("agent-research", Operation::Backup, "20261202-011503"),
            "agent-research-backup-20261202-011503"
        );
        let long = format!("agent-{}", "x".repeat(60));
        let name = job_name(&long, Operation::Restore, "20261202-011503");
        assert!(name.len() <= 63, "{name}");
        assert!(name.contains("-restore-20261202-011503-"), "{name}");
        assert_ne!(
            name,
            job_name(&format!("{long}y"), Operation::Restore, "20261202-011503")
        );
    }

    fn deployment(with_pull: bool) -> Value {
        let mut init = vec![json!({"name": "workspace", "image": "openclaw"})];
        if with_pull {
            init.insert(
                0,
                json!({
                    "name": "knowledge-pull",
                    "image": "rclone:1",
                    "env": [
                        {"name": "RCLONE_CONFIG_KNOWLEDGE_TYPE", "value": "s3"},
                        {"name": "KNOWLEDGE_REMOTE", "value": "knowledge:b/p/a"},
                        {"name": "KNOWLEDGE_LOCAL", "value": "/home/node/.openclaw"},
                        {"name": "KNOWLEDGE_FILTER", "value": "- **"},
                    ],
                    "envFrom": [{"secretRef": {"name": "keys"}}],
                    "securityContext": {"runAsNonRoot": true},
                    "resources": {"limits": {"memory": "256Mi"}},
                    "volumeMounts": [
                        {"name": "state", "mountPath": "/home/node/.openclaw"},
                        {"name": "knowledge-tmp", "mountPath": "/tmp"},
                        {"name": "workspace-work", "mountPath": "/home/node/.openclaw/workspace-work"},
                    ],
                }),
            );
        }
        json!({
            "metadata": {"name": "agent-a", "namespace": "team-x"},
            "spec": {
                "selector": {"matchLabels": {"clawctl.io/agent": "a"}},
                "template": {
                    "metadata": {"labels": {"clawctl.io/agent": "a", "azure.workload.identity/use": "true"}},
                    "spec": {
                        "serviceAccountName": "agent-a",
                        "securityContext": {"fsGroup": 1000},
                        "tolerations": [{"key": "gpu", "operator": "Exists"}],
                        "initContainers": init,
                        "containers": [{"name": "gateway"}],
                        "volumes": [
                            {"name": "state", "persistentVolumeClaim": {"claimName": "agent-a"}},
                            {"name": "config", "configMap": {"name": "agent-a"}},
                            {"name": "knowledge-tmp", "emptyDir": {}},
                            {"name": "workspace-work", "persistentVolumeClaim": {"claimName": "agent-a-work"}},
                        ],
                    },
                },
            },
        })
    }

    #[test]
    fn a_backup_job_reaches_the_bucket_as_the_agent_does_and_only_reads_its_volumes() {
        let spec = JobSpec {
            operation: Operation::Backup,
            agent: "a",
            remote: "knowledge:b/p/.clawctl-snapshots/a/1".into(),
            legacy_remote: None,
            marker: Some(json!({"agent": "a"})),
            name: "agent-a-backup-1".into(),
            deadline_seconds: 600,
            beside_gateway: true,
        };
        let job = job(&deployment(true), &spec).expect("job");
        let pod = &job["spec"]["template"]["spec"];
        assert_eq!(job["metadata"]["namespace"], "team-x");
        assert_eq!(pod["serviceAccountName"], "agent-a");
        assert_eq!(pod["restartPolicy"], "Never");
        assert_eq!(pod["tolerations"][0]["key"], "gpu");
        let c = &pod["containers"][0];
        assert_eq!(c["image"], "rclone:1");
        assert_eq!(c["envFrom"][0]["secretRef"]["name"], "keys");
        let names: Vec<&str> = c["env"]
            .as_array()
            .expect("env")
            .iter()
            .filter_map(|e| e["name"].as_str())
            .collect();
        assert!(names.contains(&"RCLONE_CONFIG_KNOWLEDGE_TYPE"));
        assert!(names.contains(&"SNAPSHOT_MARKER"));
        assert!(!names.iter().any(|n| n.starts_with("KNOWLEDGE_")));
        for m in c["volumeMounts"].as_array().expect("mounts") {
            let scratch = m["name"] == "knowledge-tmp";
            assert_eq!(m["readOnly"].as_bool().unwrap_or(false), !scratch, "{m}");
        }
        let volumes: Vec<&str> = pod["volumes"]
            .as_array()
            .expect("volumes")
            .iter()
            .filter_map(|v| v["name"].as_str())
            .collect();
        assert_eq!(volumes, ["state", "knowledge-tmp", "workspace-work"]);
        assert_eq!(
            pod["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]["labelSelector"]
                ["matchLabels"]["clawctl.io/agent"],
            "a"
        );
        let labels = &job["spec"]["template"]["metadata"]["labels"];
        assert_eq!(labels["azure.workload.identity/use"], "true");
        assert!(
            job["spec"]["template"]["metadata"]["annotations"].is_null(),
            "no skip list: its container needs the bucket role"
        );
        assert!(
            labels.get("clawctl.io/agent").is_none(),
            "the gateway's Service must not select it"
        );
    }

    #[test]
    fn the_bucket_is_read_from_the_deployment() {
        let b = bucket(&deployment(true)).expect("bucket");
        assert_eq!(b.remote, "knowledge:b/p/a");
        assert_eq!(b.url, "s3://b/p/a");
        assert!(!b.writable, "no push container");
        assert_eq!(
            b.service,
            [("RCLONE_CONFIG_KNOWLEDGE_TYPE".to_string(), "s3".to_string())]
        );
        assert_eq!(remote(&b, "a", "1"), "knowledge:b/p/.clawctl-snapshots/a/1");
        assert_eq!(url(&b, "a", "1"), "s3://b/p/.clawctl-snapshots/a/1");
        assert_eq!(
            legacy_remote(&b, "a", "1"),
            "knowledge:b/p/a/.clawctl-snapshots/a/1"
        );
        // Without a prefix the folder is the bucket's top level.
        let top = Bucket {
            remote: "knowledge:b/a".into(),
            url: "gs://b/a".into(),
            ..b
        };
        assert_eq!(remote(&top, "a", "1"), "knowledge:b/.clawctl-snapshots/a/1");
        assert_eq!(url(&top, "a", "1"), "gs://b/.clawctl-snapshots/a/1");
        assert!(bucket(&deployment(false)).is_none());
    }

    #[test]
    fn a_restore_job_writes_and_an_agent_without_a_bucket_has_none() {
        let spec = JobSpec {
            operation: Operation::Restore,
            agent: "a",
            remote: "knowledge:x".into(),
            legacy_remote: Some("knowledge:y".into()),
            marker: None,
            name: "n".into(),
            deadline_seconds: 60,
            beside_gateway: false,
        };
        let job = job(&deployment(true), &spec).expect("job");
        let pod = &job["spec"]["template"]["spec"];
        assert!(pod["affinity"].is_null());
        assert!(
            pod["containers"][0]["volumeMounts"]
                .as_array()
                .expect("mounts")
                .iter()
                .all(|m| m["readOnly"].is_null())
        );
        let err = super::job(&deployment(false), &spec).expect_err("no bucket");
        assert!(format!("{err}").contains("no knowledge bucket"), "{err}");
    }
}
