//! A client connection: its socket, query buffer and parser, reply buffer,
//! and `ClientState`, the part commands may read and change (selected DB,
//! name, protocol, authentication). Clients live in `Clients`, a slab keyed
//! by their `mio::Token`.

use std::io::{self, Read, Write};
use std::net::SocketAddr;

use mio::net::{TcpStream, UnixStream};
use mio::Token;

use crate::resp::{Parser, Reply};

/// Tokens below this are the listeners, the signal pipe and the waker.
pub const FIRST_CLIENT_TOKEN: usize = 64;

/// A client socket.
#[derive(Debug)]
pub enum Stream {
    /// TCP.
    Tcp(TcpStream),
    /// Unix domain socket.
    Unix(UnixStream),
}

impl Stream {
    /// Reads into `buf`.
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }

    /// Writes from `buf`.
    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    /// The file descriptor (CLIENT LIST fd).
    pub fn fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
        }
    }

    /// The mio source, for (de)registration.
    pub fn source(&mut self) -> &mut dyn mio::event::Source {
        match self {
            Stream::Tcp(s) => s,
            Stream::Unix(s) => s,
        }
    }
}

/// Why a client is being closed (for the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The peer closed the connection.
    Eof,
    /// A socket error.
    IoError,
    /// QUIT, or a protocol error after its reply.
    AfterReply,
    /// CLIENT KILL.
    Killed,
    /// Idle past `timeout`.
    Timeout,
    /// Query buffer over `client-query-buffer-limit`.
    QueryBufferLimit,
    /// Output over `client-output-buffer-limit`.
    OutputBufferLimit,
    /// The server is shutting down.
    Shutdown,
}

/// A client's flags, as Redis's `CLIENT_*` bits: what the client is doing
/// (MONITOR, blocked, closing...) and what the loop knows of its socket.
/// One type for all of them, so a new state is one more constant here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags(u32);

impl Flags {
    /// AUTH succeeded, or no password is needed.
    pub const AUTHENTICATED: Flags = Flags(1 << 0);
    /// A Unix socket client.
    pub const UNIX_SOCKET: Flags = Flags(1 << 1);
    /// In MONITOR mode: every command run is streamed to it.
    pub const MONITOR: Flags = Flags(1 << 2);
    /// Parked (see `blocked`): waiting with its command kept, for the
    /// reason `Parking` records.
    pub const BLOCKED: Flags = Flags(1 << 3);
    /// Close once the pending replies are written (QUIT, protocol error).
    pub const CLOSE_AFTER_REPLY: Flags = Flags(1 << 4);
    /// Close at the end of the tick without writing more (CLIENT KILL).
    pub const CLOSE_ASAP: Flags = Flags(1 << 5);
    /// CLIENT NO-EVICT on.
    pub const NO_EVICT: Flags = Flags(1 << 6);
    /// CLIENT NO-TOUCH on: its commands (but TOUCH) leave the keys' LRU/LFU
    /// data alone.
    pub const NO_TOUCH: Flags = Flags(1 << 7);
    /// The loop: the socket may have more to read (edge-triggered).
    pub const READABLE: Flags = Flags(1 << 8);
    /// The loop: the socket may accept more output.
    pub const WRITABLE: Flags = Flags(1 << 9);
    /// The loop: already in this tick's (or the next tick's) work list.
    pub const QUEUED: Flags = Flags(1 << 10);
    /// The loop: already in the list of clients with replies to write.
    pub const PENDING_WRITE: Flags = Flags(1 << 11);
    /// The loop: the peer shut down its side (EPOLLRDHUP): read until EOF,
    /// since no further readiness edge will come.
    pub const READ_CLOSED: Flags = Flags(1 << 12);
    /// Its blocking commands never wait: with nothing to serve they give
    /// their timeout reply at once (Redis's `CLIENT_DENY_BLOCKING`). The AOF
    /// loader's client has it, so a replayed blocking command cannot stall
    /// the load.
    pub const DENY_BLOCKING: Flags = Flags(1 << 13);
    /// Between MULTI and EXEC/DISCARD: commands are queued (Redis's
    /// `CLIENT_MULTI`; CLIENT LIST flag `x`).
    pub const MULTI: Flags = Flags(1 << 14);
    /// A command was refused while queuing: EXEC will answer EXECABORT
    /// (Redis's `CLIENT_DIRTY_EXEC`).
    pub const DIRTY_EXEC: Flags = Flags(1 << 15);
    /// Has at least one (P|S)SUBSCRIBE subscription (Redis's
    /// `CLIENT_PUBSUB`; CLIENT LIST flag `P`): its output limit class is
    /// `pubsub`, and in RESP2 it may only run the pub/sub commands.
    pub const PUBSUB: Flags = Flags(1 << 16);
    /// A replica of this server: it completed PSYNC/SYNC and gets the
    /// replication stream (Redis's `CLIENT_SLAVE`; CLIENT LIST flag `S`).
    pub const REPLICA: Flags = Flags(1 << 17);
    /// The client of this replica's master (Redis's `CLIENT_MASTER`): its
    /// writes pass `replica-read-only`, it sees expired keys (the master's
    /// DELs expire them) and gets no replies.
    pub const MASTER: Flags = Flags(1 << 18);

    /// Whether every flag of `f` is set.
    #[inline]
    pub fn has(self, f: Flags) -> bool {
        self.0 & f.0 == f.0
    }

    /// Sets (or clears) the flags of `f`.
    #[inline]
    pub fn set(&mut self, f: Flags, on: bool) {
        if on {
            self.0 |= f.0;
        } else {
            self.0 &= !f.0;
        }
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;

    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

/// What commands see of their client.
#[derive(Debug, Clone)]
pub struct ClientState {
    /// See `Flags`.
    pub flags: Flags,
    /// Unique, increasing id (CLIENT ID).
    pub id: u64,
    /// Selected database.
    pub db: usize,
    /// CLIENT SETNAME.
    pub name: Option<Vec<u8>>,
    /// CLIENT SETINFO LIB-NAME.
    pub lib_name: Option<Vec<u8>>,
    /// CLIENT SETINFO LIB-VER.
    pub lib_ver: Option<Vec<u8>>,
    /// Peer address, `ip:port` or `path:0` for Unix sockets.
    pub addr: String,
    /// Local address.
    pub laddr: String,
    /// Socket fd (-1 for the AOF loader).
    pub fd: i32,
    /// Creation time, Unix ms.
    pub created_ms: i64,
    /// Last command time, Unix ms.
    pub last_interaction_ms: i64,
    /// Name of the last command run.
    pub last_cmd: &'static str,
    /// The AOF offset that must be written (or fsynced under `always`)
    /// before this client's pending replies may leave: set by every write
    /// command it runs.
    pub needs_aof: u64,
    /// Buffer figures for CLIENT LIST, refreshed before it runs.
    pub io: IoStats,
    /// Its slab token (set when it is accepted).
    pub token: Token,
    /// While its command waits to be processed again after a block: the
    /// deadline it was parked with (Unix ms; 0 for none). A blocking
    /// command processed again takes its deadline from here, not anew
    /// from its timeout argument, and gives its timeout reply once it has
    /// passed. Cleared when the command is done.
    pub block_deadline_ms: i64,
    /// Its kept command is running again after a wait (a blocking command
    /// blocked again keeps its place at the head of its keys' lines).
    pub reprocessing: bool,
    /// The IDs a blocked XREAD/XREADGROUP resolved (`$`, `>`) on its first
    /// run, as (ms, seq), used when it runs again after the wait.
    pub block_stream_ids: Vec<(u64, u64)>,
    /// When its output first stayed over the soft output buffer limit (Unix
    /// seconds; 0: it is under it).
    pub obuf_soft_since: i64,
    /// Its transaction: the commands queued since MULTI.
    pub multi: MultiState,
    /// The keys it watches, (database, key), in the order WATCH gave them;
    /// each also has an entry in its database's `watched` index.
    pub watched: Vec<(usize, Vec<u8>)>,
    /// Its dirty-CAS mark (Redis's `CLIENT_DIRTY_CAS`), shared with those
    /// entries; made on its first WATCH.
    pub cas: Option<crate::db::hooks::CasMark>,
    /// Its pub/sub subscriptions (None when it has none).
    pub subs: Option<Box<crate::pubsub::Subscriptions>>,
    /// Its CLIENT TRACKING state (None: off).
    pub tracking: Option<Box<crate::tracking::ClientTracking>>,
    /// What the master knows of it as a replica, from its first REPLCONF.
    pub repl: Option<Box<crate::repl::ReplicaInfo>>,
    /// The replication offset after its last write (Redis's `woff`), what
    /// WAIT waits for the replicas to acknowledge.
    pub woff: u64,
}

/// A queued command of a transaction.
#[derive(Debug, Clone)]
pub struct QueuedCommand {
    /// Its command table id.
    pub id: u32,
    /// Its arguments, the name included.
    pub args: crate::resp::parser::OwnedArgs,
}

/// The commands a client queued since MULTI (Redis's `multiState`).
#[derive(Debug, Clone, Default)]
pub struct MultiState {
    /// In order.
    pub commands: Vec<QueuedCommand>,
    /// The union of their table flags (Redis's `cmd_flags`): whether EXEC
    /// writes, may grow memory or may replicate.
    pub cmd_flags: crate::commands::spec::Flags,
    /// Their argument bytes plus a pointer per argument (Redis's
    /// `argv_len_sums`, CLIENT LIST `multi-mem`).
    pub argv_len_sums: usize,
    /// While EXEC runs them (taken out of `commands`), how many there are.
    pub running: usize,
}

impl MultiState {
    /// Queues a command.
    pub fn queue(
        &mut self,
        id: u32,
        flags: crate::commands::spec::Flags,
        args: &crate::resp::parser::Args<'_>,
    ) {
        let parts: Vec<Vec<u8>> = args.iter_from(0).map(|a| a.to_vec()).collect();
        self.argv_len_sums +=
            parts.iter().map(Vec::len).sum::<usize>() + parts.len() * std::mem::size_of::<usize>();
        self.cmd_flags |= flags;
        self.commands.push(QueuedCommand {
            id,
            args: crate::resp::parser::OwnedArgs::new(parts),
        });
    }
}

/// Buffer sizes of a client, as CLIENT LIST reports them.
#[derive(Debug, Clone, Copy, Default)]
pub struct IoStats {
    /// Unparsed query bytes.
    pub qbuf: usize,
    /// Free query buffer bytes.
    pub qbuf_free: usize,
    /// Argument bytes of the command being run.
    pub argv_mem: usize,
    /// Pending output bytes.
    pub obl: usize,
    /// Output buffer allocation.
    pub omem: usize,
}

impl ClientState {
    /// A fresh client.
    pub fn new(
        id: u64,
        addr: String,
        laddr: String,
        fd: i32,
        unix: bool,
        now_ms: i64,
        authenticated: bool,
    ) -> ClientState {
        ClientState {
            id,
            db: 0,
            name: None,
            lib_name: None,
            lib_ver: None,
            flags: {
                let mut f = Flags::default();
                f.set(Flags::AUTHENTICATED, authenticated);
                f.set(Flags::UNIX_SOCKET, unix);
                f
            },
            addr,
            laddr,
            fd,
            created_ms: now_ms,
            last_interaction_ms: now_ms,
            last_cmd: "NULL",
            needs_aof: 0,
            io: IoStats::default(),
            token: Token(usize::MAX),
            block_deadline_ms: 0,
            reprocessing: false,
            block_stream_ids: Vec::new(),
            obuf_soft_since: 0,
            multi: MultiState::default(),
            watched: Vec::new(),
            cas: None,
            subs: None,
            tracking: None,
            repl: None,
            woff: 0,
        }
    }

    /// Whether a key it watches changed (Redis's `CLIENT_DIRTY_CAS`).
    pub fn dirty_cas(&self) -> bool {
        self.cas.as_ref().is_some_and(|c| c.is_dirty())
    }

    /// Whether every flag of `f` is set.
    #[inline]
    pub fn has(&self, f: Flags) -> bool {
        self.flags.has(f)
    }

    /// Redis's `islocalClient`: on the Unix socket, or connected from
    /// exactly 127.0.0.1 or ::1 (who `local` lets run protected commands
    /// and set protected configs).
    pub fn is_local(&self) -> bool {
        if self.has(Flags::UNIX_SOCKET) {
            return true;
        }
        let ip = self
            .addr
            .rsplit_once(':')
            .map_or(self.addr.as_str(), |(ip, _)| ip);
        ip == "127.0.0.1" || ip == "::1"
    }

    /// One CLIENT LIST line, Redis 7's fields (also the client's
    /// description in log lines).
    pub fn info_line(&self, io: IoStats, now_ms: i64, resp: u8) -> String {
        let s = self;
        let text = |v: &Option<Vec<u8>>| {
            v.as_deref()
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .unwrap_or_default()
        };
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem={} multi-mem={} rbs={} rbp={} obl={} oll=0 omem={} tot-mem={} events=r cmd={} user={} redir={} resp={} lib-name={} lib-ver={}\n",
            s.id,
            s.addr,
            s.laddr,
            s.fd,
            text(&s.name),
            (now_ms - s.created_ms).max(0) / 1000,
            (now_ms - s.last_interaction_ms).max(0) / 1000,
            s.flags(),
            s.db,
            s.subs.as_ref().map_or(0, |x| x.channels.len()),
            s.subs.as_ref().map_or(0, |x| x.patterns.len()),
            s.subs.as_ref().map_or(0, |x| x.shard.len()),
            if s.has(Flags::MULTI) {
                (s.multi.commands.len() + s.multi.running) as i64
            } else {
                -1
            },
            io.qbuf,
            io.qbuf_free,
            io.argv_mem,
            s.multi_mem(),
            io.qbuf + io.qbuf_free,
            io.qbuf,
            io.obl,
            io.omem,
            io.qbuf + io.qbuf_free + io.omem + s.multi_mem() + std::mem::size_of::<Client>(),
            s.last_cmd,
            // The master's client runs as Redis's superuser.
            if s.has(Flags::MASTER) {
                "(superuser)"
            } else {
                "default"
            },
            s.tracking.as_ref().map_or(-1, |t| t.redirect as i64),
            resp,
            text(&s.lib_name),
            text(&s.lib_ver),
        )
    }

    /// CLIENT LIST `multi-mem`: the queued commands' argument bytes plus a
    /// pointer per argument, Redis's `argv_len_sums`, so the same figure.
    pub fn multi_mem(&self) -> usize {
        self.multi.argv_len_sums
    }

    /// The `flags` field of CLIENT LIST, letters in Redis's order.
    pub fn flags(&self) -> String {
        let mut f = String::with_capacity(4);
        if self.has(Flags::REPLICA) {
            f.push('S');
        }
        if self.has(Flags::MONITOR) {
            f.push('O');
        }
        if self.has(Flags::MASTER) {
            f.push('M');
        }
        if self.has(Flags::PUBSUB) {
            f.push('P');
        }
        if self.has(Flags::MULTI) {
            f.push('x');
        }
        if self.has(Flags::BLOCKED) {
            f.push('b');
        }
        if let Some(t) = &self.tracking {
            f.push('t');
            if t.broken {
                f.push('R');
            }
            if t.bcast {
                f.push('B');
            }
        }
        if self.dirty_cas() {
            f.push('d');
        }
        for (flag, c) in [
            (Flags::CLOSE_AFTER_REPLY, 'c'),
            (Flags::CLOSE_ASAP, 'A'),
            (Flags::UNIX_SOCKET, 'U'),
            (Flags::NO_EVICT, 'e'),
            (Flags::NO_TOUCH, 'T'),
        ] {
            if self.has(flag) {
                f.push(c);
            }
        }
        if f.is_empty() {
            f.push('N');
        }
        f
    }
}

/// A connection.
#[derive(Debug)]
pub struct Client {
    /// The socket; None for the AOF loader's fake client.
    pub stream: Stream,
    /// The slab token.
    pub token: Token,
    /// Query buffer and parser.
    pub query: Parser,
    /// Pending replies.
    pub reply: Reply,
    /// Command-visible state.
    pub state: ClientState,
    /// Why it is closing, once decided.
    pub closing: Option<CloseReason>,
}

impl Client {
    /// Its buffer figures (CLIENT LIST).
    pub fn io_stats(&self) -> IoStats {
        IoStats {
            qbuf: self.query.unparsed(),
            qbuf_free: self.query.capacity().saturating_sub(self.query.unparsed()),
            argv_mem: 0,
            obl: self.reply.pending_len(),
            omem: self.reply.capacity(),
        }
    }
}

/// Formats a socket address as Redis does (`ip:port`, IPv6 without brackets).
pub fn fmt_addr(a: &SocketAddr) -> String {
    match a {
        SocketAddr::V4(v4) => format!("{}:{}", v4.ip(), v4.port()),
        SocketAddr::V6(v6) => format!("{}:{}", v6.ip(), v6.port()),
    }
}

/// The live clients, in a slab indexed by token.
#[derive(Debug, Default)]
pub struct Clients {
    slots: Vec<Option<Box<Client>>>,
    free: Vec<usize>,
    count: usize,
    /// Clients to close at the end of the tick (killed, timed out).
    to_close: Vec<Token>,
    /// Clients given output by another client's command (MONITOR lines),
    /// to flush at the end of the tick.
    to_flush: Vec<Token>,
    /// Clients a command released from a wait (CLIENT UNBLOCK), to run
    /// again.
    to_resume: Vec<Token>,
}

impl Clients {
    /// Number of connected clients.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The token the next client will get.
    pub fn next_token(&self) -> Token {
        Token(FIRST_CLIENT_TOKEN + self.free.last().copied().unwrap_or(self.slots.len()))
    }

    /// Stores a client under `next_token()`.
    pub fn insert(&mut self, client: Box<Client>) {
        let idx = client.token.0 - FIRST_CLIENT_TOKEN;
        if idx == self.slots.len() {
            self.slots.push(Some(client));
        } else {
            // `next_token` handed out the last free slot.
            if self.free.last() == Some(&idx) {
                self.free.pop();
            } else if let Some(pos) = self.free.iter().position(|&f| f == idx) {
                self.free.swap_remove(pos);
            }
            self.slots[idx] = Some(client);
        }
        self.count += 1;
    }

    /// Marks a client to be closed at the end of the tick without sending
    /// more (CLIENT KILL, idle timeout).
    pub fn kill(&mut self, token: Token) {
        if let Some(c) = self.get_mut(token) {
            if !c.state.has(Flags::CLOSE_ASAP) {
                c.state.flags.set(Flags::CLOSE_ASAP, true);
                self.to_close.push(token);
            }
        }
    }

    /// Takes the list of clients marked with `kill`.
    pub fn take_killed(&mut self) -> Vec<Token> {
        std::mem::take(&mut self.to_close)
    }

    /// Appends pre-encoded output to another client (a MONITOR line) and
    /// queues it for writing. A client whose output buffer overflows its cap
    /// is killed; returns false then.
    pub fn push_output(&mut self, token: Token, bytes: &[u8]) -> bool {
        let Some(c) = self.get_mut(token) else {
            return true;
        };
        if c.state.has(Flags::CLOSE_ASAP) || c.state.has(Flags::CLOSE_AFTER_REPLY) {
            return true;
        }
        c.reply.raw(bytes);
        if c.reply.overflowed() {
            self.kill(token);
            return false;
        }
        self.to_flush.push(token);
        true
    }

    /// Queues a client given output by another client's command (a
    /// pub/sub message) for writing at the end of the tick.
    pub fn queue_flush(&mut self, token: Token) {
        self.to_flush.push(token);
    }

    /// Queues a client that another client's command released from its
    /// wait, to run its kept command again (see `take_resumed`).
    pub fn resume(&mut self, token: Token) {
        self.to_resume.push(token);
        self.to_flush.push(token);
    }

    /// Takes the clients queued by `resume`.
    pub fn take_resumed(&mut self) -> Vec<Token> {
        std::mem::take(&mut self.to_resume)
    }

    /// Takes the clients queued by `push_output`.
    pub fn take_flush(&mut self) -> Vec<Token> {
        std::mem::take(&mut self.to_flush)
    }

    fn index(token: Token) -> Option<usize> {
        token.0.checked_sub(FIRST_CLIENT_TOKEN)
    }

    /// The client with `token`.
    pub fn get_mut(&mut self, token: Token) -> Option<&mut Client> {
        Self::index(token)
            .and_then(|i| self.slots.get_mut(i))
            .and_then(|s| s.as_deref_mut())
    }

    /// Takes a client out to run its commands (put it back with `put_back`);
    /// meanwhile the others stay reachable for CLIENT LIST and KILL.
    pub fn take(&mut self, token: Token) -> Option<Box<Client>> {
        Self::index(token)
            .and_then(|i| self.slots.get_mut(i))
            .and_then(|s| s.take())
    }

    /// Returns a client taken with `take`.
    pub fn put_back(&mut self, client: Box<Client>) {
        let idx = client.token.0 - FIRST_CLIENT_TOKEN;
        self.slots[idx] = Some(client);
    }

    /// Removes a client for good.
    pub fn remove(&mut self, token: Token) -> Option<Box<Client>> {
        let i = Self::index(token)?;
        let c = self.slots.get_mut(i)?.take()?;
        self.free.push(i);
        self.count -= 1;
        Some(c)
    }

    /// Iterates over the clients in the slab (one taken out is skipped).
    pub fn iter(&self) -> impl Iterator<Item = &Client> {
        self.slots.iter().filter_map(|s| s.as_deref())
    }

    /// Iterates mutably.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Client> {
        self.slots.iter_mut().filter_map(|s| s.as_deref_mut())
    }
}

impl CloseReason {
    /// Plain words for the log, in place of the variant's name.
    pub fn describe(&self) -> &'static str {
        match self {
            CloseReason::Eof => "connection closed by the client",
            CloseReason::IoError => "socket error",
            CloseReason::AfterReply => "QUIT, end of stream or protocol error",
            CloseReason::Killed => "killed",
            CloseReason::Timeout => "idle timeout",
            CloseReason::QueryBufferLimit => "query buffer limit reached",
            CloseReason::OutputBufferLimit => "output buffer limit reached",
            CloseReason::Shutdown => "server shutting down",
        }
    }
}
