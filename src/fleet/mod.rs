//! The fleet file: loading with source locations, the schema, layering and validation.
//!
//! `load` reads and decodes one file; `resolve` turns it into a [`ResolvedFleet`], every
//! agent with its layers merged, policy applied and referenced files read, or into
//! diagnostics naming file, line, column and field.

mod decode;
mod guardrails;
mod layering;
mod load;
pub mod model;
mod resolve;
mod rules;
pub mod self_service;
mod units;

pub(crate) use load::read_limited;
pub use load::{Loaded, load, load_str};
pub use resolve::{
    ResolvedAgent, ResolvedFleet, ResolvedHosted, ResolvedPod, ResolvedSelfService,
    ResolvedSidecar, ResolvedTeam, Subject, resolve, resolve_with_claims,
};
pub use units::{Duration, Quantity};

/// Checks a Kubernetes object name (a DNS-1123 subdomain).
pub fn check_object_name(name: &str) -> Result<(), String> {
    rules::dns_subdomain(name)
}
