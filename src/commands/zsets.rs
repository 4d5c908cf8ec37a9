//! Sorted-set commands, as Redis 7.0's `t_zset.c`: ZADD, ZINCRBY, ZREM,
//! ZCARD, ZCOUNT, ZLEXCOUNT, ZSCORE, ZMSCORE, ZRANK, ZREVRANK, the ZRANGE
//! family (ZRANGE, ZRANGESTORE, ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE,
//! ZRANGEBYLEX, ZREVRANGEBYLEX), ZREMRANGEBYRANK/BYSCORE/BYLEX, ZPOPMIN,
//! ZPOPMAX, ZMPOP, ZRANDMEMBER, ZSCAN and the blocking BZPOPMIN, BZPOPMAX
//! and BZMPOP. ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD,
//! which also take sets as inputs, are in `zsetops`.
//!
//! The type itself is `db::zset`; here are the checks in Redis's order (so
//! the same error wins), the replies (scores as `%.17g` bulk strings in
//! RESP2, doubles in RESP3; WITHSCORES pairs nested in RESP3) and the AOF
//! forms. A set whose last member goes is deleted (event `del`).
//!
//! Keyspace events are Redis's: `zadd`, `zincr`, `zrem`,
//! `zremrangebyrank/score/lex`, `zpopmin`/`zpopmax`, `zrangestore` on the
//! destination; a set created here is `new` (from `Db`).
//!
//! Propagation: as received, except the pops that name several keys or
//! block, written for the key they popped from as Redis 7.0 does:
//! BZPOPMIN/BZPOPMAX as `ZPOPMIN key` / `ZPOPMAX key`, ZMPOP and BZMPOP as
//! `ZPOPMIN key n` / `ZPOPMAX key n` with n the number popped.

use super::args::{self, is, ScanOpts};
use super::Ctx;
use crate::blocked::BlockReason;
use crate::db::zset::{LexBound, LexRange, ScoreRange, Zset, ZsetLimits};
use crate::error::{CmdError, CmdResult};
use crate::notify::{GENERIC, ZSET};
use crate::resp::parser::Args;
use crate::resp::Reply;
use crate::util::{glob, num};

const NOT_FLOAT: &str = "ERR value is not a valid float";
const NAN_RESULT: &str = "ERR resulting score is not a number (NaN)";
const RANGE_NOT_FLOAT: &str = "ERR min or max is not a float";
const RANGE_NOT_LEX: &str = "ERR min or max not valid string range item";

// ---- parsing ----------------------------------------------------------------------

/// C's `strtod` over the whole of `s` (up to its first NUL, as C sees
/// it): the value and whether it stopped at the end (or at a NUL).
fn strtod(s: &[u8]) -> (f64, bool, bool) {
    let mut buf = Vec::with_capacity(s.len() + 1);
    buf.extend_from_slice(s);
    buf.push(0);
    let mut end: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: buf is NUL-terminated and outlives the call; errno is this
    // thread's.
    let (v, erange, consumed) = unsafe {
        *libc::__errno_location() = 0;
        let v = libc::strtod(buf.as_ptr().cast(), &mut end);
        let erange = *libc::__errno_location() == libc::ERANGE;
        (v, erange, end.offset_from(buf.as_ptr().cast()) as usize)
    };
    (
        v,
        buf[consumed] == 0,
        erange && consumed == s.len() && (v == 0.0 || v.is_infinite()),
    )
}

/// Redis's `getDoubleFromObject` (`string2d`): the whole argument, no
/// leading space, no overflow or underflow to zero, not NaN.
pub(crate) fn parse_score(s: &[u8]) -> Result<f64, CmdError> {
    if s.is_empty() || s[0].is_ascii_whitespace() || s.contains(&0) {
        return Err(CmdError::Static(NOT_FLOAT));
    }
    let (v, whole, range_err) = strtod(s);
    if !whole || range_err || v.is_nan() {
        return Err(CmdError::Static(NOT_FLOAT));
    }
    Ok(v)
}

/// A WEIGHTS value of ZUNION/ZINTER and their STORE forms: the same
/// `getDoubleFromObject` rules, with Redis's message for weights.
pub(super) fn parse_weight(s: &[u8]) -> Result<f64, CmdError> {
    parse_score(s).map_err(|_| CmdError::Static("ERR weight value is not a float"))
}

/// Redis's `zslParseRange`: `(` for exclusive, then `strtod` up to the end
/// (or a NUL); NaN refused.
fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
    let one = |a: &[u8]| -> Option<(f64, bool)> {
        let (ex, body) = match a.first() {
            Some(b'(') => (true, &a[1..]),
            _ => (false, a),
        };
        let (v, whole, _) = strtod(body);
        (whole && !v.is_nan()).then_some((v, ex))
    };
    match (one(min), one(max)) {
        (Some((min, minex)), Some((max, maxex))) => Ok(ScoreRange {
            min,
            max,
            minex,
            maxex,
        }),
        _ => Err(CmdError::Static(RANGE_NOT_FLOAT)),
    }
}

/// Redis's `zslParseLexRangeItem`.
fn parse_lex_bound(a: &[u8]) -> Option<LexBound> {
    let alone = a.len() == 1 || a.get(1) == Some(&0);
    match a.first() {
        Some(b'+') if alone => Some(LexBound::Max),
        Some(b'-') if alone => Some(LexBound::Min),
        Some(b'(') => Some(LexBound::Excl(a[1..].to_vec())),
        Some(b'[') => Some(LexBound::Incl(a[1..].to_vec())),
        _ => None,
    }
}

fn parse_lex_range(min: &[u8], max: &[u8]) -> Result<LexRange, CmdError> {
    match (parse_lex_bound(min), parse_lex_bound(max)) {
        (Some(min), Some(max)) => Ok(LexRange { min, max }),
        _ => Err(CmdError::Static(RANGE_NOT_LEX)),
    }
}

/// Redis's `getRangeLongFromObjectOrReply` with one message for both errors.
fn range_long(a: &[u8], min: i64, max: i64, msg: &'static str) -> Result<i64, CmdError> {
    match num::parse_i64(a) {
        Some(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(CmdError::Static(msg)),
    }
}

/// A rank pair as ZRANGE and ZREMRANGEBYRANK sanitise it: `lo..hi`, or
/// None when empty.
fn rank_span(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as usize, end as usize + 1))
}

/// Replies a member and, when asked, its score (nested in RESP3).
pub(super) fn reply_pair(reply: &mut Reply, m: &[u8], s: f64, withscores: bool) {
    if withscores && reply.is_resp3() {
        reply.array_len(2);
    }
    reply.bulk(m);
    if withscores {
        reply.double(s);
    }
}

/// The length of an array of `n` members, with scores when asked (flat
/// pairs in RESP2).
pub(super) fn pairs_len(reply: &mut Reply, n: usize, withscores: bool) {
    if withscores && !reply.is_resp3() {
        reply.array_len(n * 2);
    } else {
        reply.array_len(n);
    }
}

/// Deletes `key` when its set emptied (event `del`) or signals its change.
fn finish_write(ctx: &mut Ctx<'_>, key: &[u8], emptied: bool) {
    if emptied {
        ctx.db.remove(key); // signals the key
        ctx.notify(GENERIC, "del", key);
    } else {
        ctx.db.signal_modified_key(key);
    }
}

// ---- ZADD / ZINCRBY -----------------------------------------------------------------

/// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]`.
pub fn zadd(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    zadd_generic(ctx, args, false)
}

/// `ZINCRBY key increment member`: ZADD INCR.
pub fn zincrby(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    zadd_generic(ctx, args, true)
}

/// Redis's `zaddGenericCommand`: options, then the pairs' count, the
/// options' conflicts, every score (all or nothing), the key's type.
fn zadd_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, mut incr: bool) -> CmdResult {
    let (mut nx, mut xx, mut gt, mut lt, mut ch) = (false, false, false, false, false);
    let mut idx = 2;
    while idx < args.len() {
        let o = args.get(idx);
        if is(o, "nx") {
            nx = true;
        } else if is(o, "xx") {
            xx = true;
        } else if is(o, "ch") {
            ch = true;
        } else if is(o, "incr") {
            incr = true;
        } else if is(o, "gt") {
            gt = true;
        } else if is(o, "lt") {
            lt = true;
        } else {
            break;
        }
        idx += 1;
    }
    let rest = args.len() - idx;
    if rest == 0 || rest % 2 == 1 {
        return Err(CmdError::Syntax);
    }
    let elements = rest / 2;
    if nx && xx {
        return Err(CmdError::Static(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if ((gt || lt) && nx) || (gt && lt) {
        return Err(CmdError::Static(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if incr && elements > 1 {
        return Err(CmdError::Static(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let mut scores = Vec::with_capacity(elements);
    for j in 0..elements {
        scores.push(parse_score(args.get(idx + 2 * j))?);
    }
    let key = args.get(1);
    let limits = ctx.zset_limits();
    let exists = ctx.db.get_zset_mut(key, ctx.now_ms)?.is_some();
    if !exists && xx {
        reply_zadd(ctx.reply, incr, ch, 0, 0, 0, 0.0);
        return Ok(());
    }
    let z = ctx.db.zset_or_create(key, ctx.now_ms)?;
    let (mut added, mut updated, mut processed) = (0usize, 0usize, 0usize);
    let mut last = 0.0;
    let mut nan = false;
    for (j, &score) in scores.iter().enumerate() {
        let m = args.get(idx + 2 * j + 1);
        match zset_add(z, m, score, incr, nx, xx, gt, lt, limits) {
            Err(()) => {
                nan = true;
                break;
            }
            Ok(AddOutcome::Added(s)) => {
                added += 1;
                processed += 1;
                last = s;
            }
            Ok(AddOutcome::Updated(s)) => {
                updated += 1;
                processed += 1;
                last = s;
            }
            Ok(AddOutcome::Same(s)) => {
                processed += 1;
                last = s;
            }
            Ok(AddOutcome::Nop) => {}
        }
    }
    ctx.dirty += (added + updated) as u64;
    if nan {
        // Redis leaves a key it created empty only if nothing went in; it
        // cannot happen for a new key (INCR on a new member adds it).
        if !exists && added == 0 {
            ctx.db.remove(key);
        }
        if added + updated > 0 {
            ctx.db.signal_modified_key(key);
            ctx.notify(ZSET, if incr { "zincr" } else { "zadd" }, key);
        }
        return Err(CmdError::Static(NAN_RESULT));
    }
    reply_zadd(ctx.reply, incr, ch, added, updated, processed, last);
    if added + updated > 0 {
        ctx.db.signal_modified_key(key);
        ctx.notify(ZSET, if incr { "zincr" } else { "zadd" }, key);
    }
    Ok(())
}

fn reply_zadd(
    reply: &mut Reply,
    incr: bool,
    ch: bool,
    added: usize,
    updated: usize,
    processed: usize,
    score: f64,
) {
    if incr {
        if processed > 0 {
            reply.double(score);
        } else {
            reply.null();
        }
    } else {
        reply.int((if ch { added + updated } else { added }) as i64);
    }
}

/// What `zsetAdd` did.
enum AddOutcome {
    /// A new member, with this score.
    Added(f64),
    /// The score changed to this.
    Updated(f64),
    /// Processed, the score unchanged.
    Same(f64),
    /// Nothing (NX on a member, XX on a non-member, GT/LT refused).
    Nop,
}

/// Redis's `zsetAdd`; Err when the increment gives NaN.
#[allow(clippy::too_many_arguments)]
fn zset_add(
    z: &mut Zset,
    m: &[u8],
    mut score: f64,
    incr: bool,
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    limits: ZsetLimits,
) -> Result<AddOutcome, ()> {
    match z.score(m) {
        Some(cur) => {
            if nx {
                return Ok(AddOutcome::Nop);
            }
            if incr {
                score += cur;
                if score.is_nan() {
                    return Err(());
                }
            }
            if (lt && score >= cur) || (gt && score <= cur) {
                return Ok(AddOutcome::Nop);
            }
            if score != cur {
                z.set(m, score, limits);
                Ok(AddOutcome::Updated(score))
            } else {
                Ok(AddOutcome::Same(score))
            }
        }
        None if xx => Ok(AddOutcome::Nop),
        None => {
            z.set(m, score, limits);
            Ok(AddOutcome::Added(score))
        }
    }
}

// ---- ZREM / ZCARD / ZSCORE / ZMSCORE / ZRANK -----------------------------------------

/// `ZREM key member [member ...]`: how many went.
pub fn zrem(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(1);
    let Some(z) = ctx.db.get_zset_mut(key, ctx.now_ms)? else {
        ctx.reply.int(0);
        return Ok(());
    };
    let mut deleted = 0;
    for m in args.iter_from(2) {
        if z.remove(m).is_some() {
            deleted += 1;
        }
        if z.is_empty() {
            break;
        }
    }
    let emptied = z.is_empty();
    if deleted > 0 {
        if emptied {
            ctx.db.remove(key);
        }
        ctx.notify(ZSET, "zrem", key);
        if emptied {
            ctx.notify(GENERIC, "del", key);
        } else {
            ctx.db.signal_modified_key(key);
        }
        ctx.dirty += deleted as u64;
    }
    ctx.reply.int(deleted);
    Ok(())
}

/// `ZCARD key`.
pub fn zcard(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let n = ctx
        .db
        .get_zset(args.get(1), ctx.now_ms)?
        .map_or(0, |z| z.len());
    ctx.reply.int(n as i64);
    Ok(())
}

/// `ZSCORE key member`: the score, or null.
pub fn zscore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    match ctx
        .db
        .get_zset(args.get(1), ctx.now_ms)?
        .and_then(|z| z.score(args.get(2)))
    {
        Some(s) => ctx.reply.double(s),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// `ZMSCORE key member [member ...]`: a score or null for each.
pub fn zmscore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let z = ctx.db.get_zset(args.get(1), ctx.now_ms)?;
    ctx.reply.array_len(args.len() - 2);
    for m in args.iter_from(2) {
        match z.and_then(|z| z.score(m)) {
            Some(s) => ctx.reply.double(s),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

/// `ZRANK key member`.
pub fn zrank(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    rank(ctx, args, false)
}

/// `ZREVRANK key member`.
pub fn zrevrank(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    rank(ctx, args, true)
}

fn rank(ctx: &mut Ctx<'_>, args: &Args<'_>, rev: bool) -> CmdResult {
    let Some(z) = ctx.db.get_zset(args.get(1), ctx.now_ms)? else {
        ctx.reply.null();
        return Ok(());
    };
    let len = z.len();
    match z.rank(args.get(2)) {
        Some((r, _)) => ctx.reply.int(if rev { len - 1 - r } else { r } as i64),
        None => ctx.reply.null(),
    }
    Ok(())
}

// ---- counts -------------------------------------------------------------------------

/// `ZCOUNT key min max`.
pub fn zcount(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let r = parse_score_range(args.get(2), args.get(3))?;
    let n = match ctx.db.get_zset(args.get(1), ctx.now_ms)? {
        Some(z) => {
            let (lo, hi) = z.score_span(&r);
            hi - lo
        }
        None => 0,
    };
    ctx.reply.int(n as i64);
    Ok(())
}

/// `ZLEXCOUNT key min max`.
pub fn zlexcount(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let r = parse_lex_range(args.get(2), args.get(3))?;
    let n = match ctx.db.get_zset(args.get(1), ctx.now_ms)? {
        Some(z) => {
            let (lo, hi) = z.lex_span(&r);
            hi - lo
        }
        None => 0,
    };
    ctx.reply.int(n as i64);
    Ok(())
}

// ---- the ZRANGE family ----------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeBy {
    Auto,
    Rank,
    Score,
    Lex,
}

/// `ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]`.
pub fn zrange(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeBy::Auto, None)
}

/// `ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]`.
pub fn zrangestore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    zrange_generic(ctx, args, 2, Some(args.get(1)), RangeBy::Auto, None)
}

/// `ZREVRANGE key start stop [WITHSCORES]`.
pub fn zrevrange(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeBy::Rank, Some(true))
}

/// `ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]`.
pub fn zrangebyscore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeBy::Score, Some(false))
}

/// `ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]`.
pub fn zrevrangebyscore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeBy::Score, Some(true))
}

/// `ZRANGEBYLEX key min max [LIMIT offset count]`.
pub fn zrangebylex(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeBy::Lex, Some(false))
}

/// `ZREVRANGEBYLEX key max min [LIMIT offset count]`.
pub fn zrevrangebylex(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeBy::Lex, Some(true))
}

/// Redis's `zrangeGenericCommand`: options after `src min max` (each
/// command accepts only what it leaves open), their conflicts, the range,
/// then the key. `rev`: fixed by the command, or None (ZRANGE's REV).
fn zrange_generic(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    at: usize,
    store: Option<&[u8]>,
    mut by: RangeBy,
    rev: Option<bool>,
) -> CmdResult {
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut reverse = rev;
    let mut j = at + 3;
    while j < args.len() {
        let left = args.len() - j - 1;
        let o = args.get(j);
        if store.is_none() && is(o, "withscores") {
            withscores = true;
        } else if is(o, "limit") && left >= 2 {
            offset = args::int(args.get(j + 1))?;
            limit = args::int(args.get(j + 2))?;
            j += 2;
        } else if reverse.is_none() && is(o, "rev") {
            reverse = Some(true);
        } else if by == RangeBy::Auto && is(o, "bylex") {
            by = RangeBy::Lex;
        } else if by == RangeBy::Auto && is(o, "byscore") {
            by = RangeBy::Score;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let rev = reverse.unwrap_or(false);
    if by == RangeBy::Auto {
        by = RangeBy::Rank;
    }
    if limit != -1 && by == RangeBy::Rank {
        return Err(CmdError::Static(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && by == RangeBy::Lex {
        return Err(CmdError::Static(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (mut a, mut b) = (args.get(at + 1), args.get(at + 2));
    if rev && by != RangeBy::Rank {
        std::mem::swap(&mut a, &mut b);
    }
    enum Parsed {
        Rank(i64, i64),
        Score(ScoreRange),
        Lex(LexRange),
    }
    let parsed = match by {
        RangeBy::Score => Parsed::Score(parse_score_range(a, b)?),
        RangeBy::Lex => Parsed::Lex(parse_lex_range(a, b)?),
        _ => Parsed::Rank(args::int(a)?, args::int(b)?),
    };
    let src = args.get(at);
    let limits = ctx.zset_limits();
    let Some(z) = ctx.db.get_zset(src, ctx.now_ms)? else {
        match store {
            Some(dst) => store_result(ctx, dst, Zset::new()),
            None => ctx.reply.array_len(0),
        }
        return Ok(());
    };
    // The ranks to emit, in emission order's direction.
    let span = match parsed {
        Parsed::Rank(start, end) => rank_span(start, end, z.len()).map(|(lo, hi)| {
            if rev {
                (z.len() - hi, z.len() - lo)
            } else {
                (lo, hi)
            }
        }),
        Parsed::Score(r) => limited(z.score_span(&r), offset, limit, rev),
        Parsed::Lex(r) => limited(z.lex_span(&r), offset, limit, rev),
    };
    let (lo, hi) = span.unwrap_or((0, 0));
    match store {
        Some(dst) => {
            let mut out = Zset::new();
            z.for_each_rank(lo, hi, rev, |m, s| {
                out.set(m, s, limits);
            });
            store_result(ctx, dst, out);
        }
        None => {
            let reply = &mut *ctx.reply;
            pairs_len(reply, hi.saturating_sub(lo), withscores);
            z.for_each_rank(lo, hi, rev, |m, s| reply_pair(reply, m, s, withscores));
        }
    }
    Ok(())
}

/// Applies LIMIT to the ranks `lo..hi` walked from `lo` (or from `hi`
/// backwards): a negative offset gives nothing, a negative count
/// everything after the offset.
fn limited((lo, hi): (usize, usize), offset: i64, limit: i64, rev: bool) -> Option<(usize, usize)> {
    if offset < 0 || lo >= hi {
        return None;
    }
    let n = hi - lo;
    let skip = (offset as u64).min(n as u64) as usize;
    let take = if limit < 0 {
        n - skip
    } else {
        (limit as u64).min((n - skip) as u64) as usize
    };
    Some(if rev {
        (hi - skip - take, hi - skip)
    } else {
        (lo + skip, lo + skip + take)
    })
}

/// ZRANGESTORE's ending: the result stored at `dst` (event `zrangestore`),
/// or, when empty, `dst` deleted; the count replied.
fn store_result(ctx: &mut Ctx<'_>, dst: &[u8], out: Zset) {
    let n = out.len();
    if n > 0 {
        ctx.db.set(dst, crate::db::value::Value::zset(out), false);
        ctx.reply.int(n as i64);
        ctx.notify(ZSET, "zrangestore", dst);
        ctx.dirty += 1;
    } else {
        ctx.reply.int(0);
        if ctx.db.remove(dst).is_some() {
            ctx.notify(GENERIC, "del", dst);
            ctx.dirty += 1;
        }
    }
}

// ---- ZREMRANGEBY* ---------------------------------------------------------------------

/// `ZREMRANGEBYRANK key start stop`.
pub fn zremrangebyrank(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let start = args::int(args.get(2))?;
    let end = args::int(args.get(3))?;
    remrange(ctx, args.get(1), "zremrangebyrank", |z| {
        rank_span(start, end, z.len())
    })
}

/// `ZREMRANGEBYSCORE key min max`.
pub fn zremrangebyscore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let r = parse_score_range(args.get(2), args.get(3))?;
    remrange(ctx, args.get(1), "zremrangebyscore", |z| {
        Some(z.score_span(&r))
    })
}

/// `ZREMRANGEBYLEX key min max`.
pub fn zremrangebylex(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let r = parse_lex_range(args.get(2), args.get(3))?;
    remrange(ctx, args.get(1), "zremrangebylex", |z| {
        Some(z.lex_span_to_remove(&r))
    })
}

/// Redis's `zremrangeGenericCommand` after parsing.
fn remrange(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    event: &'static str,
    span: impl FnOnce(&Zset) -> Option<(usize, usize)>,
) -> CmdResult {
    let Some(z) = ctx.db.get_zset_mut(key, ctx.now_ms)? else {
        ctx.reply.int(0);
        return Ok(());
    };
    let deleted = match span(z) {
        Some((lo, hi)) => z.remove_ranks(lo, hi),
        None => 0,
    };
    let emptied = z.is_empty();
    if deleted > 0 {
        if emptied {
            ctx.db.remove(key);
        } else {
            ctx.db.signal_modified_key(key);
        }
        ctx.notify(ZSET, event, key);
        if emptied {
            ctx.notify(GENERIC, "del", key);
        }
    }
    ctx.dirty += deleted as u64;
    ctx.reply.int(deleted as i64);
    Ok(())
}

// ---- pops -----------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Min,
    Max,
}

impl Side {
    fn command(self) -> &'static [u8] {
        match self {
            Side::Min => b"ZPOPMIN",
            Side::Max => b"ZPOPMAX",
        }
    }

    fn event(self) -> &'static str {
        match self {
            Side::Min => "zpopmin",
            Side::Max => "zpopmax",
        }
    }
}

/// How a pop replies (Redis's `genericZpopCommand` flags).
#[derive(Debug, Clone, Copy)]
struct PopShape {
    /// Key first (the blocking pops and the MPOPs).
    emit_key: bool,
    /// Each pair as its own array.
    nested: bool,
    /// A null array rather than an empty one when no key holds a set.
    nil_when_empty: bool,
}

/// `ZPOPMIN key [count]`.
pub fn zpopmin(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    zpop_minmax(ctx, args, Side::Min)
}

/// `ZPOPMAX key [count]`.
pub fn zpopmax(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    zpop_minmax(ctx, args, Side::Max)
}

fn zpop_minmax(ctx: &mut Ctx<'_>, args: &Args<'_>, side: Side) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = if args.len() == 3 {
        Some(range_long(
            args.get(2),
            0,
            i64::MAX,
            "ERR value is out of range, must be positive",
        )? as usize)
    } else {
        None
    };
    let shape = PopShape {
        emit_key: false,
        nested: ctx.reply.is_resp3() && count.is_some(),
        nil_when_empty: false,
    };
    let keys = [args.get(1)];
    zpop_generic(ctx, &keys, side, count, shape)?;
    Ok(())
}

/// Redis's `genericZpopCommand`: pops from the first of `keys` that holds
/// a set (WRONGTYPE stops at the first key of another type). Returns the
/// key popped from and how many went, if any. `count` None: a single pop.
fn zpop_generic(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    side: Side,
    count: Option<usize>,
    shape: PopShape,
) -> Result<Option<(Vec<u8>, usize)>, CmdError> {
    let mut found = None;
    for &k in keys {
        if ctx.db.get_zset_mut(k, ctx.now_ms)?.is_some() {
            found = Some(k);
            break;
        }
    }
    let Some(key) = found else {
        if shape.nil_when_empty {
            ctx.reply.null_array();
        } else {
            ctx.reply.array_len(0);
        }
        return Ok(None);
    };
    if count == Some(0) {
        ctx.reply.array_len(0);
        return Ok(None);
    }
    let Some(z) = ctx.db.get_zset_mut(key, ctx.now_ms)? else {
        return Ok(None);
    };
    let count = count.unwrap_or(1);
    let n = count.min(z.len());
    let reply = &mut *ctx.reply;
    match (shape.nested, shape.emit_key) {
        (false, false) => reply.array_len(n * 2),
        (true, false) => reply.array_len(n),
        (false, true) => {
            reply.array_len(n * 2 + 1);
            reply.bulk(key);
        }
        (true, true) => {
            reply.array_len(2);
            reply.bulk(key);
            reply.array_len(n);
        }
    }
    let (lo, hi) = match side {
        Side::Min => (0, n),
        Side::Max => (z.len() - n, z.len()),
    };
    z.for_each_rank(lo, hi, side == Side::Max, |m, s| {
        if shape.nested {
            reply.array_len(2);
        }
        reply.bulk(m);
        reply.double(s);
    });
    z.remove_ranks(lo, hi);
    let emptied = z.is_empty();
    ctx.dirty += n as u64;
    ctx.notify(ZSET, side.event(), key);
    finish_write(ctx, key, emptied);
    Ok(Some((key.to_vec(), n)))
}

/// Redis's ZMPOP/BZMPOP arguments from `numkeys_idx`: (numkeys, side,
/// count).
fn parse_zmpop(args: &Args<'_>, numkeys_idx: usize) -> Result<(usize, Side, usize), CmdError> {
    let numkeys = range_long(
        args.get(numkeys_idx),
        1,
        i64::MAX,
        "ERR numkeys should be greater than 0",
    )? as usize;
    let where_idx = match numkeys.checked_add(numkeys_idx + 1) {
        Some(i) if i < args.len() => i,
        _ => return Err(CmdError::Syntax),
    };
    let w = args.get(where_idx);
    let side = if is(w, "min") {
        Side::Min
    } else if is(w, "max") {
        Side::Max
    } else {
        return Err(CmdError::Syntax);
    };
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
                "ERR count should be greater than 0",
            )?);
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok((numkeys, side, count.unwrap_or(1) as usize))
}

const MPOP_SHAPE: PopShape = PopShape {
    emit_key: true,
    nested: true,
    nil_when_empty: true,
};

/// Writes a served pop to the AOF as Redis propagates it.
fn propagate_pop(ctx: &mut Ctx<'_>, side: Side, key: &[u8], count: Option<usize>) {
    match count {
        Some(n) => {
            let mut buf = [0u8; num::MAX_I64_LEN];
            let n = num::fmt_i64(n as i64, &mut buf).to_vec();
            ctx.propagate_as(&[side.command(), key, &n]);
        }
        None => ctx.propagate_as(&[side.command(), key]),
    }
}

/// `ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]`.
pub fn zmpop(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (numkeys, side, count) = parse_zmpop(args, 1)?;
    let keys: Vec<&[u8]> = args.iter_from(2).take(numkeys).collect();
    // Written as ZPOPMIN/ZPOPMAX key n, n the number popped (Redis 7.0).
    if let Some((key, n)) = zpop_generic(ctx, &keys, side, Some(count), MPOP_SHAPE)? {
        propagate_pop(ctx, side, &key, Some(n));
    }
    Ok(())
}

/// `BZPOPMIN key [key ...] timeout`.
pub fn bzpopmin(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let keys: Vec<&[u8]> = args.iter_from(1).take(args.len() - 2).collect();
    blocking_zpop(ctx, &keys, args.get(args.len() - 1), Side::Min, None)
}

/// `BZPOPMAX key [key ...] timeout`.
pub fn bzpopmax(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let keys: Vec<&[u8]> = args.iter_from(1).take(args.len() - 2).collect();
    blocking_zpop(ctx, &keys, args.get(args.len() - 1), Side::Max, None)
}

/// `BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]`.
pub fn bzmpop(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (numkeys, side, count) = parse_zmpop(args, 2)?;
    let keys: Vec<&[u8]> = args.iter_from(3).take(numkeys).collect();
    blocking_zpop(ctx, &keys, args.get(1), side, Some(count))
}

/// Redis's `blockingGenericZpopCommand`: the timeout first, then the
/// first key holding a set is popped (WRONGTYPE in key order), else wait
/// for one, and past the deadline a null array. `count` None: BZPOPMIN /
/// BZPOPMAX's flat `[key, member, score]`.
fn blocking_zpop(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    timeout: &[u8],
    side: Side,
    count: Option<usize>,
) -> CmdResult {
    let deadline = ctx.block_deadline(timeout)?;
    for &key in keys {
        if ctx.db.get_zset_mut(key, ctx.now_ms)?.is_none() {
            continue;
        }
        let shape = PopShape {
            emit_key: true,
            nested: count.is_some(),
            nil_when_empty: count.is_some(),
        };
        if let Some((_, n)) = zpop_generic(ctx, &[key], side, count, shape)? {
            propagate_pop(ctx, side, key, count.map(|_| n));
        }
        return Ok(());
    }
    if ctx.must_not_wait(deadline) {
        ctx.reply.null_array();
        return Ok(());
    }
    let keys = keys.iter().map(|k| k.to_vec()).collect();
    ctx.block_on_keys_for(BlockReason::Zset, keys, deadline);
    Ok(())
}

// ---- ZRANDMEMBER ----------------------------------------------------------------------

/// `ZRANDMEMBER key [count [WITHSCORES]]`.
pub fn zrandmember(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(1);
    if args.len() >= 3 {
        let l = match num::parse_i64(args.get(2)) {
            Some(v) if v >= -i64::MAX => v,
            Some(_) => {
                return Err(CmdError::msg(format!(
                    "ERR value is out of range, value must between {} and {}",
                    -i64::MAX,
                    i64::MAX
                )))
            }
            None => return Err(CmdError::NotInteger),
        };
        let withscores = match args.len() {
            3 => false,
            4 if is(args.get(3), "withscores") => true,
            _ => return Err(CmdError::Syntax),
        };
        if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
            return Err(CmdError::Static("ERR value is out of range"));
        }
        return zrandmember_count(ctx, key, l, withscores);
    }
    let now = ctx.now_ms;
    let (db, reply, _, rng) = ctx.split();
    let Some(z) = db.get_zset(key, now)? else {
        reply.null();
        return Ok(());
    };
    match z.random(rng) {
        Some((m, _)) => reply.bulk(m),
        None => reply.null(),
    }
    Ok(())
}

/// Redis's `zrandmemberWithCountCommand`.
fn zrandmember_count(ctx: &mut Ctx<'_>, key: &[u8], l: i64, withscores: bool) -> CmdResult {
    let now = ctx.now_ms;
    let (db, reply, _, rng) = ctx.split();
    let Some(z) = db.get_zset(key, now)? else {
        reply.array_len(0);
        return Ok(());
    };
    let size = z.len();
    let (count, uniq) = if l >= 0 {
        (l as u64, true)
    } else {
        (l.unsigned_abs(), false)
    };
    if count == 0 {
        reply.array_len(0);
        return Ok(());
    }
    // Case 1: repeats allowed (or a single member): independent picks.
    if !uniq || count == 1 {
        pairs_len(reply, count as usize, withscores);
        for _ in 0..count {
            if let Some((m, s)) = z.random(rng) {
                reply_pair(reply, m, s, withscores);
            }
            if reply.overflowed() {
                break;
            }
        }
        return Ok(());
    }
    // Case 2: the whole set, highest score first (Redis's `zuiNext` walks
    // a sorted set from its tail).
    if count as usize >= size {
        pairs_len(reply, size, withscores);
        z.for_each_rank(0, size, true, |m, s| reply_pair(reply, m, s, withscores));
        return Ok(());
    }
    // Distinct members: Floyd's sample of ranks. A packed set answers in
    // its order (as Redis's lpRandomPairsUnique), a skip list in random
    // order (as Redis's dictionary walk).
    let count = count as usize;
    let mut picked = std::collections::BTreeSet::new();
    let mut order = Vec::with_capacity(count);
    for j in size - count..size {
        let t = rng.below(j as u64 + 1) as usize;
        let r = if picked.insert(t) {
            t
        } else {
            picked.insert(j);
            j
        };
        order.push(r);
    }
    if z.is_packed() {
        order = picked.iter().copied().collect();
    }
    pairs_len(reply, count, withscores);
    for r in order {
        if let Some((m, s)) = z.nth(r) {
            reply_pair(reply, m, s, withscores);
        }
    }
    Ok(())
}

// ---- ZSCAN ----------------------------------------------------------------------------

/// `ZSCAN key cursor [MATCH pattern] [COUNT count]`.
pub fn zscan(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let cursor = args::scan_cursor(args.get(2))?;
    let Some(z) = ctx.db.get_zset(args.get(1), ctx.now_ms)? else {
        ctx.reply.array_len(2);
        ctx.reply.bulk(b"0");
        ctx.reply.array_len(0);
        return Ok(());
    };
    let opts = ScanOpts::parse(args, 2, false)?;
    let wanted = |m: &[u8]| opts.pattern.is_none_or(|p| glob::matches(p, m, false));
    let mut found: Vec<(&[u8], f64)> = Vec::new();
    let next = scan_steps(z, cursor, opts.count, |m, s| {
        if wanted(m) {
            found.push((m, s));
        }
    });
    let reply = &mut *ctx.reply;
    reply.array_len(2);
    reply.bulk_i64(next as i64);
    reply.array_len(found.len() * 2);
    for (m, s) in found {
        reply.bulk(m);
        // ZSCAN's scores are bulk strings in both protocols.
        reply.bulk(num::fmt_f64_g17(s).as_bytes());
    }
    Ok(())
}

/// Redis's `scanGenericCommand` iteration for a sorted set: a packed set
/// whole with cursor 0; a skip list's index step by step until the cursor
/// is back to 0, `count` members were visited, or `count * 20` steps were
/// made.
fn scan_steps<'a>(
    z: &'a Zset,
    mut cursor: u64,
    count: usize,
    mut f: impl FnMut(&'a [u8], f64),
) -> u64 {
    if z.is_packed() {
        return z.scan(cursor, f);
    }
    let elements = count.saturating_mul(2);
    let mut steps_left = elements.saturating_mul(10);
    let mut got = 0usize;
    loop {
        cursor = z.scan(cursor, |m, s| {
            got += 2;
            f(m, s);
        });
        if cursor == 0 || steps_left == 0 || got >= elements {
            return cursor;
        }
        steps_left -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_parse_as_string2d() {
        assert_eq!(parse_score(b"1.5").ok(), Some(1.5));
        assert_eq!(parse_score(b"inf").ok(), Some(f64::INFINITY));
        assert_eq!(parse_score(b"-inf").ok(), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"+inf").ok(), Some(f64::INFINITY));
        assert_eq!(parse_score(b"0x10").ok(), Some(16.0));
        assert!(parse_score(b"nan").is_err());
        assert!(parse_score(b"").is_err());
        assert!(parse_score(b" 1").is_err());
        assert!(parse_score(b"1 ").is_err());
        assert!(parse_score(b"1e400").is_err());
        assert!(parse_score(b"1e-400").is_err());
        assert!(parse_score(b"4e-320").is_ok());
        assert!(parse_score(b"1\0").is_err());
    }

    #[test]
    fn ranges_parse_as_zsl_parse_range() {
        let r = parse_score_range(b"(1", b"+inf").unwrap_or(ScoreRange {
            min: 0.0,
            max: 0.0,
            minex: false,
            maxex: false,
        });
        assert!(r.minex && !r.maxex && r.max.is_infinite());
        assert!(parse_score_range(b"", b"1").is_ok());
        assert!(parse_score_range(b"(", b"1").is_ok());
        assert!(parse_score_range(b"a", b"1").is_err());
        assert!(parse_score_range(b"nan", b"1").is_err());
        assert!(parse_lex_range(b"-", b"+").is_ok());
        assert!(parse_lex_range(b"[a", b"(b").is_ok());
        assert!(parse_lex_range(b"a", b"+").is_err());
        assert!(parse_lex_range(b"+a", b"+").is_err());
        assert!(parse_lex_range(b"", b"+").is_err());
    }

    #[test]
    fn limit_slices_from_the_walk_start() {
        assert_eq!(limited((2, 10), 0, -1, false), Some((2, 10)));
        assert_eq!(limited((2, 10), 3, 2, false), Some((5, 7)));
        assert_eq!(limited((2, 10), 3, 2, true), Some((5, 7)));
        assert_eq!(limited((2, 10), 1, 2, true), Some((7, 9)));
        assert_eq!(limited((2, 10), -1, 2, false), None);
        assert_eq!(limited((2, 10), 100, 2, false), Some((10, 10)));
    }
}
