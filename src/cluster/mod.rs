//! Everything that talks to (or reasons about) a Kubernetes API server. Today: the
//! readiness rules; the client, apply, inventory and lease come with the cluster engine.

pub mod readiness;
