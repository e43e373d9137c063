//! backup, restore and clone against the fake API server (which runs Jobs as the Job
//! controller and a kubelet would): the Jobs created and deleted, the order of writes
//! (snapshot, suspend, restore, resume), the confirmation, failures and what they leave,
//! and rollout's snapshots before images move. What the Jobs' scripts do to bytes is
//! `snapshot_bucket.rs`'s.

use fake_apiserver::FakeApiServer;
use serde_json::Value;

use crate::harness::backend::on_the_fake;
use crate::harness::fake::{IMAGE, apply, clawctl, fleet, server, writes_but_lease};

on_the_fake!(snapshot: a_snapshot_job_is_accepted_and_its_failure_reported);

on_the_fake!(
    ignore = "needs rclone, moto, GNU tar or root (what .ci/run installs): cargo test --test cli -- --ignored --skip e2e";
    snapshot: a_brain_goes_to_a_local_archive_and_into_another_agent,
);

/// alpha and gamma write their own folders; beta reads alpha's.
fn kb_fleet() -> String {
    format!(
        "apiVersion: clawctl.io/v1alpha1\nkind: Fleet\nmetadata: {{name: demo}}\nspec:\n  image: {IMAGE}\n  \
         adoptNamespaces: [core]\n  defaults:\n    model: {{primary: anthropic/claude-sonnet-4-20250514}}\n    \
         secrets: [demo-gateway]\n    \
         knowledge: {{s3: {{bucket: kb-1, region: us-east-1}}, prefix: brains}}\n  \
         teams: [{{name: core}}]\n  agents:\n    \
         - {{name: alpha, soulInline: \"You are alpha.\"}}\n    \
         - {{name: beta, soulInline: \"You are beta.\", knowledge: {{from: alpha, mode: readOnly}}}}\n    \
         - {{name: gamma, soulInline: \"You are gamma.\"}}\n"
    )
}

fn jobs(server: &FakeApiServer) -> Vec<Value> {
    server.list("batch/v1", "Job", Some("core"))
}

fn deployment(server: &FakeApiServer, agent: &str) -> Value {
    server
        .get(
            "apps/v1",
            "Deployment",
            Some("core"),
            &format!("agent-{agent}"),
        )
        .expect("deployment")
}

/// The writes of a run, shortened to `create job`, `delete job`, `patch deployment/x`.
fn steps(server: &FakeApiServer) -> Vec<String> {
    writes_but_lease(server)
        .iter()
        .filter_map(|w| {
            let (method, path) = w.split_once(' ')?;
            let path = path.split('?').next().unwrap_or(path);
            if path.contains("/jobs") {
                Some(format!("{} job", method.to_lowercase()))
            } else {
                path.split("/deployments/")
                    .nth(1)
                    .map(|rest| format!("{} deployment/{rest}", method.to_lowercase()))
            }
        })
        .collect()
}

fn json(out: &crate::harness::Output) -> Value {
    serde_json::from_str(&out.stdout).expect("json report")
}

#[test]
fn backup_runs_a_job_beside_the_gateway_and_cleans_it_up() {
    let server = server();
    let text = kb_fleet();
    apply(&server, &text, &[]).success();
    server.clear_requests();

    let out = clawctl(
        &server,
        &text,
        &[
            "backup",
            "fleet.yaml",
            "alpha",
            "--timeout",
            "30s",
            "-o",
            "json",
        ],
    )
    .success();
    let report = json(&out);
    let b = &report["backups"][0];
    assert_eq!(b["agent"], "alpha");
    assert_eq!(b["result"], "taken", "{report:#}");
    assert_eq!(b["reason"], "manual");
    let id = b["id"].as_str().expect("id");
    assert_eq!(
        b["location"],
        format!("s3://kb-1/brains/.clawctl-snapshots/alpha/{id}")
    );
    assert_eq!(steps(&server), ["post job", "delete job"]);
    assert!(jobs(&server).is_empty(), "a finished Job is deleted");
    let pods = server.list("v1", "Pod", Some("core"));
    assert!(!pods.is_empty(), "the gateways' pods");
    assert!(
        pods.iter()
            .all(|p| p["metadata"]["labels"]["clawctl.io/snapshot-of"].is_null()),
        "and its pod with it"
    );
}

#[test]
fn a_failed_backup_says_why_and_keeps_its_job_for_the_logs() {
    let server = server();
    let text = kb_fleet();
    apply(&server, &text, &[]).success();
    server.crash_images("rclone");
    server.clear_requests();
    let out = clawctl(
        &server,
        &text,
        &["backup", "fleet.yaml", "alpha", "gamma", "--timeout", "30s"],
    )
    .fails(1);
    assert!(out.stdout.contains("fake failure"), "{}", out.stdout);
    assert!(out.stdout.contains("exited 1"), "{}", out.stdout);
    let kept = jobs(&server);
    assert_eq!(kept.len(), 2, "both failed Jobs stay until their TTL");
    let job = kept
        .iter()
        .find(|j| j["metadata"]["labels"]["clawctl.io/snapshot-of"] == "alpha")
        .expect("alpha's Job");
    assert_eq!(job["spec"]["backoffLimit"], 0);
    assert_eq!(job["spec"]["ttlSecondsAfterFinished"], 86400);
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(
        pod["serviceAccountName"], "agent-alpha",
        "the agent's identity"
    );
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(
        pod["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]["topologyKey"],
        "kubernetes.io/hostname",
        "on the running gateway's node: its volume is ReadWriteOnce"
    );
    let c = &pod["containers"][0];
    assert!(c["image"].as_str().expect("image").contains("rclone"));
    let env = |name: &str| {
        c["env"]
            .as_array()
            .expect("env")
            .iter()
            .find(|e| e["name"] == name)
            .map(|e| e["value"].as_str().unwrap_or_default().to_string())
    };
    assert!(
        env("SNAPSHOT_REMOTE")
            .expect("remote")
            .starts_with("knowledge:kb-1/brains/.clawctl-snapshots/alpha/")
    );
    assert_eq!(
        env("RCLONE_CONFIG_KNOWLEDGE_REGION").as_deref(),
        Some("us-east-1")
    );
    let state: Vec<&Value> = c["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .filter(|m| m["name"] == "state")
        .collect();
    assert_eq!(state.len(), 1, "{c}");
    assert_eq!(state[0]["readOnly"], true, "a backup only reads the volume");
    let steps = steps(&server);
    assert_eq!(
        steps.iter().filter(|s| *s == "post job").count(),
        2,
        "{steps:?}"
    );
    assert!(
        steps.iter().all(|s| !s.contains("deployment")),
        "a backup never touches the gateway: {steps:?}"
    );
}

#[test]
fn backup_refuses_agents_that_cannot_write_a_bucket_before_creating_anything() {
    let server = server();
    let text = kb_fleet();
    apply(&server, &text, &[]).success();
    server.clear_requests();
    let out = clawctl(&server, &text, &["backup", "fleet.yaml", "beta"]).fails(1);
    assert!(out.stdout.contains("read-only"), "{}", out.stdout);
    let out = clawctl(&server, &text, &["backup", "fleet.yaml", "alpah"]).fails(2);
    assert!(
        out.stderr.contains("did you mean \"alpha\""),
        "{}",
        out.stderr
    );
    assert!(writes_but_lease(&server).is_empty());

    let plain = fleet(&["solo"], IMAGE);
    apply(&server, &plain, &[]).success();
    server.clear_requests();
    let out = clawctl(&server, &plain, &["backup", "fleet.yaml", "solo"]).fails(1);
    assert!(out.stdout.contains("no knowledge bucket"), "{}", out.stdout);
    assert!(writes_but_lease(&server).is_empty());
}

#[test]
fn restore_asks_then_snapshots_suspends_restores_and_resumes() {
    let server = server();
    let text = kb_fleet();
    apply(&server, &text, &[]).success();
    server.clear_requests();
    let args = [
        "restore",
        "fleet.yaml",
        "gamma",
        "--snapshot",
        "20261202-011503",
        "--timeout",
        "30s",
    ];

    // No terminal and no --yes: refused, nothing written.
    let out = clawctl(&server, &text, &args).fails(2);
    assert!(out.stderr.contains("type \"gamma\""), "{}", out.stderr);
    assert!(writes_but_lease(&server).is_empty());

    let mut yes = args.to_vec();
    yes.extend(["--yes", "-o", "json"]);
    let out = clawctl(&server, &text, &yes).success();
    let report = json(&out);
    assert_eq!(report["backups"][0]["reason"], "pre-restore", "{report:#}");
    assert_eq!(report["backups"][0]["result"], "taken");
    assert_eq!(report["restore"]["result"], "restored");
    assert_eq!(report["restore"]["snapshot"], "20261202-011503");
    assert_eq!(
        steps(&server),
        [
            "post job",
            "delete job",
            "patch deployment/agent-gamma",
            "post job",
            "delete job",
            "patch deployment/agent-gamma",
        ],
        "the safety snapshot, suspend, the restore, resume"
    );
    let d = deployment(&server, "gamma");
    assert!(d["metadata"]["annotations"]["clawctl.io/suspended"].is_null());
    assert_eq!(d["spec"]["replicas"], 1, "resumed");
    assert_eq!(d["status"]["readyReplicas"], 1, "and waited for");
}

#[test]
fn a_failed_restore_leaves_the_agent_suspended_and_a_failed_safety_snapshot_replaces_nothing() {
    let server = server();
    let text = kb_fleet();
    apply(&server, &text, &[]).success();
    server.crash_images("rclone");
    server.clear_requests();
    let base = [
        "restore",
        "fleet.yaml",
        "alpha",
        "--snapshot",
        "20261202-011503",
        "--timeout",
        "30s",
        "--yes",
    ];
    let out = clawctl(&server, &text, &base).fails(1);
    assert!(
        out.stdout.contains("nothing was replaced"),
        "{}",
        out.stdout
    );
    assert_eq!(steps(&server), ["post job"], "only the failed snapshot");
    assert!(
        deployment(&server, "alpha")["metadata"]["annotations"]["clawctl.io/suspended"].is_null()
    );

    server.clear_requests();
    let mut no_snapshot = base.to_vec();
    no_snapshot.push("--no-snapshot");
    let out = clawctl(&server, &text, &no_snapshot).fails(1);
    assert!(out.stdout.contains("left suspended"), "{}", out.stdout);
    assert_eq!(
        steps(&server),
        ["patch deployment/agent-alpha", "post job"],
        "suspended, the restore failed, not resumed"
    );
    let d = deployment(&server, "alpha");
    assert_eq!(d["metadata"]["annotations"]["clawctl.io/suspended"], "true");
    assert_eq!(d["spec"]["replicas"], 0);
}

#[test]
fn clone_snapshots_the_source_and_restores_it_into_the_target() {
    let server = server();
    let text = kb_fleet();
    apply(&server, &text, &[]).success();
    server.clear_requests();
    let out = clawctl(
        &server,
        &text,
        &[
            "clone",
            "fleet.yaml",
            "alpha",
            "gamma",
            "--yes",
            "--timeout",
            "30s",
            "-o",
            "json",
        ],
    )
    .success();
    let report = json(&out);
    let backups = report["backups"].as_array().expect("backups");
    assert_eq!(backups[0]["agent"], "alpha", "{report:#}");
    assert_eq!(backups[1]["agent"], "gamma");
    assert_eq!(backups[1]["reason"], "pre-restore");
    assert_eq!(report["restore"]["agent"], "gamma");
    assert_eq!(report["restore"]["fromAgent"], "alpha");
    assert_eq!(report["restore"]["snapshot"], backups[0]["id"]);
    // The two snapshots run at once; then suspend, restore, resume.
    let mut steps = steps(&server);
    steps[..4].sort();
    assert_eq!(
        steps,
        [
            "delete job",
            "delete job",
            "post job",
            "post job",
            "patch deployment/agent-gamma",
            "post job",
            "delete job",
            "patch deployment/agent-gamma",
        ]
    );

    // Refused before anything is read or written.
    server.clear_requests();
    let out = clawctl(
        &server,
        &text,
        &["clone", "fleet.yaml", "alpha", "alpha", "--yes"],
    )
    .fails(2);
    assert!(out.stderr.contains("into itself"), "{}", out.stderr);
    let out = clawctl(
        &server,
        &text,
        &[
            "clone",
            "fleet.yaml",
            "alpha",
            "gamma",
            "--snapshot",
            "../x",
            "--yes",
        ],
    )
    .fails(2);
    assert!(out.stderr.contains("not a snapshot id"), "{}", out.stderr);
    // The read-only agent cannot take the snapshot a clone starts from.
    let out = clawctl(
        &server,
        &text,
        &["clone", "fleet.yaml", "beta", "gamma", "--yes"],
    )
    .fails(2);
    assert!(out.stderr.contains("--snapshot"), "{}", out.stderr);
    assert!(writes_but_lease(&server).is_empty());
}

#[test]
fn rollout_snapshots_every_moved_agent_before_any_image_moves() {
    let server = server();
    let text = kb_fleet();
    apply(&server, &text, &[]).success();
    server.clear_requests();
    let out = clawctl(
        &server,
        &text,
        &[
            "rollout",
            "fleet.yaml",
            "--tag",
            "2026.5.1",
            "--yes",
            "--soak",
            "100ms",
            "--timeout",
            "30s",
        ],
    )
    .success();
    assert!(out.stderr.contains("no snapshot of beta"), "{}", out.stderr);
    assert!(
        out.stdout.contains("snapshot before rollout of alpha: "),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("snapshot before rollout of gamma: "),
        "{}",
        out.stdout
    );
    let steps = steps(&server);
    let first_move = steps
        .iter()
        .position(|s| s.contains("deployment"))
        .expect("images moved");
    assert_eq!(
        steps[..first_move],
        ["post job", "post job", "delete job", "delete job"],
        "{steps:?}"
    );
}

#[test]
fn a_failed_snapshot_stops_a_rollout_before_anything_moves() {
    let server = server();
    let text = kb_fleet();
    apply(&server, &text, &[]).success();
    server.crash_images("rclone");
    server.clear_requests();
    let out = clawctl(
        &server,
        &text,
        &[
            "rollout",
            "fleet.yaml",
            "--tag",
            "2026.5.1",
            "--yes",
            "--timeout",
            "30s",
        ],
    )
    .fails(1);
    assert!(out.stderr.contains("--no-snapshot"), "{}", out.stderr);
    let steps = steps(&server);
    assert!(steps.iter().any(|s| s == "post job"), "{steps:?}");
    assert!(steps.iter().all(|s| !s.contains("deployment")), "{steps:?}");
    assert_eq!(
        deployment(&server, "alpha")["spec"]["template"]["spec"]["containers"][0]["image"],
        IMAGE
    );
}

#[test]
fn rollback_snapshots_agents_whose_image_moves_back() {
    let server = server();
    let text = kb_fleet();
    apply(&server, &text, &[]).success();
    let rollout = [
        "rollout",
        "fleet.yaml",
        "--tag",
        "2026.5.1",
        "--yes",
        "--soak",
        "100ms",
        "--timeout",
        "30s",
        "--no-snapshot",
    ];
    clawctl(&server, &text, &rollout).success();
    server.clear_requests();
    let out = clawctl(
        &server,
        &text,
        &[
            "rollback",
            "fleet.yaml",
            "--agent",
            "alpha",
            "--agent",
            "beta",
            "--yes",
            "--timeout",
            "30s",
        ],
    )
    .success();
    assert!(out.stderr.contains("no snapshot of beta"), "{}", out.stderr);
    assert!(
        out.stdout.contains("snapshot before rollback of alpha: "),
        "{}",
        out.stdout
    );
    let writes = steps(&server);
    let first_move = writes
        .iter()
        .position(|s| s.contains("deployment"))
        .expect("images moved back");
    assert_eq!(
        writes[..first_move],
        ["post job", "delete job"],
        "{writes:?}"
    );

    // And without one, when asked.
    clawctl(&server, &text, &rollout).success();
    server.clear_requests();
    clawctl(
        &server,
        &text,
        &[
            "rollback",
            "fleet.yaml",
            "--agent",
            "alpha",
            "--yes",
            "--timeout",
            "30s",
            "--no-snapshot",
        ],
    )
    .success();
    let steps = steps(&server);
    assert!(
        steps.iter().any(|s| s == "patch deployment/agent-alpha"),
        "{steps:?}"
    );
    assert!(steps.iter().all(|s| !s.contains("job")), "{steps:?}");
}
