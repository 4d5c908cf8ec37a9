//! Freeing big things off the loop (Redis's lazyfree): FLUSHALL ASYNC hands
//! whole key tables to a helper thread, which drops them, and UNLINK hands
//! it values that are costly to free (`free_effort` above
//! `LAZYFREE_THRESHOLD`, as Redis's `dbAsyncDelete`). The thread never sees
//! a value that is still reachable from the keyspace.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::db::dict::Dict;
use crate::db::value::Value;

/// Values freed in place below this effort: freeing them is as cheap as
/// sending them (Redis's `LAZYFREE_THRESHOLD`).
pub const LAZYFREE_THRESHOLD: usize = 64;

/// Roughly how many allocations freeing `v` releases (Redis's
/// `lazyfreeGetFreeEffort`): a hash's table size, 1 for anything stored in
/// one or two allocations (strings, packed hashes).
pub fn free_effort(v: &Value) -> usize {
    match v.as_hash() {
        Some(h) if !h.is_packed() => h.len(),
        _ => 1,
    }
}

/// What is handed over for freeing (held only to be dropped).
enum Garbage {
    /// A database's tables (FLUSHALL/FLUSHDB ASYNC).
    Tables(Dict<Value>, #[allow(dead_code)] Dict<i64>),
    /// One value (UNLINK).
    Value(#[allow(dead_code)] Value),
}

impl Garbage {
    /// Objects it counts for INFO: keys of tables, 1 for a value.
    fn objects(&self) -> u64 {
        match self {
            Garbage::Tables(d, _) => d.len() as u64,
            Garbage::Value(_) => 1,
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
    freed: Arc<AtomicU64>,
    handle: Option<JoinHandle<()>>,
}

impl LazyFree {
    /// Starts the thread.
    pub fn start() -> std::io::Result<LazyFree> {
        let (tx, rx) = channel::<Garbage>();
        let pending = Arc::new(AtomicU64::new(0));
        let freed = Arc::new(AtomicU64::new(0));
        let (p, f) = (Arc::clone(&pending), Arc::clone(&freed));
        let handle = std::thread::Builder::new()
            .name("lazyfree".into())
            .spawn(move || {
                while let Ok(g) = rx.recv() {
                    let n = g.objects();
                    drop(g);
                    p.fetch_sub(n, Ordering::AcqRel);
                    f.fetch_add(n, Ordering::AcqRel);
                }
            })?;
        Ok(LazyFree {
            tx: Some(tx),
            pending,
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
            self.send(Garbage::Value(v));
        }
    }

    fn send(&self, g: Garbage) {
        let n = g.objects();
        self.pending.fetch_add(n, Ordering::AcqRel);
        match &self.tx {
            Some(tx) => {
                if let Err(e) = tx.send(g) {
                    drop(e.0);
                    self.pending.fetch_sub(n, Ordering::AcqRel);
                }
            }
            None => {
                drop(g);
                self.pending.fetch_sub(n, Ordering::AcqRel);
            }
        }
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
