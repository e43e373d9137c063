//! clawctl: provision and operate fleets of OpenClaw agents on Kubernetes.
//!
//! Dependencies flow one way: `commands` -> {`ops`, `output`}; `ops` -> {`fleet`,
//! `render`}; `render` -> {`fleet`, `openclaw`, `yaml`}; `fleet` -> {`diag`, `yaml`}.

pub mod brain;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod diag;
pub mod error;
pub mod fleet;
pub mod interrupt;
pub mod knowledge;
pub mod names;
pub mod openclaw;
pub mod ops;
pub mod output;
pub mod ownership;
pub mod plan;
pub mod prompt;
pub mod render;
pub mod snapshot;
pub mod yaml;
