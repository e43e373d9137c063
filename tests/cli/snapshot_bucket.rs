//! Snapshot round trips, byte for byte: the Jobs `backup`, `restore` and `clone` create
//! (built by `clawctl::snapshot::job` from the rendered Deployment, as the commands
//! build them), their scripts run with `sh` and a real rclone against a real
//! S3-compatible server on loopback (moto), temp folders standing in for the volumes.
//! Skipped, saying why, when rclone or moto is missing (.ci/run installs both).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use clawctl::snapshot::{self, JobSpec, Operation};
use clawctl::yaml::parse_documents;
use serde_json::{Value, json};

use crate::harness::Test;
use crate::knowledge::{
    FLEET, Keys, command_for, container, find_moto, on_path, rclone, setup_bucket, start_moto,
    write,
};

/// The Job's container for `operation` on `agent`, from the rendered Deployment.
pub(crate) fn job_container(
    docs: &[Value],
    agent: &str,
    operation: Operation,
    remote: &str,
) -> Value {
    job_container_legacy(docs, agent, operation, remote, None)
}

/// [`job_container`], a restore also looking at `legacy` (snapshots taken before they
/// moved out of the knowledge folder).
pub(crate) fn job_container_legacy(
    docs: &[Value],
    agent: &str,
    operation: Operation,
    remote: &str,
    legacy: Option<&str>,
) -> Value {
    let deployment = docs
        .iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == format!("agent-{agent}"))
        .expect("deployment");
    let spec = JobSpec {
        operation,
        agent,
        remote: remote.to_string(),
        legacy_remote: legacy.map(str::to_string),
        marker: (operation == Operation::Backup).then(|| json!({"agent": agent})),
        name: format!("agent-{agent}-{}", operation.as_str()),
        deadline_seconds: 600,
        beside_gateway: false,
    };
    let job = snapshot::job(deployment, &spec).expect("job");
    job["spec"]["template"]["spec"]["containers"][0].clone()
}

/// The container's script with its environment (knowledge's [`command_for`]), the
/// volume at `local`.
pub(crate) fn run(c: &Value, local: &Path, home: &Path, keys: &Keys) -> std::process::Output {
    command_for(c, local, home, keys)
        .env("SNAPSHOT_LOCAL", local)
        .output()
        .expect("run the script")
}

/// Every file under `root` (relative path -> bytes).
pub(crate) fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .expect("inside")
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    out
}

/// What the one exclude list keeps out of every snapshot.
pub(crate) fn never_in_a_snapshot(path: &str) -> bool {
    clawctl::brain::excludes::is_excluded(path, false)
}

#[test]
#[ignore = "needs rclone, moto, GNU tar or root (what .ci/run installs): cargo test --test cli -- --ignored --skip e2e"]
fn snapshots_round_trip_byte_for_byte_through_a_real_s3_server() {
    if on_path("rclone").is_none() {
        panic!(
            "cannot run (snapshot round trip: rclone is not installed (.ci/run installs it)): install what .ci/run installs"
        )
    }
    let Some(moto_bin) = find_moto() else {
        panic!(
            "cannot run (snapshot round trip: moto_server is not installed (.ci/run installs it)): install what .ci/run installs"
        )
    };
    let (_moto, port) = start_moto(&moto_bin);
    let (writer, reader) = setup_bucket(&moto_bin, port);
    let fleet = FLEET.replace("ENDPOINT", &format!("http://127.0.0.1:{port}"));
    let out = Test::new()
        .file("fleet.yaml", &fleet)
        .args(&["render", "fleet.yaml"])
        .success();
    let docs = parse_documents(&out.stdout).expect("rendered output parses");

    let tmp = tempfile::tempdir().expect("temp dir");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).expect("mkdir");
    let id = "20261202-011503";
    let remote = format!("knowledge:kb-test/fleets/kb/.clawctl-snapshots/writer/{id}");

    // The writer's volume: a brain worth keeping, binary and odd names included, and
    // what never leaves the pod.
    let a = tmp.path().join("writer");
    write(
        &a.join("workspace/MEMORY.md"),
        "# Memory\nthe user likes tea\n",
    );
    write(&a.join("workspace/memory/2026-12-01.md"), "learned today\n");
    write(
        &a.join("workspace/skills/triage/SKILL.md"),
        "---\nname: triage\n---\n",
    );
    write(&a.join("workspace/notes with spaces.md"), "ü ✓\n");
    write(&a.join("workspace/empty.md"), "");
    let binary: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(a.join("workspace/memory/index.bin"), &binary).expect("write");
    write(
        &a.join("agents/main/agent/models.json"),
        "{\"providers\": {}}\n",
    );
    write(&a.join(".clawctl/SOUL.md.sha256"), "abc\n");
    write(&a.join("openclaw.json"), "{\"writer\": true}\n");
    write(&a.join("credentials/slack.json"), "{\"token\": \"xoxb\"}\n");
    write(&a.join("agents/main/sessions/today.jsonl"), "{}\n");
    write(
        &a.join("agents/main/agent/auth-profiles.json"),
        "{\"k\": \"sk-ant\"}\n",
    );
    write(&a.join("lost+found/#1234"), "fsck\n");
    // 2026.9 keeps model auth profiles and transcripts in the agent's database.
    write(
        &a.join("agents/main/agent/openclaw-agent.sqlite"),
        "SQLite format 3\0keys",
    );
    write(
        &a.join("agents/main/agent/openclaw-agent.sqlite-wal"),
        "wal",
    );
    write(&a.join("agents/main/agent/codex-home/auth.json"), "{}\n");
    write(&a.join("state/openclaw.sqlite"), "SQLite format 3\0state");

    // Backup.
    let backup = job_container(&docs, "writer", Operation::Backup, &remote);
    let out = run(&backup, &a, &home, &writer);
    assert!(
        out.status.success(),
        "backup: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = rclone(&backup, &home, &writer, &["lsf", "-R", &remote]);
    assert!(
        listing.lines().any(|l| l == ".clawctl-snapshot.json"),
        "{listing}"
    );
    let snapshot: Vec<&str> = listing
        .lines()
        .filter(|f| *f != ".clawctl-snapshot.json")
        .collect();
    assert!(!snapshot.is_empty(), "{listing}");
    for f in snapshot {
        assert!(
            !never_in_a_snapshot(f),
            "{f} must never be in a snapshot: {listing}"
        );
    }
    let kept: BTreeMap<String, Vec<u8>> = files(&a)
        .into_iter()
        .filter(|(p, _)| !never_in_a_snapshot(p))
        .collect();
    assert!(kept.len() > 1, "{:?}", kept.keys());

    // Restore into a volume that moved on: a changed file, a new one, its own channel
    // login and its own rendered config.
    let b = tmp.path().join("restored");
    write(
        &b.join("workspace/MEMORY.md"),
        "# Memory\nforgot everything\n",
    );
    write(
        &b.join("workspace/memory/2026-12-02.md"),
        "after the snapshot\n",
    );
    write(&b.join("credentials/slack.json"), "{\"token\": \"mine\"}\n");
    write(&b.join("openclaw.json"), "{\"rendered\": \"now\"}\n");
    let restore = job_container(&docs, "writer", Operation::Restore, &remote);
    let out = run(&restore, &b, &home, &writer);
    assert!(
        out.status.success(),
        "restore: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = files(&b);
    for (path, bytes) in &kept {
        if path == "openclaw.json" {
            continue;
        }
        assert_eq!(
            got.get(path),
            Some(bytes),
            "{path} differs after the restore"
        );
    }
    assert!(
        !got.contains_key("workspace/memory/2026-12-02.md"),
        "a restore returns the brain to the snapshot: later files go"
    );
    assert_eq!(
        got["credentials/slack.json"], b"{\"token\": \"mine\"}\n",
        "own login kept"
    );
    assert_eq!(
        got["openclaw.json"], b"{\"rendered\": \"now\"}\n",
        "rendered config kept"
    );
    assert!(!got.contains_key(".clawctl-snapshot.json"));

    // A snapshot that does not exist (or never finished) changes nothing.
    let before = files(&b);
    let missing = job_container(
        &docs,
        "writer",
        Operation::Restore,
        "knowledge:kb-test/fleets/kb/.clawctl-snapshots/writer/20991231-000000",
    );
    let out = run(&missing, &b, &home, &writer);
    assert!(!out.status.success(), "a missing snapshot restored");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no finished snapshot"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(files(&b), before, "a refused restore touched the volume");

    // A snapshot taken before snapshots moved out of the knowledge folder is restored
    // from there; a missing one lists the agent's snapshots at both places.
    let old_id = "20260101-000000";
    let old = format!("knowledge:kb-test/fleets/kb/writer/.clawctl-snapshots/writer/{old_id}");
    let out = run(
        &job_container(&docs, "writer", Operation::Backup, &old),
        &a,
        &home,
        &writer,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = tmp.path().join("from-old");
    write(&d.join("workspace/MEMORY.md"), "# Memory\nnewer\n");
    let restore_old = job_container_legacy(
        &docs,
        "writer",
        Operation::Restore,
        &format!("knowledge:kb-test/fleets/kb/.clawctl-snapshots/writer/{old_id}"),
        Some(&old),
    );
    let out = run(&restore_old, &d, &home, &writer);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("restored from {old}")),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        files(&d)["workspace/MEMORY.md"],
        kept["workspace/MEMORY.md"]
    );
    let missing_both = job_container_legacy(
        &docs,
        "writer",
        Operation::Restore,
        "knowledge:kb-test/fleets/kb/.clawctl-snapshots/writer/20991231-000000",
        Some("knowledge:kb-test/fleets/kb/writer/.clawctl-snapshots/writer/20991231-000000"),
    );
    let before = files(&b);
    let out = run(&missing_both, &b, &home, &writer);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(&format!(
            "snapshots under knowledge:kb-test/fleets/kb/.clawctl-snapshots/writer: {id}"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "snapshots under knowledge:kb-test/fleets/kb/writer/.clawctl-snapshots/writer: {old_id}"
        )),
        "{err}"
    );
    assert_eq!(files(&b), before, "a refused restore touched the volume");

    // Clone: the reader's Job, with the reader's read-only keys, into its own volume.
    let c = tmp.path().join("clone");
    write(
        &c.join("credentials/telegram.json"),
        "{\"bot\": \"reader\"}\n",
    );
    let clone = job_container(&docs, "reader", Operation::Restore, &remote);
    let out = run(&clone, &c, &home, &reader);
    assert!(
        out.status.success(),
        "clone: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = files(&c);
    for (path, bytes) in &kept {
        if path == "openclaw.json" {
            continue;
        }
        assert_eq!(got.get(path), Some(bytes), "{path} differs in the clone");
    }
    assert_eq!(got["credentials/telegram.json"], b"{\"bot\": \"reader\"}\n");
    assert!(
        !got.contains_key("credentials/slack.json"),
        "no login is cloned"
    );

    // The read-only keys cannot write a snapshot.
    let reader_backup = job_container(
        &docs,
        "reader",
        Operation::Backup,
        &format!("knowledge:kb-test/fleets/kb/.clawctl-snapshots/reader/{id}"),
    );
    let out = run(&reader_backup, &c, &home, &reader);
    assert!(!out.status.success(), "read-only keys wrote a snapshot");
}

/// `cmd` as the pod runs it: uid and gid 1000, when the tests run as root.
pub(crate) fn as_pod(cmd: &mut Command) -> Command {
    if !crate::harness::volumes::as_pod_user() {
        return std::mem::replace(cmd, Command::new("true"));
    }
    let mut out = Command::new("setpriv");
    out.args(["--reuid=1000", "--regid=1000", "--clear-groups", "--"])
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .env_clear();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            out.env(k, v);
        }
    }
    out
}

/// Gives `path` (recursively) to the pod's user, when the tests run as root.
pub(crate) fn own(path: &Path) {
    if crate::harness::volumes::as_pod_user() {
        let ok = Command::new("chown")
            .args(["-R", "1000:1000"])
            .arg(path)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "chown {}", path.display());
    }
}

/// Runs the rendered push container until its final push (SIGTERM).
fn push_once(push: &Value, state: &Path, home: &Path, keys: &Keys) {
    let mut child = as_pod(&mut command_for(push, state, home, keys))
        .env("KNOWLEDGE_INTERVAL", "3600")
        .spawn()
        .expect("push");
    // Its trap is set before its first sleep.
    std::thread::sleep(std::time::Duration::from_millis(700));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(killed);
    assert!(child.wait().expect("wait").success(), "final push failed");
}

#[test]
#[ignore = "needs rclone, moto, GNU tar or root (what .ci/run installs): cargo test --test cli -- --ignored --skip e2e"]
fn a_restore_lasts_through_the_next_pulls_and_pushes() {
    if on_path("rclone").is_none() {
        panic!(
            "cannot run (restore that lasts: rclone is not installed (.ci/run installs it)): install what .ci/run installs"
        )
    }
    let Some(moto_bin) = find_moto() else {
        panic!(
            "cannot run (restore that lasts: moto_server is not installed (.ci/run installs it)): install what .ci/run installs"
        )
    };
    let (_moto, port) = start_moto(&moto_bin);
    let (writer, _) = setup_bucket(&moto_bin, port);
    let fleet = FLEET.replace("ENDPOINT", &format!("http://127.0.0.1:{port}"));
    let out = Test::new()
        .file("fleet.yaml", &fleet)
        .args(&["render", "fleet.yaml"])
        .success();
    let docs = parse_documents(&out.stdout).expect("rendered output parses");
    let pull = container(&docs, "writer", "knowledge-pull").expect("pull");
    let push = container(&docs, "writer", "knowledge-push").expect("push");
    let tmp = tempfile::tempdir().expect("temp dir");
    let home = tmp.path().join("home");
    let state = tmp.path().join("state");
    std::fs::create_dir_all(&home).expect("mkdir");
    let pull_run = |label: &str| {
        own(&state);
        own(&home);
        let out = as_pod(&mut command_for(&pull, &state, &home, &writer))
            .output()
            .expect("pull");
        assert!(
            out.status.success(),
            "{label}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };

    // The brain at the snapshot, pushed.
    write(&state.join("workspace/MEMORY.md"), "MEMORY=v1\n");
    write(&state.join("openclaw.json"), "{}\n");
    pull_run("first start");
    push_once(&push, &state, &home, &writer);
    let id = "20261202-011503";
    let remote = format!("knowledge:kb-test/fleets/kb/.clawctl-snapshots/writer/{id}");
    let backup = job_container(&docs, "writer", Operation::Backup, &remote);
    own(&state);
    let out = as_pod(command_for(&backup, &state, &home, &writer).env("SNAPSHOT_LOCAL", &state))
        .output()
        .expect("backup");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The agent moves on: a newer MEMORY.md and a new file, both pushed.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    write(&state.join("workspace/MEMORY.md"), "MEMORY=v2\n");
    write(&state.join("workspace/later.md"), "after the snapshot\n");
    push_once(&push, &state, &home, &writer);

    // The restore (the agent suspended), then the resume: pull, run, push; and a later
    // restart's pull.
    let restore = job_container(&docs, "writer", Operation::Restore, &remote);
    own(&state);
    let out = as_pod(command_for(&restore, &state, &home, &writer).env("SNAPSHOT_LOCAL", &state))
        .output()
        .expect("restore");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        state.join(".clawctl-restored").is_file(),
        "the restore marks the volume"
    );
    let said = pull_run("resume");
    assert!(said.contains("restored"), "{said}");
    assert!(
        !state.join(".clawctl-restored").exists(),
        "the mark is used once"
    );
    push_once(&push, &state, &home, &writer);
    pull_run("a later restart");
    let read = |p: &str| std::fs::read_to_string(state.join(p)).ok();
    assert_eq!(read("workspace/MEMORY.md").as_deref(), Some("MEMORY=v1\n"));
    assert_eq!(read("workspace/later.md"), None, "a removed file came back");
    let listing = rclone(
        &pull,
        &home,
        &writer,
        &["lsf", "-R", "knowledge:kb-test/fleets/kb/writer/workspace"],
    );
    assert!(!listing.contains("later.md"), "{listing}");
    let remote_memory = rclone(
        &pull,
        &home,
        &writer,
        &[
            "cat",
            "knowledge:kb-test/fleets/kb/writer/workspace/MEMORY.md",
        ],
    );
    assert_eq!(remote_memory, "MEMORY=v1\n");
    // The snapshots, beside the knowledge, were not touched by the reset.
    let snapshots = rclone(&pull, &home, &writer, &["lsf", "-R", &remote]);
    assert!(snapshots.contains(".clawctl-snapshot.json"), "{snapshots}");
}

#[test]
#[ignore = "needs rclone, moto, GNU tar or root (what .ci/run installs): cargo test --test cli -- --ignored --skip e2e"]
fn a_pull_from_a_bucket_that_does_not_exist_fails_with_the_reason() {
    if on_path("rclone").is_none() {
        panic!(
            "cannot run (missing bucket: rclone is not installed (.ci/run installs it)): install what .ci/run installs"
        )
    }
    let Some(moto_bin) = find_moto() else {
        panic!(
            "cannot run (missing bucket: moto_server is not installed (.ci/run installs it)): install what .ci/run installs"
        )
    };
    let (_moto, port) = start_moto(&moto_bin);
    let (writer, _) = setup_bucket(&moto_bin, port);
    let tmp = tempfile::tempdir().expect("temp dir");
    let home = tmp.path().join("home");
    let state = tmp.path().join("state");
    std::fs::create_dir_all(&home).expect("mkdir");
    std::fs::create_dir_all(&state).expect("mkdir");
    own(&home);
    own(&state);
    for (bucket, ok) in [("kb-test", true), ("kb-typo", false)] {
        let fleet = FLEET
            .replace("ENDPOINT", &format!("http://127.0.0.1:{port}"))
            .replace("{bucket: kb-test,", &format!("{{bucket: {bucket},"));
        let out = Test::new()
            .file("fleet.yaml", &fleet)
            .args(&["render", "fleet.yaml"])
            .success();
        let docs = parse_documents(&out.stdout).expect("rendered output parses");
        let pull = container(&docs, "writer", "knowledge-pull").expect("pull");
        let out = as_pod(&mut command_for(&pull, &state, &home, &writer))
            .output()
            .expect("pull");
        let stderr = String::from_utf8_lossy(&out.stderr);
        // A new agent's empty folder in an existing bucket is a start from nothing.
        assert_eq!(out.status.success(), ok, "{bucket}: {stderr}");
        if !ok {
            assert!(stderr.contains("does not exist"), "{stderr}");
            assert!(!stderr.contains(&writer.1), "a secret was printed");
        }
    }
}
