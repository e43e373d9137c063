//! The agent's environment: Secrets loaded with envFrom (never read) and plain variables.

use std::collections::BTreeMap;

use super::cx::At;
use super::cx::Cx;
use crate::diag::FieldPath;
use crate::fleet::model::Settings;
use crate::fleet::{guardrails, rules};

pub(super) struct ResolvedEnv {
    pub secrets: Vec<String>,
    pub vars: BTreeMap<String, String>,
}

pub(super) fn resolve(cx: &mut Cx, at: At, settings: &Settings) -> ResolvedEnv {
    let secrets = settings.secrets.clone().unwrap_or_default();
    for (j, secret) in secrets.iter().enumerate() {
        cx.check_at(
            |cx| at.src(cx, &format!("secrets[{j}]")),
            rules::dns_subdomain(secret),
        );
    }
    let vars = settings.env.clone().unwrap_or_default();
    for name in vars.keys() {
        let path = |cx: &Cx| at.src_path(cx, &FieldPath::root().key("env").key(name.as_str()));
        cx.check_at(path, rules::env_name(name));
        if let Err(e) = guardrails::env_literal(name, &vars[name]) {
            cx.error(&path(cx), e);
        }
        if crate::openclaw::is_reserved_env(name) {
            cx.error(
                &path(cx),
                format!("{name} is set by clawctl and cannot be overridden"),
            );
        }
    }
    ResolvedEnv { secrets, vars }
}
