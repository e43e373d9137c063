//! The agent's allowed outbound traffic (its NetworkPolicy's egress rules).

use super::cx::At;
use super::cx::{Cx, check_selector};
use crate::fleet::model::{EgressRule, Settings};
use crate::fleet::rules;

pub(super) fn egress(cx: &mut Cx, at: At, settings: &Settings) -> Vec<EgressRule> {
    let egress = settings.egress.clone().unwrap_or_default();
    for (j, rule) in egress.iter().enumerate() {
        let path = |cx: &Cx| at.src(cx, &format!("egress[{j}]"));
        if let Some(ns) = &rule.namespace {
            cx.check_at(|cx| path(cx).key("namespace"), rules::dns_label(ns, 63));
        }
        if let Some(sel) = &rule.pod_selector {
            check_selector(cx, sel, &|cx| path(cx).key("podSelector"));
        }
        if let Some(c) = &rule.cidr {
            cx.check_at(|cx| path(cx).key("cidr"), rules::cidr(c));
            if rule.namespace.is_some() || rule.pod_selector.is_some() {
                cx.error(
                    &path(cx).key("cidr"),
                    "`cidr` cannot be combined with `namespace` or `podSelector`",
                );
            }
        }
        if rule.ports.contains(&0) {
            cx.error(&path(cx).key("ports"), "ports must be from 1 to 65535");
        }
        if rule.ports.is_empty()
            && rule.namespace.is_none()
            && rule.pod_selector.is_none()
            && rule.cidr.is_none()
        {
            cx.error(
                &path(cx),
                "an egress rule needs ports or a destination (namespace, podSelector or cidr)",
            );
        }
    }
    egress
}
