//! The protocol over real sockets: input in any piece size, pipelining,
//! huge bulks, every malformed-input error Redis gives (and the close that
//! follows it), limits, fairness between clients, and RESP3.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::resp::{encode, RawConn};
use common::{Kind, TestServer};

#[test]
fn a_command_sent_one_byte_at_a_time_is_answered_once() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    for b in b"*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n" {
        c.send(&[*b]);
    }
    assert_eq!(c.read_reply(), b"$5\r\nhello\r\n");
    for b in b"PING\r\n" {
        c.send(&[*b]);
    }
    assert_eq!(c.read_reply(), b"+PONG\r\n");
}

#[test]
fn ten_thousand_pipelined_commands_get_ten_thousand_replies_in_order() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    let mut input = Vec::new();
    for i in 0..10_000 {
        input.extend(encode(&[b"ECHO", i.to_string().as_bytes()]));
    }
    c.send(&input);
    for i in 0..10_000 {
        let want = format!("${}\r\n{}\r\n", i.to_string().len(), i);
        assert_eq!(c.read_reply(), want.as_bytes(), "reply {i}");
    }
}

#[test]
fn a_100mb_value_arriving_in_small_pieces_is_stored_whole() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    let len = 100 * 1024 * 1024;
    c.send(format!("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n${len}\r\n").as_bytes());
    let chunk: Vec<u8> = (0..65536u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut sent = 0;
    let mut piece = 1;
    // A checksum of what was sent, to compare with what was stored.
    let (mut sum, mut head, mut tail) = (0u64, Vec::new(), Vec::new());
    while sent < len {
        // Pieces from 1 byte to 64 KB, cycling.
        let n = piece.min(len - sent);
        let p = &chunk[..n];
        c.send(p);
        for &b in p {
            sum = sum.wrapping_mul(31).wrapping_add(b as u64);
        }
        if head.len() < 64 {
            head.extend_from_slice(&p[..n.min(64 - head.len())]);
        }
        tail.extend_from_slice(p);
        if tail.len() > 64 {
            tail.drain(..tail.len() - 64);
        }
        sent += n;
        piece = if piece >= 65536 { 1 } else { piece * 4 };
    }
    c.send(b"\r\n");
    assert_eq!(c.read_reply(), b"+OK\r\n");
    assert_eq!(c.cmd_str(&["STRLEN", "big"]), format!(":{len}\r\n"));
    for (range, want) in [(["0", "63"], &head), (["-64", "-1"], &tail)] {
        let mut expect = b"$64\r\n".to_vec();
        expect.extend_from_slice(want);
        expect.extend_from_slice(b"\r\n");
        assert_eq!(
            c.cmd(&[
                b"GETRANGE",
                b"big",
                range[0].as_bytes(),
                range[1].as_bytes()
            ]),
            expect
        );
    }
    let stored = c.cmd(&[b"GET", b"big"]);
    let body = &stored[stored.len() - len - 2..stored.len() - 2];
    let stored_sum = body
        .iter()
        .fold(0u64, |s, &b| s.wrapping_mul(31).wrapping_add(b as u64));
    assert_eq!(
        stored_sum, sum,
        "the stored value is byte for byte what was sent"
    );
}

#[test]
fn inline_commands_split_quotes_as_redis() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    c.send(b"ECHO \"hello world\"\r\n");
    assert_eq!(c.read_reply(), b"$11\r\nhello world\r\n");
    c.send(b"ECHO 'it\\'s'\n");
    assert_eq!(c.read_reply(), b"$4\r\nit's\r\n");
    c.send(b"ECHO \"\\x41\\n\"\r\n");
    assert_eq!(c.read_reply(), b"$2\r\nA\n\r\n");
    c.send(b"\r\n\r\nPING\r\n");
    assert_eq!(c.read_reply(), b"+PONG\r\n", "empty lines are no commands");
}

/// Sends `input` to both servers; returns what each sent back before closing.
fn until_close(srv: &TestServer, input: &[u8]) -> String {
    let mut c = srv.raw_conn();
    c.send(input);
    String::from_utf8_lossy(&c.read_to_close()).into_owned()
}

#[test]
fn malformed_input_gets_redis_s_error_and_the_connection_closes() {
    let redis = TestServer::redis(&[]);
    let gostore = TestServer::gostore(&[]);
    let big_inline = vec![b'a'; 64 * 1024 + 10];
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("invalid multibulk length", b"*abc\r\n".to_vec()),
        ("multibulk length over INT_MAX", b"*3000000000\r\n".to_vec()),
        ("invalid bulk length", b"*1\r\n$-5\r\n".to_vec()),
        (
            "bulk length over proto-max-bulk-len",
            b"*1\r\n$600000000\r\n".to_vec(),
        ),
        ("expected $", b"*1\r\n+PING\r\n".to_vec()),
        ("unbalanced quotes", b"ECHO \"abc\r\n".to_vec()),
        ("closing quote glued to text", b"ECHO \"a\"b\r\n".to_vec()),
        ("too big inline request", big_inline),
        (
            "too big mbulk count",
            [b"*".to_vec(), vec![b'1'; 70 * 1024]].concat(),
        ),
        (
            "too big bulk count",
            [b"*1\r\n$".to_vec(), vec![b'1'; 70 * 1024]].concat(),
        ),
        (
            "commands before the error still run",
            b"PING\r\n*1\r\n$4\r\nPING\r\n*x\r\nPING\r\n".to_vec(),
        ),
    ];
    for (what, input) in cases {
        let r = until_close(&redis, &input);
        let g = until_close(&gostore, &input);
        assert!(r.contains("Protocol error"), "{what}: redis said {r:?}");
        assert_eq!(g, r, "{what}");
    }
}

#[test]
fn unauthenticated_clients_get_tight_protocol_limits() {
    let redis = TestServer::redis(&["--requirepass", "secret"]);
    let gostore = TestServer::gostore(&["--requirepass", "secret"]);
    let mut many = b"*11\r\n".to_vec();
    for _ in 0..11 {
        many.extend_from_slice(b"$1\r\na\r\n");
    }
    for input in [many, b"*2\r\n$4\r\nAUTH\r\n$20000\r\n".to_vec()] {
        let r = until_close(&redis, &input);
        assert!(r.contains("unauthenticated"), "{r:?}");
        assert_eq!(until_close(&gostore, &input), r);
    }
    let mut c = gostore.raw_conn();
    assert_eq!(c.cmd_str(&["PING"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(
        c.cmd_str(&["AUTH", "wrong"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(c.cmd_str(&["AUTH", "secret"]), "+OK\r\n");
    assert_eq!(c.cmd_str(&["PING"]), "+PONG\r\n");
}

#[test]
fn a_client_past_the_query_buffer_limit_is_disconnected_and_others_go_on() {
    let srv = TestServer::gostore(&["--client-query-buffer-limit", "1mb"]);
    let mut hog = srv.raw_conn();
    // A command that never ends: an inline line is capped at 64 KB, so use
    // many complete small bulks of one unfinished multibulk.
    hog.send(b"*100000\r\n");
    let arg = encode(&[&[b'x'; 1000][..]]);
    let one_bulk = &arg[4..]; // "$1000\r\n...\r\n"
    let mut closed = false;
    for _ in 0..3000 {
        if hog.stream.write_all(one_bulk).is_err() {
            closed = true;
            break;
        }
    }
    if !closed {
        assert!(hog.is_closed(), "the hog must be disconnected");
    }
    let mut other = srv.raw_conn();
    assert_eq!(other.cmd_str(&["PING"]), "+PONG\r\n");
}

#[test]
fn a_client_disconnecting_mid_command_leaves_the_server_healthy() {
    let srv = TestServer::gostore(&[]);
    for partial in [
        &b"*3\r\n$3\r\nSET\r\n$1\r\nk"[..],
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\nxyz",
        b"PIN",
    ] {
        let mut s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
        s.write_all(partial).unwrap();
        drop(s);
    }
    let mut c = srv.raw_conn();
    assert_eq!(c.cmd_str(&["PING"]), "+PONG\r\n");
    assert_eq!(
        c.cmd_str(&["EXISTS", "k"]),
        ":0\r\n",
        "a half-received SET must not apply"
    );
}

#[test]
fn replies_to_a_client_that_shut_down_its_side_are_still_sent() {
    let srv = TestServer::gostore(&[]);
    let mut s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"PING\r\nECHO x\r\n").unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    assert_eq!(out, b"+PONG\r\n$1\r\nx\r\n");
}

#[test]
fn one_client_pipelining_a_huge_batch_does_not_starve_another() {
    let srv = TestServer::gostore(&[]);
    let mut hog = srv.raw_conn();
    let mut batch = Vec::new();
    let n = 300_000;
    for _ in 0..n {
        batch.extend_from_slice(b"*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n");
    }
    let writer = {
        let mut s = hog.stream.try_clone().unwrap();
        std::thread::spawn(move || s.write_all(&batch).is_ok())
    };
    // Wait until the hog's pipeline is being executed, then ask from another
    // client: it must be answered while the pipeline is still running.
    let mut other = srv.raw_conn();
    common::wait_for(30, "the pipeline to start", || {
        other.cmd_str(&["GET", "counter"]) != "$-1\r\n"
    });
    let seen = other.cmd_str(&["GET", "counter"]);
    let value: i64 = seen.lines().nth(1).unwrap_or("0").parse().unwrap_or(0);
    assert!(
        value > 0 && value < n,
        "the other client was served mid-pipeline (counter={value})"
    );
    // Drain the hog so the server finishes.
    let reader = std::thread::spawn(move || {
        for _ in 0..n {
            hog.read_reply();
        }
    });
    assert!(writer.join().unwrap());
    reader.join().unwrap();
    assert_eq!(
        other.cmd_str(&["GET", "counter"]),
        format!("${}\r\n{n}\r\n", n.to_string().len())
    );
}

#[test]
fn hello_3_switches_to_resp3_and_back() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    let hello = String::from_utf8(c.cmd(&[b"HELLO", b"3"])).unwrap();
    assert!(hello.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n"), "{hello}");
    assert_eq!(c.cmd_str(&["GET", "nokey"]), "_\r\n");
    assert_eq!(
        c.cmd_str(&["CONFIG", "GET", "port"]).chars().next(),
        Some('%')
    );
    c.cmd(&[b"HELLO", b"2"]);
    assert_eq!(c.cmd_str(&["GET", "nokey"]), "$-1\r\n");
}

#[test]
fn the_redis_crate_works_in_resp2_and_resp3() {
    let srv = TestServer::gostore(&[]);
    for mut con in [srv.client(), srv.client3()] {
        let pong: String = redis::cmd("PING").query(&mut con).unwrap();
        assert_eq!(pong, "PONG");
        let _: () = redis::cmd("SET").arg("k").arg("v").query(&mut con).unwrap();
        let v: String = redis::cmd("GET").arg("k").query(&mut con).unwrap();
        assert_eq!(v, "v");
        let cfg: std::collections::HashMap<String, String> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("appendonly")
            .query(&mut con)
            .unwrap();
        assert_eq!(cfg.get("appendonly").map(String::as_str), Some("yes"));
    }
}

#[test]
fn max_clients_refuses_extra_connections_with_redis_s_error() {
    let srv = TestServer::gostore(&["--maxclients", "2"]);
    let mut a = srv.raw_conn();
    // The harness's readiness probe may still be counted: wait until `a`
    // is the only client.
    common::wait_for(10, "the readiness probe to be gone", || {
        a.cmd_str(&["CLIENT", "LIST"]).matches("id=").count() == 1
    });
    let mut b = srv.raw_conn();
    assert_eq!(a.cmd_str(&["PING"]), "+PONG\r\n");
    assert_eq!(b.cmd_str(&["PING"]), "+PONG\r\n");
    let mut c = srv.raw_conn();
    assert_eq!(
        String::from_utf8_lossy(&c.read_to_close()),
        "-ERR max number of clients reached\r\n"
    );
    drop(a);
    common::wait_for(10, "a slot to free", || {
        // Refused until the server has seen `a` go: the refusal may close
        // the connection before the PING is even sent.
        let mut d = RawConn::connect(srv.port);
        d.try_cmd(&[b"PING"]).is_ok_and(|r| r == b"+PONG\r\n")
    });
}

#[test]
fn unknown_commands_and_arity_errors_match_redis() {
    let redis = TestServer::redis(&[]);
    let gostore = TestServer::gostore(&[]);
    let long = "x".repeat(300);
    let cases: Vec<Vec<&str>> = vec![
        vec!["NOSUCH"],
        vec!["NOSUCH", "a", "b"],
        vec!["nosuch", &long, "b"],
        vec![&long],
        vec!["GET"],
        vec!["get", "a", "b"],
        vec!["CLIENT"],
        vec!["client", "nosuch"],
        vec!["CONFIG", "GET"],
        vec!["object", "x", "y"],
        vec!["nosuch", "line\r\nbreak"],
    ];
    let mut r = redis.raw_conn();
    let mut g = gostore.raw_conn();
    for c in cases {
        assert_eq!(g.cmd_str(&c), r.cmd_str(&c), "{c:?}");
    }
}

#[test]
fn a_server_that_cannot_bind_exits_with_an_error() {
    let first = TestServer::gostore(&[]);
    let dir = common::TempDir::new("bind");
    let (code, out) = TestServer::start_failing(
        Kind::GoStore,
        dir.path(),
        &["--port", &first.port.to_string()],
    );
    assert_eq!(code, 1);
    assert!(
        out.contains("Address already in use") || out.contains("in use"),
        "{out}"
    );
}

#[test]
fn a_client_that_sends_and_closes_while_the_server_is_busy_is_answered_and_closed() {
    let srv = TestServer::gostore(&[]);
    let pid = srv.pid().unwrap() as i32;
    // Stop the server so the data and the FIN arrive in one readiness edge.
    // SAFETY: signals to our own child.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    let mut s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"PING\r\n").unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    unsafe { libc::kill(pid, libc::SIGCONT) };
    let mut out = Vec::new();
    s.read_to_end(&mut out)
        .expect("the server closes the connection after replying");
    assert_eq!(out, b"+PONG\r\n");
    let mut c = srv.raw_conn();
    common::wait_for(10, "the closed client to be gone", || {
        c.cmd_str(&["CLIENT", "LIST"]).matches("id=").count() == 1
    });
}

#[test]
fn nothing_in_the_pipeline_after_shutdown_runs() {
    let mut srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    c.send(b"SET x 1\r\nSHUTDOWN\r\nSET y 2\r\n");
    assert_eq!(c.read_to_close(), b"+OK\r\n");
    assert_eq!(srv.wait(), Some(0));
    srv.restart();
    assert_eq!(
        srv.raw_conn().cmd_str(&["MGET", "x", "y"]),
        "*2\r\n$1\r\n1\r\n$-1\r\n"
    );
}

#[test]
fn client_kill_and_idle_timeout_close_connections() {
    let srv = TestServer::gostore(&["--timeout", "1"]);
    let mut victim = srv.raw_conn();
    let id = victim.cmd_str(&["CLIENT", "ID"]);
    let id = id.trim_start_matches(':').trim().to_string();
    let mut killer = srv.raw_conn();
    assert_eq!(killer.cmd_str(&["CLIENT", "KILL", "ID", &id]), ":1\r\n");
    assert!(victim.is_closed(), "a killed client is closed");
    // The idle one goes after `timeout` seconds of silence.
    let mut idle = srv.raw_conn();
    assert_eq!(idle.cmd_str(&["PING"]), "+PONG\r\n");
    idle.stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert!(
        idle.is_closed(),
        "an idle client is closed after the timeout"
    );
}
