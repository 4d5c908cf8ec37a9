//! Freeing big things off the loop (Redis's lazyfree): FLUSHALL ASYNC hands
//! whole key tables to a helper thread, which drops them. The thread never
//! sees a value that is still reachable from the keyspace.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::db::dict::Dict;
use crate::db::value::Value;

/// Tables handed over for freeing (held only to be dropped).
struct Garbage(Dict<Value>, #[allow(dead_code)] Dict<i64>);

// SAFETY: the dicts own all their nodes and values outright (no Rc, no
// borrowed data); once sent, the loop holds no pointer into them, so
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
                    let n = g.0.len() as u64;
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
        let n = dict.len() as u64;
        self.pending.fetch_add(n, Ordering::AcqRel);
        if let Some(tx) = &self.tx {
            if let Err(e) = tx.send(Garbage(dict, expires)) {
                drop(e.0);
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
