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
