//! Single-value rules of the fleet file: names, image references, RBAC rules, subjects.
//! Pure functions returning an error message; callers attach the location.

pub use crate::names::{dns_label, dns_subdomain};

use crate::diag::{Diagnostic, Diagnostics, FieldPath};
use crate::yaml::{Node, NodeValue};

use super::model::{API_VERSION, AccessRule, KIND};

/// Checks `apiVersion` and `kind` before anything else, so a file that is not a Fleet
/// gets one clear message instead of a list of unknown fields.
pub fn check_header(label: &str, root: &Node, diags: &mut Diagnostics) {
    if !matches!(root.value, NodeValue::Map(_)) {
        diags.push(Diagnostic::new(
            label,
            Some(root.loc),
            &FieldPath::root(),
            format!("expected a mapping (a Fleet), found {}", root.value.kind()),
        ));
        return;
    }
    for (field, want) in [("apiVersion", API_VERSION), ("kind", KIND)] {
        let path = FieldPath::root().key(field);
        match root.get(field).map(|n| (&n.value, n.loc)) {
            None => diags.push(Diagnostic::new(
                label,
                Some(root.loc),
                &path,
                format!("missing required field `{field}` (expected {want:?})"),
            )),
            Some((NodeValue::Str(s), _)) if s == want => {}
            Some((value, loc)) => {
                let got = match value {
                    NodeValue::Str(s) => format!("{s:?}"),
                    other => other.kind().to_string(),
                };
                diags.push(Diagnostic::new(
                    label,
                    Some(loc),
                    &path,
                    format!("expected {want:?}, found {got}"),
                ));
            }
        }
    }
}

/// A label value (for pod selectors): at most 63 characters of [A-Za-z0-9-_.],
/// starting and ending alphanumeric, or empty.
pub fn label_value(value: &str) -> Result<(), String> {
    let ok = value.is_empty()
        || (value.len() <= 63
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            && value.starts_with(|c: char| c.is_ascii_alphanumeric())
            && value.ends_with(|c: char| c.is_ascii_alphanumeric()));
    if ok {
        Ok(())
    } else {
        Err(format!("{value:?} is not a valid label value"))
    }
}

/// A label key: an optional DNS-subdomain prefix and '/', then a name part like a value.
pub fn label_key(key: &str) -> Result<(), String> {
    let (prefix, name) = key
        .rsplit_once('/')
        .map_or((None, key), |(p, n)| (Some(p), n));
    if prefix.is_some_and(|p| dns_subdomain(p).is_err())
        || name.is_empty()
        || label_value(name).is_err()
    {
        return Err(format!("{key:?} is not a valid label key"));
    }
    Ok(())
}

/// An environment variable name as Kubernetes accepts it for containers.
pub fn env_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!("{name:?} is not a valid environment variable name"))
    }
}

/// The characters and length of a Secret or ConfigMap key: `[-._a-zA-Z0-9]+`, at most 253.
fn key_chars(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 253
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// A Secret or ConfigMap key, not "." or "..".
pub fn data_key(key: &str) -> Result<(), String> {
    if key_chars(key) && key != "." && key != ".." {
        Ok(())
    } else {
        Err(format!(
            "{key:?} is not a valid key: use letters, digits, '-', '_' and '.'"
        ))
    }
}

/// A workspace file name: a ConfigMap key that does not start with '.'.
pub fn file_name(name: &str) -> Result<(), String> {
    let ok = key_chars(name) && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a valid workspace file name: use letters, digits, '-', '_' and '.' (no folders, not starting with '.')"
        ))
    }
}

/// A container mount path: absolute and normalised (no `.`, `..`, empty segments or
/// trailing '/'), no ':' (Kubernetes refuses it).
pub fn mount_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!("{path:?} is not an absolute path"));
    }
    let segments: Vec<&str> = path[1..].split('/').collect();
    if path != "/"
        && segments
            .iter()
            .any(|s| s.is_empty() || *s == "." || *s == "..")
    {
        return Err(format!(
            "{path:?} is not a plain path: no '.', '..', '//' or trailing '/'"
        ));
    }
    if path.contains(':') || path.contains(char::is_control) {
        return Err(format!("{path:?} may not hold ':' or control characters"));
    }
    Ok(())
}

/// A file path inside a Secret or ConfigMap volume (`items[].path`): relative, no `..`.
pub fn item_path(path: &str) -> Result<(), String> {
    if path.is_empty()
        || path.starts_with('/')
        || path.split('/').any(|s| s.is_empty() || s == "..")
    {
        return Err(format!(
            "{path:?} is not a relative file path inside the volume (no leading '/', no '..')"
        ));
    }
    Ok(())
}

/// A container port's name (IANA service name): at most 15 lowercase letters, digits
/// and '-', with a letter, no '--', not starting or ending with '-'.
pub fn port_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 15
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.bytes().any(|b| b.is_ascii_lowercase())
        && !name.contains("--")
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a valid port name: at most 15 lowercase letters, digits and '-', with at least one letter"
        ))
    }
}

/// Whether `image` is pinned: a digest, or a tag other than `latest`.
pub fn image_pin(image: &str) -> Result<(), String> {
    if image.is_empty() || image.contains(char::is_whitespace) {
        return Err(format!("{image:?} is not an image reference"));
    }
    if let Some((_, digest)) = image.split_once('@') {
        let hex = digest.strip_prefix("sha256:").unwrap_or("");
        if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(());
        }
        return Err(format!(
            "{image:?} has an invalid digest: expected @sha256: and 64 hex digits"
        ));
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => Err(format!(
            "{image:?} has no tag: pin a tag or digest (or set spec.policy.allowFloatingTags: true)"
        )),
        Some((_, "latest")) => Err(format!(
            "{image:?} uses the floating tag `latest`: pin a tag or digest (or set spec.policy.allowFloatingTags: true)"
        )),
        Some((_, "")) => Err(format!("{image:?} has an empty tag")),
        Some(_) => Ok(()),
    }
}

/// Resources that exist only cluster-wide: a namespaced Role granting them grants nothing,
/// and asking for them means the fleet wants more than its namespace.
const CLUSTER_SCOPED: &[&str] = &[
    "namespaces",
    "nodes",
    "persistentvolumes",
    "clusterroles",
    "clusterrolebindings",
    "customresourcedefinitions",
    "storageclasses",
    "priorityclasses",
    "mutatingwebhookconfigurations",
    "validatingwebhookconfigurations",
    "validatingadmissionpolicies",
    "validatingadmissionpolicybindings",
    "apiservices",
    "certificatesigningrequests",
    "csidrivers",
    "csinodes",
    "volumeattachments",
    "runtimeclasses",
    "ingressclasses",
    "componentstatuses",
    "tokenreviews",
    "subjectaccessreviews",
    "selfsubjectreviews",
    "flowschemas",
    "prioritylevelconfigurations",
];

/// Verbs that let a subject grant itself more than it holds (RBAC privilege escalation).
const ESCALATING_VERBS: &[&str] = &["escalate", "bind", "impersonate"];

/// Checks one `access` rule; returns (path below the rule, message) for each problem.
pub fn access_rule(rule: &AccessRule) -> Vec<(FieldPath, String)> {
    let here = FieldPath::root();
    let mut problems = Vec::new();
    if !rule.non_resource_urls.is_empty() {
        problems.push((
            here.key("nonResourceURLs"),
            "nonResourceURLs are cluster-scoped: access rules may only name namespaced resources"
                .to_string(),
        ));
    } else if rule.resources.is_empty() {
        problems.push((
            here.key("resources"),
            "at least one resource is required".to_string(),
        ));
    }
    if rule.verbs.is_empty() {
        problems.push((
            here.key("verbs"),
            "at least one verb is required".to_string(),
        ));
    }
    for (i, res) in rule.resources.iter().enumerate() {
        let base = res.split('/').next().unwrap_or(res);
        if CLUSTER_SCOPED.contains(&base) {
            problems.push((
                here.key("resources").index(i),
                format!(
                    "{res:?} is cluster-scoped: access rules may only name namespaced resources"
                ),
            ));
        }
    }
    for (i, verb) in rule.verbs.iter().enumerate() {
        if ESCALATING_VERBS.contains(&verb.as_str()) || verb == "*" {
            problems.push((
                here.key("verbs").index(i),
                format!("verb {verb:?} would let the agent grant itself more access; list the verbs it needs"),
            ));
        }
    }
    problems
}

/// A viewer subject: `group:NAME`, `user:NAME` or `serviceaccount:NAMESPACE:NAME`.
pub fn subject(text: &str) -> Result<(String, String, Option<String>), String> {
    let err = || {
        format!(
            "{text:?} is not a subject: expected group:NAME, user:NAME or serviceaccount:NAMESPACE:NAME"
        )
    };
    let (kind, rest) = text.split_once(':').ok_or_else(err)?;
    match kind {
        "group" | "user" if !rest.is_empty() => {
            let kind = if kind == "group" { "Group" } else { "User" };
            Ok((kind.to_string(), rest.to_string(), None))
        }
        "serviceaccount" => {
            let (ns, name) = rest.split_once(':').ok_or_else(err)?;
            dns_label(ns, 63)
                .map_err(|e| format!("{text:?}: the service account's namespace {e}"))?;
            dns_subdomain(name).map_err(|e| format!("{text:?}: the service account's name {e}"))?;
            Ok((
                "ServiceAccount".to_string(),
                name.to_string(),
                Some(ns.to_string()),
            ))
        }
        _ => Err(err()),
    }
}

/// A wave written as a cumulative percentage of the remaining agents: "25%".
pub fn wave_percent(text: &str) -> Result<u32, String> {
    let n = text
        .strip_suffix('%')
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| (1..=100).contains(n))
        .ok_or_else(|| format!("{text:?} is not a wave: expected a percentage from 1% to 100%"))?;
    Ok(n)
}

/// An IPv4 or IPv6 CIDR block.
pub fn cidr(text: &str) -> Result<(), String> {
    let err = || format!("{text:?} is not a CIDR block like 10.0.0.0/8");
    let (ip, bits) = text.split_once('/').ok_or_else(err)?;
    let bits: u8 = bits.parse().map_err(|_| err())?;
    match ip.parse::<std::net::IpAddr>().map_err(|_| err())? {
        std::net::IpAddr::V4(_) if bits <= 32 => Ok(()),
        std::net::IpAddr::V6(_) if bits <= 128 => Ok(()),
        _ => Err(err()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(dns_label("alice", 63).is_ok());
        assert!(dns_label("team-1", 63).is_ok());
        for bad in ["", "Alice", "-a", "a-", "a_b", "a.b", &"x".repeat(64)] {
            assert!(dns_label(bad, 63).is_err(), "{bad}");
        }
        assert!(dns_subdomain("openclaw-shared-secrets").is_ok());
        assert!(dns_subdomain("a..b").is_err());
        assert!(label_key("app.kubernetes.io/name").is_ok());
        assert!(label_key("bad key").is_err());
    }

    #[test]
    fn images_must_be_pinned() {
        assert!(image_pin("ghcr.io/openclaw/openclaw:2026.4.14").is_ok());
        assert!(image_pin("localhost:5000/openclaw:1").is_ok());
        assert!(
            image_pin(&format!(
                "ghcr.io/openclaw/openclaw@sha256:{}",
                "a".repeat(64)
            ))
            .is_ok()
        );
        assert!(image_pin("ghcr.io/openclaw/openclaw").is_err());
        assert!(image_pin("localhost:5000/openclaw").is_err());
        assert!(image_pin("ghcr.io/openclaw/openclaw:latest").is_err());
        assert!(image_pin("openclaw@sha256:abc").is_err());
    }

    #[test]
    fn access_rules_stay_in_the_namespace() {
        let rule = |res: &str, verb: &str| AccessRule {
            api_groups: vec![String::new()],
            resources: vec![res.to_string()],
            resource_names: vec![],
            verbs: vec![verb.to_string()],
            non_resource_urls: vec![],
        };
        assert!(access_rule(&rule("pods", "get")).is_empty());
        assert_eq!(access_rule(&rule("nodes", "get")).len(), 1);
        assert_eq!(access_rule(&rule("pods", "impersonate")).len(), 1);
    }

    #[test]
    fn subjects_and_waves() {
        assert_eq!(
            subject("group:research-team").map(|s| s.0),
            Ok("Group".to_string())
        );
        assert!(subject("serviceaccount:ops:bot").is_ok());
        assert!(subject("research").is_err());
        assert_eq!(wave_percent("25%"), Ok(25));
        assert!(wave_percent("0%").is_err());
        assert!(wave_percent("25").is_err());
        assert!(cidr("10.0.0.0/8").is_ok());
        assert!(cidr("10.0.0.0/33").is_err());
    }
}
