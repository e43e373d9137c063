//! Waiting for one object, by name, to meet a condition: a watch
//! (`kube::runtime::wait::await_condition`, a `metadata.name` field selector) instead of
//! reading the object again and again, so the answer comes with the change that makes
//! it true, under a deadline. A watch broken by something that passes (429, 5xx, a
//! dropped connection, a resourceVersion too old: 410) is started again after a pause,
//! which lists the object afresh, so no change is missed; anything else (a 403: these
//! credentials may not `watch` it) is the error.

use std::fmt::Debug;
use std::time::Duration;

use kube::Resource;
use kube::api::Api;
use kube::runtime::wait::{self, await_condition};
use kube::runtime::watcher;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::retry;

/// The first pause before a broken watch is started again; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(200);
const MAX_PAUSE: Duration = Duration::from_secs(5);

/// How a wait ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Met<K> {
    /// The condition held: the object as it was then (`None`: it does not exist).
    Now(Option<K>),
    /// The deadline passed first.
    TimedOut,
}

/// Waits until `condition` holds for the object `name` of `api` (it is given `None`
/// while the object does not exist), or `deadline` passes.
pub async fn until<K>(
    api: &Api<K>,
    name: &str,
    deadline: Instant,
    condition: impl Fn(Option<&K>) -> bool,
) -> Result<Met<K>, kube::Error>
where
    K: Resource + Clone + Debug + Send + DeserializeOwned + 'static,
{
    let mut pause = FIRST_PAUSE;
    loop {
        let watched = await_condition(api.clone(), name, |k: Option<&K>| condition(k));
        let error = match tokio::time::timeout_at(deadline, watched).await {
            Err(_) => return Ok(Met::TimedOut),
            Ok(Ok(object)) => return Ok(Met::Now(object)),
            Ok(Err(wait::Error::ProbeFailed(error))) => error,
        };
        let error = match error {
            watcher::Error::InitialListFailed(e)
            | watcher::Error::WatchStartFailed(e)
            | watcher::Error::WatchFailed(e) => e,
            watcher::Error::WatchError(status) => kube::Error::Api(status),
            watcher::Error::NoResourceVersion => {
                return Err(kube::Error::Service(
                    "the API server's watch answers carry no resourceVersion".into(),
                ));
            }
        };
        let gone = matches!(&error, kube::Error::Api(status) if status.code == 410);
        if !gone && !retry::is_transient(&error) {
            return Err(error);
        }
        if Instant::now() + pause >= deadline {
            return Ok(Met::TimedOut);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fake_apiserver::{FakeApiServer, Fault, FaultRule};
    use k8s_openapi::api::core::v1::ConfigMap;
    use serde_json::json;

    async fn client(server: &FakeApiServer) -> kube::Client {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = super::super::Target {
            kubeconfig: Some(server.write_kubeconfig(dir.path())),
            context: None,
        };
        super::super::Cluster::connect(&target)
            .await
            .expect("connected")
            .client
    }

    fn config_map(value: &str) -> serde_json::Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "flag", "namespace": "default"},
               "data": {"state": value}})
    }

    fn state(cm: Option<&ConfigMap>) -> Option<&str> {
        cm?.data.as_ref()?.get("state").map(String::as_str)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_change_that_meets_the_condition_ends_the_wait_without_polling() {
        let server = std::sync::Arc::new(FakeApiServer::start());
        let api: Api<ConfigMap> = Api::namespaced(client(&server).await, "default");
        server
            .apply_as("someone", config_map("starting"), true)
            .expect("written");
        server.clear_requests();
        let writer = {
            let server = server.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                server
                    .apply_as("someone", config_map("done"), true)
                    .expect("written");
            })
        };
        let started = Instant::now();
        let met = until(&api, "flag", started + Duration::from_secs(10), |cm| {
            state(cm) == Some("done")
        })
        .await
        .expect("waited");
        writer.await.expect("writer");
        let Met::Now(Some(cm)) = met else {
            panic!("not met: {met:?}")
        };
        assert_eq!(state(Some(&cm)), Some("done"));
        assert!(started.elapsed() < Duration::from_secs(2));
        // One list and one watch: nothing read again and again.
        let verbs: Vec<String> = server.requests().iter().map(|r| r.verb.clone()).collect();
        assert_eq!(verbs, ["list", "watch"]);

        // A condition on absence holds at once for an object that does not exist.
        let met = until(
            &api,
            "none",
            Instant::now() + Duration::from_secs(5),
            |cm| cm.is_none(),
        )
        .await
        .expect("waited");
        assert_eq!(met, Met::Now(None));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_broken_watch_is_started_again_and_a_refused_one_is_the_error() {
        let server = FakeApiServer::start();
        let api: Api<ConfigMap> = Api::namespaced(client(&server).await, "default");
        server
            .apply_as("someone", config_map("done"), true)
            .expect("written");
        // The first list fails with a 503: the wait lists again and finds it.
        server.inject(
            FaultRule::new(Fault::Status {
                code: 503,
                retry_after: None,
            })
            .method("GET")
            .path("/configmaps"),
        );
        let met = until(
            &api,
            "flag",
            Instant::now() + Duration::from_secs(10),
            |cm| state(cm) == Some("done"),
        )
        .await
        .expect("waited");
        assert!(matches!(met, Met::Now(Some(_))), "{met:?}");

        // Not met in time.
        let met = until(
            &api,
            "flag",
            Instant::now() + Duration::from_millis(300),
            |cm| state(cm) == Some("never"),
        )
        .await
        .expect("waited");
        assert_eq!(met, Met::TimedOut);

        // A 403 is not waited out.
        server.deny("list", "configmaps", Some("default"));
        let error = until(
            &api,
            "flag",
            Instant::now() + Duration::from_secs(10),
            |_| false,
        )
        .await
        .expect_err("forbidden");
        assert!(
            matches!(&error, kube::Error::Api(s) if s.code == 403),
            "{error:?}"
        );
    }
}
