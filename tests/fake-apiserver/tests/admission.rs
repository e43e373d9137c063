//! Admission through the fake's HTTP API: Pod Security by namespace labels (enforce on
//! pods, warnings on workloads), ResourceQuota on pods and claims, and the controllers'
//! `FailedCreate` events when admission refuses their pods.

use std::time::Duration;

use fake_apiserver::{FakeApiServer, Options};
use kube::Client;
use serde_json::{Value, json};

async fn client(s: &FakeApiServer) -> Client {
    let kc = kube::config::Kubeconfig::from_yaml(&s.kubeconfig()).expect("kubeconfig parses");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("config");
    Client::try_from(cfg).expect("client")
}

fn server() -> FakeApiServer {
    FakeApiServer::start_with(Options {
        rollout_delay: Some(Duration::from_millis(50)),
        ..Default::default()
    })
}

/// Sends a request; returns the status, the `Warning` headers and the body.
async fn send(
    c: &Client,
    method: &str,
    path: &str,
    content_type: &str,
    body: &Value,
) -> (u16, Vec<String>, Value) {
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .body(serde_json::to_vec(body).expect("json"))
        .expect("request");
    let resp = c
        .send(req.map(kube::client::Body::from))
        .await
        .expect("sent");
    let status = resp.status().as_u16();
    let warnings = resp
        .headers()
        .get_all("warning")
        .iter()
        .map(|v| v.to_str().unwrap_or_default().to_string())
        .collect();
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        warnings,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn namespace(c: &Client, name: &str, labels: Value) {
    let ns = json!({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": name, "labels": labels}});
    let (code, _, body) = send(c, "POST", "/api/v1/namespaces", "application/json", &ns).await;
    assert_eq!(code, 201, "{body}");
}

fn restricted_container(name: &str) -> Value {
    json!({"name": name, "image": "busybox:1.36",
           "resources": {"requests": {"cpu": "250m", "memory": "1Gi"},
                         "limits": {"cpu": "1", "memory": "1536Mi"}},
           "securityContext": {"allowPrivilegeEscalation": false, "runAsNonRoot": true,
                               "capabilities": {"drop": ["ALL"]},
                               "seccompProfile": {"type": "RuntimeDefault"}}})
}

fn pod_spec_with_nfs() -> Value {
    json!({"containers": [restricted_container("gateway")],
           "volumes": [{"name": "nas", "nfs": {"server": "nas.home.arpa", "path": "/export"}}]})
}

fn deployment(ns: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": name, "namespace": ns},
           "spec": {"selector": {"matchLabels": {"app": name}},
                    "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}})
}

const NFS_DETAIL: &str =
    "restricted volume types (volume \"nas\" uses restricted volume type \"nfs\")";

async fn wait_for_event(s: &FakeApiServer, ns: &str, kind: &str, name: &str) -> Value {
    for _ in 0..100 {
        if let Some(e) = s.list("v1", "Event", Some(ns)).into_iter().find(|e| {
            e["involvedObject"]["kind"] == kind
                && e["involvedObject"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with(name))
                && e["reason"] == "FailedCreate"
        }) {
            return e;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no FailedCreate event on {kind} {name}");
}

#[tokio::test]
async fn restricted_namespace_refuses_pods_and_warns_on_workloads() {
    let s = server();
    let c = client(&s).await;
    namespace(
        &c,
        "ops",
        json!({"pod-security.kubernetes.io/enforce": "restricted"}),
    )
    .await;

    // A bare pod: refused, worded as ValidatePod words it.
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": "p", "namespace": "ops"}, "spec": pod_spec_with_nfs()});
    let (code, _, body) = send(
        &c,
        "POST",
        "/api/v1/namespaces/ops/pods",
        "application/json",
        &pod,
    )
    .await;
    assert_eq!(code, 403);
    assert_eq!(body["reason"], "Forbidden");
    assert_eq!(
        body["message"],
        format!(
            "pods \"p\" is forbidden: violates PodSecurity \"restricted:latest\": {NFS_DETAIL}"
        )
    );

    // The Deployment is admitted with a warning (warn defaults to the enforce level).
    let d = deployment("ops", "agent-ops", pod_spec_with_nfs());
    let path = "/apis/apps/v1/namespaces/ops/deployments/agent-ops?fieldManager=test";
    let (code, warnings, _) = send(&c, "PATCH", path, "application/apply-patch+yaml", &d).await;
    assert_eq!(code, 201);
    assert_eq!(
        warnings,
        vec![format!(
            "299 - \"would violate PodSecurity \\\"restricted:latest\\\": {}\"",
            NFS_DETAIL.replace('"', "\\\"")
        )]
    );
    // A dry run warns too, and so does an unchanged re-apply.
    let (_, warnings, _) = send(
        &c,
        "PATCH",
        &format!("{path}&dryRun=All"),
        "application/apply-patch+yaml",
        &d,
    )
    .await;
    assert_eq!(warnings.len(), 1);
    let (code, warnings, _) = send(&c, "PATCH", path, "application/apply-patch+yaml", &d).await;
    assert_eq!((code, warnings.len()), (200, 1));

    // The ReplicaSet controller's creates are refused: an event, no pod, and the
    // ReplicaFailure condition on the ReplicaSet and the Deployment.
    let event = wait_for_event(&s, "ops", "ReplicaSet", "agent-ops-").await;
    let message = event["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("Error creating: pods \"agent-ops-")
            && message.ends_with(&format!(
                "is forbidden: violates PodSecurity \"restricted:latest\": {NFS_DETAIL}"
            )),
        "{message}"
    );
    assert_eq!(event["type"], "Warning");
    assert!(s.list("v1", "Pod", Some("ops")).is_empty());
    let mut condition = Value::Null;
    for _ in 0..100 {
        let d = s
            .get("apps/v1", "Deployment", Some("ops"), "agent-ops")
            .expect("stored");
        if let Some(c) = d["status"]["conditions"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["type"] == "ReplicaFailure"))
        {
            condition = c.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(condition["reason"], "FailedCreate");
    assert!(
        condition["message"]
            .as_str()
            .is_some_and(|m| m.contains("violates PodSecurity")),
        "{condition}"
    );

    // Baseline allows NFS: no warning, and the pod runs.
    namespace(
        &c,
        "lab",
        json!({"pod-security.kubernetes.io/enforce": "baseline"}),
    )
    .await;
    let d = deployment("lab", "agent-lab", pod_spec_with_nfs());
    let path = "/apis/apps/v1/namespaces/lab/deployments/agent-lab?fieldManager=test";
    let (code, warnings, _) = send(&c, "PATCH", path, "application/apply-patch+yaml", &d).await;
    assert_eq!((code, warnings), (201, Vec::<String>::new()));
    // ... but a warn label at restricted still warns.
    namespace(
        &c,
        "lab2",
        json!({"pod-security.kubernetes.io/enforce": "baseline",
               "pod-security.kubernetes.io/warn": "restricted"}),
    )
    .await;
    let d = deployment("lab2", "agent-lab", pod_spec_with_nfs());
    let path = "/apis/apps/v1/namespaces/lab2/deployments/agent-lab?fieldManager=test";
    let (_, warnings, _) = send(&c, "PATCH", path, "application/apply-patch+yaml", &d).await;
    assert_eq!(warnings.len(), 1);
}

#[tokio::test]
async fn job_pods_refused_by_pod_security_leave_a_failed_create_event() {
    let s = server();
    let c = client(&s).await;
    namespace(
        &c,
        "ops",
        json!({"pod-security.kubernetes.io/enforce": "baseline"}),
    )
    .await;
    let mut spec = json!({"restartPolicy": "Never",
                          "containers": [restricted_container("rclone")],
                          "volumes": [{"name": "host", "hostPath": {"path": "/var"}}]});
    spec["containers"][0]["securityContext"]["privileged"] = json!(true);
    let job = json!({"apiVersion": "batch/v1", "kind": "Job",
                     "metadata": {"name": "backup", "namespace": "ops"},
                     "spec": {"template": {"spec": spec}}});
    let (code, warnings, body) = send(
        &c,
        "POST",
        "/apis/batch/v1/namespaces/ops/jobs",
        "application/json",
        &job,
    )
    .await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(warnings.len(), 1);
    let event = wait_for_event(&s, "ops", "Job", "backup").await;
    let message = event["message"].as_str().unwrap_or_default();
    assert!(
        message.ends_with(
            "is forbidden: violates PodSecurity \"baseline:latest\": hostPath volumes (volume \"host\"), \
             privileged (container \"rclone\" must not set securityContext.privileged=true)"
        ),
        "{message}"
    );
    assert_eq!(event["source"]["component"], "job-controller");
}

#[tokio::test]
async fn quota_refuses_pods_and_claims_past_their_limit() {
    let s = server();
    let c = client(&s).await;
    namespace(&c, "research", json!({})).await;
    let quota = json!({"apiVersion": "v1", "kind": "ResourceQuota",
                       "metadata": {"name": "clawctl-quota", "namespace": "research"},
                       "spec": {"hard": {"cpu": "1", "memory": "1536Mi", "requests.storage": "5Gi"}}});
    let (code, _, body) = send(
        &c,
        "POST",
        "/api/v1/namespaces/research/resourcequotas",
        "application/json",
        &quota,
    )
    .await;
    assert_eq!(code, 201, "{body}");

    // One pod fits (1Gi of 1536Mi); the second one's memory does not.
    let spec = json!({"containers": [restricted_container("gateway")]});
    let d = deployment("research", "agent-a", spec.clone());
    let path = "/apis/apps/v1/namespaces/research/deployments/agent-a?fieldManager=test";
    send(&c, "PATCH", path, "application/apply-patch+yaml", &d).await;
    for _ in 0..100 {
        if !s.list("v1", "Pod", Some("research")).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let d = deployment("research", "agent-b", spec);
    let path = "/apis/apps/v1/namespaces/research/deployments/agent-b?fieldManager=test";
    send(&c, "PATCH", path, "application/apply-patch+yaml", &d).await;
    let event = wait_for_event(&s, "research", "ReplicaSet", "agent-b-").await;
    let message = event["message"].as_str().unwrap_or_default();
    assert!(
        message.ends_with(
            "is forbidden: exceeded quota: clawctl-quota, requested: memory=1Gi, used: memory=1Gi, limited: memory=1536Mi"
        ),
        "{message}"
    );

    // A claim past requests.storage is refused at once.
    let claim = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                       "metadata": {"name": "brain", "namespace": "research"},
                       "spec": {"accessModes": ["ReadWriteOnce"],
                                "resources": {"requests": {"storage": "10Gi"}}}});
    let (code, _, body) = send(
        &c,
        "POST",
        "/api/v1/namespaces/research/persistentvolumeclaims",
        "application/json",
        &claim,
    )
    .await;
    assert_eq!(code, 403);
    assert_eq!(
        body["message"],
        "persistentvolumeclaims \"brain\" is forbidden: exceeded quota: clawctl-quota, requested: requests.storage=10Gi, used: requests.storage=0, limited: requests.storage=5Gi"
    );

    // A container without the tracked request is refused with `must specify`.
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": "bare", "namespace": "research"},
                     "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}});
    let (code, _, body) = send(
        &c,
        "POST",
        "/api/v1/namespaces/research/pods",
        "application/json",
        &pod,
    )
    .await;
    assert_eq!(code, 403);
    assert_eq!(
        body["message"],
        "pods \"bare\" is forbidden: failed quota: clawctl-quota: must specify requests.cpu for: c; requests.memory for: c"
    );
}
