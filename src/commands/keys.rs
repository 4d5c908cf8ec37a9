//! Keyspace commands, as Redis 7.0's `db.c`, `expire.c` and `object.c`: DEL,
//! UNLINK, EXISTS, TYPE, KEYS, SCAN, RANDOMKEY, RENAME, RENAMENX, COPY, MOVE,
//! the EXPIRE family, TTL and friends, PERSIST, TOUCH and OBJECT.
//!
//! Lookups follow Redis's flavours (see `db`): reads that count hits and
//! touch the access clock (`get`), writes that touch without counting
//! (`get_mut`, `exists`), and the `LOOKUP_NOTOUCH` reads (`peek`) of
//! EXISTS, TYPE, TTL and SCAN TYPE, and OBJECT's (`peek_quiet`, no
//! `keymiss`). Expiry times go to the AOF as
//! absolute `PEXPIREAT`s, and an expire already in the past as the `DEL` it
//! caused.
//!
//! Keyspace events are Redis's, all of class `g`: `del` for each key
//! removed (DEL, UNLINK, an expire time already past), `rename_from` and
//! `rename_to`, `move_from` (this database) and `move_to` (the other),
//! `copy_to` (in the destination database), `expire`, `persist`. `Db`
//! signals the keys and emits `new` for the key created by RENAME, MOVE and
//! COPY, `keymiss` for the read lookups that miss (EXISTS, TYPE, TTL,
//! TOUCH, COPY's source; not OBJECT's, as Redis's `LOOKUP_NONOTIFY`).

use super::args::{self, is, ScanOpts};
use super::Ctx;
use crate::db::value::{StrEncoding, ValueRef};
use crate::db::{lru, Db, LOADING_NOW};
use crate::error::{CmdError, CmdResult};
use crate::notify::{notify_keyspace_event, GENERIC};
use crate::resp::parser::Args;
use crate::util::{glob, num};

/// MOVE and COPY to the same place.
const SAME_OBJECT: CmdError = CmdError::Static("ERR source and destination objects are the same");

/// The wall clock: the command's, or the real one while loading (Redis
/// reads `mstime()` there too; only expiry decisions freeze while loading).
fn wall_ms(ctx: &Ctx<'_>) -> i64 {
    if ctx.now_ms == LOADING_NOW {
        crate::util::time::unix_ms()
    } else {
        ctx.now_ms
    }
}

/// `DEL key [key ...]`: the number of keys removed.
pub fn del(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    del_generic(ctx, args, false)
}

/// `UNLINK key [key ...]`: DEL, freeing big values on the lazyfree thread.
pub fn unlink(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    del_generic(ctx, args, true)
}

/// Redis's `delGenericCommand`: expired keys count as missing (their DEL
/// goes to the AOF as an expiry).
fn del_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, lazy: bool) -> CmdResult {
    let now = ctx.now_ms;
    let mut deleted = 0;
    for key in args.iter_from(1) {
        ctx.db.expire_if_needed(key, now);
        if let Some(v) = ctx.db.remove(key) {
            if lazy {
                ctx.free_later(v);
            }
            ctx.notify(GENERIC, "del", key);
            deleted += 1;
        }
    }
    ctx.dirty += deleted as u64;
    ctx.reply.int(deleted);
    Ok(())
}

/// `EXISTS key [key ...]`: how many of the keys exist, repeats counted.
pub fn exists(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let now = ctx.now_ms;
    let mut count = 0;
    for key in args.iter_from(1) {
        count += ctx.db.peek(key, now).is_some() as i64;
    }
    ctx.reply.int(count);
    Ok(())
}

/// The name TYPE and SCAN TYPE use for a key's value, `none` when missing.
fn type_name(db: &mut Db, key: &[u8], now: i64) -> &'static str {
    db.peek(key, now).map_or("none", |(v, _)| v.kind().name())
}

/// `TYPE key`: a status reply naming the type, `none` when missing.
pub fn type_(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let name = type_name(ctx.db, args.get(1), ctx.now_ms);
    ctx.reply.simple(name);
    Ok(())
}

/// `KEYS pattern`: every live key matching (logically expired keys are
/// skipped, not deleted, as Redis's `keysCommand`).
pub fn keys(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let pattern = args.get(1);
    let all = pattern == b"*";
    let now = ctx.now_ms;
    let db = &*ctx.db;
    let reply = &mut *ctx.reply;
    let d = reply.defer_len();
    let mut n = 0;
    for (key, _) in db.dict.iter() {
        if (all || glob::matches(pattern, key, false)) && !db.is_expired(key, now) {
            reply.bulk(key);
            n += 1;
        }
    }
    reply.set_deferred_array(d, n);
    Ok(())
}

/// `SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]`: one step of
/// Redis's `scanGenericCommand` over the key table. At most `COUNT * 10`
/// extra buckets are visited; keys are then filtered by pattern, type and
/// expiry (expired ones are deleted).
pub fn scan(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let o = ScanOpts::parse(args, 1, true)?;
    let now = ctx.now_ms;
    // Keys found, end to end in one buffer.
    let mut buf: Vec<u8> = Vec::new();
    let mut ends: Vec<usize> = Vec::new();
    let mut cursor = o.cursor;
    let mut iterations_left = o.count.saturating_mul(10);
    loop {
        cursor = ctx.db.dict.scan(cursor, |k, _| {
            buf.extend_from_slice(k);
            ends.push(buf.len());
        });
        if cursor == 0 || iterations_left == 0 {
            break;
        }
        iterations_left -= 1;
        if ends.len() >= o.count {
            break;
        }
    }
    let mut keep = Vec::with_capacity(ends.len());
    let mut start = 0;
    for &end in &ends {
        let key = &buf[start..end];
        let mut wanted = o.pattern.is_none_or(|p| glob::matches(p, key, false));
        if wanted {
            if let Some(t) = o.type_name {
                wanted = type_name(ctx.db, key, now)
                    .as_bytes()
                    .eq_ignore_ascii_case(t);
            }
        }
        if wanted && ctx.db.expire_if_needed(key, now) {
            wanted = false;
        }
        if wanted {
            keep.push((start, end));
        }
        start = end;
    }
    ctx.reply.array_len(2);
    // Redis writes the unsigned cursor with addReplyBulkLongLong.
    ctx.reply.bulk_i64(cursor as i64);
    ctx.reply.array_len(keep.len());
    for (s, e) in keep {
        ctx.reply.bulk(&buf[s..e]);
    }
    Ok(())
}

/// `RANDOMKEY`: a random live key, nil when the database is empty.
pub fn randomkey(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let now = ctx.now_ms;
    let (db, reply, _, rng) = ctx.split();
    match db.random_key(rng, now) {
        Some(k) => reply.bulk(&k),
        None => reply.null(),
    }
    Ok(())
}

/// `RENAME key newkey`: OK; `ERR no such key` when `key` is missing.
pub fn rename(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    rename_generic(ctx, args, false)
}

/// `RENAMENX key newkey`: 1, or 0 when `newkey` exists.
pub fn renamenx(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    rename_generic(ctx, args, true)
}

/// Redis's `renameGenericCommand`: the value moves with its TTL and access
/// clock; renaming a key to itself checks only that it exists.
fn rename_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, nx: bool) -> CmdResult {
    let (src, dst) = (args.get(1), args.get(2));
    let now = ctx.now_ms;
    if !ctx.db.exists(src, now) {
        return Err(CmdError::NoSuchKey);
    }
    if src == dst {
        if nx {
            ctx.reply.int(0);
        } else {
            ctx.reply.ok();
        }
        return Ok(());
    }
    if ctx.db.exists(dst, now) {
        if nx {
            ctx.reply.int(0);
            return Ok(());
        }
        ctx.db.remove(dst);
    }
    if let Some(e) = ctx.db.take_entry(src) {
        ctx.db.put_entry(dst, e);
        ctx.dirty += 1;
        ctx.notify(GENERIC, "rename_from", src);
        ctx.notify(GENERIC, "rename_to", dst);
    }
    if nx {
        ctx.reply.int(1);
    } else {
        ctx.reply.ok();
    }
    Ok(())
}

/// `MOVE key db`: 1 when moved, 0 when missing here or present there.
pub fn move_(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(1);
    let dst = args::db_index(args.get(2), ctx.db_count(), None)?;
    if dst == ctx.db_index {
        return Err(SAME_OBJECT);
    }
    let now = ctx.now_ms;
    if !ctx.db.exists(key, now) {
        ctx.reply.int(0);
        return Ok(());
    }
    let taken = match ctx.other_db(dst) {
        Some(d) => d.exists(key, now),
        None => return Err(CmdError::DbIndexOutOfRange),
    };
    if taken {
        ctx.reply.int(0);
        return Ok(());
    }
    let Some(e) = ctx.db.take_entry(key) else {
        ctx.reply.int(0);
        return Ok(());
    };
    if let Some(d) = ctx.other_db(dst) {
        d.put_entry(key, e);
    }
    ctx.dirty += 1;
    ctx.notify(GENERIC, "move_from", key);
    notify_keyspace_event(GENERIC, "move_to", key, dst);
    ctx.reply.int(1);
    Ok(())
}

/// `COPY source destination [DB db] [REPLACE]`: 1 when copied. The copy is
/// a new value (deep, same encoding) with the source's TTL.
pub fn copy(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (src, dst) = (args.get(1), args.get(2));
    let mut replace = false;
    let mut dst_db = ctx.db_index;
    let mut j = 3;
    while j < args.len() {
        let more = args.len() - j - 1;
        if is(args.get(j), "REPLACE") {
            replace = true;
        } else if is(args.get(j), "DB") && more >= 1 {
            dst_db = args::db_index(args.get(j + 1), ctx.db_count(), None)?;
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    if dst_db == ctx.db_index && src == dst {
        return Err(SAME_OBJECT);
    }
    let now = ctx.now_ms;
    if ctx.db.get(src, now).is_none() {
        ctx.reply.int(0);
        return Ok(());
    }
    let expire = ctx.db.expire_of(src);
    let exists = match ctx.db_at(dst_db) {
        Some(d) => d.exists(dst, now),
        None => return Err(CmdError::DbIndexOutOfRange),
    };
    if exists && !replace {
        ctx.reply.int(0);
        return Ok(());
    }
    let Some(value) = ctx.db.dict.get(src).cloned() else {
        ctx.reply.int(0);
        return Ok(());
    };
    if let Some(d) = ctx.db_at(dst_db) {
        if exists {
            d.remove(dst);
        }
        d.put_entry(
            dst,
            crate::db::Entry {
                value,
                meta: lru::new_meta(),
                expire,
            },
        );
    }
    ctx.dirty += 1;
    notify_keyspace_event(GENERIC, "copy_to", dst, dst_db);
    ctx.reply.int(1);
    Ok(())
}

/// EXPIRE's NX/XX/GT/LT options.
#[derive(Debug, Default, Clone, Copy)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

/// Redis's `parseExtendedExpireArgumentsOrReply`, from argument 3.
fn parse_expire_flags(args: &Args<'_>) -> Result<ExpireFlags, CmdError> {
    let mut f = ExpireFlags::default();
    for opt in args.iter_from(3) {
        if is(opt, "NX") {
            f.nx = true;
        } else if is(opt, "XX") {
            f.xx = true;
        } else if is(opt, "GT") {
            f.gt = true;
        } else if is(opt, "LT") {
            f.lt = true;
        } else {
            // `%s` of a C string: the text up to the first NUL.
            let shown = opt.split(|&c| c == 0).next().unwrap_or_default();
            return Err(CmdError::msg(format!(
                "ERR Unsupported option {}",
                args::text(shown)
            )));
        }
    }
    if f.nx && (f.xx || f.gt || f.lt) {
        return Err(CmdError::Static(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if f.gt && f.lt {
        return Err(CmdError::Static(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    Ok(f)
}

/// How an EXPIRE-family command reads its time argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExpireArg {
    /// Relative seconds (EXPIRE).
    Seconds,
    /// Relative milliseconds (PEXPIRE).
    Millis,
    /// Unix seconds (EXPIREAT).
    UnixSeconds,
    /// Unix milliseconds (PEXPIREAT).
    UnixMillis,
}

/// `EXPIRE key seconds [NX | XX | GT | LT]`.
pub fn expire(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    expire_generic(ctx, args, ExpireArg::Seconds)
}

/// `PEXPIRE key milliseconds [NX | XX | GT | LT]`.
pub fn pexpire(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    expire_generic(ctx, args, ExpireArg::Millis)
}

/// `EXPIREAT key unix-time-seconds [NX | XX | GT | LT]`.
pub fn expireat(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    expire_generic(ctx, args, ExpireArg::UnixSeconds)
}

/// `PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]`.
pub fn pexpireat(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    expire_generic(ctx, args, ExpireArg::UnixMillis)
}

/// Redis's `expireGenericCommand`: options, then the number, then overflow
/// checks, then the key. Replies 1 when the TTL was set (or the key deleted
/// because the time is already past), 0 when the key is missing or an
/// option's condition fails. Propagates `PEXPIREAT key <abs ms> [options]`,
/// or `DEL key` for a time in the past.
fn expire_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, arg: ExpireArg) -> CmdResult {
    let key = args.get(1);
    let flags = parse_expire_flags(args)?;
    let mut when = args::int(args.get(2))?;
    let invalid = CmdError::InvalidExpire(ctx.spec.fullname);
    if matches!(arg, ExpireArg::Seconds | ExpireArg::UnixSeconds) {
        when = when.checked_mul(1000).ok_or(invalid.clone())?;
    }
    let base = match arg {
        ExpireArg::Seconds | ExpireArg::Millis => wall_ms(ctx),
        ExpireArg::UnixSeconds | ExpireArg::UnixMillis => 0,
    };
    when = when.checked_add(base).ok_or(invalid)?;

    let now = ctx.now_ms;
    if !ctx.db.exists(key, now) {
        ctx.reply.int(0);
        return Ok(());
    }
    let current = ctx.db.expire_of(key);
    let refused = (flags.nx && current.is_some())
        || (flags.xx && current.is_none())
        || (flags.gt && current.is_none_or(|c| when <= c))
        || (flags.lt && current.is_some_and(|c| when >= c));
    if refused {
        ctx.reply.int(0);
        return Ok(());
    }
    // Redis's checkAlreadyExpired: never while loading.
    if now != LOADING_NOW && when <= now {
        ctx.db.remove(key);
        ctx.dirty += 1;
        ctx.notify(GENERIC, "del", key);
        ctx.propagate_as(&[b"DEL", key]);
        ctx.reply.int(1);
        return Ok(());
    }
    ctx.db.set_expire(key, when);
    ctx.dirty += 1;
    ctx.notify(GENERIC, "expire", key);
    if arg != ExpireArg::UnixMillis {
        let mut buf = [0u8; num::MAX_I64_LEN];
        let mut argv: Vec<&[u8]> = Vec::with_capacity(args.len());
        argv.push(b"PEXPIREAT");
        argv.push(key);
        argv.push(num::fmt_i64(when, &mut buf));
        argv.extend(args.iter_from(3));
        ctx.propagate_as(&argv);
    }
    ctx.reply.int(1);
    Ok(())
}

/// `TTL key`: seconds left (rounded), -1 without a TTL, -2 when missing.
pub fn ttl(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    ttl_generic(ctx, args, false, false)
}

/// `PTTL key`: milliseconds left, -1 without a TTL, -2 when missing.
pub fn pttl(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    ttl_generic(ctx, args, true, false)
}

/// `EXPIRETIME key`: the Unix time in seconds it expires at, -1, -2.
pub fn expiretime(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    ttl_generic(ctx, args, false, true)
}

/// `PEXPIRETIME key`: the Unix time in milliseconds it expires at, -1, -2.
pub fn pexpiretime(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    ttl_generic(ctx, args, true, true)
}

/// Redis's `ttlGenericCommand`.
fn ttl_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, ms: bool, absolute: bool) -> CmdResult {
    let key = args.get(1);
    if ctx.db.peek(key, ctx.now_ms).is_none() {
        ctx.reply.int(-2);
        return Ok(());
    }
    let Some(when) = ctx.db.expire_of(key) else {
        ctx.reply.int(-1);
        return Ok(());
    };
    let left = if absolute {
        when
    } else {
        when.saturating_sub(wall_ms(ctx))
    };
    let left = left.max(0);
    // Seconds round to nearest; Redis's `(ttl+500)/1000` without overflow.
    let n = if ms {
        left
    } else {
        ((left as i128 + 500) / 1000) as i64
    };
    ctx.reply.int(n);
    Ok(())
}

/// `PERSIST key`: 1 when a TTL was removed.
pub fn persist(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(1);
    if ctx.db.exists(key, ctx.now_ms) && ctx.db.persist(key) {
        ctx.dirty += 1;
        ctx.notify(GENERIC, "persist", key);
        ctx.reply.int(1);
    } else {
        ctx.reply.int(0);
    }
    Ok(())
}

/// `TOUCH key [key ...]`: how many exist; each one's access clock is
/// updated, as a read does.
pub fn touch(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let now = ctx.now_ms;
    let mut n = 0;
    for key in args.iter_from(1) {
        n += ctx.db.get(key, now).is_some() as i64;
    }
    ctx.reply.int(n);
    Ok(())
}

/// `OBJECT HELP`.
pub fn object_help(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.reply.help(
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    );
    Ok(())
}

/// `OBJECT ENCODING key`: the encoding name, nil when missing.
pub fn object_encoding(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    match ctx.db.peek_quiet(args.get(2), ctx.now_ms) {
        Some((v, _)) => ctx.reply.bulk(v.encoding_name().as_bytes()),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// Redis's shared integers: values 0..10000 stored as `int` are one
/// shared object, whose refcount reads as INT_MAX.
const OBJ_SHARED_INTEGERS: i64 = 10_000;
const OBJ_SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// `OBJECT REFCOUNT key`: 1 for a value of its own, INT_MAX for a small
/// integer Redis would share; nil when missing. Redis stops sharing them
/// under a maxmemory with an LRU or LFU policy, where every key needs its
/// own access field; GoStore answers by the policy in force now.
pub fn object_refcount(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let cfg = ctx.config();
    let sharing = cfg.maxmemory == 0 || !cfg.maxmemory_policy.tracks_access();
    let Some((v, _)) = ctx.db.peek_quiet(args.get(2), ctx.now_ms) else {
        ctx.reply.null();
        return Ok(());
    };
    ctx.reply.int(refcount(v, sharing));
    Ok(())
}

/// The refcount Redis would report for `v` (OBJECT REFCOUNT, DEBUG
/// OBJECT); `sharing`: whether the maxmemory policy lets Redis share
/// small integers. Only small `int` strings are shared objects in Redis.
pub(crate) fn refcount(v: &crate::db::value::Value, sharing: bool) -> i64 {
    let shared = sharing
        && match v.view() {
            ValueRef::Str(s) => {
                v.str_encoding() == Some(StrEncoding::Int)
                    && num::parse_i64(s).is_some_and(|n| (0..OBJ_SHARED_INTEGERS).contains(&n))
            }
            ValueRef::Hash(_)
            | ValueRef::List(_)
            | ValueRef::Set(_)
            | ValueRef::Zset(_)
            | ValueRef::Stream(_) => false,
        };
    if shared {
        OBJ_SHARED_REFCOUNT
    } else {
        1
    }
}

/// `OBJECT IDLETIME key`: seconds since the key was last read or written
/// (its access clock); nil when missing.
pub fn object_idletime(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let now = ctx.now_ms;
    let Some((_, meta)) = ctx.db.peek_quiet(args.get(2), now) else {
        ctx.reply.null();
        return Ok(());
    };
    if lru::lfu_selected() {
        return Err(CmdError::Static("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    let clock = lru::observe(now);
    ctx.reply.int((lru::idle_ms(meta, clock) / 1000) as i64);
    Ok(())
}

/// `OBJECT FREQ key`: the LFU counter after its decay, which only an LFU
/// maxmemory policy keeps (an error otherwise); nil when missing.
pub fn object_freq(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let Some((_, meta)) = ctx.db.peek_quiet(args.get(2), ctx.now_ms) else {
        ctx.reply.null();
        return Ok(());
    };
    if !lru::lfu_selected() {
        return Err(CmdError::Static("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
    }
    ctx.reply.int(lru::lfu_decr_and_return(meta) as i64);
    Ok(())
}
