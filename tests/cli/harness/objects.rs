//! What a scenario reads and writes on its cluster with the admin's client, as the
//! platform team or another user would: objects, what changed since (resourceVersions,
//! Deployment generations), the fleet lock, revision Secrets, a team-scoped account.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::PathBuf;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use k8s_openapi::{ClusterResourceScope, NamespaceResourceScope};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::config::Kubeconfig;
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::harness::backend::{Backend, FLEET_LABEL};
use crate::harness::fleets::{GATEWAY_SECRET, GATEWAY_TOKEN};

/// The type of a revision Secret (issue 17).
pub(crate) const REVISION_TYPE: &str = "clawctl.io/revision.v1";

/// A create as `kubectl create` sends it (its field manager).
fn kubectl_create() -> PostParams {
    PostParams {
        field_manager: Some("kubectl-create".into()),
        ..PostParams::default()
    }
}

impl Backend {
    pub(crate) fn api<K>(&self, ns: &str) -> Api<K>
    where
        K: Resource<Scope = NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), ns)
    }

    pub(crate) fn cluster_api<K>(&self) -> Api<K>
    where
        K: Resource<Scope = ClusterResourceScope>,
        K::DynamicType: Default,
    {
        Api::all(self.client.clone())
    }

    /// The object, unless it does not exist or is being deleted.
    pub(crate) fn get<K>(&self, ns: &str, name: &str) -> Option<K>
    where
        K: Resource<Scope = NamespaceResourceScope> + Clone + DeserializeOwned + Debug,
        K::DynamicType: Default,
    {
        self.block_on(self.api::<K>(ns).get_opt(name))
            .unwrap_or_else(|e| panic!("get {ns}/{name}: {e}"))
            .filter(|o| o.meta().deletion_timestamp.is_none())
    }

    /// [`Backend::get`] as JSON, for assertions on a path through the object.
    pub(crate) fn json<K>(&self, ns: &str, name: &str) -> Option<Value>
    where
        K: Resource<Scope = NamespaceResourceScope>
            + Clone
            + DeserializeOwned
            + serde::Serialize
            + Debug,
        K::DynamicType: Default,
    {
        self.get::<K>(ns, name)
            .map(|o| serde_json::to_value(o).expect("JSON"))
    }

    /// The objects of kind K in `ns` (with `labels`, a selector, when not empty), those
    /// being deleted included.
    pub(crate) fn list<K>(&self, ns: &str, labels: &str) -> Vec<K>
    where
        K: Resource<Scope = NamespaceResourceScope> + Clone + DeserializeOwned + Debug,
        K::DynamicType: Default,
    {
        let params = ListParams::default().labels(labels);
        self.block_on(self.api::<K>(ns).list(&params))
            .unwrap_or_else(|e| panic!("list in {ns}: {e}"))
            .items
    }

    /// The pods in `ns` with `labels` that run: not terminating.
    pub(crate) fn running_pods(&self, ns: &str, labels: &str) -> Vec<Pod> {
        self.list::<Pod>(ns, labels)
            .into_iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .collect()
    }

    /// Whether the cluster serves `kind` in `group_version` (a CRD such as Gateway API's).
    pub(crate) fn serves(&self, group_version: &str, kind: &str) -> bool {
        match self.block_on(self.client.list_api_group_resources(group_version)) {
            Ok(list) => list.resources.iter().any(|r| r.kind == kind),
            Err(kube::Error::Api(status)) if status.code == 404 => false,
            Err(e) => panic!("discover {group_version}: {e}"),
        }
    }

    /// The namespace, unless it does not exist or is being deleted.
    pub(crate) fn namespace(&self, name: &str) -> Option<Namespace> {
        self.block_on(self.cluster_api::<Namespace>().get_opt(name))
            .unwrap_or_else(|e| panic!("get namespace {name}: {e}"))
            .filter(|o| o.meta().deletion_timestamp.is_none())
    }

    /// Makes namespace `name` as someone other than clawctl would (`kubectl create
    /// namespace`), with `labels`; deleted when the test ends.
    pub(crate) fn make_namespace(&self, name: &str, labels: &[(&str, &str)]) {
        self.made(name);
        let labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let namespace = Namespace {
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                labels: Some(labels),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        self.block_on(
            self.cluster_api::<Namespace>()
                .create(&kubectl_create(), &namespace),
        )
        .unwrap_or_else(|e| panic!("create namespace {name}: {e}"));
    }

    /// Makes namespace `ns` as a platform team would before a fleet's first apply
    /// (`kubectl create namespace`, `kubectl create secret`): the namespace, unless it
    /// exists, and in it the Secret [`GATEWAY_SECRET`] holding the gateway token. The
    /// namespace is deleted when the test ends, whether or not an apply adopted it.
    pub(crate) fn platform_namespace(&self, ns: &str) {
        self.made(ns);
        let namespace = Namespace {
            metadata: ObjectMeta {
                name: Some(ns.to_string()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": GATEWAY_SECRET, "namespace": ns},
            "data": {"OPENCLAW_GATEWAY_TOKEN": k8s_openapi::ByteString(GATEWAY_TOKEN.into())}});
        self.block_on(async {
            let namespaces: Api<Namespace> = self.cluster_api();
            match namespaces.create(&kubectl_create(), &namespace).await {
                Ok(_) => {}
                Err(kube::Error::Api(status)) if status.code == 409 => {}
                Err(e) => panic!("create namespace {ns}: {e}"),
            }
            self.api::<Secret>(ns)
                .patch(
                    GATEWAY_SECRET,
                    &PatchParams::apply("platform-team"),
                    &Patch::Apply(&secret),
                )
                .await
                .unwrap_or_else(|e| panic!("write Secret {ns}/{GATEWAY_SECRET}: {e}"));
        });
    }

    /// Server-side applies `object` (namespaced, with its `metadata.namespace`) as field
    /// manager `manager`, forcing conflicts: what another tool or person writes.
    pub(crate) fn apply_as<K>(&self, manager: &str, object: &Value)
    where
        K: Resource<Scope = NamespaceResourceScope> + Clone + DeserializeOwned + Debug,
        K::DynamicType: Default,
    {
        let ns = object["metadata"]["namespace"].as_str().expect("namespace");
        let name = object["metadata"]["name"].as_str().expect("name");
        self.block_on(self.api::<K>(ns).patch(
            name,
            &PatchParams::apply(manager).force(),
            &Patch::Apply(object),
        ))
        .unwrap_or_else(|e| panic!("{manager} writes {ns}/{name}: {e}"));
    }

    /// The soul in agent `agent`'s ConfigMap.
    pub(crate) fn soul(&self, ns: &str, agent: &str) -> String {
        let cm: ConfigMap = self
            .get(ns, &format!("agent-{agent}"))
            .unwrap_or_else(|| panic!("ConfigMap {ns}/agent-{agent} missing"));
        cm.data
            .and_then(|d| d.get("SOUL.md").cloned())
            .unwrap_or_default()
    }

    /// (agent, pod uid) of the running (not terminating) pods of this fleet in `ns`, sorted.
    pub(crate) fn pod_uids(&self, ns: &str) -> Vec<(String, String)> {
        let pods = self.running_pods(ns, &format!("{FLEET_LABEL}={}", self.fleet));
        let mut uids: Vec<(String, String)> = pods
            .iter()
            .map(|p| {
                (
                    p.labels()
                        .get("clawctl.io/agent")
                        .cloned()
                        .unwrap_or_default(),
                    p.uid().unwrap_or_default(),
                )
            })
            .collect();
        uids.sort();
        uids
    }

    /// Adds `kind/ns/name -> resourceVersion` of every object of kind K in `ns`.
    pub(crate) fn versions_of<K>(&self, ns: &str, out: &mut BTreeMap<String, String>)
    where
        K: Resource<Scope = NamespaceResourceScope> + Clone + DeserializeOwned + Debug,
        K::DynamicType: Default,
    {
        let list = self
            .block_on(self.api::<K>(ns).list(&ListParams::default()))
            .unwrap_or_else(|e| panic!("list in {ns}: {e}"));
        let kind = K::kind(&Default::default()).to_string();
        for o in list.items {
            out.insert(
                format!("{kind} {ns}/{}", o.name_any()),
                o.resource_version().unwrap_or_default(),
            );
        }
    }

    /// The revision Secrets (type [`REVISION_TYPE`]) in `ns` labelled with this fleet,
    /// by name.
    pub(crate) fn revisions(&self, ns: &str) -> BTreeMap<String, Secret> {
        self.list::<Secret>(ns, &format!("{FLEET_LABEL}={}", self.fleet))
            .into_iter()
            .filter(|s| s.type_.as_deref() == Some(REVISION_TYPE))
            .map(|s| (s.name_any(), s))
            .collect()
    }

    /// What changes only when a client writes it: resourceVersions of the kinds no
    /// controller updates, and Deployment generations (spec changes only; the
    /// controller's status writes leave them alone), plus the revision Secrets (key
    /// "Revision ns/name") and the fleet lock (key "Lock ns/name", so that a test can
    /// leave it out). Equal before and after a command means it wrote nothing; the fake
    /// can tell that by its requests too.
    pub(crate) fn written(&self, teams: &[&str]) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for team in teams {
            let ns = self.ns(team);
            for (name, secret) in self.revisions(&ns) {
                out.insert(
                    format!("Revision {ns}/{name}"),
                    secret.resource_version().unwrap_or_default(),
                );
            }
            self.versions_of::<ConfigMap>(&ns, &mut out);
            self.versions_of::<Service>(&ns, &mut out);
            self.versions_of::<ServiceAccount>(&ns, &mut out);
            self.versions_of::<NetworkPolicy>(&ns, &mut out);
            for d in self.list::<Deployment>(&ns, "") {
                out.insert(
                    format!("Deployment {ns}/{} generation", d.name_any()),
                    d.metadata.generation.unwrap_or_default().to_string(),
                );
            }
        }
        self.versions_of::<ConfigMap>(&self.fleet_ns, &mut out);
        let lock = format!("{}/{}", self.fleet_ns, self.lock_name());
        if let Some(version) = out.remove(&format!("ConfigMap {lock}")) {
            out.insert(format!("Lock {lock}"), version);
        }
        out
    }

    /// The keys of [`Backend::written`] whose value differs from `before` or is new, but
    /// the lock's, sorted.
    pub(crate) fn changed_since(
        &self,
        before: &BTreeMap<String, String>,
        teams: &[&str],
    ) -> Vec<String> {
        self.written(teams)
            .into_iter()
            .filter(|(k, v)| before.get(k) != Some(v) && !k.starts_with("Lock "))
            .map(|(k, _)| k)
            .collect()
    }

    /// The fleet lock's ConfigMap in the fleet namespace (issue 17: not a Lease).
    pub(crate) fn lock_name(&self) -> String {
        format!("clawctl-{}-lock", self.fleet)
    }

    /// The lock's holderIdentity; `None` when the lock is free or was never taken.
    pub(crate) fn lock_holder(&self) -> Option<String> {
        self.get::<ConfigMap>(&self.fleet_ns, &self.lock_name())
            .and_then(|cm| cm.data?.get("holderIdentity").cloned())
            .filter(|h| !h.is_empty())
    }

    /// Writes the fleet's lock as another clawctl run would, renewed `renewed_secs_ago`:
    /// the ConfigMap `clawctl-<fleet>-lock` with a Lease's fields as its data.
    pub(crate) fn hold_lock(&self, holder: &str, renewed_secs_ago: i64) {
        let renewed = (Timestamp::now() - SignedDuration::from_secs(renewed_secs_ago)).to_string();
        let lock = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": self.lock_name(), "namespace": self.fleet_ns},
            "data": {"holderIdentity": holder, "leaseDurationSeconds": "30",
                     "acquireTime": renewed, "renewTime": renewed, "leaseTransitions": "1"}});
        self.apply_as::<ConfigMap>("other-run", &lock);
    }

    /// Nothing of the fleet was written: no fleet namespace, the team namespace (made by
    /// the platform team) neither adopted nor labelled, no agent objects in it.
    pub(crate) fn assert_untouched(&self, team: &str) {
        let ns = self.ns(team);
        assert!(
            self.namespace(&self.fleet_ns).is_none(),
            "{} was created",
            self.fleet_ns
        );
        let namespace = self.namespace(&ns).expect("the platform team's namespace");
        assert!(
            !namespace.annotations().contains_key("clawctl.io/adopted")
                && !namespace.labels().contains_key(FLEET_LABEL),
            "{ns} was adopted: {:?}",
            namespace.metadata
        );
        let mut objects = BTreeMap::new();
        self.versions_of::<ConfigMap>(&ns, &mut objects);
        self.versions_of::<ServiceAccount>(&ns, &mut objects);
        self.versions_of::<Deployment>(&ns, &mut objects);
        objects.retain(|k, _| k.contains("/agent-"));
        assert!(objects.is_empty(), "{objects:?}");
        assert!(self.revisions(&ns).is_empty());
    }

    /// As `kubectl edit` does: an Update by the field manager "kubectl-edit".
    pub(crate) fn edit_soul(&self, ns: &str, agent: &str, soul: &str) {
        let params = PatchParams {
            field_manager: Some("kubectl-edit".into()),
            ..PatchParams::default()
        };
        let patch = json!({"data": {"SOUL.md": soul}});
        self.block_on(self.api::<ConfigMap>(ns).patch(
            &format!("agent-{agent}"),
            &params,
            &Patch::Merge(&patch),
        ))
        .expect("kubectl-edit patch");
    }

    /// A kubeconfig for a team-scoped account of this cluster: ServiceAccount `team-ci` in
    /// the fleet namespace, bound to the `admin` ClusterRole by a RoleBinding in each of
    /// `namespaces` and nothing else (no cluster-wide list or watch, no Namespaces), with
    /// a token from the TokenRequest API. Written to the test's scratch folder.
    pub(crate) fn team_scoped_kubeconfig(&self, namespaces: &[&str]) -> PathBuf {
        use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
        use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef, Subject};

        let account = "team-ci";
        let token = self.block_on(async {
            let accounts: Api<ServiceAccount> = self.api(&self.fleet_ns);
            let sa = ServiceAccount {
                metadata: ObjectMeta {
                    name: Some(account.into()),
                    ..ObjectMeta::default()
                },
                ..ServiceAccount::default()
            };
            accounts
                .create(&PostParams::default(), &sa)
                .await
                .expect("create the team's ServiceAccount");
            for ns in namespaces {
                let binding = RoleBinding {
                    metadata: ObjectMeta {
                        name: Some(format!("{account}-admin")),
                        ..ObjectMeta::default()
                    },
                    role_ref: RoleRef {
                        api_group: "rbac.authorization.k8s.io".into(),
                        kind: "ClusterRole".into(),
                        name: "admin".into(),
                    },
                    subjects: Some(vec![Subject {
                        kind: "ServiceAccount".into(),
                        name: account.into(),
                        namespace: Some(self.fleet_ns.clone()),
                        ..Subject::default()
                    }]),
                };
                self.api::<RoleBinding>(ns)
                    .create(&PostParams::default(), &binding)
                    .await
                    .unwrap_or_else(|e| panic!("bind admin in {ns}: {e}"));
            }
            let request = TokenRequest {
                spec: TokenRequestSpec {
                    expiration_seconds: Some(3600),
                    ..TokenRequestSpec::default()
                },
                ..TokenRequest::default()
            };
            accounts
                .create_token_request(account, &PostParams::default(), &request)
                .await
                .expect("a token for the team's ServiceAccount")
                .status
                .expect("token status")
                .token
        });
        // The same cluster entry (server, CA) as the admin's current context.
        let admin = Kubeconfig::read_from(&self.kubeconfig).expect("admin kubeconfig");
        let context = admin
            .contexts
            .iter()
            .find(|c| Some(&c.name) == admin.current_context.as_ref())
            .and_then(|c| c.context.clone())
            .expect("a current context");
        let mut cluster = admin
            .clusters
            .iter()
            .find(|c| c.name == context.cluster)
            .and_then(|c| c.cluster.clone())
            .expect("the context's cluster");
        if let Some(ca) = cluster.certificate_authority.as_mut()
            && std::path::Path::new(ca.as_str()).is_relative()
        {
            let dir = self.kubeconfig.parent().expect("kubeconfig folder");
            *ca = dir.join(&*ca).to_string_lossy().into_owned();
        }
        let config = json!({
            "apiVersion": "v1", "kind": "Config", "current-context": "team",
            "clusters": [{"name": "cluster", "cluster": cluster}],
            "users": [{"name": account, "user": {"token": token}}],
            "contexts": [{"name": "team", "context": {"cluster": "cluster", "user": account}}],
        });
        let path = self.scratch.path().join("team-kubeconfig.json");
        std::fs::write(&path, config.to_string()).expect("write the team kubeconfig");
        path
    }
}
