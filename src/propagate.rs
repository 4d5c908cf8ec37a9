//! `propagate`: the one way out for every change to the dataset, as Redis's
//! `alsoPropagate` / `propagatePendingCommands`.
//!
//! What changed the data leaves the server only through here: a command's
//! effect (as received, or as its handler rewrote it for exact replay), the
//! `DEL`s of keys that expired or were evicted, and later the effects of
//! transactions, scripts and served blocking pops. Two consumers get the
//! same bytes from `emit`: the AOF and the replication stream
//! (`repl::ReplStream`, its backlog and the replicas' output).
//!
//! An **execution unit** (a command; later a transaction or a script) adds
//! its operations with `also_propagate`; when the outermost unit ends,
//! `end_unit` sends them on, wrapped in `MULTI`/`EXEC` when there are
//! several, so a consumer applies all or none. Deletions of expired and
//! evicted keys happen outside any command's effect and leave at once
//! (`propagate_del`), before the command that triggered them.
//!
//! `SELECT` is this layer's business: each consumer's stream remembers the
//! database it has selected (the AOF's restarts with each new incr file,
//! see `Aof::stream_epoch`), and an operation for another database is
//! preceded by a `SELECT`.

use crate::aof::Aof;
use crate::resp::encode::command as encode_command;

/// The largest unit buffer kept for reuse between units.
const KEEP_BYTES: usize = 1024 * 1024;

/// Pending operations and the consumers' stream state.
#[derive(Debug, Default)]
pub struct Propagator {
    /// The operations of the unit in progress, RESP-encoded back to back.
    buf: Vec<u8>,
    /// Each operation's database and where it ends in `buf`.
    ops: Vec<(usize, usize)>,
    /// Nesting of execution units; operations leave when it returns to 0.
    depth: u32,
    /// The database the AOF stream has selected, in which stream epoch.
    aof_db: Option<(u64, usize)>,
    /// Scratch for SELECT commands.
    scratch: Vec<u8>,
    /// The replication stream: fed once a replica has synced.
    pub repl: crate::repl::ReplStream,
}

impl Propagator {
    /// Starts an execution unit (nested ones join the outermost).
    pub fn begin_unit(&mut self) {
        self.depth += 1;
    }

    /// Adds an operation to the unit in progress: `argv` for database `db`.
    pub fn also_propagate<'a>(&mut self, db: usize, argv: impl ExactSizeIterator<Item = &'a [u8]>) {
        encode_command(&mut self.buf, argv);
        self.ops.push((db, self.buf.len()));
    }

    /// Operations added to the unit in progress so far: a mark for
    /// `truncate`, and the count a command compares with to see whether its
    /// handler propagated anything.
    pub fn pending(&self) -> usize {
        self.ops.len()
    }

    /// Drops the operations added after `mark` (those of a command that
    /// changed nothing, or of the AOF being replayed).
    pub fn truncate(&mut self, mark: usize) {
        if mark < self.ops.len() {
            self.ops.truncate(mark);
            let end = self.ops.last().map_or(0, |&(_, end)| end);
            self.buf.truncate(end);
        }
    }

    /// Ends an execution unit. When it was the outermost, its operations
    /// leave: one as it is, several inside `MULTI`/`EXEC` (the `MULTI` in
    /// the first operation's database, so its `SELECT` comes first).
    pub fn end_unit(&mut self, aof: &mut Aof) {
        self.depth = self.depth.saturating_sub(1);
        if self.depth > 0 || self.ops.is_empty() {
            return;
        }
        let buf = std::mem::take(&mut self.buf);
        let ops = std::mem::take(&mut self.ops);
        let wrap = ops.len() > 1;
        if wrap {
            let mut multi = Vec::with_capacity(16);
            encode_command(&mut multi, [&b"MULTI"[..]].into_iter());
            self.emit(aof, ops[0].0, &multi);
        }
        let mut start = 0;
        for &(db, end) in &ops {
            self.emit(aof, db, &buf[start..end]);
            start = end;
        }
        if wrap {
            let mut exec = Vec::with_capacity(16);
            encode_command(&mut exec, [&b"EXEC"[..]].into_iter());
            let db = ops[ops.len() - 1].0;
            self.emit(aof, db, &exec);
        }
        // Keep the storage for the next unit, unless a big value made it
        // big: one 4 MB SET must not hold 4 MB for good.
        if buf.capacity() <= KEEP_BYTES {
            self.buf = buf;
            self.buf.clear();
        }
        self.ops = ops;
        self.ops.clear();
    }

    /// `DEL key` in database `db`, now: a key that expired or was evicted.
    pub fn propagate_del(&mut self, aof: &mut Aof, db: usize, key: &[u8]) {
        let mut del = std::mem::take(&mut self.scratch);
        del.clear();
        encode_command(&mut del, [&b"DEL"[..], key].into_iter());
        self.emit(aof, db, &del);
        self.scratch = del;
    }

    /// Sends one encoded command for database `db` to every consumer,
    /// selecting the database first where a stream has another one.
    fn emit(&mut self, aof: &mut Aof, db: usize, command: &[u8]) {
        self.repl.feed_command(Some(db), command);
        if !aof.logging() {
            return;
        }
        let epoch = aof.stream_epoch();
        if self.aof_db != Some((epoch, db)) {
            let mut tmp = [0u8; crate::util::num::MAX_I64_LEN];
            let n = crate::util::num::fmt_i64(db as i64, &mut tmp);
            let mut select = Vec::with_capacity(32);
            encode_command(&mut select, [&b"SELECT"[..], n].into_iter());
            aof.feed(&select);
            self.aof_db = Some((epoch, db));
        }
        aof.feed(command);
    }
}
