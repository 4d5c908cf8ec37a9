//! gostore-cli end to end, against a real server process.
//!
//! - Differential: a corpus of commands covering every reply type of RESP2
//!   and RESP3 goes through `redis-cli` (7.0, the oracle) and `gostore-cli`
//!   against the same server; stdout, stderr and exit status must be equal
//!   byte for byte, piped (raw, `--no-raw`, `--csv`, `-e`, `-d/-D`) and on a
//!   pseudo-terminal (human format, `--raw`).
//! - Interactive sessions on a pseudo-terminal: prompt, history, completion,
//!   hints, quoting, a server killed and restarted, Ctrl-C, Ctrl-D.
//! - `--pipe` with 100k commands, `-r`/`-i`, `-x`/`-X`, URIs, bad flags,
//!   `--scan`, `--stat`, `--latency`, SUBSCRIBE.
//!
//! Every wait is on a condition (output seen, PING answered) with a
//! deadline; nothing sleeps for a fixed time.

mod cli_support;
mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use cli_support::{find, run_on_pty, run_piped, Pty, ServerSpec, TempDir, TestServer};

/// The server these tests run the CLI against: redis-server 7.0 for now.
/// Set `GOSTORE_CLI_TEST_SERVER=gostore` to run them against GoStore.
fn server_under_test() -> ServerSpec {
    match std::env::var("GOSTORE_CLI_TEST_SERVER").as_deref() {
        Ok("gostore") => ServerSpec {
            program: PathBuf::from(env!("CARGO_BIN_EXE_gostore")),
            args: |port, dir| {
                vec![
                    "--port".into(),
                    port.to_string(),
                    "--dir".into(),
                    dir.display().to_string(),
                    "--appendonly".into(),
                    "no".into(),
                ]
            },
        },
        _ => ServerSpec {
            program: PathBuf::from("redis-server"),
            args: |port, dir| {
                vec![
                    "--port".into(),
                    port.to_string(),
                    "--dir".into(),
                    dir.display().to_string(),
                    "--save".into(),
                    String::new(),
                    "--appendonly".into(),
                    "no".into(),
                    "--enable-debug-command".into(),
                    "yes".into(),
                ]
            },
        },
    }
}

/// The client under test.
fn cli() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gostore-cli"))
}

/// The oracle.
fn redis_cli() -> PathBuf {
    PathBuf::from("redis-cli")
}

fn words(v: &[&str]) -> Vec<Vec<u8>> {
    v.iter().map(|s| s.as_bytes().to_vec()).collect()
}

fn refs(v: &[Vec<u8>]) -> Vec<&[u8]> {
    v.iter().map(Vec::as_slice).collect()
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Keys every differential command reads; nothing in the corpus changes them.
fn load_fixture(srv: &TestServer) {
    let mut c = srv.client();
    let mut run = |args: &[&[u8]]| {
        let mut cmd = redis::cmd(std::str::from_utf8(args[0]).unwrap_or("PING"));
        for a in &args[1..] {
            cmd.arg(*a);
        }
        cmd.query::<redis::Value>(&mut c).expect("fixture command");
    };
    run(&[b"SET", b"str", b"hello"]);
    run(&[b"SET", b"bin", b"a\x00b\xff\n\t\"q\\ \x7f"]);
    run(&[b"SET", b"num", b"42"]);
    run(&[
        b"RPUSH", b"list", b"a", b"b", b"c", b"d", b"e", b"f", b"g", b"h", b"i", b"j", b"k", b"l",
    ]);
    run(&[b"HSET", b"h", b"f1", b"v1", b"f2", b"v2"]);
    run(&[b"SADD", b"si", b"1", b"2", b"3"]);
    run(&[b"ZADD", b"z", b"1", b"a", b"2.5", b"b"]);
    run(&[b"XADD", b"stream", b"1-1", b"f", b"v", b"g", b"w"]);
    run(&[b"XADD", b"stream", b"2-1", b"f", b"x"]);
}

/// Commands whose output must match redis-cli's in RESP2 and RESP3.
const CORPUS: &[&[&str]] = &[
    &["PING"],
    &["PING", "hi there"],
    &["ECHO", ""],
    &["GET", "str"],
    &["GET", "bin"],
    &["GET", "nokey"],
    &["MGET", "str", "nokey", "bin"],
    &["STRLEN", "str"],
    &["INCRBY", "num", "0"],
    &["EXISTS", "str", "nokey"],
    &["TYPE", "list"],
    &["OBJECT", "ENCODING", "list"],
    &["INCR", "str"],
    &["LPUSH", "str", "x"],
    &["NOSUCHCMD", "a b"],
    &["SET", "k"],
    &["SELECT", "99"],
    &["LRANGE", "list", "0", "-1"],
    &["LRANGE", "nokey", "0", "-1"],
    &["HGETALL", "h"],
    &["HGETALL", "nokey"],
    &["HMGET", "h", "f1", "nofield"],
    &["SMEMBERS", "si"],
    &["SMEMBERS", "nokey"],
    &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    &["ZSCORE", "z", "b"],
    &["ZSCORE", "z", "nomember"],
    &["ZINCRBY", "z", "0", "a"],
    &["XRANGE", "stream", "-", "+"],
    &["BLPOP", "nokey", "0.01"],
    &["CONFIG", "GET", "maxmemory-policy"],
    &["COMMAND", "INFO", "get"],
    &["COMMAND", "DOCS", "get"],
    &["INFO", "keyspace"],
    &["EVAL", "return {1,{2,{3,{}}},'x'}", "0"],
    &["EVAL", "local t={} for i=1,120 do t[i]=i end return t", "0"],
    &["EVAL", "return {err='ERR custom failure'}", "0"],
    &["EVAL", "return {ok='FINE'}", "0"],
    &["EVAL", "return {double=3.25}", "0"],
    &["EVAL", "redis.setresp(3) return true", "0"],
    &["EVAL", "redis.setresp(3) return false", "0"],
    &["EVAL", "return {map={k={1,{2,3}}}}", "0"],
    &["EVAL", "return {map={a='b'}}", "0"],
    &["EVAL", "return {set={x=true}}", "0"],
    &["EVAL", "return {{map={}},{set={}},{}}", "0"],
    &[
        "EVAL",
        "return {verbatim_string={format='txt',string='hello\\nworld'}}",
        "0",
    ],
    &["DEBUG", "PROTOCOL", "string"],
    &["DEBUG", "PROTOCOL", "integer"],
    &["DEBUG", "PROTOCOL", "double"],
    &["DEBUG", "PROTOCOL", "null"],
    &["DEBUG", "PROTOCOL", "array"],
    &["DEBUG", "PROTOCOL", "set"],
    &["DEBUG", "PROTOCOL", "map"],
    &["DEBUG", "PROTOCOL", "verbatim"],
    &["DEBUG", "PROTOCOL", "true"],
    &["DEBUG", "PROTOCOL", "false"],
    &["DEBUG", "PROTOCOL", "push"],
    &["DEBUG", "PROTOCOL", "attrib"],
];

/// Big numbers: redis-cli 7.0 cannot print them in RESP3 (it exits with
/// "Unknown reply type: 13"); in RESP2 they are bulk strings.
const RESP2_ONLY: &[&[&str]] = &[
    &["EVAL", "return {big_number='1234567890123456789012'}", "0"],
    &["DEBUG", "PROTOCOL", "bignum"],
];

fn corpus(proto: &str) -> Vec<Vec<Vec<u8>>> {
    let extra = if proto == "-2" { RESP2_ONLY } else { &[] };
    CORPUS.iter().chain(extra).map(|c| words(c)).collect()
}

fn base_args(srv: &TestServer, proto: &str, mode: &[&str]) -> Vec<Vec<u8>> {
    let mut v = words(&["-p", &srv.port.to_string(), proto]);
    v.extend(words(mode));
    v
}

#[test]
fn replies_match_redis_cli_byte_for_byte_when_piped() {
    let srv = TestServer::start(&server_under_test());
    load_fixture(&srv);
    let modes: &[&[&str]] = &[
        &[],
        &["--no-raw"],
        &["--csv"],
        &["-e"],
        &["-d", "|", "-D", "##\n"],
    ];
    let mut failures = Vec::new();
    for proto in ["-2", "-3"] {
        for mode in modes {
            for cmd in corpus(proto) {
                let mut args = base_args(&srv, proto, mode);
                args.extend(cmd.iter().cloned());
                let want = run_piped(&redis_cli(), &refs(&args), b"", &[]);
                let got = run_piped(&cli(), &refs(&args), b"", &[]);
                if want != got {
                    failures.push(format!(
                        "{proto} {mode:?} {:?}\n  redis-cli:   {:?} {:?} {:?}\n  gostore-cli: {:?} {:?} {:?}",
                        cmd.iter().map(|w| show(w)).collect::<Vec<_>>(),
                        show(&want.stdout),
                        show(&want.stderr),
                        want.code,
                        show(&got.stdout),
                        show(&got.stderr),
                        got.code
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn replies_match_redis_cli_byte_for_byte_on_a_terminal() {
    let srv = TestServer::start(&server_under_test());
    load_fixture(&srv);
    let mut failures = Vec::new();
    for proto in ["-2", "-3"] {
        for mode in [&[][..], &["--raw"][..]] {
            for cmd in corpus(proto) {
                let mut args = base_args(&srv, proto, mode);
                args.extend(cmd.iter().cloned());
                let want = run_on_pty(&redis_cli(), &refs(&args), &[]);
                let got = run_on_pty(&cli(), &refs(&args), &[]);
                if want != got {
                    failures.push(format!(
                        "{proto} {mode:?} {:?}\n  redis-cli:   {:?}\n  gostore-cli: {:?}",
                        cmd.iter().map(|w| show(w)).collect::<Vec<_>>(),
                        (show(&want.0), want.1),
                        (show(&got.0), got.1)
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn big_numbers_print_as_redis_cli_7_2_prints_them() {
    let srv = TestServer::start(&server_under_test());
    let port = srv.port.to_string();
    let script = "return {big_number='1234567890123456789012'}";
    let (out, code) = run_on_pty(
        &cli(),
        &refs(&words(&["-p", &port, "-3", "EVAL", script, "0"])),
        &[],
    );
    assert_eq!(
        (show(&out), code),
        (
            "(big number) 1234567890123456789012\r\n".to_string(),
            Some(0)
        )
    );
    let raw = run_piped(
        &cli(),
        &refs(&words(&["-p", &port, "-3", "EVAL", script, "0"])),
        b"",
        &[],
    );
    assert_eq!(raw.text(), "1234567890123456789012\n");
}

#[test]
fn help_from_command_docs_matches_redis_cli() {
    let srv = TestServer::start(&server_under_test());
    let port = srv.port.to_string();
    for topic in [
        &["help", "@string"][..],
        &["help", "@hash"],
        &["help", "config"],
        &["help", "GET"],
    ] {
        let mut args = words(&["-p", &port]);
        args.extend(words(topic));
        let want = run_piped(&redis_cli(), &refs(&args), b"", &[]);
        let got = run_piped(&cli(), &refs(&args), b"", &[]);
        assert_eq!(show(&got.stdout), show(&want.stdout), "{topic:?}");
    }
}

#[test]
fn help_for_a_topic_the_server_does_not_know_says_so() {
    // redis-cli 7.0 prints a blank line here; gostore-cli says why there is
    // no help (docs/cli.md lists the difference). CLUSTER is a Redis command
    // that GoStore lacks, so its COMMAND DOCS has no entry for it.
    let srv = TestServer::start(&gostore_spec());
    let port = srv.port.to_string();
    for (topic, want) in [
        (
            &["help", "CLUSTER"][..],
            "\r\n  No help for 'CLUSTER': the server has no such command\r\n\r\n",
        ),
        (
            &["help", "nosuchcmd"],
            "\r\n  No help for 'nosuchcmd': the server has no such command\r\n\r\n",
        ),
        (
            &["help", "CONFIG", "nosuch"],
            "\r\n  No help for 'CONFIG nosuch': the server has no such command\r\n\r\n",
        ),
        (
            &["help", "@cluster"],
            "\r\n  No help for '@cluster': the server has no such command group\r\n\r\n",
        ),
    ] {
        let mut args = words(&["-p", &port]);
        args.extend(words(topic));
        let got = run_piped(&cli(), &refs(&args), b"", &[]);
        assert_eq!((show(&got.stdout), got.code), (want.to_string(), Some(0)));
    }
    // A known topic still prints its entry, not the message.
    let got = run_piped(
        &cli(),
        &refs(&words(&["-p", &port, "help", "hset"])),
        b"",
        &[],
    );
    assert!(got
        .text()
        .contains("summary:\x1b[0m Set the string value of a hash field"));
    assert!(!got.text().contains("No help"), "{}", got.text());

    // No server to ask: no help, and the reason.
    let closed = TcpListenerPort::closed();
    let got = run_piped(
        &cli(),
        &refs(&words(&["-p", &closed, "help", "GET"])),
        b"",
        &[],
    );
    assert_eq!(
        show(&got.stdout),
        "\r\n  No help: the server could not be reached, or did not answer COMMAND DOCS\r\n\r\n"
    );

    // In the REPL too.
    let home = TempDir::new("home");
    let mut t = repl(srv.port, home.path(), &[]);
    t.expect("> ");
    t.send("help cluster\r");
    t.expect("No help for 'cluster': the server has no such command");
}

/// The commands each `gostore-cli` invocation in `text` sends: the first
/// word after the flags, or the command a mode uses (`--scan`: SCAN).
fn commands_in_examples(text: &str) -> Vec<String> {
    // Flags that take a value (the rest take none).
    const WITH_VALUE: &[&str] = &[
        "-h",
        "-p",
        "-s",
        "-a",
        "-u",
        "-r",
        "-i",
        "-n",
        "-d",
        "-D",
        "-X",
        "--user",
        "--pass",
        "--pattern",
        "--quoted-pattern",
        "--count",
        "--pipe-timeout",
        "--show-pushes",
    ];
    let mut found = Vec::new();
    for line in text.lines() {
        // Shell words, quotes removed; `|`, `&&`, `<`, `>` end an invocation.
        let mut toks: Vec<String> = Vec::new();
        let mut cur = String::new();
        let mut quote = None;
        let mut in_word = false;
        for ch in line.trim().chars() {
            match (quote, ch) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), c) => cur.push(c),
                (None, '\'' | '"') => {
                    quote = Some(ch);
                    in_word = true;
                }
                (None, ' ') => {
                    if in_word {
                        toks.push(std::mem::take(&mut cur));
                        in_word = false;
                    }
                }
                (None, c) => {
                    cur.push(c);
                    in_word = true;
                }
            }
        }
        if in_word {
            toks.push(cur);
        }
        let mut i = 0;
        while i < toks.len() {
            if toks[i] != "gostore-cli" {
                i += 1;
                continue;
            }
            i += 1;
            let mut cmd = None;
            while i < toks.len() && !["|", "&&", "<", ">"].contains(&toks[i].as_str()) {
                let t = toks[i].as_str();
                if cmd.is_none() {
                    if WITH_VALUE.contains(&t) {
                        i += 1;
                    } else if t == "--scan" {
                        cmd = Some("SCAN".to_string());
                    } else if t == "--stat" {
                        cmd = Some("INFO".to_string());
                    } else if t == "--latency" || t == "--latency-history" {
                        cmd = Some("PING".to_string());
                    } else if !t.starts_with('-') {
                        cmd = Some(t.to_uppercase());
                    }
                }
                i += 1;
            }
            found.extend(cmd);
        }
    }
    found
}

#[test]
fn help_examples_use_only_commands_gostore_implements() {
    let h = run_piped(&cli(), &[b"--help"], b"", &[]);
    let text = h.text();
    let examples = text
        .split_once("\nExamples:\n")
        .map(|(_, rest)| rest.split("\n\n").next().unwrap_or_default())
        .expect("--help has an Examples section");
    let cmds = commands_in_examples(examples);
    assert!(
        cmds.len() >= 6,
        "too few example commands found in:\n{examples}\n{cmds:?}"
    );
    let srv = TestServer::start(&gostore_spec());
    let mut c = srv.client();
    for cmd in cmds {
        let info: redis::Value = redis::cmd("COMMAND")
            .arg("INFO")
            .arg(&cmd)
            .query(&mut c)
            .expect("COMMAND INFO");
        let known = match &info {
            redis::Value::Array(v) => v.len() == 1 && v[0] != redis::Value::Nil,
            _ => false,
        };
        assert!(
            known,
            "--help shows `{cmd}`, which GoStore lacks:\n{examples}"
        );
    }
}

#[test]
fn rediss_uris_are_refused_for_want_of_tls_support() {
    for uri in ["rediss://127.0.0.1:6379", "REDISS://:pw@localhost/2"] {
        let got = run_piped(&cli(), &refs(&words(&["-u", uri, "PING"])), b"", &[]);
        assert_eq!(
            (show(&got.stdout), show(&got.stderr), got.code),
            (
                String::new(),
                "rediss:// is not supported: gostore-cli has no TLS support\n".to_string(),
                Some(1)
            ),
            "{uri}"
        );
    }
}

#[test]
fn one_shot_errors_and_exit_codes_match_redis_cli() {
    let srv = TestServer::start(&server_under_test());
    let closed = TcpListenerPort::closed();
    let port = srv.port.to_string();
    let cases: Vec<Vec<&str>> = vec![
        vec!["--nope"],
        vec!["-p"],
        vec!["-2", "-3", "PING"],
        vec!["-p", &closed, "PING"],
        vec!["-h", "nosuchhost.invalid", "PING"],
        vec!["-u", "http://127.0.0.1", "PING"],
        vec!["-u", "redis://:pw%@127.0.0.1", "PING"],
        vec!["-p", &port, "-e", "GET", "nokey"],
        vec!["-p", &port, "-e", "LPUSH"],
        vec!["-p", &port, "-n", "99", "PING"],
        vec!["-p", &port, "--quoted-input", "ECHO", "\"a\\x41\""],
        vec!["-p", &port, "--quoted-input", "ECHO", "\"unterminated"],
        vec!["-p", &port, "-a", "nopass", "PING"],
        vec!["-p", &port, "--no-auth-warning", "-a", "nopass", "PING"],
    ];
    for case in cases {
        let args = words(&case);
        let want = run_piped(&redis_cli(), &refs(&args), b"", &[]);
        let got = run_piped(&cli(), &refs(&args), b"", &[]);
        assert_eq!(
            got,
            want,
            "{case:?}: gostore-cli {:?} vs redis-cli {:?}",
            show(&got.stderr),
            show(&want.stderr)
        );
    }
}

/// A port nothing listens on.
struct TcpListenerPort;

impl TcpListenerPort {
    fn closed() -> String {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port().to_string()
    }
}

#[test]
fn version_and_help_exit_zero() {
    let v = run_piped(&cli(), &[b"--version"], b"", &[]);
    assert_eq!(
        (v.text(), v.code),
        (
            format!("gostore-cli {}\n", env!("CARGO_PKG_VERSION")),
            Some(0)
        )
    );
    let h = run_piped(&cli(), &[b"--help"], b"", &[]);
    assert_eq!(h.code, Some(0));
    for flag in [
        "-h <hostname>",
        "--pipe",
        "--scan",
        "--count <count>",
        "--latency-history",
        "--stat",
        "-u <uri>",
    ] {
        assert!(h.text().contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn pipe_inserts_100k_commands_and_reports_like_redis_cli() {
    let srv = TestServer::start(&server_under_test());
    let port = srv.port.to_string();
    let mut input = Vec::new();
    for i in 0..100_000 {
        let (k, v) = (format!("key:{i}"), format!("value:{i}"));
        input.extend_from_slice(
            format!(
                "*3\r\n$3\r\nSET\r\n${}\r\n{k}\r\n${}\r\n{v}\r\n",
                k.len(),
                v.len()
            )
            .as_bytes(),
        );
    }
    let got = run_piped(&cli(), &[b"-p", port.as_bytes(), b"--pipe"], &input, &[]);
    assert_eq!(
        (got.text(), show(&got.stderr), got.code),
        (
            "All data transferred. Waiting for the last reply...\nLast reply received from server.\nerrors: 0, replies: 100000\n"
                .to_string(),
            String::new(),
            Some(0)
        )
    );
    let n: i64 = redis::cmd("DBSIZE")
        .query(&mut srv.client())
        .expect("dbsize");
    assert_eq!(n, 100_000);
    let v: String = redis::cmd("GET")
        .arg("key:99999")
        .query(&mut srv.client())
        .expect("get");
    assert_eq!(v, "value:99999");

    // Errors go to stderr and make the exit status 1, as with redis-cli.
    let bad =
        b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nINCR\r\n$10\r\nkey:123456\r\n*1\r\n$3\r\nFOO\r\nPING\r\n";
    let args = words(&["-p", &port, "--pipe"]);
    let want = run_piped(&redis_cli(), &refs(&args), bad, &[]);
    redis::cmd("DEL")
        .arg("key:123456")
        .query::<()>(&mut srv.client())
        .expect("del");
    let got = run_piped(&cli(), &refs(&args), bad, &[]);
    assert_eq!(
        got,
        want,
        "{:?} vs {:?}",
        show(&got.stderr),
        show(&want.stderr)
    );
    assert_eq!(got.code, Some(1));
}

#[test]
fn repeat_and_interval_run_a_command_n_times() {
    let srv = TestServer::start(&server_under_test());
    let port = srv.port.to_string();
    let got = run_piped(
        &cli(),
        &refs(&words(&["-p", &port, "-r", "3", "INCR", "counter"])),
        b"",
        &[],
    );
    assert_eq!(got.text(), "1\n2\n3\n");
    let start = Instant::now();
    let got = run_piped(
        &cli(),
        &refs(&words(&[
            "-p", &port, "-r", "3", "-i", "0.05", "--no-raw", "PING",
        ])),
        b"",
        &[],
    );
    assert_eq!(got.text(), "PONG\nPONG\nPONG\n");
    assert!(
        start.elapsed().as_millis() >= 150,
        "-i 0.05 waits after each of the 3 runs"
    );
    let want = run_piped(
        &redis_cli(),
        &refs(&words(&[
            "-p", &port, "-r", "2", "LRANGE", "nolist", "0", "-1",
        ])),
        b"",
        &[],
    );
    let got = run_piped(
        &cli(),
        &refs(&words(&[
            "-p", &port, "-r", "2", "LRANGE", "nolist", "0", "-1",
        ])),
        b"",
        &[],
    );
    assert_eq!(got, want);
}

#[test]
fn stdin_becomes_an_argument_with_x_and_big_x() {
    let srv = TestServer::start(&server_under_test());
    let port = srv.port.to_string();
    let data = b"line one\nline two\x00\xff\n";
    let got = run_piped(
        &cli(),
        &refs(&words(&["-p", &port, "-x", "SET", "fromstdin"])),
        data,
        &[],
    );
    assert_eq!(got.text(), "OK\n");
    let v: Vec<u8> = redis::cmd("GET")
        .arg("fromstdin")
        .query(&mut srv.client())
        .expect("get");
    assert_eq!(v, data);
    let got = run_piped(
        &cli(),
        &refs(&words(&["-p", &port, "-X", "TAG", "SET", "tagged", "TAG"])),
        b"tagvalue",
        &[],
    );
    assert_eq!(got.text(), "OK\n");
    let v: String = redis::cmd("GET")
        .arg("tagged")
        .query(&mut srv.client())
        .expect("get");
    assert_eq!(v, "tagvalue");
    let want = run_piped(
        &redis_cli(),
        &refs(&words(&["-p", &port, "-X", "NOPE", "GET", "x"])),
        b"",
        &[],
    );
    let got = run_piped(
        &cli(),
        &refs(&words(&["-p", &port, "-X", "NOPE", "GET", "x"])),
        b"",
        &[],
    );
    assert_eq!(got, want);
}

#[test]
fn uris_set_host_port_database_and_credentials() {
    let srv = TestServer::start_with(&server_under_test(), &["--requirepass", "s3cret"]);
    let port = srv.port;
    let uri = format!("redis://:s3cret@127.0.0.1:{port}/2");
    let got = run_piped(
        &cli(),
        &refs(&words(&[
            "--no-auth-warning",
            "-u",
            &uri,
            "SET",
            "inuri",
            "1",
        ])),
        b"",
        &[],
    );
    assert_eq!(
        (got.text(), show(&got.stderr)),
        ("OK\n".to_string(), String::new())
    );
    let uri = format!("redis://default:s3cret@localhost:{port}/2");
    let got = run_piped(
        &cli(),
        &refs(&words(&["--no-auth-warning", "-u", &uri, "GET", "inuri"])),
        b"",
        &[],
    );
    assert_eq!(got.text(), "1\n");
    let got = run_piped(
        &cli(),
        &refs(&words(&[
            "-p",
            &port.to_string(),
            "-n",
            "2",
            "GET",
            "inuri",
        ])),
        b"",
        &[("GOSTORECLI_AUTH", "s3cret")],
    );
    assert_eq!(got.text(), "1\n", "GOSTORECLI_AUTH authenticates");
    for args in [
        vec!["-u", &*format!("redis://:wrong@127.0.0.1:{port}"), "PING"],
        vec![
            "-p",
            &*port.to_string(),
            "--user",
            "default",
            "--pass",
            "s3cret",
            "-n",
            "2",
            "GET",
            "inuri",
        ],
    ] {
        let a = words(&args);
        let want = run_piped(&redis_cli(), &refs(&a), b"", &[]);
        let got = run_piped(&cli(), &refs(&a), b"", &[]);
        assert_eq!(got, want, "{args:?}");
    }
}

#[test]
fn scan_lists_keys_like_redis_cli() {
    let srv = TestServer::start(&server_under_test());
    let mut c = srv.client();
    for i in 0..300 {
        redis::cmd("SET")
            .arg(format!("user:{i}"))
            .arg(i)
            .query::<()>(&mut c)
            .expect("set");
        redis::cmd("SET")
            .arg(format!("other:{i}"))
            .arg(i)
            .query::<()>(&mut c)
            .expect("set");
    }
    redis::cmd("SET")
        .arg(&b"bin\xffkey"[..])
        .arg(1)
        .query::<()>(&mut c)
        .expect("set");
    // The two CLIs are compared by the order of what they print, which is
    // the table's order: the last growth (to 1024 buckets) must be over, or
    // the server's active rehash could reorder keys between the two runs.
    // Every write moves the rehash on by at least one of the <= 512 old
    // buckets, in Redis and in GoStore.
    let mut settle = redis::pipe();
    for _ in 0..1024 {
        settle.cmd("SET").arg("other:0").arg(0).ignore();
    }
    settle.query::<()>(&mut c).expect("settle the table");
    let port = srv.port.to_string();
    for args in [
        vec!["--scan"],
        vec!["--scan", "--pattern", "user:1*"],
        vec!["--scan", "--pattern", "bin*", "--no-raw"],
    ] {
        let mut a = words(&["-p", &port]);
        a.extend(words(&args));
        let want = run_piped(&redis_cli(), &refs(&a), b"", &[]);
        let got = run_piped(&cli(), &refs(&a), b"", &[]);
        assert_eq!(got, want, "{args:?}");
    }
    let a = words(&[
        "-p",
        &port,
        "--scan",
        "--pattern",
        "user:*",
        "--count",
        "1000",
    ]);
    let got = run_piped(&cli(), &refs(&a), b"", &[]);
    assert_eq!(got.text().lines().count(), 300);
}

/// Reads lines from a child's stdout until `done` says stop, then kills it.
fn read_lines_until(cmd: &mut Command, mut done: impl FnMut(&[String]) -> bool) -> Vec<String> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        lines.push(line);
        if done(&lines) {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    lines
}

#[test]
fn stat_prints_rolling_info_figures() {
    let srv = TestServer::start(&server_under_test());
    redis::cmd("SET")
        .arg("a")
        .arg("1")
        .query::<()>(&mut srv.client())
        .expect("set");
    let port = srv.port.to_string();
    let lines = read_lines_until(
        Command::new(cli()).args(["-p", &port, "--stat", "-i", "0.01"]),
        |l| l.len() >= 4,
    );
    assert_eq!(
        lines[0],
        "------- data ------ --------------------- load -------------------- - child -"
    );
    assert_eq!(
        lines[1],
        "keys       mem      clients blocked requests            connections          "
    );
    assert!(lines[2].starts_with("1          "), "{:?}", lines[2]);
    assert!(lines[3].contains(" (+"), "{:?}", lines[3]);
}

#[test]
fn latency_prints_min_max_avg_like_redis_cli() {
    let srv = TestServer::start(&server_under_test());
    let port = srv.port.to_string();
    let got = run_piped(
        &cli(),
        &refs(&words(&["-p", &port, "--latency", "-i", "0.1"])),
        b"",
        &[],
    );
    let text = got.text();
    let fields: Vec<&str> = text.trim_end().split(' ').collect();
    assert_eq!(got.code, Some(0));
    assert_eq!(fields.len(), 4, "min max avg samples: {:?}", got.text());
    assert!(
        fields[2].contains('.') && fields[3].parse::<u64>().is_ok_and(|n| n >= 2),
        "{fields:?}"
    );
    let lines = read_lines_until(
        Command::new(cli()).args(["-p", &port, "--latency-history", "-i", "0.05"]),
        |l| l.iter().any(|x| x.contains(" -- ")),
    );
    assert!(
        lines.iter().any(|l| l.ends_with("seconds range")),
        "{lines:?}"
    );
    let (out, _) = {
        let mut pty = Pty::spawn(Command::new(cli()).args(["-p", &port, "--latency"]));
        let seen = pty.expect("samples)");
        (seen, ())
    };
    assert!(out.contains("\x1b[0G\x1b[2Kmin: "), "{out:?}");
}

#[test]
fn subscribe_prints_messages_as_they_arrive() {
    let srv = TestServer::start(&server_under_test());
    let port = srv.port.to_string();
    let mut child = Command::new(cli())
        .args(["-p", &port, "SUBSCRIBE", "news"])
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    let mut got = Vec::new();
    while got.len() < 3 {
        line.clear();
        out.read_line(&mut line).expect("read");
        got.push(line.clone());
    }
    assert_eq!(got, ["subscribe\n", "news\n", "1\n"]);
    let n: i64 = redis::cmd("PUBLISH")
        .arg("news")
        .arg("hello")
        .query(&mut srv.client())
        .expect("publish");
    assert_eq!(n, 1);
    got.clear();
    while got.len() < 3 {
        line.clear();
        out.read_line(&mut line).expect("read");
        got.push(line.clone());
    }
    assert_eq!(got, ["message\n", "news\n", "hello\n"]);
    let _ = child.kill();
    let _ = child.wait();
}

// ---------------------------------------------------------------------------
// Interactive sessions on a pseudo-terminal.
// ---------------------------------------------------------------------------

/// A REPL on a pty with its own history file.
fn repl(srv_port: u16, home: &Path, extra: &[&str]) -> Pty {
    let mut cmd = Command::new(cli());
    cmd.args(["-p", &srv_port.to_string()])
        .args(extra)
        .env("HOME", home)
        .env("GOSTORECLI_HISTFILE", home.join("history"))
        .env_remove("GOSTORECLI_RCFILE");
    Pty::spawn(&mut cmd)
}

#[test]
fn prompt_shows_the_database_and_the_transaction() {
    let srv = TestServer::start(&server_under_test());
    let home = TempDir::new("home");
    let p = format!("127.0.0.1:{}", srv.port);
    let mut t = repl(srv.port, home.path(), &[]);
    t.expect(&format!("{p}> "));
    t.send("SELECT 2\r");
    t.expect("OK\r\n");
    t.expect(&format!("{p}[2]> "));
    t.send("MULTI\r");
    t.expect(&format!("{p}[2](TX)> "));
    t.send("SET k v\r");
    t.expect("QUEUED\r\n");
    t.send("EXEC\r");
    t.expect("1) OK\r\n");
    t.expect(&format!("{p}[2]> "));
    t.send("MULTI\r");
    t.expect("(TX)> ");
    t.send("SELECT 5\r");
    t.expect(&format!("{p}[5](TX)> "));
    t.send("DISCARD\r");
    t.expect(&format!("{p}[2]> "));
    t.send("exit\r");
    let (_, status) = t.finish();
    assert_eq!(status.code(), Some(0));
    let mut t = repl(srv.port, home.path(), &["-n", "3"]);
    t.expect(&format!("{p}[3]> "));
}

#[test]
fn history_survives_across_sessions_without_passwords() {
    let srv = TestServer::start(&server_under_test());
    let home = TempDir::new("home");
    let mut t = repl(srv.port, home.path(), &[]);
    t.expect("> ");
    t.send("SET histkey remembered\r");
    t.expect("OK\r\n");
    t.expect("> ");
    t.send("AUTH nosuchpass\r");
    t.expect("(error)");
    t.expect("> ");
    t.send("quit\r");
    t.finish();
    let file = std::fs::read_to_string(home.path().join("history")).expect("history file");
    assert!(file.contains("SET histkey remembered"), "{file}");
    assert!(
        !file.contains("nosuchpass"),
        "AUTH must stay out of history: {file}"
    );

    let mut t = repl(srv.port, home.path(), &[]);
    t.expect("> ");
    t.send("\x1b[A"); // Up: the last line of the previous session...
    t.expect("quit");
    t.send("\x1b[A"); // ...and the one before, AUTH being skipped.
    t.expect("SET histkey remembered");
    t.send("\r");
    t.expect("OK\r\n");
}

#[test]
fn tab_completes_names_and_hints_show_the_remaining_arguments() {
    completion_and_hints_against(&server_under_test());
}

#[test]
fn completion_hints_and_help_come_from_gostore_s_command_docs() {
    // The same session against the GoStore server: its COMMAND DOCS (made
    // from Redis 7.0's metadata) must drive hints and help identically.
    completion_and_hints_against(&gostore_spec());
}

/// The GoStore server, whatever GOSTORE_CLI_TEST_SERVER says.
fn gostore_spec() -> ServerSpec {
    ServerSpec {
        program: PathBuf::from(env!("CARGO_BIN_EXE_gostore")),
        args: |port, dir| {
            vec![
                "--port".into(),
                port.to_string(),
                "--dir".into(),
                dir.display().to_string(),
                "--appendonly".into(),
                "no".into(),
            ]
        },
    }
}

fn completion_and_hints_against(spec: &ServerSpec) {
    let srv = TestServer::start(spec);
    let home = TempDir::new("home");
    let mut t = repl(srv.port, home.path(), &[]);
    t.expect("> ");
    t.send("hgeta\t");
    t.expect("HGETALL");
    t.send(" ");
    t.expect("\x1b[0;90;49mkey\x1b[0m");
    t.send("\x15"); // Ctrl-U: clear the line.
    t.send("SET k v ");
    t.expect("\x1b[0;90;49m[NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]\x1b[0m");
    t.send("EX ");
    t.expect("\x1b[0;90;49mseconds [NX|XX] [GET] \x1b[0m");
    t.send("\x15config ge\t");
    t.expect("CONFIG GET");
    t.send(" ");
    t.expect("\x1b[0;90;49mparameter [parameter ...]\x1b[0m");
    t.send("\x15:set nohints\r");
    t.expect("> ");
    t.send("SET k v ");
    t.send("\r");
    let seen = t.expect("OK\r\n");
    assert!(!seen.contains("[NX|XX]"), "hints are off: {seen:?}");
    t.send("help GET\r");
    t.expect("summary:\x1b[0m Get the value of a key");
}

#[test]
fn quoting_reaches_the_server_intact() {
    let srv = TestServer::start(&server_under_test());
    let home = TempDir::new("home");
    let mut t = repl(srv.port, home.path(), &[]);
    t.expect("> ");
    t.send("SET \"a key\" \"tab\\there\\x41\\n\"\r");
    t.expect("OK\r\n");
    t.send("SET 'it\\'s' 'x\\ny'\r");
    t.expect("OK\r\n");
    t.send("GET \"a key\"\r");
    t.expect("\"tab\\there A\\n\"".replace(' ', "").as_str());
    t.send("GET \"unterminated\r");
    t.expect("Invalid argument(s)\r\n");
    t.send("3 INCR counter\r");
    t.expect("(integer) 1\r\n(integer) 2\r\n(integer) 3\r\n");
    let mut c = srv.client();
    let v: Vec<u8> = redis::cmd("GET").arg("a key").query(&mut c).expect("get");
    assert_eq!(v, b"tab\there\x41\n");
    let v: Vec<u8> = redis::cmd("GET").arg("it's").query(&mut c).expect("get");
    assert_eq!(v, b"x\\ny");
}

#[test]
fn a_killed_server_is_reported_and_the_next_command_reconnects() {
    let mut srv = TestServer::start(&server_under_test());
    let home = TempDir::new("home");
    let p = format!("127.0.0.1:{}", srv.port);
    let mut t = repl(srv.port, home.path(), &[]);
    t.expect(&format!("{p}> "));
    t.send("SELECT 4\r");
    t.expect(&format!("{p}[4]> "));
    srv.kill();
    t.send("PING\r");
    t.expect("Error: Server closed the connection\r\n");
    t.expect("not connected> ");
    t.send("PING\r");
    t.expect(&format!(
        "Could not connect to Redis at {p}: Connection refused\r\n"
    ));
    t.expect("not connected> ");
    srv.restart();
    t.send("SET afterrestart 1\r");
    t.expect("OK\r\n");
    t.expect(&format!("{p}[4]> "));
    let mut c = srv.client();
    redis::cmd("SELECT")
        .arg(4)
        .query::<()>(&mut c)
        .expect("select");
    let n: i64 = redis::cmd("EXISTS")
        .arg("afterrestart")
        .query(&mut c)
        .expect("exists");
    assert_eq!(n, 1, "the database survives the reconnect");
}

#[test]
fn ctrl_c_leaves_subscribe_and_monitor_and_exits_at_the_prompt() {
    let srv = TestServer::start(&server_under_test());
    let home = TempDir::new("home");
    let p = format!("127.0.0.1:{}", srv.port);
    let mut t = repl(srv.port, home.path(), &["-n", "1"]);
    t.expect(&format!("{p}[1]> "));
    t.send("SUBSCRIBE chan\r");
    t.expect("Reading messages... (press Ctrl-C to quit)\r\n1) \"subscribe\"\r\n2) \"chan\"\r\n3) (integer) 1\r\n");
    let _: i64 = redis::cmd("PUBLISH")
        .arg("chan")
        .arg("hi")
        .query(&mut srv.client())
        .expect("publish");
    t.expect("1) \"message\"\r\n2) \"chan\"\r\n3) \"hi\"\r\n");
    t.send("\x03");
    t.expect(&format!("{p}[1]> "));
    t.send("MONITOR\r");
    t.expect("OK\r\n");
    redis::cmd("SET")
        .arg("watched")
        .arg("1")
        .query::<()>(&mut srv.client())
        .expect("set");
    t.expect("\"SET\" \"watched\" \"1\"");
    t.send("\x03");
    t.expect(&format!("{p}[1]> "));
    t.send("PING\r");
    t.expect("PONG\r\n");
    t.expect("> ");
    t.send("\x03");
    let (_, status) = t.finish();
    assert_eq!(status.code(), Some(0), "Ctrl-C at the prompt exits with 0");
}

#[test]
fn a_unix_socket_is_used_with_s() {
    let dir = TempDir::new("sock");
    let sock = dir.path().join("s.sock");
    let sock = sock.to_str().expect("utf-8 path");
    let srv = TestServer::start_with(&server_under_test(), &["--unixsocket", sock]);
    let got = run_piped(&cli(), &refs(&words(&["-s", sock, "PING"])), b"", &[]);
    assert_eq!(got.text(), "PONG\n");
    let home = TempDir::new("home");
    let mut cmd = Command::new(cli());
    cmd.args(["-s", sock])
        .env("GOSTORECLI_HISTFILE", "/dev/null")
        .env("HOME", home.path());
    let mut t = Pty::spawn(&mut cmd);
    t.expect(&format!("redis {sock}> "));
    drop(srv);
}

#[test]
fn ctrl_d_exits_and_clear_clears() {
    let srv = TestServer::start(&server_under_test());
    let home = TempDir::new("home");
    let mut t = repl(srv.port, home.path(), &[]);
    t.expect("> ");
    t.send("clear\r");
    t.expect("\x1b[H");
    t.expect("> ");
    t.send("\x04");
    let (_, status) = t.finish();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn piped_stdin_runs_one_command_per_line_without_a_prompt() {
    let srv = TestServer::start(&server_under_test());
    let port = srv.port.to_string();
    let input = b"SET piped 1\nGET piped\n\nINCR piped\nGET \"bad\n";
    let want = run_piped(&redis_cli(), &[b"-p", port.as_bytes()], input, &[]);
    redis::cmd("DEL")
        .arg("piped")
        .query::<()>(&mut srv.client())
        .expect("del");
    let got = run_piped(&cli(), &[b"-p", port.as_bytes()], input, &[]);
    assert_eq!(got, want, "{:?}", show(&got.stdout));
    assert!(find(&got.stdout, b"> ").is_none());
}
