//! The kinds clawctl reads and writes, as kube `ApiResource`s (no discovery round trip).

use k8s_openapi::api::{apps, core, networking, rbac};
use std::sync::LazyLock;

use kube::discovery::ApiResource;

/// One kind clawctl knows: how to address it and whether it lives in a namespace.
#[derive(Debug, Clone)]
pub struct Kind {
    pub resource: ApiResource,
    pub namespaced: bool,
    /// The CustomResourceDefinition that serves this kind (`httproutes.gateway.networking.k8s.io`),
    /// for kinds a cluster may lack. A list of such a kind answered 404 means the CRD is
    /// not installed: the fleet then has none of them, and only a fleet that renders one
    /// fails (preflight), naming this CRD.
    pub crd: Option<&'static str>,
}

impl Kind {
    fn of<K>(namespaced: bool) -> Kind
    where
        K: kube::Resource<DynamicType = ()>,
    {
        Kind {
            resource: ApiResource::erase::<K>(&()),
            namespaced,
            crd: None,
        }
    }

    /// A kind served by a CRD, which k8s-openapi has no type for.
    fn custom(group: &str, version: &str, kind: &str, plural: &str, crd: &'static str) -> Kind {
        Kind {
            resource: ApiResource {
                group: group.to_string(),
                version: version.to_string(),
                api_version: format!("{group}/{version}"),
                kind: kind.to_string(),
                plural: plural.to_string(),
            },
            namespaced: true,
            crd: Some(crd),
        }
    }

    /// `Deployment.apps`, `ConfigMap`: the group-kind notation of kubectl and ApplySets.
    pub fn group_kind(&self) -> String {
        if self.resource.group.is_empty() {
            self.resource.kind.clone()
        } else {
            format!("{}.{}", self.resource.kind, self.resource.group)
        }
    }

    /// `deployments.apps`, `configmaps`: how the API server names the resource in messages.
    pub fn group_resource(&self) -> String {
        if self.resource.group.is_empty() {
            self.resource.plural.clone()
        } else {
            format!("{}.{}", self.resource.plural, self.resource.group)
        }
    }
}

/// Every kind a fleet's templates may render, in apply order of their step. The fleet
/// inventory is listed kind by kind from this table, so a kind missing here would never
/// be pruned; `render` refuses kinds outside it (see `render::Scope::allowed_kinds`).
pub fn managed() -> &'static [Kind] {
    static MANAGED: LazyLock<Vec<Kind>> = LazyLock::new(|| {
        vec![
            Kind::of::<core::v1::Namespace>(false),
            Kind::of::<core::v1::ResourceQuota>(true),
            Kind::of::<networking::v1::NetworkPolicy>(true),
            Kind::of::<core::v1::ServiceAccount>(true),
            Kind::of::<rbac::v1::ClusterRole>(false),
            Kind::of::<rbac::v1::Role>(true),
            Kind::of::<rbac::v1::RoleBinding>(true),
            Kind::of::<core::v1::Secret>(true),
            Kind::of::<core::v1::ConfigMap>(true),
            Kind::of::<core::v1::PersistentVolumeClaim>(true),
            Kind::of::<apps::v1::Deployment>(true),
            Kind::of::<core::v1::Service>(true),
            Kind::of::<networking::v1::Ingress>(true),
            // Gateway API is not built in: its CRDs are installed with a gateway controller.
            Kind::custom(
                "gateway.networking.k8s.io",
                "v1",
                "HTTPRoute",
                "httproutes",
                "httproutes.gateway.networking.k8s.io",
            ),
        ]
    });
    &MANAGED
}

/// The kind with this apiVersion and kind, when clawctl manages it.
pub fn find(api_version: &str, kind: &str) -> Option<&'static Kind> {
    managed()
        .iter()
        .find(|k| k.resource.api_version == api_version && k.resource.kind == kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_render_allows_is_managed() {
        for scope in [
            crate::render::Scope::Fleet,
            crate::render::Scope::Team,
            crate::render::Scope::Agent,
        ] {
            for (api_version, kind) in scope.allowed_kinds() {
                assert!(
                    find(api_version, kind).is_some(),
                    "{api_version} {kind} is rendered but not in cluster::kinds::managed()"
                );
            }
        }
    }

    #[test]
    fn names_as_the_api_server_prints_them() {
        let deployment = find("apps/v1", "Deployment").expect("Deployment is managed");
        assert_eq!(deployment.group_kind(), "Deployment.apps");
        assert_eq!(deployment.group_resource(), "deployments.apps");
        let route =
            find("gateway.networking.k8s.io/v1", "HTTPRoute").expect("HTTPRoute is managed");
        assert_eq!(
            route.group_resource(),
            "httproutes.gateway.networking.k8s.io"
        );
        assert_eq!(route.crd, Some("httproutes.gateway.networking.k8s.io"));
        let cm = find("v1", "ConfigMap").expect("ConfigMap is managed");
        assert_eq!(cm.group_kind(), "ConfigMap");
        assert_eq!(cm.group_resource(), "configmaps");
    }
}
