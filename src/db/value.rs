//! The value of a key: Redis's `robj`, packed into 24 bytes.
//!
//! A string up to 22 bytes lives inline; a longer one is a heap buffer with
//! room to grow (APPEND/SETRANGE amortise like sds); a set (two words, see
//! `set`) lives in the first two words itself, so a small set is its key's
//! node and one buffer; other types are a boxed pointer. The last byte is
//! the tag: the representation (`Rep`) and, for
//! strings, the encoding Redis would report (`int`, `embstr`, `raw`), which
//! depends on how the value was made, not only on its bytes. Keeping the
//! value at 24 bytes keeps a key table node, key included, in one small
//! allocation (see `dict`).
//!
//! Invariant: the tag says which representation the words hold; only this
//! module reads or writes the words, and `Value::rep` is the one place that
//! decodes the tag.
//!
//! Everything that depends on the kind of a value matches one of three
//! enums with no catch-all arm: `Rep` (inside this module), `Kind` (the type
//! TYPE names) and `ValueRef` (a value seen through its kind). So a new kind
//! does not compile until each of those places handles it.
//!
//! **To add a kind** (stream):
//! 1. Here: a `Rep` variant (its tag bits are its discriminant, below 16) and
//!    its arm in `Value::rep`, the tag decoder (the one arm the compiler
//!    cannot ask for: the unit test `every_rep_round_trips` does); a `Kind`
//!    variant; a `ValueRef` variant; a constructor like `Value::hash` and
//!    kind-specific accessors like `as_hash`/`as_hash_mut`.
//! 2. Then the compiler points at every place to complete: in this module
//!    `view`, `kind`, `Kind::name` (TYPE and SCAN TYPE), `encoding_name`
//!    (OBJECT ENCODING), `heap_bytes`, `str_encoding`, `edit_str`, `as_str`,
//!    `as_hash*`, `Drop`, `Clone` (COPY) and `Debug`; outside it
//!    `memory::value_size` (MEMORY USAGE and the lazy-free byte estimate),
//!    `lazyfree::free_effort` and `lazyfree::big_buffer` (lazy-free
//!    effort), `aof::snapshot`'s `write_value` (the rewrite's emission) and
//!    `commands::keys` `object_refcount` (OBJECT REFCOUNT's shared
//!    integers).

use std::mem::ManuallyDrop;

use super::hash::Hash;
use super::list::List;
use super::set::Set;
use super::stream::Stream;
use super::zset::Zset;

#[cfg(not(target_endian = "little"))]
compile_error!("the packed Value layout assumes a little-endian target");
#[cfg(not(target_pointer_width = "64"))]
compile_error!("the packed Value layout assumes 64-bit pointers");

/// Longest string stored inline.
pub const INLINE_MAX: usize = 22;
/// Longest string Redis stores as `embstr`.
const EMBSTR_MAX: usize = 44;

/// How the words hold the value: the low nibble of the tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Rep {
    /// A string of up to `INLINE_MAX` bytes in the first 22 bytes; byte 22
    /// is its length.
    Inline = 1,
    /// A string in a heap buffer: pointer, length, capacity (56 bits).
    Heap = 2,
    /// A `Box<Hash>` pointer in the first word.
    Hash = 3,
    /// A `Box<List>` pointer in the first word.
    List = 4,
    /// A `Set` itself in the first two words (no box; `_SET_FITS`).
    Set = 5,
    /// A `Box<Zset>` pointer in the first word.
    Zset = 6,
    /// A `Box<Stream>` pointer in the first word.
    Stream = 7,
}

impl Rep {
    /// The tag bits that name this representation.
    const fn bits(self) -> u8 {
        self as u8
    }
}

const KIND_MASK: u8 = 0x0f;

// The encoding of a string, in the tag's bits 4 and 5 (0 for other kinds).
const ENC_AUTO: u8 = 0 << 4; // embstr or raw by length
const ENC_INT: u8 = 1 << 4;
const ENC_RAW: u8 = 2 << 4;
const ENC_MASK: u8 = 0x30;

const CAP_MASK: u64 = (1 << 56) - 1;

/// A `Set` is held in the first two words: it must fit there, leaving the
/// tag's word alone, and need no more than their alignment. It is two
/// pointer-sized fields (an intset's buffer, or a null niche beside a
/// table's box), so every one of its 16 bytes is written: the words never
/// hold uninitialised bytes.
const _SET_FITS: () = assert!(
    std::mem::size_of::<Set>() == 16 && std::mem::align_of::<Set>() <= 8,
    "a Set must be two words"
);

/// The type of a value, as TYPE reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string.
    Str,
    /// A hash.
    Hash,
    /// A list.
    List,
    /// A set.
    Set,
    /// A sorted set.
    Zset,
    /// A stream.
    Stream,
}

impl Kind {
    /// The name TYPE (and SCAN's TYPE filter) uses.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Str => "string",
            Kind::Hash => "hash",
            Kind::List => "list",
            Kind::Set => "set",
            Kind::Zset => "zset",
            Kind::Stream => "stream",
        }
    }
}

/// A value seen through its kind: what code outside this module matches on
/// when its behaviour depends on the kind (see the module's "to add a kind").
#[derive(Debug, Clone, Copy)]
pub enum ValueRef<'a> {
    /// A string's bytes.
    Str(&'a [u8]),
    /// A hash.
    Hash(&'a Hash),
    /// A list.
    List(&'a List),
    /// A set.
    Set(&'a Set),
    /// A sorted set.
    Zset(&'a Zset),
    /// A stream.
    Stream(&'a Stream),
}

/// How a string was made, for OBJECT ENCODING.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrEncoding {
    /// `embstr` up to 44 bytes, `raw` beyond: a value set as given.
    Auto,
    /// `int`: a canonical integer (SET 123, INCR results).
    Int,
    /// `raw`: modified in place (APPEND, SETRANGE).
    Raw,
}

/// A key's value (24 bytes).
#[repr(C, align(8))]
pub struct Value {
    w: [u64; 3],
}

impl Value {
    #[inline]
    fn tag(&self) -> u8 {
        (self.w[2] >> 56) as u8
    }

    /// The representation the words hold: the one decoder of the tag.
    #[inline]
    fn rep(&self) -> Rep {
        const INLINE: u8 = Rep::Inline.bits();
        const HEAP: u8 = Rep::Heap.bits();
        const HASH: u8 = Rep::Hash.bits();
        const LIST: u8 = Rep::List.bits();
        const SET: u8 = Rep::Set.bits();
        const ZSET: u8 = Rep::Zset.bits();
        const STREAM: u8 = Rep::Stream.bits();
        match self.tag() & KIND_MASK {
            INLINE => Rep::Inline,
            HEAP => Rep::Heap,
            HASH => Rep::Hash,
            LIST => Rep::List,
            SET => Rep::Set,
            ZSET => Rep::Zset,
            STREAM => Rep::Stream,
            // Every constructor writes a `Rep`'s bits; nothing else writes
            // the tag.
            bits => unreachable!("value tag names no representation: {bits}"),
        }
    }

    fn bytes(&self) -> &[u8; 24] {
        // SAFETY: [u64; 3] and [u8; 24] have the same size; u8 has no alignment.
        unsafe { &*(self.w.as_ptr() as *const [u8; 24]) }
    }

    fn bytes_mut(&mut self) -> &mut [u8; 24] {
        // SAFETY: as in bytes().
        unsafe { &mut *(self.w.as_mut_ptr() as *mut [u8; 24]) }
    }

    /// The bytes of an inline string (`Rep::Inline` only).
    #[inline]
    fn inline_str(&self) -> &[u8] {
        let b = self.bytes();
        &b[..b[22] as usize]
    }

    /// The bytes of a heap string (`Rep::Heap` only).
    #[inline]
    fn heap_str(&self) -> &[u8] {
        debug_assert_eq!(self.rep(), Rep::Heap);
        // SAFETY: Rep::Heap words hold a live Vec's pointer and length.
        unsafe { std::slice::from_raw_parts(self.w[0] as *const u8, self.w[1] as usize) }
    }

    /// The hash of a `Rep::Hash` value.
    #[inline]
    fn hash_ref(&self) -> &Hash {
        debug_assert_eq!(self.rep(), Rep::Hash);
        // SAFETY: Rep::Hash words hold a live Box<Hash> pointer, owned by self.
        unsafe { &*(self.w[0] as *const Hash) }
    }

    /// The hash of a `Rep::Hash` value, mutable.
    #[inline]
    fn hash_mut(&mut self) -> &mut Hash {
        debug_assert_eq!(self.rep(), Rep::Hash);
        // SAFETY: as in hash_ref, borrowed uniquely through &mut self.
        unsafe { &mut *(self.w[0] as *mut Hash) }
    }

    /// The list of a `Rep::List` value.
    #[inline]
    fn list_ref(&self) -> &List {
        debug_assert_eq!(self.rep(), Rep::List);
        // SAFETY: Rep::List words hold a live Box<List> pointer, owned by self.
        unsafe { &*(self.w[0] as *const List) }
    }

    /// The list of a `Rep::List` value, mutable.
    #[inline]
    fn list_mut(&mut self) -> &mut List {
        debug_assert_eq!(self.rep(), Rep::List);
        // SAFETY: as in list_ref, borrowed uniquely through &mut self.
        unsafe { &mut *(self.w[0] as *mut List) }
    }

    /// The set of a `Rep::Set` value.
    #[inline]
    fn set_ref(&self) -> &Set {
        debug_assert_eq!(self.rep(), Rep::Set);
        // SAFETY: the first two words of a Rep::Set value hold a live Set,
        // written by Value::set and owned by self; the words are 8-aligned
        // and _SET_FITS keeps the Set within them.
        unsafe { &*(self.w.as_ptr() as *const Set) }
    }

    /// The set of a `Rep::Set` value, mutable.
    #[inline]
    fn set_mut(&mut self) -> &mut Set {
        debug_assert_eq!(self.rep(), Rep::Set);
        // SAFETY: as in set_ref, borrowed uniquely through &mut self. A
        // write through it (say, an intset becoming a table) stays in the
        // first two words (_SET_FITS), so the tag stays.
        unsafe { &mut *(self.w.as_mut_ptr() as *mut Set) }
    }

    /// The stream of a `Rep::Stream` value.
    #[inline]
    fn stream_ref(&self) -> &Stream {
        debug_assert_eq!(self.rep(), Rep::Stream);
        // SAFETY: Rep::Stream words hold a live Box<Stream> pointer, owned by self.
        unsafe { &*(self.w[0] as *const Stream) }
    }

    /// The stream of a `Rep::Stream` value, mutable.
    #[inline]
    fn stream_mut(&mut self) -> &mut Stream {
        debug_assert_eq!(self.rep(), Rep::Stream);
        // SAFETY: as in stream_ref, borrowed uniquely through &mut self.
        unsafe { &mut *(self.w[0] as *mut Stream) }
    }

    /// The sorted set of a `Rep::Zset` value.
    #[inline]
    fn zset_ref(&self) -> &Zset {
        debug_assert_eq!(self.rep(), Rep::Zset);
        // SAFETY: Rep::Zset words hold a live Box<Zset> pointer, owned by self.
        unsafe { &*(self.w[0] as *const Zset) }
    }

    /// The sorted set of a `Rep::Zset` value, mutable.
    #[inline]
    fn zset_mut(&mut self) -> &mut Zset {
        debug_assert_eq!(self.rep(), Rep::Zset);
        // SAFETY: as in zset_ref, borrowed uniquely through &mut self.
        unsafe { &mut *(self.w[0] as *mut Zset) }
    }

    /// A string value holding a copy of `s`, encoded as Redis's
    /// `tryObjectEncoding` would (canonical integers report `int`).
    pub fn string(s: &[u8]) -> Value {
        let enc = if s.len() <= 20 && crate::util::num::parse_i64(s).is_some() {
            ENC_INT
        } else {
            ENC_AUTO
        };
        Value::string_with(s, enc)
    }

    /// A string value with an explicit encoding.
    pub fn string_encoded(s: &[u8], enc: StrEncoding) -> Value {
        Value::string_with(s, enc_bits(enc))
    }

    fn string_with(s: &[u8], enc: u8) -> Value {
        if s.len() <= INLINE_MAX {
            let mut v = Value { w: [0; 3] };
            let b = v.bytes_mut();
            b[..s.len()].copy_from_slice(s);
            b[22] = s.len() as u8;
            b[23] = Rep::Inline.bits() | enc;
            v
        } else {
            Value::from_vec_with(s.to_vec(), enc)
        }
    }

    /// A string value taking ownership of `buf` (no copy when it is long).
    pub fn from_vec(buf: Vec<u8>) -> Value {
        let enc = if buf.len() <= 20 && crate::util::num::parse_i64(&buf).is_some() {
            ENC_INT
        } else {
            ENC_AUTO
        };
        if buf.len() <= INLINE_MAX {
            return Value::string_with(&buf, enc);
        }
        Value::from_vec_with(buf, enc)
    }

    fn from_vec_with(buf: Vec<u8>, enc: u8) -> Value {
        if buf.len() <= INLINE_MAX {
            return Value::string_with(&buf, enc);
        }
        let mut buf = ManuallyDrop::new(buf);
        let cap = buf.capacity() as u64;
        assert!(cap <= CAP_MASK, "string capacity beyond 2^56 bytes");
        let ptr = buf.as_mut_ptr() as u64;
        let len = buf.len() as u64;
        Value {
            w: [ptr, len, cap | (((Rep::Heap.bits() | enc) as u64) << 56)],
        }
    }

    /// An integer as a string value (INCR results, encoding `int`).
    pub fn integer(n: i64) -> Value {
        let mut buf = [0u8; crate::util::num::MAX_I64_LEN];
        Value::string_with(crate::util::num::fmt_i64(n, &mut buf), ENC_INT)
    }

    /// A hash value.
    pub fn hash(h: Hash) -> Value {
        let p = Box::into_raw(Box::new(h)) as u64;
        Value {
            w: [p, 0, (Rep::Hash.bits() as u64) << 56],
        }
    }

    /// A list value.
    pub fn list(l: List) -> Value {
        let p = Box::into_raw(Box::new(l)) as u64;
        Value {
            w: [p, 0, (Rep::List.bits() as u64) << 56],
        }
    }

    /// A set value: the set moves into the first two words.
    pub fn set(s: Set) -> Value {
        let mut w = [0, 0, (Rep::Set.bits() as u64) << 56];
        // SAFETY: the words are 8-aligned and _SET_FITS keeps the Set in the
        // first two; the Value made here owns it from now on (dropped in
        // Drop, cloned in Clone).
        unsafe { std::ptr::write(w.as_mut_ptr() as *mut Set, s) };
        Value { w }
    }

    /// A stream value.
    pub fn stream(st: Stream) -> Value {
        let p = Box::into_raw(Box::new(st)) as u64;
        Value {
            w: [p, 0, (Rep::Stream.bits() as u64) << 56],
        }
    }

    /// A sorted-set value.
    pub fn zset(z: Zset) -> Value {
        let p = Box::into_raw(Box::new(z)) as u64;
        Value {
            w: [p, 0, (Rep::Zset.bits() as u64) << 56],
        }
    }

    /// The value seen through its kind.
    #[inline]
    pub fn view(&self) -> ValueRef<'_> {
        match self.rep() {
            Rep::Inline => ValueRef::Str(self.inline_str()),
            Rep::Heap => ValueRef::Str(self.heap_str()),
            Rep::Hash => ValueRef::Hash(self.hash_ref()),
            Rep::List => ValueRef::List(self.list_ref()),
            Rep::Set => ValueRef::Set(self.set_ref()),
            Rep::Zset => ValueRef::Zset(self.zset_ref()),
            Rep::Stream => ValueRef::Stream(self.stream_ref()),
        }
    }

    /// The value's type.
    pub fn kind(&self) -> Kind {
        match self.rep() {
            Rep::Inline | Rep::Heap => Kind::Str,
            Rep::Hash => Kind::Hash,
            Rep::List => Kind::List,
            Rep::Set => Kind::Set,
            Rep::Zset => Kind::Zset,
            Rep::Stream => Kind::Stream,
        }
    }

    /// The bytes of a string value; None for other types.
    #[inline]
    pub fn as_str(&self) -> Option<&[u8]> {
        match self.rep() {
            Rep::Inline => Some(self.inline_str()),
            Rep::Heap => Some(self.heap_str()),
            Rep::Hash | Rep::List | Rep::Set | Rep::Zset | Rep::Stream => None,
        }
    }

    /// The hash of a hash value.
    pub fn as_hash(&self) -> Option<&Hash> {
        match self.rep() {
            Rep::Hash => Some(self.hash_ref()),
            Rep::Inline | Rep::Heap | Rep::List | Rep::Set | Rep::Zset | Rep::Stream => None,
        }
    }

    /// The hash of a hash value, mutable.
    pub fn as_hash_mut(&mut self) -> Option<&mut Hash> {
        match self.rep() {
            Rep::Hash => Some(self.hash_mut()),
            Rep::Inline | Rep::Heap | Rep::List | Rep::Set | Rep::Zset | Rep::Stream => None,
        }
    }

    /// The list of a list value.
    pub fn as_list(&self) -> Option<&List> {
        match self.rep() {
            Rep::List => Some(self.list_ref()),
            Rep::Inline | Rep::Heap | Rep::Hash | Rep::Set | Rep::Zset | Rep::Stream => None,
        }
    }

    /// The list of a list value, mutable.
    pub fn as_list_mut(&mut self) -> Option<&mut List> {
        match self.rep() {
            Rep::List => Some(self.list_mut()),
            Rep::Inline | Rep::Heap | Rep::Hash | Rep::Set | Rep::Zset | Rep::Stream => None,
        }
    }

    /// The set of a set value.
    pub fn as_set(&self) -> Option<&Set> {
        match self.rep() {
            Rep::Set => Some(self.set_ref()),
            Rep::Inline | Rep::Heap | Rep::Hash | Rep::List | Rep::Zset | Rep::Stream => None,
        }
    }

    /// The set of a set value, mutable.
    pub fn as_set_mut(&mut self) -> Option<&mut Set> {
        match self.rep() {
            Rep::Set => Some(self.set_mut()),
            Rep::Inline | Rep::Heap | Rep::Hash | Rep::List | Rep::Zset | Rep::Stream => None,
        }
    }

    /// The stream of a stream value.
    pub fn as_stream(&self) -> Option<&Stream> {
        match self.rep() {
            Rep::Stream => Some(self.stream_ref()),
            Rep::Inline | Rep::Heap | Rep::Hash | Rep::List | Rep::Set | Rep::Zset => None,
        }
    }

    /// The stream of a stream value, mutable.
    pub fn as_stream_mut(&mut self) -> Option<&mut Stream> {
        match self.rep() {
            Rep::Stream => Some(self.stream_mut()),
            Rep::Inline | Rep::Heap | Rep::Hash | Rep::List | Rep::Set | Rep::Zset => None,
        }
    }

    /// The sorted set of a sorted-set value.
    pub fn as_zset(&self) -> Option<&Zset> {
        match self.rep() {
            Rep::Zset => Some(self.zset_ref()),
            Rep::Inline | Rep::Heap | Rep::Hash | Rep::List | Rep::Set | Rep::Stream => None,
        }
    }

    /// The sorted set of a sorted-set value, mutable.
    pub fn as_zset_mut(&mut self) -> Option<&mut Zset> {
        match self.rep() {
            Rep::Zset => Some(self.zset_mut()),
            Rep::Inline | Rep::Heap | Rep::Hash | Rep::List | Rep::Set | Rep::Stream => None,
        }
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding_name(&self) -> &'static str {
        match self.view() {
            ValueRef::Str(s) => match self.enc() {
                StrEncoding::Int => "int",
                StrEncoding::Raw => "raw",
                StrEncoding::Auto if s.len() <= EMBSTR_MAX => "embstr",
                StrEncoding::Auto => "raw",
            },
            ValueRef::Hash(h) => h.encoding_name(),
            // Redis 7.0 encodes every list as a quicklist.
            ValueRef::List(_) => "quicklist",
            ValueRef::Set(s) => s.encoding_name(),
            ValueRef::Zset(z) => z.encoding_name(),
            ValueRef::Stream(_) => "stream",
        }
    }

    /// A string's encoding class; None for other types.
    pub fn str_encoding(&self) -> Option<StrEncoding> {
        match self.rep() {
            Rep::Inline | Rep::Heap => Some(self.enc()),
            Rep::Hash | Rep::List | Rep::Set | Rep::Zset | Rep::Stream => None,
        }
    }

    /// The encoding bits of a string's tag, decoded (strings only).
    fn enc(&self) -> StrEncoding {
        match self.tag() & ENC_MASK {
            ENC_AUTO => StrEncoding::Auto,
            ENC_INT => StrEncoding::Int,
            ENC_RAW => StrEncoding::Raw,
            // Strings are made with enc_bits' values only.
            bits => unreachable!("string tag names no encoding: {bits}"),
        }
    }

    /// Edits a string value in place through a Vec (APPEND, SETRANGE). The
    /// result reports encoding `raw`, as Redis's unshared strings do. Returns
    /// None, calling nothing, for non-strings.
    pub fn edit_str<R>(&mut self, f: impl FnOnce(&mut Vec<u8>) -> R) -> Option<R> {
        let mut buf = match self.rep() {
            Rep::Inline => {
                let s = self.inline_str();
                let mut v = Vec::with_capacity((s.len() * 2).max(32));
                v.extend_from_slice(s);
                v
            }
            Rep::Heap => {
                let (ptr, len, cap) = (
                    self.w[0] as *mut u8,
                    self.w[1] as usize,
                    (self.w[2] & CAP_MASK) as usize,
                );
                // An empty inline string until we store back.
                self.w = [0, 0, (Rep::Inline.bits() as u64) << 56];
                // SAFETY: the words held exactly this Vec's raw parts; we took
                // them out of self, so the Vec has one owner again.
                unsafe { Vec::from_raw_parts(ptr, len, cap) }
            }
            Rep::Hash | Rep::List | Rep::Set | Rep::Zset | Rep::Stream => return None,
        };
        let r = f(&mut buf);
        let new = if buf.len() <= INLINE_MAX {
            Value::string_with(&buf, ENC_RAW)
        } else {
            Value::from_vec_with(buf, ENC_RAW)
        };
        *self = new;
        Some(r)
    }

    /// Heap bytes owned by this value beyond its 24 bytes (MEMORY USAGE).
    pub fn heap_bytes(&self) -> usize {
        match self.rep() {
            Rep::Inline => 0,
            Rep::Heap => (self.w[2] & CAP_MASK) as usize,
            Rep::Hash => self.hash_ref().heap_bytes() + std::mem::size_of::<Hash>(),
            Rep::List => self.list_ref().heap_bytes() + std::mem::size_of::<List>(),
            // The Set itself is in the words.
            Rep::Set => self.set_ref().heap_bytes(),
            Rep::Zset => self.zset_ref().heap_bytes() + std::mem::size_of::<Zset>(),
            Rep::Stream => self.stream_ref().heap_bytes() + std::mem::size_of::<Stream>(),
        }
    }
}

fn enc_bits(enc: StrEncoding) -> u8 {
    match enc {
        StrEncoding::Auto => ENC_AUTO,
        StrEncoding::Int => ENC_INT,
        StrEncoding::Raw => ENC_RAW,
    }
}

impl Drop for Value {
    fn drop(&mut self) {
        match self.rep() {
            Rep::Inline => {}
            Rep::Heap => {
                // SAFETY: the words hold a live Vec's raw parts, owned by self.
                drop(unsafe {
                    Vec::from_raw_parts(
                        self.w[0] as *mut u8,
                        self.w[1] as usize,
                        (self.w[2] & CAP_MASK) as usize,
                    )
                });
            }
            Rep::Hash => {
                // SAFETY: the words hold a live Box<Hash>, owned by self.
                drop(unsafe { Box::from_raw(self.w[0] as *mut Hash) });
            }
            Rep::List => {
                // SAFETY: the words hold a live Box<List>, owned by self.
                drop(unsafe { Box::from_raw(self.w[0] as *mut List) });
            }
            Rep::Set => {
                // SAFETY: the first two words hold a live Set, owned by self
                // (see set_ref), dropped once here.
                unsafe { std::ptr::drop_in_place(self.w.as_mut_ptr() as *mut Set) };
            }
            Rep::Zset => {
                // SAFETY: the words hold a live Box<Zset>, owned by self.
                drop(unsafe { Box::from_raw(self.w[0] as *mut Zset) });
            }
            Rep::Stream => {
                // SAFETY: the words hold a live Box<Stream>, owned by self.
                drop(unsafe { Box::from_raw(self.w[0] as *mut Stream) });
            }
        }
    }
}

impl Clone for Value {
    fn clone(&self) -> Value {
        match self.rep() {
            // Plain bytes: copying the words is the copy.
            Rep::Inline => Value { w: self.w },
            Rep::Heap => Value::from_vec_with(self.heap_str().to_vec(), enc_bits(self.enc())),
            Rep::Hash => Value::hash(self.hash_ref().clone()),
            Rep::List => Value::list(self.list_ref().clone()),
            Rep::Set => Value::set(self.set_ref().clone()),
            Rep::Zset => Value::zset(self.zset_ref().clone()),
            Rep::Stream => Value::stream(self.stream_ref().clone()),
        }
    }
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.view() {
            ValueRef::Str(s) => write!(f, "Value::Str({:?})", String::from_utf8_lossy(s)),
            ValueRef::Hash(h) => write!(f, "Value::{h:?}"),
            ValueRef::List(l) => write!(f, "Value::{l:?}"),
            ValueRef::Set(s) => write!(f, "Value::{s:?}"),
            ValueRef::Zset(z) => write!(f, "Value::{z:?}"),
            ValueRef::Stream(st) => write!(f, "Value::Stream({} entries)", st.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rep_round_trips() {
        let samples = [
            Value::string(b"short"),
            Value::string(&[b'x'; 100]),
            Value::hash(Hash::new()),
            Value::list(List::new()),
            Value::set(Set::new_ints()),
            Value::zset(Zset::new()),
            Value::stream(Stream::new()),
        ];
        for (i, v) in samples.iter().enumerate() {
            // A new Rep does not compile here until it has a sample above;
            // the sample then checks its arm in `Value::rep`.
            let want = match v.rep() {
                Rep::Inline => 0,
                Rep::Heap => 1,
                Rep::Hash => 2,
                Rep::List => 3,
                Rep::Set => 4,
                Rep::Zset => 5,
                Rep::Stream => 6,
            };
            assert_eq!(want, i, "{v:?}");
            let c = v.clone();
            assert_eq!(c.rep(), v.rep());
            assert_eq!(c.kind(), v.kind());
        }
        assert_eq!(samples[2].kind(), Kind::Hash);
        assert_eq!(samples[2].str_encoding(), None);
        assert_eq!(samples[2].encoding_name(), "listpack");
        assert_eq!(samples[2].as_str(), None);
        assert_eq!(samples[1].str_encoding(), Some(StrEncoding::Auto));
        assert_eq!(samples[3].kind(), Kind::List);
        assert_eq!(samples[3].kind().name(), "list");
        assert_eq!(samples[3].encoding_name(), "quicklist");
        assert!(samples[3].as_list().is_some() && samples[3].as_hash().is_none());
        assert_eq!(samples[4].kind().name(), "set");
        assert_eq!(samples[4].encoding_name(), "intset");
        assert!(samples[4].as_set().is_some() && samples[4].as_list().is_none());
        assert_eq!(samples[5].kind().name(), "zset");
        assert_eq!(samples[5].encoding_name(), "listpack");
        assert!(samples[5].as_zset().is_some() && samples[5].as_set().is_none());
    }

    #[test]
    fn a_set_held_in_the_words_changes_encoding_in_place() {
        let mut v = Value::set(Set::new_for(b"1"));
        for i in 0..10 {
            v.as_set_mut()
                .expect("a set")
                .add(i.to_string().as_bytes(), 512);
        }
        assert_eq!(v.encoding_name(), "intset");
        // No box: the width byte and ten 2-byte integers.
        assert_eq!(v.heap_bytes(), 21);
        // Becoming a table writes the words, not the tag.
        assert!(v.as_set_mut().expect("a set").add(b"x", 512));
        assert_eq!(v.kind(), Kind::Set);
        assert_eq!(v.encoding_name(), "hashtable");
        let c = v.clone();
        drop(v);
        assert_eq!(c.as_set().map(|s| s.len()), Some(11));
        assert!(c
            .as_set()
            .is_some_and(|s| s.contains(b"x") && s.contains(b"9")));
    }

    #[test]
    fn value_is_three_words() {
        assert_eq!(std::mem::size_of::<Value>(), 24);
    }

    #[test]
    fn strings_round_trip_inline_and_heap() {
        for len in [0, 1, 21, 22, 23, 44, 45, 1000] {
            let s: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            let v = Value::string(&s);
            assert_eq!(v.as_str(), Some(&s[..]));
            assert_eq!(v.clone().as_str(), Some(&s[..]));
            assert_eq!(Value::from_vec(s.clone()).as_str(), Some(&s[..]));
            assert_eq!(v.kind(), Kind::Str);
        }
    }

    #[test]
    fn encodings_follow_redis() {
        assert_eq!(Value::string(b"123").encoding_name(), "int");
        assert_eq!(
            Value::string(b"-9223372036854775808").encoding_name(),
            "int"
        );
        assert_eq!(Value::string(b"0123").encoding_name(), "embstr");
        assert_eq!(Value::string(&[b'x'; 44]).encoding_name(), "embstr");
        assert_eq!(Value::string(&[b'x'; 45]).encoding_name(), "raw");
        let mut v = Value::string(b"ab");
        v.edit_str(|b| b.extend_from_slice(b"c"));
        assert_eq!(v.encoding_name(), "raw");
        assert_eq!(v.as_str(), Some(&b"abc"[..]));
    }

    #[test]
    fn edit_grows_from_inline_to_heap_and_back() {
        let mut v = Value::string(b"x");
        for _ in 0..100 {
            v.edit_str(|b| b.extend_from_slice(b"0123456789"));
        }
        assert_eq!(v.as_str().map(|s| s.len()), Some(1001));
        v.edit_str(|b| b.truncate(3));
        assert_eq!(v.as_str(), Some(&b"x01"[..]));
        assert_eq!(v.heap_bytes(), 0);
    }
}
