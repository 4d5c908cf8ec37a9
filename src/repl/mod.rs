//! Replication, Redis 7.0's protocol (PSYNC2), master side.
//!
//! - `ReplStream` (held by the `Propagator`, fed by the same `emit` as the
//!   AOF) is the replication stream: its id and offset, the backlog, and
//!   the bytes propagated this tick, which `master::feed_replicas` hands to
//!   each online replica's output at the end of the tick.
//! - `master` holds what the loop does for replicas: feeding them, the
//!   periodic PING, `REPLCONF GETACK` for WAIT, and INFO/ROLE's view.
//! - `sync` runs full resyncs: a forked child writes the snapshot to the
//!   replicas' sockets while the loop keeps their stream.
//! - The commands (REPLCONF, PSYNC/SYNC, WAIT, ROLE) are in
//!   `commands::repl`.
//!
//! Reference: Redis 7.0's `replication.c`.

pub mod backlog;
pub mod master;
pub mod replica;
pub mod sync;

use backlog::Backlog;

use crate::resp::encode::command as encode_command;

/// 40 zeros: no secondary replication id.
pub const NO_REPLID: &str = "0000000000000000000000000000000000000000";

/// Counters INFO stats reports.
#[derive(Debug, Default, Clone, Copy)]
pub struct ReplStats {
    /// Full resyncs served (`sync_full`).
    pub sync_full: u64,
    /// Partial resyncs accepted (`sync_partial_ok`).
    pub sync_partial_ok: u64,
    /// Partial resyncs refused (`sync_partial_err`).
    pub sync_partial_err: u64,
}

/// The replication stream of this server as a master.
#[derive(Debug)]
pub struct ReplStream {
    /// `master_replid`.
    pub replid: String,
    /// `master_replid2`.
    pub replid2: String,
    /// `second_repl_offset`.
    pub second_offset: i64,
    /// `master_repl_offset`: the offset of the stream's last byte.
    pub offset: u64,
    /// Created when the first replica syncs; until then nothing is fed
    /// and the offset stays 0, as in Redis.
    pub backlog: Option<Backlog>,
    /// The bytes fed since the last `take_tick`, and the offset of the
    /// first of them.
    tick: Vec<u8>,
    tick_start: u64,
    /// The database the stream has selected (Redis's `slaveseldb`); None
    /// after a full sync, so the next command selects one.
    seldb: Option<usize>,
    /// Counters.
    pub stats: ReplStats,
    /// A replica acknowledged an offset since WAITing clients were last
    /// woken.
    pub acks_arrived: bool,
    /// A WAITing client wants the replicas asked for their offset
    /// (Redis's `get_ack_from_slaves`).
    pub getack_wanted: bool,
    /// Unix ms of the last PING sent to replicas.
    pub last_ping_ms: i64,
    /// A replica: the stream is the master's, fed as read (`feed_proxy`),
    /// and this server's own commands add nothing to it.
    pub proxy: bool,
    /// The child writing a snapshot to replicas (`sync`).
    pub sync: Option<sync::SyncJob>,
    /// This server just became a replica: the loop answers its clients
    /// waiting in blocking commands `-UNBLOCKED` and closes them.
    pub unblock_all: bool,
    /// A coordinated failover (FAILOVER) under way.
    pub failover: Failover,
}

/// Where a FAILOVER stands (Redis's `failover_state`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum FailoverState {
    /// None.
    #[default]
    None,
    /// Writes are held until the target acknowledges the whole stream.
    WaitForSync,
    /// This server follows the target and asks it, with `PSYNC ...
    /// FAILOVER`, to become the master.
    InProgress,
}

impl FailoverState {
    /// INFO's `master_failover_state`.
    pub fn name(self) -> &'static str {
        match self {
            FailoverState::None => "no-failover",
            FailoverState::WaitForSync => "waiting-for-sync",
            FailoverState::InProgress => "failover-in-progress",
        }
    }
}

/// A FAILOVER's parameters and progress.
#[derive(Debug, Default, Clone)]
pub struct Failover {
    /// Where it stands.
    pub state: FailoverState,
    /// The replica to hand over to: named by TO, or the first one found
    /// caught up.
    pub target: Option<(String, u16)>,
    /// Unix ms when waiting gives up (TIMEOUT); 0 is never.
    pub end_ms: i64,
    /// FORCE: at the timeout hand over anyway instead of aborting.
    pub force: bool,
    /// The target refused our `PSYNC ... FAILOVER`: abort once the link is
    /// back in place.
    pub rejected: bool,
}

impl Default for ReplStream {
    fn default() -> Self {
        ReplStream {
            replid: NO_REPLID.to_string(),
            replid2: NO_REPLID.to_string(),
            second_offset: -1,
            offset: 0,
            backlog: None,
            tick: Vec::new(),
            tick_start: 1,
            seldb: None,
            stats: ReplStats::default(),
            acks_arrived: false,
            getack_wanted: false,
            last_ping_ms: 0,
            proxy: false,
            sync: None,
            unblock_all: false,
            failover: Failover::default(),
        }
    }
}

impl ReplStream {
    /// Whether the stream is fed (a backlog exists).
    pub fn active(&self) -> bool {
        self.backlog.is_some()
    }

    /// Creates the backlog for the first replica (`createReplicationBacklog`).
    pub fn create_backlog(&mut self, size: usize) {
        if self.backlog.is_none() {
            self.backlog = Some(Backlog::new(size, self.offset));
            self.tick.clear();
            self.tick_start = self.offset + 1;
        }
    }

    /// Appends one encoded command for database `db` (None: any, as PING
    /// and REPLCONF GETACK), selecting the database first when the stream
    /// has another one.
    pub fn feed_command(&mut self, db: Option<usize>, command: &[u8]) {
        if !self.active() || self.proxy {
            return;
        }
        if let Some(db) = db {
            if self.seldb != Some(db) {
                let mut tmp = [0u8; crate::util::num::MAX_I64_LEN];
                let n = crate::util::num::fmt_i64(db as i64, &mut tmp);
                let mut select = Vec::with_capacity(32);
                encode_command(&mut select, [&b"SELECT"[..], n].into_iter());
                self.feed_raw(&select);
                self.seldb = Some(db);
            }
        }
        self.feed_raw(command);
    }

    /// A replica: the master's stream bytes, as read, into this server's
    /// own stream (Redis's `replicationFeedStreamFromMasterStream`).
    pub fn feed_proxy(&mut self, bytes: &[u8]) {
        self.feed_raw(bytes);
    }

    /// A replica after a full sync: the master's history from `offset` on,
    /// with a fresh backlog (Redis's `replicationCreateMasterClient` then
    /// `createReplicationBacklog`).
    pub fn follow(&mut self, replid: &str, offset: u64, backlog_size: usize) {
        self.replid = replid.to_string();
        self.replid2 = NO_REPLID.to_string();
        self.second_offset = -1;
        self.offset = offset;
        self.backlog = None;
        self.create_backlog(backlog_size);
        self.seldb = None;
        self.proxy = true;
    }

    /// The database the stream has selected, if any (`slaveseldb`).
    pub fn selected_db(&self) -> Option<usize> {
        self.seldb
    }

    /// A new replication id, keeping the old one as `replid2` up to the
    /// current offset (Redis's `shiftReplicationId`): on promotion, and on a
    /// +CONTINUE that names a new id.
    pub fn shift_replid(&mut self, new_id: String) {
        self.replid2 = std::mem::replace(&mut self.replid, new_id);
        self.second_offset = self.offset as i64 + 1;
        self.seldb = None;
    }

    fn feed_raw(&mut self, bytes: &[u8]) {
        if let Some(b) = self.backlog.as_mut() {
            b.feed(bytes);
            self.tick.extend_from_slice(bytes);
            self.offset += bytes.len() as u64;
        }
    }

    /// A full sync starts from a snapshot: the next command selects its
    /// database again (Redis sets `slaveseldb` to -1).
    pub fn forget_selected_db(&mut self) {
        self.seldb = None;
    }

    /// The bytes fed since the last call, and the offset of the first.
    pub fn take_tick(&mut self) -> (u64, Vec<u8>) {
        let start = self.tick_start;
        self.tick_start = self.offset + 1;
        (start, std::mem::take(&mut self.tick))
    }

    /// Gives back the buffer `take_tick` lent, emptied.
    pub fn return_tick(&mut self, mut buf: Vec<u8>) {
        if self.tick.is_empty() {
            buf.clear();
            self.tick = buf;
        }
    }
}

/// A replica as the replication log lines name it: its IP and its
/// REPLCONF listening-port.
pub fn replica_name(c: &crate::client::ClientState) -> String {
    let port = c.repl.as_ref().map_or(0, |r| r.listening_port);
    let ip = c
        .addr
        .rsplit_once(':')
        .map_or(c.addr.as_str(), |(ip, _)| ip);
    format!("{ip}:{port}")
}

/// What the master knows of one replica connection (Redis's `slave_*`
/// fields of a client), kept in its `ClientState` from its first REPLCONF.
#[derive(Debug, Clone, Default)]
pub struct ReplicaInfo {
    /// REPLCONF listening-port.
    pub listening_port: u16,
    /// REPLCONF ip-address.
    pub announced_ip: Option<String>,
    /// REPLCONF capa eof.
    pub capa_eof: bool,
    /// REPLCONF capa psync2.
    pub capa_psync2: bool,
    /// PSYNC done: the stream flows to it.
    pub online: bool,
    /// The stream offset its output has been fed up to.
    pub sent: u64,
    /// The offset it last acknowledged (REPLCONF ACK).
    pub ack_off: u64,
    /// Unix ms of its last REPLCONF ACK (or of its sync).
    pub ack_ms: i64,
    /// Waiting for a snapshot child since this unix ms (Redis's
    /// `SLAVE_STATE_WAIT_BGSAVE_START`).
    pub wait_since_ms: Option<i64>,
    /// A snapshot child writes to its socket: the loop writes nothing to
    /// it and keeps the stream in `held` (`SLAVE_STATE_WAIT_BGSAVE_END`).
    pub in_child: bool,
    /// The child sent it the snapshot in the `$EOF:<mark>` form: its
    /// stream waits for its first REPLCONF ACK, because a replica finds
    /// the end of such a transfer by the mark being the last bytes it
    /// read (Redis's `repl_start_cmd_stream_on_ack`).
    pub await_ack: bool,
    /// It acknowledged while the child was still being reaped: it has the
    /// whole snapshot already, so its stream need not wait.
    pub early_ack: bool,
    /// It asked with PSYNC (the child sends `+FULLRESYNC` first).
    pub psync: bool,
    /// The stream since its snapshot's offset, sent once the child is done.
    pub held: Vec<u8>,
    /// The `replica` class's hard limit on `held` (bytes).
    pub cap: usize,
}
