//! `pods/exec` over WebSocket, driven by kube-rs's `Api::exec` (`AttachedProcess`), as
//! clawctl streams tar archives in and out of a pod.

use std::time::Duration;

use fake_apiserver::{ExecReply, FakeApiServer, Options};
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, AttachParams, PostParams};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn client(s: &FakeApiServer) -> Client {
    let kc = kube::config::Kubeconfig::from_yaml(&s.kubeconfig()).expect("kubeconfig parses");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("config");
    Client::try_from(cfg).expect("client")
}

fn server() -> FakeApiServer {
    FakeApiServer::start_with(Options {
        rollout_delay: Some(Duration::from_millis(50)),
        ..Default::default()
    })
}

/// A bare helper pod, as clawctl creates one for a backup.
fn helper(name: &str) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "main", "image": "busybox:1.36", "command": ["sleep", "3600"]}]
        }
    }))
    .expect("pod")
}

async fn running_pod(s: &FakeApiServer, pods: &Api<Pod>, name: &str) {
    pods.create(&PostParams::default(), &helper(name))
        .await
        .expect("create pod");
    for _ in 0..200 {
        if s.get("v1", "Pod", Some("default"), name)
            .is_some_and(|p| p["status"]["phase"] == "Running")
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("pod {name} never ran");
}

struct Outcome {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    status: k8s_openapi::apimachinery::pkg::apis::meta::v1::Status,
}

/// Runs `command` in `pod`, sending `stdin` (then closing it) while reading stdout and
/// stderr, as a `kubectl cp` does.
async fn exec(pods: &Api<Pod>, pod: &str, command: &[&str], stdin: Option<Vec<u8>>) -> Outcome {
    let ap = AttachParams::default()
        .container("main")
        .stdin(stdin.is_some());
    let mut p = pods
        .exec(pod, command.to_vec(), &ap)
        .await
        .expect("exec upgrades");
    let writer = p.stdin();
    let mut out = p.stdout().expect("stdout");
    let mut err = p.stderr().expect("stderr");
    let status = p.take_status().expect("status");
    let send = async move {
        if let (Some(mut w), Some(data)) = (writer, stdin) {
            w.write_all(&data).await.expect("write stdin");
            w.shutdown().await.expect("close stdin");
        }
    };
    let read_out = async move {
        let mut v = Vec::new();
        out.read_to_end(&mut v).await.expect("read stdout");
        v
    };
    let read_err = async move {
        let mut v = Vec::new();
        err.read_to_end(&mut v).await.expect("read stderr");
        v
    };
    let ((), stdout, stderr, status) = tokio::join!(send, read_out, read_err, status);
    p.join().await.expect("the exec task ends cleanly");
    Outcome {
        stdout,
        stderr,
        status: status.expect("a status on channel 3"),
    }
}

/// The status's causes as (reason, message).
fn exit_cause(
    status: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Status,
) -> Vec<(String, String)> {
    status
        .details
        .as_ref()
        .and_then(|d| d.causes.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.reason.unwrap_or_default(), c.message.unwrap_or_default()))
        .collect()
}

fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn bare_pod_runs_and_stays_running() {
    let s = server();
    let pods: Api<Pod> = Api::namespaced(client(&s).await, "default");
    running_pod(&s, &pods, "helper").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pod = s.get("v1", "Pod", Some("default"), "helper").expect("pod");
    assert_eq!(pod["status"]["phase"], "Running", "{pod}");
    assert!(
        pod["status"]["containerStatuses"][0]["state"]["running"].is_object(),
        "{pod}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stdin_and_stdout_cross_byte_for_byte() {
    let s = server();
    let pods: Api<Pod> = Api::namespaced(client(&s).await, "default");
    running_pod(&s, &pods, "helper").await;
    let big_out = pattern(3 * 1024 * 1024 + 7, 1);
    let reply = big_out.clone();
    s.on_exec(move |call| {
        if call.command == ["tar", "-c", "-f", "-", "/data"] {
            ExecReply::stdout(reply.clone())
        } else {
            ExecReply::stdout(format!("{} bytes", call.stdin.len()))
        }
    });

    // Out of the pod: 3 MiB of stdout, over many frames.
    let o = exec(&pods, "helper", &["tar", "-c", "-f", "-", "/data"], None).await;
    assert_eq!(
        o.status.status.as_deref(),
        Some("Success"),
        "{:?}",
        o.status
    );
    assert_eq!(o.stdout.len(), big_out.len());
    assert!(
        o.stdout == big_out,
        "stdout differs from what the handler returned"
    );
    assert!(o.stderr.is_empty());

    // Into the pod: 5 MiB of stdin, closed at the end.
    let big_in = pattern(5 * 1024 * 1024 + 3, 2);
    let o = exec(
        &pods,
        "helper",
        &["tar", "-x", "-f", "-", "-C", "/data"],
        Some(big_in.clone()),
    )
    .await;
    assert_eq!(
        o.status.status.as_deref(),
        Some("Success"),
        "{:?}",
        o.status
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("{} bytes", big_in.len())
    );

    let calls = s.exec_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].command, ["tar", "-c", "-f", "-", "/data"]);
    assert!(calls[0].stdin.is_empty());
    assert_eq!(calls[1].namespace, "default");
    assert_eq!(calls[1].pod, "helper");
    assert_eq!(calls[1].container, "main");
    assert_eq!(calls[1].command, ["tar", "-x", "-f", "-", "-C", "/data"]);
    assert_eq!(calls[1].protocol, "v5.channel.k8s.io");
    assert_eq!(calls[1].stdin.len(), big_in.len());
    assert!(calls[1].stdin == big_in, "stdin differs from what was sent");
    // The exec requests are logged as `create pods/exec`.
    let logged: Vec<_> = s
        .requests()
        .into_iter()
        .filter(|r| r.resource == "pods/exec")
        .collect();
    assert_eq!(logged.len(), 2);
    assert!(logged.iter().all(|r| r.verb == "create" && r.status == 101));
}

#[tokio::test(flavor = "multi_thread")]
async fn non_zero_exit_is_a_failure_status_with_the_exit_code() {
    let s = server();
    let pods: Api<Pod> = Api::namespaced(client(&s).await, "default");
    running_pod(&s, &pods, "helper").await;
    s.on_exec(|_| ExecReply {
        stdout: b"partial".to_vec(),
        stderr: b"tar: /data: No such file or directory\n".to_vec(),
        exit_code: 2,
    });
    let o = exec(&pods, "helper", &["tar", "-c", "/data"], None).await;
    assert_eq!(o.stdout, b"partial");
    assert_eq!(o.stderr, b"tar: /data: No such file or directory\n");
    assert_eq!(o.status.status.as_deref(), Some("Failure"));
    assert_eq!(o.status.reason.as_deref(), Some("NonZeroExitCode"));
    let message = o.status.message.clone().unwrap_or_default();
    assert!(
        message.starts_with("command terminated with non-zero exit code"),
        "{message}"
    );
    assert_eq!(
        exit_cause(&o.status),
        vec![("ExitCode".to_string(), "2".to_string())]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_handler_the_command_exits_126() {
    let s = server();
    let pods: Api<Pod> = Api::namespaced(client(&s).await, "default");
    running_pod(&s, &pods, "helper").await;
    let o = exec(&pods, "helper", &["true"], Some(b"ignored".to_vec())).await;
    assert_eq!(o.status.reason.as_deref(), Some("NonZeroExitCode"));
    assert_eq!(
        exit_cause(&o.status),
        vec![("ExitCode".to_string(), "126".to_string())]
    );
    assert_eq!(o.stderr, b"fake-apiserver: no exec handler");
    assert_eq!(s.exec_calls()[0].stdin, b"ignored");
}

fn api_error(r: kube::Result<kube::api::AttachedProcess>) -> kube::core::Status {
    match r {
        Err(kube::Error::Api(s)) => *s,
        Err(other) => panic!("expected an API error, got {other:?}"),
        Ok(_) => panic!("expected an API error, the exec upgraded"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_are_worded_as_the_real_server_words_them() {
    let s = server();
    let pods: Api<Pod> = Api::namespaced(client(&s).await, "default");
    let ap = AttachParams::default().container("main");

    let e = api_error(pods.exec("nope", ["true"], &ap).await);
    assert_eq!(e.code, 404);
    assert_eq!(e.message, "pods \"nope\" not found");

    running_pod(&s, &pods, "helper").await;
    let e = api_error(
        pods.exec(
            "helper",
            ["true"],
            &AttachParams::default().container("other"),
        )
        .await,
    );
    assert_eq!(e.code, 400);
    assert_eq!(e.message, "container other is not valid for pod helper");

    // Not running yet: created while the kubelet takes its time.
    s.set_rollout_delay(Duration::from_secs(30));
    pods.create(&PostParams::default(), &helper("slow"))
        .await
        .expect("create pod");
    let e = api_error(pods.exec("slow", ["true"], &ap).await);
    assert_eq!(e.code, 400);
    assert!(
        e.message == "pod slow does not have a host assigned"
            || e.message == "unable to upgrade connection: container not found (\"main\")",
        "{}",
        e.message
    );
    assert!(s.exec_calls().is_empty());
}

/// The frames themselves, with a plain WebSocket client offering only `v4.channel.k8s.io`
/// (an older client): the server answers v4, output comes in frames of at most 32 KiB
/// (plus the channel byte), the status last, then a Close.
#[tokio::test(flavor = "multi_thread")]
async fn v4_frames_carry_the_channel_and_the_status_comes_last() {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let s = server();
    let pods: Api<Pod> = Api::namespaced(client(&s).await, "default");
    running_pod(&s, &pods, "helper").await;
    let out = pattern(100 * 1024, 3);
    let reply = out.clone();
    s.on_exec(move |_| ExecReply {
        stdout: reply.clone(),
        stderr: b"warning\n".to_vec(),
        exit_code: 0,
    });

    let url = s.url().replace("http://", "ws://")
        + "/api/v1/namespaces/default/pods/helper/exec?container=main&command=tar&command=-c&stdout=true&stderr=true";
    let mut request = url.into_client_request().expect("request");
    let headers = request.headers_mut();
    headers.insert(
        "Authorization",
        "Bearer fake-token".parse().expect("header"),
    );
    headers.insert(
        "Sec-WebSocket-Protocol",
        "v4.channel.k8s.io".parse().expect("header"),
    );
    let tcp = tokio::net::TcpStream::connect(s.url().trim_start_matches("http://"))
        .await
        .expect("connect");
    let (mut ws, response) = tokio_tungstenite::client_async(request, tcp)
        .await
        .expect("upgrade");
    assert_eq!(
        response.headers()["Sec-WebSocket-Protocol"],
        "v4.channel.k8s.io"
    );

    let mut frames = Vec::new();
    let mut closed = false;
    while let Some(msg) = ws.next().await {
        match msg.expect("frame") {
            Message::Binary(b) => frames.push(b.to_vec()),
            Message::Close(_) => {
                closed = true;
                break;
            }
            _ => {}
        }
    }
    assert!(closed, "the server closes after the status");
    let stdout: Vec<u8> = frames
        .iter()
        .filter(|f| f[0] == 1)
        .flat_map(|f| f[1..].to_vec())
        .collect();
    assert!(stdout == out);
    assert_eq!(frames.iter().filter(|f| f[0] == 1).count(), 4);
    assert!(frames.iter().all(|f| f.len() <= 32 * 1024 + 1));
    let last = frames.last().expect("frames");
    assert_eq!(last[0], 3, "the status comes last");
    let status: serde_json::Value = serde_json::from_slice(&last[1..]).expect("status JSON");
    assert_eq!(status, json!({"metadata": {}, "status": "Success"}));
    let stderr: Vec<u8> = frames
        .iter()
        .filter(|f| f[0] == 2)
        .flat_map(|f| f[1..].to_vec())
        .collect();
    assert_eq!(stderr, b"warning\n");
    assert_eq!(s.exec_calls()[0].protocol, "v4.channel.k8s.io");
}
