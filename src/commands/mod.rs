//! Commands: the table, dispatch and `call`.
//!
//! `execute` is Redis's `processCommand`: look the command up (and its
//! subcommand), check arity, authentication, maxmemory (evicting, or
//! refusing `denyoom` commands with -OOM) and the AOF's health, then
//! `call` it. `call` runs the handler, counts it, and feeds the AOF: first
//! the `DEL`s of keys that expired during the command, then the command
//! itself (verbatim, or as the handler rewrote it for exact replay) when it
//! changed the dataset. Handlers never touch sockets, the AOF, or protocol
//! bytes; they get a `Ctx` and reply through `Reply`.

pub mod args;
pub mod connection;
pub mod hashes;
pub mod info;
pub mod keys;
pub mod latency;
pub mod memory;
pub mod observe;
pub mod persistence;
pub mod rename;
pub mod server;
pub mod slowlog;
pub mod spec;
pub mod strings;
pub mod table;

use std::time::Instant;

use crate::client::{ClientState, Clients};
use crate::core::Core;
use crate::db::hash::HashLimits;
use crate::db::Db;
use crate::error::CmdError;
use crate::resp::encode;
use crate::resp::parser::Args;
use crate::resp::Reply;

pub use spec::CommandSpec;

/// Calls, time and errors of one command (INFO commandstats).
#[derive(Debug, Default, Clone, Copy)]
pub struct CommandStats {
    /// Times run.
    pub calls: u64,
    /// Microseconds spent.
    pub usec: u64,
    /// Refused before running (arity, auth, ...).
    pub rejected_calls: u64,
    /// Ran and replied with an error.
    pub failed_calls: u64,
}

/// The table with lookup by name and per-command stats.
pub struct CommandTable {
    by_name: crate::db::dict::Dict<u32>,
    all: Vec<&'static CommandSpec>,
    /// Stats, indexed like `all`.
    pub stats: Vec<CommandStats>,
    /// Latency histograms (INFO latencystats), indexed like `all`, made on
    /// a command's first call.
    pub histograms: Vec<Option<Box<crate::latency::Histogram>>>,
    /// `rename-command`s, if any.
    renamed: Option<Box<rename::Renamed>>,
}

/// Longest command name looked up (longer ones are unknown).
const MAX_NAME: usize = 64;

fn lower_into<'b>(buf: &'b mut [u8; MAX_NAME * 2 + 1], parts: &[&[u8]]) -> Option<&'b [u8]> {
    let mut n = 0;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            buf[n] = b'|';
            n += 1;
        }
        if p.len() > MAX_NAME {
            return None;
        }
        for &c in *p {
            buf[n] = c.to_ascii_lowercase();
            n += 1;
        }
    }
    Some(&buf[..n])
}

impl Default for CommandTable {
    fn default() -> Self {
        CommandTable::new()
    }
}

impl CommandTable {
    /// Builds the lookup from the static table.
    pub fn new() -> CommandTable {
        let mut all = Vec::new();
        for c in table::COMMANDS {
            all.push(c);
            all.extend(c.subcommands.iter());
        }
        let mut by_name = crate::db::dict::Dict::new();
        for (i, c) in all.iter().enumerate() {
            by_name.insert(c.fullname.as_bytes(), i as u32);
        }
        let stats = vec![CommandStats::default(); all.len()];
        let histograms = (0..all.len()).map(|_| None).collect();
        CommandTable {
            by_name,
            all,
            stats,
            histograms,
            renamed: None,
        }
    }

    /// Applies `rename-command`s (pairs of original and new name).
    pub fn apply_renames(&mut self, renames: &[(String, String)]) {
        if renames.is_empty() {
            self.renamed = None;
            return;
        }
        let r = rename::Renamed::new(renames, self.all.len(), |n| {
            self.by_name.get(n.as_bytes()).copied()
        });
        self.renamed = Some(Box::new(r));
    }

    /// The id of a top-level command, case-insensitively, by the name it
    /// answers to (after `rename-command`).
    pub fn lookup(&self, name: &[u8]) -> Option<u32> {
        let mut buf = [0u8; MAX_NAME * 2 + 1];
        let key = lower_into(&mut buf, &[name])?;
        if key.contains(&b'|') {
            return None;
        }
        let id = self.by_name.get(key).copied();
        match &self.renamed {
            None => id,
            Some(r) => r.lookup(key).or(id.filter(|&id| !r.is_hidden(id))),
        }
    }

    /// The id of a top-level command by its original name, or else by its
    /// new name (AOF replay: GoStore writes original names).
    pub fn lookup_original(&self, name: &[u8]) -> Option<u32> {
        let mut buf = [0u8; MAX_NAME * 2 + 1];
        let key = lower_into(&mut buf, &[name])?;
        if key.contains(&b'|') {
            return None;
        }
        self.by_name
            .get(key)
            .copied()
            .or_else(|| self.renamed.as_ref().and_then(|r| r.lookup(key)))
    }

    /// Whether any command is renamed or disabled.
    pub fn has_renames(&self) -> bool {
        self.renamed.is_some()
    }

    /// The id of `container|sub`.
    pub fn lookup_sub(&self, container: u32, sub: &[u8]) -> Option<u32> {
        let mut buf = [0u8; MAX_NAME * 2 + 1];
        let key = lower_into(
            &mut buf,
            &[self.all[container as usize].fullname.as_bytes(), sub],
        )?;
        if key.iter().filter(|&&c| c == b'|').count() != 1 {
            return None;
        }
        self.by_name.get(key).copied()
    }

    /// Finds `name` or `container|sub` (COMMAND INFO/DOCS arguments).
    pub fn find(&self, fullname: &[u8]) -> Option<&'static CommandSpec> {
        let mut buf = [0u8; MAX_NAME * 2 + 1];
        let key = lower_into(&mut buf, &[fullname])?;
        if let Some(r) = &self.renamed {
            // By the names commands answer to, as Redis's lookupCommandBySds.
            let (top, sub) = match key.iter().position(|&c| c == b'|') {
                Some(p) => (&key[..p], Some(&key[p..])),
                None => (key, None),
            };
            let id = r.lookup(top).or_else(|| {
                self.by_name
                    .get(top)
                    .copied()
                    .filter(|&id| !r.is_hidden(id))
            })?;
            let spec = self.all[id as usize];
            return match sub {
                None => Some(spec),
                Some(sub) => {
                    let mut full = spec.fullname.as_bytes().to_vec();
                    full.extend_from_slice(sub);
                    self.by_name.get(&full).map(|&i| self.all[i as usize])
                }
            };
        }
        self.by_name.get(key).map(|&i| self.all[i as usize])
    }

    /// The spec with this id.
    pub fn spec(&self, id: u32) -> &'static CommandSpec {
        self.all[id as usize]
    }

    /// Every command and subcommand, with ids.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &'static CommandSpec)> + '_ {
        self.all.iter().enumerate().map(|(i, c)| (i as u32, *c))
    }

    /// Top-level commands only, without those disabled by `rename-command`
    /// (renamed ones are listed under their original name, as Redis does).
    pub fn top_level(&self) -> impl Iterator<Item = &'static CommandSpec> + '_ {
        table::COMMANDS.iter().filter(move |c| match &self.renamed {
            None => true,
            Some(r) => self
                .by_name
                .get(c.fullname.as_bytes())
                .is_none_or(|&id| !r.is_hidden(id) || r.answers(id)),
        })
    }

    /// Zeroes every command's stats and latency histograms (CONFIG
    /// RESETSTAT).
    pub fn reset_stats(&mut self) {
        for s in &mut self.stats {
            *s = CommandStats::default();
        }
        for h in &mut self.histograms {
            *h = None;
        }
    }
}

/// How `call` writes the command to the AOF.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum PropagateMode {
    /// The command as received.
    #[default]
    Verbatim,
    /// What the handler put in `Propagation::buf`.
    Rewritten,
}

/// The AOF form of a command, when a handler rewrites it (SET EX to SET
/// PXAT, INCRBYFLOAT to SET KEEPTTL, ...). Reused across commands.
#[derive(Debug, Default)]
pub struct Propagation {
    mode: PropagateMode,
    buf: Vec<u8>,
    /// Bit i set: argument i is hidden from the slow log and MONITOR.
    redacted: u64,
}

impl Propagation {
    fn reset(&mut self) {
        self.mode = PropagateMode::Verbatim;
        self.buf.clear();
        self.redacted = 0;
    }

    /// The rewritten commands, RESP-encoded.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }
}

/// All a handler may touch.
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
    /// The other clients (CLIENT LIST, CLIENT KILL).
    pub clients: &'a mut Clients,
    /// Server state.
    pub core: &'a mut Core,
    /// This command's spec.
    pub spec: &'static CommandSpec,
    /// Wall clock for expiry decisions, Unix ms (LOADING_NOW while loading).
    pub now_ms: i64,
    /// Changes made by this command; `call` feeds the AOF when non-zero.
    pub dirty: u64,
    prop: &'a mut Propagation,
}

impl<'a> Ctx<'a> {
    /// The hash encoding thresholds from the config.
    pub fn hash_limits(&self) -> HashLimits {
        HashLimits {
            max_entries: self.core.config.hash_max_listpack_entries.max(0) as usize,
            max_value: self.core.config.hash_max_listpack_value.max(0) as usize,
        }
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

    /// Swaps the contents of two databases (SWAPDB).
    pub fn swap_dbs(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        let (lo, hi) = (a.min(b), a.max(b));
        let db_index = self.db_index;
        let take = |i: usize, this: &mut Self| -> Db {
            let slot: &mut Db = if i == db_index {
                &mut *this.db
            } else {
                this.other_db(i).expect("index checked by caller")
            };
            std::mem::take(slot)
        };
        let lo_db = take(lo, self);
        let hi_db = take(hi, self);
        let put = |i: usize, v: Db, this: &mut Self| {
            let slot: &mut Db = if i == db_index {
                &mut *this.db
            } else {
                this.other_db(i).expect("index checked by caller")
            };
            *slot = v;
        };
        put(lo, hi_db, self);
        put(hi, lo_db, self);
    }

    /// Hides argument `i` (a password) from the slow log and MONITOR, as
    /// Redis's `redactClientCommandArgument`.
    pub fn redact(&mut self, i: usize) {
        if i < 64 {
            self.prop.redacted |= 1 << i;
        }
    }

    /// Writes `argv` to the AOF instead of the command as received. May be
    /// called several times to write several commands.
    pub fn propagate_as(&mut self, argv: &[&[u8]]) {
        if self.prop.mode == PropagateMode::Verbatim {
            self.prop.buf.clear();
            self.prop.mode = PropagateMode::Rewritten;
        }
        encode::command(&mut self.prop.buf, argv.iter().copied());
    }
}

/// Everything `execute` needs, borrowed from the server for one command.
pub struct Exec<'a> {
    /// All databases.
    pub dbs: &'a mut [Db],
    /// The client.
    pub client: &'a mut ClientState,
    /// Its reply buffer.
    pub reply: &'a mut Reply,
    /// The other clients.
    pub clients: &'a mut Clients,
    /// Server state.
    pub core: &'a mut Core,
    /// Scratch for rewritten propagation.
    pub prop: &'a mut Propagation,
}

/// Redis's `processCommand`: lookup, checks, then `call`. Errors go to the
/// client's reply.
pub fn execute(x: &mut Exec<'_>, args: &Args<'_>) {
    let id = match resolve(x.core, args) {
        Ok(id) => id,
        Err(e) => {
            reject(x, &e, None);
            return;
        }
    };
    let spec = x.core.commands.spec(id);
    if !spec.arity_ok(args.len()) {
        reject(x, &CmdError::Arity(spec.fullname), Some(id));
        return;
    }
    if !x.client.authenticated && !spec.has(spec::NO_AUTH) && !x.core.config.requirepass.is_empty()
    {
        reject(x, &CmdError::NoAuth, Some(id));
        return;
    }
    // maxmemory: evict first; when nothing can go, refuse what may grow
    // memory (reads and deletes still run).
    if x.core.config.maxmemory > 0 {
        let oom = crate::evict::perform_evictions(x.dbs, x.core) == crate::evict::Outcome::Fail;
        if oom && spec.has(spec::DENYOOM) {
            reject(x, &CmdError::Oom, Some(id));
            return;
        }
    }
    // PING fails too, as in Redis: a health check must see that writes are
    // refused.
    if (spec.has(spec::WRITE) || spec.fullname == "ping") && !x.core.loading {
        if let Some(e) = x.core.aof.write_error() {
            reject(
                x,
                &CmdError::msg(format!("MISCONF Errors writing to the AOF file: {e}")),
                Some(id),
            );
            return;
        }
    }
    call(x, id, args);
}

/// Finds the command (or subcommand) id. While the AOF loads, original
/// names come first (see `rename`).
#[inline]
pub(crate) fn resolve(core: &Core, args: &Args<'_>) -> Result<u32, CmdError> {
    let name = args.get(0);
    let found = if core.loading {
        core.commands.lookup_original(name)
    } else {
        core.commands.lookup(name)
    };
    match found {
        Some(id) if core.commands.spec(id).subcommands.is_empty() || args.len() < 2 => Ok(id),
        _ => resolve_slow(core, args, found),
    }
}

/// `resolve` for containers and unknown commands.
#[inline(never)]
fn resolve_slow(core: &Core, args: &Args<'_>, found: Option<u32>) -> Result<u32, CmdError> {
    let name = args.get(0);
    let Some(id) = found else {
        let mut list = String::new();
        for a in args.iter_from(1) {
            if list.len() >= 128 {
                break;
            }
            let room = 128 - list.len();
            let shown = String::from_utf8_lossy(&a[..a.len().min(room)]).into_owned();
            list.push_str(&format!("'{shown}' "));
        }
        let shown = String::from_utf8_lossy(&name[..name.len().min(128)]).into_owned();
        return Err(CmdError::msg(format!(
            "ERR unknown command '{shown}', with args beginning with: {list}"
        )));
    };
    let spec = core.commands.spec(id);
    if spec.subcommands.is_empty() || args.len() < 2 {
        return Ok(id);
    }
    match core.commands.lookup_sub(id, args.get(1)) {
        Some(sub) => Ok(sub),
        None => {
            let sub = args.get(1);
            let shown = String::from_utf8_lossy(&sub[..sub.len().min(128)]).into_owned();
            let cmd = String::from_utf8_lossy(name).to_ascii_uppercase();
            Err(CmdError::msg(format!(
                "ERR unknown subcommand '{shown}'. Try {cmd} HELP."
            )))
        }
    }
}

fn reject(x: &mut Exec<'_>, e: &CmdError, id: Option<u32>) {
    x.reply.error(e);
    x.core.stats.count_error(&e.code());
    if let Some(id) = id {
        x.core.commands.stats[id as usize].rejected_calls += 1;
    }
}

/// Runs a command that passed the checks, and feeds the AOF.
pub fn call(x: &mut Exec<'_>, id: u32, args: &Args<'_>) {
    let spec = x.core.commands.spec(id);
    let Some(handler) = spec.handler else {
        // A container called with no subcommand: arity forbids it, but be safe.
        x.reply.error(&CmdError::Arity(spec.fullname));
        return;
    };
    let db_index = x.client.db.min(x.dbs.len() - 1);
    x.prop.reset();
    let start = Instant::now();
    let now_ms = if x.core.loading {
        crate::db::LOADING_NOW
    } else {
        x.core.clock.unix_ms_at(start)
    };
    let (before, rest) = x.dbs.split_at_mut(db_index);
    let (db, after) = rest.split_first_mut().expect("db index in range");
    let mut ctx = Ctx {
        db,
        db_index,
        before,
        after,
        reply: x.reply,
        client: x.client,
        clients: x.clients,
        core: x.core,
        spec,
        now_ms,
        dirty: 0,
        prop: x.prop,
    };
    // CLIENT NO-TOUCH: this client's lookups leave the keys' LRU/LFU data
    // alone, except TOUCH's, whose purpose that is.
    let no_touch = ctx.client.no_touch && spec.fullname != "touch";
    if no_touch {
        crate::db::lru::set_no_touch(true);
    }
    let result = handler(&mut ctx, args);
    if no_touch {
        crate::db::lru::set_no_touch(false);
    }
    let dirty = ctx.dirty;
    let elapsed = start.elapsed().as_micros() as u64;
    let stats = &mut x.core.commands.stats[id as usize];
    stats.calls += 1;
    stats.usec += elapsed;
    if let Err(e) = &result {
        stats.failed_calls += 1;
        x.reply.error(e);
        x.core.stats.count_error(&e.code());
    }
    x.core.stats.total_commands_processed += 1;
    x.client.last_cmd = spec.fullname;
    let redacted = x.prop.redacted;
    observe::after_call(x, id, args, elapsed, redacted);

    // Feed the AOF: expiry DELs first (they happened before the command's
    // own effect), then the command.
    let loading = x.core.loading;
    for (i, db) in x.dbs.iter_mut().enumerate() {
        if !db.expired.is_empty() {
            for key in db.take_expired() {
                if !loading {
                    x.core.aof.feed_del(i, &key);
                }
            }
        }
    }
    if dirty > 0 {
        x.core.dirty += dirty;
        if !loading {
            match x.prop.mode {
                PropagateMode::Verbatim if x.core.commands.has_renames() => {
                    // Called by a new name: the AOF gets the original one.
                    let original = spec.fullname.split('|').next().unwrap_or(spec.fullname);
                    if args.get(0).eq_ignore_ascii_case(original.as_bytes()) {
                        x.core.aof.feed_args(db_index, args)
                    } else {
                        x.prop.buf.clear();
                        encode::command(
                            &mut x.prop.buf,
                            std::iter::once(original.as_bytes())
                                .chain(args.iter_from(1))
                                .collect::<Vec<_>>()
                                .into_iter(),
                        );
                        x.core.aof.feed_raw(db_index, &x.prop.buf);
                    }
                }
                PropagateMode::Verbatim => x.core.aof.feed_args(db_index, args),
                PropagateMode::Rewritten => x.core.aof.feed_raw(db_index, &x.prop.buf),
            }
            x.client.needs_aof = x.core.aof.end_offset();
        }
    }
}
