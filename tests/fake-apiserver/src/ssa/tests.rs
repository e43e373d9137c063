//! Unit tests of server-side apply against the structured-merge-diff semantics.

use super::*;
use serde_json::json;

const T0: &str = "2024-01-01T00:00:00Z";
const T1: &str = "2024-01-01T00:01:00Z";
const T2: &str = "2024-01-01T00:02:00Z";

fn cm(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "soul", "namespace": "default"}, "data": data})
}

fn deployment(containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "gw", "namespace": "default", "labels": {"app": "gw"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "gw"}},
            "template": {
                "metadata": {"labels": {"app": "gw"}},
                "spec": {"containers": containers}
            }
        }
    })
}

fn entry<'a>(obj: &'a Value, manager: &str, operation: &str) -> Option<&'a Value> {
    obj["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager && e["operation"] == operation)
}

fn fields(obj: &Value, manager: &str, operation: &str) -> String {
    entry(obj, manager, operation)
        .map(|e| e["fieldsV1"].to_string())
        .unwrap_or_default()
}

/// Stands in for the server: stores with a uid, as the HTTP layer would.
fn stored(mut obj: Value) -> Value {
    obj["metadata"]["uid"] = json!("0000-1111");
    obj["metadata"]["resourceVersion"] = json!("1");
    obj
}

fn conflicts(r: Result<Value, ApplyError>) -> Vec<Conflict> {
    match r {
        Err(ApplyError::Conflicts(c)) => c,
        other => panic!("expected conflicts, got {other:?}"),
    }
}

#[test]
fn create_via_apply_owns_every_leaf_and_nothing_server_owned() {
    let mut applied = deployment(
        json!([{"name": "gateway", "image": "gw:1", "env": [{"name": "A", "value": "1"}]}]),
    );
    applied["status"] = json!({"replicas": 5});
    applied["metadata"]["creationTimestamp"] = Value::Null;
    let out = apply(None, &applied, "clawctl", false, T0).unwrap();
    let e = entry(&out, "clawctl", "Apply").expect("an Apply entry");
    assert_eq!(e["apiVersion"], "apps/v1");
    assert_eq!(e["time"], T0);
    assert_eq!(e["fieldsType"], "FieldsV1");
    assert_eq!(
        e["fieldsV1"].to_string(),
        r#"{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"gateway\"}":{".":{},"f:env":{"k:{\"name\":\"A\"}":{".":{},"f:name":{},"f:value":{}}},"f:image":{},"f:name":{}}}}}}}"#
    );
    // status is not applied through the main resource; the object is the configuration.
    assert!(out.get("status").is_none());
    assert_eq!(out["spec"], applied["spec"]);
    assert!(out["metadata"].get("creationTimestamp").is_none());
    assert_eq!(
        out["metadata"]["managedFields"].as_array().unwrap().len(),
        1
    );
}

#[test]
fn reapply_is_a_noop_that_keeps_the_time() {
    let applied = deployment(json!([{"name": "gateway", "image": "gw:1"}]));
    let live = stored(apply(None, &applied, "clawctl", false, T0).unwrap());
    let again = apply(Some(&live), &applied, "clawctl", false, T1).unwrap();
    assert!(same_object(&live, &again));
    assert_eq!(again.to_string(), live.to_string(), "same key order too");
    assert_eq!(entry(&again, "clawctl", "Apply").unwrap()["time"], T0);
    // A real change bumps the time.
    let changed = deployment(json!([{"name": "gateway", "image": "gw:2"}]));
    let out = apply(Some(&live), &changed, "clawctl", false, T1).unwrap();
    assert!(!same_object(&live, &out));
    assert_eq!(entry(&out, "clawctl", "Apply").unwrap()["time"], T1);
    assert_eq!(out["metadata"]["uid"], "0000-1111", "live metadata kept");
}

#[test]
fn dropping_a_field_from_the_configuration_removes_it() {
    let live = stored(apply(None, &cm(json!({"a": "1", "b": "2"})), "clawctl", false, T0).unwrap());
    let out = apply(Some(&live), &cm(json!({"a": "1"})), "clawctl", false, T1).unwrap();
    assert_eq!(out["data"], json!({"a": "1"}));
    assert_eq!(fields(&out, "clawctl", "Apply"), r#"{"f:data":{"f:a":{}}}"#);
    // Dropping the last key drops the emptied map too.
    let out = apply(Some(&out), &cm(json!({})), "clawctl", false, T2).unwrap();
    assert!(out.get("data").is_none(), "{out}");
}

#[test]
fn dropping_a_field_another_manager_also_owns_keeps_it() {
    let live = stored(apply(None, &cm(json!({"a": "1", "b": "2"})), "clawctl", false, T0).unwrap());
    // Same value: shared ownership, no conflict.
    let live = apply(Some(&live), &cm(json!({"b": "2"})), "other", false, T1).unwrap();
    assert_eq!(fields(&live, "other", "Apply"), r#"{"f:data":{"f:b":{}}}"#);
    let out = apply(Some(&live), &cm(json!({"a": "1"})), "clawctl", false, T2).unwrap();
    assert_eq!(out["data"], json!({"a": "1", "b": "2"}));
    assert_eq!(fields(&out, "clawctl", "Apply"), r#"{"f:data":{"f:a":{}}}"#);
    assert_eq!(fields(&out, "other", "Apply"), r#"{"f:data":{"f:b":{}}}"#);
}

#[test]
fn an_update_takes_ownership_and_a_reapply_conflicts_then_force_takes_it_back() {
    let live = stored(apply(None, &cm(json!({"x": "1", "y": "2"})), "clawctl", false, T0).unwrap());
    let mut edited = live.clone();
    edited["data"]["x"] = json!("edited");
    update(Some(&live), &mut edited, "kubectl-edit", T1);
    assert_eq!(
        fields(&edited, "kubectl-edit", "Update"),
        r#"{"f:data":{"f:x":{}}}"#
    );
    assert_eq!(
        entry(&edited, "kubectl-edit", "Update").unwrap()["apiVersion"],
        "v1"
    );
    assert_eq!(
        entry(&edited, "kubectl-edit", "Update").unwrap()["time"],
        T1
    );
    assert_eq!(
        fields(&edited, "clawctl", "Apply"),
        r#"{"f:data":{"f:y":{}}}"#
    );
    // Apply entries sort before Update entries.
    assert_eq!(edited["metadata"]["managedFields"][0]["operation"], "Apply");

    let c = conflicts(apply(
        Some(&edited),
        &cm(json!({"x": "1", "y": "2"})),
        "clawctl",
        false,
        T2,
    ));
    assert_eq!(
        c,
        vec![Conflict {
            manager: "kubectl-edit".into(),
            api_version: "v1".into(),
            field: ".data.x".into()
        }]
    );
    assert_eq!(
        conflict_message(&c),
        r#"Apply failed with 1 conflict: conflict with "kubectl-edit" using v1: .data.x"#
    );
    // Applying the value kubectl-edit set is no conflict (shared ownership).
    let shared = apply(
        Some(&edited),
        &cm(json!({"x": "edited", "y": "2"})),
        "clawctl",
        false,
        T2,
    )
    .unwrap();
    assert_eq!(
        fields(&shared, "kubectl-edit", "Update"),
        r#"{"f:data":{"f:x":{}}}"#
    );
    assert_eq!(
        fields(&shared, "clawctl", "Apply"),
        r#"{"f:data":{"f:x":{},"f:y":{}}}"#
    );

    let forced = apply(
        Some(&edited),
        &cm(json!({"x": "1", "y": "2"})),
        "clawctl",
        true,
        T2,
    )
    .unwrap();
    assert_eq!(forced["data"]["x"], "1");
    assert_eq!(
        fields(&forced, "clawctl", "Apply"),
        r#"{"f:data":{"f:x":{},"f:y":{}}}"#
    );
    assert!(
        entry(&forced, "kubectl-edit", "Update").is_none(),
        "emptied entry dropped"
    );
}

#[test]
fn conflict_notation_for_a_container_field() {
    let applied = deployment(json!([{"name": "gateway", "image": "gw:1"}]));
    let live = stored(apply(None, &applied, "clawctl", false, T0).unwrap());
    let mut edited = live.clone();
    edited["spec"]["template"]["spec"]["containers"][0]["image"] = json!("gw:hotfix");
    edited["spec"]["replicas"] = json!(3);
    edited["metadata"]["labels"]["app"] = json!("changed");
    update(Some(&live), &mut edited, "kubectl-edit", T1);
    let c = conflicts(apply(Some(&edited), &applied, "clawctl", false, T2));
    let got: Vec<&str> = c.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(
        got,
        vec![
            ".metadata.labels.app",
            ".spec.replicas",
            r#".spec.template.spec.containers[name="gateway"].image"#
        ]
    );
    assert!(
        c.iter()
            .all(|c| c.manager == "kubectl-edit" && c.api_version == "apps/v1")
    );
    assert!(conflict_message(&c).starts_with("Apply failed with 3 conflicts: conflicts with \"kubectl-edit\" using apps/v1:\n- .metadata.labels.app\n"));
}

#[test]
fn containers_merge_by_name_and_a_sidecar_added_by_an_update_survives() {
    let applied = deployment(json!([{"name": "gateway", "image": "gw:1"}]));
    let live = stored(apply(None, &applied, "clawctl", false, T0).unwrap());
    let mut injected = live.clone();
    injected["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "sidecar", "image": "mesh:1"}));
    update(Some(&live), &mut injected, "injector", T1);
    assert_eq!(
        fields(&injected, "injector", "Update"),
        r#"{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"sidecar\"}":{".":{},"f:image":{},"f:name":{}}}}}}}"#
    );
    // Re-applying the same configuration: nothing changes, the sidecar stays.
    let again = apply(Some(&injected), &applied, "clawctl", false, T2).unwrap();
    assert!(same_object(&again, &injected));
    // Changing the gateway: merged by name, the sidecar keeps its place and its owner.
    let out = apply(
        Some(&injected),
        &deployment(json!([{"name": "gateway", "image": "gw:2"}])),
        "clawctl",
        false,
        T2,
    )
    .unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"],
        json!([{"name": "gateway", "image": "gw:2"}, {"name": "sidecar", "image": "mesh:1"}])
    );
    assert!(fields(&out, "injector", "Update").contains("sidecar"));
    // Dropping the gateway from the configuration removes it; the sidecar stays.
    let out = apply(Some(&out), &deployment(json!([])), "clawctl", false, T2).unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"],
        json!([{"name": "sidecar", "image": "mesh:1"}])
    );
}

#[test]
fn env_items_are_owned_by_name() {
    let applied = deployment(
        json!([{"name": "gateway", "image": "gw:1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}]),
    );
    let live = stored(apply(None, &applied, "clawctl", false, T0).unwrap());
    let mut edited = live.clone();
    edited["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "DEBUG", "value": "true"}));
    update(Some(&live), &mut edited, "kubectl-edit", T1);
    assert_eq!(
        fields(&edited, "kubectl-edit", "Update"),
        r#"{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"gateway\"}":{"f:env":{"k:{\"name\":\"DEBUG\"}":{".":{},"f:name":{},"f:value":{}}}}}}}}}"#
    );
    // clawctl drops B: B goes, DEBUG (someone else's item) stays, A is untouched.
    let next = deployment(
        json!([{"name": "gateway", "image": "gw:1", "env": [{"name": "A", "value": "1"}]}]),
    );
    let out = apply(Some(&edited), &next, "clawctl", false, T2).unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"][0]["env"],
        json!([{"name": "A", "value": "1"}, {"name": "DEBUG", "value": "true"}])
    );
    // Another applier changing A's value conflicts on that item's value only.
    let mut theirs = deployment(json!([{"name": "gateway", "env": [{"name": "A", "value": "9"}]}]));
    theirs["metadata"]["labels"] = json!({});
    let c = conflicts(apply(Some(&out), &theirs, "other", false, T2));
    assert_eq!(c.len(), 1);
    assert_eq!(
        c[0].field,
        r#".spec.template.spec.containers[name="gateway"].env[name="A"].value"#
    );
    assert_eq!(c[0].manager, "clawctl");
}

#[test]
fn ports_key_on_container_port_and_protocol_with_the_tcp_default() {
    let applied = deployment(
        json!([{"name": "gateway", "image": "gw:1", "ports": [{"containerPort": 8080, "name": "http"}]}]),
    );
    let created = apply(None, &applied, "clawctl", false, T0).unwrap();
    assert!(fields(&created, "clawctl", "Apply").contains(
        r#""f:ports":{"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:name":{}}}"#
    ));
    // The server defaulted protocol: the applied item (no protocol) is the same item.
    let mut live = stored(created);
    live["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"] = json!("TCP");
    let out = apply(Some(&live), &applied, "clawctl", false, T1).unwrap();
    assert!(same_object(&out, &live), "{out}");
    // A UDP port on the same number is another item.
    let udp = deployment(json!([{"name": "gateway", "image": "gw:1", "ports": [
        {"containerPort": 8080, "name": "http"}, {"containerPort": 8080, "protocol": "UDP", "name": "q"}]}]));
    let out = apply(Some(&live), &udp, "clawctl", false, T1).unwrap();
    assert_eq!(
        out["spec"]["template"]["spec"]["containers"][0]["ports"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Service ports key on port and protocol.
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "gw"},
        "spec": {"selector": {"app": "gw"}, "ports": [{"port": 80, "targetPort": 8080}]}});
    let out = apply(None, &svc, "clawctl", false, T0).unwrap();
    assert_eq!(
        fields(&out, "clawctl", "Apply"),
        r#"{"f:spec":{"f:ports":{"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{},"f:targetPort":{}}},"f:selector":{}}}"#
    );
    // An item without its key is refused with structured-merge-diff's message.
    let bad = deployment(json!([{"image": "gw:1"}]));
    assert_eq!(
        apply(None, &bad, "clawctl", false, T0),
        Err(ApplyError::Invalid(
            r#".spec.template.spec.containers: element 0: associative list with keys has an element that omits key field "name" (and doesn't have default value)"#.into()
        ))
    );
}

#[test]
fn fields_v1_round_trips() {
    let mut set = FieldSet::new();
    let f = PathElement::field;
    set.insert(&[f("metadata"), f("labels"), f("app")]);
    set.insert(&[
        f("metadata"),
        f("finalizers"),
        PathElement::Value(json!("x/y")),
    ]);
    let port = PathElement::key(vec![
        ("protocol".into(), json!("TCP")),
        ("containerPort".into(), json!(80)),
    ]);
    let c = PathElement::key(vec![("name".into(), json!("gw"))]);
    let containers = [f("spec"), f("containers")];
    set.insert(&[&containers[..], std::slice::from_ref(&c)].concat());
    set.insert(&[&containers[..], &[c.clone(), f("image")]].concat());
    set.insert(&[&containers[..], &[c.clone(), f("ports"), port.clone()]].concat());
    set.insert(
        &[
            &containers[..],
            &[c.clone(), f("ports"), port.clone(), f("containerPort")],
        ]
        .concat(),
    );
    set.insert(&[f("data"), f("SOUL.md")]);
    let json = set.to_fields_v1();
    let text = serde_json::to_string(&json).unwrap();
    assert_eq!(
        text,
        r#"{"f:data":{"f:SOUL.md":{}},"f:metadata":{"f:finalizers":{"v:\"x/y\"":{}},"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"gw\"}":{".":{},"f:image":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}"#
    );
    let back = FieldSet::from_fields_v1(&serde_json::from_str(&text).unwrap());
    assert_eq!(back, set);
    assert!(back.has(&[&containers[..], &[c, f("ports"), port]].concat()));
    assert_eq!(back.to_fields_v1(), json);
    // Unknown element kinds are skipped, as the real decoder does.
    let odd = FieldSet::from_fields_v1(&json!({"x:y": {}, "f:a": {}}));
    assert_eq!(odd.to_fields_v1(), json!({"f:a": {}}));
}

/// The exact FieldsV1 the real API server writes, from Kubernetes' own tests:
/// * kubernetes/kubernetes test/integration/apiserver/apply/apply_test.go,
///   `TestApplyConvertsManagedFieldsVersion`: the `sidecar_controller` apply of a
///   Deployment expects exactly
///   `{"f:metadata":{"f:labels":{"f:sidecar_version":{}}},"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"sidecar\"}":{".":{},"f:image":{},"f:name":{}}}}}}}`;
/// * kubernetes/kubernetes test/e2e/apimachinery/apply.go, "should create an applied
///   object if it does not already exist": a Pod and a Service created by apply.
#[test]
fn fields_v1_matches_the_real_server() {
    let sidecar = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "deployment", "labels": {"sidecar_version": "release"}},
        "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "sidecar:latest"}]}}}
    });
    let out = apply(None, &sidecar, "sidecar_controller", false, T0).unwrap();
    assert_eq!(
        fields(&out, "sidecar_controller", "Apply"),
        r#"{"f:metadata":{"f:labels":{"f:sidecar_version":{}}},"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"sidecar\"}":{".":{},"f:image":{},"f:name":{}}}}}}}"#
    );
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "test-pod"},
        "spec": {"containers": [{"name": "test-container", "image": "test-image"}]}});
    let out = apply(None, &pod, "apply_test", false, T0).unwrap();
    assert_eq!(
        fields(&out, "apply_test", "Apply"),
        r#"{"f:spec":{"f:containers":{"k:{\"name\":\"test-container\"}":{".":{},"f:image":{},"f:name":{}}}}}"#
    );
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "test-svc"},
        "spec": {"ports": [{"port": 8080, "protocol": "UDP"}]}});
    let out = apply(None, &svc, "apply_test", false, T0).unwrap();
    assert_eq!(
        fields(&out, "apply_test", "Apply"),
        r#"{"f:spec":{"f:ports":{"k:{\"port\":8080,\"protocol\":\"UDP\"}":{".":{},"f:port":{},"f:protocol":{}}}}}"#
    );
}

#[test]
fn update_on_create_owns_everything_with_dots_where_the_real_server_writes_them() {
    // A real `kubectl run` Pod (kubectl-run, operation Update) records
    // {"f:metadata":{"f:labels":{".":{},"f:run":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},...}}}}
    let mut pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "nginx", "namespace": "default", "labels": {"run": "nginx"}},
        "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {}}], "restartPolicy": "Never"},
        "status": {"phase": "Pending"}});
    update(None, &mut pod, "kubectl-run", T0);
    assert_eq!(
        fields(&pod, "kubectl-run", "Update"),
        r#"{"f:metadata":{"f:labels":{".":{},"f:run":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{},"f:name":{},"f:resources":{}}},"f:restartPolicy":{}}}"#
    );
    let mut c = cm(json!({"k": "v"}));
    update(None, &mut c, "kubectl-create", T0);
    assert_eq!(
        fields(&c, "kubectl-create", "Update"),
        r#"{"f:data":{".":{},"f:k":{}}}"#
    );
}

#[test]
fn an_update_that_changes_nothing_keeps_the_time_and_removed_fields_leave_every_set() {
    let mut live = cm(json!({"a": "1", "b": "2"}));
    update(None, &mut live, "creator", T0);
    let live = stored(live);
    let mut same = live.clone();
    update(Some(&live), &mut same, "creator", T1);
    assert_eq!(same, live);
    let live = apply(Some(&live), &cm(json!({"b": "2"})), "clawctl", false, T1).unwrap();
    let mut without_b = live.clone();
    without_b["data"].as_object_mut().unwrap().shift_remove("b");
    update(Some(&live), &mut without_b, "kubectl-edit", T2);
    assert!(
        entry(&without_b, "clawctl", "Apply").is_none(),
        "{without_b}"
    );
    assert!(
        entry(&without_b, "kubectl-edit", "Update").is_none(),
        "a pure removal owns nothing"
    );
    assert_eq!(
        fields(&without_b, "creator", "Update"),
        r#"{"f:data":{".":{},"f:a":{}}}"#
    );
    assert_eq!(entry(&without_b, "creator", "Update").unwrap()["time"], T0);
}

#[test]
fn untracked_objects() {
    // An object stored without managedFields: an update leaves it untracked …
    let live = stored(cm(json!({"a": "1"})));
    let mut next = live.clone();
    next["data"]["a"] = json!("2");
    update(Some(&live), &mut next, "kubectl-edit", T1);
    assert!(next["metadata"].get("managedFields").is_none());
    // … and the first apply sees its fields as owned by "before-first-apply".
    let c = conflicts(apply(
        Some(&live),
        &cm(json!({"a": "9"})),
        "clawctl",
        false,
        T1,
    ));
    assert_eq!(c[0].manager, "before-first-apply");
    assert_eq!(c[0].field, ".data.a");
    // managedFields: [{}] resets the tracking.
    let mut tracked = apply(None, &cm(json!({"a": "1"})), "clawctl", false, T0).unwrap();
    let old = tracked.clone();
    tracked["metadata"]["managedFields"] = json!([{}]);
    update(Some(&old), &mut tracked, "kubectl", T1);
    assert!(tracked["metadata"].get("managedFields").is_none());
}

#[test]
fn applied_configuration_is_checked() {
    let mut bad = cm(json!({}));
    bad["metadata"]["managedFields"] = json!([]);
    assert_eq!(
        apply(None, &bad, "clawctl", false, T0),
        Err(ApplyError::Invalid(
            "metadata.managedFields must be nil".into()
        ))
    );
    let mut nameless = cm(json!({}));
    nameless["metadata"]
        .as_object_mut()
        .unwrap()
        .shift_remove("name");
    assert!(matches!(
        apply(None, &nameless, "clawctl", false, T0),
        Err(ApplyError::Invalid(_))
    ));
    let dup = deployment(json!([{"name": "a"}, {"name": "a"}]));
    assert!(
        matches!(apply(None, &dup, "clawctl", false, T0), Err(ApplyError::Invalid(m)) if m.contains("duplicate entries for key [name=\"a\"]"))
    );
}

#[test]
fn owner_references_by_uid_and_finalizers_as_a_set() {
    let mut c = cm(json!({}));
    c["metadata"]["ownerReferences"] =
        json!([{"apiVersion": "v1", "kind": "X", "name": "o", "uid": "u1"}]);
    c["metadata"]["finalizers"] = json!(["example.com/a"]);
    let live = stored(apply(None, &c, "clawctl", false, T0).unwrap());
    assert_eq!(
        fields(&live, "clawctl", "Apply"),
        r#"{"f:data":{},"f:metadata":{"f:finalizers":{"v:\"example.com/a\"":{}},"f:ownerReferences":{"k:{\"uid\":\"u1\"}":{".":{},"f:apiVersion":{},"f:kind":{},"f:name":{},"f:uid":{}}}}}"#
    );
    let mut other = cm(json!({}));
    other["metadata"]["finalizers"] = json!(["example.com/b"]);
    let out = apply(Some(&live), &other, "other", false, T1).unwrap();
    assert_eq!(
        out["metadata"]["finalizers"],
        json!(["example.com/a", "example.com/b"])
    );
}

#[test]
fn json_merge_patch_follows_rfc_7386() {
    // RFC 7386 section 3 example.
    let mut target = json!({"title": "Goodbye!", "author": {"givenName": "John", "familyName": "Doe"},
        "tags": ["example", "sample"], "content": "This will be unchanged"});
    merge_patch(
        &mut target,
        &json!({"title": "Hello!", "phoneNumber": "+01-123-456-7890",
        "author": {"familyName": null}, "tags": ["example"]}),
    );
    assert_eq!(
        target,
        json!({"title": "Hello!", "author": {"givenName": "John"}, "tags": ["example"],
        "content": "This will be unchanged", "phoneNumber": "+01-123-456-7890"})
    );
    let mut t = json!({"a": "b"});
    merge_patch(&mut t, &json!({"a": {"bb": {"ccc": null}}}));
    assert_eq!(t, json!({"a": {"bb": {}}}));
    let mut t = json!(["a"]);
    merge_patch(&mut t, &json!({"a": "c"}));
    assert_eq!(t, json!({"a": "c"}));
}

#[test]
fn strategic_merge_patch_merges_associative_lists_by_key() {
    let mut d = deployment(
        json!([{"name": "gateway", "image": "gw:1", "env": [{"name": "A", "value": "1"}]},
        {"name": "sidecar", "image": "mesh:1"}]),
    );
    strategic_merge_patch(
        &mut d,
        &json!({"spec": {"replicas": 2, "template": {"spec": {"containers": [
        {"name": "gateway", "image": "gw:2", "env": [{"name": "B", "value": "2"}]},
        {"name": "sidecar", "$patch": "delete"},
        {"name": "new", "image": "n:1"}]}}}}),
    );
    assert_eq!(d["spec"]["replicas"], 2);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"],
        json!([{"name": "gateway", "image": "gw:2", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
            {"name": "new", "image": "n:1"}])
    );
    // Lists without a merge key are replaced; null deletes.
    let mut c = cm(json!({"a": "1"}));
    c["metadata"]["finalizers"] = json!(["x"]);
    strategic_merge_patch(
        &mut c,
        &json!({"data": {"a": null, "b": "2"}, "metadata": {"finalizers": ["y"]}}),
    );
    assert_eq!(c["data"], json!({"b": "2"}));
    assert_eq!(c["metadata"]["finalizers"], json!(["x", "y"]));
}

/// Cases from structured-merge-diff typed/merge_test.go ("struct grab bag" setStr and
/// "associative list"): the merged order of set and associative lists.
#[test]
fn list_merge_order_follows_structured_merge_diff() {
    let cases: &[(&[&str], &[&str], &[&str])] = &[
        (&["a", "b", "c"], &["a", "b"], &["a", "b", "c"]),
        (&["a", "b"], &["b", "a"], &["b", "a"]),
        (&["a", "b", "c"], &[], &["a", "b", "c"]),
        (
            &["a", "b", "c", "g", "f"],
            &["c", "d", "e", "f"],
            &["a", "b", "c", "g", "d", "e", "f"],
        ),
        (
            &["c", "d", "e", "f"],
            &["a", "c", "e"],
            &["a", "c", "d", "e", "f"],
        ),
        (
            &["a", "b", "c", "d"],
            &["d", "e", "f", "a"],
            &["b", "c", "d", "e", "f", "a"],
        ),
        (
            &["c", "d", "e", "f", "g", "h", "i", "j"],
            &["2", "h", "3", "e", "4", "k", "l"],
            &[
                "c", "d", "f", "g", "2", "h", "i", "j", "3", "e", "4", "k", "l",
            ],
        ),
        (
            &["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"],
            &["1", "b", "2", "h", "3", "e", "4", "k", "l"],
            &[
                "a", "1", "b", "c", "d", "f", "g", "2", "h", "i", "j", "3", "e", "4", "k", "l",
            ],
        ),
    ];
    for (lhs, rhs, want) in cases {
        let merged = typed::merge(
            &json!({"metadata": {"finalizers": lhs}}),
            &json!({"metadata": {"finalizers": rhs}}),
        )
        .unwrap();
        assert_eq!(
            merged["metadata"]["finalizers"],
            json!(want),
            "{lhs:?} + {rhs:?}"
        );
    }
    let containers = |names: &[&str]| json!({"spec": {"containers": names.iter().map(|n| json!({"name": n})).collect::<Vec<_>>()}});
    let merged = typed::merge(&containers(&["a", "b", "c"]), &containers(&["c", "a"])).unwrap();
    assert_eq!(merged, containers(&["b", "c", "a"]));
    let merged = typed::merge(&containers(&["a", "b", "c"]), &containers(&["c", "b"])).unwrap();
    assert_eq!(merged, containers(&["a", "c", "b"]));
}
