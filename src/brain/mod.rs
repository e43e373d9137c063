//! Shared names for an agent's brain (the files on its volume) that knowledge sync,
//! snapshots and archives all use; a leaf: it imports nothing of clawctl's.

pub mod excludes;
