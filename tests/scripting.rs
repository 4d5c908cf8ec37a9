//! Scripts and functions beyond single replies (those are in
//! tests/corpus/scripting.txt): what a script writes reaches the AOF as
//! its effects in one MULTI/EXEC, byte for byte as Redis 7.0 writes them,
//! and function libraries come back after a restart.

mod common;

use common::{Kind, TempDir, TestServer};

const AOF_ARGS: &[&str] = &[
    "--appendonly",
    "yes",
    "--appendfilename",
    "database.aof",
    "--appenddirname",
    "appendonlydir",
    "--aof-use-rdb-preamble",
    "no",
];

const SCRIPT: &str = "redis.call('set', KEYS[1], '1') redis.call('incr', KEYS[1]) \
                      redis.call('get', KEYS[1]) return redis.call('rpush', KEYS[2], ARGV[1])";

fn incr_log(dir: &std::path::Path) -> Vec<u8> {
    std::fs::read(dir.join("appendonlydir/database.aof.1.incr.aof")).expect("incr file")
}

#[test]
fn script_effects_reach_the_aof_as_one_multi_exec_as_redis_writes_them() {
    let gdir = TempDir::new("lua-aof-g");
    let rdir = TempDir::new("lua-aof-r");
    let mut g = TestServer::gostore_in(gdir.path(), &[]);
    let mut r = TestServer::start_in(Kind::Redis, rdir.path(), AOF_ARGS);
    for s in [&g, &r] {
        let mut c = s.raw_conn();
        assert_eq!(c.cmd_str(&["EVAL", SCRIPT, "2", "k", "l", "x"]), ":1\r\n");
        // A script that writes nothing adds nothing.
        c.cmd_str(&["EVAL", "return redis.call('get', KEYS[1])", "1", "k"]);
    }
    assert_eq!(g.sigterm(), Some(0));
    assert_eq!(r.sigterm(), Some(0));
    let (gl, rl) = (incr_log(gdir.path()), incr_log(rdir.path()));
    assert!(
        !gl.windows(4).any(|w| w.eq_ignore_ascii_case(b"EVAL")),
        "the EVAL itself was written: {}",
        String::from_utf8_lossy(&gl)
    );
    assert_eq!(
        String::from_utf8_lossy(&gl),
        String::from_utf8_lossy(&rl),
        "GoStore's incr log differs from Redis's"
    );
}

#[test]
fn function_libraries_are_logged_and_come_back_after_a_restart() {
    let dir = TempDir::new("lua-fn");
    let mut g = TestServer::gostore_in(dir.path(), &[]);
    let code =
        "#!lua name=lib\nredis.register_function('hello', function(k, a) return 'hi ' .. a[1] end)";
    let mut c = g.raw_conn();
    assert_eq!(c.cmd_str(&["FUNCTION", "LOAD", code]), "$3\r\nlib\r\n");
    assert_eq!(g.sigterm(), Some(0));
    // Redis loads GoStore's log with the library in it.
    let mut r = TestServer::start_in(Kind::Redis, dir.path(), AOF_ARGS);
    assert_eq!(
        r.raw_conn().cmd_str(&["FCALL", "hello", "0", "you"]),
        "$6\r\nhi you\r\n"
    );
    assert_eq!(r.sigterm(), Some(0));
    g.restart();
    assert_eq!(
        g.raw_conn().cmd_str(&["FCALL", "hello", "0", "you"]),
        "$6\r\nhi you\r\n"
    );
}
