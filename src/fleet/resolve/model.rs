//! The agent's model: `provider/model` names and an optional OpenAI-compatible endpoint.

use super::agent::At;
use super::{Cx, rules};
use crate::fleet::model::{ModelEndpoint, Settings};

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
                rules::env_name(var),
            );
        }
    }
    ResolvedModel {
        primary,
        fallbacks: model.fallbacks.clone().unwrap_or_default(),
        endpoint: model.endpoint,
    }
}

fn is_model_name(p: &str) -> bool {
    p.contains('/') && !p.starts_with('/') && !p.ends_with('/')
}
