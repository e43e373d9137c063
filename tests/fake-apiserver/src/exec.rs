//! `pods/exec`: the WebSocket upgrade of `GET`/`POST .../pods/{name}/exec`, the
//! `v5.channel.k8s.io`/`v4.channel.k8s.io` stream protocol, and the test hook that
//! plays the command ([`crate::FakeApiServer::on_exec`]).
//!
//! The protocol, as kube-apiserver and the kubelet speak it (client side:
//! <https://github.com/kubernetes/kubernetes/tree/master/staging/src/k8s.io/client-go/tools/remotecommand>,
//! constants: `k8s.io/apimachinery/pkg/util/remotecommand/constants.go`): every binary
//! frame starts with its channel (0 stdin, 1 stdout, 2 stderr, 3 error/status, 4
//! resize); v5 adds channel 255, whose payload `[0]` closes the client's stdin. The
//! command's end is one `metav1.Status` on channel 3 (`Success`, or `Failure` with
//! reason `NonZeroExitCode` and a cause `{reason: ExitCode, message: "<n>"}`), then
//! the connection closes.
//!
//! Refusals are worded as the real server words them
//! (`pkg/registry/core/pod/strategy.go`, `streamLocation`): 404 for a missing pod, 400
//! `container X is not valid for pod Y`, 400 `a container name must be specified for
//! pod Y, choose one of: [...]`, 400 `pod Y does not have a host assigned`; a
//! container that is not running answers 400 `unable to upgrade connection: container
//! not found ("X")`, the kubelet's answer as kubectl shows it.
//!
//! Simplifications (vs a kubelet): no container runs anything; the command is whatever
//! the handler a test registered does, with the whole stdin read first (until the v5
//! close signal, or the client's Close frame on v4) and its output sent afterwards, in
//! frames of [`FRAME`] bytes; without a handler the command exits 126 with stderr
//! `fake-apiserver: no exec handler`. `tty` and resize messages are ignored. A pod counts
//! as scheduled when it has `spec.nodeName` or `status.hostIP` (the fake's scheduler
//! sets no `nodeName` on bare pods). The first empty frame per channel that the real
//! server sends on open is not sent.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::{Response, StatusCode, header};
use serde_json::{Value, json};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::resources::idx;
use crate::server::{Body, Shared, lock};
use crate::status::{self, ApiError};

/// Largest stdout/stderr payload per WebSocket frame.
pub const FRAME: usize = 32 * 1024;

const V5: &str = "v5.channel.k8s.io";
const V4: &str = "v4.channel.k8s.io";
const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const STATUS: u8 = 3;
const CLOSE: u8 = 255;

/// One exec as the handler sees it (and [`crate::FakeApiServer::exec_calls`] records it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecCall {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub command: Vec<String>,
    /// Everything the client sent on stdin (empty without `stdin=true`).
    pub stdin: Vec<u8>,
    /// The subprotocol answered (`v5.channel.k8s.io` or `v4.channel.k8s.io`).
    pub protocol: String,
}

/// What the command "did".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecReply {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// 0: `Success`; anything else: `Failure`, `NonZeroExitCode`.
    pub exit_code: i32,
}

impl ExecReply {
    /// Exit 0 with this stdout.
    pub fn stdout(stdout: impl Into<Vec<u8>>) -> Self {
        Self {
            stdout: stdout.into(),
            ..Default::default()
        }
    }

    /// This exit code with this stderr.
    pub fn exit(code: i32, stderr: impl Into<Vec<u8>>) -> Self {
        Self {
            stderr: stderr.into(),
            exit_code: code,
            ..Default::default()
        }
    }
}

pub type Handler = Arc<dyn Fn(ExecCall) -> ExecReply + Send + Sync>;

/// The registered handler and the calls so far.
#[derive(Default)]
pub struct ExecState {
    pub handler: Option<Handler>,
    pub calls: Vec<ExecCall>,
}

/// What the upgrade request asked for.
pub struct Upgrade {
    pub on_upgrade: hyper::upgrade::OnUpgrade,
    /// `Upgrade` header.
    pub upgrade: String,
    pub key: String,
    /// `Sec-WebSocket-Protocol`, comma-separated.
    pub protocols: String,
}

struct Params {
    container: String,
    command: Vec<String>,
    stdin: bool,
}

fn params(query: &str) -> Params {
    let mut p = Params {
        container: String::new(),
        command: Vec::new(),
        stdin: false,
    };
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "container" => p.container = v.into_owned(),
            "command" => p.command.push(v.into_owned()),
            "stdin" => p.stdin = v == "true" || v == "1",
            _ => {}
        }
    }
    p
}

/// Checks the pod and container as kube-apiserver and the kubelet do; answers the
/// container's name.
fn check_pod(shared: &Shared, ns: &str, name: &str, container: &str) -> Result<String, ApiError> {
    let res = idx("pods");
    let pod = {
        let store = lock(&shared.store);
        store
            .get(res, ns, name)
            .map(|p| (**p).clone())
            .ok_or_else(|| status::not_found(&crate::resources::RESOURCES[res], name))?
    };
    let names: Vec<String> = pod["spec"]["containers"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let container = match (container, names.as_slice()) {
        ("", [only]) => only.clone(),
        ("", _) => {
            return Err(status::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                names.join(" ")
            )));
        }
        (c, _) if !names.iter().any(|n| n == c) => {
            return Err(status::bad_request(format!(
                "container {c} is not valid for pod {name}"
            )));
        }
        (c, _) => c.to_string(),
    };
    let host = |v: &Value| v.as_str().is_some_and(|s| !s.is_empty());
    if !host(&pod["spec"]["nodeName"]) && !host(&pod["status"]["hostIP"]) {
        return Err(status::bad_request(format!(
            "pod {name} does not have a host assigned"
        )));
    }
    let running = pod["status"]["containerStatuses"]
        .as_array()
        .is_some_and(|ss| {
            ss.iter()
                .any(|s| s["name"] == container.as_str() && s["state"]["running"].is_object())
        });
    if !running {
        return Err(status::bad_request(format!(
            "unable to upgrade connection: container not found ({container:?})"
        )));
    }
    Ok(container)
}

/// Answers an exec request: the refusal, or `101 Switching Protocols` and a task that
/// plays the command over the upgraded connection.
pub fn start(
    shared: &Arc<Shared>,
    ns: &str,
    name: &str,
    query: &str,
    upgrade: Option<Upgrade>,
) -> Result<Response<Body>, ApiError> {
    let p = params(query);
    let container = check_pod(shared, ns, name, &p.container)?;
    let Some(up) = upgrade.filter(|u| u.upgrade.eq_ignore_ascii_case("websocket")) else {
        return Err(status::bad_request("Upgrade request required"));
    };
    let offered: Vec<&str> = up.protocols.split(',').map(str::trim).collect();
    let Some(protocol) = [V5, V4].into_iter().find(|p| offered.contains(p)) else {
        return Err(status::bad_request(format!(
            "no supported WebSocket subprotocol in {:?} (want {V5} or {V4})",
            up.protocols
        )));
    };
    let call = ExecCall {
        namespace: ns.to_string(),
        pod: name.to_string(),
        container,
        command: p.command,
        stdin: Vec::new(),
        protocol: protocol.to_string(),
    };
    let shared = shared.clone();
    let on_upgrade = up.on_upgrade;
    let want_stdin = p.stdin;
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let ws = WebSocketStream::from_raw_socket(
            hyper_util::rt::TokioIo::new(upgraded),
            Role::Server,
            None,
        )
        .await;
        play(shared, ws, call, want_stdin).await;
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::UPGRADE, "websocket")
        .header(header::CONNECTION, "Upgrade")
        .header(
            header::SEC_WEBSOCKET_ACCEPT,
            derive_accept_key(up.key.as_bytes()),
        )
        .header(header::SEC_WEBSOCKET_PROTOCOL, protocol)
        .body(Full::new(Bytes::new()).boxed())
        .map_err(|e| status::internal(e.to_string()))
}

/// The status the kubelet writes on channel 3 when the command ends
/// (`pkg/kubelet/cri/streaming/remotecommand/httpstream.go`, `v4WriteStatusFunc`).
pub fn exit_status(command: &[String], code: i32) -> Value {
    if code == 0 {
        return json!({"metadata": {}, "status": "Success"});
    }
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!(
            "command terminated with non-zero exit code: error executing command [{}], exit code {code}",
            command.join(" ")
        ),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
    })
}

async fn play<S>(shared: Arc<Shared>, mut ws: WebSocketStream<S>, mut call: ExecCall, stdin: bool)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let v5 = call.protocol == V5;
    let mut peer_closed = false;
    if stdin {
        while let Some(msg) = ws.next().await {
            match msg {
                Ok(Message::Binary(b)) => match b.first() {
                    Some(&STDIN) => call.stdin.extend_from_slice(&b[1..]),
                    Some(&CLOSE) if v5 && b.get(1) == Some(&STDIN) => break,
                    _ => {}
                },
                Ok(Message::Close(_)) => {
                    peer_closed = true;
                    break;
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    }
    let handler = lock(&shared.exec).handler.clone();
    let reply = match handler {
        Some(h) => {
            let call = call.clone();
            tokio::task::spawn_blocking(move || h(call))
                .await
                .unwrap_or_else(|_| ExecReply::exit(1, "fake-apiserver: the exec handler panicked"))
        }
        None => ExecReply::exit(126, "fake-apiserver: no exec handler"),
    };
    let command = call.command.clone();
    lock(&shared.exec).calls.push(call);
    if peer_closed {
        // v4 without a close signal: the client closed the whole connection at the
        // end of its stdin; nothing can be sent back.
        return;
    }
    for (channel, data) in [(STDOUT, &reply.stdout), (STDERR, &reply.stderr)] {
        for chunk in data.chunks(FRAME) {
            let mut frame = Vec::with_capacity(chunk.len() + 1);
            frame.push(channel);
            frame.extend_from_slice(chunk);
            if ws.send(Message::binary(frame)).await.is_err() {
                return;
            }
        }
    }
    let mut frame = vec![STATUS];
    frame.extend(serde_json::to_vec(&exit_status(&command, reply.exit_code)).unwrap_or_default());
    if ws.send(Message::binary(frame)).await.is_err() {
        return;
    }
    let _ = ws.close(None).await;
    // Until the client's Close answers ours.
    while let Some(Ok(_)) = ws.next().await {}
}
