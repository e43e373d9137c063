//! Fuzz target: any bytes as a fleet file, through what `clawctl validate` and
//! `clawctl render` do with it ([`clawctl_fuzz::fleet`]).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| clawctl_fuzz::fleet(data));
