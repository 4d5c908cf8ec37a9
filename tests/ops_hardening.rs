//! Operations details checked against redis-server: log lines in Redis's
//! words and format, a configuration read from standard input, where
//! relative paths land, and the RDB fields of INFO while GoStore writes no
//! RDB.

mod common;

use common::{wait_for, Kind, TempDir, TestServer};

/// Checks one log line's shape, as Redis writes it:
/// `pid:R DD Mon YYYY HH:MM:SS.mmm L message`. Redis's lines written from
/// a signal handler (`pid:signal-handler (secs) message`) have no date.
fn check_log_line(line: &str) {
    if line
        .split(' ')
        .next()
        .is_some_and(|p| p.ends_with(":signal-handler"))
    {
        return;
    }
    let parts: Vec<&str> = line.splitn(7, ' ').collect();
    assert_eq!(parts.len(), 7, "too few fields: {line:?}");
    let (pid, role) = parts[0].split_once(':').expect("pid:role");
    assert!(pid.bytes().all(|c| c.is_ascii_digit()), "pid in {line:?}");
    assert!(matches!(role, "M" | "C"), "role in {line:?}");
    assert!(
        parts[1].len() == 2 && parts[1].bytes().all(|c| c.is_ascii_digit()),
        "the day is two digits in {line:?}"
    );
    assert_eq!(parts[2].len(), 3, "month in {line:?}");
    assert_eq!(parts[3].len(), 4, "year in {line:?}");
    let t = parts[4].as_bytes();
    assert!(
        t.len() == 12 && t[2] == b':' && t[5] == b':' && t[8] == b'.',
        "time in {line:?}"
    );
    assert!(
        matches!(parts[5], "." | "-" | "*" | "#"),
        "level in {line:?}"
    );
}

/// A server of `kind` logging verbosely to a file; a client quits, then
/// SIGTERM stops it. Returns the log.
fn quit_then_sigterm_log(kind: Kind) -> String {
    let logs = TempDir::new("words-log");
    let log = logs.path().join("server.log");
    let log_arg = log.to_string_lossy().into_owned();
    let mut srv = TestServer::start(kind, &["--loglevel", "verbose", "--logfile", &log_arg]);
    let mut c = srv.raw_conn();
    assert_eq!(c.cmd_str(&["QUIT"]), "+OK\r\n");
    if kind == Kind::GoStore {
        wait_for(30, "the closed client in the log", || {
            std::fs::read_to_string(&log).is_ok_and(|l| l.contains("Client closed connection"))
        });
    }
    assert_eq!(srv.sigterm(), Some(0));
    std::fs::read_to_string(&log).expect("the log")
}

#[test]
fn log_lines_have_redis_s_format_and_words_not_rust_debug_text() {
    for kind in [Kind::Redis, Kind::GoStore] {
        let text = quit_then_sigterm_log(kind);
        for line in text.lines() {
            check_log_line(line);
            for debug in ["Some(", "None)", "(Sigterm)", "AfterReply"] {
                assert!(!line.contains(debug), "{kind:?}: {line}");
            }
        }
        assert!(
            text.lines()
                .any(|l| l.ends_with(" # User requested shutdown...")),
            "{kind:?}: {text}"
        );
        if kind == Kind::GoStore {
            assert!(
                text.lines()
                    .any(|l| l.contains("Client closed connection id=")
                        && l.ends_with("(reason: QUIT, end of stream or protocol error)")),
                "{text}"
            );
        }
    }
}

/// Starts `kind` with `args` and `conf` on its standard input; returns the
/// child once it answers on `port`.
fn start_with_stdin(kind: Kind, args: &[&str], conf: &str, port: u16) -> std::process::Child {
    use std::io::Write;
    let bin = match kind {
        Kind::GoStore => common::gostore_bin(),
        Kind::Redis => common::redis_bin(),
    };
    let mut child = std::process::Command::new(bin)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn the server");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(conf.as_bytes()).expect("write stdin");
    drop(stdin);
    let pid = child.id();
    wait_for(30, "the server to answer", || {
        if let Ok(Some(st)) = child.try_wait() {
            panic!("{kind:?} exited at start-up: {st}");
        }
        common::ping(port) && common::answered_by(port, pid)
    });
    child
}

fn stop(mut child: std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// `server -`: INFO's config_file is empty and CONFIG REWRITE refuses, in
/// both; GoStore's log says where the configuration came from.
#[test]
fn a_config_from_standard_input_is_reported_as_such_not_as_a_file() {
    for kind in [Kind::Redis, Kind::GoStore] {
        let dir = TempDir::new("stdin-report");
        let port = common::free_port();
        let log = dir.path().join("server.log");
        let conf = format!(
            "port {port}\nbind 127.0.0.1\nsave \"\"\nlogfile {}\n",
            log.display()
        );
        let child = start_with_stdin(
            kind,
            &["-", "--dir", dir.path().to_str().unwrap()],
            &conf,
            port,
        );
        let mut c = common::resp::RawConn::connect(port);
        let info = c.cmd_str(&["INFO", "server"]);
        assert!(info.contains("\r\nconfig_file:\r\n"), "{kind:?}: {info}");
        assert_eq!(
            c.cmd_str(&["CONFIG", "REWRITE"]),
            "-ERR The server is running without a config file\r\n",
            "{kind:?}"
        );
        stop(child);
        if kind == Kind::GoStore {
            let text = std::fs::read_to_string(&log).expect("the log");
            assert!(
                text.contains("* Configuration loaded from standard input\n"),
                "{text}"
            );
            assert!(!text.contains("no config file specified"), "{text}");
            assert!(!text.contains("gostore-stdin"), "{text}");
        }
    }
}

/// `server file --option value -`: the file, then standard input, then the
/// options, as redis-server applies them; the file stays the config file.
#[test]
fn standard_input_comes_after_the_file_and_before_the_options() {
    for kind in [Kind::Redis, Kind::GoStore] {
        let dir = TempDir::new("stdin-order");
        let port = common::free_port();
        let file = dir.path().join("main.conf");
        std::fs::write(&file, "hz 11\nappendfsync always\nmaxmemory 1mb\n").unwrap();
        let conf = format!("port {port}\nbind 127.0.0.1\nsave \"\"\nhz 22\nappendfsync no\n");
        let child = start_with_stdin(
            kind,
            &[
                file.to_str().unwrap(),
                "--hz",
                "33",
                "--dir",
                dir.path().to_str().unwrap(),
                "-",
            ],
            &conf,
            port,
        );
        let mut c = common::resp::RawConn::connect(port);
        let get = |c: &mut common::resp::RawConn, name: &str| {
            let r = c.cmd_str(&["CONFIG", "GET", name]);
            r.rsplit("\r\n").nth(1).unwrap_or_default().to_string()
        };
        assert_eq!(get(&mut c, "hz"), "33", "{kind:?}");
        assert_eq!(get(&mut c, "appendfsync"), "no", "{kind:?}");
        assert_eq!(get(&mut c, "maxmemory"), "1048576", "{kind:?}");
        let info = c.cmd_str(&["INFO", "server"]);
        let canonical = std::fs::canonicalize(&file).unwrap();
        assert!(
            info.contains(&format!("\r\nconfig_file:{}\r\n", canonical.display())),
            "{kind:?}: {info}"
        );
        stop(child);
    }
}

/// An error in the configuration from standard input names it, not a
/// temporary file that no longer exists.
#[test]
fn an_error_in_standard_input_is_located_there() {
    use std::io::Write;
    let mut child = std::process::Command::new(common::gostore_bin())
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn gostore");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"# comment\nbogus x\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().expect("gostore exits");
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("Reading the configuration from standard input, at line 2\n>>> 'bogus x'\nBad directive or wrong number of arguments"),
        "{text}"
    );
    assert!(!text.contains("gostore-stdin"), "{text}");
}

/// Relative `logfile`, `pidfile` and `unixsocket` all land under `dir`,
/// whatever the order of the options and the launch directory, as Redis
/// does (it changes directory when it applies `dir`).
#[test]
fn relative_paths_resolve_under_dir_as_in_redis() {
    for kind in [Kind::Redis, Kind::GoStore] {
        let launch = TempDir::new("paths-launch");
        let data = TempDir::new("paths-data");
        let port = common::free_port();
        let bin = match kind {
            Kind::GoStore => common::gostore_bin(),
            Kind::Redis => common::redis_bin(),
        };
        let mut child = std::process::Command::new(bin)
            .current_dir(launch.path())
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--logfile", "rel.log", "--pidfile", "rel.pid"])
            .args(["--unixsocket", "rel.sock", "--save", ""])
            .arg("--dir")
            .arg(data.path())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn the server");
        let pid = child.id();
        wait_for(30, "the server to answer", || {
            if let Ok(Some(st)) = child.try_wait() {
                panic!("{kind:?} exited at start-up: {st}");
            }
            common::ping(port) && common::answered_by(port, pid)
        });
        wait_for(30, "the pid file", || data.path().join("rel.pid").exists());
        for name in ["rel.log", "rel.sock"] {
            assert!(data.path().join(name).exists(), "{kind:?}: {name}");
        }
        let stray: Vec<_> = std::fs::read_dir(launch.path()).unwrap().collect();
        assert!(stray.is_empty(), "{kind:?} wrote {stray:?}");
        let mut c = common::resp::RawConn::connect(port);
        assert_eq!(
            c.cmd_str(&["CONFIG", "GET", "logfile"]),
            "*2\r\n$7\r\nlogfile\r\n$7\r\nrel.log\r\n",
            "{kind:?}"
        );
        drop(c);
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(pid as i32, libc::SIGTERM) };
        assert_eq!(child.wait().unwrap().code(), Some(0), "{kind:?}");
        let log = std::fs::read_to_string(data.path().join("rel.log")).unwrap();
        assert!(log.contains("ready to exit, bye bye"), "{kind:?}: {log}");
        assert!(!data.path().join("rel.pid").exists(), "{kind:?}");
    }
}

fn info_field(info: &str, name: &str) -> String {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in {info}"))
        .to_string()
}

/// With save points configured and writes made, the RDB fields of INFO
/// persistence count the changes waiting for a save as Redis does, and the
/// last save time is LASTSAVE, the start-up time before any save.
#[test]
fn rdb_fields_count_changes_since_the_last_save_as_redis() {
    let save = "3600 1 300 100 60 10000";
    let g = TestServer::gostore(&["--save", save]);
    let r = TestServer::redis(&["--save", save]);
    for srv in [&g, &r] {
        let mut c = srv.raw_conn();
        assert_eq!(
            c.cmd_str(&["CONFIG", "GET", "save"]),
            "*2\r\n$4\r\nsave\r\n$23\r\n3600 1 300 100 60 10000\r\n"
        );
        for i in 0..5 {
            assert_eq!(c.cmd_str(&["SET", &format!("k{i}"), "v"]), "+OK\r\n");
        }
        assert_eq!(c.cmd_str(&["INCR", "n"]), ":1\r\n");
        let info = c.cmd_str(&["INFO", "persistence"]);
        assert_eq!(info_field(&info, "rdb_changes_since_last_save"), "6");
        assert_eq!(info_field(&info, "rdb_saves"), "0");
        assert_eq!(info_field(&info, "rdb_last_bgsave_status"), "ok");
        let lastsave = c.cmd_str(&["LASTSAVE"]);
        assert_eq!(
            format!(":{}\r\n", info_field(&info, "rdb_last_save_time")),
            lastsave
        );
        let server = c.cmd_str(&["INFO", "server"]);
        let now: i64 = info_field(&server, "server_time_usec")
            .parse::<i64>()
            .unwrap()
            / 1_000_000;
        let uptime: i64 = info_field(&server, "uptime_in_seconds").parse().unwrap();
        let last: i64 = info_field(&info, "rdb_last_save_time").parse().unwrap();
        // The start-up time: now minus the uptime, give or take rounding.
        assert!(
            (now - uptime - last).abs() <= 2,
            "{last} vs {now} - {uptime}"
        );
    }
}
