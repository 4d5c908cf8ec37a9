//! The hash type. Small hashes are a packed list of field/value pairs in one
//! buffer (Redis's listpack: insertion order, linear search, a few bytes of
//! overhead per entry); past `hash-max-listpack-entries` entries or
//! `hash-max-listpack-value` bytes in a field or value they become a `Dict`,
//! and never go back (as in Redis).

use super::dict::Dict;
use super::value::Value;
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

/// A packed list of length-prefixed strings, alternating field and value.
/// Lengths are LEB128 varints (one byte below 128).
#[derive(Debug, Clone, Default)]
pub struct Pack {
    buf: Vec<u8>,
    pairs: u32,
}

fn put_varint(buf: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        buf.push((n as u8) | 0x80);
        n >>= 7;
    }
    buf.push(n as u8);
}

fn varint_len(mut n: usize) -> usize {
    let mut l = 1;
    while n >= 0x80 {
        n >>= 7;
        l += 1;
    }
    l
}

/// Reads the string at `pos`: returns (start, len, next position).
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

impl Pack {
    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.pairs as usize
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.pairs == 0
    }

    /// Positions of the pair with this field: (field entry start, value start,
    /// value len, end of the pair).
    fn locate(&self, field: &[u8]) -> Option<(usize, usize, usize, usize)> {
        let buf = &self.buf;
        let mut pos = 0;
        while pos < buf.len() {
            let (fs, fl, next) = read_entry(buf, pos);
            let (vs, vl, end) = read_entry(buf, next);
            if &buf[fs..fs + fl] == field {
                return Some((pos, vs, vl, end));
            }
            pos = end;
        }
        None
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.locate(field)
            .map(|(_, vs, vl, _)| &self.buf[vs..vs + vl])
    }

    /// Sets `field`; returns true when it was new. An existing pair keeps its
    /// place (Redis replaces in place); a new one is appended.
    pub fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        match self.locate(field) {
            Some((_, vs, vl, end)) => {
                let header_start = vs - varint_len(vl);
                let mut replacement = Vec::with_capacity(varint_len(value.len()) + value.len());
                put_varint(&mut replacement, value.len());
                replacement.extend_from_slice(value);
                self.buf.splice(header_start..end, replacement);
                false
            }
            None => {
                put_varint(&mut self.buf, field.len());
                self.buf.extend_from_slice(field);
                put_varint(&mut self.buf, value.len());
                self.buf.extend_from_slice(value);
                self.pairs += 1;
                true
            }
        }
    }

    /// Removes `field`; returns whether it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self.locate(field) {
            Some((start, _, _, end)) => {
                self.buf.drain(start..end);
                self.pairs -= 1;
                if self.buf.capacity() > 64 && self.buf.capacity() > self.buf.len() * 2 {
                    self.buf.shrink_to_fit();
                }
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

    /// Bytes of the buffer.
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity()
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
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Hash::Pack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            Hash::Pack(p) => p.get(field),
            Hash::Table(d) => d.get(field).and_then(|v| v.as_str()),
        }
    }

    /// Whether `field` exists.
    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Converts to a table when a field or value about to be written is too
    /// long for the packed form (Redis's `hashTypeTryConversion`).
    pub fn prepare_for(&mut self, lens: impl IntoIterator<Item = usize>, limits: &HashLimits) {
        if let Hash::Pack(_) = self {
            if lens.into_iter().any(|l| l > limits.max_value) {
                self.convert_to_table();
            }
        }
    }

    /// Sets `field` to `value`; returns true when the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: &HashLimits) -> bool {
        if field.len() > limits.max_value || value.len() > limits.max_value {
            self.convert_to_table_if_pack();
        }
        match self {
            Hash::Pack(p) => {
                let new = p.set(field, value);
                if p.len() > limits.max_entries {
                    self.convert_to_table();
                }
                new
            }
            Hash::Table(d) => match d.get_mut(field) {
                Some(v) => {
                    *v = Value::string_encoded(value, crate::db::value::StrEncoding::Auto);
                    false
                }
                None => {
                    d.insert_new(
                        field,
                        Value::string_encoded(value, crate::db::value::StrEncoding::Auto),
                        0,
                    );
                    true
                }
            },
        }
    }

    /// Removes `field`; returns whether it existed.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Pack(p) => p.remove(field),
            Hash::Table(d) => d.remove(field).is_some(),
        }
    }

    fn convert_to_table_if_pack(&mut self) {
        if let Hash::Pack(_) = self {
            self.convert_to_table();
        }
    }

    fn convert_to_table(&mut self) {
        if let Hash::Pack(p) = self {
            let mut d = Dict::new();
            for (f, v) in p.iter() {
                d.insert(
                    f,
                    Value::string_encoded(v, crate::db::value::StrEncoding::Auto),
                );
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
            Hash::Table(d) => d.scan(cursor, |k, v| f(k, v.as_str().unwrap_or_default())),
        }
    }

    /// A random (field, value).
    pub fn random(&self, rng: &mut Rng) -> Option<(&[u8], &[u8])> {
        match self {
            Hash::Pack(p) => {
                if p.is_empty() {
                    return None;
                }
                p.nth(rng.below(p.len() as u64) as usize)
            }
            Hash::Table(d) => d
                .random(rng)
                .map(|(k, v)| (k, v.as_str().unwrap_or_default())),
        }
    }

    /// Whether this is the packed encoding.
    pub fn is_packed(&self) -> bool {
        matches!(self, Hash::Pack(_))
    }

    /// Heap bytes (MEMORY USAGE, approximate).
    pub fn heap_bytes(&self) -> usize {
        match self {
            Hash::Pack(p) => p.heap_bytes(),
            Hash::Table(d) => {
                d.bucket_bytes()
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
            HashIter::Table(i) => i.next().map(|(k, v)| (k, v.as_str().unwrap_or_default())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_hash_keeps_insertion_order_and_replaces_in_place() {
        let lim = HashLimits::default();
        let mut h = Hash::new();
        assert!(h.set(b"a", b"1", &lim));
        assert!(h.set(b"b", b"2", &lim));
        assert!(h.set(b"c", b"3", &lim));
        assert!(!h.set(b"a", b"one hundred and some more bytes", &lim));
        let got: Vec<_> = h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
        assert_eq!(
            got[0],
            (b"a".to_vec(), b"one hundred and some more bytes".to_vec())
        );
        assert_eq!(got[2], (b"c".to_vec(), b"3".to_vec()));
        assert!(h.remove(b"b"));
        assert!(!h.remove(b"b"));
        assert_eq!(h.len(), 2);
        assert_eq!(h.encoding_name(), "listpack");
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
    }

    #[test]
    fn long_entries_use_multi_byte_lengths() {
        let lim = HashLimits {
            max_entries: 128,
            max_value: 100_000,
        };
        let mut h = Hash::new();
        let big = vec![b'z'; 300];
        h.set(&big, &big, &lim);
        h.set(b"x", b"y", &lim);
        assert_eq!(h.get(&big), Some(&big[..]));
        assert_eq!(h.get(b"x"), Some(&b"y"[..]));
    }
}
