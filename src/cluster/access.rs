//! What these credentials may do, asked of the API server before any write
//! (SelfSubjectAccessReview, which every authenticated user may create: the
//! `system:basic-user` role), so that a step only a cluster admin can take is refused
//! up front instead of half way through an apply.

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};

use super::errors::{self, Request};
use super::{Cluster, retry};

/// One request to ask about: `verb` on `resource` (plural) of `group`, in `namespace`
/// (`None`: cluster-scoped, or every namespace).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ask {
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub namespace: Option<String>,
}

/// Whether the server would allow `ask` for the credentials in use.
pub async fn allowed(cluster: &Cluster, ask: &Ask) -> anyhow::Result<bool> {
    let api: Api<SelfSubjectAccessReview> = Api::all(cluster.client.clone());
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(ask.verb.clone()),
                group: Some(ask.group.clone()),
                resource: Some(ask.resource.clone()),
                namespace: ask.namespace.clone(),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    // A review writes nothing: asking twice is safe.
    let params = PostParams::default();
    let answer = retry::idempotent(|| api.create(&params, &review))
        .await
        .map_err(|e| {
            anyhow::anyhow!(errors::describe(
                &e,
                &Request {
                    verb: "create",
                    resource: "selfsubjectaccessreviews.authorization.k8s.io",
                    namespace: None,
                    name: None,
                }
            ))
        })?;
    Ok(answer.status.is_some_and(|s| s.allowed))
}
