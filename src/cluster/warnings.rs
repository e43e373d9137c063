//! Warnings the API server sends back (`Warning` response headers, RFC 7234 §5.5, as
//! kube-apiserver writes them: `299 - "<text>"`): Pod Security's `would violate
//! PodSecurity ...` on a workload, deprecations, a Job deleted without a propagation
//! policy.
//!
//! kube-rs decodes response bodies and drops headers (`Api::patch` returns only the
//! object), so a tower layer on the client records every warning with the object its
//! request addressed; the command layer takes them after the work and shows each once
//! per object, as kubectl does. A layer rather than raw `Client::send` calls keeps every
//! request on kube's typed path (dry runs, applies and diffs alike).

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// One warning: the object its request addressed (`deployments ops/agent-ops`) and the
/// server's text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct ApiWarning {
    pub object: String,
    pub message: String,
}

/// The warnings recorded so far, shared by every clone of the client: each distinct
/// (object, text) once per run, however many requests (a dry run, then the apply) drew it.
#[derive(Debug, Clone, Default)]
pub struct Warnings(Arc<Mutex<Recorded>>);

#[derive(Debug, Default)]
struct Recorded {
    pending: Vec<ApiWarning>,
    seen: BTreeSet<ApiWarning>,
}

impl Warnings {
    fn record(&self, warning: ApiWarning) {
        let mut r = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if r.seen.insert(warning.clone()) {
            r.pending.push(warning);
        }
    }

    /// The warnings not taken before, in arrival order.
    pub fn take(&self) -> Vec<ApiWarning> {
        std::mem::take(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()).pending)
    }
}

/// The text of a `Warning` header value (`299 - "text"`, quotes and backslashes escaped);
/// a value in another shape is kept whole.
pub fn header_text(value: &str) -> String {
    let mut parts = value.splitn(3, ' ');
    let (code, _agent, rest) = (parts.next(), parts.next(), parts.next());
    let Some(quoted) = rest
        .filter(|_| code.is_some_and(|c| c.len() == 3))
        .and_then(|r| r.strip_prefix('"'))
    else {
        return value.to_string();
    };
    let mut text = String::new();
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => text.extend(chars.next()),
            '"' => break,
            c => text.push(c),
        }
    }
    text
}

/// The object a request path addresses: `<plural> <namespace>/<name>`, `<plural> <name>`
/// for a cluster-scoped one, or the path itself when it names no object.
pub fn object_of(path: &str) -> String {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    // /api/v1/... or /apis/<group>/<version>/...
    let rest = match segments.first() {
        Some(&"api") => &segments[segments.len().min(2)..],
        Some(&"apis") => &segments[segments.len().min(3)..],
        _ => return path.to_string(),
    };
    match rest {
        ["namespaces", ns, plural, name, ..] => format!("{plural} {ns}/{name}"),
        ["namespaces", name] => format!("namespaces {name}"),
        [plural, name, ..] => format!("{plural} {name}"),
        _ => path.to_string(),
    }
}

/// The tower layer that records warnings into a [`Warnings`].
#[derive(Clone)]
pub struct Layer(pub Warnings);

impl<S> tower::Layer<S> for Layer {
    type Service = Service<S>;
    fn layer(&self, inner: S) -> Self::Service {
        Service {
            inner,
            warnings: self.0.clone(),
        }
    }
}

/// See [`Layer`].
#[derive(Clone)]
pub struct Service<S> {
    inner: S,
    warnings: Warnings,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for Service<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let object = object_of(request.uri().path());
        let warnings = self.warnings.clone();
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            for value in response.headers().get_all(http::header::WARNING) {
                let text = header_text(&String::from_utf8_lossy(value.as_bytes()));
                warnings.record(ApiWarning {
                    object: object.clone(),
                    message: text,
                });
            }
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_unquote() {
        assert_eq!(
            header_text(r#"299 - "would violate PodSecurity \"restricted:latest\": x""#),
            r#"would violate PodSecurity "restricted:latest": x"#
        );
        assert_eq!(header_text("odd"), "odd");
    }

    #[test]
    fn paths_name_their_object() {
        assert_eq!(
            object_of("/apis/apps/v1/namespaces/ops/deployments/agent-ops"),
            "deployments ops/agent-ops"
        );
        assert_eq!(object_of("/api/v1/namespaces/ops"), "namespaces ops");
        assert_eq!(
            object_of("/apis/rbac.authorization.k8s.io/v1/clusterroles/x"),
            "clusterroles x"
        );
        assert_eq!(
            object_of("/api/v1/namespaces/ops/pods/p/status"),
            "pods ops/p"
        );
    }

    #[test]
    fn a_repeat_is_kept_once() {
        let w = Warnings::default();
        for _ in 0..2 {
            w.record(ApiWarning {
                object: "deployments a/b".into(),
                message: "m".into(),
            });
        }
        assert_eq!(w.take().len(), 1);
        assert!(w.take().is_empty());
    }
}
