//! Hostile archives: a corpus built here (members without `./`, absolute, with `..`,
//! symlinks out, `openclaw.json` as a symlink, a hard link, a FIFO, a device, setuid
//! and setgid files, deep paths whose names look like excluded ones, 10,000 small
//! files) restored with `clawctl restore --from-file` through the fake API server,
//! whose exec handler runs the real restore script as uid 1000 on a root-owned volume
//! (`harness::volumes::run_on_host`). For each member: what lands, what is dropped,
//! what is reported; and nothing outside the volume, no excluded path and not
//! openclaw.json is ever written.
//!
//! Hostile buckets: the same corpus as objects (keys with `..`, `.` and empty names,
//! `openclaw.json`, excluded paths, deep look-alikes, a marker present and missing,
//! 10,000 small objects; a bucket holds no links, FIFOs or modes) restored by the
//! rendered restore Job's script and pulled by the rendered pull container, with rclone
//! against moto, as uid 1000 on a root-owned volume; and a bucket restore onto a volume
//! holding links and a FIFO.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use clawctl::snapshot::Operation;
use clawctl::yaml::parse_documents;

use crate::harness::Test;
use crate::harness::fake::{IMAGE, apply, clawctl, fleet, server};
use crate::harness::volumes::{as_a_volume, as_pod_user, run_on_host};
use crate::knowledge::{
    FLEET, Keys, command_for, find_moto, on_path, rclone, setup_bucket, start_moto, write,
};
use crate::snapshot_bucket::{as_pod, files, job_container, never_in_a_snapshot, own};

/// A ustar archive, written member by member (names up to 255 bytes).
struct Tar(Vec<u8>);

impl Tar {
    fn new() -> Tar {
        Tar(Vec::new())
    }

    fn member(&mut self, name: &str, kind: u8, mode: u32, link: &str, data: &[u8]) {
        let mut h = [0u8; 512];
        let (prefix, short) = if name.len() > 100 {
            let cut = name[..name.len() - 1]
                .rfind('/')
                .filter(|i| name.len() - i - 1 <= 100)
                .expect("name fits ustar");
            (&name[..cut], &name[cut + 1..])
        } else {
            ("", name)
        };
        h[..short.len()].copy_from_slice(short.as_bytes());
        let octal = |h: &mut [u8; 512], at: usize, len: usize, v: u64| {
            let s = format!("{v:0w$o}\0", w = len - 1);
            h[at..at + len].copy_from_slice(s.as_bytes());
        };
        octal(&mut h, 100, 8, u64::from(mode));
        octal(&mut h, 108, 8, 1000);
        octal(&mut h, 116, 8, 1000);
        octal(&mut h, 124, 12, data.len() as u64);
        octal(&mut h, 136, 12, 1_700_000_000);
        h[156] = kind;
        h[157..157 + link.len()].copy_from_slice(link.as_bytes());
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
        let s = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(s.as_bytes());
        self.0.extend_from_slice(&h);
        self.0.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.0.extend(std::iter::repeat_n(0u8, pad));
    }

    fn file(&mut self, name: &str, data: &str) {
        self.member(name, b'0', 0o644, "", data.as_bytes());
    }

    fn gz(mut self, path: &Path) {
        self.0.extend(std::iter::repeat_n(0u8, 1024));
        let f = std::fs::File::create(path).expect("create");
        let mut z = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        z.write_all(&self.0).expect("gzip");
        z.finish().expect("gzip");
    }
}

fn restore(server: &fake_apiserver::FakeApiServer, text: &str, file: &Path) -> serde_json::Value {
    let out = clawctl(
        server,
        text,
        &[
            "restore",
            "fleet.yaml",
            "gamma",
            "--from-file",
            &file.display().to_string(),
            "--yes",
            "--no-snapshot",
            "--timeout",
            "120s",
            "-o",
            "json",
        ],
    )
    .success();
    serde_json::from_str(&out.stdout).expect("json")
}

#[test]
#[ignore = "needs rclone, moto, GNU tar or root (what .ci/run installs): cargo test --test cli -- --ignored --skip e2e"]
fn hostile_archives_land_only_regular_files_inside_the_volume_and_say_what_they_dropped() {
    if !as_pod_user() {
        panic!(
            "cannot run (hostile archives: needs root and setpriv to run as uid 1000): install what .ci/run installs"
        )
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let gamma = tmp.path().join("vol/gamma");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o777)).expect("chmod");

    // The volume before: its rendered config, its own secrets, the filesystem's
    // lost+found, and a FIFO and a link someone left.
    write(&gamma.join("openclaw.json"), "{\"rendered\": true}\n");
    write(&gamma.join("credentials/own.json"), "own login\n");
    write(&gamma.join(".env"), "KEY=own\n");
    write(&gamma.join("workspace/MEMORY.md"), "old memory\n");
    as_a_volume(&gamma, &[]);
    let run = |args: &[&str]| {
        assert!(
            Command::new(args[0])
                .args(&args[1..])
                .status()
                .is_ok_and(|s| s.success()),
            "{args:?}"
        )
    };
    let lost = gamma.join("lost+found");
    std::fs::create_dir(&lost).expect("mkdir");
    std::fs::write(lost.join("#12"), "fsck\n").expect("write");
    std::fs::set_permissions(&lost, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    run(&[
        "mkfifo",
        &gamma.join("workspace/oldfifo").display().to_string(),
    ]);
    std::os::unix::fs::symlink("/etc/hostname", gamma.join("workspace/oldlink")).expect("ln");
    run(&[
        "chown",
        "-h",
        "1000:1000",
        &gamma.join("workspace/oldfifo").display().to_string(),
    ]);
    run(&[
        "chown",
        "-h",
        "1000:1000",
        &gamma.join("workspace/oldlink").display().to_string(),
    ]);

    // The corpus.
    let mut t = Tar::new();
    t.file("workspace/plain.md", "plain\n");
    t.file("/abs/evil.md", "absolute\n");
    t.file("../escape.md", "escape\n");
    t.file("workspace/../../escape2.md", "escape\n");
    t.member("workspace/envlink", b'2', 0o777, "/proc/self/environ", b"");
    t.member(
        "openclaw.json",
        b'2',
        0o777,
        "workspace/notes/cfg.json",
        b"",
    );
    t.file("workspace/notes/cfg.json", "{}\n");
    t.file("workspace/linked.md", "linked\n");
    t.member("workspace/hard", b'1', 0o644, "workspace/linked.md", b"");
    t.member("workspace/fifo", b'6', 0o644, "", b"");
    t.member("workspace/dev", b'3', 0o644, "", b"");
    t.member("workspace/suid.sh", b'0', 0o4755, "", b"#!/bin/sh\n");
    t.member("workspace/sgid.sh", b'0', 0o2755, "", b"#!/bin/sh\n");
    let out_link = outside.display().to_string();
    t.member("workspace/dirlink", b'2', 0o777, &out_link, b"");
    t.file("workspace/dirlink/through.md", "through\n");
    for (name, lands) in [
        ("workspace/skills/credentials/SKILL.md", true),
        ("workspace/memory/auth-profiles.json", true),
        ("workspace/lost+found/notes.md", true),
        ("workspace/.env", true),
        ("credentials/evil.json", false),
        ("agents/main/sessions/evil.jsonl", false),
        ("agents/main/agent/auth-profiles.json", false),
        (".env", false),
        ("identity/device.json", false),
        ("lost+found/evil", false),
        (".clawctl-restored", false),
    ] {
        t.file(name, if lands { "lands\n" } else { "never\n" });
    }
    let deep = format!("workspace/{}credentials/SKILL.md", "d/".repeat(60));
    t.file(&deep, "deep\n");
    let archive = tmp.path().join("hostile.tar.gz");
    t.gz(&archive);

    let server = server();
    let volumes = BTreeMap::from([("gamma".to_string(), gamma.clone())]);
    server.on_exec(move |call| run_on_host(&call, &volumes));
    let text = fleet(&["gamma"], IMAGE);
    apply(&server, &text, &[]).success();

    let report = restore(&server, &text, &archive);
    assert_eq!(report["restore"]["result"], "restored", "{report:#}");
    let dropped: Vec<String> = report["restore"]["dropped"]
        .as_array()
        .expect("dropped")
        .iter()
        .map(|v| v.as_str().expect("line").to_string())
        .collect();
    let said = |path: &str, why: &str| {
        assert!(
            dropped.iter().any(|l| l.contains(path) && l.contains(why)),
            "{path} ({why}) not reported: {dropped:#?}"
        );
    };

    let got = files(&gamma);
    let read = |p: &str| got.get(p).map(|b| String::from_utf8_lossy(b).into_owned());
    // Lands.
    assert_eq!(read("workspace/plain.md").as_deref(), Some("plain\n"));
    assert_eq!(
        read("abs/evil.md").as_deref(),
        Some("absolute\n"),
        "'/' stripped"
    );
    said("Removing leading", "renamed");
    for p in [
        "workspace/skills/credentials/SKILL.md",
        "workspace/memory/auth-profiles.json",
        "workspace/lost+found/notes.md",
        "workspace/.env",
    ] {
        assert_eq!(read(p).as_deref(), Some("lands\n"), "{p} did not land");
    }
    assert_eq!(read("workspace/notes/cfg.json").as_deref(), Some("{}\n"));
    assert_eq!(read(&deep).as_deref(), Some("deep\n"));
    let suid = std::fs::metadata(gamma.join("workspace/suid.sh")).expect("suid.sh");
    let sgid = std::fs::metadata(gamma.join("workspace/sgid.sh")).expect("sgid.sh");
    assert_eq!(suid.permissions().mode() & 0o6000, 0, "setuid kept");
    assert_eq!(sgid.permissions().mode() & 0o6000, 0, "setgid kept");
    // (GNU tar run by a user other than root already leaves the bits out; the script
    // clears any that land and says so.)

    // Dropped and reported.
    said("../escape.md", "'..'");
    said("workspace/envlink", "symlink");
    said("workspace/dirlink", "symlink");
    said("openclaw.json", "never restored");
    said("workspace/hard", "hard link");
    said("workspace/linked.md", "hard link");
    said("workspace/fifo", "");
    said("workspace/dev", "");
    said("credentials", "never restored");
    said("agents/main/sessions", "never restored");
    said(".env", "never restored");
    said("identity", "never restored");
    said("lost+found", "never restored");
    for p in [
        "workspace/envlink",
        "workspace/dirlink",
        "workspace/hard",
        "workspace/linked.md",
        "workspace/fifo",
        "workspace/dev",
    ] {
        assert!(
            std::fs::symlink_metadata(gamma.join(p)).is_err(),
            "{p} is on the volume"
        );
    }
    // What was on the volume: links and FIFOs gone, its own secrets and config kept.
    for p in ["workspace/oldfifo", "workspace/oldlink"] {
        assert!(
            std::fs::symlink_metadata(gamma.join(p)).is_err(),
            "{p} kept"
        );
    }
    let meta = std::fs::symlink_metadata(gamma.join("openclaw.json")).expect("config");
    assert!(meta.file_type().is_file());
    assert_eq!(
        read("openclaw.json").as_deref(),
        Some("{\"rendered\": true}\n")
    );
    assert_eq!(read("credentials/own.json").as_deref(), Some("own login\n"));
    assert!(!got.contains_key("credentials/evil.json"));
    assert_eq!(read(".env").as_deref(), Some("KEY=own\n"));
    assert!(
        !got.keys()
            .any(|p| p.starts_with("identity/") || p.starts_with("agents/"))
    );
    assert!(!got.contains_key(".clawctl-restored"), "no bucket, no mark");
    assert!(
        !got.contains_key("workspace/MEMORY.md"),
        "the brain was replaced"
    );
    // lost+found: root's, untouched.
    let lost_meta = std::fs::metadata(&lost).expect("lost+found kept");
    assert_eq!(lost_meta.permissions().mode() & 0o777, 0o700);
    assert_eq!(
        std::fs::read_to_string(lost.join("#12")).expect("#12"),
        "fsck\n"
    );
    assert!(!lost.join("evil").exists());
    // Nothing outside the volume.
    assert_eq!(std::fs::read_dir(&outside).expect("outside").count(), 0);
    let stray: Vec<String> = files(tmp.path())
        .into_keys()
        .filter(|p| p.contains("escape") || p.contains("through.md"))
        .collect();
    assert!(stray.is_empty(), "written outside: {stray:?}");
    assert!(!gamma.join(".clawctl-restore").exists());

    // 10,000 small files, in 100 folders.
    let mut t = Tar::new();
    for i in 0..10_000 {
        t.file(
            &format!("workspace/many/{:02}/{i}.md", i % 100),
            &format!("{i}\n"),
        );
    }
    let many = tmp.path().join("many.tar.gz");
    t.gz(&many);
    let started = Instant::now();
    let report = restore(&server, &text, &many);
    let took = started.elapsed();
    eprintln!("restored 10,000 small files in {:.1}s", took.as_secs_f64());
    assert_eq!(report["restore"]["result"], "restored", "{report:#}");
    assert!(report["restore"]["dropped"].is_null(), "{report:#}");
    let got = files(&gamma);
    let landed = got
        .keys()
        .filter(|p| p.starts_with("workspace/many/"))
        .count();
    assert_eq!(landed, 10_000);
    assert_eq!(got["workspace/many/42/4242.md"], b"4242\n");
    assert!(!got.contains_key("workspace/plain.md"), "replaced");
}

#[test]
#[ignore = "needs rclone, moto, GNU tar or root (what .ci/run installs): cargo test --test cli -- --ignored --skip e2e"]
fn an_archive_that_is_not_one_is_refused_whole_and_changes_nothing() {
    if !as_pod_user() {
        panic!(
            "cannot run (refused archives: needs root and setpriv to run as uid 1000): install what .ci/run installs"
        )
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let gamma = tmp.path().join("gamma");
    write(&gamma.join("workspace/MEMORY.md"), "kept\n");
    as_a_volume(&gamma, &[]);
    let before = files(&gamma);
    // A valid gzip of a truncated tar: the first member's data is cut short.
    let mut t = Tar::new();
    t.file("workspace/big.md", &"x".repeat(5000));
    t.0.truncate(1024);
    let file = tmp.path().join("truncated.tar.gz");
    let f = std::fs::File::create(&file).expect("create");
    let mut z = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
    z.write_all(&t.0).expect("gzip");
    z.finish().expect("gzip");

    let server = server();
    let volumes = BTreeMap::from([("gamma".to_string(), gamma.clone())]);
    server.on_exec(move |call| run_on_host(&call, &volumes));
    let text = fleet(&["gamma"], IMAGE);
    apply(&server, &text, &[]).success();
    let out = clawctl(
        &server,
        &text,
        &[
            "restore",
            "fleet.yaml",
            "gamma",
            "--from-file",
            &file.display().to_string(),
            "--yes",
            "--no-snapshot",
            "--timeout",
            "30s",
        ],
    )
    .fails(1);
    assert!(out.stdout.contains("nothing was changed"), "{}", out.stdout);
    assert!(out.stdout.contains("Unexpected EOF"), "{}", out.stdout);
    assert_eq!(files(&gamma), before);
}

/// Puts objects into `kb-test` under exactly these keys (`..`, `.` and empty names
/// included, which no local folder can hold, so rclone cannot upload them), with
/// boto3 from moto's venv and the writer's keys.
fn put_objects(moto_bin: &Path, port: u16, keys: &Keys, objects: &[(String, String)]) {
    let python = moto_bin.with_file_name("python");
    let python = if python.is_file() {
        python
    } else {
        "python3".into()
    };
    const PUT: &str = r#"
import json, sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
for key, body in json.load(sys.stdin):
    s3.put_object(Bucket="kb-test", Key=key, Body=body.encode())
"#;
    let mut child = Command::new(python)
        .args([
            "-c",
            PUT,
            &format!("http://127.0.0.1:{port}"),
            &keys.0,
            &keys.1,
        ])
        .env_remove("AWS_CA_BUNDLE")
        .env_remove("REQUESTS_CA_BUNDLE")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("python");
    let json = serde_json::to_vec(objects).expect("json");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&json)
        .expect("write");
    assert!(child.wait().expect("wait").success(), "put objects");
}

/// Keys no volume can hold: `..`, `.` and empty names. rclone shows `.` and `..`
/// names fullwidth (`．`); a restore reports them with dots.
const BAD_KEYS: [&str; 8] = [
    "../escape.md",
    "workspace/../../escape2.md",
    "..",
    "workspace/..",
    "./dot.md",
    "workspace/./dot2.md",
    "/abs/evil.md",
    "workspace//dbl.md",
];

/// Keys the excludes (and the rendered config) keep off a volume, whoever wrote them.
const EXCLUDED_KEYS: [&str; 10] = [
    "openclaw.json",
    "credentials/evil.json",
    "agents/main/sessions/evil.jsonl",
    "agents/main/agent/auth-profiles.json",
    ".env",
    "identity/device.json",
    "lost+found/evil",
    "workspace-work/lost+found/evil",
    ".clawctl-restored",
    ".clawctl-restore/tree/evil.md",
];

/// Keys that only look like excluded ones: they land.
fn lookalike_keys() -> Vec<String> {
    let mut out: Vec<String> = [
        "workspace/plain.md",
        "workspace/skills/credentials/SKILL.md",
        "workspace/memory/auth-profiles.json",
        "workspace/lost+found/notes.md",
        "workspace/.env",
        "workspace/identity/device.json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    out.push(format!("workspace/{}credentials/SKILL.md", "d/".repeat(60)));
    out
}

/// The hostile corpus under `prefix` (a folder's key prefix, ending in `/`), with or
/// without the snapshot marker; and, outside it, what `..` in a key would reach were
/// it resolved (a trap: it must never be read or written).
fn hostile_objects(prefix: &str, marker: bool) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = BAD_KEYS
        .iter()
        .chain(EXCLUDED_KEYS.iter())
        .map(|k| (format!("{prefix}{k}"), "never\n".to_string()))
        .collect();
    for k in lookalike_keys() {
        out.push((format!("{prefix}{k}"), "lands\n".to_string()));
    }
    if marker {
        out.push((
            format!("{prefix}.clawctl-snapshot.json"),
            "{\"agent\": \"writer\"}\n".to_string(),
        ));
    }
    let parent = prefix
        .trim_end_matches('/')
        .rsplit_once('/')
        .expect("parent")
        .0;
    for trap in ["escape.md", "escape2.md", "dot.md"] {
        out.push((format!("{parent}/{trap}"), "trap\n".to_string()));
    }
    out
}

/// A volume as the pod sees it: root-owned root with the group's write bit, a
/// rendered config, its own secrets, root's lost+found, an old memory.
fn a_volume(vol: &Path) -> std::path::PathBuf {
    write(&vol.join("openclaw.json"), "{\"rendered\": true}\n");
    write(&vol.join("credentials/own.json"), "own login\n");
    write(&vol.join(".env"), "KEY=own\n");
    write(&vol.join("workspace/MEMORY.md"), "old memory\n");
    as_a_volume(vol, &[]);
    let lost = vol.join("lost+found");
    std::fs::create_dir(&lost).expect("mkdir");
    std::fs::write(lost.join("#12"), "fsck\n").expect("write");
    std::fs::set_permissions(&lost, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    lost
}

/// What the volume's own files must still be after anything a bucket holds.
fn volume_kept_its_own(vol: &Path, lost: &Path) {
    let got = files(vol);
    let read = |p: &str| got.get(p).map(|b| String::from_utf8_lossy(b).into_owned());
    let meta = std::fs::symlink_metadata(vol.join("openclaw.json")).expect("config");
    assert!(meta.file_type().is_file());
    assert_eq!(
        read("openclaw.json").as_deref(),
        Some("{\"rendered\": true}\n")
    );
    assert_eq!(read("credentials/own.json").as_deref(), Some("own login\n"));
    assert_eq!(read(".env").as_deref(), Some("KEY=own\n"));
    for (p, bytes) in &got {
        assert_ne!(
            bytes.as_slice(),
            b"never\n",
            "{p} was written from the bucket"
        );
    }
    let excluded: Vec<&str> = got
        .keys()
        .map(String::as_str)
        .filter(|p| never_in_a_snapshot(p) && *p != ".clawctl-restored")
        .collect();
    assert_eq!(excluded, [".env", "credentials/own.json", "lost+found/#12"]);
    assert_eq!(
        std::fs::metadata(lost)
            .expect("lost+found")
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    assert_eq!(
        std::fs::read_to_string(lost.join("#12")).expect("#12"),
        "fsck\n"
    );
}

/// Nothing anywhere under `root` but inside `vol` holds what the bucket held.
fn nothing_outside(root: &Path, vol: &Path) {
    let vol = vol
        .strip_prefix(root)
        .expect("inside")
        .to_string_lossy()
        .into_owned();
    let stray: Vec<String> = files(root)
        .into_iter()
        .filter(|(p, b)| {
            !p.starts_with(&format!("{vol}/"))
                && [b"never\n".as_slice(), b"lands\n", b"trap\n"].contains(&b.as_slice())
        })
        .map(|(p, _)| p)
        .collect();
    assert!(stray.is_empty(), "written outside the volume: {stray:?}");
}

struct Bucket {
    _moto: crate::knowledge::Moto,
    moto_bin: std::path::PathBuf,
    port: u16,
    writer: Keys,
    docs: Vec<serde_json::Value>,
}

fn a_bucket(what: &str) -> Option<Bucket> {
    if !as_pod_user() {
        panic!("cannot run ({what}: needs root and setpriv to run as uid 1000)");
    }
    if on_path("rclone").is_none() {
        panic!("cannot run ({what}: rclone is not installed; .ci/run installs it)");
    }
    let Some(moto_bin) = find_moto() else {
        panic!("cannot run ({what}: moto_server is not installed; .ci/run installs it)");
    };
    let (moto, port) = start_moto(&moto_bin);
    let (writer, _) = setup_bucket(&moto_bin, port);
    let fleet = FLEET.replace("ENDPOINT", &format!("http://127.0.0.1:{port}"));
    let out = Test::new()
        .file("fleet.yaml", &fleet)
        .args(&["render", "fleet.yaml"])
        .success();
    let docs = parse_documents(&out.stdout).expect("rendered output parses");
    Some(Bucket {
        _moto: moto,
        moto_bin,
        port,
        writer,
        docs,
    })
}

/// The rendered restore Job's script, as uid 1000, onto `vol`.
fn bucket_restore(b: &Bucket, remote: &str, vol: &Path, home: &Path) -> std::process::Output {
    let restore = job_container(&b.docs, "writer", Operation::Restore, remote);
    own(home);
    as_pod(command_for(&restore, vol, home, &b.writer).env("SNAPSHOT_LOCAL", vol))
        .output()
        .expect("restore")
}

#[test]
#[ignore = "needs rclone, moto, GNU tar or root (what .ci/run installs): cargo test --test cli -- --ignored --skip e2e"]
fn a_hostile_bucket_snapshot_lands_only_what_it_should_and_says_what_it_dropped() {
    let Some(b) = a_bucket("hostile bucket snapshots") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).expect("mkdir");
    let vol = tmp.path().join("vol/writer");
    let lost = a_volume(&vol);
    let prefix = "fleets/kb/.clawctl-snapshots/writer/";
    let id = "20261202-011503";
    put_objects(
        &b.moto_bin,
        b.port,
        &b.writer,
        &hostile_objects(&format!("{prefix}{id}/"), true),
    );
    let remote = format!("knowledge:kb-test/{prefix}{id}");

    let out = bucket_restore(&b, &remote, &vol, &home);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "restore: {stdout}\n{stderr}");
    assert!(stdout.contains("clawctl: restored from"), "{stdout}");
    let dropped: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("clawctl: dropped "))
        .collect();
    let said = |name: &str, why: &str| {
        assert!(
            dropped
                .iter()
                .any(|l| l.starts_with(&format!("{name} (")) && l.contains(why)),
            "{name} ({why}) not reported: {dropped:#?}"
        );
    };

    // Lands.
    let got = files(&vol);
    for k in lookalike_keys() {
        assert_eq!(
            got.get(&k).map(Vec::as_slice),
            Some(b"lands\n".as_slice()),
            "{k}"
        );
    }
    assert!(
        !got.contains_key("workspace/MEMORY.md"),
        "the brain was replaced"
    );
    // Dropped and reported.
    for k in BAD_KEYS {
        said(k, "no volume holds");
    }
    for k in EXCLUDED_KEYS {
        said(k, "never restored");
    }
    assert_eq!(
        dropped.len(),
        BAD_KEYS.len() + EXCLUDED_KEYS.len(),
        "{dropped:#?}"
    );
    // Kept, and nothing anywhere else.
    volume_kept_its_own(&vol, &lost);
    nothing_outside(tmp.path(), &vol);
    assert!(
        vol.join(".clawctl-restored").is_file(),
        "the volume is marked"
    );
    assert!(!vol.join(".clawctl-snapshot.json").exists());

    // The same corpus without its marker is an unfinished snapshot: refused, the
    // volume unchanged.
    let unfinished = "20261203-000000";
    put_objects(
        &b.moto_bin,
        b.port,
        &b.writer,
        &hostile_objects(&format!("{prefix}{unfinished}/"), false),
    );
    let before = files(&vol);
    let out = bucket_restore(
        &b,
        &format!("knowledge:kb-test/{prefix}{unfinished}"),
        &vol,
        &home,
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no finished snapshot"), "{stderr}");
    assert_eq!(files(&vol), before, "a refused restore touched the volume");

    // 10,000 small objects, in 100 folders.
    let many = tmp.path().join("many");
    for i in 0..10_000 {
        write(
            &many.join(format!("workspace/many/{:02}/{i}.md", i % 100)),
            &format!("{i}\n"),
        );
    }
    write(&many.join(".clawctl-snapshot.json"), "{}\n");
    let pull = crate::knowledge::container(&b.docs, "writer", "knowledge-pull").expect("pull");
    let big = format!("knowledge:kb-test/{prefix}20261204-000000");
    let started = Instant::now();
    rclone(
        &pull,
        &home,
        &b.writer,
        &[
            "copy",
            many.to_str().expect("utf-8"),
            &big,
            "--transfers",
            "16",
        ],
    );
    eprintln!(
        "uploaded 10,000 small objects in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    std::fs::remove_dir_all(&many).expect("rm");
    let started = Instant::now();
    let out = bucket_restore(&b, &big, &vol, &home);
    eprintln!(
        "restored 10,000 small objects in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("clawctl: dropped"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let got = files(&vol);
    let landed = got
        .keys()
        .filter(|p| p.starts_with("workspace/many/"))
        .count();
    assert_eq!(landed, 10_000);
    assert_eq!(got["workspace/many/42/4242.md"], b"4242\n");
    assert!(!got.contains_key("workspace/plain.md"), "replaced");
    volume_kept_its_own(&vol, &lost);
}

#[test]
#[ignore = "needs rclone, moto, GNU tar or root (what .ci/run installs): cargo test --test cli -- --ignored --skip e2e"]
fn a_bucket_restore_removes_links_and_fifos_on_the_volume_before_it_writes() {
    let Some(b) = a_bucket("links on the volume") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).expect("mkdir");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let vol = tmp.path().join("vol/writer");
    let lost = a_volume(&vol);
    // What an agent's tools (or anything else) left: a FIFO, a link to a file, a
    // link to a folder outside that the snapshot has files under, openclaw.json as a
    // link into the workspace; and a link inside an excluded path, left alone.
    write(&vol.join("workspace/notes/cfg.json"), "{}\n");
    let chown = |p: &Path| {
        let ok = Command::new("chown")
            .args(["-h", "1000:1000"])
            .arg(p)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok);
    };
    chown(&vol.join("workspace/notes"));
    chown(&vol.join("workspace/notes/cfg.json"));
    let fifo = vol.join("workspace/oldfifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success())
    );
    chown(&fifo);
    let links = [
        (
            "workspace/oldlink",
            Path::new("/etc/hostname").to_path_buf(),
        ),
        ("workspace/dirlink", outside.clone()),
        ("credentials/link", Path::new("/etc/hostname").to_path_buf()),
    ];
    for (p, to) in &links {
        std::os::unix::fs::symlink(to, vol.join(p)).expect("ln");
        chown(&vol.join(p));
    }
    std::fs::remove_file(vol.join("openclaw.json")).expect("rm");
    std::os::unix::fs::symlink("workspace/notes/cfg.json", vol.join("openclaw.json")).expect("ln");
    chown(&vol.join("openclaw.json"));

    let prefix = "fleets/kb/.clawctl-snapshots/writer/20261202-011503/";
    put_objects(
        &b.moto_bin,
        b.port,
        &b.writer,
        &[
            (
                format!("{prefix}workspace/dirlink/through.md"),
                "lands\n".into(),
            ),
            (format!("{prefix}workspace/oldlink"), "lands\n".into()),
            (format!("{prefix}workspace/notes/cfg.json"), "{}\n".into()),
            (format!("{prefix}.clawctl-snapshot.json"), "{}\n".into()),
        ],
    );
    let out = bucket_restore(&b, &format!("knowledge:kb-test/{prefix}"), &vol, &home);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for p in [
        "workspace/oldfifo",
        "workspace/oldlink",
        "workspace/dirlink",
        "openclaw.json",
    ] {
        assert!(
            stdout.contains(&format!(
                "clawctl: dropped {p} (not a regular file or folder)"
            )),
            "{p} not reported: {stdout}"
        );
    }
    // The snapshot's files land as files, in folders, never through a link.
    for p in ["workspace/dirlink", "workspace/notes"] {
        let meta = std::fs::symlink_metadata(vol.join(p)).expect("folder");
        assert!(meta.file_type().is_dir(), "{p}");
    }
    for p in ["workspace/dirlink/through.md", "workspace/oldlink"] {
        let meta = std::fs::symlink_metadata(vol.join(p)).expect("file");
        assert!(meta.file_type().is_file(), "{p}");
        assert_eq!(
            std::fs::read_to_string(vol.join(p)).expect("read"),
            "lands\n"
        );
    }
    assert!(
        std::fs::symlink_metadata(&fifo).is_err(),
        "the FIFO is kept"
    );
    assert_eq!(std::fs::read_dir(&outside).expect("outside").count(), 0);
    // openclaw.json is gone (the init container writes the rendered one), not written
    // through; the excluded path's link is the volume's own.
    assert!(std::fs::symlink_metadata(vol.join("openclaw.json")).is_err());
    assert_eq!(
        std::fs::read_to_string(vol.join("workspace/notes/cfg.json")).expect("cfg"),
        "{}\n"
    );
    assert!(
        std::fs::symlink_metadata(vol.join("credentials/link"))
            .expect("kept")
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_to_string(vol.join("credentials/own.json")).expect("own"),
        "own login\n"
    );
    assert!(lost.join("#12").exists());
    nothing_outside(tmp.path(), &vol);
}

#[test]
#[ignore = "needs rclone, moto, GNU tar or root (what .ci/run installs): cargo test --test cli -- --ignored --skip e2e"]
fn a_knowledge_pull_from_a_hostile_folder_lands_only_what_it_should() {
    let Some(b) = a_bucket("hostile knowledge folder") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).expect("mkdir");
    let vol = tmp.path().join("vol/writer");
    let lost = a_volume(&vol);
    put_objects(
        &b.moto_bin,
        b.port,
        &b.writer,
        &hostile_objects("fleets/kb/writer/", true),
    );
    let pull = crate::knowledge::container(&b.docs, "writer", "knowledge-pull").expect("pull");
    own(&home);
    let out = as_pod(&mut command_for(&pull, &vol, &home, &b.writer))
        .output()
        .expect("pull");
    assert!(
        out.status.success(),
        "a hostile key stopped the agent's start: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = files(&vol);
    for k in lookalike_keys() {
        assert_eq!(
            got.get(&k).map(Vec::as_slice),
            Some(b"lands\n".as_slice()),
            "{k}"
        );
    }
    assert_eq!(
        got.get("workspace/MEMORY.md").map(Vec::as_slice),
        Some(b"old memory\n".as_slice()),
        "a pull deletes nothing"
    );
    assert!(
        !vol.join(".clawctl-restored").exists(),
        "the mark is never pulled"
    );
    assert!(!vol.join(".clawctl-snapshot.json").exists());
    volume_kept_its_own(&vol, &lost);
    nothing_outside(tmp.path(), &vol);
}

#[test]
#[ignore = "needs rclone, moto, GNU tar or root (what .ci/run installs): cargo test --test cli -- --ignored --skip e2e"]
fn an_archive_restore_of_an_agent_with_a_bucket_marks_the_volume_for_its_next_pull() {
    if !as_pod_user() {
        panic!(
            "cannot run (archive restore mark: needs root and setpriv to run as uid 1000): install what .ci/run installs"
        )
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let gamma = tmp.path().join("vol/gamma");
    write(&gamma.join("openclaw.json"), "{\"rendered\": true}\n");
    write(&gamma.join("workspace/MEMORY.md"), "MEMORY=v2\n");
    as_a_volume(&gamma, &[]);
    let mut t = Tar::new();
    t.file("workspace/MEMORY.md", "MEMORY=v1\n");
    t.file(".clawctl-restored", "from the archive\n");
    let archive = tmp.path().join("brain.tar.gz");
    t.gz(&archive);

    let server = server();
    let volumes = BTreeMap::from([("gamma".to_string(), gamma.clone())]);
    server.on_exec(move |call| run_on_host(&call, &volumes));
    let text = fleet(&["gamma"], IMAGE).replace(
        "soulInline: \"You are gamma.\"}",
        "soulInline: \"You are gamma.\", knowledge: {s3: {bucket: kb-test, region: us-east-1}, credentialsSecret: kb-bucket-keys}}",
    );
    assert!(text.contains("kb-test"), "{text}");
    apply(&server, &text, &[]).success();
    let report = restore(&server, &text, &archive);
    assert_eq!(report["restore"]["result"], "restored", "{report:#}");
    assert_eq!(
        std::fs::read_to_string(gamma.join("workspace/MEMORY.md")).expect("memory"),
        "MEMORY=v1\n"
    );
    // The script's own empty mark, not the archive's member.
    let mark = std::fs::symlink_metadata(gamma.join(".clawctl-restored")).expect("marked");
    assert!(mark.file_type().is_file());
    assert_eq!(mark.len(), 0, "the archive's .clawctl-restored landed");
    assert!(!gamma.join(".clawctl-restore").exists());
}
