//! AOF rewrite (BGREWRITEAOF, automatic rewrites, turning the AOF on at run
//! time), as Redis 7.0 does it, in four steps:
//!
//! 1. **Prepare** (helper thread): create the next incr file and persist a
//!    manifest naming it after the current files. When the AOF was just
//!    turned on, a temporary incr file instead, which no manifest names yet.
//! 2. **Switch and fork** (loop, end of tick, after the AOF write): the
//!    buffer is empty, so everything logged so far is in the old files and
//!    in the dataset the child will see. Writes go to the new incr file from
//!    here on; the old one is fsynced and closed on the helper thread. Then
//!    `fork()`: the child writes the compact base (`snapshot`).
//! 3. **Reap** (cron): `waitpid(WNOHANG)`. A failed child changes nothing on
//!    disk but its temporary file, which is removed.
//! 4. **Install** (helper thread): rename the child's file to the new base
//!    name, persist the manifest (new base, the incr files since the fork;
//!    the rest become history), then remove the history files and persist
//!    the manifest without them.
//!
//! Invariant: at every instant the manifest on disk names a complete set:
//! the old base and every incr file (before the install's rename), or the
//! new base and the incr files written since the fork (after it). New files
//! exist before a manifest names them; old files are removed only after a
//! manifest stopped naming them and its directory entry is fsynced.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::manifest::{self, Manifest};
use super::snapshot::{self, BaseOptions, Child, ChildExit};
use super::{create_for_append, failpoint, Aof};
use crate::config::{Config, FsyncPolicy};
use crate::db::dict::set_resize_allowed;
use crate::db::Db;
use crate::scripting::functions::Libraries;

pub use snapshot::is_temp_base_name;

/// After this many consecutive failures, automatic rewrites back off (Redis's
/// `AOF_REWRITE_LIMITE_THRESHOLD`).
const LIMIT_THRESHOLD: u64 = 3;
/// The longest back-off, in minutes.
const LIMIT_MAX_MINUTES: u64 = 60;

/// The temporary incr file used while the AOF waits for its first base.
pub fn temp_incr_name(appendfilename: &str) -> String {
    format!("temp-{appendfilename}.incr")
}

/// Where a rewrite is.
#[derive(Debug, Default)]
pub(crate) enum Rewrite {
    /// None running.
    #[default]
    Idle,
    /// The helper thread is creating the next incr file.
    Preparing { gen: u64 },
    /// The next incr file is ready; the switch waits for the AOF buffer to
    /// be written (a write postponed behind a slow fsync).
    Switching(Prepared),
    /// The child is writing the base.
    Running { child: Child },
    /// The helper thread is installing the new base.
    Installing,
}

/// What the helper thread reports back.
#[derive(Debug)]
pub(crate) enum RewriteDone {
    /// Step 1 ended.
    Prepared {
        gen: u64,
        result: Result<Prepared, String>,
    },
    /// Step 4 ended.
    Installed(Installed),
}

/// The file (and manifest) to switch to.
#[derive(Debug)]
pub(crate) struct Prepared {
    file: Option<File>,
    manifest: Option<Manifest>,
}

/// How an install went.
#[derive(Debug)]
pub(crate) struct Installed {
    /// Whether it installed the first base of an AOF turned on at run time.
    initial: bool,
    /// The manifest now on disk, if the rename happened.
    manifest: Manifest,
    /// Ok, or the error and whether the new manifest is live anyway.
    result: Result<(), (String, bool)>,
    base_size: u64,
}

/// What step 1 does.
enum Plan {
    /// The AOF is off: only make sure the directory exists.
    Off,
    /// The AOF was just turned on: a temporary incr file.
    Initial,
    /// The next incr file, named by this manifest.
    Next(Manifest),
}

/// Rewrite counters and state for INFO, as Redis 7.0 reports them.
#[derive(Debug)]
pub struct RewriteStats {
    /// A rewrite waits to start (aof_rewrite_scheduled).
    pub scheduled: bool,
    /// How the last rewrite ended (aof_last_bgrewrite_status).
    pub last_ok: bool,
    /// Rewrites started (aof_rewrites).
    pub rewrites: u64,
    /// Failures in a row (aof_rewrites_consecutive_failures).
    pub consecutive_failures: u64,
    /// Duration of the last rewrite, -1 if none (aof_last_rewrite_time_sec).
    pub last_time_sec: i64,
    /// When the running rewrite started.
    pub started: Option<Instant>,
    /// Duration of the last fork (latest_fork_usec).
    pub latest_fork_usec: u64,
    /// Forks made (total_forks).
    pub total_forks: u64,
    /// Copy-on-write bytes of the last child (aof_last_cow_size).
    pub last_cow_size: u64,
    gen: u64,
    limit_delay_minutes: u64,
    limit_until: Option<Instant>,
}

impl Default for RewriteStats {
    fn default() -> Self {
        RewriteStats {
            scheduled: false,
            last_ok: true,
            rewrites: 0,
            consecutive_failures: 0,
            last_time_sec: -1,
            started: None,
            latest_fork_usec: 0,
            total_forks: 0,
            last_cow_size: 0,
            gen: 0,
            limit_delay_minutes: 0,
            limit_until: None,
        }
    }
}

impl RewriteStats {
    /// Seconds the running rewrite has taken, -1 if none
    /// (aof_current_rewrite_time_sec).
    pub fn current_time_sec(&self) -> i64 {
        self.started
            .map(|t| t.elapsed().as_secs() as i64)
            .unwrap_or(-1)
    }

    /// Redis's `aofRewriteLimited`: after 3 failures in a row, automatic
    /// rewrites wait 1 minute, then 2, 4... up to an hour. BGREWRITEAOF is
    /// never limited.
    fn limited(&mut self) -> bool {
        if self.consecutive_failures < LIMIT_THRESHOLD {
            self.limit_delay_minutes = 0;
            self.limit_until = None;
            return false;
        }
        if let Some(t) = self.limit_until {
            if Instant::now() < t {
                return true;
            }
            self.limit_until = None;
            return false;
        }
        self.limit_delay_minutes = if self.limit_delay_minutes == 0 {
            1
        } else {
            (self.limit_delay_minutes * 2).min(LIMIT_MAX_MINUTES)
        };
        self.limit_until =
            Some(Instant::now() + Duration::from_secs(self.limit_delay_minutes * 60));
        log::warn!(
            "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {} minutes",
            self.limit_delay_minutes
        );
        true
    }

    fn finished(&mut self, ok: bool) {
        self.last_ok = ok;
        if ok {
            self.consecutive_failures = 0;
        } else {
            self.consecutive_failures += 1;
        }
        self.last_time_sec = self.current_time_sec();
        self.started = None;
    }
}

/// Step 1, on the helper thread.
fn prepare(dir: &Path, appendfilename: &str, plan: Plan) -> Result<Prepared, String> {
    fs::create_dir_all(dir).map_err(|e| {
        format!(
            "Can't open or create append-only dir {}: {e}",
            dir.display()
        )
    })?;
    match plan {
        Plan::Off => Ok(Prepared {
            file: None,
            manifest: None,
        }),
        Plan::Initial => {
            let p = dir.join(temp_incr_name(appendfilename));
            let f = create_for_append(&p)
                .map_err(|e| format!("Can't open the append-only file {}: {e}", p.display()))?;
            log::info!(
                "Creating AOF incr file {} on background rewrite",
                p.display()
            );
            Ok(Prepared {
                file: Some(f),
                manifest: None,
            })
        }
        Plan::Next(m) => {
            let name = m.incrs.last().map(|f| f.name.clone()).unwrap_or_default();
            let p = dir.join(&name);
            let f = create_for_append(&p)
                .map_err(|e| format!("Can't open the append-only file {name}: {e}"))?;
            failpoint::hit("incr-created");
            // A manifest that is live but whose directory entry may not be
            // durable is not good enough to write into the new file: the
            // writer stays on the old one, which both manifests name.
            manifest::write_manifest(dir, appendfilename, &m.to_text())
                .map_err(|e| e.to_string())?;
            log::info!("Creating AOF incr file {name} on background rewrite");
            Ok(Prepared {
                file: Some(f),
                manifest: Some(m),
            })
        }
    }
}

/// Step 4, on the helper thread.
fn install(
    dir: &Path,
    appendfilename: &str,
    tmp: &Path,
    base: &Path,
    incr_rename: Option<(PathBuf, PathBuf)>,
    manifest: Manifest,
) -> Installed {
    let initial = incr_rename.is_some();
    let fail = |why: String, committed: bool, manifest: Manifest| Installed {
        initial,
        manifest,
        result: Err((why, committed)),
        base_size: 0,
    };
    if let Err(e) = fs::rename(tmp, base) {
        let _ = fs::remove_file(tmp);
        return fail(
            format!(
                "Error trying to rename the temporary AOF base file {} into {}: {e}",
                tmp.display(),
                base.display()
            ),
            false,
            manifest,
        );
    }
    failpoint::hit("base-renamed");
    if let Some((from, to)) = &incr_rename {
        if let Err(e) = fs::rename(from, to) {
            let _ = fs::remove_file(base);
            return fail(
                format!(
                    "Error trying to rename the temporary AOF incr file {} into {}: {e}",
                    from.display(),
                    to.display()
                ),
                false,
                manifest,
            );
        }
    }
    if let Err(e) = manifest::write_manifest(dir, appendfilename, &manifest.to_text()) {
        if !e.committed {
            // The manifest on disk is the old one: the new files are not
            // part of any set.
            let _ = fs::remove_file(base);
            if let Some((_, to)) = &incr_rename {
                let _ = fs::remove_file(to);
            }
        }
        return fail(e.to_string(), e.committed, manifest);
    }
    failpoint::hit("rewrite-installed");
    log::info!(
        "Successfully renamed the temporary AOF base file {} into {}",
        tmp.display(),
        base.display()
    );
    let base_size = fs::metadata(base).map(|m| m.len()).unwrap_or(0);
    Installed {
        initial,
        manifest,
        result: Ok(()),
        base_size,
    }
}

impl Aof {
    /// Whether a rewrite is preparing, running or being installed (INFO
    /// aof_rewrite_in_progress; a second BGREWRITEAOF is refused).
    pub fn rewrite_in_progress(&self) -> bool {
        !matches!(self.rw, Rewrite::Idle)
    }

    fn base_options(cfg: &Config, libs: &Libraries) -> BaseOptions {
        let functions: Vec<Vec<u8>> = libs.libs.iter().map(|l| l.code.clone()).collect();
        BaseOptions {
            key_delay_us: cfg.rdb_key_save_delay,
            incremental_fsync: cfg.aof_rewrite_incremental_fsync,
            timestamp: cfg.aof_timestamp_enabled(),
            rdb: cfg.aof_use_rdb_preamble.then(|| {
                let mut o = crate::rdb::save::save_options_for(cfg, functions.clone());
                o.aof_base = true;
                o.incremental_fsync = cfg.aof_rewrite_incremental_fsync;
                o
            }),
            functions,
        }
    }

    /// Starts a rewrite (BGREWRITEAOF, a scheduled or automatic one).
    /// Errors only when no rewrite can start at all; later failures are
    /// logged and reported by INFO.
    pub fn start_rewrite(&mut self) -> Result<(), String> {
        if self.rewrite_in_progress() {
            return Err("Background append only file rewriting already in progress".into());
        }
        let plan = if !self.on {
            Plan::Off
        } else if self.initial {
            Plan::Initial
        } else {
            let mut next = self.manifest.clone();
            next.new_incr(&self.filename);
            Plan::Next(next)
        };
        self.rw_stats.gen += 1;
        let gen = self.rw_stats.gen;
        let (dir, name, tx) = (
            self.dir.clone(),
            self.filename.clone(),
            self.done_tx.clone(),
        );
        let worker = self
            .ensure_worker()
            .map_err(|e| format!("Can't start the AOF helper thread: {e}"))?;
        worker.run(move || {
            let result = prepare(&dir, &name, plan);
            let _ = tx.send(RewriteDone::Prepared { gen, result });
        });
        self.rw = Rewrite::Preparing { gen };
        self.rw_stats.started = Some(Instant::now());
        self.rw_stats.scheduled = false;
        Ok(())
    }

    /// End of tick, after the AOF write: takes the helper thread's results,
    /// and switches files and forks once the next incr file is ready.
    pub fn rewrite_step(&mut self, dbs: &[Db], cfg: &Config, libs: &Libraries) {
        if matches!(self.rw, Rewrite::Switching(_)) && self.buf.is_empty() {
            if let Rewrite::Switching(p) = std::mem::take(&mut self.rw) {
                self.switch_and_fork(p, dbs, cfg, libs);
            }
        }
        while let Ok(done) = self.done_rx.try_recv() {
            match done {
                RewriteDone::Prepared { gen, result } => {
                    self.on_prepared(gen, result, dbs, cfg, libs)
                }
                RewriteDone::Installed(i) => self.on_installed(i),
            }
        }
    }

    fn on_prepared(
        &mut self,
        gen: u64,
        result: Result<Prepared, String>,
        dbs: &[Db],
        cfg: &Config,
        libs: &Libraries,
    ) {
        if !matches!(self.rw, Rewrite::Preparing { gen: g } if g == gen) {
            // Abandoned (the AOF was turned off or on meanwhile).
            if let Ok(p) = result {
                self.drop_prepared(p);
            }
            return;
        }
        let p = match result {
            Ok(p) => p,
            Err(why) => {
                log::warn!("Can't rewrite the append only file: {why}");
                self.rewrite_failed();
                return;
            }
        };
        // The child must see every logged command and the new file must
        // hold none of them: the switch waits until the buffer is written to
        // the old file (this tick's write ran just before; a write postponed
        // behind a slow fsync goes within two seconds).
        if p.file.is_some() && !self.buf.is_empty() {
            if self.write_errno.is_some() {
                log::warn!("Can't rewrite the append only file: the AOF can't be written");
                self.drop_prepared(p);
                self.rewrite_failed();
            } else {
                self.rw = Rewrite::Switching(p);
            }
            return;
        }
        self.switch_and_fork(p, dbs, cfg, libs);
    }

    fn switch_and_fork(&mut self, p: Prepared, dbs: &[Db], cfg: &Config, libs: &Libraries) {
        if let Some(file) = p.file {
            self.switch_file(file, p.manifest);
        }
        self.fork(dbs, cfg, libs);
    }

    /// Closes a file prepared for nothing. A temporary incr file is left in
    /// place: a newer prepare may already have recreated it under the same
    /// name (the next one truncates it, start-up removes it).
    fn drop_prepared(&self, p: Prepared) {
        if let (Some(f), Some(w)) = (p.file, &self.worker) {
            w.close_later(f, None);
        }
    }

    /// Writes go to `file` from now on; the old file is fsynced and closed
    /// on the helper thread (everything written to it is covered by the
    /// `written` offset of this instant).
    fn switch_file(&mut self, file: File, next: Option<Manifest>) {
        if self.policy() == FsyncPolicy::Always && self.synced < self.written {
            // Written under another policy: on disk before we move on.
            self.fsync_now();
        }
        let old = self.file.replace(Arc::new(file));
        if let (Some(old), Some(w)) = (old, &self.worker) {
            w.retire(old, self.written);
        }
        if let Some(m) = next {
            self.manifest = m;
        }
        self.incr_size = 0;
        self.epoch += 1;
        self.last_ts = 0;
        self.last_fsync = Instant::now();
    }

    fn fork(&mut self, dbs: &[Db], cfg: &Config, libs: &Libraries) {
        self.rw_stats.rewrites += 1;
        let start = Instant::now();
        // The base's format is the one at the fork: the install names it.
        self.base_rdb = cfg.aof_use_rdb_preamble;
        match snapshot::fork_child(dbs, &self.dir, &Self::base_options(cfg, libs)) {
            Ok(child) => {
                self.rw_stats.latest_fork_usec = start.elapsed().as_micros() as u64;
                self.rw_stats.total_forks += 1;
                self.time("fork", start);
                // Table growth and LRU/LFU touches would copy pages the
                // child still reads.
                set_resize_allowed(false);
                crate::db::lru::set_child_running(true);
                log::info!(
                    "Background append only file rewriting started by pid {}",
                    child.pid
                );
                self.rw = Rewrite::Running { child };
            }
            Err(e) => {
                log::warn!("Can't rewrite append only file in background: fork: {e}");
                self.rewrite_failed();
            }
        }
    }

    /// A rewrite failed before its install: nothing on disk changed but
    /// files no manifest names.
    fn rewrite_failed(&mut self) {
        self.rw = Rewrite::Idle;
        self.rw_stats.finished(false);
        if self.initial {
            // The AOF waits for its first base: what the temporary incr file
            // holds is useless without it. Start over at the next cron.
            if let Some(f) = self.file.take() {
                let temp = self.dir.join(temp_incr_name(&self.filename));
                match (Arc::try_unwrap(f), &self.worker) {
                    (Ok(f), Some(w)) => w.close_later(f, Some(temp)),
                    _ => {
                        let _ = fs::remove_file(temp);
                    }
                }
            }
            self.discard_buffer();
            self.rw_stats.scheduled = true;
        }
    }

    /// Cron: reaps the child, then starts a scheduled or automatic rewrite.
    pub fn rewrite_cron(&mut self, cfg: &Config) {
        if let Rewrite::Running { child } = &mut self.rw {
            if let Some(exit) = child.try_wait() {
                if let Rewrite::Running { child } = std::mem::take(&mut self.rw) {
                    set_resize_allowed(true);
                    crate::db::lru::set_child_running(false);
                    self.on_child_exit(child, exit);
                }
            }
        }
        if self.rewrite_in_progress() {
            return;
        }
        if self.rw_stats.scheduled {
            if !self.rw_stats.limited() {
                if let Err(e) = self.start_rewrite() {
                    log::warn!("Can't start the scheduled AOF rewrite: {e}");
                }
            }
            return;
        }
        let perc = cfg.auto_aof_rewrite_percentage;
        if self.on
            && !self.initial
            && perc > 0
            && self.current_size as i64 > cfg.auto_aof_rewrite_min_size
        {
            let base = self.base_size.max(1);
            let growth = (self.current_size * 100 / base) as i64 - 100;
            if growth >= perc && !self.rw_stats.limited() {
                log::info!("Starting automatic rewriting of AOF on {growth}% growth");
                if let Err(e) = self.start_rewrite() {
                    log::warn!("Can't start the automatic AOF rewrite: {e}");
                }
            }
        }
    }

    fn on_child_exit(&mut self, child: Child, exit: ChildExit) {
        match exit {
            ChildExit::Done { cow, .. } => {
                log::info!("Background AOF rewrite terminated with success");
                self.rw_stats.last_cow_size = cow;
                if cow > 0 {
                    log::info!(
                        "AOF rewrite: {} MB of memory used by copy-on-write",
                        cow / (1024 * 1024)
                    );
                }
                self.install(child.tmp);
            }
            ChildExit::Failed(why) => {
                log::warn!("Background AOF rewrite terminated with error: {why}");
                self.remove_later(child.tmp);
                self.rewrite_failed();
            }
            ChildExit::Signaled(sig) => {
                log::warn!("Background AOF rewrite terminated by signal {sig}");
                self.remove_later(child.tmp);
                self.rewrite_failed();
            }
        }
    }

    fn remove_later(&self, p: PathBuf) {
        match &self.worker {
            Some(w) => w.unlink_later(p),
            None => {
                let _ = fs::remove_file(p);
            }
        }
    }

    /// Step 4: hands the renames and the manifest to the helper thread.
    fn install(&mut self, tmp: PathBuf) {
        let mut next = self.manifest.clone();
        let base = self.dir.join(next.new_base(&self.filename, self.base_rdb));
        let mut incr_rename = None;
        if self.initial && self.file.is_some() {
            let incr = next.new_incr(&self.filename);
            incr_rename = Some((
                self.dir.join(temp_incr_name(&self.filename)),
                self.dir.join(incr),
            ));
        }
        // The incr file being written holds what came after the fork; every
        // earlier one is covered by the new base.
        next.retire_incrs(usize::from(self.file.is_some()));
        let Some(worker) = &self.worker else {
            log::warn!("Can't install the rewritten AOF: no helper thread");
            self.rewrite_failed();
            return;
        };
        let (dir, name, tx) = (
            self.dir.clone(),
            self.filename.clone(),
            self.done_tx.clone(),
        );
        worker.run(move || {
            let done = install(&dir, &name, &tmp, &base, incr_rename, next);
            let _ = tx.send(RewriteDone::Installed(done));
        });
        self.rw = Rewrite::Installing;
    }

    fn on_installed(&mut self, i: Installed) {
        if matches!(self.rw, Rewrite::Installing) {
            self.rw = Rewrite::Idle;
        }
        let clean = match i.result {
            Ok(()) => true,
            Err((why, committed)) => {
                log::warn!("Can't install the rewritten AOF: {why}");
                if !committed {
                    self.rewrite_failed();
                    return;
                }
                // The new manifest is in place but its directory entry may
                // not be durable: the old files must stay until it is.
                false
            }
        };
        self.manifest = i.manifest;
        if self.on {
            self.current_size = i.base_size + self.incr_size;
            self.base_size = self.current_size;
        }
        if i.initial {
            self.initial = false;
        }
        self.rw_stats.finished(true);
        log::info!("Background AOF rewrite finished successfully");
        if clean {
            self.remove_history();
        } else {
            log::warn!("The old AOF files are kept until the manifest is known to be on disk (the next rewrite or restart removes them)");
        }
    }

    /// Removes the history files, then persists the manifest without them.
    fn remove_history(&mut self) {
        let Some(worker) = &self.worker else { return };
        let history = std::mem::take(&mut self.manifest.history);
        if history.is_empty() {
            return;
        }
        for h in &history {
            log::info!("Removing the history file {} in the background", h.name);
            worker.unlink_later(self.dir.join(&h.name));
        }
        let (dir, name, text) = (
            self.dir.clone(),
            self.filename.clone(),
            self.manifest.to_text(),
        );
        worker.run(move || {
            failpoint::hit("history-removed");
            if let Err(e) = manifest::write_manifest(&dir, &name, &text) {
                log::warn!("Can't update the AOF manifest after removing history files: {e}");
            }
        });
    }

    /// Stops a running child and removes its file (Redis's
    /// `killAppendOnlyChild`).
    fn kill_child(&mut self) {
        if let Rewrite::Running { child } = std::mem::take(&mut self.rw) {
            log::info!("Killing running AOF rewrite child: {}", child.pid);
            let tmp = child.kill();
            let _ = fs::remove_file(tmp);
            set_resize_allowed(true);
            crate::db::lru::set_child_running(false);
            self.rw_stats.started = None;
        }
    }

    /// `CONFIG SET appendonly no`: writes what is buffered, closes the file,
    /// stops a rewrite. Replies no longer wait for the AOF.
    pub fn turn_off(&mut self) {
        if !self.on {
            return;
        }
        self.flush(true);
        if let Some(f) = self.file.take() {
            if self.initial {
                let temp = self.dir.join(temp_incr_name(&self.filename));
                match (Arc::try_unwrap(f), &self.worker) {
                    (Ok(f), Some(w)) => w.close_later(f, Some(temp)),
                    _ => {
                        let _ = fs::remove_file(temp);
                    }
                }
            } else if let Some(w) = &self.worker {
                w.retire(f, self.written);
            }
        }
        self.discard_buffer();
        match std::mem::take(&mut self.rw) {
            Rewrite::Running { child } => {
                self.rw = Rewrite::Running { child };
                self.kill_child();
            }
            // Its result will be dropped.
            Rewrite::Preparing { .. } => self.rw_stats.started = None,
            Rewrite::Switching(p) => {
                self.drop_prepared(p);
                self.rw_stats.started = None;
            }
            Rewrite::Installing => self.rw = Rewrite::Installing,
            Rewrite::Idle => {}
        }
        self.on = false;
        self.initial = false;
        self.rw_stats.scheduled = false;
        self.epoch += 1;
        self.incr_size = 0;
        if let Some(w) = &self.worker {
            w.clear_error();
        }
    }

    /// `CONFIG SET appendonly yes`: the AOF starts with a rewrite; commands
    /// are logged from the fork on, to a temporary incr file that the
    /// install names. Errors when no rewrite can start.
    pub fn turn_on(&mut self) -> Result<(), String> {
        if self.on {
            return Ok(());
        }
        self.on = true;
        self.initial = true;
        self.write_errno = None;
        if let Some(w) = &self.worker {
            w.clear_error();
        }
        match &self.rw {
            Rewrite::Running { .. } => {
                log::warn!("AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.");
                self.kill_child();
            }
            Rewrite::Preparing { .. } | Rewrite::Switching(_) => self.rw = Rewrite::Idle,
            Rewrite::Installing => {
                self.rw_stats.scheduled = true;
                return Ok(());
            }
            Rewrite::Idle => {}
        }
        self.start_rewrite().map_err(|e| {
            log::warn!("GoStore needs to enable the AOF but can't trigger a background AOF rewrite operation: {e}");
            self.on = false;
            self.initial = false;
            e
        })
    }

    /// Shutdown: stops a rewrite, writes and fsyncs the buffer, lets the
    /// helper thread finish its jobs. If the AOF was turned on at run time
    /// and its first base is not installed yet, writes that base now, from
    /// memory, so the dataset is not lost.
    pub fn shutdown(&mut self, dbs: &[Db], cfg: &Config, libs: &Libraries) -> std::io::Result<()> {
        self.kill_child();
        if let Some(file) = self.file.clone() {
            self.write_buffer()?;
            file.sync_data()?;
            self.synced = self.written;
        }
        if let Some(mut w) = self.worker.take() {
            w.stop();
        }
        while let Ok(done) = self.done_rx.try_recv() {
            match done {
                RewriteDone::Installed(i) => {
                    if i.result.is_ok() || i.result.as_ref().is_err_and(|e| e.1) {
                        self.manifest = i.manifest;
                        if i.initial {
                            self.initial = false;
                        }
                    }
                }
                // A prepared incr file is empty; a manifest naming it is
                // still a complete set.
                RewriteDone::Prepared { .. } => {}
            }
        }
        if self.on && self.initial {
            log::warn!("Writing the initial AOF before exiting.");
            self.write_initial_base(dbs, cfg, libs)?;
        }
        Ok(())
    }

    /// Writes a base from memory on the loop and installs it alone (the
    /// incr files become history). Only at shutdown.
    fn write_initial_base(
        &mut self,
        dbs: &[Db],
        cfg: &Config,
        libs: &Libraries,
    ) -> std::io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let mut next = self.manifest.clone();
        let base = self
            .dir
            .join(next.new_base(&self.filename, cfg.aof_use_rdb_preamble));
        next.retire_incrs(0);
        let tmp = self
            .dir
            .join(format!("temp-rewriteaof-{}.aof", std::process::id()));
        // No testing delay here: this runs on the loop, at shutdown.
        let o = BaseOptions {
            key_delay_us: 0,
            ..Self::base_options(cfg, libs)
        };
        snapshot::write_base_file(dbs, &tmp, &o)?;
        fs::rename(&tmp, &base)?;
        manifest::write_manifest(&self.dir, &self.filename, &next.to_text())
            .map_err(|e| e.error)?;
        self.manifest = next;
        self.initial = false;
        Ok(())
    }
}
