//! The built-in resource table: every kind the fake serves, with what discovery and the
//! storage rules need to know about it (scope, verbs, status subresource, generation).
//!
//! Simplification: a fixed table, one version per group. Kinds a real cluster serves
//! only once their CustomResourceDefinition is installed (Gateway API's HTTPRoute) are
//! in the table marked `crd`, and served only when the server is started with them
//! (`Options::gateway_api`); otherwise the server answers as for any unknown resource
//! type (404, and nothing in discovery). No CustomResourceDefinition objects.

/// One served resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceType {
    /// API group, `""` for the core group.
    pub group: &'static str,
    pub version: &'static str,
    /// Plural resource name as in URLs, e.g. `deployments`.
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    /// Writes through the main resource keep the stored status (a status subresource exists).
    pub status_subresource: bool,
    /// `metadata.generation` is maintained (1 on create, +1 on spec changes).
    pub generation: bool,
    /// Member of the `all` category (what `kubectl get all` lists).
    pub category_all: bool,
    /// Served by a CustomResourceDefinition: only when the server has it installed.
    pub crd: bool,
}

/// Verbs every resource in the table supports.
pub const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

const fn rt(
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
) -> ResourceType {
    ResourceType {
        group,
        version,
        plural,
        singular,
        kind,
        namespaced,
        short_names,
        status_subresource: false,
        generation: false,
        category_all: false,
        crd: false,
    }
}

/// Custom resources always keep `metadata.generation` (apiextensions' strategy).
const fn from_crd(mut r: ResourceType) -> ResourceType {
    r.crd = true;
    r.generation = true;
    r
}

const fn with_status(mut r: ResourceType) -> ResourceType {
    r.status_subresource = true;
    r
}

const fn with_generation(mut r: ResourceType) -> ResourceType {
    r.generation = true;
    r
}

const fn in_all(mut r: ResourceType) -> ResourceType {
    r.category_all = true;
    r
}

/// The table. Generation follows the real registry strategies: apps/*, Jobs and
/// NetworkPolicies bump it on spec changes; core kinds, RBAC, Leases and ControllerRevisions have none.
pub static RESOURCES: &[ResourceType] = &[
    with_status(rt(
        "",
        "v1",
        "namespaces",
        "namespace",
        "Namespace",
        false,
        &["ns"],
    )),
    rt(
        "",
        "v1",
        "serviceaccounts",
        "serviceaccount",
        "ServiceAccount",
        true,
        &["sa"],
    ),
    rt(
        "",
        "v1",
        "configmaps",
        "configmap",
        "ConfigMap",
        true,
        &["cm"],
    ),
    rt("", "v1", "secrets", "secret", "Secret", true, &[]),
    in_all(with_status(rt(
        "",
        "v1",
        "services",
        "service",
        "Service",
        true,
        &["svc"],
    ))),
    with_status(rt(
        "",
        "v1",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        "PersistentVolumeClaim",
        true,
        &["pvc"],
    )),
    in_all(with_status(rt(
        "",
        "v1",
        "pods",
        "pod",
        "Pod",
        true,
        &["po"],
    ))),
    with_status(rt(
        "",
        "v1",
        "resourcequotas",
        "resourcequota",
        "ResourceQuota",
        true,
        &["quota"],
    )),
    rt("", "v1", "events", "event", "Event", true, &["ev"]),
    in_all(with_generation(with_status(rt(
        "apps",
        "v1",
        "deployments",
        "deployment",
        "Deployment",
        true,
        &["deploy"],
    )))),
    in_all(with_generation(with_status(rt(
        "apps",
        "v1",
        "replicasets",
        "replicaset",
        "ReplicaSet",
        true,
        &["rs"],
    )))),
    rt(
        "apps",
        "v1",
        "controllerrevisions",
        "controllerrevision",
        "ControllerRevision",
        true,
        &[],
    ),
    // Jobs: generation bumps on spec changes (batch registry strategy); in `all`.
    in_all(with_generation(with_status(rt(
        "batch",
        "v1",
        "jobs",
        "job",
        "Job",
        true,
        &[],
    )))),
    rt(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        "clusterrole",
        "ClusterRole",
        false,
        &[],
    ),
    rt(
        "rbac.authorization.k8s.io",
        "v1",
        "roles",
        "role",
        "Role",
        true,
        &[],
    ),
    rt(
        "rbac.authorization.k8s.io",
        "v1",
        "rolebindings",
        "rolebinding",
        "RoleBinding",
        true,
        &[],
    ),
    rt(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterroles",
        "clusterrole",
        "ClusterRole",
        false,
        &[],
    ),
    rt(
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        "clusterrolebinding",
        "ClusterRoleBinding",
        false,
        &[],
    ),
    with_generation(rt(
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        "networkpolicy",
        "NetworkPolicy",
        true,
        &["netpol"],
    )),
    // Ingress: generation bumps on spec changes (networking registry strategy).
    with_generation(with_status(rt(
        "networking.k8s.io",
        "v1",
        "ingresses",
        "ingress",
        "Ingress",
        true,
        &["ing"],
    ))),
    // Gateway API (its standard-channel CRD declares the status subresource).
    from_crd(with_status(rt(
        "gateway.networking.k8s.io",
        "v1",
        "httproutes",
        "httproute",
        "HTTPRoute",
        true,
        &[],
    ))),
    rt(
        "coordination.k8s.io",
        "v1",
        "leases",
        "lease",
        "Lease",
        true,
        &[],
    ),
    rt(
        "storage.k8s.io",
        "v1",
        "storageclasses",
        "storageclass",
        "StorageClass",
        false,
        &["sc"],
    ),
    rt("", "v1", "events", "event", "Event", true, &["ev"]),
];

/// Index of a resource in [`RESOURCES`]; storage is keyed by it.
pub type ResIdx = usize;

impl ResourceType {
    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The qualified resource as error messages print it: `deployments.apps`, `configmaps`.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The qualified kind as validation errors print it: `Deployment.apps`, `ConfigMap`.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }
}

/// Finds a resource by group, version and plural name.
pub fn by_plural(group: &str, version: &str, plural: &str) -> Option<ResIdx> {
    RESOURCES
        .iter()
        .position(|r| r.group == group && r.version == version && r.plural == plural)
}

/// Whether `r` is served: built in, or its CRD is installed (`crds`).
pub fn served(r: &ResourceType, crds: bool) -> bool {
    !r.crd || crds
}

/// Finds a resource by apiVersion (`apps/v1`, `v1`) and kind.
pub fn by_kind(api_version: &str, kind: &str) -> Option<ResIdx> {
    let (group, version) = split_api_version(api_version);
    RESOURCES
        .iter()
        .position(|r| r.group == group && r.version == version && r.kind == kind)
}

/// `apps/v1` -> (`apps`, `v1`); `v1` -> (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

/// Index of a well-known resource (panics on a typo; only used with literals).
pub fn idx(plural: &str) -> ResIdx {
    RESOURCES
        .iter()
        .position(|r| r.plural == plural)
        .unwrap_or_else(|| panic!("unknown built-in resource {plural}"))
}
