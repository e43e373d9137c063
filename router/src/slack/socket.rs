//! One Socket Mode connection: open it (`apps.connections.open`, then the WebSocket),
//! acknowledge every envelope the moment it arrives, and report what it saw to the
//! supervisor in `mod.rs`, which owns reconnection, deduplication and dispatch.
//!
//! Acknowledging before any work is what Slack asks: the app "still needs to
//! acknowledge receiving each event so that Slack knows whether to retry"
//! (https://docs.slack.dev/apis/events-api/using-socket-mode#events); the answer can
//! take minutes, the acknowledgement may not.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, connect_async_tls_with_config};
use tokio_util::sync::CancellationToken;

use super::config::check_transport;
use super::protocol::{Frame, ack};
use super::web::{WebApi, WebError};

/// Socket Mode payloads are events of at most a few tens of kilobytes; a larger frame
/// is refused rather than buffered.
const MAX_FRAME_BYTES: usize = 1 << 20;

/// What a connection tells the supervisor.
#[derive(Debug)]
pub enum ConnEvent {
    /// Slack said `hello`: the connection is live.
    Hello {
        conn: u64,
        lifetime: Option<Duration>,
    },
    /// Slack asked to reconnect (`warning`, `refresh_requested`, `link_disabled`).
    Disconnect { conn: u64, reason: String },
    /// An `events_api` envelope, already acknowledged.
    Event {
        conn: u64,
        payload: Value,
        retry_attempt: u64,
        retry_reason: Option<String>,
    },
    /// A `slash_commands` envelope (`/setup-agent`), already acknowledged.
    Command { conn: u64, payload: Value },
    /// The connection is gone (or never came up); `fatal` if no retry can help,
    /// `retry_after` if Slack rate limited `apps.connections.open`.
    Closed {
        conn: u64,
        error: Option<String>,
        fatal: bool,
        retry_after: Option<Duration>,
    },
}

/// Everything one connection needs, cloned per connection.
#[derive(Clone)]
pub struct Link {
    pub web: Arc<WebApi>,
    pub tls: Arc<rustls::ClientConfig>,
    pub ping_interval: Duration,
    pub request_timeout: Duration,
    pub events: mpsc::Sender<ConnEvent>,
}

/// Runs connection `conn` after `delay`, until Slack or the network closes it or
/// `close` is cancelled. Always ends with one `Closed`.
pub async fn connection(link: Link, conn: u64, delay: Duration, close: CancellationToken) {
    let closed = match serve(&link, conn, delay, &close).await {
        Ok(()) => ConnEvent::Closed {
            conn,
            error: None,
            fatal: false,
            retry_after: None,
        },
        Err(Failure {
            message,
            fatal,
            retry_after,
        }) => ConnEvent::Closed {
            conn,
            error: Some(message),
            fatal,
            retry_after,
        },
    };
    // The supervisor may be gone on shutdown; nothing left to tell then.
    let _ = link.events.send(closed).await;
}

struct Failure {
    message: String,
    fatal: bool,
    retry_after: Option<Duration>,
}

impl From<WebError> for Failure {
    fn from(error: WebError) -> Failure {
        Failure {
            fatal: matches!(error, WebError::Fatal(_)),
            retry_after: match error {
                WebError::RateLimited(wait) => Some(wait),
                _ => None,
            },
            message: error.to_string(),
        }
    }
}

fn failure(message: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        fatal: false,
        retry_after: None,
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn serve(
    link: &Link,
    conn: u64,
    delay: Duration,
    close: &CancellationToken,
) -> Result<(), Failure> {
    let mut socket = tokio::select! {
        _ = close.cancelled() => return Ok(()),
        socket = open(link, delay) => socket?,
    };
    tracing::debug!(conn, "slack: socket open");
    read(link, conn, &mut socket, close).await
}

/// Waits `delay`, asks for a URL and connects to it.
async fn open(link: &Link, delay: Duration) -> Result<Socket, Failure> {
    tokio::time::sleep(delay).await;
    let url = link.web.open_connection().await?;
    let uri: http::Uri = url
        .parse()
        .map_err(|_| failure("apps.connections.open gave an unusable url"))?;
    // The URL carries a ticket; never log it. Only wss:// (or ws:// to loopback, the
    // tests' fake) is followed.
    check_transport(&uri, "wss").map_err(|e| failure(format!("{e:#}")))?;

    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME_BYTES))
        .max_frame_size(Some(MAX_FRAME_BYTES));
    let handshake = connect_async_tls_with_config(
        url.as_str(),
        Some(config),
        true,
        Some(Connector::Rustls(link.tls.clone())),
    );
    let (socket, _) = tokio::time::timeout(link.request_timeout, handshake)
        .await
        .map_err(|_| failure("the Socket Mode handshake timed out"))?
        .map_err(|e| failure(format!("connecting to Socket Mode: {e}")))?;
    Ok(socket)
}

/// Reads frames until the socket ends, acknowledging each envelope first.
async fn read(
    link: &Link,
    conn: u64,
    socket: &mut Socket,
    close: &CancellationToken,
) -> Result<(), Failure> {
    let mut awaiting_pong = false;
    loop {
        let next = tokio::select! {
            _ = close.cancelled() => {
                let _ = socket.close(None).await;
                return Ok(());
            }
            next = tokio::time::timeout(link.ping_interval, socket.next()) => next,
        };
        let message = match next {
            Err(_quiet) if awaiting_pong => {
                return Err(failure("no frame from Slack; taking the socket for dead"));
            }
            Err(_quiet) => {
                awaiting_pong = true;
                socket
                    .send(Message::Ping(Default::default()))
                    .await
                    .map_err(|e| failure(format!("pinging Slack: {e}")))?;
                continue;
            }
            Ok(None) => return Ok(()),
            Ok(Some(Err(e))) => return Err(failure(format!("reading from Slack: {e}"))),
            Ok(Some(Ok(message))) => message,
        };
        awaiting_pong = false;
        let text = match message {
            Message::Text(text) => text,
            Message::Close(_) => return Ok(()),
            // Pings are answered by tungstenite itself; pongs only prove life.
            _ => continue,
        };
        let frame: Frame = match serde_json::from_str(text.as_str()) {
            Ok(frame) => frame,
            Err(e) => {
                tracing::warn!(conn, error = %e, "slack: unreadable frame ignored");
                continue;
            }
        };
        // Acknowledge first, whatever the envelope holds: an envelope we do not act on
        // is still delivered, and must not be retried.
        if let Some(envelope_id) = &frame.envelope_id {
            socket
                .send(Message::text(ack(envelope_id)))
                .await
                .map_err(|e| failure(format!("acknowledging: {e}")))?;
        }
        let event = match frame.kind.as_str() {
            "hello" => ConnEvent::Hello {
                conn,
                lifetime: frame
                    .debug_info
                    .and_then(|d| d.approximate_connection_time)
                    .map(Duration::from_secs),
            },
            "disconnect" => ConnEvent::Disconnect {
                conn,
                reason: frame.reason.unwrap_or_default(),
            },
            "events_api" => {
                let Some(payload) = frame.payload else {
                    continue;
                };
                ConnEvent::Event {
                    conn,
                    payload,
                    retry_attempt: frame.retry_attempt.unwrap_or(0),
                    retry_reason: frame.retry_reason,
                }
            }
            "slash_commands" => {
                let Some(payload) = frame.payload else {
                    continue;
                };
                ConnEvent::Command { conn, payload }
            }
            other => {
                tracing::debug!(
                    conn,
                    kind = other,
                    "slack: envelope acknowledged, not handled"
                );
                continue;
            }
        };
        if link.events.send(event).await.is_err() {
            // The supervisor is gone: shutting down.
            let _ = socket.close(None).await;
            return Ok(());
        }
    }
}
