//! Finishing a plan: the passes that settle its changes against what the cluster says
//! (generated keys, replicas another manager holds, kinds these credentials cannot
//! read, objects that exist already, namespaces that still hold volumes, agents whose
//! image changes), run by [`Draft::finish`] in one fixed order. Each pass adds its note
//! to the changes it settles; none overwrites another's.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use super::change::{Action, Change, ObjectRef, Plan, ScaledDown, annotation};
use super::compare::{Draft, adopted, unchanged};
use crate::names::ADOPTED;
use crate::ownership::Owner;

/// What the cluster says beyond the fleet's own live objects, read between
/// [`Draft::new`] and [`Draft::finish`].
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The fleet's name (`ownership::of`).
    pub fleet: &'a str,
    /// The fleet's `spec.adoptNamespaces`.
    pub adopt: &'a [String],
    /// Kinds these credentials cannot list: the fleet's objects of them are taken to
    /// exist (a cluster admin applies them).
    pub unreadable: &'a [&'a str],
    /// What exists under the names of [`Draft::lookups`] (`ops::claims::existing`).
    pub existing: &'a HashMap<ObjectRef, Value>,
    /// The names of all claims in each of [`Draft::namespaces_to_prune`], not only the
    /// fleet's.
    pub claims: &'a BTreeMap<String, Vec<String>>,
    /// Leave out the agents whose gateway image changes: `apply` hands them to the
    /// rollout strategy (canary, waves, gates) instead of moving them all at once.
    pub hold_image_changes: bool,
}

/// What finishing settled, for the caller to report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settled {
    /// Agents kept at zero replicas by `clawctl suspend` or the router.
    pub scaled_down: ScaledDown,
    /// Per kind these credentials cannot read, how many of the fleet's objects of that
    /// kind are taken to exist (only kinds with any).
    pub assumed: Vec<(String, usize)>,
    /// Agents whose image changes, left out for the rollout (sorted; empty unless
    /// [`Facts::hold_image_changes`]).
    pub held: Vec<String>,
}

/// The note on an object of a kind these credentials cannot read.
pub const ASSUMED: &str =
    "not readable with these credentials: assumed to exist (a cluster admin applies it)";
/// The note on an agent's object left out for the rollout.
pub const HELD: &str = "held back for the rollout";

impl Draft {
    /// The creates whose names must be looked up (`ops::claims::existing`) before the
    /// plan can be finished: all but those of `unreadable` kinds, which finishing takes
    /// to exist.
    pub fn lookups(&self, unreadable: &[&str]) -> Vec<&ObjectRef> {
        self.plan
            .changes
            .iter()
            .filter(|c| c.action == Action::Create && !unreadable.contains(&c.object.kind.as_str()))
            .map(|c| &c.object)
            .collect()
    }

    /// Namespaces the plan would delete: the caller lists the claims in them (deleting a
    /// namespace deletes its volumes).
    pub fn namespaces_to_prune(&self) -> Vec<String> {
        self.plan.namespaces_to_prune()
    }

    /// Settles every change, in this order (each step sees what the one before decided):
    /// 1. generated keys the live Secret lacks, or someone else wrote, make an update;
    /// 2. replicas `clawctl suspend` or the router hold are left to them;
    /// 3. creates of kinds these credentials cannot read are taken to exist;
    /// 4. creates whose object exists become updates (the fleet's), adoptions (a
    ///    Namespace in `adoptNamespaces`) or conflicts (anyone else's);
    /// 5. pruned Namespaces that still hold a claim nobody deletes are kept;
    /// 6. with [`Facts::hold_image_changes`], agents whose image changes are left out.
    pub fn finish(self, facts: &Facts<'_>) -> (Plan, Settled) {
        let Draft { mut plan, options } = self;
        plan.fill_missing_keys();
        let scaled_down = plan.keep_scaled_down();
        let assumed = facts
            .unreadable
            .iter()
            .map(|kind| (kind.to_string(), plan.assume_present(kind)))
            .filter(|(_, n)| *n > 0)
            .collect();
        plan.settle_existing(
            facts.existing,
            facts.fleet,
            &options.applyset_id,
            facts.adopt,
        );
        plan.protect_volumes(facts.claims);
        let held = if facts.hold_image_changes {
            let held = plan.image_changes();
            plan.hold_back(&held);
            held
        } else {
            Vec::new()
        };
        (
            plan,
            Settled {
                scaled_down,
                assumed,
                held,
            },
        )
    }
}

impl Change {
    fn add_note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }
}

impl Plan {
    /// Secrets whose generated key the live object lacks: updated, so that apply fills
    /// the key.
    pub(super) fn fill_missing_keys(&mut self) {
        for change in &mut self.changes {
            if change.action != Action::Unchanged {
                continue;
            }
            let Some(key) = change.generated_key() else {
                continue;
            };
            let Some(live) = change.live.as_ref() else {
                continue;
            };
            let held = live
                .get("data")
                .and_then(Value::as_object)
                .is_some_and(|data| data.contains_key(key));
            let note = if !held {
                format!("{key} is missing: apply generates it")
            } else if !crate::ownership::generated_here(live, key) {
                format!("{key} was written by someone other than clawctl: apply replaces it")
            } else {
                continue;
            };
            change.action = Action::Update;
            change.add_note(note);
        }
    }

    /// Leaves `spec.replicas` out of the Deployments another field manager scaled to zero
    /// on purpose (the live object carries its annotation): `clawctl suspend`
    /// (`clawctl-suspend`, until `clawctl resume`) and the router putting an idle agent to
    /// sleep (`clawctl-router`, until the next message wakes it). That field is theirs
    /// then (see `cluster::suspend`, `cluster::idle`), and applying it would either start
    /// the agent again (forced) or conflict. The applied-hash stays the hash of the
    /// fleet's whole configuration, so such an otherwise unchanged agent costs no write.
    /// Returns those agents, suspended first.
    pub(super) fn keep_scaled_down(&mut self) -> ScaledDown {
        let mut kept = ScaledDown::default();
        for change in &mut self.changes {
            if change.object.kind != "Deployment"
                || !matches!(change.action, Action::Update | Action::Unchanged)
            {
                continue;
            }
            let (Some(desired), Some(live)) = (&mut change.desired, &change.live) else {
                continue;
            };
            // Suspension wins: a suspended agent is never woken by the router.
            let (note, agents) = if crate::cluster::suspend::annotated(live) {
                (
                    "suspended by `clawctl suspend`: kept at 0 replicas until `clawctl resume`",
                    &mut kept.suspended,
                )
            } else if crate::cluster::idle::annotated(live) {
                (
                    "idle: asleep (replicas left to the router, which wakes it at its next message)",
                    &mut kept.idle,
                )
            } else {
                continue;
            };
            if let Some(spec) = desired.get_mut("spec").and_then(Value::as_object_mut) {
                spec.remove("replicas");
            }
            if unchanged(desired, live) {
                change.action = Action::Unchanged;
            }
            change.add_note(note);
            agents.extend(change.agent.clone());
        }
        kept
    }

    /// Objects of `kind` that could not be read: those the plan would create are taken to
    /// exist and left unchanged (a user bound to the fleet's namespaces can neither see
    /// nor write its Namespaces). Returns how many.
    pub(super) fn assume_present(&mut self, kind: &str) -> usize {
        let mut count = 0;
        for change in &mut self.changes {
            if change.object.kind == kind && change.action == Action::Create {
                change.action = Action::Unchanged;
                change.add_note(ASSUMED);
                count += 1;
            }
        }
        count
    }

    /// Settles the creates whose object exists already (`existing`, by reference, read
    /// without the fleet's labels): this fleet's ApplySet members become updates; another
    /// fleet's, or anything clawctl did not create, become conflicts naming their owner;
    /// a Namespace named in `adopt` (the fleet's `adoptNamespaces`) is adopted instead.
    pub(super) fn settle_existing(
        &mut self,
        existing: &HashMap<ObjectRef, Value>,
        fleet: &str,
        applyset_id: &str,
        adopt: &[String],
    ) {
        for change in &mut self.changes {
            if change.action != Action::Create {
                continue;
            }
            let Some(live) = existing.get(&change.object) else {
                continue;
            };
            match crate::ownership::of(live, fleet, applyset_id) {
                Owner::Fleet => {
                    change.action = Action::Update;
                    change.live = Some(live.clone());
                }
                Owner::Unmanaged { .. }
                    if change.object.kind == "Namespace" && adopt.contains(&change.object.name) =>
                {
                    if let Some(desired) = change.desired.take() {
                        change.desired = Some(adopted(desired, applyset_id));
                    }
                    change.action = Action::Update;
                    change.live = Some(live.clone());
                    change.add_note("adopted (spec.adoptNamespaces): never deleted by clawctl");
                }
                owner => {
                    let hint = if change.object.kind == "Namespace" {
                        "; if the fleet should take it over, name it in spec.adoptNamespaces"
                    } else {
                        ""
                    };
                    change.action = Action::Conflict;
                    change.add_note(format!("{owner}{hint}"));
                }
            }
        }
        self.keep_adopted(applyset_id);
    }

    /// A Namespace the fleet adopted keeps its annotation in every later apply (the
    /// annotation is applied by clawctl, so leaving it out would remove it).
    fn keep_adopted(&mut self, applyset_id: &str) {
        for change in &mut self.changes {
            let adopted_live = change.object.kind == "Namespace"
                && change
                    .live
                    .as_ref()
                    .is_some_and(|l| annotation(l, ADOPTED).is_some());
            if !adopted_live || !matches!(change.action, Action::Update | Action::Unchanged) {
                continue;
            }
            let (Some(desired), Some(live)) = (change.desired.take(), &change.live) else {
                continue;
            };
            let desired = adopted(desired, applyset_id);
            change.action = if unchanged(&desired, live) {
                Action::Unchanged
            } else {
                Action::Update
            };
            change.desired = Some(desired);
        }
    }

    /// Keeps every pruned Namespace that still holds a PersistentVolumeClaim which is
    /// not itself being deleted: deleting the Namespace would delete the volume.
    /// `claims` maps a namespace to the names of all claims in it (not only the fleet's).
    pub(super) fn protect_volumes(&mut self, claims: &BTreeMap<String, Vec<String>>) {
        let deleted: BTreeSet<(String, String)> = self
            .changes
            .iter()
            .filter(|c| c.action == Action::Prune && c.object.kind == "PersistentVolumeClaim")
            .filter_map(|c| Some((c.object.namespace.clone()?, c.object.name.clone())))
            .collect();
        for change in &mut self.changes {
            if change.action != Action::Prune || change.object.kind != "Namespace" {
                continue;
            }
            let ns = &change.object.name;
            let held: Vec<&str> = claims
                .get(ns)
                .into_iter()
                .flatten()
                .filter(|name| !deleted.contains(&(ns.clone(), (*name).clone())))
                .map(String::as_str)
                .collect();
            if !held.is_empty() {
                change.action = Action::Keep;
                change.add_note(format!(
                    "still holds PersistentVolumeClaim {}: deleting the namespace would delete it",
                    held.join(", ")
                ));
            }
        }
    }

    /// Agents whose Deployment update changes the gateway image: what `apply` hands to
    /// the rollout strategy instead of moving them all at once. A suspended or idle agent
    /// is not among them: no pod starts, so there is no health to gate on; its
    /// Deployment's template moves with the rest of the apply, and `clawctl resume` (or
    /// the next message) starts that pod.
    pub(super) fn image_changes(&self) -> Vec<String> {
        const IMAGE: &str = "/spec/template/spec/containers/0/image";
        let mut agents: Vec<String> = self
            .changes
            .iter()
            .filter(|c| c.action == Action::Update && c.object.kind == "Deployment")
            .filter(|c| !is_suspended(c))
            .filter(|c| {
                let desired = c.desired.as_ref().and_then(|d| d.pointer(IMAGE));
                let live = c.live.as_ref().and_then(|l| l.pointer(IMAGE));
                desired.is_some() && desired != live
            })
            .filter_map(|c| c.agent.clone())
            .collect();
        agents.sort();
        agents.dedup();
        agents
    }

    /// Leaves these agents' creates and updates out (their volumes stay in the plan).
    pub(super) fn hold_back(&mut self, agents: &[String]) {
        for change in &mut self.changes {
            let held = change.agent.as_ref().is_some_and(|a| agents.contains(a))
                && matches!(change.action, Action::Create | Action::Update)
                && change.object.kind != "PersistentVolumeClaim";
            if held {
                change.action = Action::Unchanged;
                change.add_note(HELD);
            }
        }
    }
}

/// Whether a Deployment change is of an agent kept at zero replicas: suspended by
/// `clawctl suspend` or put to sleep by the router (the live annotations), or suspended
/// by the fleet file (no replicas).
fn is_suspended(change: &Change) -> bool {
    change.live.as_ref().is_some_and(|live| {
        crate::cluster::suspend::annotated(live) || crate::cluster::idle::annotated(live)
    }) || change
        .desired
        .as_ref()
        .and_then(|d| d.pointer("/spec/replicas"))
        .and_then(Value::as_i64)
        == Some(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Options, prepare};
    use crate::render::Manifest;
    use serde_json::json;

    const APPLYSET: &str = "applyset-abc-v1";

    /// Agent a's gateway Deployment at `image` in namespace `ns`, with `replicas` if given.
    fn gateway(image: &str, replicas: Option<i64>) -> Value {
        let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "agent-a", "namespace": "ns"},
               "spec": {"template": {"spec": {"containers": [{"name": "gateway", "image": image}]}}}});
        if let Some(n) = replicas {
            d["spec"]["replicas"] = json!(n);
        }
        d
    }

    /// `value` as agent a's Deployment manifest (no team).
    fn agent_a(value: Value) -> Manifest {
        Manifest {
            team: None,
            ..agent_manifest("Deployment", Some("ns"), "agent-a", Some("a"), value)
        }
    }

    fn agent_manifest(
        kind: &str,
        ns: Option<&str>,
        name: &str,
        agent: Option<&str>,
        value: Value,
    ) -> Manifest {
        Manifest {
            api_version: value["apiVersion"].as_str().unwrap_or("v1").into(),
            kind: kind.into(),
            name: name.into(),
            namespace: ns.map(str::to_string),
            team: Some("t".into()),
            agent: agent.map(str::to_string),
            value,
        }
    }

    fn deployment(image: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "agent-a", "namespace": "ns"},
               "spec": {"replicas": 1,
                        "template": {"spec": {"containers": [{"name": "gateway", "image": image}]}}}})
    }

    fn token() -> Value {
        json!({"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "agent-a-token", "namespace": "ns",
                            "annotations": {crate::names::GENERATED_KEY: "token"}}})
    }

    /// What the server stores after clawctl applied `desired`.
    fn applied(desired: Value) -> Value {
        let mut live = prepare(desired, APPLYSET);
        live["metadata"]["uid"] = json!("u-1");
        live
    }

    fn options() -> Options {
        Options {
            applyset_id: APPLYSET.into(),
            delete_volumes: false,
        }
    }

    /// The plan before finishing, to test one pass alone.
    fn compare(desired: Vec<Manifest>, live: Vec<Value>, options: &Options) -> Plan {
        Draft::new(desired, live, options).plan
    }

    /// What the server stores after applying `desired`: plus server-owned fields.
    fn stored(desired: &Value) -> Value {
        let mut live = desired.clone();
        live["metadata"]["uid"] = json!("u-1");
        live["metadata"]["resourceVersion"] = json!("7");
        live["metadata"]["managedFields"] = json!([{"manager": "clawctl"}]);
        live
    }

    /// Agent `a` at `image` in namespace `ns`, applied at img:1 with a token Secret
    /// that lacks its generated key, a Namespace `team` these credentials cannot read,
    /// a ConfigMap someone else made, and a pruned Namespace `gone` that still holds a
    /// claim of someone else's.
    fn draft(
        image: &str,
    ) -> (
        Draft,
        HashMap<ObjectRef, Value>,
        BTreeMap<String, Vec<String>>,
    ) {
        let foreign = json!({"apiVersion": "v1", "kind": "ConfigMap",
                             "metadata": {"name": "settings", "namespace": "ns"}});
        let team = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}});
        let desired = vec![
            agent_manifest("Namespace", None, "team", None, team.clone()),
            agent_manifest(
                "Deployment",
                Some("ns"),
                "agent-a",
                Some("a"),
                deployment(image),
            ),
            agent_manifest("Secret", Some("ns"), "agent-a-token", Some("a"), token()),
            agent_manifest("ConfigMap", Some("ns"), "settings", None, foreign.clone()),
        ];
        let live = vec![
            applied(deployment("img:1")),
            applied(token()),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gone"}}),
        ];
        let draft = Draft::new(desired, live, &options());
        // Found by name: the ConfigMap (made by kubectl), and the Namespace `team`,
        // which must not be looked up (it is not readable) nor settled.
        let existing = HashMap::from([
            (ObjectRef::of(&foreign).expect("ref"), foreign),
            (ObjectRef::of(&team).expect("ref"), team),
        ]);
        let claims = BTreeMap::from([("gone".to_string(), vec!["someone-elses".to_string()])]);
        (draft, existing, claims)
    }

    fn facts<'a>(
        existing: &'a HashMap<ObjectRef, Value>,
        claims: &'a BTreeMap<String, Vec<String>>,
        hold: bool,
    ) -> Facts<'a> {
        Facts {
            fleet: "demo",
            adopt: &[],
            unreadable: &["Namespace"],
            existing,
            claims,
            hold_image_changes: hold,
        }
    }

    fn change<'a>(plan: &'a Plan, kind: &str, name: &str) -> &'a Change {
        plan.changes
            .iter()
            .find(|c| c.object.kind == kind && c.object.name == name)
            .expect("a change")
    }

    #[test]
    fn every_pass_runs_in_order_and_each_adds_its_note() {
        let (draft, existing, claims) = draft("img:2");
        let lookups: Vec<String> = draft
            .lookups(&["Namespace"])
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            lookups,
            ["ConfigMap ns/settings"],
            "unreadable kinds are not looked up"
        );
        assert_eq!(draft.namespaces_to_prune(), ["gone"]);

        let (plan, settled) = draft.finish(&facts(&existing, &claims, true));
        // 1 then 6: the missing key makes an update, which the hold then leaves out;
        // both say so, in the order they ran.
        let secret = change(&plan, "Secret", "agent-a-token");
        assert_eq!(secret.action, Action::Unchanged);
        assert_eq!(secret.notes, ["token is missing: apply generates it", HELD]);
        assert_eq!(
            secret.note().as_deref(),
            Some("token is missing: apply generates it; held back for the rollout")
        );
        let deployment = change(&plan, "Deployment", "agent-a");
        assert_eq!(
            (deployment.action, &deployment.notes[..]),
            (Action::Unchanged, &[HELD.to_string()][..])
        );
        assert_eq!(settled.held, ["a"]);
        // 3 before 4: an unreadable kind is assumed present, never settled as existing
        // (even though something by that name was found).
        let team = change(&plan, "Namespace", "team");
        assert_eq!(
            (team.action, &team.notes[..]),
            (Action::Unchanged, &[ASSUMED.to_string()][..])
        );
        assert_eq!(settled.assumed, [("Namespace".to_string(), 1)]);
        // 4: someone else's object is a conflict naming its owner.
        let settings = change(&plan, "ConfigMap", "settings");
        assert_eq!(settings.action, Action::Conflict);
        assert_eq!(settings.notes, ["exists and was not created by clawctl"]);
        // 5: a pruned namespace that holds someone else's claim is kept.
        let gone = change(&plan, "Namespace", "gone");
        assert_eq!(gone.action, Action::Keep);
        assert_eq!(
            gone.notes,
            [
                "still holds PersistentVolumeClaim someone-elses: deleting the namespace would delete it"
            ]
        );

        // Without the hold (diff, --all-at-once) the image change and the key are applied.
        let (draft, existing, claims) = self::draft("img:2");
        let (plan, settled) = draft.finish(&facts(&existing, &claims, false));
        assert!(settled.held.is_empty());
        let secret = change(&plan, "Secret", "agent-a-token");
        assert_eq!((secret.action, secret.notes.len()), (Action::Update, 1));
        assert_eq!(
            change(&plan, "Deployment", "agent-a").action,
            Action::Update
        );
    }

    #[test]
    fn replicas_another_manager_holds_are_settled_before_the_hold() {
        // Suspended by `clawctl suspend`: its new image is applied to the template, not
        // held for a rollout (no pod starts, so there is no health to gate on).
        let (mut draft, existing, claims) = draft("img:2");
        for change in &mut draft.plan.changes {
            if let (Some(live), "Deployment") = (&mut change.live, change.object.kind.as_str()) {
                live["spec"]["replicas"] = json!(0);
                live["metadata"]["annotations"][crate::cluster::suspend::ANNOTATION] =
                    json!("true");
            }
        }
        let (plan, settled) = draft.finish(&facts(&existing, &claims, true));
        assert_eq!(settled.scaled_down.suspended, ["a"]);
        assert!(settled.held.is_empty());
        let deployment = change(&plan, "Deployment", "agent-a");
        assert_eq!(deployment.action, Action::Update);
        assert_eq!(deployment.notes.len(), 1);
        assert!(deployment.notes[0].starts_with("suspended by `clawctl suspend`"));
        assert_eq!(
            change(&plan, "Secret", "agent-a-token").action,
            Action::Update
        );
    }

    #[test]
    fn an_unchanged_image_holds_nothing_back() {
        let (draft, existing, claims) = draft("img:1");
        let (plan, settled) = draft.finish(&facts(&existing, &claims, true));
        assert!(settled.held.is_empty());
        assert_eq!(
            change(&plan, "Deployment", "agent-a").action,
            Action::Unchanged
        );
        assert!(change(&plan, "Deployment", "agent-a").notes.is_empty());
        assert_eq!(
            change(&plan, "Secret", "agent-a-token").action,
            Action::Update
        );
    }

    #[test]
    fn removed_objects_are_pruned_in_reverse_order_but_volumes_are_kept() {
        let live = vec![
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gone"}}),
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                   "metadata": {"name": "agent-x", "namespace": "gone",
                                "labels": {"clawctl.io/agent": "x"}}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "agent-x", "namespace": "gone"}}),
        ];
        let mut plan = compare(vec![], live.clone(), &options());
        let order: Vec<(&str, Action)> = plan
            .changes
            .iter()
            .map(|c| (c.object.kind.as_str(), c.action))
            .collect();
        assert_eq!(
            order,
            [
                ("Deployment", Action::Prune),
                ("PersistentVolumeClaim", Action::Keep),
                ("Namespace", Action::Prune),
            ]
        );
        assert_eq!(plan.changes[1].agent.as_deref(), Some("x"));
        assert_eq!(plan.namespaces_to_prune(), ["gone"]);
        let claims = BTreeMap::from([("gone".to_string(), vec!["agent-x".to_string()])]);
        plan.protect_volumes(&claims);
        assert_eq!(plan.changes[2].action, Action::Keep);
        assert!(
            plan.changes[2]
                .note()
                .is_some_and(|n| n.contains("agent-x"))
        );

        // --delete-volumes: the claim goes, and then the namespace may go too.
        let mut plan = compare(
            vec![],
            live,
            &Options {
                delete_volumes: true,
                ..options()
            },
        );
        plan.protect_volumes(&claims);
        assert_eq!(plan.count(Action::Prune), 3);
        // ... unless it holds a claim that is not the fleet's.
        let foreign = BTreeMap::from([(
            "gone".to_string(),
            vec!["agent-x".to_string(), "someone-elses".to_string()],
        )]);
        plan.protect_volumes(&foreign);
        assert_eq!(plan.changes[2].action, Action::Keep);
    }

    #[test]
    fn image_changes_are_found_and_held_back() {
        let live = stored(&prepare(gateway("img:1", None), "applyset-abc-v1"));
        let mut plan = compare(
            vec![agent_a(gateway("img:2", None))],
            vec![live.clone()],
            &options(),
        );
        assert_eq!(plan.image_changes(), ["a"]);
        plan.hold_back(&["a".into()]);
        assert!(plan.is_noop(false));
        let plan = compare(
            vec![agent_a(gateway("img:1", None))],
            vec![live],
            &options(),
        );
        assert!(plan.image_changes().is_empty());
    }

    #[test]
    fn a_suspended_agents_replicas_are_left_to_clawctl_suspend() {
        // Applied with one replica, then `clawctl suspend`: zero and the annotation.
        let mut live = stored(&prepare(gateway("img:1", Some(1)), "applyset-abc-v1"));
        live["spec"]["replicas"] = json!(0);
        live["metadata"]["annotations"][crate::cluster::suspend::ANNOTATION] = json!("true");

        // Without the rule apply would take the replica back.
        let plan = compare(
            vec![agent_a(gateway("img:1", Some(1)))],
            vec![live.clone()],
            &options(),
        );
        assert_eq!(plan.changes[0].action, Action::Update);
        // With it: nothing to write, and replicas are not clawctl's to apply.
        let mut plan = compare(
            vec![agent_a(gateway("img:1", Some(1)))],
            vec![live.clone()],
            &options(),
        );
        assert_eq!(plan.keep_scaled_down().suspended, ["a"]);
        assert_eq!(plan.changes[0].action, Action::Unchanged);
        // Another change is applied, without replicas, and is not held for a rollout.
        let mut plan = compare(
            vec![agent_a(gateway("img:2", Some(1)))],
            vec![live.clone()],
            &options(),
        );
        plan.keep_scaled_down();
        assert_eq!(plan.changes[0].action, Action::Update);
        let desired = plan.changes[0].desired.as_ref().expect("desired");
        assert_eq!(desired.pointer("/spec/replicas"), None);
        assert!(plan.image_changes().is_empty());
        // Suspended by the fleet file: zero replicas are clawctl's own, and applied.
        let live = stored(&prepare(gateway("img:1", Some(0)), "applyset-abc-v1"));
        let mut plan = compare(
            vec![agent_a(gateway("img:2", Some(0)))],
            vec![live],
            &options(),
        );
        assert_eq!(plan.keep_scaled_down(), ScaledDown::default());
        let desired = plan.changes[0].desired.as_ref().expect("desired");
        assert_eq!(desired.pointer("/spec/replicas"), Some(&json!(0)));
        assert!(plan.image_changes().is_empty());
    }

    #[test]
    fn an_idle_agents_replicas_are_left_to_the_router() {
        // Applied with one replica, then put to sleep by the router.
        let mut live = stored(&prepare(gateway("img:1", Some(1)), "applyset-abc-v1"));
        live["spec"]["replicas"] = json!(0);
        live["metadata"]["annotations"][crate::cluster::idle::ANNOTATION] =
            json!("2026-03-01T10:00:00Z");
        let mut plan = compare(
            vec![agent_a(gateway("img:1", Some(1)))],
            vec![live.clone()],
            &options(),
        );
        assert_eq!(plan.changes[0].action, Action::Update, "without the rule");
        let kept = plan.keep_scaled_down();
        assert_eq!((kept.idle, kept.suspended), (vec!["a".to_string()], vec![]));
        assert_eq!(plan.changes[0].action, Action::Unchanged);
        // A new image reaches its template, without replicas and without a rollout gate.
        let mut plan = compare(
            vec![agent_a(gateway("img:2", Some(1)))],
            vec![live.clone()],
            &options(),
        );
        plan.keep_scaled_down();
        assert_eq!(plan.changes[0].action, Action::Update);
        let desired = plan.changes[0].desired.as_ref().expect("desired");
        assert_eq!(desired.pointer("/spec/replicas"), None);
        assert!(plan.image_changes().is_empty());
        // Suspended and idle at once: suspended wins.
        live["metadata"]["annotations"][crate::cluster::suspend::ANNOTATION] = json!("true");
        let mut plan = compare(
            vec![agent_a(gateway("img:1", Some(1)))],
            vec![live],
            &options(),
        );
        let kept = plan.keep_scaled_down();
        assert_eq!((kept.idle, kept.suspended), (vec![], vec!["a".to_string()]));
    }
}
