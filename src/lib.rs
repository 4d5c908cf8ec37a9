//! GoStore: an in-memory data store that speaks the Redis protocol.
//!
//! A tour, in the order data flows through a tick (docs/architecture.md has
//! the whole picture):
//! - `server` owns the `mio::Poll` loop, the client slab and the keyspace,
//!   and runs the tick: read → parse → execute → one AOF write → replies.
//! - `client` is one connection: socket, query buffer (`resp::parser`),
//!   reply buffer (`resp::reply`) and the state commands see.
//! - `commands` is the command table and dispatch (`execute`, `call`):
//!   lookup, arity, auth, then the handler, then the AOF feed. One module per
//!   data type.
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

pub mod aof;
pub mod blocked;
pub mod client;
pub mod commands;
pub mod config;
pub mod config_rewrite;
pub mod core;
pub mod db;
pub mod error;
pub mod evict;
pub mod latency;
pub mod lazyfree;
pub mod limits;
pub mod listeners;
pub mod logging;
pub mod memory;
pub mod notify;
pub mod pause;
pub mod propagate;
pub mod resp;
pub mod server;
pub mod service;
pub mod signals;
pub mod slowlog;
pub mod util;

/// The Redis version GoStore is compatible with, reported as `redis_version`.
pub const REDIS_VERSION: &str = "7.0.15";
