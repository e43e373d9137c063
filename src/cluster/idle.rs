//! Agents the router put to sleep (`spec.routing.router.idleAfter`), as clawctl sees and
//! hands them over.
//!
//! clawctl-router scales an agent idle past `idleAfter` to zero by a forced server-side
//! apply of `spec.replicas: 0` and the annotation [`ANNOTATION`] (an RFC 3339 time) as
//! its own field manager, [`FIELD_MANAGER`]: `spec.replicas` moves to it from `clawctl`
//! ("the value of any conflicted field will be overridden, and the ownership will be
//! transferred", Server-Side Apply, Conflicts). It wakes the agent with an empty
//! configuration under the same manager, which gives both fields up: the annotation goes
//! and `spec.replicas` returns to its default, 1 ("Removed fields which have no other
//! owners are deleted from the live object, or reset to their default value if they
//! have one", Server-Side Apply; apps/v1 `SetDefaults_Deployment`).
//!
//! clawctl's side: `apply` leaves `spec.replicas` out of what it sends for such a
//! Deployment (`Plan::keep_scaled_down`), as a manifest does for a field an autoscaler
//! owns, so it neither wakes the agent nor conflicts; `status` shows it `Idle`;
//! `rollout` moves its template without a health gate; `suspend` makes it suspended and
//! takes the idle mark away, `resume` wakes it ([`release`]). The router takes its
//! names from here (`router/src/idle/live.rs`).

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::jiff::Timestamp;

use super::Cluster;

/// The router's field manager (sleep and wake).
pub const FIELD_MANAGER: &str = "clawctl-router";

/// The annotation the router puts on a Deployment it scaled to zero: when (RFC 3339).
pub const ANNOTATION: &str = "clawctl.io/idle";

/// The annotation's value, as written (a time the router wrote; read, never trusted for
/// more than display).
fn mark(d: &Deployment) -> Option<&str> {
    d.metadata
        .annotations
        .as_ref()?
        .get(ANNOTATION)
        .map(String::as_str)
}

/// When the router put `d` to sleep, if it is asleep: the annotation at zero replicas,
/// and not suspended (`clawctl suspend` or the fleet file win: a suspended agent is never
/// woken by a message, so it is not "idle"). An unreadable time is `None` inside `Some`.
pub fn idle_since(d: &Deployment) -> Option<Option<Timestamp>> {
    let mark = mark(d)?;
    let zero = d.spec.as_ref().and_then(|s| s.replicas) == Some(0);
    let annotations = d.metadata.annotations.as_ref()?;
    let suspended = [super::suspend::ANNOTATION, super::suspend::FLEET_ANNOTATION]
        .iter()
        .any(|a| annotations.get(*a).is_some_and(|v| v == "true"));
    (zero && !suspended).then(|| mark.parse().ok())
}

/// Whether a live object (JSON) carries the router's idle mark.
pub fn annotated(live: &serde_json::Value) -> bool {
    live.pointer("/metadata/annotations")
        .and_then(|a| a.get(ANNOTATION))
        .is_some()
}

/// Gives up every field the router holds on Deployment `name` (an empty configuration
/// as [`FIELD_MANAGER`]): what the router does to wake an agent. The annotation goes;
/// `spec.replicas` returns to 1 unless another manager still holds it (`clawctl
/// suspend`, which shares it at the same value after suspending an idle agent).
pub async fn release(cluster: &Cluster, namespace: &str, name: &str) -> anyhow::Result<()> {
    super::suspend::release_all(cluster, FIELD_MANAGER, namespace, name).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(annotations: &str, replicas: i32) -> Deployment {
        let yaml = format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: a, annotations: {{{annotations}}}}}\nspec: {{replicas: {replicas}, selector: {{}}, template: {{}}}}\n"
        );
        let docs = crate::yaml::parse_documents(&yaml).expect("yaml");
        serde_json::from_value(docs.into_iter().next().expect("one document")).expect("typed")
    }

    #[test]
    fn idle_is_the_mark_at_zero_replicas_and_suspension_wins() {
        let at: Timestamp = "2026-03-01T10:00:00Z".parse().expect("time");
        assert_eq!(
            idle_since(&deployment("clawctl.io/idle: '2026-03-01T10:00:00Z'", 0)),
            Some(Some(at))
        );
        // A mark left behind on a running Deployment (a forced rollback took replicas).
        assert_eq!(
            idle_since(&deployment("clawctl.io/idle: '2026-03-01T10:00:00Z'", 1)),
            None
        );
        for suspended in [
            "clawctl.io/suspended: 'true'",
            "clawctl.io/suspended-in-fleet: 'true'",
        ] {
            let d = deployment(
                &format!("clawctl.io/idle: '2026-03-01T10:00:00Z', {suspended}"),
                0,
            );
            assert_eq!(idle_since(&d), None, "{suspended}");
        }
        assert_eq!(
            idle_since(&deployment("clawctl.io/idle: soon", 0)),
            Some(None)
        );
        assert_eq!(idle_since(&deployment("", 0)), None);
    }
}
