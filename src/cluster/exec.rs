//! Running a command in a pod's container (`pods/exec`) with its stdin and stdout
//! streamed, the transport of `kubectl cp`: a tar archive out of a pod (`tar -c` to a
//! local file) or into one (a local file to `tar -x` on stdin); and waiting for a pod to
//! be Running before that.
//!
//! The exec goes over WebSocket (kube-rs's `Api::exec`, `AttachedProcess`; subprotocol
//! `v5.channel.k8s.io`, `v4` on older servers). The command's end is the `metav1.Status`
//! on the status channel: `Success`, or `Failure` with reason `NonZeroExitCode` and a
//! cause `{reason: ExitCode, message: "<n>"}`, as client-go's `remotecommand` reads it
//! (<https://github.com/kubernetes/kubernetes/blob/master/staging/src/k8s.io/client-go/tools/remotecommand/>,
//! `errorDecoderV4`; <https://docs.rs/kube/latest/kube/api/struct.AttachedProcess.html>).
//! Any other `Failure` (the command could not start, the container went away) is an
//! error.
//!
//! Nothing is buffered whole: stdin is sent as it is read and closed at its end (on
//! `v5`, a close signal; on `v4`, kube-rs closes the connection, so output after the end
//! of stdin may be lost there), stdout is written as it arrives, and only the last
//! [`STDERR_CAP`] bytes of stderr are kept.

use std::pin::pin;
use std::time::Duration;

use anyhow::{Context, anyhow};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::{Api, AttachParams};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::condition::{self, Met};
use super::errors::{self, Request};
use super::{Cluster, jobs, retry};

/// How much of the command's stderr [`Exited::stderr`] keeps: its last 64 KiB.
pub const STDERR_CAP: usize = 64 * 1024;

/// Buffer between kube-rs's WebSocket task and the copies here, per stream.
const PIPE: usize = 64 * 1024;

/// How the command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exited {
    /// Its exit code; 0 is success.
    pub code: i32,
    /// The end of its stderr (the last [`STDERR_CAP`] bytes, lossily UTF-8).
    pub stderr: String,
}

impl Exited {
    pub fn success(&self) -> bool {
        self.code == 0
    }
}

/// Runs `command` in `container` of `pod`: `stdin` (if any) is sent to it and then
/// closed, its stdout is written to `stdout` (and flushed), and its exit code and the end
/// of its stderr are answered. A non-zero exit is an `Ok`; an error is a refused exec (no
/// such pod or container, not running, forbidden), a broken connection, a failure to
/// read `stdin` or write `stdout`, or a command that could not start.
///
/// Without stdin, name the reader type anyway: `None::<tokio::fs::File>`.
pub async fn run<R, W>(
    cluster: &Cluster,
    namespace: &str,
    pod: &str,
    container: &str,
    command: &[&str],
    stdin: Option<R>,
    stdout: &mut W,
) -> anyhow::Result<Exited>
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send,
{
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), namespace);
    let params = AttachParams::default()
        .container(container)
        .stdin(stdin.is_some())
        .stdout(true)
        .stderr(true)
        .max_stdin_buf_size(PIPE)
        .max_stdout_buf_size(PIPE)
        .max_stderr_buf_size(PIPE);
    let request = Request {
        verb: "create",
        resource: "pods/exec",
        namespace: Some(namespace),
        name: Some(pod),
    };
    let mut process = api
        .exec(pod, command.iter().copied(), &params)
        .await
        .map_err(|e| anyhow!(errors::describe(&e, &request)))?;
    let place = || format!("pod {pod:?} in namespace {namespace:?} (container {container:?})");

    let writer = process.stdin();
    let mut out_reader = process.stdout().context("kube-rs gave no stdout reader")?;
    let mut err_reader = process.stderr().context("kube-rs gave no stderr reader")?;
    let status = process
        .take_status()
        .context("kube-rs gave no status channel")?;

    // Stdin: copied as read, then shut down (the end of stdin for the command).
    let send = async {
        if let (Some(mut reader), Some(mut writer)) = (stdin, writer) {
            let mut buf = vec![0u8; PIPE];
            loop {
                let n = reader
                    .read(&mut buf)
                    .await
                    .context("cannot read the data to send to the command's stdin")?;
                if n == 0 {
                    break;
                }
                if writer.write_all(&buf[..n]).await.is_err() {
                    // The exec ended (its status says how) before taking all of stdin.
                    return Ok(());
                }
            }
            let _ = writer.shutdown().await;
        }
        anyhow::Ok(())
    };
    // Stdout and stderr, until kube-rs closes them after the status.
    let receive = async {
        let copy = async {
            tokio::io::copy(&mut out_reader, stdout)
                .await
                .context("cannot write the command's stdout")?;
            stdout
                .flush()
                .await
                .context("cannot write the command's stdout")?;
            anyhow::Ok(())
        };
        let collect = async {
            let mut tail = Vec::new();
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                let n = err_reader.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                tail.extend_from_slice(&buf[..n]);
                if tail.len() > STDERR_CAP {
                    tail.drain(..tail.len() - STDERR_CAP);
                }
            }
            anyhow::Ok(tail)
        };
        // A failed write ends it at once: waiting for stderr's end would wait for a
        // status that cannot come while kube-rs waits for stdout to be read.
        tokio::try_join!(copy, collect).map(|((), tail)| tail)
    };

    let mut send = pin!(send);
    let mut receive = pin!(receive);
    let mut status = pin!(status);
    let mut sent = false;
    let mut received = None;
    // The status comes after all output; stdin is not waited for once it has come
    // (a command may exit without reading all of it).
    let status = loop {
        tokio::select! {
            r = &mut send, if !sent => {
                r.with_context(|| format!("exec in {}", place()))?;
                sent = true;
            }
            r = &mut receive, if received.is_none() => {
                received = Some(r.with_context(|| format!("exec in {}", place()))?);
            }
            s = &mut status => break s,
        }
    };
    let Some(status) = status else {
        // The connection ended without a status: kube-rs's task, ended too, says why.
        return Err(match process.join().await {
            Err(e) => anyhow!("exec in {} broke off: {e}", place()),
            Ok(()) => anyhow!(
                "exec in {}: the connection closed before the command's exit status came",
                place()
            ),
        });
    };
    let tail = match received {
        Some(tail) => tail,
        None => receive
            .await
            .with_context(|| format!("exec in {}", place()))?,
    };
    let code = exit_code(&status).map_err(|message| {
        anyhow!(
            "exec of {:?} in {} failed: {message}",
            command.join(" "),
            place()
        )
    })?;
    Ok(Exited {
        code,
        stderr: String::from_utf8_lossy(&tail).into_owned(),
    })
}

/// The exit code a status on the exec's status channel reports, or its message when it
/// reports no exit (the command did not run).
pub fn exit_code(status: &Status) -> Result<i32, String> {
    let message = || {
        status
            .message
            .clone()
            .filter(|m| !m.is_empty())
            .or_else(|| status.reason.clone())
            .unwrap_or_else(|| "the exec ended with an unknown status".to_string())
    };
    match (status.status.as_deref(), status.reason.as_deref()) {
        (Some("Success"), _) => Ok(0),
        (Some("Failure"), Some("NonZeroExitCode")) => status
            .details
            .as_ref()
            .and_then(|d| d.causes.as_ref())
            .into_iter()
            .flatten()
            .find(|c| c.reason.as_deref() == Some("ExitCode"))
            .and_then(|c| c.message.as_deref()?.trim().parse().ok())
            .ok_or_else(message),
        _ => Err(message()),
    }
}

/// Waiting reasons that do not go away by waiting.
const STUCK: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "CrashLoopBackOff",
];

/// Waits up to `timeout` for `pod` to be Running, watching it (`condition::until`).
/// Fails at once when it is gone, has ended (Succeeded or Failed), or a container cannot
/// start (its image cannot be pulled, its config is wrong, it crash-loops); at the
/// timeout, says what the pod is waiting for (its containers' waiting reason, or why it
/// is not scheduled).
pub async fn wait_running(
    cluster: &Cluster,
    namespace: &str,
    pod: &str,
    timeout: Duration,
) -> anyhow::Result<()> {
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), namespace);
    let request = Request {
        verb: "get",
        resource: "pods",
        namespace: Some(namespace),
        name: Some(pod),
    };
    let met = condition::until(&api, pod, Instant::now() + timeout, |live: Option<&Pod>| {
        live.is_none_or(|live| running(live).is_some())
    })
    .await
    .map_err(|e| {
        anyhow!(errors::describe(
            &e,
            &Request {
                verb: "watch",
                ..request
            }
        ))
    })?;
    let live = match met {
        Met::Now(Some(live)) => live,
        // Gone, or never there: the API server's own answer says which.
        Met::Now(None) | Met::TimedOut => retry::idempotent(|| api.get(pod))
            .await
            .map_err(|e| anyhow!(errors::describe(&e, &request)))?,
    };
    let story = || jobs::describe_pod(&live);
    match running(&live) {
        Some(Ok(())) => Ok(()),
        Some(Err(Stop::Ended(phase))) => Err(anyhow!(
            "pod {pod:?} in namespace {namespace:?} ended ({phase}) instead of running{}",
            story().map(|s| format!(": {s}")).unwrap_or_default()
        )),
        Some(Err(Stop::Stuck)) => Err(anyhow!(
            "pod {pod:?} in namespace {namespace:?} cannot start: {}",
            story().unwrap_or_else(|| "a container cannot start".to_string())
        )),
        None => Err(anyhow!(
            "pod {pod:?} in namespace {namespace:?} was not running after {} s ({}){}",
            timeout.as_secs(),
            phase(&live),
            story().map(|s| format!(": {s}")).unwrap_or_default()
        )),
    }
}

/// Why a pod will not be Running by waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop<'a> {
    /// It ended, in this phase.
    Ended(&'a str),
    /// A container waits for a reason in [`STUCK`].
    Stuck,
}

/// `Some(Ok)` Running, `Some(Err)` never will be, `None` not yet.
fn running(pod: &Pod) -> Option<Result<(), Stop<'_>>> {
    match phase(pod) {
        "Running" => return Some(Ok(())),
        ended @ ("Succeeded" | "Failed") => return Some(Err(Stop::Ended(ended))),
        _ => {}
    }
    let stuck = pod
        .status
        .iter()
        .flat_map(|s| {
            s.init_container_statuses
                .iter()
                .flatten()
                .chain(s.container_statuses.iter().flatten())
        })
        .filter_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.as_deref())
        .any(|r| STUCK.contains(&r));
    stuck.then_some(Err(Stop::Stuck))
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

/// Creates a pod (JSON) to exec into, such as `snapshot::archive`'s helper.
pub async fn create_pod(cluster: &Cluster, pod: &serde_json::Value) -> anyhow::Result<()> {
    let namespace = pod["metadata"]["namespace"].as_str().unwrap_or_default();
    let name = pod["metadata"]["name"].as_str().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), namespace);
    let typed: Pod = serde_json::from_value(pod.clone())?;
    api.create(&kube::api::PostParams::default(), &typed)
        .await
        .map_err(|e| {
            anyhow!(super::errors::describe(
                &e,
                &Request {
                    verb: "create",
                    resource: "pods",
                    namespace: Some(namespace),
                    name: Some(name),
                }
            ))
        })?;
    Ok(())
}

/// Deletes a helper pod at once (grace period 0: it only sleeps). Best effort: its
/// `activeDeadlineSeconds` ends it anyway.
pub async fn delete_pod(cluster: &Cluster, namespace: &str, name: &str) {
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), namespace);
    let _ = api
        .delete(name, &kube::api::DeleteParams::default().grace_period(0))
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(v: serde_json::Value) -> Status {
        serde_json::from_value(v).expect("status")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_pod_is_watched_until_it_runs_with_the_admin_role_of_its_namespace() {
        let server = fake_apiserver::FakeApiServer::start_with(fake_apiserver::Options {
            rollout_delay: Some(Duration::from_millis(300)),
            ..Default::default()
        });
        // The credentials clawctl documents: `admin` through a RoleBinding.
        server.restrict_to_namespaces(&["team"]);
        let dir = tempfile::tempdir().expect("tempdir");
        let cluster = Cluster::connect(&super::super::Target {
            kubeconfig: Some(server.write_kubeconfig(dir.path())),
            context: None,
        })
        .await
        .expect("connected");
        server
            .apply_as(
                "clawctl",
                serde_json::json!({"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": "helper", "namespace": "team"},
                    "spec": {"containers": [{"name": "helper", "image": "busybox:1.36"}]}}),
                false,
            )
            .expect("pod");
        server.clear_requests();
        let started = Instant::now();
        wait_running(&cluster, "team", "helper", Duration::from_secs(10))
            .await
            .expect("running");
        assert!(started.elapsed() >= Duration::from_millis(300));
        let verbs: Vec<String> = server
            .requests()
            .iter()
            .filter(|r| r.resource == "pods")
            .map(|r| r.verb.clone())
            .collect();
        assert_eq!(verbs, ["list", "watch"], "watched, not polled");
    }

    #[test]
    fn the_exit_code_comes_from_the_status() {
        assert_eq!(
            exit_code(&status(
                serde_json::json!({"metadata": {}, "status": "Success"})
            )),
            Ok(0)
        );
        assert_eq!(
            exit_code(&status(serde_json::json!({
                "metadata": {}, "status": "Failure",
                "message": "command terminated with non-zero exit code: error executing command [tar -c], exit code 2",
                "reason": "NonZeroExitCode",
                "details": {"causes": [{"reason": "ExitCode", "message": "2"}]},
            }))),
            Ok(2)
        );
        assert_eq!(
            exit_code(&status(serde_json::json!({
                "metadata": {}, "status": "Failure",
                "message": "OCI runtime exec failed: exec failed: unable to start container process: exec: \"tar\": executable file not found in $PATH: unknown",
                "reason": "InternalError",
            }))),
            Err("OCI runtime exec failed: exec failed: unable to start container process: exec: \"tar\": executable file not found in $PATH: unknown".to_string())
        );
    }
}
