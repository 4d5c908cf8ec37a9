//! The stream type, as Redis 7.0's `t_stream.c` keeps it.
//!
//! Entries live in nodes (Redis's listpacks under a rax): a `BTreeMap`
//! keyed by each node's master ID gives O(log n) seeks by ID. A node is
//! closed once it reaches `stream-node-max-bytes` or
//! `stream-node-max-entries` (deleted entries count, as Redis counts them);
//! its bytes are counted as the listpack Redis would hold (each element's
//! encoding and back length), so nodes close where Redis's close.
//! Each node keeps its master entry's field names; an entry whose fields
//! are the master's, in order, stores only its values (Redis's
//! `STREAM_ITEM_FLAG_SAMEFIELDS`).
//!
//! An entry in a node's buffer is: a flag byte (deleted, same fields), the
//! milliseconds as a varint delta from the master ID's, the sequence as a
//! varint, then either the values (same fields) or the field count and the
//! field/value pairs, each string as a varint length and its bytes. Deleted
//! entries stay in place, flagged, until their node empties (XDEL and exact
//! trimming as Redis's).
//!
//! Consumer groups keep Redis 7.0's bookkeeping: the last delivered ID,
//! the entries read (or unknown) for the lag, a pending entries list by ID
//! and, per consumer, its own pending IDs and seen time.

use std::collections::{BTreeMap, BTreeSet};

/// A stream entry ID: milliseconds and sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    /// Milliseconds part.
    pub ms: u64,
    /// Sequence part.
    pub seq: u64,
}

impl StreamId {
    /// The smallest ID.
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    /// The largest ID.
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    /// An ID.
    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// Redis's `streamIncrID`: the next ID, None past the last.
    pub fn incr(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                None
            } else {
                Some(StreamId::new(self.ms + 1, 0))
            }
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// Redis's `streamDecrID`: the previous ID, None before 0-0.
    pub fn decr(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                None
            } else {
                Some(StreamId::new(self.ms - 1, u64::MAX))
            }
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }

    /// Whether this is 0-0.
    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    /// "ms-seq".
    pub fn to_bytes(self) -> Vec<u8> {
        format!("{}-{}", self.ms, self.seq).into_bytes()
    }
}

/// `entries_read` when unknown (Redis's `SCG_INVALID_ENTRIES_READ`).
pub const INVALID_ENTRIES_READ: i64 = -1;

const FLAG_DELETED: u8 = 1;
const FLAG_SAMEFIELDS: u8 = 2;

fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn get_varint(buf: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = buf[*pos];
        *pos += 1;
        v |= ((b & 0x7f) as u64) << shift;
        if b < 0x80 {
            return v;
        }
        shift += 7;
    }
}

fn get_str<'a>(buf: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let n = get_varint(buf, pos) as usize;
    let s = &buf[*pos..*pos + n];
    *pos += n;
    s
}

fn varint_len(v: u64) -> usize {
    let bits = 64 - v.max(1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// One node: a run of entries sharing a master ID and master fields.
#[derive(Debug, Clone)]
pub struct Node {
    /// The master entry's field names.
    master_fields: Box<[Box<[u8]>]>,
    /// The entries, encoded (see the module's note).
    buf: Vec<u8>,
    /// Entries not deleted.
    live: u32,
    /// Entries flagged deleted.
    deleted: u32,
    /// The bytes of the listpack Redis would hold for this node, but for
    /// its two counters (live, deleted): see `lp_bytes`.
    lp_base: usize,
}

/// Bytes of a listpack element holding the integer `v`: its encoding and
/// its back length (Redis's `lpEncodeGetType` and `lpEncodeBacklen`).
fn lp_int_bytes(v: i64) -> usize {
    let enc = match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8_388_608..=8_388_607 => 4,
        -2_147_483_648..=2_147_483_647 => 5,
        _ => 9,
    };
    enc + 1
}

/// Bytes of a listpack element holding the string `s`: as an integer when
/// it is one in the strict form Redis's `lpStringToInt64` accepts.
fn lp_str_bytes(s: &[u8]) -> usize {
    let digits = s.strip_prefix(b"-").unwrap_or(s);
    let canonical = !s.is_empty()
        && s.len() < 21
        && (s == b"0"
            || (digits.first().is_some_and(|d| (b'1'..=b'9').contains(d))
                && digits.iter().all(u8::is_ascii_digit)));
    if canonical {
        if let Some(v) = std::str::from_utf8(s)
            .ok()
            .and_then(|x| x.parse::<i64>().ok())
        {
            return lp_int_bytes(v);
        }
    }
    let enc = match s.len() {
        0..=63 => 1 + s.len(),
        64..=4095 => 2 + s.len(),
        _ => 5 + s.len(),
    };
    let back = match enc {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    };
    enc + back
}

/// An entry decoded from a node.
#[derive(Debug, Clone)]
pub struct EntryRef<'a> {
    /// Its ID.
    pub id: StreamId,
    /// Its offset in the node's buffer (for deletion).
    off: usize,
    /// Whether it is flagged deleted.
    deleted: bool,
    /// Where its strings start.
    body: usize,
    /// Whether its fields are the master's.
    same: bool,
    node: &'a Node,
}

impl<'a> EntryRef<'a> {
    /// Whether it is flagged deleted.
    pub fn is_deleted(&self) -> bool {
        self.deleted
    }

    /// Whether its fields are the node's master fields, in order (Redis's
    /// `STREAM_ITEM_FLAG_SAMEFIELDS`).
    pub fn same_fields(&self) -> bool {
        self.same
    }

    /// Its field/value pairs, in order.
    pub fn fields(&self) -> Vec<(&'a [u8], &'a [u8])> {
        let buf: &'a [u8] = &self.node.buf;
        let mut pos = self.body;
        if self.same {
            self.node
                .master_fields
                .iter()
                .map(|f| (&f[..], get_str(buf, &mut pos)))
                .collect()
        } else {
            let n = get_varint(buf, &mut pos) as usize;
            (0..n)
                .map(|_| {
                    let f = get_str(buf, &mut pos);
                    let v = get_str(buf, &mut pos);
                    (f, v)
                })
                .collect()
        }
    }
}

impl Node {
    fn new(fields: &[(&[u8], &[u8])]) -> Node {
        let names: Vec<&[u8]> = fields.iter().map(|(f, _)| *f).collect();
        Node::with_master_fields(&names)
    }

    fn with_master_fields(names: &[&[u8]]) -> Node {
        // The header (6) and end byte (1), then the master entry: its two
        // counters (see `lp_bytes`), the field count, the names, and the
        // 0 that ends it.
        let lp_base = 6
            + 1
            + lp_int_bytes(names.len() as i64)
            + names.iter().map(|f| lp_str_bytes(f)).sum::<usize>()
            + lp_int_bytes(0);
        Node {
            master_fields: names.iter().map(|f| Box::from(*f)).collect(),
            buf: Vec::new(),
            live: 0,
            deleted: 0,
            lp_base,
        }
    }

    /// The bytes of the listpack Redis keeps for this node (`lpBytes`), the
    /// size its `stream-node-max-bytes` check reads, so that nodes close
    /// where Redis's close.
    fn lp_bytes(&self) -> usize {
        self.lp_base + lp_int_bytes(i64::from(self.live)) + lp_int_bytes(i64::from(self.deleted))
    }

    fn append(&mut self, master: StreamId, id: StreamId, fields: &[(&[u8], &[u8])]) {
        let same = fields.len() == self.master_fields.len()
            && fields
                .iter()
                .zip(self.master_fields.iter())
                .all(|((f, _), m)| *f == &m[..]);
        // The listpack entry Redis appends: flags, ms and seq deltas from
        // the master ID (as int64), the values or the count and the pairs,
        // and lp-count.
        let n = fields.len() as i64;
        self.lp_base += lp_int_bytes(if same { 2 } else { 0 })
            + lp_int_bytes(id.ms.wrapping_sub(master.ms) as i64)
            + lp_int_bytes(id.seq.wrapping_sub(master.seq) as i64);
        if same {
            self.lp_base += fields.iter().map(|(_, v)| lp_str_bytes(v)).sum::<usize>();
            self.lp_base += lp_int_bytes(n + 3);
        } else {
            self.lp_base += lp_int_bytes(n)
                + fields
                    .iter()
                    .map(|(f, v)| lp_str_bytes(f) + lp_str_bytes(v))
                    .sum::<usize>()
                + lp_int_bytes(2 * n + 4);
        }
        self.buf.push(if same { FLAG_SAMEFIELDS } else { 0 });
        put_varint(&mut self.buf, id.ms - master.ms);
        put_varint(&mut self.buf, id.seq);
        if same {
            for (_, v) in fields {
                put_varint(&mut self.buf, v.len() as u64);
                self.buf.extend_from_slice(v);
            }
        } else {
            put_varint(&mut self.buf, fields.len() as u64);
            for (f, v) in fields {
                put_varint(&mut self.buf, f.len() as u64);
                self.buf.extend_from_slice(f);
                put_varint(&mut self.buf, v.len() as u64);
                self.buf.extend_from_slice(v);
            }
        }
        self.live += 1;
    }

    /// Every entry, deleted ones included, in ID order.
    fn all(&self, master: StreamId) -> Vec<EntryRef<'_>> {
        let buf = &self.buf;
        let mut out = Vec::with_capacity((self.live + self.deleted) as usize);
        let mut pos = 0;
        while pos < buf.len() {
            let off = pos;
            let flags = buf[pos];
            pos += 1;
            let ms = master.ms + get_varint(buf, &mut pos);
            let seq = get_varint(buf, &mut pos);
            let body = pos;
            let same = flags & FLAG_SAMEFIELDS != 0;
            if same {
                for _ in 0..self.master_fields.len() {
                    get_str(buf, &mut pos);
                }
            } else {
                let n = get_varint(buf, &mut pos);
                for _ in 0..2 * n {
                    get_str(buf, &mut pos);
                }
            }
            out.push(EntryRef {
                id: StreamId::new(ms, seq),
                off,
                deleted: flags & FLAG_DELETED != 0,
                body,
                same,
                node: self,
            });
        }
        out
    }

    /// Live entries in ID order.
    fn live_entries(&self, master: StreamId) -> Vec<EntryRef<'_>> {
        let mut v = self.all(master);
        v.retain(|e| !e.deleted);
        v
    }

    fn heap_bytes(&self) -> usize {
        self.buf.capacity()
            + self.master_fields.len() * 16
            + self.master_fields.iter().map(|f| f.len()).sum::<usize>()
    }
}

/// A pending entry of a group (Redis's `streamNACK`).
#[derive(Debug, Clone)]
pub struct Nack {
    /// Unix ms of its last delivery.
    pub delivery_time: i64,
    /// Times delivered.
    pub delivery_count: u64,
    /// The consumer that owns it.
    pub consumer: Box<[u8]>,
}

/// A consumer of a group.
#[derive(Debug, Clone, Default)]
pub struct Consumer {
    /// Unix ms it was last seen (read or claimed).
    pub seen_time: i64,
    /// Its pending IDs.
    pub pel: BTreeSet<StreamId>,
}

/// A consumer group.
#[derive(Debug, Clone)]
pub struct Group {
    /// Last delivered ID.
    pub last_id: StreamId,
    /// Entries read, or `INVALID_ENTRIES_READ`.
    pub entries_read: i64,
    /// Pending entries by ID.
    pub pel: BTreeMap<StreamId, Nack>,
    /// Consumers by name.
    pub consumers: BTreeMap<Box<[u8]>, Consumer>,
}

impl Group {
    /// A new group.
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }
}

/// The node size limits (`stream-node-max-bytes`, `stream-node-max-entries`).
#[derive(Debug, Clone, Copy)]
pub struct StreamLimits {
    /// Most bytes per node (0: no limit).
    pub max_bytes: usize,
    /// Most entries per node (0: no limit).
    pub max_entries: usize,
}

/// A stream.
#[derive(Debug, Clone, Default)]
pub struct Stream {
    nodes: BTreeMap<StreamId, Node>,
    length: u64,
    /// Last ID added (or set by XSETID).
    pub last_id: StreamId,
    /// First live ID (0-0 when empty).
    pub first_id: StreamId,
    /// Greatest ID deleted by XDEL (or set by XSETID).
    pub max_deleted_id: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
    /// Consumer groups by name.
    pub groups: BTreeMap<Box<[u8]>, Group>,
}

/// An entry as the RDB loader builds a node from it: its ID, whether it
/// is flagged deleted, its field/value pairs.
pub type RawEntry<'a> = (StreamId, bool, Vec<(&'a [u8], &'a [u8])>);

/// A node as the RDB writer sees it.
pub struct RawNode<'a> {
    /// Its master ID (the rax key).
    pub master: StreamId,
    /// The master entry's field names.
    pub master_fields: &'a [Box<[u8]>],
    /// Live entries.
    pub live: u32,
    /// Entries flagged deleted.
    pub deleted: u32,
    /// Every entry, deleted ones included, in ID order.
    pub entries: Vec<EntryRef<'a>>,
}

/// How XADD/XTRIM trim.
#[derive(Debug, Clone, Copy)]
pub enum Trim {
    /// MAXLEN n.
    MaxLen(u64),
    /// MINID id.
    MinId(StreamId),
}

impl Stream {
    /// An empty stream.
    pub fn new() -> Stream {
        Stream::default()
    }

    /// Live entries.
    pub fn len(&self) -> u64 {
        self.length
    }

    /// Whether no entry is live.
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Nodes (Redis's radix-tree-keys).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Appends an entry with `id` (greater than `last_id`, checked by the
    /// caller).
    pub fn append(&mut self, id: StreamId, fields: &[(&[u8], &[u8])], limits: StreamLimits) {
        // Redis's check: the tail listpack's bytes plus the raw lengths of
        // the new fields and values.
        let entry_bytes: usize = fields.iter().map(|(f, v)| f.len() + v.len()).sum();
        let need_new = match self.nodes.last_key_value() {
            None => true,
            Some((_, n)) => {
                let count = (n.live + n.deleted) as usize;
                (limits.max_bytes > 0 && n.lp_bytes() + entry_bytes >= limits.max_bytes)
                    || (limits.max_entries > 0 && count >= limits.max_entries)
            }
        };
        if need_new {
            if let Some(mut last) = self.nodes.last_entry() {
                last.get_mut().buf.shrink_to_fit();
            }
            self.nodes.insert(id, Node::new(fields));
        }
        let Some(mut last) = self.nodes.last_entry() else {
            return;
        };
        let master = *last.key();
        last.get_mut().append(master, id, fields);
        if self.length == 0 {
            self.first_id = id;
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
    }

    /// Each node in ID order: its master ID, its master field names, and
    /// its entries, deleted ones included (the RDB writer).
    pub fn raw_nodes(&self) -> impl Iterator<Item = RawNode<'_>> {
        self.nodes.iter().map(|(m, n)| RawNode {
            master: *m,
            master_fields: &n.master_fields,
            live: n.live,
            deleted: n.deleted,
            entries: n.all(*m),
        })
    }

    /// Adds a node read from an RDB file: `master` (greater than every
    /// node's so far), its master fields and its entries in ID order, each
    /// with its deleted flag. A node with no entry at all is dropped; one
    /// with only deleted entries (left by an exact trim) is kept, as Redis
    /// keeps it. The stream's length and IDs are the caller's to set.
    pub fn push_raw_node(
        &mut self,
        master: StreamId,
        master_fields: &[&[u8]],
        entries: &[RawEntry<'_>],
    ) {
        let mut node = Node::with_master_fields(master_fields);
        for (id, deleted, fields) in entries {
            let off = node.buf.len();
            node.append(master, *id, fields);
            if *deleted {
                node.buf[off] |= FLAG_DELETED;
                node.live -= 1;
                node.deleted += 1;
            }
        }
        if node.live + node.deleted > 0 {
            node.buf.shrink_to_fit();
            self.nodes.insert(master, node);
        }
    }

    /// Live entries counted over the nodes (checks a loaded length).
    pub fn counted_len(&self) -> u64 {
        self.nodes.values().map(|n| n.live as u64).sum()
    }

    /// Sets the length (a loaded stream's).
    pub fn set_len(&mut self, n: u64) {
        self.length = n;
    }

    /// Calls `f` on live entries with `start <= id <= end`, ascending or
    /// descending, until it returns false.
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        mut f: impl FnMut(StreamId, Vec<(&[u8], &[u8])>) -> bool,
    ) {
        if start > end {
            return;
        }
        // The node holding `start` starts at or before it.
        let lo = self
            .nodes
            .range(..=start)
            .next_back()
            .map(|(k, _)| *k)
            .unwrap_or(StreamId::MIN);
        let nodes = self.nodes.range(lo..=end);
        let mut visit = |master: StreamId, node: &Node| -> bool {
            let entries = node.live_entries(master);
            let it: Box<dyn Iterator<Item = &EntryRef<'_>>> = if rev {
                Box::new(entries.iter().rev())
            } else {
                Box::new(entries.iter())
            };
            for e in it {
                if e.id < start || e.id > end {
                    continue;
                }
                if !f(e.id, e.fields()) {
                    return false;
                }
            }
            true
        };
        if rev {
            for (m, n) in nodes.rev() {
                if !visit(*m, n) {
                    return;
                }
            }
        } else {
            for (m, n) in nodes {
                if !visit(*m, n) {
                    return;
                }
            }
        }
    }

    /// The live entry `id`'s fields, if there is one.
    pub fn get(&self, id: StreamId) -> Option<Vec<(&[u8], &[u8])>> {
        let (m, node) = self.nodes.range(..=id).next_back()?;
        node.live_entries(*m)
            .into_iter()
            .find(|e| e.id == id)
            .map(|e| e.fields())
    }

    /// The first or last live ID. A node whose entries an exact trim
    /// flagged all deleted stays, as in Redis: it is skipped.
    pub fn edge(&self, last: bool) -> Option<StreamId> {
        let live = |(m, n): (&StreamId, &Node)| -> Option<StreamId> {
            let entries = n.live_entries(*m);
            let e = if last {
                entries.last()
            } else {
                entries.first()
            };
            e.map(|e| e.id)
        };
        if last {
            self.nodes.iter().rev().find_map(live)
        } else {
            self.nodes.iter().find_map(live)
        }
    }

    /// The first entry's ID, deleted or not (Redis's `streamGetEdgeID`
    /// without skipping tombstones); None when the stream has no node.
    pub fn first_with_tombstones(&self) -> Option<StreamId> {
        let (m, n) = self.nodes.first_key_value()?;
        n.all(*m).first().map(|e| e.id)
    }

    fn refresh_first(&mut self) {
        self.first_id = if self.length == 0 {
            StreamId::MIN
        } else {
            self.edge(false).unwrap_or(StreamId::MIN)
        };
    }

    /// Flags entry `id` deleted; whether it was live.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&m, node)) = self.nodes.range_mut(..=id).next_back() else {
            return false;
        };
        let Some(off) = node
            .all(m)
            .into_iter()
            .find(|e| e.id == id && !e.deleted)
            .map(|e| e.off)
        else {
            return false;
        };
        node.buf[off] |= FLAG_DELETED;
        node.live -= 1;
        node.deleted += 1;
        if node.live == 0 {
            self.nodes.remove(&m);
        }
        self.length -= 1;
        true
    }

    /// XDEL: deletes each ID (updating max-deleted-id and the first ID);
    /// how many were live.
    pub fn xdel(&mut self, ids: &[StreamId]) -> u64 {
        let mut n = 0;
        for &id in ids {
            if self.delete(id) {
                n += 1;
                if id > self.max_deleted_id {
                    self.max_deleted_id = id;
                }
            }
        }
        if n > 0 {
            self.refresh_first();
        }
        n
    }

    /// Redis's `streamTrim`: entries removed. `approx` removes whole nodes
    /// only; `limit` (0: none) bounds the entries removed.
    pub fn trim(&mut self, how: Trim, approx: bool, limit: u64) -> u64 {
        let mut deleted = 0u64;
        loop {
            if let Trim::MaxLen(max) = how {
                if self.length <= max {
                    break;
                }
            }
            let Some(mut first) = self.nodes.first_entry() else {
                break;
            };
            let master = *first.key();
            let node = first.get_mut();
            let entries = node.live as u64;
            // Can the whole node go?
            let whole = match how {
                Trim::MaxLen(max) => self.length - entries >= max,
                Trim::MinId(min) => {
                    // Its last entry (deleted or not) is below the minimum.
                    node.all(master).last().is_some_and(|e| e.id < min)
                }
            };
            if whole {
                if limit != 0 && deleted + entries > limit {
                    break;
                }
                first.remove();
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            // Flag entries deleted one by one.
            let mut offs = Vec::new();
            let mut remaining = self.length;
            for e in node.all(master) {
                if e.deleted {
                    continue;
                }
                let stop = match how {
                    Trim::MaxLen(max) => remaining <= max,
                    Trim::MinId(min) => e.id >= min,
                };
                if stop {
                    break;
                }
                offs.push(e.off);
                remaining -= 1;
            }
            for off in &offs {
                node.buf[*off] |= FLAG_DELETED;
            }
            let n = offs.len() as u32;
            node.live -= n;
            node.deleted += n;
            self.length -= n as u64;
            deleted += n as u64;
            // A node left with no live entry stays (Redis's streamTrim
            // keeps it; only XDEL removes a node it empties).
            break;
        }
        self.refresh_first();
        deleted
    }

    /// Redis's `streamRangeHasTombstones` from `start` to the end.
    pub fn has_tombstones_from(&self, start: StreamId) -> bool {
        if self.length == 0 || self.max_deleted_id.is_zero() {
            return false;
        }
        // Every tombstone lies before the first entry: none is ahead.
        if self.first_id > self.max_deleted_id {
            return false;
        }
        start <= self.max_deleted_id
    }

    /// Redis's `streamEstimateDistanceFromFirstEverEntry`.
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return self.entries_added as i64;
        }
        match id.cmp(&self.last_id) {
            std::cmp::Ordering::Equal => return self.entries_added as i64,
            std::cmp::Ordering::Greater => return INVALID_ENTRIES_READ,
            std::cmp::Ordering::Less => {}
        }
        if self.max_deleted_id.is_zero() || self.max_deleted_id < self.first_id {
            match id.cmp(&self.first_id) {
                std::cmp::Ordering::Less => return (self.entries_added - self.length) as i64,
                std::cmp::Ordering::Equal => return (self.entries_added - self.length + 1) as i64,
                std::cmp::Ordering::Greater => {}
            }
        }
        INVALID_ENTRIES_READ
    }

    /// A group's lag as XINFO reports it, None when unknown.
    pub fn lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != INVALID_ENTRIES_READ && !self.has_tombstones_from(g.last_id) {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        let read = self.estimate_distance(g.last_id);
        (read != INVALID_ENTRIES_READ).then(|| self.entries_added as i64 - read)
    }

    /// Advances a group's last ID to `id` (an entry it delivers), keeping
    /// its entries-read as Redis 7.0 does.
    pub fn advance_group(&mut self, group: &[u8], id: StreamId) {
        let tomb = self.has_tombstones_from(id);
        let est = self.estimate_distance(id);
        let added = self.entries_added;
        if let Some(g) = self.groups.get_mut(group) {
            if id > g.last_id {
                if g.entries_read != INVALID_ENTRIES_READ && !tomb {
                    g.entries_read += 1;
                } else if added > 0 {
                    g.entries_read = est;
                }
                g.last_id = id;
            }
        }
    }

    /// Estimated heap bytes (MEMORY USAGE).
    pub fn heap_bytes(&self) -> usize {
        let nodes: usize = self.nodes.values().map(|n| n.heap_bytes() + 64).sum();
        let groups: usize = self
            .groups
            .iter()
            .map(|(k, g)| {
                k.len()
                    + 96
                    + g.pel.len() * 64
                    + g.consumers
                        .iter()
                        .map(|(c, cs)| c.len() + 64 + cs.pel.len() * 24)
                        .sum::<usize>()
            })
            .sum();
        nodes + groups
    }

    /// Bytes of the nodes' buffers (DEBUG, bench).
    pub fn encoded_bytes(&self) -> usize {
        self.nodes.values().map(|n| n.buf.len()).sum()
    }

    /// Whether the `n` entries fit Redis's entry size rule: Redis refuses
    /// an entry whose total exceeds what a listpack holds.
    pub fn entry_too_large(fields: &[(&[u8], &[u8])]) -> bool {
        let total: usize = fields.iter().map(|(f, v)| f.len() + v.len()).sum();
        total >= (1usize << 32) - 1
    }
}

/// `varint_len`, for size estimates elsewhere.
pub fn encoded_len_hint(v: u64) -> usize {
    varint_len(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: StreamLimits = StreamLimits {
        max_bytes: 4096,
        max_entries: 100,
    };

    fn ids(s: &Stream, rev: bool) -> Vec<u64> {
        let mut v = Vec::new();
        s.range(StreamId::MIN, StreamId::MAX, rev, |id, _| {
            v.push(id.ms);
            true
        });
        v
    }

    #[test]
    fn append_range_delete_trim() {
        let mut s = Stream::new();
        for i in 1..=250u64 {
            let v = i.to_string();
            let f: &[(&[u8], &[u8])] = if i % 7 == 0 {
                &[(b"x", v.as_bytes())]
            } else {
                &[(b"f", v.as_bytes()), (b"g", b"1")]
            };
            s.append(StreamId::new(i, 0), f, L);
        }
        assert_eq!(s.node_count(), 3);
        assert_eq!(ids(&s, false), (1..=250).collect::<Vec<_>>());
        assert_eq!(ids(&s, true), (1..=250).rev().collect::<Vec<_>>());
        assert_eq!(
            s.get(StreamId::new(14, 0)).unwrap(),
            vec![(&b"x"[..], &b"14"[..])]
        );
        assert_eq!(s.xdel(&[StreamId::new(1, 0), StreamId::new(1, 0)]), 1);
        assert_eq!(s.first_id, StreamId::new(2, 0));
        assert_eq!(s.trim(Trim::MaxLen(200), true, 0), 0);
        assert_eq!(s.trim(Trim::MaxLen(150), true, 0), 99);
        assert_eq!(s.len(), 150);
        assert_eq!(s.trim(Trim::MinId(StreamId::new(120, 0)), false, 0), 19);
        assert_eq!(s.first_id, StreamId::new(120, 0));
        assert_eq!(ids(&s, false), (120..=250).collect::<Vec<_>>());
    }
}
