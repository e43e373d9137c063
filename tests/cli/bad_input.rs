//! Bad-input corpus (being written).
