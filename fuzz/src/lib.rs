//! The bodies of the fuzz targets, shared by libFuzzer (`fuzz_targets/`, through `cargo
//! fuzz`) and the stable replay (`tests/replay.rs`, which `.ci/run` runs), so both run
//! the same code on an input. Each body returns normally for any input, refused or not;
//! a panic is a bug.

// `clawctl::yaml::check_parsers` exists only in a `--cfg fuzzing` build: cargo fuzz sets
// it, and so does `fuzz/.cargo/config.toml` for `cargo test` run in this folder.
#[cfg(not(fuzzing))]
compile_error!(
    "build the fuzz crate with RUSTFLAGS=\"--cfg fuzzing\" (cargo fuzz does; so does running cargo in fuzz/)"
);

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use clawctl::output::diagnostics;
use clawctl::render::Filter;
use clawctl::{ops, yaml};

/// The `fleet` target: any bytes as a fleet file, through what `clawctl validate` and
/// `clawctl render` do with it: load, validate, resolve, render (as manifests and as
/// YAML text), and print the diagnostics. Refusing the file is fine; a panic, a hang or
/// runaway memory is a bug.
pub fn fleet(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return; // `fleet::load` refuses it before parsing
    };
    if text.len() > yaml::MAX_INPUT_BYTES {
        return;
    }
    let dir = fleet_dir();
    // The diagnostics are printed with their source lines, read from the file they
    // name: one per thread, since the stable replay runs targets in parallel.
    let file = dir.join(format!("fleet-{}.yaml", thread_number()));
    let label = file.display().to_string();
    match ops::load_str(&label, dir.to_path_buf(), text) {
        Ok((_, fleet)) => {
            let _ = ops::validate_resolved(&fleet, None).map_err(|e| format!("{e:#}"));
            let _ = ops::render_resolved(&fleet, None, &Filter::default())
                .map_err(|e| format!("{e:#}"));
        }
        Err(diags) => {
            // As `validate` prints them.
            std::fs::write(&file, data).expect("write the fleet file");
            let mut out = Vec::new();
            diagnostics::write_human(&mut out, &diags, true).expect("write to memory");
            diagnostics::write_json(&mut out, &diags).expect("write to memory");
        }
    }
}

/// A small number for the current thread, the same on every call.
fn thread_number() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static NUMBER: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    NUMBER.with(|n| *n)
}

/// The `yaml` target: any text through the YAML layer of rendered manifests. The fast
/// parser must read what serde-saphyr reads whenever it reads anything, and what
/// serde-saphyr reads must come back unchanged from the emitter
/// (`clawctl::yaml::check_parsers`).
pub fn yaml(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        yaml::check_parsers(text);
    }
}

/// The fleet file's folder: the files the example fleets and the bad-input cases refer
/// to (souls, an AGENTS.md, a folder where a file belongs), copied once into
/// `$TMPDIR/clawctl-fuzz-<pid>/` (left there).
fn fleet_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let dir = std::env::temp_dir().join(format!("clawctl-fuzz-{}", std::process::id()));
        let copies = [
            ("fleets/souls", "souls"),
            ("fleets/agents", "agents"),
            ("fleets/starter/souls", "souls"),
            ("tests/bad_input/souls/folder-soul", "souls/folder-soul"),
        ];
        for (from, to) in copies {
            let to = dir.join(to);
            std::fs::create_dir_all(&to).expect("create the fleet's folder");
            for entry in std::fs::read_dir(repo.join(from)).expect("list fixture files") {
                let path = entry.expect("fixture entry").path();
                if path.is_file() {
                    std::fs::copy(&path, to.join(path.file_name().expect("file name")))
                        .expect("copy a fixture file");
                }
            }
        }
        dir
    })
}
