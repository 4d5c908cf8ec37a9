//! The key table: Redis's dict, in Rust. A chained hash table of two tables
//! with incremental rehashing, keyed by byte strings stored inside the node.
//!
//! What it gives the keyspace, and why it is built this way:
//! - **No stop-the-world growth.** When the table fills, a second table of
//!   twice the size is allocated and buckets move over a few at a time: one
//!   bucket per insert/delete/`get_mut`, plus a millisecond at a time from the
//!   cron while the server is idle. No operation ever moves the whole table.
//! - **SCAN that misses nothing.** Sizes are powers of two and the cursor
//!   walks bucket indexes in reverse-binary order (`scan`), so every key
//!   present for the whole scan is returned at least once, across growth,
//!   shrinking and rehashing, exactly as Redis's `dictScan`.
//! - **O(1) random sampling.** `random` picks a random non-empty bucket,
//!   then a random node of its chain: cheap, but a key in a chain of two is
//!   half as likely as one alone, so it serves only where no uniform pick is
//!   promised (the random eviction policies, as in Redis). `fair_random`
//!   (Redis's `dictGetFairRandomKey`) samples a run of entries and picks one
//!   of them: RANDOMKEY and HRANDFIELD use it, and so will SRANDMEMBER, SPOP
//!   and ZRANDMEMBER. `sample` gives eviction and expiry their candidates.
//! - **Lean nodes.** One allocation per entry: the chain link, the value, a
//!   32-bit `meta` word (LRU clock or LFU counter for eviction) and the key
//!   bytes inline. A 16-byte key with a small string value costs one 64-byte
//!   malloc chunk plus an 8-byte bucket slot.
//!
//! Invariant: a node pointer in a bucket is owned by exactly one bucket of one
//! table; every node was allocated by `Node::alloc` with its own key length.

use std::alloc::{self, Layout};
use std::marker::PhantomData;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::util::hash::hash;
use crate::util::rand::Rng;

/// How many entries `fair_random` samples to pick one from (Redis's
/// `GETFAIR_NUM_ENTRIES`).
const FAIR_SAMPLE: usize = 15;
/// Smallest table size.
const INITIAL_SIZE: usize = 4;
/// Grow even when resizing is discouraged (a fork is running) past this load.
const FORCE_RESIZE_RATIO: usize = 5;
/// Shrink when fewer than this percentage of buckets are used.
const MIN_FILL_PERCENT: usize = 10;

/// Whether tables may grow at load 1. Cleared while a forked child shares our
/// pages (growth then waits until the load reaches FORCE_RESIZE_RATIO), to
/// keep copy-on-write small, as Redis's `dict_can_resize`.
static RESIZE_ALLOWED: AtomicBool = AtomicBool::new(true);

/// Allows or discourages table growth process-wide (see RESIZE_ALLOWED).
pub fn set_resize_allowed(allowed: bool) {
    RESIZE_ALLOWED.store(allowed, Ordering::Relaxed);
}

/// `maxmemory` in bytes, 0 for none. A table at load 1 does not double
/// when the new bucket array would take the memory past it: it waits until
/// the load reaches `MAX_SAFE_LOAD`, so that growing a big table does not
/// suddenly evict many keys (Redis's `dictExpandAllowed`).
static EXPAND_LIMIT: AtomicUsize = AtomicUsize::new(0);
/// The load past which a table grows whatever the memory (Redis's
/// `HASHTABLE_MAX_LOAD_FACTOR`): chains get long beyond it.
const MAX_SAFE_LOAD: f64 = 1.618;

/// Sets the memory limit table growth respects (see EXPAND_LIMIT).
pub fn set_expand_limit(bytes: usize) {
    EXPAND_LIMIT.store(bytes, Ordering::Relaxed);
}

/// Whether a table of `size` buckets holding `used` entries may double.
fn expand_allowed(used: usize, size: usize) -> bool {
    let limit = EXPAND_LIMIT.load(Ordering::Relaxed);
    if limit == 0 || used as f64 / size as f64 > MAX_SAFE_LOAD {
        return true;
    }
    let more = (used + 1).next_power_of_two() * std::mem::size_of::<usize>();
    crate::memory::used_memory().saturating_add(more) <= limit
}

#[repr(C)]
struct Node<V> {
    next: *mut Node<V>,
    value: V,
    meta: u32,
    /// Key length; `LONG_KEY` means a u64 length precedes the key bytes.
    klen: u32,
    // key bytes follow
}

/// Marks a key of 4 GiB or more, whose length is stored as a u64.
const LONG_KEY: u32 = u32::MAX;

impl<V> Node<V> {
    /// Bytes after the header: the key, plus 8 for a long key's length.
    fn tail(klen: usize) -> usize {
        if klen >= LONG_KEY as usize {
            klen + 8
        } else {
            klen
        }
    }

    fn layout(klen: usize) -> Layout {
        let size = std::mem::size_of::<Node<V>>().saturating_add(Self::tail(klen));
        Layout::from_size_align(size, std::mem::align_of::<Node<V>>())
            .unwrap_or_else(|_| alloc::handle_alloc_error(Layout::new::<Node<V>>()))
    }

    /// Allocates a node holding a copy of `key`.
    fn alloc(key: &[u8], value: V, meta: u32) -> *mut Node<V> {
        let long = key.len() >= LONG_KEY as usize;
        let klen = if long { LONG_KEY } else { key.len() as u32 };
        let layout = Self::layout(key.len());
        // SAFETY: layout has non-zero size; the header (and a long key's
        // length) is written before any read and the key bytes are copied
        // into the tail we allocated.
        unsafe {
            let p = alloc::alloc(layout) as *mut Node<V>;
            if p.is_null() {
                alloc::handle_alloc_error(layout);
            }
            ptr::write(
                p,
                Node {
                    next: ptr::null_mut(),
                    value,
                    meta,
                    klen,
                },
            );
            let mut tail = (p as *mut u8).add(std::mem::size_of::<Node<V>>());
            if long {
                ptr::write_unaligned(tail as *mut u64, key.len() as u64);
                tail = tail.add(8);
            }
            ptr::copy_nonoverlapping(key.as_ptr(), tail, key.len());
            p
        }
    }

    /// The key length of a live node.
    ///
    /// # Safety
    /// `p` must point to a live node.
    #[inline]
    unsafe fn key_len(p: *const Node<V>) -> usize {
        let k = (*p).klen;
        if k == LONG_KEY {
            ptr::read_unaligned((p as *const u8).add(std::mem::size_of::<Node<V>>()) as *const u64)
                as usize
        } else {
            k as usize
        }
    }

    /// The key of a live node.
    ///
    /// # Safety
    /// `p` must point to a live node; the slice lives as long as the node.
    #[inline]
    unsafe fn key<'a>(p: *const Node<V>) -> &'a [u8] {
        let len = Self::key_len(p);
        let mut start = (p as *const u8).add(std::mem::size_of::<Node<V>>());
        if (*p).klen == LONG_KEY {
            start = start.add(8);
        }
        std::slice::from_raw_parts(start, len)
    }

    /// Frees a node, returning its value.
    ///
    /// # Safety
    /// `p` must be a live node no longer reachable from any bucket.
    unsafe fn free(p: *mut Node<V>) -> V {
        let layout = Self::layout(Self::key_len(p));
        let value = ptr::read(&(*p).value);
        alloc::dealloc(p as *mut u8, layout);
        value
    }
}

/// Bucket arrays at least this big are freed off the loop when a freer is
/// registered: unmapping a populated 64 MB array takes milliseconds.
const FREE_OFF_LOOP_BYTES: usize = 1 << 20;

/// Takes a bucket array to free elsewhere; gives it back if it cannot.
pub type BucketFreer = Box<dyn Fn(Vec<usize>) -> Result<(), Vec<usize>> + Send>;
static BUCKET_FREER: std::sync::Mutex<Option<BucketFreer>> = std::sync::Mutex::new(None);

/// Registers where big, emptied bucket arrays go to be freed (the lazyfree
/// thread), or, with `None`, stops sending them there.
pub fn set_bucket_freer(f: Option<BucketFreer>) {
    if let Ok(mut slot) = BUCKET_FREER.lock() {
        *slot = f;
    }
}

/// Serialises the unit tests that register a bucket freer (it is global).
#[cfg(test)]
pub(crate) static FREER_TEST_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Frees a table whose nodes have all moved elsewhere (the end of a rehash).
fn release_empty<V>(table: Table<V>) {
    debug_assert_eq!(table.used, 0);
    let bytes = table.buckets.capacity() * std::mem::size_of::<usize>();
    if bytes < FREE_OFF_LOOP_BYTES {
        return;
    }
    let Ok(slot) = BUCKET_FREER.lock() else {
        return;
    };
    let Some(freer) = slot.as_ref() else { return };
    let mut b = std::mem::ManuallyDrop::new(table.buckets);
    // SAFETY: the slots are all null (every node moved); *mut Node<V> and
    // usize share size and alignment, and the allocation moves as is.
    let v = unsafe { Vec::from_raw_parts(b.as_mut_ptr() as *mut usize, b.len(), b.capacity()) };
    // A refused array is freed right here, as before.
    drop(freer(v));
}

/// `size` null bucket pointers from zeroed memory. `vec![null_mut(); n]`
/// writes every slot (a 16M-bucket table is 128 MB: a stall of a quarter of
/// a second when the table doubles at 8M keys); a zeroed allocation comes
/// from calloc, whose big blocks are fresh zero pages the kernel maps lazily
/// as the incremental rehash reaches them.
fn null_buckets<V>(size: usize) -> Vec<*mut Node<V>> {
    let zeros: Vec<usize> = vec![0usize; size];
    let mut zeros = std::mem::ManuallyDrop::new(zeros);
    // SAFETY: *mut Node<V> and usize have the same size and alignment, and
    // all-zero bits are a null pointer; the allocation moves to the new Vec
    // with the same length and capacity.
    unsafe {
        Vec::from_raw_parts(
            zeros.as_mut_ptr() as *mut *mut Node<V>,
            zeros.len(),
            zeros.capacity(),
        )
    }
}

struct Table<V> {
    buckets: Vec<*mut Node<V>>,
    used: usize,
}

impl<V> Table<V> {
    const fn empty() -> Table<V> {
        Table {
            buckets: Vec::new(),
            used: 0,
        }
    }

    fn with_size(size: usize) -> Table<V> {
        Table {
            buckets: null_buckets(size),
            used: 0,
        }
    }

    fn size(&self) -> usize {
        self.buckets.len()
    }

    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }
}

/// A hash table from byte-string keys to `V`, with incremental rehashing.
pub struct Dict<V> {
    t: [Table<V>; 2],
    /// Next bucket of `t[0]` to move to `t[1]`, when rehashing.
    rehash_idx: Option<usize>,
    _owns: PhantomData<V>,
}

impl<V> Default for Dict<V> {
    fn default() -> Self {
        Dict::new()
    }
}

impl<V> Dict<V> {
    /// An empty dict; allocates nothing until the first insert.
    pub const fn new() -> Dict<V> {
        Dict {
            t: [Table::empty(), Table::empty()],
            rehash_idx: None,
            _owns: PhantomData,
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.t[0].used + self.t[1].used
    }

    /// Whether the dict is empty.
    pub fn is_empty(&self) -> bool {
        self.t[0].used + self.t[1].used == 0
    }

    /// Number of buckets in both tables (INFO, the expiry cycle's sparseness test).
    pub fn slots(&self) -> usize {
        self.t[0].size() + self.t[1].size()
    }

    /// Whether a rehash is in progress.
    pub fn is_rehashing(&self) -> bool {
        self.rehash_idx.is_some()
    }

    /// Bytes of bucket arrays (for memory reports).
    pub fn bucket_bytes(&self) -> usize {
        self.slots() * std::mem::size_of::<usize>()
    }

    /// Bytes one entry with a key of `klen` bytes asks the allocator for.
    pub fn node_bytes(klen: usize) -> usize {
        std::mem::size_of::<Node<V>>() + Node::<V>::tail(klen)
    }

    fn find(&self, key: &[u8]) -> *mut Node<V> {
        if self.is_empty() {
            return ptr::null_mut();
        }
        let h = hash(key) as usize;
        for t in 0..2 {
            let table = &self.t[t];
            if table.size() == 0 {
                break;
            }
            let mut n = table.buckets[h & table.mask()];
            while !n.is_null() {
                // SAFETY: n is a live node reachable from a bucket.
                unsafe {
                    if Node::key(n) == key {
                        return n;
                    }
                    n = (*n).next;
                }
            }
            if !self.is_rehashing() {
                break;
            }
        }
        ptr::null_mut()
    }

    /// The value of `key`.
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        let n = self.find(key);
        // SAFETY: a found node is live while &self is borrowed.
        (!n.is_null()).then(|| unsafe { &(*n).value })
    }

    /// The value of `key` and its meta word; moves one rehash step.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        self.get_full_mut(key).map(|(v, _)| v)
    }

    /// The value of `key` with its meta word, mutable; moves one rehash step.
    pub fn get_full_mut(&mut self, key: &[u8]) -> Option<(&mut V, &mut u32)> {
        self.rehash_step();
        let n = self.find(key);
        // SAFETY: a found node is live and uniquely borrowed through &mut self.
        (!n.is_null()).then(|| unsafe { (&mut (*n).value, &mut (*n).meta) })
    }

    /// The meta word of `key`.
    pub fn meta(&self, key: &[u8]) -> Option<u32> {
        let n = self.find(key);
        // SAFETY: as in get.
        (!n.is_null()).then(|| unsafe { (*n).meta })
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &[u8]) -> bool {
        !self.find(key).is_null()
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, key: &[u8], value: V) -> Option<V> {
        self.insert_with_meta(key, value, 0)
    }

    /// Inserts or replaces with a meta word; returns the previous value.
    pub fn insert_with_meta(&mut self, key: &[u8], value: V, meta: u32) -> Option<V> {
        self.rehash_step();
        let n = self.find(key);
        if !n.is_null() {
            // SAFETY: n is live and uniquely borrowed through &mut self.
            unsafe {
                (*n).meta = meta;
                return Some(std::mem::replace(&mut (*n).value, value));
            }
        }
        self.add_new(key, value, meta);
        None
    }

    /// Adds a key known to be absent (after a failed lookup) and returns its
    /// value: one hash lookup instead of two.
    pub fn insert_new(&mut self, key: &[u8], value: V, meta: u32) -> &mut V {
        debug_assert!(!self.contains_key(key));
        self.rehash_step();
        let n = self.add_new(key, value, meta);
        // SAFETY: n was just linked in and is uniquely borrowed via &mut self.
        unsafe { &mut (*n).value }
    }

    fn add_new(&mut self, key: &[u8], value: V, meta: u32) -> *mut Node<V> {
        self.expand_if_needed();
        let t = if self.is_rehashing() { 1 } else { 0 };
        let table = &mut self.t[t];
        let idx = hash(key) as usize & table.mask();
        let n = Node::alloc(key, value, meta);
        // SAFETY: n is a fresh node; linking it at the head of the chain.
        unsafe { (*n).next = table.buckets[idx] };
        table.buckets[idx] = n;
        table.used += 1;
        n
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        if self.is_empty() {
            return None;
        }
        self.rehash_step();
        let h = hash(key) as usize;
        for t in 0..2 {
            let table = &mut self.t[t];
            if table.size() == 0 {
                break;
            }
            let idx = h & table.mask();
            let mut prev: *mut Node<V> = ptr::null_mut();
            let mut n = table.buckets[idx];
            while !n.is_null() {
                // SAFETY: n is live; unlinking it from its chain before freeing.
                unsafe {
                    if Node::key(n) == key {
                        if prev.is_null() {
                            table.buckets[idx] = (*n).next;
                        } else {
                            (*prev).next = (*n).next;
                        }
                        table.used -= 1;
                        return Some(Node::free(n));
                    }
                    prev = n;
                    n = (*n).next;
                }
            }
            if !self.is_rehashing() {
                break;
            }
        }
        None
    }

    /// Removes every entry and frees the tables.
    pub fn clear(&mut self) {
        for t in 0..2 {
            let table = std::mem::replace(&mut self.t[t], Table::empty());
            for mut n in table.buckets {
                while !n.is_null() {
                    // SAFETY: each node is reachable from exactly one bucket of
                    // the table we now own; we free it once.
                    unsafe {
                        let next = (*n).next;
                        drop(Node::free(n));
                        n = next;
                    }
                }
            }
        }
        self.rehash_idx = None;
    }

    fn expand_if_needed(&mut self) {
        if self.is_rehashing() {
            return;
        }
        let size = self.t[0].size();
        if size == 0 {
            self.t[0] = Table::with_size(INITIAL_SIZE);
            return;
        }
        let used = self.t[0].used;
        if used >= size
            && (RESIZE_ALLOWED.load(Ordering::Relaxed) || used / size > FORCE_RESIZE_RATIO)
            && expand_allowed(used, size)
        {
            self.resize_to(used + 1);
        }
    }

    fn resize_to(&mut self, min: usize) {
        let size = min.max(INITIAL_SIZE).next_power_of_two();
        if self.is_rehashing() || size == self.t[0].size() {
            return;
        }
        let table = Table::with_size(size);
        if self.t[0].size() == 0 {
            self.t[0] = table;
        } else {
            self.t[1] = table;
            self.rehash_idx = Some(0);
        }
    }

    /// Shrinks the table when fewer than 10% of its buckets are used (the
    /// cron calls this, as Redis's `tryResizeHashTables`). Returns whether a
    /// resize started.
    pub fn shrink_if_needed(&mut self) -> bool {
        let size = self.t[0].size();
        if self.is_rehashing() || size <= INITIAL_SIZE || !RESIZE_ALLOWED.load(Ordering::Relaxed) {
            return false;
        }
        if self.t[0].used * 100 / size < MIN_FILL_PERCENT {
            self.resize_to(self.t[0].used);
            return true;
        }
        false
    }

    fn rehash_step(&mut self) {
        if self.is_rehashing() {
            self.rehash(1);
        }
    }

    /// Moves up to `n` buckets to the new table (visiting at most 10n empty
    /// ones). Returns true while more remain.
    pub fn rehash(&mut self, n: usize) -> bool {
        let Some(mut idx) = self.rehash_idx else {
            return false;
        };
        let mut empty_visits = n * 10;
        let mut n = n;
        while n > 0 && self.t[0].used != 0 {
            n -= 1;
            while self.t[0].buckets[idx].is_null() {
                idx += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    self.rehash_idx = Some(idx);
                    return true;
                }
            }
            let mut node = std::mem::replace(&mut self.t[0].buckets[idx], ptr::null_mut());
            let mask = self.t[1].mask();
            while !node.is_null() {
                // SAFETY: node is live and owned by the bucket we just emptied.
                unsafe {
                    let next = (*node).next;
                    let h = hash(Node::key(node)) as usize & mask;
                    (*node).next = self.t[1].buckets[h];
                    self.t[1].buckets[h] = node;
                    self.t[0].used -= 1;
                    self.t[1].used += 1;
                    node = next;
                }
            }
            idx += 1;
        }
        if self.t[0].used == 0 {
            let new = std::mem::replace(&mut self.t[1], Table::empty());
            release_empty(std::mem::replace(&mut self.t[0], new));
            self.rehash_idx = None;
            return false;
        }
        self.rehash_idx = Some(idx);
        true
    }

    /// Rehashes in steps of 100 buckets until done or `deadline` passes.
    /// Returns the number of steps made.
    pub fn rehash_until(&mut self, deadline: std::time::Instant) -> usize {
        let mut steps = 0;
        while self.rehash(100) {
            steps += 1;
            if std::time::Instant::now() >= deadline {
                break;
            }
        }
        steps
    }

    /// Visits one SCAN step: the entries of the buckets the cursor names, in
    /// both tables, and returns the next cursor (0 when done). Redis's
    /// reverse-binary cursor: every key present during a full scan is
    /// reported at least once, whatever resizing happens between calls.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &V)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let mut v = cursor;
        let emit = |table: &Table<V>, idx: usize, f: &mut dyn FnMut(&[u8], &V)| {
            let mut n = table.buckets[idx];
            while !n.is_null() {
                // SAFETY: n is live while &self is borrowed.
                unsafe {
                    f(Node::key(n), &(*n).value);
                    n = (*n).next;
                }
            }
        };
        if !self.is_rehashing() {
            let t0 = &self.t[0];
            let m0 = t0.mask() as u64;
            emit(t0, (v & m0) as usize, &mut f);
            v |= !m0;
            v = v.reverse_bits().wrapping_add(1).reverse_bits();
        } else {
            let (small, big) = if self.t[0].size() <= self.t[1].size() {
                (&self.t[0], &self.t[1])
            } else {
                (&self.t[1], &self.t[0])
            };
            let m0 = small.mask() as u64;
            let m1 = big.mask() as u64;
            emit(small, (v & m0) as usize, &mut f);
            loop {
                emit(big, (v & m1) as usize, &mut f);
                v |= !m1;
                v = v.reverse_bits().wrapping_add(1).reverse_bits();
                if v & (m0 ^ m1) == 0 {
                    break;
                }
            }
        }
        v
    }

    /// A random entry: a random non-empty bucket, then a random node of its
    /// chain (Redis's `dictGetRandomKey`).
    pub fn random(&self, rng: &mut Rng) -> Option<(&[u8], &V)> {
        if self.is_empty() {
            return None;
        }
        let mut head;
        loop {
            head = match self.rehash_idx {
                Some(ri) => {
                    let s0 = self.t[0].size();
                    let span = (s0 + self.t[1].size() - ri) as u64;
                    let h = ri + rng.below(span) as usize;
                    if h >= s0 {
                        self.t[1].buckets[h - s0]
                    } else {
                        self.t[0].buckets[h]
                    }
                }
                None => self.t[0].buckets[(rng.next_u64() as usize) & self.t[0].mask()],
            };
            if !head.is_null() {
                break;
            }
        }
        let mut len = 0u64;
        let mut n = head;
        while !n.is_null() {
            len += 1;
            // SAFETY: n is live while &self is borrowed.
            n = unsafe { (*n).next };
        }
        let mut pick = rng.below(len);
        let mut n = head;
        // SAFETY: pick < len, so the walk stays on live nodes.
        unsafe {
            while pick > 0 {
                n = (*n).next;
                pick -= 1;
            }
            Some((Node::key(n), &(*n).value))
        }
    }

    /// A random entry, as near to uniform as Redis's `dictGetFairRandomKey`:
    /// `sample` collects up to FAIR_SAMPLE entries from a random place and
    /// one of them is picked uniformly. A key's chance then depends on the
    /// fill of the buckets around it rather than on its own chain's length,
    /// which is what biases `random`. When sampling finds nothing (it gives
    /// up after a long run of empty buckets), `random` answers, so a
    /// non-empty table always yields an entry.
    pub fn fair_random(&self, rng: &mut Rng) -> Option<(&[u8], &V)> {
        let mut picks: [Option<(&[u8], &V)>; FAIR_SAMPLE] = [None; FAIR_SAMPLE];
        let mut n = 0;
        self.sample(rng, FAIR_SAMPLE, |k, v, _| {
            picks[n] = Some((k, v));
            n += 1;
        });
        if n == 0 {
            return self.random(rng);
        }
        picks[rng.below(n as u64) as usize]
    }

    /// Visits up to `count` entries found around a random place, with their
    /// meta words, and returns how many (Redis's `dictGetSomeKeys`, which
    /// eviction samples with). From a random bucket it takes whole chains of
    /// consecutive buckets, in both tables while rehashing, and jumps
    /// elsewhere after a run of empty buckets; it gives up after `10 *
    /// count` steps. Cheaper than `count` calls of `random`, and the keys are
    /// nearly as well spread.
    pub fn sample<'a>(
        &'a self,
        rng: &mut Rng,
        count: usize,
        mut f: impl FnMut(&'a [u8], &'a V, u32),
    ) -> usize {
        let count = count.min(self.len());
        if count == 0 {
            return 0;
        }
        let rehash = self.rehash_idx;
        let tables = if rehash.is_some() { 2 } else { 1 };
        let mut mask = self.t[0].mask();
        if tables > 1 {
            mask = mask.max(self.t[1].mask());
        }
        let mut i = (rng.next_u64() as usize) & mask;
        let mut empty_run = 0usize;
        let mut stored = 0usize;
        let mut steps = count.saturating_mul(10);
        while stored < count && steps > 0 {
            steps -= 1;
            for t in 0..tables {
                // Below the rehash index, t[0]'s buckets are already empty;
                // if t[1] is also out of range there, skip ahead to it.
                if let (2, 0, Some(ri)) = (tables, t, rehash) {
                    if i < ri {
                        if i >= self.t[1].size() {
                            i = ri;
                        } else {
                            continue;
                        }
                    }
                }
                let table = &self.t[t];
                if i >= table.size() {
                    continue;
                }
                let mut n = table.buckets[i];
                if n.is_null() {
                    empty_run += 1;
                    if empty_run >= 5 && empty_run > count {
                        i = (rng.next_u64() as usize) & mask;
                        empty_run = 0;
                    }
                    continue;
                }
                empty_run = 0;
                while !n.is_null() {
                    // SAFETY: n is live while &self is borrowed.
                    unsafe {
                        f(Node::key(n), &(*n).value, (*n).meta);
                        n = (*n).next;
                    }
                    stored += 1;
                    if stored == count {
                        return stored;
                    }
                }
            }
            i = (i + 1) & mask;
        }
        stored
    }

    /// Visits the entries of bucket `idx` (masked to each table's size) in
    /// both tables: the active expiry cycle walks buckets with a plain counter
    /// this way (Redis 7's `expires_cursor`).
    pub fn visit_bucket(&self, idx: u64, mut f: impl FnMut(&[u8], &V)) {
        for t in 0..2 {
            let table = &self.t[t];
            if table.size() == 0 || (t == 1 && !self.is_rehashing()) {
                break;
            }
            let mut n = table.buckets[(idx as usize) & table.mask()];
            while !n.is_null() {
                // SAFETY: n is live while &self is borrowed.
                unsafe {
                    f(Node::key(n), &(*n).value);
                    n = (*n).next;
                }
            }
        }
    }

    /// DEBUG HTSTATS: for table 0 and, while rehashing, table 1, calls
    /// `f(table, buckets, entries, chains)` where `chains` yields the chain
    /// length of every bucket in order.
    pub fn table_stats(
        &self,
        mut f: impl FnMut(usize, usize, usize, &mut dyn Iterator<Item = usize>),
    ) {
        let tables = if self.is_rehashing() { 2 } else { 1 };
        for t in 0..tables {
            let table = &self.t[t];
            let mut chains = table.buckets.iter().map(|&head| {
                let mut n = head;
                let mut len = 0;
                while !n.is_null() {
                    len += 1;
                    // SAFETY: n is live while &self is borrowed.
                    n = unsafe { (*n).next };
                }
                len
            });
            f(t, table.size(), table.used, &mut chains);
        }
    }

    /// Iterates over all entries (order unspecified).
    pub fn iter(&self) -> Iter<'_, V> {
        Iter {
            dict: self,
            table: 0,
            bucket: 0,
            node: ptr::null_mut(),
        }
    }

    /// Iterates mutably over all values with their keys.
    pub fn for_each_mut(&mut self, mut f: impl FnMut(&[u8], &mut V)) {
        for t in 0..2 {
            for b in 0..self.t[t].size() {
                let mut n = self.t[t].buckets[b];
                while !n.is_null() {
                    // SAFETY: n is live and uniquely borrowed through &mut self;
                    // f cannot reach the dict's structure.
                    unsafe {
                        f(Node::key(n), &mut (*n).value);
                        n = (*n).next;
                    }
                }
            }
        }
    }
}

impl<V: Clone> Clone for Dict<V> {
    fn clone(&self) -> Self {
        let mut d = Dict::new();
        d.resize_to(self.len());
        for t in 0..2 {
            for &head in &self.t[t].buckets {
                let mut n = head;
                while !n.is_null() {
                    // SAFETY: n is live while &self is borrowed.
                    unsafe {
                        d.insert_with_meta(Node::key(n), (*n).value.clone(), (*n).meta);
                        n = (*n).next;
                    }
                }
            }
        }
        d
    }
}

impl<V> Drop for Dict<V> {
    fn drop(&mut self) {
        self.clear();
    }
}

/// Iterator over a dict's entries.
pub struct Iter<'a, V> {
    dict: &'a Dict<V>,
    table: usize,
    bucket: usize,
    node: *mut Node<V>,
}

impl<'a, V> Iterator for Iter<'a, V> {
    type Item = (&'a [u8], &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if !self.node.is_null() {
                let n = self.node;
                // SAFETY: n is live for 'a, the dict being borrowed immutably.
                unsafe {
                    self.node = (*n).next;
                    return Some((Node::key(n), &(*n).value));
                }
            }
            if self.table >= 2 {
                return None;
            }
            let t = &self.dict.t[self.table];
            if self.bucket < t.size() {
                self.node = t.buckets[self.bucket];
                self.bucket += 1;
            } else {
                self.table += 1;
                self.bucket = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    fn key(i: usize) -> Vec<u8> {
        format!("key:{i}").into_bytes()
    }

    #[test]
    fn insert_get_remove_through_growth_and_shrink() {
        let mut d = Dict::new();
        for i in 0..10_000 {
            assert!(d.insert(&key(i), i).is_none());
        }
        assert_eq!(d.len(), 10_000);
        for i in 0..10_000 {
            assert_eq!(d.get(&key(i)), Some(&i));
        }
        assert_eq!(d.insert(&key(5), 55), Some(5));
        for i in 0..9_990 {
            assert_eq!(d.remove(&key(i)), Some(if i == 5 { 55 } else { i }));
        }
        assert_eq!(d.remove(&key(1)), None);
        while d.shrink_if_needed() || d.rehash(100) {}
        assert!(d.slots() <= 64, "shrunk to {} slots", d.slots());
        for i in 9_990..10_000 {
            assert_eq!(d.get(&key(i)), Some(&i));
        }
        assert_eq!(d.iter().count(), 10);
    }

    #[test]
    fn big_emptied_bucket_arrays_go_to_the_registered_freer() {
        let _guard = FREER_TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = std::sync::Arc::clone(&seen);
        set_bucket_freer(Some(Box::new(move |v: Vec<usize>| {
            assert!(v.iter().all(|&slot| slot == 0), "a freed array held nodes");
            sink.lock().map_err(|_| Vec::new())?.push(v.len());
            Ok(())
        })));
        let mut d = Dict::new();
        // 131072 buckets of 8 bytes is the 1 MB threshold; the next doubling
        // empties that array.
        for i in 0..140_000 {
            d.insert(&key(i), i);
        }
        while d.rehash(1000) {}
        set_bucket_freer(None);
        let seen = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert_eq!(seen, vec![131_072], "only the big array is handed over");
        for i in 0..140_000 {
            assert_eq!(d.get(&key(i)), Some(&i));
        }
    }

    #[test]
    fn rehash_moves_a_bounded_amount_per_operation() {
        let mut d = Dict::new();
        for i in 0..(1 << 16) {
            d.insert(&key(i), ());
        }
        // The next insert starts a rehash of 65536 buckets; one insert must not finish it.
        d.insert(b"one-more", ());
        assert!(d.is_rehashing());
        assert_eq!(d.len(), (1 << 16) + 1);
        assert!(d.get(b"one-more").is_some() && d.get(&key(7)).is_some());
    }

    #[test]
    fn scan_returns_every_key_across_growth() {
        let mut d = Dict::new();
        for i in 0..1000 {
            d.insert(&key(i), i);
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut extra = 1000;
        loop {
            cursor = d.scan(cursor, |k, _| {
                seen.insert(k.to_vec());
            });
            // Grow the table mid-scan (to 8x), with rehashes in progress.
            for _ in 0..8 {
                if extra < 8000 {
                    d.insert(&key(extra), extra);
                    extra += 1;
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..1000 {
            assert!(seen.contains(&key(i)), "missed key {i}");
        }
    }

    #[test]
    fn scan_returns_every_key_across_shrinking() {
        let mut d = Dict::new();
        for i in 0..4000 {
            d.insert(&key(i), i);
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut next_del = 100;
        loop {
            cursor = d.scan(cursor, |k, _| {
                seen.insert(k.to_vec());
            });
            for _ in 0..200 {
                if next_del < 4000 {
                    d.remove(&key(next_del));
                    next_del += 1;
                }
            }
            d.shrink_if_needed();
            d.rehash(3);
            if cursor == 0 {
                break;
            }
        }
        for i in 0..100 {
            assert!(seen.contains(&key(i)), "missed key {i}");
        }
    }

    #[test]
    fn random_reaches_every_entry() {
        let mut d = Dict::new();
        for i in 0..50 {
            d.insert(&key(i), i);
        }
        let mut rng = Rng::with_seed(1);
        let mut hits: HashMap<usize, u32> = HashMap::new();
        for _ in 0..20_000 {
            let (_, v) = d.random(&mut rng).unwrap();
            *hits.entry(*v).or_default() += 1;
        }
        assert_eq!(hits.len(), 50);
        assert!(Dict::<()>::new().random(&mut rng).is_none());
    }

    #[test]
    fn fair_random_reaches_every_entry_while_rehashing_and_none_when_empty() {
        let mut rng = Rng::with_seed(7);
        assert!(Dict::<()>::new().fair_random(&mut rng).is_none());
        let mut d = Dict::new();
        // 513 entries: the table has just started growing from 512 buckets.
        for i in 0..513 {
            d.insert(&key(i), i);
        }
        assert!(d.is_rehashing());
        let mut hits: HashMap<usize, u32> = HashMap::new();
        for _ in 0..50_000 {
            let (k, v) = d.fair_random(&mut rng).unwrap();
            assert_eq!(k, key(*v));
            *hits.entry(*v).or_default() += 1;
        }
        assert!(d.is_rehashing(), "picks are reads: they move no bucket");
        assert_eq!(hits.len(), 513);
        let mut one = Dict::new();
        one.insert(b"only", 1);
        assert_eq!(one.fair_random(&mut rng), Some((&b"only"[..], &1)));
    }

    #[test]
    fn sample_visits_up_to_count_entries_and_reaches_all_of_them_while_rehashing() {
        let mut d = Dict::new();
        for i in 0..1000 {
            d.insert_with_meta(&key(i), i, i as u32 * 2);
        }
        // Grow into a rehash and stop half-way.
        for i in 1000..1100 {
            d.insert_with_meta(&key(i), i, i as u32 * 2);
        }
        assert!(d.is_rehashing());
        let mut rng = Rng::with_seed(7);
        let mut seen = std::collections::HashSet::new();
        let mut rounds = 0;
        while seen.len() < 1100 && rounds < 100_000 {
            rounds += 1;
            let mut got = Vec::new();
            let n = d.sample(&mut rng, 5, |k, v, meta| {
                assert_eq!(k, key(*v).as_slice());
                assert_eq!(meta, *v as u32 * 2);
                got.push(*v);
            });
            assert_eq!(n, got.len());
            // Fewer when the walk meets runs of empty buckets (as Redis's).
            assert!(n <= 5);
            seen.extend(got);
        }
        assert_eq!(seen.len(), 1100, "sampling never reached some keys");
        let small: Dict<usize> = Dict::new();
        assert_eq!(small.sample(&mut rng, 5, |_, _, _| {}), 0);
        let mut one = Dict::new();
        one.insert(b"k", 1usize);
        assert_eq!(one.sample(&mut rng, 16, |_, _, _| {}), 1);
    }

    #[test]
    fn values_are_dropped_once() {
        use std::rc::Rc;
        let tracker = Rc::new(());
        {
            let mut d = Dict::new();
            for i in 0..100 {
                d.insert(&key(i), Rc::clone(&tracker));
            }
            for i in 0..50 {
                d.remove(&key(i));
            }
            d.insert(&key(60), Rc::clone(&tracker));
            assert_eq!(Rc::strong_count(&tracker), 51);
        }
        assert_eq!(Rc::strong_count(&tracker), 1);
    }

    #[test]
    fn empty_keys_and_long_keys_work() {
        let mut d = Dict::new();
        let long = vec![b'x'; 100_000];
        d.insert(b"", 1);
        d.insert(&long, 2);
        assert_eq!(d.get(b""), Some(&1));
        assert_eq!(d.get(&long), Some(&2));
        let c = d.clone();
        assert_eq!(c.get(&long), Some(&2));
    }
}
