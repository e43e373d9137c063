//! Fuzz target: any text through the YAML layer of rendered manifests. The fast parser
//! must read what serde-saphyr reads whenever it reads anything, and what serde-saphyr
//! reads must come back unchanged from the emitter (`clawctl::yaml::check_parsers`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        clawctl::yaml::check_parsers(text);
    }
});
