//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH, with Redis 7.0's
//! rules (multi.c).
//!
//! - **Queueing** is `process_command`'s last step: a client in MULTI has
//!   every command but EXEC, DISCARD, MULTI, WATCH, QUIT and RESET queued
//!   (`+QUEUED`) once it passed the checks. A check that refuses a command
//!   while queuing (unknown command, arity, NOAUTH, `no-multi`, OOM,
//!   MISCONF) marks the transaction (`Flags::DIRTY_EXEC`), and EXEC then
//!   answers `-EXECABORT`. Errors the commands MULTI and WATCH give
//!   themselves (nesting, WATCH inside MULTI) do not.
//! - **WATCH** puts the client in its database's index of watched keys
//!   (`Db::watch_key`); every change signals `Db::signal_modified_key`,
//!   which marks the watchers' shared `CasMark` dirty.
//! - **EXEC** (`exec`, run by `call`, which counts and propagates it like
//!   any command) refuses a dirty transaction (null array, or EXECABORT),
//!   else runs the queue through `call` with `Flags::DENY_BLOCKING` set,
//!   one reply per command; an error in one does not stop the others. The
//!   commands' effects gather in the propagation unit `call` opened for
//!   EXEC, so they leave as one MULTI ... EXEC (or as the one command, when
//!   only one wrote, as Redis 7.0 does).

use super::{call_counted, Ctx, Exec, Outcome};
use crate::client::{ClientState, Flags};
use crate::db::hooks::CasMark;
use crate::db::Db;
use crate::error::{CmdError, CmdResult};
use crate::resp::parser::Args;

/// `MULTI`.
pub fn multi(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    if ctx.client.has(Flags::MULTI) {
        return Err(CmdError::Static("ERR MULTI calls can not be nested"));
    }
    ctx.client.flags.set(Flags::MULTI, true);
    ctx.reply.ok();
    Ok(())
}

/// `DISCARD`.
pub fn discard(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    if !ctx.client.has(Flags::MULTI) {
        return Err(CmdError::Static("ERR DISCARD without MULTI"));
    }
    discard_in_ctx(ctx);
    ctx.reply.ok();
    Ok(())
}

/// `WATCH key [key ...]`.
pub fn watch(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if ctx.client.has(Flags::MULTI) {
        return Err(CmdError::Static("ERR WATCH inside MULTI is not allowed"));
    }
    // No point in watching more once a watched key changed.
    if ctx.client.dirty_cas() {
        ctx.reply.ok();
        return Ok(());
    }
    let cas = ctx.client.cas.get_or_insert_with(CasMark::new).clone();
    let id = ctx.client.id;
    let db = ctx.db_index;
    for key in args.iter_from(1) {
        if ctx
            .client
            .watched
            .iter()
            .any(|(d, k)| *d == db && k.as_slice() == key)
        {
            continue;
        }
        ctx.client.watched.push((db, key.to_vec()));
        ctx.db.watch_key(id, &cas, key, ctx.now_ms);
    }
    ctx.reply.ok();
    Ok(())
}

/// `UNWATCH`.
pub fn unwatch(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    unwatch_in_ctx(ctx);
    if let Some(cas) = &ctx.client.cas {
        cas.set(false);
    }
    ctx.reply.ok();
    Ok(())
}

/// `EXEC`'s table entry. `call` runs EXEC through `exec` instead, since it
/// calls other commands; this is never reached.
pub fn exec_entry(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR EXEC must run through call"))
}

/// Redis's `execCommand`, for `call`: runs the queued commands and returns
/// EXEC's result and the changes its commands made (counted by each).
pub(super) fn exec(x: &mut Exec<'_>, now_ms: i64) -> (CmdResult, u64) {
    if !x.client.has(Flags::MULTI) {
        return (Err(CmdError::Static("ERR EXEC without MULTI")), 0);
    }
    // A key that expired since it was watched is a change too.
    if watched_key_expired(x.dbs, x.client, now_ms) {
        if let Some(cas) = &x.client.cas {
            cas.set(true);
        }
    }
    if x.client.has(Flags::DIRTY_EXEC) || x.client.dirty_cas() {
        let result = if x.client.has(Flags::DIRTY_EXEC) {
            Err(CmdError::Static(
                "EXECABORT Transaction discarded because of previous errors.",
            ))
        } else {
            x.reply.null_array();
            Ok(())
        };
        discard_transaction(x.dbs, x.client);
        return (result, 0);
    }
    let had_deny = x.client.has(Flags::DENY_BLOCKING);
    // Blocking commands answer at once, as if timed out.
    x.client.flags.set(Flags::DENY_BLOCKING, true);
    unwatch_all_keys(x.dbs, x.client);
    // The commands leave the queue to run; CLIENT LIST still counts them.
    let commands = std::mem::take(&mut x.client.multi.commands);
    x.client.multi.running = commands.len();
    x.reply.array_len(commands.len());
    let mut dirty = 0;
    // CLIENT LIST's `cmd` shows EXEC while its commands run.
    x.client.last_cmd = "exec";
    for q in &commands {
        let args = q.args.args();
        let (outcome, d) = call_counted(x, q.id, &args);
        dirty += d;
        if let Outcome::Block(_) = outcome {
            // DENY_BLOCKING forbids it; keep the reply's shape regardless.
            x.reply.null();
        }
        x.client.last_cmd = "exec";
    }
    if !had_deny {
        x.client.flags.set(Flags::DENY_BLOCKING, false);
    }
    discard_transaction(x.dbs, x.client);
    (Ok(()), dirty)
}

/// Redis's `isWatchedKeyExpired`: whether a key the client watches has
/// expired since WATCH (one already expired then does not count).
fn watched_key_expired(dbs: &[Db], client: &ClientState, now_ms: i64) -> bool {
    client.watched.iter().any(|(d, k)| {
        dbs.get(*d)
            .is_some_and(|db| db.watched_key_expired(client.id, k, now_ms))
    })
}

/// Redis's `discardTransaction`: the queue goes, the client leaves MULTI,
/// its marks are cleared and it watches nothing more.
pub fn discard_transaction(dbs: &mut [Db], client: &mut ClientState) {
    reset_multi_state(client);
    unwatch_all_keys(dbs, client);
}

fn reset_multi_state(client: &mut ClientState) {
    client.multi = Default::default();
    client.flags.set(Flags::MULTI, false);
    client.flags.set(Flags::DIRTY_EXEC, false);
    if let Some(cas) = &client.cas {
        cas.set(false);
    }
}

/// `discard_transaction` from a handler (DISCARD, RESET).
pub fn discard_in_ctx(ctx: &mut Ctx<'_>) {
    reset_multi_state(ctx.client);
    unwatch_in_ctx(ctx);
}

/// Redis's `unwatchAllKeys`: the client leaves every database's index.
/// Its dirty mark is the caller's business.
pub fn unwatch_all_keys(dbs: &mut [Db], client: &mut ClientState) {
    if client.watched.is_empty() {
        return;
    }
    for (d, key) in std::mem::take(&mut client.watched) {
        if let Some(db) = dbs.get_mut(d) {
            db.unwatch_key(client.id, &key);
        }
    }
}

fn unwatch_in_ctx(ctx: &mut Ctx<'_>) {
    if ctx.client.watched.is_empty() {
        return;
    }
    let id = ctx.client.id;
    for (d, key) in std::mem::take(&mut ctx.client.watched) {
        if let Some(db) = ctx.db_at(d) {
            db.unwatch_key(id, &key);
        }
    }
}
