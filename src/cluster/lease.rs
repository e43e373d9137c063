//! The fleet lock: one lease per fleet, taken by every mutating command, renewed while
//! it runs, and expiring by itself when the process dies.
//!
//! It is kept in a ConfigMap (`clawctl-<fleet>-lock` in the fleet namespace, the fields
//! of a coordination.k8s.io Lease as its data), as client-go's leader election kept its
//! ConfigMap lock: the built-in `admin` role of a namespace may write ConfigMaps but not
//! Leases, and a team bound only to its namespaces must be able to take the lock
//! without any role widened cluster-wide (DESIGN §4.1).
//!
//! Taking it uses optimistic concurrency (a replace carrying the resourceVersion that
//! was read), so of two racing runs exactly one wins; the other gets 409 and reports
//! the winner. Expiry compares the holder's `renewTime + leaseDurationSeconds` with
//! this machine's clock (client-go's leader election instead waits one full duration
//! from when it *observed* a change; a CLI that must fail fast cannot wait, so clock
//! skew between machines shortens or lengthens a dead holder's lease by that skew).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};

use super::Cluster;
use super::errors::{Request, describe};

/// How long a lease lives without renewal.
pub const DURATION: Duration = Duration::from_secs(30);

/// The lock's name in the fleet namespace.
pub fn name(fleet: &str) -> String {
    crate::names::lock(fleet)
}

/// A lease as the lock ConfigMap's data holds it (the fields of a Lease's spec).
#[derive(Debug, Clone, PartialEq, Default)]
struct Lease {
    holder: Option<String>,
    duration: i64,
    acquired: Option<Timestamp>,
    renewed: Option<Timestamp>,
    transitions: i64,
}

const HOLDER: &str = "holderIdentity";
const DURATION_KEY: &str = "leaseDurationSeconds";
const ACQUIRED: &str = "acquireTime";
const RENEWED: &str = "renewTime";
const TRANSITIONS: &str = "leaseTransitions";

impl Lease {
    fn read(config: &ConfigMap) -> Lease {
        let data = config.data.clone().unwrap_or_default();
        let text = |k: &str| data.get(k).map(String::as_str).filter(|v| !v.is_empty());
        Lease {
            holder: text(HOLDER).map(str::to_string),
            duration: text(DURATION_KEY)
                .and_then(|v| v.parse().ok())
                .unwrap_or(DURATION.as_secs() as i64),
            acquired: text(ACQUIRED).and_then(|v| v.parse().ok()),
            renewed: text(RENEWED).and_then(|v| v.parse().ok()),
            transitions: text(TRANSITIONS).and_then(|v| v.parse().ok()).unwrap_or(0),
        }
    }

    /// Writes the lease into `config`'s data (its other keys are left alone).
    fn write(&self, config: &mut ConfigMap) {
        let data = config.data.get_or_insert_with(Default::default);
        let time = |t: Option<Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
        data.insert(HOLDER.into(), self.holder.clone().unwrap_or_default());
        data.insert(DURATION_KEY.into(), self.duration.to_string());
        data.insert(ACQUIRED.into(), time(self.acquired));
        data.insert(RENEWED.into(), time(self.renewed));
        data.insert(TRANSITIONS.into(), self.transitions.to_string());
    }
}

/// Who holds the lock, as recorded in `holderIdentity`: user, host, process, command.
pub fn identity(command: &str) -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!(
        "{user}@{} pid {} (clawctl {command})",
        host(),
        std::process::id()
    )
}

/// This machine's name, as `identity` records it.
pub fn host() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".into())
}

/// The host and process id recorded in a holder identity (`user@host pid N (...)`).
fn holder_process(holder: &str) -> Option<(&str, u32)> {
    let (_, rest) = holder.split_once('@')?;
    let (host, rest) = rest.split_once(" pid ")?;
    let pid = rest.split(' ').next()?.parse().ok()?;
    Some((host, pid))
}

/// Whether `holder` is a clawctl process of this host that is no longer running: its
/// lease can be taken over at once instead of after expiry (issue 11: an apply that died
/// with the API server left a lease it could not release). Only where the answer is
/// certain: on a system without /proc, or for a process that still exists (even one
/// that reused the pid), the lease is left to expire.
fn holder_is_dead_here(holder: &str) -> bool {
    let Some((holder_host, pid)) = holder_process(holder) else {
        return false;
    };
    if holder_host != host() || !std::path::Path::new("/proc/self").exists() {
        return false;
    }
    if pid == std::process::id() {
        // This process does not hold it yet: an earlier process had the same id.
        return true;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // A zombie has exited; only its exit status is left for its parent.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "fleet {fleet:?} is locked by {holder} (lock ConfigMap {namespace}/{lease}, renewed {renewed_ago} s ago, \
         expires in {expires_in} s unless renewed); wait for that run to finish, or, if it died, \
         for the lease to expire"
    )]
    Held {
        fleet: String,
        holder: String,
        namespace: String,
        lease: String,
        renewed_ago: i64,
        expires_in: i64,
    },
    #[error("cannot take the fleet lock: {0}")]
    Request(String),
}

/// A held lock. Renewal runs in the background until `release` (or drop, which stops
/// renewing and lets the lease expire).
pub struct Lock {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    renewer: Option<tokio::task::JoinHandle<()>>,
    lost: Arc<AtomicBool>,
    api: Api<ConfigMap>,
    name: String,
    holder: String,
}

impl Lock {
    /// Whether a renewal failed so long that another run may have taken the lock.
    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Stops renewing and clears the holder, so the next run need not wait for expiry.
    pub async fn release(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(renewer) = self.renewer.take() {
            let _ = renewer.await;
        }
        if let Ok(mut config) = self.api.get(&self.name).await {
            let mut lease = Lease::read(&config);
            if holder_of(&lease) == Some(self.holder.as_str()) {
                lease.holder = None;
                lease.renewed = None;
                lease.acquired = None;
                lease.write(&mut config);
                // A failure here is harmless: the lease expires by itself.
                let _ = self
                    .api
                    .replace(&self.name, &PostParams::default(), &config)
                    .await;
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn holder_of(lease: &Lease) -> Option<&str> {
    lease.holder.as_deref().filter(|h| !h.is_empty())
}

/// Seconds until the lease expires (negative: expired), seconds since renewal.
fn expiry(lease: &Lease, now: Timestamp) -> (i64, i64) {
    let renewed = lease
        .renewed
        .or(lease.acquired)
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let ago = now.as_second() - renewed.as_second();
    (lease.duration - ago, ago)
}

/// Takes the fleet's lock in `namespace` (which must exist), or says who holds it. A lease
/// whose holder died on this host is taken over at once, with a note to `progress`.
pub async fn acquire(
    cluster: &Cluster,
    namespace: &str,
    fleet: &str,
    command: &str,
    progress: &dyn super::wait::Progress,
) -> Result<Lock, LockError> {
    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), namespace);
    let name = name(fleet);
    let holder = identity(command);
    let request = |verb| Request {
        verb,
        resource: "configmaps",
        namespace: Some(namespace),
        name: Some(&name),
    };
    let taken = |transitions: i64| Lease {
        holder: Some(holder.clone()),
        duration: DURATION.as_secs() as i64,
        acquired: Some(Timestamp::now()),
        renewed: Some(Timestamp::now()),
        transitions,
    };
    // Two rounds: a lost race on create or replace is read again and reported.
    for _ in 0..2 {
        let current = match super::retry::idempotent(|| api.get_opt(&name)).await {
            Ok(current) => current,
            Err(e) => return Err(LockError::Request(describe(&e, &request("get")))),
        };
        let result = match current {
            None => {
                // Labelled with the fleet only: not one of its objects (never pruned).
                let mut config = ConfigMap {
                    metadata: ObjectMeta {
                        name: Some(name.clone()),
                        namespace: Some(namespace.to_string()),
                        labels: Some(
                            [(crate::names::FLEET_LABEL.to_string(), fleet.to_string())].into(),
                        ),
                        ..ObjectMeta::default()
                    },
                    ..ConfigMap::default()
                };
                taken(0).write(&mut config);
                api.create(&PostParams::default(), &config).await
            }
            Some(mut config) => {
                let lease = Lease::read(&config);
                let (expires_in, renewed_ago) = expiry(&lease, Timestamp::now());
                if let Some(other) = holder_of(&lease)
                    && expires_in > 0
                {
                    if holder_is_dead_here(other) {
                        progress.note(&format!(
                            "taking over the fleet lock from {other}: that process is no longer \
                             running on this host"
                        ));
                    } else {
                        return Err(LockError::Held {
                            fleet: fleet.to_string(),
                            holder: other.to_string(),
                            namespace: namespace.to_string(),
                            lease: name,
                            renewed_ago,
                            expires_in,
                        });
                    }
                }
                taken(lease.transitions + 1).write(&mut config);
                // Carries the resourceVersion read above: a concurrent taker makes this 409.
                api.replace(&name, &PostParams::default(), &config).await
            }
        };
        match result {
            Ok(_) => {
                let lost = Arc::new(AtomicBool::new(false));
                let (stop, stopped) = tokio::sync::oneshot::channel();
                let renewer = tokio::spawn(renew(
                    api.clone(),
                    name.clone(),
                    holder.clone(),
                    lost.clone(),
                    stopped,
                ));
                return Ok(Lock {
                    stop: Some(stop),
                    renewer: Some(renewer),
                    lost,
                    api,
                    name,
                    holder,
                });
            }
            Err(kube::Error::Api(status)) if status.code == 409 => continue,
            Err(e) => return Err(LockError::Request(describe(&e, &request("update")))),
        }
    }
    Err(LockError::Request(format!(
        "the lock ConfigMap {namespace}/{name} kept changing while clawctl tried to take it"
    )))
}

/// Renews every third of the duration; after a full duration without success the lock
/// counts as lost.
async fn renew(
    api: Api<ConfigMap>,
    name: String,
    holder: String,
    lost: Arc<AtomicBool>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let period = DURATION / 3;
    let mut last_renewal = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            _ = tokio::time::sleep(period) => {}
        }
        let renewed = async {
            let mut config = api.get(&name).await.ok()?;
            let mut lease = Lease::read(&config);
            if holder_of(&lease) != Some(holder.as_str()) {
                return None;
            }
            lease.renewed = Some(Timestamp::now());
            lease.write(&mut config);
            api.replace(&name, &PostParams::default(), &config)
                .await
                .ok()
        }
        .await;
        if renewed.is_some() {
            last_renewal = tokio::time::Instant::now();
        } else if last_renewal.elapsed() >= DURATION {
            lost.store(true, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(holder: Option<&str>, renewed_secs_ago: i64, duration: i64) -> Lease {
        let now = Timestamp::now();
        Lease {
            holder: holder.map(str::to_string),
            duration,
            renewed: Some(
                Timestamp::from_second(now.as_second() - renewed_secs_ago).expect("valid time"),
            ),
            ..Lease::default()
        }
    }

    #[test]
    fn a_lease_round_trips_through_the_configmap() {
        let mut config = ConfigMap::default();
        let lease = Lease {
            holder: Some("me".into()),
            duration: 30,
            acquired: Some(Timestamp::from_second(1_700_000_000).expect("time")),
            renewed: Some(Timestamp::from_second(1_700_000_010).expect("time")),
            transitions: 3,
        };
        lease.write(&mut config);
        assert_eq!(Lease::read(&config), lease);
        // An empty or hand-written ConfigMap reads as a free lock.
        assert_eq!(holder_of(&Lease::read(&ConfigMap::default())), None);
    }

    #[test]
    fn expiry_counts_from_the_last_renewal() {
        let now = Timestamp::now();
        assert_eq!(expiry(&lease(Some("a"), 10, 30), now), (20, 10));
        assert!(expiry(&lease(Some("a"), 31, 30), now).0 < 0);
        assert_eq!(holder_of(&lease(Some(""), 0, 30)), None);
        assert_eq!(holder_of(&lease(Some("me"), 0, 30)), Some("me"));
    }

    #[test]
    fn identity_names_the_command_and_process() {
        let id = identity("apply");
        assert!(id.contains("(clawctl apply)"), "{id}");
        assert!(id.contains(&format!("pid {}", std::process::id())), "{id}");
        assert_eq!(
            holder_process(&id),
            Some((host().as_str(), std::process::id()))
        );
        assert_eq!(holder_process("someone else"), None);
    }

    #[test]
    fn only_a_dead_process_of_this_host_gives_up_its_lease_early() {
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let dead = child.id();
        child.wait().expect("wait");
        let here = |pid: u32| format!("me@{} pid {pid} (clawctl apply)", host());
        assert!(holder_is_dead_here(&here(dead)));
        // The parent of this test is alive.
        assert!(!holder_is_dead_here(&here(
            std::os::unix::process::parent_id()
        )));
        // Another host's process cannot be checked from here.
        assert!(!holder_is_dead_here(&format!(
            "me@not-{} pid {dead} (clawctl apply)",
            host()
        )));
        assert!(!holder_is_dead_here("written by hand"));
    }
}
