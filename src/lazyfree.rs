//! Freeing big things off the loop (Redis's lazyfree): FLUSHALL ASYNC hands
//! whole key tables to a helper thread, which drops them, and UNLINK hands
//! it values that are costly to free (`free_effort` above
//! `LAZYFREE_THRESHOLD`, as Redis's `dbAsyncDelete`). Eviction also hands
//! it values that hold one big buffer (`LAZYFREE_BIG_BYTES`), whose pages
//! cost time to give back. The estimated bytes of values in flight
//! (`pending_bytes`) are left out of what maxmemory counts, so eviction does
//! not delete more keys while the thread catches up. The thread never sees
//! a value that is still reachable from the keyspace.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::db::dict::Dict;
use crate::db::value::{Value, ValueRef};

/// Values freed in place below this effort: freeing them is as cheap as
/// sending them (Redis's `LAZYFREE_THRESHOLD`).
pub const LAZYFREE_THRESHOLD: usize = 64;

/// Values owning at least this many heap bytes are freed on the thread when
/// evicted: unmapping a big buffer costs time in proportion to its pages.
pub const LAZYFREE_BIG_BYTES: usize = 1 << 20;

/// Roughly how many allocations freeing `v` releases (Redis's
/// `lazyfreeGetFreeEffort`): a hash's table size, 1 for anything stored in
/// one or two allocations (strings, packed hashes).
pub fn free_effort(v: &Value) -> usize {
    match v.view() {
        ValueRef::Str(_) => 1,
        ValueRef::Hash(h) if h.is_packed() => 1,
        ValueRef::Hash(h) => h.len(),
        // Redis counts a quicklist's nodes.
        ValueRef::List(l) => l.node_count(),
        // A table's members, one allocation each; an intset is one buffer.
        ValueRef::Set(s) if s.is_intset() => 1,
        ValueRef::Set(s) => s.len(),
        // Redis counts a skip list's members; a listpack is one allocation.
        ValueRef::Zset(z) if z.is_packed() => 1,
        ValueRef::Zset(z) => z.len(),
        // Redis counts a stream's nodes (plus its groups' entries).
        ValueRef::Stream(st) => st.node_count(),
    }
}

/// Whether `v` holds one buffer of at least `LAZYFREE_BIG_BYTES` (a long
/// string), whose pages cost time to give back.
fn big_buffer(v: &Value) -> bool {
    match v.view() {
        ValueRef::Str(s) => s.len() >= LAZYFREE_BIG_BYTES,
        // A hash's, a list's, a set's or a sorted set's cost is what
        // free_effort counts.
        ValueRef::Hash(_)
        | ValueRef::List(_)
        | ValueRef::Set(_)
        | ValueRef::Zset(_)
        | ValueRef::Stream(_) => false,
    }
}

/// What is handed over for freeing (held only to be dropped).
enum Garbage {
    /// A database's tables (FLUSHALL/FLUSHDB ASYNC).
    Tables(Dict<Value>, #[allow(dead_code)] Dict<i64>),
    /// One value (UNLINK, eviction) and its estimated size.
    Value(#[allow(dead_code)] Value, usize),
    /// A key table's emptied bucket array, after a rehash.
    Buckets(#[allow(dead_code)] Vec<usize>),
}

impl Garbage {
    /// Objects it counts for INFO: keys of tables, 1 for a value.
    fn objects(&self) -> u64 {
        match self {
            Garbage::Tables(d, _) => d.len() as u64,
            Garbage::Value(..) => 1,
            Garbage::Buckets(_) => 0,
        }
    }

    /// Bytes it holds, as estimated when it was sent (0 for tables).
    fn bytes(&self) -> usize {
        match self {
            Garbage::Tables(..) | Garbage::Buckets(_) => 0,
            Garbage::Value(_, b) => *b,
        }
    }
}

// SAFETY: the dicts and values own all their nodes and buffers outright (no
// Rc, no borrowed data); once sent, the loop holds no pointer into them, so
// dropping them on another thread is sound.
unsafe impl Send for Garbage {}

/// The helper thread.
pub struct LazyFree {
    tx: Option<Sender<Garbage>>,
    pending: Arc<AtomicU64>,
    pending_bytes: Arc<AtomicUsize>,
    freed: Arc<AtomicU64>,
    handle: Option<JoinHandle<()>>,
}

impl LazyFree {
    /// Starts the thread.
    pub fn start() -> std::io::Result<LazyFree> {
        let (tx, rx) = channel::<Garbage>();
        let pending = Arc::new(AtomicU64::new(0));
        let pending_bytes = Arc::new(AtomicUsize::new(0));
        let freed = Arc::new(AtomicU64::new(0));
        let (p, pb, f) = (
            Arc::clone(&pending),
            Arc::clone(&pending_bytes),
            Arc::clone(&freed),
        );
        let handle = std::thread::Builder::new()
            .name("lazyfree".into())
            .spawn(move || {
                while let Ok(g) = rx.recv() {
                    let (n, b) = (g.objects(), g.bytes());
                    drop(g);
                    pb.fetch_sub(b, Ordering::AcqRel);
                    p.fetch_sub(n, Ordering::AcqRel);
                    f.fetch_add(n, Ordering::AcqRel);
                }
            })?;
        let buckets_tx = tx.clone();
        crate::db::dict::set_bucket_freer(Some(Box::new(move |v| {
            buckets_tx.send(Garbage::Buckets(v)).map_err(|e| match e.0 {
                Garbage::Buckets(v) => v,
                _ => Vec::new(),
            })
        })));
        Ok(LazyFree {
            tx: Some(tx),
            pending,
            pending_bytes,
            freed,
            handle: Some(handle),
        })
    }

    /// Frees `dict` and `expires` on the thread (or here if it is gone).
    pub fn free(&self, dict: Dict<Value>, expires: Dict<i64>) {
        if dict.is_empty() && expires.is_empty() {
            return;
        }
        self.send(Garbage::Tables(dict, expires));
    }

    /// Frees a value removed from the keyspace: on the thread when that is
    /// worth it (`free_effort` above `LAZYFREE_THRESHOLD`), here otherwise.
    pub fn free_value(&self, v: Value) {
        if free_effort(&v) > LAZYFREE_THRESHOLD {
            let bytes = crate::memory::value_size(&v, crate::memory::DEFAULT_SAMPLES);
            self.send(Garbage::Value(v, bytes));
        }
    }

    /// Frees a value that eviction removed: on the thread when it is costly
    /// (`free_effort` above the threshold, or `LAZYFREE_BIG_BYTES` of heap),
    /// here otherwise. Returns the bytes handed to the thread (estimated,
    /// as MEMORY USAGE would), 0 when freed here.
    pub fn free_evicted(&self, v: Value) -> usize {
        if free_effort(&v) > LAZYFREE_THRESHOLD || big_buffer(&v) {
            let bytes = crate::memory::value_size(&v, crate::memory::DEFAULT_SAMPLES);
            self.send(Garbage::Value(v, bytes));
            bytes
        } else {
            0
        }
    }

    fn send(&self, g: Garbage) {
        let (n, b) = (g.objects(), g.bytes());
        self.pending.fetch_add(n, Ordering::AcqRel);
        self.pending_bytes.fetch_add(b, Ordering::AcqRel);
        let unsent = match &self.tx {
            Some(tx) => tx.send(g).err().map(|e| e.0),
            None => Some(g),
        };
        if let Some(g) = unsent {
            drop(g);
            self.pending_bytes.fetch_sub(b, Ordering::AcqRel);
            self.pending.fetch_sub(n, Ordering::AcqRel);
        }
    }

    /// Bytes of values waiting to be freed, as estimated when they were
    /// handed over: still allocated, but as good as free for maxmemory.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes.load(Ordering::Acquire)
    }

    /// Objects waiting to be freed (INFO lazyfree_pending_objects).
    pub fn pending(&self) -> u64 {
        self.pending.load(Ordering::Acquire)
    }

    /// Objects freed so far (INFO lazyfreed_objects).
    pub fn freed(&self) -> u64 {
        self.freed.load(Ordering::Acquire)
    }
}

impl Drop for LazyFree {
    fn drop(&mut self) {
        // The bucket freer holds a sender too: the thread ends only once
        // every sender is gone.
        crate::db::dict::set_bucket_freer(None);
        self.tx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::hash::{Hash, HashLimits};

    fn hash_of(n: usize) -> Value {
        let limits = HashLimits {
            max_entries: 128,
            max_value: 64,
        };
        let mut h = Hash::new();
        for i in 0..n {
            h.set(format!("f{i}").as_bytes(), b"v", &limits);
        }
        Value::hash(h)
    }

    #[test]
    fn only_big_tables_are_freed_on_the_thread() {
        assert_eq!(free_effort(&Value::string(&[b'x'; 1 << 20])), 1);
        assert_eq!(free_effort(&hash_of(100)), 1); // still packed
        assert_eq!(free_effort(&hash_of(1000)), 1000);
        let _guard = crate::db::dict::FREER_TEST_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let lf = LazyFree::start().expect("thread");
        lf.free_value(hash_of(10));
        lf.free_value(hash_of(1000));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while lf.freed() < 1 {
            assert!(std::time::Instant::now() < deadline, "value never freed");
            std::thread::yield_now();
        }
        assert_eq!(lf.freed(), 1);
        assert_eq!(lf.pending(), 0);
    }
}
