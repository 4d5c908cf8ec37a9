//! SORT and SORT_RO, as Redis 7.0's `sort.c`.
//!
//! `SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC]
//! [ALPHA] [STORE destination]`; SORT_RO is the same without STORE (which
//! is then a syntax error).
//!
//! Redis's rules, kept here:
//! - Options are read left to right; the last BY wins, but a BY without `*`
//!   (`nosort` or any constant) turns sorting off for good, even if a later
//!   BY has a `*`. LIMIT's two numbers are longs (the integer error).
//! - Syntax errors come before the key's type is checked (WRONGTYPE).
//! - Without sorting, a list keeps its order (reversed by DESC) and LIMIT
//!   takes its range of that.
//! - Numeric sorting reads each weight (the element, or what BY finds) with
//!   `strtod` up to a NUL byte: leading blanks, hex and `inf` pass, an empty
//!   or missing weight is 0; trailing bytes, overflow/underflow (ERANGE)
//!   and NaN make "ERR One or more scores can't be converted into double",
//!   given after every weight was looked up. Equal weights order by the
//!   elements' bytes, so the result is deterministic.
//! - ALPHA compares the elements (or, with BY, the weights; a missing
//!   weight sorts first) with `strcoll`, as C's locale does (bytes up to a
//!   NUL); with STORE with the binary comparison. Equal ALPHA weights keep
//!   the elements' order (glibc's qsort is a stable merge sort), except
//!   with BY and a LIMIT, where Redis's partial quicksort (`pqsort`, ported
//!   below) decides.
//! - A pattern substitutes the element for its first `*`; `key->field`
//!   (an `->` after the `*`, followed by something) reads a hash field; a
//!   pattern without `*` finds nothing; `#` is the element itself. Only a
//!   string (or, with `->`, a hash) counts. Lookups are reads: they count
//!   hits and misses and expire keys.
//! - STORE writes a list (GET results, or the elements), missing GETs as
//!   empty strings, event `sortstore`; with nothing to store it deletes the
//!   destination (event `del`). The reply is the number of elements.
//!   SORT ... STORE is a write and propagates as received.

use super::args::{self, is};
use super::Ctx;
use crate::db::list::{End, List};
use crate::db::value::{Value, ValueRef};
use crate::error::{CmdError, CmdResult};
use crate::notify::{GENERIC, LIST};
use crate::resp::parser::Args;
use std::cmp::Ordering;

const NOT_DOUBLE: &str = "ERR One or more scores can't be converted into double";

/// `SORT key [options]`.
pub fn sort(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    sort_generic(ctx, args, false)
}

/// `SORT_RO key [options]`: SORT without STORE.
pub fn sort_ro(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    sort_generic(ctx, args, true)
}

/// The parsed options.
struct Options {
    desc: bool,
    alpha: bool,
    limit_start: i64,
    limit_count: i64,
    store: Option<Vec<u8>>,
    sort_by: Option<Vec<u8>>,
    dont_sort: bool,
    gets: Vec<Vec<u8>>,
}

/// `sortCommandGeneric`'s option loop.
fn parse(args: &Args<'_>, readonly: bool) -> Result<Options, CmdError> {
    let mut o = Options {
        desc: false,
        alpha: false,
        limit_start: 0,
        limit_count: -1,
        store: None,
        sort_by: None,
        dont_sort: false,
        gets: Vec::new(),
    };
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = args.get(j);
        if is(a, "asc") {
            o.desc = false;
        } else if is(a, "desc") {
            o.desc = true;
        } else if is(a, "alpha") {
            o.alpha = true;
        } else if is(a, "limit") && left >= 2 {
            o.limit_start = args::int(args.get(j + 1))?;
            o.limit_count = args::int(args.get(j + 2))?;
            j += 2;
        } else if !readonly && is(a, "store") && left >= 1 {
            o.store = Some(args.get(j + 1).to_vec());
            j += 1;
        } else if is(a, "by") && left >= 1 {
            let p = args.get(j + 1);
            // strchr: a '*' past a NUL byte is not seen.
            if !c_str(p).contains(&b'*') {
                o.dont_sort = true;
            }
            o.sort_by = Some(p.to_vec());
            j += 1;
        } else if is(a, "get") && left >= 1 {
            o.gets.push(args.get(j + 1).to_vec());
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

/// The bytes C's string functions see: up to the first NUL.
fn c_str(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    }
}

/// The kind of value SORT works on, for Redis's special cases.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    List,
    Set,
    Zset,
}

/// The elements SORT works on, in the value's own order (a list's; a set's
/// iteration order, ascending for an intset; a sorted set's score order);
/// WRONGTYPE for a kind SORT does not take. Redis's special cases are in
/// `sort_generic`:
/// - a set has no order: without sorting (BY constant) and with STORE (or
///   from a script), Redis forces ALPHA sorting with no BY so the result is
///   deterministic; otherwise, without sorting, a set's elements come in
///   its iteration order, and DESC does not reverse them;
/// - a sorted set without sorting keeps its score order (reversed by DESC)
///   and LIMIT picks its range of that order; with sorting, its members
///   are the elements (Redis takes them in its dictionary's order, which
///   only ties among equal ALPHA weights could show).
fn elements(v: ValueRef<'_>) -> Result<(Source, Vec<Vec<u8>>), CmdError> {
    match v {
        ValueRef::List(l) => Ok((Source::List, l.iter().map(|e| e.into_owned()).collect())),
        ValueRef::Set(set) => {
            let mut buf = [0u8; crate::util::num::MAX_I64_LEN];
            Ok((
                Source::Set,
                set.iter().map(|m| m.bytes(&mut buf).to_vec()).collect(),
            ))
        }
        ValueRef::Zset(z) => Ok((Source::Zset, z.iter().map(|(m, _)| m.to_vec()).collect())),
        ValueRef::Str(_) | ValueRef::Hash(_) | ValueRef::Stream(_) => Err(CmdError::WrongType),
    }
}

/// Redis's `lookupKeyByPattern`: what `pattern` finds for element `subst`.
fn lookup_by_pattern(ctx: &mut Ctx<'_>, pattern: &[u8], subst: &[u8]) -> Option<Vec<u8>> {
    if pattern.first() == Some(&b'#') && pattern.get(1).is_none_or(|&c| c == 0) {
        return Some(subst.to_vec());
    }
    let star = c_str(pattern).iter().position(|&c| c == b'*')?;
    // strstr(p+1, "->"), and a non-empty field after it.
    let after = c_str(&pattern[star + 1..]);
    let arrow = after
        .windows(2)
        .position(|w| w == b"->")
        .map(|i| star + 1 + i)
        .filter(|&f| pattern.get(f + 2).is_some_and(|&c| c != 0));
    let (key_tail_end, field) = match arrow {
        Some(f) => (f, Some(&pattern[f + 2..])),
        None => (pattern.len(), None),
    };
    let mut key = Vec::with_capacity(pattern.len() + subst.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(subst);
    key.extend_from_slice(&pattern[star + 1..key_tail_end]);
    let value = ctx.db.get(&key, ctx.now_ms)?;
    match (value.view(), field) {
        (ValueRef::Str(s), None) => Some(s.to_vec()),
        (ValueRef::Hash(h), Some(f)) => h.get(f).map(|v| v.to_vec()),
        (ValueRef::Str(_), Some(_))
        | (ValueRef::Hash(_), None)
        | (ValueRef::List(_), _)
        | (ValueRef::Set(_), _)
        | (ValueRef::Zset(_), _)
        | (ValueRef::Stream(_), _) => None,
    }
}

/// A weight read as `strtod` reads it in SORT: `None` when it is not a
/// double there (bytes left before the NUL, ERANGE, NaN).
fn weight(b: &[u8]) -> Option<f64> {
    let s = c_str(b);
    let mut buf = Vec::with_capacity(s.len() + 1);
    buf.extend_from_slice(s);
    buf.push(0);
    let mut end: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: `buf` is NUL-terminated and outlives the call; strtod writes
    // `end` as a pointer into it. errno is this thread's, reset first so an
    // earlier failure does not count (Redis leaves it; only ERANGE matters
    // and it is set again by the weight that caused it).
    let (v, erange, consumed) = unsafe {
        *libc::__errno_location() = 0;
        let v = libc::strtod(buf.as_ptr().cast(), &mut end);
        let erange = *libc::__errno_location() == libc::ERANGE;
        (v, erange, end.offset_from(buf.as_ptr().cast()) as usize)
    };
    (consumed == s.len() && !erange && !v.is_nan()).then_some(v)
}

/// `strcoll` in the C locale: bytes up to the first NUL, unsigned.
fn collate(a: &[u8], b: &[u8]) -> Ordering {
    c_str(a).cmp(c_str(b))
}

struct Item {
    elem: Vec<u8>,
    score: f64,
    cmp: Option<Vec<u8>>,
}

fn sort_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, readonly: bool) -> CmdResult {
    let mut o = parse(args, readonly)?;
    // Redis converts a packed sorted set to a skip list for SORT (and
    // SORT_RO), for good: OBJECT ENCODING shows it afterwards.
    if let Ok(Some(z)) = ctx.db.get_zset_mut(args.get(1), ctx.now_ms) {
        z.convert_to_skip();
    }
    let (source, elems) = match ctx.db.get(args.get(1), ctx.now_ms) {
        None => (Source::List, Vec::new()),
        Some(v) => elements(v.view())?,
    };
    // A set has no order of its own: stored (or, later, from a script),
    // it is sorted as ALPHA without BY so the result is deterministic.
    if o.dont_sort && source == Source::Set && o.store.is_some() {
        o.dont_sort = false;
        o.alpha = true;
        o.sort_by = None;
    }
    let n = elems.len() as i64;

    // LIMIT, as Redis clamps it (saturating where Redis's long would
    // overflow: it then behaves as the clamp).
    let mut start = o.limit_start.max(0);
    let mut end = if o.limit_count < 0 {
        n - 1
    } else {
        start.saturating_add(o.limit_count).saturating_sub(1)
    };
    if start >= n {
        start = n - 1;
        end = n - 2;
    }
    if end >= n {
        end = n - 1;
    }

    let mut items: Vec<Item> = Vec::new();
    let mut not_double = false;
    if o.dont_sort {
        // The value's own order, reversed by DESC; the range straight away.
        if end >= start {
            let (s, e) = (start as usize, end as usize);
            // A set's order is not reversed by DESC (Redis loads it as it
            // iterates); a list's and a sorted set's are.
            let picked: Vec<Vec<u8>> = if o.desc && source != Source::Set {
                elems.into_iter().rev().skip(s).take(e - s + 1).collect()
            } else {
                elems.into_iter().skip(s).take(e - s + 1).collect()
            };
            items = picked
                .into_iter()
                .map(|elem| Item {
                    elem,
                    score: 0.0,
                    cmp: None,
                })
                .collect();
            end -= start;
            start = 0;
        }
    } else {
        items.reserve(elems.len());
        for elem in elems {
            let mut item = Item {
                elem,
                score: 0.0,
                cmp: None,
            };
            let by = match &o.sort_by {
                Some(p) => lookup_by_pattern(ctx, p, &item.elem),
                None => Some(item.elem.clone()),
            };
            if let Some(by) = by {
                if o.alpha {
                    if o.sort_by.is_some() {
                        item.cmp = Some(by);
                    }
                } else {
                    match weight(&by) {
                        Some(w) => item.score = w,
                        None => not_double = true,
                    }
                }
            }
            items.push(item);
        }
        let by_pattern = o.sort_by.is_some();
        let store = o.store.is_some();
        let (alpha, desc) = (o.alpha, o.desc);
        let compare = |a: &Item, b: &Item| {
            let c = if !alpha {
                match a.score.partial_cmp(&b.score) {
                    Some(Ordering::Equal) | None => a.elem.cmp(&b.elem),
                    Some(c) => c,
                }
            } else if by_pattern {
                match (&a.cmp, &b.cmp) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (Some(x), Some(y)) if store => x.cmp(y),
                    (Some(x), Some(y)) => collate(x, y),
                }
            } else if store {
                a.elem.cmp(&b.elem)
            } else {
                collate(&a.elem, &b.elem)
            };
            if desc {
                c.reverse()
            } else {
                c
            }
        };
        // Redis: a partial quicksort for BY with a LIMIT that leaves some
        // out, else qsort (glibc's: a stable merge sort). Both give the
        // same order except among ties (equal ALPHA weights), where each
        // must be followed.
        if by_pattern && (start != 0 || end != n - 1) {
            if items.len() > 1 && end >= start {
                pqsort(&mut items, &compare, start as usize, end as usize);
            }
        } else {
            items.sort_by(compare);
        }
    }

    let span = if end >= start {
        (end - start + 1) as usize
    } else {
        0
    };
    let output_len = if o.gets.is_empty() {
        span
    } else {
        o.gets.len() * span
    };
    if not_double {
        return Err(CmdError::Static(NOT_DOUBLE));
    }
    let range = if span == 0 {
        &items[0..0]
    } else {
        &items[start as usize..=end as usize]
    };

    match &o.store {
        None => {
            ctx.reply.array_len(output_len);
            for item in range {
                if o.gets.is_empty() {
                    ctx.reply.bulk(&item.elem);
                }
                for g in &o.gets {
                    match lookup_by_pattern(ctx, g, &item.elem) {
                        Some(v) => ctx.reply.bulk(&v),
                        None => ctx.reply.null(),
                    }
                }
            }
        }
        Some(dest) => {
            let limits = ctx.list_limits();
            let mut list = List::new();
            for item in range {
                if o.gets.is_empty() {
                    list.push(End::Tail, &item.elem, limits);
                }
                for g in &o.gets {
                    let v = lookup_by_pattern(ctx, g, &item.elem).unwrap_or_default();
                    list.push(End::Tail, &v, limits);
                }
            }
            if output_len > 0 {
                ctx.db.set(dest, Value::list(list), false);
                ctx.notify(LIST, "sortstore", dest);
                ctx.dirty += output_len as u64;
            } else if ctx.db.remove(dest).is_some() {
                ctx.notify(GENERIC, "del", dest);
                ctx.dirty += 1;
            }
            ctx.reply.int(output_len as i64);
        }
    }
    Ok(())
}

/// Redis's `pqsort` (Bentley & McIlroy's quicksort that skips the parts
/// wholly outside `lo..=hi`), step for step, so that equal elements end in
/// the same order as in Redis.
pub(crate) fn pqsort<T>(v: &mut [T], cmp: &impl Fn(&T, &T) -> Ordering, lo: usize, hi: usize) {
    pqsort_part(v, cmp, 0, v.len(), lo, hi);
}

/// Whether `[start, start + len)` lies wholly before or after `lo..=hi`.
fn outside(start: usize, len: usize, lo: usize, hi: usize) -> bool {
    (lo < start && hi < start) || (lo >= start + len && hi >= start + len)
}

fn med3<T>(v: &[T], cmp: &impl Fn(&T, &T) -> Ordering, a: usize, b: usize, c: usize) -> usize {
    if cmp(&v[a], &v[b]) == Ordering::Less {
        if cmp(&v[b], &v[c]) == Ordering::Less {
            b
        } else if cmp(&v[a], &v[c]) == Ordering::Less {
            c
        } else {
            a
        }
    } else if cmp(&v[b], &v[c]) == Ordering::Greater {
        b
    } else if cmp(&v[a], &v[c]) == Ordering::Less {
        a
    } else {
        c
    }
}

/// Swaps `n` elements from `a` with `n` from `b`, in order (`vecswap`).
fn vecswap<T>(v: &mut [T], a: usize, b: usize, n: usize) {
    for i in 0..n {
        v.swap(a + i, b + i);
    }
}

fn pqsort_part<T>(
    v: &mut [T],
    cmp: &impl Fn(&T, &T) -> Ordering,
    mut a: usize,
    mut n: usize,
    lo: usize,
    hi: usize,
) {
    loop {
        if n < 7 {
            for pm in a + 1..a + n {
                let mut pl = pm;
                while pl > a && cmp(&v[pl - 1], &v[pl]) == Ordering::Greater {
                    v.swap(pl, pl - 1);
                    pl -= 1;
                }
            }
            return;
        }
        let mut pm = a + n / 2;
        if n > 7 {
            let mut pl = a;
            let mut pn = a + n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(v, cmp, pl, pl + d, pl + 2 * d);
                pm = med3(v, cmp, pm - d, pm, pm + d);
                pn = med3(v, cmp, pn - 2 * d, pn - d, pn);
            }
            pm = med3(v, cmp, pl, pm, pn);
        }
        v.swap(a, pm);
        let (mut pa, mut pb) = (a + 1, a + 1);
        let (mut pc, mut pd) = (a + n - 1, a + n - 1);
        loop {
            while pb <= pc {
                let r = cmp(&v[pb], &v[a]);
                if r == Ordering::Greater {
                    break;
                }
                if r == Ordering::Equal {
                    v.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let r = cmp(&v[pc], &v[a]);
                if r == Ordering::Less {
                    break;
                }
                if r == Ordering::Equal {
                    v.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            v.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let pn = a + n;
        let r = (pa - a).min(pb - pa);
        vecswap(v, a, pb - r, r);
        let r = (pd - pc).min(pn - pd - 1);
        vecswap(v, pb, pn - r, r);
        let r = pb - pa;
        if r > 1 && !outside(a, r, lo, hi) {
            pqsort_part(v, cmp, a, r, lo, hi);
        }
        let r = pd - pc;
        if r <= 1 {
            return;
        }
        a = pn - r;
        n = r;
        if outside(a, n, lo, hi) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// pqsort sorts the asked range like a full sort (ties aside).
    #[test]
    fn pqsort_orders_the_range() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for len in [0usize, 1, 2, 6, 7, 8, 40, 41, 100, 500] {
            for _ in 0..20 {
                let mut v: Vec<u32> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        (x % 50) as u32
                    })
                    .collect();
                let mut full = v.clone();
                full.sort();
                if len == 0 {
                    continue;
                }
                let lo = (x as usize) % len;
                let hi = lo + ((x >> 20) as usize) % (len - lo);
                pqsort(&mut v, &|a: &u32, b: &u32| a.cmp(b), lo, hi);
                assert_eq!(&v[lo..=hi], &full[lo..=hi], "len {len} {lo}..={hi}");
            }
        }
    }
}
