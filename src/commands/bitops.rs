//! Bitmap commands on strings, as Redis 7.0's `bitops.c`: SETBIT, GETBIT,
//! BITCOUNT, BITPOS, BITOP, BITFIELD and BITFIELD_RO.
//!
//! Bits are numbered from the most significant bit of the first byte.
//! Offsets are checked against `proto-max-bulk-len` (in bytes) except
//! while loading the AOF, as Redis skips the check for its AOF client.
//! Writes leave the string `raw` (Redis's `dbUnshareStringValue`), also
//! when they change nothing; a key SETBIT or BITFIELD creates is `raw`.
//!
//! Keyspace events are Redis's: `setbit` (SETBIT when the string changed
//! or grew, BITFIELD when a SET or INCRBY wrote, which one that OVERFLOW
//! FAIL skipped does not), `set` for BITOP's stored result, and `del` when
//! BITOP's result is empty and the destination existed.
//!
//! Counting runs over 64-bit words with `count_ones` (a hardware popcount
//! where the target has one), not bit by bit.

use super::args;
use super::Ctx;
use crate::db::value::{StrEncoding, Value};
use crate::error::{CmdError, CmdResult};
use crate::notify::{GENERIC, STRING};
use crate::resp::parser::Args;

const OFFSET_ERR: CmdError = CmdError::Static("ERR bit offset is not an integer or out of range");
const BIT_ERR: CmdError = CmdError::Static("ERR bit is not an integer or out of range");
const TYPE_ERR: CmdError = CmdError::Static(
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
);

/// An argument as C's `strcasecmp` sees it: up to its first NUL.
fn cstr(arg: &[u8]) -> &[u8] {
    match arg.iter().position(|&c| c == 0) {
        Some(n) => &arg[..n],
        None => arg,
    }
}

/// Redis's `getBitOffsetFromArgument`: a bit offset, or with `bits` > 0 a
/// `#n` offset meaning `n * bits`; negative or past `proto-max-bulk-len`
/// bytes is an error (not while loading).
fn bit_offset(ctx: &Ctx<'_>, arg: &[u8], bits: u32) -> Result<u64, CmdError> {
    let hash = bits > 0 && arg.first() == Some(&b'#');
    let digits = if hash { &arg[1..] } else { arg };
    let mut n = crate::util::num::parse_i64(digits).ok_or(OFFSET_ERR)?;
    if hash {
        // C multiplies without an overflow check; wrapping is what it does.
        n = n.wrapping_mul(bits as i64);
    }
    if n < 0 || (!ctx.loading() && (n >> 3) >= ctx.config().proto_max_bulk_len) {
        return Err(OFFSET_ERR);
    }
    Ok(n as u64)
}

/// The string for a bit write (Redis's `lookupStringForBitCommand`): made
/// `raw` and zero-padded to hold bit `max_bit`, created when missing.
/// Returns whether it was created or grew.
fn string_for_write(ctx: &mut Ctx<'_>, key: &[u8], max_bit: u64) -> Result<bool, CmdError> {
    let need = (max_bit >> 3) as usize + 1;
    match ctx.db.get_mut(key, ctx.now_ms) {
        None => {
            let mut v = Value::string_encoded(b"", StrEncoding::Raw);
            v.edit_str(|b| b.resize(need, 0));
            ctx.db.add(key, v);
            Ok(true)
        }
        Some(v) => {
            v.as_str().ok_or(CmdError::WrongType)?;
            v.edit_str(|b| {
                let grew = b.len() < need;
                if grew {
                    b.resize(need, 0);
                }
                grew
            })
            .ok_or(CmdError::WrongType)
        }
    }
}

/// Edits the string at `key`, known to exist and be a string.
fn edit<R>(ctx: &mut Ctx<'_>, key: &[u8], f: impl FnOnce(&mut Vec<u8>) -> R) -> Option<R> {
    ctx.db.get_mut(key, ctx.now_ms)?.edit_str(f)
}

/// `SETBIT key offset 0|1`: the bit's old value.
pub fn setbit(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(1);
    let offset = bit_offset(ctx, args.get(2), 0)?;
    let on = crate::util::num::parse_i64(args.get(3)).ok_or(BIT_ERR)?;
    if on & !1 != 0 {
        return Err(BIT_ERR);
    }
    let grew = string_for_write(ctx, key, offset)?;
    let byte = (offset >> 3) as usize;
    let mask = 1u8 << (7 - (offset & 7));
    let old = edit(ctx, key, |b| {
        let old = b[byte] & mask != 0;
        if on == 1 {
            b[byte] |= mask;
        } else {
            b[byte] &= !mask;
        }
        old
    })
    .unwrap_or(false);
    if grew || old != (on == 1) {
        ctx.db.signal_modified_key(key);
        ctx.notify(STRING, "setbit", key);
        ctx.dirty += 1;
    }
    ctx.reply.int(old as i64);
    Ok(())
}

/// `GETBIT key offset`: 0 past the end or when missing.
pub fn getbit(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let offset = bit_offset(ctx, args.get(2), 0)?;
    let bit = match ctx.db.get_str(args.get(1), ctx.now_ms)? {
        None => false,
        Some(s) => {
            let byte = offset >> 3;
            byte < s.len() as u64 && s[byte as usize] & (1 << (7 - (offset & 7))) != 0
        }
    };
    ctx.reply.int(bit as i64);
    Ok(())
}

/// Set bits in `s`, eight bytes at a time.
pub fn popcount(s: &[u8]) -> u64 {
    let mut words = s.chunks_exact(8);
    let mut n: u64 = 0;
    for w in words.by_ref() {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        n += u64::from_ne_bytes(a).count_ones() as u64;
    }
    n + words
        .remainder()
        .iter()
        .map(|b| b.count_ones() as u64)
        .sum::<u64>()
}

/// A BITCOUNT/BITPOS range resolved as Redis does: inclusive bit bounds
/// `[first, last]`, or None when empty.
fn resolve_range(len: i64, mut start: i64, mut end: i64, isbit: bool) -> Option<(u64, u64)> {
    let total = if isbit { len << 3 } else { len };
    if start < 0 {
        start = total.saturating_add(start);
    }
    if end < 0 {
        end = total.saturating_add(end);
    }
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    if start > end {
        return None;
    }
    if isbit {
        Some((start as u64, end as u64))
    } else {
        Some(((start as u64) << 3, ((end as u64) << 3) | 7))
    }
}

/// Set bits of `s` from bit `first` to bit `last`, inclusive.
fn count_bits(s: &[u8], first: u64, last: u64) -> u64 {
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    let mut n = popcount(&s[fb..=lb]);
    // Take away the bits of the edge bytes outside the range.
    let head = !(0xffu8 >> (first & 7));
    let tail = (0xffu32 >> ((last & 7) + 1)) as u8;
    n -= (s[fb] & head).count_ones() as u64;
    n -= (s[lb] & tail).count_ones() as u64;
    n
}

/// BIT or BYTE, as `strcasecmp` matches them.
fn unit(arg: &[u8]) -> Result<bool, CmdError> {
    let a = cstr(arg);
    if args::is(a, "bit") {
        Ok(true)
    } else if args::is(a, "byte") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

/// `BITCOUNT key [start end [BYTE|BIT]]`.
pub fn bitcount(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    // Redis looks the key up first: a missing key is 0 whatever follows.
    let Some(s) = ctx.db.get_str(args.get(1), ctx.now_ms)? else {
        ctx.reply.int(0);
        return Ok(());
    };
    let len = s.len() as i64;
    let range = match args.len() {
        2 => resolve_range(len, 0, -1, false),
        4 | 5 => {
            let start = args::int(args.get(2))?;
            let end = args::int(args.get(3))?;
            if start < 0 && end < 0 && start > end {
                ctx.reply.int(0);
                return Ok(());
            }
            let isbit = if args.len() == 5 {
                unit(args.get(4))?
            } else {
                false
            };
            resolve_range(len, start, end, isbit)
        }
        _ => return Err(CmdError::Syntax),
    };
    let n = range.map_or(0, |(a, b)| count_bits(s, a, b));
    ctx.reply.int(n as i64);
    Ok(())
}

/// The first bit equal to `bit` from bit `first` to `last`, inclusive.
fn find_bit(s: &[u8], first: u64, last: u64, bit: bool) -> Option<u64> {
    let mut i = first;
    // Bit by bit up to a byte boundary, then whole bytes, then the tail.
    while i <= last && i & 7 != 0 {
        if (s[(i >> 3) as usize] >> (7 - (i & 7))) & 1 == bit as u8 {
            return Some(i);
        }
        i += 1;
    }
    let skip = if bit { 0u8 } else { 0xff };
    while i + 7 <= last {
        let b = s[(i >> 3) as usize];
        if b != skip {
            let lead = if bit {
                b.leading_zeros()
            } else {
                b.leading_ones()
            };
            return Some(i + lead as u64);
        }
        i += 8;
    }
    while i <= last {
        if (s[(i >> 3) as usize] >> (7 - (i & 7))) & 1 == bit as u8 {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// `BITPOS key bit [start [end [BYTE|BIT]]]`.
pub fn bitpos(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let bit = args::int(args.get(2))?;
    if bit != 0 && bit != 1 {
        return Err(CmdError::Static("ERR The bit argument must be 1 or 0."));
    }
    let bit = bit == 1;
    // A missing key is an endless run of zeros.
    let Some(s) = ctx.db.get_str(args.get(1), ctx.now_ms)? else {
        ctx.reply.int(if bit { -1 } else { 0 });
        return Ok(());
    };
    let len = s.len() as i64;
    let mut end_given = false;
    let range = match args.len() {
        3 => resolve_range(len, 0, -1, false),
        4..=6 => {
            let start = args::int(args.get(3))?;
            let isbit = if args.len() == 6 {
                unit(args.get(5))?
            } else {
                false
            };
            let end = if args.len() >= 5 {
                end_given = true;
                args::int(args.get(4))?
            } else {
                len - 1
            };
            resolve_range(len, start, if end_given { end } else { i64::MAX }, isbit)
        }
        _ => return Err(CmdError::Syntax),
    };
    let pos = match range {
        None => -1,
        Some((a, b)) => match find_bit(s, a, b, bit) {
            Some(p) => p as i64,
            // Past an open range the string reads as zeros: the first clear
            // bit is the one after its last byte.
            None if !bit && !end_given => (((b >> 3) + 1) << 3) as i64,
            None => -1,
        },
    };
    ctx.reply.int(pos);
    Ok(())
}

/// `BITOP AND|OR|XOR|NOT destkey key [key ...]`: the result's length.
pub fn bitop(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    #[derive(Clone, Copy, PartialEq)]
    enum Op {
        And,
        Or,
        Xor,
        Not,
    }
    let name = cstr(args.get(1));
    let op = if args::is(name, "and") {
        Op::And
    } else if args::is(name, "or") {
        Op::Or
    } else if args::is(name, "xor") {
        Op::Xor
    } else if args::is(name, "not") {
        Op::Not
    } else {
        return Err(CmdError::Syntax);
    };
    if op == Op::Not && args.len() != 4 {
        return Err(CmdError::Static(
            "ERR BITOP NOT must be called with a single source key.",
        ));
    }
    let dest = args.get(2);
    // Copies of the sources: the destination may be one of them.
    let mut srcs: Vec<Option<Vec<u8>>> = Vec::with_capacity(args.len() - 3);
    for j in 3..args.len() {
        srcs.push(ctx.db.get_str(args.get(j), ctx.now_ms)?.map(<[u8]>::to_vec));
    }
    let maxlen = srcs
        .iter()
        .map(|s| s.as_ref().map_or(0, Vec::len))
        .max()
        .unwrap_or(0);
    if maxlen == 0 {
        if ctx.db.remove(dest).is_some() {
            ctx.notify(GENERIC, "del", dest);
            ctx.dirty += 1;
        }
        ctx.reply.int(0);
        return Ok(());
    }
    let get = |s: &Option<Vec<u8>>, i: usize| s.as_ref().and_then(|v| v.get(i)).copied();
    let mut res = vec![0u8; maxlen];
    match op {
        Op::Not => {
            let s = srcs[0].as_deref().unwrap_or(&[]);
            for (r, b) in res.iter_mut().zip(s) {
                *r = !b;
            }
        }
        _ => {
            if let Some(first) = &srcs[0] {
                res[..first.len()].copy_from_slice(first);
            }
            for s in &srcs[1..] {
                for (i, r) in res.iter_mut().enumerate() {
                    let b = get(s, i).unwrap_or(0);
                    match op {
                        Op::And => *r &= b,
                        Op::Or => *r |= b,
                        _ => *r ^= b,
                    }
                }
            }
        }
    }
    let mut v = Value::string_encoded(b"", StrEncoding::Raw);
    v.edit_str(|b| *b = res);
    ctx.db.set(dest, v, false);
    ctx.notify(STRING, "set", dest);
    ctx.dirty += 1;
    ctx.reply.int(maxlen as i64);
    Ok(())
}

/// OVERFLOW's modes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// One BITFIELD operation.
#[derive(Debug, Clone, Copy)]
enum FieldOp {
    Get,
    Set(i64),
    Incr(i64),
}

/// A parsed BITFIELD operation.
struct Field {
    op: FieldOp,
    signed: bool,
    bits: u32,
    offset: u64,
    overflow: Overflow,
}

/// Redis's `getBitfieldTypeFromArgument`: `i1`..`i64` or `u1`..`u63`.
fn field_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(TYPE_ERR),
    };
    let n = crate::util::num::parse_i64(cstr(&arg[1..])).ok_or(TYPE_ERR)?;
    if n < 1 || (signed && n > 64) || (!signed && n > 63) {
        return Err(TYPE_ERR);
    }
    Ok((signed, n as u32))
}

/// The unsigned `bits`-wide field at bit `offset` of `p` (bits past the
/// end read as zero).
fn get_field(p: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for k in 0..bits as u64 {
        let o = offset + k;
        let byte = p.get((o >> 3) as usize).copied().unwrap_or(0);
        v = (v << 1) | ((byte >> (7 - (o & 7))) & 1) as u64;
    }
    v
}

/// Stores the low `bits` bits of `v` at bit `offset` of `p`, which holds
/// them.
fn set_field(p: &mut [u8], offset: u64, bits: u32, v: u64) {
    for k in 0..bits as u64 {
        let bit = (v >> (bits as u64 - 1 - k)) & 1;
        let o = offset + k;
        let mask = 1u8 << (7 - (o & 7));
        let b = &mut p[(o >> 3) as usize];
        if bit == 1 {
            *b |= mask;
        } else {
            *b &= !mask;
        }
    }
}

/// The signed reading of an unsigned field.
fn sign_extend(v: u64, bits: u32) -> i64 {
    if bits < 64 && v & (1 << (bits - 1)) != 0 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

/// Redis's `checkUnsignedBitfieldOverflow`: whether `value + incr`
/// leaves `bits` bits, and the value WRAP or SAT makes of it.
fn unsigned_overflow(value: u64, incr: i64, bits: u32, mode: Overflow) -> Option<u64> {
    let max = (1u64 << bits) - 1;
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = value.wrapping_neg() as i64;
    let wrap = || value.wrapping_add(incr as u64) & max;
    if value > max || (incr > 0 && incr > maxincr) {
        Some(if mode == Overflow::Sat { max } else { wrap() })
    } else if incr < 0 && incr < minincr {
        Some(if mode == Overflow::Sat { 0 } else { wrap() })
    } else {
        None
    }
}

/// Redis's `checkSignedBitfieldOverflow`, likewise.
fn signed_overflow(value: i64, incr: i64, bits: u32, mode: Overflow) -> Option<i64> {
    let max: i64 = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let wrap = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr) {
        Some(if mode == Overflow::Sat { max } else { wrap() })
    } else if value < min
        || (bits != 64 && incr < minincr)
        || (value < 0 && incr < 0 && incr < minincr)
    {
        Some(if mode == Overflow::Sat { min } else { wrap() })
    } else {
        None
    }
}

/// Parses BITFIELD's operations (Redis's order of checks).
fn parse_fields(ctx: &Ctx<'_>, args: &Args<'_>) -> Result<Vec<Field>, CmdError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < args.len() {
        let rem = args.len() - j - 1;
        let sub = cstr(args.get(j));
        let get = args::is(sub, "get") && rem >= 2;
        let set = args::is(sub, "set") && rem >= 3;
        let incr = args::is(sub, "incrby") && rem >= 3;
        if !(get || set || incr) {
            if args::is(sub, "overflow") && rem >= 1 {
                let mode = cstr(args.get(j + 1));
                overflow = if args::is(mode, "wrap") {
                    Overflow::Wrap
                } else if args::is(mode, "sat") {
                    Overflow::Sat
                } else if args::is(mode, "fail") {
                    Overflow::Fail
                } else {
                    return Err(CmdError::Static("ERR Invalid OVERFLOW type specified"));
                };
                j += 2;
                continue;
            }
            return Err(CmdError::Syntax);
        }
        let (signed, bits) = field_type(args.get(j + 1))?;
        let offset = bit_offset(ctx, args.get(j + 2), bits)?;
        let op = if get {
            FieldOp::Get
        } else {
            let n = args::int(args.get(j + 3))?;
            if set {
                FieldOp::Set(n)
            } else {
                FieldOp::Incr(n)
            }
        };
        ops.push(Field {
            op,
            signed,
            bits,
            offset,
            overflow,
        });
        j += if get { 3 } else { 4 };
    }
    Ok(ops)
}

/// One write of BITFIELD on `p`: the reply (None for a FAIL overflow).
fn write_field(p: &mut [u8], f: &Field) -> Option<i64> {
    let old = get_field(p, f.offset, f.bits);
    let (new, reply, over) = if f.signed {
        let old = sign_extend(old, f.bits);
        match f.op {
            FieldOp::Incr(by) => {
                let o = signed_overflow(old, by, f.bits, f.overflow);
                let new = o.unwrap_or(old.wrapping_add(by));
                (new as u64, new, o.is_some())
            }
            FieldOp::Set(v) => {
                let o = signed_overflow(v, 0, f.bits, f.overflow);
                (o.unwrap_or(v) as u64, old, o.is_some())
            }
            FieldOp::Get => return Some(old),
        }
    } else {
        match f.op {
            FieldOp::Incr(by) => {
                let o = unsigned_overflow(old, by, f.bits, f.overflow);
                let new = o.unwrap_or(old.wrapping_add(by as u64));
                (new, new as i64, o.is_some())
            }
            FieldOp::Set(v) => {
                let o = unsigned_overflow(v as u64, 0, f.bits, f.overflow);
                (o.unwrap_or(v as u64), old as i64, o.is_some())
            }
            FieldOp::Get => return Some(old as i64),
        }
    };
    if over && f.overflow == Overflow::Fail {
        return None;
    }
    set_field(p, f.offset, f.bits, new);
    Some(reply)
}

fn bitfield_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, readonly_cmd: bool) -> CmdResult {
    let key = args.get(1);
    let ops = parse_fields(ctx, args)?;
    let highest = ops
        .iter()
        .filter(|f| !matches!(f.op, FieldOp::Get))
        .map(|f| f.offset + f.bits as u64 - 1)
        .max();
    let Some(highest) = highest else {
        // GETs only: a read lookup; a missing key reads as zeros.
        let s = ctx.db.get_str(key, ctx.now_ms)?.unwrap_or(&[]);
        let mut out = Vec::with_capacity(ops.len());
        for f in &ops {
            let v = get_field(s, f.offset, f.bits);
            out.push(if f.signed {
                sign_extend(v, f.bits)
            } else {
                v as i64
            });
        }
        ctx.reply.array_len(out.len());
        for v in out {
            ctx.reply.int(v);
        }
        return Ok(());
    };
    if readonly_cmd {
        return Err(CmdError::Static(
            "ERR BITFIELD_RO only supports the GET subcommand",
        ));
    }
    string_for_write(ctx, key, highest)?;
    let replies = edit(ctx, key, |p| {
        ops.iter().map(|f| write_field(p, f)).collect::<Vec<_>>()
    })
    .unwrap_or_default();
    ctx.reply.array_len(replies.len());
    for r in &replies {
        match r {
            Some(v) => ctx.reply.int(*v),
            None => ctx.reply.null(),
        }
    }
    // Only the writes that happened count: 7.0.15 does not count one that
    // OVERFLOW FAIL skipped (the key it created stays, unpropagated).
    let changes = ops
        .iter()
        .zip(&replies)
        .filter(|(f, r)| !matches!(f.op, FieldOp::Get) && r.is_some())
        .count();
    if changes > 0 {
        ctx.db.signal_modified_key(key);
        ctx.notify(STRING, "setbit", key);
        ctx.dirty += changes as u64;
    }
    Ok(())
}

/// `BITFIELD key [GET type offset | SET type offset value | INCRBY type
/// offset increment | OVERFLOW WRAP|SAT|FAIL] ...`.
pub fn bitfield(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    bitfield_generic(ctx, args, false)
}

/// `BITFIELD_RO key [GET type offset] ...`.
pub fn bitfield_ro(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    bitfield_generic(ctx, args, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn popcount_counts_words_and_tail() {
        let s: Vec<u8> = (0..=255u8).collect();
        let slow: u64 = s.iter().map(|b| b.count_ones() as u64).sum();
        assert_eq!(popcount(&s), slow);
        assert_eq!(
            popcount(&s[3..20]),
            s[3..20].iter().map(|b| b.count_ones() as u64).sum()
        );
    }

    #[test]
    fn count_bits_trims_edges() {
        let s = [0xffu8, 0xff, 0xff];
        assert_eq!(count_bits(&s, 0, 23), 24);
        assert_eq!(count_bits(&s, 3, 5), 3);
        assert_eq!(count_bits(&s, 5, 17), 13);
    }

    #[test]
    fn fields_round_trip() {
        let mut p = [0u8; 9];
        set_field(&mut p, 5, 64, 0x8000_0000_0000_0001);
        assert_eq!(get_field(&p, 5, 64), 0x8000_0000_0000_0001);
        assert_eq!(sign_extend(0b101, 3), -3);
        assert_eq!(signed_overflow(127, 1, 8, Overflow::Wrap), Some(-128));
        assert_eq!(signed_overflow(127, 1, 8, Overflow::Sat), Some(127));
        assert_eq!(unsigned_overflow(255, 1, 8, Overflow::Wrap), Some(0));
        assert_eq!(unsigned_overflow(0, -1, 8, Overflow::Sat), Some(0));
        assert_eq!(unsigned_overflow(3, -1, 8, Overflow::Sat), None);
    }
}
