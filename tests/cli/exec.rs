//! `cluster::exec` in process against the fake API server: tar-sized streams out of and
//! into a helper pod, exit codes and stderr, and waiting for the pod to run.

use std::time::Duration;

use clawctl::cluster::exec::{self, Exited};
use clawctl::cluster::{Cluster, Target};
use fake_apiserver::{ExecReply, FakeApiServer, Options};
use serde_json::json;

const NS: &str = "default";

fn server() -> FakeApiServer {
    FakeApiServer::start_with(Options {
        rollout_delay: Some(Duration::from_millis(50)),
        ..Options::default()
    })
}

async fn connect(server: &FakeApiServer, dir: &std::path::Path) -> Cluster {
    Cluster::connect(&Target {
        kubeconfig: Some(server.write_kubeconfig(dir)),
        context: None,
    })
    .await
    .expect("connect")
}

/// The bare helper pod a backup creates.
fn helper(server: &FakeApiServer, name: &str, image: &str) {
    server
        .apply_as(
            "clawctl",
            json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": NS},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "helper", "image": image, "command": ["sleep", "3600"]}]
                }
            }),
            false,
        )
        .expect("create the helper pod");
}

/// A running helper pod and a connected cluster.
async fn ready(server: &FakeApiServer, dir: &std::path::Path) -> Cluster {
    let cluster = connect(server, dir).await;
    helper(server, "backup-helper", "busybox:1.36");
    exec::wait_running(&cluster, NS, "backup-helper", Duration::from_secs(10))
        .await
        .expect("the helper pod runs");
    cluster
}

fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_stdout_streams_to_a_file_byte_for_byte() {
    let server = server();
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = ready(&server, dir.path()).await;
    let archive = pattern(4 * 1024 * 1024 + 11, 7);
    let reply = archive.clone();
    server.on_exec(move |_| ExecReply::stdout(reply.clone()));

    let path = dir.path().join("backup.tar");
    let mut file = tokio::fs::File::create(&path).await.expect("create");
    let exited = exec::run(
        &cluster,
        NS,
        "backup-helper",
        "helper",
        &["tar", "-c", "-f", "-", "-C", "/home/node/.openclaw", "."],
        None::<tokio::fs::File>,
        &mut file,
    )
    .await
    .expect("exec");
    drop(file);

    assert_eq!(
        exited,
        Exited {
            code: 0,
            stderr: String::new()
        }
    );
    let written = std::fs::read(&path).expect("read back");
    assert_eq!(written.len(), archive.len());
    assert!(
        written == archive,
        "the file differs from the command's stdout"
    );
    let calls = server.exec_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].pod, "backup-helper");
    assert_eq!(calls[0].container, "helper");
    assert_eq!(
        calls[0].command,
        ["tar", "-c", "-f", "-", "-C", "/home/node/.openclaw", "."]
    );
    assert!(calls[0].stdin.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn stdin_from_a_file_arrives_byte_for_byte() {
    let server = server();
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = ready(&server, dir.path()).await;
    server.on_exec(|call| ExecReply::stdout(format!("{} bytes\n", call.stdin.len())));
    let archive = pattern(5 * 1024 * 1024 + 5, 11);
    let path = dir.path().join("restore.tar");
    std::fs::write(&path, &archive).expect("write");

    let mut out = Vec::new();
    let file = tokio::fs::File::open(&path).await.expect("open");
    let exited = exec::run(
        &cluster,
        NS,
        "backup-helper",
        "helper",
        &["tar", "-x", "-f", "-", "-C", "/home/node/.openclaw"],
        Some(file),
        &mut out,
    )
    .await
    .expect("exec");

    assert!(exited.success(), "{exited:?}");
    assert_eq!(
        String::from_utf8_lossy(&out),
        format!("{} bytes\n", archive.len())
    );
    let calls = server.exec_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].stdin.len(), archive.len());
    assert!(calls[0].stdin == archive, "stdin differs from the file");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_non_zero_exit_reports_its_code_and_stderr() {
    let server = server();
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = ready(&server, dir.path()).await;
    // More stderr than is kept: only its end comes back.
    let mut stderr = "x".repeat(exec::STDERR_CAP);
    stderr.push_str("tar: /home/node/.openclaw: Cannot open: No such file or directory\n");
    let reply = stderr.clone();
    server.on_exec(move |_| ExecReply::exit(2, reply.clone()));

    let mut out = Vec::new();
    let exited = exec::run(
        &cluster,
        NS,
        "backup-helper",
        "helper",
        &["tar", "-c", "/home/node/.openclaw"],
        None::<tokio::fs::File>,
        &mut out,
    )
    .await
    .expect("a non-zero exit is not an error");
    assert_eq!(exited.code, 2);
    assert!(!exited.success());
    assert_eq!(exited.stderr.len(), exec::STDERR_CAP);
    assert!(
        stderr.ends_with(&exited.stderr),
        "the last bytes of stderr are kept"
    );
    assert!(out.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_exec_names_the_pod_and_namespace() {
    let server = server();
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = ready(&server, dir.path()).await;
    let mut out = Vec::new();
    let err = exec::run(
        &cluster,
        NS,
        "gone",
        "helper",
        &["true"],
        None::<tokio::fs::File>,
        &mut out,
    )
    .await
    .expect_err("no such pod");
    let message = format!("{err:#}");
    assert!(message.contains("pods/exec"), "{message}");
    assert!(message.contains("\"gone\""), "{message}");
    assert!(message.contains("namespace \"default\""), "{message}");
    assert!(message.contains("404"), "{message}");

    let err = exec::run(
        &cluster,
        NS,
        "backup-helper",
        "sidecar",
        &["true"],
        None::<tokio::fs::File>,
        &mut out,
    )
    .await
    .expect_err("no such container");
    let message = format!("{err:#}");
    assert!(
        message.contains("container sidecar is not valid for pod backup-helper"),
        "{message}"
    );
    assert!(server.exec_calls().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn waiting_for_a_pod_says_why_it_does_not_run() {
    let server = server();
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = connect(&server, dir.path()).await;

    let err = exec::wait_running(&cluster, NS, "missing", Duration::from_secs(2))
        .await
        .expect_err("no such pod");
    let message = format!("{err:#}");
    assert!(
        message.contains("\"missing\"") && message.contains("404"),
        "{message}"
    );

    server.unpullable_images("no-such-image");
    helper(&server, "unpullable", "registry.example/no-such-image:1");
    let err = exec::wait_running(&cluster, NS, "unpullable", Duration::from_secs(10))
        .await
        .expect_err("the image cannot be pulled");
    let message = format!("{err:#}");
    assert!(message.contains("cannot start"), "{message}");
    assert!(message.contains("ImagePull"), "{message}");
    assert!(message.contains("no-such-image"), "{message}");

    server.set_rollout_delay(Duration::from_secs(30));
    helper(&server, "slow", "busybox:1.36");
    let err = exec::wait_running(&cluster, NS, "slow", Duration::from_millis(600))
        .await
        .expect_err("not running in time");
    let message = format!("{err:#}");
    assert!(message.contains("was not running after"), "{message}");
    assert!(message.contains("Pending"), "{message}");
}

/// A writer that refuses everything, as a full disk does.
struct Full;

impl tokio::io::AsyncWrite for Full {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        _: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Ready(Err(std::io::Error::other("No space left on device")))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_write_failure_is_an_error_not_a_hang() {
    let server = server();
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = ready(&server, dir.path()).await;
    server.on_exec(|_| ExecReply::stdout(vec![7u8; 1024 * 1024]));
    let err = tokio::time::timeout(
        Duration::from_secs(20),
        exec::run(
            &cluster,
            NS,
            "backup-helper",
            "helper",
            &["tar", "-c", "."],
            None::<tokio::fs::File>,
            &mut Full,
        ),
    )
    .await
    .expect("no hang")
    .expect_err("the write fails");
    let message = format!("{err:#}");
    assert!(message.contains("\"backup-helper\""), "{message}");
    assert!(
        message.contains("cannot write the command's stdout"),
        "{message}"
    );
    assert!(message.contains("No space left on device"), "{message}");
}
