//! Golden files of `render` for every example fleet (CLAWCTL_UPDATE_GOLDEN=1 rewrites).

use crate::harness::{Test, golden, repo};

fn render_example(name: &str) -> String {
    let fleet = repo().join("fleets").join(format!("{name}.yaml"));
    let fleet = fleet.to_str().expect("utf-8 path");
    Test::new().args(&["render", fleet]).success().stdout
}

#[test]
fn swarm_renders_as_recorded() {
    golden("swarm.yaml", &render_example("swarm"));
}

#[test]
fn teams_renders_as_recorded() {
    golden("teams.yaml", &render_example("teams"));
}

#[test]
fn homelab_renders_as_recorded() {
    golden("homelab.yaml", &render_example("homelab"));
}

#[test]
fn household_renders_as_recorded() {
    golden("household.yaml", &render_example("household"));
}

#[test]
fn knowledge_renders_as_recorded() {
    golden("knowledge.yaml", &render_example("knowledge"));
}

#[test]
fn starter_renders_as_recorded() {
    golden("starter.yaml", &render_example("starter/fleet"));
}

#[test]
fn official_renders_as_recorded() {
    golden("official.yaml", &render_example("official"));
}
