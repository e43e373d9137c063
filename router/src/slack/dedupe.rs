//! The door's own memory of event ids, so a redelivered event is dropped before it
//! reaches the dispatcher. Slack delivers at least once: it re-sends an event it thinks
//! went unacknowledged (with `retry_attempt` and `retry_reason` on the envelope), and with
//! two connections open during a refresh it may send one on either ("each payload may
//! be sent to any of the connections",
//! https://docs.slack.dev/apis/events-api/using-socket-mode#connections). The
//! dispatcher dedupes too (`Inbound::delivery`); this window keeps the door from even
//! starting a second dispatch. Bounded in time and in size.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

/// Event ids seen within `window`, at most `capacity` of them.
#[derive(Debug)]
pub struct Seen {
    window: Duration,
    capacity: usize,
    order: VecDeque<(Instant, String)>,
    ids: HashSet<String>,
}

impl Seen {
    pub fn new(window: Duration, capacity: usize) -> Seen {
        Seen {
            window,
            capacity: capacity.max(1),
            order: VecDeque::new(),
            ids: HashSet::new(),
        }
    }

    /// True the first time `id` is offered within the window; false for a repeat.
    pub fn first_sighting(&mut self, id: &str, now: Instant) -> bool {
        while self
            .order
            .front()
            .is_some_and(|(at, _)| now.saturating_duration_since(*at) >= self.window)
        {
            self.forget_oldest();
        }
        if self.ids.contains(id) {
            return false;
        }
        while self.order.len() >= self.capacity {
            self.forget_oldest();
        }
        self.ids.insert(id.to_string());
        self.order.push_back((now, id.to_string()));
        true
    }

    fn forget_oldest(&mut self) {
        if let Some((_, old)) = self.order.pop_front() {
            self.ids.remove(&old);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeat_within_the_window_is_dropped() {
        let start = Instant::now();
        let mut seen = Seen::new(Duration::from_secs(60), 10);
        assert!(seen.first_sighting("Ev1", start));
        assert!(!seen.first_sighting("Ev1", start + Duration::from_secs(59)));
        assert!(seen.first_sighting("Ev2", start + Duration::from_secs(59)));
    }

    #[test]
    fn ids_are_forgotten_after_the_window() {
        let start = Instant::now();
        let mut seen = Seen::new(Duration::from_secs(60), 10);
        assert!(seen.first_sighting("Ev1", start));
        assert!(seen.first_sighting("Ev1", start + Duration::from_secs(61)));
    }

    #[test]
    fn memory_is_bounded_oldest_first() {
        let start = Instant::now();
        let mut seen = Seen::new(Duration::from_secs(3600), 3);
        for id in ["a", "b", "c", "d"] {
            assert!(seen.first_sighting(id, start));
        }
        assert_eq!(seen.ids.len(), 3);
        assert!(!seen.first_sighting("d", start));
        assert!(seen.first_sighting("a", start), "the oldest was forgotten");
    }
}
