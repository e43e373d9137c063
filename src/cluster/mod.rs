//! Everything that talks to (or reasons about) a Kubernetes API server; the only
//! module that names `kube::Api`.

pub mod access;
pub mod applyset;
pub mod client;
pub mod condition;
pub mod errors;
pub mod exec;
pub mod gate;
pub mod history;
pub mod idle;
pub mod jobs;
pub mod kinds;
pub mod lease;
pub mod objects;
pub mod readiness;
pub mod retry;
pub mod scoped;
pub mod secrets;
pub mod self_service;
pub mod storage;
pub mod suspend;
pub mod tokens;
pub mod wait;
pub mod warnings;

pub use client::{Cluster, Target};
