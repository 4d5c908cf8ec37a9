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

/// Runs the busy-script scenario against one server; returns its
/// transcript (every reply, in order).
fn busy_transcript(s: &mut TestServer) -> Vec<String> {
    let port = s.port;
    let mut out = Vec::new();
    let send = |c: &mut common::resp::RawConn, args: &[&str]| {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        c.send(&common::resp::encode(&a));
    };
    // Waits until another client is answered -BUSY: the script is running
    // and past the threshold.
    let wait_busy = |expected_prefix: &str| {
        let mut b = common::resp::RawConn::connect(port);
        common::wait_for(20, "the busy reply", || {
            b.cmd_str(&["PING"]).starts_with(expected_prefix)
        });
        b
    };
    // 1. An endless EVAL: others get -BUSY; SCRIPT KILL (from a connection
    //    made while the script runs) stops it.
    let mut a = common::resp::RawConn::connect(port);
    send(&mut a, &["EVAL", "while true do end", "0"]);
    let mut b = wait_busy("-BUSY");
    for cmd in [
        &["PING"][..],
        &["GET", "x"],
        &["FUNCTION", "KILL"],
        &["FUNCTION", "STATS"],
        &["SHUTDOWN"],
    ] {
        out.push(b.cmd_str(cmd));
    }
    let mut k = common::resp::RawConn::connect(port);
    out.push(k.cmd_str(&["SCRIPT", "KILL"]));
    out.push(String::from_utf8_lossy(&a.read_reply()).into_owned());
    out.push(b.cmd_str(&["SCRIPT", "KILL"]));
    out.push(b.cmd_str(&["PING"]));
    // 2. A function: the FUNCTION variant of -BUSY; FUNCTION KILL.
    let lib =
        "#!lua name=busylib\nredis.register_function('spin', function() while true do end end)";
    out.push(b.cmd_str(&["FUNCTION", "LOAD", lib]));
    send(&mut a, &["FCALL", "spin", "0"]);
    let mut b = wait_busy("-BUSY");
    out.push(b.cmd_str(&["PING"]));
    out.push(b.cmd_str(&["SCRIPT", "KILL"]));
    out.push(b.cmd_str(&["FUNCTION", "KILL"]));
    out.push(String::from_utf8_lossy(&a.read_reply()).into_owned());
    // 3. A script that wrote cannot be killed; SHUTDOWN NOSAVE ends the
    //    server.
    send(
        &mut a,
        &["EVAL", "redis.call('set', 'x', '1') while true do end", "0"],
    );
    let mut b = wait_busy("-BUSY");
    out.push(b.cmd_str(&["SCRIPT", "KILL"]));
    send(&mut b, &["SHUTDOWN", "NOSAVE"]);
    assert!(b.read_to_close().is_empty(), "SHUTDOWN NOSAVE replied");
    assert_eq!(s.wait(), Some(0), "the server did not exit");
    out
}

#[test]
fn busy_scripts_answer_busy_can_be_killed_and_shutdown_nosave_ends_them() {
    let mut g = TestServer::gostore(&["--busy-reply-threshold", "50"]);
    let mut r = TestServer::redis(&["--lua-time-limit", "50"]);
    let gt = busy_transcript(&mut g);
    let rt = busy_transcript(&mut r);
    assert_eq!(gt, rt, "GoStore's transcript differs from Redis's");
    let busy = "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n";
    assert_eq!(gt[0], busy);
    assert_eq!(gt[5], "+OK\r\n");
    assert!(
        gt[6].starts_with("-ERR Script killed by user with SCRIPT KILL..."),
        "{}",
        gt[6]
    );
    assert_eq!(gt[7], "-NOTBUSY No scripts in execution right now.\r\n");
    assert!(gt[10].starts_with("-BUSY") && gt[10].contains("FUNCTION KILL"));
    assert!(gt.last().is_some_and(|l| l.starts_with("-UNKILLABLE")));
}

#[test]
fn function_libraries_survive_an_aof_rewrite_and_a_restart() {
    let dir = TempDir::new("lua-fn-rw");
    let mut g = TestServer::gostore_in(dir.path(), &[]);
    let code =
        "#!lua name=rwlib\nredis.register_function('hello', function(k, a) return 'hi ' .. a[1] end)";
    let mut c = g.raw_conn();
    assert_eq!(c.cmd_str(&["FUNCTION", "LOAD", code]), "$5\r\nrwlib\r\n");
    assert_eq!(c.cmd_str(&["SET", "k", "v"]), "+OK\r\n");
    c.cmd_str(&["BGREWRITEAOF"]);
    common::wait_for_rewrites(g.port, 1);
    // The new base starts with the library, as Redis's rewrite writes it.
    let manifest = std::fs::read_to_string(dir.path().join("appendonlydir/database.aof.manifest"))
        .expect("manifest");
    let base_name = manifest
        .lines()
        .find(|l| l.contains("type b"))
        .and_then(|l| l.split_whitespace().nth(1))
        .expect("a base in the manifest")
        .to_string();
    let base = std::fs::read(dir.path().join("appendonlydir").join(&base_name)).expect("base");
    let load = format!(
        "*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n${}\r\n{}\r\n",
        code.len(),
        code
    );
    assert!(
        base.starts_with(load.as_bytes()),
        "the base does not start with the FUNCTION LOAD: {}",
        String::from_utf8_lossy(&base)
    );
    assert_eq!(g.sigterm(), Some(0));
    g.restart();
    assert_eq!(
        g.raw_conn().cmd_str(&["FCALL", "hello", "0", "you"]),
        "$6\r\nhi you\r\n"
    );
    assert_eq!(g.sigterm(), Some(0));
    // Redis loads the rewritten directory, library included.
    let r = TestServer::start_in(Kind::Redis, dir.path(), AOF_ARGS);
    assert_eq!(
        r.raw_conn().cmd_str(&["FCALL", "hello", "0", "you"]),
        "$6\r\nhi you\r\n"
    );
    assert_eq!(r.raw_conn().cmd_str(&["GET", "k"]), "$1\r\nv\r\n");
}

/// `used_memory` from INFO, over the connection `c`.
fn used_memory(c: &mut common::resp::RawConn) -> i64 {
    let info = c.cmd_str(&["INFO", "memory"]);
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("INFO memory has used_memory")
}

#[test]
fn a_script_that_moved_a_big_value_gives_its_buffers_back() {
    // The script's argument and reply buffers are kept between runs, so
    // that small commands cost no allocation; one grown by a big value must
    // not hold that memory after the run.
    let g = TestServer::gostore(&["--appendonly", "no"]);
    let mut c = g.raw_conn();
    c.cmd_str(&[
        "EVAL",
        "return redis.call('set', KEYS[1], 'small')",
        "1",
        "k",
    ]);
    // The same value set by a client first: what the server keeps of it
    // outside scripting (propagation buffers) is in the baseline.
    let value = "x".repeat(4_000_000);
    c.cmd_str(&["SET", "big", &value]);
    c.cmd_str(&["DEL", "big", "k"]);
    // SCRIPT FLUSH runs a full Lua collection: Lua's garbage is gone at
    // each measure.
    c.cmd_str(&["SCRIPT", "FLUSH"]);
    let before = used_memory(&mut c);
    let script = "redis.call('set', KEYS[1], string.rep('x', 4000000)) \
                  return #redis.call('get', KEYS[1])";
    assert_eq!(c.cmd_str(&["EVAL", script, "1", "big"]), ":4000000\r\n");
    c.cmd_str(&["DEL", "big"]);
    c.cmd_str(&["SCRIPT", "FLUSH"]);
    let after = used_memory(&mut c);
    // Kept, the two buffers would hold 8 MB; Lua's own tables may grow a
    // little.
    assert!(
        after - before < 3_000_000,
        "used_memory grew by {} bytes after the big value was deleted",
        after - before
    );
}
