//! The fuzz targets on the stable toolchain, for CI: every input of the corpus kept in
//! the repository first (`fuzz/corpus/<target>/` and the repository's own fleet files,
//! broken fleet files and golden renders), then random inputs mutated from it with the
//! dictionary (`fuzz/fleet.dict`) for a bounded time, `CLAWCTL_FUZZ_SECONDS` per target
//! (default 5). proptest draws the inputs and shrinks one that panics; the shrunk input
//! is written to `fuzz/artifacts/<target>/` so `cargo fuzz run <target> <file>` replays
//! it too. Unlike libFuzzer this is not guided by coverage: it is the floor CI keeps,
//! and `cargo fuzz` is the tool for looking further.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, TestError, TestRunner};

/// A fuzz target: its name (as in `cargo fuzz run NAME`), its body, and the folders of
/// the repository whose files seed it besides `fuzz/corpus/NAME/`.
struct Target {
    name: &'static str,
    body: fn(&[u8]),
    seeds: &'static [&'static str],
}

const FLEET: Target = Target {
    name: "fleet",
    body: clawctl_fuzz::fleet,
    seeds: &["fleets", "tests/bad_input"],
};

const YAML: Target = Target {
    name: "yaml",
    body: clawctl_fuzz::yaml,
    seeds: &["fleets", "tests/bad_input", "tests/golden"],
};

/// Fewer inputs than this means a corpus folder was lost or moved.
const MIN_CORPUS: usize = 100;

#[test]
fn fleet_survives_its_corpus() {
    replay(&FLEET);
}

#[test]
fn yaml_survives_its_corpus() {
    replay(&YAML);
}

#[test]
fn fleet_survives_random_inputs() {
    explore(&FLEET);
}

#[test]
fn yaml_survives_random_inputs() {
    explore(&YAML);
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("fuzz/ is inside the repository")
        .to_path_buf()
}

/// Every file under `dir`, recursively, sorted; none when `dir` does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("read a folder entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The corpus of `target`: its committed inputs, then its seeds from the repository,
/// each with its path from the repository's root.
fn corpus(target: &Target) -> Vec<(String, Vec<u8>)> {
    let root = repo();
    let committed = format!("fuzz/corpus/{}", target.name);
    std::iter::once(committed.as_str())
        .chain(target.seeds.iter().copied())
        .flat_map(|dir| files(&root.join(dir)))
        .map(|path| {
            let data = std::fs::read(&path).expect("read a corpus file");
            let name = path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .display()
                .to_string();
            (name, data)
        })
        .collect()
}

/// Runs `body` on `data`; a panic becomes its message.
fn run(body: fn(&[u8]), data: &[u8]) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| body(data))).map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic without a message".to_string())
    })
}

fn replay(target: &Target) {
    let started = Instant::now();
    let corpus = corpus(target);
    let committed = corpus
        .iter()
        .filter(|(name, _)| name.starts_with("fuzz/corpus/"))
        .count();
    assert!(
        corpus.len() >= MIN_CORPUS,
        "{}: only {} corpus inputs (expected at least {MIN_CORPUS})",
        target.name,
        corpus.len()
    );
    let failures: Vec<String> = corpus
        .iter()
        .filter_map(|(name, data)| run(target.body, data).err().map(|e| format!("{name}: {e}")))
        .collect();
    println!(
        "{}: replayed {} inputs ({committed} from fuzz/corpus/{}, the rest the repository's) in {:.1} s",
        target.name,
        corpus.len(),
        target.name,
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{}: {} corpus inputs panicked:\n{}",
        target.name,
        failures.len(),
        failures.join("\n")
    );
}

/// The seconds each target gets for random inputs.
fn budget() -> Duration {
    let seconds = match std::env::var("CLAWCTL_FUZZ_SECONDS") {
        Ok(s) => s
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s > 0.0)
            .unwrap_or_else(|| panic!("CLAWCTL_FUZZ_SECONDS={s:?} is not a positive number")),
        Err(_) => 5.0,
    };
    Duration::from_secs_f64(seconds)
}

/// The dictionary's tokens (libFuzzer's format: one `"..."` per line, `\\`, `\"` and
/// `\xHH` escapes, `#` comments).
fn dictionary() -> Vec<Vec<u8>> {
    let path = repo().join("fuzz/fleet.dict");
    let text = std::fs::read_to_string(&path).expect("read fuzz/fleet.dict");
    let mut tokens = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let quoted = line
            .find('"')
            .map(|start| &line[start..])
            .filter(|q| q.len() >= 2 && q.ends_with('"'))
            .unwrap_or_else(|| panic!("fuzz/fleet.dict: not a token: {line}"));
        let inner = &quoted.as_bytes()[1..quoted.len() - 1];
        let mut token = Vec::new();
        let mut i = 0;
        while i < inner.len() {
            match (inner[i], inner.get(i + 1)) {
                (b'\\', Some(b'x')) => {
                    let hex = std::str::from_utf8(&inner[i + 2..i + 4]).expect("hex digits");
                    token.push(u8::from_str_radix(hex, 16).expect("a \\xHH escape"));
                    i += 4;
                }
                (b'\\', Some(&c)) => {
                    token.push(c);
                    i += 2;
                }
                (c, _) => {
                    token.push(c);
                    i += 1;
                }
            }
        }
        tokens.push(token);
    }
    assert!(
        tokens.len() > 50,
        "fuzz/fleet.dict: only {} tokens",
        tokens.len()
    );
    tokens
}

/// One edit of an input; places are fractions of its length.
#[derive(Debug, Clone)]
enum Edit {
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    Replace(Index, usize, Vec<u8>),
    /// Copies `len` bytes from one place to another (a line repeated, a block moved).
    Copy(Index, usize, Index),
}

impl Edit {
    fn apply(&self, data: &mut Vec<u8>) {
        let at = |i: &Index, data: &Vec<u8>| i.index(data.len() + 1);
        match self {
            Edit::Insert(i, bytes) => {
                let at = at(i, data);
                data.splice(at..at, bytes.iter().copied());
            }
            Edit::Delete(i, len) => {
                let at = at(i, data);
                let end = (at + len).min(data.len());
                data.drain(at..end);
            }
            Edit::Replace(i, len, bytes) => {
                let at = at(i, data);
                let end = (at + len).min(data.len());
                data.splice(at..end, bytes.iter().copied());
            }
            Edit::Copy(from, len, to) => {
                let from = at(from, data);
                let end = (from + len).min(data.len());
                let bytes = data[from..end].to_vec();
                let to = at(to, data);
                data.splice(to..to, bytes);
            }
        }
    }
}

/// Inputs for `target`: mostly corpus inputs with a few edits that insert dictionary
/// tokens or random bytes, else strings of tokens, else random bytes.
fn inputs(corpus: Vec<Vec<u8>>, dictionary: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => select(dictionary.clone()),
        1 => vec(any::<u8>(), 1..4),
    ];
    let edit = prop_oneof![
        (any::<Index>(), piece.clone()).prop_map(|(at, bytes)| Edit::Insert(at, bytes)),
        (any::<Index>(), 1..32usize).prop_map(|(at, len)| Edit::Delete(at, len)),
        (any::<Index>(), 1..8usize, piece).prop_map(|(at, len, b)| Edit::Replace(at, len, b)),
        (any::<Index>(), 1..64usize, any::<Index>()).prop_map(|(f, len, t)| Edit::Copy(f, len, t)),
    ];
    prop_oneof![
        8 => (select(corpus), vec(edit, 1..8)).prop_map(|(mut data, edits)| {
            for edit in &edits {
                edit.apply(&mut data);
            }
            data
        }),
        1 => vec(select(dictionary), 0..32).prop_map(|tokens| tokens.concat()),
        1 => vec(any::<u8>(), 0..128),
    ]
}

fn explore(target: &Target) {
    let budget = budget();
    let corpus: Vec<Vec<u8>> = corpus(target).into_iter().map(|(_, data)| data).collect();
    assert!(corpus.len() >= MIN_CORPUS, "{}: corpus lost", target.name);
    let strategy = inputs(corpus, dictionary());
    let started = Instant::now();
    let mut cases = 0u64;
    while started.elapsed() < budget {
        // Batches from fresh random seeds until the budget is spent.
        let config = Config {
            cases: 16,
            failure_persistence: None,
            max_shrink_time: 120_000,
            ..Config::default()
        };
        let result = TestRunner::new(config).run(&strategy, |data| {
            (target.body)(&data);
            Ok(())
        });
        match result {
            Ok(()) => cases += 16,
            Err(TestError::Fail(reason, data)) => {
                let saved = save_artifact(target, &data);
                panic!(
                    "{}: an input panicked after {cases} passed: {reason}\nshrunk to {} bytes, saved to {} (replay it with `cargo fuzz run {} <file>`; once fixed, add it to fuzz/corpus/{}/):\n{:?}",
                    target.name,
                    data.len(),
                    saved.display(),
                    target.name,
                    target.name,
                    String::from_utf8_lossy(&data)
                );
            }
            Err(TestError::Abort(reason)) => panic!("{}: proptest gave up: {reason}", target.name),
        }
    }
    println!(
        "{}: {cases} random inputs in {:.1} s (CLAWCTL_FUZZ_SECONDS={})",
        target.name,
        started.elapsed().as_secs_f64(),
        budget.as_secs_f64()
    );
    assert!(cases > 0, "{}: no random input ran", target.name);
}

/// Writes a failing input where libFuzzer writes its crashes, named by its content.
fn save_artifact(target: &Target, data: &[u8]) -> PathBuf {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    data.hash(&mut hasher);
    let dir = repo().join("fuzz/artifacts").join(target.name);
    std::fs::create_dir_all(&dir).expect("create fuzz/artifacts/<target>");
    let path = dir.join(format!("replay-{:016x}", hasher.finish()));
    std::fs::write(&path, data).expect("write the failing input");
    path
}
