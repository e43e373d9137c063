//! How a rollout moves: which agents are canaries, how the rest split into waves, how
//! long each must soak. Pure: the same inputs give the same groups.

use std::time::Duration;

use crate::fleet::model;

/// Which agents go first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Canary {
    None,
    Agents(Vec<String>),
    Count(u32),
    Percent(u32),
}

/// The whole strategy: spec.rollout, overridden by flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strategy {
    pub canary: Canary,
    /// Cumulative percentages of the agents left after the canary, ending at 100.
    pub waves: Vec<u32>,
    pub soak: Duration,
    /// Per wave (the canary counts as one).
    pub timeout: Duration,
    pub max_parallel: usize,
    pub auto_rollback: bool,
}

/// DESIGN §2 defaults: soak 60s, timeout 10m per wave, automatic rollback, one canary.
impl Default for Strategy {
    fn default() -> Self {
        Strategy {
            canary: Canary::Count(1),
            waves: vec![100],
            soak: Duration::from_secs(60),
            timeout: Duration::from_secs(600),
            max_parallel: 5,
            auto_rollback: true,
        }
    }
}

/// "25%" -> 25. The fleet file's waves were checked by `validate`; flags are checked here.
pub fn percent(text: &str) -> Result<u32, String> {
    let number = text.trim().trim_end_matches('%');
    match number.parse::<u32>() {
        Ok(n) if (1..=100).contains(&n) => Ok(n),
        _ => Err(format!("{text:?} is not a percentage between 1% and 100%")),
    }
}

/// Waves as written (`["25%", "100%"]`): increasing, ending at 100% so every agent is
/// reached (the rule `validate` applies to spec.rollout.waves).
pub fn waves(texts: &[String]) -> Result<Vec<u32>, String> {
    let mut waves = Vec::new();
    for text in texts {
        let n = percent(text)?;
        if waves.last().is_some_and(|last| *last >= n) {
            return Err(format!(
                "waves must increase: {text} comes after {}%",
                waves.last().copied().unwrap_or(0)
            ));
        }
        waves.push(n);
    }
    if waves.last() != Some(&100) {
        return Err("the last wave must be 100% so every agent is reached".into());
    }
    Ok(waves)
}

impl Strategy {
    /// The fleet's `spec.rollout` over the defaults.
    pub fn from_fleet(rollout: &model::Rollout) -> Result<Strategy, String> {
        let mut strategy = Strategy::default();
        if let Some(canary) = &rollout.canary {
            strategy.canary = match (&canary.agents, canary.count, canary.percent) {
                (Some(agents), _, _) => Canary::Agents(agents.clone()),
                (None, Some(count), _) => Canary::Count(count),
                (None, None, Some(percent)) => Canary::Percent(percent),
                (None, None, None) => Canary::None,
            };
        }
        if let Some(w) = &rollout.waves {
            strategy.waves = waves(w)?;
        }
        if let Some(soak) = &rollout.soak {
            strategy.soak = soak.get();
        }
        if let Some(timeout) = &rollout.timeout {
            strategy.timeout = timeout.get();
        }
        if let Some(auto) = rollout.auto_rollback {
            strategy.auto_rollback = auto;
        }
        Ok(strategy)
    }

    /// Whether `groups(agents)` starts with a canary group.
    pub fn has_canary(&self, agents: &[String]) -> bool {
        match &self.canary {
            Canary::None => false,
            Canary::Agents(names) => agents.iter().any(|a| names.contains(a)),
            Canary::Count(n) => *n > 0 && !agents.is_empty(),
            Canary::Percent(p) => *p > 0 && !agents.is_empty(),
        }
    }

    /// Splits `agents` (those to update, sorted) into groups: the canary first (when
    /// there is one), then one group per wave. Empty groups are dropped.
    pub fn groups(&self, agents: &[String]) -> Vec<Vec<String>> {
        let take = |n: usize| n.min(agents.len());
        let canary: Vec<String> = match &self.canary {
            Canary::None => Vec::new(),
            Canary::Agents(names) => agents
                .iter()
                .filter(|a| names.contains(a))
                .cloned()
                .collect(),
            Canary::Count(n) => agents[..take(*n as usize)].to_vec(),
            Canary::Percent(p) => {
                agents[..take((agents.len() * *p as usize).div_ceil(100))].to_vec()
            }
        };
        let rest: Vec<String> = agents
            .iter()
            .filter(|a| !canary.contains(a))
            .cloned()
            .collect();
        let mut groups = vec![canary];
        let mut start = 0;
        for wave in &self.waves {
            let end = (rest.len() * *wave as usize).div_ceil(100).min(rest.len());
            if end > start {
                groups.push(rest[start..end].to_vec());
                start = end;
            }
        }
        groups.retain(|g| !g.is_empty());
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("a{i:02}")).collect()
    }

    #[test]
    fn canary_then_cumulative_waves_cover_everyone_once() {
        let strategy = Strategy {
            canary: Canary::Count(1),
            waves: vec![25, 100],
            ..Strategy::default()
        };
        let groups = strategy.groups(&names(9));
        let sizes: Vec<usize> = groups.iter().map(Vec::len).collect();
        assert_eq!(sizes, [1, 2, 6]);
        let mut all: Vec<String> = groups.concat();
        all.sort();
        assert_eq!(all, names(9));
    }

    #[test]
    fn canary_by_name_or_percent() {
        let strategy = Strategy {
            canary: Canary::Agents(vec!["a03".into(), "zz".into()]),
            waves: vec![50, 100],
            ..Strategy::default()
        };
        assert_eq!(strategy.groups(&names(5))[0], ["a03"]);
        let strategy = Strategy {
            canary: Canary::Percent(10),
            ..Strategy::default()
        };
        assert_eq!(strategy.groups(&names(25))[0].len(), 3);
        // Nothing to move: no groups.
        assert!(Strategy::default().groups(&[]).is_empty());
        // One agent: it is the canary and there is no wave.
        assert_eq!(Strategy::default().groups(&names(1)), [names(1)]);
    }

    #[test]
    fn waves_are_checked_and_completed() {
        assert_eq!(waves(&["25%".into(), "100%".into()]), Ok(vec![25, 100]));
        assert!(waves(&["25%".into(), "50%".into()]).is_err());
        assert!(waves(&["50%".into(), "25%".into()]).is_err());
        assert!(percent("0%").is_err() && percent("150%").is_err() && percent("x").is_err());
    }
}
