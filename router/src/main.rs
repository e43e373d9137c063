//! The `clawctl-router` binary: read the configuration, start the watches and the front
//! doors, serve until SIGTERM (or Ctrl-C), then stop accepting and let open messages
//! finish for a bounded time.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clawctl::ops::self_service::provision::Place;
use clawctl_router::claims::ClaimRoutes;
use clawctl_router::config::Config;
use clawctl_router::dispatch::Router;
use clawctl_router::gateway::Gateway;
use clawctl_router::http::{self, HttpDoor};
use clawctl_router::idle::Idle;
use clawctl_router::inbox::Inbox;
use clawctl_router::provision::SelfService;
use clawctl_router::routes::Routes;
use clawctl_router::tokens::Tokens;
use clawctl_router::{info, log, slack};
use tokio_util::sync::CancellationToken;

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
    let idle = match &config.idle {
        Some(settings) => {
            info!(
                "agents sleep after {} s without a message (wake timeout {} s)",
                settings.idle_after.as_secs(),
                settings.wake_timeout.as_secs()
            );
            Idle::new(client.clone(), settings.clone())
        }
        None => Idle::off(),
    };
    let slack_config = match std::env::var_os(slack::APP_TOKEN_VAR) {
        Some(_) => Some(slack::SlackConfig::from_env().context("Slack configuration")?),
        None => None,
    };
    let mut router = Router::new(
        routes.clone(),
        Tokens::watching(client.clone(), TOKEN_LOAD_TIMEOUT),
        Gateway::new(),
        Inbox::new(config.limits.clone()),
        config.notices.clone(),
    )
    .with_idle(idle.clone());
    // Self-service: agents made on request are routed from their claims, and
    // `/setup-agent` makes them (spec.routing.selfService; off without it).
    let mut watch_claims = None;
    if let Some(s) = &config.self_service {
        let claim_routes = ClaimRoutes::in_cluster(&s.team_namespace);
        watch_claims = Some(tokio::spawn(claim_routes.watch(
            routes.clone(),
            client.clone(),
            s.router_namespace.clone(),
            config.fleet.clone(),
        )));
        let directory = match &slack_config {
            Some(c) => Some(Arc::new(slack::Directory::new(c)?)),
            None => None,
        };
        let place = Place {
            fleet: config.fleet.clone(),
            fleet_namespace: config.namespace.clone(),
            router_namespace: s.router_namespace.clone(),
        };
        router = router.with_self_service(SelfService::new(
            client.clone(),
            place,
            directory,
            s.timeout,
            s.notices.clone(),
        ));
        info!(
            "self-service on: /setup-agent makes agents in {}",
            s.team_namespace
        );
    }
    let router = Arc::new(router);
    let follow = tokio::spawn(router.clone().follow_routes());
    let sleeper = tokio::spawn(idle.sleep_idle());

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

    // One shutdown for every door: SIGTERM or Ctrl-C cancels it.
    let shutdown = CancellationToken::new();
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            shutdown_signal().await;
            shutdown.cancel();
        }
    });
    // The Slack door, beside the HTTP one, with the same dispatcher, when the Slack app's
    // tokens are configured (the Secret `routing.router.slackSecret`, by envFrom).
    let slack = match slack_config {
        Some(slack_config) => {
            info!("Slack door on (Socket Mode)");
            let (router, shutdown) = (router.clone(), shutdown.clone());
            // A door that cannot work (a token Slack refuses) stops the router, so the
            // pod restarts and `status` shows it, rather than half a front door.
            Some(tokio::spawn(async move {
                let result = slack::run(slack_config, router, shutdown.clone()).await;
                if result.is_err() {
                    shutdown.cancel();
                }
                result
            }))
        }
        None => None,
    };

    let stopped = shutdown.clone();
    http::serve(listener, door, async move { stopped.cancelled().await }).await;
    info!("shutting down");
    shutdown.cancel();
    let slack_result = match slack {
        Some(slack) => slack
            .await
            .map_err(|e| anyhow::anyhow!("the Slack door failed: {e}"))
            .and_then(|r| r.context("the Slack door stopped")),
        None => Ok(()),
    };
    watch_routes.abort();
    if let Some(watch) = watch_claims {
        watch.abort();
    }
    follow.abort();
    sleeper.abort();
    slack_result
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
