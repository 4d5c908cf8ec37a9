//! Differential tests: the command scripts under tests/corpus/ run against
//! a real redis-server and against gostore, in RESP2 and in RESP3, and every
//! reply is compared byte for byte.
//!
//! Corpus syntax, one command per line, split like redis-cli does (quotes,
//! `\xHH` escapes); `#` starts a comment line. A line may start with a mark:
//! - `!sort CMD ...`   compare after sorting every aggregate's elements
//!   (replies whose order is unspecified: KEYS, hashtable HGETALL, SCAN);
//! - `!shape CMD ...`  compare only the reply's shape (types and sizes):
//!   TIME, RANDOMKEY, CLIENT ID and other legitimately different values;
//! - `!ignore CMD ...` run on both, compare nothing (INFO);
//! - `!resp2 CMD ...` / `!resp3 CMD ...` run only in that protocol;
//! - `@wait-gone KEY`  wait (polling) until KEY has expired on both servers.
//!
//! Set `CORPUS=name` to run only files whose name contains `name`.

mod common;

use common::resp::{self, RawConn};
use common::TestServer;
use gostore::resp::split::split_args;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Exact,
    Sort,
    Shape,
    Ignore,
}

struct Line {
    no: usize,
    text: String,
    mode: Mode,
    only: Option<u8>,
    wait_gone: Option<Vec<u8>>,
    args: Vec<Vec<u8>>,
}

fn parse_corpus(name: &str, text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let mut mode = Mode::Exact;
        let mut only = None;
        let mut rest = t;
        let mut wait_gone = None;
        loop {
            if let Some(r) = rest.strip_prefix("!sort ") {
                mode = Mode::Sort;
                rest = r.trim_start();
            } else if let Some(r) = rest.strip_prefix("!shape ") {
                mode = Mode::Shape;
                rest = r.trim_start();
            } else if let Some(r) = rest.strip_prefix("!ignore ") {
                mode = Mode::Ignore;
                rest = r.trim_start();
            } else if let Some(r) = rest.strip_prefix("!resp2 ") {
                only = Some(2);
                rest = r.trim_start();
            } else if let Some(r) = rest.strip_prefix("!resp3 ") {
                only = Some(3);
                rest = r.trim_start();
            } else if let Some(r) = rest.strip_prefix("@wait-gone ") {
                wait_gone = Some(
                    split_args(r.as_bytes())
                        .and_then(|v| v.into_iter().next())
                        .unwrap_or_else(|| panic!("{name}:{}: bad @wait-gone", i + 1)),
                );
                rest = "";
                break;
            } else {
                break;
            }
        }
        let args = if wait_gone.is_some() {
            Vec::new()
        } else {
            split_args(rest.as_bytes())
                .unwrap_or_else(|| panic!("{name}:{}: unbalanced quotes", i + 1))
        };
        out.push(Line {
            no: i + 1,
            text: t.to_string(),
            mode,
            only,
            wait_gone,
            args,
        });
    }
    out
}

fn normalise(reply: &[u8], mode: Mode) -> String {
    match mode {
        Mode::Exact | Mode::Ignore => resp::show(reply),
        Mode::Sort => resp::show(&resp::parse(reply).sorted().bytes()),
        Mode::Shape => resp::parse(reply).shape(),
    }
}

fn wait_gone(conn: &mut RawConn, key: &[u8]) {
    common::wait_for(10, "a key to expire", || {
        conn.cmd(&[b"PTTL", key]) == b":-2\r\n"
    });
}

/// Runs one corpus file in one protocol; returns the mismatches.
fn run_file(
    name: &str,
    lines: &[Line],
    proto: u8,
    redis: &TestServer,
    gostore: &TestServer,
) -> Vec<String> {
    let mut r = redis.raw_conn();
    let mut g = gostore.raw_conn();
    for c in [&r, &g] {
        c.stream
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .expect("timeout");
    }
    for c in [&mut r, &mut g] {
        if proto == 3 {
            c.cmd(&[b"HELLO", b"3"]);
        }
        c.cmd(&[b"FLUSHALL"]);
    }
    let mut bad = Vec::new();
    for l in lines {
        if l.only.is_some_and(|p| p != proto) {
            continue;
        }
        if let Some(k) = &l.wait_gone {
            wait_gone(&mut r, k);
            wait_gone(&mut g, k);
            continue;
        }
        let args: Vec<&[u8]> = l.args.iter().map(|a| a.as_slice()).collect();
        let (rr, gr) = match (r.try_cmd(&args), g.try_cmd(&args)) {
            (Ok(a), Ok(b)) => (a, b),
            (a, b) => {
                bad.push(format!("{name}:{} [RESP{proto}] {}\n    redis:   {a:?}\n    gostore: {b:?}\n    (stopping this file)", l.no, l.text));
                return bad;
            }
        };
        if l.mode == Mode::Ignore {
            continue;
        }
        let (rn, gn) = (normalise(&rr, l.mode), normalise(&gr, l.mode));
        if rn != gn {
            bad.push(format!(
                "{name}:{} [RESP{proto}] {}\n    redis:   {rn}\n    gostore: {gn}",
                l.no, l.text
            ));
        }
    }
    bad
}

#[test]
fn corpus_replies_match_redis_in_resp2_and_resp3() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let filter = std::env::var("CORPUS").ok();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/corpus")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    let redis = TestServer::redis(&[]);
    let gostore = TestServer::gostore(&[]);
    let mut bad = Vec::new();
    let mut commands = 0;
    for f in &files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if filter
            .as_ref()
            .is_some_and(|flt| !name.contains(flt.as_str()))
        {
            continue;
        }
        let text = std::fs::read_to_string(f).expect("read corpus");
        let lines = parse_corpus(&name, &text);
        commands += lines.len();
        for proto in [2, 3] {
            bad.extend(run_file(&name, &lines, proto, &redis, &gostore));
        }
    }
    assert!(commands > 0, "no corpus commands ran");
    assert!(
        bad.is_empty(),
        "{} of {} corpus commands differ from redis-server:\n{}",
        bad.len(),
        commands * 2,
        bad.join("\n")
    );
    eprintln!(
        "{} corpus commands matched redis-server in RESP2 and RESP3",
        commands
    );
}
