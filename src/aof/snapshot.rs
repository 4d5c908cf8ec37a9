//! The compact form of the dataset (a base file) and the forked child that
//! writes it.
//!
//! The base is RESP commands, as Redis 7.0 writes them with
//! `aof-use-rdb-preamble no`: a `SELECT` per non-empty database; strings
//! without a TTL in `MSET` batches, a string with a TTL as `SET`; hashes as
//! `HSET` with at most `ITEMS_PER_CMD` fields per command; each TTL as an
//! absolute `PEXPIREAT`. Redis's own loader and `redis-check-aof` read it.
//!
//! The child (`fork_child`) sees the parent's memory as it was at `fork()`,
//! copy-on-write. Only the forking thread exists in the child, and the
//! parent's other threads (aof-fsync, lazyfree, the logger's callers) may
//! have held locks at that instant, so the child stays minimal: no `log`,
//! no stdout/stderr, no signal pipe. It writes the file, fsyncs it, reports
//! through a pipe (`ok <cow bytes>` or `err <reason>`), and leaves with
//! `_exit`. glibc makes `malloc` usable after `fork()`, which is all the
//! allocation the writer needs.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use crate::db::value::{Value, ValueRef};
use crate::db::Db;
use crate::resp::encode;
use crate::util::num::{fmt_i64, MAX_I64_LEN};

/// Fields, keys or values per variadic command (Redis's
/// `AOF_REWRITE_ITEMS_PER_CMD`).
pub const ITEMS_PER_CMD: usize = 64;
/// Flush the write buffer at this size.
const FLUSH_AT: usize = 256 * 1024;
/// Values at least this long skip the buffer.
const DIRECT_WRITE: usize = 64 * 1024;
/// With incremental fsync, fsync every this many bytes (Redis's
/// `REDIS_AUTOSYNC_BYTES`), so the final fsync has little left to do.
const AUTOSYNC_BYTES: u64 = 32 * 1024 * 1024;

/// How the base is written.
#[derive(Debug, Clone, Default)]
pub struct BaseOptions {
    /// Sleep this many µs after each key (Redis's hidden `rdb-key-save-delay`,
    /// for tests: it widens the window in which a rewrite runs). Negative:
    /// sleep 1 µs every `-n` keys.
    pub key_delay_us: i32,
    /// fsync every 32 MB while writing (`aof-rewrite-incremental-fsync`).
    pub incremental_fsync: bool,
    /// Start with a `#TS:` annotation (`aof-timestamp-enabled`).
    pub timestamp: bool,
    /// `aof-use-rdb-preamble yes`: the base is an RDB file written with
    /// these options (Redis's default), not RESP.
    pub rdb: Option<crate::rdb::writer::SaveOptions>,
    /// The function libraries' code (`FUNCTION LOAD` commands first in a
    /// RESP base, as Redis's `rewriteFunctions`).
    pub functions: Vec<Vec<u8>>,
}

/// A buffered writer of RESP commands to a file (the bytes come from
/// `resp::encode`).
struct BaseWriter {
    file: File,
    buf: Vec<u8>,
    written: u64,
    synced: u64,
    incremental_fsync: bool,
}

impl BaseWriter {
    /// The header of a command of `n` arguments.
    fn array_len(&mut self, n: usize) {
        encode::array_len(&mut self.buf, n);
    }

    fn bulk(&mut self, b: &[u8]) -> io::Result<()> {
        if b.len() < DIRECT_WRITE {
            encode::bulk(&mut self.buf, b);
            return Ok(());
        }
        // A long value goes from the dataset to the file without a copy:
        // the bulk's header, then the value, then its CRLF.
        encode::header(&mut self.buf, encode::prefix::BULK, b.len() as i64);
        self.flush()?;
        self.write_out(b)?;
        self.buf.extend_from_slice(encode::CRLF);
        Ok(())
    }

    fn bulk_i64(&mut self, v: i64) {
        encode::bulk_i64(&mut self.buf, v);
    }

    fn maybe_flush(&mut self) -> io::Result<()> {
        if self.buf.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        let buf = std::mem::take(&mut self.buf);
        let r = self.write_out(&buf);
        self.buf = buf;
        self.buf.clear();
        r
    }

    fn write_out(&mut self, b: &[u8]) -> io::Result<()> {
        self.file.write_all(b)?;
        self.written += b.len() as u64;
        if self.incremental_fsync && self.written - self.synced >= AUTOSYNC_BYTES {
            self.file.sync_data()?;
            self.synced = self.written;
        }
        Ok(())
    }

    fn finish(mut self) -> io::Result<u64> {
        self.flush()?;
        self.file.sync_all()?;
        Ok(self.written)
    }
}

/// Writes the base for `dbs` to `path` (created or truncated) and fsyncs
/// it. Returns its size.
pub fn write_base_file(dbs: &[Db], path: &Path, o: &BaseOptions) -> io::Result<u64> {
    if let Some(rdb) = &o.rdb {
        let refs: Vec<&Db> = dbs.iter().collect();
        let rdb = crate::rdb::writer::SaveOptions {
            key_delay_us: o.key_delay_us,
            ..rdb.clone()
        };
        return crate::rdb::writer::write_file(&refs, path, &rdb).map(|(size, _)| size);
    }
    let mut w = BaseWriter {
        file: File::create(path)?,
        buf: Vec::with_capacity(FLUSH_AT + DIRECT_WRITE),
        written: 0,
        synced: 0,
        incremental_fsync: o.incremental_fsync,
    };
    if o.timestamp {
        let now = crate::util::time::unix_ms() / 1000;
        w.buf.extend_from_slice(b"#TS:");
        let mut tmp = [0u8; MAX_I64_LEN];
        w.buf.extend_from_slice(fmt_i64(now, &mut tmp));
        w.buf.extend_from_slice(b"\r\n");
    }
    for code in &o.functions {
        w.array_len(3);
        w.bulk(b"FUNCTION")?;
        w.bulk(b"LOAD")?;
        w.bulk(code)?;
    }
    let mut keys: u64 = 0;
    // Strings without a TTL wait here for an MSET.
    let mut batch: Vec<(&[u8], &[u8])> = Vec::with_capacity(ITEMS_PER_CMD);
    for (i, db) in dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        w.array_len(2);
        w.bulk(b"SELECT")?;
        w.bulk_i64(i as i64);
        for (key, value) in db.dict.iter() {
            let expire = db.expire_of(key);
            write_value(&mut w, &mut batch, key, value, expire.is_some())?;
            if let Some(when) = expire {
                w.array_len(3);
                w.bulk(b"PEXPIREAT")?;
                w.bulk(key)?;
                w.bulk_i64(when);
            }
            w.maybe_flush()?;
            keys += 1;
            key_delay(o.key_delay_us, keys);
        }
        write_mset(&mut w, &mut batch)?;
    }
    w.finish()
}

/// The commands that recreate `key` holding `value` (its TTL aside). A
/// string without a TTL joins `batch`, for one MSET per `ITEMS_PER_CMD`.
fn write_value<'a>(
    w: &mut BaseWriter,
    batch: &mut Vec<(&'a [u8], &'a [u8])>,
    key: &'a [u8],
    value: &'a Value,
    has_ttl: bool,
) -> io::Result<()> {
    match value.view() {
        ValueRef::Str(s) if !has_ttl => {
            batch.push((key, s));
            if batch.len() == ITEMS_PER_CMD {
                write_mset(w, batch)?;
            }
        }
        ValueRef::Str(s) => {
            w.array_len(3);
            w.bulk(b"SET")?;
            w.bulk(key)?;
            w.bulk(s)?;
        }
        ValueRef::Hash(h) => {
            let mut left = h.len();
            let mut in_cmd = 0;
            for (f, v) in h.iter() {
                if in_cmd == 0 {
                    let n = left.min(ITEMS_PER_CMD);
                    w.array_len(2 + 2 * n);
                    w.bulk(b"HSET")?;
                    w.bulk(key)?;
                }
                w.bulk(f)?;
                w.bulk(v)?;
                left -= 1;
                in_cmd += 1;
                if in_cmd == ITEMS_PER_CMD {
                    in_cmd = 0;
                }
                w.maybe_flush()?;
            }
        }
        // RPUSH batches of at most ITEMS_PER_CMD elements, head to tail.
        ValueRef::List(l) => {
            let mut left = l.len();
            let mut in_cmd = 0;
            for e in l.iter() {
                if in_cmd == 0 {
                    let n = left.min(ITEMS_PER_CMD);
                    w.array_len(2 + n);
                    w.bulk(b"RPUSH")?;
                    w.bulk(key)?;
                }
                w.bulk(&e)?;
                left -= 1;
                in_cmd += 1;
                if in_cmd == ITEMS_PER_CMD {
                    in_cmd = 0;
                }
                w.maybe_flush()?;
            }
        }
        // SADD batches of at most ITEMS_PER_CMD members, in the set's order
        // (ascending for an intset), as Redis's rewriteSetObject.
        ValueRef::Set(set) => {
            let mut left = set.len();
            let mut in_cmd = 0;
            let mut buf = [0u8; crate::util::num::MAX_I64_LEN];
            for m in set.iter() {
                if in_cmd == 0 {
                    let n = left.min(ITEMS_PER_CMD);
                    w.array_len(2 + n);
                    w.bulk(b"SADD")?;
                    w.bulk(key)?;
                }
                w.bulk(m.bytes(&mut buf))?;
                left -= 1;
                in_cmd += 1;
                if in_cmd == ITEMS_PER_CMD {
                    in_cmd = 0;
                }
                w.maybe_flush()?;
            }
        }
        ValueRef::Stream(st) => write_stream(w, key, st)?,
        // ZADD batches of at most ITEMS_PER_CMD score/member pairs, lowest
        // first, scores as "%.17g" (Redis's rewriteSortedSetObject).
        ValueRef::Zset(z) => {
            let mut left = z.len();
            let mut in_cmd = 0;
            for (m, score) in z.iter() {
                if in_cmd == 0 {
                    let n = left.min(ITEMS_PER_CMD);
                    w.array_len(2 + 2 * n);
                    w.bulk(b"ZADD")?;
                    w.bulk(key)?;
                }
                w.bulk(crate::util::num::fmt_f64_g17(score).as_bytes())?;
                w.bulk(m)?;
                left -= 1;
                in_cmd += 1;
                if in_cmd == ITEMS_PER_CMD {
                    in_cmd = 0;
                }
                w.maybe_flush()?;
            }
        }
    }
    Ok(())
}

fn write_mset(w: &mut BaseWriter, batch: &mut Vec<(&[u8], &[u8])>) -> io::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    w.array_len(1 + 2 * batch.len());
    w.bulk(b"MSET")?;
    for (k, v) in batch.drain(..) {
        w.bulk(k)?;
        w.bulk(v)?;
    }
    w.maybe_flush()
}

fn key_delay(us: i32, keys: u64) {
    let sleep = match us {
        0 => return,
        n if n > 0 => n as u32,
        n if keys % (n.unsigned_abs() as u64) == 0 => 1,
        _ => return,
    };
    // SAFETY: usleep has no memory-safety preconditions.
    unsafe {
        libc::usleep(sleep);
    }
}

/// The temporary name of the base a child with `pid` writes, in the AOF
/// directory (Redis's `temp-rewriteaof-bg-<pid>.aof`).
pub fn temp_base_path(dir: &Path, pid: i32) -> PathBuf {
    dir.join(format!("temp-rewriteaof-bg-{pid}.aof"))
}

/// Whether `name` is a temporary base file (a child's, or one written at
/// shutdown: `temp-rewriteaof-<pid>.aof`).
pub fn is_temp_base_name(name: &str) -> bool {
    name.strip_prefix("temp-rewriteaof-")
        .map(|r| r.strip_prefix("bg-").unwrap_or(r))
        .and_then(|r| r.strip_suffix(".aof"))
        .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|c| c.is_ascii_digit()))
}

/// How a child ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildExit {
    /// The base is written and fsynced; `cow` bytes were copied on write;
    /// `detail` is what the child's work reported (empty for files).
    Done { cow: u64, detail: String },
    /// It failed, and said why.
    Failed(String),
    /// A signal ended it (SIGUSR1 is how the parent stops it).
    Signaled(i32),
}

/// A running rewrite child.
#[derive(Debug)]
pub struct Child {
    /// Its pid.
    pub pid: libc::pid_t,
    /// The base it writes.
    pub tmp: PathBuf,
    report: OwnedFd,
}

/// Forks a child that writes the base for `dbs` into the AOF directory
/// `dir`. Returns the child, or the fork's error.
pub fn fork_child(dbs: &[Db], dir: &Path, o: &BaseOptions) -> io::Result<Child> {
    fork_writer(
        |pid| temp_base_path(dir, pid),
        |tmp| {
            write_base_file(dbs, tmp, o).map(|_| ()).map_err(|e| {
                format!(
                    "Write error writing the AOF base file {}: {e}",
                    tmp.display()
                )
            })
        },
    )
}

/// Forks a child that runs `write` on the temporary file `tmp_of(its pid)`
/// and reports through a pipe: the rewrite's base and BGSAVE's RDB file
/// share this machinery. Returns the child, or the fork's error.
pub fn fork_writer(
    tmp_of: impl Fn(libc::pid_t) -> PathBuf,
    write: impl FnOnce(&Path) -> Result<(), String>,
) -> io::Result<Child> {
    fork_task(&[], tmp_of, |tmp| write(tmp).map(|()| String::new()))
}

/// The general form of `fork_writer`: the child keeps the descriptors in
/// `keep` open (the replicas' sockets a diskless sync writes to; every
/// other inherited descriptor is closed), and what `work` returns on
/// success reaches the parent as `ChildExit::Done`'s `detail`.
pub fn fork_task(
    keep: &[libc::c_int],
    tmp_of: impl Fn(libc::pid_t) -> PathBuf,
    work: impl FnOnce(&Path) -> Result<String, String>,
) -> io::Result<Child> {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors pipe2 returns.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded; we own both descriptors.
    let (read, write_end) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: fork(2). The child runs only `child_main`, which never returns.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        drop(read);
        child_main(&tmp_of, work, parent, write_end, keep);
    }
    drop(write_end);
    // SAFETY: fcntl on our own pipe's read end.
    unsafe {
        let fl = libc::fcntl(read.as_raw_fd(), libc::F_GETFL);
        libc::fcntl(read.as_raw_fd(), libc::F_SETFL, fl | libc::O_NONBLOCK);
    }
    Ok(Child {
        pid,
        tmp: tmp_of(pid),
        report: read,
    })
}

/// The child: work, report, `_exit`. Never returns.
fn child_main(
    tmp_of: &dyn Fn(libc::pid_t) -> PathBuf,
    work: impl FnOnce(&Path) -> Result<String, String>,
    parent: libc::pid_t,
    report: OwnedFd,
    keep: &[libc::c_int],
) -> ! {
    // SAFETY: plain libc calls on this (single-threaded) child process.
    unsafe {
        // The parent's handlers write to its signal pipe: not ours to use.
        for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGUSR1] {
            libc::signal(sig, libc::SIG_DFL);
        }
        // A child whose parent died has no one to hand its file to.
        #[cfg(target_os = "linux")]
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
        if libc::getppid() != parent {
            libc::_exit(1);
        }
    }
    // The parent's sockets (listeners, clients), files and pipes are not
    // the child's business: holding them would keep the port bound after a
    // parent crash and delay the FIN of clients the parent closes.
    let mut keep: Vec<libc::c_int> = keep.to_vec();
    keep.push(report.as_raw_fd());
    close_inherited_fds(&mut keep);
    // SAFETY: getpid has no preconditions.
    let me = unsafe { libc::getpid() };
    let tmp = tmp_of(me);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&tmp)));
    let (code, msg) = match result {
        Ok(Ok(detail)) if detail.is_empty() => (0, format!("ok {}\n", private_dirty())),
        Ok(Ok(detail)) => (0, format!("ok {} {detail}\n", private_dirty())),
        Ok(Err(e)) => (1, format!("err {e}\n")),
        Err(_) => (1, "err the child panicked\n".to_string()),
    };
    // SAFETY: write(2) and _exit(2) on our own descriptor and process.
    unsafe {
        libc::write(report.as_raw_fd(), msg.as_ptr().cast(), msg.len());
        libc::_exit(code);
    }
}

/// Closes every descriptor above stderr but those in `keep`.
fn close_inherited_fds(keep: &mut [libc::c_int]) {
    keep.sort_unstable();
    #[cfg(target_os = "linux")]
    {
        // The gaps between the kept descriptors, closed with close_range(2).
        let mut from: libc::c_uint = 3;
        let mut ok = true;
        for &k in keep.iter().filter(|&&k| k >= 3) {
            let k = k as libc::c_uint;
            if k > from {
                // SAFETY: close_range(2) only closes descriptors of this process.
                ok &= unsafe { libc::syscall(libc::SYS_close_range, from, k - 1, 0u32) } == 0;
            }
            from = from.max(k + 1);
        }
        // SAFETY: as above.
        ok &= unsafe { libc::syscall(libc::SYS_close_range, from, u32::MAX, 0u32) } == 0;
        if ok {
            return;
        }
    }
    // Without close_range: the descriptors /proc lists (collected first, so
    // the directory's own descriptor is not closed while read).
    let fds: Vec<libc::c_int> = std::fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
                .collect()
        })
        .unwrap_or_default();
    for fd in fds {
        if fd > 2 && keep.binary_search(&fd).is_err() {
            // SAFETY: closing a descriptor of this process that nothing
            // in the child uses.
            unsafe {
                libc::close(fd);
            }
        }
    }
}

/// Bytes this process wrote to pages it shares with its parent (copy-on-write
/// copies), from /proc/self/smaps_rollup, as Redis's
/// `zmalloc_get_private_dirty`. 0 where unavailable.
fn private_dirty() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/smaps_rollup") else {
        return 0;
    };
    text.lines()
        .filter_map(|l| l.strip_prefix("Private_Dirty:"))
        .filter_map(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .sum::<u64>()
        * 1024
}

impl Child {
    /// Reaps the child if it has exited (never blocks).
    pub fn try_wait(&mut self) -> Option<ChildExit> {
        let mut status = 0;
        // SAFETY: waitpid on our own child with a valid status pointer.
        let r = unsafe { libc::waitpid(self.pid, &mut status, libc::WNOHANG) };
        if r == 0 {
            return None;
        }
        if r < 0 {
            return Some(ChildExit::Failed(format!(
                "waitpid() failed: {}",
                io::Error::last_os_error()
            )));
        }
        Some(self.exit_of(status))
    }

    /// Waits for the child to exit.
    pub fn wait(&mut self) -> ChildExit {
        let mut status = 0;
        loop {
            // SAFETY: waitpid on our own child with a valid status pointer.
            let r = unsafe { libc::waitpid(self.pid, &mut status, 0) };
            if r == self.pid {
                return self.exit_of(status);
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return ChildExit::Failed(format!("waitpid() failed: {e}"));
            }
        }
    }

    /// Stops the child (SIGUSR1, as Redis's `killAppendOnlyChild`) and
    /// reaps it.
    pub fn kill(mut self) -> PathBuf {
        // SAFETY: kill(2) on our own child.
        unsafe {
            libc::kill(self.pid, libc::SIGUSR1);
        }
        self.wait();
        self.tmp
    }

    fn exit_of(&mut self, status: libc::c_int) -> ChildExit {
        if libc::WIFSIGNALED(status) {
            return ChildExit::Signaled(libc::WTERMSIG(status));
        }
        let mut buf = [0u8; 4096];
        // SAFETY: read(2) into our buffer from our pipe's read end.
        let n = unsafe { libc::read(self.report.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        let text = if n > 0 {
            String::from_utf8_lossy(&buf[..n as usize])
                .trim()
                .to_string()
        } else {
            String::new()
        };
        let code = libc::WEXITSTATUS(status);
        match (code, text.split_once(' ')) {
            (0, Some(("ok", rest))) => {
                let (cow, detail) = rest.split_once(' ').unwrap_or((rest, ""));
                ChildExit::Done {
                    cow: cow.parse().unwrap_or(0),
                    detail: detail.to_string(),
                }
            }
            (0, _) if text == "ok" => ChildExit::Done {
                cow: 0,
                detail: String::new(),
            },
            (_, Some(("err", why))) => ChildExit::Failed(why.to_string()),
            _ => ChildExit::Failed(format!("the child exited with code {code}")),
        }
    }
}

/// Redis's `rewriteStreamObject`: an XADD per entry (or `XADD key MAXLEN 0
/// 0-1 x y` for an empty stream), XSETID with the entries added and the
/// greatest deleted ID, then per group XGROUP CREATE ... ENTRIESREAD, and
/// per consumer its pending entries as XCLAIM ... JUSTID FORCE, or XGROUP
/// CREATECONSUMER when it has none.
fn write_stream(w: &mut BaseWriter, key: &[u8], st: &crate::db::stream::Stream) -> io::Result<()> {
    use crate::db::stream::StreamId;
    let mut res = Ok(());
    if st.is_empty() {
        w.array_len(7);
        for a in [&b"XADD"[..], key, b"MAXLEN", b"0", b"0-1", b"x", b"y"] {
            w.bulk(a)?;
        }
    } else {
        st.range(StreamId::MIN, StreamId::MAX, false, |id, fields| {
            w.array_len(3 + 2 * fields.len());
            res = (|| {
                w.bulk(b"XADD")?;
                w.bulk(key)?;
                w.bulk(&id.to_bytes())?;
                for (f, v) in &fields {
                    w.bulk(f)?;
                    w.bulk(v)?;
                }
                w.maybe_flush()
            })();
            res.is_ok()
        });
        res?;
    }
    w.array_len(7);
    w.bulk(b"XSETID")?;
    w.bulk(key)?;
    w.bulk(&st.last_id.to_bytes())?;
    w.bulk(b"ENTRIESADDED")?;
    w.bulk(st.entries_added.to_string().as_bytes())?;
    w.bulk(b"MAXDELETEDID")?;
    w.bulk(&st.max_deleted_id.to_bytes())?;
    for (name, g) in &st.groups {
        w.array_len(7);
        w.bulk(b"XGROUP")?;
        w.bulk(b"CREATE")?;
        w.bulk(key)?;
        w.bulk(name)?;
        w.bulk(&g.last_id.to_bytes())?;
        w.bulk(b"ENTRIESREAD")?;
        w.bulk(g.entries_read.to_string().as_bytes())?;
        for (cname, c) in &g.consumers {
            if c.pel.is_empty() {
                w.array_len(5);
                for a in [&b"XGROUP"[..], b"CREATECONSUMER", key, name, cname] {
                    w.bulk(a)?;
                }
                continue;
            }
            for id in &c.pel {
                let Some(nack) = g.pel.get(id) else {
                    continue;
                };
                w.array_len(12);
                w.bulk(b"XCLAIM")?;
                w.bulk(key)?;
                w.bulk(name)?;
                w.bulk(cname)?;
                w.bulk(b"0")?;
                w.bulk(&id.to_bytes())?;
                w.bulk(b"TIME")?;
                w.bulk(nack.delivery_time.to_string().as_bytes())?;
                w.bulk(b"RETRYCOUNT")?;
                w.bulk(nack.delivery_count.to_string().as_bytes())?;
                w.bulk(b"JUSTID")?;
                w.bulk(b"FORCE")?;
                w.maybe_flush()?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::hash::{Hash, HashLimits};
    use crate::db::value::Value;

    #[test]
    fn temp_base_names_are_recognised() {
        assert!(is_temp_base_name("temp-rewriteaof-bg-123.aof"));
        assert!(is_temp_base_name("temp-rewriteaof-123.aof"));
        assert!(!is_temp_base_name("temp-rewriteaof-bg-.aof"));
        assert!(!is_temp_base_name("temp-rewriteaof-bg-12x.aof"));
        assert!(!is_temp_base_name("database.aof.1.base.aof"));
    }

    #[test]
    fn the_base_batches_strings_and_hash_fields_and_writes_absolute_expiries() {
        let mut db = Db::new();
        for i in 0..70 {
            db.dict
                .insert(format!("s{i}").as_bytes(), Value::string(b"v"));
        }
        db.dict.insert(b"ttl", Value::string(b"x"));
        db.expires.insert(b"ttl", 1_700_000_000_000);
        let mut h = Hash::new();
        let lim = HashLimits::default();
        for i in 0..65 {
            h.set(format!("f{i}").as_bytes(), b"1", &lim);
        }
        db.dict.insert(b"h", Value::hash(h));
        let dbs = vec![Db::new(), db];
        let dir = std::env::temp_dir().join(format!("gostore-snapshot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("base.aof");
        write_base_file(&dbs, &p, &BaseOptions::default()).unwrap();
        let text = String::from_utf8(std::fs::read(&p).unwrap()).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            text.starts_with("*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n"),
            "{text}"
        );
        assert!(
            !text.contains("SELECT\r\n$1\r\n0\r\n"),
            "empty dbs are skipped"
        );
        assert_eq!(text.matches("$4\r\nMSET\r\n").count(), 2, "70 keys: 64 + 6");
        assert!(text.contains("*129\r\n$4\r\nMSET\r\n"));
        assert!(text.contains("*13\r\n$4\r\nMSET\r\n"));
        assert!(text.contains("*3\r\n$3\r\nSET\r\n$3\r\nttl\r\n$1\r\nx\r\n"));
        assert!(text.contains("*3\r\n$9\r\nPEXPIREAT\r\n$3\r\nttl\r\n$13\r\n1700000000000\r\n"));
        assert!(
            text.contains("*130\r\n$4\r\nHSET\r\n$1\r\nh\r\n"),
            "64 fields"
        );
        assert!(text.contains("*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n"), "then 1");
    }
}
