//! Small building blocks shared by the server: Redis's number parsing and
//! formatting, glob matching, the key hash function, a PRNG and clocks.

pub mod glob;
pub mod hash;
pub mod num;
pub mod rand;
pub mod time;
