//! HyperLogLog, as Redis 7.0's `hyperloglog.c`: PFADD, PFCOUNT, PFMERGE,
//! PFDEBUG and PFSELFTEST, on strings laid out byte for byte as Redis's.
//!
//! A HyperLogLog is a string: a 16-byte header (`HYLL`, the encoding byte
//! (0 dense, 1 sparse), three unused bytes, the cached cardinality as 8
//! little-endian bytes whose top bit marks it stale) and then the 16384
//! six-bit registers, either dense (12288 bytes, least significant bits
//! first) or sparse (run-length opcodes ZERO `00xxxxxx`, XZERO
//! `01xxxxxx yyyyyyyy` and VAL `1vvvvvxx`). Elements are hashed with
//! MurmurHash64A and seed 0xadc83b19; the estimate is Ertl's, as Redis's.
//! Every step (opcode splits, merges of adjacent VALs, promotion to dense
//! past `hll-sparse-max-bytes`, the cache written back by PFCOUNT) follows
//! Redis, so GET returns the same bytes and either server reads the
//! other's values.
//!
//! A value that is not a HyperLogLog gets `WRONGTYPE Key is not a valid
//! HyperLogLog string value.`; one whose registers do not add up gets
//! `INVALIDOBJ Corrupted HLL object detected`. Neither panics: every read
//! of the sparse form is bounds-checked.

use super::args;
use super::Ctx;
use crate::db::value::Value;
use crate::error::{CmdError, CmdResult};
use crate::notify::STRING;
use crate::resp::parser::Args;

const P: u32 = 14;
const Q: u32 = 64 - P;
const REGISTERS: usize = 1 << P;
const P_MASK: u64 = REGISTERS as u64 - 1;
const BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << BITS) - 1;
const HDR: usize = 16;
/// A dense HyperLogLog's length: header and 16384 six-bit registers.
pub const DENSE_SIZE: usize = HDR + (REGISTERS * BITS).div_ceil(8);
const DENSE: u8 = 0;
const SPARSE: u8 = 1;
const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;
const XZERO_MAX_LEN: usize = 16384;
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;
const SEED: u64 = 0xadc8_3b19;

const NOT_HLL: CmdError =
    CmdError::Static("WRONGTYPE Key is not a valid HyperLogLog string value.");
const CORRUPT: CmdError = CmdError::Static("INVALIDOBJ Corrupted HLL object detected");

/// Redis's MurmurHash64A (little-endian reading of the 8-byte blocks).
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut blocks = key.chunks_exact(8);
    for b in blocks.by_ref() {
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        let mut k = u64::from_le_bytes(a);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// Redis's `hllPatLen`: the register an element lands in and the length
/// of its run of zeros plus one (1..=51).
fn pat_len(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, SEED);
    let index = (hash & P_MASK) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// Register `i` of dense registers `r`.
fn dense_get(r: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = r[byte] as u32;
    let b1 = r.get(byte + 1).copied().unwrap_or(0) as u32;
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX as u32) as u8
}

/// Sets register `i` of dense registers `r` to `v`.
fn dense_put(r: &mut [u8], i: usize, v: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = v as u32;
    r[byte] &= !((REGISTER_MAX as u32) << fb) as u8;
    r[byte] |= (v << fb) as u8;
    if let Some(b) = r.get_mut(byte + 1) {
        *b &= !((REGISTER_MAX as u32) >> (8 - fb)) as u8;
        *b |= (v >> (8 - fb)) as u8;
    }
}

/// Raises register `i` to `count`; whether it changed.
fn dense_set(r: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(r, i) {
        dense_put(r, i, count);
        true
    } else {
        false
    }
}

/// One sparse opcode.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    /// A run of zero registers; `wide` for XZERO (two bytes).
    Zero { len: usize, wide: bool },
    /// A run of registers holding `value`.
    Val { value: u8, len: usize },
}

impl Op {
    fn width(self) -> usize {
        match self {
            Op::Zero { wide: true, .. } => 2,
            _ => 1,
        }
    }
    fn span(self) -> usize {
        match self {
            Op::Zero { len, .. } | Op::Val { len, .. } => len,
        }
    }
}

/// The opcode at `s[i]`; an XZERO cut short reads its second byte as 0,
/// as Redis reads the string's terminating NUL.
fn op_at(s: &[u8], i: usize) -> Op {
    let b = s[i];
    if b & 0xc0 == 0 {
        Op::Zero {
            len: (b & 0x3f) as usize + 1,
            wide: false,
        }
    } else if b & 0xc0 == 0x40 {
        let lo = s.get(i + 1).copied().unwrap_or(0) as usize;
        Op::Zero {
            len: ((((b & 0x3f) as usize) << 8) | lo) + 1,
            wide: true,
        }
    } else {
        Op::Val {
            value: ((b >> 2) & 0x1f) + 1,
            len: (b & 3) as usize + 1,
        }
    }
}

fn val_byte(value: u8, len: usize) -> u8 {
    0x80 | ((value - 1) << 2) | (len as u8 - 1)
}

/// Appends a zero run of `len` (1..=16384): ZERO up to 64, else XZERO.
fn push_zero(out: &mut Vec<u8>, len: usize) {
    if len > ZERO_MAX_LEN {
        let l = len - 1;
        out.push(((l >> 8) as u8) | 0x40);
        out.push((l & 0xff) as u8);
    } else {
        out.push(len as u8 - 1);
    }
}

/// Whether `s` is a HyperLogLog Redis would accept (`isHLLObjectOrReply`).
fn check(s: &[u8]) -> CmdResult {
    if s.len() < HDR || &s[..4] != b"HYLL" || s[4] > SPARSE {
        return Err(NOT_HLL);
    }
    if s[4] == DENSE && s.len() != DENSE_SIZE {
        return Err(NOT_HLL);
    }
    Ok(())
}

/// An empty HyperLogLog: sparse, one XZERO per 16384 registers.
fn empty() -> Vec<u8> {
    let mut s = Vec::with_capacity(HDR + 2);
    s.extend_from_slice(b"HYLL");
    s.push(SPARSE);
    s.extend_from_slice(&[0; 11]);
    push_zero(&mut s, XZERO_MAX_LEN);
    s
}

fn invalidate(s: &mut [u8]) {
    s[15] |= 0x80;
}

/// Redis's `hllSparseToDense`, in place; Err when the runs do not cover
/// exactly 16384 registers. The header (cache included) is kept.
fn to_dense(s: &mut Vec<u8>) -> Result<(), CmdError> {
    if s[4] == DENSE {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR].copy_from_slice(&s[..HDR]);
    dense[4] = DENSE;
    let mut idx = 0usize;
    let mut i = HDR;
    while i < s.len() {
        let op = op_at(s, i);
        // Any run past the last register makes the value corrupt (Redis's
        // fix for CVE-2025-32023, which the oracle carries).
        if idx + op.span() > REGISTERS {
            return Err(CORRUPT);
        }
        if let Op::Val { value, len } = op {
            for r in idx..idx + len {
                dense_put(&mut dense[HDR..], r, value);
            }
        }
        idx += op.span();
        i += op.width();
    }
    if idx != REGISTERS {
        return Err(CORRUPT);
    }
    *s = dense;
    Ok(())
}

/// Redis's `hllSparseSet`: raises register `index` to `count` in a sparse
/// HyperLogLog, splitting and merging opcodes as Redis does, turning dense
/// when the value or the length needs it. Ok(changed), or Err when corrupt.
fn sparse_set(s: &mut Vec<u8>, index: usize, count: u8, max_bytes: i64) -> Result<bool, CmdError> {
    if count > VAL_MAX_VALUE {
        return promote(s, index, count);
    }
    // Step 1: the opcode covering `index`.
    let end = s.len();
    let mut p = HDR;
    let mut first = 0usize;
    let mut prev: Option<usize> = None;
    let mut span = 0usize;
    let mut op = Op::Zero {
        len: 0,
        wide: false,
    };
    while p < end {
        op = op_at(s, p);
        span = op.span();
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += op.width();
        first += span;
    }
    if span == 0 || p >= end {
        return Err(CORRUPT);
    }
    // Step 2: the cases updated in place.
    let mut seq: Vec<u8> = Vec::with_capacity(5);
    let last = first + span - 1;
    let mut replaced = false;
    match op {
        Op::Val { value, len } => {
            if value >= count {
                return Ok(false);
            }
            if len == 1 {
                s[p] = val_byte(count, 1);
                replaced = true;
            } else {
                if index != first {
                    seq.push(val_byte(value, index - first));
                }
                seq.push(val_byte(count, 1));
                if index != last {
                    seq.push(val_byte(value, last - index));
                }
            }
        }
        Op::Zero {
            len: 1,
            wide: false,
        } => {
            s[p] = val_byte(count, 1);
            replaced = true;
        }
        Op::Zero { .. } => {
            if index != first {
                push_zero(&mut seq, index - first);
            }
            seq.push(val_byte(count, 1));
            if index != last {
                push_zero(&mut seq, last - index);
            }
        }
    }
    if !replaced {
        // Step 3: the new sequence in place of the old opcode.
        let old = op.width();
        if seq.len() > old && (s.len() + seq.len() - old) as i64 > max_bytes {
            return promote(s, index, count);
        }
        // An XZERO cut short by the end of the string: Redis reads (and
        // overwrites) the terminating NUL as its second byte, so the length
        // still changes by exactly the difference in opcode widths.
        let phantom = p + old > s.len();
        if phantom {
            s.push(0);
        }
        s.splice(p..p + old, seq);
        if phantom {
            s.pop();
        }
    }
    // Step 4: merge adjacent VALs of equal value, scanning up to five
    // opcodes from the one before.
    let mut p = prev.unwrap_or(HDR);
    let mut scan = 5;
    while p < s.len() && scan > 0 {
        scan -= 1;
        match op_at(s, p) {
            Op::Zero { wide, .. } => {
                p += if wide { 2 } else { 1 };
                continue;
            }
            Op::Val { value, len } => {
                if p + 1 < s.len() {
                    if let Op::Val { value: v2, len: l2 } = op_at(s, p + 1) {
                        if value == v2 && len + l2 <= VAL_MAX_LEN {
                            s[p + 1] = val_byte(value, len + l2);
                            s.remove(p);
                            continue;
                        }
                    }
                }
                p += 1;
            }
        }
    }
    invalidate(s);
    Ok(true)
}

/// Turns `s` dense and sets the register there (Redis's `promote:`).
fn promote(s: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, CmdError> {
    to_dense(s)?;
    dense_set(&mut s[HDR..], index, count);
    Ok(true)
}

/// Adds one element; Ok(changed).
fn add(s: &mut Vec<u8>, ele: &[u8], max_bytes: i64) -> Result<bool, CmdError> {
    let (index, count) = pat_len(ele);
    match s[4] {
        DENSE => Ok(dense_set(&mut s[HDR..], index, count)),
        SPARSE => sparse_set(s, index, count, max_bytes),
        _ => Err(CORRUPT),
    }
}

/// Registers histogram of a HyperLogLog; Err for a sparse one whose runs
/// do not cover exactly 16384 registers.
fn histogram(s: &[u8]) -> Result<[u32; 64], CmdError> {
    let mut h = [0u32; 64];
    if s[4] == DENSE {
        for i in 0..REGISTERS {
            h[dense_get(&s[HDR..], i) as usize] += 1;
        }
        return Ok(h);
    }
    let mut idx = 0usize;
    let mut i = HDR;
    while i < s.len() {
        let op = op_at(s, i);
        match op {
            Op::Zero { len, .. } => h[0] += len as u32,
            Op::Val { value, len } => h[value as usize] += len as u32,
        }
        idx += op.span();
        i += op.width();
    }
    if idx != REGISTERS {
        return Err(CORRUPT);
    }
    Ok(h)
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

/// Ertl's estimate from a register histogram (Redis's `hllCount`).
fn estimate(h: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - h[Q as usize + 1] as f64) / m);
    for j in (1..=Q as usize).rev() {
        z += h[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(h[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as u64
}

/// Raises `max` to the registers of `s` (Redis's `hllMerge`).
fn merge_into(max: &mut [u8], s: &[u8]) -> CmdResult {
    if s[4] == DENSE {
        for (i, m) in max.iter_mut().enumerate() {
            *m = (*m).max(dense_get(&s[HDR..], i));
        }
        return Ok(());
    }
    let mut idx = 0usize;
    let mut i = HDR;
    while i < s.len() {
        let op = op_at(s, i);
        if idx + op.span() > REGISTERS {
            return Err(CORRUPT);
        }
        if let Op::Val { value, len } = op {
            for m in &mut max[idx..idx + len] {
                *m = (*m).max(value);
            }
        }
        idx += op.span();
        i += op.width();
    }
    if idx != REGISTERS {
        return Err(CORRUPT);
    }
    Ok(())
}

fn max_bytes(ctx: &Ctx<'_>) -> i64 {
    ctx.config().hll_sparse_max_bytes
}

/// The valid HyperLogLog at `key` for writing (None when missing).
fn hll_mut<'a>(ctx: &'a mut Ctx<'_>, key: &[u8]) -> Result<Option<&'a mut Value>, CmdError> {
    match ctx.db.get_mut(key, ctx.now_ms) {
        None => Ok(None),
        Some(v) => {
            let s = v.as_str().ok_or(CmdError::WrongType)?;
            if v.str_encoding() == Some(crate::db::value::StrEncoding::Int) {
                return Err(NOT_HLL);
            }
            check(s)?;
            Ok(Some(v))
        }
    }
}

/// `PFADD key [element ...]`: 1 when a register (or the key) changed.
pub fn pfadd(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(1);
    let limit = max_bytes(ctx);
    let mut updated = 0u64;
    let created = hll_mut(ctx, key)?.is_none();
    if created {
        let mut v = Value::string_encoded(b"", crate::db::value::StrEncoding::Raw);
        v.edit_str(|b| *b = empty());
        ctx.db.add(key, v);
        updated += 1;
    }
    let Some(v) = ctx.db.get_mut(key, ctx.now_ms) else {
        return Err(CORRUPT);
    };
    let res = v
        .edit_str(|s| {
            let mut n = 0u64;
            for j in 2..args.len() {
                if add(s, args.get(j), limit)? {
                    n += 1;
                }
            }
            // Redis marks the cache stale for a new key too.
            if n > 0 || created {
                invalidate(s);
            }
            Ok::<u64, CmdError>(n)
        })
        .ok_or(CmdError::WrongType)?;
    let n = res?;
    updated += n;
    if updated > 0 {
        ctx.db.signal_modified_key(key);
        ctx.notify(STRING, "pfadd", key);
        ctx.dirty += updated;
    }
    ctx.reply.int((updated > 0) as i64);
    Ok(())
}

/// `PFCOUNT key [key ...]`: the estimated cardinality of the union. With
/// one key the estimate is cached in the header (written back, propagated).
pub fn pfcount(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() > 2 {
        let mut max = vec![0u8; REGISTERS];
        for j in 1..args.len() {
            let Some(v) = ctx.db.get(args.get(j), ctx.now_ms) else {
                continue;
            };
            let s = v.as_str().ok_or(CmdError::WrongType)?;
            if v.str_encoding() == Some(crate::db::value::StrEncoding::Int) {
                return Err(NOT_HLL);
            }
            check(s)?;
            merge_into(&mut max, s)?;
        }
        let mut h = [0u32; 64];
        for &r in &max {
            h[r as usize] += 1;
        }
        ctx.reply.int(estimate(&h) as i64);
        return Ok(());
    }
    let key = args.get(1);
    // lookupKeyRead, then the value is unshared for the write-back.
    if ctx.db.get(key, ctx.now_ms).is_none() {
        ctx.reply.int(0);
        return Ok(());
    }
    let Some(v) = hll_mut(ctx, key)? else {
        ctx.reply.int(0);
        return Ok(());
    };
    let r = v
        .edit_str(|s| {
            if s[15] & 0x80 == 0 {
                let mut a = [0u8; 8];
                a.copy_from_slice(&s[8..16]);
                return Ok((u64::from_le_bytes(a), false));
            }
            let card = estimate(&histogram(s)?);
            s[8..16].copy_from_slice(&card.to_le_bytes());
            Ok::<_, CmdError>((card, true))
        })
        .ok_or(CmdError::WrongType)?;
    let (card, wrote) = r?;
    if wrote {
        ctx.db.signal_modified_key(key);
        ctx.dirty += 1;
    }
    ctx.reply.int(card as i64);
    Ok(())
}

/// `PFMERGE destkey [sourcekey ...]`: the destination (a source too)
/// becomes the union; dense when any source was.
pub fn pfmerge(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let mut max = vec![0u8; REGISTERS];
    let mut use_dense = false;
    for j in 1..args.len() {
        let Some(v) = ctx.db.get(args.get(j), ctx.now_ms) else {
            continue;
        };
        let s = v.as_str().ok_or(CmdError::WrongType)?;
        if v.str_encoding() == Some(crate::db::value::StrEncoding::Int) {
            return Err(NOT_HLL);
        }
        check(s)?;
        use_dense |= s[4] == DENSE;
        merge_into(&mut max, s)?;
    }
    let key = args.get(1);
    let limit = max_bytes(ctx);
    if ctx.db.get_mut(key, ctx.now_ms).is_none() {
        let mut v = Value::string_encoded(b"", crate::db::value::StrEncoding::Raw);
        v.edit_str(|b| *b = empty());
        ctx.db.add(key, v);
    }
    let Some(v) = ctx.db.get_mut(key, ctx.now_ms) else {
        return Err(CORRUPT);
    };
    let r = v
        .edit_str(|s| {
            if use_dense {
                to_dense(s)?;
            }
            for (j, &m) in max.iter().enumerate() {
                if m == 0 {
                    continue;
                }
                if s[4] == DENSE {
                    dense_set(&mut s[HDR..], j, m);
                } else {
                    // Redis ignores a failure here: the destination merged
                    // cleanly above, so it is well formed.
                    let _ = sparse_set(s, j, m, limit);
                }
            }
            invalidate(s);
            Ok::<(), CmdError>(())
        })
        .ok_or(CmdError::WrongType)?;
    r?;
    ctx.db.signal_modified_key(key);
    ctx.notify(STRING, "pfadd", key);
    ctx.dirty += 1;
    ctx.reply.ok();
    Ok(())
}

/// The sparse opcodes as PFDEBUG DECODE prints them.
fn decode(s: &[u8]) -> String {
    let mut out = Vec::new();
    let mut i = HDR;
    while i < s.len() {
        let op = op_at(s, i);
        out.push(match op {
            Op::Zero { len, wide: false } => format!("z:{len}"),
            Op::Zero { len, wide: true } => format!("Z:{len}"),
            Op::Val { value, len } => format!("v:{value},{len}"),
        });
        i += op.width();
    }
    out.join(" ")
}

/// `PFDEBUG GETREG|DECODE|ENCODING|TODENSE key`.
pub fn pfdebug(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let sub = args.get(1);
    let sub_c = match sub.iter().position(|&c| c == 0) {
        Some(n) => &sub[..n],
        None => sub,
    };
    let key = args.get(2);
    if ctx.db.get_mut(key, ctx.now_ms).is_none() {
        return Err(CmdError::Static("ERR The specified key does not exist"));
    }
    let Some(v) = hll_mut(ctx, key)? else {
        return Err(CmdError::Static("ERR The specified key does not exist"));
    };
    let arity = || {
        CmdError::Owned(format!(
            "ERR Wrong number of arguments for the '{}' subcommand",
            args::text(sub_c)
        ))
    };
    let n = args.len();
    enum Out {
        Regs(Vec<u8>),
        Text(String),
        Status(&'static str),
        Int(i64),
    }
    let r = v
        .edit_str(|s| -> Result<(Out, bool), CmdError> {
            if args::is(sub_c, "getreg") {
                if n != 3 {
                    return Err(arity());
                }
                let conv = s[4] == SPARSE;
                to_dense(s)?;
                let regs = (0..REGISTERS).map(|i| dense_get(&s[HDR..], i)).collect();
                Ok((Out::Regs(regs), conv))
            } else if args::is(sub_c, "decode") {
                if n != 3 {
                    return Err(arity());
                }
                if s[4] != SPARSE {
                    return Err(CmdError::Static("ERR HLL encoding is not sparse"));
                }
                Ok((Out::Text(decode(s)), false))
            } else if args::is(sub_c, "encoding") {
                if n != 3 {
                    return Err(arity());
                }
                Ok((
                    Out::Status(if s[4] == DENSE { "dense" } else { "sparse" }),
                    false,
                ))
            } else if args::is(sub_c, "todense") {
                if n != 3 {
                    return Err(arity());
                }
                let conv = s[4] == SPARSE;
                to_dense(s)?;
                Ok((Out::Int(conv as i64), conv))
            } else {
                Err(CmdError::Owned(format!(
                    "ERR Unknown PFDEBUG subcommand '{}'",
                    args::text(sub_c)
                )))
            }
        })
        .ok_or(CmdError::WrongType)?;
    let (out, dirty) = r?;
    if dirty {
        ctx.dirty += 1;
    }
    match out {
        Out::Regs(regs) => {
            ctx.reply.array_len(regs.len());
            for r in regs {
                ctx.reply.int(r as i64);
            }
        }
        Out::Text(t) => ctx.reply.bulk(t.as_bytes()),
        Out::Status(st) => ctx.reply.simple(st),
        Out::Int(i) => ctx.reply.int(i),
    }
    Ok(())
}

/// The checks PFSELFTEST runs, as Redis's: register access in the dense
/// form, and sparse against dense estimates (identical at every step) with
/// the relative error within bounds. An Err names what failed.
pub fn self_test() -> Result<(), String> {
    // Dense registers: random values read back unchanged.
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut regs = vec![0u8; DENSE_SIZE - HDR];
    let mut want = vec![0u8; REGISTERS];
    for _ in 0..100 {
        for (i, w) in want.iter_mut().enumerate() {
            *w = (next() & REGISTER_MAX as u64) as u8;
            dense_put(&mut regs, i, *w);
        }
        for (i, w) in want.iter().enumerate() {
            if dense_get(&regs, i) != *w {
                return Err(format!("TESTFAILED Register error at {i}"));
            }
        }
    }
    // Sparse and dense agree, and the error stays within 5 sigma.
    let mut sparse = empty();
    let mut dense = empty();
    to_dense(&mut dense).map_err(|e| e.to_string())?;
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint = 1u64;
    for j in 1..=100_000u64 {
        let ele = next().to_le_bytes();
        add(&mut sparse, &ele, 3000).map_err(|e| e.to_string())?;
        add(&mut dense, &ele, 3000).map_err(|e| e.to_string())?;
        if j == checkpoint {
            let a = estimate(&histogram(&sparse).map_err(|e| e.to_string())?);
            let b = estimate(&histogram(&dense).map_err(|e| e.to_string())?);
            if a != b {
                return Err(format!("TESTFAILED dense/sparse disagree: {b} != {a}"));
            }
            let maxerr = (relerr * 5.0 * j as f64).ceil().max(1.0);
            if ((j as f64) - b as f64).abs() > maxerr {
                return Err(format!(
                    "TESTFAILED Too big error. card:{j} abserr:{}",
                    (j as f64 - b as f64).abs()
                ));
            }
            checkpoint *= 10;
        }
    }
    Ok(())
}

/// `PFSELFTEST`: OK when the internal checks pass.
pub fn pfselftest(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    match self_test() {
        Ok(()) => {
            ctx.reply.ok();
            Ok(())
        }
        Err(e) => Err(CmdError::Owned(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_redis_bytes() {
        assert_eq!(
            empty(),
            b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff".to_vec()
        );
        assert_eq!(DENSE_SIZE, 12304);
    }

    #[test]
    fn flipped_bytes_never_panic() {
        let mut s = empty();
        for i in 0..2000u32 {
            add(&mut s, &i.to_le_bytes(), 3000).unwrap();
        }
        let mut rng = 7u64;
        for round in 0..3000 {
            let mut t = s.clone();
            if round % 2 == 1 {
                to_dense(&mut t).unwrap();
            }
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let at = HDR + (rng >> 33) as usize % (t.len() - HDR);
            t[at] ^= (rng >> 13) as u8 | 1;
            if round % 3 == 0 {
                t.truncate(HDR + (rng >> 40) as usize % (t.len() - HDR));
            }
            if check(&t).is_err() {
                continue;
            }
            let _ = histogram(&t);
            let mut m = vec![0u8; REGISTERS];
            let _ = merge_into(&mut m, &t);
            for e in 0..50u32 {
                if add(&mut t, &e.to_be_bytes(), 3000).is_err() {
                    break;
                }
            }
            let _ = to_dense(&mut t);
        }
    }

    #[test]
    fn self_test_passes() {
        self_test().unwrap();
    }
}
