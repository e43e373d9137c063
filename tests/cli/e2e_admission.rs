//! Issue 19 against a real API server, ignored unless asked for:
//! `CLAWCTL_E2E_KUBECONFIG=~/.kube/config cargo test --test cli e2e_admission -- --ignored`.
//!
//! What a team namespace enforces (`pod-security.kubernetes.io/enforce: restricted`, the
//! label clawctl renders) is the API server's Pod Security admission; this asks the server
//! itself, with dry-run pod creates in such a namespace, whether the pods of the example
//! fleets' Deployments are admitted (fleets/homelab.yaml's NAS is a claim now, not an
//! inline `nfs` volume), and that the inline `nfs` shape `validate` refuses is refused by
//! the server too, with the message the ReplicaSet controller would have recorded. A
//! dry run stores nothing, so the test needs neither the images nor the claims to exist.

use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{ObjectMeta, PostParams};
use serde_json::{Value, json};

use crate::e2e::E2e;
use crate::harness::{Test, repo};

/// The pod templates of every Deployment `render` gives for `fleet` (a path in fleets/).
fn pod_templates(fleet: &str) -> Vec<(String, Value)> {
    let out = Test::new()
        .args(&[
            "render",
            &repo().join("fleets").join(fleet).to_string_lossy(),
        ])
        .success()
        .stdout;
    let docs: Vec<Value> = serde_saphyr::from_multiple(&out).expect("rendered YAML");
    docs.into_iter()
        .filter(|d| d["kind"] == "Deployment")
        .map(|d| {
            let name = d["metadata"]["name"].as_str().unwrap_or("?").to_string();
            (name, d["spec"]["template"].clone())
        })
        .collect()
}

/// A dry-run create of a pod made of `template` in `ns`: the server's admission answer.
fn admit(e2e: &E2e, ns: &str, name: &str, template: &Value) -> Result<(), String> {
    let mut pod = json!({"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": format!("{name}-dry-run"), "namespace": ns},
                         "spec": template["spec"].clone()});
    if let Some(labels) = template["metadata"].get("labels") {
        pod["metadata"]["labels"] = labels.clone();
    }
    let pod: Pod = serde_json::from_value(pod).map_err(|e| e.to_string())?;
    let params = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    e2e.block_on(e2e.api::<Pod>(ns).create(&params, &pod))
        .map(|_| ())
        .map_err(|e| match e {
            kube::Error::Api(status) => status.message,
            other => other.to_string(),
        })
}

#[test]
#[ignore = "needs cluster"]
fn the_example_fleets_pods_are_admitted_by_a_restricted_namespace() {
    let e2e = E2e::new();
    let ns = e2e.ns("restricted");
    e2e.made(&ns);
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(ns.clone()),
            labels: Some(
                [(
                    "pod-security.kubernetes.io/enforce".to_string(),
                    "restricted".to_string(),
                )]
                .into(),
            ),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    e2e.block_on(
        e2e.cluster_api::<Namespace>()
            .create(&PostParams::default(), &namespace),
    )
    .expect("namespace");

    let mut checked = 0;
    for fleet in ["homelab.yaml", "swarm.yaml", "knowledge.yaml", "teams.yaml"] {
        for (name, template) in pod_templates(fleet) {
            if let Err(why) = admit(&e2e, &ns, &name, &template) {
                panic!("{fleet}: the pods of Deployment {name} are refused: {why}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} Deployments checked");

    // The shape homelab had before (an inline nfs volume) is what the server refuses.
    let (name, mut template) = pod_templates("homelab.yaml")
        .into_iter()
        .find(|(n, _)| n == "agent-ops")
        .expect("homelab's agent");
    let volumes = template["spec"]["volumes"].as_array_mut().expect("volumes");
    let nas = volumes
        .iter_mut()
        .find(|v| v["name"] == "nas")
        .expect("the nas volume");
    *nas = json!({"name": "nas", "nfs": {"server": "nas.home.arpa", "path": "/export/homelab", "readOnly": true}});
    let refused = admit(&e2e, &ns, &name, &template).expect_err("an nfs volume is refused");
    assert!(
        refused.contains("violates PodSecurity \"restricted:latest\"")
            && refused.contains("restricted volume types")
            && refused.contains("\"nas\""),
        "{refused}"
    );
}
