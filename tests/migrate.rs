//! MIGRATE between GoStore and Redis 7.0, every direction: every type of
//! value moves with its TTL, in the one-key and the KEYS form; COPY,
//! REPLACE, AUTH and AUTH2, a target that refuses, one that is not there
//! and one that never answers reply as Redis's MIGRATE does from the same
//! state; the source's DEL reaches its AOF; RESTORE-ASKING is served.

mod common;

use std::net::TcpListener;

use common::dataset::{dump, fill_every_type, without_encodings, Dump};
use common::resp::RawConn;
use common::{info_field, wait_for, Kind, TestServer};

/// `MIGRATE 127.0.0.1 <port> <rest...>` from `c`.
fn migrate(c: &mut RawConn, port: u16, rest: &[&str]) -> String {
    let p = port.to_string();
    let mut argv = vec!["MIGRATE", "127.0.0.1", &p];
    argv.extend_from_slice(rest);
    c.cmd_str(&argv)
}

/// The dump with absolute expiry times rounded away: MIGRATE sends the
/// time left, so the target's expiry is the source's plus the moment the
/// transfer took. Keeps whether a key has a TTL and checks it stayed
/// within a minute of the source's.
fn close_enough(got: &Dump, want: &Dump, what: &str) {
    let strip = |d: &Dump| {
        let mut d = without_encodings(d);
        for e in d.values_mut() {
            e.expire_at = e.expire_at.signum();
        }
        d
    };
    common::dataset::assert_same(&strip(got), &strip(want), what);
    for (k, w) in want {
        let g = &got[k];
        if w.expire_at > 0 {
            assert!(
                (g.expire_at - w.expire_at).abs() < 60_000,
                "{what}: {:?} expires at {}, source had {}",
                String::from_utf8_lossy(&k.1),
                g.expire_at,
                w.expire_at
            );
        }
    }
}

/// Fills a server of kind `from` with every type in several databases,
/// MIGRATEs all of it to a server of kind `to` (db 0 key by key, the other
/// databases with KEYS, each into the same database number), then checks
/// the target holds the source's dataset and the source is empty.
fn move_everything(from: Kind, to: Kind) {
    let src = TestServer::start(from, &[]);
    let dst = TestServer::start(to, &[]);
    fill_every_type(src.port);
    let mut c = RawConn::connect(src.port);
    let want = dump(src.port, 16);
    assert!(want.len() > 30);
    let mut dbs: Vec<u32> = want.keys().map(|k| k.0).collect();
    dbs.dedup();
    assert!(dbs.len() > 1, "the dataset spans several databases");
    for db in dbs {
        let d = db.to_string();
        c.cmd_str(&["SELECT", &d]);
        let keys: Vec<String> = want
            .keys()
            .filter(|k| k.0 == db)
            .map(|k| String::from_utf8(k.1.clone()).expect("utf-8 key"))
            .collect();
        if db == 0 {
            for k in &keys {
                assert_eq!(
                    migrate(&mut c, dst.port, &[k, &d, "5000"]),
                    "+OK\r\n",
                    "{k}"
                );
            }
        } else {
            let mut rest = vec!["", &d, "5000", "KEYS"];
            rest.extend(keys.iter().map(|k| k.as_str()));
            assert_eq!(migrate(&mut c, dst.port, &rest), "+OK\r\n", "db {db}");
        }
    }
    close_enough(
        &dump(dst.port, 16),
        &want,
        &format!("{from:?} MIGRATE -> {to:?}"),
    );
    assert!(dump(src.port, 16).is_empty(), "the source keeps nothing");
    // A stream too, with a consumer group (the dataset dump has none).
    c.cmd_str(&["SELECT", "0"]);
    c.cmd_str(&["XADD", "st", "1-1", "a", "1"]);
    c.cmd_str(&["XADD", "st", "2-1", "b", "2"]);
    c.cmd_str(&["XGROUP", "CREATE", "st", "g", "1-1"]);
    c.cmd_str(&["PEXPIRE", "st", "100000"]);
    let st_range = c.cmd_str(&["XRANGE", "st", "-", "+"]);
    let st_groups = c.cmd_str(&["XINFO", "GROUPS", "st"]);
    assert_eq!(migrate(&mut c, dst.port, &["st", "0", "5000"]), "+OK\r\n");
    assert_eq!(c.cmd_str(&["EXISTS", "st"]), ":0\r\n");
    let mut t = RawConn::connect(dst.port);
    let ttl = t.cmd_str(&["TTL", "st"]);
    assert!(ttl.starts_with(":9") || ttl.starts_with(":100"), "{ttl}");
    assert_eq!(t.cmd_str(&["XRANGE", "st", "-", "+"]), st_range);
    assert_eq!(t.cmd_str(&["XINFO", "GROUPS", "st"]), st_groups);
}

#[test]
fn gostore_migrates_every_type_to_redis() {
    move_everything(Kind::GoStore, Kind::Redis);
}

#[test]
fn redis_migrates_every_type_to_gostore() {
    move_everything(Kind::Redis, Kind::GoStore);
}

#[test]
fn gostore_migrates_every_type_to_gostore() {
    move_everything(Kind::GoStore, Kind::GoStore);
}

/// A script of MIGRATEs and checks from a source of kind `from` to a
/// target of kind `to` (password `pw` when given); returns every reply.
fn scenario(from: Kind, to: Kind, pw: Option<&str>) -> Vec<String> {
    let src = TestServer::start(from, &[]);
    let dst = match pw {
        Some(p) => TestServer::start(to, &["--requirepass", p]),
        None => TestServer::start(to, &[]),
    };
    let mut s = RawConn::connect(src.port);
    let mut t = RawConn::connect(dst.port);
    if let Some(p) = pw {
        assert_eq!(t.cmd_str(&["AUTH", p]), "+OK\r\n");
    }
    let auth: Vec<&str> = pw.map(|p| vec!["AUTH", p]).unwrap_or_default();
    let with_auth = |rest: &[&'static str]| -> Vec<String> {
        let mut v: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
        v.extend(auth.iter().map(|s| s.to_string()));
        v
    };
    let mut out = Vec::new();
    for cmd in [
        vec!["SET", "k", "v"],
        vec!["SET", "a", "1"],
        vec!["SET", "b", "2"],
        vec!["RPUSH", "l", "x", "y"],
        vec!["SET", "ttl", "t", "PX", "100000"],
    ] {
        s.cmd_str(&cmd);
    }
    t.cmd_str(&["SET", "k", "busy"]);
    if pw.is_some() {
        // No credentials, then wrong ones, on a fresh link.
        out.push(run(
            &mut s,
            dst.port,
            vec!["l".into(), "0".into(), "2000".into()],
        ));
        out.push(run(
            &mut s,
            dst.port,
            ["l", "0", "2000", "AUTH", "wrong"]
                .map(String::from)
                .to_vec(),
        ));
        out.push(format!("source l {}", s.cmd_str(&["LLEN", "l"])));
    }
    // Refused: the key exists there and no REPLACE; the source keeps it.
    out.push(run(&mut s, dst.port, with_auth(&["k", "0", "2000"])));
    out.push(format!("source k {}", s.cmd_str(&["GET", "k"])));
    out.push(format!("target k {}", t.cmd_str(&["GET", "k"])));
    // COPY REPLACE: overwritten there, kept here.
    out.push(run(
        &mut s,
        dst.port,
        with_auth(&["k", "0", "2000", "COPY", "REPLACE"]),
    ));
    out.push(format!("source k {}", s.cmd_str(&["GET", "k"])));
    out.push(format!("target k {}", t.cmd_str(&["GET", "k"])));
    // REPLACE without COPY moves it.
    out.push(run(
        &mut s,
        dst.port,
        with_auth(&["k", "0", "2000", "REPLACE"]),
    ));
    out.push(format!("source k {}", s.cmd_str(&["EXISTS", "k"])));
    // Missing keys.
    out.push(run(&mut s, dst.port, with_auth(&["nokey", "0", "2000"])));
    out.push(run(
        &mut s,
        dst.port,
        with_auth(&["", "0", "2000", "KEYS", "no1", "no2"]),
    ));
    // KEYS with some missing, into db 3; the TTL goes along.
    let mut keys = with_auth(&["", "3", "2000"]);
    keys.extend(["KEYS", "a", "missing", "b", "ttl"].map(String::from));
    out.push(run(&mut s, dst.port, keys));
    out.push(format!("source dbsize {}", s.cmd_str(&["DBSIZE"])));
    t.cmd_str(&["SELECT", "3"]);
    out.push(format!(
        "target a b {}",
        t.cmd_str(&["MGET", "a", "b", "ttl"])
    ));
    let pttl = t.cmd_str(&["PTTL", "ttl"]);
    let left: i64 = pttl.trim_start_matches(':').trim().parse().unwrap_or(-9);
    out.push(format!(
        "target ttl kept {}",
        left > 50_000 && left <= 100_000
    ));
    t.cmd_str(&["SELECT", "0"]);
    // A database the target does not have.
    out.push(run(&mut s, dst.port, with_auth(&["l", "99", "2000"])));
    out.push(format!("source l {}", s.cmd_str(&["LLEN", "l"])));
    // Errors found before any I/O.
    for bad in [
        vec!["l", "0", "2000", "FOO"],
        vec!["l", "0", "2000", "AUTH"],
        vec!["l", "0", "2000", "AUTH2", "u"],
        vec!["l", "0", "x"],
        vec!["l", "x", "2000"],
        vec!["l", "0", "2000", "KEYS", "l"],
        vec!["l", "0"],
    ] {
        out.push(run(
            &mut s,
            dst.port,
            bad.into_iter().map(String::from).collect(),
        ));
    }
    if let Some(p) = pw {
        // AUTH2 with the default user.
        out.push(run(
            &mut s,
            dst.port,
            ["l", "0", "2000", "COPY", "AUTH2", "default", p]
                .map(String::from)
                .to_vec(),
        ));
        out.push(format!(
            "target l {}",
            t.cmd_str(&["LRANGE", "l", "0", "-1"])
        ));
        // The password stays out of the slow log.
        s.cmd_str(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
        out.push(run(
            &mut s,
            dst.port,
            ["l", "0", "2000", "COPY", "REPLACE", "AUTH", p]
                .map(String::from)
                .to_vec(),
        ));
        let log = s.cmd_str(&["SLOWLOG", "GET", "2"]);
        out.push(format!("password in slowlog {}", log.contains(p)));
    } else {
        // The link is cached; a target that drops it is reconnected to.
        out.push(format!(
            "cached {:?}",
            info_field(src.port, "migrate_cached_sockets")
        ));
        t.cmd_str(&["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]);
        out.push(run(
            &mut s,
            dst.port,
            vec!["l".into(), "0".into(), "2000".into(), "COPY".into()],
        ));
        out.push(format!(
            "target l {}",
            t.cmd_str(&["LRANGE", "l", "0", "-1"])
        ));
    }
    out
}

/// One MIGRATE, shown with its arguments and reply.
fn run(s: &mut RawConn, port: u16, argv: Vec<String>) -> String {
    let a: Vec<&str> = argv.iter().map(|x| x.as_str()).collect();
    let r = migrate(s, port, &a);
    format!("{argv:?} -> {r}")
}

fn same_as_redis(to: Kind, pw: Option<&str>) {
    let want = scenario(Kind::Redis, to, pw);
    let got = scenario(Kind::GoStore, to, pw);
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w, "GoStore as the source, {to:?} as the target");
    }
    assert_eq!(got.len(), want.len());
}

#[test]
fn options_and_errors_answer_as_redis_into_redis() {
    same_as_redis(Kind::Redis, None);
}

#[test]
fn options_and_errors_answer_as_redis_into_gostore() {
    same_as_redis(Kind::GoStore, None);
}

#[test]
fn auth_to_a_protected_target_answers_as_redis() {
    same_as_redis(Kind::Redis, Some("s3cret"));
    same_as_redis(Kind::GoStore, Some("s3cret"));
}

/// A port with nothing listening, and a listener that accepts and never
/// answers: IOERR as Redis says it, the key stays, and the server still
/// serves afterwards.
#[test]
fn unreachable_and_silent_targets_are_ioerr_as_in_redis() {
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_port = silent.local_addr().expect("addr").port();
    let closed_port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut replies = Vec::new();
    for kind in [Kind::Redis, Kind::GoStore] {
        let s = TestServer::start(kind, &[]);
        let mut c = RawConn::connect(s.port);
        c.cmd_str(&["SET", "k", "v"]);
        let a = migrate(&mut c, closed_port, &["k", "0", "500"]);
        let b = migrate(&mut c, silent_port, &["k", "0", "300"]);
        let left = c.cmd_str(&["GET", "k"]);
        replies.push((a, b, left));
    }
    assert_eq!(replies[1], replies[0]);
    assert!(replies[0].0.starts_with("-IOERR"), "{:?}", replies[0]);
    drop(silent);
}

/// Without COPY the source's AOF gets the DEL: the key stays gone after a
/// restart; a COPY changes nothing there.
#[test]
fn the_source_aof_records_the_del() {
    let mut src = TestServer::gostore(&["--appendonly", "yes"]);
    let dst = TestServer::gostore(&[]);
    let mut c = RawConn::connect(src.port);
    c.cmd_str(&["SET", "moved", "1"]);
    c.cmd_str(&["SET", "copied", "2"]);
    c.cmd_str(&["SET", "stays", "3"]);
    assert_eq!(
        migrate(&mut c, dst.port, &["moved", "0", "2000"]),
        "+OK\r\n"
    );
    assert_eq!(
        migrate(&mut c, dst.port, &["copied", "0", "2000", "COPY"]),
        "+OK\r\n"
    );
    drop(c);
    src.sigterm();
    src.restart();
    let mut c = RawConn::connect(src.port);
    assert_eq!(c.cmd_str(&["EXISTS", "moved"]), ":0\r\n");
    assert_eq!(
        c.cmd_str(&["MGET", "copied", "stays"]),
        "*2\r\n$1\r\n2\r\n$1\r\n3\r\n"
    );
    let mut t = RawConn::connect(dst.port);
    assert_eq!(
        t.cmd_str(&["MGET", "moved", "copied"]),
        "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    );
}

/// RESTORE-ASKING is RESTORE on a server without cluster mode, and the
/// table describes it and MIGRATE as Redis does.
#[test]
fn restore_asking_and_command_info_as_redis() {
    let mut replies = Vec::new();
    for kind in [Kind::Redis, Kind::GoStore] {
        let s = TestServer::start(kind, &[]);
        let mut c = RawConn::connect(s.port);
        c.cmd_str(&["RPUSH", "l", "a", "b"]);
        let p = c.cmd(&[b"DUMP", b"l"]);
        let nl = p.iter().position(|&b| b == b'\n').expect("bulk");
        let payload = &p[nl + 1..p.len() - 2];
        let mut r = vec![
            c.cmd_str(&["COMMAND", "INFO", "migrate", "restore-asking"]),
            c.cmd_str(&[
                "COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "5", "KEYS", "x", "y",
            ]),
        ];
        r.push(String::from_utf8_lossy(&c.cmd(&[b"RESTORE-ASKING", b"l", b"0", payload])).into());
        r.push(String::from_utf8_lossy(&c.cmd(&[b"RESTORE-ASKING", b"m", b"0", payload])).into());
        r.push(c.cmd_str(&["LRANGE", "m", "0", "-1"]));
        replies.push(r);
    }
    assert_eq!(replies[1], replies[0]);
}

/// An idle cached link is closed after 10 s, as Redis's cron does.
#[test]
fn idle_cached_links_close() {
    let src = TestServer::gostore(&[]);
    let dst = TestServer::gostore(&[]);
    let mut c = RawConn::connect(src.port);
    c.cmd_str(&["SET", "k", "v"]);
    assert_eq!(migrate(&mut c, dst.port, &["k", "0", "2000"]), "+OK\r\n");
    assert_eq!(
        info_field(src.port, "migrate_cached_sockets").as_deref(),
        Some("1")
    );
    wait_for(30, "the idle MIGRATE link to close", || {
        info_field(src.port, "migrate_cached_sockets").as_deref() == Some("0")
    });
}
