//! Server-side apply: field ownership (managedFields), merging and conflicts.
