//! Small building blocks shared by the server: Redis's number parsing and
//! formatting, Redis's geohash arithmetic (GEO), glob matching, the key hash function, a PRNG, clocks,
//! SHA-1 (DEBUG DIGEST) and Redis's quoting of bytes (`repr`).

pub mod geohash;
pub mod glob;
pub mod hash;
pub mod lzf;
pub mod num;
pub mod rand;
pub mod repr;
pub mod sha1;
pub mod time;
