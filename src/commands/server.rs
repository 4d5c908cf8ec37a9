//! Server commands: INFO, CONFIG, COMMAND, DBSIZE, FLUSHDB/FLUSHALL, SWAPDB, TIME, LASTSAVE, SHUTDOWN.

use super::args::{self, is};
use super::Ctx;
use crate::core::{ShutdownReason, ShutdownRequest};
use crate::db::dict::Dict;
use crate::db::value::Value;
use crate::error::{CmdError, CmdResult};
use crate::resp::parser::Args;

/// Not implemented yet.
pub fn command(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn command_count(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn command_docs(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn command_getkeys(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn command_getkeysandflags(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn command_help(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn command_info(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn command_list(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn config_get(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn config_help(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn config_resetstat(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn config_set(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// `DBSIZE`.
pub fn dbsize(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.reply.int(ctx.db.len() as i64);
    Ok(())
}

/// `FLUSHALL [ASYNC|SYNC]`.
pub fn flushall(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let lazy = flush_is_async(ctx, args)?;
    let mut tables = Vec::new();
    for db in ctx.all_dbs() {
        tables.push(db.take_all());
    }
    for (d, e) in tables {
        ctx.dirty += d.len() as u64;
        free_tables(ctx, d, e, lazy);
    }
    ctx.dirty += 1; // always propagated, as Redis forces it
    ctx.reply.ok();
    Ok(())
}

/// FLUSHALL/FLUSHDB's flag: ASYNC, SYNC, or `lazyfree-lazy-user-flush`.
fn flush_is_async(ctx: &Ctx<'_>, args: &Args<'_>) -> Result<bool, CmdError> {
    match args.len() {
        1 => Ok(ctx.core.config.lazyfree_lazy_user_flush),
        2 if is(args.get(1), "ASYNC") => Ok(true),
        2 if is(args.get(1), "SYNC") => Ok(false),
        _ => Err(CmdError::Syntax),
    }
}

fn free_tables(ctx: &mut Ctx<'_>, d: Dict<Value>, e: Dict<i64>, lazy: bool) {
    if lazy {
        ctx.core.lazyfree.free(d, e);
    } else {
        drop((d, e));
    }
}

/// `FLUSHDB [ASYNC|SYNC]`.
pub fn flushdb(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let lazy = flush_is_async(ctx, args)?;
    let (d, e) = ctx.db.take_all();
    ctx.dirty += d.len() as u64 + 1; // always propagated, as Redis forces it
    free_tables(ctx, d, e, lazy);
    ctx.reply.ok();
    Ok(())
}

/// Not implemented yet.
pub fn info(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// `LASTSAVE`: GoStore writes no RDB, so this is the start-up time.
pub fn lastsave(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.reply.int(ctx.core.lastsave);
    Ok(())
}

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]`: the AOF is written and
/// fsynced and the server exits; the client gets no reply (as Redis).
pub fn shutdown(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (mut save, mut nosave, mut abort) = (false, false, false);
    for a in args.iter_from(1) {
        if is(a, "NOSAVE") {
            nosave = true;
        } else if is(a, "SAVE") {
            save = true;
        } else if is(a, "NOW") || is(a, "FORCE") {
        } else if is(a, "ABORT") {
            abort = true;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if (save && nosave) || (abort && args.len() > 2) {
        return Err(CmdError::Syntax);
    }
    if abort {
        // Shutdowns here are immediate: there is never one to abort.
        return Err(CmdError::Static("ERR No shutdown in progress."));
    }
    ctx.core.shutdown = Some(ShutdownRequest {
        reason: ShutdownReason::Command,
    });
    Ok(())
}

/// `SWAPDB index1 index2`.
pub fn swapdb(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let a = args::int32(args.get(1), Some("ERR invalid first DB index"))?;
    let b = args::int32(args.get(2), Some("ERR invalid second DB index"))?;
    let n = ctx.db_count() as i32;
    if a < 0 || a >= n || b < 0 || b >= n {
        return Err(CmdError::DbIndexOutOfRange);
    }
    ctx.swap_dbs(a as usize, b as usize);
    ctx.dirty += 1;
    ctx.reply.ok();
    Ok(())
}

/// `TIME`: seconds and microseconds.
pub fn time(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let us = crate::util::time::unix_us();
    ctx.reply.array_len(2);
    ctx.reply.bulk_i64(us / 1_000_000);
    ctx.reply.bulk_i64(us % 1_000_000);
    Ok(())
}
