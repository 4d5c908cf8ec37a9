//! Logging through `log`, formatted as Redis's log lines:
//! `pid:M 23 Nov 2026 11:28:00.123 * message`, with Redis's level marks
//! (`.` debug, `-` verbose, `*` notice, `#` warning). `loglevel` maps
//! debug→trace, verbose→debug, notice→info, warning→warn.

use std::io::Write;

use crate::config::{Config, LogLevel};

fn mark(level: log::Level) -> char {
    match level {
        log::Level::Trace => '.',
        log::Level::Debug => '-',
        log::Level::Info => '*',
        log::Level::Warn | log::Level::Error => '#',
    }
}

/// Installs the logger for `config` (stdout, or `logfile`). Safe to call once.
pub fn init(config: &Config) -> std::io::Result<()> {
    let mut b = env_logger::Builder::new();
    b.filter_level(LogLevel::Debug.filter());
    let pid = std::process::id();
    b.format(move |buf, rec| {
        writeln!(
            buf,
            "{pid}:M {} {} {}",
            crate::util::time::log_timestamp(),
            mark(rec.level()),
            rec.args()
        )
    });
    if config.logfile.is_empty() {
        b.target(env_logger::Target::Stdout);
    } else {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&config.logfile)?;
        b.target(env_logger::Target::Pipe(Box::new(f)));
    }
    // The builder's filter is the widest; the effective level is log's max
    // level, which CONFIG SET loglevel changes at run time.
    let _ = b.try_init();
    set_level(config.loglevel);
    Ok(())
}

/// Changes the effective level.
pub fn set_level(level: LogLevel) {
    log::set_max_level(level.filter());
}
