//! Client handling as a Redis user meets it: pipelines written whole before
//! any reply is read, idle timeouts, buffers per connection, listeners
//! replaced at run time, MONITOR and CLIENT PAUSE edges. Each test talks to a
//! spawned server over real sockets; where Redis's behaviour is the rule, the
//! same steps run against redis-server too.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use common::resp::{encode, RawConn};
use common::{info_field, wait_for, Info, Kind, TempDir, TestServer};

/// The number of clients in CLIENT LIST, as seen by `c` (itself included).
fn client_count(c: &mut RawConn) -> usize {
    c.cmd_str(&["CLIENT", "LIST"]).matches("id=").count()
}

/// A million `GET v` (a 100-byte value, 22 MB of requests: more than the
/// kernel's socket buffers hold) written in one go, replies read only once
/// everything is sent: the server must go on reading while the client's
/// replies pile up, as Redis does, or both sides wait forever.
fn whole_pipeline_then_read(srv: &TestServer) {
    let n = 1_000_000;
    let value = "x".repeat(100);
    assert_eq!(srv.raw_conn().cmd_str(&["SET", "v", &value]), "+OK\r\n");
    let mut batch = Vec::with_capacity(n * 22);
    for _ in 0..n {
        batch.extend_from_slice(&encode(&[b"GET", b"v"]));
    }
    let mut s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    // A server that stops reading makes write_all block: fail, don't hang.
    s.set_write_timeout(Some(Duration::from_secs(60))).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.write_all(&batch)
        .expect("the server reads the whole pipeline while the replies wait");
    let one = format!("$100\r\n{value}\r\n");
    let want = one.len() * n;
    let mut got = Vec::with_capacity(want);
    let mut buf = vec![0u8; 1 << 16];
    while got.len() < want {
        let r = s.read(&mut buf).expect("every reply arrives");
        assert!(r > 0, "closed after {} of {want} bytes", got.len());
        got.extend_from_slice(&buf[..r]);
    }
    assert_eq!(got.len(), want);
    assert!(got.chunks(one.len()).all(|c| c == one.as_bytes()));
}

#[test]
fn a_client_that_writes_its_whole_pipeline_before_reading_gets_every_reply() {
    for kind in [Kind::Redis, Kind::GoStore] {
        let srv = TestServer::start(kind, &[]);
        whole_pipeline_then_read(&srv);
    }
}

#[test]
fn a_client_that_stops_reading_is_closed_at_its_output_limit_and_others_go_on() {
    let srv = TestServer::gostore(&["--client-output-buffer-limit", "normal", "8mb", "0", "0"]);
    let mut setup = srv.raw_conn();
    let value = "v".repeat(100_000);
    assert_eq!(setup.cmd_str(&["SET", "big", &value]), "+OK\r\n");
    // 200 MB of replies if they were all buffered; the limit is 8 MB.
    let mut slow = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    slow.set_write_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut batch = Vec::new();
    for _ in 0..2000 {
        batch.extend(encode(&[b"GET", b"big"]));
    }
    // The server may close it while it still writes: that is the point.
    let _ = slow.write_all(&batch);
    let mut other = srv.raw_conn();
    wait_for(30, "the slow client to be closed at its limit", || {
        info_field(srv.port, "client_output_buffer_limit_disconnections").as_deref() == Some("1")
    });
    assert_eq!(other.cmd_str(&["PING"]), "+PONG\r\n");
    wait_for(10, "the slow client to be gone", || {
        !other.cmd_str(&["CLIENT", "LIST"]).contains("cmd=get")
    });
}

/// Fills a client's socket with replies it never reads.
fn stop_reading(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut w = s.try_clone().unwrap();
    w.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut batch = Vec::new();
    for _ in 0..200 {
        batch.extend(encode(&[b"GET", b"big"]));
    }
    let _ = w.write_all(&batch);
    s
}

#[test]
fn timeout_closes_a_client_that_stopped_reading_its_replies() {
    for kind in [Kind::Redis, Kind::GoStore] {
        let srv = TestServer::start(kind, &["--timeout", "1"]);
        let mut other = srv.raw_conn();
        assert_eq!(
            other.cmd_str(&["SET", "big", &"v".repeat(100_000)]),
            "+OK\r\n"
        );
        let _silent = stop_reading(srv.port);
        // `other` keeps talking, so only the silent one is idle.
        wait_for(30, &format!("{kind:?} to close the silent client"), || {
            let list = other.cmd_str(&["CLIENT", "LIST"]);
            list.matches("id=").count() == 1
        });
    }
}

/// A 16 MB SET uploaded in pieces over about three seconds.
fn slow_upload(port: u16) -> String {
    let mut s = RawConn::connect(port);
    let value = vec![b'u'; 16 << 20];
    let cmd = encode(&[b"SET", b"up", &value]);
    let pieces = 30;
    for chunk in cmd.chunks(cmd.len().div_ceil(pieces)) {
        s.send(chunk);
        // The pace of the upload is the scenario, not a wait for a condition.
        std::thread::sleep(Duration::from_millis(100));
    }
    String::from_utf8_lossy(&s.read_to_close_or_reply()).into_owned()
}

#[test]
fn timeout_spares_a_client_that_is_still_sending() {
    for kind in [Kind::Redis, Kind::GoStore] {
        let srv = TestServer::start(kind, &["--timeout", "1"]);
        assert_eq!(slow_upload(srv.port), "+OK\r\n", "{kind:?}");
        assert_eq!(
            srv.raw_conn().cmd_str(&["STRLEN", "up"]),
            format!(":{}\r\n", 16 << 20)
        );
    }
}

/// A command over a Unix socket, its reply as text.
fn unix_cmd(path: &Path, args: &[&str]) -> String {
    let mut s = UnixStream::connect(path).expect("unix socket");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
    s.write_all(&encode(&a)).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while common::resp::reply_len(&out).is_none() {
        let n = s.read(&mut buf).expect("reply");
        assert!(n > 0, "closed");
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn tcp_answers(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok() && common::ping(port)
}

/// The same CONFIG SET bind steps on either server; returns the replies.
fn bind_steps(kind: Kind) -> Vec<String> {
    let dir = TempDir::new("bind-steps");
    let sock = dir.path().join("s.sock");
    let sock_s = sock.to_str().unwrap().to_string();
    let srv = TestServer::start(kind, &["--bind", "127.0.0.1", "--unixsocket", &sock_s]);
    let mut out = Vec::new();
    // The new list shares 127.0.0.1 with the old one.
    out.push(unix_cmd(
        &sock,
        &["CONFIG", "SET", "bind", "127.0.0.1 -::1"],
    ));
    assert!(
        tcp_answers(srv.port),
        "{kind:?}: 127.0.0.1 after the change"
    );
    out.push(unix_cmd(&sock, &["CONFIG", "GET", "bind"]));
    // No address: no TCP listener at all (Redis 7.0), the Unix socket stays.
    out.push(unix_cmd(&sock, &["CONFIG", "SET", "bind", ""]));
    assert!(!tcp_answers(srv.port), "{kind:?}: no TCP listener");
    out.push(unix_cmd(&sock, &["CONFIG", "GET", "bind"]));
    out.push(unix_cmd(&sock, &["CONFIG", "SET", "bind", "127.0.0.1"]));
    assert!(tcp_answers(srv.port), "{kind:?}: 127.0.0.1 again");
    // An address this host does not have: refused, the old one kept.
    out.push(unix_cmd(&sock, &["CONFIG", "SET", "bind", "192.0.2.1"]));
    assert!(tcp_answers(srv.port), "{kind:?}: old listener restored");
    out.push(unix_cmd(&sock, &["CONFIG", "GET", "bind"]));
    out
}

#[test]
fn config_set_bind_replaces_listeners_as_redis_does() {
    let redis = bind_steps(Kind::Redis);
    let gostore = bind_steps(Kind::GoStore);
    assert_eq!(gostore, redis);
    assert_eq!(redis[0], "+OK\r\n");
    assert_eq!(redis[2], "+OK\r\n");
}

/// glibc's heap bytes in use, from INFO.
fn used_memory(port: u16) -> i64 {
    info_field(port, "used_memory").unwrap().parse().unwrap()
}

fn raise_nofile() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write the struct we own.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
    }
}

#[test]
fn an_idle_connection_holds_no_query_or_reply_buffer() {
    raise_nofile();
    let srv = TestServer::gostore(&["--maxclients", "4000"]);
    let before = used_memory(srv.port);
    let n = 2000;
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        let mut c = RawConn::connect(srv.port);
        assert_eq!(c.cmd_str(&["PING"]), "+PONG\r\n");
        conns.push(c);
    }
    let with = used_memory(srv.port);
    let per_conn = (with - before) / n as i64;
    // A client's own state is well under 2 KB; a 16 KB query buffer or a
    // reply buffer kept per client would show here.
    assert!(
        per_conn < 2048,
        "{per_conn} bytes per idle connection ({before} -> {with})"
    );
    drop(conns);
    let mut c = srv.raw_conn();
    wait_for(10, "the connections to close", || client_count(&mut c) == 1);
    let after = used_memory(srv.port);
    assert!(after < before + 256 * 1024, "{before} -> {with} -> {after}");
}

#[test]
fn freed_memory_goes_back_to_the_system() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    // About 200 MB in many small allocations, then all of it freed.
    let mut batch = Vec::new();
    for i in 0..400_000 {
        batch.extend(encode(&[
            b"SET",
            format!("key:{i}").as_bytes(),
            &[b'v'; 400],
        ]));
        if batch.len() > 1 << 20 {
            c.send(&batch);
            batch.clear();
        }
    }
    c.send(&batch);
    c.send(b"PING\r\n");
    for _ in 0..400_000 {
        assert_eq!(c.read_reply(), b"+OK\r\n");
    }
    assert_eq!(c.read_reply(), b"+PONG\r\n");
    let loaded: i64 = Info::fetch(srv.port)
        .get("used_memory_rss")
        .unwrap()
        .parse()
        .unwrap();
    assert!(loaded > 150 << 20, "rss {loaded}");
    assert_eq!(c.cmd_str(&["FLUSHALL", "SYNC"]), "+OK\r\n");
    wait_for(30, "RSS to come back down", || {
        let info = Info::fetch(srv.port);
        let rss: i64 = info.get("used_memory_rss").unwrap().parse().unwrap();
        rss < loaded / 4
    });
}

#[test]
fn client_pause_with_a_timeout_past_the_clock_is_refused_and_unpause_works() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    for t in ["9223372036854775807", "9223372036000000000"] {
        assert_eq!(
            c.cmd_str(&["CLIENT", "PAUSE", t, "WRITE"]),
            "-ERR timeout is out of range\r\n"
        );
    }
    assert_eq!(c.cmd_str(&["SET", "a", "1"]), "+OK\r\n");
    // A long but valid pause ends with UNPAUSE.
    assert_eq!(
        c.cmd_str(&["CLIENT", "PAUSE", "100000000000", "WRITE"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd_str(&["CLIENT", "UNPAUSE"]), "+OK\r\n");
    assert_eq!(c.cmd_str(&["SET", "a", "2"]), "+OK\r\n");
}

/// A MONITOR client sends QUIT: what it receives before the close.
fn monitor_quit(kind: Kind) -> Vec<u8> {
    let srv = TestServer::start(kind, &[]);
    let mut m = srv.raw_conn();
    assert_eq!(m.cmd_str(&["MONITOR"]), "+OK\r\n");
    m.send(&encode(&[b"QUIT"]));
    m.read_to_close()
}

#[test]
fn a_monitor_s_own_quit_is_not_echoed_to_it() {
    assert_eq!(monitor_quit(Kind::Redis), b"+OK\r\n");
    assert_eq!(monitor_quit(Kind::GoStore), b"+OK\r\n");
}

#[test]
fn hello_without_auth_gets_redis_s_noauth_text() {
    let mut replies = Vec::new();
    for kind in [Kind::Redis, Kind::GoStore] {
        let srv = TestServer::start(kind, &["--requirepass", "pw"]);
        let mut c = srv.raw_conn();
        replies.push(c.cmd_str(&["HELLO", "3"]));
    }
    assert!(replies[0].starts_with("-NOAUTH HELLO must be called"));
    assert_eq!(replies[1], replies[0]);
}

#[test]
fn info_counts_reads_and_writes_processed() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    for _ in 0..50 {
        assert_eq!(c.cmd_str(&["PING"]), "+PONG\r\n");
    }
    let info = Info::fetch(srv.port);
    let reads: u64 = info.get("total_reads_processed").unwrap().parse().unwrap();
    let writes: u64 = info.get("total_writes_processed").unwrap().parse().unwrap();
    assert!(reads >= 50, "total_reads_processed:{reads}");
    assert!(writes >= 50, "total_writes_processed:{writes}");
}

#[test]
fn a_client_held_by_client_pause_that_disconnects_is_unparked() {
    for kind in [Kind::Redis, Kind::GoStore] {
        let srv = TestServer::start(kind, &[]);
        let mut admin = srv.raw_conn();
        assert_eq!(
            admin.cmd_str(&["CLIENT", "PAUSE", "100000", "WRITE"]),
            "+OK\r\n"
        );
        let mut held = srv.raw_conn();
        held.send(&encode(&[b"SET", b"k", b"v"]));
        wait_for(10, &format!("{kind:?}: the SET to be held"), || {
            info_field(srv.port, "blocked_clients").as_deref() == Some("1")
        });
        drop(held);
        wait_for(10, &format!("{kind:?}: the gone client unparked"), || {
            info_field(srv.port, "blocked_clients").as_deref() == Some("0")
        });
        assert_eq!(admin.cmd_str(&["CLIENT", "UNPAUSE"]), "+OK\r\n");
        assert_eq!(admin.cmd_str(&["GET", "k"]), "$-1\r\n", "{kind:?}");
    }
}

#[test]
fn writes_held_by_client_pause_run_in_the_order_they_arrived() {
    for kind in [Kind::Redis, Kind::GoStore] {
        let srv = TestServer::start(kind, &[]);
        let mut admin = srv.raw_conn();
        assert_eq!(
            admin.cmd_str(&["CLIENT", "PAUSE", "100000", "WRITE"]),
            "+OK\r\n"
        );
        let mut held = Vec::new();
        for i in 0..20 {
            let mut c = srv.raw_conn();
            c.send(&encode(&[b"APPEND", b"log", format!("{i},").as_bytes()]));
            // One at a time, so the arrival order is known.
            wait_for(10, &format!("{kind:?}: write {i} to be held"), || {
                info_field(srv.port, "blocked_clients") == Some((i + 1).to_string())
            });
            held.push(c);
        }
        assert_eq!(admin.cmd_str(&["CLIENT", "UNPAUSE"]), "+OK\r\n");
        for c in &mut held {
            assert!(c.read_reply().starts_with(b":"));
        }
        let want: String = (0..20).map(|i| format!("{i},")).collect();
        assert_eq!(
            admin.cmd_str(&["GET", "log"]),
            format!("${}\r\n{want}\r\n", want.len()),
            "{kind:?}"
        );
    }
}

#[test]
fn debug_reload_under_a_write_pause_keeps_the_dataset() {
    let srv = TestServer::gostore(&["--enable-debug-command", "yes"]);
    let mut c = srv.raw_conn();
    for i in 0..100 {
        assert_eq!(
            c.cmd_str(&["SET", &format!("k{i}"), &i.to_string()]),
            "+OK\r\n"
        );
    }
    assert_eq!(
        c.cmd_str(&["CLIENT", "PAUSE", "100000", "WRITE"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd_str(&["DEBUG", "RELOAD"]), "+OK\r\n");
    assert_eq!(c.cmd_str(&["DBSIZE"]), ":100\r\n");
    assert_eq!(c.cmd_str(&["GET", "k42"]), "$2\r\n42\r\n");
    assert_eq!(c.cmd_str(&["CLIENT", "UNPAUSE"]), "+OK\r\n");
}

#[test]
fn timeout_spares_a_client_whose_reply_waits_for_the_aof() {
    // Every fsync takes a minute: under everysec a write that finds one
    // running is held for up to 2 s, and so is its reply. That wait is the
    // server's, not the client's idleness.
    let dir = TempDir::new("timeout-held");
    let srv = TestServer::gostore_in_env(
        dir.path(),
        &["--appendfsync", "everysec", "--timeout", "1"],
        &[("GOSTORE_FAULT", "aof-fsync:delay60000")],
    );
    let mut c = srv.raw_conn();
    wait_for(30, "a background fsync to be running", || {
        assert_eq!(c.cmd_str(&["INCR", "n"]).as_bytes()[0], b':');
        info_field(srv.port, "aof_pending_bio_fsync").as_deref() == Some("1")
    });
    // This reply is held until the write is forced, about 2 s later.
    for i in 0..3 {
        assert_eq!(
            c.try_cmd(&[b"SET", b"k", i.to_string().as_bytes()]),
            Ok(b"+OK\r\n".to_vec()),
            "write {i}"
        );
    }
}
