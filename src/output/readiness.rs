//! What every progress reporter shares: a workload's readiness as one line, shown once
//! per distinct state (a watch repeats states; a log should not), and plain lines on
//! stderr unless `--quiet`.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;

use crate::cluster::readiness::Rollout;
use crate::cluster::wait::Workload;

/// The last state shown for each workload.
#[derive(Default)]
pub struct Readiness {
    last: Mutex<HashMap<Workload, String>>,
}

impl Readiness {
    /// `ns/name: ready` (or `waiting: ...`, `failed: ...`), unless that is what was
    /// shown last for this workload.
    pub fn line(&self, workload: &Workload, state: &Rollout) -> Option<String> {
        let text = match state {
            Rollout::Done => "ready".to_string(),
            Rollout::Waiting(why) => format!("waiting: {why}"),
            Rollout::Failed(why) => format!("failed: {why}"),
        };
        let mut last = self.last.lock().ok()?;
        if last.get(workload) == Some(&text) {
            return None;
        }
        last.insert(workload.clone(), text.clone());
        Some(format!("{}/{}: {text}", workload.namespace, workload.name))
    }
}

/// One line on stderr, unless `quiet`.
pub fn plain(quiet: bool, text: &str) {
    if !quiet {
        let _ = writeln!(std::io::stderr(), "{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_is_shown_once_until_it_changes() {
        let r = Readiness::default();
        let w = Workload {
            namespace: "core".into(),
            name: "agent-a".into(),
            agent: Some("a".into()),
        };
        let waiting = Rollout::Waiting("0 of 1 ready".into());
        assert_eq!(
            r.line(&w, &waiting).as_deref(),
            Some("core/agent-a: waiting: 0 of 1 ready")
        );
        assert_eq!(r.line(&w, &waiting), None);
        assert_eq!(
            r.line(&w, &Rollout::Done).as_deref(),
            Some("core/agent-a: ready")
        );
    }
}
