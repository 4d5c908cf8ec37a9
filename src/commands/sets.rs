//! Set commands, as Redis 7.0's `t_set.c`: SADD, SREM, SMEMBERS, SISMEMBER,
//! SMISMEMBER, SCARD, SPOP, SRANDMEMBER, SMOVE, SINTER, SINTERCARD,
//! SINTERSTORE, SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE and SSCAN.
//!
//! The type itself (an intset, then a table) is `db::set`; here are the
//! checks in Redis's order, the algorithms whose choices show (which set an
//! intersection walks, which difference algorithm runs, SPOP's and
//! SRANDMEMBER's cases), the replies and the AOF forms. A set whose last
//! member goes is deleted (event `del`); a write never leaves an empty set.
//! The STORE forms build their result as Redis does, starting from an empty
//! intset, so the result's encoding is Redis's.
//!
//! Keyspace events are Redis's: `sadd`, `srem`, `spop`, SMOVE's `srem` on
//! the source then `sadd` on the destination, `sinterstore`,
//! `sunionstore`, `sdiffstore`, and `del` when a store's result is empty
//! and removes the destination; a set created here is `new` (from `Db`).
//!
//! Propagation: as received, except SPOP, which Redis 7.0 rewrites: one
//! member as `SREM key member`, a count as one `SREM key member` per member
//! (several are wrapped in MULTI/EXEC), or as `DEL key` when it takes the
//! whole set.
//!
//! RESP3: SMEMBERS, SINTER, SUNION, SDIFF and SPOP with a count reply with
//! sets (`~`); SRANDMEMBER with a count and SMISMEMBER with arrays.

use super::args::{self, is, ScanOpts};
use super::Ctx;
use crate::client::Flags;
use crate::db::set::{Member, Set};
use crate::db::value::Value;
use crate::error::{CmdError, CmdResult};
use crate::notify::{GENERIC, SET};
use crate::resp::parser::Args;
use crate::resp::Reply;
use crate::util::glob;
use crate::util::num::MAX_I64_LEN;

/// SPOP with a count takes the members to pop one by one while the members
/// left are more than this many times fewer than... (Redis's
/// `SPOP_MOVE_STRATEGY_MUL`): otherwise it picks the ones to keep.
const SPOP_MOVE_STRATEGY_MUL: usize = 5;
/// SRANDMEMBER with a count copies the set and removes members when it asks
/// for more than a third of it (Redis's `SRANDMEMBER_SUB_STRATEGY_MUL`).
const SRANDMEMBER_SUB_STRATEGY_MUL: usize = 3;
/// Reply bytes past which SRANDMEMBER with a negative count stops and the
/// client is closed, as HRANDFIELD does (Redis's output buffer limit).
const MAX_RANDOM_REPLY: usize = 512 << 20;

fn reply_member(reply: &mut Reply, m: Member<'_>) {
    match m {
        Member::Int(v) => reply.bulk_i64(v),
        Member::Str(s) => reply.bulk(s),
    }
}

/// `SADD key member [member ...]`: the number of new members.
pub fn sadd(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(1);
    let max = ctx.set_max_intset_entries();
    let s = ctx.db.set_or_create(key, ctx.now_ms, args.get(2))?;
    let mut added = 0;
    for m in args.iter_from(2) {
        added += s.add(m, max) as i64;
    }
    if added > 0 {
        ctx.db.signal_modified_key(key);
        ctx.notify(SET, "sadd", key);
    }
    ctx.dirty += added as u64;
    ctx.reply.int(added);
    Ok(())
}

/// `SREM key member [member ...]`: the number removed. The key goes with
/// its last member.
pub fn srem(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(1);
    let Some(s) = ctx.db.get_set_mut(key, ctx.now_ms)? else {
        ctx.reply.int(0);
        return Ok(());
    };
    let mut deleted = 0;
    let mut emptied = false;
    for m in args.iter_from(2) {
        if s.remove(m) {
            deleted += 1;
            if s.is_empty() {
                emptied = true;
                break;
            }
        }
    }
    ctx.members_removed(key, deleted, emptied, SET, "srem");
    Ok(())
}

/// `SISMEMBER key member`.
pub fn sismember(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let s = ctx.db.get_set(args.get(1), ctx.now_ms)?;
    ctx.reply
        .int(s.is_some_and(|s| s.contains(args.get(2))) as i64);
    Ok(())
}

/// `SMISMEMBER key member [member ...]`: 1 or 0 per member.
pub fn smismember(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let s = ctx.db.get_set(args.get(1), ctx.now_ms)?;
    ctx.reply.array_len(args.len() - 2);
    for m in args.iter_from(2) {
        ctx.reply.int(s.is_some_and(|s| s.contains(m)) as i64);
    }
    Ok(())
}

/// `SCARD key`.
pub fn scard(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let s = ctx.db.get_set(args.get(1), ctx.now_ms)?;
    ctx.reply.int(s.map_or(0, |s| s.len() as i64));
    Ok(())
}

/// `SMOVE source destination member`: 1 when moved (or already in a
/// source that is also the destination), 0 otherwise. As Redis: a missing
/// source answers 0 before any type check; the member leaves the source
/// (`srem`, `del` when it was the last) before it joins the destination
/// (`sadd` only when it was new there).
pub fn smove(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (src, dst, member) = (args.get(1), args.get(2), args.get(3));
    let now = ctx.now_ms;
    let src_kind = ctx.db.get_mut(src, now).map(|v| v.as_set().is_some());
    let dst_kind = ctx.db.get_mut(dst, now).map(|v| v.as_set().is_some());
    let Some(src_is_set) = src_kind else {
        ctx.reply.int(0);
        return Ok(());
    };
    if !src_is_set || dst_kind == Some(false) {
        return Err(CmdError::WrongType);
    }
    if src == dst {
        let s = ctx.db.get_set_mut(src, now)?;
        ctx.reply.int(s.is_some_and(|s| s.contains(member)) as i64);
        return Ok(());
    }
    let Some(s) = ctx.db.get_set_mut(src, now)? else {
        ctx.reply.int(0);
        return Ok(());
    };
    if !s.remove(member) {
        ctx.reply.int(0);
        return Ok(());
    }
    let emptied = s.is_empty();
    ctx.notify(SET, "srem", src);
    if emptied {
        ctx.db.remove(src);
        ctx.notify(GENERIC, "del", src);
    }
    let max = ctx.set_max_intset_entries();
    let d = ctx.db.set_or_create(dst, now, member)?;
    let added = d.add(member, max);
    if !emptied {
        ctx.db.signal_modified_key(src); // removing it signalled it
    }
    ctx.dirty += 1;
    if added {
        ctx.dirty += 1;
        ctx.db.signal_modified_key(dst);
        ctx.notify(SET, "sadd", dst);
    }
    ctx.reply.int(1);
    Ok(())
}

/// `SPOP key [count]`.
pub fn spop(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    match args.len() {
        2 => {}
        3 => return spop_count(ctx, args),
        _ => return Err(CmdError::Syntax),
    }
    let key = args.get(1);
    let now = ctx.now_ms;
    let (db, _, _, rng) = ctx.split();
    let popped = match db.get_set_mut(key, now)? {
        Some(s) => s.random(rng).map(|m| m.to_vec()).map(|picked| {
            s.remove(&picked);
            (picked, s.is_empty())
        }),
        None => None,
    };
    let Some((picked, emptied)) = popped else {
        ctx.reply.null();
        return Ok(());
    };
    ctx.notify(SET, "spop", key);
    ctx.propagate_as(&[b"SREM", key, &picked]);
    ctx.reply.bulk(&picked);
    if emptied {
        ctx.db.remove(key);
        ctx.notify(GENERIC, "del", key);
    } else {
        ctx.db.signal_modified_key(key);
    }
    ctx.dirty += 1;
    Ok(())
}

/// Redis 7.0's `spopWithCountCommand`: the count is checked before the
/// key. Case 1, the count covers the set: the whole set, deleted,
/// propagated as `DEL`. Case 2, few members asked: random members popped
/// one by one. Case 3, most of the set asked: random members to keep are
/// moved to a new set, and the rest is the reply. Cases 2 and 3 propagate
/// one `SREM` per member popped.
fn spop_count(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let count = args::int(args.get(2))
        .ok()
        .filter(|&n| n >= 0)
        .ok_or(CmdError::Static(
            "ERR value is out of range, must be positive",
        ))? as u64;
    let key = args.get(1);
    let now = ctx.now_ms;
    let Some(size) = ctx.db.get_set_mut(key, now)?.map(|s| s.len()) else {
        ctx.reply.set_len(0);
        return Ok(());
    };
    if count == 0 {
        ctx.reply.set_len(0);
        return Ok(());
    }
    ctx.notify(SET, "spop", key);
    if count >= size as u64 {
        ctx.dirty += size as u64;
        // Redis replies with a one-set SUNION: the members in the order of
        // a new set built from them (which starts as an intset).
        let max = ctx.set_max_intset_entries();
        if let Some(v) = ctx.db.remove(key) {
            let mut all = Set::new_ints();
            for m in v.as_set().into_iter().flat_map(|s| s.iter()) {
                all.add_member(m, max);
            }
            ctx.reply.set_len(all.len());
            for m in all.iter() {
                reply_member(ctx.reply, m);
            }
        }
        ctx.notify(GENERIC, "del", key);
        ctx.propagate_as(&[b"DEL", key]);
        return Ok(());
    }
    let count = count as usize;
    ctx.dirty += count as u64;
    let remaining = size - count;
    let max = ctx.set_max_intset_entries();
    let (db, reply, _, rng) = ctx.split();
    let Some(s) = db.get_set_mut(key, now)? else {
        return Ok(());
    };
    reply.set_len(count);
    let mut popped: Vec<Vec<u8>> = Vec::with_capacity(count);
    if remaining * SPOP_MOVE_STRATEGY_MUL > count {
        for _ in 0..count {
            let Some(m) = s.random(rng).map(|m| m.to_vec()) else {
                break;
            };
            reply.bulk(&m);
            s.remove(&m);
            popped.push(m);
        }
    } else {
        let mut kept: Option<Set> = None;
        for _ in 0..remaining {
            let Some(m) = s.random(rng).map(|m| m.to_vec()) else {
                break;
            };
            kept.get_or_insert_with(|| Set::new_for(&m)).add(&m, max);
            s.remove(&m);
        }
        for m in s.iter() {
            reply_member(reply, m);
            popped.push(m.to_vec());
        }
        if let Some(k) = kept {
            *s = k;
        }
    }
    ctx.db.signal_modified_key(key);
    for m in &popped {
        ctx.propagate_as(&[b"SREM", key, m]);
    }
    Ok(())
}

/// `SRANDMEMBER key [count]`.
pub fn srandmember(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    match args.len() {
        2 => {}
        3 => return srandmember_count(ctx, args),
        _ => return Err(CmdError::Syntax),
    }
    let now = ctx.now_ms;
    let (db, reply, _, rng) = ctx.split();
    match db.get_set(args.get(1), now)?.and_then(|s| s.random(rng)) {
        Some(m) => reply_member(reply, m),
        None => reply.null(),
    }
    Ok(())
}

/// Redis 7.0's `srandmemberWithCountCommand`. Case 1, a negative count (or
/// 1): random members with repeats, in random order. Case 2, the count
/// covers the set: the whole set in its order. Case 3, more than a third
/// of the set asked: a copy less random members. Case 4: distinct random
/// picks. Always an array, also in RESP3.
fn srandmember_count(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let l = args::int(args.get(2))?;
    if l == i64::MIN {
        return Err(CmdError::Static(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    let (count, unique) = (l.unsigned_abs(), l >= 0);
    let now = ctx.now_ms;
    let (db, reply, client, rng) = ctx.split();
    let Some(s) = db.get_set(args.get(1), now)? else {
        reply.array_len(0);
        return Ok(());
    };
    if count == 0 {
        reply.array_len(0);
        return Ok(());
    }
    if !unique || count == 1 {
        reply.array_len(count as usize);
        for _ in 0..count {
            let Some(m) = s.random(rng) else {
                break;
            };
            reply_member(reply, m);
            if reply.pending_len() > MAX_RANDOM_REPLY {
                log::warn!(
                    "Client id={} addr={} closed for overcoming the reply limit with SRANDMEMBER",
                    client.id,
                    client.addr
                );
                client.flags.set(Flags::CLOSE_ASAP, true);
                break;
            }
        }
        return Ok(());
    }
    let size = s.len();
    if count >= size as u64 {
        reply.array_len(size);
        for m in s.iter() {
            reply_member(reply, m);
        }
        return Ok(());
    }
    let count = count as usize;
    let mut picked: crate::db::dict::Dict<()> = crate::db::dict::Dict::new();
    let mut buf = [0u8; MAX_I64_LEN];
    if count * SRANDMEMBER_SUB_STRATEGY_MUL > size {
        for m in s.iter() {
            picked.insert_new(m.bytes(&mut buf), (), 0);
        }
        while picked.len() > count {
            let Some(k) = picked.fair_random(rng).map(|(k, _)| k.to_vec()) else {
                break;
            };
            picked.remove(&k);
        }
    } else {
        while picked.len() < count {
            let Some(m) = s.random(rng) else {
                break;
            };
            let b = m.bytes(&mut buf);
            if !picked.contains_key(b) {
                picked.insert_new(b, (), 0);
            }
        }
    }
    reply.array_len(picked.len());
    for (k, _) in picked.iter() {
        reply.bulk(k);
    }
    Ok(())
}

/// The sets at `keys`, looked up for reading in order (Redis's loop: each
/// lookup counts, and the first key of another type answers WRONGTYPE).
/// Returns, per key, whether it holds a set.
fn lookup_sets(ctx: &mut Ctx<'_>, keys: &[&[u8]]) -> Result<Vec<bool>, CmdError> {
    let mut present = Vec::with_capacity(keys.len());
    for key in keys {
        present.push(ctx.db.get_set(key, ctx.now_ms)?.is_some());
    }
    Ok(present)
}

/// The sets looked up by `lookup_sets`, borrowed together (None: missing).
fn borrow_sets<'d>(db: &'d crate::db::Db, keys: &[&[u8]]) -> Vec<Option<&'d Set>> {
    keys.iter()
        .map(|k| db.dict.get(k).and_then(|v| v.as_set()))
        .collect()
}

/// What an intersection asks for.
enum InterOut<'k> {
    /// Reply with the members (SINTER, SMEMBERS).
    Reply,
    /// Count up to a limit, 0 for none (SINTERCARD).
    Card(usize),
    /// Store in this key (SINTERSTORE).
    Store(&'k [u8]),
}

/// `SMEMBERS key`: Redis 7.0 runs it as a one-set SINTER.
pub fn smembers(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    inter_generic(ctx, &[args.get(1)], InterOut::Reply)
}

/// `SINTER key [key ...]`.
pub fn sinter(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let keys: Vec<&[u8]> = args.iter_from(1).collect();
    inter_generic(ctx, &keys, InterOut::Reply)
}

/// `SINTERSTORE destination key [key ...]`.
pub fn sinterstore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let keys: Vec<&[u8]> = args.iter_from(2).collect();
    inter_generic(ctx, &keys, InterOut::Store(args.get(1)))
}

/// `SINTERCARD numkeys key [key ...] [LIMIT limit]`.
pub fn sintercard(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    const NUMKEYS: CmdError = CmdError::Static("ERR numkeys should be greater than 0");
    let numkeys = args::int(args.get(1)).map_err(|_| NUMKEYS)?;
    if numkeys < 1 {
        return Err(NUMKEYS);
    }
    if numkeys > args.len() as i64 - 2 {
        return Err(CmdError::Static(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    let numkeys = numkeys as usize;
    let mut limit = 0usize;
    let mut i = 2 + numkeys;
    while i < args.len() {
        if is(args.get(i), "LIMIT") && i + 1 < args.len() {
            i += 1;
            let l = args::int(args.get(i))
                .ok()
                .filter(|&n| n >= 0)
                .ok_or(CmdError::Static("ERR LIMIT can't be negative"))?;
            limit = l as usize;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    let keys: Vec<&[u8]> = (2..2 + numkeys).map(|j| args.get(j)).collect();
    inter_generic(ctx, &keys, InterOut::Card(limit))
}

/// Redis's `sinterGenericCommand`: a missing key makes the result empty at
/// once; otherwise the smallest set is walked and each member tested
/// against the others. A stored result starts as an intset.
fn inter_generic(ctx: &mut Ctx<'_>, keys: &[&[u8]], out: InterOut<'_>) -> CmdResult {
    let present = lookup_sets(ctx, keys)?;
    if present.iter().any(|p| !p) {
        match out {
            InterOut::Store(dst) => {
                store_empty(ctx, dst);
                ctx.reply.int(0);
            }
            InterOut::Card(_) => ctx.reply.int(0),
            InterOut::Reply => ctx.reply.set_len(0),
        }
        return Ok(());
    }
    let max = ctx.set_max_intset_entries();
    let sets = borrow_sets(ctx.db, keys);
    let mut sets: Vec<&Set> = sets.into_iter().flatten().collect();
    // Smallest first (a stable sort; Redis's qsort may order equal sizes
    // differently, which only changes the order of a table's members).
    sets.sort_by_key(|s| s.len());
    let first = sets[0];
    let in_all = |m: Member<'_>| {
        sets[1..]
            .iter()
            .all(|o| std::ptr::eq(*o, first) || o.contains_member(m))
    };
    match out {
        InterOut::Card(limit) => {
            let mut n = 0usize;
            for m in first.iter() {
                if in_all(m) {
                    n += 1;
                    if limit != 0 && n >= limit {
                        break;
                    }
                }
            }
            ctx.reply.int(n as i64);
        }
        InterOut::Reply => {
            let reply = &mut *ctx.reply;
            let d = reply.defer_len();
            let mut n = 0;
            for m in first.iter() {
                if in_all(m) {
                    reply_member(reply, m);
                    n += 1;
                }
            }
            reply.set_deferred_set(d, n);
        }
        InterOut::Store(dst) => {
            let mut result = Set::new_ints();
            for m in first.iter() {
                if in_all(m) {
                    result.add_member(m, max);
                }
            }
            store_result(ctx, dst, result, "sinterstore");
        }
    }
    Ok(())
}

/// A STORE command's non-empty result into `dst` (Redis's `setKey`: the old
/// value and TTL go), or its empty one: `dst` deleted.
fn store_result(ctx: &mut Ctx<'_>, dst: &[u8], result: Set, event: &'static str) {
    if result.is_empty() {
        store_empty(ctx, dst);
        ctx.reply.int(0);
        return;
    }
    let n = result.len();
    ctx.db.set(dst, Value::set(result), false);
    ctx.reply.int(n as i64);
    ctx.notify(SET, event, dst);
    ctx.dirty += 1;
}

/// An empty STORE result: `dst` is deleted when it exists (event `del`).
fn store_empty(ctx: &mut Ctx<'_>, dst: &[u8]) {
    if ctx.db.remove(dst).is_some() {
        ctx.dirty += 1;
        ctx.notify(GENERIC, "del", dst);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Diff,
}

/// `SUNION key [key ...]`.
pub fn sunion(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let keys: Vec<&[u8]> = args.iter_from(1).collect();
    union_diff(ctx, &keys, None, SetOp::Union)
}

/// `SUNIONSTORE destination key [key ...]`.
pub fn sunionstore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let keys: Vec<&[u8]> = args.iter_from(2).collect();
    union_diff(ctx, &keys, Some(args.get(1)), SetOp::Union)
}

/// `SDIFF key [key ...]`.
pub fn sdiff(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let keys: Vec<&[u8]> = args.iter_from(1).collect();
    union_diff(ctx, &keys, None, SetOp::Diff)
}

/// `SDIFFSTORE destination key [key ...]`.
pub fn sdiffstore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let keys: Vec<&[u8]> = args.iter_from(2).collect();
    union_diff(ctx, &keys, Some(args.get(1)), SetOp::Diff)
}

/// Redis 7.0's `sunionDiffGenericCommand`. The result is built in a new
/// set that starts as an intset; a union adds every member of every set; a
/// difference with the first key repeated is empty; otherwise it runs
/// algorithm 1 (test each member of the first set against the others,
/// largest first) when that looks cheaper, else algorithm 2 (add the first
/// set, remove the others). The reply lists the result in its own order.
fn union_diff(ctx: &mut Ctx<'_>, keys: &[&[u8]], dst: Option<&[u8]>, op: SetOp) -> CmdResult {
    lookup_sets(ctx, keys)?;
    let max = ctx.set_max_intset_entries();
    let mut sets = borrow_sets(ctx.db, keys);
    let sameset = sets[0].is_some_and(|first| {
        sets[1..]
            .iter()
            .any(|s| s.is_some_and(|s| std::ptr::eq(s, first)))
    });
    let mut result = Set::new_ints();
    match op {
        SetOp::Union => {
            for s in sets.iter().flatten() {
                for m in s.iter() {
                    result.add_member(m, max);
                }
            }
        }
        SetOp::Diff if sameset => {}
        SetOp::Diff => {
            if let Some(first) = sets[0] {
                let present = sets.iter().flatten();
                let algo_one = present.clone().count() * first.len() / 2;
                let algo_two: usize = present.map(|s| s.len()).sum();
                if algo_one <= algo_two {
                    // Largest first: members are more likely to be found early.
                    sets[1..].sort_by_key(|s| std::cmp::Reverse(s.map_or(0, |s| s.len())));
                    for m in first.iter() {
                        if !sets[1..].iter().flatten().any(|o| o.contains_member(m)) {
                            result.add_member(m, max);
                        }
                    }
                } else {
                    for m in first.iter() {
                        result.add_member(m, max);
                    }
                    for s in sets[1..].iter().flatten() {
                        if result.is_empty() {
                            break;
                        }
                        for m in s.iter() {
                            result.remove_member(m);
                        }
                    }
                }
            }
        }
    }
    match dst {
        None => {
            ctx.reply.set_len(result.len());
            for m in result.iter() {
                reply_member(ctx.reply, m);
            }
        }
        Some(dst) => {
            let event = match op {
                SetOp::Union => "sunionstore",
                SetOp::Diff => "sdiffstore",
            };
            store_result(ctx, dst, result, event);
        }
    }
    Ok(())
}

/// `SSCAN key cursor [MATCH pattern] [COUNT count]`. As Redis: the cursor
/// is checked first, then the key, then the options; an intset is
/// returned whole with cursor 0.
pub fn sscan(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let cursor = args::scan_cursor(args.get(2))?;
    let Some(s) = ctx.db.get_set(args.get(1), ctx.now_ms)? else {
        ctx.reply.array_len(2);
        ctx.reply.bulk(b"0");
        ctx.reply.array_len(0);
        return Ok(());
    };
    let opts = ScanOpts::parse(args, 2, false)?;
    let mut buf = [0u8; MAX_I64_LEN];
    let mut found: Vec<Vec<u8>> = Vec::new();
    let next = scan_steps(s, cursor, opts.count, |m| {
        let b = m.bytes(&mut buf);
        if opts.pattern.is_none_or(|p| glob::matches(p, b, false)) {
            found.push(b.to_vec());
        }
    });
    let reply = &mut *ctx.reply;
    reply.array_len(2);
    reply.bulk_i64(next as i64); // Redis replies with the cursor as a long long
    reply.array_len(found.len());
    for m in &found {
        reply.bulk(m);
    }
    Ok(())
}

/// The iteration of Redis's `scanGenericCommand` for a set: an intset
/// whole, with cursor 0; a table step by step until the cursor is back to
/// 0, `count` members were visited, or `count * 10` steps were made.
fn scan_steps(s: &Set, mut cursor: u64, count: usize, mut f: impl FnMut(Member<'_>)) -> u64 {
    if s.is_intset() {
        return s.scan(cursor, f);
    }
    let mut steps_left = count.saturating_mul(10);
    let mut got = 0usize;
    loop {
        cursor = s.scan(cursor, |m| {
            got += 1;
            f(m);
        });
        if cursor == 0 || steps_left == 0 || got >= count {
            return cursor;
        }
        steps_left -= 1;
    }
}
