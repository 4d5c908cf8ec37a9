//! GoStore: an in-memory data store that speaks the Redis protocol.
//!
//! A tour, in the order data flows through a tick (docs/architecture.md has
//! the whole picture):
//! - `server` owns the `mio::Poll` loop, the client slab and the keyspace,
//!   and runs the tick: read → parse → process → one AOF write → replies.
//! - `client` is one connection: socket, query buffer (`resp::parser`),
//!   reply buffer (`resp::reply`) and the state commands see.
//! - `commands` is the command table and the path of every command
//!   (`commands::process`: `process_command` runs Redis's checks, `call` the
//!   handler); one module per data type. What a command changed leaves
//!   through `propagate` (the AOF; replicas later); a client that must wait
//!   is parked in `blocked`.
//! - `db` is the keyspace: `Dict` (the incrementally rehashed key table),
//!   `Value` (the packed object), hashes, lazy and active expiry.
//! - `aof` is durability: the per-tick write, fsync policies, the manifest,
//!   replay at start-up, and the rewrite, whose forked child writes a new
//!   base from a copy-on-write image.
//! - `memory` is the accounting behind `used_memory` (a counting global
//!   allocator) and MEMORY; `evict` enforces `maxmemory` with Redis's eight
//!   policies before each command.
//! - `config` reads `gostore.conf` (Redis's syntax) and serves CONFIG;
//!   `core` holds the rest of the loop's state.
//! - Helper threads, which never touch data: `aof::fsync` (fsync, close,
//!   the rewrite's renames and manifest writes) and `lazyfree` (dropping
//!   flushed tables, big deleted or evicted values).
//! - Operations: `service` (systemd notify, daemonize, pid file), `limits`
//!   (output buffer limits, maxclients and RLIMIT_NOFILE, protected mode),
//!   `slowlog`, `latency` (LATENCY and latency histograms), `pause` (CLIENT
//!   PAUSE), `config_rewrite` (CONFIG REWRITE), `logging`.
//! - `scripting` is Lua (EVAL, FCALL): one interpreter, the script cache,
//!   function libraries; scripts call commands through `call`.

pub mod aof;
pub(crate) mod blocked;
pub(crate) mod client;
pub mod commands;
pub mod config;
pub(crate) mod config_rewrite;
pub(crate) mod core;
pub mod db;
pub(crate) mod error;
pub(crate) mod evict;
pub(crate) mod latency;
pub(crate) mod lazyfree;
pub mod limits;
pub(crate) mod listeners;
pub(crate) mod loading;
pub mod logging;
pub mod memory;
pub(crate) mod notify;
pub(crate) mod pause;
pub(crate) mod propagate;
pub mod pubsub;
pub mod rdb;
pub mod repl;
pub mod resp;
pub(crate) mod scripting;
pub mod server;
pub mod service;
pub(crate) mod signals;
pub(crate) mod slowlog;
pub mod tracking;
pub(crate) mod util;

/// Redis's geohash arithmetic, public for the differential tests.
pub use util::geohash;

/// The Redis version GoStore is compatible with, reported as `redis_version`.
pub const REDIS_VERSION: &str = "7.0.15";
