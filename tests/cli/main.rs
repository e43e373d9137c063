//! Integration tests: the real `clawctl` binary, run the way people and CI run it.

mod harness;

mod bad_input;
mod cluster;
mod completions;
mod e2e;
mod golden;
mod injection;
mod render;
mod rollout;
