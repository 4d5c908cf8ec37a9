//! Commands: the table, dispatch and `call`.
//!
//! `execute` is Redis's `processCommand`: look the command up (and its
//! subcommand), check arity, authentication and the AOF's health, then
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
pub mod persistence;
pub mod server;
pub mod spec;
pub mod strings;
pub mod table;

use std::time::Instant;

use crate::client::{ClientState, Clients};
use crate::core::Core;
use crate::db::hash::HashLimits;
use crate::db::Db;
use crate::error::CmdError;
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
        CommandTable {
            by_name,
            all,
            stats,
        }
    }

    /// The id of a top-level command, case-insensitively.
    pub fn lookup(&self, name: &[u8]) -> Option<u32> {
        let mut buf = [0u8; MAX_NAME * 2 + 1];
        let key = lower_into(&mut buf, &[name])?;
        if key.contains(&b'|') {
            return None;
        }
        self.by_name.get(key).copied()
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

    /// Top-level commands only.
    pub fn top_level(&self) -> impl Iterator<Item = &'static CommandSpec> {
        table::COMMANDS.iter()
    }

    /// Zeroes every command's stats (CONFIG RESETSTAT).
    pub fn reset_stats(&mut self) {
        for s in &mut self.stats {
            *s = CommandStats::default();
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
}

impl Propagation {
    fn reset(&mut self) {
        self.mode = PropagateMode::Verbatim;
        self.buf.clear();
    }

    /// The rewritten commands, RESP-encoded.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }
}

/// Appends `argv` as a RESP array to `out` (the AOF's format).
pub fn encode_command<'a>(out: &mut Vec<u8>, argv: impl ExactSizeIterator<Item = &'a [u8]>) {
    let mut tmp = [0u8; crate::util::num::MAX_I64_LEN];
    out.push(b'*');
    out.extend_from_slice(crate::util::num::fmt_i64(argv.len() as i64, &mut tmp));
    out.extend_from_slice(b"\r\n");
    for a in argv {
        out.push(b'$');
        out.extend_from_slice(crate::util::num::fmt_i64(a.len() as i64, &mut tmp));
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
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

    /// Writes `argv` to the AOF instead of the command as received. May be
    /// called several times to write several commands.
    pub fn propagate_as(&mut self, argv: &[&[u8]]) {
        if self.prop.mode == PropagateMode::Verbatim {
            self.prop.buf.clear();
            self.prop.mode = PropagateMode::Rewritten;
        }
        encode_command(&mut self.prop.buf, argv.iter().copied());
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
    if spec.has(spec::WRITE) && !x.core.loading {
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

/// Finds the command (or subcommand) id.
fn resolve(core: &Core, args: &Args<'_>) -> Result<u32, CmdError> {
    let name = args.get(0);
    let Some(id) = core.commands.lookup(name) else {
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
    let now_ms = if x.core.loading {
        crate::db::LOADING_NOW
    } else {
        crate::util::time::unix_ms()
    };
    x.prop.reset();
    let start = Instant::now();
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
    let result = handler(&mut ctx, args);
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
                PropagateMode::Verbatim => x.core.aof.feed_args(db_index, args),
                PropagateMode::Rewritten => x.core.aof.feed_raw(db_index, &x.prop.buf),
            }
            x.client.needs_aof = x.core.aof.end_offset();
        }
    }
}
