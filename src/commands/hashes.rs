//! Hash commands, as Redis 7.0's `t_hash.c`: HSET, HSETNX, HMSET, HGET,
//! HMGET, HGETALL, HKEYS, HVALS, HDEL, HLEN, HEXISTS, HSTRLEN, HINCRBY,
//! HINCRBYFLOAT, HRANDFIELD and HSCAN.
//!
//! The type itself (packed pairs, then a table) is `db::hash`; here are the
//! checks in Redis's order, the replies and the AOF forms. Reads reply
//! straight from the stored bytes. A hash whose last field goes is deleted,
//! and a write never leaves an empty hash behind.
//!
//! Keyspace events are Redis's: `hset` (HSET, HMSET, HSETNX when it sets),
//! `hdel` then `del` when the last field went, `hincrby`, `hincrbyfloat`;
//! a hash created here is `new` (from `Db`). Each command changes the hash
//! in place and signals the key once, when it changed something.

use super::args::{self, is, ScanOpts};
use super::Ctx;
use crate::client::Flags;
use crate::db::hash::Hash;
use crate::error::{CmdError, CmdResult};
use crate::notify::HASH;
use crate::resp::parser::Args;
use crate::resp::Reply;
use crate::util::glob;
use crate::util::num::{self, FloatIncrError};

/// `HSET key field value [field value ...]`: the number of new fields.
pub fn hset(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let created = set_fields(ctx, args)?;
    ctx.reply.int(created);
    Ok(())
}

/// `HMSET key field value [field value ...]`: HSET replying OK.
pub fn hmset(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    set_fields(ctx, args)?;
    ctx.reply.ok();
    Ok(())
}

/// HSET and HMSET (Redis's `hsetCommand`): converts first if any argument
/// is too long to pack, then sets every pair in order. Returns the number
/// of new fields.
fn set_fields(ctx: &mut Ctx<'_>, args: &Args<'_>) -> Result<i64, CmdError> {
    if args.len() % 2 == 1 {
        return Err(CmdError::Arity(ctx.spec.fullname));
    }
    let limits = ctx.hash_limits();
    let key = args.get(1);
    let h = ctx.db.hash_or_create(key, ctx.now_ms)?;
    h.prepare_for(args.iter_from(2).map(|a| a.len()), &limits);
    let mut created = 0;
    for i in (2..args.len()).step_by(2) {
        created += h.set(args.get(i), args.get(i + 1), &limits) as i64;
    }
    ctx.db.signal_modified_key(key);
    ctx.notify(HASH, "hset", key);
    ctx.dirty += (args.len() as u64 - 2) / 2;
    Ok(created)
}

/// `HSETNX key field value`: 1 when set, 0 when the field existed.
pub fn hsetnx(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (field, value) = (args.get(2), args.get(3));
    let limits = ctx.hash_limits();
    let key = args.get(1);
    let h = ctx.db.hash_or_create(key, ctx.now_ms)?;
    if h.contains(field) {
        ctx.reply.int(0);
        return Ok(());
    }
    h.prepare_for([field.len(), value.len()], &limits);
    h.set(field, value, &limits);
    ctx.db.signal_modified_key(key);
    ctx.notify(HASH, "hset", key);
    ctx.reply.int(1);
    ctx.dirty += 1;
    Ok(())
}

/// `HGET key field`: the value, or null.
pub fn hget(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let h = ctx.db.get_hash(args.get(1), ctx.now_ms)?;
    field_reply(ctx.reply, h, args.get(2));
    Ok(())
}

/// `HMGET key field [field ...]`: a value or null per field; a missing key
/// is an empty hash.
pub fn hmget(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let h = ctx.db.get_hash(args.get(1), ctx.now_ms)?;
    ctx.reply.array_len(args.len() - 2);
    for field in args.iter_from(2) {
        field_reply(ctx.reply, h, field);
    }
    Ok(())
}

/// Redis's `addHashFieldToReply`.
fn field_reply(reply: &mut Reply, h: Option<&Hash>, field: &[u8]) {
    match h.and_then(|h| h.get(field)) {
        Some(v) => reply.bulk(v),
        None => reply.null(),
    }
}

/// `HDEL key field [field ...]`: the number removed. The key goes with its
/// last field.
pub fn hdel(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(1);
    let Some(h) = ctx.db.get_hash_mut(key, ctx.now_ms)? else {
        ctx.reply.int(0);
        return Ok(());
    };
    let mut deleted = 0;
    let mut emptied = false;
    for field in args.iter_from(2) {
        if h.remove(field) {
            deleted += 1;
            if h.is_empty() {
                emptied = true;
                break;
            }
        }
    }
    ctx.members_removed(key, deleted, emptied, HASH, "hdel");
    Ok(())
}

/// `HLEN key`.
pub fn hlen(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let h = ctx.db.get_hash(args.get(1), ctx.now_ms)?;
    ctx.reply.int(h.map_or(0, |h| h.len() as i64));
    Ok(())
}

/// `HSTRLEN key field`: the value's length, 0 when missing.
pub fn hstrlen(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let h = ctx.db.get_hash(args.get(1), ctx.now_ms)?;
    let len = h.and_then(|h| h.get(args.get(2))).map_or(0, |v| v.len());
    ctx.reply.int(len as i64);
    Ok(())
}

/// `HEXISTS key field`.
pub fn hexists(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let h = ctx.db.get_hash(args.get(1), ctx.now_ms)?;
    ctx.reply
        .int(h.is_some_and(|h| h.contains(args.get(2))) as i64);
    Ok(())
}

/// `HGETALL key`: a map (RESP3) of fields to values.
pub fn hgetall(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    get_all(ctx, args, true, true)
}

/// `HKEYS key`.
pub fn hkeys(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    get_all(ctx, args, true, false)
}

/// `HVALS key`.
pub fn hvals(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    get_all(ctx, args, false, true)
}

/// Redis's `genericHgetallCommand`: fields and/or values in the hash's
/// order (insertion order when packed).
fn get_all(ctx: &mut Ctx<'_>, args: &Args<'_>, fields: bool, values: bool) -> CmdResult {
    let h = ctx.db.get_hash(args.get(1), ctx.now_ms)?;
    let len = h.map_or(0, |h| h.len());
    if fields && values {
        ctx.reply.map_len(len);
    } else {
        ctx.reply.array_len(len);
    }
    for (f, v) in h.into_iter().flat_map(|h| h.iter()) {
        if fields {
            ctx.reply.bulk(f);
        }
        if values {
            ctx.reply.bulk(v);
        }
    }
    Ok(())
}

/// `HINCRBY key field increment`: the new value.
pub fn hincrby(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let incr = args::int(args.get(3))?;
    let (key, field) = (args.get(1), args.get(2));
    let limits = ctx.hash_limits();
    let h = ctx.db.hash_or_create(key, ctx.now_ms)?;
    // An error needs an existing field, so a hash created here is never left empty.
    let current = match h.get(field) {
        Some(v) => num::parse_i64(v).ok_or(CmdError::Static("ERR hash value is not an integer"))?,
        None => 0,
    };
    let value = current.checked_add(incr).ok_or(CmdError::Static(
        "ERR increment or decrement would overflow",
    ))?;
    let mut buf = [0u8; num::MAX_I64_LEN];
    h.set(field, num::fmt_i64(value, &mut buf), &limits);
    ctx.db.signal_modified_key(key);
    ctx.notify(HASH, "hincrby", key);
    ctx.reply.int(value);
    ctx.dirty += 1;
    Ok(())
}

/// `HINCRBYFLOAT key field increment`: the new value, in long double
/// precision as Redis computes it. Propagated as `HSET key field <value>`,
/// so replay does not depend on float formatting.
pub fn hincrbyfloat(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (key, field, incr) = (args.get(1), args.get(2), args.get(3));
    num::check_float_incr(incr).map_err(float_incr_error)?;
    let limits = ctx.hash_limits();
    let h = ctx.db.hash_or_create(key, ctx.now_ms)?;
    // As in HINCRBY, only an existing field can fail.
    let value = num::long_double_incr(h.get(field), incr).map_err(float_incr_error)?;
    h.set(field, &value, &limits);
    ctx.db.signal_modified_key(key);
    ctx.notify(HASH, "hincrbyfloat", key);
    ctx.reply.bulk(&value);
    ctx.dirty += 1;
    ctx.propagate_as(&[b"HSET", key, field, &value]);
    Ok(())
}

fn float_incr_error(e: FloatIncrError) -> CmdError {
    match e {
        FloatIncrError::IncrNotFloat => CmdError::NotFloat,
        FloatIncrError::IncrNanOrInfinity => CmdError::Static("ERR value is NaN or Infinity"),
        FloatIncrError::CurrentNotFloat => CmdError::Static("ERR hash value is not a float"),
        FloatIncrError::NanOrInfinity => {
            CmdError::Static("ERR increment would produce NaN or Infinity")
        }
    }
}

/// Reply bytes past which HRANDFIELD with a negative count stops and the
/// client is closed, as Redis does when a client overruns its output buffer
/// limit (`CLIENT_CLOSE_ASAP`): the count alone could ask for exabytes.
const MAX_RANDOM_REPLY: usize = 512 << 20;

/// `HRANDFIELD key [count [WITHVALUES]]`.
pub fn hrandfield(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() >= 3 {
        let count = args::int(args.get(2))?;
        if count == i64::MIN {
            return Err(CmdError::Static(
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            ));
        }
        let with_values = match args.len() {
            3 => false,
            4 if is(args.get(3), "WITHVALUES") => true,
            _ => return Err(CmdError::Syntax),
        };
        if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
            return Err(CmdError::Static("ERR value is out of range"));
        }
        return random_fields(ctx, args.get(1), count, with_values);
    }
    let now = ctx.now_ms;
    let (db, reply, _, rng) = ctx.split();
    match db.get_hash(args.get(1), now)?.and_then(|h| h.random(rng)) {
        Some((field, _)) => reply.bulk(field),
        None => reply.null(),
    }
    Ok(())
}

/// Redis 7.0's `hrandfieldWithCountCommand`. A negative count repeats
/// fields, in random order; a positive one returns distinct fields: the
/// whole hash (in its order) when it has no more than `count`. WITHVALUES
/// pairs are nested arrays in RESP3, flat in RESP2.
fn random_fields(ctx: &mut Ctx<'_>, key: &[u8], count: i64, with_values: bool) -> CmdResult {
    let now = ctx.now_ms;
    let (db, reply, client, rng) = ctx.split();
    let Some(h) = db.get_hash(key, now)? else {
        reply.array_len(0);
        return Ok(());
    };
    let nested = with_values && reply.is_resp3();
    let header = |reply: &mut Reply, n: usize| {
        reply.array_len(if with_values && !nested { n * 2 } else { n });
    };
    let emit = |reply: &mut Reply, field: &[u8], value: &[u8]| {
        if nested {
            reply.array_len(2);
        }
        reply.bulk(field);
        if with_values {
            reply.bulk(value);
        }
    };
    if count == 0 {
        reply.array_len(0);
    } else if count < 0 || count == 1 {
        let n = count.unsigned_abs();
        header(reply, n as usize);
        h.random_pairs(n, rng, |f, v| {
            emit(reply, f, v);
            if reply.pending_len() > MAX_RANDOM_REPLY {
                log::warn!(
                    "Client id={} addr={} closed for overcoming the reply limit with HRANDFIELD",
                    client.id,
                    client.addr
                );
                client.flags.set(Flags::CLOSE_ASAP, true);
                return false;
            }
            true
        });
    } else if count as usize >= h.len() {
        header(reply, h.len());
        for (f, v) in h.iter() {
            emit(reply, f, v);
        }
    } else {
        header(reply, count as usize);
        h.random_pairs_unique(count as usize, rng, |f, v| emit(reply, f, v));
    }
    Ok(())
}

/// `HSCAN key cursor [MATCH pattern] [COUNT count]`. As Redis: the cursor
/// is checked first, then the key, then the options (so a missing key
/// answers an empty scan whatever they are).
pub fn hscan(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let cursor = args::scan_cursor(args.get(2))?;
    let Some(h) = ctx.db.get_hash(args.get(1), ctx.now_ms)? else {
        ctx.reply.array_len(2);
        ctx.reply.bulk(b"0");
        ctx.reply.array_len(0);
        return Ok(());
    };
    let opts = ScanOpts::parse(args, 2, false)?;
    let wanted = |field: &[u8]| opts.pattern.is_none_or(|p| glob::matches(p, field, false));
    // Two identical walks (the hash does not change in between): one to
    // count what matches, for the array header, one to reply.
    let mut matched = 0;
    let next = scan_steps(h, cursor, opts.count, |f, _| {
        matched += wanted(f) as usize;
    });
    let reply = &mut *ctx.reply;
    reply.array_len(2);
    reply.bulk_i64(next as i64); // Redis replies with the cursor as a long long
    reply.array_len(matched * 2);
    scan_steps(h, cursor, opts.count, |f, v| {
        if wanted(f) {
            reply.bulk(f);
            reply.bulk(v);
        }
    });
    Ok(())
}

/// The iteration of Redis's `scanGenericCommand` for a hash: a packed hash
/// whole, with cursor 0; a table step by step until the cursor is back to
/// 0, `count` fields were visited, or `count * 20` steps were made (Redis
/// doubles COUNT for field/value pairs, then allows ten steps per element).
fn scan_steps(h: &Hash, mut cursor: u64, count: usize, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
    if h.is_packed() {
        return h.scan(cursor, f);
    }
    let elements = count.saturating_mul(2);
    let mut steps_left = elements.saturating_mul(10);
    let mut got = 0usize;
    loop {
        cursor = h.scan(cursor, |k, v| {
            got += 2;
            f(k, v);
        });
        if cursor == 0 || steps_left == 0 || got >= elements {
            return cursor;
        }
        steps_left -= 1;
    }
}
