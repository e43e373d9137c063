//! Integration tests: the real `clawctl` binary, run the way people and CI run it.

mod harness;

mod bad_input;
mod ci;
mod cluster;
mod completions;
mod docs;
mod e2e;
mod e2e_admission;
mod e2e_hostile;
mod e2e_rollout;
mod exec;
mod golden;
mod history;
mod hostile;
mod idle;
mod injection;
mod knowledge;
mod reference;
mod render;
mod rollout;
mod scenarios;
mod self_service;
mod settings;
mod snapshot;
mod snapshot_archive;
mod snapshot_bucket;
mod snapshot_excludes;
mod snapshot_hostile;
mod snapshot_iam;
mod suspend;
