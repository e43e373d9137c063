//! The fake API server as a process, for running the end-to-end suites (or clawctl by
//! hand) against it: writes a kubeconfig, prints its path, and serves until killed.
//!
//!     cargo run --example fake_server -- /tmp/fake-kubeconfig &
//!     CLAWCTL_E2E_KUBECONFIG=/tmp/fake-kubeconfig cargo test --test cli e2e -- --ignored
//!
//! The end-to-end suites are written for a real cluster; the fake answers them as far as
//! it simulates one (see tests/fake-apiserver/src/lib.rs).

use std::time::Duration;

use fake_apiserver::{FakeApiServer, Options};

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fake-kubeconfig".to_string());
    let server = FakeApiServer::start_with(Options {
        rollout_delay: Some(Duration::from_millis(200)),
        ..Options::default()
    });
    // What a registry would answer for the suites' deliberately missing tags.
    server.unpullable_images("does-not-exist");
    // The suites' knowledge buckets are closed ports: rclone fails there, in the
    // agents' pull init containers and in snapshot Jobs alike.
    server.crash_images("rclone");
    std::fs::write(&path, server.kubeconfig())?;
    println!("{path}: {}", server.url());
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
