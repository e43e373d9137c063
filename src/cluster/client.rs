//! Connecting to a cluster: which kubeconfig (or in-cluster account) is used, with
//! timeouts short enough that a missing or unreachable cluster fails within seconds.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow};
use kube::config::{KubeConfigOptions, Kubeconfig};

/// Where to find the cluster: `--kubeconfig` and `--context`, else `$KUBECONFIG`,
/// `~/.kube/config`, then the in-cluster service account.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
}

/// A connected client and a description of where its configuration came from, for
/// messages ("context kind-dev in /home/me/.kube/config").
#[derive(Clone)]
pub struct Cluster {
    pub client: kube::Client,
    pub source: String,
    pub url: String,
    /// What the API server warned about, per object (see `warnings`).
    pub warnings: super::warnings::Warnings,
}

/// How long to wait for a TCP connection to the API server before giving up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl Cluster {
    /// Builds a client for `target` and checks that the API server answers (one
    /// `/version` request), so a wrong or dead cluster fails here, clearly.
    pub async fn connect(target: &Target) -> anyhow::Result<Cluster> {
        let (mut config, source) = load_config(target).await?;
        config.connect_timeout = Some(CONNECT_TIMEOUT);
        config.read_timeout = None; // watches are long; requests get their own timeout
        // clawctl retries itself, boundedly (see `retry`); kube's default policy would
        // retry 429s for up to 15 times with delays of up to 1000 s.
        config.default_retry = false;
        let url = config.cluster_url.to_string();
        let warnings = super::warnings::Warnings::default();
        let client = kube::client::ClientBuilder::try_from(config)
            .with_context(|| format!("cannot build a Kubernetes client from {source}"))?
            .with_layer(&super::warnings::Layer(warnings.clone()))
            .build();
        let cluster = Cluster {
            client,
            source,
            url,
            warnings,
        };
        let version =
            tokio::time::timeout(CONNECT_TIMEOUT * 2, cluster.client.apiserver_version()).await;
        match version {
            Ok(Ok(_)) => Ok(cluster),
            Ok(Err(kube::Error::Api(status))) if status.code == 401 || status.code == 403 => {
                Err(anyhow!(
                    "the API server at {} refused clawctl's credentials ({} {}): {}; configuration from {}",
                    cluster.url,
                    status.code,
                    status.reason,
                    status.message,
                    cluster.source
                ))
            }
            // Any other API answer means the server is there; let the command go on.
            Ok(Err(kube::Error::Api(_))) => Ok(cluster),
            Ok(Err(err)) => Err(anyhow!(
                "cannot reach the Kubernetes API server at {} ({}); configuration from {}",
                cluster.url,
                crate::cluster::errors::transport_reason(&err),
                cluster.source
            )),
            Err(_) => Err(anyhow!(
                "the Kubernetes API server at {} did not answer within {} s; configuration from {}",
                cluster.url,
                (CONNECT_TIMEOUT * 2).as_secs(),
                cluster.source
            )),
        }
    }
}

async fn load_config(target: &Target) -> anyhow::Result<(kube::Config, String)> {
    let options = KubeConfigOptions {
        context: target.context.clone(),
        ..KubeConfigOptions::default()
    };
    let context = |name: Option<&str>| match name {
        Some(name) => format!("context {name:?}"),
        None => "its current context".to_string(),
    };
    if let Some(path) = &target.kubeconfig {
        let source = format!(
            "{} in --kubeconfig {}",
            context(target.context.as_deref()),
            path.display()
        );
        let kubeconfig = Kubeconfig::read_from(path)
            .with_context(|| format!("cannot read --kubeconfig {}", path.display()))?;
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .with_context(|| format!("cannot use {source}"))?;
        return Ok((config, source));
    }
    if let Some(paths) = std::env::var_os("KUBECONFIG").filter(|p| !p.is_empty()) {
        let source = format!(
            "{} in $KUBECONFIG={}",
            context(target.context.as_deref()),
            paths.to_string_lossy()
        );
        let config = kube::Config::from_kubeconfig(&options)
            .await
            .with_context(|| format!("cannot use {source}"))?;
        return Ok((config, source));
    }
    let home = home_kubeconfig();
    if let Some(path) = home.as_deref().filter(|p| p.exists()) {
        let source = format!(
            "{} in {}",
            context(target.context.as_deref()),
            path.display()
        );
        let config = kube::Config::from_kubeconfig(&options)
            .await
            .with_context(|| format!("cannot use {source}"))?;
        return Ok((config, source));
    }
    if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
        let config = kube::Config::incluster()
            .context("cannot use the in-cluster service account configuration")?;
        return Ok((config, "the in-cluster service account".to_string()));
    }
    Err(anyhow!(
        "no cluster configured: tried --kubeconfig (not given), $KUBECONFIG (not set), {} (not found) \
         and the in-cluster service account (not in a pod); point --kubeconfig or $KUBECONFIG at a kubeconfig",
        home.map(|p| p.display().to_string())
            .unwrap_or_else(|| "~/.kube/config".to_string())
    ))
}

fn home_kubeconfig() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    Some(Path::new(&home).join(".kube").join("config"))
}
