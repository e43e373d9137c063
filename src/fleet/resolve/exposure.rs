//! How an agent is reached from outside its namespace (`exposure`): its Service's type,
//! a Gateway API HTTPRoute and/or an Ingress, the proxy pods its NetworkPolicy admits,
//! and the browser origins and trusted proxies the gateway learns from them.

use std::collections::{BTreeMap, HashMap};

use super::agent::At;
use super::{Cx, ResolvedAgent, check_selector, guardrails, rules, source};
use crate::diag::{FieldPath, agents_phrase};
use crate::fleet::model::{ParentRef, ProxySelector, ServiceType, Settings};

/// Gateway API limits (HTTPRouteSpec: `parentRefs` maxItems 32, `hostnames` maxItems 16).
const MAX_PARENT_REFS: usize = 32;
const MAX_HOSTNAMES: usize = 16;

/// The agent's exposure as rendered.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ResolvedExposure {
    pub http_route: Option<ResolvedHttpRoute>,
    pub ingress: Option<ResolvedIngress>,
    /// The proxy's pods, admitted on the gateway port by the NetworkPolicy.
    pub from: Option<ProxySelector>,
    /// OpenClaw's `gateway.trustedProxies`.
    pub trusted_proxies: Vec<String>,
    /// The path prefix both routes send to the agent (`/` by default).
    pub path: String,
    /// Browser origins of the declared hostnames, for `gateway.controlUi.allowedOrigins`.
    pub origins: Vec<String>,
}

impl ResolvedExposure {
    /// The Control UI's base path, when the agent is served under a prefix.
    pub fn base_path(&self) -> Option<&str> {
        (self.path != "/").then_some(self.path.as_str())
    }

    /// The hostnames the agent answers for, each once.
    fn hosts(&self) -> Vec<&str> {
        let mut hosts: Vec<&str> = Vec::new();
        let route = self.http_route.iter().flat_map(|r| &r.hostnames);
        for host in route.chain(self.ingress.iter().map(|i| &i.host)) {
            if !hosts.contains(&host.as_str()) {
                hosts.push(host);
            }
        }
        hosts
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ResolvedHttpRoute {
    pub parent_refs: Vec<ParentRef>,
    pub hostnames: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ResolvedIngress {
    pub class_name: String,
    pub host: String,
    pub tls_secret_name: Option<String>,
    pub annotations: BTreeMap<String, String>,
}

pub(super) fn resolve(cx: &mut Cx, at: At, settings: &Settings) -> ResolvedExposure {
    let Some(exposure) = settings.exposure.clone() else {
        return ResolvedExposure {
            path: "/".to_string(),
            ..ResolvedExposure::default()
        };
    };
    let src = |cx: &Cx, rel: &str| at.src(cx, &format!("exposure.{rel}"));
    if let Some(kind @ (ServiceType::NodePort | ServiceType::LoadBalancer)) = exposure.service_type
    {
        // The gateway speaks plain HTTP with a bearer token, and the NetworkPolicy admits
        // only the declared proxy pods: a node port or load balancer would either carry
        // the token in clear text or be dropped by the policy. TLS ends at a proxy.
        cx.error(
            &src(cx, "serviceType"),
            format!(
                "{kind:?} would expose the gateway's plain HTTP (and its token) outside the \
                 cluster, and the agent's NetworkPolicy admits only `exposure.from`: use \
                 `httpRoute` or `ingress`, which end TLS at a proxy; the Service stays ClusterIP"
            ),
        );
    }

    let path = exposure.path.clone().unwrap_or_else(|| "/".to_string());
    cx.check_at(|cx| src(cx, "path"), check_path(&path));

    let http_route = exposure.http_route.as_ref().map(|route| {
        let refs = route.parent_refs.clone().unwrap_or_default();
        if refs.is_empty() {
            cx.error(
                &src(cx, "httpRoute"),
                "an HTTPRoute needs `parentRefs`: the Gateway (name, namespace, sectionName) it attaches to",
            );
        } else if refs.len() > MAX_PARENT_REFS {
            cx.error(
                &src(cx, "httpRoute.parentRefs"),
                format!("at most {MAX_PARENT_REFS} parentRefs (Gateway API)"),
            );
        }
        for (j, parent) in refs.iter().enumerate() {
            let at_ref = |cx: &Cx, field: &str| src(cx, &format!("httpRoute.parentRefs[{j}].{field}"));
            cx.check_at(|cx| at_ref(cx, "name"), rules::dns_subdomain(&parent.name));
            if let Some(ns) = &parent.namespace {
                cx.check_at(|cx| at_ref(cx, "namespace"), rules::dns_label(ns, 63));
            }
            if let Some(section) = &parent.section_name {
                cx.check_at(|cx| at_ref(cx, "sectionName"), rules::dns_subdomain(section));
            }
        }
        let hostnames = route.hostnames.clone().unwrap_or_default();
        if hostnames.is_empty() {
            cx.error(
                &src(cx, "httpRoute"),
                "an HTTPRoute needs `hostnames`: without one it takes every host of the \
                 Gateway's listener, and the Control UI has no origin to allow",
            );
        } else if hostnames.len() > MAX_HOSTNAMES {
            cx.error(
                &src(cx, "httpRoute.hostnames"),
                format!("at most {MAX_HOSTNAMES} hostnames (Gateway API)"),
            );
        }
        for (j, host) in hostnames.iter().enumerate() {
            cx.check_at(
                |cx| src(cx, &format!("httpRoute.hostnames[{j}]")),
                hostname(host),
            );
        }
        ResolvedHttpRoute {
            parent_refs: refs,
            hostnames,
        }
    });

    let ingress = exposure.ingress.as_ref().map(|ing| {
        let class_name = ing.class_name.clone().unwrap_or_default();
        match &ing.class_name {
            Some(class) => cx.check_at(|cx| src(cx, "ingress.className"), rules::dns_subdomain(class)),
            None => cx.error(
                &src(cx, "ingress"),
                "an Ingress needs `className` (the IngressClass, e.g. nginx): the cluster's default class may change or be absent",
            ),
        }
        let host = ing.host.clone().unwrap_or_default();
        match &ing.host {
            Some(h) => cx.check_at(|cx| src(cx, "ingress.host"), hostname(h)),
            None => cx.error(
                &src(cx, "ingress"),
                "an Ingress needs `host`: a rule without one takes every host, and the Control UI has no origin to allow",
            ),
        }
        match &ing.tls_secret_name {
            Some(secret) => cx.check_at(
                |cx| src(cx, "ingress.tlsSecretName"),
                rules::dns_subdomain(secret),
            ),
            None => {
                let p = src(cx, "ingress");
                cx.warn(
                    &p,
                    "no `tlsSecretName`: browsers reach the gateway over plain HTTP, so its token travels in clear text",
                );
            }
        }
        let annotations = ing.annotations.clone().unwrap_or_default();
        for key in annotations.keys() {
            cx.check_at(
                |cx| src(cx, "ingress.annotations").key(key.as_str()),
                rules::label_key(key)
                    .map_err(|_| format!("{key:?} is not a valid annotation key"))
                    .and_then(|()| guardrails::ingress_annotation(key)),
            );
        }
        ResolvedIngress {
            class_name,
            host,
            tls_secret_name: ing.tls_secret_name.clone(),
            annotations,
        }
    });

    let routed = http_route.is_some() || ingress.is_some();
    match &exposure.from {
        Some(from) => {
            cx.check_at(
                |cx| src(cx, "from.namespace"),
                rules::dns_label(&from.namespace, 63),
            );
            check_selector(cx, &from.pod_selector, &|cx| src(cx, "from.podSelector"));
            if !routed {
                cx.error(
                    &src(cx, "from"),
                    "`from` admits a proxy, but there is no `httpRoute` or `ingress` for it to forward",
                );
            }
        }
        None if routed => cx.error(
            &src(
                cx,
                if http_route.is_some() {
                    "httpRoute"
                } else {
                    "ingress"
                },
            ),
            "needs `exposure.from`: the proxy's pods (namespace, podSelector), which the agent's \
             NetworkPolicy must admit or the route never reaches the gateway",
        ),
        None => {}
    }

    let trusted_proxies = exposure.trusted_proxies.clone().unwrap_or_default();
    for (j, proxy) in trusted_proxies.iter().enumerate() {
        let ok = proxy.parse::<std::net::IpAddr>().is_ok() || rules::cidr(proxy).is_ok();
        if !ok {
            cx.error(
                &src(cx, &format!("trustedProxies[{j}]")),
                format!("{proxy:?} is neither an IP address nor a CIDR block like 10.42.0.0/16"),
            );
        }
    }

    let mut resolved = ResolvedExposure {
        http_route,
        ingress,
        from: exposure.from.clone(),
        trusted_proxies,
        path,
        origins: Vec::new(),
    };
    resolved.origins = origins(&resolved);
    resolved
}

/// `https://<host>` for every HTTPRoute hostname (TLS ends at the Gateway's listener,
/// which clawctl cannot see: a browser needs HTTPS for the Control UI anyway) and for an
/// Ingress host with a TLS Secret; `http://<host>` for one without.
fn origins(exposure: &ResolvedExposure) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |origin: String| {
        if !out.contains(&origin) {
            out.push(origin);
        }
    };
    for host in exposure.http_route.iter().flat_map(|r| &r.hostnames) {
        push(format!("https://{host}"));
    }
    if let Some(ing) = &exposure.ingress {
        let scheme = if ing.tls_secret_name.is_some() {
            "https"
        } else {
            "http"
        };
        push(format!("{scheme}://{}", ing.host));
    }
    out
}

/// A hostname as Gateway API and Ingress take it (an RFC 1123 subdomain, not an IP
/// address), without the wildcard both would allow: an agent's route is its own, and
/// a browser origin is one exact host (OpenClaw's audit reports wildcard origins as
/// critical).
fn hostname(host: &str) -> Result<(), String> {
    if host.starts_with("*.") || host == "*" {
        return Err(format!(
            "{host:?}: a wildcard hostname would route other hosts to this agent and cannot be a Control UI origin; name the host"
        ));
    }
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Err(format!(
            "{host:?} is an IP address; Gateway API and Ingress route by DNS name"
        ));
    }
    rules::dns_subdomain(host)
        .map_err(|_| format!("{host:?} is not a DNS name: lowercase letters, digits, '-' and '.', like claw.example.com"))
}

/// A Prefix path as Kubernetes validates one for an Ingress: absolute, no empty or dot
/// segments, no query or fragment.
fn check_path(path: &str) -> Result<(), String> {
    let ok = path.starts_with('/')
        && (path == "/" || !path.ends_with('/'))
        && !path.contains("//")
        && !path.split('/').any(|s| s == "." || s == "..")
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-._~".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{path:?} is not a path prefix like / or /claw: absolute, letters, digits and -._~ only, no trailing '/'"
        ))
    }
}

/// Two agents answering for the same host would split its traffic between them (the
/// proxy picks one, or rejects both): each hostname belongs to one agent.
pub(super) fn unique_hosts(cx: &mut Cx, agents: &[ResolvedAgent]) {
    let spec = &cx.loaded.fleet.spec;
    let index: HashMap<&str, usize> = spec
        .agents
        .iter()
        .enumerate()
        .map(|(i, a)| (a.name.as_str(), i))
        .collect();
    let mut owners: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for agent in agents {
        for host in agent.exposure.hosts() {
            owners.entry(host).or_default().push(&agent.name);
        }
    }
    for (host, names) in owners.into_iter().filter(|(_, n)| n.len() > 1) {
        let Some(&i) = names.get(1).and_then(|n| index.get(n)) else {
            continue;
        };
        let team = cx.loaded.fleet.spec.agents[i]
            .team
            .as_ref()
            .and_then(|t| cx.loaded.fleet.spec.teams.iter().position(|x| &x.name == t))
            .or((cx.loaded.fleet.spec.teams.len() == 1).then_some(0));
        let at = super::agent::At {
            agent: i,
            team,
            hosted: None,
            self_service: false,
        };
        let path = source(cx, at, &FieldPath::parse("exposure"));
        cx.error(
            &path,
            format!(
                "hostname {host:?} is declared by {}: each hostname routes to one agent",
                agents_phrase(&names)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_are_exact_dns_names() {
        assert!(hostname("ops.homelab.example").is_ok());
        for bad in [
            "*.example.com",
            "*",
            "10.0.0.1",
            "Claw.Example.com",
            "a_b.example",
            "",
        ] {
            assert!(hostname(bad).is_err(), "{bad}");
        }
    }

    fn resolved(exposure: &str) -> crate::fleet::ResolvedFleet {
        let text = format!(
            "apiVersion: clawctl.io/v1alpha1\nkind: Fleet\nmetadata: {{name: t}}\nspec:\n  \
             image: ghcr.io/openclaw/openclaw:2026.9.6\n  defaults:\n    \
             model: {{primary: anthropic/claude-sonnet-4-20250514}}\n{exposure}\n  \
             teams: [{{name: core}}]\n  agents: [{{name: a}}]\n"
        );
        let loaded = crate::fleet::load_str("t.yaml", std::env::temp_dir(), &text)
            .unwrap_or_else(|e| panic!("{e}"));
        crate::fleet::resolve(&loaded).unwrap_or_else(|e| panic!("{e}"))
    }

    fn openclaw_json(fleet: &crate::fleet::ResolvedFleet) -> serde_json::Value {
        let (release, _) =
            crate::openclaw::release(&fleet.image, None).unwrap_or_else(|e| panic!("{e}"));
        crate::openclaw::config_json(&fleet.agents[0], &release)
    }

    #[test]
    fn declared_hosts_join_the_origins_and_the_proxy_is_trusted() {
        // Both routes at once, under a prefix; no explicit origins: the port-forward
        // defaults stay, then the hosts (https with TLS, http without).
        let fleet = resolved(
            "    exposure:\n      path: /claw\n      \
             httpRoute: {parentRefs: [{name: gw}], hostnames: [a.example.com]}\n      \
             ingress: {className: nginx, host: b.example.com}\n      \
             from: {namespace: ingress-nginx}\n      trustedProxies: [10.42.0.0/16, 10.0.0.7]",
        );
        assert_eq!(fleet.warnings.len(), 1, "{:?}", fleet.warnings);
        let c = openclaw_json(&fleet);
        assert_eq!(
            c["gateway"]["controlUi"]["allowedOrigins"],
            serde_json::json!([
                "http://127.0.0.1:18789",
                "http://localhost:18789",
                "https://a.example.com",
                "http://b.example.com"
            ])
        );
        assert_eq!(c["gateway"]["controlUi"]["basePath"], "/claw");
        assert_eq!(
            c["gateway"]["trustedProxies"],
            serde_json::json!(["10.42.0.0/16", "10.0.0.7"])
        );

        // Explicit origins replace the port-forward defaults; the host is still added once.
        let fleet = resolved(
            "    controlUi: {allowedOrigins: [\"https://a.example.com\", \"https://ops.example.com\"]}\n    \
             exposure:\n      httpRoute: {parentRefs: [{name: gw}], hostnames: [a.example.com]}\n      \
             from: {namespace: gateway-system}",
        );
        let c = openclaw_json(&fleet);
        assert_eq!(
            c["gateway"]["controlUi"]["allowedOrigins"],
            serde_json::json!(["https://a.example.com", "https://ops.example.com"])
        );
        assert!(c["gateway"]["controlUi"].get("basePath").is_none(), "{c}");
        assert!(c["gateway"].get("trustedProxies").is_none(), "{c}");
    }

    #[test]
    fn paths_are_clean_prefixes() {
        for ok in ["/", "/claw", "/a/b-c"] {
            assert!(check_path(ok).is_ok(), "{ok}");
        }
        for bad in ["", "claw", "/claw/", "//", "/a/../b", "/a?b", "/a b"] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
    }
}
