//! Golden renders of every example fleet: `tests/golden/<name>.snap`, insta snapshots
//! (a mismatch prints a diff). `CLAWCTL_UPDATE_GOLDEN=1` or `INSTA_UPDATE=always`
//! rewrites them; `cargo insta review`, where cargo-insta is installed, reviews the
//! `.snap.new` files a failing run leaves.

use std::path::Path;
use std::process::Command;

use crate::harness::{Test, repo};

/// insta's settings for snapshots kept in `dir` (from the repository's root) as
/// `<name>.snap`, recording the input they were made from.
pub fn snapshots_in(dir: &str, input: &Path) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(repo().join(dir));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_input_file(input);
    settings
}

/// `CLAWCTL_UPDATE_GOLDEN=1`, the switch that rewrites the other expected outputs
/// (completions/, the book's reference), also rewrites insta snapshots. insta reads its
/// mode from the environment only, so the calling test runs again in a child process
/// with `INSTA_UPDATE=always`; true when it did (and rewrote what differed), in which
/// case the caller returns.
pub fn rerun_to_update() -> bool {
    let update = std::env::var_os("CLAWCTL_UPDATE_GOLDEN").is_some_and(|v| v == "1");
    if !update || std::env::var_os("INSTA_UPDATE").is_some() {
        return false;
    }
    let current = std::thread::current();
    let test = current
        .name()
        .expect("libtest names a test's thread after it");
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = Command::new(exe)
        .args([test, "--exact", "--test-threads=1"])
        .env("INSTA_UPDATE", "always")
        .output()
        .expect("run the test again");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "{test} with INSTA_UPDATE=always failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

/// Renders `fleets/<fleet>` and compares it with `tests/golden/<name>.snap`.
fn renders_as_recorded(name: &str, fleet: &str) {
    if rerun_to_update() {
        return;
    }
    let fleet = repo().join("fleets").join(fleet);
    let out = Test::new()
        .args(&["render", fleet.to_str().expect("utf-8 path")])
        .success()
        .stdout;
    // insta compares text with trailing whitespace trimmed and CRLF read as LF; the
    // bytes that leaves out are checked here.
    assert!(
        out.ends_with('\n') && !out.ends_with("\n\n"),
        "the render does not end in exactly one newline"
    );
    assert!(!out.contains('\r'), "the render has a carriage return");
    let relative = fleet
        .strip_prefix(repo())
        .expect("a fleet in the repository");
    snapshots_in("tests/golden", relative).bind(|| insta::assert_snapshot!(name, out));
}

#[test]
fn swarm_renders_as_recorded() {
    renders_as_recorded("swarm", "swarm.yaml");
}

#[test]
fn teams_renders_as_recorded() {
    renders_as_recorded("teams", "teams.yaml");
}

#[test]
fn homelab_renders_as_recorded() {
    renders_as_recorded("homelab", "homelab.yaml");
}

#[test]
fn household_renders_as_recorded() {
    renders_as_recorded("household", "household.yaml");
}

#[test]
fn knowledge_renders_as_recorded() {
    renders_as_recorded("knowledge", "knowledge.yaml");
}

#[test]
fn starter_renders_as_recorded() {
    renders_as_recorded("starter", "starter/fleet.yaml");
}

#[test]
fn official_renders_as_recorded() {
    renders_as_recorded("official", "official.yaml");
}
