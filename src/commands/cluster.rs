//! What the cluster commands share: the async runtime and turning arguments into a
//! planning request.

use std::path::Path;

use crate::cli::ConnectArgs;
use crate::cluster::Target;
use crate::ops::planning::Request;

/// A small multi-threaded runtime; clawctl's concurrency is in requests, not CPU.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

pub fn target(connect: &ConnectArgs) -> Target {
    Target {
        kubeconfig: connect.kubeconfig.clone(),
        context: connect.context.clone(),
    }
}

pub fn request<'a>(
    fleet: &'a Path,
    templates: Option<&'a Path>,
    connect: &ConnectArgs,
    delete_volumes: bool,
    concurrency: usize,
) -> Request<'a> {
    Request {
        fleet,
        templates,
        target: target(connect),
        delete_volumes,
        concurrency,
        hold_image_changes: false,
    }
}
