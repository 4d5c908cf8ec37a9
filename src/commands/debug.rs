//! `DEBUG`: Redis's testing and diagnostic subcommands, behind
//! `enable-debug-command` (checked in `execute`, before authentication, as
//! Redis's protected-command check).
//!
//! DIGEST and DIGEST-VALUE compute Redis's exact dataset signature (SHA-1
//! mixed and xored per key, per field, per database, with Redis's type
//! numbers and its `!!expire!!` marker), so the same dataset gives the same
//! hex string on GoStore and on redis-server.
//!
//! RELOAD checks what Redis's checks (persist, empty, load back) with the
//! AOF as the persistence: the dataset is written, with the rewrite's own
//! base-file writer, to a temporary file in the AOF directory, the
//! databases are emptied, and the file is replayed through the AOF loader
//! and the command table, exactly as at start-up. The AOF itself is left
//! alone: the dataset it describes has not changed. See docs/compatibility.md
//! for every subcommand and its differences from Redis.

use super::args::text;
use super::Ctx;
use crate::client::ClientState;
use crate::core::Core;
use crate::db::dict::Dict;
use crate::db::hash::Hash;
use crate::db::list::List;
use crate::db::set::Set;
use crate::db::stream::StreamId;
use crate::db::value::{Kind, Value, ValueRef};
use crate::db::zset::Zset;
use crate::db::{lru, Db};
use crate::error::{CmdError, CmdResult};
use crate::resp::parser::Args;
use crate::resp::Reply;
use crate::util::num::{self, parse_i64};
use crate::util::sha1::sha1;

/// Redis's refusal when DEBUG is not enabled for this client.
pub const NOT_ALLOWED: &str = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

/// Redis's `OBJ_STRING`, `OBJ_LIST`, `OBJ_SET`, `OBJ_ZSET` and `OBJ_HASH`,
/// as DIGEST mixes them in.
const OBJ_STRING: u32 = 0;
const OBJ_LIST: u32 = 1;
const OBJ_SET: u32 = 2;
const OBJ_ZSET: u32 = 3;
const OBJ_HASH: u32 = 4;
const OBJ_STREAM: u32 = 6;

/// What DEBUG subcommands changed at run time.
#[derive(Debug, Default)]
pub struct DebugState {
    /// `DEBUG REPLYBUFFER PEAK-RESET-TIME`, in ms (-1: never). Accepted
    /// and kept; GoStore's reply buffers track no peak to reset.
    pub reply_peak_reset_ms: Option<i64>,
    /// `DEBUG REPLYBUFFER RESIZING`. Accepted and kept; GoStore releases
    /// drained buffers on its own (see `resp::reply`).
    pub reply_resizing: Option<bool>,
}

/// Whether `client` may run DEBUG (Redis's `allowProtectedAction`).
pub fn allowed(core: &Core, client: &ClientState) -> bool {
    core.config.enable_debug_command.allows(client.is_local())
}

const HELP: &[&str] = &[
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "HTSTATS <dbid>",
    "    Return hash table statistics of the specified Redis database.",
    "HTSTATS-KEY <key>",
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD",
    "    Save the dataset to the AOF format on disk and reload it back to memory.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
];

/// Redis's `addReplySubcommandSyntaxError`.
fn syntax_error(args: &Args<'_>) -> CmdError {
    let sub = args.get(1);
    CmdError::msg(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        text(&sub[..sub.len().min(128)]),
        text(args.get(0)).to_ascii_uppercase()
    ))
}

/// C's `atoi`: optional blanks and sign, then digits; 0 when none.
fn atoi(a: &[u8]) -> i64 {
    let s = text(a);
    let s = s.trim_start();
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let end = digits
        .bytes()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let v = digits[..end].parse::<i64>().unwrap_or(0);
    if neg {
        -v
    } else {
        v
    }
}

/// C's `strtod` on a whole argument, as DEBUG SLEEP reads it: the longest
/// prefix that is a number, 0 when none.
fn strtod(a: &[u8]) -> f64 {
    let s = text(a);
    let s = s.trim_start();
    (1..=s.len())
        .rev()
        .filter(|&n| s.is_char_boundary(n))
        .find_map(|n| s[..n].parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// `DEBUG <subcommand> ...`.
pub fn debug(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let sub = text(args.get(1)).to_ascii_lowercase();
    let argc = args.len();
    match (sub.as_str(), argc) {
        ("help", 2) => ctx.reply.help("debug", HELP),
        ("log", 3) => {
            log::warn!("DEBUG LOG: {}", text(args.get(2)));
            ctx.reply.ok();
        }
        ("error", 3) => {
            // Sent as given (Redis's addReplySds), one line.
            let mut e = b"-".to_vec();
            e.extend(args.get(2).iter().map(|&c| match c {
                b'\r' | b'\n' => b' ',
                c => c,
            }));
            e.extend_from_slice(b"\r\n");
            ctx.reply.raw(&e);
        }
        ("reload", _) => reload(ctx, args)?,
        ("object", 3) => object(ctx, args.get(2))?,
        ("digest", 2) => {
            let d = dataset_digest(ctx);
            ctx.reply.simple(&hex(&d));
        }
        ("digest-value", _) => {
            ctx.reply.array_len(argc - 2);
            for key in args.iter_from(2) {
                // No lookup: a logically expired key still has a value here.
                let mut d = [0u8; 20];
                if let Some(v) = ctx.db.dict.get(key) {
                    value_digest(&mut d, v, ctx.db.expire_of(key).is_some());
                }
                ctx.reply.simple(&hex(&d));
            }
        }
        ("protocol", 3) => protocol(ctx.reply, args.get(2))?,
        ("sleep", 3) => {
            let secs = strtod(args.get(2));
            if secs > 0.0 && secs.is_finite() {
                // Blocks the loop, as Redis's does: that is its purpose.
                std::thread::sleep(std::time::Duration::from_secs_f64(secs.min(1e9)));
            }
            ctx.reply.ok();
        }
        ("set-active-expire", 3) => {
            ctx.server_mut().expire.disabled = atoi(args.get(2)) == 0;
            ctx.reply.ok();
        }
        ("stringmatch-test", 2) => {
            stringmatch_fuzz(&mut ctx.server_mut().rng);
            ctx.reply
                .simple("Apparently Redis did not crash: test passed");
        }
        ("change-repl-id", 2) => {
            log::info!("Changing replication IDs after receiving DEBUG change-repl-id");
            let id = crate::core::new_run_id(&mut ctx.server_mut().rng);
            ctx.server_mut().propagator.repl.replid = id;
            ctx.reply.ok();
        }
        ("replybuffer", 4) => replybuffer(ctx, args)?,
        ("listpack", 3) => listpack(ctx, args.get(2))?,
        ("quicklist", 3 | 4) => quicklist(ctx, args.get(2), argc == 4 && atoi(args.get(3)) != 0)?,
        ("quicklist-packed-threshold", 3) => {
            // Redis's bounds: a memory value up to 4 GB - 1 MB (0: the
            // default, 1 GB). Elements at least this long get a plain node.
            match crate::config::parse_memory(args.get(2)) {
                Some(n) if (0..=(1i64 << 32) - (1 << 20)).contains(&n) => {
                    crate::db::list::set_packed_threshold(if n == 0 {
                        1 << 30
                    } else {
                        n as usize
                    });
                    ctx.reply.ok()
                }
                _ => {
                    return Err(CmdError::Static(
                        "ERR argument must be a memory value bigger than 1 and smaller than 4gb",
                    ))
                }
            }
        }
        ("htstats", 3) => {
            let i = parse_i64(args.get(2)).ok_or(CmdError::NotInteger)?;
            if i < 0 || i as usize >= ctx.db_count() {
                return Err(CmdError::Static("ERR Out of range database"));
            }
            let Some(db) = ctx.db_at(i as usize) else {
                return Err(CmdError::Static("ERR Out of range database"));
            };
            let mut out = String::from("[Dictionary HT]\n");
            dict_stats(&mut out, &db.dict);
            out.push_str("[Expires HT]\n");
            dict_stats(&mut out, &db.expires);
            ctx.reply.verbatim(out.as_bytes());
        }
        ("htstats-key", 3) => {
            let Some((v, _)) = ctx.db.peek(args.get(2), ctx.now_ms) else {
                return Err(CmdError::NoSuchKey);
            };
            let mut out = String::new();
            match v.view() {
                ValueRef::Hash(Hash::Table(d)) => dict_stats(&mut out, d),
                ValueRef::Set(Set::Table(d)) => dict_stats(&mut out, d),
                // A skip list's member index, as Redis reports its zset's
                // dict: a "chain" is the members whose home is a slot.
                ValueRef::Zset(Zset::Skip(z)) => z.index_stats(|t, size, used, chains| {
                    table_stats(&mut out, t, size, used, chains)
                }),
                ValueRef::Str(_)
                | ValueRef::List(_)
                | ValueRef::Hash(_)
                | ValueRef::Set(_)
                | ValueRef::Zset(_)
                | ValueRef::Stream(_) => {
                    return Err(CmdError::Static("ERR The value stored at the specified key is not represented using an hash table"));
                }
            }
            ctx.reply.verbatim(out.as_bytes());
        }
        _ => return Err(syntax_error(args)),
    }
    Ok(())
}

// ---- DIGEST ----------------------------------------------------------------

/// Redis's `xorDigest`: xors SHA1(data) into `d` (order-independent).
fn xor_digest(d: &mut [u8; 20], data: &[u8]) {
    for (x, y) in d.iter_mut().zip(sha1(data)) {
        *x ^= y;
    }
}

/// Redis's `mixDigest`: d = SHA1(d xor SHA1(data)) (order-dependent).
fn mix_digest(d: &mut [u8; 20], data: &[u8]) {
    xor_digest(d, data);
    *d = sha1(d);
}

/// Redis's `xorObjectDigest`: a value's type, contents and whether it has
/// a TTL, mixed into `d`. Strings are digested by their text (Redis decodes
/// `int` strings first); a hash is the xor of its fields' digests.
fn value_digest(d: &mut [u8; 20], v: &Value, has_expire: bool) {
    match v.kind() {
        Kind::Str => {
            mix_digest(d, &OBJ_STRING.to_be_bytes());
            mix_digest(d, v.as_str().unwrap_or_default());
        }
        Kind::Hash => {
            mix_digest(d, &OBJ_HASH.to_be_bytes());
            if let Some(h) = v.as_hash() {
                for (field, value) in h.iter() {
                    let mut e = [0u8; 20];
                    mix_digest(&mut e, field);
                    mix_digest(&mut e, value);
                    xor_digest(d, &e);
                }
            }
        }
        Kind::List => {
            mix_digest(d, &OBJ_LIST.to_be_bytes());
            // Order matters: each element is mixed in, head to tail.
            if let Some(l) = v.as_list() {
                for e in l.iter() {
                    mix_digest(d, &e);
                }
            }
        }
        Kind::Set => {
            mix_digest(d, &OBJ_SET.to_be_bytes());
            // Order does not matter: each member's text is xored in.
            if let Some(s) = v.as_set() {
                let mut buf = [0u8; crate::util::num::MAX_I64_LEN];
                for m in s.iter() {
                    xor_digest(d, m.bytes(&mut buf));
                }
            }
        }
        Kind::Zset => {
            mix_digest(d, &OBJ_ZSET.to_be_bytes());
            // Each member with its score as "%.17g", xored in (any order).
            if let Some(z) = v.as_zset() {
                for (m, score) in z.iter() {
                    let mut e = [0u8; 20];
                    mix_digest(&mut e, m);
                    mix_digest(&mut e, num::fmt_f64_g17(score).as_bytes());
                    xor_digest(d, &e);
                }
            }
        }
        Kind::Stream => {
            mix_digest(d, &OBJ_STREAM.to_be_bytes());
            // Each entry in order: "ms.seq", then its fields and values.
            if let Some(st) = v.as_stream() {
                st.range(StreamId::MIN, StreamId::MAX, false, |id, fields| {
                    mix_digest(d, format!("{}.{}", id.ms, id.seq).as_bytes());
                    for (f, val) in fields {
                        mix_digest(d, f);
                        mix_digest(d, val);
                    }
                    true
                });
            }
        }
    }
    if has_expire {
        xor_digest(d, b"!!expire!!");
    }
}

/// Redis's `computeDatasetDigest`.
fn dataset_digest(ctx: &mut Ctx<'_>) -> [u8; 20] {
    let mut out = [0u8; 20];
    for (j, db) in ctx.all_dbs().enumerate() {
        if db.is_empty() {
            continue;
        }
        mix_digest(&mut out, &(j as u32).to_be_bytes());
        for (key, v) in db.dict.iter() {
            let mut d = [0u8; 20];
            mix_digest(&mut d, key);
            value_digest(&mut d, v, db.expire_of(key).is_some());
            xor_digest(&mut out, &d);
        }
    }
    out
}

fn hex(d: &[u8; 20]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

// ---- OBJECT ----------------------------------------------------------------

/// Bytes of an RDB length prefix (`rdbSaveLen`).
fn rdb_len_len(n: usize) -> usize {
    if n < 1 << 6 {
        1
    } else if n < 1 << 14 {
        2
    } else if n <= u32::MAX as usize {
        5
    } else {
        9
    }
}

/// Bytes of a string as Redis's `rdbSaveRawString` writes it, without LZF
/// compression: short canonical integers in 32 bits take 2, 3 or 5 bytes.
fn rdb_string_len(s: &[u8]) -> usize {
    if s.len() <= 11 {
        match parse_i64(s) {
            Some(v) if (-(1 << 7)..1 << 7).contains(&v) => return 2,
            Some(v) if (-(1 << 15)..1 << 15).contains(&v) => return 3,
            Some(v) if (-(1 << 31)..1 << 31).contains(&v) => return 5,
            _ => {}
        }
    }
    rdb_len_len(s.len()) + s.len()
}

/// Bytes one element takes in a listpack (encoding, data and back-length).
fn listpack_entry_len(s: &[u8]) -> usize {
    let enc = match (s.len() <= 20).then(|| parse_i64(s)).flatten() {
        Some(v) if (0..=127).contains(&v) => 1,
        Some(v) if (-4096..=4095).contains(&v) => 2,
        Some(v) if (-(1 << 15)..1 << 15).contains(&v) => 3,
        Some(v) if (-(1 << 23)..1 << 23).contains(&v) => 4,
        Some(v) if (-(1 << 31)..1 << 31).contains(&v) => 5,
        Some(_) => 9,
        None if s.len() < 64 => 1 + s.len(),
        None if s.len() < 4096 => 2 + s.len(),
        None => 5 + s.len(),
    };
    let back = match enc {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    };
    enc + back
}

/// Redis's `rdbSavedObjectLen`, without LZF compression (GoStore writes no
/// RDB; Redis compresses values over 20 bytes when that saves space).
fn serialized_len(v: &Value) -> usize {
    match v.kind() {
        Kind::Str => rdb_string_len(v.as_str().unwrap_or_default()),
        Kind::Hash => match v.as_hash() {
            Some(h @ Hash::Pack(_)) => {
                // Saved as one string: the listpack's bytes.
                let lp = 6
                    + 1
                    + h.iter()
                        .map(|(f, v)| listpack_entry_len(f) + listpack_entry_len(v))
                        .sum::<usize>();
                rdb_len_len(lp) + lp
            }
            Some(h @ Hash::Table(_)) => {
                rdb_len_len(h.len())
                    + h.iter()
                        .map(|(f, v)| rdb_string_len(f) + rdb_string_len(v))
                        .sum::<usize>()
            }
            None => 0,
        },
        // A quicklist is saved as its node count, then each node as one
        // string: its listpack's bytes.
        Kind::List => match v.as_list() {
            Some(l) => {
                let lp = list_listpack_bytes(l);
                rdb_len_len(l.node_count()) + l.node_count() + rdb_len_len(lp) + lp
            }
            None => 0,
        },
        Kind::Set => match v.as_set() {
            // An intset is saved as one string: its header and integers.
            Some(Set::Ints(i)) => {
                let blob = 8 + i.len() * i.width();
                rdb_len_len(blob) + blob
            }
            Some(s @ Set::Table(_)) => {
                let mut buf = [0u8; crate::util::num::MAX_I64_LEN];
                rdb_len_len(s.len())
                    + s.iter()
                        .map(|m| rdb_string_len(m.bytes(&mut buf)))
                        .sum::<usize>()
            }
            None => 0,
        },
        Kind::Zset => match v.as_zset() {
            // Saved as one string: the listpack's bytes, each score as the
            // text `d2string` gives it.
            Some(z) if z.is_packed() => {
                let lp = 6
                    + 1
                    + z.iter()
                        .map(|(m, s)| {
                            listpack_entry_len(m) + listpack_entry_len(d2string(s).as_bytes())
                        })
                        .sum::<usize>();
                rdb_len_len(lp) + lp
            }
            // The count, then each member and its binary double.
            Some(z) => {
                rdb_len_len(z.len()) + z.iter().map(|(m, _)| rdb_string_len(m) + 8).sum::<usize>()
            }
            None => 0,
        },
        // Saved as its nodes (GoStore's encoding approximates a listpack's
        // size) and its groups.
        Kind::Stream => match v.as_stream() {
            Some(st) => rdb_len_len(st.node_count()) + st.encoded_bytes() + 16 * st.node_count(),
            None => 0,
        },
    }
}

/// Redis's `d2string`: how a score is written into a listpack (integers
/// within 2^52 without a fraction, `-0`, else "%.17g").
fn d2string(v: f64) -> String {
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    if v.is_finite() && v > -4503599627370495.0 && v < 4503599627370496.0 && v == (v as i64) as f64
    {
        return (v as i64).to_string();
    }
    num::fmt_f64_g17(v)
}

/// Bytes of the listpacks holding `l`'s elements (header, entries, end).
fn list_listpack_bytes(l: &List) -> usize {
    l.node_count() * 7 + l.iter().map(|e| listpack_entry_len(&e)).sum::<usize>()
}

/// `DEBUG OBJECT key`: Redis's line, from the key table without expiring
/// or touching the key.
fn object(ctx: &mut Ctx<'_>, key: &[u8]) -> CmdResult {
    let Some(meta) = ctx.db.dict.meta(key) else {
        return Err(CmdError::NoSuchKey);
    };
    let cfg = &ctx.server().config;
    let sharing = cfg.maxmemory == 0 || !cfg.maxmemory_policy.tracks_access();
    let now = crate::util::time::unix_ms();
    let Some(v) = ctx.db.dict.get(key) else {
        return Err(CmdError::NoSuchKey);
    };
    let (lru_field, idle_s) = if lru::lfu_selected() {
        // Under LFU the field holds the LFU data, as Redis's does.
        (meta & 0x00ff_ffff, 0)
    } else {
        let idle_ms = lru::idle_ms(meta, lru::observe(now));
        (lru::clock_at(now - idle_ms as i64), idle_ms / 1000)
    };
    // A quicklist's shape, as Redis appends it.
    let extra = match v.as_list() {
        Some(l) => {
            let nodes = l.node_count();
            format!(
                " ql_nodes:{} ql_avg_node:{:.2} ql_listpack_max:{} ql_compressed:{} ql_uncompressed_size:{}",
                nodes,
                l.len() as f64 / nodes.max(1) as f64,
                cfg.list_max_listpack_size,
                (cfg.list_compress_depth != 0) as u8,
                list_listpack_bytes(l)
            )
        }
        None => String::new(),
    };
    let line = format!(
        "Value at:{:p} refcount:{} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}{}",
        v as *const Value,
        super::keys::refcount(v, sharing),
        v.encoding_name(),
        serialized_len(v),
        lru_field,
        idle_s,
        extra
    );
    ctx.reply.simple(&line);
    Ok(())
}

// ---- PROTOCOL ---------------------------------------------------------------

/// `DEBUG PROTOCOL <type>`: Redis's sample reply of each type.
fn protocol(r: &mut Reply, name: &[u8]) -> CmdResult {
    match text(name).to_ascii_lowercase().as_str() {
        "string" => r.bulk(b"Hello World"),
        "integer" => r.int(12345),
        // Redis's sample value, not π.
        #[allow(clippy::approx_constant)]
        "double" => r.double(3.141),
        "bignum" => r.bignum(b"1234567999999999999999999999999999999"),
        "null" => r.null(),
        "array" => {
            r.array_len(3);
            (0..3).for_each(|j| r.int(j));
        }
        "set" => {
            r.set_len(3);
            (0..3).for_each(|j| r.int(j));
        }
        "map" => {
            r.map_len(3);
            for j in 0..3 {
                r.int(j);
                r.boolean(j == 1);
            }
        }
        "attrib" => {
            if r.is_resp3() {
                r.attribute_len(1);
                r.bulk(b"key-popularity");
                r.array_len(2);
                r.bulk(b"key:123");
                r.int(90);
            }
            // An attribute describes the reply that follows it.
            r.bulk(b"Some real reply following the attribute");
        }
        "push" => {
            if !r.is_resp3() {
                return Err(CmdError::Static("ERR RESP2 is not supported by this command"));
            }
            r.push_len(2);
            r.bulk(b"server-cpu-usage");
            r.int(42);
            // A push is out of band: a real reply follows for the caller.
            r.bulk(b"Some real reply following the push reply");
        }
        "true" => r.boolean(true),
        "false" => r.boolean(false),
        "verbatim" => r.verbatim(b"This is a verbatim\nstring"),
        _ => return Err(CmdError::Static("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false")),
    }
    Ok(())
}

// ---- REPLYBUFFER, LISTPACK, HTSTATS, STRINGMATCH-TEST ----------------------------

fn replybuffer(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let what = args.get(2);
    let value = args.get(3);
    let st = &mut ctx.server_mut().ops.debug;
    if what.eq_ignore_ascii_case(b"peak-reset-time") {
        st.reply_peak_reset_ms = if value.eq_ignore_ascii_case(b"never") {
            Some(-1)
        } else if value.eq_ignore_ascii_case(b"reset") {
            None
        } else {
            Some(parse_i64(value).ok_or(CmdError::NotInteger)?)
        };
    } else if what.eq_ignore_ascii_case(b"resizing") {
        st.reply_resizing = Some(atoi(value) != 0);
    } else {
        return Err(syntax_error(args));
    }
    ctx.reply.ok();
    Ok(())
}

/// `DEBUG LISTPACK key`: prints the packed hash's entries on standard
/// output, as Redis prints its `lpRepr`.
fn listpack(ctx: &mut Ctx<'_>, key: &[u8]) -> CmdResult {
    let Some((v, _)) = ctx.db.peek(key, ctx.now_ms) else {
        return Err(CmdError::NoSuchKey);
    };
    use std::io::Write;
    // GoStore's own text for Redis's `lpRepr`: the entries a listpack of
    // this value would hold (a hash's fields and values, a sorted set's
    // members and scores as `d2string` writes them).
    let mut out = String::new();
    match (v.as_hash(), v.as_zset()) {
        (Some(h @ Hash::Pack(_)), _) => {
            out.push_str(&format!("{{listpack: {} entries}}\n", 2 * h.len()));
            for (i, (f, v)) in h.iter().enumerate() {
                out.push_str(&format!(
                    "{{\n\tindex: {:5},\n\tfield: {}\n\tvalue: {}\n}}\n",
                    i,
                    f.escape_ascii(),
                    v.escape_ascii()
                ));
            }
        }
        (_, Some(z @ Zset::Pack(_))) => {
            out.push_str(&format!("{{listpack: {} entries}}\n", 2 * z.len()));
            for (i, (m, s)) in z.iter().enumerate() {
                out.push_str(&format!(
                    "{{\n\tindex: {:5},\n\tmember: {}\n\tscore: {}\n}}\n",
                    i,
                    m.escape_ascii(),
                    d2string(s)
                ));
            }
        }
        _ => return Err(CmdError::Static("ERR Not a listpack encoded object.")),
    }
    out.push_str("{end}\n\n");
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
    ctx.reply.simple("Listpack structure printed on stdout");
    Ok(())
}

/// `DEBUG QUICKLIST key [0|1]`: prints the list's shape on standard
/// output, as Redis prints its `quicklistRepr` (GoStore's own text: node
/// count and elements, and with `full` every element).
fn quicklist(ctx: &mut Ctx<'_>, key: &[u8], full: bool) -> CmdResult {
    let Some((v, _)) = ctx.db.peek(key, ctx.now_ms) else {
        return Err(CmdError::NoSuchKey);
    };
    let Some(l) = v.as_list() else {
        return Err(CmdError::Static("ERR Not a quicklist encoded object."));
    };
    use std::io::Write;
    let mut out = format!(
        "{{count : {}}}\n{{len : {}}}\n{{compressed nodes : {}}}\n",
        l.len(),
        l.node_count(),
        l.compressed_nodes()
    );
    if full {
        for (i, e) in l.iter().enumerate() {
            out.push_str(&format!(
                "{{\n\tindex: {i:5},\n\tvalue: {}\n}}\n",
                e.escape_ascii()
            ));
        }
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
    ctx.reply.simple("Quicklist structure printed on stdout");
    Ok(())
}

/// Redis's `dictGetStats` text for one dict (both tables while rehashing).
fn dict_stats<V>(out: &mut String, d: &Dict<V>) {
    d.table_stats(|t, size, used, chains| table_stats(out, t, size, used, chains));
}

/// One table's part of `DEBUG HTSTATS(-KEY)`, in Redis's layout: table `t`
/// (0 the main table, 1 the rehashing target) of `size` slots holding
/// `used` entries, with the length of every slot's chain.
fn table_stats(
    out: &mut String,
    t: usize,
    size: usize,
    used: usize,
    chains: &mut dyn Iterator<Item = usize>,
) {
    use std::fmt::Write;
    const VECTLEN: usize = 50;
    let _ = writeln!(
        out,
        "Hash table {t} stats ({}):",
        if t == 0 {
            "main hash table"
        } else {
            "rehashing target"
        }
    );
    if used == 0 {
        out.push_str("No stats available for empty dictionaries\n");
        return;
    }
    let mut vector = [0usize; VECTLEN];
    let (mut slots, mut max_chain, mut total_chain) = (0usize, 0usize, 0usize);
    for len in chains {
        if len > 0 {
            slots += 1;
            max_chain = max_chain.max(len);
            total_chain += len;
        }
        vector[len.min(VECTLEN - 1)] += 1;
    }
    let _ = write!(
        out,
        " table size: {size}\n number of elements: {used}\n different slots: {slots}\n max chain length: {max_chain}\n avg chain length (counted): {:.2}\n avg chain length (computed): {:.2}\n Chain length distribution:\n",
        total_chain as f32 / slots as f32,
        used as f32 / slots as f32
    );
    for (i, &n) in vector.iter().enumerate().take(VECTLEN - 1) {
        if n > 0 {
            let _ = writeln!(out, "   {i}: {n} ({:.2}%)", n as f32 / size as f32 * 100.0);
        }
    }
}

/// Redis's `stringmatchlen_fuzz_test`: random patterns against random
/// strings; passing means not crashing (or looping).
fn stringmatch_fuzz(rng: &mut crate::util::rand::Rng) {
    const CHARS: &[u8] = b"*?[]\\^-ab";
    let mut total = 0u64;
    for _ in 0..100_000 {
        let pat: Vec<u8> = (0..rng.below(32))
            .map(|_| CHARS[rng.below(CHARS.len() as u64) as usize])
            .collect();
        let s: Vec<u8> = (0..rng.below(32))
            .map(|_| CHARS[rng.below(CHARS.len() as u64) as usize])
            .collect();
        total += crate::util::glob::matches(&pat, &s, rng.below(2) == 0) as u64;
    }
    log::debug!("stringmatch fuzz: {total} matches");
}

// ---- RELOAD -----------------------------------------------------------------

/// `DEBUG RELOAD`: as Redis, saves the dataset to `dbfilename` (SAVE's
/// writer), empties the databases and loads the file back (the start-up
/// loader); keys whose TTL passed meanwhile are not loaded.
fn reload(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let known = |o: &[u8]| {
        [&b"merge"[..], b"noflush", b"nosave"]
            .iter()
            .any(|k| o.eq_ignore_ascii_case(k))
    };
    if args.iter_from(2).any(|o| !known(o)) {
        return Err(CmdError::Static(
            "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
        ));
    }
    if args.len() > 2 {
        return Err(CmdError::Static(
            "ERR DEBUG RELOAD options MERGE, NOFLUSH and NOSAVE are not supported by GoStore",
        ));
    }
    // As Redis: save `dbfilename`, then load it into emptied databases.
    let path = crate::rdb::save::rdb_path(&ctx.server().config);
    let opts = crate::rdb::save::save_options(ctx.server());
    let old: Vec<Db> = ctx.all_dbs().map(std::mem::take).collect();
    let refs: Vec<&Db> = old.iter().collect();
    if let Err(e) = crate::rdb::save::save_foreground(&refs, &path, &opts) {
        for (slot, db) in ctx.all_dbs().zip(old) {
            *slot = db;
        }
        log::warn!("DEBUG RELOAD: {e}");
        return Err(CmdError::Static(
            "ERR Error trying to save the DB, check server logs.",
        ));
    }
    let mut fresh: Vec<Db> = Db::numbered(old.len());
    for (new, prev) in fresh.iter_mut().zip(&old) {
        new.stats = prev.stats;
    }
    let lim = crate::rdb::Limits::from_config(&ctx.server().config);
    let o = crate::rdb::loader::LoadOptions {
        expire_before: Some(crate::util::time::unix_ms()),
        check_crc: ctx.server().config.rdbchecksum,
    };
    // The function libraries saved are the ones loaded: they stay.
    let loaded = crate::rdb::loader::load_file(&path, &mut fresh, &lim, o).map(|_| ());
    match loaded {
        Ok(()) => {
            drop(old);
            for (slot, db) in ctx.all_dbs().zip(fresh) {
                *slot = db;
            }
            log::info!("DB reloaded by DEBUG RELOAD");
            ctx.reply.ok();
            Ok(())
        }
        Err(e) => {
            // The old dataset stays: nothing was lost.
            for (slot, db) in ctx.all_dbs().zip(old) {
                *slot = db;
            }
            log::warn!("DEBUG RELOAD: loading failed: {e}");
            Err(CmdError::Static(
                "ERR Error trying to load the RDB dump, check server logs.",
            ))
        }
    }
}
