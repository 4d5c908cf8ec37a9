//! GoStore: an in-memory data store that speaks the Redis protocol.
//!
//! A tour, in the order data flows through a tick (see docs/architecture.md):
//! - `server` owns the `mio::Poll` loop, the listeners, the client slab and
//!   the keyspace; `cron` holds its timers.
//! - `client` is one connection: socket, query buffer (`resp::parser`),
//!   reply buffer (`resp::reply`) and the state commands see.
//! - `commands` is the command table and dispatch: arity, auth, then the
//!   handler, then the AOF feed. One module per data type.
//! - `db` is the keyspace: `Dict` (incrementally rehashed key table),
//!   `Value` (the packed object), hashes, lazy and active expiry.
//! - `aof` is durability: the per-tick write, fsync policies, the manifest,
//!   loading at start-up.
//! - `config` reads `gostore.conf` (Redis's syntax) and serves CONFIG.

pub mod db;
pub mod error;
pub mod resp;
pub mod util;
