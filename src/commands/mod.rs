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

pub(crate) mod args;
pub(crate) mod bitops;
pub(crate) mod connection;
pub(crate) mod ctx;
pub(crate) mod debug;
#[cfg(test)]
mod events_tests;
pub(crate) mod functions;
pub(crate) mod geo;
pub(crate) mod hashes;
pub(crate) mod hyperloglog;
pub(crate) mod info;
pub(crate) mod keys;
pub(crate) mod latency;
pub(crate) mod lists;
pub(crate) mod memory;
pub(crate) mod migrate;
pub(crate) mod multi;
pub(crate) mod observe;
pub(crate) mod persistence;
pub(crate) mod process;
pub(crate) mod pubsub;
pub(crate) mod rdbcmds;
pub(crate) mod rename;
pub(crate) mod repl;
pub(crate) mod scripting;
pub(crate) mod server;
pub(crate) mod sets;
pub(crate) mod slowlog;
pub(crate) mod sort;
pub(crate) mod spec;
pub(crate) mod streams;
pub(crate) mod strings;
pub(crate) mod table;
pub(crate) mod tracking;
pub(crate) mod zsetops;
pub(crate) mod zsets;

pub use ctx::Ctx;
pub(crate) use process::call_counted;
pub use process::{call, process_command, Exec, Outcome};
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
    /// The ids of the commands a transaction treats apart.
    pub tx: TxIds,
}

/// The ids of the commands MULTI does not queue, and EXEC's, which `call`
/// runs itself (`u32::MAX`: not in the table).
#[derive(Debug, Clone, Copy)]
pub struct TxIds {
    /// EXEC.
    pub exec: u32,
    /// DISCARD.
    pub discard: u32,
    /// MULTI.
    pub multi: u32,
    /// WATCH.
    pub watch: u32,
    /// QUIT.
    pub quit: u32,
    /// RESET.
    pub reset: u32,
    /// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, FCALL, FCALL_RO: `call` runs
    /// them through `crate::scripting::run`.
    pub scripts: [u32; 6],
}

impl TxIds {
    /// Whether a client in MULTI runs command `id` rather than queue it
    /// (Redis's list in `processCommand`).
    #[inline]
    pub fn runs_in_multi(&self, id: u32) -> bool {
        id == self.exec
            || id == self.discard
            || id == self.multi
            || id == self.watch
            || id == self.quit
            || id == self.reset
    }

    /// Whether command `id` runs a script or a function.
    #[inline]
    pub fn is_script(&self, id: u32) -> bool {
        self.scripts.contains(&id)
    }
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
        let id = |n: &str| by_name.get(n.as_bytes()).copied().unwrap_or(u32::MAX);
        let tx = TxIds {
            exec: id("exec"),
            discard: id("discard"),
            multi: id("multi"),
            watch: id("watch"),
            quit: id("quit"),
            reset: id("reset"),
            scripts: [
                id("eval"),
                id("evalsha"),
                id("eval_ro"),
                id("evalsha_ro"),
                id("fcall"),
                id("fcall_ro"),
            ],
        };
        CommandTable {
            by_name,
            all,
            stats,
            histograms,
            renamed: None,
            tx,
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

    /// Whether the AOF loader accepts a command named `name` with `argc`
    /// arguments (name included): known by its original name (or else its
    /// new one, see `lookup_original`), with a valid number of arguments.
    /// The error says why not, in the words the loader and
    /// gostore-check-aof report.
    pub fn replayable(&self, name: &[u8], argc: usize) -> Result<(), String> {
        let Some(id) = self.lookup_original(name) else {
            return Err(format!(
                "Unknown command '{}'",
                String::from_utf8_lossy(name)
            ));
        };
        let spec = self.spec(id);
        if !spec.arity_ok(argc) && spec.subcommands.is_empty() {
            return Err(format!("Wrong number of arguments for '{}'", spec.fullname));
        }
        Ok(())
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

/// Per-command scratch `call` keeps across commands.
#[derive(Debug, Default)]
pub struct Redaction {
    /// Bit i set: argument i is hidden from the slow log and MONITOR.
    bits: u64,
}
