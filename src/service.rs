//! Running as a service, as Redis does: supervision (`supervised
//! no|upstart|systemd|auto`), `daemonize yes` and the `pidfile`.
//!
//! Under systemd (`Type=notify`) the server talks to the service manager
//! through the datagram socket named by `$NOTIFY_SOCKET`, written here with
//! plain libc calls (no libsystemd): `STATUS=` lines while the AOF loads,
//! `READY=1` once it is loaded and the listeners accept, `STOPPING=1` when a
//! shutdown starts. While loading, each progress line also carries
//! `EXTEND_TIMEOUT_USEC`, so a long load is not killed by `TimeoutStartSec`
//! while one that stops making progress still is. `WATCHDOG=1` is sent when
//! the unit sets `WatchdogSec`.
//!
//! The supervision state is process-wide (set once in `main`, before the
//! server exists), like Redis's `server.supervised_mode`.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::config::Supervised;

/// Where the pid file goes when `daemonize yes` names none (Redis's
/// `/var/run/redis.pid`).
pub(crate) const DEFAULT_PIDFILE: &str = "/var/run/gostore.pid";

/// How long one loading progress line extends systemd's start timeout.
const LOAD_EXTEND_USEC: u64 = 30_000_000;
/// How often progress is reported while the AOF loads.
const LOAD_REPORT_EVERY: Duration = Duration::from_secs(1);

/// A connection to systemd's notification socket.
pub(crate) struct Notifier {
    sock: OwnedFd,
    addr: libc::sockaddr_un,
    addr_len: libc::socklen_t,
    /// `WatchdogSec`, when systemd asks for keep-alives.
    watchdog: Option<Duration>,
}

impl Notifier {
    /// Opens a socket for the path in `$NOTIFY_SOCKET` (a filesystem path,
    /// or `@name` for the abstract namespace). `None` when the variable is
    /// not set.
    pub(crate) fn from_env() -> Option<io::Result<Notifier>> {
        let path = std::env::var_os("NOTIFY_SOCKET")?;
        Some(Notifier::connect(path.as_encoded_bytes()))
    }

    /// Opens a socket that sends to `path`.
    pub fn connect(path: &[u8]) -> io::Result<Notifier> {
        // SAFETY: sockaddr_un is plain old data; all zeroes is valid.
        let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        if path.is_empty() || path.len() >= addr.sun_path.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "NOTIFY_SOCKET is empty or too long",
            ));
        }
        for (dst, &src) in addr.sun_path.iter_mut().zip(path) {
            *dst = src as libc::c_char;
        }
        if path[0] == b'@' {
            // Abstract namespace: a leading NUL, and no terminating one.
            addr.sun_path[0] = 0;
        }
        let base = std::mem::size_of::<libc::sa_family_t>();
        let addr_len = (base + path.len() + usize::from(path[0] != b'@')) as libc::socklen_t;
        // SAFETY: plain socket(2) call; the result is checked.
        let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: socket(2) returned a fresh descriptor that we now own.
        let sock = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Notifier {
            sock,
            addr,
            addr_len,
            watchdog: watchdog_interval(),
        })
    }

    /// Sends one notification datagram (`READY=1`, `STATUS=...`, several
    /// lines at once).
    pub fn send(&self, msg: &str) -> io::Result<()> {
        // SAFETY: msg and addr are valid for the lengths given.
        let n = unsafe {
            libc::sendto(
                self.sock.as_raw_fd(),
                msg.as_ptr().cast(),
                msg.len(),
                libc::MSG_NOSIGNAL,
                (&self.addr as *const libc::sockaddr_un).cast(),
                self.addr_len,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

/// `WATCHDOG_USEC`, when it is meant for this process.
fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    if let Some(pid) = std::env::var("WATCHDOG_PID")
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
    {
        if pid != std::process::id() {
            return None;
        }
    }
    (usec > 0).then(|| Duration::from_micros(usec))
}

/// The supervision in effect.
enum Supervision {
    None,
    Upstart,
    Systemd {
        notifier: Notifier,
        last_watchdog: Mutex<Instant>,
    },
}

static SUPERVISION: OnceLock<Supervision> = OnceLock::new();
static PIDFILE: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Redis's `redisIsSupervised`: resolves `auto`, sets supervision up, and
/// says whether the server is supervised (then `daemonize` is ignored). Call
/// once, after logging is set up.
pub fn supervise(mode: Supervised) -> bool {
    let mode = match mode {
        Supervised::Auto if std::env::var_os("UPSTART_JOB").is_some() => {
            log::debug!("Upstart supervision detected.");
            Supervised::Upstart
        }
        Supervised::Auto if std::env::var_os("NOTIFY_SOCKET").is_some() => {
            log::debug!("Systemd supervision detected.");
            Supervised::Systemd
        }
        other => other,
    };
    let sup = match mode {
        Supervised::Systemd => match Notifier::from_env() {
            None => {
                log::warn!("systemd supervision error: NOTIFY_SOCKET not found!");
                Supervision::None
            }
            Some(Err(e)) => {
                log::warn!("systemd supervision error: {e}");
                Supervision::None
            }
            Some(Ok(notifier)) => match notifier.send("STATUS=GoStore is loading...\n") {
                Ok(()) => {
                    log::info!("Supervised by systemd. Please make sure you set appropriate values for TimeoutStartSec and TimeoutStopSec in your service unit.");
                    Supervision::Systemd {
                        notifier,
                        last_watchdog: Mutex::new(Instant::now()),
                    }
                }
                Err(e) => {
                    log::warn!("systemd supervision error: sd_notify: {e}");
                    Supervision::None
                }
            },
        },
        Supervised::Upstart => {
            if std::env::var_os("UPSTART_JOB").is_none() {
                log::warn!("upstart supervision requested, but UPSTART_JOB not found!");
                Supervision::None
            } else {
                log::info!("supervised by upstart, will stop to signal readiness.");
                Supervision::Upstart
            }
        }
        Supervised::No | Supervised::Auto => Supervision::None,
    };
    let supervised = !matches!(sup, Supervision::None);
    let _ = SUPERVISION.set(sup);
    supervised
}

/// INFO's `process_supervised`: `no`, `upstart` or `systemd`.
pub(crate) fn supervised_name() -> &'static str {
    match SUPERVISION.get() {
        Some(Supervision::Systemd { .. }) => "systemd",
        Some(Supervision::Upstart) => "upstart",
        _ => "no",
    }
}

/// Sends a message to systemd, if supervised by it. Failures are logged.
pub fn notify(msg: &str) {
    if let Some(Supervision::Systemd { notifier, .. }) = SUPERVISION.get() {
        if let Err(e) = notifier.send(msg) {
            log::warn!("systemd supervision error: sd_notify: {e}");
        }
    }
}

/// The server is loaded and its listeners accept: `READY=1` for systemd,
/// SIGSTOP for upstart (which resumes us with SIGCONT).
pub fn ready() {
    match SUPERVISION.get() {
        Some(Supervision::Systemd { .. }) => {
            notify("STATUS=Ready to accept connections\nREADY=1\n");
        }
        Some(Supervision::Upstart) => {
            // Upstart's `expect stop`: it resumes us with SIGCONT. (Redis
            // also unsets UPSTART_JOB; with helper threads running, changing
            // the environment is not safe, and nothing reads it again.)
            // SAFETY: raise(3) is always safe to call.
            unsafe { libc::raise(libc::SIGSTOP) };
        }
        _ => {}
    }
}

/// A shutdown has started.
pub fn stopping() {
    notify("STOPPING=1\nSTATUS=Shutting down: writing the AOF\n");
}

/// Keeps systemd's watchdog fed (from the cron, and while loading).
pub fn watchdog() {
    if let Some(Supervision::Systemd {
        notifier,
        last_watchdog,
    }) = SUPERVISION.get()
    {
        let Some(every) = notifier.watchdog else {
            return;
        };
        let Ok(mut last) = last_watchdog.lock() else {
            return;
        };
        if last.elapsed() >= every / 2 {
            *last = Instant::now();
            let _ = notifier.send("WATCHDOG=1\n");
        }
    }
}

/// Reports AOF loading progress to systemd about once a second.
pub(crate) struct LoadProgress {
    total_bytes: u64,
    last: Instant,
    commands: u64,
    bytes: u64,
}

impl LoadProgress {
    /// Starts reporting for files totalling `total_bytes`.
    pub fn new(total_bytes: u64) -> LoadProgress {
        notify(&format!(
            "STATUS=Loading the append only file ({total_bytes} bytes)\nEXTEND_TIMEOUT_USEC={LOAD_EXTEND_USEC}\n"
        ));
        LoadProgress {
            total_bytes,
            last: Instant::now(),
            commands: 0,
            bytes: 0,
        }
    }

    /// Counts one replayed command of about `bytes` bytes.
    pub fn command(&mut self, bytes: usize) {
        self.commands += 1;
        self.bytes += bytes as u64;
        if self.commands % 1024 == 0 && self.last.elapsed() >= LOAD_REPORT_EVERY {
            self.last = Instant::now();
            let pct = (self.bytes.min(self.total_bytes) * 100)
                .checked_div(self.total_bytes)
                .unwrap_or(0);
            notify(&format!(
                "STATUS=Loading the append only file: {} commands, {pct}%\nEXTEND_TIMEOUT_USEC={LOAD_EXTEND_USEC}\n",
                self.commands
            ));
            watchdog();
        }
    }
}

/// The listeners are bound: writes the pid file when one is configured, or
/// when running in the background (`daemonize yes`, not supervised), as
/// Redis does; then `pidfile` defaults to `/var/run/gostore.pid`.
pub fn listening(config: &mut crate::config::Config) {
    let background = config.daemonize && supervised_name() == "no";
    if background || !config.pidfile.is_empty() {
        if config.pidfile.is_empty() {
            config.pidfile = DEFAULT_PIDFILE.to_string();
        }
        write_pidfile(Path::new(&config.pidfile));
    }
}

/// SIGHUP: opens the log file again (after logrotate moved it).
pub(crate) fn reopen_logs() {
    match crate::logging::reopen() {
        Ok(()) => {
            if let Some(p) = crate::logging::file_path() {
                log::info!("Received SIGHUP, reopened the log file {}", p.display());
            }
        }
        Err(e) => log::warn!("Received SIGHUP, but can't reopen the log file: {e}"),
    }
}

/// Redis's `daemonize`, as a double fork: the parent exits 0, the first
/// child starts a new session and exits, and the grandchild, which can never
/// reacquire a controlling terminal, goes on as the server with its standard
/// streams on /dev/null. Must run before any thread is started.
pub fn daemonize() -> io::Result<()> {
    // SAFETY: the process is single-threaded here; each side of a fork only
    // calls async-signal-safe functions before going on or _exit.
    unsafe {
        match libc::fork() {
            -1 => return Err(io::Error::last_os_error()),
            0 => {}
            _ => libc::_exit(0),
        }
        if libc::setsid() == -1 {
            return Err(io::Error::last_os_error());
        }
        match libc::fork() {
            -1 => return Err(io::Error::last_os_error()),
            0 => {}
            _ => libc::_exit(0),
        }
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            libc::dup2(null, libc::STDIN_FILENO);
            libc::dup2(null, libc::STDOUT_FILENO);
            libc::dup2(null, libc::STDERR_FILENO);
            if null > libc::STDERR_FILENO {
                libc::close(null);
            }
        }
    }
    crate::logging::set_pid(std::process::id());
    Ok(())
}

/// Redis's `createPidFile`: writes our pid, best effort (a failure is
/// logged, the server goes on). The path is kept, absolute, for
/// `remove_pidfile`.
pub(crate) fn write_pidfile(path: &Path) {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match std::fs::write(&path, format!("{}\n", std::process::id())) {
        Ok(()) => {
            if let Ok(mut p) = PIDFILE.lock() {
                *p = Some(path);
            }
        }
        Err(e) => log::warn!("Failed to write PID file {}: {e}", path.display()),
    }
}

/// Removes the pid file written by `write_pidfile`, if any (clean exit).
pub fn remove_pidfile() {
    let Some(path) = PIDFILE.lock().ok().and_then(|mut p| p.take()) else {
        return;
    };
    log::info!("Removing the pid file.");
    if let Err(e) = std::fs::remove_file(&path) {
        log::warn!("Can't remove the pid file {}: {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;

    #[test]
    fn notifications_reach_a_filesystem_socket() {
        let dir = std::env::temp_dir().join(format!("gostore-notify-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("notify.sock");
        let _ = std::fs::remove_file(&path);
        let rx = UnixDatagram::bind(&path).unwrap();
        let n = Notifier::connect(path.as_os_str().as_encoded_bytes()).unwrap();
        n.send("READY=1\n").unwrap();
        let mut buf = [0u8; 64];
        let got = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..got], b"READY=1\n");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn notifications_reach_an_abstract_socket() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("gostore-notify-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let rx = UnixDatagram::bind_addr(&addr).unwrap();
        let n = Notifier::connect(format!("@{name}").as_bytes()).unwrap();
        n.send("STOPPING=1\n").unwrap();
        let mut buf = [0u8; 64];
        let got = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..got], b"STOPPING=1\n");
    }

    #[test]
    fn an_empty_or_overlong_socket_path_is_refused() {
        assert!(Notifier::connect(b"").is_err());
        assert!(Notifier::connect(&[b'a'; 200]).is_err());
    }
}
