//! One exclude list, every consumer: the knowledge push and pull, a bucket snapshot's
//! backup and restore (rclone with the filters clawctl renders), an archive's backup
//! (GNU tar with clawctl's arguments) and an archive's restore (the real restore
//! script) are run over the same corpus of paths, and each must leave out exactly what
//! `brain::excludes::is_excluded` says: the same paths, anchored, with and without `./`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use clawctl::brain::excludes::{self, EXCLUDES};
use clawctl::knowledge::{self, Direction};
use clawctl::snapshot::{self, Operation, archive};

use crate::knowledge::{on_path, write};
use crate::snapshot_bucket::files;

/// Every entry as a path and with something under it, look-alikes deeper down and
/// beside, and ordinary brain files.
fn corpus() -> Vec<String> {
    let mut out: Vec<String> = [
        "workspace/MEMORY.md",
        "workspace/memory/2026-12-01.md",
        "workspace/skills/credentials/SKILL.md",
        "workspace/memory/auth-profiles.json",
        "workspace/lost+found/notes.md",
        "workspace/.env",
        "workspace/identity/me.md",
        "workspace/agents/main/sessions/s.jsonl",
        "workspace-work/MEMORY.md",
        "workspace-work/credentials/x.md",
        "agents/main/agent/models.json",
        "agents/main/sub/sessions/s.jsonl",
        "agents/main/agent/extra/codex-home/x",
        "state/other.sqlite",
        "state/openclaw.sqlite.md/x",
        ".clawctl/digests/SOUL.md.sha256",
        "openclaw.json",
        "credentialsx/a",
        ".envrc",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for e in EXCLUDES {
        let base: Vec<String> = e
            .path
            .split('/')
            .map(|s| {
                if s == "*" {
                    "main".to_string()
                } else {
                    s.replace('*', "-wal")
                }
            })
            .collect();
        let base = base.join("/");
        let file = e.path.rsplit('/').next().is_some_and(|n| n.contains('.'));
        if file {
            // A file named as the entry, and one beside it with a longer name.
            out.push(base.clone());
            out.push(format!("{base}.d/file"));
        } else {
            // A folder named as the entry, with something in it.
            out.push(format!("{}/y", e.path.replace('*', "other")));
            out.push(format!("{base}x/file"));
        }
    }
    // A file and a folder of the same name cannot both exist: keep the first.
    let mut kept: Vec<String> = Vec::new();
    for p in out {
        let clash = kept
            .iter()
            .any(|k| p.starts_with(&format!("{k}/")) || k.starts_with(&format!("{p}/")) || *k == p);
        if !clash {
            kept.push(p);
        }
    }
    kept
}

fn volume(root: &Path, paths: &[String]) {
    for p in paths {
        write(&root.join(p), p);
    }
}

fn left_out(paths: &[String], got: &BTreeSet<String>) -> BTreeSet<String> {
    paths
        .iter()
        .filter(|p| !got.contains(*p))
        .cloned()
        .collect()
}

fn expected(paths: &[String], config: bool) -> BTreeSet<String> {
    paths
        .iter()
        .filter(|p| excludes::is_excluded(p, config))
        .cloned()
        .collect()
}

fn rclone_copy(from: &Path, to: &Path, filter: &str, home: &Path) -> BTreeSet<String> {
    let rules = home.join("filter");
    std::fs::write(&rules, filter).expect("filter");
    let out = Command::new("rclone")
        .args([
            "copy",
            &from.display().to_string(),
            &to.display().to_string(),
        ])
        .args([
            "--filter-from",
            &rules.display().to_string(),
            "--skip-links",
        ])
        .env("RCLONE_CONFIG", home.join("rclone.conf"))
        .output()
        .expect("rclone");
    assert!(
        out.status.success(),
        "rclone: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    files(to).into_keys().collect()
}

#[test]
#[ignore = "needs rclone, moto, GNU tar or root (what .ci/run installs): cargo test --test cli -- --ignored --skip e2e"]
fn every_consumer_excludes_exactly_the_same_paths() {
    if on_path("rclone").is_none() || on_path("tar").is_none() {
        panic!(
            "cannot run (exclude agreement: rclone or tar is missing (.ci/run installs rclone)): install what .ci/run installs"
        )
    }
    let paths = corpus();
    let tmp = tempfile::tempdir().expect("temp dir");
    let src = tmp.path().join("src");
    volume(&src, &paths);
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).expect("mkdir");
    let without_config = expected(&paths, false);
    let with_config = expected(&paths, true);
    assert!(without_config.contains("workspace-other/lost+found/y"));
    assert!(!without_config.contains("workspace/skills/credentials/SKILL.md"));

    // rclone: the knowledge push and pull with `include: ["**"]`, a snapshot's backup
    // and restore.
    let everything = vec!["**".to_string()];
    for (name, filter, want) in [
        (
            "push",
            knowledge::filter(&everything, Direction::Push),
            &without_config,
        ),
        (
            "pull",
            knowledge::filter(&everything, Direction::Pull),
            &with_config,
        ),
        (
            "backup",
            snapshot::filter(Operation::Backup),
            &without_config,
        ),
        (
            "restore",
            snapshot::filter(Operation::Restore),
            &with_config,
        ),
    ] {
        let dst = tmp.path().join(format!("rclone-{name}"));
        let got = rclone_copy(&src, &dst, &filter, &home);
        assert_eq!(&left_out(&paths, &got), want, "rclone {name}");
    }

    // An archive: clawctl's tar command, its volume moved.
    let tgz = tmp.path().join("backup.tar.gz");
    let cmd: Vec<String> = archive::backup_command()
        .into_iter()
        .map(|a| {
            if a == clawctl::openclaw::STATE_DIR {
                src.display().to_string()
            } else {
                a
            }
        })
        .collect();
    let out = Command::new(&cmd[0]).args(&cmd[1..]).output().expect("tar");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&tgz, &out.stdout).expect("write");
    let listed = Command::new("tar")
        .args(["-t", "-z", "-f", &tgz.display().to_string()])
        .output()
        .expect("tar -t");
    let got: BTreeSet<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(|l| l.trim_start_matches("./").to_string())
        .filter(|l| !l.is_empty() && !l.ends_with('/'))
        .collect();
    assert_eq!(left_out(&paths, &got), without_config, "tar backup");

    // The restore script: an archive of every path (members without `./`, as another
    // tool writes them) restored into an empty volume lands all but the excluded ones
    // and openclaw.json ...
    let all = tmp.path().join("all.tar.gz");
    let ok = Command::new("tar")
        .args(["-c", "-z", "-f", &all.display().to_string(), "-C"])
        .arg(&src)
        .args(paths.iter().filter(|p| !p.contains('\n')))
        .status()
        .expect("tar")
        .success();
    assert!(ok);
    let empty = tmp.path().join("restored");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let report = restore(&all, &empty);
    let got: BTreeSet<String> = files(&empty).into_keys().collect();
    assert_eq!(left_out(&paths, &got), with_config, "archive restore lands");
    assert!(!with_config.is_empty());
    for top in with_config.iter() {
        let covered = report.iter().any(|l| {
            l.strip_prefix("dropped ")
                .and_then(|rest| rest.split(" (").next())
                .is_some_and(|p| top == p || top.starts_with(&format!("{p}/")))
        });
        assert!(covered, "{top} dropped without a word: {report:?}");
    }
    // ... and a volume holding every path, restored from an archive of nothing, keeps
    // exactly the excluded ones and openclaw.json.
    let full = tmp.path().join("full");
    volume(&full, &paths);
    let none = tmp.path().join("none.tar.gz");
    let ok = Command::new("tar")
        .args([
            "-c",
            "-z",
            "-f",
            &none.display().to_string(),
            "-T",
            "/dev/null",
        ])
        .status()
        .expect("tar")
        .success();
    assert!(ok);
    restore(&none, &full);
    let got: BTreeSet<String> = files(&full).into_keys().collect();
    let mut kept = with_config.clone();
    // The restore's own staging folder, whatever was there, goes with the restore.
    kept.remove(excludes::RESTORE_STAGE);
    assert_eq!(got, kept, "archive restore keeps");
}

/// Runs the restore script on `archive` into `volume`; its report lines.
fn restore(archive: &Path, volume: &Path) -> Vec<String> {
    let cmd = archive::restore_command(false);
    let out = Command::new(&cmd[0])
        .args([&cmd[1], &cmd[2], &cmd[3]])
        .arg(volume)
        .arg(&cmd[5])
        .stdin(std::fs::File::open(archive).expect("archive"))
        .output()
        .expect("sh");
    assert!(
        out.status.success(),
        "restore: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    archive::report_lines(&String::from_utf8_lossy(&out.stdout))
}
