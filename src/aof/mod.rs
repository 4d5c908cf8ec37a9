//! The append-only file: Redis 7's multi-part layout (`appenddirname/` with a
//! base file, incr files and a manifest), written once per tick.
//!
//! Commands that changed the dataset are appended to `buf` as RESP, with a
//! `SELECT` whenever the database changes. At the end of the tick `flush`
//! hands the whole buffer to one `write(2)` (looping only on short writes),
//! then, under `appendfsync always`, `fdatasync`s it, before any reply
//! leaves. Every client that ran a write remembers the AOF offset its
//! command reached (`end_offset`); its replies wait until `durable_offset`
//! passes it. So a reply never acknowledges a write that is not in the file
//! (or on disk, under `always`), even when a write fails: the data stays in
//! the buffer, write commands get `-MISCONF`, and the write is retried each
//! tick until the disk takes it.
//!
//! A rewrite (`rewrite.rs`) replaces the base with a compact snapshot made
//! by a forked child, while the writer moves on to a new incr file; the
//! manifest, swapped atomically, says at every instant which files hold the
//! dataset.
//!
//! Invariant: `written + buf.len() == end_offset()`; `durable_offset() <=
//! written`. Offsets count every byte ever fed and never go back, across
//! incr files and across turning the AOF off and on.

pub mod check;
pub(crate) mod datadir;
pub(crate) mod failpoint;
pub(crate) mod fsync;
pub(crate) mod loader;
pub mod manifest;
pub(crate) mod rewrite;
pub(crate) mod snapshot;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::{AofPolicy, Config, FsyncPolicy};
use fsync::FsyncWorker;
use manifest::{FileType, Manifest};
use rewrite::{Rewrite, RewriteDone, RewriteStats};

/// A buffer larger than this is released after a write instead of reused.
const BUF_KEEP: usize = 1024 * 1024;
/// How long a write may wait for an in-flight everysec fsync (Redis: 2 s).
const POSTPONE_MAX: Duration = Duration::from_secs(2);
/// Write errors are logged at most this often, per kind.
const ERROR_LOG_EVERY: Duration = Duration::from_secs(30);

/// Errors preparing or loading the AOF at start-up.
#[derive(Debug)]
pub enum AofError {
    /// A filesystem operation failed.
    Io(String, io::Error),
    /// The manifest is unreadable or invalid.
    Manifest(PathBuf, String),
    /// A file the manifest names is missing.
    Missing(PathBuf),
    /// The RDB part of a file (an RDB base or preamble) did not load.
    RdbPreamble { file: PathBuf, why: String },
    /// A file is corrupted at an offset.
    Corrupt {
        file: PathBuf,
        offset: u64,
        why: String,
        manifest: PathBuf,
    },
    /// The last file ends mid-command and `aof-load-truncated` is off.
    Truncated {
        file: PathBuf,
        offset: u64,
        manifest: PathBuf,
    },
    /// No AOF of GoStore's own, but data it would not load (`datadir`).
    Foreign(datadir::ForeignData),
    /// A command in the file is unknown or malformed.
    BadCommand {
        file: PathBuf,
        offset: u64,
        why: String,
    },
}

impl std::fmt::Display for AofError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AofError::Io(what, e) => write!(f, "{what}: {e}"),
            AofError::Manifest(p, why) => write!(f, "Can't load the AOF manifest {}: {why}. Nothing was changed; fix or restore it.", p.display()),
            AofError::Missing(p) => write!(f, "The AOF file {} named by the manifest doesn't exist", p.display()),
            AofError::RdbPreamble { file, why } => write!(
                f,
                "Bad file format reading the RDB preamble of the append only file {}: {why}. Check it with redis-check-rdb; make a backup of your AOF files before changing anything",
                file.display()
            ),
            AofError::Corrupt { file, offset, why, manifest } => write!(
                f,
                "Bad file format reading the append only file {} at offset {offset} ({why}): make a backup of your AOF files, then run gostore-check-aof --fix {}",
                file.display(),
                manifest.display()
            ),
            AofError::Truncated { file, offset, manifest } => write!(
                f,
                "Unexpected end of file reading the append only file {} at offset {offset}. You can: 1) Make a backup of your AOF files, then run gostore-check-aof --fix {}. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.",
                file.display(),
                manifest.display()
            ),
            AofError::Foreign(d) => write!(f, "{d}"),
            AofError::BadCommand { file, offset, why } => write!(f, "{why} reading the append only file {} at offset {offset}", file.display()),
        }
    }
}

impl std::error::Error for AofError {}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> AofError {
    let what = what.into();
    move |e| AofError::Io(what, e)
}

/// Opens a new, empty AOF file for appending (O_APPEND: after a short write
/// is cut off with ftruncate, the next write lands at the new end).
pub(crate) fn create_for_append(p: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_APPEND)
        .open(p)
}

/// Wakes the loop (the helper thread calls it after each job).
pub(crate) type Wake = Arc<dyn Fn() + Send + Sync>;

/// The AOF writer.
pub struct Aof {
    /// `appendonly` as Redis's `aof_state != AOF_OFF`.
    on: bool,
    /// Turned on at run time, waiting for its first base (Redis's
    /// `AOF_WAIT_REWRITE`): writes go to a temporary incr file that no
    /// manifest names yet.
    initial: bool,
    /// Whether the running (or last) rewrite's base is an RDB.
    base_rdb: bool,
    /// `appendfsync` and `aof-timestamp-enabled`: a handle to the
    /// configuration's own values (`Config::aof_policy`), so CONFIG SET
    /// changes what the next write does, with nothing to copy across.
    policy: AofPolicy,
    dir: PathBuf,
    filename: String,
    manifest: Manifest,
    /// The file written to; None while nothing is logged.
    file: Option<Arc<File>>,
    buf: Vec<u8>,
    /// See `stream_epoch`.
    epoch: u64,
    written: u64,
    /// Bytes known to be on disk.
    synced: u64,
    /// Size of the file being written.
    incr_size: u64,
    /// Size of all files (INFO aof_current_size).
    pub current_size: u64,
    /// Size of the AOF after the last rewrite, or of the base at start (INFO
    /// aof_base_size; the reference of auto-aof-rewrite-percentage).
    pub base_size: u64,
    last_fsync: Instant,
    postponed_since: Option<Instant>,
    /// Writes made while an fsync was still running (INFO aof_delayed_fsync).
    pub delayed_fsync: u64,
    write_errno: Option<i32>,
    last_error_log: Option<(i32, Instant)>,
    worker: Option<FsyncWorker>,
    wake: Wake,
    last_ts: i64,
    /// Durations of the last writes and fsyncs, (latency event, ms), for
    /// the loop to hand to the latency monitor.
    pub timings: Vec<(&'static str, u64)>,
    /// The rewrite in progress, if any.
    rw: Rewrite,
    /// Rewrite counters for INFO.
    pub rw_stats: RewriteStats,
    done_tx: Sender<RewriteDone>,
    done_rx: Receiver<RewriteDone>,
}

impl Aof {
    /// An AOF that logs nothing yet (`appendonly no`, or before loading).
    pub fn new(config: &Config, wake: Wake) -> Aof {
        let (done_tx, done_rx) = channel();
        Aof {
            on: false,
            initial: false,
            base_rdb: false,
            policy: config.aof_policy.share(),
            dir: config.aof_dir(),
            filename: config.appendfilename.clone(),
            manifest: Manifest::default(),
            file: None,
            buf: Vec::new(),
            epoch: 0,
            written: 0,
            synced: 0,
            incr_size: 0,
            current_size: 0,
            base_size: 0,
            last_fsync: Instant::now(),
            postponed_since: None,
            delayed_fsync: 0,
            write_errno: None,
            last_error_log: None,
            worker: None,
            wake,
            last_ts: 0,
            rw: Rewrite::Idle,
            rw_stats: RewriteStats::default(),
            done_tx,
            done_rx,
            timings: Vec::new(),
        }
    }

    fn time(&mut self, event: &'static str, since: Instant) {
        if self.timings.len() < 16 {
            self.timings
                .push((event, since.elapsed().as_millis() as u64));
        }
    }

    /// The manifest's path.
    pub(crate) fn manifest_path(&self) -> PathBuf {
        self.dir.join(Manifest::file_name(&self.filename))
    }

    /// Reads the manifest, if there is one, without loading anything: with
    /// `appendonly no` a later BGREWRITEAOF or `CONFIG SET appendonly yes`
    /// continues its sequence numbers, as Redis's `aofLoadManifestFromDisk`.
    pub(crate) fn read_manifest(&mut self) -> Result<(), AofError> {
        let path = self.manifest_path();
        if path.exists() {
            self.manifest = Manifest::load(&path)
                .map_err(|e| AofError::Manifest(path.clone(), e.to_string()))?;
        }
        Ok(())
    }

    /// Reads (or creates from a legacy single file) the manifest and returns
    /// the files to replay, in order. Relative to the current directory,
    /// which is `dir`.
    pub fn open(&mut self) -> Result<Vec<PathBuf>, AofError> {
        self.on = true;
        let manifest_path = self.manifest_path();
        let legacy = PathBuf::from(&self.filename);
        if manifest_path.exists() {
            self.read_manifest()?;
            // An upgrade interrupted after the manifest was written but
            // before the legacy file moved: finish it.
            let base_is_legacy = self
                .manifest
                .base
                .as_ref()
                .is_some_and(|b| b.name == self.filename);
            if base_is_legacy
                && self.manifest.incrs.is_empty()
                && legacy.is_file()
                && !self.dir.join(&self.filename).exists()
            {
                self.move_legacy_in(&legacy)?;
            }
        } else if legacy.is_file() {
            self.upgrade_legacy(&legacy)?;
        }
        let mut files = Vec::new();
        for f in self.manifest.load_order() {
            let p = self.dir.join(&f.name);
            if !p.is_file() {
                return Err(AofError::Missing(p));
            }
            files.push(p);
        }
        if let Some(b) = &self.manifest.base {
            self.base_size = fs::metadata(self.dir.join(&b.name))
                .map(|m| m.len())
                .unwrap_or(0);
        }
        self.current_size = files
            .iter()
            .map(|p| fs::metadata(p).map(|m| m.len()).unwrap_or(0))
            .sum();
        Ok(files)
    }

    /// Moves a pre-7 single-file AOF into the directory as the base, as
    /// Redis 7 does on upgrade. The manifest is written last, so a crash
    /// before it leaves a layout this code recognises again.
    fn upgrade_legacy(&mut self, legacy: &Path) -> Result<(), AofError> {
        log::info!(
            "Creating AOF directory {} and moving the legacy AOF file {} into it",
            self.dir.display(),
            legacy.display()
        );
        fs::create_dir_all(&self.dir).map_err(io_err(format!(
            "Can't create the AOF directory {}",
            self.dir.display()
        )))?;
        self.manifest = Manifest::default();
        self.manifest.base = Some(manifest::AofFile {
            name: self.filename.clone(),
            seq: 1,
            kind: FileType::Base,
        });
        self.manifest.base_seq = 1;
        // As Redis: the manifest first, naming the legacy file as the base,
        // then the move. A crash in between is finished by `open`.
        self.manifest
            .persist(&self.dir, &self.filename)
            .map_err(|e| AofError::Io("Can't write the AOF manifest".into(), e.error))?;
        self.move_legacy_in(legacy)?;
        log::info!("Successfully migrated an old-style AOF into the AOF directory");
        Ok(())
    }

    fn move_legacy_in(&self, legacy: &Path) -> Result<(), AofError> {
        let target = self.dir.join(&self.filename);
        fs::rename(legacy, &target).map_err(io_err(format!(
            "Can't move {} into {}",
            legacy.display(),
            self.dir.display()
        )))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err("Can't fsync the AOF directory"))
    }

    /// After loading: creates the base for a fresh dataset, opens the last
    /// incr file (or a new one) for appending, persists the manifest, starts
    /// the helper thread, and removes what a crash may have left behind:
    /// history files, temporary files, files numbered past the manifest.
    pub(crate) fn start_appending(&mut self) -> Result<(), AofError> {
        fs::create_dir_all(&self.dir).map_err(io_err(format!(
            "Can't create the AOF directory {}",
            self.dir.display()
        )))?;
        let mut changed = false;
        let had_manifest = self.manifest.base.is_some() || !self.manifest.incrs.is_empty();
        if !had_manifest {
            // An empty dataset: an empty base file, as Redis writes on first
            // start (Redis writes an empty RDB under aof-use-rdb-preamble
            // yes; an empty RESP file loads the same everywhere).
            let name = self.manifest.new_base(&self.filename, false);
            let p = self.dir.join(&name);
            let f = File::create(&p).map_err(io_err(format!(
                "Can't create the AOF base file {}",
                p.display()
            )))?;
            f.sync_all()
                .map_err(io_err("Can't fsync the AOF base file"))?;
            log::info!("Creating AOF base file {name} on server start");
            changed = true;
        }
        let new_incr = self.manifest.incrs.is_empty();
        if new_incr {
            let name = self.manifest.new_incr(&self.filename);
            log::info!("Creating AOF incr file {name} on server start");
            changed = true;
        } else if let Some(last) = self.manifest.incrs.last() {
            log::info!("Opening AOF incr file {} on server start", last.name);
        }
        let last = self
            .manifest
            .incrs
            .last()
            .map(|f| self.dir.join(&f.name))
            .unwrap_or_default();
        let opened = if new_incr {
            // A file of that name would be a leftover no manifest names.
            create_for_append(&last)
        } else {
            OpenOptions::new().append(true).open(&last)
        };
        let file = opened.map_err(io_err(format!(
            "Can't open the append-only file {}",
            last.display()
        )))?;
        self.incr_size = file.metadata().map(|m| m.len()).unwrap_or(0);
        if changed {
            file.sync_all()
                .map_err(io_err("Can't fsync the AOF incr file"))?;
            self.manifest
                .persist(&self.dir, &self.filename)
                .map_err(|e| AofError::Io("Can't write the AOF manifest".into(), e.error))?;
        }
        self.file = Some(Arc::new(file));
        self.ensure_worker()
            .map_err(io_err("Can't start the AOF fsync thread"))?;
        self.last_fsync = Instant::now();
        self.remove_leftovers(had_manifest);
        Ok(())
    }

    /// Starts the helper thread if it is not running.
    fn ensure_worker(&mut self) -> io::Result<&FsyncWorker> {
        if self.worker.is_none() {
            let wake = Arc::clone(&self.wake);
            self.worker = Some(FsyncWorker::start(move || wake())?);
        }
        match &self.worker {
            Some(w) => Ok(w),
            None => Err(io::Error::other("no helper thread")),
        }
    }

    /// Removes history files the manifest still lists and temporary files
    /// of an interrupted rewrite, on the helper thread (Redis removes the
    /// history files at start-up too).
    /// Files numbered past the manifest are only removed when the manifest
    /// came from disk (`had_manifest`): without one, nothing says they are
    /// leftovers.
    fn remove_leftovers(&mut self, had_manifest: bool) {
        let Some(worker) = &self.worker else { return };
        let history = std::mem::take(&mut self.manifest.history);
        if !history.is_empty() {
            let (dir, name, text) = (
                self.dir.clone(),
                self.filename.clone(),
                self.manifest.to_text(),
            );
            worker.run(move || {
                // The manifest that made them history may have been renamed
                // into place just before a crash: make that durable first.
                if let Err(e) = File::open(&dir).and_then(|d| d.sync_all()) {
                    log::warn!("Can't fsync the AOF directory, keeping the history files: {e}");
                    return;
                }
                for h in &history {
                    log::info!("Removing the history file {}", h.name);
                    if let Err(e) = fs::remove_file(dir.join(&h.name)) {
                        if e.kind() != io::ErrorKind::NotFound {
                            log::warn!("Could not remove {}: {e}", h.name);
                        }
                    }
                }
                if let Err(e) = manifest::write_manifest(&dir, &name, &text) {
                    log::warn!("Can't update the AOF manifest after removing history files: {e}");
                }
            });
        }
        let dir = self.dir.clone();
        let filename = self.filename.clone();
        let (base_seq, incr_seq) = if had_manifest {
            (self.manifest.base_seq, self.manifest.incr_seq)
        } else {
            (u64::MAX, u64::MAX)
        };
        worker.run(move || {
            let Ok(entries) = fs::read_dir(&dir) else {
                return;
            };
            for e in entries.flatten() {
                let name = e.file_name();
                let name = name.to_string_lossy();
                if is_leftover(&name, &filename, base_seq, incr_seq) {
                    log::info!("Removing the leftover AOF file {name} of an interrupted rewrite");
                    let _ = fs::remove_file(e.path());
                }
            }
        });
    }

    /// Whether the AOF is on (`appendonly`, INFO aof_enabled).
    pub fn enabled(&self) -> bool {
        self.on
    }

    /// Whether commands are being logged (a file is open).
    /// Whether commands are being logged (an AOF file is open).
    pub fn logging(&self) -> bool {
        self.file.is_some()
    }

    /// The fsync policy in force.
    pub fn policy(&self) -> FsyncPolicy {
        self.policy.fsync()
    }

    /// After CONFIG SET appendfsync changed the policy (its apply hook).
    pub fn policy_changed(&mut self) {
        if self.policy.fsync() != FsyncPolicy::Everysec {
            // Only everysec retries background fsyncs: under `no` a stale
            // error would refuse writes forever, and `always` fsyncs itself.
            if let Some(w) = &self.worker {
                w.clear_error();
            }
        }
    }

    /// Appends one encoded command (see `propagate`, the only caller,
    /// which also sends the `SELECT`s). With `aof-timestamp-enabled`, a
    /// `#TS:` annotation goes first when the second changed.
    pub fn feed(&mut self, resp: &[u8]) {
        if !self.logging() {
            return;
        }
        if self.policy.timestamps() {
            let now = crate::util::time::unix_ms() / 1000;
            if now != self.last_ts {
                self.last_ts = now;
                self.buf
                    .extend_from_slice(format!("#TS:{now}\r\n").as_bytes());
            }
        }
        self.buf.extend_from_slice(resp);
    }

    /// Counts the streams this AOF has begun: a new incr file (or the AOF
    /// turned off) starts a new one, in which no database is selected yet.
    pub fn stream_epoch(&self) -> u64 {
        self.epoch
    }

    /// The offset just past everything fed so far.
    pub(crate) fn end_offset(&self) -> u64 {
        self.written + self.buf.len() as u64
    }

    /// The offset replies may acknowledge: written to the file, and fsynced
    /// under `always`. Everything, when nothing is logged.
    pub(crate) fn durable_offset(&self) -> u64 {
        if !self.logging() {
            return u64::MAX;
        }
        match self.policy.fsync() {
            FsyncPolicy::Always => self.synced,
            _ => self.written,
        }
    }

    /// Bytes waiting in the buffer (INFO aof_buffer_length).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Bytes the buffer holds allocated, 0 when the AOF is off: INFO
    /// mem_aof_buffer, and what eviction leaves out of the memory it counts
    /// against maxmemory (Redis's `sdsAllocSize(aof_buf)`).
    pub(crate) fn buffer_capacity(&self) -> usize {
        if self.logging() {
            self.buf.capacity()
        } else {
            0
        }
    }

    /// The errno of a failed background fsync, where it counts: under
    /// everysec (under `always` the loop fsyncs itself, and under `no` no
    /// one would retry it).
    fn fsync_errno(&self) -> Option<i32> {
        if self.policy.fsync() == FsyncPolicy::Everysec {
            self.worker.as_ref().and_then(|w| w.last_error())
        } else {
            None
        }
    }

    /// Why write commands are refused, if they are: the last write or
    /// background fsync failed (Redis's MISCONF).
    pub(crate) fn write_error(&self) -> Option<String> {
        if !self.logging() {
            return None;
        }
        let errno = self.write_errno.or_else(|| self.fsync_errno())?;
        Some(
            io::Error::from_raw_os_error(errno)
                .to_string()
                .split(" (os error")
                .next()
                .unwrap_or("I/O error")
                .to_string(),
        )
    }

    /// Whether the last write and background fsync succeeded (INFO
    /// aof_last_write_status).
    pub(crate) fn last_write_ok(&self) -> bool {
        self.write_errno.is_none() && (!self.logging() || self.fsync_errno().is_none())
    }

    /// Whether a background fsync is running (INFO aof_pending_bio_fsync).
    pub(crate) fn fsync_in_progress(&self) -> bool {
        self.worker.as_ref().is_some_and(|w| w.in_progress())
    }

    /// The end of tick: one write of the buffer, then fsync per policy.
    /// `force` skips the everysec postponement (shutdown, file switches).
    pub fn flush(&mut self, force: bool) {
        if !self.logging() {
            return;
        }
        if self.buf.is_empty() {
            match self.policy.fsync() {
                // Written earlier under another policy, not yet on disk.
                FsyncPolicy::Always if self.synced < self.written => self.fsync_now(),
                FsyncPolicy::Everysec => self.maybe_fsync_everysec(),
                _ => {}
            }
            return;
        }
        if self.policy.fsync() == FsyncPolicy::Everysec && !force && self.fsync_in_progress() {
            // Redis's rule for a slow disk: a write(2) during fsync may block,
            // so wait for it, but not more than two seconds. Replies of the
            // commands in the buffer wait too.
            match self.postponed_since {
                None => {
                    self.postponed_since = Some(Instant::now());
                    return;
                }
                Some(t) if t.elapsed() < POSTPONE_MAX => return,
                Some(_) => {
                    self.delayed_fsync += 1;
                    log::info!("Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer without waiting for fsync to complete, this may slow down GoStore.");
                }
            }
        }
        self.postponed_since = None;
        let (started, pending_fsync) = (Instant::now(), self.fsync_in_progress());
        let written = self.write_buffer();
        self.time("aof-write", started);
        let alone = if pending_fsync {
            "aof-write-pending-fsync"
        } else {
            "aof-write-alone"
        };
        self.time(alone, started);
        if let Err(e) = written {
            self.on_write_error(e);
            return;
        }
        if self.write_errno.take().is_some() {
            log::warn!("AOF write error looks solved, GoStore can write again.");
        }
        match self.policy.fsync() {
            FsyncPolicy::Always => self.fsync_now(),
            FsyncPolicy::Everysec => self.maybe_fsync_everysec(),
            FsyncPolicy::No => {}
        }
    }

    /// fdatasync on the loop (`appendfsync always`).
    fn fsync_now(&mut self) {
        let Some(file) = &self.file else { return };
        let started = Instant::now();
        let synced = failpoint::sync_data(file);
        self.time("aof-fsync-always", started);
        if let Err(e) = synced {
            // The data may not be on disk and we cannot tell which part: as
            // Redis, stop rather than acknowledge it.
            log::warn!("Can't persist AOF for fsync error when the AOF fsync policy is 'always': {e}. Exiting...");
            std::process::exit(1);
        }
        self.synced = self.written;
        self.last_fsync = Instant::now();
    }

    fn maybe_fsync_everysec(&mut self) {
        if self.policy.fsync() != FsyncPolicy::Everysec
            || self.last_fsync.elapsed() < Duration::from_secs(1)
        {
            return;
        }
        let (Some(file), Some(worker)) = (&self.file, &self.worker) else {
            return;
        };
        self.synced = self.synced.max(worker.done_offset());
        if self.synced >= self.written {
            return;
        }
        if worker.request_fsync(file, self.written) {
            self.last_fsync = Instant::now();
        }
    }

    fn write_buffer(&mut self) -> io::Result<()> {
        let file = self
            .file
            .as_ref()
            .map(Arc::clone)
            .ok_or_else(|| io::Error::other("no AOF file open"))?;
        let mut done = 0;
        let result = loop {
            if done == self.buf.len() {
                break Ok(());
            }
            match (&*file).write(&self.buf[done..]) {
                Ok(0) => break Err(io::Error::from_raw_os_error(libc::ENOSPC)),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => break Err(e),
            }
        };
        if let Err(e) = result {
            if done > 0 {
                // Never leave half a command in the file: cut the short write
                // off; if that fails, keep what was written and only retry
                // the rest.
                if file.set_len(self.incr_size).is_err() {
                    self.advance(done);
                }
            }
            return Err(e);
        }
        self.advance(done);
        Ok(())
    }

    fn advance(&mut self, n: usize) {
        self.written += n as u64;
        self.incr_size += n as u64;
        self.current_size += n as u64;
        if n == self.buf.len() {
            self.buf.clear();
            if self.buf.capacity() > BUF_KEEP {
                self.buf = Vec::new();
            }
        } else {
            self.buf.drain(..n);
        }
    }

    /// Forgets what the buffer holds (the AOF was turned off, or its first
    /// rewrite failed): the offsets move past it, so no reply waits for it.
    fn discard_buffer(&mut self) {
        self.written += self.buf.len() as u64;
        self.synced = self.written;
        self.buf = Vec::new();
        self.postponed_since = None;
        self.write_errno = None;
    }

    fn on_write_error(&mut self, e: io::Error) {
        let errno = e.raw_os_error().unwrap_or(libc::EIO);
        let now = Instant::now();
        let log_it = match self.last_error_log {
            Some((last_errno, at)) => {
                last_errno != errno || now.duration_since(at) > ERROR_LOG_EVERY
            }
            None => true,
        };
        if log_it {
            log::warn!("Error writing to the AOF file: {e}. Write commands are refused until the AOF can be written again.");
            self.last_error_log = Some((errno, now));
        }
        self.write_errno = Some(errno);
    }

    /// Cron work: retries a failed or postponed write, and starts the
    /// everysec fsync when the buffer was empty.
    pub fn cron(&mut self) {
        if !self.logging() {
            return;
        }
        if self.write_errno.is_some() || self.postponed_since.is_some() {
            self.flush(false);
        } else {
            self.maybe_fsync_everysec();
        }
    }

    /// The manifest (INFO, tests).
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The AOF directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Whether `name`, in the AOF directory, is what an interrupted rewrite
/// left: a temporary file, or a base or incr file numbered past anything the
/// manifest names (created, or renamed into place, before a manifest that
/// would name it was committed).
fn is_leftover(name: &str, appendfilename: &str, base_seq: u64, incr_seq: u64) -> bool {
    if rewrite::is_temp_base_name(name)
        || name == rewrite::temp_incr_name(appendfilename)
        || name == format!("temp-{}", Manifest::file_name(appendfilename))
    {
        return true;
    }
    let Some(rest) = name
        .strip_prefix(appendfilename)
        .and_then(|r| r.strip_prefix('.'))
    else {
        return false;
    };
    let seq_past = |suffix: &str, max: u64| {
        rest.strip_suffix(suffix)
            .filter(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|n| n.parse::<u64>().ok())
            .is_some_and(|n| n > max)
    };
    seq_past(".base.aof", base_seq)
        || seq_past(".base.rdb", base_seq)
        || seq_past(".incr.aof", incr_seq)
}

/// Whether a file starts with the RDB magic.
pub fn is_rdb(p: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 5];
    File::open(p)
        .and_then(|mut f| f.read_exact(&mut head))
        .map(|_| &head == b"REDIS")
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftovers_are_temp_files_and_files_numbered_past_the_manifest() {
        let f = "database.aof";
        assert!(is_leftover("temp-rewriteaof-bg-42.aof", f, 3, 5));
        assert!(is_leftover("temp-database.aof.incr", f, 3, 5));
        assert!(is_leftover("temp-database.aof.manifest", f, 3, 5));
        assert!(is_leftover("database.aof.4.base.aof", f, 3, 5));
        assert!(is_leftover("database.aof.6.incr.aof", f, 3, 5));
        assert!(!is_leftover("database.aof.3.base.aof", f, 3, 5));
        assert!(!is_leftover("database.aof.2.incr.aof", f, 3, 5));
        assert!(!is_leftover("database.aof.manifest", f, 3, 5));
        assert!(!is_leftover("other.aof.9.base.aof", f, 3, 5));
        assert!(!is_leftover("database.aof", f, 3, 5));
    }
}
