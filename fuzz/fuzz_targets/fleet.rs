//! Fuzz target: any bytes as a fleet file, through what `clawctl validate` and
//! `clawctl render` do with it: load, validate, resolve, render (as manifests and as
//! YAML text), and print the diagnostics. Refusing the file is fine; a panic, a hang or
//! runaway memory is a bug.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use clawctl::output::diagnostics;
use clawctl::render::Filter;
use clawctl::{ops, yaml};
use libfuzzer_sys::fuzz_target;

/// The fleet file's folder: the files the example fleets and the bad-input cases refer
/// to (souls, an AGENTS.md, a folder where a file belongs), copied once.
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

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return; // `fleet::load` refuses it before parsing
    };
    if text.len() > yaml::MAX_INPUT_BYTES {
        return;
    }
    let dir = fleet_dir();
    let file = dir.join("fleet.yaml");
    let label = file.display().to_string();
    match ops::load_str(&label, dir.to_path_buf(), text) {
        Ok((_, fleet)) => {
            let _ = ops::validate_resolved(&fleet, None).map_err(|e| format!("{e:#}"));
            let _ = ops::render_resolved(&fleet, None, &Filter::default())
                .map_err(|e| format!("{e:#}"));
        }
        Err(diags) => {
            // As `validate` prints them, with the offending source lines.
            std::fs::write(&file, data).expect("write the fleet file");
            let mut out = Vec::new();
            diagnostics::write_human(&mut out, &diags, true).expect("write to memory");
            diagnostics::write_json(&mut out, &diags).expect("write to memory");
        }
    }
});
