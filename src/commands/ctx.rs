//! `Ctx`: what a command handler may touch. Its fields and methods are the
//! whole interface between a handler and the server: the keyspace, the
//! reply, the client, `propagate_as` and `notify`; the server state only
//! through `server` (for server commands).

use super::{CommandSpec, Redaction};
use crate::blocked::BlockRequest;
use crate::client::{ClientState, Clients, Flags};
use crate::config::Config;
use crate::core::Core;
use crate::db::hash::HashLimits;
use crate::db::list::ListLimits;
use crate::db::value::Value;
use crate::db::Db;
use crate::error::CmdError;
use crate::resp::Reply;
use crate::util::num;
use crate::util::rand::Rng;

/// Several parts of the server at once (see `Ctx::server_parts`).
pub struct ServerParts<'c> {
    /// Server state.
    pub core: &'c mut Core,
    /// The other clients.
    pub clients: &'c mut Clients,
    /// This client's reply.
    pub reply: &'c mut Reply,
    /// This client's state.
    pub client: &'c mut ClientState,
}

/// All a handler may touch: its client's database, reply and state, the
/// command's clock and spec, `propagate_as`, `notify`, and the few server
/// facts a data-type command needs (`config`, `rng`, `free_later`,
/// `loading`). The whole server state (`server`, `clients`) is for the
/// commands whose subject it is: CONFIG, INFO, CLIENT, DEBUG, SLOWLOG...
pub struct Ctx<'a> {
    /// The client's selected database.
    pub db: &'a mut Db,
    /// Its index.
    pub db_index: usize,
    /// Databases before the selected one.
    before: &'a mut [Db],
    /// Databases after the selected one.
    after: &'a mut [Db],
    /// The client's reply buffer.
    pub reply: &'a mut Reply,
    /// The client's state.
    pub client: &'a mut ClientState,
    /// The other clients (CLIENT LIST, CLIENT KILL): see `clients`.
    clients: &'a mut Clients,
    /// Server state: see `server`.
    core: &'a mut Core,
    /// This command's spec.
    pub spec: &'static CommandSpec,
    /// Wall clock for expiry decisions, Unix ms (LOADING_NOW while loading).
    pub now_ms: i64,
    /// Changes made by this command; `call` feeds the AOF when non-zero.
    pub dirty: u64,
    redaction: &'a mut Redaction,
    /// Set by `block`.
    block: Option<BlockRequest>,
}

impl<'a> Ctx<'a> {
    /// A handler's context for one command (`call` makes it).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        dbs: &'a mut [Db],
        db_index: usize,
        reply: &'a mut Reply,
        client: &'a mut ClientState,
        clients: &'a mut Clients,
        core: &'a mut Core,
        spec: &'static CommandSpec,
        now_ms: i64,
        redaction: &'a mut Redaction,
    ) -> Ctx<'a> {
        let (before, rest) = dbs.split_at_mut(db_index);
        let (db, after) = rest.split_first_mut().expect("db index in range");
        Ctx {
            db,
            db_index,
            before,
            after,
            reply,
            client,
            clients,
            core,
            spec,
            now_ms,
            dirty: 0,
            redaction,
            block: None,
        }
    }

    /// Asks that the client wait (a blocking command with nothing to serve
    /// yet): the handler returns `Ok(())` having changed and answered
    /// nothing; `call` then answers `Outcome::Block(req)`, the loop parks
    /// the client with its command kept, and the command runs again, from
    /// `process_command`, when the wait ends (with the deadline in
    /// `ClientState::block_deadline_ms`).
    pub fn block(&mut self, req: BlockRequest) {
        self.block = Some(req);
    }

    /// `block` for a blocking pop: wait until one of `keys` (of the selected
    /// database) holds a list, or until `deadline_ms` (Unix ms; 0 for
    /// ever). Repeated keys count once.
    pub fn block_on_keys(&mut self, keys: Vec<Vec<u8>>, deadline_ms: i64) {
        self.block_on_keys_for(crate::blocked::BlockReason::List, keys, deadline_ms);
    }

    /// `block_on_keys` for a wait of another kind (a sorted-set pop waits
    /// for a key holding a sorted set).
    pub fn block_on_keys_for(
        &mut self,
        reason: crate::blocked::BlockReason,
        keys: Vec<Vec<u8>>,
        deadline_ms: i64,
    ) {
        let mut unique: Vec<Vec<u8>> = Vec::with_capacity(keys.len());
        for k in keys {
            if !unique.contains(&k) {
                unique.push(k);
            }
        }
        self.block = Some(BlockRequest {
            reason,
            deadline_ms,
            db: self.db_index,
            keys: unique,
        });
    }

    /// The deadline of a blocking command (Unix ms; 0: none): on its first
    /// run from its timeout argument (seconds, decimals allowed, Redis's
    /// errors), when it runs again after a wait the one it was parked with.
    pub fn block_deadline(&self, timeout: &[u8]) -> Result<i64, CmdError> {
        let ms = num::parse_timeout_secs(timeout).map_err(|e| match e {
            num::TimeoutError::NotFloat => {
                CmdError::Static("ERR timeout is not a float or out of range")
            }
            num::TimeoutError::Negative => CmdError::Static("ERR timeout is negative"),
        })?;
        if self.client.block_deadline_ms != 0 {
            return Ok(self.client.block_deadline_ms);
        }
        Ok(if ms > 0 {
            self.now_ms.saturating_add(ms)
        } else {
            0
        })
    }

    /// Whether a blocking command with nothing to serve must answer now
    /// with its timeout reply instead of waiting: it runs again past its
    /// deadline (or was let go by CLIENT UNBLOCK ... TIMEOUT), or its client
    /// may not wait (`Flags::DENY_BLOCKING`: the AOF loader, as Redis's),
    /// even with a timeout of 0.
    pub fn must_not_wait(&self, deadline_ms: i64) -> bool {
        self.client.has(Flags::DENY_BLOCKING) || (deadline_ms != 0 && self.now_ms >= deadline_ms)
    }

    /// What `block` asked for, if anything.
    pub(super) fn take_block(&mut self) -> Option<BlockRequest> {
        self.block.take()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.core.config
    }

    /// Whether the AOF is being replayed.
    pub fn loading(&self) -> bool {
        self.core.loading
    }

    /// The selected database, the reply, the client and the server's
    /// random source at once (random picks from a value in the database).
    pub fn split(&mut self) -> (&mut Db, &mut Reply, &mut ClientState, &mut Rng) {
        (
            &mut *self.db,
            &mut *self.reply,
            &mut *self.client,
            &mut self.core.rng,
        )
    }

    /// Frees a value on the lazyfree thread when it is big (UNLINK,
    /// FLUSHALL ASYNC), or here.
    pub fn free_later(&mut self, v: Value) {
        self.core.lazyfree.free_value(v);
    }

    /// The whole server state, for the commands whose subject it is
    /// (CONFIG, INFO, CLIENT, DEBUG, SLOWLOG, LATENCY, MEMORY, BGREWRITEAOF,
    /// SHUTDOWN...). Data-type commands use the accessors above.
    pub fn server(&self) -> &Core {
        self.core
    }

    /// `server`, to change it.
    pub fn server_mut(&mut self) -> &mut Core {
        self.core
    }

    /// The other clients (CLIENT LIST, INFO clients).
    pub fn clients(&self) -> &Clients {
        self.clients
    }

    /// `clients`, to change them (CLIENT KILL, CLIENT PAUSE...).
    pub fn clients_mut(&mut self) -> &mut Clients {
        self.clients
    }

    /// Server state, the other clients and this client's reply and state at
    /// once, for server commands that need several together.
    pub fn server_parts(&mut self) -> ServerParts<'_> {
        ServerParts {
            core: &mut *self.core,
            clients: &mut *self.clients,
            reply: &mut *self.reply,
            client: &mut *self.client,
        }
    }

    /// The hash encoding thresholds from the config.
    pub fn hash_limits(&self) -> HashLimits {
        HashLimits {
            max_entries: self.core.config.hash_max_listpack_entries.max(0) as usize,
            max_value: self.core.config.hash_max_listpack_value.max(0) as usize,
        }
    }

    /// The sorted-set encoding thresholds from the config.
    pub fn zset_limits(&self) -> crate::db::zset::ZsetLimits {
        crate::db::zset::ZsetLimits {
            max_entries: self.core.config.zset_max_listpack_entries.max(0) as usize,
            max_value: self.core.config.zset_max_listpack_value.max(0) as usize,
        }
    }

    /// The list node limits from the config (`list-max-listpack-size`,
    /// `list-compress-depth`).
    pub fn list_limits(&self) -> ListLimits {
        ListLimits {
            fill: self.core.config.list_max_listpack_size as i32,
            compress_depth: self
                .core
                .config
                .list_compress_depth
                .clamp(0, u32::MAX as i64) as u32,
        }
    }

    /// `set-max-intset-entries`: most members of a packed integer set.
    pub fn set_max_intset_entries(&self) -> usize {
        self.core.config.set_max_intset_entries.max(0) as usize
    }

    /// Number of databases.
    pub fn db_count(&self) -> usize {
        self.before.len() + 1 + self.after.len()
    }

    /// Database `i` other than the selected one.
    pub fn other_db(&mut self, i: usize) -> Option<&mut Db> {
        if i < self.db_index {
            self.before.get_mut(i)
        } else if i > self.db_index {
            self.after.get_mut(i - self.db_index - 1)
        } else {
            None
        }
    }

    /// Database `i`, selected or not.
    pub fn db_at(&mut self, i: usize) -> Option<&mut Db> {
        if i == self.db_index {
            Some(self.db)
        } else {
            self.other_db(i)
        }
    }

    /// Every database in order.
    pub fn all_dbs(&mut self) -> impl Iterator<Item = &mut Db> {
        self.before
            .iter_mut()
            .chain(std::iter::once(&mut *self.db))
            .chain(self.after.iter_mut())
    }

    /// Exchanges the keys of two databases (SWAPDB); each keeps its
    /// number and hooks (`Db::swap_keyspace`).
    pub fn swap_dbs(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        let (lo, hi) = (a.min(b), a.max(b));
        let cur = self.db_index;
        let now = self.now_ms;
        let (x, y): (&mut Db, &mut Db) = if lo == cur {
            (&mut *self.db, &mut self.after[hi - cur - 1])
        } else if hi == cur {
            (&mut self.before[lo], &mut *self.db)
        } else if hi < cur {
            let (l, r) = self.before.split_at_mut(hi);
            (&mut l[lo], &mut r[0])
        } else if lo > cur {
            let (l, r) = self.after.split_at_mut(hi - cur - 1);
            (&mut l[lo - cur - 1], &mut r[0])
        } else {
            (&mut self.before[lo], &mut self.after[hi - cur - 1])
        };
        Db::swap_keyspace(x, y, now);
    }

    /// Redis's `notifyKeyspaceEvent` for the selected database: event
    /// `event` of `class` (`crate::notify`) on `key`. Call it after the
    /// change, where Redis's command does.
    #[inline]
    pub fn notify(&self, class: u32, event: &'static str, key: &[u8]) {
        crate::notify::notify_keyspace_event(class, event, key, self.db_index);
    }

    /// Ends a command that removed `removed` members from the collection at
    /// `key` (HDEL, SREM), in Redis's order: the key goes if `emptied` (else
    /// it is signalled as changed), then event `event` of `class` and, for
    /// a removed key, `del`; the removals count as changes and are the
    /// reply.
    pub fn members_removed(
        &mut self,
        key: &[u8],
        removed: usize,
        emptied: bool,
        class: u32,
        event: &'static str,
    ) {
        if emptied {
            self.db.remove(key); // signals the key
        } else if removed > 0 {
            self.db.signal_modified_key(key);
        }
        if removed > 0 {
            self.notify(class, event, key);
            if emptied {
                self.notify(crate::notify::GENERIC, "del", key);
            }
        }
        self.dirty += removed as u64;
        self.reply.int(removed as i64);
    }

    /// Hides argument `i` (a password) from the slow log and MONITOR, as
    /// Redis's `redactClientCommandArgument`.
    pub fn redact(&mut self, i: usize) {
        if i < 64 {
            self.redaction.bits |= 1 << i;
        }
    }

    /// Propagates `argv` (to the AOF, later to replicas) instead of the
    /// command as received: the form that replays exactly (SET EX as SET
    /// PXAT, INCRBYFLOAT as SET KEEPTTL, ...). Called several times, it
    /// propagates several commands, wrapped in MULTI/EXEC.
    pub fn propagate_as(&mut self, argv: &[&[u8]]) {
        self.core
            .propagator
            .also_propagate(self.db_index, argv.iter().copied());
    }
}
