//! Issue 19's scenarios (`crate::scenarios::admission`) against a real API server, ignored
//! unless asked for:
//! `CLAWCTL_E2E_KUBECONFIG=~/.kube/config cargo test --test cli e2e_admission -- --ignored`.
//! Each on its own [`crate::harness::backend::Backend::cluster`], as `e2e.rs` describes.

use crate::harness::backend::on_a_cluster;

on_a_cluster!(
    admission: the_example_fleets_pods_are_admitted_by_a_restricted_namespace,
    the_homelab_example_applies_and_becomes_ready_under_restricted,
);
