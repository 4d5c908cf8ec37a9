//! Crash points for the crash tests: `GOSTORE_CRASH_AT=<point>[:<n>]` in the
//! environment makes the process kill itself with SIGKILL the n-th time
//! (default: the first) it reaches `point` after start-up, exactly as
//! `kill -9` would at that instant. The tests use it to stop the server at
//! each step of an AOF rewrite and of the manifest swap, then check that
//! what is on disk loads to the acknowledged dataset.
//!
//! The points, in the order a rewrite reaches them:
//! - `incr-created`: the next incr file exists, the manifest does not name it yet;
//! - `manifest-temp-written`: a new manifest is written and fsynced under
//!   its temporary name, not yet renamed;
//! - `manifest-renamed`: the new manifest is renamed into place, the
//!   directory not yet fsynced;
//! - `base-renamed`: the child's base file has its final name, the manifest
//!   does not name it yet;
//! - `rewrite-installed`: the new manifest is live, old files not yet removed;
//! - `history-removed`: old files are removed, the manifest still lists them.
//!
//! `GOSTORE_FAULT=aof-fsync:<action>` makes the AOF's fsyncs (on the loop
//! under `always`, on the helper thread under `everysec`) misbehave, for the
//! disk-fault tests: `eio` fails every one with EIO, `eio<n>` the next n,
//! `delay<ms>` makes each take that long (a slow disk).
//!
//! Points are only armed once the server is ready (`arm`), so start-up's own
//! manifest writes and fsyncs do not count. Without the variables this is
//! one relaxed atomic load per call.

use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

static ARMED: AtomicBool = AtomicBool::new(false);
static HITS: AtomicU32 = AtomicU32::new(0);

fn target() -> &'static Option<(String, u32)> {
    static T: OnceLock<Option<(String, u32)>> = OnceLock::new();
    T.get_or_init(|| {
        let v = std::env::var("GOSTORE_CRASH_AT").ok()?;
        match v.split_once(':') {
            Some((p, n)) => Some((p.to_string(), n.parse().ok()?)),
            None => Some((v, 1)),
        }
    })
}

/// Starts counting hits (called when the server is ready).
pub fn arm() {
    if target().is_some() || fault().is_some() {
        ARMED.store(true, Ordering::Relaxed);
    }
}

/// What `GOSTORE_FAULT` asks the AOF's fsyncs to do.
#[derive(Debug)]
enum Fault {
    /// Fail with EIO, this many more times (u32::MAX: always).
    Eio(AtomicU32),
    /// Take this long.
    Delay(Duration),
}

fn fault() -> &'static Option<Fault> {
    static F: OnceLock<Option<Fault>> = OnceLock::new();
    F.get_or_init(|| {
        let v = std::env::var("GOSTORE_FAULT").ok()?;
        let action = v.strip_prefix("aof-fsync:")?;
        if let Some(n) = action.strip_prefix("eio") {
            let n = if n.is_empty() {
                u32::MAX
            } else {
                n.parse().ok()?
            };
            Some(Fault::Eio(AtomicU32::new(n)))
        } else {
            let ms = action.strip_prefix("delay")?.parse().ok()?;
            Some(Fault::Delay(Duration::from_millis(ms)))
        }
    })
}

/// `file.sync_data()`, unless `GOSTORE_FAULT` says otherwise.
pub fn sync_data(file: &File) -> std::io::Result<()> {
    if ARMED.load(Ordering::Relaxed) {
        match fault() {
            Some(Fault::Eio(left)) => {
                let n = left.load(Ordering::Relaxed);
                if n > 0 {
                    if n != u32::MAX {
                        left.store(n - 1, Ordering::Relaxed);
                    }
                    return Err(std::io::Error::from_raw_os_error(libc::EIO));
                }
            }
            Some(Fault::Delay(d)) => std::thread::sleep(*d),
            None => {}
        }
    }
    file.sync_data()
}

/// Kills the process if `point` is the configured crash point and this is
/// the configured hit.
pub fn hit(point: &str) {
    if !ARMED.load(Ordering::Relaxed) {
        return;
    }
    let Some((p, n)) = target() else { return };
    if p != point {
        return;
    }
    if HITS.fetch_add(1, Ordering::Relaxed) + 1 == *n {
        // SAFETY: raise(2) is always safe; SIGKILL ends the whole process
        // (every thread) at once, as kill -9 from outside would.
        unsafe {
            libc::raise(libc::SIGKILL);
        }
    }
}
