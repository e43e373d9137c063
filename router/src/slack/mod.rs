//! The Slack front door: one Slack app over Socket Mode (no public ingress), DMs and
//! mentions acknowledged at once, dispatched, and answered in the same conversation or
//! thread with `chat.postMessage`.
//!
//! - `config`: tokens (never shown) and knobs, from the environment;
//! - `socket`: one Socket Mode connection, acknowledging every envelope on arrival;
//! - `protocol`: the frames and events, and which ones are answered where (pure);
//! - `dedupe`: the window of event ids already seen;
//! - `split`: long answers cut into Slack-sized messages (pure);
//! - `web`: `apps.connections.open` and `chat.postMessage`, with `429` handling;
//! - here: the supervisor that keeps a connection up, replaces it when Slack asks, and
//!   runs each message's dispatch on its own task so the sockets keep acknowledging.
//!
//! Reconnection follows Slack's guidance: connections "refresh regularly", Slack sends a
//! `disconnect` (`warning` about ten seconds before, or `refresh_requested`) and an app
//! may hold up to ten connections, any of which may carry any payload
//! (https://docs.slack.dev/apis/events-api/using-socket-mode#disconnect). So on
//! `disconnect` a new connection is opened while the old one keeps reading until Slack
//! closes it; an event Slack re-sends on the new one is caught by the event-id window.

mod config;
mod dedupe;
mod protocol;
mod socket;
mod split;
mod web;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::message::{Dispatch, Interim, Reply};

pub use config::{API_URL_VAR, APP_TOKEN_VAR, BOT_TOKEN_VAR, DEFAULT_API_URL, SlackConfig, Token};
pub use split::{MESSAGE_LIMIT, split_message};

use protocol::{Incoming, classify, escape};
use socket::{ConnEvent, Link, connection};
use web::WebApi;

/// Serves Slack until `shutdown` is cancelled, then closes the sockets and lets answers
/// already being prepared finish for up to `config.drain_timeout`.
///
/// Returns an error only for what no retry can fix: a TLS setup failure, or Slack
/// refusing a token (`invalid_auth`, `not_allowed_token_type`, ...). Network failures
/// and refreshes are retried with backoff, forever.
pub async fn run(
    config: SlackConfig,
    dispatch: Arc<impl Dispatch>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let tls = web::tls_config()?;
    let web = Arc::new(WebApi::new(&config, tls.clone())?);
    let (events, mut inbox) = mpsc::channel(1024);
    let link = Link {
        web: web.clone(),
        tls,
        ping_interval: config.ping_interval,
        request_timeout: config.request_timeout,
        events,
    };
    let mut door = Door {
        link,
        connections: HashMap::new(),
        current: 0,
        next: 0,
        backoff: config.min_backoff,
    };
    let mut seen = dedupe::Seen::new(config.dedupe_window, config.dedupe_capacity);
    let slots = Arc::new(Semaphore::new(config.max_in_flight.max(1)));
    let mut answers = JoinSet::new();

    door.open(Duration::ZERO);
    let outcome = loop {
        tokio::select! {
            _ = shutdown.cancelled() => break Ok(()),
            Some(joined) = answers.join_next(), if !answers.is_empty() => {
                if let Err(e) = joined {
                    tracing::error!(error = %e, "slack: an answer task failed");
                }
            }
            Some(event) = inbox.recv() => match event {
                ConnEvent::Hello { conn, lifetime } => {
                    tracing::info!(
                        conn,
                        lifetime_secs = lifetime.map(|l| l.as_secs()),
                        open = door.connections.len(),
                        "slack: connected"
                    );
                    if conn == door.current {
                        door.backoff = config.min_backoff;
                    }
                }
                ConnEvent::Disconnect { conn, reason } => {
                    tracing::info!(conn, reason, "slack: asked to reconnect; opening a new connection first");
                    if conn == door.current {
                        door.open(Duration::ZERO);
                    }
                }
                ConnEvent::Closed {
                    conn,
                    error,
                    fatal,
                    retry_after,
                } => {
                    door.connections.remove(&conn);
                    if fatal {
                        break Err(anyhow::anyhow!(
                            "slack: {}",
                            error.unwrap_or_else(|| "refused".to_string())
                        ));
                    }
                    match &error {
                        Some(error) => tracing::warn!(conn, error, "slack: connection lost"),
                        None => tracing::info!(conn, "slack: connection closed"),
                    }
                    if conn == door.current {
                        // Backoff, or longer if Slack said how long (`429` on
                        // apps.connections.open).
                        let delay = door.backoff.max(retry_after.unwrap_or_default());
                        door.backoff = (door.backoff * 2).min(config.max_backoff);
                        door.open(delay);
                    }
                }
                ConnEvent::Command { conn, payload } => {
                    if let Some((from, target)) = protocol::setup_command(&payload) {
                        tracing::info!(conn, from = from.key(), "slack: /setup-agent");
                        answers.spawn(setup(dispatch.clone(), web.clone(), from, target));
                    } else {
                        tracing::debug!(conn, "slack: slash command not answered");
                    }
                }
                ConnEvent::Event { conn, payload, retry_attempt, retry_reason } => {
                    if let Some(incoming) = admit(&mut seen, conn, &payload, retry_attempt, retry_reason) {
                        answers.spawn(answer(dispatch.clone(), web.clone(), slots.clone(), incoming));
                    }
                }
            },
        }
    };

    // Stop taking events; dispatch those already acknowledged (Slack will not send them
    // again), then give the answers under way a bounded time to be posted.
    for close in door.connections.values() {
        close.cancel();
    }
    drop(door);
    let drained = tokio::time::timeout(config.drain_timeout, async {
        while let Some(event) = inbox.recv().await {
            if let ConnEvent::Event {
                conn,
                payload,
                retry_attempt,
                retry_reason,
            } = event
                && let Some(incoming) =
                    admit(&mut seen, conn, &payload, retry_attempt, retry_reason)
            {
                answers.spawn(answer(
                    dispatch.clone(),
                    web.clone(),
                    slots.clone(),
                    incoming,
                ));
            }
        }
        while answers.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            unanswered = answers.len(),
            "slack: shutting down with answers still being prepared"
        );
        answers.shutdown().await;
    }
    outcome
}

/// The supervisor's view of its connections.
struct Door {
    link: Link,
    /// Open (or opening) connections, each with the token that closes it.
    connections: HashMap<u64, CancellationToken>,
    /// The newest connection: the one whose loss or `disconnect` calls for another.
    current: u64,
    next: u64,
    backoff: Duration,
}

impl Door {
    /// Starts a new connection after `delay`; it becomes the current one.
    fn open(&mut self, delay: Duration) {
        let conn = self.next;
        self.next += 1;
        self.current = conn;
        let close = CancellationToken::new();
        self.connections.insert(conn, close.clone());
        if delay > Duration::ZERO {
            tracing::info!(
                conn,
                delay_ms = delay.as_millis() as u64,
                "slack: reconnecting"
            );
        }
        tokio::spawn(connection(self.link.clone(), conn, delay, close));
    }
}

/// An acknowledged event, if it is one to answer and not seen before.
fn admit(
    seen: &mut dedupe::Seen,
    conn: u64,
    payload: &serde_json::Value,
    retry_attempt: u64,
    retry_reason: Option<String>,
) -> Option<Incoming> {
    let incoming = match classify(payload) {
        Ok(incoming) => incoming,
        Err(skip) => {
            tracing::debug!(conn, ?skip, "slack: event not answered");
            return None;
        }
    };
    if !seen.first_sighting(&incoming.inbound.delivery, Instant::now()) {
        tracing::info!(
            conn,
            event_id = incoming.inbound.delivery,
            retry_attempt,
            retry_reason,
            "slack: redelivered event dropped"
        );
        return None;
    }
    tracing::debug!(
        conn,
        event_id = incoming.inbound.delivery,
        from = incoming.inbound.from.key(),
        conversation = incoming.inbound.conversation,
        "slack: dispatching"
    );
    Some(incoming)
}

/// `/setup-agent`: a note at once that it may take a while (making an agent waits for
/// it to be ready), then the outcome, in the conversation the command came from.
async fn setup(
    dispatch: Arc<impl Dispatch>,
    web: Arc<WebApi>,
    from: crate::message::Identity,
    target: protocol::Target,
) {
    let text = match dispatch.setup_agent(from).await {
        Reply::Answer(text) | Reply::Notice(text) => text,
        Reply::Duplicate => return,
    };
    if let Err(error) = web.post_message(&target, &escape(&text)).await {
        tracing::warn!(channel = target.channel, error = %error, "slack: posting the /setup-agent reply failed");
    }
}

/// Slack's user directory, for self-service: who is in a user group, and a person's
/// name (to name their agent). Its own Web API client, beside the door's.
pub struct Directory {
    web: WebApi,
}

impl Directory {
    pub fn new(config: &SlackConfig) -> anyhow::Result<Directory> {
        Ok(Directory {
            web: WebApi::new(config, web::tls_config()?)?,
        })
    }

    /// The person's display (or real) name.
    pub async fn user_name(&self, user: &str) -> anyhow::Result<Option<String>> {
        Ok(self.web.user_name(user).await?)
    }

    /// Whether `user` is in one of `groups`.
    pub async fn in_any_group(&self, user: &str, groups: &[String]) -> anyhow::Result<bool> {
        for group in groups {
            if self
                .web
                .group_members(group)
                .await?
                .iter()
                .any(|u| u == user)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// One message: wait for a slot, dispatch, post the notices the router gives on the way
/// ("Waking your agent…") as they come, then the reply (split as Slack needs).
async fn answer(
    dispatch: Arc<impl Dispatch>,
    web: Arc<WebApi>,
    slots: Arc<Semaphore>,
    incoming: Incoming,
) {
    let Ok(_slot) = slots.acquire_owned().await else {
        return;
    };
    let Incoming { inbound, target } = incoming;
    let event_id = inbound.delivery.clone();
    let (interim, mut notices) = Interim::channel();
    // The notices' receiver ends when the dispatch is done (it holds the only sender).
    let posting = async {
        while let Some(notice) = notices.recv().await {
            if let Err(error) = web.post_message(&target, &escape(&notice)).await {
                tracing::warn!(event_id, channel = target.channel, error = %error, "slack: posting a notice failed");
            }
        }
    };
    let (reply, ()) = tokio::join!(dispatch.dispatch_with(inbound, interim), posting);
    let text = match reply {
        Reply::Answer(text) | Reply::Notice(text) => text,
        Reply::Duplicate => return,
    };
    let messages = split_message(&escape(&text), MESSAGE_LIMIT);
    let count = messages.len();
    for (index, message) in messages.iter().enumerate() {
        if let Err(error) = web.post_message(&target, message).await {
            tracing::warn!(
                event_id,
                channel = target.channel,
                part = index + 1,
                parts = count,
                error = %error,
                "slack: posting the answer failed"
            );
            // Later parts without the earlier ones would read as nonsense.
            return;
        }
    }
    tracing::debug!(event_id, parts = count, "slack: answered");
}
