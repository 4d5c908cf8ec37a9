//! String commands, as Redis 7.0's `t_string.c`: SET and its variants
//! (SETNX, SETEX, PSETEX, GETSET, MSET, MSETNX), GET and its variants
//! (GETDEL, GETEX, MGET), in-place edits (APPEND, SETRANGE), ranges
//! (GETRANGE, SUBSTR, STRLEN), counters (INCR, DECR, INCRBY, DECRBY,
//! INCRBYFLOAT) and LCS.
//!
//! Encodings follow Redis's `tryObjectEncoding`: a value set as given is
//! `int` when it is a canonical integer, else `embstr`/`raw` by length
//! (`Value::string`); counters store `int`; APPEND and SETRANGE leave `raw`
//! (Redis's `dbUnshareStringValue`); INCRBYFLOAT stores its text as given.
//!
//! Propagation follows Redis exactly: a relative or absolute expiry becomes
//! `SET key value PXAT ms` (or `PEXPIREAT` for GETEX), GETSET becomes SET,
//! GETDEL becomes DEL, INCRBYFLOAT becomes `SET key value KEEPTTL`, and
//! SET's GET arguments are dropped.
//!
//! Keyspace events are Redis's: `set` (SET and its variants, GETSET, MSET),
//! `expire` after it for an expiry option, `append`, `setrange`, `incrby`
//! (INCR, DECR, INCRBY, DECRBY), `incrbyfloat`, `del` (GETDEL, GETEX with a
//! time already past), `expire` and `persist` (GETEX). In-place edits signal
//! the key themselves; `Db` signals the rest.

use super::args::{self, is};
use super::Ctx;
use crate::db::value::{StrEncoding, Value};
use crate::db::LOADING_NOW;
use crate::error::{CmdError, CmdResult};
use crate::notify::{GENERIC, STRING};
use crate::resp::parser::Args;
use crate::util::num::{self, FloatIncrError};

// Option flags of SET and GETEX (Redis's OBJ_* flags).
const NX: u16 = 1 << 0;
const XX: u16 = 1 << 1;
const EX: u16 = 1 << 2;
const PX: u16 = 1 << 3;
const KEEPTTL: u16 = 1 << 4;
const GET: u16 = 1 << 5;
const EXAT: u16 = 1 << 6;
const PXAT: u16 = 1 << 7;
const PERSIST: u16 = 1 << 8;

/// Any of the four expiry options.
const ANY_EXPIRE: u16 = EX | PX | EXAT | PXAT;

/// Which command's options `parse_extended` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// GETEX: PERSIST and the expiry options.
    Get,
    /// SET: NX, XX, GET, KEEPTTL and the expiry options.
    Set,
}

/// The parsed options of SET or GETEX.
struct Extended<'a> {
    flags: u16,
    /// The argument of EX/PX/EXAT/PXAT (the last one given).
    expire: Option<&'a [u8]>,
}

/// An argument as C sees it: up to its first NUL. Redis matches option
/// names with `strcasecmp` and byte tests on the sds, so `"NX\0junk"` is NX.
fn cstr(arg: &[u8]) -> &[u8] {
    match arg.iter().position(|&c| c == 0) {
        Some(n) => &arg[..n],
        None => arg,
    }
}

/// Redis's `parseExtendedStringArgumentsOrReply`: options after the value
/// (SET) or the key (GETEX). Repeating an option is allowed; combining
/// exclusive ones is a syntax error, as is a trailing EX with no value.
fn parse_extended<'a>(args: &Args<'a>, family: Family) -> Result<Extended<'a>, CmdError> {
    let set = family == Family::Set;
    let mut flags = 0u16;
    let mut expire = None;
    let mut j = if set { 3 } else { 2 };
    while j < args.len() {
        let opt = cstr(args.get(j));
        let has_next = j + 1 < args.len();
        let without = |mask: u16| flags & mask == 0;
        if set && is(opt, "NX") && without(XX) {
            flags |= NX;
        } else if set && is(opt, "XX") && without(NX) {
            flags |= XX;
        } else if set && is(opt, "GET") {
            flags |= GET;
        } else if set && is(opt, "KEEPTTL") && without(PERSIST | ANY_EXPIRE) {
            flags |= KEEPTTL;
        } else if !set && is(opt, "PERSIST") && without(ANY_EXPIRE | KEEPTTL) {
            flags |= PERSIST;
        } else if is(opt, "EX") && without(KEEPTTL | PERSIST | EXAT | PX | PXAT) && has_next {
            flags |= EX;
        } else if is(opt, "PX") && without(KEEPTTL | PERSIST | EX | EXAT | PXAT) && has_next {
            flags |= PX;
        } else if is(opt, "EXAT") && without(KEEPTTL | PERSIST | EX | PX | PXAT) && has_next {
            flags |= EXAT;
        } else if is(opt, "PXAT") && without(KEEPTTL | PERSIST | EX | EXAT | PX) && has_next {
            flags |= PXAT;
        } else {
            return Err(CmdError::Syntax);
        }
        if is(opt, "EX") || is(opt, "PX") || is(opt, "EXAT") || is(opt, "PXAT") {
            expire = Some(args.get(j + 1));
            j += 1;
        }
        j += 1;
    }
    Ok(Extended { flags, expire })
}

/// Redis's `mstime()` for relative expiry: the command's clock, or the real
/// clock while loading (where `now_ms` is `LOADING_NOW`).
fn mstime(ctx: &Ctx<'_>) -> i64 {
    if ctx.now_ms == LOADING_NOW {
        crate::util::time::unix_ms()
    } else {
        ctx.now_ms
    }
}

/// Redis's `getExpireMillisecondsOrReply`: the absolute expiry time in ms
/// for an EX/PX/EXAT/PXAT argument. Zero, negative and overflowing times
/// are `invalid expire time in '<command>' command`.
fn expire_at_ms(ctx: &Ctx<'_>, arg: &[u8], flags: u16) -> Result<i64, CmdError> {
    let invalid = CmdError::InvalidExpire(ctx.spec.fullname);
    let mut ms = args::int(arg)?;
    let seconds = flags & (PX | PXAT) == 0;
    if ms <= 0 || (seconds && ms > i64::MAX / 1000) {
        return Err(invalid);
    }
    if seconds {
        ms *= 1000;
    }
    if flags & (EX | PX) != 0 {
        // C's signed overflow wraps in practice; the check below catches it.
        ms = ms.wrapping_add(mstime(ctx));
    }
    if ms <= 0 {
        return Err(invalid);
    }
    Ok(ms)
}

/// The longest string APPEND and SETRANGE may make: `proto-max-bulk-len`,
/// or, while loading the AOF, only what memory can address (Redis skips the
/// check for the AOF client, `mustObeyClient`).
fn string_limit(ctx: &Ctx<'_>) -> i64 {
    if ctx.loading() {
        isize::MAX as i64
    } else {
        ctx.config().proto_max_bulk_len
    }
}

/// Redis's `checkStringLength`: a string of `size + append` bytes must fit
/// in `max`, without overflow.
fn check_string_length(max: i64, size: i64, append: usize) -> CmdResult {
    let append = append as i64;
    let total = (size as u64).wrapping_add(append as u64) as i64;
    if total > max || total < size || total < append {
        return Err(CmdError::StringTooBig);
    }
    Ok(())
}

/// How `set_generic` replies: SET's `+OK`/nil or SETNX's `:1`/`:0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetReply {
    OkOrNull,
    OneOrZero,
}

/// Redis's `setGenericCommand`, shared by SET, SETNX, SETEX and PSETEX.
fn set_generic(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    flags: u16,
    key: &[u8],
    val: &[u8],
    expire: Option<&[u8]>,
    style: SetReply,
) -> CmdResult {
    let now = ctx.now_ms;
    let when = match expire {
        Some(arg) => Some(expire_at_ms(ctx, arg, flags)?),
        None => None,
    };
    if flags & GET != 0 {
        match ctx.db.get(key, now) {
            None => ctx.reply.null(),
            Some(v) => match v.as_str() {
                Some(s) => ctx.reply.bulk(s),
                None => return Err(CmdError::WrongType),
            },
        }
    }
    // lookupKeyWrite: lazy expiry (its DEL goes to the AOF first); whether
    // the key exists matters only for NX and XX.
    let found = if flags & (NX | XX) != 0 {
        ctx.db.exists(key, now)
    } else {
        ctx.db.expire_if_needed_for_write(key, now);
        false
    };
    if (flags & NX != 0 && found) || (flags & XX != 0 && !found) {
        if flags & GET == 0 {
            match style {
                SetReply::OkOrNull => ctx.reply.null(),
                SetReply::OneOrZero => ctx.reply.int(0),
            }
        }
        return Ok(());
    }
    ctx.db.set(key, Value::string(val), flags & KEEPTTL != 0);
    ctx.dirty += 1;
    ctx.notify(STRING, "set", key);
    if let Some(ms) = when {
        ctx.db.set_expire(key, ms);
        ctx.notify(GENERIC, "expire", key);
        let mut buf = [0u8; num::MAX_I64_LEN];
        let ms = num::fmt_i64(ms, &mut buf);
        ctx.propagate_as(&[b"SET", key, val, b"PXAT", ms]);
    }
    if flags & GET == 0 {
        match style {
            SetReply::OkOrNull => ctx.reply.ok(),
            SetReply::OneOrZero => ctx.reply.int(1),
        }
    } else if when.is_none() {
        // Replay must not depend on GET: drop it (it may be repeated).
        let argv: Vec<&[u8]> = (0..args.len())
            .map(|j| args.get(j))
            .enumerate()
            .filter(|&(j, a)| j < 3 || !is(cstr(a), "GET"))
            .map(|(_, a)| a)
            .collect();
        ctx.propagate_as(&argv);
    }
    Ok(())
}

/// `SET key value [NX | XX] [GET] [EX s | PX ms | EXAT ts | PXAT ms-ts | KEEPTTL]`.
pub fn set(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let opts = parse_extended(args, Family::Set)?;
    set_generic(
        ctx,
        args,
        opts.flags,
        args.get(1),
        args.get(2),
        opts.expire,
        SetReply::OkOrNull,
    )
}

/// `SETNX key value`: 1 when set, 0 when the key exists.
pub fn setnx(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (key, val) = (args.get(1), args.get(2));
    set_generic(ctx, args, NX, key, val, None, SetReply::OneOrZero)
}

/// `SETEX key seconds value`.
pub fn setex(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (key, ttl, val) = (args.get(1), args.get(2), args.get(3));
    set_generic(ctx, args, EX, key, val, Some(ttl), SetReply::OkOrNull)
}

/// `PSETEX key milliseconds value`.
pub fn psetex(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (key, ttl, val) = (args.get(1), args.get(2), args.get(3));
    set_generic(ctx, args, PX, key, val, Some(ttl), SetReply::OkOrNull)
}

/// `GET key`: the value, nil when missing, WRONGTYPE for other types.
pub fn get(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    match ctx.db.get_str(args.get(1), ctx.now_ms)? {
        Some(s) => ctx.reply.bulk(s),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// Replies with the string at `key` (nil when missing) as Redis's
/// `getGenericCommand`; returns whether the key exists.
fn reply_get(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<bool, CmdError> {
    match ctx.db.get_str(key, ctx.now_ms)? {
        Some(s) => {
            ctx.reply.bulk(s);
            Ok(true)
        }
        None => {
            ctx.reply.null();
            Ok(false)
        }
    }
}

/// `GETDEL key`: the value, then the key is deleted (propagated as DEL).
pub fn getdel(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(1);
    if reply_get(ctx, key)? && ctx.db.remove(key).is_some() {
        ctx.dirty += 1;
        ctx.notify(GENERIC, "del", key);
        ctx.propagate_as(&[b"DEL", key]);
    }
    Ok(())
}

/// `GETEX key [EX s | PX ms | EXAT ts | PXAT ms-ts | PERSIST]`: the value,
/// and the TTL changed as asked (propagated as PEXPIREAT, PERSIST, or DEL
/// when an absolute time has already passed).
pub fn getex(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let opts = parse_extended(args, Family::Get)?;
    let key = args.get(1);
    let now = ctx.now_ms;
    // The expiry is validated after the type check, but it depends only on
    // the arguments: compute it now, report it in Redis's order.
    let when = opts.expire.map(|arg| expire_at_ms(ctx, arg, opts.flags));
    match ctx.db.get(key, now) {
        None => {
            ctx.reply.null();
            return Ok(());
        }
        Some(v) => {
            let s = v.as_str().ok_or(CmdError::WrongType)?;
            let when = when.transpose()?;
            ctx.reply.bulk(s);
            getex_apply(ctx, key, opts.flags, when);
        }
    }
    Ok(())
}

/// GETEX's effect on the TTL, after the reply.
fn getex_apply(ctx: &mut Ctx<'_>, key: &[u8], flags: u16, when: Option<i64>) {
    let now = ctx.now_ms;
    let absolute = flags & (EXAT | PXAT) != 0;
    match when {
        // Redis's checkAlreadyExpired: never while loading.
        Some(ms) if absolute && now != LOADING_NOW && ms <= now => {
            ctx.db.remove(key);
            ctx.dirty += 1;
            ctx.notify(GENERIC, "del", key);
            ctx.propagate_as(&[b"DEL", key]);
        }
        Some(ms) => {
            ctx.db.set_expire(key, ms);
            ctx.dirty += 1;
            ctx.notify(GENERIC, "expire", key);
            let mut buf = [0u8; num::MAX_I64_LEN];
            let ms = num::fmt_i64(ms, &mut buf);
            ctx.propagate_as(&[b"PEXPIREAT", key, ms]);
        }
        // PERSIST changes (and propagates) only when there was a TTL.
        None if flags & PERSIST != 0 && ctx.db.persist(key) => {
            ctx.dirty += 1;
            ctx.notify(GENERIC, "persist", key);
            ctx.propagate_as(&[b"PERSIST", key]);
        }
        None => {}
    }
}

/// `GETSET key value`: the old value, then SET (propagated as SET).
pub fn getset(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (key, val) = (args.get(1), args.get(2));
    reply_get(ctx, key)?;
    ctx.db.set(key, Value::string(val), false);
    ctx.dirty += 1;
    ctx.notify(STRING, "set", key);
    ctx.propagate_as(&[b"SET", key, val]);
    Ok(())
}

/// `MGET key [key ...]`: nil for missing keys and for other types.
pub fn mget(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let now = ctx.now_ms;
    ctx.reply.array_len(args.len() - 1);
    for key in args.iter_from(1) {
        match ctx.db.get(key, now).and_then(|v| v.as_str()) {
            Some(s) => ctx.reply.bulk(s),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

/// Redis's `msetGenericCommand`: MSET, and MSETNX (`nx`), which sets
/// nothing when any key exists.
fn mset_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, nx: bool) -> CmdResult {
    if args.len() % 2 == 0 {
        return Err(CmdError::Arity(ctx.spec.fullname));
    }
    let now = ctx.now_ms;
    if nx {
        for j in (1..args.len()).step_by(2) {
            if ctx.db.exists(args.get(j), now) {
                ctx.reply.int(0);
                return Ok(());
            }
        }
    }
    for j in (1..args.len()).step_by(2) {
        let key = args.get(j);
        ctx.db.set(key, Value::string(args.get(j + 1)), false);
        ctx.notify(STRING, "set", key);
    }
    ctx.dirty += (args.len() as u64 - 1) / 2;
    if nx {
        ctx.reply.int(1);
    } else {
        ctx.reply.ok();
    }
    Ok(())
}

/// `MSET key value [key value ...]`.
pub fn mset(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    mset_generic(ctx, args, false)
}

/// `MSETNX key value [key value ...]`: 1 when all were set, 0 when none.
pub fn msetnx(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    mset_generic(ctx, args, true)
}

/// `APPEND key value`: the new length. A new key is stored as SET would;
/// an existing one becomes `raw`.
pub fn append(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (key, val) = (args.get(1), args.get(2));
    let limit = string_limit(ctx);
    // lookupKeyWrite: lazy expiry, no hit/miss counting.
    let len = match ctx.db.get_mut(key, ctx.now_ms) {
        None => {
            ctx.db.add(key, Value::string(val));
            val.len()
        }
        Some(v) => {
            let old = v.as_str().ok_or(CmdError::WrongType)?.len();
            check_string_length(limit, old as i64, val.len())?;
            let len = v
                .edit_str(|b| {
                    b.extend_from_slice(val);
                    b.len()
                })
                .ok_or(CmdError::WrongType)?;
            ctx.db.signal_modified_key(key);
            len
        }
    };
    ctx.dirty += 1;
    ctx.notify(STRING, "append", key);
    ctx.reply.int(len as i64);
    Ok(())
}

/// `STRLEN key`: 0 when missing.
pub fn strlen(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let len = ctx
        .db
        .get_str(args.get(1), ctx.now_ms)?
        .map_or(0, |s| s.len());
    ctx.reply.int(len as i64);
    Ok(())
}

/// `SETRANGE key offset value`: overwrites from `offset`, zero-padding as
/// needed; the new length. An empty value changes nothing.
pub fn setrange(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(1);
    let offset = args::int(args.get(2))?;
    let value = args.get(3);
    if offset < 0 {
        return Err(CmdError::Static("ERR offset is out of range"));
    }
    let limit = string_limit(ctx);
    let write = |b: &mut Vec<u8>| {
        let offset = offset as usize;
        let end = offset + value.len();
        if b.len() < end {
            b.resize(end, 0);
        }
        b[offset..end].copy_from_slice(value);
        b.len()
    };
    // lookupKeyWrite: lazy expiry, no hit/miss counting.
    let len = match ctx.db.get_mut(key, ctx.now_ms) {
        None => {
            if value.is_empty() {
                ctx.reply.int(0);
                return Ok(());
            }
            check_string_length(limit, offset, value.len())?;
            let mut v = Value::string_encoded(b"", StrEncoding::Raw);
            let len = v.edit_str(write).unwrap_or(0);
            ctx.db.add(key, v);
            len
        }
        Some(v) => {
            let old = v.as_str().ok_or(CmdError::WrongType)?.len();
            if value.is_empty() {
                ctx.reply.int(old as i64);
                return Ok(());
            }
            check_string_length(limit, offset, value.len())?;
            let len = v.edit_str(write).ok_or(CmdError::WrongType)?;
            ctx.db.signal_modified_key(key);
            len
        }
    };
    ctx.dirty += 1;
    ctx.notify(STRING, "setrange", key);
    ctx.reply.int(len as i64);
    Ok(())
}

/// `GETRANGE key start end`: the inclusive substring, negative indexes
/// counting from the end; empty when missing or out of range.
pub fn getrange(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let mut start = args::int(args.get(2))?;
    let mut end = args::int(args.get(3))?;
    let Some(s) = ctx.db.get_str(args.get(1), ctx.now_ms)? else {
        ctx.reply.bulk(b"");
        return Ok(());
    };
    let len = s.len() as i64;
    if start < 0 && end < 0 && start > end {
        ctx.reply.bulk(b"");
        return Ok(());
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        ctx.reply.bulk(b"");
    } else {
        ctx.reply.bulk(&s[start as usize..=end as usize]);
    }
    Ok(())
}

/// `SUBSTR key start end`: GETRANGE's old name.
pub fn substr(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    getrange(ctx, args)
}

/// Redis's `incrDecrCommand`: adds `by` to the integer at `key` (0 when
/// missing), keeping its TTL; the result is stored with encoding `int`.
fn incr_decr(ctx: &mut Ctx<'_>, key: &[u8], by: i64) -> CmdResult {
    let now = ctx.now_ms;
    let n = match ctx.db.get_mut(key, now) {
        Some(v) => {
            let s = v.as_str().ok_or(CmdError::WrongType)?;
            let old = num::parse_i64(s).ok_or(CmdError::NotInteger)?;
            let n = old.checked_add(by).ok_or(CmdError::Overflow)?;
            *v = Value::integer(n);
            ctx.db.signal_modified_key(key);
            n
        }
        None => {
            ctx.db.add(key, Value::integer(by));
            by
        }
    };
    ctx.dirty += 1;
    ctx.notify(STRING, "incrby", key);
    ctx.reply.int(n);
    Ok(())
}

/// `INCR key`.
pub fn incr(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    incr_decr(ctx, args.get(1), 1)
}

/// `DECR key`.
pub fn decr(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    incr_decr(ctx, args.get(1), -1)
}

/// `INCRBY key increment`.
pub fn incrby(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let by = args::int(args.get(2))?;
    incr_decr(ctx, args.get(1), by)
}

/// `DECRBY key decrement`.
pub fn decrby(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let by = args::int(args.get(2))?;
    if by == i64::MIN {
        return Err(CmdError::Static("ERR decrement would overflow"));
    }
    incr_decr(ctx, args.get(1), -by)
}

/// `INCRBYFLOAT key increment`: long double arithmetic and formatting, as
/// Redis; propagated as `SET key result KEEPTTL` so replay is exact.
pub fn incrbyfloat(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (key, by) = (args.get(1), args.get(2));
    let now = ctx.now_ms;
    let to_err = |e: FloatIncrError| match e {
        FloatIncrError::CurrentNotFloat | FloatIncrError::IncrNotFloat => CmdError::NotFloat,
        FloatIncrError::NanOrInfinity | FloatIncrError::IncrNanOrInfinity => {
            CmdError::Static("ERR increment would produce NaN or Infinity")
        }
    };
    let new = match ctx.db.get_mut(key, now) {
        Some(v) => {
            let s = v.as_str().ok_or(CmdError::WrongType)?;
            let new = num::long_double_incr(Some(s), by).map_err(to_err)?;
            *v = Value::string_encoded(&new, StrEncoding::Auto);
            ctx.db.signal_modified_key(key);
            new
        }
        None => {
            let new = num::long_double_incr(None, by).map_err(to_err)?;
            ctx.db
                .add(key, Value::string_encoded(&new, StrEncoding::Auto));
            new
        }
    };
    ctx.dirty += 1;
    ctx.notify(STRING, "incrbyfloat", key);
    ctx.reply.bulk(&new);
    ctx.propagate_as(&[b"SET", key, &new, b"KEEPTTL"]);
    Ok(())
}

/// `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]`: the
/// longest common subsequence, its length, or its matching ranges, by
/// Redis 7.0's dynamic programming table (refused past `proto-max-bulk-len`
/// bytes of table).
pub fn lcs(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (ka, kb) = (args.get(1), args.get(2));
    let now = ctx.now_ms;
    let a_is_str = ctx.db.get(ka, now).map(|v| v.as_str().is_some());
    let b_is_str = ctx.db.get(kb, now).map(|v| v.as_str().is_some());
    if a_is_str == Some(false) || b_is_str == Some(false) {
        return Err(CmdError::Static(
            "ERR The specified keys must contain string values",
        ));
    }
    let (mut getlen, mut getidx, mut withmatchlen) = (false, false, false);
    let mut minmatchlen = 0i64;
    let mut j = 3;
    while j < args.len() {
        let opt = cstr(args.get(j));
        let more = j + 1 < args.len();
        if is(opt, "IDX") {
            getidx = true;
        } else if is(opt, "LEN") {
            getlen = true;
        } else if is(opt, "WITHMATCHLEN") {
            withmatchlen = true;
        } else if is(opt, "MINMATCHLEN") && more {
            minmatchlen = args::int(args.get(j + 1))?.max(0);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    if getlen && getidx {
        return Err(CmdError::Static(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    let a = ctx.db.dict.get(ka).and_then(|v| v.as_str()).unwrap_or(b"");
    let b = ctx.db.dict.get(kb).and_then(|v| v.as_str()).unwrap_or(b"");
    if a.len() as u64 >= u32::MAX as u64 - 1 || b.len() as u64 >= u32::MAX as u64 - 1 {
        return Err(CmdError::Static("ERR String too long for LCS"));
    }
    let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1);
    let bytes = cells.checked_mul(4);
    let fail =
        CmdError::Static("ERR Insufficient memory, failed allocating transient memory for LCS");
    let Some(bytes) = bytes.filter(|&n| n < usize::MAX as u64) else {
        return Err(fail);
    };
    if bytes > ctx.config().proto_max_bulk_len as u64 {
        return Err(CmdError::Static(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let table = LcsTable::build(a, b).ok_or(fail)?;
    let total = table.at(a.len(), b.len());
    let reply = &mut *ctx.reply;
    if getlen && !getidx {
        reply.int(total as i64);
        return Ok(());
    }

    // Walk back from the end, emitting ranges (IDX) or the string itself.
    let mut result = vec![0u8; total as usize];
    let mut idx = total as usize;
    let deferred = if getidx {
        reply.map_len(2);
        reply.bulk(b"matches");
        Some(reply.defer_len())
    } else {
        None
    };
    let alen = a.len();
    let unset = alen; // arange_start == alen: no range in progress
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (unset, 0usize, 0usize, 0usize);
    let mut ranges = 0usize;
    let (mut i, mut j) = (a.len(), b.len());
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            if a_start == unset {
                a_start = i - 1;
                a_end = i - 1;
                b_start = j - 1;
                b_end = j - 1;
            } else if a_start == i && b_start == j {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if table.at(i - 1, j) > table.at(i, j - 1) {
                i -= 1;
            } else {
                j -= 1;
            }
            if a_start != unset {
                emit = true;
            }
        }
        if emit {
            let match_len = a_end.wrapping_sub(a_start).wrapping_add(1) as u32;
            if deferred.is_some() && (minmatchlen == 0 || match_len as i64 >= minmatchlen) {
                reply.array_len(2 + withmatchlen as usize);
                reply.array_len(2);
                reply.int(a_start as i64);
                reply.int(a_end as i64);
                reply.array_len(2);
                reply.int(b_start as i64);
                reply.int(b_end as i64);
                if withmatchlen {
                    reply.int(match_len as i64);
                }
                ranges += 1;
            }
            a_start = unset;
        }
    }
    match deferred {
        Some(d) => {
            reply.bulk(b"len");
            reply.int(total as i64);
            reply.set_deferred_array(d, ranges);
        }
        None => reply.bulk(&result),
    }
    Ok(())
}

/// The LCS lengths of every pair of prefixes: `at(i, j)` is the length of
/// the LCS of `a[..i]` and `b[..j]`.
struct LcsTable {
    cells: Vec<u32>,
    width: usize,
}

impl LcsTable {
    /// Fills the table; None when it cannot be allocated.
    fn build(a: &[u8], b: &[u8]) -> Option<LcsTable> {
        let width = b.len() + 1;
        let n = (a.len() + 1).checked_mul(width)?;
        let mut cells = Vec::new();
        cells.try_reserve_exact(n).ok()?;
        cells.resize(n, 0u32);
        for i in 1..=a.len() {
            let (prev, cur) = cells[(i - 1) * width..(i + 1) * width].split_at_mut(width);
            let ai = a[i - 1];
            for j in 1..width {
                cur[j] = if ai == b[j - 1] {
                    prev[j - 1] + 1
                } else {
                    prev[j].max(cur[j - 1])
                };
            }
        }
        Some(LcsTable { cells, width })
    }

    fn at(&self, i: usize, j: usize) -> u32 {
        self.cells[i * self.width + j]
    }
}
