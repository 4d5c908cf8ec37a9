//! The set type, with Redis 7.0's two encodings. While every member is an
//! integer (Redis's `string2ll` rules: canonical decimal, no sign on zero,
//! no leading zeros or spaces) and there are at most
//! `set-max-intset-entries` of them, a set is an `IntSet`: the integers
//! sorted in one exactly sized buffer, each 2, 4 or 8 bytes wide, the width
//! of the widest value so far (Redis's intset). Otherwise it is a `Dict` of
//! member strings with no values (`hashtable`). A set never goes back to
//! the packed form, and its width never narrows, as in Redis.
//!
//! A `Set` is two words with no box of its own: a key's value holds it in
//! place (see `value`), so a small set costs its key's node and one buffer.
//!
//! Invariant: an `IntSet`'s buffer is empty (never added to) or holds the
//! width (2, 4 or 8) in its first byte, then `len * width` bytes of distinct
//! integers in ascending order, each little-endian in `width` bytes, and
//! every one fits that width.

use super::dict::Dict;
use crate::util::num::{self, MAX_I64_LEN};
use crate::util::rand::Rng;

/// Redis's cap on `set-max-intset-entries` (intset internals): past 2^30
/// members a set converts whatever the directive says.
const INTSET_MAX_ENTRIES_CAP: usize = 1 << 30;

/// Packed sorted integers (Redis's intset), in one allocation: a width
/// byte, then the integers. Two words, so that a `Set` fits in a value's.
#[derive(Clone, Default)]
pub struct IntSet {
    /// Empty until the first add; then the width in byte 0 and the
    /// integers, `width` bytes each, ascending.
    buf: Box<[u8]>,
}

/// The width a value needs (Redis's `_intsetValueEncoding`).
fn width_of(v: i64) -> u8 {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

/// The integer at `i` of integers `W` bytes wide, sign-extended.
#[inline(always)]
fn read<const W: usize>(d: &[u8], i: usize) -> i64 {
    let mut a = [0u8; 8];
    a[..W].copy_from_slice(&d[i * W..i * W + W]);
    let shift = 64 - 8 * W as u32;
    (i64::from_le_bytes(a) << shift) >> shift
}

/// Binary search of `v` among ascending integers `W` bytes wide.
fn search_at<const W: usize>(d: &[u8], v: i64) -> Result<usize, usize> {
    let (mut lo, mut hi) = (0usize, d.len() / W);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match read::<W>(d, mid).cmp(&v) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return Ok(mid),
        }
    }
    Err(lo)
}

impl IntSet {
    /// The width byte: 2, 4 or 8, 0 while never added to.
    #[inline]
    fn raw_width(&self) -> u8 {
        self.buf.first().copied().unwrap_or(0)
    }

    /// The integers' bytes, after the width byte.
    #[inline]
    fn data(&self) -> &[u8] {
        self.buf.get(1..).unwrap_or(&[])
    }

    /// Number of integers.
    pub fn len(&self) -> usize {
        match self.raw_width() {
            0 => 0,
            w => (self.buf.len() - 1) / w as usize,
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.buf.len() <= 1
    }

    /// Bytes per integer (Redis's `encoding`, in bytes; 2 when empty).
    pub fn width(&self) -> usize {
        self.raw_width().max(2) as usize
    }

    /// The integer at `i` (below `len`).
    #[inline]
    pub fn get(&self, i: usize) -> i64 {
        let d = self.data();
        match self.raw_width() {
            2 => read::<2>(d, i),
            4 => read::<4>(d, i),
            _ => read::<8>(d, i),
        }
    }

    /// Where `v` is, or where it would go (Redis's `intsetSearch`): the
    /// width is read once, then a binary search at that width.
    fn search(&self, v: i64) -> Result<usize, usize> {
        let d = self.data();
        match self.raw_width() {
            2 => search_at::<2>(d, v),
            4 => search_at::<4>(d, v),
            _ => search_at::<8>(d, v),
        }
    }

    /// Whether `v` is a member.
    pub fn contains(&self, v: i64) -> bool {
        if self.is_empty() || width_of(v) > self.raw_width() {
            return false;
        }
        self.search(v).is_ok()
    }

    /// Adds `v`; returns whether it was new. Widens every integer first when
    /// `v` needs more bytes (Redis's `intsetUpgradeAndAdd`).
    pub fn add(&mut self, v: i64) -> bool {
        let need = width_of(v);
        let len = self.len();
        if need > self.raw_width() {
            // A value wider than every member is below or above them all.
            let w = need as usize;
            let mut buf = Vec::with_capacity(1 + (len + 1) * w);
            buf.push(need);
            if v < 0 {
                buf.extend_from_slice(&v.to_le_bytes()[..w]);
            }
            for i in 0..len {
                buf.extend_from_slice(&self.get(i).to_le_bytes()[..w]);
            }
            if v >= 0 {
                buf.extend_from_slice(&v.to_le_bytes()[..w]);
            }
            self.buf = buf.into_boxed_slice();
            return true;
        }
        let Err(at) = self.search(v) else {
            return false;
        };
        // A fresh, exactly sized buffer (Redis reallocs its intset to the
        // exact size too).
        let w = self.raw_width() as usize;
        let split = 1 + at * w;
        let mut buf = Vec::with_capacity(self.buf.len() + w);
        buf.extend_from_slice(&self.buf[..split]);
        buf.extend_from_slice(&v.to_le_bytes()[..w]);
        buf.extend_from_slice(&self.buf[split..]);
        self.buf = buf.into_boxed_slice();
        true
    }

    /// Removes `v`; returns whether it was there. The width stays.
    pub fn remove(&mut self, v: i64) -> bool {
        if self.is_empty() || width_of(v) > self.raw_width() {
            return false;
        }
        let Ok(at) = self.search(v) else {
            return false;
        };
        let w = self.raw_width() as usize;
        let split = 1 + at * w;
        let mut buf = Vec::with_capacity(self.buf.len() - w);
        buf.extend_from_slice(&self.buf[..split]);
        buf.extend_from_slice(&self.buf[split + w..]);
        self.buf = buf.into_boxed_slice();
        true
    }

    /// The integers in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Heap bytes: the buffer, width byte included.
    pub fn heap_bytes(&self) -> usize {
        self.buf.len()
    }
}

/// A member as a set holds it: an integer of an intset, or a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member<'a> {
    /// An intset's integer (its text is the canonical decimal).
    Int(i64),
    /// A hashtable's string.
    Str(&'a [u8]),
}

impl<'a> Member<'a> {
    /// The member's text, formatting an integer into `buf`.
    pub fn bytes<'b>(&self, buf: &'b mut [u8; MAX_I64_LEN]) -> &'b [u8]
    where
        'a: 'b,
    {
        match *self {
            Member::Int(v) => num::fmt_i64(v, buf),
            Member::Str(s) => s,
        }
    }

    /// The member's text, owned.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut buf = [0u8; MAX_I64_LEN];
        self.bytes(&mut buf).to_vec()
    }
}

/// A set value.
#[derive(Clone)]
pub enum Set {
    /// Integers only, few enough (`intset`).
    Ints(IntSet),
    /// Anything (`hashtable`): members are keys with no values.
    Table(Box<Dict<()>>),
}

impl std::fmt::Debug for Set {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Set({} members, {})", self.len(), self.encoding_name())
    }
}

impl Default for Set {
    fn default() -> Self {
        Set::Ints(IntSet::default())
    }
}

/// `set-max-intset-entries` as it applies (Redis caps it at 2^30).
fn intset_limit(max_intset_entries: usize) -> usize {
    max_intset_entries.min(INTSET_MAX_ENTRIES_CAP)
}

impl Set {
    /// An empty intset (Redis's `createIntsetObject`: where SINTERSTORE,
    /// SUNIONSTORE and SDIFFSTORE build their results).
    pub fn new_ints() -> Set {
        Set::Ints(IntSet::default())
    }

    /// An empty set of the encoding its first member `first` calls for
    /// (Redis's `setTypeCreate`).
    pub fn new_for(first: &[u8]) -> Set {
        if num::parse_i64(first).is_some() {
            Set::new_ints()
        } else {
            Set::Table(Box::default())
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            Set::Ints(i) => i.len(),
            Set::Table(d) => d.len(),
        }
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING's name.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Set::Ints(_) => "intset",
            Set::Table(_) => "hashtable",
        }
    }

    /// Whether this is the packed integer encoding.
    pub fn is_intset(&self) -> bool {
        matches!(self, Set::Ints(_))
    }

    /// Whether `member` is in the set (Redis's `setTypeIsMember`).
    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            Set::Ints(i) => num::parse_i64(member).is_some_and(|v| i.contains(v)),
            Set::Table(d) => d.contains_key(member),
        }
    }

    /// Whether the member `m` of another set is in this one.
    pub fn contains_member(&self, m: Member<'_>) -> bool {
        match (self, m) {
            (Set::Ints(i), Member::Int(v)) => i.contains(v),
            (_, m) => {
                let mut buf = [0u8; MAX_I64_LEN];
                self.contains(m.bytes(&mut buf))
            }
        }
    }

    /// Adds `member`; returns whether it was new (Redis's `setTypeAdd`). An
    /// intset becomes a table when `member` is not an integer, or when it
    /// grows past `max_intset_entries`.
    pub fn add(&mut self, member: &[u8], max_intset_entries: usize) -> bool {
        match self {
            Set::Ints(i) => match num::parse_i64(member) {
                Some(v) => {
                    if !i.add(v) {
                        return false;
                    }
                    if i.len() > intset_limit(max_intset_entries) {
                        self.convert_to_table();
                    }
                    true
                }
                None => {
                    self.convert_to_table();
                    if let Set::Table(d) = self {
                        d.insert_new(member, (), 0);
                    }
                    true
                }
            },
            Set::Table(d) => {
                if d.contains_key(member) {
                    return false;
                }
                d.insert_new(member, (), 0);
                true
            }
        }
    }

    /// Adds a member of another set (no text round trip for int into intset).
    pub fn add_member(&mut self, m: Member<'_>, max_intset_entries: usize) -> bool {
        match (&mut *self, m) {
            (Set::Ints(i), Member::Int(v)) => {
                if !i.add(v) {
                    return false;
                }
                if i.len() > intset_limit(max_intset_entries) {
                    self.convert_to_table();
                }
                true
            }
            (_, m) => {
                let mut buf = [0u8; MAX_I64_LEN];
                self.add(m.bytes(&mut buf), max_intset_entries)
            }
        }
    }

    /// Removes `member`; returns whether it was there. A table that becomes
    /// sparse starts shrinking, as Redis's `setTypeRemove` resizes.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            Set::Ints(i) => num::parse_i64(member).is_some_and(|v| i.remove(v)),
            Set::Table(d) => {
                let removed = d.remove(member).is_some();
                if removed {
                    d.shrink_if_needed();
                }
                removed
            }
        }
    }

    /// Removes a member of this set or another.
    pub fn remove_member(&mut self, m: Member<'_>) -> bool {
        match (&mut *self, m) {
            (Set::Ints(i), Member::Int(v)) => i.remove(v),
            (_, m) => {
                let mut buf = [0u8; MAX_I64_LEN];
                self.remove(m.bytes(&mut buf))
            }
        }
    }

    /// Moves an intset into a table (Redis's `setTypeConvert`); no-op for a
    /// table.
    pub fn convert_to_table(&mut self) {
        if let Set::Ints(i) = self {
            let mut d: Dict<()> = Dict::new();
            let mut buf = [0u8; MAX_I64_LEN];
            for v in i.iter() {
                d.insert_new(num::fmt_i64(v, &mut buf), (), 0);
            }
            *self = Set::Table(Box::new(d));
        }
    }

    /// The members: ascending for an intset, table order otherwise.
    pub fn iter(&self) -> SetIter<'_> {
        match self {
            Set::Ints(i) => SetIter::Ints(i, 0),
            Set::Table(d) => SetIter::Table(d.iter()),
        }
    }

    /// A random member, each equally likely in an intset, as fairly as
    /// `Dict::fair_random` in a table (Redis's `setTypeRandomElement`).
    pub fn random(&self, rng: &mut Rng) -> Option<Member<'_>> {
        match self {
            Set::Ints(i) => {
                if i.is_empty() {
                    return None;
                }
                Some(Member::Int(i.get(rng.below(i.len() as u64) as usize)))
            }
            Set::Table(d) => d.fair_random(rng).map(|(k, _)| Member::Str(k)),
        }
    }

    /// One SSCAN step over a table; an intset is visited whole with cursor
    /// 0, as Redis does.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(Member<'_>)) -> u64 {
        match self {
            Set::Ints(i) => {
                for v in i.iter() {
                    f(Member::Int(v));
                }
                0
            }
            Set::Table(d) => d.scan(cursor, |k, _| f(Member::Str(k))),
        }
    }

    /// Heap bytes (MEMORY USAGE, approximate).
    pub fn heap_bytes(&self) -> usize {
        match self {
            Set::Ints(i) => i.heap_bytes(),
            Set::Table(d) => {
                std::mem::size_of::<Dict<()>>()
                    + d.bucket_bytes()
                    + d.iter()
                        .map(|(k, _)| Dict::<()>::node_bytes(k.len()))
                        .sum::<usize>()
            }
        }
    }
}

/// Iterator over a set's members.
pub enum SetIter<'a> {
    /// An intset and the next index.
    Ints(&'a IntSet, usize),
    /// A table's entries.
    Table(super::dict::Iter<'a, ()>),
}

impl<'a> Iterator for SetIter<'a> {
    type Item = Member<'a>;

    fn next(&mut self) -> Option<Member<'a>> {
        match self {
            SetIter::Ints(i, at) => {
                if *at >= i.len() {
                    return None;
                }
                *at += 1;
                Some(Member::Int(i.get(*at - 1)))
            }
            SetIter::Table(it) => it.next().map(|(k, _)| Member::Str(k)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(s: &Set) -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = s.iter().map(|m| m.to_vec()).collect();
        v.sort();
        v
    }

    #[test]
    fn intset_keeps_order_and_widens_like_redis() {
        let mut i = IntSet::default();
        for v in [5, -3, 100, 5, 0] {
            i.add(v);
        }
        assert_eq!(i.iter().collect::<Vec<_>>(), vec![-3, 0, 5, 100]);
        assert_eq!(i.width(), 2);
        assert!(i.add(70000));
        assert_eq!(i.width(), 4);
        assert!(i.add(-(1 << 40)));
        assert_eq!(i.width(), 8);
        assert_eq!(
            i.iter().collect::<Vec<_>>(),
            vec![-(1 << 40), -3, 0, 5, 100, 70000]
        );
        assert!(i.remove(-(1 << 40)));
        assert!(!i.remove(-(1 << 40)));
        // Never narrows.
        assert_eq!(i.width(), 8);
        assert_eq!(i.heap_bytes(), 1 + 5 * 8);
        assert!(i.contains(70000) && !i.contains(1 << 50) && !i.contains(6));
        let mut j = IntSet::default();
        assert!(j.add(i64::MIN) && j.add(i64::MAX) && j.add(0));
        assert_eq!(j.iter().collect::<Vec<_>>(), vec![i64::MIN, 0, i64::MAX]);
        // Emptied, it keeps its width, as Redis's does.
        for v in [i64::MIN, 0, i64::MAX] {
            assert!(j.remove(v));
        }
        assert!(j.is_empty() && j.iter().next().is_none() && !j.contains(0));
        assert_eq!(j.width(), 8);
        assert!(j.add(3) && j.contains(3) && j.width() == 8);
        let empty = IntSet::default();
        assert!(empty.is_empty() && empty.width() == 2 && empty.heap_bytes() == 0);
    }

    #[test]
    fn a_set_is_two_words_with_no_padding() {
        // A key's value holds a Set in its first two words (see `value`).
        assert_eq!(std::mem::size_of::<Set>(), 16);
        assert_eq!(std::mem::size_of::<IntSet>(), 16);
        // Ten small integers: one 21-byte buffer.
        let mut s = Set::new_ints();
        for v in 0..10 {
            s.add(v.to_string().as_bytes(), 512);
        }
        assert_eq!(s.heap_bytes(), 21);
    }

    #[test]
    fn encodings_and_conversions_follow_redis() {
        assert!(Set::new_for(b"12").is_intset());
        assert!(!Set::new_for(b"012").is_intset());
        assert!(!Set::new_for(b"-0").is_intset());
        let mut s = Set::new_for(b"1");
        assert!(s.add(b"1", 3) && s.add(b"2", 3) && s.add(b"3", 3));
        assert!(!s.add(b"3", 3));
        assert_eq!(s.encoding_name(), "intset");
        assert!(s.contains(b"2") && !s.contains(b"02") && !s.contains(b"x"));
        assert!(s.add(b"4", 3));
        assert_eq!(s.encoding_name(), "hashtable");
        // Never converts back.
        for m in [&b"1"[..], b"2", b"3"] {
            assert!(s.remove(m));
        }
        assert_eq!(s.encoding_name(), "hashtable");
        assert_eq!(members(&s), vec![b"4".to_vec()]);
        let mut t = Set::new_for(b"7");
        t.add(b"7", 512);
        assert!(t.add(b" 8", 512));
        assert_eq!(t.encoding_name(), "hashtable");
        assert_eq!(members(&t), vec![b" 8".to_vec(), b"7".to_vec()]);
        assert!(t.contains(b"7"));
    }

    #[test]
    fn random_covers_every_member() {
        let mut rng = Rng::with_seed(7);
        for mut s in [Set::new_ints(), Set::Table(Box::default())] {
            for i in 0..10 {
                s.add(format!("{i}").as_bytes(), 512);
            }
            let mut seen = std::collections::HashSet::new();
            for _ in 0..1000 {
                seen.insert(s.random(&mut rng).map(|m| m.to_vec()));
            }
            assert_eq!(seen.len(), 10, "{s:?}");
        }
        assert_eq!(Set::new_ints().random(&mut rng), None);
    }

    #[test]
    fn scan_of_a_table_visits_every_member() {
        let mut s = Set::new_for(b"a");
        for i in 0..1000 {
            s.add(format!("m{i}").as_bytes(), 512);
        }
        let mut seen = std::collections::HashSet::new();
        let mut c = 0;
        loop {
            c = s.scan(c, |m| {
                seen.insert(m.to_vec());
            });
            if c == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
    }
}
