//! Per-person safety between a front door and a gateway: one message in flight per
//! person (later ones wait, in order of arrival, up to a bounded queue), a token-bucket
//! rate limit per person, a maximum message size, a timeout per forward, and duplicate
//! deliveries (the same delivery id from the same person within a bounded window)
//! recognised so they are never answered twice.
//!
//! Time is tokio's, so the tests run on paused time.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

/// The limits, one set for everyone.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Longest message text, in bytes of UTF-8.
    pub max_message_bytes: usize,
    /// Messages a person may send at once before the rate applies (the bucket's size).
    pub burst: u32,
    /// Messages per minute a person's bucket refills with; 0 turns the limit off.
    pub per_minute: u32,
    /// Messages that may wait behind the one in flight, per person.
    pub queue_depth: usize,
    /// Longest wait for one forward (token, gateway, answer).
    pub timeout: Duration,
    /// How long a delivery id is remembered.
    pub dedup_window: Duration,
    /// How many delivery ids are remembered at most (oldest forgotten first).
    pub dedup_capacity: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 16 * 1024,
            burst: 5,
            per_minute: 20,
            queue_depth: 5,
            timeout: Duration::from_secs(300),
            dedup_window: Duration::from_secs(600),
            dedup_capacity: 100_000,
        }
    }
}

/// What became of a message given to [`Inbox::run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<T> {
    /// It was forwarded; this is what the forward returned.
    Done(T),
    /// The person's bucket is empty.
    RateLimited,
    /// The person already has `queue_depth` messages waiting.
    Busy,
    /// The forward took longer than the timeout and was dropped.
    TimedOut,
}

/// The per-person state of every person with a message around, and the delivery ids
/// seen lately.
pub struct Inbox {
    limits: Limits,
    people: Mutex<People>,
    seen: Mutex<Seen>,
}

struct People {
    map: HashMap<String, Arc<Person>>,
    swept: Instant,
}

struct Person {
    /// Held while a message of this person is forwarded. tokio's Mutex is fair: waiters
    /// get it in the order they asked, so a person's messages are answered in order.
    lane: tokio::sync::Mutex<()>,
    state: Mutex<Bucket>,
}

struct Bucket {
    tokens: f64,
    refilled: Instant,
    /// Messages admitted and not finished (in flight and waiting).
    admitted: usize,
}

impl Bucket {
    fn refill(&mut self, limits: &Limits, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        let rate = f64::from(limits.per_minute) / 60.0;
        self.tokens = (self.tokens + elapsed * rate).min(f64::from(limits.burst.max(1)));
        self.refilled = now;
    }

    fn idle_and_full(&mut self, limits: &Limits, now: Instant) -> bool {
        self.refill(limits, now);
        self.admitted == 0 && self.tokens >= f64::from(limits.burst.max(1))
    }
}

/// Delivery ids in order of arrival, for a bounded window and a bounded count.
struct Seen {
    order: VecDeque<(Instant, String)>,
    keys: HashSet<String>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Gives back a person's admission when the message is done, answered or not (a front
/// door that goes away drops the future mid-way).
struct Admitted<'a> {
    person: &'a Person,
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        let mut b = lock(&self.person.state);
        b.admitted = b.admitted.saturating_sub(1);
    }
}

impl Inbox {
    pub fn new(limits: Limits) -> Inbox {
        Inbox {
            limits,
            people: Mutex::new(People {
                map: HashMap::new(),
                swept: Instant::now(),
            }),
            seen: Mutex::new(Seen {
                order: VecDeque::new(),
                keys: HashSet::new(),
            }),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Whether `text` is longer than allowed.
    pub fn too_long(&self, text: &str) -> bool {
        text.len() > self.limits.max_message_bytes
    }

    /// Records `person`'s delivery `delivery`; false when it was seen within the window,
    /// so the caller answers nothing. Keyed by person too: one person's delivery ids
    /// (chosen by an HTTP client) cannot silence another's. An empty id is never a
    /// duplicate.
    pub fn first_delivery(&self, person: &str, delivery: &str) -> bool {
        if delivery.is_empty() {
            return true;
        }
        let now = Instant::now();
        let key = format!("{person}\0{delivery}");
        let mut seen = lock(&self.seen);
        while let Some((at, _)) = seen.order.front() {
            let expired = now.saturating_duration_since(*at) >= self.limits.dedup_window;
            if !expired && seen.order.len() < self.limits.dedup_capacity.max(1) {
                break;
            }
            if let Some((_, old)) = seen.order.pop_front() {
                seen.keys.remove(&old);
            }
        }
        if seen.keys.contains(&key) {
            return false;
        }
        seen.keys.insert(key.clone());
        seen.order.push_back((now, key));
        true
    }

    fn person(&self, who: &str) -> Arc<Person> {
        let now = Instant::now();
        let mut people = lock(&self.people);
        // Forget people with nothing in flight and a full bucket (forgetting them
        // changes nothing), at most once a minute, so the map holds active people only.
        if now.saturating_duration_since(people.swept) >= Duration::from_secs(60) {
            people.swept = now;
            let limits = &self.limits;
            people.map.retain(|_, p| {
                Arc::strong_count(p) > 1 || !lock(&p.state).idle_and_full(limits, now)
            });
        }
        people
            .map
            .entry(who.to_string())
            .or_insert_with(|| {
                Arc::new(Person {
                    lane: tokio::sync::Mutex::new(()),
                    state: Mutex::new(Bucket {
                        tokens: f64::from(self.limits.burst.max(1)),
                        refilled: now,
                        admitted: 0,
                    }),
                })
            })
            .clone()
    }

    /// Runs `forward` for `person` once it is their turn, within the timeout, unless
    /// they are over their rate or their queue is full.
    pub async fn run<F, Fut, T>(&self, person: &str, forward: F) -> Outcome<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        self.run_prepared(person, async { Ok(()) }, |()| forward())
            .await
    }

    /// As [`Inbox::run`], with `prepare` run first in the person's turn and outside the
    /// timeout (waking the agent has a bound of its own); what it gives goes to
    /// `forward`, and an `Err` from it is the outcome without a forward.
    pub async fn run_prepared<P, Pre, F, Fut, T>(
        &self,
        person: &str,
        prepare: Pre,
        forward: F,
    ) -> Outcome<T>
    where
        Pre: Future<Output = Result<P, T>>,
        F: FnOnce(P) -> Fut,
        Fut: Future<Output = T>,
    {
        let p = self.person(person);
        {
            let mut b = lock(&p.state);
            b.refill(&self.limits, Instant::now());
            if b.admitted > self.limits.queue_depth {
                return Outcome::Busy;
            }
            if self.limits.per_minute > 0 {
                if b.tokens < 1.0 {
                    return Outcome::RateLimited;
                }
                b.tokens -= 1.0;
            }
            b.admitted += 1;
        }
        let _admitted = Admitted { person: &p };
        let _turn = p.lane.lock().await;
        let prepared = match prepare.await {
            Ok(prepared) => prepared,
            Err(done) => return Outcome::Done(done),
        };
        match tokio::time::timeout(self.limits.timeout, forward(prepared)).await {
            Ok(v) => Outcome::Done(v),
            Err(_) => Outcome::TimedOut,
        }
    }

    /// People currently held (for the benchmark and tests).
    pub fn people(&self) -> usize {
        lock(&self.people).map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tokio::time::sleep;

    fn limits() -> Limits {
        Limits {
            max_message_bytes: 10,
            burst: 100,
            per_minute: 6000,
            queue_depth: 10,
            timeout: Duration::from_secs(30),
            dedup_window: Duration::from_secs(60),
            dedup_capacity: 3,
        }
    }

    type Log = Arc<Mutex<Vec<String>>>;

    async fn slow(log: Log, name: &'static str, secs: u64) -> &'static str {
        lock(&log).push(format!("start {name}"));
        sleep(Duration::from_secs(secs)).await;
        lock(&log).push(format!("end {name}"));
        name
    }

    #[tokio::test(start_paused = true)]
    async fn one_message_in_flight_per_person_and_in_order() {
        let inbox = Arc::new(Inbox::new(limits()));
        let log: Log = Arc::default();
        let mut handles = Vec::new();
        for name in ["m1", "m2", "m3"] {
            let (inbox, log) = (inbox.clone(), log.clone());
            handles.push(tokio::spawn(async move {
                inbox.run("alice", || slow(log, name, 5)).await
            }));
            // Arrival order is the spawn order.
            tokio::task::yield_now().await;
        }
        let started = Instant::now();
        for (h, name) in handles.into_iter().zip(["m1", "m2", "m3"]) {
            assert_eq!(h.await.expect("task"), Outcome::Done(name));
        }
        assert_eq!(
            *lock(&log),
            [
                "start m1", "end m1", "start m2", "end m2", "start m3", "end m3"
            ]
        );
        assert_eq!(started.elapsed(), Duration::from_secs(15));
    }

    #[tokio::test(start_paused = true)]
    async fn two_people_do_not_wait_for_each_other() {
        let inbox = Arc::new(Inbox::new(limits()));
        let log: Log = Arc::default();
        let started = Instant::now();
        let (a, b) = tokio::join!(
            inbox.run("alice", || slow(log.clone(), "a", 5)),
            inbox.run("bob", || slow(log.clone(), "b", 5)),
        );
        assert_eq!((a, b), (Outcome::Done("a"), Outcome::Done("b")));
        assert_eq!(started.elapsed(), Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_limit_is_a_token_bucket_per_person() {
        let inbox = Inbox::new(Limits {
            burst: 2,
            per_minute: 6, // one every 10 s
            ..limits()
        });
        let quick = || async { "ok" };
        assert_eq!(inbox.run("alice", quick).await, Outcome::Done("ok"));
        assert_eq!(inbox.run("alice", quick).await, Outcome::Done("ok"));
        assert_eq!(inbox.run("alice", quick).await, Outcome::RateLimited);
        // Another person has a bucket of their own.
        assert_eq!(inbox.run("bob", quick).await, Outcome::Done("ok"));
        sleep(Duration::from_secs(9)).await;
        assert_eq!(inbox.run("alice", quick).await, Outcome::RateLimited);
        sleep(Duration::from_secs(1)).await;
        assert_eq!(inbox.run("alice", quick).await, Outcome::Done("ok"));
        assert_eq!(inbox.run("alice", quick).await, Outcome::RateLimited);
        // The bucket never holds more than the burst.
        sleep(Duration::from_secs(3600)).await;
        for _ in 0..2 {
            assert_eq!(inbox.run("alice", quick).await, Outcome::Done("ok"));
        }
        assert_eq!(inbox.run("alice", quick).await, Outcome::RateLimited);
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_queue_is_busy() {
        let inbox = Arc::new(Inbox::new(Limits {
            queue_depth: 1,
            ..limits()
        }));
        let log: Log = Arc::default();
        let first = tokio::spawn({
            let (inbox, log) = (inbox.clone(), log.clone());
            async move { inbox.run("alice", || slow(log, "m1", 5)).await }
        });
        tokio::task::yield_now().await;
        let second = tokio::spawn({
            let (inbox, log) = (inbox.clone(), log.clone());
            async move { inbox.run("alice", || slow(log, "m2", 5)).await }
        });
        tokio::task::yield_now().await;
        assert_eq!(
            inbox.run("alice", || slow(log.clone(), "m3", 5)).await,
            Outcome::Busy
        );
        assert_eq!(first.await.expect("task"), Outcome::Done("m1"));
        assert_eq!(second.await.expect("task"), Outcome::Done("m2"));
        // Room again once they are answered.
        assert_eq!(
            inbox.run("alice", || slow(log.clone(), "m4", 1)).await,
            Outcome::Done("m4")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_forward_past_the_timeout_is_dropped_and_the_next_one_goes() {
        let inbox = Arc::new(Inbox::new(limits()));
        let log: Log = Arc::default();
        let stuck = tokio::spawn({
            let (inbox, log) = (inbox.clone(), log.clone());
            async move { inbox.run("alice", || slow(log, "stuck", 3600)).await }
        });
        tokio::task::yield_now().await;
        let started = Instant::now();
        let next = inbox.run("alice", || slow(log.clone(), "next", 1)).await;
        assert_eq!(stuck.await.expect("task"), Outcome::TimedOut);
        assert_eq!(next, Outcome::Done("next"));
        assert_eq!(started.elapsed(), Duration::from_secs(31));
        // The stuck forward was dropped, not left running.
        assert_eq!(*lock(&log), ["start stuck", "start next", "end next"]);
    }

    #[tokio::test(start_paused = true)]
    async fn preparing_is_in_the_turn_but_outside_the_timeout() {
        let inbox = Arc::new(Inbox::new(limits()));
        let log: Log = Arc::default();
        // A preparation longer than the timeout (30 s) does not time the message out.
        let first = tokio::spawn({
            let (inbox, log) = (inbox.clone(), log.clone());
            async move {
                inbox
                    .run_prepared(
                        "alice",
                        async {
                            slow(log.clone(), "wake", 40).await;
                            Ok(7)
                        },
                        |n| async move { n + 1 },
                    )
                    .await
            }
        });
        tokio::task::yield_now().await;
        // The next message of the same person waits for it, as for any forward.
        let second = inbox.run("alice", || slow(log.clone(), "m2", 1)).await;
        assert_eq!(first.await.expect("task"), Outcome::Done(8));
        assert_eq!(second, Outcome::Done("m2"));
        assert_eq!(
            *lock(&log),
            ["start wake", "end wake", "start m2", "end m2"]
        );
        // A preparation that says no is the outcome, and nothing is forwarded.
        let refused = inbox
            .run_prepared("bob", async { Err::<(), _>("no") }, |()| async {
                "forwarded"
            })
            .await;
        assert_eq!(refused, Outcome::Done("no"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_delivery_is_first_once_within_the_window() {
        let inbox = Inbox::new(limits());
        assert!(inbox.first_delivery("alice", "ev1"));
        assert!(!inbox.first_delivery("alice", "ev1"));
        // Another person's delivery with the same id is theirs.
        assert!(inbox.first_delivery("bob", "ev1"));
        assert!(inbox.first_delivery("alice", ""));
        assert!(inbox.first_delivery("alice", ""));
        sleep(Duration::from_secs(59)).await;
        assert!(!inbox.first_delivery("alice", "ev1"));
        sleep(Duration::from_secs(1)).await;
        assert!(inbox.first_delivery("alice", "ev1"));
    }

    #[tokio::test(start_paused = true)]
    async fn remembered_deliveries_are_bounded() {
        let inbox = Inbox::new(limits()); // capacity 3
        for id in ["a", "b", "c", "d"] {
            assert!(inbox.first_delivery("alice", id));
        }
        let seen = lock(&inbox.seen);
        assert!(seen.order.len() <= 3 && seen.keys.len() == seen.order.len());
        drop(seen);
        assert!(!inbox.first_delivery("alice", "d"));
        // The oldest went first.
        assert!(inbox.first_delivery("alice", "a"));
    }

    #[tokio::test(start_paused = true)]
    async fn idle_people_are_forgotten_without_resetting_their_rate() {
        let inbox = Inbox::new(Limits {
            burst: 2,
            per_minute: 1,
            ..limits()
        });
        let quick = || async {};
        assert_eq!(inbox.run("alice", quick).await, Outcome::Done(()));
        assert_eq!(inbox.run("alice", quick).await, Outcome::Done(()));
        // A minute on, alice's bucket is half full: she is kept (forgetting her would
        // refill it).
        sleep(Duration::from_secs(61)).await;
        assert_eq!(inbox.run("bob", quick).await, Outcome::Done(()));
        assert_eq!(inbox.people(), 2);
        assert_eq!(inbox.run("alice", quick).await, Outcome::Done(()));
        assert_eq!(inbox.run("alice", quick).await, Outcome::RateLimited);
        sleep(Duration::from_secs(150)).await;
        assert_eq!(inbox.run("carol", quick).await, Outcome::Done(()));
        // alice and bob are full again and idle: forgotten.
        assert_eq!(inbox.people(), 1);
    }
}
