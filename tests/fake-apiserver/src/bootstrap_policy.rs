//! The ClusterRoles and ClusterRoleBindings the server seeds at start, as kube-apiserver's
//! RBAC post-start hook does (kubernetes/plugin/pkg/auth/authorizer/rbac/bootstrappolicy/
//! policy.go, `clusterRoles()` and `clusterRoleBindings()`).
//!
//! Simplifications: only the roles a namespace-scoped account meets (`cluster-admin`,
//! `admin`, `edit`, `view` with their `system:aggregate-to-*` parts, `system:discovery`,
//! `system:basic-user`, `system:public-info-viewer`) and their bindings; none of the
//! controller, node, scheduler or certificate roles. `admin`, `edit` and `view` are
//! seeded with an `aggregationRule` and no rules: the aggregation controller
//! ([`crate::rbac::aggregate`]) fills them in, as on a real cluster.

use serde_json::{Value, json};

/// Label on every bootstrap object (`bootstrappolicy.Label`).
pub const BOOTSTRAP_LABEL: (&str, &str) = ("kubernetes.io/bootstrapping", "rbac-defaults");

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];
const READ_WRITE: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

/// One rule; lists sorted as the upstream rule builder (`RuleOrDie`) sorts them.
fn rule(verbs: &[&str], group: &str, resources: &[&str]) -> Value {
    let mut verbs = verbs.to_vec();
    verbs.sort_unstable();
    let mut resources = resources.to_vec();
    resources.sort_unstable();
    json!({"verbs": verbs, "apiGroups": [group], "resources": resources})
}

fn url_rule(verbs: &[&str], urls: &[&str]) -> Value {
    let mut urls = urls.to_vec();
    urls.sort_unstable();
    json!({"verbs": verbs, "nonResourceURLs": urls})
}

fn cluster_role(name: &str, labels: &[(&str, &str)], body: Value) -> Value {
    let mut l = serde_json::Map::new();
    l.insert(BOOTSTRAP_LABEL.0.into(), json!(BOOTSTRAP_LABEL.1));
    for (k, v) in labels {
        l.insert(k.to_string(), json!(v));
    }
    let mut role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {
            "name": name,
            "labels": l,
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        },
    });
    if let (Some(r), Some(b)) = (role.as_object_mut(), body.as_object()) {
        for (k, v) in b {
            r.insert(k.clone(), v.clone());
        }
    }
    role
}

fn aggregated(name: &str, labels: &[(&str, &str)], selects: &str) -> Value {
    cluster_role(
        name,
        labels,
        json!({"aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {selects: "true"}}]}}),
    )
}

const TO_ADMIN: &str = "rbac.authorization.k8s.io/aggregate-to-admin";
const TO_EDIT: &str = "rbac.authorization.k8s.io/aggregate-to-edit";
const TO_VIEW: &str = "rbac.authorization.k8s.io/aggregate-to-view";

/// The seeded ClusterRoles, parts before the roles that aggregate them.
pub fn cluster_roles() -> Vec<Value> {
    let rules = |r: Vec<Value>| json!({ "rules": r });
    vec![
        cluster_role(
            "cluster-admin",
            &[],
            rules(vec![rule(&["*"], "*", &["*"]), url_rule(&["*"], &["*"])]),
        ),
        cluster_role(
            "system:discovery",
            &[],
            rules(vec![url_rule(
                &["get"],
                &[
                    "/livez",
                    "/readyz",
                    "/healthz",
                    "/version",
                    "/version/",
                    "/openapi",
                    "/openapi/*",
                    "/api",
                    "/api/*",
                    "/apis",
                    "/apis/*",
                ],
            )]),
        ),
        cluster_role(
            "system:basic-user",
            &[],
            rules(vec![
                rule(
                    &["create"],
                    "authorization.k8s.io",
                    &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                ),
                rule(
                    &["create"],
                    "authentication.k8s.io",
                    &["selfsubjectreviews"],
                ),
            ]),
        ),
        cluster_role(
            "system:public-info-viewer",
            &[],
            rules(vec![url_rule(
                &["get"],
                &["/livez", "/readyz", "/healthz", "/version", "/version/"],
            )]),
        ),
        // Admin powers on top of edit: RBAC objects of the namespace.
        cluster_role(
            "system:aggregate-to-admin",
            &[(TO_ADMIN, "true")],
            rules(vec![
                rule(
                    &["create"],
                    "authorization.k8s.io",
                    &["localsubjectaccessreviews"],
                ),
                rule(
                    READ_WRITE,
                    "rbac.authorization.k8s.io",
                    &["roles", "rolebindings"],
                ),
            ]),
        ),
        // Writes of user workloads. Not resourcequotas, limitranges, controllerrevisions
        // (read only, through view), no leases, no `/status` subresources.
        cluster_role(
            "system:aggregate-to-edit",
            &[(TO_EDIT, "true")],
            rules(vec![
                rule(
                    READ,
                    "",
                    &[
                        "pods/attach",
                        "pods/proxy",
                        "pods/exec",
                        "pods/portforward",
                        "secrets",
                        "services/proxy",
                    ],
                ),
                rule(&["impersonate"], "", &["serviceaccounts"]),
                rule(
                    WRITE,
                    "",
                    &[
                        "pods",
                        "pods/attach",
                        "pods/proxy",
                        "pods/exec",
                        "pods/portforward",
                    ],
                ),
                rule(&["create"], "", &["pods/eviction"]),
                rule(
                    WRITE,
                    "",
                    &[
                        "replicationcontrollers",
                        "replicationcontrollers/scale",
                        "serviceaccounts",
                        "services",
                        "services/proxy",
                        "persistentvolumeclaims",
                        "configmaps",
                        "secrets",
                    ],
                ),
                rule(&["create"], "", &["serviceaccounts/token"]),
                rule(
                    WRITE,
                    "apps",
                    &[
                        "statefulsets",
                        "statefulsets/scale",
                        "daemonsets",
                        "deployments",
                        "deployments/scale",
                        "deployments/rollback",
                        "replicasets",
                        "replicasets/scale",
                    ],
                ),
                rule(WRITE, "autoscaling", &["horizontalpodautoscalers"]),
                rule(WRITE, "batch", &["jobs", "cronjobs"]),
                rule(
                    WRITE,
                    "extensions",
                    &[
                        "daemonsets",
                        "deployments",
                        "deployments/scale",
                        "deployments/rollback",
                        "ingresses",
                        "replicasets",
                        "replicasets/scale",
                        "replicationcontrollers/scale",
                        "networkpolicies",
                    ],
                ),
                rule(WRITE, "policy", &["poddisruptionbudgets"]),
                rule(
                    WRITE,
                    "networking.k8s.io",
                    &["networkpolicies", "ingresses"],
                ),
            ]),
        ),
        // Reads of non-escalating namespaced objects: not secrets, not RBAC objects.
        cluster_role(
            "system:aggregate-to-view",
            &[(TO_VIEW, "true")],
            rules(vec![
                rule(
                    READ,
                    "",
                    &[
                        "pods",
                        "replicationcontrollers",
                        "replicationcontrollers/scale",
                        "serviceaccounts",
                        "services",
                        "services/status",
                        "endpoints",
                        "persistentvolumeclaims",
                        "persistentvolumeclaims/status",
                        "configmaps",
                    ],
                ),
                rule(
                    READ,
                    "",
                    &[
                        "limitranges",
                        "resourcequotas",
                        "bindings",
                        "events",
                        "pods/status",
                        "resourcequotas/status",
                        "namespaces/status",
                        "replicationcontrollers/status",
                        "pods/log",
                    ],
                ),
                // Read access to namespaces at the namespace scope: *this* namespace.
                rule(READ, "", &["namespaces"]),
                rule(READ, "discovery.k8s.io", &["endpointslices"]),
                rule(
                    READ,
                    "apps",
                    &[
                        "controllerrevisions",
                        "statefulsets",
                        "statefulsets/status",
                        "statefulsets/scale",
                        "daemonsets",
                        "daemonsets/status",
                        "deployments",
                        "deployments/status",
                        "deployments/scale",
                        "replicasets",
                        "replicasets/status",
                        "replicasets/scale",
                    ],
                ),
                rule(
                    READ,
                    "autoscaling",
                    &[
                        "horizontalpodautoscalers",
                        "horizontalpodautoscalers/status",
                    ],
                ),
                rule(
                    READ,
                    "batch",
                    &["jobs", "cronjobs", "cronjobs/status", "jobs/status"],
                ),
                rule(
                    READ,
                    "extensions",
                    &[
                        "daemonsets",
                        "daemonsets/status",
                        "deployments",
                        "deployments/scale",
                        "deployments/status",
                        "ingresses",
                        "ingresses/status",
                        "replicasets",
                        "replicasets/scale",
                        "replicasets/status",
                        "replicationcontrollers/scale",
                        "networkpolicies",
                    ],
                ),
                rule(
                    READ,
                    "policy",
                    &["poddisruptionbudgets", "poddisruptionbudgets/status"],
                ),
                rule(
                    READ,
                    "networking.k8s.io",
                    &["networkpolicies", "ingresses", "ingresses/status"],
                ),
            ]),
        ),
        // admin = edit (itself edit + view) + aggregate-to-admin, through labels.
        aggregated("admin", &[], TO_ADMIN),
        aggregated("edit", &[(TO_ADMIN, "true")], TO_EDIT),
        aggregated("view", &[(TO_EDIT, "true")], TO_VIEW),
    ]
}

fn cluster_role_binding(role: &str, groups: &[&str]) -> Value {
    let subjects: Vec<Value> = groups
        .iter()
        .map(|g| json!({"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": g}))
        .collect();
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {
            "name": role,
            "labels": {BOOTSTRAP_LABEL.0: BOOTSTRAP_LABEL.1},
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        },
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": subjects,
    })
}

/// The seeded ClusterRoleBindings.
pub fn cluster_role_bindings() -> Vec<Value> {
    vec![
        cluster_role_binding("cluster-admin", &["system:masters"]),
        cluster_role_binding("system:discovery", &["system:authenticated"]),
        cluster_role_binding("system:basic-user", &["system:authenticated"]),
        cluster_role_binding(
            "system:public-info-viewer",
            &["system:authenticated", "system:unauthenticated"],
        ),
    ]
}
