//! The rollout scenarios (`crate::scenarios::rollout`) against a real cluster, ignored
//! unless asked for:
//! `CLAWCTL_E2E_KUBECONFIG=~/.kube/config cargo test --test cli e2e_rollout -- --ignored --test-threads=1`.
//! Each on its own [`crate::harness::backend::Backend::cluster`], as `e2e.rs` describes.
//!
//! The target of a healthy rollout is `CLAWCTL_E2E_IMAGE_NEXT` when set, else the first
//! image pinned by the digest its pods run: another reference to the same bytes, so every
//! agent moves and restarts without a second release to pull
//! ([`crate::harness::rollout::pinned`], checked here without a cluster).

use crate::harness::backend::on_a_cluster;
use crate::harness::rollout::pinned;

on_a_cluster!(
    rollout: a_healthy_rollout_moves_the_canary_then_the_waves_in_order,
    an_unpullable_tag_fails_at_the_canary_and_only_the_canary_is_rolled_back,
    canary_then_promote,
    sigint_during_a_wave_records_state_then_resume_completes,
    sigterm_then_abort_restores_every_touched_agent,
    a_killed_rollout_leaves_a_lock_that_the_next_run_on_this_host_takes_over,
    a_concurrent_rollout_is_refused_by_the_lock,
    apply_with_a_new_image_runs_the_rollout_strategy_unless_all_at_once,
    team_scoped_credentials_run_every_command,
);

#[test]
fn the_default_target_is_the_first_image_pinned_by_its_digest() {
    let digest = format!("sha256:{}", "ab12".repeat(16));
    let image = "ghcr.io/openclaw/openclaw:2026.4.14";
    let pinned_image = format!("ghcr.io/openclaw/openclaw@{digest}");
    for image_id in [
        format!("ghcr.io/openclaw/openclaw@{digest}"),
        format!("docker-pullable://ghcr.io/openclaw/openclaw@{digest}"),
        format!("{image}@{digest}"),
    ] {
        assert_eq!(pinned(image, &image_id), Some(pinned_image.clone()));
    }
    assert_eq!(
        pinned("localhost:5000/openclaw:v1", &format!("x@{digest}")),
        Some(format!("localhost:5000/openclaw@{digest}"))
    );
    assert_eq!(
        pinned("localhost:5000/openclaw", &format!("x@{digest}")),
        Some(format!("localhost:5000/openclaw@{digest}"))
    );
    // An image config id is no pull reference; neither is nothing.
    assert_eq!(pinned(image, &digest), None);
    assert_eq!(pinned(image, ""), None);
    assert_eq!(pinned(image, "x@sha256:abc"), None);
}
