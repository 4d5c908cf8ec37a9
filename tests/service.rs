//! Running as a service: systemd's notify protocol on a real datagram
//! socket, daemonize with pid file and log file (reopened on SIGHUP), two
//! SIGTERMs, and `make install` with `systemd-analyze verify` on the unit
//! (required as root; skipped with a line for a user who lacks the tool).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::resp::RawConn;
use common::{free_port, gostore_bin, wait_for, TempDir};

/// Writes an AOF of `n` SETs into `dir` (Redis 7's multi-part layout).
fn write_aof(dir: &Path, n: usize) {
    let a = dir.join("appendonlydir");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::write(
        a.join("database.aof.manifest"),
        "file database.aof.1.base.aof seq 1 type b\nfile database.aof.1.incr.aof seq 1 type i\n",
    )
    .unwrap();
    std::fs::write(a.join("database.aof.1.base.aof"), "").unwrap();
    let mut body = Vec::with_capacity(n * 48);
    for i in 0..n {
        let k = format!("key:{i:08}");
        let v = format!("value-{i}");
        body.extend_from_slice(
            format!(
                "*3\r\n$3\r\nSET\r\n${}\r\n{k}\r\n${}\r\n{v}\r\n",
                k.len(),
                v.len()
            )
            .as_bytes(),
        );
    }
    std::fs::write(a.join("database.aof.1.incr.aof"), body).unwrap();
}

fn spawn(dir: &Path, port: u16, extra: &[&str], env: &[(&str, &Path)]) -> Child {
    let mut cmd = Command::new(gostore_bin());
    cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--dir"])
        .arg(dir)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("spawn gostore")
}

fn kill(pid: u32, sig: i32) {
    // SAFETY: kill(2) on a pid this test started.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid as i32, 0) == 0 }
}

fn wait_exit(child: &mut Child) -> Option<i32> {
    let mut code = None;
    wait_for(30, "the server to exit", || match child.try_wait() {
        Ok(Some(st)) => {
            code = st.code();
            true
        }
        _ => false,
    });
    code
}

fn recv_text(sock: &UnixDatagram) -> Option<String> {
    let mut buf = [0u8; 4096];
    match sock.recv(&mut buf) {
        Ok(n) => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
        Err(_) => None,
    }
}

#[test]
fn systemd_hears_ready_only_after_a_large_aof_has_loaded_and_stopping_on_sigterm() {
    const KEYS: usize = 400_000;
    let dir = TempDir::new("notify");
    write_aof(dir.path(), KEYS);
    let sock_path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let port = free_port();
    // `auto` must find systemd through NOTIFY_SOCKET.
    let mut child = spawn(
        dir.path(),
        port,
        &["--supervised", "auto"],
        &[
            ("NOTIFY_SOCKET", &sock_path),
            // WatchdogSec=0.2s.
            ("WATCHDOG_USEC", Path::new("200000")),
        ],
    );

    let mut msgs = Vec::new();
    // Until the AOF starts loading.
    loop {
        let m = recv_text(&sock).expect("a STATUS message before loading");
        msgs.push(m.clone());
        if m.contains("STATUS=Loading the append only file") {
            break;
        }
    }
    assert_eq!(msgs[0], "STATUS=GoStore is loading...\n");
    assert!(
        msgs.last().unwrap().contains("EXTEND_TIMEOUT_USEC="),
        "loading extends the start timeout: {msgs:?}"
    );
    // A client that asks while the AOF loads gets only -LOADING (as from
    // Redis) before READY=1 has been sent: no PONG before READY.
    let mut probe = TcpStream::connect(("127.0.0.1", port)).unwrap();
    probe.write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
    probe.set_nonblocking(true).unwrap();
    sock.set_nonblocking(true).unwrap();
    let mut ready_msg = None;
    let mut got: Vec<u8> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while ready_msg.is_none() {
        assert!(Instant::now() < deadline, "no READY=1 within 60s: {msgs:?}");
        while let Some(m) = recv_text(&sock) {
            msgs.push(m.clone());
            if m.contains("READY=1") {
                ready_msg = Some(m);
            }
        }
        if ready_msg.is_some() {
            break;
        }
        let mut b = [0u8; 16];
        if let Ok(n) = probe.read(&mut b) {
            got.extend_from_slice(&b[..n]);
            let Some(end) = got.windows(2).position(|w| w == b"\r\n") else {
                continue;
            };
            let line: Vec<u8> = got.drain(..end + 2).collect();
            if line.starts_with(b"-LOADING ") {
                // Still loading: ask again.
                probe.write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
                continue;
            }
            // Answered: READY must already be queued on our socket.
            while let Some(m) = recv_text(&sock) {
                msgs.push(m.clone());
                if m.contains("READY=1") {
                    ready_msg = Some(m);
                }
            }
            assert!(
                ready_msg.is_some(),
                "a client was answered ({:?}) before READY=1: {msgs:?}",
                String::from_utf8_lossy(&line)
            );
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(
        ready_msg.unwrap(),
        "STATUS=Ready to accept connections\nREADY=1\n"
    );
    // READY means serving now, with everything loaded: a fresh client finds
    // every key and no load in progress.
    let mut c = RawConn::connect(port);
    assert_eq!(c.cmd_str(&["DBSIZE"]), format!(":{KEYS}\r\n"));
    assert!(c
        .cmd_str(&["INFO", "persistence"])
        .contains("\r\nloading:0\r\n"));
    assert!(c
        .cmd_str(&["INFO", "server"])
        .contains("process_supervised:systemd\r\n"));

    sock.set_nonblocking(false).unwrap();
    // The watchdog is fed (every half interval, from the cron).
    let mut fed = false;
    while let Some(m) = recv_text(&sock) {
        if m == "WATCHDOG=1\n" {
            fed = true;
            break;
        }
    }
    assert!(fed, "WATCHDOG=1 when WATCHDOG_USEC is set");
    kill(child.id(), libc::SIGTERM);
    let mut stopping = false;
    while let Some(m) = recv_text(&sock) {
        if m.contains("STOPPING=1") {
            stopping = true;
            break;
        }
    }
    assert!(stopping, "STOPPING=1 on SIGTERM");
    assert_eq!(wait_exit(&mut child), Some(0));
}

#[test]
fn supervised_systemd_without_a_notify_socket_runs_unsupervised() {
    let dir = TempDir::new("nosock");
    let port = free_port();
    let mut child = Command::new(gostore_bin())
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--dir"])
        .arg(dir.path())
        .args(["--supervised", "systemd"])
        .env_remove("NOTIFY_SOCKET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(30, "the server to answer", || common::ping(port));
    let mut c = RawConn::connect(port);
    assert!(c
        .cmd_str(&["INFO", "server"])
        .contains("process_supervised:no\r\n"));
    kill(child.id(), libc::SIGTERM);
    assert_eq!(wait_exit(&mut child), Some(0));
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(
        out.contains("systemd supervision error: NOTIFY_SOCKET not found!"),
        "{out}"
    );
}

fn read_pid(p: &Path) -> Option<u32> {
    std::fs::read_to_string(p).ok()?.trim().parse().ok()
}

#[test]
fn daemonize_detaches_writes_the_pidfile_and_logs_to_a_file_reopened_on_sighup() {
    let dir = TempDir::new("daemon");
    let port = free_port();
    let pidfile = dir.path().join("gostore.pid");
    let logfile = dir.path().join("gostore.log");
    let started = Command::new(gostore_bin())
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--dir"])
        .arg(dir.path())
        .args(["--daemonize", "yes", "--pidfile"])
        .arg(&pidfile)
        .arg("--logfile")
        .arg(&logfile)
        .stdin(Stdio::null())
        .output()
        .expect("run gostore");
    // The command returns at once, with nothing on its terminal.
    assert_eq!(started.status.code(), Some(0));
    assert!(started.stdout.is_empty() && started.stderr.is_empty());
    wait_for(30, "the pid file", || read_pid(&pidfile).is_some());
    wait_for(30, "the daemon to answer", || common::ping(port));
    let pid = read_pid(&pidfile).unwrap();
    // Our child (the first parent) is gone; the daemon is another process,
    // in a session of its own.
    assert!(alive(pid));
    // SAFETY: getsid on an existing pid.
    let (sid, our_sid) = unsafe { (libc::getsid(pid as i32), libc::getsid(0)) };
    assert_ne!(sid, our_sid, "the daemon left our session");
    let mut c = RawConn::connect(port);
    assert!(c
        .cmd_str(&["INFO", "server"])
        .contains(&format!("process_id:{pid}\r\n")));
    assert_eq!(
        c.cmd_str(&["CONFIG", "GET", "pidfile"]),
        format!(
            "*2\r\n$7\r\npidfile\r\n${}\r\n{}\r\n",
            pidfile.as_os_str().len(),
            pidfile.display()
        )
    );
    let log = std::fs::read_to_string(&logfile).unwrap();
    assert!(log.contains("GoStore is starting"), "{log}");
    assert!(
        log.contains(&format!("{pid}:M ")),
        "lines carry the daemon's pid: {log}"
    );

    // Log rotation: move the file away, SIGHUP, and the next lines go to a
    // new file with the old name.
    let rotated = dir.path().join("gostore.log.1");
    std::fs::rename(&logfile, &rotated).unwrap();
    kill(pid, libc::SIGHUP);
    wait_for(10, "a new log file", || {
        std::fs::read_to_string(&logfile).is_ok_and(|l| l.contains("reopened the log file"))
    });
    assert!(alive(pid), "SIGHUP does not stop the server");
    assert_eq!(c.cmd_str(&["PING"]), "+PONG\r\n");

    kill(pid, libc::SIGTERM);
    wait_for(30, "the daemon to exit", || !alive(pid));
    assert!(!pidfile.exists(), "the pid file is removed on a clean exit");
    let log = std::fs::read_to_string(&logfile).unwrap();
    assert!(log.contains("Removing the pid file."), "{log}");
    assert!(log.contains("bye bye"), "{log}");
    let old = std::fs::read_to_string(&rotated).unwrap();
    assert!(
        !old.contains("bye bye"),
        "nothing more went to the moved file"
    );
}

#[test]
fn a_second_sigterm_during_shutdown_changes_nothing() {
    let dir = TempDir::new("twoterm");
    let port = free_port();
    let mut child = spawn(dir.path(), port, &["--appendfsync", "no"], &[]);
    wait_for(30, "the server to answer", || common::ping(port));
    let mut c = RawConn::connect(port);
    let mut pipeline = Vec::new();
    for i in 0..20_000 {
        pipeline.extend_from_slice(&common::resp::encode(&[
            b"SET",
            format!("k{i}").as_bytes(),
            &[b'v'; 100],
        ]));
    }
    c.send(&pipeline);
    for _ in 0..20_000 {
        assert_eq!(c.read_reply(), b"+OK\r\n");
    }
    kill(child.id(), libc::SIGTERM);
    kill(child.id(), libc::SIGTERM);
    assert_eq!(wait_exit(&mut child), Some(0));
    let mut again = spawn(dir.path(), port, &[], &[]);
    wait_for(30, "the restarted server", || common::ping(port));
    let mut c = RawConn::connect(port);
    assert_eq!(c.cmd_str(&["DBSIZE"]), ":20000\r\n");
    kill(again.id(), libc::SIGTERM);
    assert_eq!(wait_exit(&mut again), Some(0));
}

/// How the skipped unit check announces itself.
const UNIT_CHECK_SKIPPED: &str = "SKIPPED: systemd-analyze verify of deploy/gostore.service";

fn euid() -> u32 {
    // SAFETY: geteuid takes no arguments, cannot fail and touches no memory.
    unsafe { libc::geteuid() }
}

fn make(args: &[&str]) -> (bool, String) {
    let out = Command::new("make")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("run make");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn make_install_puts_binaries_config_unit_and_user_in_place_and_the_unit_verifies() {
    let root = TempDir::new("install");
    let dest = root.path().to_str().unwrap().to_string();
    let build_dir = gostore_bin().parent().unwrap().to_path_buf();
    let build = format!("BUILD_DIR={}", build_dir.display());
    let destdir = format!("DESTDIR={dest}");
    let (ok, out) = make(&["-s", "install", &destdir, &build]);
    assert!(ok, "{out}");
    let at = |p: &str| PathBuf::from(format!("{dest}{p}"));
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &str| std::fs::metadata(at(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("/usr/local/bin/gostore"), 0o755);
    assert_eq!(mode("/usr/local/bin/gostore-cli"), 0o755);
    assert_eq!(
        at("/usr/local/bin/gostore-check-aof").exists(),
        build_dir.join("gostore-check-aof").exists(),
        "the check tool is installed when it was built"
    );
    assert_eq!(mode("/etc/gostore"), 0o750);
    assert_eq!(mode("/etc/gostore/gostore.conf"), 0o640);
    assert_eq!(mode("/etc/systemd/system/gostore.service"), 0o644);
    assert!(at("/usr/lib/sysusers.d/gostore.conf").exists());
    // The installed config is the shipped one, with `dir` for systemd's
    // StateDirectory.
    let conf = std::fs::read_to_string(at("/etc/gostore/gostore.conf")).unwrap();
    let shipped =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("gostore.conf"))
            .unwrap();
    assert_eq!(
        conf,
        shipped.replace("\ndir ./\n", "\ndir /var/lib/gostore\n")
    );
    let unit = std::fs::read_to_string(at("/etc/systemd/system/gostore.service")).unwrap();
    for line in [
        "Type=notify",
        "ExecStart=/usr/local/bin/gostore /etc/gostore/gostore.conf --supervised systemd --daemonize no",
        "User=gostore",
        "StateDirectory=gostore",
        "LimitNOFILE=65536",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "ReadWritePaths=/var/lib/gostore /etc/gostore",
        "Restart=on-failure",
        "TimeoutStopSec=300",
    ] {
        assert!(unit.lines().any(|l| l == line), "the unit lacks {line}");
    }
    // Documentation= points at GoStore's own docs, installed where it says.
    let docs: Vec<&str> = unit
        .lines()
        .filter_map(|l| l.strip_prefix("Documentation="))
        .flat_map(str::split_whitespace)
        .collect();
    assert!(!docs.is_empty(), "the unit has no Documentation=");
    for uri in &docs {
        let path = uri
            .strip_prefix("file://")
            .unwrap_or_else(|| panic!("Documentation={uri} is not GoStore's installed docs"));
        assert!(
            path.starts_with("/usr/local/share/doc/gostore/"),
            "Documentation={uri}"
        );
        assert!(at(path).is_file(), "Documentation={uri} was not installed");
    }

    // The installed binary serves with the installed config.
    let data = TempDir::new("installed-run");
    let port = free_port();
    let mut child = Command::new(at("/usr/local/bin/gostore"))
        .arg(at("/etc/gostore/gostore.conf"))
        .args(["--port", &port.to_string(), "--dir"])
        .arg(data.path())
        .args(["--supervised", "systemd", "--daemonize", "no"])
        .env_remove("NOTIFY_SOCKET")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(30, "the installed server", || common::ping(port));
    kill(child.id(), libc::SIGTERM);
    assert_eq!(wait_exit(&mut child), Some(0));

    // systemd's own checker: the unit as installed, pointed at the binary
    // we installed. Required as root (CI); a user without it is told, on
    // the terminal, that the check was skipped.
    match Command::new("systemd-analyze").arg("--version").output() {
        Ok(o) if o.status.success() => {
            let probe = root.path().join("gostore.service");
            std::fs::write(
                &probe,
                unit.replace(
                    "/usr/local/bin/gostore",
                    at("/usr/local/bin/gostore").to_str().unwrap(),
                ),
            )
            .unwrap();
            let out = Command::new("systemd-analyze")
                .args(["verify"])
                .arg(&probe)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success() && text.trim().is_empty(),
                "systemd-analyze verify: {text}"
            );
        }
        _ if euid() == 0 => panic!(
            "systemd-analyze is missing: as root the unit must be checked; \
             `make test` installs it (apt-get install systemd)"
        ),
        _ => {
            // Straight to stderr, past the test harness's capture, so that
            // the line shows in a passing run.
            let _ = writeln!(
                std::io::stderr(),
                "{UNIT_CHECK_SKIPPED}: systemd-analyze is not installed and the tests \
                 run as uid {} (not root); install the systemd package to check it",
                euid()
            );
        }
    }

    // A second install keeps the operator's config.
    std::fs::write(at("/etc/gostore/gostore.conf"), "# mine\n").unwrap();
    let (ok, out) = make(&["-s", "install", &destdir, &build]);
    assert!(ok, "{out}");
    assert_eq!(
        std::fs::read_to_string(at("/etc/gostore/gostore.conf")).unwrap(),
        "# mine\n"
    );
    assert!(at("/etc/gostore/gostore.conf.dist").exists());

    let (ok, out) = make(&["-s", "uninstall", &destdir]);
    assert!(ok, "{out}");
    assert!(!at("/usr/local/bin/gostore").exists());
    assert!(!at("/usr/local/bin/gostore-cli").exists());
    assert!(!at("/etc/systemd/system/gostore.service").exists());
    assert!(!at("/usr/local/share/doc/gostore").exists());
    assert!(
        at("/etc/gostore/gostore.conf").exists(),
        "uninstall keeps the config"
    );
}

/// A directory of links to every program on PATH except `without`, to run
/// make and the tests as on a machine that lacks those programs.
fn path_without(without: &[&str], root: &Path) -> String {
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            if without.iter().any(|w| name == *w) || bin.join(&name).exists() {
                continue;
            }
            let _ = std::os::unix::fs::symlink(e.path(), bin.join(&name));
        }
    }
    bin.to_str().unwrap().to_string()
}

/// Runs `program args` with PATH set to `path`, as `nobody` when `as_user`
/// and this process is root; (success, stdout + stderr).
fn run_with_path(path: &str, as_user: bool, program: &Path, args: &[&str]) -> (bool, String) {
    let mut cmd = if as_user && euid() == 0 {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(program);
        c
    } else {
        Command::new(program)
    };
    let out = cmd
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("PATH", path)
        .output()
        .expect("run with a reduced PATH");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn without_systemd_analyze_a_user_skips_the_unit_check_with_a_line_and_root_fails() {
    let root = TempDir::new("no-systemd-analyze");
    // No apt-get either: as root, `make oracle` must not install anything here.
    let path = path_without(&["systemd-analyze", "apt-get"], root.path());
    let make = PathBuf::from("make");
    let this_test = std::env::current_exe().unwrap();
    let install_test = [
        "--exact",
        "make_install_puts_binaries_config_unit_and_user_in_place_and_the_unit_verifies",
    ];

    // A user: `make oracle` passes and says the unit check will be skipped;
    // the install test passes and says it skipped the check.
    let user_can_run = euid() != 0 || {
        let probe = run_with_path(
            &path,
            true,
            Path::new("test"),
            &["-r", "Makefile", "-a", "-x", this_test.to_str().unwrap()],
        );
        probe.0
    };
    if user_can_run {
        let (ok, out) = run_with_path(&path, true, &make, &["-s", "oracle"]);
        assert!(ok, "make oracle as a user without systemd-analyze: {out}");
        assert!(
            out.contains("systemd-analyze is not installed and you are not root: the tests will skip the check of deploy/gostore.service"),
            "{out}"
        );
        let (ok, out) = run_with_path(&path, true, &this_test, &install_test);
        assert!(
            ok,
            "the install test as a user without systemd-analyze: {out}"
        );
        assert!(out.contains(UNIT_CHECK_SKIPPED), "no skip line in:\n{out}");
    } else {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: the non-root half of this test: uid 65534 cannot read {}",
            env!("CARGO_MANIFEST_DIR")
        );
    }

    // Root (CI): the check can never silently vanish.
    if euid() == 0 {
        let (ok, out) = run_with_path(&path, false, &make, &["-s", "oracle"]);
        assert!(
            !ok,
            "make oracle as root without systemd-analyze passed: {out}"
        );
        assert!(out.contains("sudo apt-get install -y systemd"), "{out}");
        let (ok, out) = run_with_path(&path, false, &this_test, &install_test);
        assert!(
            !ok,
            "the install test as root without systemd-analyze passed: {out}"
        );
        assert!(out.contains("systemd-analyze is missing"), "{out}");
        assert!(!out.contains(UNIT_CHECK_SKIPPED), "{out}");
    } else {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: the root half of this test: the tests do not run as root"
        );
    }
}
