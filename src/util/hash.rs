//! The hash function of every dict: a seeded wyhash (final version 3).
//!
//! The seed is drawn once per process from the kernel, so a client cannot
//! pick keys that collide into one bucket chain (Redis uses SipHash with a
//! random seed for the same reason). wyhash is a fraction of SipHash's cost on
//! short keys, which is what a key table hashes all day.

use std::sync::atomic::{AtomicU64, Ordering};

static SEED: AtomicU64 = AtomicU64::new(0x2d35_8dcc_aa6c_78a5);

const P0: u64 = 0xa076_1d64_78bd_642f;
const P1: u64 = 0xe703_7ed1_a0b4_28db;
const P2: u64 = 0x8ebc_6af0_9c88_c6e3;
const P3: u64 = 0x5899_65cc_7537_4cc3;

/// Sets the process-wide seed. Called once at start-up, before any dict exists:
/// a dict hashed with one seed cannot be searched with another.
pub fn set_seed(seed: u64) {
    SEED.store(seed, Ordering::Relaxed);
}

#[inline(always)]
fn mum(a: u64, b: u64) -> u64 {
    let r = (a as u128) * (b as u128);
    (r as u64) ^ ((r >> 64) as u64)
}

#[inline(always)]
fn r8(p: &[u8], i: usize) -> u64 {
    u64::from_le_bytes([
        p[i],
        p[i + 1],
        p[i + 2],
        p[i + 3],
        p[i + 4],
        p[i + 5],
        p[i + 6],
        p[i + 7],
    ])
}

#[inline(always)]
fn r4(p: &[u8], i: usize) -> u64 {
    u32::from_le_bytes([p[i], p[i + 1], p[i + 2], p[i + 3]]) as u64
}

/// Hashes `key` with the process seed.
#[inline]
pub fn hash(key: &[u8]) -> u64 {
    hash_with_seed(key, SEED.load(Ordering::Relaxed))
}

/// wyhash of `key` under `seed`.
pub fn hash_with_seed(key: &[u8], seed: u64) -> u64 {
    let len = key.len();
    let mut seed = seed ^ mum(seed ^ P0, P1);
    let (a, b);
    if len <= 16 {
        if len >= 4 {
            let q = (len >> 3) << 2;
            a = (r4(key, 0) << 32) | r4(key, q);
            b = (r4(key, len - 4) << 32) | r4(key, len - 4 - q);
        } else if len > 0 {
            a = ((key[0] as u64) << 16) | ((key[len >> 1] as u64) << 8) | key[len - 1] as u64;
            b = 0;
        } else {
            a = 0;
            b = 0;
        }
    } else {
        let mut i = len;
        let mut p = 0;
        if i > 48 {
            let mut see1 = seed;
            let mut see2 = seed;
            while i > 48 {
                seed = mum(r8(key, p) ^ P1, r8(key, p + 8) ^ seed);
                see1 = mum(r8(key, p + 16) ^ P2, r8(key, p + 24) ^ see1);
                see2 = mum(r8(key, p + 32) ^ P3, r8(key, p + 40) ^ see2);
                p += 48;
                i -= 48;
            }
            seed ^= see1 ^ see2;
        }
        while i > 16 {
            seed = mum(r8(key, p) ^ P1, r8(key, p + 8) ^ seed);
            i -= 16;
            p += 16;
        }
        a = r8(key, p + i - 16);
        b = r8(key, p + i - 8);
    }
    mum(P1 ^ len as u64, mum(a ^ P1, b ^ seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_keys_hash_equal_and_lengths_matter() {
        for len in 0..100 {
            let k: Vec<u8> = (0..len as u8).collect();
            assert_eq!(hash_with_seed(&k, 7), hash_with_seed(&k.clone(), 7));
        }
        assert_ne!(hash_with_seed(b"", 1), hash_with_seed(b"\0", 1));
        assert_ne!(hash_with_seed(b"a", 1), hash_with_seed(b"a", 2));
    }

    #[test]
    fn low_bits_spread_over_buckets() {
        let mut buckets = [0u32; 64];
        for i in 0..64_000 {
            let k = format!("key:{i:012}");
            buckets[(hash_with_seed(k.as_bytes(), 42) & 63) as usize] += 1;
        }
        assert!(
            buckets.iter().all(|&n| (800..1200).contains(&n)),
            "{buckets:?}"
        );
    }
}
