//! The change set: what apply does to each object (create, update, unchanged, prune,
//! keep, conflict), computed from the rendered manifests and the live objects
//! ([`compare`](Draft::new)), then settled by what else the cluster says
//! ([`finish`](Draft::finish)). Pure: no I/O.

mod change;
mod compare;
mod finish;

pub use self::change::{Action, Change, ObjectRef, Options, Plan, ScaledDown};
pub use self::compare::{APPLIED_HASH, APPLYSET_PART_OF, Draft, contains, prepare};
pub use self::finish::{ASSUMED, Facts, HELD, Settled};
