//! The server: one `mio::Poll` loop that owns every socket and the whole
//! keyspace.
//!
//! A tick, in order (this order is the durability contract):
//! 1. `poll`, with a timeout equal to the time left to the next cron tick
//!    (zero when a client still has work from the last tick).
//! 2. Accept new clients; note which clients are readable or writable.
//! 3. For each client with input: read (bounded per tick), parse and
//!    process commands (`commands::process_command`). What they change is
//!    propagated to the AOF buffer; replies go to the client's reply
//!    buffer. Never to the socket.
//! 4. Cron, when due: active expiry, timeouts, the AOF's everysec fsync.
//! 5. `before_sleep`: the fast expiry cycle (its DELs feed the AOF), ONE
//!    write(2) of the AOF buffer (and fdatasync under `always`), THEN the
//!    replies of clients whose writes are now in the file, then closes.
//!
//! Invariant: a reply leaves only in `flush_replies`, which runs after
//! `Aof::flush`, and only for clients whose `needs_aof` offset is durable.
//! Invariant: per tick a client gets at most `READ_BUDGET` bytes read and
//! `COMMAND_BUDGET` commands run; leftovers are kept for the next tick, so
//! one pipelining client cannot starve the others.
//!
//! This file has the loop itself (`run`, `before_sleep`, signals,
//! shutdown); `start` builds the server and replays the AOF, `accept` takes
//! new connections, `clients` runs a client's share of the tick and writes
//! replies, `cron` has the timers.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::aof::Aof;
use crate::blocked::{BlockReason, BlockRequest};
use crate::client::{fmt_addr, Client, ClientState, Clients, CloseReason, Flags, Stream};
use crate::commands::{self, CommandTable, Exec, Outcome, Redaction};
use crate::config::Config;
use crate::core::{new_run_id, Core, ShutdownReason, ShutdownRequest, Stats};
use crate::db::expire::{active_expire_cycle, CycleKind, ExpireState};
use crate::db::Db;
use crate::error::CmdError;
use crate::lazyfree::LazyFree;
use crate::listeners::{ListenError, Listeners, UNIX_TOKEN};
use crate::resp::parser::{Limits, READ_CHUNK};
use crate::resp::{Parser, Reply};
use crate::signals::SignalPipe;
use crate::util::rand::Rng;
use crate::util::time::unix_ms;

mod accept;
mod clients;
mod cron;
mod replica;
mod start;

pub use start::StartError;

const SIGNAL_TOKEN: Token = Token(40);
const WAKER_TOKEN: Token = Token(41);

/// Input bytes read per client per tick.
pub const READ_BUDGET: usize = 64 * 1024;
/// Input bytes per tick while a big bulk streams in.
pub const BIG_READ_BUDGET: usize = 4 * 1024 * 1024;
/// Commands run per client per tick.
pub const COMMAND_BUDGET: usize = 1024;
/// A client whose pending output passes this yields to the others for the
/// rest of the tick (its replies are written at the end of the tick, and it
/// goes on next tick). It is never parked: a client that writes its whole
/// pipeline before reading must still be read, or both sides would wait
/// forever. Its output is bounded by `client-output-buffer-limit`, as in
/// Redis.
pub const OUTPUT_YIELD: usize = 1024 * 1024;
/// Drained reply buffers kept for reuse (`Server::reply_pool`).
const REPLY_POOL_MAX: usize = 64;
/// Reply buffers larger than this are not kept for reuse.
const REPLY_POOL_BUF_MAX: usize = 64 * 1024;
/// `trim_memory` runs at most this often (or, after trims that gave little
/// back, at most `TRIM_INTERVAL_MAX`)...
const TRIM_INTERVAL: Duration = Duration::from_secs(10);
const TRIM_INTERVAL_MAX: Duration = Duration::from_secs(600);
/// ...and only when RSS exceeds used memory by 50% and by this much.
const TRIM_MIN_EXCESS: usize = 16 * 1024 * 1024;
/// Connections accepted per listener per tick.
const MAX_ACCEPTS: usize = 1000;

/// The server.
pub struct Server {
    poll: Poll,
    clients: Clients,
    dbs: Vec<Db>,
    core: Core,
    redaction: Redaction,
    /// Clients to process this tick.
    work: Vec<Token>,
    /// Clients with work left over for the next tick.
    pending: Vec<Token>,
    /// Clients with replies to write.
    writes: Vec<Token>,
    /// The query buffer lent to a client with nothing buffered while it
    /// reads; it comes back when the client has parsed everything it read,
    /// so only clients holding a partial command own a query buffer.
    spare_query: Vec<u8>,
    /// Drained reply buffers, lent to clients that run commands and given
    /// back once their replies are written: an idle client holds none.
    reply_pool: Vec<Vec<u8>>,
    /// Inside `serve_ready_keys` (it does not nest).
    serving: bool,
    /// When `trim_memory` last looked, and how long it waits between looks.
    last_trim: Instant,
    trim_interval: Duration,
    signals: SignalPipe,
    /// Listeners to accept from again next tick (budget ran out).
    accept_retry: Vec<Token>,
    /// Listeners to accept from again at the next cron (accept failed).
    accept_retry_cron: Vec<Token>,
    _waker: Arc<Waker>,
    next_cron: Instant,
    cron_count: u64,
}

impl Server {
    /// Runs until shutdown. Returns the exit code.
    pub fn run(mut self) -> i32 {
        let mut events = Events::with_capacity(1024);
        log::info!("Ready to accept connections");
        crate::aof::failpoint::arm();
        crate::service::ready();
        loop {
            // Clients left in `writes` wait for a WRITABLE event or for the
            // AOF (woken by the fsync thread or the cron), not for a timeout.
            let timeout = if !self.pending.is_empty()
                || !self.accept_retry.is_empty()
                || self.core.evict.proc_running
            {
                Duration::ZERO
            } else {
                let cron = self.next_cron.saturating_duration_since(Instant::now());
                // Wake when a CLIENT PAUSE ends or a parked client's
                // deadline passes, not at the next cron.
                let wake = [
                    self.core.ops.pause.end_ms(),
                    self.core.blocked.next_deadline(),
                ]
                .into_iter()
                .flatten()
                .min();
                match wake {
                    Some(at) => cron.min(Duration::from_millis(
                        at.saturating_sub(unix_ms()).saturating_add(1).max(0) as u64,
                    )),
                    None => cron,
                }
            };
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    log::warn!("poll failed: {e}");
                }
            }
            self.core.clock.refresh();
            // Clients whose wait ended go first, ahead of this tick's new
            // input, so no newer command overtakes a held one.
            self.release_parked();
            std::mem::swap(&mut self.work, &mut self.pending);
            for token in std::mem::take(&mut self.accept_retry) {
                self.accept(token);
            }
            for ev in events.iter() {
                let token = ev.token();
                if token == SIGNAL_TOKEN {
                    self.handle_signals();
                } else if token == replica::MASTER_TOKEN {
                    if let Some(l) = self.core.replica.as_mut() {
                        l.ready = true;
                    }
                } else if token == WAKER_TOKEN {
                    // The fsync thread finished a job: before_sleep retries a
                    // postponed write.
                } else if self.core.listeners.is_listener(token) {
                    self.accept(token);
                } else if let Some(c) = self.clients.get_mut(token) {
                    if ev.is_read_closed() || ev.is_error() {
                        c.state.flags.set(Flags::READ_CLOSED, true);
                    }
                    if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                        c.state.flags.set(Flags::READABLE, true);
                        if !c.state.has(Flags::QUEUED) {
                            c.state.flags.set(Flags::QUEUED, true);
                            self.work.push(token);
                        }
                    }
                    if ev.is_writable() {
                        c.state.flags.set(Flags::WRITABLE, true);
                        if !c.reply.is_empty() && !c.state.has(Flags::PENDING_WRITE) {
                            c.state.flags.set(Flags::PENDING_WRITE, true);
                            self.writes.push(token);
                        }
                    }
                }
            }
            let work = std::mem::take(&mut self.work);
            for &token in &work {
                if self.core.shutdown.is_some() {
                    // Nothing runs after SHUTDOWN, in any client.
                    break;
                }
                self.process_client(token);
            }
            self.work = work;
            self.work.clear();
            // The master's stream, and a link REPLICAOF just asked for.
            if self
                .core
                .replica
                .as_ref()
                .is_some_and(|l| l.ready || l.connect_now)
            {
                self.replica_io();
            }
            if self.core.evict.proc_running {
                // An eviction ran out of time: go on with it between
                // clients' commands (Redis's evictionTimeProc).
                crate::evict::time_proc(&mut self.dbs, &mut self.core);
            }
            if Instant::now() >= self.next_cron {
                self.cron();
            }
            self.before_sleep();
            if let Some(req) = self.core.shutdown {
                if self.prepare_shutdown(req) {
                    return self.finish(req);
                }
            }
        }
    }

    fn handle_signals(&mut self) {
        on_signals(self.signals.drain(), &mut self.core);
    }

    /// Ends an expired CLIENT PAUSE and queues the clients whose wait is
    /// over, in the order they were parked: released by the pause's end, or
    /// past their deadline (a blocking command processed again after its
    /// deadline gives its timeout reply).
    fn release_parked(&mut self) {
        self.check_pause_end();
        for (t, req) in self.core.blocked.timed_out(unix_ms()) {
            self.forget_waits(t, &req);
            self.unblock(t);
        }
        // Clients a command let go (CLIENT UNBLOCK) run again.
        for t in self.clients.take_resumed() {
            self.unblock(t);
        }
    }

    /// The end of the tick: expiry, AOF write, replies, closes.
    fn before_sleep(&mut self) {
        // A FAILOVER moves on once this tick's ACKs are in.
        crate::commands::repl::failover_step(&mut self.core, &mut self.clients, unix_ms());
        if std::mem::take(&mut self.core.propagator.repl.unblock_all) {
            self.disconnect_blocked_clients();
        }
        self.release_parked();
        // Under CLIENT PAUSE WRITE the dataset must not change: no expiry.
        // A replica expires nothing itself: the master's DELs do.
        if !self.core.loading && !self.core.ops.pause.writes_paused() && !self.core.is_replica {
            let now = unix_ms();
            let (effort, hz) = (self.core.config.active_expire_effort, self.core.config.hz);
            active_expire_cycle(
                &mut self.dbs,
                &mut self.core.expire,
                CycleKind::Fast,
                now,
                effort,
                hz,
            );
            self.feed_expired();
        }
        // 1. The AOF: one write of everything this tick changed; then a
        // rewrite may switch files and fork (the buffer is empty now).
        self.core.aof.flush(false);
        self.record_aof_latency();
        let Core {
            aof,
            config,
            scripting,
            ..
        } = &mut self.core;
        aof.rewrite_step(&self.dbs, config, &scripting.functions);
        // Keyspace notifications raised between commands (active expiry,
        // eviction's time proc) reach their subscribers.
        if crate::pubsub::has_queued() {
            let core = &mut self.core;
            let mut out = crate::pubsub::Fanout {
                clients: &mut self.clients,
                own: None,
                limits: &core.config.client_output_buffer_limit,
                disconnections: &mut core.stats.client_outbuf_limit_disconnections,
            };
            core.pubsub.drain_notifications(&mut out, None);
        }
        // Client-side caching: invalidations raised between commands, and
        // the BCAST prefixes' batched keys.
        if crate::tracking::active() {
            let mut out = crate::tracking::Out {
                clients: &mut self.clients,
                own: None,
            };
            if crate::tracking::has_pending() {
                self.core.tracking.drain(&mut out);
            }
            self.core.tracking.broadcast(&mut out);
        }
        // A BGSAVE asked for, scheduled or due (save points) forks here,
        // and a finished one is reaped.
        let now = self.core.clock.tick_ms();
        crate::rdb::save::cron(&mut self.core, &self.dbs, now);
        // Replicas waiting for a full sync get their snapshot child, and a
        // finished one's replicas go online (before this tick's stream is
        // fed, so that they get it).
        crate::repl::sync::cron(&mut self.core, &self.dbs, &mut self.clients, now);
        // The replication stream of this tick goes to the replicas (their
        // output, written below like replies); WAITs that got their
        // acknowledgements run again.
        crate::repl::master::feed_replicas(&mut self.core.propagator.repl, &mut self.clients);
        if std::mem::take(&mut self.core.propagator.repl.acks_arrived) {
            for (t, req) in self.core.blocked.release(crate::blocked::BlockReason::Wait) {
                self.forget_waits(t, &req);
                self.unblock(t);
            }
        }
        // 2. Only now the replies (MONITOR lines included).
        for t in self.clients.take_flush() {
            if let Some(c) = self.clients.get_mut(t) {
                if !c.state.has(Flags::PENDING_WRITE) {
                    c.state.flags.set(Flags::PENDING_WRITE, true);
                    self.writes.push(t);
                }
            }
        }
        self.flush_replies();
    }

    /// Hands the AOF's write and fsync durations to the latency monitor.
    fn record_aof_latency(&mut self) {
        let threshold = self.core.config.latency_monitor_threshold;
        for (event, ms) in self.core.aof.timings.drain(..) {
            self.core.ops.latency.add_if_needed(threshold, event, ms);
        }
    }

    /// Writes `DEL`s for keys the expiry cycles removed.
    fn feed_expired(&mut self) {
        let Core {
            aof, propagator, ..
        } = &mut self.core;
        for (i, db) in self.dbs.iter_mut().enumerate() {
            if !db.expired.is_empty() {
                for key in db.take_expired() {
                    propagator.propagate_del(aof, i, &key);
                }
            }
        }
    }

    /// What must succeed before exiting (Redis's `prepareForShutdown`):
    /// children stop, and the final RDB snapshot is saved when save points
    /// are set (or SHUTDOWN SAVE) unless NOSAVE. When that save fails and
    /// FORCE was not given, the shutdown is called off: the server goes on
    /// and the client that sent SHUTDOWN gets an error. Returns whether to
    /// go on and exit.
    fn prepare_shutdown(&mut self, req: ShutdownRequest) -> bool {
        log::warn!("User requested shutdown...");
        if self.core.rdb.child_running() {
            log::warn!("There is a child saving an .rdb. Killing it!");
            self.core.rdb.kill_child();
        }
        crate::repl::sync::kill(&mut self.core);
        let save = req.save.unwrap_or(!self.core.config.save.is_empty());
        if !save {
            return true;
        }
        log::info!("Saving the final RDB snapshot before exiting.");
        let path = crate::rdb::save::rdb_path(&self.core.config);
        let opts = crate::rdb::save::save_options(&self.core);
        let dbs: Vec<&crate::db::Db> = self.dbs.iter().collect();
        match crate::rdb::save::save_foreground(&dbs, &path, &opts) {
            Ok(()) => true,
            Err(e) => {
                log::warn!("{e}");
                log::warn!("Error trying to save the DB, can't exit.");
                if req.force {
                    return true;
                }
                log::warn!(
                    "Errors trying to shut down the server. Check the logs for more information."
                );
                self.core.shutdown = None;
                let caller = self
                    .clients
                    .iter()
                    .find(|c| Some(c.state.id) == req.client)
                    .map(|c| c.token);
                if let Some(t) = caller {
                    if let Some(c) = self.clients.get_mut(t) {
                        c.reply.error(&crate::error::CmdError::Static(
                            "ERR Errors trying to SHUTDOWN. Check logs.",
                        ));
                    }
                    self.clients.queue_flush(t);
                    for t in self.clients.take_flush() {
                        self.writes.push(t);
                    }
                    self.flush_replies();
                }
                false
            }
        }
    }

    /// Clean shutdown: stop accepting, make the AOF durable, exit.
    fn finish(mut self, _req: ShutdownRequest) -> i32 {
        crate::service::stopping();
        self.core.listeners.close();
        if self.core.aof.enabled() {
            log::info!("Calling fsync() on the AOF file.");
        }
        let Core {
            aof,
            config,
            scripting,
            ..
        } = &mut self.core;
        if let Err(e) = aof.shutdown(&self.dbs, config, &scripting.functions) {
            log::warn!("Error writing the AOF on shutdown: {e}. Exiting with an error.");
            return 1;
        }
        // Best effort: send what is already written and durable.
        self.flush_replies();
        crate::service::remove_pidfile();
        log::warn!("GoStore is now ready to exit, bye bye...");
        0
    }
}

enum Ran {
    /// The buffer holds no complete command.
    NeedInput,
    /// The per-tick command or output budget ran out; resume next tick.
    Budget,
    /// The client is closing.
    Stop,
}

/// Signals received: SIGTERM and SIGINT schedule a shutdown, SIGHUP reopens
/// the log file (the loop, and a load serving clients: `crate::loading`).
pub(crate) fn on_signals(sigs: Vec<i32>, core: &mut Core) {
    for sig in sigs {
        let reason = match sig {
            libc::SIGTERM => ShutdownReason::Sigterm,
            libc::SIGINT => ShutdownReason::Sigint,
            libc::SIGHUP => {
                crate::service::reopen_logs();
                continue;
            }
            _ => continue,
        };
        if core.shutdown.is_some() {
            log::warn!(
                "Received {} while already shutting down, finishing the shutdown.",
                if sig == libc::SIGINT {
                    "SIGINT"
                } else {
                    "SIGTERM"
                }
            );
            continue;
        }
        log::warn!(
            "Received {} scheduling shutdown...",
            if sig == libc::SIGINT {
                "SIGINT"
            } else {
                "SIGTERM"
            }
        );
        let mut req = ShutdownRequest::signal(reason);
        if core.load.is_some() {
            // The dataset is partial: never saved over a good snapshot
            // (Redis's prepareForShutdown while loading).
            req.save = Some(false);
        }
        core.shutdown = Some(req);
    }
}
