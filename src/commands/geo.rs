//! GEO commands, as Redis 7.0.15's `geo.c`: GEOADD, GEODIST, GEOHASH,
//! GEOPOS, GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and
//! their `_RO` forms. A "geo set" is a sorted set whose scores are 52-bit
//! geohashes; the arithmetic is `util::geohash`, bit for bit Redis's.
//!
//! Redis's rules kept here:
//! - GEOADD is ZADD underneath: options NX, XX, CH (NX with XX, or a count
//!   of arguments that is not whole triples, is a plain syntax error), every
//!   pair checked before anything is written (`value is not a valid float`,
//!   then `invalid longitude,latitude pair`), event `zadd`, and it is
//!   propagated as the ZADD Redis rewrites it into (`zadd key [options]
//!   score member ...`, options as received).
//! - Numbers are read as `getDoubleFromObject` reads them (no leading
//!   blank, whole argument, no overflow, not NaN); units are m, km, ft, mi
//!   in any case, compared as C strings (up to a NUL byte).
//! - The searches share `georadiusGeneric`'s order: the source key's type
//!   (WRONGTYPE) first; GEORADIUS's centre and radius, or GEORADIUSBYMEMBER's
//!   member (`could not decode requested zset member`) then radius (neither
//!   read when the key is missing); then the options left to right, each
//!   parsed (and FROMMEMBER looked up) as met; then the conflicts: STORE with
//!   WITH*, no FROM*, no BY*, ANY without COUNT.
//! - Results come in the order the 9 areas' score ranges are walked unless
//!   ASC/DESC (COUNT without ANY implies ASC): a full sort is glibc's stable
//!   qsort, a COUNT smaller than the results is Redis's `pqsort`. ANY stops
//!   collecting at COUNT.
//! - Distances are bulk strings with four decimals in RESP2 and RESP3;
//!   coordinates bulk strings in RESP2, doubles in RESP3; WITHHASH an
//!   integer.
//! - STORE/STOREDIST and GEOSEARCHSTORE write a sorted set (scores the
//!   geohashes, or the distances in the request's unit), event
//!   `georadiusstore` / `geosearchstore`; no result deletes the destination
//!   (event `del`). They propagate as received.

use super::args::is;
use super::sort::pqsort;
use super::zsets::parse_score;
use super::Ctx;
use crate::db::value::Value;
use crate::db::zset::{ScoreRange, Zset};
use crate::error::{CmdError, CmdResult};
use crate::notify::{GENERIC, ZSET};
use crate::resp::parser::Args;
use crate::resp::Reply;
use crate::util::geohash::{self, Shape, ShapeKind};
use crate::util::num;
use std::cmp::Ordering;

/// The bytes C's string functions see: up to the first NUL.
fn c_str(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    }
}

/// `strcasecmp(arg, word) == 0`.
fn opt(arg: &[u8], word: &str) -> bool {
    is(c_str(arg), word)
}

/// `extractUnitOrReply`: metres per unit.
fn unit(arg: &[u8]) -> Result<f64, CmdError> {
    geohash::unit_factor(c_str(arg)).ok_or(CmdError::Static(geohash::UNIT_ERROR))
}

/// `getDoubleFromObjectOrReply` with its own message.
fn double_or(arg: &[u8], msg: &'static str) -> Result<f64, CmdError> {
    parse_score(arg).map_err(|_| CmdError::Static(msg))
}

/// `extractLongLatOrReply`: a longitude and a latitude within the limits.
fn lon_lat(lon: &[u8], lat: &[u8]) -> Result<(f64, f64), CmdError> {
    let lon = parse_score(lon)?;
    let lat = parse_score(lat)?;
    if !geohash::valid_pair(lon, lat) {
        return Err(CmdError::Owned(geohash::invalid_pair_error(lon, lat)));
    }
    Ok((lon, lat))
}

/// `extractDistanceOrReply`: the radius (in its unit) and metres per unit.
fn radius(value: &[u8], u: &[u8]) -> Result<(f64, f64), CmdError> {
    let r = double_or(value, "ERR need numeric radius")?;
    if r < 0.0 {
        return Err(CmdError::Static("ERR radius cannot be negative"));
    }
    Ok((r, unit(u)?))
}

/// `extractBoxOrReply`: width, height (in their unit) and metres per unit.
fn box_size(w: &[u8], h: &[u8], u: &[u8]) -> Result<(f64, f64, f64), CmdError> {
    let w = double_or(w, "ERR need numeric width")?;
    let h = double_or(h, "ERR need numeric height")?;
    if h < 0.0 || w < 0.0 {
        return Err(CmdError::Static("ERR height or width cannot be negative"));
    }
    Ok((w, h, unit(u)?))
}

/// A coordinate as `addReplyHumanLongDouble` sends it: a bulk string in
/// RESP2, a double in RESP3, the same text in both.
fn reply_coord(reply: &mut Reply, v: f64) {
    let text = geohash::fmt_coord(v);
    if reply.is_resp3() {
        let mut out = Vec::with_capacity(text.len() + 3);
        out.push(b',');
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(b"\r\n");
        reply.raw(&out);
    } else {
        reply.bulk(text.as_bytes());
    }
}

/// The position a stored score stands for.
fn position(z: &Zset, member: &[u8]) -> Option<(f64, f64)> {
    z.score(member).map(geohash::decode_score)
}

// ---- GEOADD ---------------------------------------------------------------------------

/// `GEOADD key [NX|XX] [CH] longitude latitude member [...]`.
pub fn geoadd(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (mut nx, mut xx, mut ch) = (false, false, false);
    let mut idx = 2;
    while idx < args.len() {
        let o = args.get(idx);
        if opt(o, "nx") {
            nx = true;
        } else if opt(o, "xx") {
            xx = true;
        } else if opt(o, "ch") {
            ch = true;
        } else {
            break;
        }
        idx += 1;
    }
    let rest = args.len() - idx;
    // No triple at all fails in the ZADD Redis calls, with the same error.
    if rest % 3 != 0 || (nx && xx) || rest == 0 {
        return Err(CmdError::Syntax);
    }
    let mut scores = Vec::with_capacity(rest / 3);
    for t in 0..rest / 3 {
        let at = idx + 3 * t;
        let (lon, lat) = lon_lat(args.get(at), args.get(at + 1))?;
        let score = geohash::check_pair(lon, lat).map_err(CmdError::Owned)?;
        scores.push(score);
    }
    let key = args.get(1);
    let limits = ctx.zset_limits();
    let exists = ctx.db.get_zset_mut(key, ctx.now_ms)?.is_some();
    if !exists && xx {
        ctx.reply.int(0);
        return Ok(());
    }
    let z = ctx.db.zset_or_create(key, ctx.now_ms)?;
    let (mut added, mut updated) = (0i64, 0i64);
    for (t, &bits) in scores.iter().enumerate() {
        let m = args.get(idx + 3 * t + 2);
        let score = bits as f64;
        match z.score(m) {
            Some(_) if nx => {}
            Some(cur) => {
                if cur != score {
                    z.set(m, score, limits);
                    updated += 1;
                }
            }
            None if xx => {}
            None => {
                z.set(m, score, limits);
                added += 1;
            }
        }
    }
    ctx.reply.int(if ch { added + updated } else { added });
    if added + updated > 0 {
        ctx.db.signal_modified_key(key);
        ctx.notify(ZSET, "zadd", key);
        ctx.dirty += (added + updated) as u64;
    }
    // Redis runs (and so propagates) `zadd key [options] score member ...`.
    let texts: Vec<Vec<u8>> = scores
        .iter()
        .map(|&s| {
            let mut buf = [0u8; num::MAX_I64_LEN];
            num::fmt_i64(s as i64, &mut buf).to_vec()
        })
        .collect();
    let mut argv: Vec<&[u8]> = Vec::with_capacity(idx + 2 * scores.len());
    argv.push(b"zadd");
    for i in 1..idx {
        argv.push(args.get(i));
    }
    for (t, text) in texts.iter().enumerate() {
        argv.push(text);
        argv.push(args.get(idx + 3 * t + 2));
    }
    ctx.propagate_as(&argv);
    Ok(())
}

// ---- GEODIST / GEOHASH / GEOPOS ---------------------------------------------------------

/// `GEODIST key member1 member2 [M|KM|FT|MI]`.
pub fn geodist(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let to_meter = match args.len() {
        5 => unit(args.get(4))?,
        n if n > 5 => return Err(CmdError::Syntax),
        _ => 1.0,
    };
    let Some(z) = ctx.db.get_zset(args.get(1), ctx.now_ms)? else {
        ctx.reply.null();
        return Ok(());
    };
    match (position(z, args.get(2)), position(z, args.get(3))) {
        (Some((lon1, lat1)), Some((lon2, lat2))) => {
            let d = geohash::distance(lon1, lat1, lon2, lat2) / to_meter;
            ctx.reply.bulk(geohash::fmt_distance(d).as_bytes());
        }
        _ => ctx.reply.null(),
    }
    Ok(())
}

/// `GEOHASH key [member ...]`: 11-character standard geohashes, null for a
/// missing member.
pub fn geohash(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let z = ctx.db.get_zset(args.get(1), ctx.now_ms)?;
    let reply = &mut *ctx.reply;
    reply.array_len(args.len() - 2);
    for m in args.iter_from(2) {
        match z.and_then(|z| z.score(m)) {
            Some(s) => reply.bulk(&geohash::hash_string(s)),
            None => reply.null(),
        }
    }
    Ok(())
}

/// `GEOPOS key [member ...]`: `[longitude, latitude]` pairs, a null array
/// for a missing member.
pub fn geopos(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let z = ctx.db.get_zset(args.get(1), ctx.now_ms)?;
    let reply = &mut *ctx.reply;
    reply.array_len(args.len() - 2);
    for m in args.iter_from(2) {
        match z.and_then(|z| position(z, m)) {
            Some((lon, lat)) => {
                reply.array_len(2);
                reply_coord(reply, lon);
                reply_coord(reply, lat);
            }
            None => reply.null_array(),
        }
    }
    Ok(())
}

// ---- the searches -------------------------------------------------------------------------

/// Which command a search is (`georadiusGeneric`'s flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    /// GEORADIUS / GEORADIUS_RO: centre and radius as fixed arguments.
    Coords,
    /// GEORADIUSBYMEMBER / _RO: member and radius as fixed arguments.
    Member,
    /// GEOSEARCH.
    Search,
    /// GEOSEARCHSTORE.
    SearchStore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// A point found: its member (a range of the arena), score, position and
/// distance in metres (`geoPoint`).
struct Found {
    member: (usize, usize),
    score: f64,
    lon: f64,
    lat: f64,
    dist: f64,
}

/// `membersOfAllNeighbors`: the points of `z` inside `shape`, in the order
/// the areas' ranges are walked; with `limit` (ANY), collecting stops once
/// that many were found. Members are copied into `arena`.
fn collect(z: &Zset, shape: &Shape, limit: usize, arena: &mut Vec<u8>) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    let full = |n: usize| limit != 0 && n >= limit;
    for (min, max) in geohash::search_ranges(shape) {
        if full(out.len()) {
            break;
        }
        let range = ScoreRange {
            min: min as f64,
            max: max as f64,
            minex: false,
            maxex: true,
        };
        let (mut lo, hi) = z.score_span(&range);
        while lo < hi && !full(out.len()) {
            // With a limit, walk no more than could still be needed: the
            // limit can only be reached at the chunk's last member.
            let step = if limit == 0 {
                hi - lo
            } else {
                (limit - out.len()).min(hi - lo)
            };
            z.for_each_rank(lo, lo + step, false, |m, score| {
                if let Some(p) = geohash::point_in_shape(shape, score) {
                    let start = arena.len();
                    arena.extend_from_slice(m);
                    out.push(Found {
                        member: (start, arena.len()),
                        score,
                        lon: p.lon,
                        lat: p.lat,
                        dist: p.dist,
                    });
                }
            });
            lo += step;
        }
    }
    out
}

/// `GEORADIUS key longitude latitude radius unit [options]`.
pub fn georadius(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    search(ctx, args, Flavor::Coords, false)
}

/// `GEORADIUS_RO`: GEORADIUS without STORE/STOREDIST.
pub fn georadius_ro(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    search(ctx, args, Flavor::Coords, true)
}

/// `GEORADIUSBYMEMBER key member radius unit [options]`.
pub fn georadiusbymember(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    search(ctx, args, Flavor::Member, false)
}

/// `GEORADIUSBYMEMBER_RO`: GEORADIUSBYMEMBER without STORE/STOREDIST.
pub fn georadiusbymember_ro(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    search(ctx, args, Flavor::Member, true)
}

/// `GEOSEARCH key FROMMEMBER m|FROMLONLAT lon lat BYRADIUS r unit|BYBOX w h
/// unit [ASC|DESC] [COUNT n [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]`.
pub fn geosearch(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    search(ctx, args, Flavor::Search, true)
}

/// `GEOSEARCHSTORE destination source ... [STOREDIST]`.
pub fn geosearchstore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    search(ctx, args, Flavor::SearchStore, false)
}

/// Redis's `georadiusGeneric`.
fn search(ctx: &mut Ctx<'_>, args: &Args<'_>, flavor: Flavor, nostore: bool) -> CmdResult {
    let geosearch = matches!(flavor, Flavor::Search | Flavor::SearchStore);
    let src_at = if flavor == Flavor::SearchStore { 2 } else { 1 };
    let limits = ctx.zset_limits();
    let now = ctx.now_ms;
    let zobj = ctx.db.get_zset(args.get(src_at), now)?;

    let mut shape = Shape {
        lon: 0.0,
        lat: 0.0,
        conversion: 0.0,
        kind: ShapeKind::Radius(0.0),
    };
    let mut storekey: Option<&[u8]> = None;
    let mut storedist = false;
    let base = match flavor {
        Flavor::Coords => {
            (shape.lon, shape.lat) = lon_lat(args.get(2), args.get(3))?;
            let (r, conv) = radius(args.get(4), args.get(5))?;
            shape.kind = ShapeKind::Radius(r);
            shape.conversion = conv;
            6
        }
        Flavor::Member => {
            if let Some(z) = zobj {
                (shape.lon, shape.lat) = position(z, args.get(2)).ok_or(CmdError::Static(
                    "ERR could not decode requested zset member",
                ))?;
                let (r, conv) = radius(args.get(3), args.get(4))?;
                shape.kind = ShapeKind::Radius(r);
                shape.conversion = conv;
            }
            5
        }
        Flavor::Search => 2,
        Flavor::SearchStore => {
            storekey = Some(args.get(1));
            3
        }
    };

    let (mut withdist, mut withhash, mut withcoords) = (false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut sort = Sort::None;
    let mut any = false;
    let mut count: i64 = 0;
    let remaining = args.len().saturating_sub(base);
    let mut i = 0;
    while i < remaining {
        let at = base + i;
        let a = args.get(at);
        if opt(a, "withdist") {
            withdist = true;
        } else if opt(a, "withhash") {
            withhash = true;
        } else if opt(a, "withcoord") {
            withcoords = true;
        } else if opt(a, "any") {
            any = true;
        } else if opt(a, "asc") {
            sort = Sort::Asc;
        } else if opt(a, "desc") {
            sort = Sort::Desc;
        } else if opt(a, "count") && i + 1 < remaining {
            count = num::parse_i64(args.get(at + 1)).ok_or(CmdError::NotInteger)?;
            if count <= 0 {
                return Err(CmdError::Static("ERR COUNT must be > 0"));
            }
            i += 1;
        } else if (opt(a, "store") || opt(a, "storedist"))
            && i + 1 < remaining
            && !nostore
            && !geosearch
        {
            storekey = Some(args.get(at + 1));
            storedist = opt(a, "storedist");
            i += 1;
        } else if opt(a, "storedist") && flavor == Flavor::SearchStore {
            storedist = true;
        } else if opt(a, "frommember") && i + 1 < remaining && geosearch && !fromloc {
            // A missing source key: parse on, reply once done.
            if let Some(z) = zobj {
                (shape.lon, shape.lat) = position(z, args.get(at + 1)).ok_or(CmdError::Static(
                    "ERR could not decode requested zset member",
                ))?;
            }
            frommember = true;
            i += 1;
        } else if opt(a, "fromlonlat") && i + 2 < remaining && geosearch && !frommember {
            (shape.lon, shape.lat) = lon_lat(args.get(at + 1), args.get(at + 2))?;
            fromloc = true;
            i += 2;
        } else if opt(a, "byradius") && i + 2 < remaining && geosearch && !bybox {
            let (r, conv) = radius(args.get(at + 1), args.get(at + 2))?;
            shape.kind = ShapeKind::Radius(r);
            shape.conversion = conv;
            byradius = true;
            i += 2;
        } else if opt(a, "bybox") && i + 3 < remaining && geosearch && !byradius {
            let (width, height, conv) =
                box_size(args.get(at + 1), args.get(at + 2), args.get(at + 3))?;
            shape.kind = ShapeKind::Box { width, height };
            shape.conversion = conv;
            bybox = true;
            i += 3;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }

    if storekey.is_some() && (withdist || withhash || withcoords) {
        return Err(CmdError::Static(if flavor == Flavor::SearchStore {
            "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        } else {
            "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        }));
    }
    if geosearch && !(frommember || fromloc) {
        return Err(CmdError::Owned(format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {}",
            String::from_utf8_lossy(c_str(args.get(0)))
        )));
    }
    if geosearch && !(byradius || bybox) {
        return Err(CmdError::Owned(format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {}",
            String::from_utf8_lossy(c_str(args.get(0)))
        )));
    }
    if any && count == 0 {
        return Err(CmdError::Static(
            "ERR the ANY argument requires COUNT argument",
        ));
    }

    let Some(z) = zobj else {
        match storekey {
            Some(dst) => {
                if ctx.db.remove(dst).is_some() {
                    ctx.notify(GENERIC, "del", dst);
                    ctx.dirty += 1;
                }
                ctx.reply.int(0);
            }
            None => ctx.reply.array_len(0),
        }
        return Ok(());
    };

    // COUNT without ANY wants the closest: ASC unless asked otherwise.
    if count != 0 && sort == Sort::None && !any {
        sort = Sort::Asc;
    }
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    let mut arena = Vec::new();
    let mut found = collect(z, &shape, if any { count } else { 0 }, &mut arena);
    if found.is_empty() && storekey.is_none() {
        ctx.reply.array_len(0);
        return Ok(());
    }
    let total = found.len();
    let returned = if count == 0 { total } else { total.min(count) };
    if sort != Sort::None {
        let asc = |a: &Found, b: &Found| {
            if a.dist > b.dist {
                Ordering::Greater
            } else if a.dist == b.dist {
                Ordering::Equal
            } else {
                Ordering::Less
            }
        };
        if sort == Sort::Asc {
            if returned == total {
                found.sort_by(asc);
            } else {
                pqsort(&mut found, &asc, 0, returned - 1);
            }
        } else {
            let desc = |a: &Found, b: &Found| asc(a, b).reverse();
            if returned == total {
                found.sort_by(desc);
            } else {
                pqsort(&mut found, &desc, 0, returned - 1);
            }
        }
    }
    found.truncate(returned);
    let member = |f: &Found| &arena[f.member.0..f.member.1];

    let Some(dst) = storekey else {
        let options = usize::from(withdist) + usize::from(withhash) + usize::from(withcoords);
        let reply = &mut *ctx.reply;
        reply.array_len(returned);
        for f in &found {
            if options > 0 {
                reply.array_len(options + 1);
            }
            reply.bulk(member(f));
            if withdist {
                reply.bulk(geohash::fmt_distance(f.dist / shape.conversion).as_bytes());
            }
            if withhash {
                // (long long)score; a stored score found here is in [0, 2^52].
                reply.int(f.score as i64);
            }
            if withcoords {
                reply.array_len(2);
                reply_coord(reply, f.lon);
                reply_coord(reply, f.lat);
            }
        }
        return Ok(());
    };

    if returned > 0 {
        let mut out = Zset::new();
        for f in &found {
            let score = if storedist {
                f.dist / shape.conversion
            } else {
                f.score
            };
            out.set(member(f), score, limits);
        }
        ctx.db.set(dst, Value::zset(out), false);
        ctx.notify(
            ZSET,
            if geosearch {
                "geosearchstore"
            } else {
                "georadiusstore"
            },
            dst,
        );
        ctx.dirty += returned as u64;
    } else if ctx.db.remove(dst).is_some() {
        ctx.notify(GENERIC, "del", dst);
        ctx.dirty += 1;
    }
    ctx.reply.int(returned as i64);
    Ok(())
}
