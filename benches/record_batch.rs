//! Placeholder: record-batch decode bench, filled in by its owner.
fn main() {}
