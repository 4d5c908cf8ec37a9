//! Test harness: spawns the real `gostore` binary (or `redis-server`, the
//! oracle) on a free port in a temporary directory, waits until it answers
//! PING by polling, and gives tests clients: the `redis` crate, and a raw
//! connection that returns each reply's exact bytes.
#![allow(dead_code)]

pub mod dataset;
pub mod resp;
pub mod rng;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Which server a `TestServer` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The binary under test.
    GoStore,
    /// Real Redis, the oracle.
    Redis,
}

/// A unique temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates one.
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "gostore-test-{}-{}-{}",
            tag,
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A free TCP port on 127.0.0.1 for a server to listen on.
///
/// Ports come from outside the kernel's ephemeral range, so no client
/// socket (ours, redis-cli's, a neighbour test's) can take one between this
/// check and the server's bind, and a port is never handed out twice within
/// this test process. Each process starts at its own offset, so two suites
/// run side by side rarely meet.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let (lo, hi) = server_ports();
    let span = u32::from(hi - lo);
    let start = std::process::id().wrapping_mul(7919);
    for _ in 0..span {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = lo + (start.wrapping_add(n) % span) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {lo}..{hi}");
}

/// The wider of the two stretches outside the ephemeral range (32768-60999
/// by default): 10000 up to its start, or from its end up to 65535.
fn server_ports() -> (u16, u16) {
    let range =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let mut bounds = range.split_whitespace().map(|v| v.parse::<u16>().ok());
    let (Some(Some(low)), Some(Some(high))) = (bounds.next(), bounds.next()) else {
        return (10000, 32768);
    };
    let below = (10000, low.max(10000));
    let above = (high.saturating_add(1), u16::MAX);
    let widest = if below.1 - below.0 >= above.1 - above.0 {
        below
    } else {
        above
    };
    assert!(
        widest.1 - widest.0 >= 1000,
        "the ephemeral port range {low}-{high} leaves the tests too few ports"
    );
    widest
}

/// Path of the gostore binary built by cargo for the tests.
pub fn gostore_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gostore"))
}

/// Path of redis-server, or a panic that says how to install it.
pub fn redis_bin() -> PathBuf {
    for p in ["/usr/bin/redis-server", "/usr/local/bin/redis-server"] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!("redis-server (the test oracle) is not installed: run `make test`, which installs it, or `apt-get install -y redis-server redis-tools`");
}

/// A running server.
pub struct TestServer {
    /// Which one.
    pub kind: Kind,
    /// Its port.
    pub port: u16,
    child: Option<Child>,
    dir: Option<TempDir>,
    /// Where its files are (its `dir`).
    pub path: PathBuf,
    args: Vec<String>,
    /// RLIMIT_FSIZE for the child, with SIGXFSZ ignored (disk-full tests).
    pub fsize_limit: Option<u64>,
    /// Extra environment variables for the server (crash points).
    pub env: Vec<(String, String)>,
}

/// Waits until `cond` holds, polling every few ms, or panics after `secs`.
pub fn wait_for(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

impl TestServer {
    /// Starts gostore with extra arguments (`--name value` pairs).
    pub fn gostore(args: &[&str]) -> TestServer {
        Self::start(Kind::GoStore, args)
    }

    /// Starts redis-server with extra arguments.
    pub fn redis(args: &[&str]) -> TestServer {
        Self::start(Kind::Redis, args)
    }

    /// Starts a server of `kind`.
    pub fn start(kind: Kind, args: &[&str]) -> TestServer {
        let dir = TempDir::new(match kind {
            Kind::GoStore => "gostore",
            Kind::Redis => "redis",
        });
        let path = dir.path().to_path_buf();
        let mut s = TestServer {
            kind,
            port: 0,
            child: None,
            dir: Some(dir),
            path,
            args: args.iter().map(|a| a.to_string()).collect(),
            fsize_limit: None,
            env: Vec::new(),
        };
        s.launch();
        s
    }

    /// Starts again in the same directory (after `kill`/`shutdown`). A
    /// server still running after 10 s is a test's mistake (two servers
    /// would share one directory), so that fails the test.
    pub fn restart(&mut self) {
        if let Some(mut c) = self.child.take() {
            wait_for(10, "the old server to exit before a restart", || {
                matches!(c.try_wait(), Ok(Some(_)))
            });
        }
        self.launch();
    }

    /// Starts a gostore in an existing directory (AOF tests).
    pub fn gostore_in(path: &Path, args: &[&str]) -> TestServer {
        Self::start_in(Kind::GoStore, path, args)
    }

    /// Starts a gostore in an existing directory with extra environment
    /// variables.
    pub fn gostore_in_env(path: &Path, args: &[&str], env: &[(&str, &str)]) -> TestServer {
        let mut s = TestServer {
            kind: Kind::GoStore,
            port: 0,
            child: None,
            dir: None,
            path: path.to_path_buf(),
            args: args.iter().map(|a| a.to_string()).collect(),
            fsize_limit: None,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        s.launch();
        s
    }

    /// Starts a server of `kind` in an existing directory.
    pub fn start_in(kind: Kind, path: &Path, args: &[&str]) -> TestServer {
        let mut s = TestServer {
            kind,
            port: 0,
            child: None,
            dir: None,
            path: path.to_path_buf(),
            args: args.iter().map(|a| a.to_string()).collect(),
            fsize_limit: None,
            env: Vec::new(),
        };
        s.launch();
        s
    }

    fn command(&self, port: u16) -> Command {
        let mut cmd = match self.kind {
            Kind::GoStore => Command::new(gostore_bin()),
            Kind::Redis => Command::new(redis_bin()),
        };
        // A config file, like redis-server's, must come first; then the
        // harness's settings, then the test's overrides.
        let (file, rest) = match self.args.first() {
            Some(f) if !f.starts_with("--") => (Some(f.clone()), &self.args[1..]),
            _ => (None, &self.args[..]),
        };
        let has_file = file.is_some();
        if let Some(f) = file {
            cmd.arg(f);
        }
        cmd.arg("--port")
            .arg(port.to_string())
            .arg("--bind")
            .arg("127.0.0.1")
            .arg("--dir")
            .arg(&self.path);
        if self.kind == Kind::Redis {
            cmd.args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--hash-max-listpack-entries",
                "128",
                "--hash-max-listpack-value",
                "64",
                "--repl-diskless-sync-delay",
                "0",
            ]);
        }
        // No RDB save points unless a test asks for them (its own `--save`
        // comes later and wins), so that tests writing many keys do not
        // fork background saves, and full syncs start at once rather than
        // after the 5 s Redis waits for more replicas by default; a config
        // file keeps its own.
        if self.kind == Kind::GoStore && !has_file {
            cmd.args(["--save", "", "--repl-diskless-sync-delay", "0"]);
        }
        cmd.args(rest);
        cmd.envs(self.env.iter().cloned());
        cmd.stdin(Stdio::null());
        if std::env::var_os("GOSTORE_TEST_LOGS").is_some() {
            cmd.stdout(Stdio::inherit()).stderr(Stdio::inherit());
        } else {
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
        }
        cmd
    }

    fn launch(&mut self) {
        // A free port can be taken between our check and the bind: retry.
        for attempt in 0..5 {
            let port = free_port();
            let mut cmd = self.command(port);
            if let Some(limit) = self.fsize_limit {
                use std::os::unix::process::CommandExt;
                // SAFETY: only async-signal-safe calls between fork and exec.
                unsafe {
                    cmd.pre_exec(move || {
                        let r = libc::rlimit {
                            rlim_cur: limit,
                            rlim_max: libc::RLIM_INFINITY,
                        };
                        libc::setrlimit(libc::RLIMIT_FSIZE, &r);
                        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                        Ok(())
                    });
                }
            }
            let mut child = cmd.spawn().expect("spawn server");
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // exited: port clash or bad args
                }
                if ping(port) && answered_by(port, child.id()) {
                    self.port = port;
                    self.child = Some(child);
                    return;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    panic!("{:?} did not answer PING within 30s", self.kind);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            if attempt == 4 {
                panic!("{:?} exited at start-up (args {:?})", self.kind, self.args);
            }
        }
    }

    /// Starts the server expecting it to fail; returns (exit code, stdout+stderr).
    pub fn start_failing(kind: Kind, path: &Path, args: &[&str]) -> (i32, String) {
        let s = TestServer {
            kind,
            port: 0,
            child: None,
            dir: None,
            path: path.to_path_buf(),
            args: args.iter().map(|a| a.to_string()).collect(),
            fsize_limit: None,
            env: Vec::new(),
        };
        let out = s
            .command(free_port())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .expect("run server");
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        (out.status.code().unwrap_or(-1), text)
    }

    /// A `redis` crate connection (RESP2).
    pub fn client(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .and_then(|c| c.get_connection())
            .expect("connect")
    }

    /// A `redis` crate connection speaking RESP3.
    pub fn client3(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/?protocol=resp3", self.port))
            .and_then(|c| c.get_connection())
            .expect("connect")
    }

    /// A raw connection.
    pub fn raw_conn(&self) -> resp::RawConn {
        resp::RawConn::connect(self.port)
    }

    /// Sends `input` on a fresh connection and returns the first reply's bytes.
    pub fn raw(&self, input: &str) -> String {
        let mut c = self.raw_conn();
        c.send(input.as_bytes());
        String::from_utf8_lossy(&c.read_reply()).into_owned()
    }

    /// Kills the server with SIGKILL (crash tests).
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Sends SIGTERM and waits for the exit code.
    pub fn sigterm(&mut self) -> Option<i32> {
        let c = self.child.take()?;
        // SAFETY: kill(2) with a pid we spawned.
        unsafe {
            libc::kill(c.id() as i32, libc::SIGTERM);
        }
        Self::wait_exit(c)
    }

    /// Waits for the child to exit (after SHUTDOWN), returning its code.
    pub fn wait(&mut self) -> Option<i32> {
        let c = self.child.take()?;
        Self::wait_exit(c)
    }

    fn wait_exit(mut c: Child) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(st)) = c.try_wait() {
                return st.code();
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Starts gostore with a file size limit (RLIMIT_FSIZE): writes past it
    /// fail with EFBIG, as on a full disk.
    pub fn gostore_with_fsize_limit(limit: u64, args: &[&str]) -> TestServer {
        let dir = TempDir::new("fsize");
        let mut s = TestServer {
            kind: Kind::GoStore,
            port: 0,
            child: None,
            path: dir.path().to_path_buf(),
            dir: Some(dir),
            args: args.iter().map(|a| a.to_string()).collect(),
            fsize_limit: Some(limit),
            env: Vec::new(),
        };
        s.launch();
        s
    }

    /// Changes the running server's RLIMIT_FSIZE.
    pub fn set_fsize_limit(&mut self, limit: u64) {
        let pid = self.pid().expect("running") as libc::pid_t;
        let r = libc::rlimit {
            rlim_cur: limit,
            rlim_max: libc::RLIM_INFINITY,
        };
        // SAFETY: prlimit on our own child with a valid rlimit.
        let rc = unsafe { libc::prlimit(pid, libc::RLIMIT_FSIZE, &r, std::ptr::null_mut()) };
        assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
        self.fsize_limit = Some(limit);
    }

    /// The pid.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Whether a server on `port` answers PING with PONG.
pub fn ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    let mut got = Vec::new();
    while got.len() < 7 {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    // A server that wants a password is up too.
    got.starts_with(b"+PONG\r\n") || got.starts_with(b"-NOAUTH")
}

/// Whether the server on `port` is process `pid`, not another test's
/// server that took the port first. A server that wants a password can't
/// say: it is taken as ours.
pub fn answered_by(port: u16, pid: u32) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 4096];
    let mut got = Vec::new();
    loop {
        let text = String::from_utf8_lossy(&got);
        if text.starts_with("-NOAUTH") {
            return true;
        }
        if let Some(rest) = text.split("process_id:").nth(1) {
            if let Some((id, _)) = rest.split_once("\r\n") {
                return id == pid.to_string();
            }
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// A field of `INFO` on the server on `port` (None if absent).
pub fn info_field(port: u16, field: &str) -> Option<String> {
    Info::fetch(port).get(field).map(str::to_string)
}

/// One INFO reply. Conditions on several fields must read them from one
/// reply: fields from separate calls can straddle a change (a rewrite
/// starting between reading `aof_rewrite_in_progress` and `aof_rewrites`).
pub struct Info(String);

impl Info {
    /// `INFO everything` from the server on `port`.
    pub fn fetch(port: u16) -> Info {
        Info(resp::RawConn::connect(port).cmd_str(&["INFO", "everything"]))
    }

    /// The value of `field`, if the reply has it.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.lines().find_map(|l| {
            l.strip_prefix(field)
                .and_then(|rest| rest.strip_prefix(':'))
                .map(str::trim)
        })
    }
}

/// Waits until no AOF rewrite is in progress or scheduled, and `aof_rewrites`
/// reached `n`.
pub fn wait_for_rewrites(port: u16, n: u64) {
    wait_for(60, &format!("{n} AOF rewrite(s) to finish"), || {
        let info = Info::fetch(port);
        info.get("aof_rewrite_in_progress") == Some("0")
            && info.get("aof_rewrite_scheduled") == Some("0")
            && info
                .get("aof_rewrites")
                .and_then(|v| v.parse::<u64>().ok())
                .is_some_and(|r| r >= n)
    });
}

/// Path of the gostore-check-aof binary built by cargo for the tests.
pub fn check_aof_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gostore-check-aof"))
}
