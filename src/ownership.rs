//! Who owns an object on the cluster: this fleet (its ApplySet, KEP-3659), another
//! fleet, or someone who is not clawctl. clawctl changes only what its own fleet owns;
//! everything else is a conflict to report, never to adopt or prune (DESIGN §4.1).
//! Pure: it reads labels and managed fields of objects already fetched.

use std::fmt;

use serde_json::Value;

use crate::names::{FLEET_LABEL, MANAGED_BY};

/// KEP-3659's label on every member of an ApplySet, and on its parent.
pub const PART_OF: &str = "applyset.kubernetes.io/part-of";
pub const PARENT_ID: &str = "applyset.kubernetes.io/id";

/// Who owns an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// This fleet: a member or the parent of its ApplySet.
    Fleet,
    /// Another clawctl fleet (by name, when its objects say it), or another ApplySet.
    OtherFleet {
        fleet: Option<String>,
        applyset: Option<String>,
    },
    /// Not a clawctl fleet's: the field managers that wrote it, as far as they show.
    Unmanaged { managers: Vec<String> },
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::Fleet => write!(f, "this fleet"),
            Owner::OtherFleet {
                fleet: Some(fleet), ..
            } => write!(f, "belongs to clawctl fleet {fleet:?}"),
            Owner::OtherFleet { applyset, .. } => write!(
                f,
                "belongs to another ApplySet ({})",
                applyset.as_deref().unwrap_or("unknown")
            ),
            Owner::Unmanaged { managers } if managers.is_empty() => {
                write!(f, "exists and was not created by clawctl")
            }
            Owner::Unmanaged { managers } => write!(
                f,
                "exists and was not created by clawctl (written by {})",
                managers.join(", ")
            ),
        }
    }
}

/// Who owns `object` (as the API server returns it), seen from the fleet `fleet` whose
/// ApplySet id is `applyset_id`.
pub fn of(object: &Value, fleet: &str, applyset_id: &str) -> Owner {
    let label = |key: &str| {
        object
            .pointer("/metadata/labels")
            .and_then(|l| l.get(key))
            .and_then(Value::as_str)
    };
    of_labels(
        label(PART_OF),
        label(PARENT_ID),
        label(MANAGED_BY),
        label(FLEET_LABEL),
        fleet,
        applyset_id,
    )
    .unwrap_or_else(|| Owner::Unmanaged {
        managers: managers(object),
    })
}

/// Whether an object with these labels is this fleet's (`None` label map: not).
pub fn is_ours(
    labels: Option<&std::collections::BTreeMap<String, String>>,
    fleet: &str,
    applyset_id: &str,
) -> bool {
    let Some(labels) = labels else { return false };
    let label = |key: &str| labels.get(key).map(String::as_str);
    of_labels(
        label(PART_OF),
        label(PARENT_ID),
        label(MANAGED_BY),
        label(FLEET_LABEL),
        fleet,
        applyset_id,
    ) == Some(Owner::Fleet)
}

/// The owner the labels say, `None` when they say it is not clawctl's.
fn of_labels(
    part_of: Option<&str>,
    parent_id: Option<&str>,
    managed_by: Option<&str>,
    fleet_label: Option<&str>,
    fleet: &str,
    applyset_id: &str,
) -> Option<Owner> {
    let other = |applyset: Option<&str>| Owner::OtherFleet {
        fleet: (managed_by == Some("clawctl"))
            .then(|| fleet_label.map(str::to_string))
            .flatten(),
        applyset: applyset.map(str::to_string),
    };
    match (part_of, parent_id) {
        (Some(id), _) | (None, Some(id)) if id == applyset_id => Some(Owner::Fleet),
        (Some(id), _) | (None, Some(id)) => Some(other(Some(id))),
        // Objects of another clawctl fleet always carry their ApplySet label; labels that
        // name a fleet without one were not written by clawctl's apply.
        (None, None) if managed_by == Some("clawctl") && fleet_label != Some(fleet) => {
            Some(other(None))
        }
        (None, None) => None,
    }
}

/// The field manager that writes the keys clawctl generates (a routed agent's token).
pub const TOKEN_MANAGER: &str = "clawctl-token";

/// The field managers that own `data.<key>` of an object (its managedFields).
pub fn key_managers(object: &Value, key: &str) -> Vec<String> {
    object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|entry| {
            entry
                .pointer("/fieldsV1/f:data")
                .and_then(|data| data.get(format!("f:{key}")))
                .is_some()
        })
        .filter_map(|entry| entry.get("manager")?.as_str().map(str::to_string))
        .collect()
}

/// Whether `key` of the Secret holds a value that clawctl generated: present, and owned
/// by the `clawctl-token` field manager alone.
pub fn generated_here(secret: &Value, key: &str) -> bool {
    let present = secret.pointer("/data").and_then(|d| d.get(key)).is_some();
    let managers = key_managers(secret, key);
    present && !managers.is_empty() && managers.iter().all(|m| m == TOKEN_MANAGER)
}

/// The field managers of an object, from its managedFields (in order, deduplicated).
fn managers(object: &Value) -> Vec<String> {
    let mut managers: Vec<String> = Vec::new();
    for entry in object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(manager) = entry.get("manager").and_then(Value::as_str)
            && !managers.iter().any(|m| m == manager)
        {
            managers.push(manager.to_string());
        }
    }
    managers
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(labels: Value) -> Value {
        json!({"metadata": {"name": "x", "labels": labels,
               "managedFields": [{"manager": "kubectl-create"}, {"manager": "helm"}, {"manager": "helm"}]}})
    }

    #[test]
    fn the_applyset_id_decides() {
        let ours = object(json!({PART_OF: "id-a", FLEET_LABEL: "acme", MANAGED_BY: "clawctl"}));
        assert_eq!(of(&ours, "acme", "id-a"), Owner::Fleet);
        // Same fleet name, other fleet namespace: another ApplySet.
        assert_eq!(
            of(&ours, "acme", "id-b"),
            Owner::OtherFleet {
                fleet: Some("acme".into()),
                applyset: Some("id-a".into())
            }
        );
        let parent = object(json!({PARENT_ID: "id-a"}));
        assert_eq!(of(&parent, "acme", "id-a"), Owner::Fleet);
    }

    #[test]
    fn objects_not_written_by_clawctl_name_their_managers() {
        let theirs = object(json!({"app": "x"}));
        let owner = of(&theirs, "acme", "id-a");
        assert_eq!(
            owner.to_string(),
            "exists and was not created by clawctl (written by kubectl-create, helm)"
        );
        // Labels that only claim the fleet's name do not make an object the fleet's.
        let claimed = object(json!({FLEET_LABEL: "acme", MANAGED_BY: "clawctl"}));
        assert!(matches!(
            of(&claimed, "acme", "id-a"),
            Owner::Unmanaged { .. }
        ));
        let other = object(json!({FLEET_LABEL: "teams", MANAGED_BY: "clawctl"}));
        assert_eq!(
            of(&other, "acme", "id-a").to_string(),
            "belongs to clawctl fleet \"teams\""
        );
    }
}
