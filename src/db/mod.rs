//! The keyspace: numbered databases, each a key table (`Dict<Value>`) and an
//! expiry table (`Dict<i64>`, Unix ms), as Redis's `redisDb`.
//!
//! Every lookup applies lazy expiry: a key whose time has passed is deleted
//! on access and queued in `expired` so the caller can write a `DEL` to the
//! AOF before the command itself. During AOF replay the clock is
//! `LOADING_NOW` and nothing expires, so replay reproduces exactly the
//! sequence the live server ran.

pub mod dict;
pub mod expire;
pub mod hash;
pub mod value;

use dict::Dict;
use hash::Hash;
use value::{Kind, Value};

use crate::error::CmdError;
use crate::util::rand::Rng;

/// The clock value used while replaying the AOF: no key is expired.
pub const LOADING_NOW: i64 = i64::MIN;

/// Per-database counters, summed for INFO.
#[derive(Debug, Default, Clone, Copy)]
pub struct DbStats {
    /// Keys removed because their TTL passed.
    pub expired_keys: u64,
    /// Reads that found their key.
    pub hits: u64,
    /// Reads that did not.
    pub misses: u64,
    /// Expired keys found stale by the active cycle (for stat_expired_stale_perc).
    pub expired_time_cap_reached: u64,
}

/// One numbered database.
#[derive(Default)]
pub struct Db {
    /// Key to value.
    pub dict: Dict<Value>,
    /// Key to expiry time (Unix ms), for keys with a TTL.
    pub expires: Dict<i64>,
    /// Keys deleted by expiry, waiting to be written to the AOF as DEL.
    pub expired: Vec<Vec<u8>>,
    /// Average TTL of sampled keys (INFO keyspace avg_ttl).
    pub avg_ttl: i64,
    /// The active expiry cycle's bucket cursor.
    pub expires_cursor: u64,
    /// Counters.
    pub stats: DbStats,
}

impl Db {
    /// An empty database.
    pub fn new() -> Db {
        Db::default()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.dict.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.dict.is_empty()
    }

    /// The expiry time of `key`, if it has one.
    pub fn expire_of(&self, key: &[u8]) -> Option<i64> {
        if self.expires.is_empty() {
            return None;
        }
        self.expires.get(key).copied()
    }

    /// Whether `key` is logically expired at `now` (Redis: now > when).
    fn is_expired(&self, key: &[u8], now: i64) -> bool {
        match self.expire_of(key) {
            Some(when) => now != LOADING_NOW && now > when,
            None => false,
        }
    }

    /// Deletes `key` if it is expired; returns whether it did.
    pub fn expire_if_needed(&mut self, key: &[u8], now: i64) -> bool {
        if !self.is_expired(key, now) {
            return false;
        }
        self.delete_expired(key);
        true
    }

    /// Deletes a key whose TTL passed and queues its DEL for the AOF.
    pub(crate) fn delete_expired(&mut self, key: &[u8]) {
        self.expires.remove(key);
        self.dict.remove(key);
        self.expired.push(key.to_vec());
        self.stats.expired_keys += 1;
    }

    /// The value of `key` after lazy expiry, counting a hit or a miss.
    pub fn get(&mut self, key: &[u8], now: i64) -> Option<&Value> {
        self.expire_if_needed(key, now);
        let v = self.dict.get(key);
        if v.is_some() {
            self.stats.hits += 1;
        } else {
            self.stats.misses += 1;
        }
        v
    }

    /// The value of `key` for writing (no hit/miss counting).
    pub fn get_mut(&mut self, key: &[u8], now: i64) -> Option<&mut Value> {
        self.expire_if_needed(key, now);
        self.dict.get_mut(key)
    }

    /// Whether `key` exists (after lazy expiry), without counting.
    pub fn exists(&mut self, key: &[u8], now: i64) -> bool {
        self.expire_if_needed(key, now);
        self.dict.contains_key(key)
    }

    /// The type of `key`, if present.
    pub fn kind(&mut self, key: &[u8], now: i64) -> Option<Kind> {
        self.expire_if_needed(key, now);
        self.dict.get(key).map(|v| v.kind())
    }

    /// The string at `key`; WRONGTYPE for other types.
    pub fn get_str(&mut self, key: &[u8], now: i64) -> Result<Option<&[u8]>, CmdError> {
        match self.get(key, now) {
            None => Ok(None),
            Some(v) => v.as_str().map(Some).ok_or(CmdError::WrongType),
        }
    }

    /// The hash at `key`; WRONGTYPE for other types.
    pub fn get_hash(&mut self, key: &[u8], now: i64) -> Result<Option<&Hash>, CmdError> {
        match self.get(key, now) {
            None => Ok(None),
            Some(v) => v.as_hash().map(Some).ok_or(CmdError::WrongType),
        }
    }

    /// The hash at `key` for writing; WRONGTYPE for other types.
    pub fn get_hash_mut(&mut self, key: &[u8], now: i64) -> Result<Option<&mut Hash>, CmdError> {
        match self.get_mut(key, now) {
            None => Ok(None),
            Some(v) => v.as_hash_mut().map(Some).ok_or(CmdError::WrongType),
        }
    }

    /// The hash at `key`, created empty when missing; WRONGTYPE otherwise.
    pub fn hash_or_create(&mut self, key: &[u8], now: i64) -> Result<&mut Hash, CmdError> {
        self.expire_if_needed(key, now);
        if !self.dict.contains_key(key) {
            self.dict.insert_new(key, Value::hash(Hash::new()), 0);
        }
        match self.dict.get_mut(key) {
            Some(v) => v.as_hash_mut().ok_or(CmdError::WrongType),
            None => Err(CmdError::WrongType),
        }
    }

    /// Sets `key` to `value`, clearing its TTL unless `keep_ttl` (Redis's
    /// `setKey`).
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool) {
        match self.dict.get_mut(key) {
            Some(slot) => *slot = value,
            None => {
                self.dict.insert_new(key, value, 0);
            }
        }
        if !keep_ttl && !self.expires.is_empty() {
            self.expires.remove(key);
        }
    }

    /// Adds a key known to be absent.
    pub fn add(&mut self, key: &[u8], value: Value) {
        self.dict.insert_new(key, value, 0);
    }

    /// Removes `key` with its TTL; returns its value.
    pub fn remove(&mut self, key: &[u8]) -> Option<Value> {
        let v = self.dict.remove(key)?;
        if !self.expires.is_empty() {
            self.expires.remove(key);
        }
        Some(v)
    }

    /// Removes a key whose value became empty (a hash with no fields left).
    pub fn remove_if_empty_hash(&mut self, key: &[u8]) -> bool {
        let empty = matches!(self.dict.get(key).and_then(|v| v.as_hash()), Some(h) if h.is_empty());
        if empty {
            self.remove(key);
        }
        empty
    }

    /// Sets the expiry time of an existing key.
    pub fn set_expire(&mut self, key: &[u8], when_ms: i64) {
        match self.expires.get_mut(key) {
            Some(w) => *w = when_ms,
            None => {
                self.expires.insert_new(key, when_ms, 0);
            }
        }
    }

    /// Removes the TTL of `key`; returns whether it had one.
    pub fn persist(&mut self, key: &[u8]) -> bool {
        self.expires.remove(key).is_some()
    }

    /// A random live key (Redis's `dbRandomKey`): expired picks are deleted
    /// and another is drawn.
    pub fn random_key(&mut self, rng: &mut Rng, now: i64) -> Option<Vec<u8>> {
        loop {
            let key = self.dict.random(rng)?.0.to_vec();
            if self.expire_if_needed(&key, now) {
                continue;
            }
            return Some(key);
        }
    }

    /// Removes every key. Returns the old tables, so a caller may free them
    /// elsewhere (FLUSHALL ASYNC).
    pub fn take_all(&mut self) -> (Dict<Value>, Dict<i64>) {
        self.avg_ttl = 0;
        self.expires_cursor = 0;
        (
            std::mem::take(&mut self.dict),
            std::mem::take(&mut self.expires),
        )
    }

    /// Drains the keys expired since the last call.
    pub fn take_expired(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.expired)
    }
}
