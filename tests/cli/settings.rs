//! A setting added in three places (the fleet model, the template context, a template):
//! `imagePullSecrets` layers like any other setting, reaches the pod, and a bad name is
//! refused where it is written, before anything is rendered.

use clawctl::yaml::parse_documents;
use serde_json::{Value, json};

use crate::harness::Test;

const FLEET: &str = r#"apiVersion: clawctl.io/v1alpha1
kind: Fleet
metadata:
  name: pulls
spec:
  image: ghcr.io/openclaw/openclaw:2026.4.14
  defaults:
    model: {primary: anthropic/claude-sonnet-4-20250514}
    secrets: [openclaw-secrets]
    imagePullSecrets: [mirror-creds]
  teams:
    - name: red
    - name: blue
      defaults:
        imagePullSecrets: [blue-creds, mirror-creds]
  agents:
    - {name: alice, team: red}
    - {name: bob, team: blue}
    - {name: carol, team: red, imagePullSecrets: []}
"#;

/// The pod spec of each agent's Deployment, by agent.
fn pod_specs(yaml: &str) -> Vec<(String, Value)> {
    parse_documents(yaml)
        .expect("rendered output parses")
        .into_iter()
        .filter(|d| d["kind"] == "Deployment")
        .map(|d| {
            let agent = d["metadata"]["labels"]["clawctl.io/agent"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (agent, d["spec"]["template"]["spec"].clone())
        })
        .collect()
}

#[test]
fn image_pull_secrets_layer_and_reach_the_pod() {
    let out = Test::new()
        .file("fleet.yaml", FLEET)
        .args(&["render", "fleet.yaml"])
        .success();
    let pods = pod_specs(&out.stdout);
    assert_eq!(pods.len(), 3, "{}", out.stdout);
    for (agent, spec) in &pods {
        let want = match agent.as_str() {
            "alice" => json!([{"name": "mirror-creds"}]),
            "bob" => json!([{"name": "blue-creds"}, {"name": "mirror-creds"}]),
            // An empty list replaces the layers below, and is not written at all: the
            // API server drops an empty `imagePullSecrets`, so `[]` would differ from
            // the live object at every diff.
            "carol" => Value::Null,
            other => panic!("unexpected agent {other}"),
        };
        assert_eq!(spec["imagePullSecrets"], want, "{agent}");
    }
}

#[test]
fn a_bad_image_pull_secret_name_is_refused_where_it_is_written() {
    let out = Test::new()
        .file(
            "fleet.yaml",
            &FLEET.replace("[blue-creds, mirror-creds]", "[blue-creds, Mirror_Creds]"),
        )
        .args(&["render", "fleet.yaml"])
        .fails(2);
    assert!(out.stdout.is_empty(), "rendered anyway:\n{}", out.stdout);
    assert!(
        out.stderr.contains(
            "fleet.yaml:15:27: spec.teams[1].defaults.imagePullSecrets: \"Mirror_Creds\""
        ),
        "no file:line:column and field: {}",
        out.stderr
    );
    assert!(out.stderr.contains("Mirror_Creds"), "{}", out.stderr);
}
