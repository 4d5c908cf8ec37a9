//! Limits and protection, enforced on real sockets: output buffer limits
//! (a client that never reads a 100 MB reply, the soft limit's seconds, a
//! MONITOR that stops reading), maxclients against RLIMIT_NOFILE, idle
//! timeouts, TCP keepalive on the server's own sockets, limits changed at
//! run time, and protected mode from a second, non-loopback address.

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::resp::{encode, RawConn};
use common::{free_port, gostore_bin, wait_for, TempDir, TestServer};

/// A connection with a tiny receive buffer, so the server's output piles up
/// on its side when we do not read.
fn slow_reader(port: u16) -> TcpStream {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    s.set_recv_buffer_size(4096).unwrap();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    s.connect(&addr.into()).unwrap();
    s.into()
}

fn info_field(c: &mut RawConn, section: &str, field: &str) -> String {
    let text = c.cmd_str(&["INFO", section]);
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("INFO {section} has no {field}"))
        .to_string()
}

/// Peak resident memory of a process, bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

#[test]
fn a_client_that_never_reads_a_100mb_reply_is_disconnected_at_the_hard_limit() {
    let logs = TempDir::new("obuf-log");
    let log = logs.path().join("gostore.log");
    let srv = TestServer::gostore(&[
        "--client-output-buffer-limit",
        "normal",
        "32mb",
        "16mb",
        "10",
        "--logfile",
        log.to_str().unwrap(),
    ]);
    let mut c = srv.raw_conn();
    // A 100 MB value made on the server side.
    assert_eq!(
        c.cmd_str(&["SETRANGE", "big", "104857599", "x"]),
        ":104857600\r\n"
    );
    let before = peak_rss(srv.pid().unwrap());
    let mut hog = slow_reader(srv.port);
    hog.write_all(&encode(&[b"GET", b"big"])).unwrap();
    wait_for(10, "the reader to be disconnected", || {
        info_field(&mut c, "stats", "client_output_buffer_limit_disconnections") == "1"
    });
    // The 100 MB reply was never built: the peak grew by less than the
    // limit, not by the reply's size.
    let grew = peak_rss(srv.pid().unwrap()).saturating_sub(before);
    assert!(
        grew < 48 << 20,
        "peak RSS grew by {} MB for a reply capped at 32 MB",
        grew >> 20
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("scheduled to be closed ASAP for overcoming of output buffer limits"),
        "{text}"
    );
    assert_eq!(c.cmd_str(&["CLIENT", "LIST"]).matches("id=").count(), 1);
    // The reader gets at most what was sent before the limit, then EOF.
    hog.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match hog.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    assert!(got < 100 << 20, "the whole reply was sent ({got} bytes)");
    assert_eq!(c.cmd_str(&["STRLEN", "big"]), ":104857600\r\n");
}

#[test]
fn a_client_over_the_soft_limit_for_longer_than_its_seconds_is_disconnected() {
    let srv = TestServer::gostore(&["--client-output-buffer-limit", "normal", "0", "1mb", "1"]);
    let mut c = srv.raw_conn();
    assert_eq!(
        c.cmd_str(&["SETRANGE", "v", "16777215", "x"]),
        ":16777216\r\n"
    );
    let mut hog = slow_reader(srv.port);
    hog.write_all(&encode(&[b"GET", b"v"])).unwrap();
    let sent = Instant::now();
    // Over the soft limit, but not yet for more than a second: still here.
    wait_for(10, "the GET to run", || {
        c.cmd_str(&["CLIENT", "LIST"]).contains("cmd=get")
    });
    if sent.elapsed() < Duration::from_millis(900) {
        assert_eq!(
            info_field(&mut c, "stats", "client_output_buffer_limit_disconnections"),
            "0"
        );
    }
    wait_for(10, "the soft limit to close the reader", || {
        info_field(&mut c, "stats", "client_output_buffer_limit_disconnections") == "1"
    });
    assert!(sent.elapsed() >= Duration::from_secs(1));
    assert!(!c.cmd_str(&["CLIENT", "LIST"]).contains("cmd=get"));
}

#[test]
fn a_monitor_that_stops_reading_is_disconnected_at_its_limit() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    // The normal class is unlimited by default, so monitors obey pubsub's.
    assert_eq!(
        c.cmd_str(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 1mb 0 0"
        ]),
        "+OK\r\n"
    );
    let mut mon = slow_reader(srv.port);
    mon.write_all(b"MONITOR\r\n").unwrap();
    let mut ok = [0u8; 5];
    mon.read_exact(&mut ok).unwrap();
    assert_eq!(&ok, b"+OK\r\n");
    let value = vec![b'x'; 50_000];
    let mut n = 0;
    wait_for(30, "the monitor to be disconnected", || {
        for _ in 0..20 {
            n += 1;
            c.cmd(&[b"SET", format!("k{n}").as_bytes(), &value]);
        }
        info_field(&mut c, "stats", "client_output_buffer_limit_disconnections") == "1"
    });
    assert!(!c.cmd_str(&["CLIENT", "LIST"]).contains("flags=O"));
    assert_eq!(c.cmd_str(&["PING"]), "+PONG\r\n");
}

/// Starts gostore with RLIMIT_NOFILE set to (soft, hard) and without the
/// privilege to raise the hard limit; returns (child, port).
fn gostore_with_nofile(
    dir: &std::path::Path,
    soft: u64,
    hard: u64,
    args: &[&str],
) -> (std::process::Child, u16) {
    use std::os::unix::process::CommandExt;
    let port = free_port();
    let mut cmd = Command::new(gostore_bin());
    cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--dir"])
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let r = libc::rlimit {
                rlim_cur: soft,
                rlim_max: hard,
            };
            libc::setrlimit(libc::RLIMIT_NOFILE, &r);
            // As root, CAP_SYS_RESOURCE could raise the hard limit: drop
            // it from the bounding set (a no-op for other users).
            // CAP_SYS_RESOURCE is capability 24.
            libc::prctl(libc::PR_CAPBSET_DROP, 24, 0, 0, 0);
            Ok(())
        });
    }
    let child = cmd.spawn().expect("spawn gostore");
    wait_for(30, "the server to answer", || common::ping(port));
    (child, port)
}

#[test]
fn maxclients_lowers_itself_to_what_rlimit_nofile_allows_and_refuses_one_more() {
    let dir = TempDir::new("nofile");
    let (mut child, port) = gostore_with_nofile(dir.path(), 64, 64, &["--maxclients", "1000"]);
    let mut admin = RawConn::connect(port);
    assert_eq!(
        admin.cmd_str(&["CONFIG", "GET", "maxclients"]),
        "*2\r\n$10\r\nmaxclients\r\n$2\r\n32\r\n"
    );
    wait_for(10, "the readiness probes to be gone", || {
        admin.cmd_str(&["CLIENT", "LIST"]).matches("id=").count() == 1
    });
    let mut conns = Vec::new();
    for _ in 1..32 {
        let mut c = RawConn::connect(port);
        assert_eq!(c.cmd_str(&["PING"]), "+PONG\r\n");
        conns.push(c);
    }
    let mut extra = RawConn::connect(port);
    assert_eq!(
        String::from_utf8_lossy(&extra.read_to_close()),
        "-ERR max number of clients reached\r\n"
    );
    assert_eq!(
        admin.cmd_str(&["CONFIG", "SET", "maxclients", "5000"]),
        "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - The operating system is not able to handle the specified number of clients, try with 32\r\n"
    );
    assert_eq!(info_field(&mut admin, "clients", "maxclients"), "32");
    assert_eq!(info_field(&mut admin, "stats", "rejected_connections"), "1");
    // SAFETY: kill(2) on our child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(
        out.contains(
            "You requested maxclients of 1000 requiring at least 1032 max file descriptors."
        ),
        "{out}"
    );
    assert!(out.contains("maxclients has been reduced to 32 to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'."), "{out}");
}

#[test]
fn maxclients_raises_the_soft_rlimit_nofile_when_the_hard_limit_allows() {
    let dir = TempDir::new("nofile-up");
    let (mut child, port) = gostore_with_nofile(dir.path(), 64, 4096, &["--maxclients", "1000"]);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let nums: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&nums[3..5], &["1032", "4096"], "{line}");
    let mut c = RawConn::connect(port);
    assert_eq!(info_field(&mut c, "clients", "maxclients"), "1000");
    // Growing at run time raises it again, up to the hard limit.
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "maxclients", "2000"]),
        "+OK\r\n"
    );
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    assert!(limits.contains("2032"), "{limits}");
    // SAFETY: kill(2) on our child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
}

#[test]
fn idle_clients_are_closed_but_not_monitors_or_clients_held_by_a_pause() {
    let srv = TestServer::gostore(&["--timeout", "1"]);
    let mut monitor = srv.raw_conn();
    assert_eq!(monitor.cmd_str(&["MONITOR"]), "+OK\r\n");
    let mut admin = srv.raw_conn();
    assert_eq!(
        admin.cmd_str(&["CLIENT", "PAUSE", "60000", "WRITE"]),
        "+OK\r\n"
    );
    let mut held = srv.raw_conn();
    held.send(&encode(&[b"SET", b"k", b"v"]));
    let mut idle = srv.raw_conn();
    let id = idle.cmd_str(&["CLIENT", "ID"]);
    let id = format!("id={} ", id.trim_start_matches(':').trim());
    // The admin stays busy; the idle client goes after the timeout.
    wait_for(10, "the idle client to be closed", || {
        !admin.cmd_str(&["CLIENT", "LIST"]).contains(&id)
    });
    idle.stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert!(idle.is_closed());
    // The held client and the monitor were idle as long, and stay.
    let list = admin.cmd_str(&["CLIENT", "LIST"]);
    assert!(list.contains("flags=O"), "{list}");
    assert!(list.contains("flags=b"), "{list}");
    assert_eq!(info_field(&mut admin, "clients", "blocked_clients"), "1");
    assert_eq!(admin.cmd_str(&["CLIENT", "UNPAUSE"]), "+OK\r\n");
    assert_eq!(held.read_reply(), b"+OK\r\n");
    assert_eq!(admin.cmd_str(&["GET", "k"]), "$1\r\nv\r\n");
}

/// The server's copy of one of its client sockets, through pidfd_getfd.
fn server_socket(pid: u32, fd: i32) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: raw syscalls with valid arguments; results are checked.
    unsafe {
        let pidfd = libc::syscall(libc::SYS_pidfd_open, pid as libc::c_long, 0);
        if pidfd < 0 {
            return None;
        }
        let got = libc::syscall(libc::SYS_pidfd_getfd, pidfd, fd as libc::c_long, 0);
        libc::close(pidfd as i32);
        (got >= 0).then(|| std::os::fd::OwnedFd::from_raw_fd(got as i32))
    }
}

fn sockopt(fd: &std::os::fd::OwnedFd, level: i32, name: i32) -> i32 {
    use std::os::fd::AsRawFd;
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: v and len are valid for getsockopt.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&mut v as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    assert_eq!(rc, 0);
    v
}

#[test]
fn tcp_keepalive_is_set_on_the_server_s_side_of_each_connection() {
    let srv = TestServer::gostore(&["--tcp-keepalive", "7"]);
    let mut c = srv.raw_conn();
    let info = c.cmd_str(&["CLIENT", "INFO"]);
    let fd: i32 = info
        .split_whitespace()
        .find_map(|f| f.strip_prefix("fd="))
        .and_then(|v| v.parse().ok())
        .unwrap();
    let Some(sock) = server_socket(srv.pid().unwrap(), fd) else {
        eprintln!("pidfd_getfd is not permitted here: keepalive not checked on the socket");
        return;
    };
    assert_eq!(sockopt(&sock, libc::SOL_SOCKET, libc::SO_KEEPALIVE), 1);
    assert_eq!(sockopt(&sock, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE), 7);
    assert_eq!(sockopt(&sock, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL), 2);
    assert_eq!(sockopt(&sock, libc::IPPROTO_TCP, libc::TCP_KEEPCNT), 3);
    // Changed at run time, it applies to new connections.
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "tcp-keepalive", "0"]),
        "+OK\r\n"
    );
    let mut d = srv.raw_conn();
    let info = d.cmd_str(&["CLIENT", "INFO"]);
    let fd: i32 = info
        .split_whitespace()
        .find_map(|f| f.strip_prefix("fd="))
        .and_then(|v| v.parse().ok())
        .unwrap();
    let sock = server_socket(srv.pid().unwrap(), fd).unwrap();
    assert_eq!(sockopt(&sock, libc::SOL_SOCKET, libc::SO_KEEPALIVE), 0);
}

#[test]
fn query_buffer_and_bulk_limits_apply_as_soon_as_they_are_set() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "proto-max-bulk-len", "1mb"]),
        "+OK\r\n"
    );
    let mut big = srv.raw_conn();
    big.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n");
    assert_eq!(
        String::from_utf8_lossy(&big.read_to_close()),
        "-ERR Protocol error: invalid bulk length\r\n"
    );
    assert_eq!(
        c.cmd_str(&["CONFIG", "SET", "client-query-buffer-limit", "1mb"]),
        "+OK\r\n"
    );
    let mut hog = srv.raw_conn();
    hog.send(b"*100000\r\n");
    let one = encode(&[&[b'x'; 1000][..]]);
    for _ in 0..3000 {
        if hog.stream.write_all(&one[4..]).is_err() {
            break;
        }
    }
    hog.stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert!(hog.is_closed());
    assert_eq!(
        info_field(&mut c, "stats", "client_query_buffer_limit_disconnections"),
        "1"
    );
}

// ---- Protected mode -------------------------------------------------------

/// Runs `f` on a thread inside a new network namespace in which 10.77.0.1
/// is a local, non-loopback address; None where namespaces can't be made.
fn in_private_network<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    std::thread::spawn(move || {
        // SAFETY: unshare affects only this thread (and what it spawns).
        if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
            return None;
        }
        for args in [
            &["link", "set", "lo", "up"][..],
            &["addr", "add", "10.77.0.1/32", "dev", "lo"][..],
        ] {
            let ok = Command::new("ip")
                .args(args)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return None;
            }
        }
        Some(f())
    })
    .join()
    .expect("namespace thread")
}

fn read_all_from(addr: SocketAddr, send: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(send).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    // Until the reply is complete or the server closes.
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if out.ends_with(b"\r\n") && !out.starts_with(b"-DENIED") {
                    break;
                }
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn protected_mode_denies_a_non_loopback_client_until_a_password_or_no_protection() {
    let result = in_private_network(|| {
        let remote: IpAddr = "10.77.0.1".parse().unwrap();
        let dir = TempDir::new("protected");
        let port = free_port();
        let run = |bin: std::path::PathBuf, extra: &[&str]| {
            Command::new(bin)
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "10.77.0.1",
                    "127.0.0.1",
                ])
                .arg("--dir")
                .arg(dir.path())
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        };
        let far = SocketAddr::new(remote, port);
        let near: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut texts = Vec::new();
        for redis in [false, true] {
            let mut child = if redis {
                run(common::redis_bin(), &["--save", "", "--appendonly", "no"])
            } else {
                run(gostore_bin(), &[])
            };
            wait_for(30, "the server in the namespace", || {
                TcpStream::connect(near).is_ok()
            });
            let denied = read_all_from(far, b"PING\r\n");
            assert_eq!(read_all_from(near, b"PING\r\n"), "+PONG\r\n");
            if !redis {
                // With a password, remote clients may connect (and AUTH).
                read_all_from(near, b"CONFIG SET requirepass s3cret\r\n");
                assert!(read_all_from(far, b"PING\r\n").starts_with("-NOAUTH"));
                read_all_from(near, b"AUTH s3cret\r\nCONFIG SET requirepass \"\"\r\n");
                assert!(read_all_from(far, b"PING\r\n").starts_with("-DENIED"));
                read_all_from(near, b"CONFIG SET protected-mode no\r\n");
                assert_eq!(read_all_from(far, b"PING\r\n"), "+PONG\r\n");
            }
            let _ = child.kill();
            let _ = child.wait();
            texts.push(denied);
        }
        texts
    });
    let Some(texts) = result else {
        eprintln!("no network namespace here: protected mode is covered by limits::tests::protected_mode_refuses_only_remote_clients_without_a_password");
        return;
    };
    assert!(texts[0].starts_with("-DENIED GoStore is running in protected mode"));
    // Word for word Redis's explanation, with our name.
    assert_eq!(texts[0], texts[1].replace("Redis", "GoStore"));
}
