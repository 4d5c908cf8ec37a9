//! The keyspace: numbered databases, each a key table (`Dict<Value>`) and an
//! expiry table (`Dict<i64>`, Unix ms), as Redis's `redisDb`.
//!
//! Every lookup applies lazy expiry: a key whose time has passed is deleted
//! on access and queued in `expired` so the caller can write a `DEL` to the
//! AOF before the command itself. During AOF replay the clock is
//! `LOADING_NOW` and nothing expires, so replay reproduces exactly the
//! sequence the live server ran.
//!
//! Lookups also keep each key's access clock (`lru`) in the key table node's
//! `meta` word: reads and writes touch it (`get`, `get_mut`, `exists`,
//! `set`...), while `peek` and `kind` (Redis's `LOOKUP_NOTOUCH`) do not.
//!
//! Every change is signalled to the database's `hooks` (WATCH and client
//! tracking plug in there; see `hooks`), and the keyspace emits the events
//! that happen below commands, as Redis's db.c does: `"new"` when a key is
//! created (`add`, `set`, `put_entry`, `hash_or_create`, `list_or_create`,
//! `set_or_create`), `"expired"` when
//! expiry deletes one, `"keymiss"` when a read lookup (`get`, `peek`) finds
//! none. Commands emit the rest (`crate::notify`).

pub(crate) mod dict;
pub(crate) mod expire;
pub mod hash;
pub(crate) mod hooks;
pub mod list;
pub(crate) mod lru;
pub mod set;
/// The stream type.
pub mod stream;
pub(crate) mod value;
/// The sorted-set type.
pub mod zset;

use std::collections::{HashMap, VecDeque};

use dict::Dict;
use hash::Hash;
use hooks::KeyspaceHooks;
use list::List;
use set::Set;
use value::{Kind, Value};
use zset::Zset;

use crate::error::CmdError;
use crate::notify::{self, notify_keyspace_event};
use crate::util::rand::Rng;

/// The clock value used while replaying the AOF: no key is expired.
pub(crate) const LOADING_NOW: i64 = i64::MIN;

/// Whether this server is a replica: its reads treat an expired key as
/// missing but leave it in place for the master's DEL, as Redis's
/// `expireIfNeeded` does on a replica (the master's own commands run with
/// `LOADING_NOW` and see every key). Set with `set_replica_expiry`.
static REPLICA_EXPIRY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Switches the replica's expiry rule on (REPLICAOF host port) or off
/// (REPLICAOF NO ONE).
pub fn set_replica_expiry(on: bool) {
    REPLICA_EXPIRY.store(on, std::sync::atomic::Ordering::Relaxed);
}

fn replica_expiry() -> bool {
    REPLICA_EXPIRY.load(std::sync::atomic::Ordering::Relaxed)
}

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

/// A key's whole state, moved between names or databases.
#[derive(Debug)]
pub struct Entry {
    /// The value.
    pub value: Value,
    /// The access clock (`lru`).
    pub meta: u32,
    /// The expiry time (Unix ms), if any.
    pub expire: Option<i64>,
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
    /// The database's number and its change signals (WATCH and client
    /// tracking plug in there).
    pub hooks: KeyspaceHooks,
    /// Clients waiting for keys of this database (Redis's `blocking_keys`),
    /// each key's in the order they came (client tokens, as numbers). Kept
    /// by the server as it parks and unparks clients; not swapped by SWAPDB:
    /// a waiter stays in its database.
    pub waiting: HashMap<Vec<u8>, VecDeque<usize>>,
    /// Waited-for keys that changed, in the order they did (Redis's
    /// `ready_keys`): the server serves their waiters after the command.
    pub ready: Vec<Vec<u8>>,
}

impl Db {
    /// An empty database (number 0).
    pub fn new() -> Db {
        Db::default()
    }

    /// `n` empty databases, numbered from 0.
    pub fn numbered(n: usize) -> Vec<Db> {
        (0..n)
            .map(|id| Db {
                hooks: KeyspaceHooks::new(id),
                ..Db::default()
            })
            .collect()
    }

    /// The database's number.
    pub fn id(&self) -> usize {
        self.hooks.id
    }

    /// Redis's `signalModifiedKey`: `key` changed. Whole-key changes signal
    /// themselves; a handler that changed a value in place (through
    /// `get_mut`, `get_hash_mut`, `hash_or_create`) calls this once it knows
    /// it changed something.
    #[inline]
    pub fn signal_modified_key(&mut self, key: &[u8]) {
        self.hooks.modified_key(key);
        if !self.hooks.watched.is_empty() {
            self.touch_watched_key(key);
        }
        if !self.waiting.is_empty() {
            self.signal_key_as_ready(key);
        }
    }

    /// Takes client `token` out of the lines of waiters of `keys`.
    pub(crate) fn forget_waiter(&mut self, keys: &[Vec<u8>], token: usize) {
        for key in keys {
            if let Some(line) = self.waiting.get_mut(key.as_slice()) {
                line.retain(|&t| t != token);
                if line.is_empty() {
                    self.waiting.remove(key.as_slice());
                }
            }
        }
    }

    /// Redis's `signalKeyAsReady`: a key clients wait for changed, so its
    /// waiters are worth serving after the command (the server checks that
    /// it then holds what they wait for).
    pub fn signal_key_as_ready(&mut self, key: &[u8]) {
        if self.waiting.contains_key(key) && !self.ready.iter().any(|k| k == key) {
            self.ready.push(key.to_vec());
        }
    }

    /// Redis's `signalFlushedDb`: every key is about to go (`take_all`
    /// calls it before taking them).
    pub fn signal_flushed_db(&mut self) {
        self.hooks.flushed_db();
        if !self.hooks.watched.is_empty() {
            Db::touch_all_watched_keys(self, None, 0);
        }
    }

    /// `client` (with its dirty mark `cas`) watches `key` (Redis's
    /// `watchForKey`; the caller skips a key it already watches here). A
    /// key that has expired but is not deleted yet is watched as expired:
    /// its deletion will be no change.
    pub fn watch_key(&mut self, client: u64, cas: &hooks::CasMark, key: &[u8], now: i64) {
        let expired = self.is_expired(key, now);
        self.hooks
            .watched
            .entry(key.to_vec())
            .or_default()
            .push(hooks::Watcher {
                client,
                cas: cas.clone(),
                expired,
            });
    }

    /// `client` stops watching `key`.
    pub fn unwatch_key(&mut self, client: u64, key: &[u8]) {
        if let Some(line) = self.hooks.watched.get_mut(key) {
            line.retain(|w| w.client != client);
            if line.is_empty() {
                self.hooks.watched.remove(key);
            }
        }
    }

    /// Whether `client` watches `key` and the key expired after WATCH
    /// (Redis's `isWatchedKeyExpired`, for one key: a key that had already
    /// expired when watched does not count).
    pub fn watched_key_expired(&self, client: u64, key: &[u8], now: i64) -> bool {
        let watched_expired = self
            .hooks
            .watched
            .get(key)
            .and_then(|l| l.iter().find(|w| w.client == client))
            .is_some_and(|w| w.expired);
        !watched_expired && self.is_expired(key, now)
    }

    /// Redis 7.0's `touchWatchedKey`: the clients watching `key` are marked
    /// dirty. One that watched it already expired is not, if the key is now
    /// gone (its deletion is no change; it is then watched as a missing
    /// key); if the key is still there, Redis 7.0 stops marking at that
    /// watcher, and so does this. A client already marked is passed over,
    /// as Redis has unwatched all its keys by then.
    fn touch_watched_key(&mut self, key: &[u8]) {
        let Db { hooks, dict, .. } = self;
        let Some(line) = hooks.watched.get_mut(key) else {
            return;
        };
        for w in line.iter_mut() {
            if w.cas.is_dirty() {
                continue;
            }
            if w.expired {
                if !dict.contains_key(key) {
                    w.expired = false;
                    continue;
                }
                break;
            }
            w.cas.set(true);
        }
    }

    /// Redis 7.0's `touchAllWatchedKeysInDb`: `emptied` is flushed (with
    /// `replaced_with` None) or swapped with `replaced_with`; each watched
    /// key that exists in either marks its watchers dirty, except where
    /// nothing changes logically: an expired key deleted, an expired key
    /// replaced by an expired one, a missing key replaced by an expired one.
    fn touch_all_watched_keys(emptied: &mut Db, replaced_with: Option<&Db>, now: i64) {
        let Db { hooks, dict, .. } = emptied;
        for (key, line) in hooks.watched.iter_mut() {
            let in_emptied = dict.contains_key(key);
            let in_replaced = replaced_with.is_some_and(|r| r.dict.contains_key(key));
            if !in_emptied && !in_replaced {
                continue;
            }
            let replaced_expired = replaced_with.is_some_and(|r| r.is_expired(key, now));
            for w in line.iter_mut() {
                if w.cas.is_dirty() {
                    continue;
                }
                if w.expired {
                    if !in_replaced {
                        w.expired = false;
                        continue;
                    } else if replaced_expired {
                        continue;
                    }
                } else if !in_emptied && replaced_expired {
                    w.expired = true;
                    continue;
                }
                w.cas.set(true);
            }
        }
    }

    /// Exchanges the keys of two databases (Redis's `dbSwapDatabases`: the
    /// keys, expiry times, and the expiry cycle's state), signalling both.
    /// Each keeps its number, counters, hooks and watchers; the watchers of
    /// keys that change are marked dirty first, as of `now`.
    pub fn swap_keyspace(a: &mut Db, b: &mut Db, now: i64) {
        a.hooks.swapped_db();
        b.hooks.swapped_db();
        if !a.hooks.watched.is_empty() {
            Db::touch_all_watched_keys(a, Some(b), now);
        }
        if !b.hooks.watched.is_empty() {
            Db::touch_all_watched_keys(b, Some(a), now);
        }
        std::mem::swap(&mut a.dict, &mut b.dict);
        std::mem::swap(&mut a.expires, &mut b.expires);
        std::mem::swap(&mut a.avg_ttl, &mut b.avg_ttl);
        std::mem::swap(&mut a.expires_cursor, &mut b.expires_cursor);
        // Waiters stay; the keys they wait for may hold a list now (Redis's
        // `scanDatabaseForReadyKeys`).
        for db in [a, b] {
            let waited: Vec<Vec<u8>> = db.waiting.keys().cloned().collect();
            for k in waited {
                db.signal_key_as_ready(&k);
            }
        }
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
    pub(crate) fn expire_of(&self, key: &[u8]) -> Option<i64> {
        if self.expires.is_empty() {
            return None;
        }
        self.expires.get(key).copied()
    }

    /// Whether `key` is logically expired at `now` (Redis's `keyIsExpired`:
    /// now > when, never while loading), without deleting it.
    pub(crate) fn is_expired(&self, key: &[u8], now: i64) -> bool {
        match self.expire_of(key) {
            Some(when) => now != LOADING_NOW && now > when,
            None => false,
        }
    }

    /// Whether `key` is expired for this lookup, deleting it unless this
    /// server is a replica (which waits for its master's DEL; Redis's
    /// `expireIfNeeded`). Every read lookup starts here, so this is also
    /// where the access clock follows `now`.
    pub(crate) fn expire_if_needed(&mut self, key: &[u8], now: i64) -> bool {
        lru::observe(now);
        if !self.is_expired(key, now) {
            return false;
        }
        if !replica_expiry() {
            self.delete_expired(key);
        }
        true
    }

    /// `expire_if_needed` for a write lookup: an expired key is deleted
    /// even on a (writable) replica, as Redis's `LOOKUP_WRITE` forces.
    pub(crate) fn expire_if_needed_for_write(&mut self, key: &[u8], now: i64) -> bool {
        lru::observe(now);
        if !self.is_expired(key, now) {
            return false;
        }
        self.delete_expired(key);
        true
    }

    /// Deletes a key whose TTL passed and queues its DEL for the AOF
    /// (Redis's `deleteExpiredKeyAndPropagate`: event `expired`, signal).
    pub(crate) fn delete_expired(&mut self, key: &[u8]) {
        self.expires.remove(key);
        self.dict.remove(key);
        notify_keyspace_event(notify::EXPIRED, "expired", key, self.id());
        self.signal_modified_key(key);
        self.expired.push(key.to_vec());
        self.stats.expired_keys += 1;
    }

    /// The value of `key` after lazy expiry, counting a hit or a miss and
    /// touching its access clock (Redis's `lookupKeyRead`; a miss is event
    /// `keymiss`).
    pub fn get(&mut self, key: &[u8], now: i64) -> Option<&Value> {
        let expired = self.expire_if_needed(key, now);
        match self.dict.get_full_mut(key).filter(|_| !expired) {
            Some((v, meta)) => {
                lru::touch(meta);
                self.stats.hits += 1;
                Some(v)
            }
            None => {
                self.stats.misses += 1;
                notify_keyspace_event(notify::KEY_MISS, "keymiss", key, self.hooks.id);
                None
            }
        }
    }

    /// The value of `key` for writing, touching its access clock (Redis's
    /// `lookupKeyWrite`: no hit/miss counting).
    pub(crate) fn get_mut(&mut self, key: &[u8], now: i64) -> Option<&mut Value> {
        self.expire_if_needed_for_write(key, now);
        let (v, meta) = self.dict.get_full_mut(key)?;
        lru::touch(meta);
        Some(v)
    }

    /// The value of `key` and its access clock, after lazy expiry and
    /// counting a hit or a miss, without touching the clock (Redis's
    /// `LOOKUP_NOTOUCH` reads: EXISTS, TYPE, TTL, SCAN TYPE; a miss is event
    /// `keymiss`).
    pub(crate) fn peek(&mut self, key: &[u8], now: i64) -> Option<(&Value, u32)> {
        self.peek_with(key, now, true)
    }

    /// `peek` without the `keymiss` event (Redis's `LOOKUP_NONOTIFY`, which
    /// OBJECT uses).
    pub(crate) fn peek_quiet(&mut self, key: &[u8], now: i64) -> Option<(&Value, u32)> {
        self.peek_with(key, now, false)
    }

    fn peek_with(&mut self, key: &[u8], now: i64, report_miss: bool) -> Option<(&Value, u32)> {
        let expired = self.expire_if_needed(key, now);
        match self.dict.get_full_mut(key).filter(|_| !expired) {
            Some((v, meta)) => {
                self.stats.hits += 1;
                Some((&*v, *meta))
            }
            None => {
                self.stats.misses += 1;
                if report_miss {
                    notify_keyspace_event(notify::KEY_MISS, "keymiss", key, self.hooks.id);
                }
                None
            }
        }
    }

    /// Whether `key` exists (after lazy expiry), touching it as a write
    /// lookup does (SET NX, MSETNX), without counting.
    pub fn exists(&mut self, key: &[u8], now: i64) -> bool {
        self.get_mut(key, now).is_some()
    }

    /// The type of `key`, if present (no counting, no touching).
    pub fn kind(&mut self, key: &[u8], now: i64) -> Option<Kind> {
        if self.expire_if_needed(key, now) {
            return None;
        }
        self.dict.get(key).map(|v| v.kind())
    }

    /// The string at `key`; WRONGTYPE for other types.
    pub(crate) fn get_str(&mut self, key: &[u8], now: i64) -> Result<Option<&[u8]>, CmdError> {
        match self.get(key, now) {
            None => Ok(None),
            Some(v) => v.as_str().map(Some).ok_or(CmdError::WrongType),
        }
    }

    /// The hash at `key`; WRONGTYPE for other types.
    pub(crate) fn get_hash(&mut self, key: &[u8], now: i64) -> Result<Option<&Hash>, CmdError> {
        match self.get(key, now) {
            None => Ok(None),
            Some(v) => v.as_hash().map(Some).ok_or(CmdError::WrongType),
        }
    }

    /// The hash at `key` for writing; WRONGTYPE for other types.
    pub(crate) fn get_hash_mut(
        &mut self,
        key: &[u8],
        now: i64,
    ) -> Result<Option<&mut Hash>, CmdError> {
        match self.get_mut(key, now) {
            None => Ok(None),
            Some(v) => v.as_hash_mut().map(Some).ok_or(CmdError::WrongType),
        }
    }

    /// The value at `key`, touched; or, when missing, `make()` stored there
    /// (event `new`). The caller checks its type and signals its change.
    fn value_or_create(
        &mut self,
        key: &[u8],
        now: i64,
        make: impl FnOnce() -> Value,
    ) -> Result<&mut Value, CmdError> {
        self.expire_if_needed_for_write(key, now);
        if !self.dict.contains_key(key) {
            notify_keyspace_event(notify::NEW, "new", key, self.hooks.id);
            return Ok(self.dict.insert_new(key, make(), lru::new_meta()));
        }
        match self.dict.get_full_mut(key) {
            Some((v, meta)) => {
                lru::touch(meta);
                Ok(v)
            }
            None => Err(CmdError::WrongType),
        }
    }

    /// The hash at `key`, created empty when missing (event `new`);
    /// WRONGTYPE otherwise. The caller signals its change.
    pub(crate) fn hash_or_create(&mut self, key: &[u8], now: i64) -> Result<&mut Hash, CmdError> {
        self.value_or_create(key, now, || Value::hash(Hash::new()))?
            .as_hash_mut()
            .ok_or(CmdError::WrongType)
    }

    /// The list at `key`; WRONGTYPE for other types.
    pub(crate) fn get_list(&mut self, key: &[u8], now: i64) -> Result<Option<&List>, CmdError> {
        match self.get(key, now) {
            None => Ok(None),
            Some(v) => v.as_list().map(Some).ok_or(CmdError::WrongType),
        }
    }

    /// The list at `key` for writing; WRONGTYPE for other types. The caller
    /// signals its change, and removes the key when it empties the list.
    pub(crate) fn get_list_mut(
        &mut self,
        key: &[u8],
        now: i64,
    ) -> Result<Option<&mut List>, CmdError> {
        match self.get_mut(key, now) {
            None => Ok(None),
            Some(v) => v.as_list_mut().map(Some).ok_or(CmdError::WrongType),
        }
    }

    /// The list at `key`, created empty when missing (event `new`);
    /// WRONGTYPE otherwise. The caller signals its change and must leave
    /// the list non-empty.
    pub(crate) fn list_or_create(&mut self, key: &[u8], now: i64) -> Result<&mut List, CmdError> {
        self.value_or_create(key, now, || Value::list(List::new()))?
            .as_list_mut()
            .ok_or(CmdError::WrongType)
    }

    /// The set at `key`; WRONGTYPE for other types.
    pub(crate) fn get_set(&mut self, key: &[u8], now: i64) -> Result<Option<&Set>, CmdError> {
        match self.get(key, now) {
            None => Ok(None),
            Some(v) => v.as_set().map(Some).ok_or(CmdError::WrongType),
        }
    }

    /// The set at `key` for writing; WRONGTYPE for other types. The caller
    /// signals its change, and removes the key when it empties the set.
    pub(crate) fn get_set_mut(
        &mut self,
        key: &[u8],
        now: i64,
    ) -> Result<Option<&mut Set>, CmdError> {
        match self.get_mut(key, now) {
            None => Ok(None),
            Some(v) => v.as_set_mut().map(Some).ok_or(CmdError::WrongType),
        }
    }

    /// The set at `key`, created empty when missing (event `new`) in the
    /// encoding its first member `first` calls for (Redis's
    /// `setTypeCreate`); WRONGTYPE otherwise. The caller signals its change
    /// and must leave the set non-empty.
    pub(crate) fn set_or_create(
        &mut self,
        key: &[u8],
        now: i64,
        first: &[u8],
    ) -> Result<&mut Set, CmdError> {
        self.value_or_create(key, now, || Value::set(Set::new_for(first)))?
            .as_set_mut()
            .ok_or(CmdError::WrongType)
    }

    /// The sorted set at `key`; WRONGTYPE for other types.
    pub(crate) fn get_zset(&mut self, key: &[u8], now: i64) -> Result<Option<&Zset>, CmdError> {
        match self.get(key, now) {
            None => Ok(None),
            Some(v) => v.as_zset().map(Some).ok_or(CmdError::WrongType),
        }
    }

    /// The sorted set at `key` for writing; WRONGTYPE for other types. The
    /// caller signals its change, and removes the key when it empties it.
    pub(crate) fn get_zset_mut(
        &mut self,
        key: &[u8],
        now: i64,
    ) -> Result<Option<&mut Zset>, CmdError> {
        match self.get_mut(key, now) {
            None => Ok(None),
            Some(v) => v.as_zset_mut().map(Some).ok_or(CmdError::WrongType),
        }
    }

    /// The sorted set at `key`, created empty when missing (event `new`);
    /// WRONGTYPE otherwise. The caller signals its change and must leave
    /// the set non-empty.
    pub(crate) fn zset_or_create(&mut self, key: &[u8], now: i64) -> Result<&mut Zset, CmdError> {
        self.value_or_create(key, now, || Value::zset(Zset::new()))?
            .as_zset_mut()
            .ok_or(CmdError::WrongType)
    }

    /// Sets `key` to `value`, clearing its TTL unless `keep_ttl` (Redis's
    /// `setKey`: event `new` if the key is created; signalled). The new
    /// value's access clock is now, as a new object's; under LFU an existing
    /// key keeps its counter (`lru::overwrite`).
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool) {
        match self.dict.get_full_mut(key) {
            Some((slot, meta)) => {
                *slot = value;
                lru::overwrite(meta);
            }
            None => {
                notify_keyspace_event(notify::NEW, "new", key, self.hooks.id);
                self.dict.insert_new(key, value, lru::new_meta());
            }
        }
        if !keep_ttl && !self.expires.is_empty() {
            self.expires.remove(key);
        }
        self.signal_modified_key(key);
    }

    /// Adds a key known to be absent (Redis's `dbAdd`: event `new`;
    /// signalled).
    pub fn add(&mut self, key: &[u8], value: Value) {
        notify_keyspace_event(notify::NEW, "new", key, self.hooks.id);
        self.dict.insert_new(key, value, lru::new_meta());
        self.signal_modified_key(key);
    }

    /// Removes `key` whole: its value, access clock and expiry time (RENAME
    /// and MOVE carry all three to the new place with `put_entry`).
    /// Signalled.
    pub(crate) fn take_entry(&mut self, key: &[u8]) -> Option<Entry> {
        let meta = self.dict.meta(key)?;
        let value = self.dict.remove(key)?;
        let expire = if self.expires.is_empty() {
            None
        } else {
            self.expires.remove(key)
        };
        self.signal_modified_key(key);
        Some(Entry {
            value,
            meta,
            expire,
        })
    }

    /// Adds a key known to be absent with its access clock and expiry time
    /// (event `new`; signalled).
    pub(crate) fn put_entry(&mut self, key: &[u8], e: Entry) {
        notify_keyspace_event(notify::NEW, "new", key, self.hooks.id);
        self.dict.insert_new(key, e.value, e.meta);
        if let Some(when) = e.expire {
            self.store_expire(key, when);
        }
        self.signal_modified_key(key);
    }

    /// Removes `key` with its TTL; returns its value. Signalled when there
    /// was one.
    pub fn remove(&mut self, key: &[u8]) -> Option<Value> {
        let v = self.dict.remove(key)?;
        if !self.expires.is_empty() {
            self.expires.remove(key);
        }
        self.signal_modified_key(key);
        Some(v)
    }

    /// Sets the expiry time of an existing key. Signalled.
    pub(crate) fn set_expire(&mut self, key: &[u8], when_ms: i64) {
        self.store_expire(key, when_ms);
        self.signal_modified_key(key);
    }

    fn store_expire(&mut self, key: &[u8], when_ms: i64) {
        match self.expires.get_mut(key) {
            Some(w) => *w = when_ms,
            None => {
                self.expires.insert_new(key, when_ms, 0);
            }
        }
    }

    /// Removes the TTL of `key`; returns whether it had one (then
    /// signalled).
    pub fn persist(&mut self, key: &[u8]) -> bool {
        let had = self.expires.remove(key).is_some();
        if had {
            self.signal_modified_key(key);
        }
        had
    }

    /// A random live key (Redis's `dbRandomKey`): expired picks are deleted
    /// and another is drawn. A replica does not delete them, so when every
    /// key has a TTL it gives up after 100 draws and returns the last one,
    /// expired or not, rather than loop for ever (as Redis does).
    pub(crate) fn random_key(&mut self, rng: &mut Rng, now: i64) -> Option<Vec<u8>> {
        let all_volatile = self.expires.len() == self.dict.len();
        let mut tries = 100;
        loop {
            let key = self.dict.fair_random(rng)?.0.to_vec();
            if replica_expiry() && all_volatile {
                tries -= 1;
                if tries == 0 {
                    return Some(key);
                }
            }
            if self.expire_if_needed(&key, now) {
                continue;
            }
            return Some(key);
        }
    }

    /// Removes every key (signalled first, as Redis's `signalFlushedDb`).
    /// Returns the old tables, so a caller may free them elsewhere
    /// (FLUSHALL ASYNC).
    pub(crate) fn take_all(&mut self) -> (Dict<Value>, Dict<i64>) {
        self.signal_flushed_db();
        self.avg_ttl = 0;
        self.expires_cursor = 0;
        (
            std::mem::take(&mut self.dict),
            std::mem::take(&mut self.expires),
        )
    }

    /// Drains the keys expired since the last call.
    pub(crate) fn take_expired(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.expired)
    }
}

#[cfg(test)]
mod tests {
    use super::hooks::Signal;
    use super::*;
    use crate::notify::recorder;

    const NOW: i64 = 1_700_000_000_000;

    fn signals(db: &mut Db) -> Vec<Signal> {
        std::mem::take(&mut db.hooks.log)
    }

    fn key(k: &[u8]) -> Signal {
        Signal::Key(k.to_vec())
    }

    #[test]
    fn every_whole_key_change_signals_the_key_and_nothing_else_does() {
        let mut db = Db::numbered(2).pop().expect("db 1");
        assert_eq!(db.id(), 1);
        db.add(b"a", Value::string(b"v"));
        assert_eq!(signals(&mut db), [key(b"a")]);
        db.set(b"a", Value::string(b"w"), false);
        db.set(b"b", Value::string(b"w"), true);
        assert_eq!(signals(&mut db), [key(b"a"), key(b"b")]);
        db.set_expire(b"a", NOW + 1000);
        assert_eq!(signals(&mut db), [key(b"a")]);
        assert!(db.persist(b"a"));
        assert!(!db.persist(b"a"), "no TTL left: no change, no signal");
        assert_eq!(signals(&mut db), [key(b"a")]);
        db.set_expire(b"a", NOW + 1000);
        let e = db.take_entry(b"a").expect("entry");
        assert!(db.take_entry(b"a").is_none());
        db.put_entry(b"c", e);
        assert_eq!(signals(&mut db), [key(b"a"), key(b"a"), key(b"c")]);
        assert!(db.remove(b"c").is_some());
        assert!(db.remove(b"c").is_none());
        assert_eq!(signals(&mut db), [key(b"c")]);

        // Lookups and in-place access change nothing by themselves.
        let _ = db.get(b"b", NOW);
        let _ = db.get(b"nokey", NOW);
        let _ = db.peek(b"b", NOW);
        let _ = db.get_mut(b"b", NOW);
        assert!(db.exists(b"b", NOW));
        let _ = db.hash_or_create(b"h", NOW);
        assert_eq!(signals(&mut db), []);
        db.signal_modified_key(b"h");
        assert_eq!(signals(&mut db), [key(b"h")]);

        // Expiry signals the key it deletes; a flush signals before the
        // keys go (WATCH will look at them).
        db.set_expire(b"b", NOW);
        signals(&mut db);
        assert!(db.get(b"b", NOW + 1).is_none());
        assert_eq!(signals(&mut db), [key(b"b")]);
        let (d, _) = db.take_all();
        assert_eq!(d.len(), 1);
        assert_eq!(signals(&mut db), [Signal::Flushed]);
        assert_eq!(db.hooks.signals(), 13);
    }

    #[test]
    fn a_change_marks_the_watchers_of_its_key_and_unwatching_empties_the_index() {
        let mut db = Db::new();
        let (a, b) = (hooks::CasMark::new(), hooks::CasMark::new());
        db.watch_key(1, &a, b"k", NOW);
        db.watch_key(2, &b, b"other", NOW);
        db.set(b"k", Value::string(b"v"), false);
        assert!(a.is_dirty() && !b.is_dirty());
        db.unwatch_key(1, b"k");
        db.unwatch_key(2, b"other");
        // Nobody watches: a change costs one emptiness check again.
        assert!(db.hooks.watched.is_empty());
    }

    #[test]
    fn a_key_watched_already_expired_is_no_change_when_deleted_but_is_when_recreated() {
        let mut db = Db::new();
        db.add(b"k", Value::string(b"v"));
        db.set_expire(b"k", NOW - 1);
        let cas = hooks::CasMark::new();
        db.watch_key(1, &cas, b"k", NOW);
        assert!(
            !db.watched_key_expired(1, b"k", NOW),
            "expired before WATCH"
        );
        assert!(db.expire_if_needed(b"k", NOW));
        assert!(!cas.is_dirty(), "its deletion is no change");
        db.add(b"k", Value::string(b"new"));
        assert!(cas.is_dirty(), "now a missing key was created");
    }

    #[test]
    fn swap_exchanges_keys_but_each_database_keeps_its_number_and_hooks() {
        let mut dbs = Db::numbered(2);
        dbs[0].add(b"zero", Value::string(b"v"));
        dbs[0].set_expire(b"zero", NOW + 5);
        dbs[1].add(b"one", Value::string(b"v"));
        let (a, b) = dbs.split_at_mut(1);
        Db::swap_keyspace(&mut a[0], &mut b[0], 0);
        assert_eq!((dbs[0].id(), dbs[1].id()), (0, 1));
        assert!(dbs[0].dict.contains_key(b"one") && dbs[1].dict.contains_key(b"zero"));
        assert_eq!(dbs[1].expire_of(b"zero"), Some(NOW + 5));
        for db in &mut dbs {
            assert_eq!(signals(db).last(), Some(&Signal::Swapped));
        }
    }

    #[test]
    fn the_keyspace_emits_new_expired_and_keymiss_with_its_number() {
        use crate::notify::{EXPIRED, KEY_MISS, NEW};
        recorder::enable_all();
        recorder::take();
        let mut db = Db::numbered(4).pop().expect("db 3");
        db.add(b"a", Value::string(b"v"));
        db.set(b"a", Value::string(b"w"), false); // exists: no "new"
        db.set(b"b", Value::string(b"w"), false);
        let e = db.take_entry(b"b").expect("entry");
        db.put_entry(b"c", e);
        db.hash_or_create(b"h", NOW).expect("hash");
        db.hash_or_create(b"h", NOW).expect("hash");
        assert!(db.get(b"x", NOW).is_none());
        assert!(db.peek(b"y", NOW).is_none());
        assert!(db.peek_quiet(b"z", NOW).is_none());
        assert!(db.get_mut(b"w", NOW).is_none(), "write lookups do not miss");
        db.set_expire(b"a", NOW);
        assert!(db.get(b"a", NOW + 1).is_none());
        let got: Vec<(u32, &str, Vec<u8>, usize)> = recorder::take();
        let want = [
            (NEW, "new", b"a".to_vec(), 3),
            (NEW, "new", b"b".to_vec(), 3),
            (NEW, "new", b"c".to_vec(), 3),
            (NEW, "new", b"h".to_vec(), 3),
            (KEY_MISS, "keymiss", b"x".to_vec(), 3),
            (KEY_MISS, "keymiss", b"y".to_vec(), 3),
            (EXPIRED, "expired", b"a".to_vec(), 3),
            (KEY_MISS, "keymiss", b"a".to_vec(), 3),
        ];
        assert_eq!(got, want);
    }

    fn meta(db: &Db, key: &[u8]) -> u32 {
        db.dict.meta(key).expect("key present")
    }

    #[test]
    fn reads_and_writes_touch_the_access_clock_but_peeks_do_not() {
        let mut db = Db::new();
        db.dict.insert_with_meta(b"k", Value::string(b"v"), 0);
        assert!(db.peek(b"k", NOW).is_some());
        assert_eq!(db.kind(b"k", NOW), Some(Kind::Str));
        assert_eq!(meta(&db, b"k"), 0);
        assert!(db.get(b"k", NOW).is_some());
        assert_ne!(meta(&db, b"k"), 0);
        assert_eq!((db.stats.hits, db.stats.misses), (2, 0));
        assert!(db.peek(b"nokey", NOW).is_none());
        assert_eq!(db.stats.misses, 1);

        for write in [
            (|db: &mut Db| {
                db.get_mut(b"k", NOW);
            }) as fn(&mut Db),
            |db| db.set(b"k", Value::string(b"w"), false),
            |db| assert!(db.exists(b"k", NOW)),
            |db| {
                let _ = db.get_str(b"k", NOW);
            },
        ] {
            if let Some((_, m)) = db.dict.get_full_mut(b"k") {
                *m = 0;
            }
            write(&mut db);
            assert_ne!(meta(&db, b"k"), 0);
        }
        db.add(b"new", Value::string(b"v"));
        assert_ne!(meta(&db, b"new"), 0);
        db.hash_or_create(b"h", NOW).expect("hash");
        assert_ne!(meta(&db, b"h"), 0);
    }

    #[test]
    fn an_entry_moves_with_its_value_clock_and_ttl() {
        let mut db = Db::new();
        db.dict.insert_with_meta(b"a", Value::string(b"v"), 77);
        db.set_expire(b"a", NOW + 5000);
        let e = db.take_entry(b"a").expect("entry");
        assert!(db.is_empty() && db.expires.is_empty());
        let mut other = Db::new();
        other.put_entry(b"b", e);
        assert_eq!(meta(&other, b"b"), 77);
        assert_eq!(other.expire_of(b"b"), Some(NOW + 5000));
        assert_eq!(
            other.dict.get(b"b").and_then(|v| v.as_str()),
            Some(&b"v"[..])
        );
        assert!(db.take_entry(b"a").is_none());
    }

    #[test]
    fn lazy_expiry_hides_the_key_and_queues_its_del_but_never_while_loading() {
        let mut db = Db::new();
        db.add(b"k", Value::string(b"v"));
        db.set_expire(b"k", NOW);
        assert!(db.get(b"k", NOW).is_some(), "alive at its expiry ms");
        assert!(db.is_expired(b"k", NOW + 1));
        assert!(db.get(b"k", LOADING_NOW).is_some());
        assert_eq!(db.len(), 1, "is_expired and loading delete nothing");
        assert!(db.get(b"k", NOW + 1).is_none());
        assert_eq!(db.take_expired(), vec![b"k".to_vec()]);
        assert_eq!(db.stats.expired_keys, 1);
        assert!(db.is_empty() && db.expires.is_empty());
    }
}
