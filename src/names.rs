//! The names and label keys every layer shares: how clawctl names an agent's objects,
//! its history and its lock, and the labels that mark what a fleet owns. A leaf: it
//! imports nothing from the crate (kubectl keeps its well-known labels the same way).

pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const PART_OF: &str = "app.kubernetes.io/part-of";
pub const FLEET_LABEL: &str = "clawctl.io/fleet";
pub const TEAM_LABEL: &str = "clawctl.io/team";
pub const AGENT_LABEL: &str = "clawctl.io/agent";
pub const CONFIG_HASH: &str = "clawctl.io/config-hash";

/// Annotation on a Secret whose key `apply` fills once with a random value.
pub const GENERATED_KEY: &str = "clawctl.io/generated-key";

/// Marks a self-service claim ConfigMap (value `"true"`) in the router's namespace.
pub const CLAIM_LABEL: &str = "clawctl.io/claim";

/// Marks a Secret (or, before 0.2, a ControllerRevision) as clawctl revision history.
pub const HISTORY_LABEL: &str = "clawctl.io/history";

/// Annotation on a Namespace that existed before its fleet adopted it (`adopt: true`):
/// clawctl never deletes such a namespace.
pub const ADOPTED: &str = "clawctl.io/adopted";

/// The name of an agent's objects.
pub fn resource_name(agent: &str) -> String {
    format!("agent-{agent}")
}

/// The Secret holding a routed agent's own gateway token (`routing.from`), created and
/// filled by `apply`, never rendered with a value.
pub fn token_secret(agent: &str) -> String {
    format!("{}-gateway-token", resource_name(agent))
}

/// The Secret holding revision `number` of an agent of a fleet, in the agent's namespace.
/// The fleet is part of the name, so two fleets' agents of one name never collide.
pub fn revision(fleet: &str, agent: &str, number: i64) -> String {
    format!("clawctl.{fleet}.{agent}.r{number}")
}

/// clawctl-router's objects (Deployment, ServiceAccount, ...) in its namespace, and its
/// Role and RoleBinding in the fleet namespace (reading the routing table).
pub fn router(fleet: &str) -> String {
    format!("{fleet}-router")
}

/// The router's namespace unless `spec.routing.router.namespace` names one.
pub fn router_namespace(fleet: &str) -> String {
    format!("{fleet}-router")
}

/// The `app.kubernetes.io/name` of clawctl-router's objects and pods.
pub const ROUTER_APP: &str = "clawctl-router";

/// The labels that select a fleet's router pods (its `routing.from`).
pub fn router_selector(fleet: &str) -> std::collections::BTreeMap<String, String> {
    std::collections::BTreeMap::from([
        ("app.kubernetes.io/name".to_string(), ROUTER_APP.to_string()),
        (FLEET_LABEL.to_string(), fleet.to_string()),
    ])
}

/// The Secret in the fleet namespace holding the key that seals the fleet's revisions.
pub fn history_key(fleet: &str) -> String {
    format!("clawctl-{fleet}-history-key")
}

/// The self-service bundle in the router's namespace: the fleet file and every file it
/// needs, from which the router renders an agent as `clawctl apply` would.
pub fn self_service_bundle(fleet: &str) -> String {
    format!("{fleet}-self-service")
}

/// The Role (and RoleBinding) letting the router make self-service agents, in the
/// router's namespace and in the self-service team's.
pub fn self_service_role(fleet: &str) -> String {
    format!("{fleet}-router-self-service")
}

/// The fleet lock's ConfigMap in the fleet namespace.
pub fn lock(fleet: &str) -> String {
    format!("clawctl-{fleet}-lock")
}

/// The (kind, name) pairs clawctl's templates give an agent's objects other than its
/// volumes: what a recorded revision of that agent may hold, and nothing else.
pub fn agent_objects(agent: &str) -> [(&'static str, String); 10] {
    let own = resource_name(agent);
    [
        ("ServiceAccount", own.clone()),
        ("Role", own.clone()),
        ("RoleBinding", own.clone()),
        ("ConfigMap", own.clone()),
        ("Deployment", own.clone()),
        ("Service", own.clone()),
        ("NetworkPolicy", own.clone()),
        ("HTTPRoute", own.clone()),
        ("Ingress", own),
        ("Secret", token_secret(agent)),
    ]
}

/// Namespaces a fleet may never use: the cluster's own.
pub fn reserved_namespace(namespace: &str) -> bool {
    namespace == "default" || namespace.starts_with("kube-")
}

/// The workspace claim of agent `hosted` in the multi-agent gateway `gateway`.
pub fn workspace_claim(gateway: &str, hosted: &str) -> String {
    format!("{}-{hosted}", resource_name(gateway))
}

/// RFC 1123 label: lowercase alphanumerics and '-', starting and ending alphanumeric,
/// at most `max` characters (63 for Kubernetes names of this kind).
pub fn dns_label(name: &str, max: usize) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= max
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else if name.len() > max {
        Err(format!("{name:?} is longer than {max} characters"))
    } else {
        Err(format!(
            "{name:?} is not a valid name: use lowercase letters, digits and '-', starting and ending with a letter or digit"
        ))
    }
}

/// RFC 1123 subdomain (Secret, StorageClass names): labels joined by '.', at most 253.
pub fn dns_subdomain(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 253 || name.split('.').any(|l| dns_label(l, 63).is_err()) {
        return Err(format!(
            "{name:?} is not a valid name: use lowercase letters, digits, '-' and '.', at most 253 characters"
        ));
    }
    Ok(())
}

/// The labels every object of a fleet carries.
pub fn fleet_labels(fleet: &str) -> std::collections::BTreeMap<String, String> {
    std::collections::BTreeMap::from([
        (MANAGED_BY.to_string(), "clawctl".to_string()),
        (PART_OF.to_string(), fleet.to_string()),
        (FLEET_LABEL.to_string(), fleet.to_string()),
    ])
}

/// Annotation on a multi-agent gateway's Deployment: its agents, default first.
pub const AGENTS_ANNOTATION: &str = "clawctl.io/agents";

/// Label on a workspace claim of a multi-agent gateway: the agent it belongs to.
pub const HOSTED_AGENT_LABEL: &str = "clawctl.io/hosted-agent";

/// Azure Workload Identity's webhook mutates only pods with this label (it then injects
/// the projected token volume and `AZURE_*` variables).
/// <https://azure.github.io/azure-workload-identity/docs/topics/service-account-labels-and-annotations.html>
pub const AZURE_USE_LABEL: &str = "azure.workload.identity/use";

/// EKS's pod identity webhook (IRSA and EKS Pod Identity) injects the role's
/// credentials (`AWS_ROLE_ARN`, the web identity token volume, or the container
/// credentials URI) into every container and init container of a pod whose
/// ServiceAccount has a role, except those this pod annotation names,
/// comma-separated ("A comma-separated list of initContainers and container names to
/// skip adding volumes and environment variables", aws/amazon-eks-pod-identity-webhook
/// README, "eks.amazonaws.com/skip-containers: \"init-first,sidecar\"").
pub const EKS_SKIP_ANNOTATION: &str = "eks.amazonaws.com/skip-containers";
/// Azure Workload Identity's webhook does the same for a pod labelled
/// [`AZURE_USE_LABEL`], except the containers this pod annotation names,
/// semicolon-separated ("a semi-colon-separated list of containers (e.g.
/// `container1;container2`) to skip adding projected service account token volume",
/// Azure/azure-workload-identity docs/book/src/topics/service-account-labels-and-annotations.md,
/// Pod annotations).
pub const AZURE_SKIP_ANNOTATION: &str = "azure.workload.identity/skip-containers";
