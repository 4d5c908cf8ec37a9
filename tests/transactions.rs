//! Transactions with several real clients: each scenario runs against
//! redis-server and GoStore and what every client receives must be the
//! same: WATCH races, keys that expire before or after WATCH, eviction,
//! CLIENT PAUSE WRITE and OOM for EXEC, blocking commands inside MULTI,
//! RESET and disconnects, CLIENT LIST, MONITOR, SLOWLOG and commandstats,
//! the AOF's MULTI ... EXEC unit, and a MULTI torn at the AOF's tail.

mod common;

use std::path::{Path, PathBuf};

use common::resp::{encode, RawConn};
use common::{info_field, wait_for, Kind, TempDir, TestServer};

/// Sends a command without reading its reply.
fn send(c: &mut RawConn, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    c.send(&encode(&a));
}

fn text(b: Vec<u8>) -> String {
    String::from_utf8_lossy(&b).into_owned()
}

/// Runs `scenario` on both servers (started with `args`) and compares what
/// it recorded.
fn same_on_both(args: &[&str], scenario: impl Fn(&TestServer) -> Vec<String>) -> Vec<String> {
    let redis = scenario(&TestServer::redis(args));
    let gostore = scenario(&TestServer::gostore(args));
    assert_eq!(gostore, redis);
    gostore
}

/// The server's clock, Unix ms (TIME looks up no key, so it expires none).
fn server_ms(c: &mut RawConn) -> i64 {
    let r = c.cmd_str(&["TIME"]);
    let parts: Vec<&str> = r.split("\r\n").collect();
    let secs: i64 = parts[2].parse().expect("seconds");
    let us: i64 = parts[4].parse().expect("micros");
    secs * 1000 + us / 1000
}

/// Waits until an expiry time has passed on the server `c` is connected
/// to, without looking the key up (which would delete it); on a
/// connection of its own, since `c` may be in MULTI.
fn wait_past_expiry(c: &mut RawConn, at_ms: i64) {
    let port = c.stream.peer_addr().expect("peer").port();
    let mut clock = RawConn::connect(port);
    wait_for(10, "the expiry time to pass", || {
        server_ms(&mut clock) > at_ms
    });
}

fn pexpiretime(c: &mut RawConn, key: &str) -> i64 {
    let r = c.cmd_str(&["PEXPIRETIME", key]);
    r.trim_start_matches(':')
        .trim()
        .parse()
        .expect("pexpiretime")
}

#[test]
fn a_write_by_another_client_breaks_the_watch_in_resp2_and_resp3() {
    let out = same_on_both(&[], |srv| {
        let mut out = Vec::new();
        for proto in ["2", "3"] {
            let mut a = srv.raw_conn();
            let mut b = srv.raw_conn();
            a.cmd_str(&["HELLO", proto]);
            out.push(a.cmd_str(&["SET", "counter", "1"]));
            out.push(a.cmd_str(&["WATCH", "counter"]));
            out.push(a.cmd_str(&["GET", "counter"]));
            // The other client gets there first.
            out.push(b.cmd_str(&["INCR", "counter"]));
            out.push(a.cmd_str(&["MULTI"]));
            out.push(a.cmd_str(&["SET", "counter", "2"]));
            out.push(a.cmd_str(&["EXEC"]));
            out.push(a.cmd_str(&["GET", "counter"]));
            // Retried, with nobody in between, it goes through.
            out.push(a.cmd_str(&["WATCH", "counter"]));
            out.push(a.cmd_str(&["MULTI"]));
            out.push(a.cmd_str(&["SET", "counter", "3"]));
            out.push(a.cmd_str(&["EXEC"]));
            // The watch ended with EXEC: a later write breaks nothing.
            out.push(b.cmd_str(&["SET", "counter", "4"]));
            out.push(a.cmd_str(&["MULTI"]));
            out.push(a.cmd_str(&["GET", "counter"]));
            out.push(a.cmd_str(&["EXEC"]));
        }
        out
    });
    // The aborted EXEC's null, in each protocol's shape.
    assert_eq!(out[6], "*-1\r\n");
    assert_eq!(out[16 + 6], "_\r\n");
}

#[test]
fn two_clients_racing_on_one_key_never_lose_an_increment() {
    // Each client does check-and-set increments with WATCH; whatever the
    // interleaving, the final count is the number of EXECs that succeeded.
    let srv = TestServer::gostore(&[]);
    let mut a = srv.raw_conn();
    let mut b = srv.raw_conn();
    a.cmd_str(&["SET", "n", "0"]);
    let mut done = 0;
    let mut aborted = 0;
    for round in 0..200 {
        // Both read under WATCH, then both try to write.
        let (first, second) = if round % 2 == 0 {
            (&mut a, &mut b)
        } else {
            (&mut b, &mut a)
        };
        for c in [&mut *first, &mut *second] {
            c.cmd_str(&["WATCH", "n"]);
        }
        let v1: i64 = first
            .cmd_str(&["GET", "n"])
            .lines()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let v2: i64 = second
            .cmd_str(&["GET", "n"])
            .lines()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        for (c, v) in [(&mut *first, v1), (&mut *second, v2)] {
            c.cmd_str(&["MULTI"]);
            c.cmd_str(&["SET", "n", &(v + 1).to_string()]);
            let r = c.cmd_str(&["EXEC"]);
            if r == "*-1\r\n" {
                aborted += 1;
            } else {
                assert_eq!(r, "*1\r\n+OK\r\n");
                done += 1;
            }
        }
    }
    assert_eq!(done, 200, "the first EXEC of each round succeeds");
    assert_eq!(aborted, 200, "the second sees the first's write");
    assert_eq!(a.cmd_str(&["GET", "n"]), "$3\r\n200\r\n");
}

#[test]
fn a_key_that_expires_after_watch_breaks_it_one_expired_before_does_not() {
    same_on_both(&["--enable-debug-command", "yes"], |srv| {
        let mut a = srv.raw_conn();
        let mut out = vec![a.cmd_str(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"])];
        // Expires after WATCH, not yet deleted by anyone: EXEC sees it
        // expired (isWatchedKeyExpired) and aborts.
        out.push(a.cmd_str(&["SET", "k", "v", "PX", "100"]));
        let at = pexpiretime(&mut a, "k");
        out.push(a.cmd_str(&["WATCH", "k"]));
        out.push(a.cmd_str(&["MULTI"]));
        out.push(a.cmd_str(&["PING"]));
        wait_past_expiry(&mut a, at);
        out.push(a.cmd_str(&["EXEC"]));
        // Expired already when watched: its deletion is no change.
        out.push(a.cmd_str(&["SET", "j", "v", "PX", "1"]));
        let at = pexpiretime(&mut a, "j");
        wait_past_expiry(&mut a, at);
        out.push(a.cmd_str(&["WATCH", "j"]));
        out.push(a.cmd_str(&["MULTI"]));
        out.push(a.cmd_str(&["PING"]));
        out.push(a.cmd_str(&["EXEC"]));
        // ... even when a lookup deletes it between WATCH and EXEC.
        out.push(a.cmd_str(&["SET", "j", "v", "PX", "1"]));
        let at = pexpiretime(&mut a, "j");
        wait_past_expiry(&mut a, at);
        out.push(a.cmd_str(&["WATCH", "j"]));
        let mut b = srv.raw_conn();
        out.push(b.cmd_str(&["GET", "j"]));
        out.push(a.cmd_str(&["MULTI"]));
        out.push(a.cmd_str(&["PING"]));
        out.push(a.cmd_str(&["EXEC"]));
        // But once deleted it is a missing key: creating it is a change.
        out.push(a.cmd_str(&["SET", "j", "v", "PX", "1"]));
        let at = pexpiretime(&mut a, "j");
        wait_past_expiry(&mut a, at);
        out.push(a.cmd_str(&["WATCH", "j"]));
        out.push(b.cmd_str(&["GET", "j"]));
        out.push(b.cmd_str(&["SET", "j", "new"]));
        out.push(a.cmd_str(&["MULTI"]));
        out.push(a.cmd_str(&["PING"]));
        out.push(a.cmd_str(&["EXEC"]));
        // A key deleted by the active expiry cycle after WATCH.
        out.push(a.cmd_str(&["FLUSHALL"]));
        out.push(a.cmd_str(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]));
        out.push(a.cmd_str(&["SET", "act", "v", "PX", "50"]));
        out.push(a.cmd_str(&["WATCH", "act"]));
        wait_for(10, "the active cycle to delete the key", || {
            b.cmd_str(&["DBSIZE"]) == ":0\r\n"
        });
        out.push(a.cmd_str(&["MULTI"]));
        out.push(a.cmd_str(&["PING"]));
        out.push(a.cmd_str(&["EXEC"]));
        out
    });
}

#[test]
fn swapdb_and_flushdb_follow_redis_7_0_s_expired_key_rules() {
    same_on_both(&["--enable-debug-command", "yes"], |srv| {
        let mut a = srv.raw_conn();
        let mut out = vec![a.cmd_str(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"])];
        let mut run = |a: &mut RawConn, setup: &[&[&str]]| {
            for c in setup {
                out.push(a.cmd_str(c));
            }
            out.push(a.cmd_str(&["MULTI"]));
            out.push(a.cmd_str(&["PING"]));
            out.push(a.cmd_str(&["EXEC"]));
            out.push(a.cmd_str(&["FLUSHALL"]));
        };
        // A missing key replaced by an expired one: no change.
        a.cmd_str(&["SELECT", "1"]);
        a.cmd_str(&["SET", "x", "v", "PX", "1"]);
        let at = pexpiretime(&mut a, "x");
        wait_past_expiry(&mut a, at);
        a.cmd_str(&["SELECT", "0"]);
        run(&mut a, &[&["WATCH", "x"], &["SWAPDB", "0", "1"]]);
        // An expired key replaced by another expired one: no change.
        for db in ["0", "1"] {
            a.cmd_str(&["SELECT", db]);
            a.cmd_str(&["SET", "y", "v", "PX", "1"]);
            let at = pexpiretime(&mut a, "y");
            wait_past_expiry(&mut a, at);
        }
        a.cmd_str(&["SELECT", "0"]);
        run(&mut a, &[&["WATCH", "y"], &["SWAPDB", "0", "1"]]);
        // An expired key replaced by a live one: a change.
        a.cmd_str(&["SET", "z", "v", "PX", "1"]);
        let at = pexpiretime(&mut a, "z");
        wait_past_expiry(&mut a, at);
        a.cmd_str(&["SELECT", "1"]);
        a.cmd_str(&["SET", "z", "live"]);
        a.cmd_str(&["SELECT", "0"]);
        run(&mut a, &[&["WATCH", "z"], &["SWAPDB", "0", "1"]]);
        // An expired key flushed: no change; a live one flushed: a change.
        a.cmd_str(&["SET", "f", "v", "PX", "1"]);
        let at = pexpiretime(&mut a, "f");
        wait_past_expiry(&mut a, at);
        run(&mut a, &[&["WATCH", "f"], &["FLUSHDB"]]);
        a.cmd_str(&["SET", "g", "v"]);
        run(&mut a, &[&["WATCH", "g"], &["FLUSHALL"]]);
        // A flush of another database leaves this one's watch alone.
        a.cmd_str(&["SET", "h", "v"]);
        run(
            &mut a,
            &[
                &["WATCH", "h"],
                &["SELECT", "4"],
                &["FLUSHDB"],
                &["SELECT", "0"],
            ],
        );
        out
    });
}

#[test]
fn eviction_of_a_watched_key_breaks_the_watch() {
    // Only the watched key has a TTL, so volatile-lru can evict only it.
    same_on_both(&["--maxmemory-policy", "volatile-lru"], |srv| {
        let mut a = srv.raw_conn();
        let mut b = srv.raw_conn();
        let mut out = vec![a.cmd_str(&["SET", "victim", "v", "EX", "1000"])];
        out.push(a.cmd_str(&["WATCH", "victim"]));
        let used: u64 = info_field(srv.port, "used_memory")
            .expect("used_memory")
            .parse()
            .expect("number");
        out.push(b.cmd_str(&["CONFIG", "SET", "maxmemory", &(used + 200_000).to_string()]));
        let big = "x".repeat(10_000);
        let mut i = 0;
        while b.cmd_str(&["EXISTS", "victim"]) == ":1\r\n" {
            b.cmd_str(&["SET", &format!("fill{i}"), &big]);
            i += 1;
            assert!(i < 1000, "the watched key was never evicted");
        }
        out.push(a.cmd_str(&["MULTI"]));
        out.push(a.cmd_str(&["PING"]));
        out.push(a.cmd_str(&["EXEC"]));
        out
    });
}

#[test]
fn blocking_commands_inside_multi_answer_at_once_and_wait_for_nothing() {
    same_on_both(&[], |srv| {
        let mut a = srv.raw_conn();
        let mut out = vec![a.cmd_str(&["MULTI"])];
        for c in [
            &["BLPOP", "q", "0"][..],
            &["BRPOP", "q", "0"],
            &["BLMOVE", "q", "d", "LEFT", "LEFT", "0"],
            &["BRPOPLPUSH", "q", "d", "0"],
            &["BLMPOP", "0", "1", "q", "LEFT"],
        ] {
            out.push(a.cmd_str(c));
        }
        out.push(a.cmd_str(&["EXEC"]));
        out.push(info_field(srv.port, "blocked_clients").unwrap_or_default());
        // The client is no waiter: a push stays in the list.
        let mut b = srv.raw_conn();
        out.push(b.cmd_str(&["LPUSH", "q", "x"]));
        out.push(b.cmd_str(&["LRANGE", "q", "0", "-1"]));
        // Outside MULTI the same client blocks again as usual.
        out.push(a.cmd_str(&["BLPOP", "q", "0"]));
        out
    });
}

#[test]
fn client_pause_write_holds_an_exec_that_writes_and_lets_a_read_only_one_run() {
    same_on_both(&[], |srv| {
        let mut a = srv.raw_conn();
        let mut r = srv.raw_conn();
        let mut admin = srv.raw_conn();
        let mut out = vec![a.cmd_str(&["MULTI"]), a.cmd_str(&["SET", "p", "1"])];
        out.push(r.cmd_str(&["MULTI"]));
        out.push(r.cmd_str(&["GET", "p"]));
        out.push(admin.cmd_str(&["CLIENT", "PAUSE", "100000", "WRITE"]));
        // The read-only transaction runs.
        out.push(r.cmd_str(&["EXEC"]));
        // The one that writes waits for the pause to end.
        send(&mut a, &["EXEC"]);
        wait_for(10, "EXEC to be held", || {
            admin
                .cmd_str(&["CLIENT", "LIST"])
                .lines()
                .any(|l| l.contains("flags=xb"))
        });
        out.push(admin.cmd_str(&["GET", "p"]));
        out.push(admin.cmd_str(&["CLIENT", "UNPAUSE"]));
        out.push(text(a.read_reply()));
        out.push(admin.cmd_str(&["GET", "p"]));
        out
    });
}

#[test]
fn out_of_memory_refuses_queuing_and_an_exec_that_would_grow_memory() {
    same_on_both(&[], |srv| {
        let mut a = srv.raw_conn();
        let mut admin = srv.raw_conn();
        let mut out = vec![a.cmd_str(&["MULTI"]), a.cmd_str(&["SET", "k", "v"])];
        out.push(a.cmd_str(&["GET", "k"]));
        out.push(admin.cmd_str(&["CONFIG", "SET", "maxmemory", "1"]));
        // EXEC would run a denyoom command: refused, the transaction gone.
        out.push(a.cmd_str(&["EXEC"]));
        out.push(a.cmd_str(&["EXEC"]));
        // While out of memory, MULTI runs but nothing can be queued, even a
        // read; DISCARD still works.
        out.push(a.cmd_str(&["MULTI"]));
        out.push(a.cmd_str(&["GET", "k"]));
        out.push(a.cmd_str(&["EXEC"]));
        out.push(a.cmd_str(&["MULTI"]));
        out.push(a.cmd_str(&["DISCARD"]));
        // A read-only transaction queued before runs.
        out.push(admin.cmd_str(&["CONFIG", "SET", "maxmemory", "0"]));
        out.push(a.cmd_str(&["MULTI"]));
        out.push(a.cmd_str(&["GET", "k"]));
        out.push(admin.cmd_str(&["CONFIG", "SET", "maxmemory", "1"]));
        out.push(a.cmd_str(&["EXEC"]));
        out.push(admin.cmd_str(&["CONFIG", "SET", "maxmemory", "0"]));
        out.push(info_field(srv.port, "errorstat_EXECABORT").unwrap_or_default());
        let exec = info_field(srv.port, "cmdstat_exec").unwrap_or_default();
        let kept: Vec<&str> = exec.split(',').filter(|f| !f.starts_with("usec")).collect();
        out.push(kept.join(","));
        out
    });
}

#[test]
fn reset_and_disconnect_leave_no_transaction_or_watch_behind() {
    same_on_both(&[], |srv| {
        let mut a = srv.raw_conn();
        let mut b = srv.raw_conn();
        let mut out = vec![a.cmd_str(&["WATCH", "k"]), a.cmd_str(&["MULTI"])];
        out.push(a.cmd_str(&["SET", "k", "from-multi"]));
        out.push(a.cmd_str(&["RESET"]));
        out.push(b.cmd_str(&["SET", "k", "other"]));
        out.push(a.cmd_str(&["EXEC"]));
        out.push(a.cmd_str(&["MULTI"]));
        out.push(a.cmd_str(&["GET", "k"]));
        out.push(a.cmd_str(&["EXEC"]));
        // A watcher that goes away: writes to its keys still work, and the
        // others' watches are untouched by its departure.
        let mut gone = srv.raw_conn();
        out.push(gone.cmd_str(&["WATCH", "k"]));
        out.push(a.cmd_str(&["WATCH", "k"]));
        drop(gone);
        wait_for(10, "the client to go", || {
            // a, b and INFO's own connection.
            info_field(srv.port, "connected_clients") == Some("3".into())
        });
        out.push(a.cmd_str(&["MULTI"]));
        out.push(a.cmd_str(&["GET", "k"]));
        out.push(a.cmd_str(&["EXEC"]));
        out
    });
}

/// CLIENT LIST's fields that transactions change.
fn tx_fields(line: &str) -> String {
    line.split(' ')
        .filter(|f| {
            f.starts_with("flags=")
                || f.starts_with("multi=")
                || f.starts_with("multi-mem=")
                || f.starts_with("cmd=")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn client_list_shows_multi_and_dirty_cas_as_redis() {
    same_on_both(&[], |srv| {
        let mut a = srv.raw_conn();
        let mut b = srv.raw_conn();
        let mut out = Vec::new();
        let info = |a: &mut RawConn| tx_fields(&text(a.cmd(&[b"CLIENT", b"INFO"])));
        out.push(info(&mut a));
        a.cmd_str(&["WATCH", "k"]);
        b.cmd_str(&["SET", "k", "v"]);
        out.push(info(&mut a));
        a.cmd_str(&["MULTI"]);
        a.cmd_str(&["SET", "k", "12345"]);
        a.cmd_str(&["GET", "k"]);
        let list = text(b.cmd(&[b"CLIENT", b"LIST"]));
        out.extend(list.lines().map(tx_fields));
        out.push(a.cmd_str(&["EXEC"]));
        out.push(info(&mut a));
        // Inside EXEC: the queue is still counted, the command is EXEC.
        a.cmd_str(&["MULTI"]);
        a.cmd_str(&["SET", "k", "1"]);
        a.cmd_str(&["CLIENT", "INFO"]);
        let r = text(a.cmd(&[b"EXEC"]));
        out.push(tx_fields(r.lines().nth(3).unwrap_or_default()));
        out
    });
}

#[test]
fn monitor_slowlog_and_commandstats_count_a_transaction_as_redis() {
    same_on_both(&["--slowlog-log-slower-than", "0"], |srv| {
        let mut m = srv.raw_conn();
        let mut out = vec![m.cmd_str(&["MONITOR"])];
        let mut a = srv.raw_conn();
        a.cmd_str(&["CONFIG", "RESETSTAT"]);
        a.cmd_str(&["SLOWLOG", "RESET"]);
        a.cmd_str(&["MULTI"]);
        a.cmd_str(&["SET", "k", "v"]);
        a.cmd_str(&["INCR", "k"]);
        a.cmd_str(&["EXEC"]);
        a.cmd_str(&["MULTI"]);
        a.cmd_str(&["NOSUCH"]);
        a.cmd_str(&["EXEC"]);
        a.cmd_str(&["PING"]);
        // MONITOR: each line's command, without time and address.
        loop {
            let line = text(m.read_reply());
            let cmd = line
                .split("] ")
                .nth(1)
                .unwrap_or_default()
                .trim()
                .to_string();
            let done = cmd == "\"PING\"";
            out.push(cmd);
            if done {
                break;
            }
        }
        // SLOWLOG: the commands logged, newest first (EXEC is not).
        let log = text(a.cmd(&[b"SLOWLOG", b"GET", b"100"]));
        let names: Vec<&str> = log
            .split("\r\n")
            .filter(|l| {
                [
                    "multi", "set", "incr", "exec", "ping", "config", "slowlog", "MULTI", "SET",
                    "INCR", "EXEC", "PING", "CONFIG", "SLOWLOG",
                ]
                .contains(l)
            })
            .collect();
        out.push(names.join(","));
        for c in ["multi", "set", "incr", "exec", "nosuch"] {
            let s = info_field(srv.port, &format!("cmdstat_{c}")).unwrap_or_default();
            // Times differ; calls, rejected and failed must not.
            let kept: Vec<&str> = s.split(',').filter(|f| !f.starts_with("usec")).collect();
            out.push(format!("{c}: {}", kept.join(",")));
        }
        out.push(info_field(srv.port, "total_error_replies").unwrap_or_default());
        out
    });
}

fn incr_file(aof_dir: &Path) -> PathBuf {
    let mut files: Vec<PathBuf> = std::fs::read_dir(aof_dir)
        .expect("appendonlydir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".incr.aof"))
        .collect();
    files.sort();
    files.pop().expect("an incr file")
}

#[test]
fn a_transaction_reaches_the_aof_as_redis_writes_it() {
    let script: &[&[&str]] = &[
        // One write: the command alone.
        &["MULTI"],
        &["SET", "a", "1"],
        &["EXEC"],
        // Several: MULTI ... EXEC around the writes only.
        &["MULTI"],
        &["SET", "a", "2"],
        &["INCR", "a"],
        &["GET", "a"],
        &["EXEC"],
        // No write: nothing.
        &["MULTI"],
        &["GET", "a"],
        &["EXEC"],
        // SELECT inside: the AOF's SELECTs, MULTI in the first write's db.
        &["MULTI"],
        &["SELECT", "3"],
        &["SET", "x", "1"],
        &["SELECT", "0"],
        &["SET", "y", "2"],
        &["EXEC"],
        &["SELECT", "5"],
        &["MULTI"],
        &["SET", "z", "1"],
        &["SELECT", "6"],
        &["SET", "w", "1"],
        &["EXEC"],
        // Runtime errors: what succeeded is written.
        &["MULTI"],
        &["INCR", "a"],
        &["SET", "s", "str"],
        &["INCR", "s"],
        &["EXEC"],
        // Aborted ones write nothing.
        &["MULTI"],
        &["SET", "never", "1"],
        &["NOSUCH"],
        &["EXEC"],
        &["WATCH", "a"],
        &["SET", "a", "9"],
        &["MULTI"],
        &["SET", "never", "2"],
        &["EXEC"],
        &["DISCARD"],
        &["MULTI"],
        &["LPUSH", "l", "a", "b"],
        &["BLMOVE", "l", "m", "LEFT", "RIGHT", "0"],
        &["BLPOP", "empty", "0"],
        &["EXEC"],
    ];
    let mut files = Vec::new();
    for kind in [Kind::Redis, Kind::GoStore] {
        let srv = TestServer::start(kind, &["--appendonly", "yes", "--appendfsync", "always"]);
        let mut c = srv.raw_conn();
        for cmd in script {
            c.cmd_str(cmd);
        }
        files.push(std::fs::read(incr_file(&srv.path.join("appendonlydir"))).expect("read"));
    }
    assert_eq!(text(files.pop().unwrap()), text(files.pop().unwrap()));
}

#[test]
fn a_transaction_s_writes_are_acknowledged_only_once_all_are_in_the_aof() {
    let srv = TestServer::gostore(&["--appendfsync", "always"]);
    let mut c = srv.raw_conn();
    c.cmd_str(&["MULTI"]);
    c.cmd_str(&["SET", "a", "1"]);
    c.cmd_str(&["SET", "b", "2"]);
    assert_eq!(c.cmd_str(&["EXEC"]), "*2\r\n+OK\r\n+OK\r\n");
    // The reply left after the whole unit was written.
    let aof = text(std::fs::read(incr_file(&srv.path.join("appendonlydir"))).expect("read"));
    assert!(
        aof.ends_with("*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n*1\r\n$4\r\nEXEC\r\n"),
        "{aof:?}"
    );
}

const MANIFEST: &str =
    "file database.aof.1.base.aof seq 1 type b\nfile database.aof.1.incr.aof seq 1 type i\n";
const SET_A: &[u8] = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n";

fn dir_with_incr(content: &[u8]) -> TempDir {
    let dir = TempDir::new("torn-multi");
    let a = dir.path().join("appendonlydir");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::write(a.join("database.aof.manifest"), MANIFEST).unwrap();
    std::fs::write(a.join("database.aof.1.base.aof"), b"").unwrap();
    std::fs::write(a.join("database.aof.1.incr.aof"), content).unwrap();
    dir
}

#[test]
fn a_multi_torn_at_the_aof_tail_is_discarded_whole_as_redis_does() {
    let multi = b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n";
    for (tail, complete) in [
        // The crash came before EXEC: every command complete.
        (&multi[..], true),
        // ... or in the middle of one of them. Redis then cuts the file at
        // the last complete command, inside the MULTI (and reverts the
        // MULTI at its next start); GoStore cuts the MULTI off at once.
        // The data is the same.
        (
            &[&multi[..], &b"*3\r\n$3\r\nSET\r\n$1\r\nc"[..]].concat()[..],
            false,
        ),
    ] {
        let content = [SET_A, tail].concat();
        let mut seen = Vec::new();
        for kind in [Kind::Redis, Kind::GoStore] {
            let dir = dir_with_incr(&content);
            let path = dir.path().join("appendonlydir");
            if kind == Kind::Redis {
                // Redis names its files after appendfilename.
                for (from, to) in [
                    ("database.aof.1.base.aof", "appendonly.aof.1.base.aof"),
                    ("database.aof.1.incr.aof", "appendonly.aof.1.incr.aof"),
                ] {
                    std::fs::rename(path.join(from), path.join(to)).unwrap();
                }
                std::fs::write(
                    path.join("appendonly.aof.manifest"),
                    MANIFEST.replace("database.aof", "appendonly.aof"),
                )
                .unwrap();
                std::fs::remove_file(path.join("database.aof.manifest")).unwrap();
            }
            let log = dir.path().join("server.log");
            let log_arg = log.to_string_lossy().into_owned();
            let srv = TestServer::start_in(
                kind,
                dir.path(),
                &["--appendonly", "yes", "--logfile", &log_arg],
            );
            let mut c = srv.raw_conn();
            seen.push((
                c.cmd_str(&["GET", "a"]),
                c.cmd_str(&["EXISTS", "b"]),
                c.cmd_str(&["EXISTS", "c"]),
            ));
            // Both say why the tail went.
            let logged = std::fs::read_to_string(&log).unwrap_or_default();
            if complete || kind == Kind::GoStore {
                assert!(
                    logged.contains("Revert incomplete MULTI/EXEC transaction in AOF file"),
                    "{kind:?}: {logged}"
                );
            }
            if kind == Kind::GoStore {
                // The open MULTI was cut off the file.
                let len = std::fs::metadata(path.join("database.aof.1.incr.aof"))
                    .unwrap()
                    .len();
                assert_eq!(len, SET_A.len() as u64);
            }
            drop(srv);
            drop(dir);
        }
        assert_eq!(seen[1], seen[0]);
        assert_eq!(
            seen[1],
            ("$1\r\n1\r\n".into(), ":0\r\n".into(), ":0\r\n".into())
        );
    }
}

#[test]
fn a_complete_multi_in_the_aof_is_replayed() {
    let content = [
        SET_A,
        b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n*1\r\n$4\r\nEXEC\r\n",
    ]
    .concat();
    let dir = dir_with_incr(&content);
    let srv = TestServer::gostore_in(dir.path(), &[]);
    let mut c = srv.raw_conn();
    assert_eq!(c.cmd_str(&["GET", "b"]), "$1\r\n2\r\n");
}

#[test]
fn a_failing_aof_refuses_an_exec_that_writes_and_queuing_a_write() {
    // RLIMIT_FSIZE makes AOF writes past 64 KB fail, as a full disk would.
    let srv = TestServer::gostore_with_fsize_limit(64 * 1024, &[]);
    let mut tx = srv.raw_conn();
    let mut ro = srv.raw_conn();
    assert_eq!(tx.cmd_str(&["MULTI"]), "+OK\r\n");
    assert_eq!(tx.cmd_str(&["SET", "t", "1"]), "+QUEUED\r\n");
    assert_eq!(ro.cmd_str(&["MULTI"]), "+OK\r\n");
    assert_eq!(ro.cmd_str(&["GET", "k0"]), "+QUEUED\r\n");
    // Fill until a write is not acknowledged: its AOF write failed.
    let value = "x".repeat(1000);
    let mut writer = srv.raw_conn();
    writer
        .stream
        .set_read_timeout(Some(std::time::Duration::from_millis(500)))
        .unwrap();
    let mut failed = false;
    for i in 0..200 {
        let k = format!("k{i}");
        if writer
            .try_cmd(&[b"SET", k.as_bytes(), value.as_bytes()])
            .is_err()
        {
            failed = true;
            break;
        }
    }
    assert!(failed, "a write past the limit must fail");
    let misconf = "MISCONF Errors writing to the AOF file: File too large";
    // EXEC counts as the write it queued: refused, the transaction gone.
    assert_eq!(
        tx.cmd_str(&["EXEC"]),
        format!("-EXECABORT Transaction discarded because of: {misconf}\r\n")
    );
    assert_eq!(tx.cmd_str(&["EXEC"]), "-ERR EXEC without MULTI\r\n");
    // A read-only transaction runs.
    assert_eq!(ro.cmd_str(&["EXEC"]), format!("*1\r\n$1000\r\n{value}\r\n"));
    // A write cannot be queued; the transaction then aborts.
    assert_eq!(tx.cmd_str(&["MULTI"]), "+OK\r\n");
    assert_eq!(tx.cmd_str(&["SET", "t", "2"]), format!("-{misconf}\r\n"));
    assert_eq!(tx.cmd_str(&["GET", "k0"]), "+QUEUED\r\n");
    assert_eq!(
        tx.cmd_str(&["EXEC"]),
        "-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
}
