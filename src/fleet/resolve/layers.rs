//! How the layers of settings (fleet defaults, team defaults, agent, a hosted agent)
//! stack: each field by the rule the fleet model declares with it (`fleet::layering`),
//! plus the one rule that spans two fields.

use crate::fleet::layering::Merge;
use crate::fleet::model::Settings;

/// `above` over `below`: each field by its own rule. `soul` and `soulInline` are one
/// choice, so a layer setting either drops both from below.
pub(super) fn merged(mut below: Settings, above: Settings) -> Settings {
    if above.soul.is_some() || above.soul_inline.is_some() {
        below.soul = None;
        below.soul_inline = None;
    }
    below.merge(above);
    below
}
