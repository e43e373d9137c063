//! The agent's model: `provider/model` names and an optional OpenAI-compatible endpoint.

use super::cx::At;
use super::cx::Cx;
use crate::diag::FieldPath;
use crate::fleet::model::{ModelEndpoint, Settings};
use crate::fleet::rules;

pub(super) struct ResolvedModel {
    pub primary: String,
    pub fallbacks: Vec<String>,
    pub endpoint: Option<ModelEndpoint>,
}

pub(super) fn resolve(cx: &mut Cx, at: At, settings: &Settings) -> ResolvedModel {
    let model = settings.model.clone().unwrap_or_default();
    let primary = match model.primary.clone() {
        Some(p) if is_model_name(&p) => p,
        Some(p) => {
            let path = at.src(cx, "model.primary");
            cx.error(&path, format!("{p:?} is not a model: expected provider/model, like anthropic/claude-sonnet-4-20250514"));
            p
        }
        None => {
            cx.error(
                &at.path(),
                "no model: set spec.defaults.model.primary (or the team's or agent's)",
            );
            String::new()
        }
    };
    if let Some(endpoint) = &model.endpoint {
        if !(endpoint.base_url.starts_with("http://") || endpoint.base_url.starts_with("https://"))
        {
            cx.error(
                &at.src(cx, "model.endpoint.baseUrl"),
                format!("{:?} is not an http(s) URL", endpoint.base_url),
            );
        }
        cx.check_at(
            |cx| at.src(cx, "model.endpoint.provider"),
            rules::dns_label(&endpoint.provider, 63),
        );
        if let Some(var) = &endpoint.api_key_env {
            cx.check_at(
                |cx| at.src(cx, "model.endpoint.apiKeyEnv"),
                rules::env_name(var).and_then(|_| crate::openclaw::secret_env_id(var)),
            );
        }
    }
    let fallbacks = model.fallbacks.clone().unwrap_or_default();
    let endpoint = model.endpoint.map(|mut endpoint| {
        endpoint.allow_private_network = Some(
            endpoint
                .allow_private_network
                .unwrap_or_else(|| is_private_url(&endpoint.base_url)),
        );
        endpoint
    });
    ResolvedModel {
        primary,
        fallbacks,
        endpoint,
    }
}

/// Parameters may only be given for models the gateway reaches through the endpoint:
/// `models` are every primary and fallback of its agents.
pub(super) fn check_endpoint_models<'m>(
    cx: &mut Cx,
    at: At,
    endpoint: &ModelEndpoint,
    models: impl IntoIterator<Item = &'m str>,
) {
    let prefix = format!("{}/", endpoint.provider);
    let ids: Vec<&str> = models
        .into_iter()
        .filter_map(|m| m.strip_prefix(&prefix))
        .collect();
    for (id, params) in &endpoint.models {
        let path = |cx: &Cx| {
            at.src_path(
                cx,
                &FieldPath::parse("model.endpoint.models").key(id.as_str()),
            )
        };
        if !ids.contains(&id.as_str()) {
            let hint = crate::diag::did_you_mean(id, &ids)
                .map(|s| format!(" (did you mean {s:?}?)"))
                .unwrap_or_default();
            cx.error(
                &path(cx),
                format!(
                    "{id:?} is not a model of provider {:?} in model.primary or model.fallbacks{hint}",
                    endpoint.provider
                ),
            );
        }
        if params.context_window == Some(0) {
            cx.error(&path(cx).key("contextWindow"), "must be greater than zero");
        }
        match (params.max_tokens, params.context_window) {
            (Some(0), _) => cx.error(&path(cx).key("maxTokens"), "must be greater than zero"),
            (Some(max), Some(window)) if window > 0 && max > window => cx.error(
                &path(cx).key("maxTokens"),
                format!("{max} is more than the context window ({window})"),
            ),
            _ => {}
        }
    }
}

/// Whether `url`'s host is an address OpenClaw's SSRF guard treats as private: a
/// cluster-internal name or a private, loopback, link-local or unique-local IP.
pub(crate) fn is_private_url(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or(v6)
    } else {
        host_port.split(':').next().unwrap_or(host_port)
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return match ip {
            std::net::IpAddr::V4(v4) => {
                v4.is_private()
                    || v4.is_loopback()
                    || v4.is_link_local()
                    || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1])
            }
            std::net::IpAddr::V6(v6) => {
                v6.is_loopback()
                    || (v6.segments()[0] & 0xfe00) == 0xfc00
                    || (v6.segments()[0] & 0xffc0) == 0xfe80
            }
        };
    }
    !host.contains('.')
        || [
            ".svc",
            ".cluster.local",
            ".internal",
            ".local",
            ".lan",
            ".home.arpa",
        ]
        .iter()
        .any(|suffix| host.ends_with(suffix))
}

fn is_model_name(p: &str) -> bool {
    p.contains('/') && !p.starts_with('/') && !p.ends_with('/')
}

#[cfg(test)]
mod tests {
    use super::is_private_url;

    #[test]
    fn cluster_names_and_private_addresses_are_private() {
        for url in [
            "http://litellm-service.llama.svc.cluster.local:4000",
            "http://litellm.llama.svc:4000/v1",
            "http://ollama:11434",
            "http://10.0.0.5:8000",
            "http://192.168.1.20",
            "http://127.0.0.1:4000",
            "http://[fd00::1]:8080/v1",
            "http://100.100.1.1",
        ] {
            assert!(is_private_url(url), "{url}");
        }
        for url in [
            "https://api.openai.com/v1",
            "https://8.8.8.8",
            "https://user@openrouter.ai/api",
        ] {
            assert!(!is_private_url(url), "{url}");
        }
    }
}
