//! Load check: server-side applies `AGENTS` agents' worth of objects (13 each, as clawctl
//! renders them) through the real kube client with bounded concurrency, waits for every
//! Deployment, and reports time and request counts. `cargo run --release -p
//! fake-apiserver --example load -- 1000`

use std::time::{Duration, Instant};

use fake_apiserver::{FakeApiServer, Options};
use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use kube::discovery::ApiResource;
use kube::runtime::watcher;
use serde_json::{Value, json};

fn agent_objects(i: usize) -> Vec<Value> {
    let ns = format!("team-{}", i % 10);
    let name = format!("agent-{i}");
    let labels = json!({"app.kubernetes.io/name": name, "clawctl.dev/fleet": "bench"});
    let meta = |kind_name: &str| json!({"name": kind_name, "namespace": ns, "labels": labels});
    let mut out = vec![
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(&name)}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(&format!("{name}-config")), "data": {"config.yaml": "a: 1\n".repeat(20)}}),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta(&format!("{name}-secret")), "stringData": {"token": "x"}}),
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta(&format!("{name}-data")), "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": meta(&name), "spec": {"selector": {"app.kubernetes.io/name": name}, "ports": [{"name": "http", "port": 8080}]}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta(&name), "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta(&name), "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name}, "subjects": [{"kind": "ServiceAccount", "name": name}]}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta(&name), "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": name}}, "policyTypes": ["Ingress"]}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(&name), "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {"metadata": {"labels": labels}, "spec": {"serviceAccountName": name, "containers": [{"name": "gateway", "image": "ghcr.io/openclaw/agent:1.0", "ports": [{"containerPort": 8080}], "env": [{"name": "A", "value": "1"}], "volumeMounts": [{"name": "data", "mountPath": "/data"}]}], "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": format!("{name}-data")}}]}}
        }}),
    ];
    for j in 0..4 {
        out.push(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(&format!("{name}-extra-{j}")), "data": {"k": "v"}}));
    }
    out
}

fn resource(obj: &Value) -> ApiResource {
    let api_version = obj["apiVersion"].as_str().unwrap_or_default();
    let kind = obj["kind"].as_str().unwrap_or_default();
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let plural = match kind {
        "NetworkPolicy" => "networkpolicies".to_string(),
        k => format!("{}s", k.to_lowercase()),
    };
    ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: api_version.into(),
        kind: kind.into(),
        plural,
    }
}

#[tokio::main]
async fn main() {
    let agents: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let s = FakeApiServer::start_with(Options {
        rollout_delay: Some(Duration::from_millis(100)),
        ..Default::default()
    });
    let kc = kube::config::Kubeconfig::from_yaml(&s.kubeconfig()).expect("kubeconfig");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("config");
    let client = kube::Client::try_from(cfg).expect("client");
    let pp = PatchParams::apply("clawctl");
    for t in 0..10 {
        let api: Api<DynamicObject> = Api::all_with(
            client.clone(),
            &resource(&json!({"apiVersion": "v1", "kind": "Namespace"})),
        );
        api.patch(&format!("team-{t}"), &pp, &Patch::Apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": format!("team-{t}")}}))).await.expect("ns");
    }
    let objects: Vec<Value> = (0..agents).flat_map(agent_objects).collect();
    let total = objects.len();
    for pass in ["create", "no-op"] {
        s.clear_requests();
        let started = Instant::now();
        futures::stream::iter(objects.iter().cloned())
            .map(|o| {
                let client = client.clone();
                let pp = pp.clone();
                async move {
                    let ns = o["metadata"]["namespace"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    let name = o["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    let api: Api<DynamicObject> = Api::namespaced_with(client, &ns, &resource(&o));
                    api.patch(&name, &pp, &Patch::Apply(o))
                        .await
                        .expect("apply");
                }
            })
            .buffer_unordered(16)
            .collect::<Vec<_>>()
            .await;
        println!(
            "{pass}: {total} applies in {:?}; counts {:?}",
            started.elapsed(),
            s.counts()
        );
    }
    let started = Instant::now();
    let deps: Api<k8s_openapi::api::apps::v1::Deployment> = Api::all(client.clone());
    let stream = watcher(deps.clone(), watcher::Config::default());
    let mut stream = std::pin::pin!(stream);
    loop {
        let ready = deps
            .list(&ListParams::default())
            .await
            .expect("list")
            .items
            .iter()
            .filter(|d| d.status.as_ref().and_then(|s| s.ready_replicas) == Some(1))
            .count();
        if ready == agents {
            break;
        }
        let _ = tokio::time::timeout(Duration::from_millis(200), stream.try_next()).await;
    }
    println!(
        "all {agents} deployments ready {:?} after the applies; {} objects stored",
        started.elapsed(),
        s.object_count()
    );
}
