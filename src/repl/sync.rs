//! Full resyncs without stalling the loop: a forked child writes the
//! snapshot straight to the waiting replicas' sockets (Redis's diskless
//! sync, as 6.x's child did before 7.0 moved the writing to a pipe), while
//! the loop goes on serving clients and keeps, for each of those replicas,
//! what the stream gets meanwhile. When the child reports, every replica
//! that received the whole snapshot gets that stream and is online; the
//! others are closed (they reconnect and try again).
//!
//! - PSYNC/SYNC (`commands::repl`) only mark the replica as waiting
//!   (`ReplicaInfo::wait_since_ms`).
//! - `cron`, at the end of each tick before `master::feed_replicas`, reaps
//!   a finished child, and forks one for the waiting replicas once
//!   `repl-diskless-sync-delay` seconds passed since the first of them
//!   arrived (or `repl-diskless-sync-max-replicas` are waiting), so that
//!   replicas arriving together share one snapshot.
//! - The child writes `+FULLRESYNC <replid> <offset>` (PSYNC) and then the
//!   RDB: `$EOF:<mark>` ... `<mark>` to replicas that sent `capa eof`, else
//!   `$<len>` with the snapshot built in the child's memory first. The
//!   socket's descriptor is shared with the parent, which writes nothing to
//!   it until the child is done (`ReplicaInfo::in_child`).
//!
//! Reference: Redis's `replication.c` (`startBgsaveForReplication`,
//! `updateSlavesWaitingBgsave`) and 6.2's `rdbSaveToSlavesSockets`.

use std::io::{self, Write};
use std::time::Instant;

use crate::aof::snapshot::{fork_task, Child, ChildExit};
use crate::client::{Clients, Flags};
use crate::core::Core;
use crate::db::Db;

/// A running snapshot child and the replicas it writes to.
#[derive(Debug)]
pub struct SyncJob {
    child: Child,
    started: Instant,
    /// Client ids (not tokens: a token can be reused by a new client while
    /// the child runs).
    replicas: Vec<u64>,
}

impl SyncJob {
    /// The child's pid (INFO, kill on shutdown).
    pub fn pid(&self) -> libc::pid_t {
        self.child.pid
    }
}

/// One replica as the child sees it.
struct Target {
    id: u64,
    fd: libc::c_int,
    /// `+FULLRESYNC ...` for PSYNC, nothing for SYNC.
    prologue: Vec<u8>,
    eof: bool,
    alive: bool,
}

/// Whether a snapshot child for replicas is running.
pub fn running(core: &Core) -> bool {
    core.propagator.repl.sync.is_some()
}

/// Reaps a finished child (replicas online or closed), then forks one for
/// the replicas waiting, when their time has come.
pub fn cron(core: &mut Core, dbs: &[Db], clients: &mut Clients, now_ms: i64) {
    if let Some(job) = core.propagator.repl.sync.as_mut() {
        if let Some(exit) = job.child.try_wait() {
            if let Some(job) = core.propagator.repl.sync.take() {
                finish(core, clients, job, exit);
            }
        }
    }
    if core.propagator.repl.sync.is_none() {
        maybe_start(core, dbs, clients, now_ms);
    }
}

fn finish(core: &mut Core, clients: &mut Clients, job: SyncJob, exit: ChildExit) {
    if !core.rdb.child_running() && !core.aof.rewrite_in_progress() {
        crate::db::dict::set_resize_allowed(true);
        crate::db::lru::set_child_running(false);
    }
    let ok: Vec<u64> = match &exit {
        ChildExit::Done { cow, detail } => {
            core.rdb.last_cow = *cow;
            detail.split(',').filter_map(|id| id.parse().ok()).collect()
        }
        ChildExit::Failed(why) => {
            log::warn!("Diskless rdb transfer to the replicas failed: {why}");
            Vec::new()
        }
        ChildExit::Signaled(sig) => {
            log::warn!("Diskless rdb transfer child terminated by signal {sig}");
            Vec::new()
        }
    };
    let secs = job.started.elapsed().as_secs_f64();
    let mut online = Vec::new();
    let mut failed = Vec::new();
    for c in clients.iter_mut() {
        if !job.replicas.contains(&c.state.id) {
            continue;
        }
        let name = super::replica_name(&c.state);
        let Some(r) = c.state.repl.as_mut() else {
            continue;
        };
        r.in_child = false;
        if ok.contains(&c.state.id) {
            // `repl-timeout` counts from here: it acknowledges once loaded.
            r.ack_ms = crate::util::time::unix_ms();
            if r.capa_eof && !r.early_ack {
                // Nothing may follow the mark until it has found it: the
                // stream waits for its first ACK (`replconf`).
                r.await_ack = true;
                log::info!(
                    "Streamed RDB transfer with replica {name} succeeded (socket) in {secs:.3} s. Waiting for REPLCONF ACK from replica to enable streaming"
                );
                continue;
            }
            r.online = true;
            let held = std::mem::take(&mut r.held);
            // The replica class's cap applies from here on.
            c.reply.set_cap(r.cap.saturating_add(held.len()));
            c.reply.raw(&held);
            log::info!(
                "Streamed RDB transfer with replica {name} succeeded (socket) in {secs:.3} s; {} bytes of stream follow it",
                held.len()
            );
            log::info!("Synchronization with replica {name} succeeded");
            online.push(c.token);
        } else {
            log::warn!("SYNC failed. The transfer of the snapshot to replica {name} did not complete; closing it");
            failed.push(c.token);
        }
    }
    for t in online {
        clients.queue_flush(t);
    }
    for t in failed {
        clients.kill(t);
    }
}

fn maybe_start(core: &mut Core, dbs: &[Db], clients: &mut Clients, now_ms: i64) {
    let mut first = i64::MAX;
    let mut waiting = 0usize;
    for c in clients.iter() {
        if let Some(since) = c.state.repl.as_ref().and_then(|r| r.wait_since_ms) {
            first = first.min(since);
            waiting += 1;
        }
    }
    if waiting == 0 {
        return;
    }
    let delay_ms = core.config.repl_diskless_sync_delay as i64 * 1000;
    let max = core.config.repl_diskless_sync_max_replicas as usize;
    let all_here = max > 0 && waiting >= max;
    if now_ms - first < delay_ms && !all_here {
        return;
    }
    let stream = &mut core.propagator.repl;
    let (replid, offset) = (stream.replid.clone(), stream.offset);
    let mut targets = Vec::new();
    for c in clients.iter_mut() {
        // A replica with replies still to send (a pipelined REPLCONF's +OK)
        // waits for the next child: the snapshot must follow them.
        if !c.reply.is_empty() {
            continue;
        }
        let fd = c.stream.fd();
        let Some(r) = c.state.repl.as_mut() else {
            continue;
        };
        if r.wait_since_ms.is_none() {
            continue;
        }
        let prologue = if r.psync {
            format!("+FULLRESYNC {replid} {offset}\r\n").into_bytes()
        } else {
            Vec::new()
        };
        targets.push(Target {
            id: c.state.id,
            fd,
            prologue,
            eof: r.capa_eof,
            alive: true,
        });
    }
    if targets.is_empty() {
        return;
    }
    let mut opts = crate::rdb::save::save_options(core);
    opts.incremental_fsync = false;
    let timeout_ms = (core.config.repl_timeout.max(1) * 1000).min(i32::MAX as u64) as i32;
    let mut mark = [0u8; 40];
    let hex = crate::core::new_run_id(&mut core.rng);
    mark.copy_from_slice(&hex.as_bytes()[..40]);
    let refs: Vec<&Db> = dbs.iter().collect();
    let fds: Vec<libc::c_int> = targets.iter().map(|t| t.fd).collect();
    let ids: Vec<u64> = targets.iter().map(|t| t.id).collect();
    let started = Instant::now();
    let forked = fork_task(
        &fds,
        |_| std::path::PathBuf::new(),
        move |_| send_snapshot(targets, &refs, &opts, mark, timeout_ms),
    );
    let child = match forked {
        Ok(child) => child,
        Err(e) => {
            // The replicas stay waiting; the next tick tries again.
            log::warn!("Can't fork for the replicas' sync: {e}");
            return;
        }
    };
    core.aof.rw_stats.latest_fork_usec = started.elapsed().as_micros() as u64;
    crate::db::dict::set_resize_allowed(false);
    crate::db::lru::set_child_running(true);
    log::info!(
        "Starting BGSAVE for SYNC with target: replicas sockets (pid {}, {} replica(s), offset {offset})",
        child.pid,
        ids.len()
    );
    for c in clients.iter_mut() {
        if !ids.contains(&c.state.id) {
            continue;
        }
        if let Some(r) = c.state.repl.as_mut() {
            r.wait_since_ms = None;
            r.in_child = true;
            // The snapshot holds everything up to `offset`.
            r.sent = offset;
            r.held.clear();
        }
    }
    core.propagator.repl.sync = Some(SyncJob {
        child,
        started,
        replicas: ids,
    });
}

/// The child's work: the snapshot to every target. Returns the ids of the
/// replicas that got all of it, comma-separated; an error when none did.
fn send_snapshot(
    mut targets: Vec<Target>,
    dbs: &[&Db],
    opts: &crate::rdb::writer::SaveOptions,
    mark: [u8; 40],
    timeout_ms: i32,
) -> Result<String, String> {
    for t in targets.iter_mut() {
        let mut head = std::mem::take(&mut t.prologue);
        if t.eof {
            head.extend_from_slice(b"$EOF:");
            head.extend_from_slice(&mark);
            head.extend_from_slice(b"\r\n");
        }
        t.alive = write_fd(t.fd, &head, timeout_ms).is_ok();
    }
    // Replicas that read the EOF form get the snapshot as it is encoded.
    if targets.iter().any(|t| t.eof && t.alive) {
        let out = FanOut {
            fds: targets
                .iter()
                .filter(|t| t.eof && t.alive)
                .map(|t| (t.fd, true))
                .collect(),
            timeout_ms,
            shared: std::rc::Rc::new(std::cell::RefCell::new(Vec::new())),
        };
        let shared = out.shared.clone();
        let result = crate::rdb::writer::write_to(dbs, Box::new(out), opts);
        let alive = shared.borrow().clone();
        for t in targets.iter_mut().filter(|t| t.eof && t.alive) {
            t.alive = result.is_ok() && alive.contains(&t.fd);
            if t.alive {
                t.alive = write_fd(t.fd, &mark, timeout_ms).is_ok();
            }
        }
    }
    // The others need the length first.
    if targets.iter().any(|t| !t.eof && t.alive) {
        let (rdb, _) = crate::rdb::writer::dataset_bytes(dbs, opts)
            .map_err(|e| format!("building the snapshot: {e}"))?;
        let head = format!("${}\r\n", rdb.len());
        for t in targets.iter_mut().filter(|t| !t.eof && t.alive) {
            t.alive = write_fd(t.fd, head.as_bytes(), timeout_ms).is_ok()
                && write_fd(t.fd, &rdb, timeout_ms).is_ok();
        }
    }
    let ok: Vec<String> = targets
        .iter()
        .filter(|t| t.alive)
        .map(|t| t.id.to_string())
        .collect();
    if ok.is_empty() {
        return Err("no replica received the whole snapshot".into());
    }
    Ok(ok.join(","))
}

/// Writes to every live socket; one that fails or stalls past the timeout
/// drops out, and the write fails only when none is left. `shared` holds
/// the sockets still alive when it is dropped.
struct FanOut {
    fds: Vec<(libc::c_int, bool)>,
    timeout_ms: i32,
    shared: std::rc::Rc<std::cell::RefCell<Vec<libc::c_int>>>,
}

impl Write for FanOut {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        for (fd, alive) in self.fds.iter_mut().filter(|(_, a)| *a) {
            *alive = write_fd(*fd, buf, self.timeout_ms).is_ok();
        }
        *self.shared.borrow_mut() = self
            .fds
            .iter()
            .filter(|(_, a)| *a)
            .map(|(f, _)| *f)
            .collect();
        if self.fds.iter().any(|(_, a)| *a) {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "every replica's connection failed",
            ))
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes all of `buf` to a (non-blocking) socket, waiting for it to drain
/// up to `timeout_ms` each time it is full.
fn write_fd(fd: libc::c_int, mut buf: &[u8], timeout_ms: i32) -> io::Result<()> {
    while !buf.is_empty() {
        // SAFETY: send(2) from our own buffer on a descriptor this process
        // holds open; MSG_NOSIGNAL turns a closed peer into EPIPE.
        let n = unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) };
        if n > 0 {
            buf = &buf[n as usize..];
            continue;
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::Interrupted => {}
            io::ErrorKind::WouldBlock => {
                let mut p = libc::pollfd {
                    fd,
                    events: libc::POLLOUT,
                    revents: 0,
                };
                // SAFETY: poll(2) on one pollfd we own.
                let r = unsafe { libc::poll(&mut p, 1, timeout_ms) };
                if r == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the replica stopped reading",
                    ));
                }
                if r < 0 {
                    let e = io::Error::last_os_error();
                    if e.kind() != io::ErrorKind::Interrupted {
                        return Err(e);
                    }
                }
            }
            _ => return Err(e),
        }
    }
    Ok(())
}

/// Kills a running child (SHUTDOWN, or this server becoming a replica):
/// its replicas are closed when it is reaped.
pub fn kill(core: &mut Core) {
    if let Some(job) = core.propagator.repl.sync.as_ref() {
        // SAFETY: kill(2) on our own child.
        unsafe {
            libc::kill(job.pid(), libc::SIGUSR1);
        }
    }
}

/// Holds what the stream got for a replica the child is writing to, up to
/// the replica class's hard limit. Returns false when it overflowed (the
/// replica is closed, as Redis closes one whose output buffer overflows).
pub fn hold(r: &mut super::ReplicaInfo, bytes: &[u8]) -> bool {
    if r.cap != 0 && r.held.len() + bytes.len() > r.cap {
        return false;
    }
    r.held.extend_from_slice(bytes);
    true
}

/// Whether a client's output must wait: the child owns its socket, or
/// the replica has yet to find the end of the snapshot it sent.
pub fn socket_owned_by_child(c: &crate::client::ClientState) -> bool {
    c.has(Flags::REPLICA) && c.repl.as_ref().is_some_and(|r| r.in_child || r.await_ack)
}

/// A replica's first REPLCONF ACK after an `$EOF:` transfer: it has the
/// snapshot, so its stream starts (Redis's `replicaStartCommandStream`).
/// Returns the stream kept meanwhile, to go out now.
pub fn start_stream(r: &mut super::ReplicaInfo) -> Option<Vec<u8>> {
    if !r.await_ack {
        return None;
    }
    r.await_ack = false;
    r.online = true;
    Some(std::mem::take(&mut r.held))
}
