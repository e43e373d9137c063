//! Whether an agent is suspended: `suspended` in a team's defaults or on the agent
//! (fleet defaults may not carry it). A suspended agent's Deployment has no replicas;
//! its volume, Service and every other object stay.

use super::cx::Cx;
use crate::diag::FieldPath;
use crate::fleet::model::Settings;

pub(super) fn resolve(settings: &Settings) -> bool {
    settings.suspended.unwrap_or(false)
}

/// Refuses `suspended` in `spec.defaults`. The defaults are the baseline every agent
/// starts from, a new one included, and a one-line switch stopping the whole fleet is
/// easier to write by mistake than to mean: suspend teams or agents, one by one, where
/// the file shows who is stopped.
pub(super) fn check_fleet_defaults(cx: &mut Cx, defaults: &Settings, path: &FieldPath) {
    if defaults.suspended.is_some() {
        cx.error(
            &path.key("suspended"),
            "`suspended` belongs to a team (teams[].defaults) or an agent, not to the fleet's defaults",
        );
    }
}
