//! `Core`: everything the loop owns besides sockets and the keyspace:
//! configuration, the AOF, statistics, the command table, the RNG. Commands
//! get `&mut Core` through their `Ctx`; nothing here is shared with another
//! thread.

use std::path::PathBuf;
use std::time::Instant;

use crate::aof::Aof;
use crate::commands::CommandTable;
use crate::config::Config;
use crate::db::expire::ExpireState;
use crate::lazyfree::LazyFree;
use crate::listeners::Listeners;
use crate::util::rand::Rng;

/// Instantaneous metrics sampled by the cron (INFO instantaneous_*).
#[derive(Debug, Default)]
pub struct Samples {
    values: [u64; 16],
    idx: usize,
    last_time_ms: i64,
    last_count: u64,
}

impl Samples {
    /// Records the counter's value at `now_ms` (every 100 ms).
    pub fn track(&mut self, now_ms: i64, count: u64) {
        if self.last_time_ms == 0 {
            self.last_time_ms = now_ms;
            self.last_count = count;
            return;
        }
        let dt = (now_ms - self.last_time_ms).max(1) as u64;
        let per_sec = (count.saturating_sub(self.last_count)) * 1000 / dt;
        self.values[self.idx % self.values.len()] = per_sec;
        self.idx += 1;
        self.last_time_ms = now_ms;
        self.last_count = count;
    }

    /// Average over the samples.
    pub fn average(&self) -> u64 {
        let n = self.idx.min(self.values.len());
        if n == 0 {
            return 0;
        }
        self.values[..n].iter().sum::<u64>() / n as u64
    }
}

/// Server-wide counters (INFO stats).
#[derive(Debug, Default)]
pub struct Stats {
    /// Connections accepted.
    pub total_connections_received: u64,
    /// Commands run.
    pub total_commands_processed: u64,
    /// Bytes read from clients.
    pub net_input_bytes: u64,
    /// Bytes written to clients.
    pub net_output_bytes: u64,
    /// Connections refused (maxclients).
    pub rejected_connections: u64,
    /// Error replies sent.
    pub total_error_replies: u64,
    /// Commands rejected before running (unknown, arity, auth...).
    pub unexpected_error_replies: u64,
    /// Clients closed for exceeding the query buffer limit.
    pub client_qbuf_limit_disconnections: u64,
    /// Clients closed for exceeding the output buffer limit.
    pub client_outbuf_limit_disconnections: u64,
    /// Read calls on client sockets (INFO total_reads_processed).
    pub total_reads_processed: u64,
    /// Write passes over clients' replies (INFO total_writes_processed).
    pub total_writes_processed: u64,
    /// Ops/sec samples.
    pub ops: Samples,
    /// Input bytes/sec samples.
    pub input: Samples,
    /// Output bytes/sec samples.
    pub output: Samples,
    /// Error counts by code (INFO errorstats).
    pub errors: Vec<(String, u64)>,
}

impl Stats {
    /// Counts an error reply by its code.
    pub fn count_error(&mut self, code: &str) {
        self.total_error_replies += 1;
        match self.errors.iter_mut().find(|(c, _)| c == code) {
            Some((_, n)) => *n += 1,
            None => {
                if self.errors.len() < 128 {
                    self.errors.push((code.to_string(), 1));
                }
            }
        }
    }
}

/// How a shutdown was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownRequest {
    /// What asked for it.
    pub reason: ShutdownReason,
    /// SHUTDOWN SAVE (Some(true)) or NOSAVE (Some(false)); None: save the
    /// RDB when save points are set, as Redis. The AOF is always flushed
    /// and fsynced.
    pub save: Option<bool>,
    /// SHUTDOWN FORCE: exit even if the final save fails.
    pub force: bool,
    /// The id of the client that sent SHUTDOWN, told when it fails.
    pub client: Option<u64>,
}

impl ShutdownRequest {
    /// A shutdown asked for by a signal.
    pub fn signal(reason: ShutdownReason) -> ShutdownRequest {
        ShutdownRequest {
            reason,
            save: None,
            force: false,
            client: None,
        }
    }
}

/// What triggered the shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownReason {
    /// SIGTERM.
    Sigterm,
    /// SIGINT.
    Sigint,
    /// The SHUTDOWN command.
    Command,
}

/// The loop's state, minus sockets and keyspace.
pub struct Core {
    /// Current configuration.
    pub config: Config,
    /// The config file given at start-up, if any (INFO config_file).
    pub config_file: Option<PathBuf>,
    /// The append-only file.
    pub aof: Aof,
    /// Counters.
    pub stats: Stats,
    /// The command table with per-command stats.
    pub commands: CommandTable,
    /// Sampling randomness.
    pub rng: Rng,
    /// The active expiry cycle's state.
    pub expire: ExpireState,
    /// Frees big values on a helper thread.
    pub lazyfree: LazyFree,
    /// The listening sockets.
    pub listeners: Listeners,
    /// Monotonic start time.
    pub started: Instant,
    /// Unix ms at start.
    pub started_ms: i64,
    /// 40-hex-char run id.
    pub run_id: String,
    /// Next client id.
    pub next_client_id: u64,
    /// Changes since start (Redis's `server.dirty`). While GoStore writes
    /// no RDB, no change ever waits for an RDB save, so INFO reports
    /// `rdb_changes_since_last_save:0` rather than a count that grows
    /// forever next to a `rdb_last_save_time` that never moves.
    pub dirty: u64,
    /// Unix seconds of the last successful save (LASTSAVE, INFO
    /// rdb_last_save_time): the start-up time, as GoStore writes no RDB.
    pub lastsave: i64,
    /// RDB saves: the BGSAVE child, save-point bookkeeping, INFO's rdb_* fields.
    pub rdb: crate::rdb::save::RdbState,
    /// Set when the server must stop.
    pub shutdown: Option<ShutdownRequest>,
    /// Whether the AOF is being replayed.
    pub loading: bool,
    /// A dataset loading while clients are served (`-LOADING`, INFO's
    /// `loading:1`); see `crate::loading`.
    pub load: Option<crate::loading::LoadInfo>,
    /// Peak of the allocator's in-use bytes.
    pub peak_memory: usize,
    /// Wall time for this tick (see `TickClock`).
    pub clock: crate::util::time::TickClock,
    /// maxmemory enforcement: the eviction pool and its statistics.
    pub evict: crate::evict::Evictor,
    /// Slow log, latency monitor, MONITOR clients, CLIENT PAUSE.
    pub ops: Ops,
    /// The way out for every change to the dataset (AOF; replicas later).
    pub propagator: crate::propagate::Propagator,
    /// Parked clients (CLIENT PAUSE; blocking commands later).
    pub blocked: crate::blocked::Parking,
    /// Pub/sub subscriptions.
    pub pubsub: crate::pubsub::PubSub,
    /// Client-side caching.
    pub tracking: crate::tracking::Tracking,
    /// Lua: EVAL's script cache and FUNCTION libraries.
    pub scripting: crate::scripting::Scripting,
    /// The link to the master while this server is a replica (REPLICAOF,
    /// `replicaof`); None as a master.
    pub replica: Option<Box<crate::repl::replica::Link>>,
    /// Set while the loop has the link out to run the master's commands.
    pub is_replica: bool,
}

/// What operators watch and steer the server with.
#[derive(Debug, Default)]
pub struct Ops {
    /// SLOWLOG.
    pub slowlog: crate::slowlog::SlowLog,
    /// LATENCY's event series.
    pub latency: crate::latency::Monitor,
    /// Clients in MONITOR mode.
    pub monitors: Vec<mio::Token>,
    /// CLIENT PAUSE.
    pub pause: crate::pause::Pause,
    /// What DEBUG subcommands changed.
    pub debug: crate::commands::debug::DebugState,
    /// MIGRATE's cached connections to its targets.
    pub migrate: crate::commands::migrate::MigrateSockets,
}

impl Core {
    /// A fresh id for a client.
    pub fn new_client_id(&mut self) -> u64 {
        self.next_client_id += 1;
        self.next_client_id
    }

    /// Seconds since start.
    pub fn uptime_secs(&self) -> u64 {
        self.started.elapsed().as_secs()
    }
}

/// A random 40-character hex run id.
pub fn new_run_id(rng: &mut Rng) -> String {
    (0..40)
        .map(|_| char::from_digit(rng.below(16) as u32, 16).unwrap_or('0'))
        .collect()
}
