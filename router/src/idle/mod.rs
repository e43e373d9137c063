//! Wake on message, sleep when idle (`routing.router.idleAfter`): an agent's Deployment
//! that had no message for `idle_after` is scaled to zero, and the next message wakes it.
//!
//! - Activity is tracked per Deployment, not per person: the agents of a multi-agent
//!   gateway share one Deployment, which sleeps only when none of them had a message.
//!   The router's start counts as activity, and a Deployment with a message in the
//!   router's hands (waiting, waking or being answered) is never idle.
//! - Sleeping: one task ([`Idle::sleep_idle`]) wakes up at the earliest deadline, reads
//!   each due Deployment fresh and scales it to zero only if it is meant to run
//!   ([`live::Standing::may_sleep`]): never one suspended (`clawctl suspend`, the fleet
//!   file) nor one at zero replicas by someone else. A Deployment it looked at is looked
//!   at again `idle_after` later, so one resumed by hand goes back to sleep in time.
//! - Waking ([`Idle::admit`], before a message is forwarded, in the person's turn): a
//!   Deployment asleep gets the waking notice at once, then one wake (an empty
//!   configuration as `clawctl-router`, see `api`), then the watch of that Deployment is
//!   followed until a replica is ready, all within the wake timeout. A per-Deployment
//!   lock makes concurrent messages (one person's, or different people's of one gateway)
//!   share that wake: the first wakes, the others see a wake under way, get the notice
//!   too and wait for the same readiness. A suspended or stopped agent is never woken:
//!   the message gets the suspended notice.
//! - A Deployment is watched (by name) from its first message until no route names it,
//!   as token Secrets are.
//!
//! Time is tokio's.

pub mod api;
pub mod live;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::StreamExt;
use kube::Client;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use self::api::View;
use self::live::Standing;
use crate::routes::DeploymentRef;
use crate::{debug, info, warn};

/// How sleeping and waking behave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// A Deployment without a message this long is put to sleep.
    pub idle_after: Duration,
    /// The longest a message waits for its agent to wake.
    pub wake_timeout: Duration,
}

/// How long a message waits for its Deployment's first read (a new watch's list) before
/// it is forwarded as if the agent were awake: a router that cannot read Deployments
/// (RBAC without `idleAfter`'s rule) still answers, and says why in its log.
const FIRST_READ: Duration = Duration::from_secs(10);

/// How many due Deployments are read and put to sleep at once.
const SLEEP_CONCURRENCY: usize = 4;

/// How long putting one to sleep waits for its watch (when it has one) to see it, so a
/// message that comes right after finds it asleep rather than running.
const SLEEP_SEEN: Duration = Duration::from_secs(5);

/// What a message may do once [`Idle::admit`] looked at its Deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Forward it. `woke`: its agent was just woken (or waited for), so its Service may
    /// take a moment to route to the new pod.
    Go { woke: bool },
    /// Suspended, or stopped by someone else: not woken.
    Suspended,
    /// Not awake within the wake timeout.
    WakeTimedOut,
    /// The wake could not be asked for (an API error, said in the log).
    Unavailable,
}

/// Sleep and wake for every routed Deployment, or nothing (`Idle::off`). Cheap to clone.
#[derive(Clone, Default)]
pub struct Idle {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    client: Client,
    settings: Settings,
    tracked: Mutex<HashMap<DeploymentRef, Arc<Tracked>>>,
}

/// One Deployment's activity and live view.
struct Tracked {
    /// The last activity: the router's start, a message's arrival or end, or a look.
    last: Mutex<Instant>,
    /// Messages in the router's hands now.
    in_flight: AtomicUsize,
    /// A wake is under way.
    waking: AtomicBool,
    /// Held while deciding and sleeping or waking: one at a time per Deployment.
    op: tokio::sync::Mutex<()>,
    /// Its watch, from its first message on.
    view: Mutex<Option<(watch::Receiver<View>, JoinHandle<()>)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Tracked {
    fn new() -> Tracked {
        Tracked {
            last: Mutex::new(Instant::now()),
            in_flight: AtomicUsize::new(0),
            waking: AtomicBool::new(false),
            op: tokio::sync::Mutex::new(()),
            view: Mutex::new(None),
        }
    }

    fn touch(&self) {
        *lock(&self.last) = Instant::now();
    }

    /// Its watch's view, starting the watch on first use.
    fn view(&self, client: &Client, d: &DeploymentRef) -> watch::Receiver<View> {
        let mut view = lock(&self.view);
        if let Some((rx, _)) = view.as_ref() {
            return rx.clone();
        }
        let (tx, rx) = watch::channel(None);
        let task = tokio::spawn(api::watch(client.clone(), d.clone(), tx));
        *view = Some((rx.clone(), task));
        rx
    }

    /// Its watch's view, if it is watched.
    fn watched(&self) -> Option<watch::Receiver<View>> {
        lock(&self.view).as_ref().map(|(rx, _)| rx.clone())
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let view = self.view.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some((_, task)) = view.take() {
            task.abort();
        }
    }
}

/// Held while a message for a Deployment is in the router's hands: it is not idle then,
/// and its end counts as activity.
pub struct Activity {
    tracked: Option<Arc<Tracked>>,
}

impl Activity {
    fn start(tracked: Option<Arc<Tracked>>) -> Activity {
        if let Some(t) = &tracked {
            t.in_flight.fetch_add(1, Ordering::SeqCst);
            t.touch();
        }
        Activity { tracked }
    }
}

impl Drop for Activity {
    fn drop(&mut self) {
        if let Some(t) = &self.tracked {
            t.touch();
            t.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Sets a Deployment's `waking` for as long as it lives (a timed-out wake is dropped
/// mid-way).
struct Waking<'a>(&'a Tracked);

impl<'a> Waking<'a> {
    fn start(t: &'a Tracked) -> Waking<'a> {
        t.waking.store(true, Ordering::SeqCst);
        Waking(t)
    }
}

impl Drop for Waking<'_> {
    fn drop(&mut self) {
        self.0.waking.store(false, Ordering::SeqCst);
    }
}

impl Idle {
    /// Agents never sleep and messages are never held (no `idleAfter`).
    pub fn off() -> Idle {
        Idle::default()
    }

    /// Sleep and wake through `client`.
    pub fn new(client: Client, settings: Settings) -> Idle {
        Idle {
            inner: Some(Arc::new(Inner {
                client,
                settings,
                tracked: Mutex::new(HashMap::new()),
            })),
        }
    }

    /// Tracks exactly these Deployments (the routing table's): a new one starts with
    /// activity now, one no route names any more is forgotten and its watch stopped.
    pub fn follow(&self, deployments: &BTreeSet<DeploymentRef>) {
        let Some(inner) = &self.inner else { return };
        let mut tracked = lock(&inner.tracked);
        tracked.retain(|d, _| deployments.contains(d));
        for d in deployments {
            tracked
                .entry(d.clone())
                .or_insert_with(|| Arc::new(Tracked::new()));
        }
    }

    /// Before a message for `deployment` is forwarded: marks the activity (held until the
    /// returned [`Activity`] is dropped, after the answer) and wakes the Deployment if it
    /// sleeps, calling `waking` at once when the person has to wait for a wake. Without a
    /// Deployment (or with sleeping off) it is always [`Gate::Go`].
    pub async fn admit(
        &self,
        deployment: Option<&DeploymentRef>,
        waking: impl FnOnce(),
    ) -> (Activity, Gate) {
        let (Some(inner), Some(d)) = (&self.inner, deployment) else {
            return (Activity::start(None), Gate::Go { woke: false });
        };
        let tracked = {
            let mut map = lock(&inner.tracked);
            // A route newer than the table the tracker followed: tracked from now.
            map.entry(d.clone())
                .or_insert_with(|| Arc::new(Tracked::new()))
                .clone()
        };
        let activity = Activity::start(Some(tracked.clone()));
        let timeout = inner.settings.wake_timeout;
        let gate = match tokio::time::timeout(timeout, inner.admit(d, &tracked, waking)).await {
            Ok(gate) => gate,
            Err(_) => {
                warn!(
                    "Deployment {d}: not awake within {} s",
                    timeout.as_secs_f64()
                );
                Gate::WakeTimedOut
            }
        };
        (activity, gate)
    }

    /// Puts Deployments idle past `idle_after` to sleep, for as long as it runs (never
    /// returns; with sleeping off it only waits).
    pub async fn sleep_idle(self) {
        let Some(inner) = self.inner else {
            return std::future::pending().await;
        };
        let idle_after = inner.settings.idle_after;
        loop {
            let now = Instant::now();
            let mut next = now + idle_after;
            let mut due = Vec::new();
            for (d, t) in lock(&inner.tracked).iter() {
                // One with a message in hand is looked at again once that is done.
                if t.in_flight.load(Ordering::SeqCst) > 0 {
                    continue;
                }
                let deadline = *lock(&t.last) + idle_after;
                if deadline <= now {
                    due.push((d.clone(), t.clone()));
                } else {
                    next = next.min(deadline);
                }
            }
            if due.is_empty() {
                tokio::time::sleep_until(next).await;
                continue;
            }
            futures::stream::iter(due)
                .for_each_concurrent(SLEEP_CONCURRENCY, |(d, t)| {
                    let inner = inner.clone();
                    async move { inner.sleep_one(&d, &t).await }
                })
                .await;
        }
    }
}

impl Inner {
    async fn admit(&self, d: &DeploymentRef, t: &Tracked, waking: impl FnOnce()) -> Gate {
        let mut rx = t.view(&self.client, d);
        match tokio::time::timeout(FIRST_READ, rx.wait_for(Option::is_some)).await {
            Ok(Ok(_)) => {}
            Ok(Err(_)) => return Gate::Unavailable,
            Err(_) => {
                warn!(
                    "Deployment {d}: not read within {FIRST_READ:?}, forwarding without waking it"
                );
                return Gate::Go { woke: false };
            }
        }
        let mut waking = Some(waking);
        let mut notice = || {
            if let Some(say) = waking.take() {
                say();
            }
        };
        // Asleep, or someone else's wake under way: this message waits for a wake (the
        // one it asks for under the lock, or the one it queues behind).
        let joined = t.waking.load(Ordering::SeqCst) || *rx.borrow() == Some(Standing::Asleep);
        if joined {
            notice();
        }
        let _op = t.op.lock().await;
        let standing = (*rx.borrow()).unwrap_or(Standing::Missing);
        match standing {
            Standing::Suspended | Standing::Stopped => {
                info!("Deployment {d}: {standing:?}, not woken");
                Gate::Suspended
            }
            Standing::Asleep => {
                notice();
                let _waking = Waking::start(t);
                info!("Deployment {d}: waking");
                if let Err(e) = api::wake(&self.client, d).await {
                    warn!("{e}");
                    return Gate::Unavailable;
                }
                awake(&mut rx, d).await
            }
            Standing::Running { ready: false } if joined => awake(&mut rx, d).await,
            // Running (or missing: the forward says so).
            _ => Gate::Go { woke: joined },
        }
    }

    /// Looks at one due Deployment and puts it to sleep if it is meant to run and no
    /// message came in meanwhile.
    async fn sleep_one(&self, d: &DeploymentRef, t: &Tracked) {
        let _op = t.op.lock().await;
        let idle_after = self.settings.idle_after;
        let quiet = t.in_flight.load(Ordering::SeqCst) == 0
            && *lock(&t.last) + idle_after <= Instant::now();
        if quiet {
            match api::get(&self.client, d).await {
                Err(e) => warn!("{e}"),
                Ok(live) => {
                    let standing = Standing::of(live.as_ref());
                    // Read again: the GET took a moment.
                    if !standing.may_sleep() || t.in_flight.load(Ordering::SeqCst) > 0 {
                        debug!("Deployment {d}: {standing:?}, not put to sleep");
                    } else {
                        let since = format!("{:.0}", k8s_openapi::jiff::Timestamp::now());
                        match api::sleep(&self.client, d, &since).await {
                            Err(e) => warn!("{e}"),
                            Ok(()) => {
                                info!(
                                    "Deployment {d}: no message for {} s, put to sleep",
                                    idle_after.as_secs_f64()
                                );
                                if let Some(mut rx) = t.watched() {
                                    let seen = rx.wait_for(|v| *v == Some(Standing::Asleep));
                                    let _ = tokio::time::timeout(SLEEP_SEEN, seen).await;
                                }
                            }
                        }
                    }
                }
            }
        }
        t.touch();
    }
}

/// Waits until the watch sees a ready replica of the current spec.
async fn awake(rx: &mut watch::Receiver<View>, d: &DeploymentRef) -> Gate {
    match rx.wait_for(|v| v.is_some_and(Standing::awake)).await {
        Ok(_) => {
            info!("Deployment {d}: awake");
            Gate::Go { woke: true }
        }
        Err(_) => Gate::Unavailable,
    }
}
