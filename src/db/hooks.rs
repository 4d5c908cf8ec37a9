//! What a database tells the rest of the server when its keys change:
//! Redis's `signalModifiedKey` and `signalFlushedDb` (db.c).
//!
//! Every change to a key reaches a `Db` method, which signals it here:
//! whole-key changes (`set`, `add`, `remove`, `take_entry`, `put_entry`,
//! `set_expire`, `persist`, expiry, FLUSH, SWAPDB) inside `Db`, and changes
//! made in place through `get_mut`, `get_hash_mut` or `hash_or_create` by
//! the handler, through `Db::signal_modified_key`, once it knows it changed
//! something, exactly where Redis's command calls `signalModifiedKey`. A
//! command that changes nothing signals nothing (WATCH must not abort a
//! transaction for it); one that changes a key through several methods may
//! signal it more than once, which every listener treats as one change.
//!
//! A signal is counted, and:
//! - **WATCH** (transactions): `watched` is this database's index of
//!   watched keys (Redis's `db->watched_keys`): key -> the clients watching
//!   it. A modified key marks them dirty (`Db::touch_watched_key`, Redis's
//!   `touchWatchedKey`); a flush or swap marks those watching a key that
//!   exists in it (`Db::touch_all_watched_keys`, Redis's
//!   `touchAllWatchedKeysInDb`), which is why `signal_flushed_db` runs
//!   before the keys go. With no watcher in the database the cost is one
//!   emptiness check.
//! - **Client tracking** (`crate::tracking`): a modified key sends
//!   invalidations to the clients that read it (`trackingInvalidateKey`);
//!   a flush invalidates all (`trackingInvalidateKeysOnFlush`).
//!
//! The hooks stay with the database's number: SWAPDB exchanges the keys of
//! two databases, not their watchers, as Redis's `dbSwapDatabases` keeps
//! `watched_keys` in place.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A client's dirty-CAS mark (Redis's `CLIENT_DIRTY_CAS`), shared by the
/// client and each of its entries in the databases' `watched` indexes, so
/// a change marks the watchers without reaching into the client table.
#[derive(Debug, Clone, Default)]
pub struct CasMark(Arc<AtomicBool>);

impl CasMark {
    /// A new, clean mark.
    pub fn new() -> CasMark {
        CasMark::default()
    }

    /// Whether a watched key changed.
    #[inline]
    pub fn is_dirty(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Marks (or clears) it.
    #[inline]
    pub fn set(&self, dirty: bool) {
        self.0.store(dirty, Ordering::Relaxed);
    }
}

/// One client watching one key of this database (Redis's `watchedKey`).
#[derive(Debug, Clone)]
pub struct Watcher {
    /// The client's id.
    pub client: u64,
    /// Its dirty mark.
    pub cas: CasMark,
    /// The key had expired (not yet deleted) when WATCH ran: its deletion
    /// is no change (Redis's `wk->expired`).
    pub expired: bool,
}

/// A database's number and its change signals.
#[derive(Debug, Default)]
pub struct KeyspaceHooks {
    /// The database's number, which keyspace events carry.
    pub(super) id: usize,
    /// Watched keys: key -> its watchers, in the order they came.
    pub(crate) watched: HashMap<Vec<u8>, Vec<Watcher>>,
    /// Signals so far: modified keys, flushes and swaps.
    signals: u64,
    /// Test-only: the signals, in order.
    #[cfg(test)]
    pub(crate) log: Vec<Signal>,
}

/// A signal, as the test log keeps it.
#[cfg(test)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Signal {
    /// `signal_modified_key`.
    Key(Vec<u8>),
    /// `signal_flushed_db`.
    Flushed,
    /// `signal_swapped_db`.
    Swapped,
}

impl KeyspaceHooks {
    /// Hooks for database number `id`.
    pub fn new(id: usize) -> KeyspaceHooks {
        KeyspaceHooks {
            id,
            ..KeyspaceHooks::default()
        }
    }

    /// Signals since start (modified keys, flushes and swaps).
    pub fn signals(&self) -> u64 {
        self.signals
    }

    /// Redis's `signalModifiedKey`: `key` changed.
    #[inline]
    pub(super) fn modified_key(&mut self, key: &[u8]) {
        self.signals += 1;
        #[cfg(test)]
        self.log.push(Signal::Key(key.to_vec()));
        crate::tracking::key_modified(key);
    }

    /// Redis's `signalFlushedDb`: every key is about to go.
    pub(super) fn flushed_db(&mut self) {
        self.signals += 1;
        #[cfg(test)]
        self.log.push(Signal::Flushed);
        crate::tracking::flushed(false);
    }

    /// Redis's `touchAllWatchedKeysInDb` for SWAPDB: every key is about to
    /// be exchanged with another database's.
    pub(super) fn swapped_db(&mut self) {
        self.signals += 1;
        #[cfg(test)]
        self.log.push(Signal::Swapped);
    }
}
