//! Logging through `log`, formatted as Redis's log lines:
//! `pid:M 05 Dec 2026 07:55:19.123 * message` (strftime's
//! `%d %b %Y %H:%M:%S.` and milliseconds), with Redis's level marks
//! (`.` debug, `-` verbose, `*` notice, `#` warning). `loglevel` maps
//! debug→trace, verbose→debug, notice→info, warning→warn.
//!
//! Lines go to standard output, or to `logfile`, opened in append mode. Each
//! line is one `write(2)`, so lines from several processes (a forked child)
//! never interleave. `reopen` (on SIGHUP) opens the file again by name, which
//! is what log rotation needs: logrotate renames the file, sends SIGHUP, and
//! the next line goes to a fresh file.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::sync::Mutex;

use crate::config::{Config, LogLevel};

/// Where log lines go.
enum Target {
    /// Standard output (`logfile ""`).
    Stdout,
    /// A file, kept open, reopened by name on SIGHUP.
    File { path: PathBuf, file: File },
}

struct Logger {
    target: Mutex<Target>,
}

static LOGGER: Logger = Logger {
    target: Mutex::new(Target::Stdout),
};
/// The pid printed on each line; changes after `daemonize` forks.
static PID: AtomicU32 = AtomicU32::new(0);
/// Redis's role character: `M` for the server, `C` for a forked child.
static ROLE: AtomicU8 = AtomicU8::new(b'M');

fn mark(level: log::Level) -> char {
    match level {
        log::Level::Trace => '.',
        log::Level::Debug => '-',
        log::Level::Info => '*',
        log::Level::Warn | log::Level::Error => '#',
    }
}

impl log::Log for Logger {
    fn enabled(&self, meta: &log::Metadata<'_>) -> bool {
        meta.level() <= log::max_level()
    }

    fn log(&self, rec: &log::Record<'_>) {
        if !self.enabled(rec.metadata()) {
            return;
        }
        let line = format!(
            "{}:{} {} {} {}\n",
            PID.load(Ordering::Relaxed),
            ROLE.load(Ordering::Relaxed) as char,
            timestamp(),
            mark(rec.level()),
            rec.args()
        );
        let Ok(mut target) = self.target.lock() else {
            return;
        };
        // A failed log write has nowhere to be reported; it is dropped, as
        // Redis does.
        let _ = match &mut *target {
            Target::Stdout => std::io::stdout().lock().write_all(line.as_bytes()),
            Target::File { file, .. } => file.write_all(line.as_bytes()),
        };
    }

    fn flush(&self) {}
}

/// The local time as Redis's log lines show it: `05 Dec 2026 07:55:19.123`.
fn timestamp() -> String {
    let us = crate::util::time::unix_us();
    let secs = (us / 1_000_000) as libc::time_t;
    // SAFETY: tm is plain old data, valid all zeroes; localtime_r fills it
    // from secs and keeps no pointer to either.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe { libc::localtime_r(&secs, &mut tm) };
    format_timestamp(&tm, (us % 1_000_000) / 1000)
}

/// Redis's `strftime(buf, sizeof(buf), "%d %b %Y %H:%M:%S.", tm)` and the
/// milliseconds: every field but the year is zero-padded to two digits.
fn format_timestamp(tm: &libc::tm, millis: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        tm.tm_mday,
        MONTHS[tm.tm_mon.clamp(0, 11) as usize],
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        millis
    )
}

fn open(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// Installs the logger for `config` (stdout, or `logfile`). The file name is
/// made absolute first, so `reopen` finds it after the server changes to
/// `dir`. Calling it again replaces the target.
pub fn init(config: &Config) -> std::io::Result<()> {
    let target = if config.logfile.is_empty() {
        Target::Stdout
    } else {
        let path = std::path::absolute(&config.logfile)?;
        let file = open(&path)?;
        Target::File { path, file }
    };
    if let Ok(mut t) = LOGGER.target.lock() {
        *t = target;
    }
    set_pid(std::process::id());
    let _ = log::set_logger(&LOGGER);
    set_level(config.loglevel);
    Ok(())
}

/// Opens the log file again by name (SIGHUP, for log rotation). Standard
/// output needs nothing. On failure the old file stays in use.
pub(crate) fn reopen() -> std::io::Result<()> {
    let Ok(mut t) = LOGGER.target.lock() else {
        return Ok(());
    };
    if let Target::File { path, file } = &mut *t {
        *file = open(path)?;
    }
    Ok(())
}

/// The log file in use, if any.
pub(crate) fn file_path() -> Option<PathBuf> {
    let t = LOGGER.target.lock().ok()?;
    match &*t {
        Target::File { path, .. } => Some(path.clone()),
        Target::Stdout => None,
    }
}

/// Changes the effective level.
pub(crate) fn set_level(level: LogLevel) {
    log::set_max_level(level.filter());
}

/// Sets the pid printed on each line (after `daemonize`).
pub(crate) fn set_pid(pid: u32) {
    PID.store(pid, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tm(mday: i32, mon: i32, year: i32, hour: i32, min: i32, sec: i32) -> libc::tm {
        // SAFETY: tm is plain old data, valid all zeroes.
        let mut tm: libc::tm = unsafe { std::mem::zeroed() };
        tm.tm_mday = mday;
        tm.tm_mon = mon;
        tm.tm_year = year - 1900;
        tm.tm_hour = hour;
        tm.tm_min = min;
        tm.tm_sec = sec;
        tm
    }

    #[test]
    fn the_timestamp_pads_the_day_as_redis_does() {
        assert_eq!(
            format_timestamp(&tm(5, 11, 2026, 7, 55, 19), 123),
            "05 Dec 2026 07:55:19.123"
        );
        assert_eq!(
            format_timestamp(&tm(23, 0, 2027, 0, 0, 0), 7),
            "23 Jan 2027 00:00:00.007"
        );
    }
}
