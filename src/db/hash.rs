//! The hash type. Small hashes are a packed list of field/value pairs in one
//! exactly sized buffer (Redis's listpack: insertion order, linear search, a
//! byte or two of overhead per string); past `hash-max-listpack-entries`
//! entries or `hash-max-listpack-value` bytes in a field or value they become
//! a `Dict`, and never go back (as in Redis).
//!
//! Memory: a packed hash is the 24-byte `Hash` (boxed by `Value`, one 32-byte
//! malloc chunk) plus one buffer holding exactly its bytes: each string is a
//! LEB128 length (one byte below 128) followed by its bytes. Writes resize the
//! buffer to fit, as `lpInsert` reallocs a listpack; reads never allocate.
//!
//! Invariant: a `Pack`'s buffer is a whole number of field/value pairs, and
//! `pairs` counts them.

use std::collections::HashSet;

use super::dict::Dict;
use super::value::{StrEncoding, Value};
use crate::util::rand::Rng;

/// The conversion thresholds (from the config).
#[derive(Debug, Clone, Copy)]
pub struct HashLimits {
    /// `hash-max-listpack-entries`.
    pub max_entries: usize,
    /// `hash-max-listpack-value`.
    pub max_value: usize,
}

impl Default for HashLimits {
    fn default() -> Self {
        HashLimits {
            max_entries: 128,
            max_value: 64,
        }
    }
}

/// Largest packed buffer, as Redis's `LISTPACK_MAX_SAFETY_SIZE`: a write
/// that would grow a pack past it converts the hash to a table first.
const PACK_MAX_SAFE_BYTES: usize = 1 << 30;

/// A packed list of length-prefixed strings, alternating field and value.
#[derive(Debug, Clone, Default)]
pub struct Pack {
    /// The entries, and nothing else: its length is its capacity.
    buf: Box<[u8]>,
    pairs: u32,
}

/// Bytes of the LEB128 encoding of `n`.
#[inline]
fn varint_len(mut n: usize) -> usize {
    let mut l = 1;
    while n >= 0x80 {
        n >>= 7;
        l += 1;
    }
    l
}

/// Bytes one string takes in a pack.
#[inline]
fn entry_len(s: &[u8]) -> usize {
    varint_len(s.len()) + s.len()
}

/// Writes `s` as an entry at the start of `dst`; returns the bytes written.
fn write_entry(dst: &mut [u8], s: &[u8]) -> usize {
    let mut n = s.len();
    let mut i = 0;
    while n >= 0x80 {
        dst[i] = (n as u8) | 0x80;
        n >>= 7;
        i += 1;
    }
    dst[i] = n as u8;
    i += 1;
    dst[i..i + s.len()].copy_from_slice(s);
    i + s.len()
}

/// Reads the entry at `pos`: returns (start of its bytes, length, next position).
#[inline]
fn read_entry(buf: &[u8], mut pos: usize) -> (usize, usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    loop {
        let b = buf[pos];
        pos += 1;
        n |= ((b & 0x7f) as usize) << shift;
        if b < 0x80 {
            break;
        }
        shift += 7;
    }
    (pos, n, pos + n)
}

/// Where a pair sits in a pack.
struct Slot {
    /// First byte of the field's entry.
    start: usize,
    /// First byte of the value's entry (its length).
    value_entry: usize,
    /// The value's bytes.
    value: std::ops::Range<usize>,
}

impl Pack {
    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.pairs as usize
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.pairs == 0
    }

    /// Bytes of the buffer.
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    fn locate(&self, field: &[u8]) -> Option<Slot> {
        let buf = &self.buf[..];
        let mut pos = 0;
        while pos < buf.len() {
            let (fs, fl, next) = read_entry(buf, pos);
            let (vs, vl, end) = read_entry(buf, next);
            if &buf[fs..fs + fl] == field {
                return Some(Slot {
                    start: pos,
                    value_entry: next,
                    value: vs..vs + vl,
                });
            }
            pos = end;
        }
        None
    }

    /// Replaces `start..end` with `len` bytes (left for the caller to fill,
    /// in the returned slice), resizing the buffer to fit exactly.
    fn splice(&mut self, start: usize, end: usize, len: usize) -> &mut [u8] {
        let old = self.buf.len();
        if len != end - start {
            let mut v = std::mem::take(&mut self.buf).into_vec();
            if len > end - start {
                v.reserve_exact(len - (end - start));
                v.resize(old - (end - start) + len, 0);
                v.copy_within(end..old, start + len);
            } else {
                v.copy_within(end..old, start + len);
                v.truncate(old - (end - start) + len);
            }
            self.buf = v.into_boxed_slice();
        }
        &mut self.buf[start..start + len]
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.locate(field).map(|s| &self.buf[s.value])
    }

    /// Sets `field`; returns true when it was new. An existing pair keeps its
    /// place (Redis replaces in place); a new one is appended.
    pub fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        match self.locate(field) {
            Some(s) => {
                let gap = self.splice(s.value_entry, s.value.end, entry_len(value));
                write_entry(gap, value);
                false
            }
            None => {
                let end = self.buf.len();
                let gap = self.splice(end, end, entry_len(field) + entry_len(value));
                let n = write_entry(gap, field);
                write_entry(&mut gap[n..], value);
                self.pairs += 1;
                true
            }
        }
    }

    /// Removes `field`; returns whether it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self.locate(field) {
            Some(s) => {
                self.splice(s.start, s.value.end, 0);
                self.pairs -= 1;
                true
            }
            None => false,
        }
    }

    /// Iterates over (field, value) in insertion order.
    pub fn iter(&self) -> PackIter<'_> {
        PackIter {
            buf: &self.buf,
            pos: 0,
        }
    }

    /// Pair number `i` (0-based).
    pub fn nth(&self, i: usize) -> Option<(&[u8], &[u8])> {
        self.iter().nth(i)
    }

    /// Heap bytes: the buffer, which has no spare capacity.
    pub fn heap_bytes(&self) -> usize {
        self.buf.len()
    }
}

/// Iterator over a `Pack`'s pairs.
pub struct PackIter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for PackIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let (fs, fl, next) = read_entry(self.buf, self.pos);
        let (vs, vl, end) = read_entry(self.buf, next);
        self.pos = end;
        Some((&self.buf[fs..fs + fl], &self.buf[vs..vs + vl]))
    }
}

/// A hash value.
#[derive(Clone)]
pub enum Hash {
    /// Small: packed pairs (`listpack`).
    Pack(Pack),
    /// Large: a dict of field to string value (`hashtable`).
    Table(Box<Dict<Value>>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Pack(Pack::default())
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hash({} fields, {})", self.len(), self.encoding_name())
    }
}

fn table_value(v: &Value) -> &[u8] {
    v.as_str().unwrap_or_default()
}

impl Hash {
    /// An empty hash.
    pub fn new() -> Hash {
        Hash::default()
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        match self {
            Hash::Pack(p) => p.len(),
            Hash::Table(d) => d.len(),
        }
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING's name.
    pub(crate) fn encoding_name(&self) -> &'static str {
        match self {
            Hash::Pack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    /// Whether this is the packed encoding.
    pub fn is_packed(&self) -> bool {
        matches!(self, Hash::Pack(_))
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            Hash::Pack(p) => p.get(field),
            Hash::Table(d) => d.get(field).map(table_value),
        }
    }

    /// Whether `field` exists.
    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Converts to a table before writing strings of these lengths when one
    /// is too long for the packed form, or when together they would grow the
    /// pack past its safe size (Redis's `hashTypeTryConversion`).
    pub(crate) fn prepare_for(
        &mut self,
        lens: impl IntoIterator<Item = usize>,
        limits: &HashLimits,
    ) {
        let Hash::Pack(p) = self else {
            return;
        };
        let mut sum = p.bytes();
        for l in lens {
            if l > limits.max_value {
                self.convert_to_table();
                return;
            }
            sum = sum.saturating_add(l);
        }
        if sum > PACK_MAX_SAFE_BYTES {
            self.convert_to_table();
        }
    }

    /// Sets `field` to `value`; returns true when the field is new. Converts
    /// to a table when either string is too long for the packed form, or the
    /// pack gets too many entries (Redis's `hashTypeSet`).
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: &HashLimits) -> bool {
        if field.len() > limits.max_value || value.len() > limits.max_value {
            self.convert_to_table();
        }
        match self {
            Hash::Pack(p) => {
                let new = p.set(field, value);
                if p.len() > limits.max_entries || p.len() == u32::MAX as usize {
                    self.convert_to_table();
                }
                new
            }
            Hash::Table(d) => {
                let v = Value::string_encoded(value, StrEncoding::Auto);
                match d.get_mut(field) {
                    Some(slot) => {
                        *slot = v;
                        false
                    }
                    None => {
                        d.insert_new(field, v, 0);
                        true
                    }
                }
            }
        }
    }

    /// Removes `field`; returns whether it existed. A table that becomes
    /// sparse starts shrinking, as Redis's `hashTypeDelete` resizes (only
    /// the keyspace's own tables are shrunk by the cron).
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Pack(p) => p.remove(field),
            Hash::Table(d) => {
                let removed = d.remove(field).is_some();
                if removed {
                    d.shrink_if_needed();
                }
                removed
            }
        }
    }

    /// Moves a packed hash into a table (no-op for a table).
    fn convert_to_table(&mut self) {
        if let Hash::Pack(p) = self {
            let mut d = Dict::new();
            for (f, v) in p.iter() {
                d.insert_new(f, Value::string_encoded(v, StrEncoding::Auto), 0);
            }
            *self = Hash::Table(Box::new(d));
        }
    }

    /// Iterates over (field, value): insertion order when packed.
    pub fn iter(&self) -> HashIter<'_> {
        match self {
            Hash::Pack(p) => HashIter::Pack(p.iter()),
            Hash::Table(d) => HashIter::Table(d.iter()),
        }
    }

    /// One HSCAN step. A packed hash is returned whole with cursor 0, as
    /// Redis does for listpacks.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        match self {
            Hash::Pack(p) => {
                for (k, v) in p.iter() {
                    f(k, v);
                }
                0
            }
            Hash::Table(d) => d.scan(cursor, |k, v| f(k, table_value(v))),
        }
    }

    /// A random (field, value) (Redis's `hashTypeRandomElement`).
    pub fn random(&self, rng: &mut Rng) -> Option<(&[u8], &[u8])> {
        match self {
            Hash::Pack(p) => {
                if p.is_empty() {
                    return None;
                }
                p.nth(rng.below(p.len() as u64) as usize)
            }
            Hash::Table(d) => d.fair_random(rng).map(|(k, v)| (k, table_value(v))),
        }
    }

    /// Calls `f` with `count` random pairs, repeats allowed, in random order
    /// (HRANDFIELD with a negative count). Stops early when `f` returns false.
    pub(crate) fn random_pairs(
        &self,
        count: u64,
        rng: &mut Rng,
        mut f: impl FnMut(&[u8], &[u8]) -> bool,
    ) {
        if self.is_empty() {
            return;
        }
        match self {
            Hash::Pack(p) => {
                // Index the pairs once rather than walking the pack per pick
                // (Redis's lpRandomPairs sorts its picks for the same reason).
                let all: Vec<(&[u8], &[u8])> = p.iter().collect();
                for _ in 0..count {
                    let (k, v) = all[rng.below(all.len() as u64) as usize];
                    if !f(k, v) {
                        return;
                    }
                }
            }
            Hash::Table(d) => {
                for _ in 0..count {
                    let Some((k, v)) = d.fair_random(rng) else {
                        return;
                    };
                    if !f(k, table_value(v)) {
                        return;
                    }
                }
            }
        }
    }

    /// Calls `f` with `count` distinct random pairs, `count` being below the
    /// size (HRANDFIELD with a positive count), as Redis 7.0 picks them:
    /// when `count` is more than a third of the size, all pairs less random
    /// ones; else, packed, one pass of selection sampling (pairs come in
    /// pack order, `lpRandomPairsUnique`); else random picks with repeats
    /// skipped, in the order drawn.
    pub(crate) fn random_pairs_unique(
        &self,
        count: usize,
        rng: &mut Rng,
        mut f: impl FnMut(&[u8], &[u8]),
    ) {
        let size = self.len();
        let count = count.min(size);
        if count.saturating_mul(3) > size {
            let mut all: Vec<(&[u8], &[u8])> = self.iter().collect();
            while all.len() > count {
                all.swap_remove(rng.below(all.len() as u64) as usize);
            }
            for (k, v) in all {
                f(k, v);
            }
            return;
        }
        match self {
            Hash::Pack(p) => {
                let mut remaining = count;
                for (index, (k, v)) in p.iter().enumerate() {
                    if remaining == 0 {
                        break;
                    }
                    // Picks with probability remaining / unvisited, so every
                    // pair is equally likely and exactly `count` are taken.
                    if rng.below((size - index) as u64) < remaining as u64 {
                        f(k, v);
                        remaining -= 1;
                    }
                }
            }
            Hash::Table(d) => {
                let mut seen: HashSet<&[u8]> = HashSet::with_capacity(count);
                while seen.len() < count {
                    let Some((k, v)) = d.fair_random(rng) else {
                        return;
                    };
                    if seen.insert(k) {
                        f(k, table_value(v));
                    }
                }
            }
        }
    }

    /// Heap bytes (MEMORY USAGE, approximate).
    pub fn heap_bytes(&self) -> usize {
        match self {
            Hash::Pack(p) => p.heap_bytes(),
            Hash::Table(d) => {
                std::mem::size_of::<Dict<Value>>()
                    + d.bucket_bytes()
                    + d.iter()
                        .map(|(k, v)| Dict::<Value>::node_bytes(k.len()) + v.heap_bytes())
                        .sum::<usize>()
            }
        }
    }
}

/// Iterator over a hash's pairs.
pub enum HashIter<'a> {
    /// Over a packed hash.
    Pack(PackIter<'a>),
    /// Over a table.
    Table(super::dict::Iter<'a, Value>),
}

impl<'a> Iterator for HashIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            HashIter::Pack(i) => i.next(),
            HashIter::Table(i) => i.next().map(|(k, v)| (k, table_value(v))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(h: &Hash) -> Vec<(Vec<u8>, Vec<u8>)> {
        h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect()
    }

    #[test]
    fn packed_hash_keeps_insertion_order_and_replaces_in_place() {
        let lim = HashLimits::default();
        let mut h = Hash::new();
        assert!(h.set(b"a", b"1", &lim));
        assert!(h.set(b"b", b"2", &lim));
        assert!(h.set(b"c", b"3", &lim));
        assert!(!h.set(b"a", b"one hundred and some more bytes", &lim));
        let got = pairs(&h);
        assert_eq!(
            got[0],
            (b"a".to_vec(), b"one hundred and some more bytes".to_vec())
        );
        assert_eq!(got[2], (b"c".to_vec(), b"3".to_vec()));
        assert!(!h.set(b"a", b"x", &lim));
        assert_eq!(h.get(b"a"), Some(&b"x"[..]));
        assert!(h.remove(b"b"));
        assert!(!h.remove(b"b"));
        assert_eq!(h.len(), 2);
        assert_eq!(pairs(&h)[1], (b"c".to_vec(), b"3".to_vec()));
        assert_eq!(h.encoding_name(), "listpack");
    }

    #[test]
    fn a_pack_holds_exactly_its_entries() {
        let lim = HashLimits::default();
        let mut h = Hash::new();
        assert_eq!(h.heap_bytes(), 0);
        h.set(b"name", b"alice", &lim);
        assert_eq!(h.heap_bytes(), 1 + 4 + 1 + 5);
        h.set(b"name", b"al", &lim);
        assert_eq!(h.heap_bytes(), 1 + 4 + 1 + 2);
        h.set(b"age", b"42", &lim);
        assert_eq!(h.heap_bytes(), 8 + 1 + 3 + 1 + 2);
        h.remove(b"name");
        assert_eq!(h.heap_bytes(), 1 + 3 + 1 + 2);
        assert!(std::mem::size_of::<Hash>() <= 24);
    }

    #[test]
    fn converts_on_too_many_entries_or_long_values() {
        let lim = HashLimits {
            max_entries: 4,
            max_value: 8,
        };
        let mut h = Hash::new();
        for i in 0..4 {
            h.set(format!("f{i}").as_bytes(), b"v", &lim);
        }
        assert!(h.is_packed());
        h.set(b"f4", b"v", &lim);
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!(h.len(), 5);
        let mut h2 = Hash::new();
        h2.set(b"f", b"123456789", &lim);
        assert_eq!(h2.encoding_name(), "hashtable");
        assert_eq!(h2.get(b"f"), Some(&b"123456789"[..]));
        let mut h3 = Hash::new();
        h3.set(b"f", b"v", &lim);
        h3.prepare_for([1, 9], &lim);
        assert_eq!(h3.encoding_name(), "hashtable");
        assert_eq!(h3.get(b"f"), Some(&b"v"[..]));
    }

    #[test]
    fn zero_limits_convert_on_the_first_field() {
        let lim = HashLimits {
            max_entries: 0,
            max_value: 0,
        };
        let mut h = Hash::new();
        h.set(b"", b"", &lim);
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!(h.get(b""), Some(&b""[..]));
    }

    #[test]
    fn long_entries_use_multi_byte_lengths() {
        let lim = HashLimits {
            max_entries: 128,
            max_value: 100_000,
        };
        let mut h = Hash::new();
        let big = vec![b'z'; 300];
        let bigger = vec![b'y'; 20_000];
        h.set(&big, &big, &lim);
        h.set(b"x", b"y", &lim);
        assert_eq!(h.get(&big), Some(&big[..]));
        assert_eq!(h.get(b"x"), Some(&b"y"[..]));
        h.set(&big, &bigger, &lim);
        assert_eq!(h.get(&big), Some(&bigger[..]));
        h.set(&big, b"", &lim);
        assert_eq!(h.get(&big), Some(&b""[..]));
        assert_eq!(h.get(b"x"), Some(&b"y"[..]));
        assert_eq!(h.heap_bytes(), 2 + 300 + 1 + 1 + 1 + 1 + 1);
    }

    #[test]
    fn unique_random_pairs_are_distinct_and_cover_the_hash() {
        let mut rng = Rng::with_seed(7);
        for max_entries in [128, 4] {
            let lim = HashLimits {
                max_entries,
                max_value: 64,
            };
            let mut h = Hash::new();
            for i in 0..40 {
                h.set(format!("f{i}").as_bytes(), format!("v{i}").as_bytes(), &lim);
            }
            let mut seen = HashSet::new();
            for count in [1, 5, 13, 14, 39] {
                for _ in 0..50 {
                    let mut got = Vec::new();
                    h.random_pairs_unique(count, &mut rng, |k, v| {
                        assert_eq!(h.get(k), Some(v));
                        got.push(k.to_vec());
                    });
                    assert_eq!(got.len(), count);
                    let distinct: HashSet<_> = got.iter().cloned().collect();
                    assert_eq!(distinct.len(), count);
                    seen.extend(got);
                }
            }
            assert_eq!(seen.len(), 40);
        }
    }

    #[test]
    fn a_table_shrinks_as_fields_are_deleted() {
        let lim = HashLimits::default();
        let mut h = Hash::new();
        for i in 0..5000 {
            h.set(format!("f{i}").as_bytes(), b"v", &lim);
        }
        let full = h.heap_bytes();
        for i in 10..5000 {
            assert!(h.remove(format!("f{i}").as_bytes()));
        }
        assert_eq!(h.len(), 10);
        // The last shrink may still be rehashing, a bucket per write.
        assert!(
            h.heap_bytes() * 4 < full,
            "{} of {full} bytes",
            h.heap_bytes()
        );
        // Later writes finish it; the next delete shrinks again if needed.
        for _ in 0..1000 {
            h.set(b"f0", b"v", &lim);
        }
        assert!(h.remove(b"f9"));
        for _ in 0..1000 {
            h.set(b"f0", b"v", &lim);
        }
        assert!(
            h.heap_bytes() * 100 < full,
            "{} of {full} bytes",
            h.heap_bytes()
        );
        assert_eq!(h.get(b"f8"), Some(&b"v"[..]));
    }

    #[test]
    fn random_pairs_repeat_and_stop_when_asked() {
        let lim = HashLimits::default();
        let mut h = Hash::new();
        h.set(b"only", b"one", &lim);
        let mut n = 0;
        h.random_pairs(10, &mut Rng::with_seed(1), |k, v| {
            assert_eq!((k, v), (&b"only"[..], &b"one"[..]));
            n += 1;
            n < 7
        });
        assert_eq!(n, 7);
    }
}
