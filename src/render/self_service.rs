//! The router's rights for self-service (`spec.routing.selfService`), as template values:
//! exactly what making one agent the way `clawctl apply` does needs, and nothing more.
//!
//! - in the router's namespace: read, list and watch ConfigMaps (the claims, found by
//!   label, and the bundle) and create them (a new claim; `create` cannot be limited by
//!   name in RBAC);
//! - in the self-service team's namespace: get, create and patch (server-side apply) the
//!   kinds an agent's templates render there, list and watch Deployments and Pods (the
//!   wait for readiness) and Secrets (its token, read as every routed token is). No Roles
//!   or RoleBindings: what the router makes cannot grant anything;
//! - in the fleet namespace, by name: the fleet lock (get, update, patch: it never
//!   creates it) and the ApplySet parent (get only: it never widens the fleet).
//!
//! Nothing cluster-scoped. See docs/boundaries.md, "Self-service: what the router may do".

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value as Json, json};

use crate::fleet::ResolvedFleet;

/// The values the self-service templates see as `fleet.selfService`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SelfServiceContext<'a> {
    /// The name of the router's self-service Roles and RoleBindings.
    pub name: String,
    /// `routing.selfService.team`: the team agents are made in.
    pub team: &'a str,
    /// That team's namespace.
    pub namespace: &'a str,
    /// The bundle ConfigMap's name (the fleet as the router resolves it), `<fleet>-self-service`.
    pub bundle: String,
    /// The RoleBindings' subjects: the router's ServiceAccount.
    pub subjects: Json,
    /// Its rules in the router's namespace: claims and the bundle (ConfigMaps).
    pub router_rules: Json,
    /// Its rules in the team's namespace: the kinds an agent's templates render there,
    /// and reading Deployments, Pods and Secrets. No Roles or RoleBindings.
    pub team_rules: Json,
}

/// `fleet.selfService`, or none without self-service.
pub fn context(fleet: &ResolvedFleet) -> Option<SelfServiceContext<'_>> {
    let (Some(block), Some(router_namespace)) = (&fleet.self_service, fleet.router_namespace())
    else {
        return None;
    };
    let write = ["get", "create", "patch"];
    let watch_write = ["get", "list", "watch", "create", "patch"];
    Some(SelfServiceContext {
        name: crate::names::self_service_role(&fleet.name),
        team: &block.team,
        namespace: &block.namespace,
        bundle: crate::names::self_service_bundle(&fleet.name),
        subjects: json!([{
            "kind": "ServiceAccount",
            "name": crate::names::router(&fleet.name),
            "namespace": router_namespace,
        }]),
        router_rules: json!([
            {"apiGroups": [""], "resources": ["configmaps"],
             "verbs": ["get", "list", "watch", "create"]},
        ]),
        team_rules: json!([
            {"apiGroups": [""],
             "resources": ["configmaps", "persistentvolumeclaims", "serviceaccounts", "services"],
             "verbs": write},
            {"apiGroups": [""], "resources": ["secrets"], "verbs": watch_write},
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": watch_write},
            {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": write},
        ]),
    })
}

/// The router's extra rules in the fleet namespace (beside reading the routing table):
/// the fleet lock and the ApplySet parent, each by name.
pub fn fleet_rules(fleet: &ResolvedFleet) -> Vec<Json> {
    if fleet.self_service.is_none() {
        return Vec::new();
    }
    vec![
        json!({"apiGroups": [""], "resources": ["configmaps"],
               "resourceNames": [crate::names::lock(&fleet.name)],
               "verbs": ["get", "update", "patch"]}),
        json!({"apiGroups": [""], "resources": ["configmaps"],
               "resourceNames": [crate::cluster::applyset::parent_name(&fleet.name)],
               "verbs": ["get"]}),
    ]
}

/// The router's environment for self-service.
pub fn env(fleet: &ResolvedFleet) -> Vec<Json> {
    let (Some(block), Some(router_namespace)) = (&fleet.self_service, fleet.router_namespace())
    else {
        return Vec::new();
    };
    vec![
        json!({"name": "CLAWCTL_ROUTER_NAMESPACE", "value": router_namespace}),
        json!({"name": "CLAWCTL_SELF_SERVICE_BUNDLE",
               "value": crate::names::self_service_bundle(&fleet.name)}),
        json!({"name": "CLAWCTL_SELF_SERVICE_NAMESPACE", "value": block.namespace}),
    ]
}
