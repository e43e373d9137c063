//! The Pod Security Standards' `restricted` level (what every team namespace enforces,
//! `pod-security.kubernetes.io/enforce: restricted`), checked on each rendered pod
//! template, so that a template override cannot render a workload whose pods the API
//! server's admission would refuse one by one, minutes later, in the ReplicaSet
//! controller's events. The checks and their wording follow
//! k8s.io/pod-security-admission/policy (check_hostNamespaces.go, check_hostPathVolumes.go,
//! check_restrictedVolumes.go, check_hostPorts.go, check_privileged.go,
//! check_allowPrivilegeEscalation.go, check_capabilities_restricted.go,
//! check_runAsNonRoot.go, check_runAsUser.go, check_seccompProfile_restricted.go). Pure.

use serde_json::Value;

/// The volume sources the restricted level allows (check_restrictedVolumes.go).
const ALLOWED_VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// What in `pod` (a PodSpec) the restricted level forbids, one reason per check, worded
/// as the admission plugin words them.
pub fn restricted(pod: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let host: Vec<&str> = ["hostNetwork", "hostPID", "hostIPC"]
        .into_iter()
        .filter(|k| pod[*k] == true)
        .collect();
    if !host.is_empty() {
        problems.push(format!(
            "host namespaces ({})",
            host.iter()
                .map(|h| format!("{h}=true"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let volumes = pod["volumes"].as_array().cloned().unwrap_or_default();
    let restricted_volumes: Vec<String> = volumes
        .iter()
        .filter_map(|v| {
            let name = v["name"].as_str().unwrap_or("?");
            let kind = v.as_object()?.keys().find(|k| *k != "name")?.to_string();
            (!ALLOWED_VOLUMES.contains(&kind.as_str()))
                .then(|| format!("volume {name:?} uses restricted volume type {kind:?}"))
        })
        .collect();
    if !restricted_volumes.is_empty() {
        problems.push(format!(
            "restricted volume types ({})",
            restricted_volumes.join(", ")
        ));
    }
    let containers: Vec<&Value> = ["initContainers", "containers"]
        .iter()
        .flat_map(|k| pod[*k].as_array().into_iter().flatten())
        .collect();
    let named = |filter: &dyn Fn(&Value) -> bool| -> Vec<String> {
        containers
            .iter()
            .filter(|c| filter(c))
            .map(|c| format!("{:?}", c["name"].as_str().unwrap_or("?")))
            .collect()
    };
    let mut say = |what: &str, who: Vec<String>| {
        if !who.is_empty() {
            problems.push(format!("{what} (container {})", who.join(", ")));
        }
    };
    say(
        "hostPort",
        named(&|c| {
            c["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["hostPort"].as_i64().unwrap_or(0) != 0)
        }),
    );
    say(
        "privileged",
        named(&|c| c["securityContext"]["privileged"] == true),
    );
    say(
        "allowPrivilegeEscalation != false",
        named(&|c| c["securityContext"]["allowPrivilegeEscalation"] != false),
    );
    say(
        "unrestricted capabilities (must drop ALL; only NET_BIND_SERVICE may be added)",
        named(&|c| {
            let caps = &c["securityContext"]["capabilities"];
            let drops_all = caps["drop"]
                .as_array()
                .is_some_and(|d| d.iter().any(|x| x == "ALL"));
            let adds_more = caps["add"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x != "NET_BIND_SERVICE"));
            !drops_all || adds_more
        }),
    );
    let pod_context = &pod["securityContext"];
    say(
        "runAsNonRoot != true",
        named(&|c| {
            let own = &c["securityContext"]["runAsNonRoot"];
            own == false || (own.is_null() && pod_context["runAsNonRoot"] != true)
        }),
    );
    say(
        "runAsUser=0",
        named(&|c| {
            c["securityContext"]["runAsUser"] == 0
                || (c["securityContext"]["runAsUser"].is_null() && pod_context["runAsUser"] == 0)
        }),
    );
    // check_seccompProfile_restricted.go: a bad explicit value (on the pod, even when
    // every container sets its own, or on a container) is refused first; then a
    // container that sets none without a good pod-level one.
    let seccomp_ok = |v: &Value| matches!(v["type"].as_str(), Some("RuntimeDefault" | "Localhost"));
    let pod_seccomp = &pod_context["seccompProfile"];
    let mut setters = Vec::new();
    let mut values = std::collections::BTreeSet::new();
    if !pod_seccomp.is_null() && !seccomp_ok(pod_seccomp) {
        setters.push("pod".to_string());
        values.insert(format!(
            "{:?}",
            pod_seccomp["type"].as_str().unwrap_or_default()
        ));
    }
    let explicit = named(&|c| {
        let own = &c["securityContext"]["seccompProfile"];
        !own.is_null() && !seccomp_ok(own)
    });
    for c in &containers {
        let own = &c["securityContext"]["seccompProfile"];
        if !own.is_null() && !seccomp_ok(own) {
            values.insert(format!("{:?}", own["type"].as_str().unwrap_or_default()));
        }
    }
    if !explicit.is_empty() {
        setters.push(format!("container {}", explicit.join(", ")));
    }
    if !setters.is_empty() {
        problems.push(format!(
            "seccompProfile ({} must not set securityContext.seccompProfile.type to {})",
            setters.join(" and "),
            values.into_iter().collect::<Vec<_>>().join(", ")
        ));
    } else if pod_seccomp.is_null() {
        say(
            "seccompProfile (pod or containers must set type to \"RuntimeDefault\" or \"Localhost\")",
            named(&|c| c["securityContext"]["seccompProfile"].is_null()),
        );
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> Value {
        json!({
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "gateway", "securityContext": {
                "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}],
            "volumes": [{"name": "state", "persistentVolumeClaim": {"claimName": "x"}},
                        {"name": "tmp", "emptyDir": {}}],
        })
    }

    #[test]
    fn a_pod_level_unconfined_is_refused_even_when_every_container_sets_its_own() {
        let mut pod = good();
        pod["securityContext"]["seccompProfile"] = json!({"type": "Unconfined"});
        pod["containers"][0]["securityContext"]["seccompProfile"] =
            json!({"type": "RuntimeDefault"});
        assert_eq!(
            restricted(&pod),
            [
                "seccompProfile (pod must not set securityContext.seccompProfile.type to \"Unconfined\")"
            ]
        );
        pod["securityContext"]
            .as_object_mut()
            .expect("context")
            .remove("seccompProfile");
        assert_eq!(restricted(&pod), Vec::<String>::new());
    }

    #[test]
    fn a_restricted_pod_passes() {
        assert_eq!(restricted(&good()), Vec::<String>::new());
    }

    #[test]
    fn each_forbidden_shape_is_named_as_admission_names_it() {
        let mut pod = good();
        pod["hostNetwork"] = json!(true);
        pod["volumes"] = json!([{"name": "nas", "nfs": {"server": "n", "path": "/"}},
                                {"name": "root", "hostPath": {"path": "/"}}]);
        pod["containers"][0]["ports"] = json!([{"containerPort": 80, "hostPort": 80}]);
        pod["containers"][0]["securityContext"] = json!({"privileged": true});
        pod["securityContext"] = json!({"runAsUser": 0});
        let problems = restricted(&pod);
        for expected in [
            "host namespaces (hostNetwork=true)",
            "restricted volume types (volume \"nas\" uses restricted volume type \"nfs\", volume \"root\" uses restricted volume type \"hostPath\")",
            "hostPort (container \"gateway\")",
            "privileged (container \"gateway\")",
            "allowPrivilegeEscalation != false (container \"gateway\")",
            "unrestricted capabilities (must drop ALL; only NET_BIND_SERVICE may be added) (container \"gateway\")",
            "runAsNonRoot != true (container \"gateway\")",
            "runAsUser=0 (container \"gateway\")",
        ] {
            assert!(
                problems.iter().any(|p| p == expected),
                "{expected} not in {problems:#?}"
            );
        }
        assert!(
            problems.iter().any(|p| p.starts_with("seccompProfile")),
            "{problems:#?}"
        );
    }
}
