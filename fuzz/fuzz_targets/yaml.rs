//! Fuzz target: any text through the YAML layer of rendered manifests
//! ([`clawctl_fuzz::yaml`]).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| clawctl_fuzz::yaml(data));
