//! The bad-input corpus: every `tests/bad_input/NN-name.yaml` is a broken fleet file,
//! and `NN-name.snap` next to it (an insta snapshot) holds the diagnostics `clawctl
//! validate` must print for it, one per line, in `Diagnostic`'s Display form
//! (`file:line:column: path: message`). A mismatch prints a diff.
//!
//! Run with `CLAWCTL_UPDATE_GOLDEN=1` (or `INSTA_UPDATE=always`) to rewrite the `.snap`
//! files from the actual output; then read every changed one before committing it.
//!
//! Inputs too big to commit (a huge file, deep nesting, an alias bomb) are generated
//! into a temporary folder by the tests at the end of this file.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::golden::{rerun_to_update, snapshots_in};
use crate::harness::{self, Test};

/// The corpus must not shrink by accident.
const MIN_CASES: usize = 30;

fn corpus_dir() -> PathBuf {
    harness::repo().join("tests/bad_input")
}

/// Every `*.yaml` case directly in the corpus folder, sorted by name.
fn cases(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("read_dir entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| {
            p.file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// One diagnostic of `validate -o json`, in the form `Diagnostic`'s Display prints
/// (src/diag.rs): the location is left out when the line is 0, the path when empty, and
/// the agents a shared layer's problem concerns (`agents`, data in the JSON) named last.
fn display(d: &serde_json::Value) -> Result<String, String> {
    let field = |name: &str| {
        d.get(name)
            .ok_or_else(|| format!("diagnostic without `{name}`: {d}"))
    };
    let text = |name: &str| -> Result<String, String> {
        field(name)?
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("`{name}` is not a string: {d}"))
    };
    let number = |name: &str| -> Result<u64, String> {
        field(name)?
            .as_u64()
            .ok_or_else(|| format!("`{name}` is not a number: {d}"))
    };
    let (file, line, column, path, message) = (
        text("file")?,
        number("line")?,
        number("column")?,
        text("path")?,
        text("message")?,
    );
    let mut out = file;
    if line > 0 {
        write!(out, ":{line}:{column}").expect("write to String");
    }
    if !path.is_empty() {
        write!(out, ": {path}").expect("write to String");
    }
    write!(out, ": {message}").expect("write to String");
    if let Some(agents) = d.get("agents") {
        let names: Vec<&str> = agents
            .as_array()
            .ok_or_else(|| format!("`agents` is not a list: {d}"))?
            .iter()
            .map(|a| {
                a.as_str()
                    .ok_or_else(|| format!("an agent is not a string: {d}"))
            })
            .collect::<Result<_, _>>()?;
        if names.is_empty() {
            return Err(format!("`agents` is present but empty: {d}"));
        }
        write!(out, " (for {})", clawctl::diag::agents_phrase(&names)).expect("write to String");
    }
    Ok(out)
}

/// Parses the JSON list `validate -o json` prints into Display lines.
fn diagnostic_lines(stdout: &str) -> Result<Vec<String>, String> {
    let value: serde_json::Value =
        serde_json::from_str(stdout).map_err(|e| format!("stdout is not JSON ({e}):\n{stdout}"))?;
    let list = value
        .as_array()
        .ok_or_else(|| format!("stdout is not a JSON list:\n{stdout}"))?;
    list.iter().map(display).collect()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the real binary in `dir`, as a person would: `clawctl validate FILE -o json`.
fn validate_json(dir: &Path, file: &str) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_clawctl"))
        .args(["validate", file, "-o", "json"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run clawctl");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Checks one case; returns what is wrong with it, if anything. A difference from the
/// recorded diagnostics is printed by insta as a diff.
fn check_case(dir: &Path, case: &str) -> Option<String> {
    let run = validate_json(dir, case);
    let mut problems = Vec::new();
    if run.code != 2 {
        problems.push(format!("exit code {} (expected 2)", run.code));
    }
    if run.stderr.contains("panicked") {
        problems.push(format!("clawctl panicked:\n{}", indent(&run.stderr)));
    }
    let actual = match diagnostic_lines(&run.stdout) {
        Ok(lines) => lines,
        Err(e) => {
            problems.push(format!("{e}\nstderr:\n{}", indent(&run.stderr)));
            return Some(format!("{case}:\n{}", indent(&problems.join("\n"))));
        }
    };
    if actual.is_empty() {
        problems.push("no diagnostics: the file was accepted".to_string());
    }
    let name = case.strip_suffix(".yaml").expect("a .yaml case");
    let input = Path::new("tests/bad_input").join(case);
    let recorded = std::panic::catch_unwind(|| {
        snapshots_in("tests/bad_input", &input)
            .bind(|| insta::assert_snapshot!(name, actual.join("\n")));
    });
    if recorded.is_err() {
        problems.push(format!(
            "diagnostics differ from {name}.snap (the diff is printed above)"
        ));
    }
    if problems.is_empty() {
        None
    } else {
        Some(format!("{case}:\n{}", indent(&problems.join("\n"))))
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_bad_input_case_gives_its_exact_diagnostics() {
    if rerun_to_update() {
        return;
    }
    let dir = corpus_dir();
    let cases = cases(&dir);
    assert!(
        cases.len() >= MIN_CASES,
        "the bad-input corpus has {} cases, expected at least {MIN_CASES}",
        cases.len()
    );
    // Recorded diagnostics without their case are a case that was lost.
    let mut failures: Vec<String> = std::fs::read_dir(&dir)
        .expect("list the corpus")
        .map(|entry| entry.expect("read_dir entry").path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "snap") && !p.with_extension("yaml").is_file()
        })
        .map(|p| format!("{}: a .snap file without its .yaml case", p.display()))
        .collect();
    failures.extend(cases.iter().filter_map(|case| check_case(&dir, case)));
    assert!(
        failures.is_empty(),
        "{} of {} bad-input cases failed (fix clawctl, or run with CLAWCTL_UPDATE_GOLDEN=1 and review the .snap files):\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// The start of a valid fleet; generated cases append to it.
const HEADER: &str = "apiVersion: clawctl.io/v1alpha1
kind: Fleet
metadata:
  name: acme
spec:
  image: ghcr.io/openclaw/openclaw:2026.4.14
";

/// Runs `validate` on `text` (written as fleet.yaml in a temporary folder), both as
/// JSON and for a person, and expects exit 2, one diagnostic containing one of
/// `expected`, and no panic. (Speed is the benchmark's business, not a test's.)
fn refused(text: &str, expected: &[&str]) {
    let test = Test::new().file("fleet.yaml", text);
    let run = validate_json(test.path(), "fleet.yaml");
    assert_eq!(
        run.code, 2,
        "expected exit 2\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(
        !run.stderr.contains("panicked"),
        "clawctl panicked:\n{}",
        run.stderr
    );
    let lines = diagnostic_lines(&run.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        lines.len(),
        1,
        "expected one diagnostic, got:\n{}",
        lines.join("\n")
    );
    assert!(
        lines[0].starts_with("fleet.yaml"),
        "the diagnostic should name the file: {}",
        lines[0]
    );
    let explains = |text: &str| expected.iter().any(|e| text.contains(e));
    assert!(
        explains(&lines[0]),
        "expected a diagnostic mentioning one of {expected:?}, got:\n{}",
        lines[0]
    );

    let human = test.args(&["validate", "fleet.yaml"]).fails(2);
    assert!(
        explains(&human.stderr),
        "stderr should explain the refusal:\n{}",
        human.stderr
    );
}

#[test]
fn a_file_over_32_mib_is_refused_without_reading_it_all() {
    let mut text = String::from(HEADER);
    let filler = format!("# {}\n", "x".repeat(1021));
    while text.len() <= 33 * 1024 * 1024 {
        text.push_str(&filler);
    }
    refused(&text, &["larger than"]);
}

#[test]
fn two_hundred_nested_flow_lists_are_refused() {
    let text = format!(
        "{HEADER}  defaults:\n    config: {{deep: {}1{}}}\n",
        "[".repeat(200),
        "]".repeat(200)
    );
    refused(&text, &["nested deeper than"]);
}

#[test]
fn a_hundred_nested_block_mappings_are_refused() {
    let mut text = format!("{HEADER}  defaults:\n    config:\n");
    for level in 0..100 {
        writeln!(text, "{}k{level}:", "  ".repeat(level + 3)).expect("write to String");
    }
    writeln!(text, "{}leaf: 1", "  ".repeat(103)).expect("write to String");
    refused(&text, &["nested deeper than"]);
}

#[test]
fn an_alias_bomb_is_refused() {
    // Nine levels of ten aliases each: 10^9 strings if expanded.
    let mut text = format!(
        "{HEADER}  defaults:\n    config:\n      l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    );
    for level in 1..=9 {
        let prev = format!("*l{}", level - 1);
        let list = [prev.as_str(); 10].join(", ");
        writeln!(text, "      l{level}: &l{level} [{list}]").expect("write to String");
    }
    // Depending on which budget trips first, the parser stops at the alias expansion or
    // at the node count; either is a clear refusal.
    refused(&text, &["alias bomb"]);
}
