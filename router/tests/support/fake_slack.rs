//! A fake Slack for the router's tests, plain HTTP and plain WebSocket on 127.0.0.1:
//! the Web API methods the Slack door calls (`apps.connections.open` answering with a
//! `ws://` URL to the fake's own Socket Mode server, `chat.postMessage` recording each
//! post, or answering `429` with `Retry-After` when a test asks), and the Socket Mode
//! server side (sends `hello`, the envelopes a test injects, `disconnect` on demand, and
//! records every acknowledgement). Everything that happens lands in one ordered log.

use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

pub const APP_TOKEN: &str = "xapp-1-A0FAKE-1-fakeapptoken";
pub const BOT_TOKEN: &str = "xoxb-1-fakebottoken";
/// The bot's own user id, as `authorizations` names it.
pub const BOT_USER: &str = "UBOT";

/// One thing the fake saw or did, in order.
#[derive(Debug, Clone)]
pub enum Record {
    /// `apps.connections.open` was called with the right token.
    Open { at: Instant },
    /// A WebSocket connection was accepted and greeted with `hello`.
    Connected { conn: usize },
    /// The client acknowledged an envelope on connection `conn`.
    Ack { conn: usize, envelope_id: String },
    /// `chat.postMessage` or `apps.connections.open` answered `429`.
    RateLimited { at: Instant },
    /// `chat.postMessage` posted.
    Post(Post),
    /// Connection `conn` ended (either side).
    Closed { conn: usize },
}

#[derive(Debug, Clone)]
pub struct Post {
    pub channel: String,
    pub thread_ts: Option<String>,
    pub text: String,
    pub at: Instant,
}

struct Inner {
    log: Vec<Record>,
    /// Per accepted connection: the way to send it frames, `None` once closed.
    connections: Vec<Option<mpsc::UnboundedSender<Message>>>,
    rate_limits: u32,
    open_rate_limits: u32,
    retry_after_secs: u64,
}

struct State {
    ws_port: u16,
    inner: Mutex<Inner>,
    changed: watch::Sender<u64>,
}

impl State {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn record(&self, record: Record) {
        self.lock().log.push(record);
        self.changed.send_modify(|n| *n += 1);
    }
}

/// The running fake; its servers stop when it is dropped.
pub struct FakeSlack {
    state: Arc<State>,
    /// The Web API base to give the door (`SLACK_API_URL`).
    pub api_url: String,
    servers: Vec<JoinHandle<()>>,
}

impl Drop for FakeSlack {
    fn drop(&mut self) {
        for server in &self.servers {
            server.abort();
        }
    }
}

impl FakeSlack {
    pub async fn start() -> FakeSlack {
        let http = TcpListener::bind("127.0.0.1:0").await.expect("bind http");
        let ws = TcpListener::bind("127.0.0.1:0").await.expect("bind ws");
        let api_url = format!("http://{}/api/", http.local_addr().expect("http addr"));
        let state = Arc::new(State {
            ws_port: ws.local_addr().expect("ws addr").port(),
            inner: Mutex::new(Inner {
                log: Vec::new(),
                connections: Vec::new(),
                rate_limits: 0,
                open_rate_limits: 0,
                retry_after_secs: 1,
            }),
            changed: watch::channel(0).0,
        });
        let servers = vec![
            tokio::spawn(serve_http(http, state.clone())),
            tokio::spawn(serve_ws(ws, state.clone())),
        ];
        FakeSlack {
            state,
            api_url,
            servers,
        }
    }

    /// Everything so far.
    pub fn log(&self) -> Vec<Record> {
        self.state.lock().log.clone()
    }

    pub fn posts(&self) -> Vec<Post> {
        posts(&self.log())
    }

    pub fn acks(&self) -> Vec<String> {
        self.log()
            .into_iter()
            .filter_map(|r| match r {
                Record::Ack { envelope_id, .. } => Some(envelope_id),
                _ => None,
            })
            .collect()
    }

    /// Waits (at most 10 s) until `done` holds for the log, and returns the log.
    pub async fn wait_for(&self, what: &str, done: impl Fn(&[Record]) -> bool) -> Vec<Record> {
        let mut changes = self.state.changed.subscribe();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.log();
            if done(&log) {
                return log;
            }
            if tokio::time::timeout_at(deadline, changes.changed())
                .await
                .is_err()
            {
                panic!("timed out waiting for {what}; log: {log:#?}");
            }
        }
    }

    pub async fn wait_for_posts(&self, n: usize) -> Vec<Post> {
        posts(
            &self
                .wait_for(&format!("{n} posts"), |log| posts(log).len() >= n)
                .await,
        )
    }

    /// Waits until connection `conn` (0 the first) has been greeted.
    pub async fn wait_for_connection(&self, conn: usize) {
        self.wait_for(&format!("connection {conn}"), |log| {
            log.iter()
                .any(|r| matches!(r, Record::Connected { conn: c } if *c == conn))
        })
        .await;
    }

    pub async fn wait_for_ack(&self, envelope_id: &str) {
        self.wait_for(&format!("ack of {envelope_id}"), |log| {
            log.iter()
                .any(|r| matches!(r, Record::Ack { envelope_id: e, .. } if e == envelope_id))
        })
        .await;
    }

    /// Sends a raw frame on connection `conn`.
    pub fn send(&self, conn: usize, frame: Value) {
        let inner = self.state.lock();
        let sender = inner
            .connections
            .get(conn)
            .and_then(|c| c.as_ref())
            .unwrap_or_else(|| panic!("connection {conn} is not open"));
        sender
            .send(Message::text(frame.to_string()))
            .expect("connection task alive");
    }

    /// Sends an `events_api` envelope carrying `event` as event `event_id`.
    pub fn send_event(&self, conn: usize, envelope_id: &str, event_id: &str, event: Value) {
        self.send(conn, envelope(envelope_id, event_id, event, 0));
    }

    #[allow(dead_code)] // used by tests/self_service.rs, not by tests/slack.rs
    /// Sends a `slash_commands` envelope: `command` typed by `user` in `channel`.
    pub fn send_command(
        &self,
        conn: usize,
        envelope_id: &str,
        command: &str,
        user: &str,
        channel: &str,
    ) {
        self.send(
            conn,
            json!({"type": "slash_commands", "envelope_id": envelope_id,
                   "accepts_response_payload": true,
                   "payload": {"command": command, "text": "", "user_id": user,
                               "channel_id": channel, "team_id": "T1",
                               "response_url": "https://hooks.slack.invalid/x",
                               "trigger_id": "1.2.3"}}),
        );
    }

    /// Sends a redelivery: `retry_attempt` > 0, `retry_reason` set.
    pub fn resend_event(
        &self,
        conn: usize,
        envelope_id: &str,
        event_id: &str,
        event: Value,
        retry_attempt: u64,
    ) {
        self.send(conn, envelope(envelope_id, event_id, event, retry_attempt));
    }

    /// Slack's notice that it will refresh connection `conn`.
    pub fn disconnect(&self, conn: usize) {
        self.send(
            conn,
            json!({"type": "disconnect", "reason": "refresh_requested",
                   "debug_info": {"host": "fake"}}),
        );
    }

    /// Closes connection `conn` from the server side, as Slack does after a refresh.
    pub fn close(&self, conn: usize) {
        self.send_raw(conn, Message::Close(None));
    }

    fn send_raw(&self, conn: usize, message: Message) {
        if let Some(Some(sender)) = self.state.lock().connections.get(conn) {
            let _ = sender.send(message);
        }
    }

    /// The next `n` posts are answered `429` with `Retry-After: secs`.
    pub fn rate_limit_posts(&self, n: u32, secs: u64) {
        let mut inner = self.state.lock();
        inner.rate_limits = n;
        inner.retry_after_secs = secs;
    }

    /// The next `n` calls of `apps.connections.open` are answered `429` likewise.
    pub fn rate_limit_opens(&self, n: u32, secs: u64) {
        let mut inner = self.state.lock();
        inner.open_rate_limits = n;
        inner.retry_after_secs = secs;
    }
}

pub fn posts(log: &[Record]) -> Vec<Post> {
    log.iter()
        .filter_map(|r| match r {
            Record::Post(post) => Some(post.clone()),
            _ => None,
        })
        .collect()
}

/// An `events_api` envelope as Socket Mode sends it.
pub fn envelope(envelope_id: &str, event_id: &str, event: Value, retry_attempt: u64) -> Value {
    json!({
        "type": "events_api",
        "envelope_id": envelope_id,
        "accepts_response_payload": false,
        "retry_attempt": retry_attempt,
        "retry_reason": if retry_attempt > 0 { json!("timeout") } else { Value::Null },
        "payload": {
            "type": "event_callback",
            "team_id": "T1",
            "api_app_id": "A0FAKE",
            "event_id": event_id,
            "event_time": 1_700_000_000,
            "event": event,
            "authorizations": [{"team_id": "T1", "user_id": BOT_USER, "is_bot": true}],
        },
    })
}

/// A direct message from `user` in DM channel `channel`.
pub fn dm(user: &str, channel: &str, text: &str, ts: &str) -> Value {
    json!({
        "type": "message", "channel_type": "im", "channel": channel,
        "user": user, "text": text, "ts": ts, "event_ts": ts,
        "client_msg_id": format!("msg-{ts}"),
    })
}

/// A mention of the bot by `user` in channel `channel`.
pub fn mention(user: &str, channel: &str, text: &str, ts: &str) -> Value {
    json!({
        "type": "app_mention", "channel": channel, "user": user,
        "text": format!("<@{BOT_USER}> {text}"), "ts": ts, "event_ts": ts,
    })
}

async fn serve_http(listener: TcpListener, state: Arc<State>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let state = state.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(web_api(&state, request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

fn reply(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
}

fn rate_limited(state: &State, secs: u64) -> Response<Full<Bytes>> {
    state.record(Record::RateLimited { at: Instant::now() });
    let mut response = reply(
        StatusCode::TOO_MANY_REQUESTS,
        json!({"ok": false, "error": "ratelimited"}),
    );
    response
        .headers_mut()
        .insert("retry-after", secs.to_string().parse().expect("header"));
    response
}

async fn web_api(state: &State, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_string();
    let authorization = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let ok = |body: Value| reply(StatusCode::OK, body);
    match path.as_str() {
        "/api/apps.connections.open" => {
            if authorization != format!("Bearer {APP_TOKEN}") {
                return ok(json!({"ok": false, "error": "invalid_auth"}));
            }
            let retry_after = {
                let mut inner = state.lock();
                if inner.open_rate_limits > 0 {
                    inner.open_rate_limits -= 1;
                    Some(inner.retry_after_secs)
                } else {
                    None
                }
            };
            if let Some(secs) = retry_after {
                return rate_limited(state, secs);
            }
            state.record(Record::Open { at: Instant::now() });
            let ticket = state.lock().connections.len();
            ok(json!({"ok": true,
                      "url": format!("ws://127.0.0.1:{}/link/?ticket={ticket}", state.ws_port)}))
        }
        "/api/chat.postMessage" => {
            if authorization != format!("Bearer {BOT_TOKEN}") {
                return ok(json!({"ok": false, "error": "invalid_auth"}));
            }
            let retry_after = {
                let mut inner = state.lock();
                if inner.rate_limits > 0 {
                    inner.rate_limits -= 1;
                    Some(inner.retry_after_secs)
                } else {
                    None
                }
            };
            if let Some(secs) = retry_after {
                return rate_limited(state, secs);
            }
            let Ok(message) = serde_json::from_slice::<Value>(&body) else {
                return ok(json!({"ok": false, "error": "invalid_json"}));
            };
            let field = |name: &str| {
                message
                    .get(name)
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            let (Some(channel), Some(text)) = (field("channel"), field("text")) else {
                return ok(json!({"ok": false, "error": "no_text"}));
            };
            state.record(Record::Post(Post {
                channel: channel.clone(),
                thread_ts: field("thread_ts"),
                text,
                at: Instant::now(),
            }));
            ok(json!({"ok": true, "channel": channel, "ts": "1700000000.999999"}))
        }
        // The directory self-service asks: every user is "Dana Scully" unless the test
        // said otherwise; user group S0HELP holds U0GROUPIE.
        "/api/users.info" => {
            if authorization != format!("Bearer {BOT_TOKEN}") {
                return ok(json!({"ok": false, "error": "invalid_auth"}));
            }
            let form = String::from_utf8_lossy(&body).to_string();
            let user = form.strip_prefix("user=").unwrap_or_default().to_string();
            let name = if user == "U0GROUPIE" {
                "Gru Pie"
            } else {
                "Dana Scully"
            };
            ok(json!({"ok": true, "user": {"id": user, "name": "handle",
                      "profile": {"display_name": name, "real_name": name}}}))
        }
        "/api/usergroups.users.list" => {
            if authorization != format!("Bearer {BOT_TOKEN}") {
                return ok(json!({"ok": false, "error": "invalid_auth"}));
            }
            let form = String::from_utf8_lossy(&body).to_string();
            match form.strip_prefix("usergroup=") {
                Some("S0HELP") => ok(json!({"ok": true, "users": ["U0GROUPIE"]})),
                _ => ok(json!({"ok": false, "error": "no_such_subteam"})),
            }
        }
        _ => ok(json!({"ok": false, "error": "unknown_method"})),
    }
}

async fn serve_ws(listener: TcpListener, state: Arc<State>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let Ok(socket) = tokio_tungstenite::accept_async(stream).await else {
            continue;
        };
        let (to_client, outgoing) = mpsc::unbounded_channel();
        let conn = {
            let mut inner = state.lock();
            inner.connections.push(Some(to_client));
            inner.connections.len() - 1
        };
        tokio::spawn(socket_mode(conn, socket, outgoing, state.clone()));
    }
}

async fn socket_mode(
    conn: usize,
    mut socket: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    mut outgoing: mpsc::UnboundedReceiver<Message>,
    state: Arc<State>,
) {
    let hello = json!({
        "type": "hello", "num_connections": conn + 1,
        "connection_info": {"app_id": "A0FAKE"},
        "debug_info": {"host": "fake", "approximate_connection_time": 18060},
    });
    if socket.send(Message::text(hello.to_string())).await.is_ok() {
        state.record(Record::Connected { conn });
        loop {
            tokio::select! {
                // After a Close of ours, frames already on the way are still read until
                // the client's Close completes the handshake.
                Some(message) = outgoing.recv() => {
                    if socket.send(message).await.is_err() {
                        break;
                    }
                }
                incoming = socket.next() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        let frame: Value = serde_json::from_str(text.as_str()).unwrap_or_default();
                        if let Some(envelope_id) = frame.get("envelope_id").and_then(Value::as_str) {
                            state.record(Record::Ack { conn, envelope_id: envelope_id.to_string() });
                        }
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
            }
        }
    }
    state.lock().connections[conn] = None;
    state.record(Record::Closed { conn });
}
