//! Lists beyond the differential corpus: what the AOF receives (Redis's
//! propagation: LMPOP as LPOP/RPOP with a count, pops that change nothing
//! not written), big lists freed on the lazyfree thread, and the two list
//! directives against redis-server.

mod common;

use common::resp::RawConn;
use common::{wait_for, TestServer};

/// The commands in the AOF's incr file of a server, as text.
fn incr_aof(srv: &TestServer) -> String {
    let dir = srv.path.join("appendonlydir");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return String::new();
    };
    let mut out = String::new();
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".incr.aof") {
            out.push_str(&String::from_utf8_lossy(
                &std::fs::read(e.path()).unwrap_or_default(),
            ));
        }
    }
    out
}

#[test]
fn the_aof_gets_what_redis_propagates_for_list_commands() {
    let g = TestServer::gostore(&[]);
    let r = TestServer::redis(&["--appendonly", "yes"]);
    let script: &[&[&str]] = &[
        &["RPUSH", "l", "a", "b", "c", "d", "e"],
        &["LPUSH", "l", "z"],
        &["LPUSHX", "nolist", "x"],
        &["LPOP", "l"],
        &["RPOP", "l", "2"],
        &["LPOP", "l", "0"],
        &["LPOP", "nolist", "3"],
        &["LMPOP", "2", "nolist", "l", "LEFT", "COUNT", "1"],
        &["LMPOP", "1", "l", "RIGHT", "COUNT", "100"],
        &["LMPOP", "1", "l", "RIGHT"],
        &["RPUSH", "l", "1", "2", "3", "2"],
        &["LSET", "l", "0", "one"],
        &["LSET", "l", "99", "x"],
        &["LINSERT", "l", "AFTER", "one", "1.5"],
        &["LINSERT", "l", "AFTER", "missing", "x"],
        &["LREM", "l", "0", "2"],
        &["LREM", "l", "0", "missing"],
        &["LTRIM", "l", "0", "-1"],
        &["LTRIM", "l", "1", "-1"],
        &["RPOPLPUSH", "l", "m"],
        &["LMOVE", "m", "l", "LEFT", "RIGHT"],
        &["LMOVE", "nolist", "l", "LEFT", "RIGHT"],
        &["SET", "end", "1"],
    ];
    let mut gc = g.raw_conn();
    let mut rc = r.raw_conn();
    for cmd in script {
        assert_eq!(gc.cmd_str(cmd), rc.cmd_str(cmd), "{cmd:?}");
    }
    wait_for(10, "both AOFs to have the last command", || {
        incr_aof(&g).contains("$3\r\nend\r\n") && incr_aof(&r).contains("$3\r\nend\r\n")
    });
    let (ga, ra) = (incr_aof(&g), incr_aof(&r));
    assert_eq!(ga, ra);
    // What makes these equal is not trivial: LMPOP is written as pops.
    assert!(!ga.contains("LMPOP"));
    assert!(
        ga.contains("*3\r\n$4\r\nLPOP\r\n$1\r\nl\r\n$1\r\n1\r\n"),
        "{ga}"
    );
    // RPOP l 2, then LMPOP ... COUNT 100 on the 2 left: RPOP l 2 again.
    assert_eq!(
        ga.matches("*3\r\n$4\r\nRPOP\r\n$1\r\nl\r\n$1\r\n2\r\n")
            .count(),
        2,
        "{ga}"
    );
}

#[test]
fn unlink_frees_a_big_list_on_the_helper_thread() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    let lazyfreed = |c: &mut RawConn| -> u64 {
        let info = c.cmd_str(&["INFO", "memory"]);
        info.lines()
            .find_map(|l| l.strip_prefix("lazyfreed_objects:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("lazyfreed_objects in INFO")
    };
    // 200k small elements: hundreds of quicklist nodes in Redis (its free
    // effort is the node count, over LAZYFREE_THRESHOLD).
    let mut argv: Vec<Vec<u8>> = vec![b"RPUSH".to_vec(), b"big".to_vec()];
    argv.extend((0..200_000).map(|i| format!("element{i}").into_bytes()));
    let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
    assert_eq!(c.cmd(&refs), b":200000\r\n");
    c.cmd_str(&["RPUSH", "small", "a", "b"]);
    assert_eq!(c.cmd_str(&["UNLINK", "small"]), ":1\r\n");
    assert_eq!(lazyfreed(&mut c), 0, "small lists are freed in place");
    assert_eq!(c.cmd_str(&["UNLINK", "big"]), ":1\r\n");
    assert_eq!(c.cmd_str(&["EXISTS", "big"]), ":0\r\n");
    wait_for(10, "the helper thread to free the list", || {
        lazyfreed(&mut c) == 1
    });
    // DEL frees in place.
    c.cmd(&refs);
    assert_eq!(c.cmd_str(&["DEL", "big"]), ":1\r\n");
    assert_eq!(lazyfreed(&mut c), 1);
}

#[test]
fn list_directives_read_and_check_as_redis() {
    let g = TestServer::gostore(&[]);
    let r = TestServer::redis(&[]);
    let mut gc = g.raw_conn();
    let mut rc = r.raw_conn();
    for cmd in [
        &["CONFIG", "GET", "list-max-listpack-size"][..],
        &["CONFIG", "GET", "list-max-ziplist-size"],
        &["CONFIG", "GET", "list-compress-depth"],
        &["CONFIG", "SET", "list-max-ziplist-size", "-5"],
        &["CONFIG", "GET", "list-max-listpack-size"],
        &["CONFIG", "SET", "list-max-listpack-size", "128"],
        &["CONFIG", "SET", "list-max-listpack-size", "-2147483648"],
        &["CONFIG", "SET", "list-max-listpack-size", "2147483648"],
        &["CONFIG", "SET", "list-max-listpack-size", "abc"],
        &["CONFIG", "GET", "list-max-listpack-size"],
        &["CONFIG", "SET", "list-compress-depth", "1"],
        &["CONFIG", "SET", "list-compress-depth", "-1"],
        &["CONFIG", "SET", "list-compress-depth", "2147483648"],
        &["CONFIG", "GET", "list-compress-depth"],
        &["RPUSH", "l", "a", "b", "c"],
        &["LRANGE", "l", "0", "-1"],
    ] {
        assert_eq!(gc.cmd_str(cmd), rc.cmd_str(cmd), "{cmd:?}");
    }
}
