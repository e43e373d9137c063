//! Snapshots on a cluster: the snapshot Job a real API server must accept, and an
//! agent's brain carried through a local archive into another agent over `pods/exec`.
//! `snapshot.rs` runs them on the fake (whose Jobs fail where rclone would, and whose
//! exec runs GNU tar on this machine), `e2e.rs` on a cluster.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;

use crate::harness::backend::Backend;
use crate::harness::report::json_of;

/// Issue 10: a real API server accepts the snapshot Job clawctl derives from an agent's
/// Deployment (its validation is the real one: pod affinity, restart policy, TTL), and a
/// Job that cannot reach its bucket is reported as failed, kept for `kubectl logs`, with
/// the gateway left alone. The bucket's endpoint is a closed port, so no cloud is
/// needed; the agent's own knowledge pull fails the same way, so it is applied without
/// waiting.
pub(crate) fn a_snapshot_job_is_accepted_and_its_failure_reported(b: &Backend) {
    let ns = b.ns("core");
    let text = b.fleet(&["alpha"], &b.image()).replace(
        "\n  teams: [",
        "\n    knowledge: {s3: {bucket: e2e-brains, region: us-east-1, endpoint: \"http://127.0.0.1:9\"}}\
         \n  teams: [",
    );
    b.apply(&text, &["--no-wait"]).success();
    let before: Deployment = b.get(&ns, "agent-alpha").expect("deployment");

    let out = b
        .clawctl(
            &text,
            &[
                "backup",
                "fleet.yaml",
                "alpha",
                "--timeout",
                "90s",
                "-o",
                "json",
            ],
        )
        .fails(1);
    let report = json_of(&out);
    assert_eq!(report["backups"][0]["result"], "failed", "{report:#}");
    assert!(
        report["backups"][0]["why"]
            .as_str()
            .is_some_and(|w| !w.is_empty()),
        "{report:#}"
    );
    let kept = b.list::<Job>(&ns, "clawctl.io/snapshot-of=alpha");
    assert_eq!(kept.len(), 1, "the failed Job stays for its logs");
    let job = &kept[0];
    let pod = job
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .expect("pod spec");
    assert_eq!(pod.service_account_name.as_deref(), Some("agent-alpha"));
    assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
    let after: Deployment = b.get(&ns, "agent-alpha").expect("deployment");
    assert_eq!(
        before.resource_version(),
        after.resource_version(),
        "a backup never touches the gateway"
    );

    // A restore without a terminal or --yes writes nothing.
    let written = b.written(&["core"]);
    let out = b
        .clawctl(
            &text,
            &[
                "restore",
                "fleet.yaml",
                "alpha",
                "--snapshot",
                "20261202-011503",
            ],
        )
        .fails(2);
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    assert_eq!(b.written(&["core"]), written);
}

/// Issue 10: an agent's brain to a local archive and into another agent, on a real
/// cluster: a helper pod with the gateway's image beside the running gateway, tar over
/// `pods/exec`, then a restore that stops the target, replaces its brain and starts it
/// again.
pub(crate) fn a_brain_goes_to_a_local_archive_and_into_another_agent(b: &Backend) {
    let ns = b.ns("core");
    let text = b.fleet(&["alpha", "beta"], &b.image());
    b.apply(&text, &[]).success();
    let dir = tempfile::tempdir().expect("temp dir");
    let archive = dir.path().join("alpha.tar.gz");
    let archive_arg = archive.display().to_string();

    b.clawctl(
        &text,
        &[
            "backup",
            "fleet.yaml",
            "alpha",
            "--to",
            &archive_arg,
            "--timeout",
            b.pace.ready,
        ],
    )
    .success();
    let listing = std::process::Command::new("tar")
        .args(["-t", "-z", "-f", &archive_arg])
        .output()
        .expect("tar");
    assert!(listing.status.success(), "not a gzipped tar");
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(listing.contains("./workspace/SOUL.md"), "{listing}");
    assert!(!listing.contains("credentials/"), "{listing}");
    let helpers = |b: &Backend| b.list::<Pod>(&ns, "clawctl.io/snapshot-of").len();
    assert_eq!(helpers(b), 0, "the helper pod is deleted");

    let out = b
        .clawctl(
            &text,
            &[
                "restore",
                "fleet.yaml",
                "beta",
                "--from-file",
                &archive_arg,
                "--yes",
                "--timeout",
                b.pace.ready,
                "-o",
                "json",
            ],
        )
        .success();
    let report = json_of(&out);
    assert_eq!(report["restore"]["result"], "restored", "{report:#}");
    let d: Deployment = b.get(&ns, "agent-beta").expect("deployment");
    assert!(
        !d.annotations().contains_key("clawctl.io/suspended"),
        "resumed"
    );
    assert_eq!(d.status.and_then(|s| s.ready_replicas), Some(1));
    assert_eq!(helpers(b), 0);
}
