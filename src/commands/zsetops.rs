//! The sorted-set algebra, as Redis 7.0's `zunionInterDiffGenericCommand`
//! (`t_zset.c`): ZUNION, ZINTER, ZDIFF, ZUNIONSTORE, ZINTERSTORE,
//! ZDIFFSTORE and ZINTERCARD. Inputs are sorted sets or sets (a set's
//! members score 1, whichever its encoding); a missing key is an empty
//! input; another type answers WRONGTYPE.
//!
//! Checks in Redis's order, so the same error wins: numkeys (an integer,
//! at least 1: "at least 1 input key is needed for '<cmd>' command", no
//! more than the arguments left: syntax error), then the keys looked up one
//! by one (the first of another type answers WRONGTYPE), then the options
//! (WEIGHTS with one float per key, "weight value is not a float";
//! AGGREGATE SUM|MIN|MAX; WITHSCORES for the replying forms; LIMIT for
//! ZINTERCARD, "LIMIT can't be negative"), any other word a syntax error.
//!
//! Arithmetic as Redis's: a weighted score that is NaN (0 × ±inf) counts
//! as 0 where Redis checks it (each input score of a union, the first
//! input's of an intersection); a SUM that gives NaN (inf + -inf) is 0;
//! MIN and MAX ignore a NaN operand. Inputs of a union or intersection are
//! taken smallest first (a stable sort, as glibc's `qsort` merge sort), so
//! sums of three or more inputs add in Redis's order and round the same.
//! An intersection walks the smallest input; a difference picks Redis's
//! algorithm 1 (test each member of the first input against the others,
//! largest first) or 2 (copy the first input, remove the others) by
//! `zsetChooseDiffAlgorithm`'s estimate, and is empty when the first key is
//! repeated.
//!
//! Replies list the result by score then member; WITHSCORES pairs are flat
//! in RESP2 and nested in RESP3. A STORE result is built as a skip list
//! and packed when it fits `zset-max-listpack-entries/value`
//! (`zsetConvertToListpackIfNeeded`), replacing the destination and its
//! TTL (event `zunionstore`/`zinterstore`/`zdiffstore`); an empty result
//! deletes the destination (event `del`). Propagated as received.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use super::args::{self, is};
use super::zsets::{pairs_len, parse_weight, reply_pair};
use super::Ctx;
use crate::db::set::{Member, Set};
use crate::db::value::Value;
use crate::db::zset::{SkipList, Zset, ZsetLimits};
use crate::db::Db;
use crate::error::{CmdError, CmdResult};
use crate::notify::{GENERIC, ZSET};
use crate::resp::parser::Args;
use crate::util::hash;
use crate::util::num::MAX_I64_LEN;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// What the command does with its result.
enum Out<'a> {
    /// Reply with it (ZUNION, ZINTER, ZDIFF).
    Reply,
    /// Store it at this key (the STORE forms).
    Store(&'a [u8]),
    /// Count it (ZINTERCARD).
    Card,
}

/// One input (`zsetopsrc`).
#[derive(Clone, Copy)]
struct Src<'a> {
    kind: Kind<'a>,
    weight: f64,
}

#[derive(Clone, Copy)]
enum Kind<'a> {
    Missing,
    Set(&'a Set),
    Zset(&'a Zset),
}

impl<'a> Src<'a> {
    fn len(&self) -> usize {
        match self.kind {
            Kind::Missing => 0,
            Kind::Set(s) => s.len(),
            Kind::Zset(z) => z.len(),
        }
    }

    /// Whether two inputs are the same value (one key named twice).
    fn same(&self, o: &Src<'_>) -> bool {
        match (self.kind, o.kind) {
            (Kind::Set(a), Kind::Set(b)) => std::ptr::eq(a, b),
            (Kind::Zset(a), Kind::Zset(b)) => std::ptr::eq(a, b),
            _ => false,
        }
    }

    /// The score of `m` (1 in a set), or None (`zuiFind`).
    fn find(&self, m: &[u8]) -> Option<f64> {
        match self.kind {
            Kind::Missing => None,
            Kind::Set(s) => s.contains(m).then_some(1.0),
            Kind::Zset(z) => z.score(m),
        }
    }

    /// Calls `f` with each member and its unweighted score, in the input's
    /// own order; stops when `f` returns false. Members are borrowed from
    /// the input, except an intset's, which are written out.
    fn each(&self, mut f: impl FnMut(Mem<'a>, f64) -> bool) {
        match self.kind {
            Kind::Missing => {}
            Kind::Set(s) => {
                let mut buf = [0u8; MAX_I64_LEN];
                for m in s.iter() {
                    let m = match m {
                        Member::Str(b) => Cow::Borrowed(b),
                        Member::Int(_) => Cow::Owned(m.bytes(&mut buf).to_vec()),
                    };
                    if !f(m, 1.0) {
                        return;
                    }
                }
            }
            Kind::Zset(z) => {
                for (m, s) in z.iter() {
                    if !f(Cow::Borrowed(m), s) {
                        return;
                    }
                }
            }
        }
    }
}

/// Redis's `zunionInterAggregate`.
fn aggregate(target: &mut f64, val: f64, how: Aggregate) {
    match how {
        Aggregate::Sum => {
            *target += val;
            // inf + -inf: Redis keeps 0 rather than NaN.
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if val < *target {
                *target = val;
            }
        }
        Aggregate::Max => {
            if val > *target {
                *target = val;
            }
        }
    }
}

/// A weighted input score as Redis computes it before aggregating: NaN
/// (0 × ±inf) becomes 0.
fn weighted(score: f64, weight: f64) -> f64 {
    let v = score * weight;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// Hashes member bytes with the dicts' wyhash, seeded from the process's
/// seed (so a client cannot choose colliding members).
#[derive(Clone, Copy)]
struct MemberHash(u64);

impl MemberHash {
    fn new() -> MemberHash {
        MemberHash(hash::hash(b""))
    }
}

struct MemberHasher(u64);

impl BuildHasher for MemberHash {
    type Hasher = MemberHasher;
    fn build_hasher(&self) -> MemberHasher {
        MemberHasher(self.0)
    }
}

impl Hasher for MemberHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0 = hash::hash_with_seed(bytes, self.0);
    }
}

/// A member, borrowed from an input where it can be.
type Mem<'a> = Cow<'a, [u8]>;

type Acc<'a> = HashMap<Mem<'a>, f64, MemberHash>;

/// A result: members and their scores.
type Pairs<'a> = Vec<(Mem<'a>, f64)>;

/// `ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`.
pub fn zunion(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    generic(ctx, args, 1, Op::Union, Out::Reply, "zunion")
}

/// `ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`.
pub fn zinter(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    generic(ctx, args, 1, Op::Inter, Out::Reply, "zinter")
}

/// `ZDIFF numkeys key [key ...] [WITHSCORES]`.
pub fn zdiff(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    generic(ctx, args, 1, Op::Diff, Out::Reply, "zdiff")
}

/// `ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE ...]`.
pub fn zunionstore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    generic(
        ctx,
        args,
        2,
        Op::Union,
        Out::Store(args.get(1)),
        "zunionstore",
    )
}

/// `ZINTERSTORE destination numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE ...]`.
pub fn zinterstore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    generic(
        ctx,
        args,
        2,
        Op::Inter,
        Out::Store(args.get(1)),
        "zinterstore",
    )
}

/// `ZDIFFSTORE destination numkeys key [key ...]`.
pub fn zdiffstore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    generic(
        ctx,
        args,
        2,
        Op::Diff,
        Out::Store(args.get(1)),
        "zdiffstore",
    )
}

/// `ZINTERCARD numkeys key [key ...] [LIMIT limit]`.
pub fn zintercard(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    generic(ctx, args, 1, Op::Inter, Out::Card, "zintercard")
}

/// The options after the keys, parsed.
struct Opts {
    weights: Option<Vec<f64>>,
    aggregate: Aggregate,
    withscores: bool,
    limit: usize,
}

/// Parses the options from `args[j..]` as Redis's loop does (each word
/// tried in turn; WEIGHTS needs a value per key, AGGREGATE and LIMIT one).
fn parse_opts(
    args: &Args<'_>,
    mut j: usize,
    numkeys: usize,
    op: Op,
    out: &Out<'_>,
) -> Result<Opts, CmdError> {
    let card = matches!(out, Out::Card);
    let mut o = Opts {
        weights: None,
        aggregate: Aggregate::Sum,
        withscores: false,
        limit: 0,
    };
    while j < args.len() {
        let remaining = args.len() - j;
        let a = args.get(j);
        if op != Op::Diff && !card && remaining > numkeys && is(a, "WEIGHTS") {
            let mut w = Vec::with_capacity(numkeys);
            for i in 0..numkeys {
                w.push(parse_weight(args.get(j + 1 + i))?);
            }
            o.weights = Some(w);
            j += 1 + numkeys;
        } else if op != Op::Diff && !card && remaining >= 2 && is(a, "AGGREGATE") {
            let v = args.get(j + 1);
            o.aggregate = if is(v, "SUM") {
                Aggregate::Sum
            } else if is(v, "MIN") {
                Aggregate::Min
            } else if is(v, "MAX") {
                Aggregate::Max
            } else {
                return Err(CmdError::Syntax);
            };
            j += 2;
        } else if matches!(out, Out::Reply) && is(a, "WITHSCORES") {
            o.withscores = true;
            j += 1;
        } else if card && remaining >= 2 && is(a, "LIMIT") {
            const NEG: CmdError = CmdError::Static("ERR LIMIT can't be negative");
            let l = args::int(args.get(j + 1)).map_err(|_| NEG)?;
            if l < 0 {
                return Err(NEG);
            }
            o.limit = l as usize;
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(o)
}

fn generic(
    ctx: &mut Ctx<'_>,
    args: &Args<'_>,
    numkeys_at: usize,
    op: Op,
    out: Out<'_>,
    name: &'static str,
) -> CmdResult {
    let numkeys = args::int(args.get(numkeys_at))?;
    if numkeys < 1 {
        return Err(CmdError::msg(format!(
            "ERR at least 1 input key is needed for '{name}' command"
        )));
    }
    if numkeys > (args.len() - numkeys_at - 1) as i64 {
        return Err(CmdError::Syntax);
    }
    let numkeys = numkeys as usize;
    let keys: Vec<&[u8]> = (0..numkeys).map(|i| args.get(numkeys_at + 1 + i)).collect();
    // Looked up in order, as `lookupKeyRead`: each counts as a hit or miss
    // and an expired key goes; the first of another type answers WRONGTYPE.
    for k in &keys {
        if let Some(v) = ctx.db.get(k, ctx.now_ms) {
            if v.as_set().is_none() && v.as_zset().is_none() {
                return Err(CmdError::WrongType);
            }
        }
    }
    let opts = parse_opts(args, numkeys_at + 1 + numkeys, numkeys, op, &out)?;
    let limits = ctx.zset_limits();
    let stored = {
        let mut srcs = borrow_inputs(ctx.db, &keys);
        if let Some(w) = &opts.weights {
            for (s, w) in srcs.iter_mut().zip(w) {
                s.weight = *w;
            }
        }
        if op != Op::Diff {
            // Smallest first, stable as glibc's merge sort.
            srcs.sort_by_key(|s| s.len());
        }
        let mut result = match op {
            Op::Union => union(&srcs, opts.aggregate),
            Op::Inter => {
                if let Out::Card = out {
                    ctx.reply.int(inter_card(&srcs, opts.limit) as i64);
                    return Ok(());
                }
                inter(&srcs, opts.aggregate)
            }
            Op::Diff => diff(&mut srcs),
        };
        // The order of a skip list: by score (-0 equal to 0; no NaN reaches
        // here), then by member bytes.
        result.sort_unstable_by(|a, b| {
            a.1.partial_cmp(&b.1)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.0.cmp(&b.0))
        });
        match out {
            Out::Store(_) => build(&result, limits),
            _ => {
                let reply = &mut *ctx.reply;
                pairs_len(reply, result.len(), opts.withscores);
                for (m, s) in &result {
                    reply_pair(reply, m, *s, opts.withscores);
                }
                None
            }
        }
    };
    if let Out::Store(dst) = out {
        store(ctx, dst, stored, op);
    }
    Ok(())
}

/// The inputs, borrowed together after the lookups (missing: empty).
fn borrow_inputs<'d>(db: &'d Db, keys: &[&[u8]]) -> Vec<Src<'d>> {
    keys.iter()
        .map(|k| {
            let kind = match db.dict.get(k) {
                Some(v) => match (v.as_set(), v.as_zset()) {
                    (Some(s), _) => Kind::Set(s),
                    (_, Some(z)) => Kind::Zset(z),
                    _ => Kind::Missing,
                },
                None => Kind::Missing,
            };
            Src { kind, weight: 1.0 }
        })
        .collect()
}

/// Every member of every input, scores aggregated (Redis's accumulator).
fn union<'a>(srcs: &[Src<'a>], how: Aggregate) -> Pairs<'a> {
    let mut acc: Acc<'a> =
        HashMap::with_capacity_and_hasher(srcs.last().map_or(0, |s| s.len()), MemberHash::new());
    for src in srcs {
        src.each(|m, s| {
            let score = weighted(s, src.weight);
            match acc.get_mut(&*m) {
                Some(t) => aggregate(t, score, how),
                None => {
                    acc.insert(m, score);
                }
            }
            true
        });
    }
    acc.into_iter().collect()
}

/// The members of the smallest input found in every other one. Calls
/// `found` with each and its aggregated score; stops when it returns false.
fn inter_walk<'a>(srcs: &[Src<'a>], how: Aggregate, mut found: impl FnMut(Mem<'a>, f64) -> bool) {
    let first = &srcs[0];
    if first.len() == 0 {
        return;
    }
    first.each(|m, s| {
        let mut score = weighted(s, first.weight);
        for o in &srcs[1..] {
            // No NaN check here, as Redis: a NaN operand is ignored by
            // MIN/MAX and makes a SUM 0.
            let v = if o.same(first) {
                s * o.weight
            } else {
                match o.find(&m) {
                    Some(v) => v * o.weight,
                    None => return true,
                }
            };
            aggregate(&mut score, v, how);
        }
        found(m, score)
    });
}

fn inter<'a>(srcs: &[Src<'a>], how: Aggregate) -> Pairs<'a> {
    let mut out = Vec::new();
    inter_walk(srcs, how, |m, s| {
        out.push((m, s));
        true
    });
    out
}

/// ZINTERCARD: the size of the intersection, stopping at `limit` (0: none).
fn inter_card(srcs: &[Src<'_>], limit: usize) -> usize {
    let mut n = 0;
    inter_walk(srcs, Aggregate::Sum, |_, _| {
        n += 1;
        limit == 0 || n < limit
    });
    n
}

/// Redis's `zsetChooseDiffAlgorithm`: 0 when the first input is repeated
/// (nothing is left), else 1 or 2 by the estimated work.
fn choose_diff_algorithm(srcs: &[Src<'_>]) -> u8 {
    let mut one: u64 = 0;
    let mut two: u64 = 0;
    for (j, s) in srcs.iter().enumerate() {
        if j > 0 && s.same(&srcs[0]) {
            return 0;
        }
        one += srcs[0].len() as u64;
        two += s.len() as u64;
    }
    // Algorithm 1 has better constants and stops early on common members.
    one /= 2;
    if one <= two {
        1
    } else {
        2
    }
}

/// The members of the first input in none of the others, with their
/// scores (unweighted).
fn diff<'a>(srcs: &mut [Src<'a>]) -> Pairs<'a> {
    let mut out = Vec::new();
    if srcs[0].len() == 0 {
        return out;
    }
    match choose_diff_algorithm(srcs) {
        0 => {}
        1 => {
            // Largest first: a member is likelier to be found early.
            srcs[1..].sort_by_key(|s| std::cmp::Reverse(s.len()));
            let (first, rest) = srcs.split_at(1);
            first[0].each(|m, s| {
                if !rest.iter().any(|o| o.find(&m).is_some()) {
                    out.push((m, s));
                }
                true
            });
        }
        _ => {
            let mut acc: Acc<'a> =
                HashMap::with_capacity_and_hasher(srcs[0].len(), MemberHash::new());
            srcs[0].each(|m, s| {
                acc.insert(m, s);
                true
            });
            for o in &srcs[1..] {
                if acc.is_empty() {
                    break;
                }
                o.each(|m, _| {
                    acc.remove(&*m);
                    !acc.is_empty()
                });
            }
            out = acc.into_iter().collect();
        }
    }
    out
}

/// A STORE form's result as Redis builds it: a skip list, packed when it
/// fits the limits (`zsetConvertToListpackIfNeeded`); None when empty.
fn build(result: &[(Mem<'_>, f64)], limits: ZsetLimits) -> Option<Zset> {
    if result.is_empty() {
        return None;
    }
    let mut list = SkipList::with_capacity(result.len());
    for (m, s) in result {
        list.insert(m, *s);
    }
    let mut z = Zset::Skip(Box::new(list));
    z.shrink_to_pack_if_fits(limits);
    Some(z)
}

/// A STORE form's ending: the result stored at `dst`, or `dst` deleted
/// when the result is empty.
fn store(ctx: &mut Ctx<'_>, dst: &[u8], result: Option<Zset>, op: Op) {
    let Some(z) = result else {
        ctx.reply.int(0);
        if ctx.db.remove(dst).is_some() {
            ctx.notify(GENERIC, "del", dst);
            ctx.dirty += 1;
        }
        return;
    };
    let n = z.len();
    ctx.db.set(dst, Value::zset(z), false);
    ctx.reply.int(n as i64);
    let event = match op {
        Op::Union => "zunionstore",
        Op::Inter => "zinterstore",
        Op::Diff => "zdiffstore",
    };
    ctx.notify(ZSET, event, dst);
    ctx.dirty += 1;
}
