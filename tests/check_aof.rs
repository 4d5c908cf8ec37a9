//! gostore-check-aof: checks a manifest or a single file, reports the first
//! bad offset (the one the server reports), repairs a truncated or corrupt
//! last file with --fix after asking, and never touches a valid file.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{Kind, TempDir, TestServer};

const SET_A: &[u8] = b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n";
const SET_B: &[u8] = b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n";
const MANIFEST: &str =
    "file database.aof.1.base.aof seq 1 type b\nfile database.aof.1.incr.aof seq 1 type i\n";

/// A directory with an AOF set: the base and the incr file hold these bytes.
fn aof_set(base: &[u8], incr: &[u8]) -> (TempDir, PathBuf) {
    let dir = TempDir::new("check-aof");
    let a = dir.path().join("appendonlydir");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::write(a.join("database.aof.manifest"), MANIFEST).unwrap();
    std::fs::write(a.join("database.aof.1.base.aof"), base).unwrap();
    std::fs::write(a.join("database.aof.1.incr.aof"), incr).unwrap();
    (dir, a)
}

/// Runs the tool with `args`, feeding `stdin`; returns (exit code, stdout).
fn run(args: &[&str], path: &Path, stdin: &str) -> (i32, String) {
    let mut child = Command::new(common::check_aof_bin())
        .args(args)
        .arg(path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run gostore-check-aof");
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Every file's bytes and modification time.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>, std::time::SystemTime)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
                e.metadata().unwrap().modified().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn a_valid_set_is_reported_valid_and_left_untouched_even_with_fix() {
    let (_dir, a) = aof_set(SET_A, SET_B);
    let before = snapshot(&a);
    let (code, out) = run(&[], &a.join("database.aof.manifest"), "");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("BASE AOF database.aof.1.base.aof is valid"),
        "{out}"
    );
    assert!(
        out.contains("INCR AOF database.aof.1.incr.aof is valid"),
        "{out}"
    );
    assert!(
        out.contains("All AOF files and manifest are valid"),
        "{out}"
    );
    let (code, _) = run(&["--fix", "--yes"], &a.join("database.aof.manifest"), "");
    assert_eq!(code, 0);
    assert_eq!(snapshot(&a), before, "a valid file is never written");
}

#[test]
fn a_truncated_last_command_is_reported_and_fixed_only_after_a_yes() {
    let incr = [SET_B, &b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$5\r\nhel"[..]].concat();
    let (dir, a) = aof_set(SET_A, &incr);
    let m = a.join("database.aof.manifest");
    let incr_path = a.join("database.aof.1.incr.aof");
    let (code, out) = run(&[], &m, "");
    assert_eq!(code, 1);
    assert!(out.contains(&format!("at offset {}", SET_B.len())), "{out}");
    assert!(
        out.contains("AOF database.aof.1.incr.aof is not valid. Use the --fix option"),
        "{out}"
    );
    // The question, answered no: nothing changes.
    let (code, out) = run(&["--fix"], &m, "n\n");
    assert_eq!(code, 1);
    assert!(
        out.contains("Continue? [y/N]") && out.contains("Aborting"),
        "{out}"
    );
    assert_eq!(std::fs::read(&incr_path).unwrap(), incr);
    // Answered yes: cut after the last whole command.
    let (code, out) = run(&["--fix"], &m, "y\n");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Successfully truncated AOF database.aof.1.incr.aof"));
    assert_eq!(std::fs::read(&incr_path).unwrap(), SET_B);
    let srv = TestServer::gostore_in(dir.path(), &["--aof-load-truncated", "no"]);
    assert_eq!(
        srv.raw_conn().cmd_str(&["MGET", "a", "b", "c"]),
        "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n"
    );
}

#[test]
fn corruption_is_reported_at_the_offset_the_server_names_and_fix_yes_cuts_there() {
    let incr = [SET_B, b"*2\r\n$3\r\nGET\r\nxx\r\n", SET_A].concat();
    let (dir, a) = aof_set(SET_A, &incr);
    let (code, server_out) = TestServer::start_failing(Kind::GoStore, dir.path(), &[]);
    assert_eq!(code, 1);
    // The offset of the command that holds the bad bytes.
    let offset = SET_B.len();
    assert!(
        server_out.contains(&format!("database.aof.1.incr.aof at offset {offset}")),
        "{server_out}"
    );
    assert!(
        server_out.contains("gostore-check-aof --fix appendonlydir/database.aof.manifest"),
        "{server_out}"
    );
    let m = a.join("database.aof.manifest");
    let (code, out) = run(&[], &m, "");
    assert_eq!(code, 1);
    assert!(
        out.contains(&format!(
            "Bad file format at offset {offset}: Protocol error: expected '$', got 'x'"
        )),
        "{out}"
    );
    assert!(out.contains(&format!("ok_up_to={offset}")), "{out}");
    let (code, out) = run(&["--fix", "--yes"], &m, "");
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        std::fs::read(a.join("database.aof.1.incr.aof")).unwrap(),
        SET_B
    );
    let srv = TestServer::gostore_in(dir.path(), &[]);
    assert_eq!(
        srv.raw_conn().cmd_str(&["MGET", "a", "b"]),
        "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    );
}

#[test]
fn a_problem_in_a_file_other_than_the_last_is_not_fixed_by_truncation() {
    let (_dir, a) = aof_set(&[SET_A, b"*3\r\n$3\r\nSE"].concat(), SET_B);
    let before = snapshot(&a);
    let (code, out) = run(&["--fix", "--yes"], &a.join("database.aof.manifest"), "");
    assert_eq!(code, 1);
    assert!(
        out.contains(
            "Failed to truncate AOF database.aof.1.base.aof because it is not the last file"
        ),
        "{out}"
    );
    assert_eq!(snapshot(&a), before);
}

#[test]
fn a_command_gostore_cannot_replay_is_reported_and_not_truncated() {
    let incr = [SET_B, b"*3\r\n$10\r\nFROBNICATE\r\n$1\r\ns\r\n$1\r\nx\r\n"].concat();
    let (dir, a) = aof_set(SET_A, &incr);
    let before = snapshot(&a);
    let (code, out) = run(&["--fix", "--yes"], &a.join("database.aof.manifest"), "");
    assert_eq!(code, 1);
    assert!(
        out.contains(&format!(
            "Unknown command 'FROBNICATE' at offset {}",
            SET_B.len()
        )),
        "{out}"
    );
    assert!(out.contains("well-formed"), "{out}");
    assert_eq!(snapshot(&a), before);
    let (_, server_out) = TestServer::start_failing(Kind::GoStore, dir.path(), &[]);
    assert!(
        server_out.contains("Unknown command 'FROBNICATE'"),
        "{server_out}"
    );
}

#[test]
fn a_missing_file_or_a_malformed_manifest_is_an_error() {
    let (_dir, a) = aof_set(SET_A, SET_B);
    let m = a.join("database.aof.manifest");
    std::fs::remove_file(a.join("database.aof.1.incr.aof")).unwrap();
    let (code, out) = run(&[], &m, "");
    assert_eq!(code, 1);
    assert!(
        out.contains("database.aof.1.incr.aof") && out.contains("No such file"),
        "{out}"
    );
    std::fs::write(&m, "file database.aof.1.base.aof seq 1\n").unwrap();
    let (code, out) = run(&[], &m, "");
    assert_eq!(code, 1);
    assert!(out.contains("Invalid AOF manifest"), "{out}");
}

#[test]
fn a_single_legacy_file_is_checked_and_fixed() {
    let dir = TempDir::new("check-legacy");
    let f = dir.path().join("database.aof");
    std::fs::write(&f, [SET_A, b"*1\r\n$5\r\nMULTI\r\n", SET_B].concat()).unwrap();
    let (code, out) = run(&[], &f, "");
    assert_eq!(code, 1);
    assert!(out.contains("Start checking Old-Style AOF"), "{out}");
    assert!(
        out.contains("Reached EOF before reading EXEC for MULTI"),
        "{out}"
    );
    let (code, _) = run(&["--fix", "--yes"], &f, "");
    assert_eq!(code, 0);
    assert_eq!(
        std::fs::read(&f).unwrap(),
        SET_A,
        "cut before the open MULTI"
    );
    let (code, out) = run(&[], &f, "");
    assert_eq!(code, 0);
    assert!(out.contains("is valid"), "{out}");
}

#[test]
fn truncate_to_timestamp_cuts_the_last_file_at_the_first_later_annotation() {
    let incr = [
        &b"#TS:1000\r\n"[..],
        SET_B,
        b"#TS:2000\r\n",
        b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\n3\r\n",
    ]
    .concat();
    let (_dir, a) = aof_set(SET_A, &incr);
    let m = a.join("database.aof.manifest");
    let (code, out) = run(&["--truncate-to-timestamp", "1500"], &m, "");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Successfully truncated AOF database.aof.1.incr.aof to timestamp 1500"));
    assert_eq!(
        std::fs::read(a.join("database.aof.1.incr.aof")).unwrap(),
        [&b"#TS:1000\r\n"[..], SET_B].concat()
    );
}

#[test]
fn redis_s_own_files_check_valid_an_rdb_base_included() {
    let mut r = TestServer::redis(&[
        "--appendonly",
        "yes",
        "--aof-use-rdb-preamble",
        "no",
        "--aof-timestamp-enabled",
        "yes",
    ]);
    let mut c = r.raw_conn();
    c.cmd_str(&["SET", "k", "v", "EX", "100"]);
    c.cmd_str(&["MULTI"]);
    c.cmd_str(&["HSET", "h", "a", "1"]);
    c.cmd_str(&["INCR", "n"]);
    c.cmd_str(&["EXEC"]);
    let m = r.path.join("appendonlydir/appendonly.aof.manifest");
    let (code, out) = run(&[], &m, "");
    assert_eq!(code, 0, "{out}");
    // Redis's default: the base is an RDB file.
    c.cmd_str(&["CONFIG", "SET", "aof-use-rdb-preamble", "yes"]);
    c.cmd_str(&["BGREWRITEAOF"]);
    common::wait_for(30, "Redis's rewrite", || {
        let i = c.cmd_str(&["INFO", "persistence"]);
        i.contains("aof_rewrite_in_progress:0") && i.contains("aof_rewrites:1")
    });
    c.cmd_str(&["SET", "after", "1"]);
    r.sigterm();
    let a = r.path.join("appendonlydir");
    let m = a.join("appendonly.aof.manifest");
    let (code, out) = run(&[], &m, "");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Start to check BASE AOF (RDB format)."),
        "{out}"
    );
    assert!(
        out.contains("BASE AOF appendonly.aof.2.base.rdb is valid"),
        "{out}"
    );
    // A damaged RDB base is reported, with where it went wrong.
    let base = a.join("appendonly.aof.2.base.rdb");
    let mut b = std::fs::read(&base).unwrap();
    let n = b.len();
    b[n - 3] ^= 0xff; // inside the CRC64
    std::fs::write(&base, &b).unwrap();
    let (code, out) = run(&[], &m, "");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("RDB preamble") && out.contains("checksum"),
        "{out}"
    );
}
