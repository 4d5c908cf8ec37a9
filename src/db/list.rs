//! The list type: Redis 7.0's quicklist shape, a sequence of packed nodes.
//!
//! Each node packs its entries contiguously in one buffer, GoStore's own
//! compact encoding (not Redis's listpack bytes; RDB converts):
//!
//! - a string is `h` as LEB128, its bytes, then `h`'s LEB128 bytes again in
//!   reverse order, with `h = len << 1`: 2 bytes of overhead up to 63 bytes;
//! - a canonical integer (Redis's `string2ll` form) whose encoding is shorter
//!   is `h = zigzag(i) << 1 | 1` alone when that is one byte (-32..=31), else
//!   `h` then one byte `0x81 | hl << 1` giving `h`'s length `hl`: "7" takes 1
//!   byte, "-1000" 3, "123456" 4 (Redis's listpack: 2, 3, 5).
//!
//! The last byte tells how to step back over an entry (bit 0 clear: a
//! string's reversed length; bit 0 set: an integer, bit 7 saying whether it
//! is the one-byte form), so pops, `iter_rev` and LINDEX from the tail never
//! scan a node from its start.
//!
//! Nodes are held in a `VecDeque`: pushes and pops at either end are O(1)
//! amortised, and a lookup by index walks node counts from the nearer end.
//! Node limits follow `list-max-listpack-size` as Redis's quicklist.c does:
//! a positive `fill` bounds the entries per node (and its bytes by the 8 KB
//! SIZE_SAFETY_LIMIT), -1..-5 bound its bytes at 4..64 KB; a node may always
//! hold one entry. An element longer than the node byte limit, or at least
//! the packed threshold (`DEBUG QUICKLIST-PACKED-THRESHOLD`, 1 GB), gets a
//! plain node of its own.
//!
//! With `list-compress-depth` N > 0, all but the N nodes at each end are kept
//! LZF-compressed when that saves at least 8 bytes of a node of 48 or more
//! (Redis's MIN_COMPRESS_IMPROVE and MIN_COMPRESS_BYTES). Reads of a
//! compressed node decompress into a temporary; writes decompress the node,
//! change it and compress it again.
//!
//! Deletions inside the list merge a node with a neighbour when both fit in
//! one node; no node is ever empty.
//!
//! Memory: a node buffer grows by a quarter at a time (to its glibc chunk's
//! usable size) and is shrunk to fit when a new node is opened beside it, so
//! a long list costs its packed bytes plus 40 bytes per node; a pop shrinks
//! a buffer only once it is under a quarter full.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::memory::alloc::chunk_size;
use crate::util::lzf;
use crate::util::num::{fmt_i64, parse_i64, MAX_I64_LEN};

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The first element (LPUSH, LPOP).
    Head,
    /// The last element (RPUSH, RPOP).
    Tail,
}

/// The node limits, from `list-max-listpack-size` (`fill`: positive = at most
/// that many entries per packed node; -1..=-5 = at most 4/8/16/32/64 KB of
/// packed bytes per node, Redis's meaning; default -2) and
/// `list-compress-depth` (0 = no compression; N = the N nodes at each end
/// stay raw, the inner ones are LZF-compressed when that saves space).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListLimits {
    /// `list-max-listpack-size`.
    pub fill: i32,
    /// `list-compress-depth`.
    pub compress_depth: u32,
}

impl Default for ListLimits {
    fn default() -> Self {
        ListLimits {
            fill: -2,
            compress_depth: 0,
        }
    }
}

/// quicklist.c's SIZE_SAFETY_LIMIT: the byte bound of a count-limited node.
const SIZE_SAFETY_LIMIT: usize = 8192;
/// quicklist.c's optimization_level: the byte bounds of fill -1..-5.
const OPTIMIZATION_LEVEL: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// Nodes smaller than this are never compressed.
const MIN_COMPRESS_BYTES: usize = 48;
/// A compressed node must be more than this much smaller than its raw form.
const MIN_COMPRESS_IMPROVE: usize = 8;

/// Elements at least this long get a plain node (`packed_threshold`).
static PACKED_THRESHOLD: AtomicUsize = AtomicUsize::new(1 << 30);

/// The current packed threshold (`DEBUG QUICKLIST-PACKED-THRESHOLD`).
pub fn packed_threshold() -> usize {
    PACKED_THRESHOLD.load(Ordering::Relaxed)
}

/// Sets the packed threshold (`DEBUG QUICKLIST-PACKED-THRESHOLD`).
pub fn set_packed_threshold(bytes: usize) {
    PACKED_THRESHOLD.store(bytes.max(1), Ordering::Relaxed);
}

/// The byte bound of a packed node under `fill`.
#[inline]
fn size_limit(fill: i32) -> usize {
    if fill < 0 {
        let level = (fill.unsigned_abs() as usize - 1).min(OPTIMIZATION_LEVEL.len() - 1);
        OPTIMIZATION_LEVEL[level]
    } else {
        SIZE_SAFETY_LIMIT
    }
}

/// Whether a packed node of `bytes` and `count` entries is within `fill`'s
/// limits (quicklist.c's `quicklistNodeExceedsLimit`, negated).
#[inline]
fn fits(fill: i32, bytes: usize, count: usize) -> bool {
    if bytes > size_limit(fill) {
        return false;
    }
    fill < 0 || count <= (fill.max(1) as usize)
}

/// Whether an element of `len` bytes gets a plain node of its own.
#[inline]
fn is_large(len: usize, fill: i32) -> bool {
    len >= packed_threshold() || len > size_limit(fill)
}

// ---------------------------------------------------------------------------
// Entry encoding

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
fn zigzag(i: i64) -> u64 {
    ((i << 1) ^ (i >> 63)) as u64
}

#[inline]
fn unzigzag(z: u64) -> i64 {
    ((z >> 1) as i64) ^ -((z & 1) as i64)
}

/// How one element is packed.
#[derive(Debug, Clone, Copy)]
struct Enc<'a> {
    /// The header: `len << 1` for a string, `zigzag << 1 | 1` for an integer.
    h: u64,
    /// Bytes of the header's LEB128 form.
    hl: usize,
    /// A string's bytes (empty for an integer).
    payload: &'a [u8],
    /// Bytes of the whole entry.
    size: usize,
}

fn encode(v: &[u8]) -> Enc<'_> {
    let sh = (v.len() as u64) << 1;
    let shl = varint_len(sh);
    let ssize = 2 * shl + v.len();
    if v.len() <= MAX_I64_LEN {
        if let Some(i) = parse_i64(v) {
            let z = zigzag(i);
            if z < (1 << 63) {
                let h = (z << 1) | 1;
                let hl = varint_len(h);
                let size = if hl == 1 { 1 } else { hl + 1 };
                if size < ssize {
                    return Enc {
                        h,
                        hl,
                        payload: &[],
                        size,
                    };
                }
            }
        }
    }
    Enc {
        h: sh,
        hl: shl,
        payload: v,
        size: ssize,
    }
}

/// Writes `e` into `dst` (exactly `e.size` bytes).
fn write_enc(dst: &mut [u8], e: &Enc<'_>) {
    let mut h = e.h;
    let mut i = 0;
    while h >= 0x80 {
        dst[i] = (h as u8) | 0x80;
        h >>= 7;
        i += 1;
    }
    dst[i] = h as u8;
    dst[e.hl..e.hl + e.payload.len()].copy_from_slice(e.payload);
    if e.h & 1 == 1 {
        if e.hl > 1 {
            dst[e.hl] = 0x81 | (e.hl as u8) << 1;
        }
    } else {
        for j in 0..e.hl {
            dst[e.size - 1 - j] = dst[j];
        }
    }
}

/// One packed entry, as read.
#[derive(Debug, Clone, Copy)]
enum Ent<'a> {
    Str(&'a [u8]),
    Int(i64),
}

impl<'a> Ent<'a> {
    fn to_vec(self) -> Vec<u8> {
        match self {
            Ent::Str(s) => s.to_vec(),
            Ent::Int(i) => fmt_i64(i, &mut [0u8; MAX_I64_LEN]).to_vec(),
        }
    }

    fn cow(self) -> Cow<'a, [u8]> {
        match self {
            Ent::Str(s) => Cow::Borrowed(s),
            Ent::Int(_) => Cow::Owned(self.to_vec()),
        }
    }

    /// Calls `f` with the element's bytes, without allocating.
    #[inline]
    fn with<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Ent::Str(s) => f(s),
            Ent::Int(i) => f(fmt_i64(i, &mut [0u8; MAX_I64_LEN])),
        }
    }
}

/// Reads the entry starting at `pos`: the entry and its size.
#[inline]
fn entry_at(buf: &[u8], pos: usize) -> (Ent<'_>, usize) {
    let mut h = 0u64;
    let mut shift = 0;
    let mut hl = 0;
    loop {
        let b = buf[pos + hl];
        h |= ((b & 0x7f) as u64) << shift;
        hl += 1;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    if h & 1 == 1 {
        (Ent::Int(unzigzag(h >> 1)), if hl == 1 { 1 } else { hl + 1 })
    } else {
        let len = (h >> 1) as usize;
        (Ent::Str(&buf[pos + hl..pos + hl + len]), 2 * hl + len)
    }
}

/// Reads the entry ending at `end`: the entry and where it starts.
#[inline]
fn entry_before(buf: &[u8], end: usize) -> (Ent<'_>, usize) {
    let last = buf[end - 1];
    if last & 0x81 == 0x01 {
        return (Ent::Int(unzigzag((last >> 1) as u64)), end - 1);
    }
    if last & 0x81 == 0x81 {
        let hl = ((last >> 1) & 0x3f) as usize;
        let start = end - 1 - hl;
        return (entry_at(buf, start).0, start);
    }
    let mut h = 0u64;
    let mut shift = 0;
    let mut hl = 0;
    loop {
        let b = buf[end - 1 - hl];
        h |= ((b & 0x7f) as u64) << shift;
        hl += 1;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let len = (h >> 1) as usize;
    let start = end - 2 * hl - len;
    (Ent::Str(&buf[start + hl..start + hl + len]), start)
}

/// Byte range of entry `k` of the `count` entries packed in `buf`, walking
/// from the nearer end.
fn entry_range(buf: &[u8], count: usize, k: usize) -> (usize, usize) {
    if k <= count / 2 {
        let mut pos = 0;
        for _ in 0..k {
            pos += entry_at(buf, pos).1;
        }
        (pos, pos + entry_at(buf, pos).1)
    } else {
        let mut end = buf.len();
        for _ in k + 1..count {
            end = entry_before(buf, end).1;
        }
        (entry_before(buf, end).1, end)
    }
}

/// Makes room for `extra` more bytes, growing by a quarter at a time up to
/// the usable size of glibc's chunk.
fn grow(buf: &mut Vec<u8>, extra: usize) {
    let need = buf.len() + extra;
    if need <= buf.capacity() {
        return;
    }
    let cap = buf.capacity();
    let target = chunk_size(need.max(cap + cap / 4)) - 8;
    buf.reserve_exact(target - buf.len());
}

/// Inserts the entry `e` at byte `pos`.
fn insert_entry(buf: &mut Vec<u8>, pos: usize, e: &Enc<'_>) {
    grow(buf, e.size);
    let old = buf.len();
    buf.resize(old + e.size, 0);
    buf.copy_within(pos..old, pos + e.size);
    write_enc(&mut buf[pos..pos + e.size], e);
}

/// Removes bytes `start..end`; gives memory back once under a quarter used.
fn remove_bytes(buf: &mut Vec<u8>, start: usize, end: usize) {
    let len = buf.len();
    buf.copy_within(end..len, start);
    buf.truncate(len - (end - start));
    if buf.capacity() > 256 && buf.len() < buf.capacity() / 4 {
        buf.shrink_to(buf.len() * 2);
    }
}

fn unlzf(buf: &[u8], raw_len: usize) -> Vec<u8> {
    let mut out = vec![0u8; raw_len];
    let n = lzf::decompress(buf, &mut out);
    // Only `Node::try_compress` makes these streams, from `raw_len` bytes.
    assert_eq!(n, Ok(raw_len), "a compressed list node is intact");
    out
}

// ---------------------------------------------------------------------------
// Nodes

/// One quicklist node: packed entries, or a plain node's one element; either
/// may be held LZF-compressed.
#[derive(Debug, Clone)]
struct Node {
    /// The packed entries (the element, for a plain node), or their LZF form.
    buf: Vec<u8>,
    /// Bytes of the raw form while compressed.
    raw_len: usize,
    /// Entries (1 for a plain node).
    count: u32,
    plain: bool,
    compressed: bool,
    /// Compression was tried on this content and saved too little.
    incompressible: bool,
}

impl Node {
    fn packed(e: &Enc<'_>) -> Node {
        let mut buf = Vec::with_capacity(chunk_size(e.size) - 8);
        buf.resize(e.size, 0);
        write_enc(&mut buf, e);
        Node {
            buf,
            raw_len: 0,
            count: 1,
            plain: false,
            compressed: false,
            incompressible: false,
        }
    }

    fn plain(v: &[u8]) -> Node {
        Node {
            buf: v.to_vec(),
            raw_len: 0,
            count: 1,
            plain: true,
            compressed: false,
            incompressible: false,
        }
    }

    /// Bytes of the raw form.
    #[inline]
    fn bytes(&self) -> usize {
        if self.compressed {
            self.raw_len
        } else {
            self.buf.len()
        }
    }

    #[inline]
    fn count(&self) -> usize {
        self.count as usize
    }

    /// The raw form, decompressed into a temporary when compressed.
    fn raw(&self) -> Cow<'_, [u8]> {
        if self.compressed {
            Cow::Owned(unlzf(&self.buf, self.raw_len))
        } else {
            Cow::Borrowed(&self.buf)
        }
    }

    /// Keeps the node raw (an edge node).
    fn decompress(&mut self) {
        if self.compressed {
            self.buf = unlzf(&self.buf, self.raw_len);
            self.compressed = false;
        }
    }

    /// Prepares the node for a change of its content.
    fn make_raw(&mut self) {
        self.decompress();
        self.incompressible = false;
    }

    fn try_compress(&mut self) {
        if self.compressed || self.incompressible || self.buf.len() < MIN_COMPRESS_BYTES {
            return;
        }
        let raw_len = self.buf.len();
        let mut out = vec![0u8; raw_len - MIN_COMPRESS_IMPROVE - 1];
        match lzf::compress(&self.buf, &mut out) {
            Some(n) => {
                out.truncate(n);
                out.shrink_to_fit();
                self.buf = out;
                self.raw_len = raw_len;
                self.compressed = true;
            }
            None => self.incompressible = true,
        }
    }
}

// ---------------------------------------------------------------------------
// The list

/// A list: Redis 7.0's quicklist shape.
#[derive(Clone, Default)]
pub struct List {
    nodes: VecDeque<Node>,
    len: usize,
}

impl std::fmt::Debug for List {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("List")
            .field("len", &self.len)
            .field("nodes", &self.nodes.len())
            .field("compressed", &self.compressed_nodes())
            .field("plain", &self.plain_nodes())
            .finish()
    }
}

impl List {
    /// An empty list (no allocation).
    pub fn new() -> List {
        List::default()
    }

    /// Elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Node count.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Nodes held compressed.
    pub fn compressed_nodes(&self) -> usize {
        self.nodes.iter().filter(|n| n.compressed).count()
    }

    /// Plain nodes (one large element each).
    pub fn plain_nodes(&self) -> usize {
        self.nodes.iter().filter(|n| n.plain).count()
    }

    /// Heap bytes it owns, as glibc chunks: the node array and each node's
    /// buffer.
    pub fn heap_bytes(&self) -> usize {
        let mut b = match self.nodes.capacity() {
            0 => 0,
            cap => chunk_size(cap * std::mem::size_of::<Node>()),
        };
        for n in &self.nodes {
            if n.buf.capacity() > 0 {
                b += chunk_size(n.buf.capacity());
            }
        }
        b
    }

    /// Node and entry offset of element `index` (< len), walking from the
    /// nearer end.
    fn locate(&self, index: usize) -> (usize, usize) {
        debug_assert!(index < self.len);
        if index < self.len / 2 {
            let mut i = index;
            for (ni, n) in self.nodes.iter().enumerate() {
                if i < n.count() {
                    return (ni, i);
                }
                i -= n.count();
            }
        } else {
            let mut i = self.len - 1 - index;
            for (ni, n) in self.nodes.iter().enumerate().rev() {
                if i < n.count() {
                    return (ni, n.count() - 1 - i);
                }
                i -= n.count();
            }
        }
        unreachable!("node counts add up to len")
    }

    /// Adds a node at `end`, shrinking the buffer of the node it covers.
    fn add_node(&mut self, end: End, node: Node) {
        let old = match end {
            End::Head => self.nodes.front_mut(),
            End::Tail => self.nodes.back_mut(),
        };
        if let Some(old) = old {
            old.buf.shrink_to_fit();
        }
        if self.nodes.capacity() == 0 {
            self.nodes.reserve_exact(1);
        }
        match end {
            End::Head => self.nodes.push_front(node),
            End::Tail => self.nodes.push_back(node),
        }
    }

    /// Inserts a node at position `at`.
    fn insert_node(&mut self, at: usize, node: Node) {
        if self.nodes.capacity() == 0 {
            self.nodes.reserve_exact(1);
        }
        self.nodes.insert(at, node);
    }

    fn remove_node(&mut self, at: usize) -> Option<Node> {
        let n = self.nodes.remove(at);
        let cap = self.nodes.capacity();
        if cap >= 16 && self.nodes.len() < cap / 4 {
            self.nodes.shrink_to(self.nodes.len() * 2);
        }
        n
    }

    /// Restores the compression invariant after a change: the `depth` nodes
    /// at each end raw, the nodes next to them and those in `lo..hi`
    /// (touched by the change) compressed where that pays.
    fn fix_compression(&mut self, depth: u32, lo: usize, hi: usize) {
        let d = depth as usize;
        if d == 0 || self.nodes.is_empty() {
            return;
        }
        let n = self.nodes.len();
        for i in (0..d.min(n)).chain(n.saturating_sub(d)..n) {
            self.nodes[i].decompress();
        }
        if n <= 2 * d {
            return;
        }
        self.nodes[d].try_compress();
        self.nodes[n - d - 1].try_compress();
        for i in lo.max(d)..hi.min(n - d) {
            self.nodes[i].try_compress();
        }
    }

    /// Whether nodes `a` and `a + 1` fit in one.
    fn mergeable(&self, a: usize, fill: i32) -> bool {
        let (x, y) = (&self.nodes[a], &self.nodes[a + 1]);
        !x.plain && !y.plain && fits(fill, x.bytes() + y.bytes(), x.count() + y.count())
    }

    /// Appends node `a + 1` to node `a`.
    fn merge(&mut self, a: usize) {
        let Some(mut right) = self.remove_node(a + 1) else {
            return;
        };
        right.make_raw();
        let left = &mut self.nodes[a];
        left.make_raw();
        grow(&mut left.buf, right.buf.len());
        left.buf.extend_from_slice(&right.buf);
        left.count += right.count;
    }

    /// Merges node `i` with its neighbours where they fit; returns where
    /// node `i`'s entries are now.
    fn merge_around(&mut self, mut i: usize, fill: i32) -> usize {
        if i > 0 && self.mergeable(i - 1, fill) {
            self.merge(i - 1);
            i -= 1;
        }
        if i + 1 < self.nodes.len() && self.mergeable(i, fill) {
            self.merge(i);
        }
        i
    }

    /// Splits packed node `ni` before its entry `k` (0 < k < count).
    fn split(&mut self, ni: usize, k: usize) {
        let node = &mut self.nodes[ni];
        node.make_raw();
        let (start, _) = entry_range(&node.buf, node.count(), k);
        let right = node.buf[start..].to_vec();
        node.buf.truncate(start);
        node.buf.shrink_to_fit();
        let right_count = node.count - k as u32;
        node.count = k as u32;
        self.insert_node(
            ni + 1,
            Node {
                buf: right,
                raw_len: 0,
                count: right_count,
                plain: false,
                compressed: false,
                incompressible: false,
            },
        );
    }

    /// O(1) amortised at either end.
    pub fn push(&mut self, end: End, value: &[u8], limits: ListLimits) {
        self.len += 1;
        let fill = limits.fill;
        if is_large(value.len(), fill) {
            self.add_node(end, Node::plain(value));
        } else {
            let e = encode(value);
            let node = match end {
                End::Head => self.nodes.front_mut(),
                End::Tail => self.nodes.back_mut(),
            };
            match node {
                Some(node)
                    if !node.plain && fits(fill, node.bytes() + e.size, node.count() + 1) =>
                {
                    node.make_raw();
                    let pos = match end {
                        End::Head => 0,
                        End::Tail => node.buf.len(),
                    };
                    insert_entry(&mut node.buf, pos, &e);
                    node.count += 1;
                }
                _ => self.add_node(end, Node::packed(&e)),
            }
        }
        self.fix_compression(limits.compress_depth, 0, 0);
    }

    /// Removes and returns the element at `end`.
    pub fn pop(&mut self, end: End, limits: ListLimits) -> Option<Vec<u8>> {
        let ni = match end {
            End::Head => 0,
            End::Tail => self.nodes.len().checked_sub(1)?,
        };
        let node = self.nodes.get_mut(ni)?;
        node.make_raw();
        self.len -= 1;
        let out = if node.plain {
            node.count = 0;
            std::mem::take(&mut node.buf)
        } else {
            let (ent, start, stop) = match end {
                End::Head => {
                    let (ent, size) = entry_at(&node.buf, 0);
                    (ent, 0, size)
                }
                End::Tail => {
                    let len = node.buf.len();
                    let (ent, start) = entry_before(&node.buf, len);
                    (ent, start, len)
                }
            };
            let out = ent.to_vec();
            remove_bytes(&mut node.buf, start, stop);
            node.count -= 1;
            out
        };
        if self.nodes[ni].count == 0 {
            self.remove_node(ni);
            self.fix_compression(limits.compress_depth, 0, 0);
        }
        Some(out)
    }

    /// Element `index` (0 = head), walking from the nearer end.
    pub fn get(&self, index: usize) -> Option<Cow<'_, [u8]>> {
        if index >= self.len {
            return None;
        }
        let (ni, k) = self.locate(index);
        let node = &self.nodes[ni];
        match node.raw() {
            Cow::Borrowed(raw) if node.plain => Some(Cow::Borrowed(raw)),
            Cow::Owned(raw) if node.plain => Some(Cow::Owned(raw)),
            Cow::Borrowed(raw) => {
                let (start, _) = entry_range(raw, node.count(), k);
                Some(entry_at(raw, start).0.cow())
            }
            Cow::Owned(raw) => {
                let (start, _) = entry_range(&raw, node.count(), k);
                Some(Cow::Owned(entry_at(&raw, start).0.to_vec()))
            }
        }
    }

    /// Replaces element `index`; false when out of range.
    pub fn set(&mut self, index: usize, value: &[u8], limits: ListLimits) -> bool {
        if index >= self.len {
            return false;
        }
        let fill = limits.fill;
        let (ni, k) = self.locate(index);
        let large = is_large(value.len(), fill);
        let node = &mut self.nodes[ni];
        if node.plain && large {
            node.make_raw();
            node.buf.clear();
            node.buf.extend_from_slice(value);
            node.buf.shrink_to_fit();
            self.fix_compression(limits.compress_depth, ni, ni + 1);
            return true;
        }
        if !node.plain && !large {
            let e = encode(value);
            let (start, stop) = match node.raw() {
                Cow::Borrowed(raw) => entry_range(raw, node.count(), k),
                Cow::Owned(raw) => entry_range(&raw, node.count(), k),
            };
            let new_bytes = node.bytes() - (stop - start) + e.size;
            if node.count == 1 || fits(fill, new_bytes, node.count()) {
                node.make_raw();
                let old = stop - start;
                if e.size > old {
                    grow(&mut node.buf, e.size - old);
                    let len = node.buf.len();
                    node.buf.resize(len + e.size - old, 0);
                    node.buf.copy_within(stop..len, start + e.size);
                } else if e.size < old {
                    remove_bytes(&mut node.buf, start + e.size, stop);
                }
                write_enc(&mut node.buf[start..start + e.size], &e);
                self.fix_compression(limits.compress_depth, ni, ni + 1);
                return true;
            }
        }
        self.remove_at(index, limits);
        self.insert(index, value, limits);
        true
    }

    /// Removes element `index` (< len).
    fn remove_at(&mut self, index: usize, limits: ListLimits) {
        let (ni, k) = self.locate(index);
        self.len -= 1;
        let node = &mut self.nodes[ni];
        node.make_raw();
        if node.plain || node.count == 1 {
            self.remove_node(ni);
            let lo = ni.saturating_sub(1);
            if ni > 0 && ni < self.nodes.len() && self.mergeable(ni - 1, limits.fill) {
                self.merge(ni - 1);
            }
            self.fix_compression(limits.compress_depth, lo, ni + 1);
            return;
        }
        let (start, stop) = entry_range(&node.buf, node.count(), k);
        remove_bytes(&mut node.buf, start, stop);
        node.count -= 1;
        let at = self.merge_around(ni, limits.fill);
        self.fix_compression(limits.compress_depth, at, at + 1);
    }

    /// Inserts `value` so that it becomes element `index` (index >= len
    /// appends).
    pub fn insert(&mut self, index: usize, value: &[u8], limits: ListLimits) {
        if index >= self.len {
            return self.push(End::Tail, value, limits);
        }
        if index == 0 {
            return self.push(End::Head, value, limits);
        }
        let fill = limits.fill;
        let (ni, k) = self.locate(index);
        self.len += 1;
        let (lo, hi);
        if is_large(value.len(), fill) {
            let at = if k == 0 {
                ni
            } else {
                self.split(ni, k);
                ni + 1
            };
            self.insert_node(at, Node::plain(value));
            (lo, hi) = (at.saturating_sub(1), at + 2);
        } else {
            let e = encode(value);
            let node = &self.nodes[ni];
            if !node.plain && fits(fill, node.bytes() + e.size, node.count() + 1) {
                let node = &mut self.nodes[ni];
                node.make_raw();
                let (start, _) = entry_range(&node.buf, node.count(), k);
                insert_entry(&mut node.buf, start, &e);
                node.count += 1;
                (lo, hi) = (ni, ni + 1);
            } else if k == 0 && {
                let prev = &self.nodes[ni - 1];
                !prev.plain && fits(fill, prev.bytes() + e.size, prev.count() + 1)
            } {
                let prev = &mut self.nodes[ni - 1];
                prev.make_raw();
                let end = prev.buf.len();
                insert_entry(&mut prev.buf, end, &e);
                prev.count += 1;
                (lo, hi) = (ni - 1, ni);
            } else if k == 0 {
                self.insert_node(ni, Node::packed(&e));
                (lo, hi) = (ni, ni + 1);
            } else {
                self.split(ni, k);
                let (left, right) = (&self.nodes[ni], &self.nodes[ni + 1]);
                let mut right_at = ni + 1;
                if fits(fill, left.bytes() + e.size, left.count() + 1) {
                    let left = &mut self.nodes[ni];
                    let end = left.buf.len();
                    insert_entry(&mut left.buf, end, &e);
                    left.count += 1;
                } else if fits(fill, right.bytes() + e.size, right.count() + 1) {
                    let right = &mut self.nodes[ni + 1];
                    insert_entry(&mut right.buf, 0, &e);
                    right.count += 1;
                } else {
                    self.insert_node(ni + 1, Node::packed(&e));
                    right_at = ni + 2;
                }
                // The halves may now fit with their outer neighbours.
                if right_at + 1 < self.nodes.len() && self.mergeable(right_at, fill) {
                    self.merge(right_at);
                }
                if ni > 0 && self.mergeable(ni - 1, fill) {
                    self.merge(ni - 1);
                }
                (lo, hi) = (ni.saturating_sub(1), right_at + 1);
            }
        }
        self.fix_compression(limits.compress_depth, lo, hi);
    }

    /// Calls `f` with elements `start..=end` (both in range, start <= end),
    /// head to tail.
    pub fn for_each_in(&self, start: usize, end: usize, mut f: impl FnMut(&[u8])) {
        if self.len == 0 || start > end || start >= self.len {
            return;
        }
        let end = end.min(self.len - 1);
        let (mut ni, mut k) = self.locate(start);
        let mut left = end - start + 1;
        let mut scratch: Vec<u8> = Vec::new();
        while left > 0 {
            let node = &self.nodes[ni];
            let raw: &[u8] = if node.compressed {
                scratch.resize(node.raw_len, 0);
                let n = lzf::decompress(&node.buf, &mut scratch);
                assert_eq!(n, Ok(node.raw_len), "a compressed list node is intact");
                &scratch
            } else {
                &node.buf
            };
            if node.plain {
                f(raw);
                left -= 1;
            } else {
                let mut pos = entry_range(raw, node.count(), k).0;
                for _ in k..node.count() {
                    if left == 0 {
                        break;
                    }
                    let (ent, size) = entry_at(raw, pos);
                    ent.with(&mut f);
                    pos += size;
                    left -= 1;
                }
            }
            ni += 1;
            k = 0;
        }
    }

    /// All elements head to tail.
    pub fn iter(&self) -> impl Iterator<Item = Cow<'_, [u8]>> + '_ {
        Iter::new(self, false)
    }

    /// All elements tail to head.
    pub fn iter_rev(&self) -> impl Iterator<Item = Cow<'_, [u8]>> + '_ {
        Iter::new(self, true)
    }

    /// LREM: removes up to |count| elements equal to `value` (count > 0 from
    /// the head, < 0 from the tail, 0 all); returns how many went.
    pub fn remove_matching(&mut self, count: i64, value: &[u8], limits: ListLimits) -> usize {
        let limit = if count == 0 {
            usize::MAX
        } else {
            usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX)
        };
        let from_tail = count < 0;
        let e = encode(value);
        let mut pat = vec![0u8; e.size];
        write_enc(&mut pat, &e);
        let mut removed = 0;
        let n = self.nodes.len();
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        let mut touched = false;
        for step in 0..n {
            if removed == limit {
                break;
            }
            let ni = if from_tail { n - 1 - step } else { step };
            let node = &self.nodes[ni];
            if node.plain {
                if node.raw().as_ref() == value {
                    let node = &mut self.nodes[ni];
                    node.count = 0;
                    node.buf = Vec::new();
                    node.compressed = false;
                    removed += 1;
                    touched = true;
                }
                continue;
            }
            ranges.clear();
            {
                let raw = node.raw();
                let mut pos = 0;
                while pos < raw.len() {
                    let size = entry_at(&raw, pos).1;
                    if raw[pos..pos + size] == pat[..] {
                        ranges.push((pos, pos + size));
                    }
                    pos += size;
                }
            }
            if ranges.is_empty() {
                continue;
            }
            let want = limit - removed;
            if ranges.len() > want {
                if from_tail {
                    ranges.drain(..ranges.len() - want);
                } else {
                    ranges.truncate(want);
                }
            }
            removed += ranges.len();
            touched = true;
            let node = &mut self.nodes[ni];
            node.make_raw();
            let mut w = ranges[0].0;
            for (i, &(_, stop)) in ranges.iter().enumerate() {
                let next = ranges.get(i + 1).map_or(node.buf.len(), |r| r.0);
                node.buf.copy_within(stop..next, w);
                w += next - stop;
            }
            node.buf.truncate(w);
            if node.buf.capacity() > 256 && node.buf.len() < node.buf.capacity() / 4 {
                node.buf.shrink_to(node.buf.len() * 2);
            }
            node.count -= ranges.len() as u32;
        }
        if touched {
            self.len -= removed;
            self.nodes.retain(|n| n.count > 0);
            let mut i = 0;
            while i + 1 < self.nodes.len() {
                if self.mergeable(i, limits.fill) {
                    self.merge(i);
                } else {
                    i += 1;
                }
            }
            let cap = self.nodes.capacity();
            if cap >= 16 && self.nodes.len() < cap / 4 {
                self.nodes.shrink_to(self.nodes.len() * 2);
            }
            let n = self.nodes.len();
            self.fix_compression(limits.compress_depth, 0, n);
        }
        removed
    }

    /// LTRIM: keeps elements start..=end (empties the list when start > end
    /// or start >= len).
    pub fn keep_range(&mut self, start: usize, end: usize, limits: ListLimits) {
        if start > end || start >= self.len {
            *self = List::new();
            return;
        }
        let end = end.min(self.len - 1);
        let head = start;
        let tail = self.len - 1 - end;
        self.delete_from(End::Head, head);
        self.delete_from(End::Tail, tail);
        self.len = end - start + 1;
        if self.nodes.len() >= 2 && self.mergeable(0, limits.fill) {
            self.merge(0);
        }
        let n = self.nodes.len();
        if n >= 2 && self.mergeable(n - 2, limits.fill) {
            self.merge(n - 2);
        }
        let cap = self.nodes.capacity();
        if cap >= 16 && self.nodes.len() < cap / 4 {
            self.nodes.shrink_to(self.nodes.len() * 2);
        }
        self.fix_compression(limits.compress_depth, 0, 0);
    }

    /// Deletes `k` elements at `end` (the caller fixes `len`).
    fn delete_from(&mut self, end: End, mut k: usize) {
        while k > 0 {
            let node = match end {
                End::Head => self.nodes.front_mut(),
                End::Tail => self.nodes.back_mut(),
            };
            let Some(node) = node else { return };
            if node.count() <= k {
                k -= node.count();
                match end {
                    End::Head => self.nodes.pop_front(),
                    End::Tail => self.nodes.pop_back(),
                };
                continue;
            }
            node.make_raw();
            let count = node.count();
            match end {
                End::Head => {
                    let (cut, _) = entry_range(&node.buf, count, k);
                    remove_bytes(&mut node.buf, 0, cut);
                }
                End::Tail => {
                    let (cut, _) = entry_range(&node.buf, count, count - k);
                    let len = node.buf.len();
                    remove_bytes(&mut node.buf, cut, len);
                }
            }
            node.count -= k as u32;
            k = 0;
        }
    }
}

/// The iterator behind `iter` and `iter_rev`.
struct Iter<'a> {
    list: &'a List,
    rev: bool,
    /// Nodes not yet loaded: forward, the next is `next`; reverse, `next - 1`.
    next: usize,
    /// The current node's bytes when it is raw.
    raw: Option<&'a [u8]>,
    /// The current node's bytes when it is compressed.
    temp: Vec<u8>,
    plain: bool,
    /// Forward: where the next entry starts; reverse: where it ends.
    pos: usize,
    /// Entries of the current node not yet returned.
    left: usize,
}

impl<'a> Iter<'a> {
    fn new(list: &'a List, rev: bool) -> Iter<'a> {
        Iter {
            list,
            rev,
            next: if rev { list.nodes.len() } else { 0 },
            raw: None,
            temp: Vec::new(),
            plain: false,
            pos: 0,
            left: 0,
        }
    }

    fn load(&mut self) -> bool {
        let idx = if self.rev {
            if self.next == 0 {
                return false;
            }
            self.next -= 1;
            self.next
        } else {
            if self.next >= self.list.nodes.len() {
                return false;
            }
            self.next += 1;
            self.next - 1
        };
        let node = &self.list.nodes[idx];
        if node.compressed {
            self.temp = unlzf(&node.buf, node.raw_len);
            self.raw = None;
        } else {
            self.raw = Some(&node.buf);
        }
        self.plain = node.plain;
        self.left = node.count();
        self.pos = if self.rev { node.bytes() } else { 0 };
        true
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = Cow<'a, [u8]>;

    fn next(&mut self) -> Option<Cow<'a, [u8]>> {
        while self.left == 0 {
            if !self.load() {
                return None;
            }
        }
        self.left -= 1;
        if let Some(raw) = self.raw {
            if self.plain {
                return Some(Cow::Borrowed(raw));
            }
            let ent = if self.rev {
                let (ent, start) = entry_before(raw, self.pos);
                self.pos = start;
                ent
            } else {
                let (ent, size) = entry_at(raw, self.pos);
                self.pos += size;
                ent
            };
            return Some(ent.cow());
        }
        if self.plain {
            return Some(Cow::Owned(std::mem::take(&mut self.temp)));
        }
        let ent = if self.rev {
            let (ent, start) = entry_before(&self.temp, self.pos);
            self.pos = start;
            ent
        } else {
            let (ent, size) = entry_at(&self.temp, self.pos);
            self.pos += size;
            ent
        };
        Some(Cow::Owned(ent.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lim(fill: i32, depth: u32) -> ListLimits {
        ListLimits {
            fill,
            compress_depth: depth,
        }
    }

    /// Checks the node invariants and that the list holds `model`.
    fn check(l: &List, model: &VecDeque<Vec<u8>>, limits: ListLimits) {
        assert_eq!(l.len(), model.len());
        assert_eq!(l.is_empty(), model.is_empty());
        let total: usize = l.nodes.iter().map(|n| n.count()).sum();
        assert_eq!(total, l.len, "node counts add up");
        let n = l.nodes.len();
        let d = limits.compress_depth as usize;
        for (i, node) in l.nodes.iter().enumerate() {
            assert!(node.count > 0, "node {i} is empty");
            if node.compressed {
                assert!(
                    d > 0 && i >= d && i + d < n,
                    "node {i} of {n} compressed at depth {d}"
                );
                assert!(node.buf.len() + MIN_COMPRESS_IMPROVE < node.raw_len);
            }
            let raw = node.raw();
            if node.plain {
                assert_eq!(node.count, 1);
                continue;
            }
            // Entries parse forwards and backwards to the same count.
            let mut pos = 0;
            let mut c = 0;
            while pos < raw.len() {
                pos += entry_at(&raw, pos).1;
                c += 1;
            }
            assert_eq!(pos, raw.len());
            assert_eq!(c, node.count());
            let mut end = raw.len();
            let mut c = 0;
            while end > 0 {
                end = entry_before(&raw, end).1;
                c += 1;
            }
            assert_eq!(c, node.count());
            if node.count > 1 {
                assert!(
                    fits(limits.fill, raw.len(), node.count()),
                    "node {i}: {} bytes, {} entries over fill {}",
                    raw.len(),
                    node.count,
                    limits.fill
                );
            }
        }
        let got: Vec<Vec<u8>> = l.iter().map(|c| c.into_owned()).collect();
        let want: Vec<Vec<u8>> = model.iter().cloned().collect();
        assert_eq!(got, want);
        let mut rev: Vec<Vec<u8>> = l.iter_rev().map(|c| c.into_owned()).collect();
        rev.reverse();
        assert_eq!(rev, want);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push(bool, Vec<u8>),
        Pop(bool),
        Get(usize),
        Set(usize, Vec<u8>),
        Insert(usize, Vec<u8>),
        Remove(i64, Vec<u8>),
        Keep(usize, usize),
        Range(usize, usize),
        PushMany(bool, Vec<u8>, usize),
    }

    fn value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            6 => proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(b'1')], 0..4),
            3 => (-300i64..300).prop_map(|i| i.to_string().into_bytes()),
            1 => prop_oneof![
                Just(i64::MIN),
                Just(i64::MAX),
                Just(1 << 62),
                Just(-(1 << 62) - 1),
                Just(123456789)
            ]
            .prop_map(|i| i.to_string().into_bytes()),
            1 => prop_oneof![Just(b"-0".to_vec()), Just(b"007".to_vec()), Just(b"+5".to_vec())],
            2 => (100usize..1500, any::<u8>()).prop_map(|(n, b)| (0..n).map(|i| b.wrapping_add((i % 7) as u8)).collect()),
            1 => (8000usize..70_000, any::<u8>()).prop_map(|(n, b)| vec![b; n]),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            8 => (any::<bool>(), value()).prop_map(|(h, v)| Op::Push(h, v)),
            2 => (any::<bool>(), value(), 1usize..120).prop_map(|(h, v, n)| Op::PushMany(h, v, n)),
            3 => any::<bool>().prop_map(Op::Pop),
            2 => any::<usize>().prop_map(Op::Get),
            2 => (any::<usize>(), value()).prop_map(|(i, v)| Op::Set(i, v)),
            3 => (any::<usize>(), value()).prop_map(|(i, v)| Op::Insert(i, v)),
            2 => (-4i64..4, value()).prop_map(|(c, v)| Op::Remove(c, v)),
            1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Op::Keep(a, b)),
            2 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Op::Range(a, b)),
        ]
    }

    fn run(fill: i32, depth: u32, ops: &[Op]) {
        let limits = lim(fill, depth);
        let mut l = List::new();
        let mut m: VecDeque<Vec<u8>> = VecDeque::new();
        for op in ops {
            match op.clone() {
                Op::Push(head, v) => {
                    if head {
                        l.push(End::Head, &v, limits);
                        m.push_front(v);
                    } else {
                        l.push(End::Tail, &v, limits);
                        m.push_back(v);
                    }
                }
                Op::PushMany(head, v, n) => {
                    for _ in 0..n {
                        let end = if head { End::Head } else { End::Tail };
                        l.push(end, &v, limits);
                        if head {
                            m.push_front(v.clone());
                        } else {
                            m.push_back(v.clone());
                        }
                    }
                }
                Op::Pop(head) => {
                    let (got, want) = if head {
                        (l.pop(End::Head, limits), m.pop_front())
                    } else {
                        (l.pop(End::Tail, limits), m.pop_back())
                    };
                    assert_eq!(got, want);
                }
                Op::Get(i) => {
                    let i = if m.is_empty() {
                        i % 3
                    } else {
                        i % (m.len() + 1)
                    };
                    assert_eq!(l.get(i).map(|c| c.into_owned()), m.get(i).cloned());
                }
                Op::Set(i, v) => {
                    let i = i % (m.len() + 1);
                    let ok = l.set(i, &v, limits);
                    assert_eq!(ok, i < m.len());
                    if ok {
                        m[i] = v;
                    }
                }
                Op::Insert(i, v) => {
                    let i = i % (m.len() + 1);
                    l.insert(i, &v, limits);
                    m.insert(i, v);
                }
                Op::Remove(c, v) => {
                    let mut want = 0;
                    let limit = if c == 0 {
                        usize::MAX
                    } else {
                        c.unsigned_abs() as usize
                    };
                    if c >= 0 {
                        let mut i = 0;
                        while i < m.len() && want < limit {
                            if m[i] == v {
                                m.remove(i);
                                want += 1;
                            } else {
                                i += 1;
                            }
                        }
                    } else {
                        let mut i = m.len();
                        while i > 0 && want < limit {
                            i -= 1;
                            if m[i] == v {
                                m.remove(i);
                                want += 1;
                            }
                        }
                    }
                    assert_eq!(l.remove_matching(c, &v, limits), want);
                }
                Op::Keep(a, b) => {
                    let n = m.len() + 2;
                    let (a, b) = (a % n, b % n);
                    l.keep_range(a, b, limits);
                    if a > b || a >= m.len() {
                        m.clear();
                    } else {
                        let b = b.min(m.len() - 1);
                        m.truncate(b + 1);
                        m.drain(..a);
                    }
                }
                Op::Range(a, b) => {
                    if !m.is_empty() {
                        let (a, b) = (a % m.len(), b % m.len());
                        let (a, b) = (a.min(b), a.max(b));
                        let mut got = Vec::new();
                        l.for_each_in(a, b, |e| got.push(e.to_vec()));
                        let want: Vec<Vec<u8>> = m.range(a..=b).cloned().collect();
                        assert_eq!(got, want);
                    }
                }
            }
            check(&l, &m, limits);
        }
        let copy = l.clone();
        check(&copy, &m, limits);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
        #[test]
        fn behaves_as_a_deque(
            fill in prop_oneof![-5i32..=-1, Just(0), Just(1), Just(2), Just(128)],
            depth in 0u32..3,
            ops in proptest::collection::vec(op(), 1..120),
        ) {
            run(fill, depth, &ops);
        }
    }

    #[test]
    fn entries_encode_compactly_and_round_trip() {
        let cases: [(&[u8], usize); 11] = [
            (b"", 2),
            (b"7", 1),
            (b"-32", 1),
            (b"31", 1),
            (b"-1000", 3),
            (b"hello", 7),
            (b"123456", 4),
            (b"007", 5),
            (b"-0", 4),
            (b"9223372036854775807", 21),
            (b"4611686018427387903", 11),
        ];
        for (v, size) in cases {
            let e = encode(v);
            assert_eq!(e.size, size, "{:?}", String::from_utf8_lossy(v));
            let mut buf = vec![0u8; e.size];
            write_enc(&mut buf, &e);
            let (ent, n) = entry_at(&buf, 0);
            assert_eq!(n, size);
            assert_eq!(ent.to_vec(), v);
            let (ent, start) = entry_before(&buf, buf.len());
            assert_eq!(start, 0);
            assert_eq!(ent.to_vec(), v);
        }
        let long = vec![b'x'; 300];
        assert_eq!(encode(&long).size, 2 + 300 + 2);
    }

    #[test]
    fn nodes_follow_fill() {
        let mut l = List::new();
        for i in 0..1000 {
            l.push(End::Tail, format!("v{i}").as_bytes(), lim(128, 0));
        }
        assert_eq!(l.node_count(), 8);
        let mut l = List::new();
        // "element-NNNN" is 12 bytes + 2 of overhead: 292 fit in 4096 bytes.
        for i in 0..1000 {
            l.push(End::Tail, format!("element-{i:04}").as_bytes(), lim(-1, 0));
        }
        assert_eq!(l.nodes[0].count, 292);
        // A large element gets its own plain node; fill 0 means one per node.
        l.push(End::Head, &vec![b'z'; 5000], lim(-1, 0));
        assert_eq!(l.plain_nodes(), 1);
        let mut l = List::new();
        for _ in 0..5 {
            l.push(End::Head, b"a", lim(0, 0));
        }
        assert_eq!(l.node_count(), 5);
    }

    #[test]
    fn packed_threshold_makes_plain_nodes() {
        set_packed_threshold(1 << 30);
        assert_eq!(packed_threshold(), 1 << 30);
        assert!(is_large(1 << 30, 128) && !is_large(100, 128));
    }

    #[test]
    fn inner_nodes_are_compressed_and_stay_readable() {
        let limits = lim(-1, 1);
        let mut l = List::new();
        let mut m = VecDeque::new();
        for i in 0..5000 {
            let v = format!("job:{}:payload-payload-payload", i % 50).into_bytes();
            l.push(End::Tail, &v, limits);
            m.push_back(v);
        }
        let n = l.node_count();
        assert!(n > 10);
        assert_eq!(l.compressed_nodes(), n - 2);
        check(&l, &m, limits);
        assert_eq!(l.get(2500).as_deref(), Some(&m[2500][..]));
        assert!(l.set(2500, b"changed", limits));
        m[2500] = b"changed".to_vec();
        l.insert(1234, b"new", limits);
        m.insert(1234, b"new".to_vec());
        check(&l, &m, limits);
        assert_eq!(l.compressed_nodes(), l.node_count() - 2);
        let raw: usize = l.nodes.iter().map(|n| n.bytes()).sum();
        assert!(l.heap_bytes() < raw / 2, "{} vs {raw}", l.heap_bytes());
        // Popping down to the edges leaves no compressed edge node.
        while l.len() > 300 {
            l.pop(End::Head, limits);
            m.pop_front();
        }
        check(&l, &m, limits);
    }

    #[test]
    fn deletions_merge_small_nodes() {
        let limits = lim(4, 0);
        let mut l = List::new();
        for i in 0..16 {
            l.push(End::Tail, if i % 2 == 0 { b"x" } else { b"y" }, limits);
        }
        assert_eq!(l.node_count(), 4);
        assert_eq!(l.remove_matching(0, b"x", limits), 8);
        assert_eq!(l.node_count(), 2);
        assert!(l.iter().all(|e| &*e == b"y"));
    }

    #[test]
    fn end_pushes_and_pops_reuse_the_node_buffer() {
        let limits = ListLimits::default();
        let mut l = List::new();
        for i in 0..100 {
            l.push(End::Tail, format!("{i:08}").as_bytes(), limits);
        }
        let cap = l.nodes[0].buf.capacity();
        let ptr = l.nodes[0].buf.as_ptr();
        for _ in 0..10_000 {
            l.push(End::Head, b"abcdefgh", limits);
            assert_eq!(l.pop(End::Head, limits).as_deref(), Some(&b"abcdefgh"[..]));
            l.push(End::Tail, b"-12345", limits);
            assert_eq!(l.pop(End::Tail, limits).as_deref(), Some(&b"-12345"[..]));
        }
        assert_eq!(l.nodes[0].buf.capacity(), cap);
        assert_eq!(l.nodes[0].buf.as_ptr(), ptr);
    }

    /// Bytes per element of 1M small elements (run with --nocapture to see).
    #[test]
    fn a_million_small_elements_are_compact() {
        let limits = ListLimits::default();
        let mut l = List::new();
        let mut plain: Vec<Vec<u8>> = Vec::new();
        for i in 0..1_000_000u32 {
            let v = format!("element:{i}");
            l.push(End::Tail, v.as_bytes(), limits);
            plain.push(v.into_bytes());
        }
        let vec_bytes = chunk_size(plain.capacity() * 24)
            + plain
                .iter()
                .map(|v| chunk_size(v.capacity()))
                .sum::<usize>();
        let per = l.heap_bytes() as f64 / 1e6;
        println!(
            "list: {per:.2} bytes/element over {} nodes; Vec<Vec<u8>>: {:.2}",
            l.node_count(),
            vec_bytes as f64 / 1e6
        );
        // "element:NNNNNN" is 14 bytes; 2 bytes of overhead, 40 per node.
        assert!(per < 16.5, "{per}");
        let numbers = {
            let mut l = List::new();
            for i in 0..1_000_000i64 {
                l.push(End::Tail, i.to_string().as_bytes(), limits);
            }
            l.heap_bytes() as f64 / 1e6
        };
        println!("list of 0..1M as numbers: {numbers:.2} bytes/element");
        assert!(numbers < 5.0, "{numbers}");
    }
}
