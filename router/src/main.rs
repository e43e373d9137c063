//! The `clawctl-router` binary: read the configuration, start the watches and the front
//! doors, serve until SIGTERM (or Ctrl-C), then stop accepting and let open messages
//! finish for a bounded time.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clawctl_router::config::Config;
use clawctl_router::dispatch::Router;
use clawctl_router::gateway::Gateway;
use clawctl_router::http::{self, HttpDoor};
use clawctl_router::inbox::Inbox;
use clawctl_router::routes::Routes;
use clawctl_router::tokens::Tokens;
use clawctl_router::{info, log};

/// How long a first read of a token Secret may take.
const TOKEN_LOAD_TIMEOUT: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("clawctl-router: error: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("clawctl-router: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let config = Config::from_env().context("configuration")?;
    log::set_level(config.log);
    let client = kube::Client::try_default()
        .await
        .context("no Kubernetes client (in-cluster service account or KUBECONFIG)")?;

    let routes = Routes::new();
    let watch_routes = tokio::spawn(routes.clone().watch(
        client.clone(),
        config.namespace.clone(),
        config.routes_configmap.clone(),
    ));
    let router = Arc::new(Router::new(
        routes,
        Tokens::watching(client, TOKEN_LOAD_TIMEOUT),
        Gateway::new(),
        Inbox::new(config.limits.clone()),
        config.notices.clone(),
    ));
    let follow = tokio::spawn(router.clone().follow_routes());

    let listener = tokio::net::TcpListener::bind(config.http_listen)
        .await
        .with_context(|| format!("listening on {}", config.http_listen))?;
    if config.trusted_proxies.is_empty() {
        info!("no ROUTER_TRUSTED_PROXIES: POST /v1/messages refuses everyone");
    }
    let door = Arc::new(HttpDoor::new(
        router.clone(),
        config.trusted_proxies.clone(),
        config.identity_header.clone(),
    ));
    info!(
        "fleet {}: routes from ConfigMap {}/{}, HTTP on {}",
        config.fleet, config.namespace, config.routes_configmap, config.http_listen
    );

    // The Slack front door starts here, beside the HTTP one, with the same dispatcher:
    // `tokio::spawn(slack::run(config.clone(), router.clone()))` when its config is set.

    http::serve(listener, door, shutdown_signal()).await;
    info!("shutting down");
    watch_routes.abort();
    follow.abort();
    Ok(())
}

/// SIGTERM (the kubelet stopping the pod) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
