//! List commands, as Redis 7.0's `t_list.c`: LPUSH, RPUSH, LPUSHX, RPUSHX,
//! LPOP, RPOP, LLEN, LRANGE, LINDEX, LSET, LINSERT, LREM, LTRIM, LPOS,
//! RPOPLPUSH, LMOVE and LMPOP. The blocking ones (BLPOP, BRPOP,
//! BRPOPLPUSH, BLMOVE, BLMPOP) are not here yet.
//!
//! The type itself is `db::list`; here are the checks in Redis's order
//! (argument parsing and key lookup interleave exactly as there, so the
//! same error wins), the replies and the AOF forms. A list whose last
//! element goes is deleted (event `del`), and a write never leaves an empty
//! list behind.
//!
//! Keyspace events are Redis's: `lpush`/`rpush` (also for the destination
//! of LMOVE and RPOPLPUSH), `lpop`/`rpop` (also for their source and for
//! LMPOP), `linsert`, `lset`, `lrem` (when something went), `ltrim`
//! (always, as Redis); a list created here is `new` (from `Db`).
//!
//! Propagation: as received, except LMPOP, which Redis rewrites as
//! `LPOP key count` / `RPOP key count` for the key it popped from.

use super::args::{self, is};
use super::Ctx;
use crate::db::list::{End, List, ListLimits};
use crate::error::{CmdError, CmdResult};
use crate::notify::{GENERIC, LIST};
use crate::resp::parser::Args;
use crate::resp::Reply;
use crate::util::num;

/// Redis's `LIST_MAX_ITEM_SIZE`: the longest element a list takes.
const MAX_ITEM_SIZE: usize = (1 << 32) - 1024;

const ELEMENT_TOO_LARGE: &str = "ERR Element too large";
const OUT_OF_RANGE: &str = "ERR index out of range";

fn check_size(e: &[u8]) -> CmdResult {
    if e.len() > MAX_ITEM_SIZE {
        return Err(CmdError::Static(ELEMENT_TOO_LARGE));
    }
    Ok(())
}

/// The event a push or pop at `end` emits.
fn push_event(end: End) -> &'static str {
    match end {
        End::Head => "lpush",
        End::Tail => "rpush",
    }
}

fn pop_event(end: End) -> &'static str {
    match end {
        End::Head => "lpop",
        End::Tail => "rpop",
    }
}

/// Redis's `getListPositionFromObjectOrReply`: LEFT or RIGHT.
fn parse_end(a: &[u8]) -> Result<End, CmdError> {
    if is(a, "left") {
        Ok(End::Head)
    } else if is(a, "right") {
        Ok(End::Tail)
    } else {
        Err(CmdError::Syntax)
    }
}

/// Redis's `getRangeLongFromObjectOrReply`: an integer in `min..=max`,
/// `msg` for both errors when given.
fn range_long(a: &[u8], min: i64, max: i64, msg: Option<&'static str>) -> Result<i64, CmdError> {
    let v = match (num::parse_i64(a), msg) {
        (Some(v), _) => v,
        (None, Some(m)) => return Err(CmdError::Static(m)),
        (None, None) => return Err(CmdError::NotInteger),
    };
    if v < min || v > max {
        return Err(match msg {
            Some(m) => CmdError::Static(m),
            None => CmdError::msg(format!(
                "ERR value is out of range, value must between {min} and {max}"
            )),
        });
    }
    Ok(v)
}

// ---- pushes -------------------------------------------------------------------

/// `LPUSH key element [element ...]`: the new length.
pub fn lpush(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    push(ctx, args, End::Head, false)
}

/// `RPUSH key element [element ...]`.
pub fn rpush(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    push(ctx, args, End::Tail, false)
}

/// `LPUSHX key element [element ...]`: 0 when the key is missing.
pub fn lpushx(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    push(ctx, args, End::Head, true)
}

/// `RPUSHX key element [element ...]`.
pub fn rpushx(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    push(ctx, args, End::Tail, true)
}

/// Redis's `pushGenericCommand`.
fn push(ctx: &mut Ctx<'_>, args: &Args<'_>, end: End, xx: bool) -> CmdResult {
    for e in args.iter_from(2) {
        check_size(e)?;
    }
    let key = args.get(1);
    let limits = ctx.list_limits();
    let l = if xx {
        match ctx.db.get_list_mut(key, ctx.now_ms)? {
            Some(l) => l,
            None => {
                ctx.reply.int(0);
                return Ok(());
            }
        }
    } else {
        ctx.db.list_or_create(key, ctx.now_ms)?
    };
    for e in args.iter_from(2) {
        l.push(end, e, limits);
    }
    let len = l.len();
    ctx.dirty += args.len() as u64 - 2;
    ctx.reply.int(len as i64);
    ctx.db.signal_modified_key(key);
    ctx.notify(LIST, push_event(end), key);
    Ok(())
}

// ---- pops ---------------------------------------------------------------------

/// `LPOP key [count]`.
pub fn lpop(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    pop(ctx, args, End::Head)
}

/// `RPOP key [count]`.
pub fn rpop(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    pop(ctx, args, End::Tail)
}

/// Redis's `popGenericCommand`: one element as a bulk string, or with a
/// count an array of up to `count` (null when the key is missing, empty
/// for a count of 0).
fn pop(ctx: &mut Ctx<'_>, args: &Args<'_>, end: End) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Arity(ctx.spec.fullname));
    }
    let count = if args.len() == 3 {
        Some(range_long(
            args.get(2),
            0,
            i64::MAX,
            Some("ERR value is out of range, must be positive"),
        )?)
    } else {
        None
    };
    let key = args.get(1);
    let limits = ctx.list_limits();
    let Some(l) = ctx.db.get_list_mut(key, ctx.now_ms)? else {
        match count {
            Some(_) => ctx.reply.null_array(),
            None => ctx.reply.null(),
        }
        return Ok(());
    };
    let popped = match count {
        Some(0) => {
            ctx.reply.array_len(0);
            return Ok(());
        }
        None => {
            let v = l.pop(end, limits).unwrap_or_default();
            ctx.reply.bulk(&v);
            1
        }
        Some(n) => pop_range(ctx.reply, l, end, n as usize, limits),
    };
    elements_removed(ctx, key, end, popped);
    Ok(())
}

/// Pops up to `n` elements from `end` of `l`, replying with them as an
/// array in pop order (Redis's `addListRangeReply` + `listTypeDelRange`).
fn pop_range(reply: &mut Reply, l: &mut List, end: End, n: usize, limits: ListLimits) -> usize {
    let n = n.min(l.len());
    reply.array_len(n);
    for _ in 0..n {
        let v = l.pop(end, limits).unwrap_or_default();
        reply.bulk(&v);
    }
    n
}

/// Redis's `listElementsRemoved`: the pop event, the key deleted with its
/// last element (event `del`), the key signalled, `count` changes.
fn elements_removed(ctx: &mut Ctx<'_>, key: &[u8], end: End, count: usize) {
    ctx.notify(LIST, pop_event(end), key);
    let empty = ctx
        .db
        .dict
        .get(key)
        .and_then(|v| v.as_list())
        .is_some_and(|l| l.is_empty());
    if empty {
        ctx.db.remove(key); // signals the key
        ctx.notify(GENERIC, "del", key);
    } else {
        ctx.db.signal_modified_key(key);
    }
    ctx.dirty += count as u64;
}

/// `LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]`: `[key,
/// [elements]]` from the first non-empty list, or a null array.
/// Propagated as `LPOP key n` / `RPOP key n`.
pub fn lmpop(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (numkeys, end, count) = parse_mpop(args, 1)?;
    if !mpop(ctx, args, 2, numkeys, end, count)? {
        ctx.reply.null_array();
    }
    Ok(())
}

/// The arguments of LMPOP / BLMPOP after `numkeys_idx`, checked in Redis's
/// order (`lmpopGenericCommand`): numkeys, the end, then COUNT.
fn parse_mpop(args: &Args<'_>, numkeys_idx: usize) -> Result<(usize, End, usize), CmdError> {
    let numkeys = range_long(
        args.get(numkeys_idx),
        1,
        i64::MAX,
        Some("ERR numkeys should be greater than 0"),
    )? as usize;
    let where_idx = match numkeys.checked_add(numkeys_idx + 1) {
        Some(i) if i < args.len() => i,
        _ => return Err(CmdError::Syntax),
    };
    let end = parse_end(args.get(where_idx))?;
    let mut count = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if count.is_none() && is(args.get(j), "count") && more > 0 {
            j += 1;
            count = Some(range_long(
                args.get(j),
                1,
                i64::MAX,
                Some("ERR count should be greater than 0"),
            )?);
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok((numkeys, end, count.unwrap_or(1) as usize))
}

/// Pops up to `count` from `end` of the first non-empty list among the
/// `numkeys` keys from `first`, replying `[key, [elements]]` and
/// propagating `LPOP/RPOP key n`; false when every list was empty.
fn mpop(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    first: usize,
    numkeys: usize,
    end: End,
    count: usize,
) -> Result<bool, CmdError> {
    let limits = ctx.list_limits();
    for key in args.iter_from(first).take(numkeys) {
        let Some(l) = ctx.db.get_list_mut(key, ctx.now_ms)? else {
            continue;
        };
        if l.is_empty() {
            continue;
        }
        ctx.reply.array_len(2);
        ctx.reply.bulk(key);
        let n = pop_range(ctx.reply, l, end, count, limits);
        elements_removed(ctx, key, end, n);
        let mut buf = [0u8; num::MAX_I64_LEN];
        let n_text = num::fmt_i64(n as i64, &mut buf);
        let cmd: &[u8] = match end {
            End::Head => b"LPOP",
            End::Tail => b"RPOP",
        };
        ctx.propagate_as(&[cmd, key, n_text]);
        return Ok(true);
    }
    Ok(false)
}

// ---- reads --------------------------------------------------------------------

/// `LLEN key`.
pub fn llen(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let l = ctx.db.get_list(args.get(1), ctx.now_ms)?;
    ctx.reply.int(l.map_or(0, |l| l.len() as i64));
    Ok(())
}

/// Redis's range normalisation (LRANGE, LTRIM): negative indexes count
/// from the tail; None when the range is empty.
fn norm_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 {
        len.saturating_add(start)
    } else {
        start
    };
    let mut end = if end < 0 {
        len.saturating_add(end)
    } else {
        end
    };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as usize, end as usize))
}

/// `LRANGE key start stop`.
pub fn lrange(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let start = args::int(args.get(2))?;
    let end = args::int(args.get(3))?;
    let l = ctx.db.get_list(args.get(1), ctx.now_ms)?;
    match l.and_then(|l| norm_range(start, end, l.len()).map(|r| (l, r))) {
        None => ctx.reply.array_len(0),
        Some((l, (s, e))) => {
            ctx.reply.array_len(e - s + 1);
            let reply = &mut *ctx.reply;
            l.for_each_in(s, e, |v| reply.bulk(v));
        }
    }
    Ok(())
}

/// A possibly negative index into a list of `len`, if in range.
fn norm_index(index: i64, len: usize) -> Option<usize> {
    let i = if index < 0 {
        (len as i64).checked_add(index)?
    } else {
        index
    };
    (i >= 0 && (i as u64) < len as u64).then_some(i as usize)
}

/// `LINDEX key index`: the element, or null.
pub fn lindex(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let Some(l) = ctx.db.get_list(args.get(1), ctx.now_ms)? else {
        ctx.reply.null();
        return Ok(());
    };
    let index = args::int(args.get(2))?;
    match norm_index(index, l.len()).and_then(|i| l.get(i)) {
        Some(v) => ctx.reply.bulk(&v),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]`.
pub fn lpos(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let ele = args.get(2);
    let mut rank: i64 = 1;
    let mut count: Option<usize> = None;
    let mut maxlen: usize = 0;
    let mut j = 3;
    while j < args.len() {
        let opt = args.get(j);
        let more = args.len() - 1 - j > 0;
        if is(opt, "rank") && more {
            j += 1;
            // Any long, as Redis 7.0 reads it (LONG_MIN included: see below).
            rank = args::int(args.get(j))?;
            if rank == 0 {
                return Err(CmdError::Static(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                ));
            }
        } else if is(opt, "count") && more {
            j += 1;
            count = Some(range_long(
                args.get(j),
                0,
                i64::MAX,
                Some("ERR COUNT can't be negative"),
            )? as usize);
        } else if is(opt, "maxlen") && more {
            j += 1;
            maxlen = range_long(
                args.get(j),
                0,
                i64::MAX,
                Some("ERR MAXLEN can't be negative"),
            )? as usize;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    // Negative: from the tail. Redis 7.0 negates in C's wrapping way, so
    // a rank of LONG_MIN stays negative: every match then counts, and a
    // COUNT never stops the scan.
    let from_tail = rank < 0;
    let rank = if from_tail { rank.wrapping_neg() } else { rank };
    let Some(l) = ctx.db.get_list(args.get(1), ctx.now_ms)? else {
        match count {
            Some(_) => ctx.reply.array_len(0),
            None => ctx.reply.null(),
        }
        return Ok(());
    };
    let len = l.len();
    let mut matches = 0i64;
    let mut found: Vec<usize> = Vec::new();
    let iter: Box<dyn Iterator<Item = _>> = if from_tail {
        Box::new(l.iter_rev())
    } else {
        Box::new(l.iter())
    };
    for (index, v) in iter.enumerate() {
        if maxlen != 0 && index >= maxlen {
            break;
        }
        if *v == *ele {
            matches += 1;
            if matches >= rank {
                found.push(if from_tail { len - index - 1 } else { index });
                match count {
                    None => break,
                    Some(c) if c != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= c as i64 => {
                        break
                    }
                    Some(_) => {}
                }
            }
        }
    }
    match count {
        Some(_) => {
            ctx.reply.array_len(found.len());
            for i in found {
                ctx.reply.int(i as i64);
            }
        }
        None => match found.first() {
            Some(&i) => ctx.reply.int(i as i64),
            None => ctx.reply.null(),
        },
    }
    Ok(())
}

// ---- in-place writes ------------------------------------------------------------

/// `LSET key index element`.
pub fn lset(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(1);
    let limits = ctx.list_limits();
    let Some(l) = ctx.db.get_list_mut(key, ctx.now_ms)? else {
        return Err(CmdError::NoSuchKey);
    };
    let index = args::int(args.get(2))?;
    let value = args.get(3);
    check_size(value)?;
    let done = norm_index(index, l.len()).is_some_and(|i| l.set(i, value, limits));
    if !done {
        return Err(CmdError::Static(OUT_OF_RANGE));
    }
    ctx.reply.ok();
    ctx.db.signal_modified_key(key);
    ctx.notify(LIST, "lset", key);
    ctx.dirty += 1;
    Ok(())
}

/// `LINSERT key BEFORE|AFTER pivot element`: the new length, -1 when the
/// pivot is missing, 0 when the key is.
pub fn linsert(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let after = if is(args.get(2), "after") {
        true
    } else if is(args.get(2), "before") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let (pivot, value) = (args.get(3), args.get(4));
    check_size(value)?;
    let key = args.get(1);
    let limits = ctx.list_limits();
    let Some(l) = ctx.db.get_list_mut(key, ctx.now_ms)? else {
        ctx.reply.int(0);
        return Ok(());
    };
    let Some(pos) = l.iter().position(|v| *v == *pivot) else {
        ctx.reply.int(-1);
        return Ok(());
    };
    l.insert(pos + after as usize, value, limits);
    let len = l.len();
    ctx.db.signal_modified_key(key);
    ctx.notify(LIST, "linsert", key);
    ctx.dirty += 1;
    ctx.reply.int(len as i64);
    Ok(())
}

/// `LREM key count element`: how many went.
pub fn lrem(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let count = args::int(args.get(2))?;
    let key = args.get(1);
    let limits = ctx.list_limits();
    let Some(l) = ctx.db.get_list_mut(key, ctx.now_ms)? else {
        ctx.reply.int(0);
        return Ok(());
    };
    let removed = l.remove_matching(count, args.get(3), limits);
    let empty = l.is_empty();
    if removed > 0 {
        ctx.db.signal_modified_key(key);
        ctx.notify(LIST, "lrem", key);
    }
    if empty {
        ctx.db.remove(key);
        ctx.notify(GENERIC, "del", key);
    }
    ctx.dirty += removed as u64;
    ctx.reply.int(removed as i64);
    Ok(())
}

/// `LTRIM key start stop`: OK; keeps the range, deleting the key when
/// nothing is left.
pub fn ltrim(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let start = args::int(args.get(2))?;
    let end = args::int(args.get(3))?;
    let key = args.get(1);
    let limits = ctx.list_limits();
    let Some(l) = ctx.db.get_list_mut(key, ctx.now_ms)? else {
        ctx.reply.ok();
        return Ok(());
    };
    let len = l.len();
    let removed = match norm_range(start, end, len) {
        None => {
            l.keep_range(1, 0, limits);
            len
        }
        Some((s, e)) => {
            if s > 0 || e + 1 < len {
                l.keep_range(s, e, limits);
            }
            len - (e - s + 1)
        }
    };
    let empty = l.is_empty();
    ctx.notify(LIST, "ltrim", key);
    if empty {
        ctx.db.remove(key); // signals the key
        ctx.notify(GENERIC, "del", key);
    } else {
        ctx.db.signal_modified_key(key);
    }
    ctx.dirty += removed as u64;
    ctx.reply.ok();
    Ok(())
}

// ---- moves ----------------------------------------------------------------------

/// `RPOPLPUSH source destination`: LMOVE source destination RIGHT LEFT.
pub fn rpoplpush(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    lmove_generic(ctx, args.get(1), args.get(2), End::Tail, End::Head)
}

/// `LMOVE source destination LEFT|RIGHT LEFT|RIGHT`: the element moved,
/// or null when the source is missing.
pub fn lmove(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let from = parse_end(args.get(3))?;
    let to = parse_end(args.get(4))?;
    lmove_generic(ctx, args.get(1), args.get(2), from, to)
}

/// Redis's `lmoveGenericCommand`: the destination's type is checked only
/// once the source is known to hold something; the push (and its event)
/// comes before the pop's event, so a list moved onto itself survives.
fn lmove_generic(ctx: &mut Ctx<'_>, src: &[u8], dst: &[u8], from: End, to: End) -> CmdResult {
    let limits = ctx.list_limits();
    match ctx.db.get_list_mut(src, ctx.now_ms)? {
        None => {
            ctx.reply.null();
            return Ok(());
        }
        Some(l) if l.is_empty() => {
            ctx.reply.null();
            return Ok(());
        }
        Some(_) => {}
    }
    if ctx
        .db
        .get_mut(dst, ctx.now_ms)
        .is_some_and(|v| v.as_list().is_none())
    {
        return Err(CmdError::WrongType);
    }
    let value = match ctx.db.get_list_mut(src, ctx.now_ms)? {
        Some(l) => l.pop(from, limits).unwrap_or_default(),
        None => return Ok(()),
    };
    let d = ctx.db.list_or_create(dst, ctx.now_ms)?;
    d.push(to, &value, limits);
    ctx.db.signal_modified_key(dst);
    ctx.notify(LIST, push_event(to), dst);
    ctx.reply.bulk(&value);
    elements_removed(ctx, src, from, 1);
    Ok(())
}

// ---- blocking pops ----------------------------------------------------------------

/// `BLPOP key [key ...] timeout`.
pub fn blpop(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    blocking_pop(ctx, args, End::Head)
}

/// `BRPOP key [key ...] timeout`.
pub fn brpop(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    blocking_pop(ctx, args, End::Tail)
}

/// Redis's `blockingPopGenericCommand` for BLPOP/BRPOP: `[key, element]`
/// from the first key holding a list (a key of another type is WRONGTYPE,
/// in key order), propagated as LPOP/RPOP key; else wait for one of the
/// keys, and past the deadline a null array.
fn blocking_pop(ctx: &mut Ctx<'_>, args: &Args<'_>, end: End) -> CmdResult {
    let n = args.len();
    let deadline = ctx.block_deadline(args.get(n - 1))?;
    let limits = ctx.list_limits();
    for i in 1..n - 1 {
        let key = args.get(i);
        let Some(l) = ctx.db.get_list_mut(key, ctx.now_ms)? else {
            continue;
        };
        let Some(v) = l.pop(end, limits) else {
            continue;
        };
        ctx.reply.array_len(2);
        ctx.reply.bulk(key);
        ctx.reply.bulk(&v);
        elements_removed(ctx, key, end, 1);
        let cmd: &[u8] = match end {
            End::Head => b"LPOP",
            End::Tail => b"RPOP",
        };
        ctx.propagate_as(&[cmd, key]);
        return Ok(());
    }
    if ctx.must_not_wait(deadline) {
        ctx.reply.null_array();
        return Ok(());
    }
    let keys = (1..n - 1).map(|i| args.get(i).to_vec()).collect();
    ctx.block_on_keys(keys, deadline);
    Ok(())
}

/// `BRPOPLPUSH source destination timeout`: BLMOVE ... RIGHT LEFT,
/// propagated as RPOPLPUSH.
pub fn brpoplpush(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    blocking_move(ctx, args, End::Tail, End::Head, args.get(3), false)
}

/// `BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout`, propagated
/// as LMOVE.
pub fn blmove(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let from = parse_end(args.get(3))?;
    let to = parse_end(args.get(4))?;
    blocking_move(ctx, args, from, to, args.get(5), true)
}

/// Redis's `blmoveGenericCommand`: LMOVE when the source holds a list,
/// else wait for it, and past the deadline a null array.
fn blocking_move(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    from: End,
    to: End,
    timeout: &[u8],
    lmove_form: bool,
) -> CmdResult {
    let deadline = ctx.block_deadline(timeout)?;
    let (src, dst) = (args.get(1), args.get(2));
    let holds = ctx
        .db
        .get_list(src, ctx.now_ms)?
        .is_some_and(|l| !l.is_empty());
    if holds {
        let side = |e: End| -> &'static [u8] {
            match e {
                End::Head => b"LEFT",
                End::Tail => b"RIGHT",
            }
        };
        if lmove_form {
            ctx.propagate_as(&[b"LMOVE", src, dst, side(from), side(to)]);
        } else {
            ctx.propagate_as(&[b"RPOPLPUSH", src, dst]);
        }
        return lmove_generic(ctx, src, dst, from, to);
    }
    if ctx.must_not_wait(deadline) {
        // Redis's timed-out reply for every list wait is a null array
        // (`replyToBlockedClientTimedOut`), BLMOVE's too; but a client that
        // may not wait (inside EXEC) gets BLMOVE's own null, a null bulk
        // in RESP2 (`blmoveGenericCommand`).
        if ctx.client.has(crate::client::Flags::DENY_BLOCKING) {
            ctx.reply.null();
        } else {
            ctx.reply.null_array();
        }
        return Ok(());
    }
    ctx.block_on_keys(vec![src.to_vec()], deadline);
    Ok(())
}

/// `BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]`: as
/// LMPOP, else wait for one of the keys, and past the deadline a null
/// array.
pub fn blmpop(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (numkeys, end, count) = parse_mpop(args, 2)?;
    let deadline = ctx.block_deadline(args.get(1))?;
    if mpop(ctx, args, 3, numkeys, end, count)? {
        return Ok(());
    }
    if ctx.must_not_wait(deadline) {
        ctx.reply.null_array();
        return Ok(());
    }
    let keys = args
        .iter_from(3)
        .take(numkeys)
        .map(|k| k.to_vec())
        .collect();
    ctx.block_on_keys(keys, deadline);
    Ok(())
}
