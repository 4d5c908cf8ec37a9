//! RDB commands: SAVE, BGSAVE, DUMP and RESTORE. The formats are in
//! `crate::rdb`; the background save's child and its bookkeeping in
//! `crate::rdb::save`.

use super::args::is;
use super::Ctx;
use crate::db::Db;
use crate::error::{CmdError, CmdResult};
use crate::notify::{notify_keyspace_event, GENERIC};
use crate::rdb::loader::{load_payload, meta_for, PayloadError};
use crate::rdb::writer::dump_payload;
use crate::rdb::{KeyMeta, Limits};
use crate::resp::parser::Args;

/// `SAVE`: writes the RDB file in the foreground (`rdbSave`).
pub fn save(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    if ctx.server().rdb.child_running() {
        return Err(CmdError::Static("ERR Background save already in progress"));
    }
    let opts = crate::rdb::save::save_options(ctx.server());
    let path = crate::rdb::save::rdb_path(ctx.config());
    let dbs: Vec<&Db> = ctx.all_dbs().map(|d| &*d).collect();
    let r = crate::rdb::save::save_foreground(&dbs, &path, &opts);
    let now = ctx.now_ms;
    let core = ctx.server_mut();
    match r {
        Ok(()) => {
            core.rdb.saved(core.dirty, now / 1000, true);
            core.lastsave = now / 1000;
            ctx.reply.ok();
            Ok(())
        }
        Err(e) => {
            log::warn!("{e}");
            core.rdb.last_ok = false;
            Err(CmdError::Static("ERR"))
        }
    }
}

/// `BGSAVE [SCHEDULE]`: forks a child that writes the RDB file.
pub fn bgsave(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let schedule = match args.len() {
        1 => false,
        2 if is(args.get(1), "SCHEDULE") => true,
        _ => return Err(CmdError::Syntax),
    };
    let core = ctx.server_mut();
    if core.rdb.child_running() {
        return Err(CmdError::Static("ERR Background save already in progress"));
    }
    if core.aof.rewrite_in_progress() {
        if schedule {
            core.rdb.scheduled = true;
            ctx.reply.simple("Background saving scheduled");
            return Ok(());
        }
        return Err(CmdError::Static("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."));
    }
    core.rdb.requested = true;
    ctx.reply.simple("Background saving started");
    Ok(())
}

/// `DUMP key`: the value in Redis's payload format, or nil.
pub fn dump(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let now = ctx.now_ms;
    let compression = ctx.config().rdbcompression;
    match ctx.db.get(args.get(1), now) {
        Some(v) => {
            let p = dump_payload(v, compression);
            ctx.reply.bulk(&p);
        }
        None => ctx.reply.null(),
    }
    Ok(())
}

/// `RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]`, as
/// Redis 7.0's `restoreCommand`.
pub fn restore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let key = args.get(1);
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (i64, i64) = (-1, -1);
    let mut j = 4;
    while j < args.len() {
        let more = j + 1 < args.len();
        let a = args.get(j);
        if is(a, "REPLACE") {
            replace = true;
        } else if is(a, "ABSTTL") {
            absttl = true;
        } else if is(a, "IDLETIME") && more && freq == -1 {
            idle = crate::util::num::parse_i64(args.get(j + 1)).ok_or(CmdError::NotInteger)?;
            if idle < 0 {
                return Err(CmdError::Static("ERR Invalid IDLETIME value, must be >= 0"));
            }
            j += 1;
        } else if is(a, "FREQ") && more && idle == -1 {
            freq = crate::util::num::parse_i64(args.get(j + 1)).ok_or(CmdError::NotInteger)?;
            if !(0..=255).contains(&freq) {
                return Err(CmdError::Static(
                    "ERR Invalid FREQ value, must be >= 0 and <= 255",
                ));
            }
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let now = ctx.now_ms;
    if !replace && ctx.db.exists(key, now) {
        return Err(CmdError::Static("BUSYKEY Target key name already exists."));
    }
    let mut ttl = crate::util::num::parse_i64(args.get(2)).ok_or(CmdError::NotInteger)?;
    if ttl < 0 {
        return Err(CmdError::Static("ERR Invalid TTL value, must be >= 0"));
    }
    let lim = Limits::from_config(ctx.config());
    let value = match load_payload(args.get(3), &lim) {
        Ok(v) => v,
        Err(PayloadError::VersionOrChecksum) => {
            return Err(CmdError::Static(
                "ERR DUMP payload version or checksum are wrong",
            ))
        }
        Err(PayloadError::BadData) => return Err(CmdError::Static("ERR Bad data format")),
    };
    let deleted = replace && ctx.db.remove(key).is_some();
    if ttl != 0 && !absttl {
        ttl = ttl.saturating_add(now);
    }
    if ttl != 0 && ttl <= now && !ctx.loading() {
        if deleted {
            ctx.propagate_as(&[b"DEL", key]);
            notify_keyspace_event(GENERIC, "del", key, ctx.db_index);
            ctx.dirty += 1;
        }
        ctx.reply.ok();
        return Ok(());
    }
    let km = KeyMeta {
        expire_ms: None,
        idle_secs: (idle >= 0).then_some(idle as u64),
        freq: (freq >= 0).then_some(freq as u8),
    };
    ctx.db.put_entry(
        key,
        crate::db::Entry {
            value,
            meta: meta_for(&km),
            expire: (ttl != 0).then_some(ttl),
        },
    );
    if ttl != 0 && !absttl {
        // The TTL leaves as an absolute time, as Redis propagates it.
        let abs = ttl.to_string();
        let mut argv: Vec<&[u8]> = args.iter_from(0).collect();
        argv[2] = abs.as_bytes();
        argv.push(b"ABSTTL");
        ctx.propagate_as(&argv);
    }
    notify_keyspace_event(GENERIC, "restore", key, ctx.db_index);
    ctx.dirty += 1;
    ctx.reply.ok();
    Ok(())
}
