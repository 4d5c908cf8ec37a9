//! Replication commands, master side: REPLCONF, PSYNC, SYNC, WAIT, ROLE
//! (Redis's `replconfCommand`, `syncCommand`, `waitCommand`,
//! `roleCommand`). The stream itself is `crate::repl`.

use super::args::is;
use super::Ctx;
use crate::blocked::{BlockReason, BlockRequest};
use crate::client::Flags;
use crate::error::{CmdError, CmdResult};
use crate::repl::{master, Failover, FailoverState, ReplicaInfo};
use crate::resp::parser::Args;
use crate::util::num::parse_i64;

fn repl_info<'a>(ctx: &'a mut Ctx<'_>) -> &'a mut ReplicaInfo {
    ctx.client.repl.get_or_insert_with(Default::default)
}

/// `REPLCONF <option> <value> ...`: what a replica tells its master before
/// and after PSYNC. `ACK` gets no reply.
pub fn replconf(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() % 2 == 0 {
        return Err(CmdError::Syntax);
    }
    let mut j = 1;
    while j < args.len() {
        let (opt, val) = (args.get(j), args.get(j + 1));
        if is(opt, "listening-port") {
            let port = parse_i64(val)
                .filter(|p| (0..=65535).contains(p))
                .ok_or(CmdError::Static("ERR value is out of range"))?;
            repl_info(ctx).listening_port = port as u16;
        } else if is(opt, "ip-address") {
            repl_info(ctx).announced_ip = Some(String::from_utf8_lossy(val).into_owned());
        } else if is(opt, "capa") {
            if is(val, "eof") {
                repl_info(ctx).capa_eof = true;
            } else if is(val, "psync2") {
                repl_info(ctx).capa_psync2 = true;
            }
        } else if is(opt, "ack") {
            // From a replica only, and never answered.
            if !ctx.client.has(Flags::REPLICA) {
                return Ok(());
            }
            let Some(off) = parse_i64(val) else {
                return Ok(());
            };
            let now = ctx.now_ms;
            let mut started = None;
            if let Some(r) = ctx.client.repl.as_mut() {
                if off as u64 > r.ack_off {
                    r.ack_off = off as u64;
                }
                r.ack_ms = now;
                // An ACK means it loaded the whole snapshot, even before
                // this loop reaped the child that sent it.
                if r.in_child {
                    r.early_ack = true;
                }
                started = crate::repl::sync::start_stream(r).map(|held| (held, r.cap));
            }
            if let Some((held, cap)) = started {
                // The replica class's cap applies from here on.
                ctx.reply.set_cap(cap.saturating_add(held.len()));
                ctx.reply.raw(&held);
            }
            ctx.server_mut().propagator.repl.acks_arrived = true;
            return Ok(());
        } else if is(opt, "getack") {
            // Asked of a replica by its master; this server follows none.
            return Ok(());
        } else if is(opt, "rdb-only") || is(opt, "rdb-filter-only") {
            // Accepted (redis-cli --rdb sends them); every sync is full.
        } else {
            return Err(CmdError::Owned(format!(
                "ERR Unrecognized REPLCONF option: {}",
                String::from_utf8_lossy(opt)
            )));
        }
        j += 2;
    }
    ctx.reply.ok();
    Ok(())
}

/// `PSYNC <replid> <offset>`: continues from the backlog when it can
/// (`+CONTINUE`), else a full resync (`+FULLRESYNC <replid> <offset>`
/// then the RDB as a bulk without its final CRLF).
pub fn psync(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let failover = args.len() > 3 && is(args.get(3), "failover");
    sync_common(ctx, Some((args.get(1), args.get(2))), failover)
}

/// `SYNC`: the old protocol, always a full copy with no preamble.
pub fn sync(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    sync_common(ctx, None, false)
}

fn replica_name(ctx: &Ctx<'_>) -> String {
    crate::repl::replica_name(ctx.client)
}

fn sync_common(ctx: &mut Ctx<'_>, psync: Option<(&[u8], &[u8])>, failover: bool) -> CmdResult {
    if ctx.client.has(Flags::REPLICA) {
        // Already a replica: ignored, as Redis does.
        return Ok(());
    }
    if ctx.client.has(Flags::MULTI) {
        return Err(CmdError::Static(
            "ERR Command not allowed inside a transaction",
        ));
    }
    // `PSYNC <replid> <offset> FAILOVER`: the master that ran FAILOVER
    // asks this replica to take over; it must share this history.
    if let (true, Some((id, _))) = (failover, psync) {
        if id != ctx.server().propagator.repl.replid.as_bytes() {
            return Err(CmdError::Static(
                "ERR PSYNC FAILOVER replid must match my replid.",
            ));
        }
        if unset_master(ctx.server_mut()) {
            log::info!(
                "MASTER MODE enabled (failover request from '{}')",
                client_who(ctx)
            );
        }
    }
    if ctx.server().propagator.repl.failover.state != FailoverState::None {
        return Err(CmdError::Static(
            "NOMASTERLINK Can't SYNC while failing over",
        ));
    }
    if ctx.server().replica.as_ref().is_some_and(|l| !l.up()) {
        return Err(CmdError::Static(
            "NOMASTERLINK Can't SYNC while not connected with my master",
        ));
    }
    let name = replica_name(ctx);
    log::info!("Replica {name} asks for synchronization");
    let now = ctx.now_ms;
    if let Some((id, off)) = psync {
        if let Some(data) = try_partial(ctx, id, off) {
            let stream = &mut ctx.server_mut().propagator.repl;
            stream.stats.sync_partial_ok += 1;
            let offset = stream.offset;
            let replid = stream.replid.clone();
            let psync2 = ctx.client.repl.as_ref().is_some_and(|r| r.capa_psync2);
            if psync2 {
                ctx.reply.raw(format!("+CONTINUE {replid}\r\n").as_bytes());
            } else {
                ctx.reply.raw(b"+CONTINUE\r\n");
            }
            ctx.reply.raw(&data);
            log::info!(
                "Partial resynchronization request from {name} accepted. Sending {} bytes of backlog starting from offset {}.",
                data.len(),
                offset + 1 - data.len() as u64
            );
            become_replica(ctx, offset, now);
            return Ok(());
        }
        let stream = &mut ctx.server_mut().propagator.repl;
        if id != b"?" {
            stream.stats.sync_partial_err += 1;
        }
        log::info!("Full resync requested by replica {name}");
    }
    // The first replica: a fresh history, as Redis's syncCommand.
    let backlog_size = ctx.config().repl_backlog_size as usize;
    let core = ctx.server_mut();
    if !core.propagator.repl.active() {
        let id = crate::core::new_run_id(&mut core.rng);
        let stream = &mut core.propagator.repl;
        stream.replid = id;
        stream.replid2 = crate::repl::NO_REPLID.to_string();
        stream.second_offset = -1;
        stream.create_backlog(backlog_size);
        // The first PING comes a period later, as Redis's replicationCron
        // counts its periods from the start (a PING straight after the
        // sync would stand as the master's last command on the replica).
        stream.last_ping_ms = now;
    }
    let stream = &mut ctx.server_mut().propagator.repl;
    stream.stats.sync_full += 1;
    stream.forget_selected_db();
    // A forked child sends the snapshot (`repl::sync`), once
    // `repl-diskless-sync-delay` has let other replicas join it; until then
    // and while it runs, this client gets nothing from the loop.
    ctx.client.flags.set(Flags::REPLICA, true);
    let cap =
        crate::limits::limit_for(&ctx.config().client_output_buffer_limit, ctx.client).hard_cap();
    let r = repl_info(ctx);
    r.online = false;
    r.in_child = false;
    r.await_ack = false;
    r.early_ack = false;
    r.wait_since_ms = Some(now);
    r.psync = psync.is_some();
    r.held = Vec::new();
    r.cap = cap;
    r.ack_ms = now;
    let delay = ctx.config().repl_diskless_sync_delay;
    if delay > 0 {
        log::info!("Delay next BGSAVE for diskless SYNC of replica {name} by {delay} seconds");
    }
    Ok(())
}

/// The backlog from the offset asked for, when the history matches
/// (`masterTryPartialResynchronization`).
fn try_partial(ctx: &mut Ctx<'_>, id: &[u8], off: &[u8]) -> Option<Vec<u8>> {
    let off = parse_i64(off)?;
    if off < 0 {
        return None;
    }
    let off = off as u64;
    let stream = &ctx.server().propagator.repl;
    let ours = id == stream.replid.as_bytes();
    let before_switch = id == stream.replid2.as_bytes() && off as i64 <= stream.second_offset;
    if !ours && !before_switch {
        return None;
    }
    stream.backlog.as_ref()?.since(off)
}

fn become_replica(ctx: &mut Ctx<'_>, offset: u64, now: i64) {
    ctx.client.flags.set(Flags::REPLICA, true);
    let r = repl_info(ctx);
    r.online = true;
    r.sent = offset;
    r.ack_ms = now;
    let hard =
        crate::limits::limit_for(&ctx.config().client_output_buffer_limit, ctx.client).hard_cap();
    ctx.reply
        .set_cap(hard.saturating_add(ctx.reply.pending_len()));
}

/// `WAIT numreplicas timeout`: blocks until that many replicas have
/// acknowledged this client's writes, or the timeout (ms) passes; answers
/// how many have.
pub fn wait(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if ctx.client.has(Flags::REPLICA) {
        return Err(CmdError::Static("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated."));
    }
    let want = parse_i64(args.get(1)).ok_or(CmdError::Static(
        "ERR value is not an integer or out of range",
    ))?;
    let timeout = parse_i64(args.get(2)).ok_or(CmdError::Static(
        "ERR timeout is not an integer or out of range",
    ))?;
    if timeout < 0 {
        return Err(CmdError::Static("ERR timeout is negative"));
    }
    let deadline = if ctx.client.block_deadline_ms != 0 {
        ctx.client.block_deadline_ms
    } else if timeout > 0 {
        ctx.now_ms.saturating_add(timeout)
    } else {
        0
    };
    let acked = master::count_acks(ctx.clients(), ctx.client.woff);
    if acked as i64 >= want || ctx.must_not_wait(deadline) {
        ctx.reply.int(acked as i64);
        return Ok(());
    }
    ctx.server_mut().propagator.repl.getack_wanted = true;
    ctx.block(BlockRequest::without_keys(BlockReason::Wait, deadline));
    Ok(())
}

/// `ROLE`, as a master: `master`, the offset, and each replica's
/// address, port and acknowledged offset.
pub fn role(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    if let Some(l) = ctx.server().replica.as_ref() {
        let (host, port, state, off) = (
            l.host.clone(),
            l.port,
            l.role_state(),
            if l.up() { l.processed() as i64 } else { -1 },
        );
        ctx.reply.array_len(5);
        ctx.reply.bulk(b"slave");
        ctx.reply.bulk(host.as_bytes());
        ctx.reply.int(port as i64);
        ctx.reply.bulk(state.as_bytes());
        ctx.reply.int(off);
        return Ok(());
    }
    let offset = ctx.server().propagator.repl.offset;
    let replicas: Vec<_> = master::replicas(ctx.clients()).collect();
    ctx.reply.array_len(3);
    ctx.reply.bulk(b"master");
    ctx.reply.int(offset as i64);
    ctx.reply.array_len(replicas.len());
    for r in replicas {
        ctx.reply.array_len(3);
        ctx.reply.bulk(r.ip.as_bytes());
        ctx.reply.bulk(r.port.to_string().as_bytes());
        ctx.reply.bulk(r.offset.to_string().as_bytes());
    }
    Ok(())
}

/// Makes this server a replica of `host:port` (Redis's
/// `replicationSetMaster`): its own history is cached as the master's, so
/// PSYNC may continue it where the new master shares it (a failover).
pub fn set_master(
    core: &mut crate::core::Core,
    clients: &mut crate::client::Clients,
    host: String,
    port: u16,
) {
    let now = crate::util::time::unix_ms();
    let stream = &mut core.propagator.repl;
    let mut cached_db = 0;
    let cached = match core.replica.take() {
        // Another master: whatever this replica processed of the old one.
        Some(old) => {
            if old.up() {
                cached_db = old.client.db;
                Some((old.master_replid.clone(), old.processed()))
            } else {
                cached_db = old.cached_db;
                old.cached.clone()
            }
        }
        // A master becomes a replica: its own history
        // (`replicationCacheMasterUsingMyself`).
        None => stream
            .active()
            .then(|| (stream.replid.clone(), stream.offset)),
    };
    stream.proxy = true;
    core.config.replicaof = Some((host.clone(), port));
    let _ = clients;
    let mut link = Box::new(crate::repl::replica::Link::new(host, port, cached, now));
    link.cached_db = cached_db;
    core.replica = Some(link);
    core.is_replica = true;
    crate::db::set_replica_expiry(true);
    // Their keys now change only by the master's stream
    // (`disconnectAllBlockedClients`).
    core.propagator.repl.unblock_all = true;
}

/// Makes this replica a master (Redis's `replicationUnsetMaster`): a new
/// history that keeps the old one as replid2, so the old master's other
/// replicas (and the old master itself after a FAILOVER) can PSYNC here.
/// False when it was a master already.
pub fn unset_master(core: &mut crate::core::Core) -> bool {
    core.config.replicaof = None;
    let Some(link) = core.replica.take() else {
        return false;
    };
    let id = crate::core::new_run_id(&mut core.rng);
    let stream = &mut core.propagator.repl;
    if !stream.active() {
        let size = core.config.repl_backlog_size as usize;
        stream.follow(&link.master_replid, link.processed(), size);
    }
    stream.proxy = false;
    stream.shift_replid(id);
    core.is_replica = false;
    crate::db::set_replica_expiry(false);
    log::info!(
        "Setting secondary replication ID to {}, valid up to offset: {}. New replication ID is {}",
        stream.replid2,
        stream.second_offset,
        stream.replid
    );
    // The loop deregisters the dropped link's socket when it sees no link
    // (`replica_io`); here it is closed by drop.
    drop(link);
    true
}

/// The client as the replication log lines name it.
fn client_who(ctx: &Ctx<'_>) -> String {
    format!(
        "id={} addr={} laddr={} fd={} name={}",
        ctx.client.id,
        ctx.client.addr,
        ctx.client.laddr,
        ctx.client.fd,
        String::from_utf8_lossy(ctx.client.name.as_deref().unwrap_or_default())
    )
}

/// `REPLICAOF host port` / `REPLICAOF NO ONE` (and `SLAVEOF`).
pub fn replicaof(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let who = client_who(ctx);
    if ctx.server().propagator.repl.failover.state != FailoverState::None {
        return Err(CmdError::Static(
            "ERR REPLICAOF not allowed while failing over.",
        ));
    }
    if is(args.get(1), "no") && is(args.get(2), "one") {
        let core = ctx.server_mut();
        if unset_master(core) {
            log::info!("MASTER MODE enabled (user request from '{who}')");
        }
        ctx.reply.ok();
        return Ok(());
    }
    if ctx.client.has(Flags::MASTER) {
        return Err(CmdError::Static(
            "ERR Command is not valid when client is a replica.",
        ));
    }
    let port = parse_i64(args.get(2))
        .filter(|p| (0..=65535).contains(p))
        .ok_or(CmdError::Static("ERR Invalid master port"))?;
    let host = String::from_utf8_lossy(args.get(1)).into_owned();
    let core = ctx.server_mut();
    if let Some(l) = core.replica.as_ref() {
        if l.host.eq_ignore_ascii_case(&host) && l.port == port as u16 {
            log::info!("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
            ctx.reply.simple("OK Already connected to specified master");
            return Ok(());
        }
    }
    set_master(core, &mut Default::default(), host.clone(), port as u16);
    log::info!("REPLICAOF {host}:{port} enabled (user request from '{who}')");
    ctx.reply.ok();
    Ok(())
}

/// `FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms]`: a coordinated
/// hand-over to a replica (Redis 7.0's `failoverCommand`). Writes are held
/// until the target has the whole stream; then this server follows it and
/// its PSYNC asks it to become the master. The loop drives the steps
/// (`Server::failover_step`).
pub fn failover(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() == 2 && is(args.get(1), "abort") {
        if ctx.server().propagator.repl.failover.state == FailoverState::None {
            return Err(CmdError::Static("ERR No failover in progress."));
        }
        abort_failover(ctx.server_mut(), "Failover manually aborted");
        ctx.reply.ok();
        return Ok(());
    }
    let not_int = CmdError::Static("ERR value is not an integer or out of range");
    let (mut timeout, mut force, mut target) = (0i64, false, None);
    let mut j = 1;
    while j < args.len() {
        let a = args.get(j);
        if is(a, "timeout") && j + 1 < args.len() && timeout == 0 {
            timeout = parse_i64(args.get(j + 1)).ok_or(not_int.clone())?;
            if timeout <= 0 {
                return Err(CmdError::Static(
                    "ERR FAILOVER timeout must be greater than 0",
                ));
            }
            j += 1;
        } else if is(a, "to") && j + 2 < args.len() && target.is_none() {
            let port = parse_i64(args.get(j + 2)).ok_or(not_int.clone())?;
            target = Some((String::from_utf8_lossy(args.get(j + 1)).into_owned(), port));
            j += 2;
        } else if is(a, "force") && !force {
            force = true;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let core = ctx.server();
    if core.propagator.repl.failover.state != FailoverState::None {
        return Err(CmdError::Static("ERR FAILOVER already in progress."));
    }
    if core.is_replica {
        return Err(CmdError::Static(
            "ERR FAILOVER is not valid when server is a replica.",
        ));
    }
    if !ctx.clients().iter().any(|c| c.state.has(Flags::REPLICA)) {
        return Err(CmdError::Static(
            "ERR FAILOVER requires connected replicas.",
        ));
    }
    if force && (timeout == 0 || target.is_none()) {
        return Err(CmdError::Static(
            "ERR FAILOVER with force option requires both a timeout and target HOST and IP.",
        ));
    }
    let target = match target {
        Some((host, port)) => {
            let found = master::replicas(ctx.clients())
                .find(|r| r.ip.eq_ignore_ascii_case(&host) && i64::from(r.port) == port);
            match found {
                None => {
                    return Err(CmdError::Static(
                        "ERR FAILOVER target HOST and PORT is not a replica.",
                    ))
                }
                Some(r) if r.state != "online" => {
                    return Err(CmdError::Static(
                        "ERR FAILOVER target replica is not online.",
                    ))
                }
                Some(r) => {
                    log::info!("FAILOVER requested to {host}:{port}.");
                    Some((host, r.port))
                }
            }
        }
        None => {
            log::info!("FAILOVER requested to any replica.");
            None
        }
    };
    let now = ctx.now_ms;
    let core = ctx.server_mut();
    core.propagator.repl.failover = Failover {
        state: FailoverState::WaitForSync,
        target,
        end_ms: if timeout > 0 { now + timeout } else { 0 },
        force,
        rejected: false,
    };
    core.ops.pause.set_failover(true);
    ctx.reply.ok();
    Ok(())
}

/// Ends a FAILOVER without handing over (Redis's `abortFailover`): a
/// server already following the target is a master again.
pub fn abort_failover(core: &mut crate::core::Core, why: &str) {
    let f = &core.propagator.repl.failover;
    if f.state == FailoverState::None {
        return;
    }
    match &f.target {
        Some((h, p)) => log::info!("FAILOVER to {h}:{p} aborted: {why}"),
        None => log::info!("FAILOVER to any replica aborted: {why}"),
    }
    if f.state == FailoverState::InProgress {
        unset_master(core);
    }
    clear_failover(core);
}

/// The FAILOVER is over: writes flow again (Redis's `clearFailoverState`).
pub fn clear_failover(core: &mut crate::core::Core) {
    core.propagator.repl.failover = Failover::default();
    core.ops.pause.set_failover(false);
}

/// The FAILOVER's next step, run by the loop after each tick's commands
/// and acknowledgements (Redis's `updateFailoverStatus`): give up or force
/// at the timeout, else hand over once the target acknowledged the whole
/// stream.
pub fn failover_step(core: &mut crate::core::Core, clients: &mut crate::client::Clients, now: i64) {
    if core.propagator.repl.failover.state != FailoverState::WaitForSync {
        return;
    }
    let f = core.propagator.repl.failover.clone();
    if f.end_ms != 0 && f.end_ms <= now {
        if f.force {
            if let Some((host, port)) = f.target {
                log::info!("FAILOVER to {host}:{port} time out exceeded, failing over.");
                core.propagator.repl.failover.state = FailoverState::InProgress;
                set_master(core, clients, host, port);
            }
        } else {
            abort_failover(core, "Replica never caught up before timeout");
        }
        return;
    }
    let offset = core.propagator.repl.offset;
    let caught_up = match &f.target {
        Some((host, port)) => master::replicas(clients)
            .find(|r| r.ip.eq_ignore_ascii_case(host) && r.port == *port)
            .is_some_and(|r| r.offset == offset),
        None => match master::replicas(clients).find(|r| r.offset == offset) {
            Some(r) => {
                core.propagator.repl.failover.target = Some((r.ip, r.port));
                true
            }
            None => false,
        },
    };
    if caught_up {
        if let Some((host, port)) = core.propagator.repl.failover.target.clone() {
            core.propagator.repl.failover.state = FailoverState::InProgress;
            log::info!("Failover target {host}:{port} is synced, failing over.");
            set_master(core, clients, host, port);
        }
    }
}
