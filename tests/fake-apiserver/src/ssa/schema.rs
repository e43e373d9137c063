//! The little schema knowledge server-side apply needs: which lists are associative (and
//! their keys), which are sets, which maps are atomic. Everything else: lists are atomic,
//! maps are granular (per-key ownership), as structured-merge-diff does for schemas that
//! declare nothing.
//!
//! Source: the Kubernetes OpenAPI v3 (k8s.io/api types):
//! * `x-kubernetes-list-type: map` + `x-kubernetes-list-map-keys`, or, where no list type is
//!   declared, `x-kubernetes-patch-strategy: merge` + `x-kubernetes-patch-merge-key` (kube-openapi's
//!   schema conversion turns a patch merge key into an associative list keyed by it):
//!   - PodSpec `containers`, `initContainers`, `ephemeralContainers`: `name`
//!     (`+listType=map +listMapKey=name`); `volumes`, `imagePullSecrets`: `name` (patch merge key)
//!   - Container `env`: `name`; `ports`: `containerPort`, `protocol`
//!     (`+listMapKey=containerPort +listMapKey=protocol`); `volumeMounts`: `mountPath`;
//!     `volumeDevices`: `devicePath`
//!   - ServiceSpec `ports`: `port`, `protocol`
//!   - ObjectMeta `ownerReferences`: `uid` (`+listType=map +listMapKey=uid`); `finalizers`:
//!     `+listType=set`
//!   - `status.conditions`: `type` (patch merge key on Deployment/Pod/… conditions)
//!   - ServiceAccount `secrets`: `name` (patch merge key)
//! * Key defaults: `protocol` of container and service ports has `default: "TCP"` in the
//!   OpenAPI; structured-merge-diff uses a key's schema default when an item omits it
//!   (`getAssociativeKeyDefault` in typed/helpers.go), so `{containerPort: 80}` is
//!   `k:{"containerPort":80,"protocol":"TCP"}`.
//! * Atomic maps: `LabelSelector` is `+structType=atomic` (Deployment `spec.selector`, pod
//!   affinity `labelSelector`, `namespaceSelector`, NetworkPolicy `podSelector`), ServiceSpec
//!   `selector` is `+mapType=atomic`, `ObjectFieldSelector`/`ResourceFieldSelector`/
//!   `ConfigMapKeySelector`/`SecretKeySelector` (env `valueFrom.*`) are `+structType=atomic`.
//!
//! Paths are matched by their field names only (list items skipped) and kind-independently:
//! a pod spec is found at `spec` (Pod), `spec.template.spec` (Deployment, ReplicaSet,
//! StatefulSet, DaemonSet, Job) and `spec.jobTemplate.spec.template.spec` (CronJob).

use super::fieldpath::PathElement;
use serde_json::Value;

/// How a list merges and how its items are identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListType {
    /// Replaced as a whole; owned as one leaf.
    Atomic,
    /// `listType=map`: items identified by these key fields (with their defaults).
    Map(&'static [Key]),
    /// `listType=set`: scalar items identified by their value.
    Set,
}

/// A key field of an associative list and its schema default, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub name: &'static str,
    pub default: Option<&'static str>,
}

const NAME: &[Key] = &[Key {
    name: "name",
    default: None,
}];
const CONTAINER_PORT: &[Key] = &[
    Key {
        name: "containerPort",
        default: None,
    },
    Key {
        name: "protocol",
        default: Some("TCP"),
    },
];
const SERVICE_PORT: &[Key] = &[
    Key {
        name: "port",
        default: None,
    },
    Key {
        name: "protocol",
        default: Some("TCP"),
    },
];
const MOUNT_PATH: &[Key] = &[Key {
    name: "mountPath",
    default: None,
}];
const DEVICE_PATH: &[Key] = &[Key {
    name: "devicePath",
    default: None,
}];
const UID: &[Key] = &[Key {
    name: "uid",
    default: None,
}];
const TYPE: &[Key] = &[Key {
    name: "type",
    default: None,
}];

/// The field names along a path, list items left out.
fn names(path: &[PathElement]) -> Vec<&str> {
    path.iter()
        .filter_map(|pe| match pe {
            PathElement::Field(n) => Some(n.as_str()),
            _ => None,
        })
        .collect()
}

/// Splits `names` into (pod spec root, rest) if it starts at a pod spec.
fn in_pod_spec<'a>(names: &'a [&'a str]) -> Option<&'a [&'a str]> {
    const ROOTS: &[&[&str]] = &[
        &["spec", "jobTemplate", "spec", "template", "spec"],
        &["spec", "template", "spec"],
        &["spec"],
    ];
    ROOTS
        .iter()
        .find(|root| names.starts_with(root))
        .map(|root| &names[root.len()..])
}

/// The list type of the list at `path`.
pub fn list_type(path: &[PathElement]) -> ListType {
    let names = names(path);
    let n = names.as_slice();
    if let [.., "metadata", last] = n {
        match *last {
            "ownerReferences" => return ListType::Map(UID),
            "finalizers" => return ListType::Set,
            _ => {}
        }
    }
    match n {
        ["status", "conditions"] => return ListType::Map(TYPE),
        ["spec", "ports"] => return ListType::Map(SERVICE_PORT),
        ["secrets"] => return ListType::Map(NAME),
        _ => {}
    }
    if let Some(rest) = in_pod_spec(n) {
        match rest {
            [
                "containers"
                | "initContainers"
                | "ephemeralContainers"
                | "volumes"
                | "imagePullSecrets",
            ] => {
                return ListType::Map(NAME);
            }
            [
                "containers" | "initContainers" | "ephemeralContainers",
                field,
            ] => match *field {
                "env" => return ListType::Map(NAME),
                "ports" => return ListType::Map(CONTAINER_PORT),
                "volumeMounts" => return ListType::Map(MOUNT_PATH),
                "volumeDevices" => return ListType::Map(DEVICE_PATH),
                _ => {}
            },
            _ => {}
        }
    }
    ListType::Atomic
}

/// Whether the map (or struct) at `path` is atomic (owned and replaced as a whole).
pub fn map_is_atomic(path: &[PathElement]) -> bool {
    let names = names(path);
    match names.as_slice() {
        // Deployment/ReplicaSet/StatefulSet/DaemonSet/Job LabelSelector; Service selector.
        ["spec", "selector"] => true,
        [.., "labelSelector" | "namespaceSelector" | "podSelector"] => true,
        [
            ..,
            "valueFrom",
            "fieldRef" | "resourceFieldRef" | "configMapKeyRef" | "secretKeyRef",
        ] => true,
        _ => false,
    }
}

/// Why an item cannot be identified (structured-merge-diff's wording).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemError(pub String);

/// The path element identifying `item` of the list at `path` (`listItemToPathElement`).
pub fn item_element(list: ListType, index: usize, item: &Value) -> Result<PathElement, ItemError> {
    match list {
        ListType::Atomic => Ok(PathElement::Index(index)),
        ListType::Set => match item {
            Value::Object(_) => Err(ItemError(
                "associative list without keys has an element that's a map type".into(),
            )),
            Value::Array(_) => Err(ItemError(
                "not supported: associative list with lists as elements".into(),
            )),
            Value::Null => Err(ItemError(
                "associative list without keys has an element that's an explicit null".into(),
            )),
            v => Ok(PathElement::Value(v.clone())),
        },
        ListType::Map(keys) => {
            let Value::Object(m) = item else {
                return Err(ItemError(if item.is_null() {
                    "associative list with keys may not have a null element".into()
                } else {
                    "associative list with keys may not have non-map elements".into()
                }));
            };
            let mut fields = Vec::with_capacity(keys.len());
            for key in keys {
                match (m.get(key.name), key.default) {
                    (Some(v), _) => fields.push((key.name.to_string(), v.clone())),
                    (None, Some(d)) => fields.push((key.name.to_string(), Value::from(d))),
                    (None, None) => {
                        return Err(ItemError(format!(
                            "associative list with keys has an element that omits key field {:?} (and doesn't have default value)",
                            key.name
                        )));
                    }
                }
            }
            Ok(PathElement::key(fields))
        }
    }
}
