//! The HTTP front door, for web clients and other bots behind an authenticating proxy
//! (oauth2-proxy or alike):
//!
//! - `POST /v1/messages` `{"conversation": "...", "text": "..."}` answers
//!   `200 {"reply": "..."}`, or `{"notice": "...", "reason": "<kind>"}` with a status:
//!   404 `no_agent`, 413 `too_long`, 429 `rate_limited`/`busy`, 504 `timed_out` or
//!   `wake_timed_out`, 502 `unavailable`, 503 `suspended`, 409 `duplicate` (an
//!   `Idempotency-Key` seen before), 400 for a body that is not that object, 403
//!   `forbidden`. Notices the router gave while the message waited (the agent was woken)
//!   come along as `"notices": ["..."]`: one response cannot say them earlier.
//! - `POST /setup-agent` asks for an agent of one's own (self-service; see
//!   `HttpDoor::setup_agent` for the answers).
//! - `GET /healthz` (the process serves), `GET /readyz` (the routing table was read).
//!
//! Who sends a message is the one thing a client must not choose. The identity is the
//! configured header (`X-Forwarded-Email` by default), mapped to `email:<address>`, and
//! it is believed only when the TCP peer (the connection's own address, never an
//! `X-Forwarded-For`) is one of the pinned proxy addresses. Any other peer, a missing or
//! repeated header, or no pinned proxy at all is 403 before the body is read. The proxy
//! must set that header itself, replacing any copy a client sent (oauth2-proxy does with
//! `--pass-user-headers` or `--set-xauthrequest`), and pods other than the proxy must
//! not share its address.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;

use crate::config::Cidr;
use crate::dispatch::{NoticeKind, Outcome, Router};
use crate::message::{Identity, Inbound, Interim};
use crate::{debug, info, warn};

/// The header a client may name its delivery by, so a retried POST is not answered twice.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Longest conversation id and idempotency key.
const MAX_ID_BYTES: usize = 256;
/// How long open connections get to finish after shutdown begins.
const DRAIN: Duration = Duration::from_secs(20);

/// The HTTP door's settings and the dispatcher it feeds.
pub struct HttpDoor {
    router: Arc<Router>,
    trusted_proxies: Vec<Cidr>,
    identity_header: http::HeaderName,
    deliveries: AtomicU64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageBody {
    conversation: String,
    text: String,
}

type Answer = Response<Full<Bytes>>;

fn respond(status: StatusCode, body: serde_json::Value) -> Answer {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    r
}

fn notice(status: StatusCode, reason: &str, text: &str) -> Answer {
    respond(status, json!({"notice": text, "reason": reason}))
}

fn forbidden() -> Answer {
    notice(StatusCode::FORBIDDEN, "forbidden", "forbidden")
}

fn plain(status: StatusCode, text: &'static str) -> Answer {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = status;
    r
}

impl HttpDoor {
    pub fn new(
        router: Arc<Router>,
        trusted_proxies: Vec<Cidr>,
        identity_header: http::HeaderName,
    ) -> HttpDoor {
        HttpDoor {
            router,
            trusted_proxies,
            identity_header,
            deliveries: AtomicU64::new(0),
        }
    }

    /// The sender, when the peer is a pinned proxy and it named exactly one address.
    fn identity(&self, peer: SocketAddr, headers: &HeaderMap) -> Option<Identity> {
        if !self.trusted_proxies.iter().any(|c| c.contains(peer.ip())) {
            return None;
        }
        let mut values = headers.get_all(&self.identity_header).iter();
        let value = values.next()?;
        if values.next().is_some() {
            return None;
        }
        let email = value.to_str().ok()?.trim();
        let plausible = email.len() <= 320
            && email.contains('@')
            && !email.starts_with('@')
            && !email.ends_with('@')
            && !email
                .chars()
                .any(|c| c.is_whitespace() || c == ',' || c.is_control());
        plausible.then(|| Identity::new("email", email))
    }

    async fn handle(&self, peer: SocketAddr, req: Request<Incoming>) -> Answer {
        match (req.method(), req.uri().path()) {
            (&Method::GET, "/healthz") => plain(StatusCode::OK, "ok\n"),
            (&Method::GET, "/readyz") => {
                if self.router.routes().ready() {
                    plain(StatusCode::OK, "ok\n")
                } else {
                    plain(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "routing table not read yet\n",
                    )
                }
            }
            (&Method::POST, "/v1/messages") => self.message(peer, req).await,
            (&Method::POST, "/setup-agent") => self.setup_agent(peer, req.headers()).await,
            (_, "/healthz" | "/readyz" | "/v1/messages" | "/setup-agent") => {
                plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n")
            }
            _ => plain(StatusCode::NOT_FOUND, "not found\n"),
        }
    }

    /// `POST /setup-agent` (no body): an agent for the proxy's identity, as the Slack
    /// command makes one. 201 `ready`, 200 `already`, 202 `not_ready`, 404 `off`, 403
    /// `not_admitted` (or `forbidden`), 409 `full`, 503 `needs_apply`, 500 `failed`;
    /// the body is `{"notice": "...", "reason": "<kind>"}`.
    async fn setup_agent(&self, peer: SocketAddr, headers: &HeaderMap) -> Answer {
        let Some(from) = self.identity(peer, headers) else {
            info!(
                "POST /setup-agent from {peer}: forbidden (not a pinned proxy, or no single identity header)"
            );
            return forbidden();
        };
        use crate::provision::SetupKind;
        let (kind, text) = self.router.setup_agent(&from).await;
        let status = match kind {
            SetupKind::Ready => StatusCode::CREATED,
            SetupKind::Already => StatusCode::OK,
            SetupKind::NotReady => StatusCode::ACCEPTED,
            SetupKind::Off => StatusCode::NOT_FOUND,
            SetupKind::NotAdmitted => StatusCode::FORBIDDEN,
            SetupKind::Full => StatusCode::CONFLICT,
            SetupKind::NeedsApply => StatusCode::SERVICE_UNAVAILABLE,
            SetupKind::Failed => StatusCode::INTERNAL_SERVER_ERROR,
        };
        notice(status, kind.as_str(), &text)
    }

    async fn message(&self, peer: SocketAddr, req: Request<Incoming>) -> Answer {
        let Some(from) = self.identity(peer, req.headers()) else {
            // Said once per refusal at info: a refused peer is worth seeing, and the
            // log line names no header value.
            info!(
                "POST /v1/messages from {peer}: forbidden (not a pinned proxy, or no single identity header)"
            );
            return forbidden();
        };
        let delivery = match req.headers().get(IDEMPOTENCY_KEY) {
            Some(v) => match v.to_str() {
                Ok(k) if !k.is_empty() && k.len() <= MAX_ID_BYTES => format!("key:{k}"),
                _ => {
                    return notice(
                        StatusCode::BAD_REQUEST,
                        "bad_request",
                        "Idempotency-Key must be 1 to 256 visible characters",
                    );
                }
            },
            None => format!("http:{}", self.deliveries.fetch_add(1, Ordering::Relaxed)),
        };
        // JSON may spell a character in up to 6 bytes (\uXXXX): room for the longest
        // allowed text and the envelope, and no more.
        let limit = self
            .router
            .inbox()
            .limits()
            .max_message_bytes
            .saturating_mul(6)
            .saturating_add(4096);
        let body = match Limited::new(req.into_body(), limit).collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => {
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some()
                {
                    let o = self.router.notices().too_long.clone();
                    return notice(StatusCode::PAYLOAD_TOO_LARGE, "too_long", &o);
                }
                debug!("POST /v1/messages from {peer}: body not read: {e}");
                return notice(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    "the body could not be read",
                );
            }
        };
        let body: MessageBody = match serde_json::from_slice(&body) {
            Ok(b) => b,
            Err(_) => {
                return notice(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    r#"the body must be {"conversation": "...", "text": "..."}"#,
                );
            }
        };
        if body.conversation.is_empty() || body.conversation.len() > MAX_ID_BYTES {
            return notice(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "conversation must be 1 to 256 bytes",
            );
        }
        let (interim, mut notices) = Interim::channel();
        let outcome = self
            .router
            .handle_with(
                Inbound {
                    from,
                    conversation: body.conversation,
                    text: body.text,
                    delivery,
                },
                &interim,
            )
            .await;
        let mut before = Vec::new();
        while let Ok(text) = notices.try_recv() {
            before.push(text);
        }
        let (status, mut body) = answer(outcome);
        if !before.is_empty() {
            body["notices"] = json!(before);
        }
        respond(status, body)
    }
}

/// The status and JSON body of a message's outcome.
fn answer(outcome: Outcome) -> (StatusCode, serde_json::Value) {
    match outcome {
        Outcome::Answer(reply) => (StatusCode::OK, json!({"reply": reply})),
        Outcome::Duplicate => (
            StatusCode::CONFLICT,
            json!({"notice": "This message was received already.", "reason": "duplicate"}),
        ),
        Outcome::Notice(kind, text) => {
            let status = match kind {
                NoticeKind::NoAgent => StatusCode::NOT_FOUND,
                NoticeKind::TooLong => StatusCode::PAYLOAD_TOO_LARGE,
                NoticeKind::RateLimited | NoticeKind::Busy => StatusCode::TOO_MANY_REQUESTS,
                NoticeKind::TimedOut | NoticeKind::WakeTimedOut => StatusCode::GATEWAY_TIMEOUT,
                NoticeKind::Unavailable => StatusCode::BAD_GATEWAY,
                NoticeKind::Suspended => StatusCode::SERVICE_UNAVAILABLE,
            };
            (status, json!({"notice": text, "reason": kind.as_str()}))
        }
    }
}

/// Serves `door` on `listener` until `shutdown` completes, then stops accepting and
/// gives open connections a bounded time to finish.
pub async fn serve(
    listener: TcpListener,
    door: Arc<HttpDoor>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and alike: pause rather than spin or exit.
                    warn!("HTTP accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let door = door.clone();
        let service = service_fn(move |req| {
            let door = door.clone();
            async move { Ok::<_, Infallible>(door.handle(peer, req).await) }
        });
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(10))
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                debug!("HTTP connection from {peer}: {e}");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        warn!(
            "HTTP: connections still open after {} s, closing them",
            DRAIN.as_secs()
        );
    }
}
