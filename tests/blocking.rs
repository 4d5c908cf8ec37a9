//! Blocking list pops with several real clients: each scenario runs against
//! redis-server and GoStore, and what every client receives must be the
//! same: order of service, several keys, timeouts, a key emptied again
//! before a waiter's turn, BLMOVE chains, CLIENT UNBLOCK and KILL, keys
//! deleted while clients wait, and what reaches the AOF.

mod common;

use common::resp::{encode, RawConn};
use common::{info_field, wait_for, TestServer};

/// Sends a command without reading its reply.
fn send(c: &mut RawConn, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    c.send(&encode(&a));
}

fn text(b: Vec<u8>) -> String {
    String::from_utf8_lossy(&b).into_owned()
}

/// Waits until `n` clients are blocked.
fn blocked(srv: &TestServer, n: usize) {
    wait_for(10, &format!("{n} blocked clients"), || {
        info_field(srv.port, "blocked_clients") == Some(n.to_string())
    });
}

/// Runs `scenario` on both servers and compares what it recorded.
fn same_on_both(scenario: impl Fn(&TestServer) -> Vec<String>) {
    let redis = scenario(&TestServer::redis(&[]));
    let gostore = scenario(&TestServer::gostore(&[]));
    assert_eq!(gostore, redis);
}

#[test]
fn waiters_on_a_key_are_served_first_come_first_served() {
    same_on_both(|srv| {
        let mut waiters: Vec<RawConn> = (0..3).map(|_| srv.raw_conn()).collect();
        for (i, w) in waiters.iter_mut().enumerate() {
            send(w, &["BLPOP", "q", "0"]);
            blocked(srv, i + 1);
        }
        let mut p = srv.raw_conn();
        let mut out = vec![p.cmd_str(&["LPUSH", "q", "a", "b", "c"])];
        for w in &mut waiters {
            out.push(text(w.read_reply()));
        }
        out.push(p.cmd_str(&["LLEN", "q"]));
        out
    });
}

#[test]
fn a_client_waiting_on_several_keys_is_served_by_the_first_ready() {
    same_on_both(|srv| {
        let mut w = srv.raw_conn();
        send(&mut w, &["BRPOP", "k1", "k2", "k3", "0"]);
        blocked(srv, 1);
        let mut p = srv.raw_conn();
        let mut out = vec![p.cmd_str(&["RPUSH", "k3", "x", "y"])];
        out.push(text(w.read_reply()));
        out.push(p.cmd_str(&["LRANGE", "k3", "0", "-1"]));
        // Already there: served at once, from the first key that has data.
        out.push(p.cmd_str(&["RPUSH", "k2", "z"]));
        out.push(w.cmd_str(&["BLPOP", "k1", "k2", "k3", "0"]));
        out
    });
}

#[test]
fn a_waiter_that_finds_the_key_emptied_keeps_waiting() {
    same_on_both(|srv| {
        let mut w1 = srv.raw_conn();
        let mut w2 = srv.raw_conn();
        send(&mut w1, &["BLPOP", "q", "0"]);
        blocked(srv, 1);
        send(&mut w2, &["BLPOP", "q", "0"]);
        blocked(srv, 2);
        let mut p = srv.raw_conn();
        let mut out = vec![p.cmd_str(&["RPUSH", "q", "only"])];
        out.push(text(w1.read_reply()));
        blocked(srv, 1);
        out.push(info_field(srv.port, "blocked_clients").unwrap_or_default());
        out.push(p.cmd_str(&["RPUSH", "q", "next"]));
        out.push(text(w2.read_reply()));
        out
    });
}

#[test]
fn timeouts_give_the_null_of_each_command_in_resp2_and_resp3() {
    same_on_both(|srv| {
        let mut out = Vec::new();
        for proto in ["2", "3"] {
            let mut c = srv.raw_conn();
            out.push(
                c.cmd_str(&["HELLO", proto])
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string(),
            );
            out.push(c.cmd_str(&["BLPOP", "none", "0.05"]));
            out.push(c.cmd_str(&["BRPOP", "none", "none2", "0.05"]));
            out.push(c.cmd_str(&["BRPOPLPUSH", "none", "dst", "0.05"]));
            out.push(c.cmd_str(&["BLMOVE", "none", "dst", "LEFT", "RIGHT", "0.05"]));
            out.push(c.cmd_str(&["BLMPOP", "0.05", "2", "none", "none2", "LEFT"]));
        }
        out
    });
}

#[test]
fn bad_timeouts_and_wrong_types_are_refused_at_once() {
    same_on_both(|srv| {
        let mut c = srv.raw_conn();
        let mut out = vec![c.cmd_str(&["SET", "s", "x"])];
        for args in [
            &["BLPOP", "q", "-1"][..],
            &["BLPOP", "q", "abc"],
            &["BLPOP", "q", "1e100"],
            &["BLPOP", "s", "0"],
            &["BRPOP", "q", "s", "0"],
            &["BLMOVE", "s", "d", "LEFT", "LEFT", "0"],
            &["BLMOVE", "q", "d", "UP", "LEFT", "0"],
            &["BLMPOP", "0", "0", "q", "LEFT"],
            &["BLMPOP", "0", "1", "q", "LEFT", "COUNT", "0"],
            &["BLMPOP", "0", "1", "s", "LEFT"],
            &["BRPOPLPUSH", "s", "d", "0"],
        ] {
            out.push(c.cmd_str(args));
        }
        out
    });
}

#[test]
fn blmove_into_a_list_another_client_waits_on_wakes_it_too() {
    same_on_both(|srv| {
        let mut mover = srv.raw_conn();
        let mut popper = srv.raw_conn();
        send(&mut mover, &["BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"]);
        blocked(srv, 1);
        send(&mut popper, &["BLPOP", "dst", "0"]);
        blocked(srv, 2);
        let mut p = srv.raw_conn();
        let mut out = vec![p.cmd_str(&["RPUSH", "src", "v1", "v2"])];
        out.push(text(mover.read_reply()));
        out.push(text(popper.read_reply()));
        out.push(p.cmd_str(&["LRANGE", "src", "0", "-1"]));
        out.push(p.cmd_str(&["EXISTS", "dst"]));
        out
    });
}

#[test]
fn blmpop_serves_up_to_its_count() {
    same_on_both(|srv| {
        let mut w = srv.raw_conn();
        send(
            &mut w,
            &["BLMPOP", "0", "2", "a", "b", "RIGHT", "COUNT", "3"],
        );
        blocked(srv, 1);
        let mut p = srv.raw_conn();
        let mut out = vec![p.cmd_str(&["RPUSH", "b", "1", "2", "3", "4"])];
        out.push(text(w.read_reply()));
        out.push(p.cmd_str(&["LRANGE", "b", "0", "-1"]));
        out
    });
}

#[test]
fn client_unblock_timeout_and_error_and_kill() {
    same_on_both(|srv| {
        let mut out = Vec::new();
        let mut admin = srv.raw_conn();
        for how in ["TIMEOUT", "ERROR", ""] {
            let mut w = srv.raw_conn();
            let id = w.cmd_str(&["CLIENT", "ID"]);
            let id = id.trim_start_matches(':').trim().to_string();
            send(&mut w, &["BLPOP", "q", "0"]);
            blocked(srv, 1);
            let list = admin.cmd_str(&["CLIENT", "LIST", "ID", &id]);
            out.push(
                list.split(' ')
                    .find(|f| f.starts_with("flags="))
                    .unwrap_or("")
                    .to_string(),
            );
            if how.is_empty() {
                out.push(admin.cmd_str(&["CLIENT", "KILL", "ID", &id]));
                out.push(format!("closed: {}", w.is_closed()));
            } else {
                out.push(admin.cmd_str(&["CLIENT", "UNBLOCK", &id, how]));
                out.push(text(w.read_reply()));
                // The connection goes on.
                out.push(w.cmd_str(&["PING"]));
            }
            blocked(srv, 0);
            out.push(admin.cmd_str(&["CLIENT", "UNBLOCK", &id]));
        }
        out
    });
}

#[test]
fn deleting_or_flushing_a_waited_key_leaves_its_waiters_waiting() {
    same_on_both(|srv| {
        let mut w = srv.raw_conn();
        send(&mut w, &["BLPOP", "q", "0"]);
        blocked(srv, 1);
        let mut p = srv.raw_conn();
        let mut out = vec![
            p.cmd_str(&["SET", "q", "a string"]),
            p.cmd_str(&["DEL", "q"]),
            p.cmd_str(&["FLUSHALL"]),
        ];
        out.push(info_field(srv.port, "blocked_clients").unwrap_or_default());
        out.push(p.cmd_str(&["RPUSH", "q", "v"]));
        out.push(text(w.read_reply()));
        out
    });
}

#[test]
fn a_served_pop_reaches_the_aof_as_its_non_blocking_form() {
    let mut srv = TestServer::gostore(&["--appendonly", "yes"]);
    let mut w = srv.raw_conn();
    let mut w2 = srv.raw_conn();
    send(&mut w, &["BLPOP", "q", "0"]);
    blocked(&srv, 1);
    send(&mut w2, &["BLMOVE", "src", "q2", "LEFT", "RIGHT", "0"]);
    blocked(&srv, 2);
    let mut p = srv.raw_conn();
    assert_eq!(p.cmd_str(&["RPUSH", "q", "a", "b"]), ":2\r\n");
    assert_eq!(text(w.read_reply()), "*2\r\n$1\r\nq\r\n$1\r\na\r\n");
    assert_eq!(p.cmd_str(&["RPUSH", "src", "s"]), ":1\r\n");
    assert_eq!(text(w2.read_reply()), "$1\r\ns\r\n");
    let dir = srv.path.join("appendonlydir");
    let mut aof = String::new();
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        if e.file_name().to_string_lossy().contains(".incr.") {
            aof.push_str(&String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()));
        }
    }
    assert!(aof.contains("$4\r\nLPOP\r\n$1\r\nq\r\n"), "{aof:?}");
    assert!(aof.contains("$5\r\nLMOVE\r\n"), "{aof:?}");
    assert!(!aof.contains("BLPOP") && !aof.contains("BLMOVE"), "{aof:?}");
    // Replayed, the dataset is the same.
    drop((w, w2, p));
    srv.sigterm();
    srv.restart();
    let mut c = srv.raw_conn();
    assert_eq!(c.cmd_str(&["LRANGE", "q", "0", "-1"]), "*1\r\n$1\r\nb\r\n");
    assert_eq!(c.cmd_str(&["LRANGE", "q2", "0", "-1"]), "*1\r\n$1\r\ns\r\n");
    assert_eq!(c.cmd_str(&["EXISTS", "src"]), ":0\r\n");
}

#[test]
fn a_waiter_that_disconnects_is_forgotten() {
    same_on_both(|srv| {
        let mut w = srv.raw_conn();
        send(&mut w, &["BLPOP", "q", "0"]);
        blocked(srv, 1);
        drop(w);
        blocked(srv, 0);
        let mut p = srv.raw_conn();
        vec![p.cmd_str(&["RPUSH", "q", "v"]), p.cmd_str(&["LLEN", "q"])]
    });
}

#[test]
fn swapdb_serves_a_waiter_whose_key_now_holds_a_list() {
    same_on_both(|srv| {
        let mut w = srv.raw_conn();
        send(&mut w, &["BLPOP", "q", "0"]);
        blocked(srv, 1);
        let mut p = srv.raw_conn();
        let mut out = vec![
            p.cmd_str(&["SELECT", "1"]),
            p.cmd_str(&["RPUSH", "q", "from-db1"]),
            p.cmd_str(&["SWAPDB", "0", "1"]),
        ];
        out.push(text(w.read_reply()));
        out.push(p.cmd_str(&["SELECT", "0"]));
        out.push(p.cmd_str(&["EXISTS", "q"]));
        out
    });
}
