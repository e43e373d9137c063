//! A small builder around the `clawctl` binary: a temporary folder with files, the
//! arguments, and assertions on exit code, stdout and stderr; golden files. Its modules
//! hold what the tests share: where a scenario runs ([`backend`]) and what it reads and
//! writes there, the fake API server's own fixtures ([`fake`]), clawctl's JSON output
//! ([`report`]), rollouts ([`rollout`]), and `pods/exec` played on this machine
//! ([`volumes`]).

pub(crate) mod agents;
pub(crate) mod backend;
pub(crate) mod fake;
pub(crate) mod fleets;
pub(crate) mod objects;
pub(crate) mod report;
pub(crate) mod rollout;
pub(crate) mod volumes;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (for the example fleets).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub struct Test {
    dir: tempfile::TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Test {
    pub fn new() -> Self {
        Test {
            dir: tempfile::tempdir().expect("temp dir"),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// Sets an environment variable for clawctl.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Writes `text` to `rel` inside the test's folder (folders created as needed).
    pub fn file(self, rel: &str, text: &str) -> Self {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
        self
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|s| s.to_string()));
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs clawctl in the test's folder.
    pub fn run(&self) -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_clawctl"))
            .args(&self.args)
            .current_dir(self.dir.path())
            .env_remove("NO_COLOR")
            // Never a real cluster by accident: no kubeconfig, no in-cluster account,
            // and a HOME without ~/.kube unless a test sets one.
            .env_remove("KUBECONFIG")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env("HOME", self.dir.path())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .expect("run clawctl");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn success(&self) -> Output {
        let out = self.run();
        assert_eq!(
            out.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            out.stdout, out.stderr
        );
        out
    }

    /// Runs and expects exit code `code`.
    pub fn fails(&self, code: i32) -> Output {
        let out = self.run();
        assert_eq!(
            out.code, code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            out.stdout, out.stderr
        );
        assert!(
            !out.stderr.contains("panicked"),
            "clawctl panicked:\n{}",
            out.stderr
        );
        out
    }
}

/// Compares `actual` with the file `rel` (from the repository's root), such as a
/// generated page of the book, printing a diff when they differ; rewrites the file when
/// CLAWCTL_UPDATE_GOLDEN=1. (Golden renders are insta snapshots: tests/cli/golden.rs.)
pub fn golden_file(rel: &str, actual: &str) {
    let path = repo().join(rel);
    if std::env::var_os("CLAWCTL_UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing golden file {}; run with CLAWCTL_UPDATE_GOLDEN=1",
            path.display()
        )
    });
    if expected != actual {
        // A unified diff of what changed, so a reviewer sees it without rerunning.
        let diff = similar::TextDiff::from_lines(expected.as_str(), actual)
            .unified_diff()
            .context_radius(2)
            .header("golden", "actual")
            .to_string();
        let shown: String = diff.lines().take(120).collect::<Vec<_>>().join("\n");
        panic!(
            "{} differs from the output; run with CLAWCTL_UPDATE_GOLDEN=1 to accept:\n{shown}",
            path.display()
        );
    }
}
