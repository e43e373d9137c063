//! The scenarios of `cluster.rs` (`crate::scenarios::apply`, `::snapshot`) against a real
//! cluster, ignored unless asked for:
//! `CLAWCTL_E2E_KUBECONFIG=~/.kube/config cargo test --test cli e2e -- --ignored`.
//!
//! Each runs on its own [`crate::harness::backend::Backend::cluster`]: its own fleet, fleet namespace and team
//! namespaces, named after a suffix of the time, the process id and a counter so runs
//! never collide, and deleted when the test ends, failed or not. Asked for with
//! `--ignored` but without `CLAWCTL_E2E_KUBECONFIG`, a test fails naming the variable.
//!
//! Where the fake API server counts requests, the scenarios compare resourceVersions
//! (objects no controller writes) and Deployment generations before and after on both.
//! The fake's crash-looping image has no real equivalent: an unpullable tag (ErrImagePull)
//! is the failure both backends run. Left out, because a real cluster offers no
//! equivalent: retried and hard faults (injected 500/429/dropped connections), the 403
//! message (the fake denies one verb on one resource; a real cluster would need RBAC and a
//! second identity), the exact request order of a first apply (checked here only through
//! creation timestamps, to the second), and the scenarios that need no cluster at all
//! (no or an unreachable cluster), which `cluster.rs` already runs everywhere.
//!
//! Issue 17: the fleets adopt team namespaces a platform team made
//! (`Backend::platform_namespace`, before the first apply, with the Secret holding the
//! gateway token that every agent loads through `secrets`), listed in `adoptNamespaces`;
//! the cleanup deletes them even if no apply ever labelled them. The lock is the ConfigMap
//! `clawctl-<fleet>-lock`, history the revision Secrets in the agents' namespaces; nothing
//! cluster-scoped but Namespaces is written. The admin's kubeconfig must be able to create
//! Namespaces, Secrets, ServiceAccounts, RoleBindings and TokenRequests, and read
//! ClusterRoles and kube-system's RoleBindings.
//!
//! Needs: a Kubernetes 1.30+ cluster (kind, k3d, ...) with a default StorageClass;
//! for the scenarios that wait for readiness, nodes able to pull the OpenClaw image
//! (or `CLAWCTL_E2E_IMAGE` naming a pinned mirror of it).

use crate::harness::backend::on_a_cluster;

on_a_cluster!(
    apply: first_apply_creates_everything_and_waits_then_reapply_writes_nothing,
    a_bare_fleet_with_loose_quantities_reapplied_writes_nothing,
    a_soul_edit_updates_one_configmap_and_restarts_one_pod,
    suspend_keeps_the_volume_and_service_apply_keeps_it_suspended_and_resume_starts_it,
    an_unpullable_image_fails_apply_fast_with_the_pods_reason,
    drift_by_another_manager_shows_in_diff_and_only_force_takes_it_back,
    prune_deletes_a_removed_agent_but_keeps_its_volume,
    delete_volumes_needs_a_typed_confirmation_or_yes,
    a_namespace_holding_a_volume_is_never_pruned,
    a_held_lock_refuses_a_second_apply_and_an_expired_one_is_taken_over,
    without_a_terminal_apply_asks_for_yes_and_changes_nothing,
    dry_run_server_stores_nothing,
    secrets_never_appear_in_any_output,
    a_storage_class_that_does_not_exist_is_refused_before_anything_is_written,
    a_multi_agent_gateway_is_one_pod_with_a_workspace_volume_per_agent,
);

on_a_cluster!(
    snapshot: a_snapshot_job_is_accepted_and_its_failure_reported,
    a_brain_goes_to_a_local_archive_and_into_another_agent,
);

// The README's quick start after `kind create cluster`: its commands on a real cluster.
on_a_cluster!(quickstart: the_readme_quick_start_reaches_a_first_apply);
