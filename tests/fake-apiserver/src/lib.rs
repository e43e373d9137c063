//! A fake Kubernetes API server for clawctl's tests: real HTTP on 127.0.0.1, reached through a generated kubeconfig.
//!
//! [`FakeApiServer::start`] runs the server on a background thread with its own tokio
//! runtime; every method of the handle is synchronous, so tests are plain `#[test]`
//! functions that run the real `clawctl` binary (or a kube client on their own runtime)
//! against [`FakeApiServer::kubeconfig`].
//!
//! Modules: [`admission`] (Pod Security and ResourceQuota admission), [`resources`] (the served kinds), [`store`] (objects, resourceVersions, watch
//! history), [`api`] (write semantics), [`server`] (HTTP, read verbs, watch, faults),
//! [`authn`] (bearer tokens and identities), [`rbac`] (the RBAC authorizer, escalation
//! checks, ClusterRole aggregation, SelfSubjectAccessReview), [`bootstrap_policy`] (the
//! seeded ClusterRoles and bindings),
//! [`exec`] (`pods/exec` over WebSocket, played by a test's handler),
//! [`controller`] (Deployment/ReplicaSet/Pod/Namespace/PVC simulation), [`jobs`] (the
//! Job controller and the kubelet's run-to-completion pods), [`discovery`],
//! [`selector`], [`status`] (error bodies), [`ssa`] (server-side apply), [`normalize`] (how
//! stored objects are normalized: empty lists and maps, quantities). Each module's
//! doc lists what it simplifies compared with a real cluster.

pub mod admission;
pub mod api;
pub mod authn;
pub mod bootstrap_policy;
pub mod controller;
pub mod discovery;
pub mod exec;
pub mod jobs;
pub mod normalize;
pub mod rbac;
pub mod resources;
pub mod selector;
pub mod server;
pub mod ssa;
pub mod status;
pub mod store;
pub mod util;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

pub use crate::authn::UserInfo;
pub use crate::exec::{ExecCall, ExecReply};
use crate::resources::{RESOURCES, ResIdx, by_kind};
use crate::server::{Config, Shared, lock};
use crate::store::Store;

/// The StorageClass the server starts with, marked default: a claim without a class gets
/// it; a claim naming a class that does not exist stays Pending.
pub const DEFAULT_STORAGE_CLASS: &str = "standard";

/// The user [`FakeApiServer::restrict_to_namespaces`] turns the default kubeconfig into.
pub const TEAM_OPERATOR: &str = "team-operator";

/// The RoleBinding [`FakeApiServer::restrict_to_namespaces`] creates in each namespace.
pub const TEAM_OPERATOR_BINDING: &str = "team-operator-admin";

/// Start-up options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Added to every request before it is handled.
    pub latency: Duration,
    /// How long pods stay Pending before they run (or crash, or fail to pull); a Job's
    /// pod then runs this long again before it succeeds or fails. `None`: 300 ms.
    pub rollout_delay: Option<Duration>,
    /// Serve Gateway API's HTTPRoutes, as a cluster with its CRDs installed does. Off by
    /// default, like a fresh kind or kubeadm cluster: their paths answer 404.
    pub gateway_api: bool,
}

/// What an injected fault does to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this code and a `Status` body worded as the real server words it
    /// (429 TooManyRequests, 500 InternalError, 503 ServiceUnavailable, 409 Conflict, ...),
    /// with a `Retry-After` header when given.
    Status { code: u16, retry_after: Option<u64> },
    /// Wait this long, then handle the request normally.
    Delay(Duration),
    /// Close the connection without answering.
    Drop,
}

/// Which requests a fault hits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    /// HTTP method (`GET`, `PATCH`, ...); `None`: any.
    pub method: Option<String>,
    /// Substring of the URL path; `None`: any.
    pub path_contains: Option<String>,
    /// 1-based position, among requests matching this rule after it was injected, of the
    /// first one affected.
    pub nth: usize,
    /// How many consecutive matching requests are affected.
    pub times: usize,
    pub fault: Fault,
}

impl FaultRule {
    /// Every matching request from the first on, once (`nth` 1, `times` 1).
    pub fn new(fault: Fault) -> Self {
        Self {
            method: None,
            path_contains: None,
            nth: 1,
            times: 1,
            fault,
        }
    }

    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_string());
        self
    }

    pub fn path(mut self, substring: &str) -> Self {
        self.path_contains = Some(substring.to_string());
        self
    }

    pub fn nth(mut self, nth: usize) -> Self {
        self.nth = nth.max(1);
        self
    }

    pub fn times(mut self, times: usize) -> Self {
        self.times = times;
        self
    }

    /// Affects every matching request from `nth` on.
    pub fn always(mut self) -> Self {
        self.times = usize::MAX / 2;
        self
    }
}

/// One logged request (faulted ones included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    /// get, list, watch, create, update, patch, delete, deletecollection, discovery
    /// (also for /version and health paths), `unsupported`, or empty for unknown paths;
    /// for a resource path the server does not serve (a CRD's kind without its CRD), the
    /// verb the authorizer parsed from the URL.
    pub verb: String,
    /// Plural resource (`deployments`), `deployments/status` for the subresource, empty
    /// for discovery.
    pub resource: String,
    pub namespace: Option<String>,
    pub dry_run: bool,
    /// HTTP status answered; 0 when the connection was dropped.
    pub status: u16,
}

/// The running fake; dropping it stops the server.
pub struct FakeApiServer {
    shared: Arc<Shared>,
    url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn res_of(api_version: &str, kind: &str) -> ResIdx {
    by_kind(api_version, kind)
        .unwrap_or_else(|| panic!("fake-apiserver does not serve {api_version} {kind}"))
}

impl FakeApiServer {
    /// Starts with default options.
    pub fn start() -> Self {
        Self::start_with(Options::default())
    }

    /// Starts the server (and its controllers) on a background thread.
    pub fn start_with(o: Options) -> Self {
        let (notify, _) = tokio::sync::watch::channel(0u64);
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::new(notify)),
            cfg: Mutex::new(Config {
                latency: o.latency,
                rollout_delay: o.rollout_delay.unwrap_or(Duration::from_millis(300)),
                bookmark_interval: Duration::from_secs(5),
                crash_images: Vec::new(),
                unpullable_images: Vec::new(),
                faults: Vec::new(),
                denies: Vec::new(),
                tokens: authn::Tokens::default(),
                gateway_api: o.gateway_api,
            }),
            log: Mutex::new(Vec::new()),
            url: Mutex::new(String::new()),
            exec: Mutex::new(exec::ExecState::default()),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let url = format!(
            "http://127.0.0.1:{}",
            listener.local_addr().expect("local address").port()
        );
        *lock(&shared.url) = url.clone();
        {
            let mut store = lock(&shared.store);
            for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
                let obj =
                    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
                let ctx = api::Ctx::new("kube-apiserver", false);
                api::create(&mut store, resources::idx("namespaces"), "", obj, &ctx)
                    .expect("bootstrap namespaces");
            }
            // The default StorageClass, as kind and most managed clusters have one.
            let class = json!({
                "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                "metadata": {"name": DEFAULT_STORAGE_CLASS,
                             "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
                "provisioner": "rancher.io/local-path", "reclaimPolicy": "Delete",
                "volumeBindingMode": "Immediate"
            });
            let ctx = api::Ctx::new("kube-apiserver", false);
            api::create(
                &mut store,
                resources::idx("storageclasses"),
                "",
                class,
                &ctx,
            )
            .expect("bootstrap storage class");
            // The RBAC bootstrap policy, as kube-apiserver's post-start hook seeds it
            // (each ClusterRole write runs the aggregation controller).
            for role in bootstrap_policy::cluster_roles() {
                let ctx = api::Ctx::new("kube-apiserver", false);
                api::create(&mut store, resources::idx("clusterroles"), "", role, &ctx)
                    .expect("bootstrap cluster roles");
            }
            for binding in bootstrap_policy::cluster_role_bindings() {
                let ctx = api::Ctx::new("kube-apiserver", false);
                let res = resources::idx("clusterrolebindings");
                api::create(&mut store, res, "", binding, &ctx)
                    .expect("bootstrap cluster role bindings");
            }
        }
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let shared2 = shared.clone();
        let thread = std::thread::Builder::new()
            .name("fake-apiserver".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(4)
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                rt.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                    tokio::spawn(controller::run(shared2.clone()));
                    let accept = async {
                        loop {
                            let Ok((stream, _)) = listener.accept().await else {
                                continue;
                            };
                            let _ = stream.set_nodelay(true);
                            let shared = shared2.clone();
                            tokio::spawn(async move {
                                let svc = hyper::service::service_fn(move |req| {
                                    server::serve(shared.clone(), req)
                                });
                                let _ = hyper::server::conn::http1::Builder::new()
                                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                                    .with_upgrades()
                                    .await;
                            });
                        }
                    };
                    tokio::select! {
                        _ = accept => {}
                        _ = rx => {}
                    }
                });
                rt.shutdown_background();
            })
            .expect("spawn the fake-apiserver thread");
        Self {
            shared,
            url,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// A kubeconfig whose cluster, user and context are all named `fake` (token auth).
    /// Its token authenticates as the cluster admin (user `admin` in `system:masters`,
    /// allowed everything), unless [`FakeApiServer::restrict_to_namespaces`] is in effect.
    pub fn kubeconfig(&self) -> String {
        self.kubeconfig_with_token(authn::DEFAULT_TOKEN)
    }

    /// A new bearer token that authenticates as `user` in `groups` (and
    /// `system:authenticated`). With `system:masters` among the groups it is a superuser;
    /// otherwise it may do only what RBAC objects grant it.
    pub fn user_token(&self, user: &str, groups: &[&str]) -> String {
        lock(&self.shared.cfg)
            .tokens
            .issue(UserInfo::new(user, groups))
    }

    /// A new bearer token for the ServiceAccount `namespace/name`
    /// (`system:serviceaccount:<ns>:<name>`, groups `system:serviceaccounts`,
    /// `system:serviceaccounts:<ns>`, `system:authenticated`). The ServiceAccount object
    /// need not exist.
    pub fn service_account_token(&self, namespace: &str, name: &str) -> String {
        lock(&self.shared.cfg)
            .tokens
            .issue(UserInfo::service_account(namespace, name))
    }

    /// [`FakeApiServer::kubeconfig`] with another bearer token.
    pub fn kubeconfig_with_token(&self, token: &str) -> String {
        format!(
            "apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: {}
contexts:
- name: fake
  context:
    cluster: fake
    user: fake
current-context: fake
preferences: {{}}
users:
- name: fake
  user:
    token: {token}
",
            self.url
        )
    }

    /// A kubeconfig for `user` in `groups` (see [`FakeApiServer::user_token`]).
    pub fn kubeconfig_for_user(&self, user: &str, groups: &[&str]) -> String {
        self.kubeconfig_with_token(&self.user_token(user, groups))
    }

    /// A kubeconfig for the ServiceAccount `namespace/name` (see
    /// [`FakeApiServer::service_account_token`]).
    pub fn kubeconfig_for_service_account(&self, namespace: &str, name: &str) -> String {
        self.kubeconfig_with_token(&self.service_account_token(namespace, name))
    }

    /// Writes [`FakeApiServer::kubeconfig`] to `dir/kubeconfig` and returns the path.
    pub fn write_kubeconfig(&self, dir: &Path) -> PathBuf {
        let path = dir.join("kubeconfig");
        std::fs::write(&path, self.kubeconfig()).expect("write kubeconfig");
        path
    }

    /// The stored object, as a GET would return it.
    pub fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let res = res_of(api_version, kind);
        let store = lock(&self.shared.store);
        store
            .get(res, namespace.unwrap_or(""), name)
            .map(|o| (**o).clone())
    }

    /// Stored objects of a kind in a namespace (`None`: all namespaces / cluster-scoped).
    pub fn list(&self, api_version: &str, kind: &str, namespace: Option<&str>) -> Vec<Value> {
        let res = res_of(api_version, kind);
        let store = lock(&self.shared.store);
        store
            .iter(res, namespace, None)
            .map(|o| (**o).clone())
            .collect()
    }

    /// Replaces an object as `manager` would with a PUT (like `kubectl edit`); a missing
    /// `metadata.resourceVersion` makes it unconditional. Panics on an error answer.
    pub fn update_as(&self, manager: &str, object: Value) -> Value {
        let res = res_of(
            object["apiVersion"].as_str().unwrap_or(""),
            object["kind"].as_str().unwrap_or(""),
        );
        let ns = store::meta_str(&object, "namespace").to_string();
        let name = store::meta_str(&object, "name").to_string();
        let ctx = api::Ctx::new(manager, false);
        let mut store = lock(&self.shared.store);
        api::replace(&mut store, res, &ns, &name, object, false, &ctx)
            .unwrap_or_else(|e| panic!("update_as {name}: {}", e.message()))
    }

    /// Server-side apply as `manager`; creates a missing object.
    pub fn apply_as(
        &self,
        manager: &str,
        object: Value,
        force: bool,
    ) -> Result<Value, ssa::ApplyError> {
        let res = res_of(
            object["apiVersion"].as_str().unwrap_or(""),
            object["kind"].as_str().unwrap_or(""),
        );
        let ns = store::meta_str(&object, "namespace").to_string();
        let name = store::meta_str(&object, "name").to_string();
        let ctx = api::Ctx::new(manager, false);
        let mut store = lock(&self.shared.store);
        api::apply(&mut store, res, &ns, &name, object, force, false, &ctx)
            .map(|(_, o)| o)
            .map_err(|e| {
                let message = e.message().to_string();
                e.apply_error
                    .map(|b| *b)
                    .unwrap_or(ssa::ApplyError::Invalid(message))
            })
    }

    /// Deletes an object as a DELETE with `propagationPolicy: Background` would (garbage
    /// collection of dependents, a Job's pods included; a Namespace goes Terminating).
    /// Missing objects are ignored.
    pub fn delete(&self, api_version: &str, kind: &str, namespace: Option<&str>, name: &str) {
        let res = res_of(api_version, kind);
        let ctx = api::Ctx::new("fake", false);
        let mut store = lock(&self.shared.store);
        let _ = api::delete(
            &mut store,
            res,
            namespace.unwrap_or(""),
            name,
            &api::DeleteOpts {
                explicit_policy: true,
                ..Default::default()
            },
            &ctx,
        );
    }

    /// Plays every `pods/exec` from now on: `handler` gets the call (stdin read whole)
    /// and answers the command's stdout, stderr and exit code. Without one, exec exits
    /// 126 (see [`exec`]).
    pub fn on_exec(&self, handler: impl Fn(ExecCall) -> ExecReply + Send + Sync + 'static) {
        lock(&self.shared.exec).handler = Some(Arc::new(handler));
    }

    /// The execs played so far, in order.
    pub fn exec_calls(&self) -> Vec<ExecCall> {
        lock(&self.shared.exec).calls.clone()
    }

    /// Every request so far, in the order they were answered.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.shared.log).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// Requests by verb (`discovery` included).
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for r in lock(&self.shared.log).iter() {
            *out.entry(r.verb.clone()).or_insert(0) += 1;
        }
        out
    }

    /// Adds a fault rule (rules are checked in the order they were injected; the first
    /// active one applies).
    pub fn inject(&self, rule: FaultRule) {
        lock(&self.shared.cfg).faults.push((rule, 0));
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        lock(&self.shared.cfg).faults.clear();
    }

    /// Answers `verb` on `resource` (plural, `*` for any; `deployments/status` for the
    /// subresource) in `namespace` (`None`: everywhere) with 403 Forbidden worded as
    /// the RBAC authorizer words it, whoever asks and whatever RBAC objects say (a fault
    /// injected on top of RBAC). `verb` may be `*`.
    pub fn deny(&self, verb: &str, resource: &str, namespace: Option<&str>) {
        lock(&self.shared.cfg).denies.push((
            verb.to_string(),
            resource.to_string(),
            namespace.map(str::to_string),
        ));
    }

    /// From now on the default kubeconfig ([`FakeApiServer::kubeconfig`]) authenticates
    /// as the non-superuser [`TEAM_OPERATOR`], and, as a cluster admin onboarding a team
    /// would, the server holds a RoleBinding [`TEAM_OPERATOR_BINDING`] of the `admin`
    /// ClusterRole to that user in each of `namespaces`, and in no other namespace
    /// (bindings of an earlier call elsewhere are deleted). What that user may do is then
    /// exactly what RBAC grants: no cluster-scoped objects, no list or watch across
    /// namespaces, ResourceQuotas and ControllerRevisions read-only, no Leases, unless
    /// ClusterRoles aggregated into `admin` add them.
    ///
    /// A RoleBinding needs its namespace (a real server answers 404 otherwise), so a
    /// namespace that does not exist yet is created first, as the admin would have to;
    /// one that does exist is left as it is.
    pub fn restrict_to_namespaces(&self, namespaces: &[&str]) {
        let rbs = resources::idx("rolebindings");
        let nss = resources::idx("namespaces");
        let ctx = api::Ctx::new("kubectl-create", false);
        {
            let mut store = lock(&self.shared.store);
            let stale: Vec<String> = store
                .iter(rbs, None, None)
                .filter(|b| store::meta_str(b, "name") == TEAM_OPERATOR_BINDING)
                .map(|b| store::meta_str(b, "namespace").to_string())
                .filter(|ns| !namespaces.contains(&ns.as_str()))
                .collect();
            for ns in stale {
                let _ = api::delete(
                    &mut store,
                    rbs,
                    &ns,
                    TEAM_OPERATOR_BINDING,
                    &api::DeleteOpts::default(),
                    &ctx,
                );
            }
            for ns in namespaces {
                if store.get(nss, "", ns).is_none() {
                    let obj =
                        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
                    api::create(&mut store, nss, "", obj, &ctx)
                        .unwrap_or_else(|e| panic!("create namespace {ns}: {}", e.message()));
                }
                if store.get(rbs, ns, TEAM_OPERATOR_BINDING).is_some() {
                    continue;
                }
                let binding = json!({
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "RoleBinding",
                    "metadata": {"name": TEAM_OPERATOR_BINDING, "namespace": ns},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
                    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": TEAM_OPERATOR}],
                });
                api::create(&mut store, rbs, ns, binding, &ctx)
                    .unwrap_or_else(|e| panic!("bind admin in {ns}: {}", e.message()));
            }
        }
        lock(&self.shared.cfg)
            .tokens
            .set(authn::DEFAULT_TOKEN, UserInfo::new(TEAM_OPERATOR, &[]));
    }

    /// The default kubeconfig is the cluster admin again, and every `deny()` rule is
    /// removed. RoleBindings made by [`FakeApiServer::restrict_to_namespaces`] stay (they
    /// grant a superuser nothing it lacks).
    pub fn allow_all(&self) {
        let mut cfg = lock(&self.shared.cfg);
        cfg.tokens.set(authn::DEFAULT_TOKEN, UserInfo::superuser());
        cfg.denies.clear();
    }

    /// What RBAC (without `deny()` rules) decides for `user` doing `verb` on `resource`
    /// (plural, `pods/exec` for a subresource) of `group` in `namespace` (`""`: cluster
    /// scope), on object `name` (`""`: none).
    pub fn can(
        &self,
        user: &UserInfo,
        verb: &str,
        group: &str,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> bool {
        let a = rbac::RequestInfo::resource(verb, group, resource, namespace, name);
        rbac::authorize(&lock(&self.shared.store), user, &a).allowed
    }

    pub fn set_latency(&self, d: Duration) {
        lock(&self.shared.cfg).latency = d;
    }

    /// Pods created from now on whose (init) container image contains `substring` crash-loop;
    /// a Job's pod fails instead (exit code 1, the message from the container's
    /// `CLAWCTL_FAKE_FAILURE` env var or `fake failure`; see [`jobs`]).
    pub fn crash_images(&self, substring: &str) {
        lock(&self.shared.cfg)
            .crash_images
            .push(substring.to_string());
    }

    /// Pods created from now on whose (init) container image contains `substring` fail to pull
    /// (a Job's pod too: its Job stays active).
    pub fn unpullable_images(&self, substring: &str) {
        lock(&self.shared.cfg)
            .unpullable_images
            .push(substring.to_string());
    }

    pub fn set_rollout_delay(&self, d: Duration) {
        lock(&self.shared.cfg).rollout_delay = d;
    }

    /// Interval of BOOKMARK events on watches that allow them (default 5 s).
    pub fn set_bookmark_interval(&self, d: Duration) {
        lock(&self.shared.cfg).bookmark_interval = d.max(Duration::from_millis(10));
    }

    /// The current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        lock(&self.shared.store).rv()
    }

    /// Drops the watch history (as an etcd compaction): watches resuming from an older
    /// resourceVersion get 410 Expired.
    pub fn compact(&self) {
        lock(&self.shared.store).compact();
    }

    /// Number of stored objects of every kind (for benchmarks).
    pub fn object_count(&self) -> usize {
        let store = lock(&self.shared.store);
        (0..RESOURCES.len()).map(|r| store.count(r, None)).sum()
    }
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
