//! The packed encodings an RDB file carries as string blobs: listpack
//! (what Redis 7.0 writes for small hashes, sorted sets and list nodes),
//! and the older ziplist, zipmap and intset it still reads. GoStore writes
//! listpacks and intsets and reads all four.

use std::borrow::Cow;

use crate::util::num::{fmt_i64, parse_i64, MAX_I64_LEN};

/// An element of a packed encoding: bytes or an integer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Elem<'a> {
    /// A string.
    Str(&'a [u8]),
    /// An integer (its text is the element).
    Int(i64),
}

impl<'a> Elem<'a> {
    /// The element's bytes.
    pub fn bytes(&self) -> Cow<'a, [u8]> {
        match *self {
            Elem::Str(s) => Cow::Borrowed(s),
            Elem::Int(v) => {
                let mut b = [0u8; MAX_I64_LEN];
                Cow::Owned(fmt_i64(v, &mut b).to_vec())
            }
        }
    }
}

/// A malformed blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPack(pub &'static str);

/// Builds a listpack (Redis's listpack.c format): a 4-byte total size and a
/// 2-byte element count (65535 when larger), the elements, each with its
/// length written backwards after it, and 0xFF.
#[derive(Debug)]
pub struct ListpackBuilder {
    buf: Vec<u8>,
    count: usize,
}

impl Default for ListpackBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ListpackBuilder {
    /// An empty listpack.
    pub fn new() -> ListpackBuilder {
        ListpackBuilder {
            buf: vec![0; 6],
            count: 0,
        }
    }

    /// Elements so far.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes so far.
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    /// Appends `s`, as an integer when it is one in canonical form (as
    /// Redis's `lpEncodeGetType`).
    pub fn push(&mut self, s: &[u8]) {
        match parse_i64(s) {
            Some(v) => self.push_int(v),
            None => self.push_str(s),
        }
    }

    /// Appends an integer in the smallest encoding.
    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        if (0..=127).contains(&v) {
            self.buf.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = if v < 0 { (1 << 13) + v } else { v } as u16;
            self.buf.push(0xC0 | (u >> 8) as u8);
            self.buf.push(u as u8);
        } else if (-32768..=32767).contains(&v) {
            self.buf.push(0xF1);
            self.buf.extend_from_slice(&(v as i16).to_le_bytes());
        } else if (-8_388_608..=8_388_607).contains(&v) {
            self.buf.push(0xF2);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        } else if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
            self.buf.push(0xF3);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes());
        } else {
            self.buf.push(0xF4);
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
        self.backlen(start);
    }

    /// Appends a string as a string.
    pub fn push_str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        let n = s.len();
        if n < 64 {
            self.buf.push(0x80 | n as u8);
        } else if n < 4096 {
            self.buf.push(0xE0 | (n >> 8) as u8);
            self.buf.push(n as u8);
        } else {
            self.buf.push(0xF0);
            self.buf.extend_from_slice(&(n as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        self.backlen(start);
    }

    fn backlen(&mut self, start: usize) {
        let l = self.buf.len() - start;
        if l <= 127 {
            self.buf.push(l as u8);
        } else if l < 16383 {
            self.buf.push((l >> 7) as u8);
            self.buf.push((l & 127) as u8 | 128);
        } else if l < 2_097_151 {
            self.buf.push((l >> 14) as u8);
            self.buf.push(((l >> 7) & 127) as u8 | 128);
            self.buf.push((l & 127) as u8 | 128);
        } else if l < 268_435_455 {
            self.buf.push((l >> 21) as u8);
            self.buf.push(((l >> 14) & 127) as u8 | 128);
            self.buf.push(((l >> 7) & 127) as u8 | 128);
            self.buf.push((l & 127) as u8 | 128);
        } else {
            self.buf.push((l >> 28) as u8);
            self.buf.push(((l >> 21) & 127) as u8 | 128);
            self.buf.push(((l >> 14) & 127) as u8 | 128);
            self.buf.push(((l >> 7) & 127) as u8 | 128);
            self.buf.push((l & 127) as u8 | 128);
        }
        self.count += 1;
    }

    /// The finished listpack.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(0xFF);
        let total = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
        let n = self.count.min(65535) as u16;
        self.buf[4..6].copy_from_slice(&n.to_le_bytes());
        self.buf
    }
}

fn take(b: &[u8], at: usize, n: usize) -> Result<&[u8], BadPack> {
    b.get(at..at.checked_add(n).ok_or(BadPack("overflow"))?)
        .ok_or(BadPack("an element runs past the end"))
}

fn sign_extend(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// The elements of a listpack, checked against its header.
pub fn listpack_elems(b: &[u8]) -> Result<Vec<Elem<'_>>, BadPack> {
    if b.len() < 7 {
        return Err(BadPack("listpack shorter than its header"));
    }
    let total = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    if total != b.len() {
        return Err(BadPack("listpack size does not match its header"));
    }
    if b[total - 1] != 0xFF {
        return Err(BadPack("listpack without its end byte"));
    }
    let declared = u16::from_le_bytes([b[4], b[5]]) as usize;
    let mut out = Vec::new();
    let mut p = 6;
    while p < total - 1 {
        let start = p;
        let c = b[p];
        let e = if c & 0x80 == 0 {
            p += 1;
            Elem::Int(c as i64)
        } else if c & 0xC0 == 0x80 {
            let n = (c & 0x3F) as usize;
            let s = take(b, p + 1, n)?;
            p += 1 + n;
            Elem::Str(s)
        } else if c & 0xE0 == 0xC0 {
            let x = take(b, p, 2)?;
            p += 2;
            Elem::Int(sign_extend((((x[0] & 0x1F) as u64) << 8) | x[1] as u64, 13))
        } else if c & 0xF0 == 0xE0 {
            let x = take(b, p, 2)?;
            let n = (((x[0] & 0x0F) as usize) << 8) | x[1] as usize;
            let s = take(b, p + 2, n)?;
            p += 2 + n;
            Elem::Str(s)
        } else {
            match c {
                0xF0 => {
                    let x = take(b, p + 1, 4)?;
                    let n = u32::from_le_bytes([x[0], x[1], x[2], x[3]]) as usize;
                    let s = take(b, p + 5, n)?;
                    p += 5 + n;
                    Elem::Str(s)
                }
                0xF1..=0xF4 => {
                    let w = match c {
                        0xF1 => 2,
                        0xF2 => 3,
                        0xF3 => 4,
                        _ => 8,
                    };
                    let x = take(b, p + 1, w)?;
                    let mut v = [0u8; 8];
                    v[..w].copy_from_slice(x);
                    p += 1 + w;
                    Elem::Int(sign_extend(u64::from_le_bytes(v), 8 * w as u32))
                }
                _ => return Err(BadPack("listpack element with an unknown encoding")),
            }
        };
        // Skip the back length, checking it.
        let l = p - start;
        let bl = if l <= 127 {
            1
        } else if l < 16383 {
            2
        } else if l < 2_097_151 {
            3
        } else if l < 268_435_455 {
            4
        } else {
            5
        };
        if p + bl > total - 1 {
            return Err(BadPack("listpack element runs past the end"));
        }
        p += bl;
        out.push(e);
    }
    if declared != 65535 && declared != out.len() {
        return Err(BadPack("listpack count does not match its elements"));
    }
    Ok(out)
}

/// The elements of a ziplist (Redis before 7.0).
pub fn ziplist_elems(b: &[u8]) -> Result<Vec<Elem<'_>>, BadPack> {
    if b.len() < 11 {
        return Err(BadPack("ziplist shorter than its header"));
    }
    let total = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    if total != b.len() || b[total - 1] != 0xFF {
        return Err(BadPack("ziplist size does not match its header"));
    }
    let declared = u16::from_le_bytes([b[8], b[9]]) as usize;
    let mut out = Vec::new();
    let mut p = 10;
    while p < total - 1 {
        // prevlen
        p += if b[p] < 254 { 1 } else { 5 };
        let c = *b.get(p).ok_or(BadPack("ziplist entry runs past the end"))?;
        let e = match c >> 6 {
            0 => {
                let n = (c & 0x3F) as usize;
                let s = take(b, p + 1, n)?;
                p += 1 + n;
                Elem::Str(s)
            }
            1 => {
                let x = take(b, p, 2)?;
                let n = (((x[0] & 0x3F) as usize) << 8) | x[1] as usize;
                let s = take(b, p + 2, n)?;
                p += 2 + n;
                Elem::Str(s)
            }
            2 => {
                let x = take(b, p + 1, 4)?;
                let n = u32::from_be_bytes([x[0], x[1], x[2], x[3]]) as usize;
                let s = take(b, p + 5, n)?;
                p += 5 + n;
                Elem::Str(s)
            }
            _ => {
                let (w, bits) = match c {
                    0xC0 => (2, 16),
                    0xD0 => (4, 32),
                    0xE0 => (8, 64),
                    0xF0 => (3, 24),
                    0xFE => (1, 8),
                    0xF1..=0xFD => {
                        p += 1;
                        out.push(Elem::Int((c & 0x0F) as i64 - 1));
                        continue;
                    }
                    _ => return Err(BadPack("ziplist entry with an unknown encoding")),
                };
                let x = take(b, p + 1, w)?;
                let mut v = [0u8; 8];
                v[..w].copy_from_slice(x);
                p += 1 + w;
                Elem::Int(sign_extend(u64::from_le_bytes(v), bits))
            }
        };
        out.push(e);
    }
    if p != total - 1 {
        return Err(BadPack("ziplist entry runs past the end"));
    }
    if declared != 65535 && declared != out.len() {
        return Err(BadPack("ziplist count does not match its entries"));
    }
    Ok(out)
}

/// A field and its value.
pub type Pair<'a> = (&'a [u8], &'a [u8]);

/// The field/value pairs of a zipmap (hashes before Redis 2.6).
pub fn zipmap_pairs(b: &[u8]) -> Result<Vec<Pair<'_>>, BadPack> {
    let mut p = 1;
    let mut out = Vec::new();
    let len = |p: &mut usize| -> Result<usize, BadPack> {
        let c = *b.get(*p).ok_or(BadPack("zipmap runs past the end"))?;
        if c < 254 {
            *p += 1;
            Ok(c as usize)
        } else if c == 254 {
            let x = take(b, *p + 1, 4)?;
            *p += 5;
            Ok(u32::from_le_bytes([x[0], x[1], x[2], x[3]]) as usize)
        } else {
            Err(BadPack("zipmap length where none may be"))
        }
    };
    loop {
        match b.get(p) {
            None => return Err(BadPack("zipmap without its end byte")),
            Some(255) => break,
            _ => {}
        }
        let kl = len(&mut p)?;
        let k = take(b, p, kl)?;
        p += kl;
        let vl = len(&mut p)?;
        let free = *b.get(p).ok_or(BadPack("zipmap runs past the end"))? as usize;
        p += 1;
        let v = take(b, p, vl)?;
        p += vl + free;
        out.push((k, v));
    }
    Ok(out)
}

/// The integers of an intset blob: a 4-byte width (2, 4 or 8), a 4-byte
/// count, the sorted integers, all little-endian.
pub fn intset_values(b: &[u8]) -> Result<Vec<i64>, BadPack> {
    if b.len() < 8 {
        return Err(BadPack("intset shorter than its header"));
    }
    let w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let n = u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as usize;
    if !matches!(w, 2 | 4 | 8) || n.checked_mul(w).and_then(|x| x.checked_add(8)) != Some(b.len()) {
        return Err(BadPack("intset size does not match its header"));
    }
    let mut out = Vec::with_capacity(n);
    for c in b[8..].chunks_exact(w) {
        let mut v = [0u8; 8];
        v[..w].copy_from_slice(c);
        out.push(sign_extend(u64::from_le_bytes(v), 8 * w as u32));
    }
    if out.windows(2).any(|p| p[0] >= p[1]) {
        return Err(BadPack("intset not sorted"));
    }
    Ok(out)
}

/// The intset blob of sorted `values` in `width`-byte integers.
pub fn intset_blob(values: impl ExactSizeIterator<Item = i64>, width: usize) -> Vec<u8> {
    let mut b = Vec::with_capacity(8 + values.len() * width);
    b.extend_from_slice(&(width as u32).to_le_bytes());
    b.extend_from_slice(&(values.len() as u32).to_le_bytes());
    for v in values {
        b.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listpack_round_trips_every_encoding() {
        let strs: Vec<Vec<u8>> = vec![
            b"0".to_vec(),
            b"127".to_vec(),
            b"128".to_vec(),
            b"-4096".to_vec(),
            b"4095".to_vec(),
            b"-32768".to_vec(),
            b"100000".to_vec(),
            b"-8388608".to_vec(),
            b"2147483647".to_vec(),
            b"-9223372036854775808".to_vec(),
            b"01".to_vec(),
            b"".to_vec(),
            vec![b'x'; 63],
            vec![b'y'; 64],
            vec![b'z'; 4095],
            vec![b'w'; 70000],
        ];
        let mut lp = ListpackBuilder::new();
        for s in &strs {
            lp.push(s);
        }
        let blob = lp.finish();
        let got: Vec<Vec<u8>> = listpack_elems(&blob)
            .unwrap()
            .iter()
            .map(|e| e.bytes().into_owned())
            .collect();
        assert_eq!(got, strs);
    }

    #[test]
    fn intsets_round_trip() {
        let v = vec![-70000i64, -1, 5, 1 << 40];
        let b = intset_blob(v.iter().copied(), 8);
        assert_eq!(intset_values(&b).unwrap(), v);
        assert!(intset_values(&b[..b.len() - 1]).is_err());
    }
}
