//! The `gostore` server binary.

fn main() {}
