//! Test support for `tests/cli.rs`: a server on a free port in a temp dir,
//! one-shot runs of a CLI (piped or under a pseudo-terminal), and an
//! interactive pseudo-terminal session that waits on output, never on time.

#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::{answered_by, free_port, ping};

/// How long any wait in these tests may take before it fails.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// How to start a server: program and its arguments for a port and a dir.
#[derive(Clone)]
pub struct ServerSpec {
    pub program: PathBuf,
    pub args: fn(port: u16, dir: &Path) -> Vec<String>,
}

/// A temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("gostore-cli-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A server process on a free port; killed on drop.
pub struct TestServer {
    spec: ServerSpec,
    child: Option<Child>,
    pub port: u16,
    pub dir: TempDir,
    extra: Vec<String>,
}

impl TestServer {
    pub fn start(spec: &ServerSpec) -> TestServer {
        TestServer::start_with(spec, &[])
    }

    /// Starts with extra arguments (`--requirepass x`...).
    pub fn start_with(spec: &ServerSpec, extra: &[&str]) -> TestServer {
        let mut s = TestServer {
            spec: spec.clone(),
            child: None,
            port: 0,
            dir: TempDir::new("server"),
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        for _ in 0..5 {
            s.port = free_port();
            if s.launch() {
                return s;
            }
        }
        panic!("server {} did not start", spec.program.display());
    }

    /// Starts the process on `self.port` and polls until it answers PING;
    /// false if it exited first (port taken).
    fn launch(&mut self) -> bool {
        let mut args = (self.spec.args)(self.port, self.dir.path());
        args.extend(self.extra.iter().cloned());
        let child = Command::new(&self.spec.program)
            .args(&args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => panic!("cannot run {}: {e}", self.spec.program.display()),
        };
        let deadline = Instant::now() + TIMEOUT;
        while Instant::now() < deadline {
            if ping(self.port) && answered_by(self.port, child.id()) {
                self.child = Some(child);
                return true;
            }
            if let Ok(Some(_)) = child.try_wait() {
                return false;
            }
            // Polling a condition: give the server a moment between tries.
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = child.kill();
        false
    }

    /// Kills the server and waits until it is gone.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        assert!(
            self.launch(),
            "server did not restart on port {}",
            self.port
        );
    }

    /// A `redis` crate connection, for fixtures and checks.
    pub fn client(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .and_then(|c| c.get_connection())
            .expect("connect with the redis crate")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What a one-shot run printed.
#[derive(Debug, PartialEq, Eq)]
pub struct Output {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub code: Option<i32>,
}

impl Output {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Runs `program args` with stdout and stderr piped and `stdin` fed in.
pub fn run_piped(program: &Path, args: &[&[u8]], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    use std::os::unix::ffi::OsStrExt;
    let mut cmd = Command::new(program);
    cmd.args(args.iter().map(|a| std::ffi::OsStr::from_bytes(a)));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait for the CLI");
    let _ = writer.join();
    Output {
        stdout: out.stdout,
        stderr: out.stderr,
        code: out.status.code(),
    }
}

/// A child on a pseudo-terminal (its stdin, stdout and stderr, and its
/// controlling terminal, so Ctrl-C sends SIGINT).
pub struct Pty {
    master: File,
    child: Child,
    /// Everything read so far.
    pub buf: Vec<u8>,
    /// `expect` looks only after this offset.
    seen: usize,
}

impl Pty {
    pub fn spawn(cmd: &mut Command) -> Pty {
        let (mut master, mut slave) = (0, 0);
        let ws = libc::winsize {
            ws_row: 40,
            ws_col: 250,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two descriptors; the other pointers may be
        // null or point to a valid winsize.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &ws,
            )
        };
        assert_eq!(rc, 0, "openpty failed");
        // Keep other tests' children from inheriting the terminal: a stray
        // copy of the slave side would hide the end of output.
        for fd in [master, slave] {
            // SAFETY: fd is open; F_SETFD only changes its flags.
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
        // SAFETY: both descriptors were just opened and are owned here.
        let (master, slave) = unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let dup = |fd: &OwnedFd| Stdio::from(fd.try_clone().expect("dup pty"));
        cmd.stdin(dup(&slave))
            .stdout(dup(&slave))
            .stderr(dup(&slave))
            .env("TERM", "xterm");
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::ioctl(0, libc::TIOCSCTTY, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn on a pty");
        drop(slave);
        Pty {
            master,
            child,
            buf: Vec::new(),
            seen: 0,
        }
    }

    /// Reads what is there, waiting up to `wait`; false at end of output.
    fn fill(&mut self, wait: Duration) -> bool {
        let mut p = libc::pollfd {
            fd: self.master.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = wait.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd for the duration of the call.
        let n = unsafe { libc::poll(&mut p, 1, ms) };
        if n <= 0 {
            return true;
        }
        let mut chunk = [0u8; 8192];
        match self.master.read(&mut chunk) {
            Ok(0) | Err(_) => false, // EIO: the child side is closed.
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Types `s`.
    pub fn send(&mut self, s: &str) {
        self.master.write_all(s.as_bytes()).expect("write to pty");
    }

    /// Waits until `pat` shows up after the last match; returns the output
    /// from the last match to the end of this one.
    pub fn expect(&mut self, pat: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(at) = find(&self.buf[self.seen..], pat.as_bytes()) {
                let end = self.seen + at + pat.len();
                let got = String::from_utf8_lossy(&self.buf[self.seen..end]).into_owned();
                self.seen = end;
                return got;
            }
            let now = Instant::now();
            if now >= deadline || !self.fill(deadline - now) {
                if find(&self.buf[self.seen..], pat.as_bytes()).is_some() {
                    continue;
                }
                panic!(
                    "waited for {pat:?}; output after the last match:\n{:?}",
                    String::from_utf8_lossy(&self.buf[self.seen..])
                );
            }
        }
    }

    /// Reads until the child exits and its output is drained.
    pub fn finish(&mut self) -> (Vec<u8>, ExitStatus) {
        let deadline = Instant::now() + TIMEOUT;
        while Instant::now() < deadline {
            if !self.fill(Duration::from_millis(50)) {
                break;
            }
            if let Ok(Some(_)) = self.child.try_wait() {
                // Exited: take what is still buffered, then stop.
                loop {
                    let before = self.buf.len();
                    if !self.fill(Duration::ZERO) || self.buf.len() == before {
                        break;
                    }
                }
                break;
            }
        }
        let status = self.child.wait().expect("wait for the child");
        (self.buf.clone(), status)
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Runs `program args` on a pseudo-terminal until it exits.
pub fn run_on_pty(program: &Path, args: &[&[u8]], env: &[(&str, &str)]) -> (Vec<u8>, Option<i32>) {
    use std::os::unix::ffi::OsStrExt;
    let mut cmd = Command::new(program);
    cmd.args(args.iter().map(|a| std::ffi::OsStr::from_bytes(a)));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut pty = Pty::spawn(&mut cmd);
    let (out, status) = pty.finish();
    (out, status.code())
}
