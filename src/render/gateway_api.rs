//! The part of Gateway API's HTTPRoute (gateway.networking.k8s.io/v1) that clawctl
//! renders, as types, so a rendered HTTPRoute is parsed back like the built-in kinds
//! are: k8s-openapi has no types for a CRD. Field names and required fields follow the
//! Gateway API v1 reference (`HTTPRouteSpec`, `ParentReference`, `HTTPRouteRule`,
//! `HTTPRouteMatch`, `HTTPBackendRef`); fields clawctl never writes are left out, so a
//! template override using them is refused rather than passed on unchecked.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)] // read only to check the shape
struct HttpRoute {
    api_version: String,
    kind: String,
    metadata: Metadata,
    spec: Spec,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Metadata {
    name: String,
    namespace: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    annotations: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
struct Spec {
    parent_refs: Option<Vec<ParentReference>>,
    hostnames: Option<Vec<String>>,
    rules: Option<Vec<Rule>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
struct ParentReference {
    group: Option<String>,
    kind: Option<String>,
    namespace: Option<String>,
    name: String,
    section_name: Option<String>,
    port: Option<u16>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
struct Rule {
    matches: Option<Vec<Match>>,
    backend_refs: Option<Vec<BackendRef>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
struct Match {
    path: Option<PathMatch>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct PathMatch {
    #[serde(rename = "type")]
    kind: Option<PathType>,
    value: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
enum PathType {
    Exact,
    PathPrefix,
    RegularExpression,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
struct BackendRef {
    group: Option<String>,
    kind: Option<String>,
    name: String,
    namespace: Option<String>,
    port: Option<u16>,
    weight: Option<i32>,
}

/// Reads `doc` as an HTTPRoute of the subset above.
pub fn check_route(doc: &Value) -> Result<(), String> {
    HttpRoute::deserialize(doc)
        .map(drop)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::check_route;
    use serde_json::json;

    #[test]
    fn routes_need_named_parents_and_backends() {
        let route = |spec: serde_json::Value| {
            json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                   "metadata": {"name": "a", "namespace": "n"}, "spec": spec})
        };
        assert!(
            check_route(&route(json!({
                "parentRefs": [{"name": "gw", "namespace": "gateway-system"}],
                "hostnames": ["a.example"],
                "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                           "backendRefs": [{"name": "agent-a", "port": 18789}]}],
            })))
            .is_ok()
        );
        assert!(check_route(&route(json!({"parentRefs": [{"namespace": "x"}]}))).is_err());
        assert!(check_route(&route(json!({"rules": [{"backendRefs": [{"port": 1}]}]}))).is_err());
        assert!(check_route(&route(json!({"hostname": ["typo"]}))).is_err());
    }
}
