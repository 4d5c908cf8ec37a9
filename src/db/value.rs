//! The value of a key: Redis's `robj`, packed into 24 bytes.
//!
//! A string up to 22 bytes lives inline; a longer one is a heap buffer with
//! room to grow (APPEND/SETRANGE amortise like sds); other types are a boxed
//! pointer. The last byte is the tag: the type and, for strings, the encoding
//! Redis would report (`int`, `embstr`, `raw`), which depends on how the value
//! was made, not only on its bytes. Keeping the value at 24 bytes keeps a key
//! table node, key included, in one small allocation (see `dict`).
//!
//! Invariant: the tag says which representation the words hold; only this
//! module reads the words.

use std::mem::ManuallyDrop;

use super::hash::Hash;

#[cfg(not(target_endian = "little"))]
compile_error!("the packed Value layout assumes a little-endian target");
#[cfg(not(target_pointer_width = "64"))]
compile_error!("the packed Value layout assumes 64-bit pointers");

/// Longest string stored inline.
pub const INLINE_MAX: usize = 22;
/// Longest string Redis stores as `embstr`.
const EMBSTR_MAX: usize = 44;

const KIND_INLINE: u8 = 1;
const KIND_HEAP: u8 = 2;
const KIND_HASH: u8 = 3;
const KIND_MASK: u8 = 0x0f;

const ENC_AUTO: u8 = 0 << 4; // embstr or raw by length
const ENC_INT: u8 = 1 << 4;
const ENC_RAW: u8 = 2 << 4;
const ENC_MASK: u8 = 0x30;

const CAP_MASK: u64 = (1 << 56) - 1;

/// The type of a value, as TYPE reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string.
    Str,
    /// A hash.
    Hash,
}

impl Kind {
    /// The name TYPE replies with.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Str => "string",
            Kind::Hash => "hash",
        }
    }
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
    fn tag(&self) -> u8 {
        (self.w[2] >> 56) as u8
    }

    fn kind_bits(&self) -> u8 {
        self.tag() & KIND_MASK
    }

    fn bytes(&self) -> &[u8; 24] {
        // SAFETY: [u64; 3] and [u8; 24] have the same size; u8 has no alignment.
        unsafe { &*(self.w.as_ptr() as *const [u8; 24]) }
    }

    fn bytes_mut(&mut self) -> &mut [u8; 24] {
        // SAFETY: as in bytes().
        unsafe { &mut *(self.w.as_mut_ptr() as *mut [u8; 24]) }
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
            b[23] = KIND_INLINE | enc;
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
            w: [ptr, len, cap | (((KIND_HEAP | enc) as u64) << 56)],
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
            w: [p, 0, (KIND_HASH as u64) << 56],
        }
    }

    /// The value's type.
    pub fn kind(&self) -> Kind {
        match self.kind_bits() {
            KIND_HASH => Kind::Hash,
            _ => Kind::Str,
        }
    }

    /// The bytes of a string value; None for other types.
    pub fn as_str(&self) -> Option<&[u8]> {
        match self.kind_bits() {
            KIND_INLINE => {
                let b = self.bytes();
                Some(&b[..b[22] as usize])
            }
            KIND_HEAP => {
                // SAFETY: the words hold a live Vec's pointer and length.
                Some(unsafe {
                    std::slice::from_raw_parts(self.w[0] as *const u8, self.w[1] as usize)
                })
            }
            _ => None,
        }
    }

    /// The hash of a hash value.
    pub fn as_hash(&self) -> Option<&Hash> {
        // SAFETY: KIND_HASH words hold a live Box<Hash> pointer.
        (self.kind_bits() == KIND_HASH).then(|| unsafe { &*(self.w[0] as *const Hash) })
    }

    /// The hash of a hash value, mutable.
    pub fn as_hash_mut(&mut self) -> Option<&mut Hash> {
        // SAFETY: as in as_hash, borrowed uniquely through &mut self.
        (self.kind_bits() == KIND_HASH).then(|| unsafe { &mut *(self.w[0] as *mut Hash) })
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding_name(&self) -> &'static str {
        match self.kind_bits() {
            KIND_HASH => self
                .as_hash()
                .map(|h| h.encoding_name())
                .unwrap_or("hashtable"),
            _ => match self.tag() & ENC_MASK {
                ENC_INT => "int",
                ENC_RAW => "raw",
                _ => {
                    if self.as_str().map(|s| s.len()).unwrap_or(0) <= EMBSTR_MAX {
                        "embstr"
                    } else {
                        "raw"
                    }
                }
            },
        }
    }

    /// The string's encoding class.
    pub fn str_encoding(&self) -> StrEncoding {
        match self.tag() & ENC_MASK {
            ENC_INT => StrEncoding::Int,
            ENC_RAW => StrEncoding::Raw,
            _ => StrEncoding::Auto,
        }
    }

    /// Edits a string value in place through a Vec (APPEND, SETRANGE). The
    /// result reports encoding `raw`, as Redis's unshared strings do. Returns
    /// None, calling nothing, for non-strings.
    pub fn edit_str<R>(&mut self, f: impl FnOnce(&mut Vec<u8>) -> R) -> Option<R> {
        let mut buf = match self.kind_bits() {
            KIND_INLINE => {
                let s = self.as_str().unwrap_or_default();
                let mut v = Vec::with_capacity((s.len() * 2).max(32));
                v.extend_from_slice(s);
                v
            }
            KIND_HEAP => {
                let (ptr, len, cap) = (
                    self.w[0] as *mut u8,
                    self.w[1] as usize,
                    (self.w[2] & CAP_MASK) as usize,
                );
                self.w = [0, 0, (KIND_INLINE as u64) << 56]; // empty inline until we store back
                                                             // SAFETY: the words held exactly this Vec's raw parts; we took
                                                             // them out of self, so the Vec has one owner again.
                unsafe { Vec::from_raw_parts(ptr, len, cap) }
            }
            _ => return None,
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
        match self.kind_bits() {
            KIND_HEAP => (self.w[2] & CAP_MASK) as usize,
            KIND_HASH => {
                self.as_hash().map(|h| h.heap_bytes()).unwrap_or(0) + std::mem::size_of::<Hash>()
            }
            _ => 0,
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
        match self.kind_bits() {
            KIND_HEAP => {
                // SAFETY: the words hold a live Vec's raw parts, owned by self.
                drop(unsafe {
                    Vec::from_raw_parts(
                        self.w[0] as *mut u8,
                        self.w[1] as usize,
                        (self.w[2] & CAP_MASK) as usize,
                    )
                });
            }
            KIND_HASH => {
                // SAFETY: the words hold a live Box<Hash>, owned by self.
                drop(unsafe { Box::from_raw(self.w[0] as *mut Hash) });
            }
            _ => {}
        }
    }
}

impl Clone for Value {
    fn clone(&self) -> Value {
        match self.kind_bits() {
            KIND_HEAP => Value::from_vec_with(
                self.as_str().unwrap_or_default().to_vec(),
                self.tag() & ENC_MASK,
            ),
            KIND_HASH => Value::hash(self.as_hash().cloned().unwrap_or_default()),
            _ => Value { w: self.w },
        }
    }
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.as_str() {
            Some(s) => write!(f, "Value::Str({:?})", String::from_utf8_lossy(s)),
            None => write!(f, "Value::{:?}", self.kind()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
