//! Stream commands, as Redis 7.0's `t_stream.c`: XADD, XLEN, XRANGE,
//! XREVRANGE, XDEL, XTRIM, XREAD, XGROUP (CREATE, SETID, DESTROY,
//! CREATECONSUMER, DELCONSUMER, HELP), XREADGROUP, XACK, XPENDING, XCLAIM,
//! XAUTOCLAIM, XINFO (STREAM, GROUPS, CONSUMERS, HELP) and XSETID.
//!
//! The type itself is `db::stream`; here are the checks in Redis's order,
//! the replies (XREAD/XREADGROUP answer a map in RESP3, XINFO maps too),
//! the keyspace events (`xadd`, `xtrim`, `xdel`, `xgroup-*`, `xsetid`) and
//! the propagation Redis 7.0 does: XADD with the ID it generated and its
//! approximate trim made exact; XREADGROUP, XCLAIM and XAUTOCLAIM as
//! `XCLAIM ... FORCE JUSTID LASTID` per entry and `XGROUP SETID ...
//! ENTRIESREAD` for the group's position.

use super::args::is;
use super::Ctx;
use crate::blocked::BlockReason;
use crate::db::stream::INVALID_ENTRIES_READ;
use crate::db::stream::{Consumer, Group, Nack, Stream, StreamId, StreamLimits, Trim};
use crate::db::value::Value;
use crate::db::Db;
use crate::error::{CmdError, CmdResult};
use crate::notify::STREAM;
use crate::resp::parser::Args;
use crate::resp::Reply;
use crate::util::num;

const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";

// ---- lookups ----------------------------------------------------------------------

/// The wall clock for delivery and seen times. A command replayed from the
/// AOF runs with expiry's clock stopped (`LOADING_NOW`, `i64::MIN`), but the
/// times it records must be real ones, as Redis's are while it loads: else
/// a replayed XCLAIM clamps its TIME to `i64::MIN` and XPENDING's idle
/// arithmetic overflows.
fn wall_ms(now: i64) -> i64 {
    if now == crate::db::LOADING_NOW {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    } else {
        now
    }
}

fn get_stream<'d>(db: &'d mut Db, key: &[u8], now: i64) -> Result<Option<&'d Stream>, CmdError> {
    match db.get(key, now) {
        None => Ok(None),
        Some(v) => v.as_stream().map(Some).ok_or(CmdError::WrongType),
    }
}

fn get_stream_mut<'d>(
    db: &'d mut Db,
    key: &[u8],
    now: i64,
) -> Result<Option<&'d mut Stream>, CmdError> {
    match db.get_mut(key, now) {
        None => Ok(None),
        Some(v) => v.as_stream_mut().map(Some).ok_or(CmdError::WrongType),
    }
}

fn limits(ctx: &Ctx<'_>) -> StreamLimits {
    StreamLimits {
        max_bytes: ctx.config().stream_node_max_bytes.max(0) as usize,
        max_entries: ctx.config().stream_node_max_entries.max(0) as usize,
    }
}

fn nogroup(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::msg(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

fn int_arg(a: &[u8]) -> Result<i64, CmdError> {
    num::parse_i64(a).ok_or(CmdError::NotInteger)
}

fn int_arg_msg(a: &[u8], msg: &'static str) -> Result<i64, CmdError> {
    num::parse_i64(a).ok_or(CmdError::Static(msg))
}

// ---- IDs --------------------------------------------------------------------------

/// Redis's `string2ull`.
fn parse_u64(s: &[u8]) -> Option<u64> {
    if let Some(v) = num::parse_i64(s) {
        return (v >= 0).then_some(v as u64);
    }
    let t = std::str::from_utf8(s).ok()?;
    let t = t.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<u64>().ok()
}

/// Redis's `streamGenericParseIDOrReply`: `-`, `+`, `ms`, `ms-seq` and, when
/// `seq_star`, `ms-*`. Returns the ID and whether the sequence was given.
fn parse_id_full(
    a: &[u8],
    strict: bool,
    missing_seq: u64,
    seq_star: bool,
) -> Result<(StreamId, bool), CmdError> {
    let bad = CmdError::Static(INVALID_ID);
    if a.len() > 127 {
        return Err(bad);
    }
    // C stops at a NUL.
    let a = &a[..a.iter().position(|&b| b == 0).unwrap_or(a.len())];
    if a == b"-" || a == b"+" {
        if strict {
            return Err(bad);
        }
        return Ok((
            if a == b"-" {
                StreamId::MIN
            } else {
                StreamId::MAX
            },
            true,
        ));
    }
    let (ms_part, seq_part) = match a.iter().position(|&b| b == b'-') {
        Some(i) => (&a[..i], Some(&a[i + 1..])),
        None => (a, None),
    };
    let ms = parse_u64(ms_part).ok_or(CmdError::Static(INVALID_ID))?;
    match seq_part {
        Some(b"*") if seq_star => Ok((StreamId::new(ms, 0), false)),
        Some(s) => Ok((
            StreamId::new(ms, parse_u64(s).ok_or(CmdError::Static(INVALID_ID))?),
            true,
        )),
        None => Ok((StreamId::new(ms, missing_seq), true)),
    }
}

/// A strict ID (no `-`/`+`), missing sequence 0.
fn parse_strict(a: &[u8]) -> Result<StreamId, CmdError> {
    parse_id_full(a, true, 0, false).map(|(id, _)| id)
}

/// Redis's `streamParseIntervalIDOrReply`: `(` for exclusive when allowed.
fn parse_interval(
    a: &[u8],
    missing_seq: u64,
    allow_ex: bool,
) -> Result<(StreamId, bool), CmdError> {
    if allow_ex && a.len() > 1 && a[0] == b'(' {
        return Ok((parse_id_full(&a[1..], true, missing_seq, false)?.0, true));
    }
    Ok((parse_id_full(a, false, missing_seq, false)?.0, false))
}

fn parse_range(start: &[u8], end: &[u8]) -> Result<(StreamId, StreamId), CmdError> {
    let (mut s, sx) = parse_interval(start, 0, true)?;
    if sx {
        s = s
            .incr()
            .ok_or(CmdError::Static("ERR invalid start ID for the interval"))?;
    }
    let (mut e, ex) = parse_interval(end, u64::MAX, true)?;
    if ex {
        e = e
            .decr()
            .ok_or(CmdError::Static("ERR invalid end ID for the interval"))?;
    }
    Ok((s, e))
}

// ---- replies ----------------------------------------------------------------------

fn reply_id(reply: &mut Reply, id: StreamId) {
    reply.bulk(&id.to_bytes());
}

fn reply_entry(reply: &mut Reply, id: StreamId, fields: &[(&[u8], &[u8])]) {
    reply.array_len(2);
    reply_id(reply, id);
    reply.array_len(fields.len() * 2);
    for (f, v) in fields {
        reply.bulk(f);
        reply.bulk(v);
    }
}

/// Entries from `start` to `end` (count 0: all); how many.
fn reply_range(
    reply: &mut Reply,
    s: &Stream,
    start: StreamId,
    end: StreamId,
    count: usize,
    rev: bool,
) -> usize {
    let d = reply.defer_len();
    let mut n = 0;
    let (lo, hi) = if rev { (end, start) } else { (start, end) };
    s.range(lo, hi, rev, |id, fields| {
        reply_entry(reply, id, &fields);
        n += 1;
        count == 0 || n < count
    });
    reply.set_deferred_array(d, n);
    n
}

// ---- XADD / XTRIM -----------------------------------------------------------------

struct AddTrim {
    trim: Option<Trim>,
    approx: bool,
    limit: u64,
    nomkstream: bool,
    id: Option<(StreamId, bool)>,
    /// Index of the ID (XADD) or of the first field (XTRIM: the end).
    next: usize,
    /// Index of the trim threshold.
    trim_idx: usize,
}

/// Redis's `streamParseAddOrTrimArgsOrReply`.
fn parse_add_trim(ctx: &Ctx<'_>, args: &Args<'_>, xadd: bool) -> Result<AddTrim, CmdError> {
    let mut p = AddTrim {
        trim: None,
        approx: false,
        limit: 0,
        nomkstream: false,
        id: None,
        next: args.len(),
        trim_idx: 0,
    };
    let mut limit_given = false;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = args.get(i);
        if xadd && opt == b"*" {
            p.next = i;
            break;
        } else if (is(opt, "maxlen") || is(opt, "minid")) && more > 0 {
            if p.trim.is_some() {
                return Err(CmdError::Static(
                    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
                ));
            }
            p.approx = false;
            let next = args.get(i + 1);
            if more >= 2 && next == b"~" {
                p.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            let v = args.get(i + 1);
            if is(opt, "maxlen") {
                let n = int_arg(v)?;
                if n < 0 {
                    return Err(CmdError::Static("ERR The MAXLEN argument must be >= 0."));
                }
                p.trim = Some(Trim::MaxLen(n as u64));
            } else {
                p.trim = Some(Trim::MinId(parse_id_full(v, false, 0, false)?.0));
            }
            i += 1;
            p.trim_idx = i;
        } else if is(opt, "limit") && more > 0 {
            let n = int_arg(args.get(i + 1))?;
            if n < 0 {
                return Err(CmdError::Static("ERR The LIMIT argument must be >= 0."));
            }
            p.limit = n as u64;
            limit_given = true;
            i += 1;
        } else if xadd && is(opt, "nomkstream") {
            p.nomkstream = true;
        } else if xadd {
            p.id = Some(parse_id_full(opt, true, 0, true)?);
            p.next = i;
            break;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if p.limit > 0 && p.trim.is_none() {
        return Err(CmdError::Static(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && p.trim.is_none() {
        return Err(CmdError::Static(
            "ERR syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if ctx.loading() {
        p.limit = 0;
    } else if limit_given {
        if !p.approx {
            return Err(CmdError::Static(
                "ERR syntax error, LIMIT cannot be used without the special ~ option",
            ));
        }
    } else if p.approx {
        let l = 100 * ctx.config().stream_node_max_entries;
        p.limit = if l <= 0 || l > 1_000_000 {
            10_000
        } else {
            l as u64
        };
    } else {
        p.limit = 0;
    }
    Ok(p)
}

/// The trim threshold as propagated after an approximate trim: the exact
/// length or first ID it reached (Redis's `streamRewriteTrimArgument`):
/// the first entry's ID even if it is deleted, and for a stream left
/// without entries the greatest ID, so that the replayed trim also
/// empties it.
fn exact_trim_arg(s: &Stream, how: Trim) -> Vec<u8> {
    match how {
        Trim::MaxLen(_) => s.len().to_string().into_bytes(),
        Trim::MinId(_) => s
            .first_with_tombstones()
            .unwrap_or(StreamId::MAX)
            .to_bytes(),
    }
}

/// `XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]`.
pub fn xadd(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let p = parse_add_trim(ctx, args, true)?;
    let i = p.next;
    if args.len() - i < 3 || (args.len() - i) % 2 == 0 {
        return Err(CmdError::Arity("xadd"));
    }
    if let Some((id, true)) = p.id {
        if id.is_zero() {
            return Err(CmdError::Static(
                "ERR The ID specified in XADD must be greater than 0-0",
            ));
        }
    }
    let key = args.get(1);
    let now = ctx.now_ms;
    let lim = limits(ctx);
    let fields: Vec<(&[u8], &[u8])> = (i + 1..args.len())
        .step_by(2)
        .map(|j| (args.get(j), args.get(j + 1)))
        .collect();
    match get_stream(ctx.db, key, now)? {
        Some(_) => {}
        None if p.nomkstream => {
            ctx.reply.null();
            return Ok(());
        }
        None => ctx.db.add(key, Value::stream(Stream::new())),
    }
    let Some(s) = get_stream_mut(ctx.db, key, now)? else {
        return Ok(());
    };
    if s.last_id == StreamId::MAX {
        return Err(CmdError::Static(
            "ERR The stream has exhausted the last possible ID, unable to add more items",
        ));
    }
    let top = CmdError::Static(
        "ERR The ID specified in XADD is equal or smaller than the target stream top item",
    );
    let id = match p.id {
        Some((id, true)) => id,
        Some((id, false)) => {
            if s.last_id.ms == id.ms {
                if s.last_id.seq == u64::MAX {
                    return Err(top);
                }
                StreamId::new(id.ms, s.last_id.seq + 1)
            } else {
                id
            }
        }
        None => {
            let ms = now.max(0) as u64;
            if ms > s.last_id.ms {
                StreamId::new(ms, 0)
            } else {
                s.last_id.incr().ok_or(top.clone())?
            }
        }
    };
    if id <= s.last_id {
        return Err(top);
    }
    if Stream::entry_too_large(&fields) {
        return Err(CmdError::Static("ERR Elements are too large to be stored"));
    }
    s.append(id, &fields, lim);
    reply_id(ctx.reply, id);
    ctx.dirty += 1;
    // Redis's order: the key signalled, `xadd`, then the trim and `xtrim`.
    let mut trimmed = false;
    let mut exact = None;
    if let Some(how) = p.trim {
        trimmed = s.trim(how, p.approx, p.limit) > 0;
        if p.approx {
            // Propagated as the exact trim it turned out to be.
            exact = Some(exact_trim_arg(s, how));
        }
    }
    ctx.db.signal_modified_key(key);
    ctx.notify(STREAM, "xadd", key);
    if trimmed {
        ctx.notify(STREAM, "xtrim", key);
    }
    let id_generated = !matches!(p.id, Some((_, true)));
    if exact.is_some() || id_generated {
        let mut argv: Vec<Vec<u8>> = args.iter_from(0).map(|a| a.to_vec()).collect();
        if let Some(exact) = exact {
            argv[p.trim_idx - 1] = b"=".to_vec();
            argv[p.trim_idx] = exact;
        }
        if id_generated {
            argv[i] = id.to_bytes();
        }
        let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
        ctx.propagate_as(&refs);
    }
    Ok(())
}

/// `XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]`.
pub fn xtrim(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let p = parse_add_trim(ctx, args, false)?;
    let key = args.get(1);
    let now = ctx.now_ms;
    let Some(s) = get_stream_mut(ctx.db, key, now)? else {
        ctx.reply.int(0);
        return Ok(());
    };
    let Some(how) = p.trim else {
        return Err(CmdError::Syntax);
    };
    let deleted = s.trim(how, p.approx, p.limit);
    if deleted > 0 {
        let exact = exact_trim_arg(s, how);
        ctx.notify(STREAM, "xtrim", key);
        if p.approx {
            let mut argv: Vec<Vec<u8>> = args.iter_from(0).map(|a| a.to_vec()).collect();
            argv[p.trim_idx - 1] = b"=".to_vec();
            argv[p.trim_idx] = exact;
            let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
            ctx.propagate_as(&refs);
        }
        ctx.db.signal_modified_key(key);
        ctx.dirty += deleted;
    }
    ctx.reply.int(deleted as i64);
    Ok(())
}

// ---- XLEN / XRANGE / XDEL ---------------------------------------------------------

/// `XLEN key`.
pub fn xlen(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let n = get_stream(ctx.db, args.get(1), ctx.now_ms)?.map_or(0, |s| s.len());
    ctx.reply.int(n as i64);
    Ok(())
}

fn xrange_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, rev: bool) -> CmdResult {
    let (sa, ea) = if rev { (3, 2) } else { (2, 3) };
    let (start, end) = parse_range(args.get(sa), args.get(ea))?;
    let mut count: i64 = -1;
    let mut j = 4;
    while j < args.len() {
        if is(args.get(j), "count") && j + 1 < args.len() {
            count = int_arg(args.get(j + 1))?.max(0);
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let now = ctx.now_ms;
    let Some(s) = get_stream(ctx.db, args.get(1), now)? else {
        ctx.reply.array_len(0);
        return Ok(());
    };
    if count == 0 {
        ctx.reply.null_array();
        return Ok(());
    }
    let count = if count < 0 { 0 } else { count as usize };
    if rev {
        reply_range(ctx.reply, s, end, start, count, true);
    } else {
        reply_range(ctx.reply, s, start, end, count, false);
    }
    Ok(())
}

/// `XRANGE key start end [COUNT count]`.
pub fn xrange(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    xrange_generic(ctx, args, false)
}

/// `XREVRANGE key end start [COUNT count]`.
pub fn xrevrange(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    xrange_generic(ctx, args, true)
}

/// `XDEL key id [id ...]`.
pub fn xdel(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(1);
    let now = ctx.now_ms;
    // A missing key answers 0 before the IDs are parsed, as in Redis.
    let Some(s) = get_stream_mut(ctx.db, key, now)? else {
        ctx.reply.int(0);
        return Ok(());
    };
    let ids = args
        .iter_from(2)
        .map(parse_strict)
        .collect::<Result<Vec<_>, _>>()?;
    let deleted = s.xdel(&ids);
    if deleted > 0 {
        ctx.db.signal_modified_key(key);
        ctx.notify(STREAM, "xdel", key);
        ctx.dirty += deleted;
    }
    ctx.reply.int(deleted as i64);
    Ok(())
}

// ---- XSETID -----------------------------------------------------------------------

/// `XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]`.
pub fn xsetid(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(1);
    let id = parse_id_full(args.get(2), true, 0, false)?.0;
    let mut entries_added: i64 = -1;
    let mut max_xdel = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = args.get(i);
        if is(opt, "entriesadded") && more > 0 {
            entries_added = int_arg(args.get(i + 1))?;
            if entries_added < 0 {
                return Err(CmdError::Static("ERR entries_added must be positive"));
            }
            i += 2;
        } else if is(opt, "maxdeletedid") && more > 0 {
            max_xdel = parse_strict(args.get(i + 1))?;
            if id < max_xdel {
                return Err(CmdError::Static(
                    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ));
            }
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let now = ctx.now_ms;
    let Some(s) = get_stream_mut(ctx.db, key, now)? else {
        return Err(CmdError::NoSuchKey);
    };
    if !s.is_empty() {
        if s.edge(true).is_some_and(|maxid| id < maxid) {
            return Err(CmdError::Static(
                "ERR The ID specified in XSETID is smaller than the target stream top item",
            ));
        }
        if entries_added != -1 && (s.len() as i64) > entries_added {
            return Err(CmdError::Static(
                "ERR The entries_added specified in XSETID is smaller than the target stream length",
            ));
        }
    }
    s.last_id = id;
    if entries_added != -1 {
        s.entries_added = entries_added as u64;
    }
    if !max_xdel.is_zero() {
        s.max_deleted_id = max_xdel;
    }
    ctx.db.signal_modified_key(key);
    ctx.notify(STREAM, "xsetid", key);
    ctx.dirty += 1;
    ctx.reply.ok();
    Ok(())
}

// ---- XGROUP -----------------------------------------------------------------------

/// The stream and group an XGROUP subcommand names (Redis's checks).
fn xgroup_lookup<'d>(
    db: &'d mut Db,
    key: &[u8],
    now: i64,
) -> Result<Option<&'d mut Stream>, CmdError> {
    get_stream_mut(db, key, now)
}

/// `XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD entries-read]`.
pub fn xgroup_create(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(2);
    let name = args.get(3);
    let mut mkstream = false;
    let mut entries_read = INVALID_ENTRIES_READ;
    let mut i = 5;
    while i < args.len() {
        let opt = args.get(i);
        if is(opt, "mkstream") {
            mkstream = true;
            i += 1;
        } else if is(opt, "entriesread") && i + 1 < args.len() {
            entries_read = entries_read_arg(args.get(i + 1))?;
            i += 2;
        } else {
            return Err(xgroup_bad_option(args));
        }
    }
    let now = ctx.now_ms;
    let exists = get_stream(ctx.db, key, now)?.is_some();
    if !exists && !mkstream {
        return Err(CmdError::Static(NO_XGROUP_KEY));
    }
    let idarg = args.get(4);
    let id = if idarg == b"$" {
        None
    } else {
        Some(parse_strict(idarg)?)
    };
    if !exists {
        ctx.db.add(key, Value::stream(Stream::new()));
    }
    let Some(s) = xgroup_lookup(ctx.db, key, now)? else {
        return Ok(());
    };
    let id = id.unwrap_or(s.last_id);
    if s.groups.contains_key(name) {
        return Err(CmdError::Static(
            "BUSYGROUP Consumer Group name already exists",
        ));
    }
    s.groups
        .insert(Box::from(name), Group::new(id, entries_read));
    ctx.reply.ok();
    ctx.dirty += 1;
    ctx.db.signal_modified_key(key);
    ctx.notify(STREAM, "xgroup-create", key);
    Ok(())
}

/// XGROUP's refusal of a missing key.
const NO_XGROUP_KEY: &str = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";

/// An ENTRIESREAD value: an integer, at least 0 or exactly -1.
fn entries_read_arg(a: &[u8]) -> Result<i64, CmdError> {
    let n = int_arg(a)?;
    if n < 0 && n != INVALID_ENTRIES_READ {
        return Err(CmdError::Static(
            "ERR value for ENTRIESREAD must be positive or -1",
        ));
    }
    Ok(n)
}

/// XGROUP's answer to an option it does not know.
fn xgroup_bad_option(args: &Args<'_>) -> CmdError {
    CmdError::msg(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try XGROUP HELP.",
        String::from_utf8_lossy(args.get(1))
    ))
}

/// `XGROUP SETID key group id|$ [ENTRIESREAD entries-read]`.
pub fn xgroup_setid(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(2);
    let name = args.get(3);
    let mut entries_read = INVALID_ENTRIES_READ;
    let mut i = 5;
    while i < args.len() {
        if is(args.get(i), "entriesread") && i + 1 < args.len() {
            entries_read = entries_read_arg(args.get(i + 1))?;
            i += 2;
        } else {
            return Err(xgroup_bad_option(args));
        }
    }
    let now = ctx.now_ms;
    let Some(s) = xgroup_lookup(ctx.db, key, now)? else {
        return Err(CmdError::Static(NO_XGROUP_KEY));
    };
    if !s.groups.contains_key(name) {
        return Err(CmdError::msg(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            String::from_utf8_lossy(name),
            String::from_utf8_lossy(key)
        )));
    }
    let idarg = args.get(4);
    let id = if idarg == b"$" {
        s.last_id
    } else {
        parse_strict(idarg)?
    };
    if let Some(g) = s.groups.get_mut(name) {
        g.last_id = id;
        g.entries_read = entries_read;
    }
    ctx.reply.ok();
    ctx.dirty += 1;
    ctx.db.signal_modified_key(key);
    ctx.notify(STREAM, "xgroup-setid", key);
    Ok(())
}

/// The stream and an existing group for DESTROY/CREATECONSUMER/DELCONSUMER.
fn group_of<'d>(
    db: &'d mut Db,
    key: &[u8],
    name: &[u8],
    now: i64,
) -> Result<&'d mut Stream, CmdError> {
    let Some(s) = get_stream_mut(db, key, now)? else {
        return Err(CmdError::Static(NO_XGROUP_KEY));
    };
    if !s.groups.contains_key(name) {
        return Err(CmdError::msg(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            String::from_utf8_lossy(name),
            String::from_utf8_lossy(key)
        )));
    }
    Ok(s)
}

/// `XGROUP DESTROY key group`.
pub fn xgroup_destroy(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(2);
    let now = ctx.now_ms;
    let Some(s) = get_stream_mut(ctx.db, key, now)? else {
        return Err(CmdError::Static(NO_XGROUP_KEY));
    };
    if s.groups.remove(args.get(3)).is_some() {
        ctx.reply.int(1);
        ctx.dirty += 1;
        ctx.db.signal_modified_key(key);
        ctx.notify(STREAM, "xgroup-destroy", key);
    } else {
        ctx.reply.int(0);
    }
    Ok(())
}

/// `XGROUP CREATECONSUMER key group consumer`.
pub fn xgroup_createconsumer(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(2);
    let now = ctx.now_ms;
    let s = group_of(ctx.db, key, args.get(3), now)?;
    let Some(g) = s.groups.get_mut(args.get(3)) else {
        return Ok(());
    };
    let cname = args.get(4);
    if g.consumers.contains_key(cname) {
        ctx.reply.int(0);
        return Ok(());
    }
    g.consumers.insert(
        Box::from(cname),
        Consumer {
            seen_time: wall_ms(now),
            ..Consumer::default()
        },
    );
    ctx.reply.int(1);
    ctx.dirty += 1;
    ctx.db.signal_modified_key(key);
    ctx.notify(STREAM, "xgroup-createconsumer", key);
    Ok(())
}

/// `XGROUP DELCONSUMER key group consumer`: its pending entries go too.
pub fn xgroup_delconsumer(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(2);
    let now = ctx.now_ms;
    let s = group_of(ctx.db, key, args.get(3), now)?;
    let Some(g) = s.groups.get_mut(args.get(3)) else {
        return Ok(());
    };
    match g.consumers.remove(args.get(4)) {
        Some(c) => {
            for id in &c.pel {
                g.pel.remove(id);
            }
            ctx.reply.int(c.pel.len() as i64);
            ctx.dirty += 1;
            ctx.db.signal_modified_key(key);
            ctx.notify(STREAM, "xgroup-delconsumer", key);
        }
        None => ctx.reply.int(0),
    }
    Ok(())
}

/// `XGROUP HELP`.
pub fn xgroup_help(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.reply.help(
        "xgroup",
        &[
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ],
    );
    Ok(())
}

// ---- group delivery ---------------------------------------------------------------

/// The consumer `name` of group `g`, created when missing (event
/// `xgroup-createconsumer`); its seen time becomes `now` when `refresh`.
fn consumer_of(ctx_notify: &mut Vec<&'static str>, g: &mut Group, name: &[u8], now: i64) -> bool {
    if let Some(c) = g.consumers.get_mut(name) {
        c.seen_time = now;
        return false;
    }
    g.consumers.insert(
        Box::from(name),
        Consumer {
            seen_time: now,
            ..Consumer::default()
        },
    );
    ctx_notify.push("xgroup-createconsumer");
    true
}

/// Propagation of one pending entry (Redis's `streamPropagateXCLAIM`).
/// `id` is the ID as XCLAIM's caller wrote it (Redis propagates its
/// argument, `5` as `5`), or as Redis formats one it found.
fn xclaim_argv(key: &[u8], group: &[u8], g: &Group, id: Vec<u8>, nack: &Nack) -> Vec<Vec<u8>> {
    vec![
        b"XCLAIM".to_vec(),
        key.to_vec(),
        group.to_vec(),
        nack.consumer.to_vec(),
        b"0".to_vec(),
        id,
        b"TIME".to_vec(),
        nack.delivery_time.to_string().into_bytes(),
        b"RETRYCOUNT".to_vec(),
        nack.delivery_count.to_string().into_bytes(),
        b"FORCE".to_vec(),
        b"JUSTID".to_vec(),
        b"LASTID".to_vec(),
        g.last_id.to_bytes(),
    ]
}

/// Redis's `streamPropagateGroupID`.
fn setid_argv(key: &[u8], group: &[u8], g: &Group) -> Vec<Vec<u8>> {
    vec![
        b"XGROUP".to_vec(),
        b"SETID".to_vec(),
        key.to_vec(),
        group.to_vec(),
        g.last_id.to_bytes(),
        b"ENTRIESREAD".to_vec(),
        g.entries_read.to_string().into_bytes(),
    ]
}

fn propagate_all(ctx: &mut Ctx<'_>, cmds: &[Vec<Vec<u8>>]) {
    for c in cmds {
        let refs: Vec<&[u8]> = c.iter().map(|a| a.as_slice()).collect();
        ctx.propagate_as(&refs);
    }
}

/// XREADGROUP's delivery from one stream: new entries after the group's
/// last ID (`history` false) or the consumer's own pending entries after
/// `after` (`history`). Replies the entries; returns the commands to
/// propagate and the events.
#[allow(clippy::too_many_arguments)]
fn deliver(
    reply: &mut Reply,
    s: &mut Stream,
    key: &[u8],
    gname: &[u8],
    cname: &[u8],
    after: StreamId,
    count: usize,
    noack: bool,
    history: bool,
    now: i64,
    props: &mut Vec<Vec<Vec<u8>>>,
) {
    let Some(start) = after.incr() else {
        reply.array_len(0);
        return;
    };
    if history {
        let Some(g) = s.groups.get(gname) else {
            reply.array_len(0);
            return;
        };
        let ids: Vec<StreamId> = g
            .consumers
            .get(cname)
            .map(|c| {
                c.pel
                    .range(start..)
                    .take(if count == 0 { usize::MAX } else { count })
                    .copied()
                    .collect()
            })
            .unwrap_or_default();
        reply.array_len(ids.len());
        for id in ids {
            match s.get(id) {
                Some(f) => {
                    reply_entry(reply, id, &f);
                    if let Some(n) = s.groups.get_mut(gname).and_then(|g| g.pel.get_mut(&id)) {
                        n.delivery_time = now;
                        n.delivery_count += 1;
                    }
                }
                None => {
                    reply.array_len(2);
                    reply_id(reply, id);
                    reply.null_array();
                }
            }
        }
        return;
    }
    let mut got: Vec<StreamId> = Vec::new();
    {
        let d = reply.defer_len();
        s.range(start, StreamId::MAX, false, |id, fields| {
            reply_entry(reply, id, &fields);
            got.push(id);
            count == 0 || got.len() < count
        });
        reply.set_deferred_array(d, got.len());
    }
    let mut advanced = false;
    for &id in &got {
        let before = s.groups.get(gname).map(|g| g.last_id);
        if before.is_some_and(|l| id > l) {
            s.advance_group(gname, id);
            advanced = true;
        }
        if noack {
            continue;
        }
        let Some(g) = s.groups.get_mut(gname) else {
            continue;
        };
        if let Some(old) = g.pel.get(&id).map(|n| n.consumer.clone()) {
            if let Some(c) = g.consumers.get_mut(&old) {
                c.pel.remove(&id);
            }
        }
        let nack = Nack {
            delivery_time: now,
            delivery_count: 1,
            consumer: Box::from(cname),
        };
        if let Some(c) = g.consumers.get_mut(cname) {
            c.pel.insert(id);
        }
        props.push(xclaim_argv(key, gname, g, id.to_bytes(), &nack));
        g.pel.insert(id, nack);
    }
    // Redis 7.0.15 writes the group's position only for NOACK reads (the
    // XCLAIMs carry LASTID otherwise).
    if advanced && noack {
        if let Some(g) = s.groups.get(gname) {
            props.push(setid_argv(key, gname, g));
        }
    }
}

// ---- XREAD / XREADGROUP -----------------------------------------------------------

/// `XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]`.
pub fn xread(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    xread_generic(ctx, args, false)
}

/// `XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]`.
pub fn xreadgroup(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    xread_generic(ctx, args, true)
}

const GT_NEW: StreamId = StreamId::MAX;

fn xread_generic(ctx: &mut Ctx<'_>, args: &Args<'_>, group_cmd: bool) -> CmdResult {
    let mut timeout: Option<i64> = None;
    let mut count: i64 = 0;
    let mut streams_arg = 0;
    let mut nstreams = 0;
    let mut group: Option<(&[u8], &[u8])> = None;
    let mut noack = false;
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - i - 1;
        let o = args.get(i);
        if is(o, "block") && more > 0 {
            i += 1;
            let ms = num::parse_i64(args.get(i)).ok_or(CmdError::Static(
                "ERR timeout is not an integer or out of range",
            ))?;
            if ms < 0 {
                return Err(CmdError::Static("ERR timeout is negative"));
            }
            timeout = Some(ms);
        } else if is(o, "count") && more > 0 {
            i += 1;
            count = int_arg(args.get(i))?.max(0);
        } else if is(o, "streams") && more > 0 {
            streams_arg = i + 1;
            let n = args.len() - streams_arg;
            if n % 2 != 0 {
                let (cmd, sym) = if group_cmd {
                    ("XREADGROUP", '>')
                } else {
                    ("XREAD", '$')
                };
                return Err(CmdError::msg(format!(
                    "ERR Unbalanced {cmd} list of streams: for each stream key an ID or '{sym}' must be specified."
                )));
            }
            nstreams = n / 2;
            break;
        } else if is(o, "group") && more >= 2 {
            if !group_cmd {
                return Err(CmdError::Static(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            group = Some((args.get(i + 1), args.get(i + 2)));
            i += 2;
        } else if is(o, "noack") {
            if !group_cmd {
                return Err(CmdError::Static(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            noack = true;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if streams_arg == 0 {
        return Err(CmdError::Syntax);
    }
    if group_cmd && group.is_none() {
        return Err(CmdError::Static("ERR Missing GROUP option for XREADGROUP"));
    }
    // The deadline, kept across a wait.
    let deadline = match timeout {
        Some(ms) if ctx.client.block_deadline_ms != 0 => {
            let _ = ms;
            ctx.client.block_deadline_ms
        }
        Some(0) => 0,
        Some(ms) => ctx.now_ms.saturating_add(ms),
        None => 0,
    };
    let now = ctx.now_ms;
    let rerun = ctx.client.reprocessing && ctx.client.block_stream_ids.len() == nstreams;
    let mut ids = Vec::with_capacity(nstreams);
    for k in 0..nstreams {
        let key = args.get(streams_arg + k);
        let idarg = args.get(streams_arg + nstreams + k);
        let s = get_stream(ctx.db, key, now)?;
        if let Some((g, _)) = group {
            if s.is_none_or(|s| !s.groups.contains_key(g)) {
                return Err(CmdError::msg(format!(
                    "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                    String::from_utf8_lossy(key),
                    String::from_utf8_lossy(g)
                )));
            }
        }
        if idarg == b"$" {
            if group_cmd {
                return Err(CmdError::Static("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."));
            }
            ids.push(s.map_or(StreamId::MIN, |s| s.last_id));
        } else if idarg == b">" {
            if !group_cmd {
                return Err(CmdError::Static("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."));
            }
            ids.push(GT_NEW);
        } else {
            ids.push(parse_strict(idarg)?);
        }
    }
    if rerun {
        for (k, &(ms, seq)) in ctx.client.block_stream_ids.iter().enumerate() {
            ids[k] = StreamId::new(ms, seq);
        }
    }
    let resp3 = ctx.reply.is_resp3();
    let mut served = 0usize;
    let mut d = None;
    let mut props: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut events: Vec<(&'static str, Vec<u8>)> = Vec::new();
    #[allow(clippy::needless_range_loop)]
    for k in 0..nstreams {
        let key = args.get(streams_arg + k);
        let Some(s) = get_stream_mut(ctx.db, key, now)? else {
            continue;
        };
        let gt = ids[k];
        let mut start_after = gt;
        let mut serve = false;
        let mut history = false;
        if let Some((gname, cname)) = group {
            let Some(last) = s.groups.get(gname).map(|g| g.last_id) else {
                continue;
            };
            if gt != GT_NEW {
                serve = true;
                history = true;
            } else if !s.is_empty() && s.edge(true).is_some_and(|m| m > last) {
                serve = true;
                start_after = last;
            }
            // Redis 7.0 creates the consumer only for a stream it serves
            // now: a read of `>` with nothing new creates none.
            if serve {
                let Some(g) = s.groups.get_mut(gname) else {
                    continue;
                };
                let mut ev = Vec::new();
                if consumer_of(&mut ev, g, cname, wall_ms(now)) {
                    events.push(("xgroup-createconsumer", key.to_vec()));
                    // No XCLAIM will name a NOACK reader: Redis 7.0
                    // propagates its creation (and nothing for another
                    // reader's, whose claims create it on replay).
                    if noack {
                        props.push(vec![
                            b"XGROUP".to_vec(),
                            b"CREATECONSUMER".to_vec(),
                            key.to_vec(),
                            gname.to_vec(),
                            cname.to_vec(),
                        ]);
                    }
                }
            }
        } else if !s.is_empty() && s.edge(true).is_some_and(|m| m > gt) {
            serve = true;
        }
        if !serve {
            continue;
        }
        served += 1;
        if served == 1 {
            d = Some(ctx.reply.defer_len());
        }
        if !resp3 {
            ctx.reply.array_len(2);
        }
        ctx.reply.bulk(key);
        match group {
            Some((gname, cname)) => {
                deliver(
                    ctx.reply,
                    s,
                    key,
                    gname,
                    cname,
                    start_after,
                    count as usize,
                    noack,
                    history,
                    wall_ms(now),
                    &mut props,
                );
            }
            None => {
                if let Some(start) = gt.incr() {
                    reply_range(ctx.reply, s, start, StreamId::MAX, count as usize, false);
                } else {
                    ctx.reply.array_len(0);
                }
            }
        }
    }
    for (e, key) in &events {
        ctx.notify(STREAM, e, key);
    }
    if group.is_some() {
        // Redis propagates what the read changed, not the read itself.
        ctx.dirty += props.len() as u64;
        propagate_all(ctx, &props);
    }
    if let Some(d) = d {
        if resp3 {
            ctx.reply.set_deferred_map(d, served);
        } else {
            ctx.reply.set_deferred_array(d, served);
        }
        return Ok(());
    }
    if timeout.is_some() {
        if ctx.must_not_wait(deadline) {
            ctx.reply.null_array();
            return Ok(());
        }
        ctx.client.block_stream_ids = ids.iter().map(|id| (id.ms, id.seq)).collect();
        let keys = (0..nstreams)
            .map(|k| args.get(streams_arg + k).to_vec())
            .collect();
        ctx.block_on_keys_for(BlockReason::Stream, keys, deadline);
        return Ok(());
    }
    ctx.reply.null_array();
    Ok(())
}

// ---- XACK / XPENDING --------------------------------------------------------------

/// `XACK key group id [id ...]`.
pub fn xack(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(1);
    let now = ctx.now_ms;
    let s = get_stream_mut(ctx.db, key, now)?;
    // No key or group answers 0 before the IDs are parsed, as in Redis.
    let Some(g) = s.and_then(|s| s.groups.get_mut(args.get(2))) else {
        ctx.reply.int(0);
        return Ok(());
    };
    let ids = args
        .iter_from(3)
        .map(parse_strict)
        .collect::<Result<Vec<_>, _>>()?;
    let mut acked = 0;
    for id in ids {
        if let Some(n) = g.pel.remove(&id) {
            if let Some(c) = g.consumers.get_mut(&n.consumer) {
                c.pel.remove(&id);
            }
            acked += 1;
        }
    }
    if acked > 0 {
        ctx.dirty += acked;
    }
    ctx.reply.int(acked as i64);
    Ok(())
}

/// `XPENDING key group [[IDLE min-idle-time] start end count [consumer]]`.
pub fn xpending(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(1);
    let gname = args.get(2);
    let n = args.len();
    if n != 3 && !(6..=9).contains(&n) {
        return Err(CmdError::Syntax);
    }
    let mut range = None;
    let mut minidle = 0;
    let mut consumer = None;
    if n >= 6 {
        let mut si = 3;
        if is(args.get(3), "idle") {
            minidle = int_arg(args.get(4))?;
            if n < 8 {
                return Err(CmdError::Syntax);
            }
            si += 2;
        }
        let count = int_arg(args.get(si + 2))?.max(0);
        let (s, e) = parse_range(args.get(si), args.get(si + 1))?;
        if si + 3 < n {
            consumer = Some(args.get(si + 3));
        }
        range = Some((s, e, count));
    }
    let now = ctx.now_ms;
    let clock = wall_ms(now);
    let s = get_stream(ctx.db, key, now)?;
    let Some(g) = s.and_then(|s| s.groups.get(gname)) else {
        return Err(nogroup(key, gname));
    };
    let reply = &mut *ctx.reply;
    let Some((start, end, mut count)) = range else {
        reply.array_len(4);
        reply.int(g.pel.len() as i64);
        match (g.pel.first_key_value(), g.pel.last_key_value()) {
            (Some((f, _)), Some((l, _))) => {
                reply_id(reply, *f);
                reply_id(reply, *l);
                let with: Vec<_> = g
                    .consumers
                    .iter()
                    .filter(|(_, c)| !c.pel.is_empty())
                    .collect();
                reply.array_len(with.len());
                for (name, c) in with {
                    reply.array_len(2);
                    reply.bulk(name);
                    reply.bulk(c.pel.len().to_string().as_bytes());
                }
            }
            _ => {
                reply.null();
                reply.null();
                reply.null_array();
            }
        }
        return Ok(());
    };
    let ids: Vec<StreamId> = match consumer {
        Some(c) => match g.consumers.get(c) {
            Some(c) if start <= end => c.pel.range(start..=end).copied().collect(),
            Some(_) => Vec::new(),
            None => {
                reply.array_len(0);
                return Ok(());
            }
        },
        None if start <= end => g.pel.range(start..=end).map(|(k, _)| *k).collect(),
        None => Vec::new(),
    };
    let d = reply.defer_len();
    let mut len = 0;
    for id in ids {
        if count == 0 {
            break;
        }
        let Some(nack) = g.pel.get(&id) else {
            continue;
        };
        if minidle != 0 && clock - nack.delivery_time < minidle {
            continue;
        }
        len += 1;
        count -= 1;
        reply.array_len(4);
        reply_id(reply, id);
        reply.bulk(&nack.consumer);
        reply.int((clock - nack.delivery_time).max(0));
        reply.int(nack.delivery_count as i64);
    }
    reply.set_deferred_array(d, len);
    Ok(())
}

// ---- XCLAIM / XAUTOCLAIM ----------------------------------------------------------

/// Moves pending entry `id` to consumer `cname` (created when missing).
fn claim_to(g: &mut Group, id: StreamId, cname: &[u8], now: i64, events: &mut Vec<&'static str>) {
    consumer_of(events, g, cname, now);
    let old = g.pel.get(&id).map(|n| n.consumer.clone());
    if let Some(old) = old {
        if &*old != cname {
            if let Some(c) = g.consumers.get_mut(&old) {
                c.pel.remove(&id);
            }
        }
    }
    if let Some(c) = g.consumers.get_mut(cname) {
        c.pel.insert(id);
    }
    if let Some(n) = g.pel.get_mut(&id) {
        n.consumer = Box::from(cname);
    }
}

fn drop_nack(g: &mut Group, id: StreamId) -> Option<Nack> {
    let n = g.pel.remove(&id)?;
    if let Some(c) = g.consumers.get_mut(&n.consumer) {
        c.pel.remove(&id);
    }
    Some(n)
}

/// `XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]`.
pub fn xclaim(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(1);
    let gname = args.get(2);
    let cname = args.get(3);
    let now = ctx.now_ms;
    let clock = wall_ms(now);
    {
        let s = get_stream(ctx.db, key, now)?;
        if s.is_none_or(|s| !s.groups.contains_key(gname)) {
            return Err(nogroup(key, gname));
        }
    }
    let minidle = int_arg_msg(args.get(4), "ERR Invalid min-idle-time argument for XCLAIM")?.max(0);
    let mut j = 5;
    let mut ids = Vec::new();
    while j < args.len() {
        match parse_strict(args.get(j)) {
            Ok(id) => ids.push((id, args.get(j))),
            Err(_) => break,
        }
        j += 1;
    }
    let mut retrycount: i64 = -1;
    let mut deliverytime: i64 = -1;
    let mut force = false;
    let mut justid = false;
    let mut last_id = StreamId::MIN;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = args.get(j);
        if is(opt, "force") {
            force = true;
        } else if is(opt, "justid") {
            justid = true;
        } else if is(opt, "idle") && more > 0 {
            j += 1;
            deliverytime =
                clock - int_arg_msg(args.get(j), "ERR Invalid IDLE option argument for XCLAIM")?;
        } else if is(opt, "time") && more > 0 {
            j += 1;
            deliverytime = int_arg_msg(args.get(j), "ERR Invalid TIME option argument for XCLAIM")?;
        } else if is(opt, "retrycount") && more > 0 {
            j += 1;
            retrycount = int_arg_msg(
                args.get(j),
                "ERR Invalid RETRYCOUNT option argument for XCLAIM",
            )?;
        } else if is(opt, "lastid") && more > 0 {
            j += 1;
            last_id = parse_strict(args.get(j))?;
        } else {
            return Err(CmdError::msg(format!(
                "ERR Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(opt)
            )));
        }
        j += 1;
    }
    let Some(s) = get_stream_mut(ctx.db, key, now)? else {
        return Ok(());
    };
    let mut propagate_last_id = false;
    if let Some(g) = s.groups.get_mut(gname) {
        if last_id > g.last_id {
            g.last_id = last_id;
            propagate_last_id = true;
        }
    }
    if deliverytime != -1 {
        if deliverytime < 0 || deliverytime > clock {
            deliverytime = clock;
        }
    } else {
        deliverytime = clock;
    }
    let mut props = Vec::new();
    let mut events = Vec::new();
    let reply = &mut *ctx.reply;
    let d = reply.defer_len();
    let mut len = 0;
    let mut dirty = 0;
    for (id, id_arg) in ids {
        let exists = s.get(id).is_some();
        let Some(g) = s.groups.get_mut(gname) else {
            break;
        };
        if !exists {
            if let Some(n) = drop_nack(g, id) {
                props.push(xclaim_argv(key, gname, g, id_arg.to_vec(), &n));
                propagate_last_id = false;
                dirty += 1;
            }
            continue;
        }
        let mut created = false;
        if force && !g.pel.contains_key(&id) {
            g.pel.insert(
                id,
                // Redis's streamCreateNACK counts one delivery, and the
                // claim below counts another (unless JUSTID or RETRYCOUNT).
                Nack {
                    delivery_time: clock,
                    delivery_count: 1,
                    consumer: Box::from(&b""[..]),
                },
            );
            created = true;
        }
        let Some(n) = g.pel.get(&id) else {
            continue;
        };
        if !created && minidle > 0 && clock - n.delivery_time < minidle {
            continue;
        }
        claim_to(g, id, cname, clock, &mut events);
        if let Some(n) = g.pel.get_mut(&id) {
            n.delivery_time = deliverytime;
            if retrycount >= 0 {
                n.delivery_count = retrycount as u64;
            } else if !justid {
                n.delivery_count += 1;
            }
        }
        let Some(n) = g.pel.get(&id) else {
            continue;
        };
        props.push(xclaim_argv(key, gname, g, id_arg.to_vec(), n));
        propagate_last_id = false;
        dirty += 1;
        if justid {
            reply_id(reply, id);
        } else {
            match s.get(id) {
                Some(f) => reply_entry(reply, id, &f),
                None => reply.null(),
            }
        }
        len += 1;
    }
    reply.set_deferred_array(d, len);
    if propagate_last_id {
        if let Some(g) = s.groups.get(gname) {
            props.push(setid_argv(key, gname, g));
            dirty += 1;
        }
    }
    for e in events {
        ctx.notify(STREAM, e, key);
    }
    // Only what is propagated counts: Redis propagates the claims, never
    // the command itself.
    let _ = dirty;
    ctx.dirty += props.len() as u64;
    propagate_all(ctx, &props);
    Ok(())
}

/// `XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]`.
pub fn xautoclaim(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(1);
    let gname = args.get(2);
    let cname = args.get(3);
    let now = ctx.now_ms;
    let clock = wall_ms(now);
    // Every argument is parsed before the key is looked up, as Redis does:
    // a bad argument is reported before WRONGTYPE or NOGROUP.
    let minidle = int_arg_msg(
        args.get(4),
        "ERR Invalid min-idle-time argument for XAUTOCLAIM",
    )?
    .max(0);
    let (mut start, ex) = parse_interval(args.get(5), 0, true)?;
    if ex {
        start = start
            .incr()
            .ok_or(CmdError::Static("ERR invalid start ID for the interval"))?;
    }
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = args.get(j);
        if is(opt, "count") && more > 0 {
            let max = i64::MAX / 16;
            count = match num::parse_i64(args.get(j + 1)) {
                Some(v) if (1..=max).contains(&v) => v,
                _ => return Err(CmdError::Static("ERR COUNT must be > 0")),
            };
            j += 1;
        } else if is(opt, "justid") {
            justid = true;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    {
        let s = get_stream(ctx.db, key, now)?;
        if s.is_none_or(|s| !s.groups.contains_key(gname)) {
            return Err(nogroup(key, gname));
        }
    }
    let mut attempts = count * 10;
    let Some(s) = get_stream_mut(ctx.db, key, now)? else {
        return Ok(());
    };
    let mut props = Vec::new();
    let mut events = Vec::new();
    let mut deleted = Vec::new();
    let reply = &mut *ctx.reply;
    reply.array_len(3);
    let mut entries: Vec<StreamId> = Vec::new();
    let mut cursor = start;
    // Whether the scan reached the end of the pending entries.
    let mut exhausted = false;
    let mut dirty = 0;
    loop {
        if exhausted || attempts == 0 || count == 0 {
            break;
        }
        attempts -= 1;
        let Some(g) = s.groups.get(gname) else {
            break;
        };
        let Some((&id, n)) = g.pel.range(cursor..).next() else {
            exhausted = true;
            break;
        };
        let delivery = n.delivery_time;
        // Past the greatest ID there is nothing left: the scan ends with
        // this one, whatever it does with it, and the cursor is 0-0.
        match id.incr() {
            Some(c) => cursor = c,
            None => exhausted = true,
        }
        let exists = s.get(id).is_some();
        let Some(g) = s.groups.get_mut(gname) else {
            break;
        };
        if !exists {
            if let Some(n) = drop_nack(g, id) {
                props.push(xclaim_argv(key, gname, g, id.to_bytes(), &n));
                dirty += 1;
            }
            deleted.push(id);
            count -= 1;
            continue;
        }
        if minidle > 0 && clock - delivery < minidle {
            continue;
        }
        claim_to(g, id, cname, clock, &mut events);
        if let Some(n) = g.pel.get_mut(&id) {
            n.delivery_time = clock;
            if !justid {
                n.delivery_count += 1;
            }
        }
        if let Some(n) = g.pel.get(&id) {
            props.push(xclaim_argv(key, gname, g, id.to_bytes(), n));
        }
        dirty += 1;
        entries.push(id);
        count -= 1;
    }
    // The cursor: the next pending ID after the last examined one, 0-0
    // when there is none.
    let next = s
        .groups
        .get(gname)
        .filter(|_| !exhausted)
        .and_then(|g| g.pel.range(cursor..).next().map(|(k, _)| *k))
        .unwrap_or(StreamId::MIN);
    reply_id(reply, next);
    reply.array_len(entries.len());
    for id in entries {
        if justid {
            reply_id(reply, id);
        } else {
            match s.get(id) {
                Some(f) => reply_entry(reply, id, &f),
                None => reply.null(),
            }
        }
    }
    reply.array_len(deleted.len());
    for id in deleted {
        reply_id(reply, id);
    }
    for e in events {
        ctx.notify(STREAM, e, key);
    }
    // Only what is propagated counts: Redis propagates the claims, never
    // the command itself.
    let _ = dirty;
    ctx.dirty += props.len() as u64;
    propagate_all(ctx, &props);
    Ok(())
}

// ---- XINFO ------------------------------------------------------------------------

fn reply_lag(reply: &mut Reply, s: &Stream, g: &Group) {
    match s.lag(g) {
        Some(l) => reply.int(l),
        None => reply.null(),
    }
}

fn reply_entries_read(reply: &mut Reply, g: &Group) {
    if g.entries_read == INVALID_ENTRIES_READ {
        reply.null();
    } else {
        reply.int(g.entries_read);
    }
}

fn reply_edge(reply: &mut Reply, s: &Stream, last: bool) {
    match s.edge(last).and_then(|id| s.get(id).map(|f| (id, f))) {
        Some((id, f)) => reply_entry(reply, id, &f),
        None => reply.null(),
    }
}

/// `XINFO STREAM key [FULL [COUNT count]]`.
pub fn xinfo_stream(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(2);
    // The key is looked up before the options are parsed, as in Redis.
    let now = ctx.now_ms;
    let Some(s) = get_stream(ctx.db, key, now)? else {
        return Err(CmdError::NoSuchKey);
    };
    let mut full = false;
    let mut count: i64 = 10;
    let unknown = || {
        CmdError::msg(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try XINFO HELP.",
            String::from_utf8_lossy(args.get(1))
        ))
    };
    if args.len() > 3 {
        if args.len() > 6 || !is(args.get(3), "full") {
            return Err(unknown());
        }
        full = true;
        if args.len() > 4 {
            if args.len() != 6 || !is(args.get(4), "count") {
                return Err(unknown());
            }
            count = int_arg(args.get(5))?.max(0);
        }
    }
    let reply = &mut *ctx.reply;
    reply.map_len(if full { 9 } else { 10 });
    reply.bulk(b"length");
    reply.int(s.len() as i64);
    reply.bulk(b"radix-tree-keys");
    reply.int(s.node_count() as i64);
    reply.bulk(b"radix-tree-nodes");
    reply.int(s.node_count() as i64 * 2 + 1);
    reply.bulk(b"last-generated-id");
    reply_id(reply, s.last_id);
    reply.bulk(b"max-deleted-entry-id");
    reply_id(reply, s.max_deleted_id);
    reply.bulk(b"entries-added");
    reply.int(s.entries_added as i64);
    reply.bulk(b"recorded-first-entry-id");
    reply_id(reply, s.first_id);
    if !full {
        reply.bulk(b"groups");
        reply.int(s.groups.len() as i64);
        reply.bulk(b"first-entry");
        reply_edge(reply, s, false);
        reply.bulk(b"last-entry");
        reply_edge(reply, s, true);
        return Ok(());
    }
    let count = count as usize;
    reply.bulk(b"entries");
    reply_range(reply, s, StreamId::MIN, StreamId::MAX, count, false);
    reply.bulk(b"groups");
    reply.array_len(s.groups.len());
    for (name, g) in &s.groups {
        reply.map_len(7);
        reply.bulk(b"name");
        reply.bulk(name);
        reply.bulk(b"last-delivered-id");
        reply_id(reply, g.last_id);
        reply.bulk(b"entries-read");
        reply_entries_read(reply, g);
        reply.bulk(b"lag");
        reply_lag(reply, s, g);
        reply.bulk(b"pel-count");
        reply.int(g.pel.len() as i64);
        reply.bulk(b"pending");
        let take = if count == 0 { usize::MAX } else { count };
        let pel: Vec<_> = g.pel.iter().take(take).collect();
        reply.array_len(pel.len());
        for (id, n) in pel {
            reply.array_len(4);
            reply_id(reply, *id);
            reply.bulk(&n.consumer);
            reply.int(n.delivery_time);
            reply.int(n.delivery_count as i64);
        }
        reply.bulk(b"consumers");
        reply.array_len(g.consumers.len());
        for (cname, c) in &g.consumers {
            reply.map_len(4);
            reply.bulk(b"name");
            reply.bulk(cname);
            reply.bulk(b"seen-time");
            reply.int(c.seen_time);
            reply.bulk(b"pel-count");
            reply.int(c.pel.len() as i64);
            reply.bulk(b"pending");
            let ids: Vec<_> = c.pel.iter().take(take).collect();
            reply.array_len(ids.len());
            for id in ids {
                reply.array_len(3);
                reply_id(reply, *id);
                let n = g.pel.get(id);
                reply.int(n.map_or(0, |n| n.delivery_time));
                reply.int(n.map_or(0, |n| n.delivery_count as i64));
            }
        }
    }
    Ok(())
}

/// `XINFO GROUPS key`.
pub fn xinfo_groups(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let now = ctx.now_ms;
    let Some(s) = get_stream(ctx.db, args.get(2), now)? else {
        return Err(CmdError::NoSuchKey);
    };
    let reply = &mut *ctx.reply;
    reply.array_len(s.groups.len());
    for (name, g) in &s.groups {
        reply.map_len(6);
        reply.bulk(b"name");
        reply.bulk(name);
        reply.bulk(b"consumers");
        reply.int(g.consumers.len() as i64);
        reply.bulk(b"pending");
        reply.int(g.pel.len() as i64);
        reply.bulk(b"last-delivered-id");
        reply_id(reply, g.last_id);
        reply.bulk(b"entries-read");
        reply_entries_read(reply, g);
        reply.bulk(b"lag");
        reply_lag(reply, s, g);
    }
    Ok(())
}

/// `XINFO CONSUMERS key group`.
pub fn xinfo_consumers(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(2);
    let gname = args.get(3);
    let now = ctx.now_ms;
    let Some(s) = get_stream(ctx.db, key, now)? else {
        return Err(CmdError::NoSuchKey);
    };
    let Some(g) = s.groups.get(gname) else {
        return Err(CmdError::msg(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            String::from_utf8_lossy(gname),
            String::from_utf8_lossy(key)
        )));
    };
    let reply = &mut *ctx.reply;
    reply.array_len(g.consumers.len());
    for (name, c) in &g.consumers {
        reply.map_len(3);
        reply.bulk(b"name");
        reply.bulk(name);
        reply.bulk(b"pending");
        reply.int(c.pel.len() as i64);
        reply.bulk(b"idle");
        reply.int((wall_ms(now) - c.seen_time).max(0));
    }
    Ok(())
}

/// `XINFO HELP`.
pub fn xinfo_help(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.reply.help(
        "xinfo",
        &[
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ],
    );
    Ok(())
}
