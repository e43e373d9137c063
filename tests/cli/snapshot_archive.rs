//! Snapshots as local archives (`backup --to`, `restore --from-file`): the real
//! commands through the fake API server's `pods/exec`, whose handler here runs what
//! clawctl asked for (GNU tar and `sh`) on temp folders standing in for the agents'
//! volumes, so the bytes go the whole way: out of one "pod" into a local file, from the
//! file into another. Compared byte for byte.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use fake_apiserver::FakeApiServer;

use crate::harness::fake::{IMAGE, apply, clawctl, fleet, server, writes_but_lease};
use crate::harness::volumes::{as_a_volume, run_on_host};
use crate::knowledge::write;
use crate::snapshot_bucket::{files, never_in_a_snapshot};

/// Pods and Deployment writes, shortened.
fn steps(server: &FakeApiServer) -> Vec<String> {
    writes_but_lease(server)
        .iter()
        .filter_map(|w| {
            let (method, path) = w.split_once(' ')?;
            let path = path.split('?').next().unwrap_or(path);
            let method = method.to_lowercase();
            if path.ends_with("/exec") {
                Some("exec".to_string())
            } else if path.contains("/pods") {
                Some(format!("{method} pod"))
            } else {
                path.split("/deployments/")
                    .nth(1)
                    .map(|rest| format!("{method} deployment/{rest}"))
            }
        })
        .collect()
}

#[test]
#[ignore = "needs rclone, moto, GNU tar or root (what .ci/run installs): cargo test --test cli -- --ignored --skip e2e"]
fn an_agent_goes_to_a_local_archive_and_back_byte_for_byte() {
    if Command::new("tar").arg("--version").output().is_err() {
        panic!("cannot run (archive round trip: no tar): install what .ci/run installs")
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let alpha = tmp.path().join("alpha");
    let gamma = tmp.path().join("gamma");
    // alpha's brain, and what never leaves its volume.
    write(
        &alpha.join("workspace/MEMORY.md"),
        "# Memory\nthe user likes tea\n",
    );
    write(
        &alpha.join("workspace/memory/2026-12-01.md"),
        "learned today\n",
    );
    write(&alpha.join("workspace/notes with spaces.md"), "ü ✓\n");
    write(&alpha.join("workspace/empty.md"), "");
    let binary: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(alpha.join("workspace/memory/index.bin"), &binary).expect("write");
    write(
        &alpha.join("state/openclaw.sqlite"),
        "SQLite format 3\0state",
    );
    write(&alpha.join("openclaw.json"), "{\"alpha\": true}\n");
    write(&alpha.join("workspace-work/MEMORY.md"), "work memory\n");
    write(
        &alpha.join("credentials/whatsapp/creds.json"),
        "{\"alpha\": 1}\n",
    );
    write(&alpha.join("agents/main/sessions/s.jsonl"), "{}\n");
    write(
        &alpha.join("agents/main/agent/openclaw-agent.sqlite"),
        "keys",
    );
    write(
        &alpha.join("agents/main/agent/auth-profiles.json"),
        "{\"k\": 1}\n",
    );
    // gamma's own: replaced, except its login, transcripts and rendered config.
    write(&gamma.join("workspace/MEMORY.md"), "# Memory\ngamma's\n");
    write(&gamma.join("workspace/memory/old.md"), "gamma only\n");
    write(&gamma.join("credentials/telegram.json"), "{\"gamma\": 1}\n");
    write(
        &gamma.join("agents/main/sessions/g.jsonl"),
        "{\"gamma\": 1}\n",
    );
    write(&gamma.join("openclaw.json"), "{\"gamma\": true}\n");
    write(&gamma.join("workspace-work/old.md"), "gamma's work\n");
    let gamma_before = files(&gamma);
    // A multi-agent gateway's workspace volume, mounted inside the state volume.
    as_a_volume(&alpha, &["workspace-work"]);
    as_a_volume(&gamma, &["workspace-work"]);

    let server = server();
    let volumes = BTreeMap::from([
        ("alpha".to_string(), alpha.clone()),
        ("gamma".to_string(), gamma.clone()),
    ]);
    server.on_exec(move |call| run_on_host(&call, &volumes));
    let text = fleet(&["alpha", "gamma"], IMAGE);
    apply(&server, &text, &[]).success();

    // Backup to a file.
    server.clear_requests();
    let archive = tmp.path().join("alpha.tar.gz");
    let archive_arg = archive.display().to_string();
    let out = clawctl(
        &server,
        &text,
        &[
            "backup",
            "fleet.yaml",
            "alpha",
            "--to",
            &archive_arg,
            "--timeout",
            "30s",
            "-o",
            "json",
        ],
    )
    .success();
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(report["backups"][0]["location"], archive_arg, "{report:#}");
    assert_eq!(
        steps(&server),
        ["post pod", "exec", "delete pod"],
        "a helper pod, then gone"
    );
    assert!(!PathBuf::from(format!("{archive_arg}.partial")).exists());
    let calls = server.exec_calls();
    assert_eq!(calls[0].container, "brain");
    assert_eq!(calls[0].command[0], "tar");
    let pods = server.list("v1", "Pod", Some("core"));
    assert!(!pods.is_empty(), "the gateway's pod");
    assert!(
        pods.iter()
            .all(|p| p["metadata"]["labels"]["clawctl.io/snapshot-of"].is_null()),
        "the helper pod is deleted"
    );

    // Never over an existing file.
    server.clear_requests();
    let out = clawctl(
        &server,
        &text,
        &["backup", "fleet.yaml", "alpha", "--to", &archive_arg],
    )
    .fails(1);
    assert!(out.stdout.contains("exists"), "{}", out.stdout);
    assert!(steps(&server).is_empty());

    // Restore it into gamma.
    server.clear_requests();
    let out = clawctl(
        &server,
        &text,
        &[
            "restore",
            "fleet.yaml",
            "gamma",
            "--from-file",
            &archive_arg,
            "--yes",
            "--timeout",
            "30s",
            "-o",
            "json",
        ],
    )
    .success();
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(report["restore"]["result"], "restored", "{report:#}");
    // No bucket: the safety copy is an archive beside the one restored.
    let safety = report["backups"][0]["location"]
        .as_str()
        .expect("safety copy");
    assert!(
        safety.ends_with("-pre-restore.tar.gz") && Path::new(safety).is_file(),
        "{report:#}"
    );
    assert_eq!(
        steps(&server),
        [
            "post pod",
            "exec",
            "delete pod",
            "patch deployment/agent-gamma",
            "post pod",
            "exec",
            "delete pod",
            "patch deployment/agent-gamma",
        ],
        "safety archive, suspend, restore, resume"
    );
    let got = files(&gamma);
    let carried: Vec<(String, Vec<u8>)> = files(&alpha)
        .into_iter()
        .filter(|(path, _)| !never_in_a_snapshot(path) && path != "openclaw.json")
        .collect();
    assert!(!carried.is_empty(), "alpha has nothing to carry");
    for (path, bytes) in carried {
        assert_eq!(
            got.get(&path),
            Some(&bytes),
            "{path} differs after the restore"
        );
    }
    assert!(
        !got.contains_key("workspace/memory/old.md"),
        "the brain was replaced"
    );
    for kept in [
        "credentials/telegram.json",
        "agents/main/sessions/g.jsonl",
        "openclaw.json",
    ] {
        assert_eq!(
            got.get(kept),
            gamma_before.get(kept),
            "{kept} is gamma's own"
        );
    }
    assert!(
        !got.keys().any(|p| p.starts_with("credentials/whatsapp")),
        "no login cloned"
    );
    assert!(!got.keys().any(|p| p.contains("openclaw-agent.sqlite")));
    assert!(
        !gamma.join(".clawctl-restore").exists(),
        "the staging folder is gone"
    );

    // And back again from the safety copy: gamma as it was.
    let out = clawctl(
        &server,
        &text,
        &[
            "restore",
            "fleet.yaml",
            "gamma",
            "--from-file",
            safety,
            "--yes",
            "--timeout",
            "30s",
            "--no-snapshot",
        ],
    );
    out.success();
    assert_eq!(
        files(&gamma),
        gamma_before,
        "the safety copy undoes the restore"
    );

    // A damaged archive changes nothing and leaves the agent suspended.
    let junk = tmp.path().join("junk.tar.gz");
    std::fs::write(&junk, b"not an archive").expect("write");
    let out = clawctl(
        &server,
        &text,
        &[
            "restore",
            "fleet.yaml",
            "gamma",
            "--from-file",
            &junk.display().to_string(),
            "--yes",
            "--timeout",
            "30s",
            "--no-snapshot",
        ],
    )
    .fails(1);
    assert!(out.stdout.contains("left suspended"), "{}", out.stdout);
    assert!(out.stdout.contains("nothing was changed"), "{}", out.stdout);
    assert_eq!(files(&gamma), gamma_before);
}

#[test]
fn restore_from_a_missing_file_is_refused_before_anything_is_read() {
    let server = server();
    let text = fleet(&["alpha"], IMAGE);
    let out = clawctl(
        &server,
        &text,
        &[
            "restore",
            "fleet.yaml",
            "alpha",
            "--from-file",
            "/nonexistent.tar.gz",
            "--yes",
        ],
    )
    .fails(2);
    assert!(out.stderr.contains("--from-file"), "{}", out.stderr);
    let out = clawctl(&server, &text, &["restore", "fleet.yaml", "alpha", "--yes"]).fails(2);
    assert!(
        out.stderr.contains("--snapshot") && out.stderr.contains("--from-file"),
        "{}",
        out.stderr
    );
    let out = clawctl(
        &server,
        &text,
        &["backup", "fleet.yaml", "alpha", "beta", "--to", "x.tar.gz"],
    )
    .fails(2);
    assert!(out.stderr.contains("exactly one agent"), "{}", out.stderr);
    let requests = server.requests();
    assert!(requests.iter().all(|r| r.verb != "create"), "{requests:?}");
}

#[test]
#[ignore = "needs rclone, moto, GNU tar or root (what .ci/run installs): cargo test --test cli -- --ignored --skip e2e"]
fn backup_to_a_file_creates_it_exclusively_privately_and_never_through_a_link() {
    use std::os::unix::fs::PermissionsExt;
    if Command::new("tar").arg("--version").output().is_err() {
        panic!("cannot run (backup --to: no tar): install what .ci/run installs")
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let alpha = tmp.path().join("alpha");
    write(&alpha.join("workspace/MEMORY.md"), "private\n");
    as_a_volume(&alpha, &[]);
    let server = server();
    let volumes = BTreeMap::from([("alpha".to_string(), alpha.clone())]);
    server.on_exec(move |call| run_on_host(&call, &volumes));
    let text = fleet(&["alpha"], IMAGE);
    apply(&server, &text, &[]).success();
    let backup = |to: &Path| {
        clawctl(
            &server,
            &text,
            &[
                "backup",
                "fleet.yaml",
                "alpha",
                "--to",
                &to.display().to_string(),
                "--timeout",
                "30s",
            ],
        )
    };

    // A dangling symlink where the archive goes: refused, its target never created.
    let victim = tmp.path().join("victim");
    let link = tmp.path().join("link.tar.gz");
    std::os::unix::fs::symlink(&victim, &link).expect("ln");
    let out = backup(&link).fails(1);
    assert!(out.stdout.contains("exists"), "{}", out.stdout);
    assert!(!victim.exists(), "written through a symlink");

    // A symlink where the partial file goes: the exclusive create refuses it.
    let file = tmp.path().join("alpha.tar.gz");
    let partial = tmp.path().join("alpha.tar.gz.partial");
    std::os::unix::fs::symlink(&victim, &partial).expect("ln");
    let out = backup(&file).fails(1);
    assert!(out.stdout.contains("cannot create"), "{}", out.stdout);
    assert!(!victim.exists(), "written through a symlink");
    assert!(!file.exists());
    assert!(
        std::fs::symlink_metadata(&partial).is_ok_and(|m| m.file_type().is_symlink()),
        "someone else's file removed"
    );
    std::fs::remove_file(&partial).expect("rm");

    // Then: the archive, readable by its owner only.
    backup(&file).success();
    let mode = std::fs::metadata(&file)
        .expect("archive")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    assert!(!partial.exists());
}
