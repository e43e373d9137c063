//! Issue 19 on a cluster: Pod Security admission of the example fleets' pods, and
//! fleets/homelab.yaml ready under `restricted`. `cluster.rs` runs them on the fake
//! (whose Pod Security admission follows the real one's checks), `e2e_admission.rs` on a
//! cluster.
//!
//! What a team namespace enforces (`pod-security.kubernetes.io/enforce: restricted`, the
//! label clawctl renders) is the API server's Pod Security admission; this asks the server
//! itself, with dry-run pod creates in such a namespace, whether the pods of the example
//! fleets' Deployments are admitted (fleets/homelab.yaml's NAS is a claim now, not an
//! inline `nfs` volume), and that the inline `nfs` shape `validate` refuses is refused by
//! the server too, with the message the ReplicaSet controller would have recorded. A
//! dry run stores nothing, so the test needs neither the images nor the claims to exist.
//!
//! Then fleets/homelab.yaml itself is applied and must become ready, its team namespace
//! labelled and enforcing what clawctl labels it with. What the home cluster's admin made
//! beforehand is made by the test: the claims `gigs-pvc` and `nas-pvc` (on the cluster's
//! default StorageClass: there is no NAS here; the pod shape, a claim, is the point), the
//! Secrets the agent loads and mounts. Three edits fit the example to an unknown cluster,
//! and nothing else changes: the test's own names, the default StorageClass instead of
//! k3s' `local-path`, no node affinity to `node-availability=24x7` (no node here carries
//! it), and no `exposure` (an HTTPRoute and the proxy it admits) when the cluster does not
//! serve Gateway API.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, Secret};
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use crate::harness::backend::Backend;
use crate::harness::fleets::GATEWAY_TOKEN;
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
fn admit(b: &Backend, ns: &str, name: &str, template: &Value) -> Result<(), String> {
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
    b.block_on(b.api::<Pod>(ns).create(&params, &pod))
        .map(|_| ())
        .map_err(|e| match e {
            kube::Error::Api(status) => status.message,
            other => other.to_string(),
        })
}

pub(crate) fn the_example_fleets_pods_are_admitted_by_a_restricted_namespace(b: &Backend) {
    let ns = b.ns("restricted");
    b.make_namespace(&ns, &[("pod-security.kubernetes.io/enforce", "restricted")]);

    let mut checked = 0;
    for fleet in ["homelab.yaml", "swarm.yaml", "knowledge.yaml", "teams.yaml"] {
        for (name, template) in pod_templates(fleet) {
            if let Err(why) = admit(b, &ns, &name, &template) {
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
    let refused = admit(b, &ns, &name, &template).expect_err("an nfs volume is refused");
    assert!(
        refused.contains("violates PodSecurity \"restricted:latest\"")
            && refused.contains("restricted volume types")
            && refused.contains("\"nas\""),
        "{refused}"
    );
}

/// Issue 19, done means: fleets/homelab.yaml applies and becomes ready on a real API
/// server whose team namespace enforces the Pod Security level clawctl labels it with.
pub(crate) fn the_homelab_example_applies_and_becomes_ready_under_restricted(b: &Backend) {
    let ns = b.ns("ops");
    b.platform_namespace(&ns);
    let example = std::fs::read_to_string(repo().join("fleets/homelab.yaml")).expect("example");
    let mut fleet: Value = serde_saphyr::from_str(&example).expect("the example parses");

    // What the home cluster's admin made before the first apply.
    let secret = |name: &str, data: Value| {
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                            "metadata": {"name": name, "namespace": ns}, "stringData": data});
        b.block_on(b.api::<Secret>(&ns).patch(
            name,
            &PatchParams::apply("platform-team"),
            &Patch::Apply(&secret),
        ))
        .unwrap_or_else(|e| panic!("Secret {name}: {e}"));
    };
    secret(
        "homelab-openclaw",
        json!({"OPENCLAW_GATEWAY_TOKEN": GATEWAY_TOKEN, "LITELLM_API_KEY": "e2e-litellm-key"}),
    );
    secret(
        "homelab-ssh-deploy-key",
        json!({"id_ed25519": "e2e stand-in key\n", "known_hosts": "e2e stand-in hosts\n"}),
    );
    secret("homelab-cookies", json!({"cookies.txt": "# e2e\n"}));
    for claim in ["gigs-pvc", "nas-pvc"] {
        let pvc: PersistentVolumeClaim = serde_json::from_value(json!({
            "metadata": {"name": claim},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        }))
        .expect("claim");
        b.block_on(
            b.api::<PersistentVolumeClaim>(&ns)
                .create(&PostParams::default(), &pvc),
        )
        .unwrap_or_else(|e| panic!("claim {claim}: {e}"));
    }

    // The example, fitted to this cluster (and only that; see the module's comment).
    fleet["metadata"] = json!({"name": b.fleet, "namespace": b.fleet_ns});
    let spec = &mut fleet["spec"];
    spec["image"] = json!(b.image());
    if clawctl::openclaw::image_tag(&b.image())
        .and_then(clawctl::openclaw::Version::parse)
        .is_none()
    {
        spec["openclawVersion"] = json!("2026.4.14");
    }
    spec["adoptNamespaces"] = json!([ns]);
    spec["teams"] = json!([{"name": "ops", "namespace": ns}]);
    let storage = spec["defaults"]["storage"]
        .as_object_mut()
        .expect("defaults.storage");
    assert!(storage.remove("storageClassName").is_some());
    let agent = &mut spec["agents"][0];
    assert_eq!(agent["name"], "ops");
    assert!(
        agent
            .as_object_mut()
            .expect("agent")
            .remove("scheduling")
            .is_some()
    );
    let route = b.serves("gateway.networking.k8s.io/v1", "HTTPRoute");
    if !route {
        // The proxy `from` and `trustedProxies` admit exists only with the route.
        let agent = agent.as_object_mut().expect("agent");
        assert!(agent.remove("exposure").is_some());
    }
    let text = serde_json::to_string_pretty(&fleet).expect("fleet");
    let agents_md = std::fs::read_to_string(repo().join("fleets/agents/ops-AGENTS.md"))
        .expect("the example's AGENTS.md");

    let out = b
        .clawctl(
            &text,
            &["apply", "fleet.yaml", "--yes", "--timeout", "300s"],
        )
        .file("agents/ops-AGENTS.md", &agents_md)
        .success();
    assert!(out.stderr.contains("1/1 agents ready"), "{}", out.stderr);
    assert!(
        !out.stderr.contains("PodSecurity"),
        "the server warned about Pod Security: {}",
        out.stderr
    );

    let labels = b
        .namespace(&ns)
        .and_then(|n| n.metadata.labels)
        .unwrap_or_default();
    assert_eq!(
        labels
            .get("pod-security.kubernetes.io/enforce")
            .map(String::as_str),
        Some("restricted"),
        "{labels:?}"
    );
    let deployment: Deployment = b.get(&ns, "agent-ops").expect("the agent's Deployment");
    assert_eq!(
        deployment.status.and_then(|s| s.ready_replicas),
        Some(1),
        "the agent is ready"
    );
    let claims: Vec<String> = deployment
        .spec
        .and_then(|s| s.template.spec)
        .map(|p| p.volumes.unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| Some(v.persistent_volume_claim?.claim_name))
        .collect();
    assert!(
        claims.iter().any(|c| c == "nas-pvc") && claims.iter().any(|c| c == "gigs-pvc"),
        "{claims:?}"
    );
    b.clawctl(&text, &["diff", "fleet.yaml", "--exit-code"])
        .file("agents/ops-AGENTS.md", &agents_md)
        .success();
}
