//! The server: one `mio::Poll` loop that owns every socket and the whole
//! keyspace.
//!
//! A tick, in order (this order is the durability contract):
//! 1. `poll`, with a timeout equal to the time left to the next cron tick
//!    (zero when a client still has work from the last tick).
//! 2. Accept new clients; note which clients are readable or writable.
//! 3. For each client with input: read (bounded per tick), parse and execute
//!    commands. Write commands append to the AOF buffer; replies go to the
//!    client's reply buffer. Never to the socket.
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

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::aof::{loader, Aof};
use crate::client::{fmt_addr, Client, ClientState, Clients, CloseReason, Stream};
use crate::commands::{self, CommandTable, Exec, Propagation};
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
/// `trim_memory` runs at most this often...
const TRIM_INTERVAL: Duration = Duration::from_secs(10);
/// ...and only when RSS exceeds used memory by 50% and by this much.
const TRIM_MIN_EXCESS: usize = 16 * 1024 * 1024;
/// Connections accepted per listener per tick.
const MAX_ACCEPTS: usize = 1000;

/// Start-up failures.
#[derive(Debug)]
pub enum StartError {
    /// Listening failed.
    Listen(ListenError),
    /// The AOF could not be loaded or opened.
    Aof(crate::aof::AofError),
    /// An OS resource could not be created.
    Io(String, io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Listen(e) => write!(f, "{e}"),
            StartError::Aof(e) => write!(f, "{e}"),
            StartError::Io(what, e) => write!(f, "{what}: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// The server.
pub struct Server {
    poll: Poll,
    clients: Clients,
    dbs: Vec<Db>,
    core: Core,
    prop: Propagation,
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
    /// When `malloc_trim` last ran (cron, `trim_memory`).
    last_trim: Instant,
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
    /// Binds, loads the AOF, and returns a server ready to `run`.
    pub fn new(config: Config, config_file: Option<PathBuf>) -> Result<Server, StartError> {
        let poll =
            Poll::new().map_err(|e| StartError::Io("Can't create the event loop".into(), e))?;
        let registry = poll
            .registry()
            .try_clone()
            .map_err(|e| StartError::Io("Can't clone the poll registry".into(), e))?;
        let waker = Arc::new(
            Waker::new(poll.registry(), WAKER_TOKEN)
                .map_err(|e| StartError::Io("Can't create the loop waker".into(), e))?,
        );
        let signals = SignalPipe::install()
            .map_err(|e| StartError::Io("Can't install signal handlers".into(), e))?;
        poll.registry()
            .register(
                &mut SourceFd(&signals.fd()),
                SIGNAL_TOKEN,
                Interest::READABLE,
            )
            .map_err(|e| StartError::Io("Can't watch the signal pipe".into(), e))?;

        // Bind before loading: a port conflict fails fast, and clients that
        // connect while the AOF loads wait in the backlog until we accept.
        let listeners = Listeners::bind(&config, registry).map_err(StartError::Listen)?;
        let mut config = config;
        crate::service::listening(&mut config);
        let mut rng = Rng::from_entropy();
        crate::util::hash::set_seed(rng.next_u64());
        let dbs: Vec<Db> = (0..config.databases).map(|_| Db::new()).collect();
        let lazyfree = LazyFree::start()
            .map_err(|e| StartError::Io("Can't start the lazyfree thread".into(), e))?;
        let started_ms = unix_ms();
        let run_id = new_run_id(&mut rng);
        let wake_loop = Arc::clone(&waker);
        let core = Core {
            aof: Aof::new(
                &config,
                Arc::new(move || {
                    let _ = wake_loop.wake();
                }),
            ),
            config,
            config_file,
            stats: Stats::default(),
            commands: CommandTable::new(),
            rng,
            expire: ExpireState::default(),
            lazyfree,
            listeners,
            started: Instant::now(),
            started_ms,
            run_id,
            next_client_id: 0,
            dirty: 0,
            lastsave: started_ms / 1000,
            shutdown: None,
            loading: false,
            peak_memory: 0,
            clock: Default::default(),
            ops: Default::default(),
            evict: crate::evict::Evictor::new(),
        };
        let mut server = Server {
            poll,
            clients: Clients::default(),
            dbs,
            core,
            prop: Propagation::default(),
            work: Vec::new(),
            pending: Vec::new(),
            writes: Vec::new(),
            spare_query: Vec::new(),
            reply_pool: Vec::new(),
            last_trim: Instant::now(),
            signals,
            accept_retry: Vec::new(),
            accept_retry_cron: Vec::new(),
            _waker: Arc::clone(&waker),
            next_cron: Instant::now(),
            cron_count: 0,
        };
        let Core {
            commands, config, ..
        } = &mut server.core;
        commands.apply_renames(&config.renames);
        // Keys loaded from the AOF get LFU counters if an LFU policy is set.
        crate::evict::apply_config(&server.core.config);
        let maxmemory = server.core.config.maxmemory;
        if maxmemory > 0 && maxmemory < 1024 * 1024 {
            log::warn!("WARNING: You specified a maxmemory value that is less than 1MB (current value is {maxmemory} bytes). Are you sure this is what you really want?");
        }
        crate::memory::mark_startup();
        if server.core.config.appendonly {
            server.load_aof()?;
        } else {
            // Kept for BGREWRITEAOF and CONFIG SET appendonly yes, as Redis.
            server.core.aof.read_manifest().map_err(StartError::Aof)?;
        }
        Ok(server)
    }

    /// Replays the AOF, then opens it for appending.
    fn load_aof(&mut self) -> Result<(), StartError> {
        let files = self.core.aof.open().map_err(StartError::Aof)?;
        if !files.is_empty() {
            let started = Instant::now();
            self.core.loading = true;
            let mut fake = ClientState::new(
                0,
                "aof-loader".into(),
                String::new(),
                -1,
                false,
                unix_ms(),
                true,
            );
            let mut reply = Reply::new();
            let Server {
                dbs,
                core,
                clients,
                prop,
                ..
            } = self;
            let total = files
                .iter()
                .filter_map(|f| std::fs::metadata(f).ok())
                .map(|m| m.len())
                .sum();
            let mut progress = crate::service::LoadProgress::new(total);
            let manifest = core.aof.manifest_path();
            let truncate_ok = core.config.aof_load_truncated;
            let stats = loader::load(&files, &manifest, truncate_ok, &mut |args| {
                progress.command(args.total_bytes() + 16 * args.len());
                let Some(id) = core.commands.lookup_original(args.get(0)) else {
                    return Err(format!(
                        "Unknown command '{}'",
                        String::from_utf8_lossy(args.get(0))
                    ));
                };
                let spec = core.commands.spec(id);
                if !spec.arity_ok(args.len()) && spec.subcommands.is_empty() {
                    return Err(format!("Wrong number of arguments for '{}'", spec.fullname));
                }
                let mut x = Exec {
                    dbs,
                    client: &mut fake,
                    reply: &mut reply,
                    clients,
                    core,
                    prop,
                };
                commands::execute(&mut x, args);
                reply.discard();
                Ok(())
            })
            .map_err(StartError::Aof)?;
            self.core.loading = false;
            log::info!(
                "DB loaded from append only file: {:.3} seconds ({} commands, {} bytes{})",
                started.elapsed().as_secs_f64(),
                stats.commands,
                stats.bytes,
                if stats.truncated {
                    ", truncated tail removed"
                } else {
                    ""
                }
            );
            // Replay must not count as fresh changes.
            self.core.dirty = 0;
            self.core.stats = Stats::default();
            self.core.commands.reset_stats();
            for db in &mut self.dbs {
                db.stats = Default::default();
            }
        }
        self.core.aof.start_appending().map_err(StartError::Aof)?;
        Ok(())
    }

    /// Addresses the server listens on (tests, logs).
    pub fn local_addrs(&self) -> Vec<std::net::SocketAddr> {
        self.core.listeners.addrs()
    }

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
                // Wake when a CLIENT PAUSE ends, not at the next cron.
                match self.core.ops.pause.end_ms() {
                    Some(end) => cron.min(Duration::from_millis(
                        end.saturating_sub(unix_ms()).saturating_add(1).max(0) as u64,
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
            std::mem::swap(&mut self.work, &mut self.pending);
            for token in std::mem::take(&mut self.accept_retry) {
                self.accept(token);
            }
            for ev in events.iter() {
                let token = ev.token();
                if token == SIGNAL_TOKEN {
                    self.handle_signals();
                } else if token == WAKER_TOKEN {
                    // The fsync thread finished a job: before_sleep retries a
                    // postponed write.
                } else if self.core.listeners.is_listener(token) {
                    self.accept(token);
                } else if let Some(c) = self.clients.get_mut(token) {
                    if ev.is_read_closed() || ev.is_error() {
                        c.read_closed = true;
                    }
                    if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                        c.readable = true;
                        if !c.queued {
                            c.queued = true;
                            self.work.push(token);
                        }
                    }
                    if ev.is_writable() {
                        c.writable = true;
                        if !c.reply.is_empty() && !c.write_queued {
                            c.write_queued = true;
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
                return self.finish(req);
            }
        }
    }

    fn handle_signals(&mut self) {
        for sig in self.signals.drain() {
            let reason = match sig {
                libc::SIGTERM => ShutdownReason::Sigterm,
                libc::SIGINT => ShutdownReason::Sigint,
                libc::SIGHUP => {
                    crate::service::reopen_logs();
                    continue;
                }
                _ => continue,
            };
            if self.core.shutdown.is_some() {
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
            self.core.shutdown = Some(ShutdownRequest { reason });
        }
    }

    fn accept(&mut self, token: Token) {
        for _ in 0..MAX_ACCEPTS {
            let accepted = if token == UNIX_TOKEN {
                match self.core.listeners.unix().map(|l| l.accept()) {
                    Some(Ok((s, _))) => {
                        let path = self
                            .core
                            .listeners
                            .unix_path()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default();
                        Ok((
                            Stream::Unix(s),
                            format!("{path}:0"),
                            format!("{path}:0"),
                            true,
                        ))
                    }
                    Some(Err(e)) => Err(e),
                    None => return,
                }
            } else {
                match self.core.listeners.tcp(token).map(|l| l.accept()) {
                    Some(Ok((s, peer))) => {
                        let local = s.local_addr().map(|a| fmt_addr(&a)).unwrap_or_default();
                        self.tune_tcp(&s);
                        if crate::limits::protected_mode_refuses(
                            self.core.config.protected_mode,
                            &self.core.config.requirepass,
                            peer.ip(),
                        ) {
                            self.refuse(Stream::Tcp(s), PROTECTED_MODE_MSG);
                            continue;
                        }
                        Ok((Stream::Tcp(s), fmt_addr(&peer), local, false))
                    }
                    Some(Err(e)) => Err(e),
                    None => return,
                }
            };
            match accepted {
                Ok((stream, addr, laddr, unix)) => self.add_client(stream, addr, laddr, unix),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // EMFILE and friends. The listener is edge-triggered: no
                    // new event comes for the connections still queued, so
                    // retry from the cron, once descriptors may be free.
                    log::warn!("Accepting client connection: {e}");
                    if !self.accept_retry_cron.contains(&token) {
                        self.accept_retry_cron.push(token);
                    }
                    return;
                }
            }
        }
        // The budget ran out with connections perhaps still queued: go on
        // next tick (no new edge would come for them).
        if !self.accept_retry.contains(&token) {
            self.accept_retry.push(token);
        }
    }

    fn tune_tcp(&self, s: &TcpStream) {
        let _ = s.set_nodelay(true);
        let sock = socket2::SockRef::from(s);
        let ka = self.core.config.tcp_keepalive;
        if ka > 0 {
            // Redis's anetKeepAlive: idle = interval, probes every
            // interval/3, dropped after 3 unanswered probes.
            let params = socket2::TcpKeepalive::new()
                .with_time(Duration::from_secs(ka))
                .with_interval(Duration::from_secs((ka / 3).max(1)))
                .with_retries(3);
            let _ = sock.set_tcp_keepalive(&params);
        }
    }

    /// Writes an error to a connection we do not keep, and closes it.
    /// Sends `err` as an error reply to a connection refused before it
    /// became a client (protected mode, maxclients), then drops it.
    fn refuse(&mut self, mut stream: Stream, err: &str) {
        self.core.stats.rejected_connections += 1;
        let mut out = Vec::with_capacity(err.len() + 3);
        crate::resp::encode::error(&mut out, &err);
        let _ = stream.write(&out);
    }

    fn add_client(&mut self, stream: Stream, addr: String, laddr: String, unix: bool) {
        if self.clients.len() >= self.core.config.maxclients as usize {
            self.refuse(stream, "ERR max number of clients reached");
            return;
        }
        self.core.stats.total_connections_received += 1;
        let token = self.clients.next_token();
        let mut stream = stream;
        if let Err(e) = self.poll.registry().register(
            stream.source(),
            token,
            Interest::READABLE | Interest::WRITABLE,
        ) {
            log::warn!("Can't register client {addr}: {e}");
            return;
        }
        let id = self.core.new_client_id();
        let fd = stream.fd();
        let authenticated = self.core.config.requirepass.is_empty();
        let mut state = ClientState::new(id, addr, laddr, fd, unix, unix_ms(), authenticated);
        state.token = token;
        log::debug!("Accepted {}", state.addr);
        let mut reply = Reply::new();
        reply.set_cap(
            self.core
                .config
                .client_output_buffer_limit
                .for_client(false)
                .hard_cap(),
        );
        let client = Client {
            stream,
            token,
            query: Parser::new(),
            reply,
            state,
            readable: true,
            writable: true,
            queued: true,
            write_queued: false,
            read_closed: false,
            closing: None,
        };
        self.clients.insert(Box::new(client));
        // Data may have arrived with the connection: process it this tick.
        self.work.push(token);
    }

    /// Reads, parses and runs commands of one client, within the budgets.
    fn process_client(&mut self, token: Token) {
        let Some(mut c) = self.clients.take(token) else {
            return;
        };
        c.queued = false;
        if c.query.capacity() == 0 {
            c.query.lend_buffer(std::mem::take(&mut self.spare_query));
        }
        if c.reply.capacity() == 0 {
            if let Some(buf) = self.reply_pool.pop() {
                c.reply.lend_buffer(buf);
            }
        }
        let mut read_total = 0usize;
        let mut commands_left = COMMAND_BUDGET;
        // Output this tick may add before the client yields (what it had
        // already does not count: a client that does not read must still
        // have its input processed).
        let output_yield = c.reply.pending_len().saturating_add(OUTPUT_YIELD);
        let mut more = false;
        loop {
            if c.closing.is_some() || c.state.close_after_reply || c.state.close_asap {
                break;
            }
            // Run what the buffer already holds.
            match self.run_commands(&mut c, &mut commands_left, output_yield) {
                Ran::NeedInput => {}
                Ran::Budget => {
                    more = true;
                    break;
                }
                Ran::Stop => break,
            }
            if !c.readable {
                break;
            }
            // Bounded input per tick; more while a big bulk streams in.
            let big = c.query.big_remaining();
            let limit = if big.is_some() {
                BIG_READ_BUDGET
            } else {
                READ_BUDGET
            };
            if read_total >= limit {
                more = true;
                break;
            }
            let want = big.unwrap_or(READ_CHUNK).min(limit - read_total).max(1);
            let target = c.query.read_target(want);
            let asked = target.len();
            self.core.stats.total_reads_processed += 1;
            match c.stream.read(target) {
                Ok(0) => {
                    // The peer will send no more; what it sent still gets
                    // its replies (it may have only shut down its side).
                    c.readable = false;
                    c.state.close_after_reply = true;
                    break;
                }
                Ok(n) => {
                    c.query.commit_read(n);
                    // Any input counts as interaction (a big upload in
                    // progress is not idle), as Redis's readQueryFromClient.
                    c.state.last_interaction_ms = self.core.clock.tick_ms();
                    self.core.stats.net_input_bytes += n as u64;
                    read_total += n;
                    // A short read drained the socket, unless the peer closed
                    // its side: then only a read of 0 bytes tells us so.
                    if n < asked && !c.read_closed {
                        c.readable = false;
                    }
                    if c.query.buffered() as i64 > self.core.config.client_query_buffer_limit {
                        log::warn!("Closing client that reached max query buffer length: id={} addr={} (qbuf={})", c.state.id, c.state.addr, c.query.buffered());
                        self.core.stats.client_qbuf_limit_disconnections += 1;
                        c.closing = Some(CloseReason::QueryBufferLimit);
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    c.readable = false;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log::debug!("Reading from client {}: {e}", c.state.addr);
                    c.closing = Some(CloseReason::IoError);
                    break;
                }
            }
        }
        self.reclaim_buffers(&mut c);
        if c.closing.is_some() || c.state.close_asap {
            self.close_client(c);
            return;
        }
        if (!c.reply.is_empty() || c.state.close_after_reply) && !c.write_queued {
            c.write_queued = true;
            self.writes.push(token);
        }
        if more && !c.queued {
            c.queued = true;
            self.pending.push(token);
        }
        self.clients.put_back(c);
    }

    fn run_commands(&mut self, c: &mut Client, budget: &mut usize, output_yield: usize) -> Ran {
        // Whether this client has an output buffer limit to check after each
        // command (the default normal class has none).
        let limit = self
            .core
            .config
            .client_output_buffer_limit
            .for_client(c.state.monitor);
        let limited = limit.hard != 0 || limit.soft != 0;
        loop {
            if *budget == 0 {
                return Ran::Budget;
            }
            if c.reply.pending_len() > output_yield {
                // Let the others run; its replies go out at the end of the
                // tick and it goes on next tick, reading as usual.
                return Ran::Budget;
            }
            if c.state.close_after_reply || c.state.close_asap || self.core.shutdown.is_some() {
                return Ran::Stop;
            }
            let limits = Limits {
                max_bulk_len: self.core.config.proto_max_bulk_len,
                auth_required: !c.state.authenticated && !self.core.config.requirepass.is_empty(),
                oversize_is_incomplete: false,
            };
            match c.query.next(&limits) {
                Ok(true) => {}
                Ok(false) => return Ran::NeedInput,
                Err(e) => {
                    log::debug!(
                        "Protocol error ({e}) from client: id={} addr={}",
                        c.state.id,
                        c.state.addr
                    );
                    c.reply.error(&CmdError::msg(e.to_string()));
                    self.core.stats.count_error("ERR");
                    c.query.reset();
                    c.state.close_after_reply = true;
                    return Ran::Stop;
                }
            }
            if c.state.postponed {
                return Ran::Stop;
            }
            if self.core.ops.pause.active()
                && crate::pause::must_postpone(&self.core, &c.state, &c.query.args())
            {
                // Held until the pause ends; the command stays parsed.
                c.state.postponed = true;
                self.core.ops.postponed.push(c.token);
                return Ran::Stop;
            }
            *budget -= 1;
            c.state.last_interaction_ms = self.core.clock.tick_ms();
            {
                let Client {
                    query,
                    reply,
                    state,
                    ..
                } = &mut *c;
                let args = query.args();
                let Server {
                    dbs,
                    core,
                    clients,
                    prop,
                    ..
                } = self;
                let mut x = Exec {
                    dbs,
                    client: state,
                    reply,
                    clients,
                    core,
                    prop,
                };
                commands::execute(&mut x, &args);
            }
            c.query.consume();
            if (limited || c.reply.overflowed()) && self.output_limit_reached(c) {
                c.closing = Some(CloseReason::OutputBufferLimit);
                return Ran::Stop;
            }
        }
    }

    /// Redis's `closeClientOnOutputBufferLimitReached`: whether the client's
    /// pending output broke its hard limit, or its soft limit for too long.
    /// Logs and counts the disconnection.
    fn output_limit_reached(&mut self, c: &mut Client) -> bool {
        let overflowed = c.reply.overflowed();
        let limit = self
            .core
            .config
            .client_output_buffer_limit
            .for_client(c.state.monitor);
        if !overflowed && limit.hard == 0 && limit.soft == 0 {
            return false;
        }
        let pending = c.reply.pending_len() as u64;
        if !overflowed && pending == 0 && c.state.obuf_soft_since == 0 {
            return false;
        }
        let now = if limit.soft != 0 { unix_ms() / 1000 } else { 0 };
        if overflowed || limit.reached(pending, now, &mut c.state.obuf_soft_since) {
            crate::limits::log_output_limit_close(c);
            self.core.stats.client_outbuf_limit_disconnections += 1;
            return true;
        }
        false
    }

    /// The end of the tick: expiry, AOF write, replies, closes.
    fn before_sleep(&mut self) {
        self.check_pause_end();
        // Under CLIENT PAUSE WRITE the dataset must not change: no expiry.
        if !self.core.loading && !self.core.ops.pause.writes_paused() {
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
        self.core.aof.rewrite_step(&self.dbs, &self.core.config);
        // 2. Only now the replies (MONITOR lines included).
        for t in self.clients.take_flush() {
            if let Some(c) = self.clients.get_mut(t) {
                if !c.write_queued {
                    c.write_queued = true;
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

    /// Ends an expired CLIENT PAUSE (or one lifted by CLIENT UNPAUSE) and
    /// lets the held clients run their commands.
    fn check_pause_end(&mut self) {
        let ops = &mut self.core.ops;
        if ops.pause.active() {
            ops.pause.expire(unix_ms());
        }
        if ops.pause.active() || ops.postponed.is_empty() {
            return;
        }
        for t in std::mem::take(&mut ops.postponed) {
            if let Some(c) = self.clients.get_mut(t) {
                c.state.postponed = false;
                if !c.queued {
                    c.queued = true;
                    self.pending.push(t);
                }
            }
        }
    }

    /// Writes `DEL`s for keys the expiry cycles removed.
    fn feed_expired(&mut self) {
        for (i, db) in self.dbs.iter_mut().enumerate() {
            if !db.expired.is_empty() {
                for key in db.take_expired() {
                    self.core.aof.feed_del(i, &key);
                }
            }
        }
    }

    fn flush_replies(&mut self) {
        let durable = self.core.aof.durable_offset();
        let writes = std::mem::take(&mut self.writes);
        let mut held = Vec::new();
        for token in writes {
            let Some(c) = self.clients.get_mut(token) else {
                continue;
            };
            c.write_queued = false;
            if c.state.needs_aof > durable && !c.reply.is_empty() {
                // Its write is not in the AOF yet (postponed or failed write).
                c.write_queued = true;
                held.push(token);
                continue;
            }
            let mut failed = false;
            if !c.reply.is_empty() {
                self.core.stats.total_writes_processed += 1;
            }
            let mut wrote = false;
            while !c.reply.is_empty() {
                match c.stream.write(c.reply.pending()) {
                    Ok(0) => {
                        failed = true;
                        break;
                    }
                    Ok(n) => {
                        self.core.stats.net_output_bytes += n as u64;
                        c.reply.advance(n);
                        wrote = true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        c.writable = false;
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => {
                        failed = true;
                        break;
                    }
                }
            }
            if wrote {
                // A client that reads its replies is not idle, however long
                // they take (Redis's writeToClient).
                c.state.last_interaction_ms = self.core.clock.tick_ms();
            }
            if c.reply.is_empty() {
                if let Some(buf) = c.reply.take_buffer() {
                    if self.reply_pool.len() < REPLY_POOL_MAX && buf.capacity() <= REPLY_POOL_BUF_MAX
                    {
                        self.reply_pool.push(buf);
                    }
                }
            }
            if failed {
                c.closing = Some(CloseReason::IoError);
            } else if c.reply.is_empty() && c.state.close_after_reply {
                c.closing = Some(CloseReason::AfterReply);
            } else if !c.reply.is_empty() && c.writable {
                c.write_queued = true;
                held.push(token);
            }
            if c.closing.is_some() {
                if let Some(c) = self.clients.remove(token) {
                    self.drop_client(c);
                }
            }
        }
        self.writes = held;
        self.close_killed();
    }

    fn close_killed(&mut self) {
        for t in self.clients.take_killed() {
            if let Some(c) = self.clients.remove(t) {
                self.drop_client(c);
            }
        }
    }

    fn close_client(&mut self, c: Box<Client>) {
        // `c` was taken out of the slab; put it back so remove() frees its slot.
        let token = c.token;
        self.clients.put_back(c);
        if let Some(c) = self.clients.remove(token) {
            self.drop_client(c);
        }
    }

    fn drop_client(&mut self, mut c: Box<Client>) {
        if c.state.monitor {
            self.core.ops.monitors.retain(|&t| t != c.token);
        }
        if c.state.postponed {
            self.core.ops.postponed.retain(|&t| t != c.token);
        }
        log::debug!(
            "Client closed connection id={} addr={} (reason: {})",
            c.state.id,
            c.state.addr,
            c.closing.unwrap_or(CloseReason::Killed).describe()
        );
        let _ = self.poll.registry().deregister(c.stream.source());
    }

    /// Timers, `hz` times a second.
    fn cron(&mut self) {
        let hz = self.core.config.hz.max(1);
        let period = Duration::from_micros(1_000_000 / hz as u64);
        self.next_cron = Instant::now() + period;
        self.cron_count += 1;
        let now = unix_ms();

        // Stats samples every 100 ms.
        let stats = &mut self.core.stats;
        let ops = stats.total_commands_processed;
        let (inb, outb) = (stats.net_input_bytes, stats.net_output_bytes);
        stats.ops.track(now, ops);
        stats.input.track(now, inb);
        stats.output.track(now, outb);

        // Keep the LRU clock fresh even when no lookup advances it.
        crate::db::lru::refresh(now);
        let used = crate::memory::used_memory();
        self.core.peak_memory = self.core.peak_memory.max(used);
        self.clients_cron(now);
        self.trim_memory();
        crate::service::watchdog();

        // Databases: active expiry (not under CLIENT PAUSE WRITE), then
        // table resizing and rehashing.
        if !self.core.ops.pause.writes_paused() {
            let (effort, hz_cfg) = (self.core.config.active_expire_effort, self.core.config.hz);
            let started = Instant::now();
            active_expire_cycle(
                &mut self.dbs,
                &mut self.core.expire,
                CycleKind::Slow,
                now,
                effort,
                hz_cfg,
            );
            let ms = started.elapsed().as_millis() as u64;
            let threshold = self.core.config.latency_monitor_threshold;
            self.core
                .ops
                .latency
                .add_if_needed(threshold, "expire-cycle", ms);
            self.feed_expired();
        }
        self.databases_cron();

        self.core.aof.cron();
        self.core.aof.rewrite_cron(&self.core.config);
        self.record_aof_latency();
        for token in std::mem::take(&mut self.accept_retry_cron) {
            self.accept(token);
        }
    }

    fn clients_cron(&mut self, now: i64) {
        self.output_limits_cron();
        let timeout = self.core.config.timeout;
        if timeout == 0 {
            return;
        }
        let limit = timeout as i64 * 1000;
        // MONITOR clients and clients held by CLIENT PAUSE are never idle,
        // as in Redis. A client with unsent replies is: if it read none of
        // them for `timeout` seconds (writing them moves its interaction
        // time), it stopped reading.
        let idle: Vec<Token> = self
            .clients
            .iter()
            .filter(|c| {
                now - c.state.last_interaction_ms > limit
                    && !c.state.monitor
                    && !c.state.postponed
            })
            .map(|c| c.token)
            .collect();
        for t in idle {
            if let Some(c) = self.clients.get_mut(t) {
                log::debug!(
                    "Closing idle client id={} addr={}",
                    c.state.id,
                    c.state.addr
                );
                c.closing = Some(CloseReason::Timeout);
            }
            self.clients.kill(t);
        }
    }

    /// The soft output buffer limit is a matter of time: check every client
    /// whose output is waiting (Redis's clientsCron does the same).
    fn output_limits_cron(&mut self) {
        let limits = self.core.config.client_output_buffer_limit;
        let normal = limits.for_client(false);
        if normal.hard == 0 && normal.soft == 0 && self.core.ops.monitors.is_empty() {
            return;
        }
        let over: Vec<Token> = self
            .clients
            .iter()
            .filter(|c| !c.reply.is_empty() || c.state.obuf_soft_since != 0)
            .map(|c| c.token)
            .collect();
        for t in over {
            let Some(mut c) = self.clients.take(t) else {
                continue;
            };
            let reached = !c.state.close_asap && self.output_limit_reached(&mut c);
            self.clients.put_back(c);
            if reached {
                if let Some(c) = self.clients.get_mut(t) {
                    c.closing = Some(CloseReason::OutputBufferLimit);
                }
                self.clients.kill(t);
            }
        }
    }

    /// Gives a drained client's buffers back: its query buffer becomes the
    /// spare (or is freed), its reply buffer, if empty, goes to the pool.
    fn reclaim_buffers(&mut self, c: &mut Client) {
        if let Some(buf) = c.query.take_idle_buffer() {
            if self.spare_query.capacity() == 0 && buf.len() <= 4 * READ_CHUNK {
                self.spare_query = buf;
            }
        }
        if c.reply.is_empty() {
            if let Some(buf) = c.reply.take_buffer() {
                if self.reply_pool.len() < REPLY_POOL_MAX && buf.capacity() <= REPLY_POOL_BUF_MAX {
                    self.reply_pool.push(buf);
                }
            }
        }
    }

    /// Returns free heap memory to the system once it is well above what is
    /// in use (closed connections, deleted data): glibc keeps it otherwise,
    /// and RSS would never come down. At most once every 10 seconds; the
    /// time it takes goes to the latency monitor (`malloc-trim`).
    fn trim_memory(&mut self) {
        if self.last_trim.elapsed() < TRIM_INTERVAL {
            return;
        }
        self.last_trim = Instant::now();
        let rss = crate::commands::info::rss_bytes();
        let used = crate::memory::used_memory();
        if rss < used.saturating_mul(3) / 2 || rss - used < TRIM_MIN_EXCESS {
            return;
        }
        let started = Instant::now();
        crate::memory::purge();
        let ms = started.elapsed().as_millis() as u64;
        let threshold = self.core.config.latency_monitor_threshold;
        self.core
            .ops
            .latency
            .add_if_needed(threshold, "malloc-trim", ms);
    }

    fn databases_cron(&mut self) {
        // Shrink sparse tables, then spend up to 1 ms finishing rehashes.
        for db in &mut self.dbs {
            db.dict.shrink_if_needed();
            db.expires.shrink_if_needed();
        }
        let deadline = Instant::now() + Duration::from_millis(1);
        for db in &mut self.dbs {
            if db.dict.is_rehashing() {
                db.dict.rehash_until(deadline);
            }
            if db.expires.is_rehashing() {
                db.expires.rehash_until(deadline);
            }
            if Instant::now() >= deadline {
                break;
            }
        }
    }

    /// Clean shutdown: stop accepting, make the AOF durable, exit.
    fn finish(mut self, _req: ShutdownRequest) -> i32 {
        log::warn!("User requested shutdown...");
        crate::service::stopping();
        self.core.listeners.close();
        if self.core.aof.enabled() {
            log::info!("Calling fsync() on the AOF file.");
        }
        if let Err(e) = self.core.aof.shutdown(&self.dbs, &self.core.config) {
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

/// What a non-loopback client hears in protected mode.
const PROTECTED_MODE_MSG: &str = "DENIED GoStore is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to GoStore you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to GoStore from the same host the server is running, however MAKE SURE GoStore is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the GoStore configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.";
