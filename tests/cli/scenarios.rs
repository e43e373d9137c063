//! Scenarios written once over a [`crate::harness::backend::Backend`]: each runs on the
//! in-process fake API server (from the test file of its topic, in `cargo test`) and on a
//! real cluster (from an `e2e*.rs` file, ignored unless asked for).

pub(crate) mod admission;
pub(crate) mod apply;
pub(crate) mod hostile;
pub(crate) mod quickstart;
pub(crate) mod rollout;
pub(crate) mod snapshot;
