//! A fake Kubernetes API server for clawctl's tests: real HTTP on 127.0.0.1, reached through a generated kubeconfig.

pub mod ssa;
