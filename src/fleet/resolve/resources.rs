//! The agent's CPU and memory (built-in defaults under all layers, limits at least the
//! requests, within `policy.maxResources`) and its volume.

use super::cx::At;
use super::cx::Cx;
use crate::fleet::model::{Quantity, ResourceList, Resources, Settings};
use crate::fleet::rules;

pub(super) struct ResolvedResources {
    pub requests: ResourceList,
    pub limits: ResourceList,
}

pub(super) struct ResolvedStorage {
    pub size: Quantity,
    pub class: Option<String>,
}

fn builtin(q: &str) -> Quantity {
    // The literals below are valid quantities; a failure here is a bug caught by tests.
    Quantity::parse(q).unwrap_or_else(|e| panic!("built-in quantity: {e}"))
}

pub(super) fn resolve(cx: &mut Cx, at: At, settings: &Settings) -> ResolvedResources {
    let resources = settings.resources.clone().unwrap_or_default();
    let req = resources.requests.clone().unwrap_or_default();
    let lim = resources.limits.clone().unwrap_or_default();
    // Defaults from the conformance suite's measurements: the gateway's process tree
    // peaks near 1 GiB while it starts (OpenClaw 2026.9: ~956 MiB; 2026.4: ~600 MiB),
    // and start-up is CPU-bound, so a 500m limit would slow it towards the startup
    // probe's budget.
    let requests = ResourceList {
        cpu: Some(req.cpu.unwrap_or_else(|| builtin("250m"))),
        memory: Some(req.memory.unwrap_or_else(|| builtin("1Gi"))),
    };
    let limits = ResourceList {
        cpu: Some(lim.cpu.unwrap_or_else(|| builtin("1"))),
        memory: Some(lim.memory.unwrap_or_else(|| builtin("1536Mi"))),
    };
    check(cx, at, "resources", &requests, &limits);
    ResolvedResources { requests, limits }
}

/// A sidecar's CPU and memory, `resources` written at `rel` (dotted): built-in defaults
/// small enough for a helper process, checked like the gateway's.
pub(super) fn sidecar(
    cx: &mut Cx,
    at: At,
    rel: &str,
    resources: Option<&Resources>,
) -> ResolvedResources {
    let resources = resources.cloned().unwrap_or_default();
    let req = resources.requests.unwrap_or_default();
    let lim = resources.limits.unwrap_or_default();
    let requests = ResourceList {
        cpu: Some(req.cpu.unwrap_or_else(|| builtin("100m"))),
        memory: Some(req.memory.unwrap_or_else(|| builtin("128Mi"))),
    };
    let limits = ResourceList {
        cpu: Some(lim.cpu.unwrap_or_else(|| builtin("500m"))),
        memory: Some(lim.memory.unwrap_or_else(|| builtin("512Mi"))),
    };
    check(cx, at, rel, &requests, &limits);
    ResolvedResources { requests, limits }
}

/// Limits at least the requests, both above zero and within `policy.maxResources`
/// (which bounds each container). `rel` is where `resources` is written.
fn check(cx: &mut Cx, at: At, rel: &str, requests: &ResourceList, limits: &ResourceList) {
    let max = cx
        .loaded
        .fleet
        .spec
        .policy
        .max_resources
        .clone()
        .unwrap_or_default();
    for field in ["cpu", "memory"] {
        let pick = |l: &ResourceList| {
            if field == "cpu" {
                l.cpu.clone()
            } else {
                l.memory.clone()
            }
        };
        let (Some(r), Some(l)) = (pick(requests), pick(limits)) else {
            continue;
        };
        if r.millis() == 0 || l.millis() == 0 {
            let which = if r.millis() == 0 {
                "requests"
            } else {
                "limits"
            };
            let path = at.src(cx, &format!("{rel}.{which}.{field}"));
            cx.error(&path, format!("{field} {which} must be greater than zero"));
        }
        if l.millis() < r.millis() {
            let path = at.src(cx, &format!("{rel}.limits.{field}"));
            cx.error(&path, format!("{field} limit {l} is below the request {r}"));
        }
        if let Some(m) = pick(&max) {
            for (which, one, q) in [("limits", "limit", &l), ("requests", "request", &r)] {
                if q.millis() > m.millis() {
                    let path = at.src(cx, &format!("{rel}.{which}.{field}"));
                    cx.error(
                        &path,
                        format!("{field} {one} {q} exceeds spec.policy.maxResources.{field} ({m})"),
                    );
                    break;
                }
            }
        }
    }
}

pub(super) fn storage(cx: &mut Cx, at: At, settings: &Settings) -> ResolvedStorage {
    let storage = settings.storage.clone().unwrap_or_default();
    let size = storage.size.clone().unwrap_or_else(|| builtin("2Gi"));
    if size.units() == 0 {
        cx.error(
            &at.src(cx, "storage.size"),
            "the volume size must be at least 1 byte",
        );
    }
    if let Some(class) = &storage.storage_class_name {
        cx.check_at(
            |cx| at.src(cx, "storage.storageClassName"),
            rules::dns_subdomain(class),
        );
    }
    ResolvedStorage {
        size,
        class: storage.storage_class_name,
    }
}
