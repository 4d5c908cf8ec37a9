//! `process_command` and `call`: the path every command takes, as Redis's
//! `processCommand` and `call` in server.c.
//!
//! `process_command` runs the checks, in Redis's order, and each refusal
//! gets Redis's error:
//! 1. lookup of the command and subcommand, and arity;
//! 2. protected commands (DEBUG, per `enable-debug-command`), then
//!    authentication (`requirepass`);
//! 3. maxmemory: evict first; refuse `denyoom` commands with `-OOM` when
//!    nothing more can go;
//! 4. a failed AOF write: refuse writes (and PING) with `-MISCONF`;
//! 5. CLIENT PAUSE: a command the pause holds blocks its client
//!    (`Outcome::Block`), to be processed again once the pause ends;
//! 6. MULTI: a client in a transaction has the command queued (`+QUEUED`)
//!    unless it is EXEC, DISCARD, MULTI, WATCH, QUIT or RESET. Before
//!    that, a refusal marks the transaction (EXECABORT at EXEC), `no-multi`
//!    commands are refused after authentication, and EXEC counts as its
//!    queued commands' flags for OOM, MISCONF and the pause.
//!
//! The pub/sub context of RESP2 subscribers comes after MISCONF (only the
//! (P|S)(UN)SUBSCRIBE commands, PING, QUIT and RESET); then read-only
//! replicas, `replica-serve-stale-data no`, `-LOADING` while a dataset
//! loads (`crate::loading`: only commands flagged `loading`) and busy
//! scripts, all before the pause. Later checks go here and nowhere else,
//! where Redis has them.
//!
//! `call` runs the handler, counts it (INFO commandstats, slow log,
//! MONITOR), then hands what changed to `propagate`: first the `DEL`s of
//! keys that expired during the command, each on its own, then the
//! command's effect as one execution unit.

use crate::client::Flags;
use std::time::Instant;

use super::{observe, spec, Ctx, Redaction};
use crate::blocked::{BlockReason, BlockRequest};
use crate::client::{ClientState, Clients};
use crate::core::Core;
use crate::db::Db;
use crate::error::CmdError;
use crate::resp::parser::Args;
use crate::resp::Reply;

/// What became of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It ran, or was refused with an error reply: it is consumed.
    Done,
    /// Its client must wait; the command stays, to be processed again when
    /// the wait ends.
    Block(BlockRequest),
}

/// Everything `process_command` needs, borrowed from the server for one
/// command.
pub struct Exec<'a> {
    /// All databases.
    pub dbs: &'a mut [Db],
    /// The client.
    pub client: &'a mut ClientState,
    /// Its reply buffer.
    pub reply: &'a mut Reply,
    /// The other clients.
    pub clients: &'a mut Clients,
    /// Server state.
    pub core: &'a mut Core,
    /// Per-command scratch.
    pub redaction: &'a mut Redaction,
}

/// Redis's `processCommand`: the checks in its order, then `call`.
/// Errors go to the client's reply.
pub fn process_command(x: &mut Exec<'_>, args: &Args<'_>) -> Outcome {
    // Client-side caching keeps its table within tracking-table-max-keys
    // (Redis's `trackingLimitUsedSlots`).
    if crate::tracking::active() {
        let max = x.core.config.tracking_table_max_keys as usize;
        let mut out = crate::tracking::Out {
            clients: x.clients,
            own: Some((&mut *x.client, &mut *x.reply)),
        };
        x.core.tracking.limit(&mut out, max);
    }
    let id = match resolve(x.core, args) {
        Ok(id) => id,
        Err(e) => {
            reject(x, &e, None, args);
            return Outcome::Done;
        }
    };
    let spec = x.core.commands.spec(id);
    if !spec.arity_ok(args.len()) {
        reject(x, &CmdError::Arity(spec.fullname), Some(id), args);
        return Outcome::Done;
    }
    // EXEC counts as what it queued: a write, a command that may grow
    // memory, or one that may replicate (Redis's `mstate.cmd_flags`).
    let tx = x.core.commands.tx;
    let flags = if id == tx.exec {
        spec.flags | x.client.multi.cmd_flags
    } else if tx.is_script(id) {
        crate::scripting::command_flags(x, id, args, spec.flags)
    } else {
        spec.flags
    };
    let in_multi = x.client.has(Flags::MULTI);
    // Redis's protected commands: before authentication, as Redis checks.
    if spec.fullname == "debug" && !super::debug::allowed(x.core, x.client) {
        reject(
            x,
            &CmdError::Static(super::debug::NOT_ALLOWED),
            Some(id),
            args,
        );
        return Outcome::Done;
    }
    if !x.client.has(Flags::AUTHENTICATED)
        && !spec.has(spec::NO_AUTH)
        && !x.core.config.requirepass.is_empty()
    {
        reject(x, &CmdError::NoAuth, Some(id), args);
        return Outcome::Done;
    }
    if in_multi && spec.has(spec::NO_MULTI) {
        reject(
            x,
            &CmdError::Static("ERR Command not allowed inside a transaction"),
            Some(id),
            args,
        );
        return Outcome::Done;
    }
    // maxmemory: evict first; when nothing can go, refuse what may grow
    // memory (reads and deletes still run). In MULTI every command but
    // EXEC, DISCARD, QUIT and RESET is refused then: queuing takes memory.
    if x.core.config.maxmemory > 0 {
        let oom = crate::evict::perform_evictions(x.dbs, x.core) == crate::evict::Outcome::Fail;
        let refuse = flags & spec::DENYOOM != 0
            || (in_multi && id != tx.exec && id != tx.discard && id != tx.quit && id != tx.reset);
        if oom && refuse {
            reject(x, &CmdError::Oom, Some(id), args);
            return Outcome::Done;
        }
    }
    // PING fails too, as in Redis: a health check must see that writes are
    // refused.
    if (flags & spec::WRITE != 0 || spec.fullname == "ping") && !x.core.loading {
        if let Some(e) = x.core.aof.write_error() {
            reject(
                x,
                &CmdError::msg(format!("MISCONF Errors writing to the AOF file: {e}")),
                Some(id),
                args,
            );
            return Outcome::Done;
        }
    }
    // Too few replicas acknowledging: writes are refused
    // (`min-replicas-to-write`).
    if flags & spec::WRITE != 0 && !crate::repl::master::enough_good_replicas(x.core, x.clients) {
        reject(
            x,
            &CmdError::Static(crate::repl::master::NOREPLICAS),
            Some(id),
            args,
        );
        return Outcome::Done;
    }
    // A read-only replica takes writes from its master only.
    if x.core.is_replica
        && x.core.config.replica_read_only
        && !x.client.has(Flags::MASTER)
        && flags & spec::WRITE != 0
    {
        reject(
            x,
            &CmdError::Static("READONLY You can't write against a read only replica."),
            Some(id),
            args,
        );
        return Outcome::Done;
    }
    // A RESP2 client with subscriptions may only run the pub/sub commands.
    if x.client.has(Flags::PUBSUB)
        && !x.reply.is_resp3()
        && !super::pubsub::allowed_in_context(spec.fullname)
    {
        reject(
            x,
            &super::pubsub::context_error(spec.fullname),
            Some(id),
            args,
        );
        return Outcome::Done;
    }
    // A replica whose link is down, with `replica-serve-stale-data no`,
    // runs only the commands flagged `stale` (INFO, REPLICAOF, PING...),
    // and EXEC only when everything queued is such a command.
    if x.core.is_replica
        && !x.core.config.replica_serve_stale_data
        && !x.client.has(Flags::MASTER)
        && !x.core.replica.as_ref().is_some_and(|l| l.up())
    {
        let commands = &x.core.commands;
        let deny = !spec.has(spec::STALE)
            || (id == tx.exec
                && x.client
                    .multi
                    .commands
                    .iter()
                    .any(|q| !commands.spec(q.id).has(spec::STALE)));
        if deny {
            reject(
                x,
                &CmdError::Static("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."),
                Some(id),
                args,
            );
            return Outcome::Done;
        }
    }
    // A dataset loading (clients served from inside the load): only the
    // commands flagged `loading` run, and EXEC only when everything queued
    // is such a command (Redis's processCommand). The loader's own client
    // (`core.loading`) replays as usual.
    if x.core.load.is_some() && !x.core.loading {
        let commands = &x.core.commands;
        let deny = !spec.has(spec::LOADING)
            || (id == tx.exec
                && x.client
                    .multi
                    .commands
                    .iter()
                    .any(|q| !commands.spec(q.id).has(spec::LOADING)));
        if deny {
            reject(
                x,
                &CmdError::Static(crate::loading::LOADING_ERR),
                Some(id),
                args,
            );
            return Outcome::Done;
        }
    }
    // A script past busy-reply-threshold: only the allow-busy commands run
    // (Redis's processCommand after `isInsideYieldingLongCommand`).
    if !spec.has(spec::ALLOW_BUSY) {
        if let Some(e) = crate::scripting::busy::busy_error(x.core.scripting.running.as_ref()) {
            reject(x, &CmdError::Static(e), Some(id), args);
            return Outcome::Done;
        }
    }
    let may_write = flags & (spec::WRITE | spec::MAY_REPLICATE) != 0;
    // The AOF being replayed (start-up, DEBUG RELOAD) is never held.
    if !x.core.loading
        && !x.client.has(Flags::MONITOR)
        && !x.client.has(Flags::MASTER)
        && x.core.ops.pause.holds(may_write)
    {
        return Outcome::Block(BlockRequest::without_keys(BlockReason::Postpone, 0));
    }
    if in_multi && !tx.runs_in_multi(id) {
        // Nothing more is kept once the transaction is doomed.
        if !x.client.has(Flags::DIRTY_EXEC) && !x.client.dirty_cas() {
            x.client.multi.queue(id, spec.flags, args);
        }
        x.client.last_cmd = spec.fullname;
        x.reply.simple("QUEUED");
        return Outcome::Done;
    }
    let outcome = call(x, id, args);
    // CLIENT CACHING covers the next command only (outside MULTI).
    let in_multi = x.client.has(Flags::MULTI);
    if let Some(t) = x.client.tracking.as_mut() {
        if t.caching.is_some() && !in_multi && spec.fullname != "client|caching" {
            t.caching = None;
        }
    }
    outcome
}

/// Finds the command (or subcommand) id. While the AOF loads, original
/// names come first (see `rename`).
#[inline]
pub(crate) fn resolve(core: &Core, args: &Args<'_>) -> Result<u32, CmdError> {
    let name = args.get(0);
    let found = if core.loading {
        core.commands.lookup_original(name)
    } else {
        core.commands.lookup(name)
    };
    match found {
        Some(id) if core.commands.spec(id).subcommands.is_empty() || args.len() < 2 => Ok(id),
        _ => resolve_slow(core, args, found),
    }
}

/// `resolve` for containers and unknown commands.
#[inline(never)]
fn resolve_slow(core: &Core, args: &Args<'_>, found: Option<u32>) -> Result<u32, CmdError> {
    let name = args.get(0);
    let Some(id) = found else {
        let mut list = String::new();
        for a in args.iter_from(1) {
            if list.len() >= 128 {
                break;
            }
            let room = 128 - list.len();
            let shown = String::from_utf8_lossy(&a[..a.len().min(room)]).into_owned();
            list.push_str(&format!("'{shown}' "));
        }
        let shown = String::from_utf8_lossy(&name[..name.len().min(128)]).into_owned();
        return Err(CmdError::msg(format!(
            "ERR unknown command '{shown}', with args beginning with: {list}"
        )));
    };
    let spec = core.commands.spec(id);
    if spec.subcommands.is_empty() || args.len() < 2 {
        return Ok(id);
    }
    match core.commands.lookup_sub(id, args.get(1)) {
        Some(sub) => Ok(sub),
        None => {
            let sub = args.get(1);
            let shown = String::from_utf8_lossy(&sub[..sub.len().min(128)]).into_owned();
            let cmd = String::from_utf8_lossy(name).to_ascii_uppercase();
            Err(CmdError::msg(format!(
                "ERR unknown subcommand '{shown}'. Try {cmd} HELP."
            )))
        }
    }
}

/// Redis's `rejectCommand`: a refused command marks the client's
/// transaction, if any, so that EXEC aborts; a refused EXEC discards it
/// at once, answering why (`execCommandAbort`).
fn reject(x: &mut Exec<'_>, e: &CmdError, id: Option<u32>, args: &Args<'_>) {
    if x.client.has(Flags::MULTI) {
        x.client.flags.set(Flags::DIRTY_EXEC, true);
    }
    if let Some(id) = id {
        x.core.commands.stats[id as usize].rejected_calls += 1;
    }
    if id.is_some() && id == Some(x.core.commands.tx.exec) {
        super::multi::discard_transaction(x.dbs, x.client);
        let abort = CmdError::msg(format!("EXECABORT Transaction discarded because of: {e}"));
        x.reply.error(&abort);
        x.core.stats.count_error(&abort.code());
        // Monitors see the refused EXEC, as Redis shows it.
        observe::feed_refused(x, args);
        return;
    }
    x.reply.error(e);
    x.core.stats.count_error(&e.code());
}

/// Runs a command that passed the checks, and propagates its effects.
pub fn call(x: &mut Exec<'_>, id: u32, args: &Args<'_>) -> Outcome {
    call_counted(x, id, args).0
}

/// `call`, also returning the changes the command made (EXEC adds up its
/// commands').
pub(crate) fn call_counted(x: &mut Exec<'_>, id: u32, args: &Args<'_>) -> (Outcome, u64) {
    let spec = x.core.commands.spec(id);
    let Some(handler) = spec.handler else {
        // A container called with no subcommand: arity forbids it, but be safe.
        x.reply.error(&CmdError::Arity(spec.fullname));
        return (Outcome::Done, 0);
    };
    let db_index = x.client.db.min(x.dbs.len() - 1);
    x.redaction.bits = 0;
    x.core.propagator.begin_unit();
    let mark = x.core.propagator.pending();
    let start = Instant::now();
    // The master's commands see keys its DELs have not expired yet.
    let now_ms = if x.core.loading || x.client.has(Flags::MASTER) {
        crate::db::LOADING_NOW
    } else {
        x.core.clock.unix_ms_at(start)
    };
    let is_exec = id == x.core.commands.tx.exec;
    let is_script = x.core.commands.tx.is_script(id);
    let (result, dirty) = if is_exec {
        // EXEC calls the commands it queued, each counted and observed
        // on its own; their effects gather in this unit.
        super::multi::exec(x, now_ms)
    } else if is_script {
        // So do the commands a script calls.
        crate::scripting::run(x, id, args)
    } else {
        let mut ctx = Ctx::new(
            x.dbs,
            db_index,
            x.reply,
            x.client,
            x.clients,
            x.core,
            spec,
            now_ms,
            x.redaction,
        );
        // CLIENT NO-TOUCH: this client's lookups leave the keys' LRU/LFU data
        // alone, except TOUCH's, whose purpose that is.
        let no_touch = ctx.client.has(Flags::NO_TOUCH) && spec.fullname != "touch";
        if no_touch {
            crate::db::lru::set_no_touch(true);
        }
        let reply_mark = ctx.reply.mark();
        let tracking = crate::tracking::active();
        if tracking {
            crate::tracking::set_current(ctx.client.id);
        }
        let result = handler(&mut ctx, args);
        if no_touch {
            crate::db::lru::set_no_touch(false);
        }
        if crate::pubsub::has_queued() {
            // Keyspace notifications it raised (and evictions before it)
            // are published now; its own go before its reply.
            let parts = ctx.server_parts();
            let core = parts.core;
            let mut out = crate::pubsub::Fanout {
                clients: parts.clients,
                own: Some(crate::pubsub::Own {
                    token: parts.client.token,
                    reply: parts.reply,
                }),
                limits: &core.config.client_output_buffer_limit,
                disconnections: &mut core.stats.client_outbuf_limit_disconnections,
            };
            core.pubsub.drain_notifications(&mut out, Some(reply_mark));
        }
        if tracking || crate::tracking::active() {
            crate::tracking::set_current(0);
            let parts = ctx.server_parts();
            let mut out = crate::tracking::Out {
                clients: parts.clients,
                own: Some((parts.client, parts.reply)),
            };
            if crate::tracking::has_pending() {
                // Invalidations go after the reply, as Redis 7.0.15 defers
                // the running client's.
                parts.core.tracking.drain(&mut out);
            }
            // A read-only command's keys are remembered for its client.
            if let Some((client, _)) = out.own.as_ref() {
                if client.tracking.is_some() && spec.has(spec::READONLY) {
                    let argv: Vec<&[u8]> = args.iter_from(0).collect();
                    let keys = if spec.fullname == "sort_ro" {
                        Some(vec![(1, &[][..])])
                    } else {
                        super::server::keys_by_specs(spec, &argv)
                    };
                    if let Some(keys) = keys {
                        parts.core.tracking.remember(
                            client,
                            keys.into_iter()
                                .filter_map(|(i, _)| argv.get(i).map(|k| k.to_vec())),
                        );
                    }
                }
            }
        }
        if let Some(req) = ctx.take_block() {
            // The handler asked to wait: it changed and answered nothing, and
            // runs again, from process_command, when the wait ends. Only that
            // run is counted.
            x.core.propagator.truncate(mark);
            x.core.propagator.end_unit(&mut x.core.aof);
            return (Outcome::Block(req), 0);
        }
        (result, ctx.dirty)
    };
    let elapsed = start.elapsed().as_micros() as u64;
    let stats = &mut x.core.commands.stats[id as usize];
    stats.calls += 1;
    stats.usec += elapsed;
    if let Err(e) = &result {
        stats.failed_calls += 1;
        x.reply.error(e);
        x.core.stats.count_error(&e.code());
    }
    x.core.stats.total_commands_processed += 1;
    x.client.last_cmd = spec.fullname;
    let redacted = x.redaction.bits;
    observe::after_call(x, id, args, elapsed, redacted);

    propagate_effects(x, id, db_index, dirty, mark, args, !is_exec && !is_script);
    (Outcome::Done, dirty)
}

/// Hands a command's effects to `propagate`: the `DEL`s of keys that
/// expired during it (they happened before its own effect), then its
/// effect as one execution unit, when it changed the dataset: what its
/// handler propagated, or else the command as received (by its original
/// name when it was called by a `rename-command` name).
fn propagate_effects(
    x: &mut Exec<'_>,
    id: u32,
    db_index: usize,
    dirty: u64,
    mark: usize,
    args: &Args<'_>,
    count_dirty: bool,
) {
    let loading = x.core.loading;
    let Core {
        aof, propagator, ..
    } = &mut *x.core;
    for (i, db) in x.dbs.iter_mut().enumerate() {
        if !db.expired.is_empty() {
            for key in db.take_expired() {
                if !loading {
                    propagator.propagate_del(aof, i, &key);
                }
            }
        }
    }
    if dirty == 0 || loading {
        propagator.truncate(mark);
        propagator.end_unit(aof);
        return;
    }
    if count_dirty {
        x.core.dirty += dirty;
    }
    let spec = x.core.commands.spec(id);
    let renamed = x.core.commands.has_renames();
    let Core {
        aof, propagator, ..
    } = &mut *x.core;
    // A transaction or a script propagates only its commands' effects
    // (none, when `redis.set_repl` turned them off).
    if propagator.pending() == mark && count_dirty {
        // Called by a new name: the AOF gets the original one.
        let original = spec.fullname.split('|').next().unwrap_or(spec.fullname);
        if renamed && !args.get(0).eq_ignore_ascii_case(original.as_bytes()) {
            let n = args.len();
            propagator.also_propagate(
                db_index,
                (0..n).map(|i| {
                    if i == 0 {
                        original.as_bytes()
                    } else {
                        args.get(i)
                    }
                }),
            );
        } else {
            let n = args.len();
            propagator.also_propagate(db_index, (0..n).map(|i| args.get(i)));
        }
    }
    propagator.end_unit(aof);
    x.client.needs_aof = aof.end_offset();
    x.client.woff = propagator.repl.offset;
}

/// Replays AOF `files` into `dbs` through `process_command`, on a client
/// that loads (start-up, DEBUG RELOAD): the AOF's original command names,
/// no expiry, nothing propagated. `progress` sees each command first;
/// `serve` serves clients as the load goes (`crate::loading`). A
/// command the loader cannot replay stops the load with the reason; one
/// that fails when run is skipped, as Redis does.
pub fn replay_aof(
    files: &[std::path::PathBuf],
    manifest: &std::path::Path,
    truncate_ok: bool,
    dbs: &mut [Db],
    core: &mut Core,
    serve: crate::loading::Serve<'_>,
    progress: &mut dyn FnMut(&Args<'_>),
) -> Result<crate::aof::loader::LoadStats, crate::aof::AofError> {
    let was_loading = core.loading;
    core.loading = true;
    let mut fake = ClientState::new(
        0,
        "aof-loader".into(),
        String::new(),
        -1,
        false,
        crate::util::time::unix_ms(),
        true,
    );
    fake.flags.set(Flags::DENY_BLOCKING, true);
    let mut reply = Reply::new();
    let mut redaction = Redaction::default();
    let lim = crate::rdb::Limits::from_config(&core.config);
    // Where the load is, in (about) bytes: clients are served as it goes
    // when `core.load` is set (start-up), see `crate::loading`.
    let mut at: u64 = 0;
    let result = crate::aof::loader::load(files, manifest, truncate_ok, &mut |input| {
        let args = match input {
            crate::aof::loader::Input::Command(args) => args,
            crate::aof::loader::Input::Rdb(bytes) => {
                let mut s = crate::loading::Serve {
                    clients: &mut *serve.clients,
                    redaction: &mut *serve.redaction,
                    signals: serve.signals,
                };
                let taken = load_rdb_preamble(bytes, dbs, core, &mut s, &lim, at)?;
                at += taken as u64;
                return Ok(taken);
            }
        };
        progress(args);
        at += (args.total_bytes() + 16 * args.len()) as u64;
        core.commands.replayable(args.get(0), args.len())?;
        let mut x = Exec {
            dbs: &mut *dbs,
            client: &mut fake,
            reply: &mut reply,
            clients: &mut *serve.clients,
            core: &mut *core,
            redaction: &mut redaction,
        };
        let outcome = process_command(&mut x, args);
        reply.discard();
        let mut s = crate::loading::Serve {
            clients: &mut *serve.clients,
            redaction: &mut *serve.redaction,
            signals: serve.signals,
        };
        if !crate::loading::progress(dbs, core, &mut s, at, true) {
            return Err("the server is shutting down".to_string());
        }
        match outcome {
            Outcome::Done => Ok(0),
            // The loader's client never waits (DENY_BLOCKING) and nothing
            // is paused while loading; a replayed command that still asked
            // to wait would be lost, so the load stops instead.
            Outcome::Block(_) => Err(format!(
                "'{}' could not run while loading",
                String::from_utf8_lossy(args.get(0))
            )),
        }
    });
    core.loading = was_loading;
    result
}

/// The RDB at the start of an AOF file (an RDB base, or a pre-7 preamble),
/// as Redis's `loadSingleAppendOnlyFile`: its keys, expired ones included
/// (they expire as usual once loaded), and its function libraries. Returns
/// the bytes it took.
fn load_rdb_preamble(
    bytes: &[u8],
    dbs: &mut [Db],
    core: &mut Core,
    s: &mut crate::loading::Serve<'_>,
    lim: &crate::rdb::Limits,
    base: u64,
) -> Result<usize, String> {
    log::info!("Reading RDB base file on AOF loading...");
    let o = crate::rdb::loader::LoadOptions {
        expire_before: None,
        check_crc: core.config.rdbchecksum,
    };
    let st =
        crate::loading::load_rdb(bytes, dbs, core, s, lim, o, base).map_err(|e| e.to_string())?;
    load_libraries(core, &st.functions)?;
    log::info!(
        "Done loading RDB, keys loaded: {}, keys expired: {}.",
        st.keys_loaded,
        st.keys_expired
    );
    Ok(st.end)
}

/// Loads function libraries read from an RDB (each must be new, as
/// Redis's RDB loading).
pub fn load_libraries(core: &mut Core, codes: &[Vec<u8>]) -> Result<(), String> {
    for code in codes {
        core.scripting.function_load(code, false).map_err(|e| {
            format!(
                "Failed loading library, {}",
                e.to_string().trim_start_matches("ERR ")
            )
        })?;
    }
    Ok(())
}
