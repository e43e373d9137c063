//! Issue 17's hostile-tenant scenarios (`crate::scenarios::hostile`) against a real
//! cluster, ignored unless asked for:
//! `CLAWCTL_E2E_KUBECONFIG=~/.kube/config cargo test --test cli e2e_hostile -- --ignored --test-threads=1`.
//! Each on its own [`crate::harness::backend::Backend::cluster`], as `e2e.rs` describes.

use crate::harness::backend::on_a_cluster;

on_a_cluster!(
    hostile: a_revision_planted_outside_the_fleets_namespaces_is_never_read,
    a_revision_holding_foreign_objects_is_refused_and_never_applied,
    a_planted_newer_revision_does_not_block_the_default_rollback,
    a_second_fleet_with_the_same_agent_writes_nothing,
    a_namespace_clawctl_did_not_create_is_adopted_only_when_named_and_never_deleted,
    a_team_with_only_admin_in_its_namespaces_runs_every_command_from_the_first_apply,
    a_revision_with_the_agents_names_but_foreign_content_is_refused,
);
