//! batch/v1 Jobs against the fake through kube-rs: discovery, the stored defaults, the
//! simulated Job controller and kubelet (success, crash images, unpullable images,
//! activeDeadlineSeconds), validation, and garbage collection of a Job's pods.

use std::time::Duration;

use fake_apiserver::{FakeApiServer, Options};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::Discovery;
use kube::runtime::wait::{await_condition, conditions};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

async fn client(s: &FakeApiServer) -> Client {
    let kc = kube::config::Kubeconfig::from_yaml(&s.kubeconfig()).expect("kubeconfig parses");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("config");
    Client::try_from(cfg).expect("client")
}

fn server(delay_ms: u64) -> FakeApiServer {
    FakeApiServer::start_with(Options {
        rollout_delay: Some(Duration::from_millis(delay_ms)),
        ..Default::default()
    })
}

/// A backup-like Job: one rclone container, `restartPolicy: Never`.
fn job(name: &str, image: &str) -> Value {
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "backup"}},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "rclone", "image": image,
                                    "args": ["sync", "/data", "remote:bucket"]}]
                }
            }
        }
    })
}

fn raw_job(s: &FakeApiServer, name: &str) -> Value {
    s.get("batch/v1", "Job", Some("default"), name)
        .unwrap_or_else(|| panic!("job {name} stored"))
}

fn pods_of(s: &FakeApiServer, job: &str) -> Vec<Value> {
    s.list("v1", "Pod", Some("default"))
        .into_iter()
        .filter(|p| p["metadata"]["labels"]["batch.kubernetes.io/job-name"] == job)
        .collect()
}

fn condition_types(job: &Value) -> Vec<String> {
    job["status"]["conditions"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| c["type"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Polls the stored Job until `done` holds (panics after `secs`).
async fn wait_job(
    s: &FakeApiServer,
    name: &str,
    secs: u64,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let until = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let j = raw_job(s, name);
        if done(&j) {
            return j;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "job {name} never got there: {:#}",
            j["status"]
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn finished(j: &Value) -> bool {
    let ts = condition_types(j);
    ts.iter().any(|t| t == "Complete" || t == "Failed")
}

fn api_error(e: kube::Error) -> kube::core::Status {
    match e {
        kube::Error::Api(s) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_are_discovered_with_their_status_subresource() {
    let s = server(50);
    let c = client(&s).await;
    let gvk = GroupVersionKind::gvk("batch", "v1", "Job");
    let d = Discovery::new(c.clone()).run().await.expect("discovery");
    let (ar, caps) = d.resolve_gvk(&gvk).expect("jobs in legacy discovery");
    assert_eq!(ar.plural, "jobs");
    assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);
    assert!(caps.supports_operation("watch"));
    assert!(caps.subresources.iter().any(|(r, _)| r.plural == "status"));
    let agg = Discovery::new(c.clone())
        .run_aggregated()
        .await
        .expect("aggregated discovery");
    let (ar, caps) = agg.resolve_gvk(&gvk).expect("jobs in aggregated discovery");
    assert_eq!(ar.plural, "jobs");
    assert!(caps.subresources.iter().any(|(r, _)| r.plural == "status"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_stores_the_real_defaults_and_generated_labels() {
    let s = server(50);
    let c = client(&s).await;
    let jobs: Api<Job> = Api::namespaced(c.clone(), "default");
    let created: Job = serde_json::from_value(job("backup-a", "rclone/rclone:1.68")).unwrap();
    jobs.create(&PostParams::default(), &created)
        .await
        .expect("create");
    let j = raw_job(&s, "backup-a");
    let uid = j["metadata"]["uid"].as_str().expect("uid").to_string();
    let spec = &j["spec"];
    assert_eq!(spec["completions"], 1);
    assert_eq!(spec["parallelism"], 1);
    assert_eq!(spec["backoffLimit"], 6);
    assert_eq!(spec["completionMode"], "NonIndexed");
    assert_eq!(spec["suspend"], false);
    assert_eq!(spec["podReplacementPolicy"], "TerminatingOrFailed");
    assert!(spec.get("manualSelector").is_none(), "{spec:#}");
    assert_eq!(
        spec["selector"],
        json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
    );
    let labels = json!({
        "app.kubernetes.io/name": "backup",
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": "backup-a",
        "controller-uid": uid,
        "job-name": "backup-a",
    });
    let mut template_labels = spec["template"]["metadata"]["labels"].clone();
    template_labels.as_object_mut().unwrap().sort_keys();
    assert_eq!(template_labels, labels);
    // A Job without labels of its own takes its template's.
    let mut job_labels = j["metadata"]["labels"].clone();
    job_labels.as_object_mut().unwrap().sort_keys();
    assert_eq!(job_labels, labels);
    assert_eq!(j["metadata"]["generation"], 1);
    // The pod template defaults, as for a Deployment's.
    let pod_spec = &spec["template"]["spec"];
    assert_eq!(pod_spec["restartPolicy"], "Never");
    assert_eq!(pod_spec["terminationGracePeriodSeconds"], 30);
    assert_eq!(pod_spec["dnsPolicy"], "ClusterFirst");
    assert_eq!(pod_spec["schedulerName"], "default-scheduler");
    assert_eq!(
        pod_spec["containers"][0]["terminationMessagePolicy"],
        "File"
    );
    assert_eq!(pod_spec["containers"][0]["imagePullPolicy"], "IfNotPresent");

    // Labels of its own stay; values given are kept (backoffLimit 0, parallelism only).
    let mut own = job("backup-b", "rclone/rclone:1.68");
    own["metadata"]["labels"] = json!({"team": "x"});
    own["spec"]["backoffLimit"] = json!(0);
    own["spec"]["parallelism"] = json!(2);
    jobs.patch(
        "backup-b",
        &PatchParams::apply("clawctl"),
        &Patch::Apply(&own),
    )
    .await
    .expect("apply");
    let b = raw_job(&s, "backup-b");
    assert_eq!(b["metadata"]["labels"], json!({"team": "x"}));
    assert_eq!(b["spec"]["backoffLimit"], 0);
    assert_eq!(b["spec"]["parallelism"], 2);
    assert!(b["spec"].get("completions").is_none(), "{:#}", b["spec"]);
    // Applying the same manifest again is accepted (the generated fields stay).
    jobs.patch(
        "backup-b",
        &PatchParams::apply("clawctl"),
        &Patch::Apply(&own),
    )
    .await
    .expect("re-apply");
    assert_eq!(
        raw_job(&s, "backup-b")["spec"]["selector"],
        b["spec"]["selector"]
    );
    // Its pod template is immutable; parallelism is not.
    let mut changed = own.clone();
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = json!("rclone/rclone:1.69");
    let e = api_error(
        jobs.patch(
            "backup-b",
            &PatchParams::apply("clawctl"),
            &Patch::Apply(&changed),
        )
        .await
        .expect_err("a changed template"),
    );
    assert_eq!(e.code, 422);
    assert!(
        e.message
            .starts_with("Job.batch \"backup-b\" is invalid: spec.template: Invalid value: ")
            && e.message.ends_with(": field is immutable"),
        "{}",
        e.message
    );
    let mut scaled = own.clone();
    scaled["spec"]["parallelism"] = json!(1);
    jobs.patch(
        "backup-b",
        &PatchParams::apply("clawctl"),
        &Patch::Apply(&scaled),
    )
    .await
    .expect("parallelism may change");
    assert_eq!(raw_job(&s, "backup-b")["spec"]["parallelism"], 1);

    // A selector of one's own without manualSelector is refused, as the real server does.
    let mut manual = job("backup-c", "rclone/rclone:1.68");
    manual["spec"]["selector"] = json!({"matchLabels": {"app.kubernetes.io/name": "backup"}});
    let e = api_error(
        jobs.create(
            &PostParams::default(),
            &serde_json::from_value(manual).unwrap(),
        )
        .await
        .expect_err("a selector that is not generated"),
    );
    assert_eq!(e.code, 422);
    assert!(
        e.message.contains("`selector` not auto-generated"),
        "{}",
        e.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_policy_always_is_refused() {
    let s = server(50);
    let c = client(&s).await;
    let jobs: Api<Job> = Api::namespaced(c.clone(), "default");
    let mut always = job("always", "rclone/rclone:1.68");
    always["spec"]["template"]["spec"]["restartPolicy"] = json!("Always");
    let mut unset = job("unset", "rclone/rclone:1.68");
    unset["spec"]["template"]["spec"]
        .as_object_mut()
        .unwrap()
        .remove("restartPolicy");
    for (name, obj) in [("always", always), ("unset", unset)] {
        let e = api_error(
            jobs.create(
                &PostParams::default(),
                &serde_json::from_value(obj).unwrap(),
            )
            .await
            .expect_err("restartPolicy Always"),
        );
        assert_eq!(e.code, 422);
        assert_eq!(e.reason, "Invalid");
        assert_eq!(
            e.message,
            format!(
                "Job.batch {name:?} is invalid: spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\""
            )
        );
        assert!(s.get("batch/v1", "Job", Some("default"), name).is_none());
    }
    // The same through server-side apply.
    let mut applied = job("applied", "rclone/rclone:1.68");
    applied["spec"]["template"]["spec"]["restartPolicy"] = json!("Always");
    let e = api_error(
        jobs.patch(
            "applied",
            &PatchParams::apply("clawctl"),
            &Patch::Apply(&applied),
        )
        .await
        .expect_err("apply with restartPolicy Always"),
    );
    assert_eq!(e.code, 422);
    assert!(pods_of(&s, "always").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_runs_one_pod_to_completion() {
    let s = server(150);
    let c = client(&s).await;
    let jobs: Api<Job> = Api::namespaced(c.clone(), "default");
    jobs.patch(
        "backup",
        &PatchParams::apply("clawctl"),
        &Patch::Apply(&job("backup", "rclone/rclone:1.68")),
    )
    .await
    .expect("apply");
    // While its pod runs: active, startTime, not finished.
    let running = wait_job(&s, "backup", 5, |j| j["status"]["active"] == 1).await;
    assert!(running["status"]["startTime"].is_string());
    assert!(running["status"].get("completionTime").is_none());
    assert!(condition_types(&running).is_empty());
    let done = wait_job(&s, "backup", 5, finished).await;
    let st = &done["status"];
    assert_eq!(condition_types(&done), ["SuccessCriteriaMet", "Complete"]);
    for c in st["conditions"].as_array().unwrap() {
        assert_eq!(c["status"], "True");
        assert_eq!(c["reason"], "CompletionsReached");
        assert_eq!(c["message"], "Reached expected number of succeeded pods");
    }
    assert_eq!(st["succeeded"], 1);
    assert!(st.get("active").is_none(), "zero active is omitted: {st:#}");
    assert!(st.get("failed").is_none());
    assert_eq!(st["ready"], 0);
    assert_eq!(st["terminating"], 0);
    assert_eq!(st["uncountedTerminatedPods"], json!({}));
    assert!(st["startTime"].is_string());
    assert!(st["completionTime"].is_string());
    let mf = done["metadata"]["managedFields"].as_array().unwrap();
    assert!(
        mf.iter()
            .any(|e| e["manager"] == "kube-controller-manager" && e["subresource"] == "status"),
        "{mf:#?}"
    );
    // The controller's Events, as `kubectl describe job` shows them.
    let reasons: Vec<String> = s
        .list("v1", "Event", Some("default"))
        .iter()
        .filter(|e| e["involvedObject"]["kind"] == "Job" && e["involvedObject"]["name"] == "backup")
        .map(|e| e["reason"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons.contains(&"SuccessfulCreate".to_string()));
    assert!(reasons.contains(&"Completed".to_string()));
    // The typed client reads it as kube-rs users check completion.
    let typed = jobs.get("backup").await.expect("get");
    let typed_st = typed.status.expect("status");
    assert_eq!(typed_st.succeeded, Some(1));
    assert!(
        typed_st
            .conditions
            .unwrap()
            .iter()
            .any(|c| c.type_ == "Complete" && c.status == "True")
    );

    let pods = pods_of(&s, "backup");
    assert_eq!(pods.len(), 1, "one pod");
    let p = &pods[0];
    let name = p["metadata"]["name"].as_str().unwrap();
    assert!(
        name.starts_with("backup-") && name.len() == "backup-".len() + 5,
        "{name}"
    );
    let owner = &p["metadata"]["ownerReferences"][0];
    assert_eq!(owner["kind"], "Job");
    assert_eq!(owner["apiVersion"], "batch/v1");
    assert_eq!(owner["name"], "backup");
    assert_eq!(owner["uid"], done["metadata"]["uid"]);
    assert_eq!(owner["controller"], true);
    assert_eq!(owner["blockOwnerDeletion"], true);
    assert_eq!(p["metadata"]["labels"]["app.kubernetes.io/name"], "backup");
    assert_eq!(p["metadata"]["labels"]["job-name"], "backup");
    assert!(
        p["metadata"].get("finalizers").is_none(),
        "the tracking finalizer is removed once counted"
    );
    assert_eq!(p["spec"]["nodeName"], "fake-node");
    assert_eq!(p["status"]["phase"], "Succeeded");
    let term = &p["status"]["containerStatuses"][0]["state"]["terminated"];
    assert_eq!(term["exitCode"], 0);
    assert_eq!(term["reason"], "Completed");
    // The pod found by the Job's selector, as `kubectl logs job/backup` does.
    let pods_api: Api<Pod> = Api::namespaced(c.clone(), "default");
    let by_selector = pods_api
        .list(&ListParams::default().labels(&format!(
            "batch.kubernetes.io/controller-uid={}",
            done["metadata"]["uid"].as_str().unwrap()
        )))
        .await
        .expect("list");
    assert_eq!(by_selector.items.len(), 1);
    assert_eq!(by_selector.items[0].name_any(), name);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_image_fails_the_job_with_the_pods_message() {
    let s = server(40);
    s.crash_images("broken");
    let c = client(&s).await;
    let jobs: Api<Job> = Api::namespaced(c.clone(), "default");
    let mut once = job("restore", "registry/broken-rclone:1");
    once["spec"]["backoffLimit"] = json!(0);
    once["spec"]["template"]["spec"]["containers"][0]["env"] =
        json!([{"name": "CLAWCTL_FAKE_FAILURE", "value": "Failed to sync: 403 Forbidden"}]);
    once["spec"]["template"]["spec"]["containers"][0]["terminationMessagePolicy"] =
        json!("FallbackToLogsOnError");
    jobs.patch(
        "restore",
        &PatchParams::apply("clawctl"),
        &Patch::Apply(&once),
    )
    .await
    .expect("apply");
    let done = wait_job(&s, "restore", 5, finished).await;
    let st = &done["status"];
    assert_eq!(condition_types(&done), ["FailureTarget", "Failed"]);
    for c in st["conditions"].as_array().unwrap() {
        assert_eq!(c["status"], "True");
        assert_eq!(c["reason"], "BackoffLimitExceeded");
        assert_eq!(c["message"], "Job has reached the specified backoff limit");
    }
    assert_eq!(st["failed"], 1);
    assert!(st.get("succeeded").is_none());
    assert!(st.get("active").is_none());
    assert!(st.get("completionTime").is_none(), "only success sets it");
    let pods = pods_of(&s, "restore");
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0]["status"]["phase"], "Failed");
    let term = &pods[0]["status"]["containerStatuses"][0]["state"]["terminated"];
    assert_eq!(term["exitCode"], 1);
    assert_eq!(term["reason"], "Error");
    assert_eq!(term["message"], "Failed to sync: 403 Forbidden");
    assert!(
        s.list("v1", "Event", Some("default"))
            .iter()
            .any(|e| e["involvedObject"]["name"] == "restore"
                && e["type"] == "Warning"
                && e["reason"] == "BackoffLimitExceeded"),
        "a Warning event"
    );

    // backoffLimit 1: the failed pod is replaced once; no env var: the default message.
    let mut twice = job("restore-2", "registry/broken-rclone:1");
    twice["spec"]["backoffLimit"] = json!(1);
    jobs.patch(
        "restore-2",
        &PatchParams::apply("clawctl"),
        &Patch::Apply(&twice),
    )
    .await
    .expect("apply");
    let done = wait_job(&s, "restore-2", 5, finished).await;
    assert_eq!(condition_types(&done), ["FailureTarget", "Failed"]);
    assert_eq!(done["status"]["failed"], 2);
    let pods = pods_of(&s, "restore-2");
    assert_eq!(pods.len(), 2);
    for p in &pods {
        assert_eq!(p["status"]["phase"], "Failed");
        assert_eq!(
            p["status"]["containerStatuses"][0]["state"]["terminated"]["message"],
            "fake failure"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unpullable_image_keeps_the_job_active_and_the_deadline_fails_it() {
    let s = server(40);
    s.unpullable_images("nowhere");
    let c = client(&s).await;
    let jobs: Api<Job> = Api::namespaced(c.clone(), "default");
    let mut stuck = job("stuck", "registry/nowhere:1");
    stuck["spec"]["activeDeadlineSeconds"] = json!(1);
    jobs.patch(
        "stuck",
        &PatchParams::apply("clawctl"),
        &Patch::Apply(&stuck),
    )
    .await
    .expect("apply");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let j = raw_job(&s, "stuck");
    assert_eq!(j["status"]["active"], 1, "{:#}", j["status"]);
    assert!(condition_types(&j).is_empty());
    let pods = pods_of(&s, "stuck");
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0]["status"]["phase"], "Pending");
    let reason = pods[0]["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        reason == "ErrImagePull" || reason == "ImagePullBackOff",
        "{reason}"
    );
    // After activeDeadlineSeconds: Failed, DeadlineExceeded, the pod deleted and counted.
    let done = wait_job(&s, "stuck", 5, finished).await;
    assert_eq!(condition_types(&done), ["FailureTarget", "Failed"]);
    for c in done["status"]["conditions"].as_array().unwrap() {
        assert_eq!(c["reason"], "DeadlineExceeded");
        assert_eq!(
            c["message"],
            "Job was active longer than specified deadline"
        );
    }
    assert_eq!(done["status"]["failed"], 1);
    assert!(done["status"].get("active").is_none());
    assert!(pods_of(&s, "stuck").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_job_collects_or_orphans_its_pods() {
    let s = server(40);
    s.unpullable_images("nowhere");
    let c = client(&s).await;
    let jobs: Api<Job> = Api::namespaced(c.clone(), "default");
    for name in ["bg", "fg", "orphan", "nopolicy"] {
        jobs.patch(
            name,
            &PatchParams::apply("clawctl"),
            &Patch::Apply(&job(name, "registry/nowhere:1")),
        )
        .await
        .expect("apply");
        wait_job(&s, name, 5, |j| j["status"]["active"] == 1).await;
        assert_eq!(pods_of(&s, name).len(), 1);
    }
    jobs.delete("bg", &DeleteParams::background())
        .await
        .expect("delete");
    jobs.delete("fg", &DeleteParams::foreground())
        .await
        .expect("delete");
    jobs.delete("orphan", &DeleteParams::orphan())
        .await
        .expect("delete");
    jobs.delete("nopolicy", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(pods_of(&s, "bg").is_empty(), "Background deletes the pod");
    assert!(pods_of(&s, "fg").is_empty(), "Foreground deletes the pod");
    for name in ["orphan", "nopolicy"] {
        let pods = pods_of(&s, name);
        assert_eq!(pods.len(), 1, "{name}: the pod is orphaned");
        assert!(pods[0]["metadata"].get("ownerReferences").is_none());
    }
    assert!(s.list("batch/v1", "Job", Some("default")).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn kube_rs_waits_for_completion_and_an_orphaned_pod_still_finishes() {
    let s = server(200);
    let c = client(&s).await;
    let jobs: Api<Job> = Api::namespaced(c.clone(), "default");
    for name in ["waited", "orphaned"] {
        jobs.patch(
            name,
            &PatchParams::apply("clawctl"),
            &Patch::Apply(&job(name, "rclone/rclone:1.68")),
        )
        .await
        .expect("apply");
    }
    wait_job(&s, "orphaned", 5, |j| j["status"]["active"] == 1).await;
    jobs.delete("orphaned", &DeleteParams::orphan())
        .await
        .expect("delete");
    tokio::time::timeout(
        Duration::from_secs(5),
        await_condition(jobs.clone(), "waited", conditions::is_job_completed()),
    )
    .await
    .expect("in time")
    .expect("watch");
    let st = jobs
        .get("waited")
        .await
        .expect("get")
        .status
        .expect("status");
    assert_eq!(st.succeeded, Some(1));
    // The orphaned pod runs to completion all the same.
    let until = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let pods = pods_of(&s, "orphaned");
        assert_eq!(pods.len(), 1);
        assert!(pods[0]["metadata"].get("ownerReferences").is_none());
        if pods[0]["status"]["phase"] == "Succeeded" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "{:#}",
            pods[0]["status"]
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
