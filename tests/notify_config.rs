//! `notify-keyspace-events`: Redis's flag string, parsed and shown as
//! notify.c does, through CONFIG SET/GET, the config file, the command line
//! and CONFIG REWRITE. Each path is compared with a real redis-server given
//! the same input.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::resp::RawConn;
use common::{free_port, gostore_bin, redis_bin, wait_for, TempDir, TestServer};

const NAME: &str = "notify-keyspace-events";

/// Flag strings, valid and not: every class character, repeats, orders
/// that print differently, `A` with and without the classes it leaves out
/// (`m`, `n`), characters of the wrong case, spaces, NUL.
const VALUES: &[&[u8]] = &[
    b"",
    b"A",
    b"KEA",
    b"AKE",
    b"AKEnm",
    b"g$lshzxetd",
    b"g$lshzxetdn",
    b"Ag$lshzxeKEtmdn",
    b"Kx",
    b"E",
    b"K",
    b"KE",
    b"EK",
    b"KK",
    b"m",
    b"n",
    b"gn",
    b"nmEK$",
    b"ghK",
    b"lsz",
    b"td",
    b"Ad",
    b"AE",
    b"$",
    b"h",
    b"xe",
    b"xyz",
    b"AKE!",
    b"a",
    b"k",
    b"N",
    b"M",
    b"KEA ",
    b" ",
    b"\"\"",
    b"K\0x",
    b"\0",
];

fn show(b: &[u8]) -> String {
    common::resp::show(b)
}

#[test]
fn config_set_and_get_answer_as_redis_for_every_flag_string() {
    let redis = TestServer::redis(&[]);
    let gostore = TestServer::gostore(&[]);
    let (mut r, mut g) = (redis.raw_conn(), gostore.raw_conn());
    for v in VALUES {
        let set: [&[u8]; 4] = [b"CONFIG", b"SET", NAME.as_bytes(), v];
        assert_eq!(
            show(&g.cmd(&set)),
            show(&r.cmd(&set)),
            "CONFIG SET {NAME} {:?}",
            show(v)
        );
        let get: [&[u8]; 3] = [b"CONFIG", b"GET", NAME.as_bytes()];
        assert_eq!(
            show(&g.cmd(&get)),
            show(&r.cmd(&get)),
            "CONFIG GET after setting {:?}",
            show(v)
        );
    }
    // Several parameters at once: all or nothing, and a repeated name.
    for args in [
        &["CONFIG", "SET", NAME, "KEA", "hz", "nope"][..],
        &["CONFIG", "SET", "hz", "20", NAME, "bad!"],
        &["CONFIG", "SET", NAME, "Kg", NAME, "E$"],
        &["CONFIG", "SET", NAME, "Kg", "hz", "15"],
        &["CONFIG", "SET", NAME],
        &["CONFIG", "GET", "notify-*"],
        &["CONFIG", "GET", "*keyspace*"],
    ] {
        assert_eq!(g.cmd_str(args), r.cmd_str(args), "{args:?}");
        assert_eq!(
            g.cmd_str(&["CONFIG", "GET", NAME]),
            r.cmd_str(&["CONFIG", "GET", NAME]),
            "CONFIG GET after {args:?}"
        );
    }
}

#[test]
fn the_command_line_takes_the_flag_string_as_redis_does() {
    for v in ["KEA", "AKEnm", "Elx", ""] {
        let redis = TestServer::redis(&["--notify-keyspace-events", v]);
        let gostore = TestServer::gostore(&["--notify-keyspace-events", v]);
        assert_eq!(
            gostore.raw_conn().cmd_str(&["CONFIG", "GET", NAME]),
            redis.raw_conn().cmd_str(&["CONFIG", "GET", NAME]),
            "--{NAME} {v:?}"
        );
    }
}

/// What a server prints about a bad config file: the line number, then
/// the line and the message (the banner names the server and its version,
/// and GoStore names the file too).
fn config_error(kind: common::Kind, body: &str) -> (i32, Vec<String>) {
    let dir = TempDir::new("notify-conf");
    let conf = dir.path().join("bad.conf");
    std::fs::write(&conf, body).expect("write config");
    let (code, out) = TestServer::start_failing(kind, dir.path(), &[conf.to_str().expect("path")]);
    let mut lines: Vec<String> = out
        .lines()
        .skip_while(|l| !l.starts_with("Reading the configuration file"))
        .map(String::from)
        .collect();
    if let Some(first) = lines.first_mut() {
        *first = first.rsplit(", ").next().unwrap_or_default().to_string();
    }
    (code, lines)
}

#[test]
fn a_bad_flag_string_in_the_file_stops_start_up_with_redis_s_message() {
    for body in [
        "notify-keyspace-events xyz\n",
        "notify-keyspace-events AKE!\n",
        "port 0\nnotify-keyspace-events a b\n",
        "notify-keyspace-events\n",
    ] {
        let (rcode, rlines) = config_error(common::Kind::Redis, body);
        let (gcode, glines) = config_error(common::Kind::GoStore, body);
        assert_eq!(rcode, 1, "redis-server refuses {body:?}");
        assert!(!rlines.is_empty(), "redis-server explains {body:?}");
        assert_eq!((gcode, glines), (rcode, rlines), "{body:?}");
    }
}

/// Starts `bin` on the config file `conf`, which sets `port`.
fn start_on_conf(bin: &Path, conf: &Path, port: u16) -> Child {
    let mut child = Command::new(bin)
        .arg(conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    wait_for(30, "the server on its config file", || {
        assert!(
            child.try_wait().ok().flatten().is_none(),
            "{} exited at start-up",
            bin.display()
        );
        common::ping(port)
    });
    child
}

/// The config file after CONFIG SET of `value` and CONFIG REWRITE, from a
/// file with `line` (if any): its `notify-keyspace-events` lines, each
/// with whether it is in the generated section.
fn rewritten(bin: &Path, line: Option<&str>, value: &str) -> Vec<(bool, String)> {
    let dir = TempDir::new("notify-rewrite");
    let port = free_port();
    let conf = dir.path().join("server.conf");
    let mut body = format!(
        "port {port}\nbind 127.0.0.1\ndir {}\nsave \"\"\nappendonly no\n",
        dir.path().display()
    );
    if let Some(l) = line {
        body.push_str(l);
        body.push('\n');
    }
    body.push_str("hz 10\n");
    std::fs::write(&conf, body).expect("write config");
    let mut child = start_on_conf(bin, &conf, port);
    let mut c = RawConn::connect(port);
    assert_eq!(c.cmd_str(&["CONFIG", "SET", NAME, value]), "+OK\r\n");
    assert_eq!(c.cmd_str(&["CONFIG", "REWRITE"]), "+OK\r\n");
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&conf).expect("read config");
    let mut generated = false;
    let mut out = Vec::new();
    for l in text.lines() {
        if l == "# Generated by CONFIG REWRITE" {
            generated = true;
        }
        if l.starts_with(NAME) {
            out.push((generated, l.to_string()));
        }
    }
    out
}

#[test]
fn config_rewrite_writes_the_line_redis_writes() {
    for (line, value) in [
        (None, "KEA"),
        (None, "Elx"),
        (None, "AKEnm"),
        (None, ""),
        (Some("notify-keyspace-events KEA"), ""),
        (Some("notify-keyspace-events \"\""), "gK"),
        (Some("notify-keyspace-events Ex"), "Ex"),
        (
            Some("notify-keyspace-events Ex\nnotify-keyspace-events K$"),
            "hE",
        ),
    ] {
        let r = rewritten(&redis_bin(), line, value);
        let g = rewritten(&gostore_bin(), line, value);
        assert_eq!(g, r, "file line {line:?}, CONFIG SET {value:?}");
    }
}
