//! The sorted-set type, with Redis 7.0's two encodings.
//!
//! * `Pack` (reported as `listpack`): while a set has at most
//!   `zset-max-listpack-entries` members and none is longer than
//!   `zset-max-listpack-value` bytes, its member/score pairs sit in score
//!   order in one exactly sized buffer. Each member is a LEB128 length and its
//!   bytes; each score is a LEB128 word: an even word is a zig-zag integer
//!   (`score == word >> 1`, one byte for 0..63), the word 1 is followed by the
//!   8 bytes of an `f64` (fractions, -0, huge values). Lookups scan, as
//!   Redis's `zzl*` functions do.
//! * `SkipList` (reported as `skiplist`): beyond those limits, a skip list
//!   with span counts (O(log n) rank and range by rank, score or member) and
//!   an open-addressing table from member to node. A node is one allocation
//!   holding its score, back link, levels and the member's bytes, and the
//!   table holds only node pointers, so a member is stored once.
//!
//! Conversions follow Redis 7.0: a write that would pass a limit converts to
//! a skip list *before* it inserts (`zsetAdd`); nothing converts back except
//! where Redis calls `zsetConvertToListpackIfNeeded` (see
//! [`Zset::shrink_to_pack_if_fits`]).
//!
//! Order: by score, then by member bytes (`memcmp`, shorter first on a tie),
//! as `zslInsert`. Scores are never NaN (callers refuse it).
//!
//! Every range operation is expressed as a half-open interval of ranks
//! (`lo..hi`, 0 = lowest score): `score_span`/`lex_span` find it,
//! `for_each_rank`/`remove_ranks` use it. The later aggregate commands
//! (ZUNIONSTORE and friends) need only `iter`, `score` and `set`.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::cell::Cell;
use std::ptr;

use crate::memory::alloc::chunk_size;
use crate::util::rand::Rng;

/// The conversion thresholds (from the config).
#[derive(Debug, Clone, Copy)]
pub struct ZsetLimits {
    /// `zset-max-listpack-entries`.
    pub max_entries: usize,
    /// `zset-max-listpack-value`.
    pub max_value: usize,
}

impl Default for ZsetLimits {
    fn default() -> Self {
        ZsetLimits {
            max_entries: 128,
            max_value: 64,
        }
    }
}

/// Largest packed buffer, as Redis's `LISTPACK_MAX_SAFETY_SIZE`.
const PACK_MAX_SAFE_BYTES: usize = 1 << 30;

// ---- ranges ---------------------------------------------------------------------

/// A score interval (`zrangespec`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    /// Lower bound.
    pub min: f64,
    /// Upper bound.
    pub max: f64,
    /// Whether `min` itself is excluded.
    pub minex: bool,
    /// Whether `max` itself is excluded.
    pub maxex: bool,
}

impl ScoreRange {
    /// Whether `v` is at or past the lower bound.
    #[inline]
    pub fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    /// Whether `v` is at or before the upper bound.
    #[inline]
    pub fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    /// Whether no score can be inside.
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

/// One end of a member interval (`zlexrangespec`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: before every member.
    Min,
    /// `+`: after every member.
    Max,
    /// `[m`: `m` included.
    Incl(Vec<u8>),
    /// `(m`: `m` excluded.
    Excl(Vec<u8>),
}

impl LexBound {
    /// Whether the bound excludes itself (`-` and `+` count as exclusive, as
    /// Redis parses them).
    fn exclusive(&self) -> bool {
        !matches!(self, LexBound::Incl(_))
    }
}

/// A member interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexRange {
    /// Lower bound.
    pub min: LexBound,
    /// Upper bound.
    pub max: LexBound,
}

impl LexRange {
    /// Whether `m` is at or past the lower bound.
    #[inline]
    pub fn gte_min(&self, m: &[u8]) -> bool {
        match &self.min {
            LexBound::Min => true,
            LexBound::Max => false,
            LexBound::Incl(s) => m >= &s[..],
            LexBound::Excl(s) => m > &s[..],
        }
    }

    /// Whether `m` is at or before the upper bound.
    #[inline]
    pub fn lte_max(&self, m: &[u8]) -> bool {
        match &self.max {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Incl(s) => m <= &s[..],
            LexBound::Excl(s) => m < &s[..],
        }
    }

    /// Whether no member can be inside (Redis's `sdscmplex` on the bounds).
    pub fn is_empty(&self) -> bool {
        use std::cmp::Ordering::*;
        let cmp = match (&self.min, &self.max) {
            (LexBound::Min, LexBound::Min) | (LexBound::Max, LexBound::Max) => Equal,
            (LexBound::Min, _) | (_, LexBound::Max) => Less,
            (LexBound::Max, _) | (_, LexBound::Min) => Greater,
            (LexBound::Incl(a) | LexBound::Excl(a), LexBound::Incl(b) | LexBound::Excl(b)) => {
                a.cmp(b)
            }
        };
        cmp == Greater || (cmp == Equal && (self.min.exclusive() || self.max.exclusive()))
    }
}

// ---- the packed encoding --------------------------------------------------------

/// Member/score pairs in order, packed (see the module comment).
#[derive(Debug, Clone, Default)]
pub struct Pack {
    /// The entries and nothing else: its length is its capacity.
    buf: Box<[u8]>,
    len: u32,
}

#[inline]
fn varint_len(mut n: u64) -> usize {
    let mut l = 1;
    while n >= 0x80 {
        n >>= 7;
        l += 1;
    }
    l
}

#[inline]
fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

#[inline]
fn get_varint(buf: &[u8], mut pos: usize) -> (u64, usize) {
    let mut n = 0u64;
    let mut shift = 0;
    loop {
        let b = buf[pos];
        pos += 1;
        n |= ((b & 0x7f) as u64) << shift;
        if b < 0x80 {
            return (n, pos);
        }
        shift += 7;
    }
}

/// The integer a score packs as, if it is one (within 2^53). -0 packs as
/// 0: Redis's listpack stores scores as `d2string` text, which writes -0
/// as "0", so a packed set reads it back as 0 (a skip list keeps -0).
#[inline]
fn score_as_int(s: f64) -> Option<i64> {
    const LIMIT: f64 = (1u64 << 53) as f64;
    if s.fract() == 0.0 && s.abs() < LIMIT {
        Some(s as i64)
    } else {
        None
    }
}

#[inline]
fn score_word(s: f64) -> Option<u64> {
    score_as_int(s).map(|i| (((i << 1) ^ (i >> 63)) as u64) << 1)
}

/// Bytes one member/score pair takes in a pack.
fn pair_len(m: &[u8], s: f64) -> usize {
    varint_len(m.len() as u64)
        + m.len()
        + match score_word(s) {
            Some(w) => varint_len(w),
            None => 9,
        }
}

fn put_pair(out: &mut Vec<u8>, m: &[u8], s: f64) {
    put_varint(out, m.len() as u64);
    out.extend_from_slice(m);
    match score_word(s) {
        Some(w) => put_varint(out, w),
        None => {
            out.push(1);
            out.extend_from_slice(&s.to_le_bytes());
        }
    }
}

/// A decoded pair: where it starts and ends, its member's bytes and score.
#[derive(Debug, Clone, Copy)]
struct Entry {
    start: usize,
    end: usize,
    member: (usize, usize),
    score: f64,
}

impl Pack {
    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of the buffer.
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    #[inline]
    fn entry(&self, start: usize) -> Entry {
        let buf = &self.buf[..];
        let (mlen, ms) = get_varint(buf, start);
        let me = ms + mlen as usize;
        let (w, after) = get_varint(buf, me);
        let (score, end) = if w == 1 {
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[after..after + 8]);
            (f64::from_le_bytes(b), after + 8)
        } else {
            let z = w >> 1;
            let i = ((z >> 1) as i64) ^ -((z & 1) as i64);
            (i as f64, after)
        };
        Entry {
            start,
            end,
            member: (ms, me),
            score,
        }
    }

    #[inline]
    fn member(&self, e: &Entry) -> &[u8] {
        &self.buf[e.member.0..e.member.1]
    }

    fn entries(&self) -> impl Iterator<Item = Entry> + '_ {
        let mut pos = 0;
        std::iter::from_fn(move || {
            if pos >= self.buf.len() {
                return None;
            }
            let e = self.entry(pos);
            pos = e.end;
            Some(e)
        })
    }

    fn find(&self, m: &[u8]) -> Option<Entry> {
        self.entries().find(|e| self.member(e) == m)
    }

    /// Replaces bytes `range` with `with` (one exact-size reallocation).
    fn splice(&mut self, range: std::ops::Range<usize>, with: &[u8]) {
        let mut v = Vec::with_capacity(self.buf.len() - range.len() + with.len());
        v.extend_from_slice(&self.buf[..range.start]);
        v.extend_from_slice(with);
        v.extend_from_slice(&self.buf[range.end..]);
        self.buf = v.into_boxed_slice();
    }

    /// Inserts a pair whose member is absent, in order.
    fn insert(&mut self, m: &[u8], s: f64) {
        let at = self
            .entries()
            .find(|e| e.score > s || (e.score == s && self.member(e) > m))
            .map_or(self.buf.len(), |e| e.start);
        let mut enc = Vec::with_capacity(pair_len(m, s));
        put_pair(&mut enc, m, s);
        self.splice(at..at, &enc);
        self.len += 1;
    }

    fn remove_entry(&mut self, e: &Entry) {
        self.splice(e.start..e.end, &[]);
        self.len -= 1;
    }

    /// Start offsets of every pair, in order.
    fn offsets(&self) -> Vec<usize> {
        self.entries().map(|e| e.start).collect()
    }
}

// ---- the skip list --------------------------------------------------------------

/// Redis's `ZSKIPLIST_MAXLEVEL`.
const MAX_LEVEL: usize = 32;

/// A node's fixed part; `level` `Level`s and then the member's bytes follow
/// it in the same allocation.
#[repr(C)]
struct Node {
    score: f64,
    backward: *mut Node,
    mlen: u32,
    level: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Level {
    forward: *mut Node,
    span: usize,
}

const NODE_HDR: usize = std::mem::size_of::<Node>();
const LEVEL_SIZE: usize = std::mem::size_of::<Level>();

fn node_layout(level: usize, mlen: usize) -> Layout {
    // A member is at most 4 GiB (its length is a u32), so the size never
    // overflows isize on a 64-bit target.
    match Layout::from_size_align(NODE_HDR + level * LEVEL_SIZE + mlen, 8) {
        Ok(l) => l,
        Err(_) => unreachable!("skip list node size overflows"),
    }
}

/// Allocates a node with `level` empty levels.
fn node_new(level: usize, score: f64, member: &[u8]) -> *mut Node {
    let layout = node_layout(level, member.len());
    // SAFETY: the layout has a non-zero size (the header alone is 24 bytes).
    let p = unsafe { alloc(layout) } as *mut Node;
    if p.is_null() {
        handle_alloc_error(layout);
    }
    // SAFETY: p is a fresh allocation large enough for the header, `level`
    // levels and the member, aligned to 8; we initialise every part.
    unsafe {
        p.write(Node {
            score,
            backward: ptr::null_mut(),
            mlen: member.len() as u32,
            level: level as u32,
        });
        let lv = levels(p);
        for i in 0..level {
            lv.add(i).write(Level {
                forward: ptr::null_mut(),
                span: 0,
            });
        }
        ptr::copy_nonoverlapping(
            member.as_ptr(),
            (p as *mut u8).add(NODE_HDR + level * LEVEL_SIZE),
            member.len(),
        );
    }
    p
}

/// The levels of node `p`.
///
/// SAFETY (callers): `p` is a live node.
#[inline]
unsafe fn levels(p: *mut Node) -> *mut Level {
    (p as *mut u8).add(NODE_HDR) as *mut Level
}

/// Level `i` of node `p`.
///
/// SAFETY (callers): `p` is a live node with more than `i` levels, and no
/// other reference to that level is alive.
#[inline]
unsafe fn lv<'a>(p: *mut Node, i: usize) -> &'a mut Level {
    &mut *levels(p).add(i)
}

/// The member of node `p`.
///
/// SAFETY (callers): `p` is a live node, which outlives the slice.
#[inline]
unsafe fn member<'a>(p: *const Node) -> &'a [u8] {
    let n = &*p;
    std::slice::from_raw_parts(
        (p as *const u8).add(NODE_HDR + n.level as usize * LEVEL_SIZE),
        n.mlen as usize,
    )
}

/// Bytes node `p` takes.
///
/// SAFETY (callers): `p` is a live node.
#[inline]
unsafe fn node_size(p: *const Node) -> usize {
    node_layout((*p).level as usize, (*p).mlen as usize).size()
}

/// Frees node `p`.
///
/// SAFETY (callers): `p` is a live node that nothing links to any more.
unsafe fn node_free(p: *mut Node) {
    let layout = node_layout((*p).level as usize, (*p).mlen as usize);
    dealloc(p as *mut u8, layout);
}

/// Whether (score, member) of node `p` sorts before (`s`, `m`).
///
/// SAFETY (callers): `p` is a live node.
#[inline]
unsafe fn before(p: *const Node, s: f64, m: &[u8]) -> bool {
    (*p).score < s || ((*p).score == s && member(p) < m)
}

thread_local! {
    static LEVEL_RNG: Cell<u64> = const { Cell::new(0x2545_f491_4f6c_dd1d) };
}

/// Redis's `zslRandomLevel`: each further level with probability 1/4.
fn random_level() -> usize {
    LEVEL_RNG.with(|c| {
        let mut x = c.get();
        let mut level = 1;
        loop {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if level < MAX_LEVEL && (x & 0xffff) < 0xffff / 4 {
                level += 1;
            } else {
                break;
            }
        }
        c.set(x);
        level
    })
}

/// Member -> node: open addressing with linear probing over power-of-two
/// tables of node pointers (null = free), resized incrementally as Redis's
/// dict: growing or shrinking allocates a second table and the entries move
/// over a few at a time, on each later insert or removal (`step`), so no
/// single command pays for moving millions of members. While moving, a
/// member lives in exactly one of the two tables; lookups try the new table
/// and then the old one. The old table takes no inserts, so a moved or
/// removed entry there leaves a `MOVED` mark (probes pass over it) instead
/// of the backward shift that would disturb the slots not yet moved.
struct Index {
    /// The table inserts go to.
    t: Table,
    /// The table being emptied into `t`, while a resize is in progress.
    old: Option<Table>,
    /// Next slot of `old` to move.
    next: usize,
}

/// One open-addressing table.
struct Table {
    slots: Box<[*mut Node]>,
    /// Live nodes in `slots` (not counting `MOVED` marks).
    len: usize,
}

const INDEX_MIN: usize = 8;
/// Entries one `step` moves at most.
const STEP_MOVES: usize = 4;
/// Slots one `step` visits at most (empty ones are cheap, as Redis's
/// `empty_visits`).
const STEP_VISITS: usize = 64;

/// The mark a slot of the old table gets when its node leaves it. Never
/// dereferenced: every reader compares against it first.
#[inline]
fn moved() -> *mut Node {
    ptr::NonNull::<Node>::dangling().as_ptr()
}

/// Where a member was found.
#[derive(Clone, Copy)]
enum Loc {
    New(usize),
    Old(usize),
}

impl Table {
    fn new(cap: usize) -> Table {
        Table {
            slots: vec![ptr::null_mut(); cap].into_boxed_slice(),
            len: 0,
        }
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    #[inline]
    fn home(&self, m: &[u8]) -> usize {
        crate::util::hash::hash(m) as usize & self.mask()
    }

    /// `Ok(slot)` holding `m`, or `Err(first free slot)` of its probe.
    fn find(&self, m: &[u8]) -> Result<usize, usize> {
        let mask = self.mask();
        let mut i = self.home(m);
        loop {
            let p = self.slots[i];
            if p.is_null() {
                return Err(i);
            }
            // SAFETY: every slot neither null nor MOVED is a live node of
            // the owning list.
            if p != moved() && unsafe { member(p) } == m {
                return Ok(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// Puts node `p`, whose member is absent, in the table (no MOVED marks
    /// here: this is never the old table).
    fn put(&mut self, p: *mut Node) {
        // SAFETY: p is a live node.
        if let Err(i) = self.find(unsafe { member(p) }) {
            self.slots[i] = p;
            self.len += 1;
        }
    }

    /// Empties slot `i`, shifting back the entries probing past it.
    fn remove_slot(&mut self, mut i: usize) {
        let mask = self.mask();
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let p = self.slots[j];
            if p.is_null() {
                break;
            }
            // SAFETY: p is a live node (this table holds no MOVED marks).
            let k = self.home(unsafe { member(p) });
            // Move p back into the hole unless its home lies cyclically in (i, j].
            let stays = if i <= j {
                i < k && k <= j
            } else {
                i < k || k <= j
            };
            if !stays {
                self.slots[i] = p;
                i = j;
            }
        }
        self.slots[i] = ptr::null_mut();
        self.len -= 1;
    }

    /// Calls `f` on every node whose home is bucket `b`.
    fn visit_home(&self, b: usize, f: &mut impl FnMut(*mut Node)) {
        let mask = self.mask();
        let mut i = b;
        loop {
            let p = self.slots[i];
            if p.is_null() {
                break;
            }
            // SAFETY: p is a live node.
            if p != moved() && self.home(unsafe { member(p) }) == b {
                f(p);
            }
            i = (i + 1) & mask;
            if i == b {
                break;
            }
        }
    }
}

/// The table size for `n` members at a load of at most 3/4.
fn index_cap(n: usize) -> usize {
    (n * 4 / 3 + 1).next_power_of_two().max(INDEX_MIN)
}

impl Index {
    fn with_capacity(n: usize) -> Index {
        Index {
            t: Table::new(index_cap(n)),
            old: None,
            next: 0,
        }
    }

    fn len(&self) -> usize {
        self.t.len + self.old.as_ref().map_or(0, |o| o.len)
    }

    /// Whether a resize is moving entries.
    #[cfg(test)]
    fn is_rehashing(&self) -> bool {
        self.old.is_some()
    }

    fn find(&self, m: &[u8]) -> Option<Loc> {
        if let Ok(i) = self.t.find(m) {
            return Some(Loc::New(i));
        }
        let old = self.old.as_ref()?;
        old.find(m).ok().map(Loc::Old)
    }

    fn at(&self, l: Loc) -> *mut Node {
        match l {
            Loc::New(i) => self.t.slots[i],
            Loc::Old(i) => self.old.as_ref().map_or(ptr::null_mut(), |o| o.slots[i]),
        }
    }

    /// Points the entry at `l` to `p` (a node for the same member).
    fn replace(&mut self, l: Loc, p: *mut Node) {
        match l {
            Loc::New(i) => self.t.slots[i] = p,
            Loc::Old(i) => {
                if let Some(o) = self.old.as_mut() {
                    o.slots[i] = p;
                }
            }
        }
    }

    fn get(&self, m: &[u8]) -> Option<*mut Node> {
        self.find(m).map(|l| self.at(l))
    }

    /// Moves up to STEP_MOVES entries of the old table (visiting at most
    /// STEP_VISITS slots); frees the old table once it is empty.
    fn step(&mut self) {
        let Some(old) = self.old.as_mut() else {
            return;
        };
        let (mut moves, mut visits) = (0, 0);
        while self.next < old.slots.len() && moves < STEP_MOVES && visits < STEP_VISITS {
            let p = old.slots[self.next];
            if !p.is_null() && p != moved() {
                old.slots[self.next] = moved();
                old.len -= 1;
                self.t.put(p);
                moves += 1;
            }
            self.next += 1;
            visits += 1;
        }
        if old.len == 0 {
            self.old = None;
            self.next = 0;
        }
    }

    /// Moves whatever is left of the old table at once.
    fn finish(&mut self) {
        while self.old.is_some() {
            self.step();
        }
    }

    /// Starts moving everything to a table of `cap` slots.
    fn start_resize(&mut self, cap: usize) {
        self.finish();
        let old = std::mem::replace(&mut self.t, Table::new(cap));
        if old.len > 0 {
            self.old = Some(old);
            self.next = 0;
        }
    }

    /// Adds node `p`, whose member is absent.
    fn insert(&mut self, p: *mut Node) {
        self.step();
        // Invariant: all the members fit `t` at a load of 3/4, so moving
        // never fills it. Steps move entries faster than inserts add them,
        // so a resize rarely starts while one is still moving (start_resize
        // then finishes that one first).
        if (self.len() + 1) * 4 > self.t.slots.len() * 3 {
            self.start_resize(self.t.slots.len() * 2);
        }
        self.t.put(p);
        self.step();
    }

    /// Removes the entry at `l`.
    fn remove_at(&mut self, l: Loc) {
        match l {
            Loc::New(i) => self.t.remove_slot(i),
            Loc::Old(i) => {
                if let Some(o) = self.old.as_mut() {
                    o.slots[i] = moved();
                    o.len -= 1;
                }
            }
        }
        if self.old.is_none()
            && self.t.slots.len() > INDEX_MIN
            && self.len() * 10 < self.t.slots.len()
        {
            // Room for twice the members: inserts right after a shrink do
            // not force a growth before the move ends.
            self.start_resize(index_cap(self.len() * 2));
        }
        self.step();
    }

    fn remove(&mut self, m: &[u8]) {
        if let Some(l) = self.find(m) {
            self.remove_at(l);
        }
    }

    /// One SCAN step over home buckets, with Redis's reverse-binary cursor
    /// (`dictScan`): the members whose home is bucket `cursor & mask`, and
    /// while resizing, that bucket of the smaller table and all its
    /// expansions in the larger one. Members present for a whole scan are
    /// reported at least once, whatever resizing happens in between.
    fn scan(&self, cursor: u64, mut f: impl FnMut(*mut Node)) -> u64 {
        let rev_incr = |v: u64| v.reverse_bits().wrapping_add(1).reverse_bits();
        let mut v = cursor;
        let Some(old) = self.old.as_ref() else {
            let m = self.t.mask() as u64;
            self.t.visit_home((v & m) as usize, &mut f);
            return rev_incr(v | !m);
        };
        let (small, large) = if old.slots.len() < self.t.slots.len() {
            (old, &self.t)
        } else {
            (&self.t, old)
        };
        let (m0, m1) = (small.mask() as u64, large.mask() as u64);
        small.visit_home((v & m0) as usize, &mut f);
        loop {
            large.visit_home((v & m1) as usize, &mut f);
            v = rev_incr(v | !m1);
            if v & (m0 ^ m1) == 0 {
                break;
            }
        }
        v
    }

    /// Bytes of the tables, as the allocator counts them.
    fn heap_bytes(&self) -> usize {
        let t = |t: &Table| chunk_size(t.slots.len() * std::mem::size_of::<*mut Node>());
        t(&self.t) + self.old.as_ref().map_or(0, t)
    }
}

/// A skip list with span counts plus a member index (Redis's `zset`).
pub struct SkipList {
    head: *mut Node,
    tail: *mut Node,
    len: usize,
    level: usize,
    index: Index,
    /// Allocator chunk bytes of every node, the head's included (MEMORY
    /// USAGE and eviction count what malloc hands out, not what we ask).
    node_bytes: usize,
}

// SAFETY: the list owns its nodes exclusively; nothing is shared between
// threads except by moving the whole list (lazy free).
unsafe impl Send for SkipList {}

impl Default for SkipList {
    fn default() -> Self {
        SkipList::with_capacity(0)
    }
}

impl SkipList {
    /// An empty list whose index has room for `n` members.
    pub fn with_capacity(n: usize) -> SkipList {
        let head = node_new(MAX_LEVEL, 0.0, &[]);
        SkipList {
            head,
            tail: ptr::null_mut(),
            len: 0,
            level: 1,
            index: Index::with_capacity(n),
            // SAFETY: head is live.
            node_bytes: unsafe { chunk_size(node_size(head)) },
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The score of `m`.
    pub fn score(&self, m: &[u8]) -> Option<f64> {
        // SAFETY: index nodes are live.
        self.index.get(m).map(|p| unsafe { (*p).score })
    }

    /// Links a new node for (`s`, `m`), whose member is absent; returns it.
    fn link(&mut self, s: f64, m: &[u8]) -> *mut Node {
        let mut update = [ptr::null_mut::<Node>(); MAX_LEVEL];
        let mut rank = [0usize; MAX_LEVEL];
        // SAFETY: every pointer followed is the head or a live node of this
        // list; levels are indexed below each node's level count.
        unsafe {
            let mut x = self.head;
            for i in (0..self.level).rev() {
                rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
                loop {
                    let f = lv(x, i).forward;
                    if f.is_null() || !before(f, s, m) {
                        break;
                    }
                    rank[i] += lv(x, i).span;
                    x = f;
                }
                update[i] = x;
            }
            let level = random_level();
            if level > self.level {
                for i in self.level..level {
                    rank[i] = 0;
                    update[i] = self.head;
                    lv(self.head, i).span = self.len;
                }
                self.level = level;
            }
            let x = node_new(level, s, m);
            self.node_bytes += chunk_size(node_size(x));
            for i in 0..level {
                let u = lv(update[i], i);
                lv(x, i).forward = u.forward;
                u.forward = x;
                lv(x, i).span = u.span - (rank[0] - rank[i]);
                u.span = (rank[0] - rank[i]) + 1;
            }
            for (i, u) in update.iter().enumerate().take(self.level).skip(level) {
                lv(*u, i).span += 1;
            }
            (*x).backward = if update[0] == self.head {
                ptr::null_mut()
            } else {
                update[0]
            };
            let f = lv(x, 0).forward;
            if f.is_null() {
                self.tail = x;
            } else {
                (*f).backward = x;
            }
            self.len += 1;
            x
        }
    }

    /// Unlinks `x` given the nodes before it on each level (`zslDeleteNode`).
    ///
    /// SAFETY (callers): `x` is a live node of this list and `update` its
    /// predecessors on every level below `self.level`.
    unsafe fn unlink(&mut self, x: *mut Node, update: &[*mut Node; MAX_LEVEL]) {
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let ul = lv(u, i);
            if ul.forward == x {
                ul.span += lv(x, i).span;
                ul.span -= 1;
                ul.forward = lv(x, i).forward;
            } else {
                ul.span -= 1;
            }
        }
        let f = lv(x, 0).forward;
        if f.is_null() {
            self.tail = (*x).backward;
        } else {
            (*f).backward = (*x).backward;
        }
        while self.level > 1 && lv(self.head, self.level - 1).forward.is_null() {
            self.level -= 1;
        }
        self.len -= 1;
        self.node_bytes -= chunk_size(node_size(x));
    }

    /// The predecessors of (`s`, `m`) on every level.
    fn path(&self, s: f64, m: &[u8]) -> [*mut Node; MAX_LEVEL] {
        let mut update = [ptr::null_mut::<Node>(); MAX_LEVEL];
        // SAFETY: as in link.
        unsafe {
            let mut x = self.head;
            for i in (0..self.level).rev() {
                loop {
                    let f = lv(x, i).forward;
                    if f.is_null() || !before(f, s, m) {
                        break;
                    }
                    x = f;
                }
                update[i] = x;
            }
        }
        update
    }

    /// Adds (`m`, `s`); `m` must be absent.
    pub fn insert(&mut self, m: &[u8], s: f64) {
        let x = self.link(s, m);
        self.index.insert(x);
    }

    /// Removes `m`, returning its score.
    pub fn remove(&mut self, m: &[u8]) -> Option<f64> {
        let loc = self.index.find(m)?;
        let x = self.index.at(loc);
        // SAFETY: x is a live node of this list; after unlinking nothing
        // links to it and its index slot is emptied before it is freed.
        unsafe {
            let s = (*x).score;
            let update = self.path(s, m);
            self.unlink(x, &update);
            self.index.remove_at(loc);
            node_free(x);
            Some(s)
        }
    }

    /// Sets the score of present member `m` (`zslUpdateScore`): in place
    /// when the order allows, else by relinking a new node.
    pub fn update(&mut self, m: &[u8], s: f64) {
        let Some(loc) = self.index.find(m) else {
            return;
        };
        let x = self.index.at(loc);
        // SAFETY: x is a live node of this list; the replaced node is
        // unlinked and dropped from the index before it is freed.
        unsafe {
            let old = (*x).score;
            let back = (*x).backward;
            let fwd = lv(x, 0).forward;
            // Redis's test: strictly between the neighbours' scores.
            if (back.is_null() || (*back).score < s) && (fwd.is_null() || (*fwd).score > s) {
                (*x).score = s;
                return;
            }
            let update = self.path(old, m);
            self.unlink(x, &update);
            let owned = member(x).to_vec();
            let y = self.link(s, &owned);
            self.index.replace(loc, y);
            node_free(x);
        }
    }

    /// The 1-based rank of `m` and its score.
    pub fn rank(&self, m: &[u8]) -> Option<(usize, f64)> {
        let x = self.index.get(m)?;
        // SAFETY: x and every node walked are live nodes of this list.
        unsafe {
            let s = (*x).score;
            let mut rank = 0;
            let mut y = self.head;
            for i in (0..self.level).rev() {
                loop {
                    let f = lv(y, i).forward;
                    if f.is_null() || !(before(f, s, m) || f == x) {
                        break;
                    }
                    rank += lv(y, i).span;
                    y = f;
                }
                if y == x {
                    return Some((rank, s));
                }
            }
        }
        None
    }

    /// The node at 1-based `rank`.
    fn by_rank(&self, rank: usize) -> *mut Node {
        let mut traversed = 0;
        // SAFETY: every node walked is live.
        unsafe {
            let mut x = self.head;
            for i in (0..self.level).rev() {
                loop {
                    let f = lv(x, i).forward;
                    if f.is_null() || traversed + lv(x, i).span > rank {
                        break;
                    }
                    traversed += lv(x, i).span;
                    x = f;
                }
                if traversed == rank {
                    return x;
                }
            }
        }
        ptr::null_mut()
    }

    /// How many leading nodes satisfy `pred` (which must hold for a prefix).
    fn count_prefix(&self, pred: impl Fn(*const Node) -> bool) -> usize {
        let mut rank = 0;
        // SAFETY: every node walked is live.
        unsafe {
            let mut x = self.head;
            for i in (0..self.level).rev() {
                loop {
                    let f = lv(x, i).forward;
                    if f.is_null() || !pred(f) {
                        break;
                    }
                    rank += lv(x, i).span;
                    x = f;
                }
            }
        }
        rank
    }

    /// Removes ranks `lo..hi` (0-based), returning how many went.
    fn remove_ranks(&mut self, lo: usize, hi: usize) -> usize {
        if lo >= hi {
            return 0;
        }
        let mut update = [ptr::null_mut::<Node>(); MAX_LEVEL];
        let mut traversed = 0;
        // SAFETY: as in link; each removed node is unlinked and dropped from
        // the index before it is freed.
        unsafe {
            let mut x = self.head;
            for i in (0..self.level).rev() {
                loop {
                    let f = lv(x, i).forward;
                    if f.is_null() || traversed + lv(x, i).span > lo {
                        break;
                    }
                    traversed += lv(x, i).span;
                    x = f;
                }
                update[i] = x;
            }
            let mut x = lv(x, 0).forward;
            let mut removed = 0;
            while !x.is_null() && lo + removed < hi {
                let next = lv(x, 0).forward;
                self.unlink(x, &update);
                self.index.remove(member(x));
                node_free(x);
                removed += 1;
                x = next;
            }
            removed
        }
    }

    /// Nodes from 1-based `rank` onwards (or backwards).
    fn walk(&self, rank: usize, rev: bool) -> impl Iterator<Item = (&[u8], f64)> + '_ {
        let mut x = if rank == 0 || rank > self.len {
            ptr::null_mut()
        } else {
            self.by_rank(rank)
        };
        std::iter::from_fn(move || {
            if x.is_null() {
                return None;
            }
            // SAFETY: x is a live node while &self is borrowed.
            unsafe {
                let item = (member(x), (*x).score);
                x = if rev { (*x).backward } else { lv(x, 0).forward };
                Some(item)
            }
        })
    }

    /// The member index's tables for DEBUG HTSTATS-KEY, as Redis's dict
    /// reports them: `f(table, slots, members, per-slot counts)` for the
    /// main table (the one being emptied while resizing) and then the
    /// resize target; a slot's count is the members whose home it is.
    pub fn index_stats(
        &self,
        mut f: impl FnMut(usize, usize, usize, &mut dyn Iterator<Item = usize>),
    ) {
        let ix = &self.index;
        let tables: Vec<&Table> = match &ix.old {
            Some(old) => vec![old, &ix.t],
            None => vec![&ix.t],
        };
        for (i, t) in tables.into_iter().enumerate() {
            let mut counts = vec![0usize; t.slots.len()];
            for &p in t.slots.iter() {
                if !p.is_null() && p != moved() {
                    // SAFETY: p is a live node of this list.
                    counts[t.home(unsafe { member(p) })] += 1;
                }
            }
            f(i, t.slots.len(), t.len, &mut counts.into_iter());
        }
    }

    /// Heap bytes as the allocator counts them: nodes, index and the boxed
    /// list itself.
    pub fn heap_bytes(&self) -> usize {
        self.node_bytes + self.index.heap_bytes() + chunk_size(std::mem::size_of::<SkipList>())
    }
}

impl Drop for SkipList {
    fn drop(&mut self) {
        // SAFETY: walks and frees every node once, the head last; nothing
        // uses the list afterwards.
        unsafe {
            let mut x = lv(self.head, 0).forward;
            while !x.is_null() {
                let next = lv(x, 0).forward;
                node_free(x);
                x = next;
            }
            node_free(self.head);
        }
    }
}

impl Clone for SkipList {
    fn clone(&self) -> SkipList {
        let mut c = SkipList::with_capacity(self.len);
        for (m, s) in self.walk(1, false) {
            c.insert(m, s);
        }
        c
    }
}

// ---- the sorted set -------------------------------------------------------------

/// A sorted set in one of its two encodings.
#[derive(Clone)]
pub enum Zset {
    /// `listpack`.
    Pack(Pack),
    /// `skiplist`.
    Skip(Box<SkipList>),
}

impl Default for Zset {
    fn default() -> Self {
        Zset::new()
    }
}

impl std::fmt::Debug for Zset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Zset({}, {} members)", self.encoding_name(), self.len())
    }
}

/// An in-order iterator over a sorted set.
pub struct Iter<'a>(IterAt<'a>);

enum IterAt<'a> {
    Pack(&'a Pack, usize),
    Skip(*const Node, std::marker::PhantomData<&'a SkipList>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterAt::Pack(p, pos) => {
                if *pos >= p.buf.len() {
                    return None;
                }
                let e = p.entry(*pos);
                *pos = e.end;
                Some((&p.buf[e.member.0..e.member.1], e.score))
            }
            IterAt::Skip(x, _) => {
                if x.is_null() {
                    return None;
                }
                // SAFETY: x is a live node of a list borrowed for 'a.
                unsafe {
                    let n = *x;
                    *x = lv(n as *mut Node, 0).forward;
                    Some((member(n), (*n).score))
                }
            }
        }
    }
}

impl Zset {
    /// An empty packed set.
    pub fn new() -> Zset {
        Zset::Pack(Pack::default())
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            Zset::Pack(p) => p.len(),
            Zset::Skip(s) => s.len(),
        }
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING's name.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Zset::Pack(_) => "listpack",
            Zset::Skip(_) => "skiplist",
        }
    }

    /// Whether packed.
    pub fn is_packed(&self) -> bool {
        matches!(self, Zset::Pack(_))
    }

    /// Members in order with their scores.
    pub fn iter(&self) -> Iter<'_> {
        match self {
            Zset::Pack(p) => Iter(IterAt::Pack(p, 0)),
            Zset::Skip(s) => {
                // SAFETY: the head is live.
                let first = unsafe { lv(s.head, 0).forward };
                Iter(IterAt::Skip(first, std::marker::PhantomData))
            }
        }
    }

    /// The score of `m`.
    pub fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Zset::Pack(p) => p.find(m).map(|e| e.score),
            Zset::Skip(s) => s.score(m),
        }
    }

    /// Converts to a skip list (`zsetConvert`).
    pub fn convert_to_skip(&mut self) {
        if let Zset::Pack(p) = self {
            let mut s = SkipList::with_capacity(p.len());
            for e in p.entries() {
                s.insert(p.member(&e), e.score);
            }
            *self = Zset::Skip(Box::new(s));
        }
    }

    /// Redis's `zsetConvertToListpackIfNeeded`: a skip list that fits the
    /// limits becomes packed again.
    pub fn shrink_to_pack_if_fits(&mut self, limits: ZsetLimits) {
        let Zset::Skip(s) = self else {
            return;
        };
        if s.len() > limits.max_entries {
            return;
        }
        let mut bytes = 0;
        for (m, sc) in s.walk(1, false) {
            if m.len() > limits.max_value {
                return;
            }
            bytes += pair_len(m, sc);
        }
        if bytes > PACK_MAX_SAFE_BYTES {
            return;
        }
        let mut v = Vec::with_capacity(bytes);
        for (m, sc) in s.walk(1, false) {
            put_pair(&mut v, m, sc);
        }
        *self = Zset::Pack(Pack {
            buf: v.into_boxed_slice(),
            len: s.len() as u32,
        });
    }

    /// Sets the score of `m`, adding it when absent (converting first when
    /// the addition would pass a limit, as `zsetAdd`). Returns the previous
    /// score.
    pub fn set(&mut self, m: &[u8], score: f64, limits: ZsetLimits) -> Option<f64> {
        if let Zset::Pack(p) = self {
            match p.find(m) {
                Some(e) => {
                    if e.score != score || e.score.to_bits() != score.to_bits() {
                        p.remove_entry(&e);
                        p.insert(m, score);
                    }
                    return Some(e.score);
                }
                None => {
                    if p.len() + 1 > limits.max_entries
                        || m.len() > limits.max_value
                        || p.bytes() + pair_len(m, score) > PACK_MAX_SAFE_BYTES
                    {
                        self.convert_to_skip();
                    } else {
                        p.insert(m, score);
                        return None;
                    }
                }
            }
        }
        let Zset::Skip(s) = self else {
            return None;
        };
        match s.score(m) {
            Some(old) => {
                if old.to_bits() != score.to_bits() {
                    s.update(m, score);
                }
                Some(old)
            }
            None => {
                s.insert(m, score);
                None
            }
        }
    }

    /// Removes `m`, returning its score.
    pub fn remove(&mut self, m: &[u8]) -> Option<f64> {
        match self {
            Zset::Pack(p) => {
                let e = p.find(m)?;
                p.remove_entry(&e);
                Some(e.score)
            }
            Zset::Skip(s) => s.remove(m),
        }
    }

    /// The 0-based rank of `m` (lowest score first) and its score.
    pub fn rank(&self, m: &[u8]) -> Option<(usize, f64)> {
        match self {
            Zset::Pack(p) => p
                .entries()
                .enumerate()
                .find(|(_, e)| p.member(e) == m)
                .map(|(i, e)| (i, e.score)),
            Zset::Skip(s) => s.rank(m).map(|(r, sc)| (r - 1, sc)),
        }
    }

    /// The member at 0-based rank `i`.
    pub fn nth(&self, i: usize) -> Option<(&[u8], f64)> {
        match self {
            Zset::Pack(_) => self.iter().nth(i),
            Zset::Skip(s) => s.walk(i + 1, false).next(),
        }
    }

    /// The ranks whose members fall in `lo_ok`..`hi_ok`: the first member
    /// passing `gte` and the run after it passing `lte` (Redis's
    /// `*FirstIn*Range` and then walking while in range).
    fn span_by(
        &self,
        gte: impl Fn(&[u8], f64) -> bool,
        lte: impl Fn(&[u8], f64) -> bool,
    ) -> (usize, usize) {
        match self {
            Zset::Pack(p) => {
                let mut lo = None;
                let mut hi = 0;
                for (i, e) in p.entries().enumerate() {
                    let m = p.member(&e);
                    match lo {
                        None if gte(m, e.score) => {
                            if !lte(m, e.score) {
                                return (i, i);
                            }
                            lo = Some(i);
                            hi = i + 1;
                        }
                        None => {}
                        Some(_) => {
                            if !lte(m, e.score) {
                                break;
                            }
                            hi = i + 1;
                        }
                    }
                }
                match lo {
                    Some(lo) => (lo, hi),
                    None => (p.len(), p.len()),
                }
            }
            Zset::Skip(s) => {
                // SAFETY (both closures): nodes handed to them are live.
                let lo = s.count_prefix(|x| unsafe { !gte(member(x), (*x).score) });
                let hi = s.count_prefix(|x| unsafe { lte(member(x), (*x).score) });
                (lo, hi.max(lo))
            }
        }
    }

    /// Ranks of the members whose score is in `r`.
    pub fn score_span(&self, r: &ScoreRange) -> (usize, usize) {
        if r.is_empty() {
            return (0, 0);
        }
        self.span_by(|_, s| r.gte_min(s), |_, s| r.lte_max(s))
    }

    /// Ranks of the members ZREMRANGEBYLEX removes: as `lex_span`, except
    /// that a skip list skips the first/last check, as Redis's
    /// `zslDeleteRangeByLex` does (its listpack path makes it).
    pub fn lex_span_to_remove(&self, r: &LexRange) -> (usize, usize) {
        match self {
            Zset::Pack(_) => self.lex_span(r),
            Zset::Skip(_) if r.is_empty() => (0, 0),
            Zset::Skip(_) => self.span_by(|m, _| r.gte_min(m), |m, _| r.lte_max(m)),
        }
    }

    /// Ranks of the members in `r` (meaningful when all scores are equal).
    /// As Redis (`zzlIsInLexRange`, `zslIsInLexRange`), nothing is in range
    /// unless the last member is at least the minimum and the first at most
    /// the maximum: with unequal scores, members need not be in lex order,
    /// and this is what Redis answers then.
    pub fn lex_span(&self, r: &LexRange) -> (usize, usize) {
        if r.is_empty() {
            return (0, 0);
        }
        let (Some((first, _)), Some((last, _))) =
            (self.nth(0), self.nth(self.len().wrapping_sub(1)))
        else {
            return (0, 0);
        };
        if !r.gte_min(last) || !r.lte_max(first) {
            return (0, 0);
        }
        self.span_by(|m, _| r.gte_min(m), |m, _| r.lte_max(m))
    }

    /// Calls `f` on ranks `lo..hi`, from `lo` up, or from `hi - 1` down when
    /// `rev`.
    pub fn for_each_rank(&self, lo: usize, hi: usize, rev: bool, mut f: impl FnMut(&[u8], f64)) {
        let hi = hi.min(self.len());
        if lo >= hi {
            return;
        }
        match self {
            Zset::Pack(p) => {
                if rev {
                    let offs = p.offsets();
                    for &o in offs[lo..hi].iter().rev() {
                        let e = p.entry(o);
                        f(p.member(&e), e.score);
                    }
                } else {
                    for e in p.entries().skip(lo).take(hi - lo) {
                        f(p.member(&e), e.score);
                    }
                }
            }
            Zset::Skip(s) => {
                let start = if rev { hi } else { lo + 1 };
                for (m, sc) in s.walk(start, rev).take(hi - lo) {
                    f(m, sc);
                }
            }
        }
    }

    /// Removes ranks `lo..hi`; returns how many went.
    pub fn remove_ranks(&mut self, lo: usize, hi: usize) -> usize {
        let hi = hi.min(self.len());
        if lo >= hi {
            return 0;
        }
        match self {
            Zset::Pack(p) => {
                let offs = p.offsets();
                let start = offs[lo];
                let end = offs.get(hi).copied().unwrap_or(p.buf.len());
                p.splice(start..end, &[]);
                p.len -= (hi - lo) as u32;
                hi - lo
            }
            Zset::Skip(s) => s.remove_ranks(lo, hi),
        }
    }

    /// A uniformly random member.
    pub fn random(&self, rng: &mut Rng) -> Option<(&[u8], f64)> {
        if self.is_empty() {
            return None;
        }
        self.nth(rng.below(self.len() as u64) as usize)
    }

    /// One ZSCAN step: a packed set in one go (cursor 0 back), a skip list
    /// through its index with Redis's reverse-binary cursor.
    pub fn scan<'a>(&'a self, cursor: u64, mut f: impl FnMut(&'a [u8], f64)) -> u64 {
        match self {
            Zset::Pack(_) => {
                for (m, s) in self.iter() {
                    f(m, s);
                }
                0
            }
            // SAFETY: nodes handed out by the index are live.
            Zset::Skip(s) => s
                .index
                .scan(cursor, |p| unsafe { f(member(p), (*p).score) }),
        }
    }

    /// Heap bytes owned (MEMORY USAGE), the boxed `Zset` excluded.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Zset::Pack(p) => match p.bytes() {
                0 => 0,
                n => chunk_size(n),
            },
            Zset::Skip(s) => s.heap_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// The model: (score bits ordered, member) -> score, plus member -> score.
    #[derive(Default)]
    struct Model {
        by_member: BTreeMap<Vec<u8>, f64>,
    }

    impl Model {
        fn sorted(&self) -> Vec<(Vec<u8>, f64)> {
            let mut v: Vec<_> = self
                .by_member
                .iter()
                .map(|(m, s)| (m.clone(), *s))
                .collect();
            v.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap().then_with(|| a.0.cmp(&b.0)));
            v
        }
    }

    fn contents(z: &Zset) -> Vec<(Vec<u8>, f64)> {
        z.iter().map(|(m, s)| (m.to_vec(), s)).collect()
    }

    fn skip_limits() -> ZsetLimits {
        ZsetLimits {
            max_entries: 0,
            max_value: 0,
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Set(u8, i8),
        Remove(u8),
        RemoveRanks(u8, u8),
        RemoveScores(i8, i8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<u8>(), any::<i8>()).prop_map(|(m, s)| Op::Set(m, s)),
            2 => any::<u8>().prop_map(Op::Remove),
            1 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::RemoveRanks(a % 40, b % 40)),
            1 => (any::<i8>(), any::<i8>()).prop_map(|(a, b)| Op::RemoveScores(a, b)),
        ]
    }

    fn name(m: u8) -> Vec<u8> {
        format!("m{}", m % 64).into_bytes()
    }

    fn check(z: &Zset, model: &Model) {
        let want = model.sorted();
        assert_eq!(contents(z), want);
        assert_eq!(z.len(), want.len());
        for (i, (m, s)) in want.iter().enumerate() {
            assert_eq!(z.rank(m), Some((i, *s)));
            assert_eq!(z.score(m), Some(*s));
            assert_eq!(z.nth(i), Some((&m[..], *s)));
        }
        // Reverse iteration over every rank.
        let mut rev = Vec::new();
        z.for_each_rank(0, z.len(), true, |m, s| rev.push((m.to_vec(), s)));
        rev.reverse();
        assert_eq!(rev, want);
        // Every member once through SCAN.
        let mut seen = std::collections::HashSet::new();
        let mut c = 0;
        loop {
            c = z.scan(c, |m, _| {
                seen.insert(m.to_vec());
            });
            if c == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), want.len());
    }

    fn run(ops: Vec<Op>, limits: ZsetLimits) {
        let mut z = Zset::new();
        let mut model = Model::default();
        for op in ops {
            match op {
                Op::Set(m, s) => {
                    let prev = z.set(&name(m), s as f64 / 4.0, limits);
                    assert_eq!(prev, model.by_member.insert(name(m), s as f64 / 4.0));
                }
                Op::Remove(m) => {
                    assert_eq!(z.remove(&name(m)), model.by_member.remove(&name(m)));
                }
                Op::RemoveRanks(a, b) => {
                    let (lo, hi) = (a as usize, b as usize);
                    let sorted = model.sorted();
                    let want = hi.min(sorted.len()).saturating_sub(lo);
                    for (m, _) in sorted.iter().skip(lo).take(want) {
                        model.by_member.remove(m);
                    }
                    assert_eq!(z.remove_ranks(lo, hi), want);
                }
                Op::RemoveScores(a, b) => {
                    let r = ScoreRange {
                        min: a as f64 / 4.0,
                        max: b as f64 / 4.0,
                        minex: a % 2 == 0,
                        maxex: b % 3 == 0,
                    };
                    let sorted = model.sorted();
                    let inside: Vec<_> = sorted
                        .iter()
                        .enumerate()
                        .filter(|(_, (_, s))| r.gte_min(*s) && r.lte_max(*s))
                        .map(|(i, _)| i)
                        .collect();
                    let (lo, hi) = z.score_span(&r);
                    if inside.is_empty() {
                        assert_eq!(lo, hi);
                    } else {
                        assert_eq!((lo, hi), (inside[0], inside[inside.len() - 1] + 1));
                    }
                    for &i in &inside {
                        model.by_member.remove(&sorted[i].0);
                    }
                    assert_eq!(z.remove_ranks(lo, hi), inside.len());
                }
            }
            check(&z, &model);
        }
    }

    proptest! {
        #[test]
        fn skiplist_matches_model(ops in prop::collection::vec(op(), 1..200)) {
            run(ops, skip_limits());
        }

        #[test]
        fn pack_matches_model(ops in prop::collection::vec(op(), 1..120)) {
            run(ops, ZsetLimits { max_entries: 1000, max_value: 1000 });
        }

        #[test]
        fn lex_span_matches_model(
            members in prop::collection::btree_set(prop::collection::vec(b'a'..b'e', 0..4), 0..40),
            a in prop::collection::vec(b'a'..b'e', 0..4),
            b in prop::collection::vec(b'a'..b'e', 0..4),
            kinds in (0u8..4, 0u8..4),
            packed in any::<bool>(),
        ) {
            let limits = if packed { ZsetLimits::default() } else { skip_limits() };
            let mut z = Zset::new();
            for m in &members {
                z.set(m, 1.0, limits);
            }
            let bound = |k: u8, v: &Vec<u8>| match k {
                0 => LexBound::Min,
                1 => LexBound::Max,
                2 => LexBound::Incl(v.clone()),
                _ => LexBound::Excl(v.clone()),
            };
            let r = LexRange { min: bound(kinds.0, &a), max: bound(kinds.1, &b) };
            let inside: Vec<_> = members.iter().filter(|m| r.gte_min(m) && r.lte_max(m)).cloned().collect();
            let (lo, hi) = z.lex_span(&r);
            let mut got = Vec::new();
            z.for_each_rank(lo, hi, false, |m, _| got.push(m.to_vec()));
            prop_assert_eq!(got, inside);
        }
    }

    #[test]
    fn scores_pack_exactly() {
        let mut z = Zset::new();
        let tricky = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            63.0,
            64.0,
            -65.0,
            0.1,
            1e21,
            9007199254740992.0,
            -9007199254740993.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            5e-324,
            f64::MAX,
        ];
        for (i, s) in tricky.iter().enumerate() {
            z.set(format!("m{i}").as_bytes(), *s, ZsetLimits::default());
        }
        for (i, s) in tricky.iter().enumerate() {
            let got = z.score(format!("m{i}").as_bytes());
            // -0 reads back as 0 from a pack, as from Redis's listpack.
            let want = if *s == 0.0 { 0.0f64 } else { *s };
            assert_eq!(got.map(f64::to_bits), Some(want.to_bits()), "{s}");
        }
        let mut y = Zset::new();
        y.set(
            b"z",
            -0.0,
            ZsetLimits {
                max_entries: 0,
                max_value: 0,
            },
        );
        assert_eq!(y.score(b"z").map(f64::to_bits), Some((-0.0f64).to_bits()));
    }

    #[test]
    fn conversion_happens_before_the_insert_that_passes_a_limit() {
        let l = ZsetLimits {
            max_entries: 3,
            max_value: 4,
        };
        let mut z = Zset::new();
        for m in ["a", "b", "c"] {
            z.set(m.as_bytes(), 1.0, l);
        }
        assert_eq!(z.encoding_name(), "listpack");
        z.set(b"a", 5.0, l);
        assert_eq!(z.encoding_name(), "listpack");
        z.set(b"d", 1.0, l);
        assert_eq!(z.encoding_name(), "skiplist");
        let mut y = Zset::new();
        y.set(b"abcd", 1.0, l);
        assert_eq!(y.encoding_name(), "listpack");
        y.set(b"abcde", 1.0, l);
        assert_eq!(y.encoding_name(), "skiplist");
        y.remove(b"abcde");
        assert_eq!(y.encoding_name(), "skiplist");
        y.shrink_to_pack_if_fits(l);
        assert_eq!(y.encoding_name(), "listpack");
        assert_eq!(y.score(b"abcd"), Some(1.0));
    }

    #[test]
    fn index_survives_growth_and_shrinking() {
        let mut z = Zset::new();
        for i in 0..5000 {
            z.set(format!("{i}").as_bytes(), (i % 7) as f64, skip_limits());
        }
        for i in (0..5000).step_by(2) {
            assert!(z.remove(format!("{i}").as_bytes()).is_some());
        }
        assert_eq!(z.len(), 2500);
        for i in 0..5000 {
            assert_eq!(z.score(format!("{i}").as_bytes()).is_some(), i % 2 == 1);
        }
        let c = z.clone();
        assert_eq!(contents(&c), contents(&z));
    }

    fn skip(z: &Zset) -> &SkipList {
        match z {
            Zset::Skip(s) => s,
            Zset::Pack(_) => panic!("packed"),
        }
    }

    #[test]
    fn index_grows_and_shrinks_a_few_entries_at_a_time() {
        let mut z = Zset::new();
        let mut saw_growth = false;
        for i in 0..20_000 {
            z.set(format!("{i}").as_bytes(), i as f64, skip_limits());
            let ix = &skip(&z).index;
            if let Some(old) = &ix.old {
                saw_growth = true;
                assert!(old.len > 0);
                // Every member so far is found while the move is half done.
                if i % 997 == 0 {
                    for j in 0..=i {
                        assert_eq!(z.score(format!("{j}").as_bytes()), Some(j as f64));
                    }
                }
            }
        }
        assert!(saw_growth, "no insert ever left a resize in progress");
        let before = skip(&z).index.t.slots.len();
        let mut saw_shrink = false;
        for i in 0..19_990 {
            assert_eq!(z.remove(format!("{i}").as_bytes()), Some(i as f64));
            let ix = &skip(&z).index;
            saw_shrink |= ix.is_rehashing() && ix.t.slots.len() < before;
            assert_eq!(ix.len(), z.len());
        }
        assert!(saw_shrink, "no removal ever left a shrink in progress");
        for i in 19_990..20_000 {
            assert_eq!(z.score(format!("{i}").as_bytes()), Some(i as f64));
        }
        assert!(skip(&z).index.t.slots.len() * 100 <= before);
    }

    #[test]
    fn a_single_insert_moves_at_most_a_step_of_entries() {
        let mut z = Zset::new();
        let mut i = 0;
        // Fill past 1000 members until a growth starts, then watch the old
        // table drain.
        while i < 1000 || !skip_or_convert(&mut z).index.is_rehashing() {
            z.set(format!("{i}").as_bytes(), 0.0, skip_limits());
            i += 1;
        }
        let mut left = skip(&z).index.old.as_ref().map_or(0, |o| o.len);
        assert!(left > STEP_MOVES * 2, "the growth moved everything at once");
        while let Some(old) = &skip(&z).index.old {
            assert!(left - old.len <= 2 * STEP_MOVES);
            left = old.len;
            z.set(format!("{i}").as_bytes(), 0.0, skip_limits());
            i += 1;
        }
    }

    fn skip_or_convert(z: &mut Zset) -> &SkipList {
        z.convert_to_skip();
        skip(z)
    }

    #[derive(Debug, Clone)]
    enum ScanOp {
        Add(u16),
        Remove(u16),
        Step,
    }

    proptest! {
        /// ZSCAN's promise across resizes: a member present from the first
        /// call to the last is returned at least once, whatever is added
        /// and removed (growing and shrinking the index) between calls.
        #[test]
        fn scan_returns_every_member_present_throughout(
            start in 0u16..600,
            ops in prop::collection::vec(prop_oneof![
                3 => (0u16..3000).prop_map(ScanOp::Add),
                3 => (0u16..3000).prop_map(ScanOp::Remove),
                2 => Just(ScanOp::Step),
            ], 0..3000),
        ) {
            let mut z = Zset::new();
            z.convert_to_skip();
            for i in 0..start {
                z.set(format!("m{i}").as_bytes(), i as f64, skip_limits());
            }
            let mut touched = std::collections::HashSet::new();
            let mut seen = std::collections::HashSet::new();
            let mut cursor = 0u64;
            let mut steps = 0;
            for op in ops.iter().chain(std::iter::repeat(&ScanOp::Step)) {
                match op {
                    ScanOp::Add(m) => {
                        touched.insert(*m);
                        z.set(format!("m{m}").as_bytes(), 1.0, skip_limits());
                    }
                    ScanOp::Remove(m) => {
                        touched.insert(*m);
                        z.remove(format!("m{m}").as_bytes());
                    }
                    ScanOp::Step => {
                        cursor = z.scan(cursor, |m, _| {
                            seen.insert(m.to_vec());
                        });
                        steps += 1;
                        if cursor == 0 {
                            break;
                        }
                        prop_assert!(steps < 100_000, "scan never ends");
                    }
                }
            }
            for i in 0..start {
                if !touched.contains(&i) {
                    prop_assert!(seen.contains(format!("m{i}").as_bytes()), "m{} missed", i);
                }
            }
        }
    }

    #[test]
    fn heap_bytes_counts_allocator_chunks() {
        let mut z = Zset::new();
        z.set(b"a", 1.0, ZsetLimits::default());
        let pack = z.heap_bytes();
        assert_eq!(pack, chunk_size(3), "a packed pair of 3 bytes");
        z.convert_to_skip();
        let s = skip(&z);
        // SAFETY: the head and the one member node are live nodes.
        let (head, node) = unsafe { (node_size(s.head), node_size(lv(s.head, 0).forward)) };
        assert_eq!(
            z.heap_bytes(),
            chunk_size(head)
                + chunk_size(node)
                + chunk_size(INDEX_MIN * 8)
                + chunk_size(std::mem::size_of::<SkipList>())
        );
    }
}
