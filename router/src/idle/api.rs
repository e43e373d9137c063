//! The router's calls on agents' Deployments, each allowed by name by the team's
//! `clawctl-orchestrator` Role (get, list and watch by a `metadata.name` field selector,
//! patch): read one, watch one, and the two server-side applies as [`FIELD_MANAGER`]:
//!
//! - sleep: `spec.replicas: 0` and [`IDLE`] (an RFC 3339 time), forced, so
//!   `spec.replicas` moves to the router from clawctl's apply ("Writes to objects with
//!   managed fields can be forced, in which case the value of any conflicted field will
//!   be overridden, and the ownership will be transferred", Server-Side Apply,
//!   Conflicts); clawctl then leaves that field out of what it applies;
//! - wake: an empty configuration, which gives both up: "Removed fields which have no
//!   other owners are deleted from the live object, or reset to their default value if
//!   they have one" (Server-Side Apply) — the annotation goes and `spec.replicas`
//!   returns to 1 (apps/v1 `SetDefaults_Deployment`), exactly as `clawctl resume` does
//!   for its own manager.
//!
//! Errors are one readable line (the API server's code, reason and message), never a
//! body dump.

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Patch, PatchParams};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use serde_json::json;
use tokio::sync::watch;

use super::live::{FIELD_MANAGER, IDLE, Standing};
use crate::routes::DeploymentRef;
use crate::warn;

/// A Deployment's standing as its watch last saw it (`None` until the first list).
pub type View = Option<Standing>;

fn api(client: &Client, d: &DeploymentRef) -> Api<Deployment> {
    Api::namespaced(client.clone(), &d.namespace)
}

/// One line for a failed call: `<verb> Deployment ns/name: <code> <reason>: <message>`.
pub fn describe(verb: &str, d: &DeploymentRef, e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!(
            "{verb} Deployment {d}: {} {}: {}",
            s.code,
            s.reason,
            s.message.lines().next().unwrap_or_default()
        ),
        other => format!(
            "{verb} Deployment {d}: {}",
            other.to_string().lines().next().unwrap_or_default()
        ),
    }
}

/// The Deployment as it is now (`None`: not found).
pub async fn get(client: &Client, d: &DeploymentRef) -> Result<Option<Deployment>, String> {
    api(client, d)
        .get_opt(&d.name)
        .await
        .map_err(|e| describe("get", d, &e))
}

/// Scales it to zero and marks it idle since `since`, as [`FIELD_MANAGER`], forcing.
pub async fn sleep(client: &Client, d: &DeploymentRef, since: &str) -> Result<(), String> {
    let patch = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": d.name, "namespace": d.namespace, "annotations": {IDLE: since}},
        "spec": {"replicas": 0},
    });
    apply(client, d, &patch, true, "sleep").await
}

/// Gives up the fields [`sleep`] took: the mark goes, the replicas return to 1.
pub async fn wake(client: &Client, d: &DeploymentRef) -> Result<(), String> {
    let patch = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": d.name, "namespace": d.namespace},
    });
    apply(client, d, &patch, false, "wake").await
}

async fn apply(
    client: &Client,
    d: &DeploymentRef,
    patch: &serde_json::Value,
    force: bool,
    verb: &str,
) -> Result<(), String> {
    let mut params = PatchParams::apply(FIELD_MANAGER);
    params.force = force;
    api(client, d)
        .patch(&d.name, &params, &Patch::Apply(patch))
        .await
        .map(|_| ())
        .map_err(|e| describe(verb, d, &e))
}

/// Watches that one Deployment (by a field selector, so RBAC can grant it by
/// `resourceNames`) and sends its standing on every change; runs until dropped. Watch
/// errors are logged and retried with backoff.
pub async fn watch(client: Client, d: DeploymentRef, tx: watch::Sender<View>) {
    let config = watcher::Config::default().fields(&format!("metadata.name={}", d.name));
    let mut events = watcher(api(&client, &d), config).default_backoff().boxed();
    let mut listed: Option<Deployment> = None;
    while let Some(event) = events.next().await {
        let standing = match event {
            Ok(watcher::Event::Init) => {
                listed = None;
                continue;
            }
            Ok(watcher::Event::InitApply(o)) => {
                listed = Some(o);
                continue;
            }
            Ok(watcher::Event::InitDone) => Standing::of(listed.take().as_ref()),
            Ok(watcher::Event::Apply(o)) => Standing::of(Some(&o)),
            Ok(watcher::Event::Delete(_)) => Standing::Missing,
            Err(e) => {
                warn!("watching Deployment {d}: {e}");
                continue;
            }
        };
        tx.send_replace(Some(standing));
    }
}
