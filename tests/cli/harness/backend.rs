//! Where a scenario runs: the in-process fake API server, or a real cluster named by
//! `CLAWCTL_E2E_KUBECONFIG`; the fleet's names there, clawctl runs against it, and the
//! namespaces deleted when the test ends.
//!
//! A scenario is a function of `&Backend`, run twice: on [`Backend::start_fake`] by
//! `cargo test` (not ignored), and on [`Backend::cluster`] by the `e2e*` tests, ignored
//! unless asked for (`CLAWCTL_E2E_KUBECONFIG=~/.kube/config cargo test --test cli e2e --
//! --ignored`). Asked for with `--ignored` but without the variable, a cluster test fails
//! naming it: whoever asks for these tests wants them run, not silently skipped.
//!
//! On a real cluster every test names its fleet, fleet namespace and team namespaces
//! after a suffix made of the time, the process id and a counter
//! (`e2e-<time>-<pid>-<n>[-<team>|-sys]`), so runs never collide, and [`Backend`]'s
//! `Drop` deletes those namespaces when the test ends, failed or not. On the fake, which
//! lives as long as the test, the fleet is `demo` in `clawctl-system` and a team's
//! namespace is the team's name.
//!
//! What only the fake can tell (the requests it served, injected faults, images that
//! crash-loop) a scenario checks under `if let Some(fake) = backend.fake()`; what both
//! can tell (resourceVersions of the objects no controller writes, Deployment
//! generations: [`Backend::written`]) it checks on both. The fake is set up as the
//! `fake_server` example is: tags containing `does-not-exist` fail to pull, images
//! containing `rclone` crash, and an exec runs on this machine in a folder per agent.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fake_apiserver::{FakeApiServer, Options};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, ResourceExt};

use crate::harness::Test;
use crate::harness::volumes;

pub(crate) const KUBECONFIG_VAR: &str = "CLAWCTL_E2E_KUBECONFIG";
const IMAGE_VAR: &str = "CLAWCTL_E2E_IMAGE";
/// The OpenClaw release the fleets run, unless `CLAWCTL_E2E_IMAGE` names a mirror.
pub(crate) const IMAGE: &str = "ghcr.io/openclaw/openclaw:2026.4.14";
/// The label every object and namespace of a fleet carries.
pub(crate) const FLEET_LABEL: &str = "clawctl.io/fleet";
/// What both backends answer for a tag with this in it: the image cannot be pulled.
pub(crate) const UNPULLABLE: &str = "does-not-exist";

/// How long the clawctl runs of a scenario may wait, and how long rollouts soak: a real
/// cluster schedules, provisions a volume and pulls an image before a pod is ready.
pub(crate) struct Pace {
    /// `apply --timeout` for agents that must become ready.
    pub(crate) ready: &'static str,
    /// `rollout --timeout`, per wave.
    pub(crate) wave: &'static str,
    /// `rollout --soak`: each group's gate.
    pub(crate) soak: &'static str,
    /// [`Pace::soak`] in whole seconds: how far apart a real server's timestamps show
    /// two groups' moves (0 on the fake, whose request log shows their order).
    pub(crate) soak_secs: i64,
    /// A soak long enough to interrupt a run while a wave is in its gate.
    pub(crate) long_soak: &'static str,
    /// How long a rollout may take to finish one more agent.
    pub(crate) progress: Duration,
}

const FAKE_PACE: Pace = Pace {
    ready: "20s",
    wave: "30s",
    soak: "200ms",
    soak_secs: 0,
    long_soak: "2s",
    progress: Duration::from_secs(60),
};

const CLUSTER_PACE: Pace = Pace {
    ready: "180s",
    wave: "300s",
    soak: "10s",
    soak_secs: 10,
    long_soak: "30s",
    progress: Duration::from_secs(600),
};

/// One test's fleet on one cluster: its names, a kube client as the cluster's admin,
/// and the namespaces to delete when the test ends.
pub(crate) struct Backend {
    pub(crate) kubeconfig: PathBuf,
    /// The fleet's `metadata.name`; every namespace clawctl creates carries it as a label.
    pub(crate) fleet: String,
    /// `metadata.namespace`: the lock ConfigMap, the ApplySet parent, the rollout record.
    pub(crate) fleet_ns: String,
    pub(crate) pace: &'static Pace,
    pub(crate) client: Client,
    pub(crate) rt: tokio::runtime::Runtime,
    /// Namespaces this test made itself (as the platform team) or may have made: deleted
    /// when it ends, even before any apply labelled them with the fleet.
    pub(crate) made: Mutex<Vec<String>>,
    /// Files of this test: the fake's kubeconfig and agents' volumes, other kubeconfigs.
    pub(crate) scratch: tempfile::TempDir,
    fake: Option<FakeApiServer>,
}

impl Backend {
    /// A fresh fake API server in this process, set up as the `fake_server` example is.
    pub(crate) fn start_fake() -> Backend {
        Backend::start_fake_with(Options::default())
    }

    /// [`Backend::start_fake`] with `options` (a 100 ms rollout delay unless they say).
    pub(crate) fn start_fake_with(options: Options) -> Backend {
        let server = FakeApiServer::start_with(Options {
            rollout_delay: options.rollout_delay.or(Some(Duration::from_millis(100))),
            ..options
        });
        server.unpullable_images(UNPULLABLE);
        // The scenarios' knowledge buckets are closed ports: rclone fails there.
        server.crash_images("rclone");
        let scratch = tempfile::tempdir().expect("temp dir");
        let root = scratch.path().join("volumes");
        server.on_exec(move |call| volumes::in_a_folder_per_agent(&root, &call));
        let kubeconfig = server.write_kubeconfig(scratch.path());
        Backend::connect(
            kubeconfig,
            "demo".into(),
            "clawctl-system".into(),
            scratch,
            Some(server),
        )
    }

    /// The cluster `CLAWCTL_E2E_KUBECONFIG` names, or a failure saying how to name one.
    pub(crate) fn cluster() -> Backend {
        let Some(path) = std::env::var_os(KUBECONFIG_VAR).filter(|v| !v.is_empty()) else {
            panic!(
                "{KUBECONFIG_VAR} is not set: these end-to-end tests run against a real cluster. \
                 Set it to a kubeconfig (e.g. {KUBECONFIG_VAR}=~/.kube/config cargo test --test cli e2e \
                 -- --ignored --test-threads=1); see \"End-to-end tests against a real cluster\" in CONTRIBUTING.md"
            )
        };
        // clawctl runs in a temporary folder: a relative path would not resolve there.
        let kubeconfig = std::fs::canonicalize(&path)
            .unwrap_or_else(|e| panic!("{KUBECONFIG_VAR}={}: {e}", PathBuf::from(&path).display()));
        let fleet = format!("e2e-{}", suffix());
        let fleet_ns = format!("{fleet}-sys");
        let scratch = tempfile::tempdir().expect("temp dir");
        Backend::connect(kubeconfig, fleet, fleet_ns, scratch, None)
    }

    fn connect(
        kubeconfig: PathBuf,
        fleet: String,
        fleet_ns: String,
        scratch: tempfile::TempDir,
        fake: Option<FakeApiServer>,
    ) -> Backend {
        let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
        let client = rt.block_on(async {
            let file = Kubeconfig::read_from(&kubeconfig)
                .unwrap_or_else(|e| panic!("{}: {e}", kubeconfig.display()));
            let config = kube::Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", kubeconfig.display()));
            Client::try_from(config).expect("kube client")
        });
        Backend {
            kubeconfig,
            fleet,
            fleet_ns,
            pace: if fake.is_some() {
                &FAKE_PACE
            } else {
                &CLUSTER_PACE
            },
            client,
            rt,
            made: Mutex::new(Vec::new()),
            scratch,
            fake,
        }
    }

    /// The fake API server, for what only it can check or do; `None` on a real cluster.
    pub(crate) fn fake(&self) -> Option<&FakeApiServer> {
        self.fake.as_ref()
    }

    /// The fake API server of a test that runs only on [`Backend::start_fake`].
    pub(crate) fn server(&self) -> &FakeApiServer {
        self.fake()
            .expect("a test of the fake alone runs on Backend::start_fake")
    }

    /// The namespace of `team`.
    pub(crate) fn ns(&self, team: &str) -> String {
        match self.fake {
            Some(_) => team.to_string(),
            None => format!("{}-{team}", self.fleet),
        }
    }

    /// The image of agents that must become ready: `CLAWCTL_E2E_IMAGE` on a real
    /// cluster when set (a pinned mirror), else [`IMAGE`].
    pub(crate) fn image(&self) -> String {
        match self.fake {
            Some(_) => IMAGE.to_string(),
            None => std::env::var(IMAGE_VAR)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| IMAGE.to_string()),
        }
    }

    /// An image that cannot be pulled, unique to this test: a tag that does not exist.
    pub(crate) fn unpullable_image(&self) -> String {
        format!("ghcr.io/openclaw/openclaw:{}", self.unpullable_tag())
    }

    /// The tag of [`Backend::unpullable_image`].
    pub(crate) fn unpullable_tag(&self) -> String {
        format!("2026.4.14-{UNPULLABLE}-{}", self.fleet)
    }

    /// Runs clawctl with `args` (the fleet file is `fleet.yaml`) against the cluster.
    pub(crate) fn clawctl(&self, fleet_text: &str, args: &[&str]) -> Test {
        self.clawctl_as(&self.kubeconfig, fleet_text, args)
    }

    /// [`Backend::clawctl`] with another kubeconfig (another user of the same cluster).
    pub(crate) fn clawctl_as(&self, kubeconfig: &Path, fleet_text: &str, args: &[&str]) -> Test {
        let mut test = Test::new()
            .file("fleet.yaml", fleet_text)
            .env("KUBECONFIG", &kubeconfig.to_string_lossy());
        // Exec credential plugins (gcloud, aws, ...) read their own files under HOME;
        // the harness's empty HOME would break them. KUBECONFIG still decides the cluster.
        if self.fake.is_none()
            && let Ok(home) = std::env::var("HOME")
        {
            test = test.env("HOME", &home);
        }
        test.args(args)
    }

    /// `apply fleet.yaml --yes` with `extra`, waiting [`Pace::ready`] unless `extra`
    /// says how long.
    pub(crate) fn apply(&self, fleet_text: &str, extra: &[&str]) -> Test {
        let mut args = vec!["apply", "fleet.yaml", "--yes"];
        if !extra.contains(&"--timeout") {
            args.extend(["--timeout", self.pace.ready]);
        }
        args.extend_from_slice(extra);
        self.clawctl(fleet_text, &args)
    }

    pub(crate) fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.rt.block_on(future)
    }

    /// Deletes namespace `ns` when the test ends (on a real cluster it must be named
    /// after this test's fleet: `<fleet>-...`), whoever made it.
    pub(crate) fn made(&self, ns: &str) {
        if self.fake.is_some() {
            return;
        }
        assert!(
            ns.starts_with(&format!("{}-", self.fleet)),
            "{ns} is not named after fleet {}",
            self.fleet
        );
        let mut made = self.made.lock().expect("lock");
        if !made.iter().any(|m| m == ns) {
            made.push(ns.to_string());
        }
    }
}

/// Unique per test: seconds since the epoch (base 36), process id, and a counter for
/// the tests of one process.
fn suffix() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let mut secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let mut time = Vec::new();
    while secs > 0 {
        time.push(char::from_digit((secs % 36) as u32, 36).expect("digit"));
        secs /= 36;
    }
    let time: String = time.into_iter().rev().collect();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{time}-{}-{n}", std::process::id())
}

impl Drop for Backend {
    /// On a real cluster, deletes the namespaces this test's fleet created and those the
    /// test made itself as the platform team ([`Backend::made`]) (their objects go with
    /// them), also after a failure and also when no apply ever labelled them. Only
    /// namespaces named after this test's fleet (`<fleet>-...`): never one that happens to
    /// carry its label. The cluster finishes the deletion in the background. The fake
    /// goes with the test.
    fn drop(&mut self) {
        if self.fake.is_some() {
            return;
        }
        let api: Api<Namespace> = Api::all(self.client.clone());
        let params = ListParams::default().labels(&format!("{FLEET_LABEL}={}", self.fleet));
        let prefix = format!("{}-", self.fleet);
        let mut names = self.made.lock().map(|m| m.clone()).unwrap_or_default();
        let result = self.rt.block_on(async {
            for ns in api.list(&params).await?.items {
                names.push(ns.name_any());
            }
            names.sort();
            names.dedup();
            for name in names.iter().filter(|n| n.starts_with(&prefix)) {
                match api.delete(name, &DeleteParams::background()).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(status)) if status.code == 404 => {}
                    Err(e) => return Err(e),
                }
            }
            Ok::<_, kube::Error>(())
        });
        if let Err(e) = result {
            eprintln!(
                "e2e: could not delete the namespaces of fleet {}: {e}; \
                 delete them with: kubectl delete namespace {}",
                self.fleet,
                names.join(" ")
            );
        }
    }
}

/// One `#[test]` per scenario of `crate::scenarios::$module`, each on a fresh
/// [`Backend::start_fake`]; after `ignore = "needs ..."`, ignored like the other tests that run
/// tools on this machine.
macro_rules! on_the_fake {
    ($module:ident: $($name:ident),+ $(,)?) => {
        $(
            #[test]
            fn $name() {
                crate::scenarios::$module::$name(&crate::harness::backend::Backend::start_fake());
            }
        )+
    };
    (ignore = $why:literal; $module:ident: $($name:ident),+ $(,)?) => {
        $(
            #[test]
            #[ignore = $why]
            fn $name() {
                crate::scenarios::$module::$name(&crate::harness::backend::Backend::start_fake());
            }
        )+
    };
}
pub(crate) use on_the_fake;

/// One `#[test]` per scenario of `crate::scenarios::$module`, each on the real cluster
/// `CLAWCTL_E2E_KUBECONFIG` names ([`Backend::cluster`]), ignored unless asked for.
macro_rules! on_a_cluster {
    ($module:ident: $($name:ident),+ $(,)?) => {
        $(
            #[test]
            #[ignore = "needs cluster"]
            fn $name() {
                crate::scenarios::$module::$name(&crate::harness::backend::Backend::cluster());
            }
        )+
    };
}
pub(crate) use on_a_cluster;
