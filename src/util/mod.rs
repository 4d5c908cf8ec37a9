//! Small building blocks shared by the server: Redis's number parsing and
//! formatting, glob matching, the key hash function, a PRNG, clocks and
//! SHA-1 (DEBUG DIGEST).

pub mod glob;
pub mod hash;
pub mod num;
pub mod rand;
pub mod sha1;
pub mod time;
