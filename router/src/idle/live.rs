//! What an agent's live Deployment says about sleeping and waking, as pure functions:
//! the names, taken from clawctl's `cluster::idle` and `cluster::suspend`, and the one
//! rule of who may be put to sleep or woken.

use k8s_openapi::api::apps::v1::Deployment;

/// The router's field manager: it owns `spec.replicas` and [`IDLE`] while an agent
/// sleeps, and gives both up to wake it. clawctl's own names, so the two never differ.
pub use clawctl::cluster::idle::FIELD_MANAGER;

/// The annotation on a Deployment the router scaled to zero: when (RFC 3339).
pub use clawctl::cluster::idle::ANNOTATION as IDLE;

/// `clawctl suspend`'s annotation (`"true"`).
pub use clawctl::cluster::suspend::ANNOTATION as SUSPENDED;

/// The fleet file's `suspended: true`, as clawctl renders it (`"true"`).
pub use clawctl::cluster::suspend::FLEET_ANNOTATION as SUSPENDED_IN_FLEET;

/// Where a Deployment stands for the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// There is no such Deployment.
    Missing,
    /// Suspended by `clawctl suspend` or the fleet file: never put to sleep, never woken
    /// ("an agent the fleet file suspends stays suspended").
    Suspended,
    /// At zero replicas without the router's mark: someone else stopped it (`kubectl
    /// scale`); not the router's to wake, nor to sleep.
    Stopped,
    /// Put to sleep by the router: its mark at zero replicas.
    Asleep,
    /// Meant to run. `ready`: the controller has seen the current spec and reports a
    /// ready replica (a scale from zero bumps the generation, so an old pod still
    /// terminating does not count).
    Running { ready: bool },
}

impl Standing {
    /// Of a live Deployment, or of its absence.
    pub fn of(d: Option<&Deployment>) -> Standing {
        let Some(d) = d else {
            return Standing::Missing;
        };
        let annotation = |key: &str| d.metadata.annotations.as_ref().and_then(|a| a.get(key));
        if [SUSPENDED, SUSPENDED_IN_FLEET]
            .iter()
            .any(|k| annotation(k).is_some_and(|v| v == "true"))
        {
            return Standing::Suspended;
        }
        // No replicas field: the apps/v1 default, 1.
        let replicas = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        if replicas == 0 {
            return match annotation(IDLE) {
                Some(_) => Standing::Asleep,
                None => Standing::Stopped,
            };
        }
        let status = d.status.as_ref();
        let observed = status.and_then(|s| s.observed_generation).unwrap_or(0);
        let generation = d.metadata.generation.unwrap_or(0);
        let ready = status.and_then(|s| s.ready_replicas).unwrap_or(0);
        Standing::Running {
            ready: observed >= generation && ready > 0,
        }
    }

    /// Whether the router may put it to sleep: only a Deployment meant to run.
    pub fn may_sleep(self) -> bool {
        matches!(self, Standing::Running { .. })
    }

    /// Whether a woken agent can take the message.
    pub fn awake(self) -> bool {
        self == Standing::Running { ready: true }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(json: serde_json::Value) -> Deployment {
        serde_json::from_value(json).expect("deployment")
    }

    fn with(
        annotations: serde_json::Value,
        replicas: i32,
        status: serde_json::Value,
    ) -> Deployment {
        deployment(serde_json::json!({
            "metadata": {"name": "agent-a", "generation": 4, "annotations": annotations},
            "spec": {"replicas": replicas, "selector": {}, "template": {}},
            "status": status,
        }))
    }

    #[test]
    fn suspension_wins_then_zero_replicas_tell_asleep_from_stopped() {
        let none = serde_json::json!({});
        let ready = serde_json::json!({"observedGeneration": 4, "readyReplicas": 1});
        assert_eq!(Standing::of(None), Standing::Missing);
        for key in [SUSPENDED, SUSPENDED_IN_FLEET] {
            let d = with(
                serde_json::json!({key: "true", IDLE: "2026-03-01T10:00:00Z"}),
                0,
                none.clone(),
            );
            assert_eq!(Standing::of(Some(&d)), Standing::Suspended, "{key}");
            assert!(!Standing::of(Some(&d)).may_sleep());
        }
        let asleep = with(
            serde_json::json!({IDLE: "2026-03-01T10:00:00Z"}),
            0,
            none.clone(),
        );
        assert_eq!(Standing::of(Some(&asleep)), Standing::Asleep);
        let stopped = with(none.clone(), 0, none.clone());
        assert_eq!(Standing::of(Some(&stopped)), Standing::Stopped);
        assert!(!Standing::of(Some(&stopped)).may_sleep());
        let running = with(none.clone(), 1, ready.clone());
        assert_eq!(
            Standing::of(Some(&running)),
            Standing::Running { ready: true }
        );
        assert!(Standing::of(Some(&running)).may_sleep() && Standing::of(Some(&running)).awake());
        // An old mark on a running Deployment (a forced rollback took the replicas).
        let marked = with(serde_json::json!({IDLE: "x"}), 1, ready);
        assert_eq!(
            Standing::of(Some(&marked)),
            Standing::Running { ready: true }
        );
    }

    #[test]
    fn ready_counts_only_once_the_controller_saw_the_scale_up() {
        // Just woken: generation 4, the controller still reports generation 3's pod.
        let stale = with(
            serde_json::json!({}),
            1,
            serde_json::json!({"observedGeneration": 3, "readyReplicas": 1}),
        );
        assert_eq!(
            Standing::of(Some(&stale)),
            Standing::Running { ready: false }
        );
        let starting = with(
            serde_json::json!({}),
            1,
            serde_json::json!({"observedGeneration": 4, "replicas": 1}),
        );
        assert!(!Standing::of(Some(&starting)).awake());
        // No replicas field is the default, one.
        let default = deployment(serde_json::json!({
            "metadata": {"name": "a", "generation": 1},
            "spec": {"selector": {}, "template": {}},
            "status": {"observedGeneration": 1, "readyReplicas": 1},
        }));
        assert!(Standing::of(Some(&default)).awake());
    }
}
