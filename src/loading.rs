//! Serving clients while a dataset loads: Redis's `processEventsWhileBlocked`
//! called from `rdbLoadProgressCallback` and `loadSingleAppendOnlyFile`.
//!
//! A load (the AOF or RDB at start-up, a replica's full sync) reports its
//! position here. Every `loading-process-events-interval-bytes` (and, for
//! the AOF, every 1024 commands) the clients are served with the machinery
//! busy scripts use (`scripting::busy::serve_clients`): new connections are
//! accepted, input read without blocking, and `process_command` answers
//! `-LOADING` to all but the commands flagged `loading` (INFO, CONFIG,
//! ...). Nothing can write meanwhile, so no reply waits for the AOF.
//!
//! `key-load-delay` (hidden, testing only, as in Redis) sleeps per RDB key
//! (an AOF's RDB base included; not per AOF command, as Redis 7.0), so
//! that tests can make a load last.

use crate::client::{ClientState, Clients};
use crate::commands::{Exec, Redaction};
use crate::core::Core;
use crate::db::Db;
use crate::resp::Reply;

/// The reply to a command not flagged `loading` while a dataset loads.
pub const LOADING_ERR: &str = "LOADING Redis is loading the dataset in memory";

/// AOF commands between two rounds of serving (Redis's 1024).
const AOF_COMMANDS_EVERY: u64 = 1024;

/// A load in progress (Redis's `loading_*` fields).
#[derive(Debug, Clone, Default)]
pub struct LoadInfo {
    /// Unix seconds when it began.
    pub start_time: i64,
    /// Bytes to load.
    pub total_bytes: u64,
    /// Bytes loaded so far (as of the last round of serving).
    pub loaded_bytes: u64,
    /// The RDB's `used-mem` AUX field, once read.
    pub rdb_used_mem: u64,
    /// Keys or commands loaded (for `key-load-delay`'s negative form and
    /// the AOF's every-1024 rounds).
    count: u64,
}

impl LoadInfo {
    /// INFO persistence's `loading_*` lines (Redis's `genRedisInfoString`).
    pub fn info_lines(&self, now_s: i64) -> String {
        // An AOF's position is estimated from its commands: never past
        // the end.
        let loaded = if self.total_bytes > 0 {
            self.loaded_bytes.min(self.total_bytes)
        } else {
            self.loaded_bytes
        } as i64;
        let (perc, remaining) = if self.total_bytes > 0 {
            (
                loaded as f64 / (self.total_bytes as f64 + 1.0) * 100.0,
                self.total_bytes as i64 - loaded,
            )
        } else {
            (0.0, 1)
        };
        let elapsed = now_s - self.start_time;
        let eta = if elapsed <= 0 {
            1
        } else {
            elapsed * remaining / (loaded + 1)
        };
        format!(
            "loading_start_time:{}\r\nloading_total_bytes:{}\r\nloading_rdb_used_mem:{}\r\nloading_loaded_bytes:{}\r\nloading_loaded_perc:{perc:.2}\r\nloading_eta_seconds:{eta}\r\n",
            self.start_time, self.total_bytes, self.rdb_used_mem, loaded
        )
    }
}

/// A load of `total_bytes` begins (Redis's `startLoading`).
pub fn start(core: &mut Core, total_bytes: u64) {
    core.load = Some(LoadInfo {
        start_time: crate::util::time::unix_ms() / 1000,
        total_bytes,
        ..LoadInfo::default()
    });
}

/// The load ended, well or not (Redis's `stopLoading`).
pub fn stop(core: &mut Core) {
    core.load = None;
}

/// The borrows a round of serving needs.
pub struct Serve<'a> {
    /// The other clients.
    pub clients: &'a mut Clients,
    /// Scratch for the commands run.
    pub redaction: &'a mut Redaction,
    /// The signal pipe: SIGTERM stops a load, as Redis's `whileBlockedCron`.
    pub signals: Option<&'a crate::signals::SignalPipe>,
}

/// One key (RDB) or command (AOF) loaded; `at` is the load's position in
/// bytes. Sleeps `key-load-delay` (RDB keys), and serves the clients when
/// the position crossed an interval (or, for the AOF, every 1024
/// commands). Returns false when the load must stop: a client ran
/// SHUTDOWN, or SIGTERM came (Redis then exits without saving).
pub fn progress(dbs: &mut [Db], core: &mut Core, s: &mut Serve<'_>, at: u64, aof: bool) -> bool {
    let Some(info) = core.load.as_mut() else {
        return true;
    };
    info.count += 1;
    let count = info.count;
    // Redis 7.0 sleeps per RDB key only, not per AOF command.
    if !aof {
        key_delay(core.config.key_load_delay, count);
    }
    let every = core.config.loading_process_events_interval_bytes.max(1) as u64;
    let Some(info) = core.load.as_mut() else {
        return true;
    };
    let crossed = at / every > info.loaded_bytes / every;
    let round = aof && count % AOF_COMMANDS_EVERY == 0;
    if !(crossed || round) {
        return true;
    }
    info.loaded_bytes = at;
    serve(dbs, core, s);
    core.shutdown.is_none()
}

/// Sets the RDB's `used-mem` AUX field for INFO.
pub fn rdb_used_mem(core: &mut Core, v: u64) {
    if let Some(info) = core.load.as_mut() {
        info.rdb_used_mem = v;
    }
}

/// One round of serving the clients while loading.
fn serve(dbs: &mut [Db], core: &mut Core, s: &mut Serve<'_>) {
    if let Some(p) = s.signals {
        crate::server::on_signals(p.drain(), core);
        if core.shutdown.is_some() {
            return;
        }
    }
    // Served commands run as any client's do (renamed commands, the live
    // clock); `core.load` is what refuses them.
    let replaying = core.loading;
    core.loading = false;
    let mut state = ClientState::new(
        0,
        "loading".into(),
        String::new(),
        -1,
        false,
        crate::util::time::unix_ms(),
        true,
    );
    let mut reply = Reply::new();
    let mut x = Exec {
        dbs,
        client: &mut state,
        reply: &mut reply,
        clients: &mut *s.clients,
        core: &mut *core,
        redaction: &mut *s.redaction,
    };
    crate::scripting::busy::serve_clients(&mut x);
    core.loading = replaying;
}

/// Redis's `debugDelay`: `us` µs per key; a negative `us` sleeps 1 µs once
/// every `-us` keys.
fn key_delay(us: i32, count: u64) {
    let sleep = match us {
        0 => return,
        n if n > 0 => n as u32,
        n if count % (n.unsigned_abs() as u64) == 0 => 1,
        _ => return,
    };
    // SAFETY: usleep has no memory-safety preconditions.
    unsafe {
        libc::usleep(sleep);
    }
}

/// Loads the RDB bytes `b` into `dbs` while serving the clients; `base` is
/// where `b` starts in the whole load (an AOF's RDB base: 0).
pub fn load_rdb(
    b: &[u8],
    dbs: &mut [Db],
    core: &mut Core,
    s: &mut Serve<'_>,
    lim: &crate::rdb::Limits,
    o: crate::rdb::loader::LoadOptions,
    base: u64,
) -> Result<crate::rdb::loader::LoadStats, crate::rdb::loader::RdbError> {
    let mut aux_seen = false;
    crate::rdb::loader::load_bytes_with(b, dbs, lim, o, &mut |st, pos, dbs| {
        if !aux_seen {
            aux_seen = true;
            if let Some(v) = crate::rdb::loader::aux_used_mem(st) {
                rdb_used_mem(core, v);
            }
        }
        progress(dbs, core, s, base + pos as u64, false)
    })
}

#[cfg(test)]
mod tests {
    use super::LoadInfo;

    #[test]
    fn info_lines_use_redis_arithmetic_and_never_pass_the_end() {
        let mut l = LoadInfo {
            start_time: 1000,
            total_bytes: 60875,
            loaded_bytes: 8190,
            rdb_used_mem: 1235656,
            ..LoadInfo::default()
        };
        // Figures redis-server 7.0.15 gave for the same position.
        assert_eq!(
            l.info_lines(1001),
            "loading_start_time:1000\r\nloading_total_bytes:60875\r\nloading_rdb_used_mem:1235656\r\nloading_loaded_bytes:8190\r\nloading_loaded_perc:13.45\r\nloading_eta_seconds:6\r\n"
        );
        assert!(l.info_lines(1000).ends_with("loading_eta_seconds:1\r\n"));
        // An AOF's estimated position past the end shows as the end.
        l.loaded_bytes = 70000;
        let text = l.info_lines(1001);
        assert!(text.contains("loading_loaded_bytes:60875\r\n"), "{text}");
        assert!(text.contains("loading_loaded_perc:100.00\r\n"), "{text}");
        assert!(text.contains("loading_eta_seconds:0\r\n"), "{text}");
    }
}
