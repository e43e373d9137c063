//! `fleet.router`: clawctl-router's names, labels, container, RBAC rules and
//! NetworkPolicy, from `spec.routing.router`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value as Json, json};

use super::shared::{idle_after, restricted_security};
use crate::fleet::ResolvedFleet;
use crate::names::fleet_labels;
use crate::openclaw::GATEWAY_PORT;

/// clawctl-router's values (`spec.routing.router`), or null without one: its names,
/// labels and pod selector, its image, doors and environment, and the namespaces of the
/// agents it forwards to (its only egress besides DNS, the API server and Slack).
pub(super) fn router_context(fleet: &ResolvedFleet) -> Option<RouterContext<'_>> {
    let (Some(router), Some(namespace)) = (&fleet.routing.router, fleet.router_namespace()) else {
        return None;
    };
    let mut namespace_labels = fleet_labels(&fleet.name);
    namespace_labels.insert(
        "pod-security.kubernetes.io/enforce".to_string(),
        "restricted".to_string(),
    );
    let name = crate::names::router(&fleet.name);
    let selector = crate::names::router_selector(&fleet.name);
    let mut labels = fleet_labels(&fleet.name);
    labels.extend(selector.clone());
    let mut agent_namespaces: Vec<&str> = fleet
        .agents
        .iter()
        .filter(|a| a.routed)
        .map(|a| a.namespace.as_str())
        // Self-service: the team's namespace whether or not it holds agents yet.
        .chain(fleet.self_service.as_ref().map(|s| s.namespace.as_str()))
        .collect();
    agent_namespaces.sort_unstable();
    agent_namespaces.dedup();
    let mut env = vec![
        json!({"name": "CLAWCTL_FLEET", "value": fleet.name}),
        json!({"name": "CLAWCTL_FLEET_NAMESPACE", "value": fleet.namespace}),
        json!({"name": "CLAWCTL_ROUTES_CONFIGMAP", "value": format!("{}-routes", fleet.name)}),
    ];
    if let Some(idle) = idle_after(fleet) {
        env.push(json!({"name": "ROUTER_IDLE_AFTER_SECONDS", "value": idle.as_secs().to_string()}));
    }
    env.extend(crate::render::self_service::env(fleet));
    if let Some(http) = &router.http {
        env.push(json!({"name": "ROUTER_HTTP_ADDR", "value": format!("0.0.0.0:{ROUTER_PORT}")}));
        env.push(json!({"name": "ROUTER_TRUSTED_PROXIES", "value": http.proxy.join(",")}));
        env.push(json!({"name": "ROUTER_IDENTITY_HEADER",
                        "value": http.header.as_deref().unwrap_or("X-Forwarded-Email")}));
    }
    let ingress: Vec<Json> = match &router.http {
        // Only the authenticating proxy may connect; a single address is a /32 (/128).
        Some(http) => vec![json!({
            "from": http.proxy.iter().map(|cidr| {
                let cidr = if cidr.contains('/') {
                    cidr.clone()
                } else if cidr.contains(':') {
                    format!("{cidr}/128")
                } else {
                    format!("{cidr}/32")
                };
                json!({"ipBlock": {"cidr": cidr}})
            }).collect::<Vec<_>>(),
            "ports": [{"port": ROUTER_PORT, "protocol": "TCP"}],
        })],
        None => Vec::new(),
    };
    let mut egress = vec![json!({
        "to": [{
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }],
        "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
    })];
    if !agent_namespaces.is_empty() {
        egress.push(json!({
            "to": agent_namespaces.iter().map(|ns| json!({
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}
            })).collect::<Vec<_>>(),
            "ports": [{"port": GATEWAY_PORT, "protocol": "TCP"}],
        }));
    }
    // The API server (443 or 6443) and Slack's Web API and Socket Mode (443).
    egress.push(
        json!({"ports": [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}]}),
    );
    let probe = |path: &str, period: u32| json!({"httpGet": {"path": path, "port": "http"}, "periodSeconds": period});
    let mut container = json!({
        "name": "router",
        "image": router.image,
        "ports": [{"name": "http", "containerPort": ROUTER_PORT}],
        "env": env,
        "readinessProbe": probe("/readyz", 5),
        "livenessProbe": probe("/healthz", 10),
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"},
                      "limits": {"cpu": "500m", "memory": "256Mi"}},
        "securityContext": restricted_security(),
    });
    if let Some(secret) = &router.slack_secret {
        container["envFrom"] = json!([{"secretRef": {"name": secret}}]);
    }
    Some(RouterContext {
        name,
        namespace,
        namespace_labels,
        labels,
        selector,
        http: router.http.is_some(),
        rules: std::iter::once(json!({"apiGroups": [""], "resources": ["configmaps"],
                   "resourceNames": [format!("{}-routes", fleet.name)],
                   "verbs": ["get", "list", "watch"]}))
        .chain(crate::render::self_service::fleet_rules(fleet))
        .collect(),
        pod_security: json!({"runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532,
                        "seccompProfile": {"type": "RuntimeDefault"}}),
        containers: vec![container],
        policy: json!({
            "podSelector": {"matchLabels": crate::names::router_selector(&fleet.name)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        }),
        service_ports: vec![
            json!({"name": "http", "port": ROUTER_PORT, "targetPort": "http", "protocol": "TCP"}),
        ],
    })
}

/// What the router's template sees as `fleet.router`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RouterContext<'a> {
    /// The router's object name, `<fleet>-router`.
    pub name: String,
    /// Its namespace (`routing.router.namespace`, default `<fleet>-router`).
    pub namespace: &'a str,
    /// The fleet's labels plus `pod-security.kubernetes.io/enforce: restricted`.
    pub namespace_labels: BTreeMap<String, String>,
    /// The fleet's labels plus its pod selector.
    pub labels: BTreeMap<String, String>,
    /// The labels selecting its pods.
    pub selector: BTreeMap<String, String>,
    /// Whether the HTTP door is on (`routing.router.http`).
    pub http: bool,
    /// Its Role's rules in the fleet namespace: read the routing table ConfigMap (and,
    /// with self-service, the fleet lock and the ApplySet parent, by name).
    pub rules: Vec<Json>,
    /// The pod's security context (non-root, uid and gid 65532, RuntimeDefault seccomp).
    pub pod_security: Json,
    /// Its container: image, port 8080, environment, probes, resources, restricted
    /// security context, the Slack Secret as `envFrom`.
    pub containers: Vec<Json>,
    /// Its NetworkPolicy's spec: in from the proxy only, out to DNS, the routed agents'
    /// namespaces on 18789 and 443/6443.
    pub policy: Json,
    /// Its Service's ports.
    pub service_ports: Vec<Json>,
}

/// The port of the router's HTTP door and health checks.
const ROUTER_PORT: u16 = 8080;
