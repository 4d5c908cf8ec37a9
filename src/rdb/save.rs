//! Saving the RDB file: SAVE in the foreground, BGSAVE in a forked child
//! (the AOF rewrite's `fork_writer`), `save` points, and the state INFO
//! persistence and LASTSAVE report (Redis's `rdbSave`, `rdbSaveBackground`,
//! `backgroundSaveDoneHandler` and the save-point check in `serverCron`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::writer::{write_file, AccessInfo, SaveOptions};
use crate::aof::snapshot::{fork_writer, Child, ChildExit};
use crate::config::values::MaxmemoryPolicy;
use crate::config::Config;
use crate::core::Core;
use crate::db::Db;

/// Redis's `CONFIG_BGSAVE_RETRY_DELAY`: after a failed BGSAVE, save points
/// wait this many seconds before trying again.
const RETRY_DELAY_SECS: i64 = 5;

/// The RDB state of the server.
#[derive(Debug)]
pub struct RdbState {
    /// The running BGSAVE child, and when it started.
    child: Option<(Child, Instant)>,
    /// A BGSAVE was asked for; the loop forks at the end of the tick.
    pub requested: bool,
    /// BGSAVE SCHEDULE while the AOF rewrite runs.
    pub scheduled: bool,
    /// `Core::dirty` at the last successful save.
    pub dirty_at_save: u64,
    /// `Core::dirty` when the running child forked.
    dirty_at_fork: u64,
    /// Saves that succeeded (INFO `rdb_saves`).
    pub saves: u64,
    /// Whether the last save succeeded (`rdb_last_bgsave_status`).
    pub last_ok: bool,
    /// Seconds the last BGSAVE took, -1 before one (`rdb_last_bgsave_time_sec`).
    pub last_bgsave_secs: i64,
    /// Bytes copied on write by the last child (`rdb_last_cow_size`).
    pub last_cow: u64,
    /// Unix seconds of the last BGSAVE attempt (retry delay).
    last_try: i64,
    /// Keys loaded and skipped as expired by the start-up load.
    pub loaded_keys: u64,
    /// See `loaded_keys`.
    pub loaded_expired: u64,
    /// The replication info of the RDB loaded at start-up, for a replica
    /// to continue its master's stream (taken by `replica_start_from_config`).
    pub loaded_repl: Option<crate::rdb::writer::ReplSaveInfo>,
}

impl Default for RdbState {
    fn default() -> Self {
        RdbState {
            child: None,
            requested: false,
            scheduled: false,
            dirty_at_save: 0,
            dirty_at_fork: 0,
            saves: 0,
            last_ok: true,
            last_bgsave_secs: -1,
            last_cow: 0,
            last_try: 0,
            loaded_keys: 0,
            loaded_expired: 0,
            loaded_repl: None,
        }
    }
}

impl RdbState {
    /// Whether a BGSAVE child runs.
    pub fn child_running(&self) -> bool {
        self.child.is_some()
    }

    /// Seconds the running BGSAVE has taken, -1 when none runs.
    pub fn current_secs(&self) -> i64 {
        self.child
            .as_ref()
            .map_or(-1, |(_, t)| t.elapsed().as_secs() as i64)
    }

    /// Records a successful save of the dataset as it was at `dirty`.
    pub fn saved(&mut self, dirty: u64, _now_secs: i64, ok: bool) {
        self.dirty_at_save = dirty;
        self.saves += 1;
        self.last_ok = ok;
    }

    /// Stops a running child (shutdown, FLUSHALL) and removes its file.
    pub fn kill_child(&mut self) {
        if let Some((child, _)) = self.child.take() {
            let tmp = child.kill();
            let _ = std::fs::remove_file(tmp);
            crate::db::dict::set_resize_allowed(true);
            crate::db::lru::set_child_running(false);
        }
    }
}

/// `dir`/`dbfilename` (the process has changed to `dir`).
pub fn rdb_path(c: &Config) -> PathBuf {
    PathBuf::from(&c.dbfilename)
}

/// How files are written under the current config.
pub fn save_options(core: &Core) -> SaveOptions {
    let functions = core
        .scripting
        .functions
        .libs
        .iter()
        .map(|l| l.code.clone())
        .collect();
    let mut o = save_options_for(&core.config, functions);
    // Redis's `rdbPopulateSaveInfo`: a master in a replication chain (a
    // backlog exists), or a replica, records where its stream stands.
    let stream = &core.propagator.repl;
    if stream.active() {
        let stream_db = match core.replica.as_ref() {
            Some(link) => link.client.db,
            None => stream.selected_db().unwrap_or(0),
        };
        o.repl = Some(crate::rdb::writer::ReplSaveInfo {
            stream_db,
            id: stream.replid.clone(),
            offset: stream.offset,
        });
    }
    o
}

/// How files are written under `c`, with these function libraries.
pub fn save_options_for(c: &Config, functions: Vec<Vec<u8>>) -> SaveOptions {
    SaveOptions {
        compression: c.rdbcompression,
        checksum: c.rdbchecksum,
        access: match c.maxmemory_policy {
            MaxmemoryPolicy::AllkeysLru | MaxmemoryPolicy::VolatileLru => AccessInfo::Idle,
            MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu => AccessInfo::Freq,
            _ => AccessInfo::None,
        },
        aof_base: false,
        used_mem: crate::memory::used_memory() as u64,
        key_delay_us: c.rdb_key_save_delay,
        incremental_fsync: true,
        functions,
        repl: None,
    }
}

/// Writes `temp-<pid>.rdb`, fsyncs it and renames it over `path`
/// (`rdbSave`), logging as Redis does.
pub fn save_foreground(dbs: &[&Db], path: &Path, o: &SaveOptions) -> Result<(), String> {
    let tmp = PathBuf::from(format!("temp-{}.rdb", std::process::id()));
    write_and_rename(dbs, &tmp, path, o)?;
    log::info!("DB saved on disk");
    Ok(())
}

fn write_and_rename(dbs: &[&Db], tmp: &Path, path: &Path, o: &SaveOptions) -> Result<(), String> {
    if let Err(e) = write_file(dbs, tmp, o) {
        let _ = std::fs::remove_file(tmp);
        return Err(format!("Write error saving DB on disk: {e}"));
    }
    if let Err(e) = std::fs::rename(tmp, path) {
        let cwd = std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        let _ = std::fs::remove_file(tmp);
        return Err(format!(
            "Error moving temp DB file {} on the final destination {} (in server root dir {cwd}): {e}",
            tmp.display(),
            path.display()
        ));
    }
    Ok(())
}

/// Forks the BGSAVE child (`rdbSaveBackground`).
pub fn start_bgsave(core: &mut Core, dbs: &[Db]) -> Result<(), String> {
    let o = save_options(core);
    let refs: Vec<&Db> = dbs.iter().collect();
    let started = Instant::now();
    let child = fork_writer(
        |pid| PathBuf::from(format!("temp-{pid}.rdb")),
        |tmp| {
            write_file(&refs, tmp, &o)
                .map(|_| ())
                .map_err(|e| format!("Write error saving DB on disk: {e}"))
        },
    )
    .map_err(|e| format!("Can't save in background: fork: {e}"))?;
    core.aof.rw_stats.latest_fork_usec = started.elapsed().as_micros() as u64;
    log::info!("Background saving started by pid {}", child.pid);
    crate::db::dict::set_resize_allowed(false);
    crate::db::lru::set_child_running(true);
    core.rdb.dirty_at_fork = core.dirty;
    core.rdb.child = Some((child, started));
    Ok(())
}

/// Called at the end of each tick and from cron: reaps a finished child
/// (renaming its file into place), then starts a requested, scheduled or
/// save-point BGSAVE.
pub fn cron(core: &mut Core, dbs: &[Db], now_ms: i64) {
    if let Some((child, _)) = core.rdb.child.as_mut() {
        if let Some(exit) = child.try_wait() {
            if let Some((child, started)) = core.rdb.child.take() {
                crate::db::dict::set_resize_allowed(true);
                crate::db::lru::set_child_running(false);
                done(core, child, exit, started, now_ms);
            }
        }
    }
    if core.rdb.child.is_some() {
        return;
    }
    let now = now_ms / 1000;
    let rewrite = core.aof.rewrite_in_progress();
    let mut why = None;
    if (core.rdb.requested || core.rdb.scheduled) && !rewrite {
        why = Some("asked");
    } else if !rewrite {
        let changes = core.dirty - core.rdb.dirty_at_save;
        let since = now - core.lastsave;
        let can_retry = core.rdb.last_ok || now - core.rdb.last_try > RETRY_DELAY_SECS;
        if can_retry {
            for &(secs, n) in &core.config.save {
                if changes >= n && since >= secs as i64 {
                    log::info!("{n} changes in {secs} seconds. Saving...");
                    why = Some("save point");
                    break;
                }
            }
        }
    }
    if why.is_none() {
        return;
    }
    core.rdb.requested = false;
    core.rdb.scheduled = false;
    core.rdb.last_try = now;
    if let Err(e) = start_bgsave(core, dbs) {
        log::warn!("{e}");
        core.rdb.last_ok = false;
    }
}

fn done(core: &mut Core, child: Child, exit: ChildExit, started: Instant, now_ms: i64) {
    core.rdb.last_bgsave_secs = started.elapsed().as_secs() as i64;
    match exit {
        ChildExit::Done { cow, .. } => {
            let path = rdb_path(&core.config);
            if let Err(e) = std::fs::rename(&child.tmp, &path) {
                log::warn!(
                    "Background saving error: can't rename {} to {}: {e}",
                    child.tmp.display(),
                    path.display()
                );
                let _ = std::fs::remove_file(&child.tmp);
                core.rdb.last_ok = false;
                return;
            }
            if cow > 0 {
                log::info!(
                    "Fork CoW for RDB: current {} MB, peak {} MB, average {} MB",
                    cow >> 20,
                    cow >> 20,
                    cow >> 20
                );
            }
            log::info!("Background saving terminated with success");
            core.rdb.last_cow = cow;
            let at_fork = core.rdb.dirty_at_fork;
            core.rdb.saved(at_fork, now_ms / 1000, true);
            core.lastsave = now_ms / 1000;
        }
        ChildExit::Failed(why) => {
            log::warn!("Background saving error: {why}");
            let _ = std::fs::remove_file(&child.tmp);
            core.rdb.last_ok = false;
        }
        ChildExit::Signaled(sig) => {
            log::warn!("Background saving terminated by signal {sig}");
            let _ = std::fs::remove_file(&child.tmp);
            if sig != libc::SIGUSR1 {
                core.rdb.last_ok = false;
            }
        }
    }
}
