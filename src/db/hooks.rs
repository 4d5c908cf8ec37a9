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
//! Today a signal is counted and nothing else, so it costs an increment.
//! What plugs in here later, and nowhere else:
//! - **WATCH** (transactions): a modified key marks the clients watching
//!   it in this database dirty (`touchWatchedKey`); a flush or swap marks
//!   those watching any key that exists in it (`touchAllWatchedKeysInDb`),
//!   which is why `signal_flushed_db` runs before the keys go.
//! - **Client tracking**: a modified key sends invalidations to the clients
//!   that read it (`trackingInvalidateKey`); a flush invalidates all
//!   (`trackingInvalidateKeysOnFlush`).
//!
//! The hooks stay with the database's number: SWAPDB exchanges the keys of
//! two databases, not their watchers, as Redis's `dbSwapDatabases` keeps
//! `watched_keys` in place.

/// A database's number and its change signals.
#[derive(Debug, Default)]
pub struct KeyspaceHooks {
    /// The database's number, which keyspace events carry.
    pub(super) id: usize,
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
        let _ = key;
    }

    /// Redis's `signalFlushedDb`: every key is about to go.
    pub(super) fn flushed_db(&mut self) {
        self.signals += 1;
        #[cfg(test)]
        self.log.push(Signal::Flushed);
    }

    /// Redis's `touchAllWatchedKeysInDb` for SWAPDB: every key is about to
    /// be exchanged with another database's.
    pub(super) fn swapped_db(&mut self) {
        self.signals += 1;
        #[cfg(test)]
        self.log.push(Signal::Swapped);
    }
}
