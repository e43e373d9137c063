//! What went wrong talking to the API server, in words a user can act on: which verb on
//! which resource in which namespace was refused, which fields conflict with whom.

use std::fmt;

/// One field another field manager owns, from a 409 of server-side apply.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldConflict {
    /// The other manager, e.g. `kubectl-edit`.
    pub manager: String,
    /// The field as the API server names it, e.g. `.data.SOUL.md`.
    pub field: String,
}

impl fmt::Display for FieldConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (owned by {})", self.field, self.manager)
    }
}

/// The conflicts of a server-side apply answered with 409, from the Status causes
/// (`reason: FieldManagerConflict`, `message: conflict with "kubectl-edit" using v1`,
/// `field: .data.x`), as the API server reports them.
pub fn field_conflicts(err: &kube::Error) -> Option<Vec<FieldConflict>> {
    let kube::Error::Api(status) = err else {
        return None;
    };
    if status.code != 409 {
        return None;
    }
    let causes = &status.details.as_ref()?.causes;
    let conflicts: Vec<FieldConflict> = causes
        .iter()
        .filter(|c| c.reason == "FieldManagerConflict")
        .map(|c| FieldConflict {
            manager: c
                .message
                .split('"')
                .nth(1)
                .unwrap_or(c.message.as_str())
                .to_string(),
            field: c.field.clone(),
        })
        .collect();
    (!conflicts.is_empty()).then_some(conflicts)
}

/// A request to the API server: what was asked, for messages.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub verb: &'a str,
    /// `deployments.apps`, `configmaps`.
    pub resource: &'a str,
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
}

impl fmt::Display for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.verb, self.resource)?;
        if let Some(name) = self.name {
            write!(f, " {name:?}")?;
        }
        match self.namespace {
            Some(ns) => write!(f, " in namespace {ns:?}"),
            None => Ok(()),
        }
    }
}

/// Describes a failed request in one line. A 403 names the verb, resource and
/// namespace that were refused (the RBAC rule someone has to grant).
pub fn describe(err: &kube::Error, request: &Request<'_>) -> String {
    match err {
        kube::Error::Api(status) if status.code == 403 => format!(
            "forbidden: the cluster refused to {request} (403): {}; ask for RBAC permission to {} {}{}",
            status.message,
            request.verb,
            request.resource,
            request
                .namespace
                .map(|ns| format!(" in namespace {ns:?}"))
                .unwrap_or_default()
        ),
        kube::Error::Api(status) => {
            if let Some(conflicts) = field_conflicts(err) {
                return format!(
                    "cannot {request}: {} field(s) are owned by another field manager: {}; \
                     `--force-conflicts` takes them back",
                    conflicts.len(),
                    conflicts
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            format!(
                "cannot {request}: {} ({} {})",
                status.message, status.code, status.reason
            )
        }
        other => format!("cannot {request}: {}", transport_reason(other)),
    }
}

/// An error chain as one line, each cause after the one before (as `{:#}` prints it),
/// but a Kubernetes API error as its message, code and reason: kube's own Display of a
/// `Status` is a Debug dump, and no error clawctl prints may be one.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        match cause.downcast_ref::<kube::Error>() {
            // What lies below a kube error is kube's own layers of the same failure.
            Some(kube::Error::Api(status)) => {
                parts.push(format!(
                    "{} ({} {})",
                    status.message, status.code, status.reason
                ));
                break;
            }
            Some(other) => {
                parts.push(transport_reason(other));
                break;
            }
            None => parts.push(cause.to_string()),
        }
    }
    let mut line = String::new();
    for part in parts {
        // A cause whose text its context already repeats adds nothing.
        if !line.is_empty() && line.ends_with(&part) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&part);
    }
    line
}

/// The innermost cause of a transport failure ("connection refused"), which is what
/// a user needs; kube's outer layers only say "client error".
pub fn transport_reason(err: &kube::Error) -> String {
    let mut source: &dyn std::error::Error = err;
    while let Some(next) = source.source() {
        source = next;
    }
    let inner = source.to_string();
    let outer = err.to_string();
    if inner == outer {
        outer
    } else {
        format!("{outer}: {inner}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::response::{StatusCause, StatusDetails};

    fn conflict() -> kube::Error {
        let status = kube::core::Status::failure(
            "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using v1: .data.SOUL.md",
            "Conflict",
        )
        .with_code(409)
        .with_details(StatusDetails {
            causes: vec![StatusCause {
                reason: "FieldManagerConflict".into(),
                message: "conflict with \"kubectl-edit\" using v1".into(),
                field: ".data.SOUL.md".into(),
            }],
            name: "agent-x".into(),
            group: String::new(),
            kind: "configmaps".into(),
            uid: String::new(),
            retry_after_seconds: 0,
        });
        kube::Error::Api(status.boxed())
    }

    #[test]
    fn conflicts_name_the_field_and_the_manager() {
        let conflicts = field_conflicts(&conflict()).expect("a conflict");
        assert_eq!(
            conflicts,
            [FieldConflict {
                manager: "kubectl-edit".into(),
                field: ".data.SOUL.md".into()
            }]
        );
        let request = Request {
            verb: "apply",
            resource: "configmaps",
            namespace: Some("team-a"),
            name: Some("agent-x"),
        };
        let text = describe(&conflict(), &request);
        assert!(
            text.contains(".data.SOUL.md (owned by kubectl-edit)"),
            "{text}"
        );
        assert!(text.contains("--force-conflicts"), "{text}");
    }

    #[test]
    fn api_errors_in_a_chain_are_one_readable_line() {
        let status = kube::core::Status::failure(
            "controllerrevisions.apps \"agent-support-r1\" already exists",
            "AlreadyExists",
        )
        .with_code(409);
        let err = anyhow::Error::new(kube::Error::Api(status.boxed()))
            .context("cannot record revision 1 of agent \"support\"");
        let line = one_line(&err);
        assert_eq!(
            line,
            "cannot record revision 1 of agent \"support\": controllerrevisions.apps \
             \"agent-support-r1\" already exists (409 AlreadyExists)"
        );
        assert!(!line.contains("Status {"), "{line}");
        assert!(!line.contains('\n'), "{line}");
    }

    #[test]
    fn forbidden_names_verb_resource_and_namespace() {
        let status = kube::core::Status::failure("denied", "Forbidden").with_code(403);
        let err = kube::Error::Api(status.boxed());
        let request = Request {
            verb: "patch",
            resource: "deployments.apps",
            namespace: Some("team-a"),
            name: Some("agent-x"),
        };
        let text = describe(&err, &request);
        assert!(
            text.contains("permission to patch deployments.apps in namespace \"team-a\""),
            "{text}"
        );
    }
}
