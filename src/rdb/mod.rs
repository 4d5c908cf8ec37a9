//! RDB snapshots in Redis 7.0's format (version 10): the writer (SAVE,
//! BGSAVE, save points, DUMP), the loader (start-up, RESTORE), and the
//! packed encodings they carry. See docs/durability.md, "RDB snapshots".
//!
//! Reference: Redis 7.0's `rdb.c`/`rdb.h` (layout, opcodes, types),
//! `listpack.c`, `ziplist.c`, `zipmap.c`, `intset.c` (the blobs), and
//! `crc64.c`. GoStore writes what Redis 7.0 writes for the same value and
//! reads every type and encoding Redis 7.0 reads, streams included
//! (`stream.rs`); module values are refused with a message naming them.

pub mod crc64;
pub mod loader;
pub mod pack;
pub mod save;
pub mod stream;
pub mod writer;

use crate::config::Config;
use crate::db::hash::HashLimits;
use crate::db::list::ListLimits;
use crate::db::zset::ZsetLimits;

/// The RDB version written (Redis 7.0's `RDB_VERSION`).
pub const RDB_VERSION: u32 = 10;
/// The `redis-ver` AUX field: the Redis version whose format this is.
pub const REDIS_VER: &str = "7.0.15";

/// Value types (`RDB_TYPE_*`).
pub mod rtype {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
}

/// Opcodes (`RDB_OPCODE_*`).
pub mod opcode {
    pub const FUNCTION2: u8 = 245;
    pub const FUNCTION: u8 = 246;
    pub const MODULE_AUX: u8 = 247;
    pub const IDLE: u8 = 248;
    pub const FREQ: u8 = 249;
    pub const AUX: u8 = 250;
    pub const RESIZEDB: u8 = 251;
    pub const EXPIRETIME_MS: u8 = 252;
    pub const EXPIRETIME: u8 = 253;
    pub const SELECTDB: u8 = 254;
    pub const EOF: u8 = 255;
}

/// What a key carries beside its value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyMeta {
    /// Absolute expiry, Unix ms.
    pub expire_ms: Option<i64>,
    /// Seconds since the last access (RDB_OPCODE_IDLE).
    pub idle_secs: Option<u64>,
    /// LFU counter (RDB_OPCODE_FREQ).
    pub freq: Option<u8>,
}

/// The encoding thresholds a loaded value is built under.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// `hash-max-listpack-*`.
    pub hash: HashLimits,
    /// `zset-max-listpack-*`.
    pub zset: ZsetLimits,
    /// `list-max-listpack-size`, `list-compress-depth`.
    pub list: ListLimits,
    /// `set-max-intset-entries`.
    pub intset: usize,
}

impl Limits {
    /// The thresholds `c` sets.
    pub fn from_config(c: &Config) -> Limits {
        Limits {
            hash: HashLimits {
                max_entries: c.hash_max_listpack_entries.max(0) as usize,
                max_value: c.hash_max_listpack_value.max(0) as usize,
            },
            zset: ZsetLimits {
                max_entries: c.zset_max_listpack_entries.max(0) as usize,
                max_value: c.zset_max_listpack_value.max(0) as usize,
            },
            list: ListLimits {
                fill: c.list_max_listpack_size as i32,
                compress_depth: c.list_compress_depth.clamp(0, u32::MAX as i64) as u32,
            },
            intset: c.set_max_intset_entries.max(0) as usize,
        }
    }
}
