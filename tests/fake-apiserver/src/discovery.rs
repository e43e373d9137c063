//! Discovery documents: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/{group}/{version}`
//! (legacy discovery), and the aggregated discovery (`apidiscovery.k8s.io/v2`
//! `APIGroupDiscoveryList`) served at `/api` and `/apis` when the client asks for it in
//! `Accept`, as Kubernetes 1.30+ does. A client that asks for aggregated discovery with
//! a fallback (`..., application/json`) and a server without it would get the legacy
//! document; this server has it, so it answers the aggregated one.

use serde_json::{Value, json};

use crate::resources::{RESOURCES, ResourceType, VERBS, served};

/// `Content-Type` of an aggregated discovery answer.
pub const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Whether the `Accept` header asks for aggregated discovery v2.
pub fn wants_aggregated(accept: &str) -> bool {
    accept.split(',').any(|alt| {
        let params: Vec<&str> = alt.split(';').map(str::trim).collect();
        params.contains(&"g=apidiscovery.k8s.io")
            && params.contains(&"v=v2")
            && params.contains(&"as=APIGroupDiscoveryList")
    })
}

pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "34",
        "emulationMajor": "1",
        "emulationMinor": "34",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "33",
        "gitVersion": "v1.34.1",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-09-09T00:00:00Z",
        "goVersion": "go1.24.6",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// `/api`: the core group's versions.
pub fn core_versions(server: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server}]
    })
}

/// Named groups in table order, each once (with `crds`, those served by CRDs too).
fn groups(crds: bool) -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for r in RESOURCES
        .iter()
        .filter(|r| !r.group.is_empty() && served(r, crds))
    {
        if !out.contains(&(r.group, r.version)) {
            out.push((r.group, r.version));
        }
    }
    out
}

/// `/apis`: the named groups.
pub fn group_list(crds: bool) -> Value {
    let groups: Vec<Value> = groups(crds)
        .into_iter()
        .map(|(g, v)| {
            let gv = json!({"groupVersion": format!("{g}/{v}"), "version": v});
            json!({"name": g, "versions": [gv.clone()], "preferredVersion": gv})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}`: one group.
pub fn group(name: &str, crds: bool) -> Option<Value> {
    let (g, v) = groups(crds).into_iter().find(|(g, _)| *g == name)?;
    let gv = json!({"groupVersion": format!("{g}/{v}"), "version": v});
    Some(json!({
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": g,
        "versions": [gv.clone()],
        "preferredVersion": gv
    }))
}

fn storage_version_hash(r: &ResourceType) -> String {
    let h = crate::util::fnv32a(format!("{}/{}/{}", r.group, r.version, r.kind).as_bytes());
    format!("{h:08x}").chars().take(11).collect()
}

/// `/api/v1` or `/apis/{group}/{version}`: the resources of one group version, including
/// their `status` subresources.
pub fn resource_list(group: &str, version: &str, crds: bool) -> Option<Value> {
    let rs: Vec<&ResourceType> = RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version && served(r, crds))
        .collect();
    if rs.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for r in rs {
        let mut res = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": VERBS,
            "storageVersionHash": storage_version_hash(r),
        });
        if !r.short_names.is_empty() {
            res["shortNames"] = json!(r.short_names);
        }
        if r.category_all {
            res["categories"] = json!(["all"]);
        }
        resources.push(res);
        if r.status_subresource {
            resources.push(json!({
                "name": format!("{}/status", r.plural),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": resources
    }))
}

fn aggregated_group(group: &str, version: &str, crds: bool) -> Value {
    let resources: Vec<Value> = RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version && served(r, crds))
        .map(|r| {
            let kind = json!({"group": r.group, "version": r.version, "kind": r.kind});
            let mut res = json!({
                "resource": r.plural,
                "responseKind": kind.clone(),
                "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
                "singularResource": r.singular,
                "verbs": VERBS,
            });
            if !r.short_names.is_empty() {
                res["shortNames"] = json!(r.short_names);
            }
            if r.category_all {
                res["categories"] = json!(["all"]);
            }
            if r.status_subresource {
                res["subresources"] = json!([{
                    "subresource": "status",
                    "responseKind": kind,
                    "verbs": ["get", "patch", "update"],
                }]);
            }
            res
        })
        .collect();
    let mut meta = json!({"creationTimestamp": null});
    if !group.is_empty() {
        meta["name"] = json!(group);
    }
    json!({
        "metadata": meta,
        "versions": [{"version": version, "resources": resources, "freshness": "Current"}]
    })
}

/// Aggregated discovery for `/api` (`core`) or `/apis` (the named groups).
pub fn aggregated(core: bool, crds: bool) -> Value {
    let items: Vec<Value> = if core {
        vec![aggregated_group("", "v1", crds)]
    } else {
        groups(crds)
            .into_iter()
            .map(|(g, v)| aggregated_group(g, v, crds))
            .collect()
    };
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items
    })
}
