//! The process: command line and config file as redis-server takes them,
//! start-up errors, the log banner, signals, Unix sockets and IPv6, QUIT.

mod common;

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use common::{gostore_bin, Kind, TempDir, TestServer};

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(gostore_bin())
        .args(args)
        .output()
        .expect("run gostore");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn version_and_help_print_and_exit_zero() {
    let (code, out) = run(&["--version"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with(&format!(
            "GoStore server v={} redis_version=7.0.15",
            env!("CARGO_PKG_VERSION")
        )),
        "{out}"
    );
    assert_eq!(run(&["-v"]).1, out);
    let (code, out) = run(&["--help"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("Usage: ./gostore [/path/to/gostore.conf] [options]"),
        "{out}"
    );
}

#[test]
fn a_bad_directive_stops_start_up_naming_file_line_and_directive() {
    let dir = TempDir::new("badconf");
    let conf = dir.path().join("bad.conf");
    std::fs::write(&conf, "# a comment\nport 7000\nappendfsync sometimes\n").unwrap();
    let (code, out) = run(&[conf.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.contains("*** FATAL CONFIG FILE ERROR"), "{out}");
    assert!(out.contains("bad.conf, at line 3"), "{out}");
    assert!(out.contains(">>> 'appendfsync sometimes'"), "{out}");
    assert!(
        out.contains("argument(s) must be one of the following: everysec, always, no"),
        "{out}"
    );
    std::fs::write(&conf, "nosuchdirective 1\n").unwrap();
    let (code, out) = run(&[conf.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        out.contains("Bad directive or wrong number of arguments"),
        "{out}"
    );
    let (code, out) = run(&["--port", "99999"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("argument must be between 0 and 65535 inclusive"),
        "{out}"
    );
    let (code, out) = run(&["/nonexistent/gostore.conf"]);
    assert_eq!(code, 1);
    assert!(out.contains("can't open config file"), "{out}");
}

#[test]
fn the_file_includes_and_command_line_overrides_apply_in_order() {
    let dir = TempDir::new("conf");
    let inc = dir.path().join("inc.conf");
    std::fs::write(&inc, "hz 25\nappendfsync no\n").unwrap();
    let conf = dir.path().join("main.conf");
    std::fs::write(
        &conf,
        format!(
            "include {}\nappendfsync always\nrequirepass \"s3cret pass\"\n",
            inc.display()
        ),
    )
    .unwrap();
    let srv = TestServer::gostore(&[conf.to_str().unwrap(), "--hz", "30"]);
    let mut c = srv.raw_conn();
    assert_eq!(c.cmd_str(&["AUTH", "s3cret pass"]), "+OK\r\n");
    assert_eq!(
        c.cmd_str(&["CONFIG", "GET", "appendfsync"]),
        "*2\r\n$11\r\nappendfsync\r\n$6\r\nalways\r\n"
    );
    assert_eq!(
        c.cmd_str(&["CONFIG", "GET", "hz"]),
        "*2\r\n$2\r\nhz\r\n$2\r\n30\r\n"
    );
}

#[test]
fn a_config_read_from_stdin_is_used() {
    let dir = TempDir::new("stdin");
    let port = common::free_port();
    let mut child = Command::new(gostore_bin())
        .args(["-", "--dir", dir.path().to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("port {port}\nbind 127.0.0.1\n").as_bytes())
        .unwrap();
    common::wait_for(30, "the server to answer", || common::ping(port));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn the_log_shows_the_banner_and_ready_after_loading() {
    let dir = TempDir::new("log");
    let port = common::free_port();
    let log = dir.path().join("gostore.log");
    let mut child = Command::new(gostore_bin())
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--dir",
            dir.path().to_str().unwrap(),
            "--logfile",
            log.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    common::wait_for(30, "the server to answer", || common::ping(port));
    let text = std::fs::read_to_string(&log).unwrap();
    let pid = child.id();
    assert!(text.contains("GoStore is starting"), "{text}");
    assert!(text.contains(&format!("pid={pid}")), "{text}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(text.contains("Ready to accept connections"), "{text}");
    // SIGINT: a clean shutdown, logged.
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(pid as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("Received SIGINT scheduling shutdown"),
        "{text}"
    );
    assert!(text.contains("ready to exit, bye bye"), "{text}");
}

#[test]
fn a_unix_socket_is_served_with_its_permissions() {
    let dir = TempDir::new("unix");
    let sock = dir.path().join("gostore.sock");
    let srv = TestServer::gostore(&[
        "--unixsocket",
        sock.to_str().unwrap(),
        "--unixsocketperm",
        "700",
    ]);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let mut s = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    s.write_all(b"PING\r\nCLIENT INFO\r\n").unwrap();
    let mut buf = vec![0u8; 4096];
    let mut got = Vec::new();
    while !String::from_utf8_lossy(&got).contains("resp=2") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("+PONG\r\n"), "{text}");
    assert!(
        text.contains(&format!("addr={}:0", sock.display())),
        "{text}"
    );
    let mut srv = srv;
    assert_eq!(srv.sigterm(), Some(0));
    assert!(
        !sock.exists(),
        "the socket file is removed on a clean shutdown"
    );
}

#[test]
fn ipv6_loopback_is_served_when_the_host_has_it() {
    // The default bind is "127.0.0.1 -::1": ::1 is optional.
    let dir = TempDir::new("ipv6");
    let port = common::free_port();
    let mut child = Command::new(gostore_bin())
        .args([
            "--port",
            &port.to_string(),
            "--dir",
            dir.path().to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    common::wait_for(30, "the server to answer", || common::ping(port));
    if let Ok(mut s) = std::net::TcpStream::connect(("::1", port)) {
        s.write_all(b"PING\r\n").unwrap();
        let mut buf = [0u8; 7];
        s.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"+PONG\r\n");
    } else {
        assert!(
            std::net::TcpListener::bind("[::1]:0").is_err(),
            "::1 exists on this host, so GoStore must listen on it"
        );
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn quit_replies_ok_and_closes() {
    let srv = TestServer::gostore(&[]);
    let mut c = srv.raw_conn();
    c.send(b"QUIT\r\nPING\r\n");
    assert_eq!(c.read_to_close(), b"+OK\r\n", "nothing after QUIT runs");
}

#[test]
fn shutdown_with_options_exits_zero_and_keeps_data() {
    for opts in [&["NOSAVE"][..], &["SAVE", "NOW", "FORCE"][..], &[][..]] {
        let mut srv = TestServer::gostore(&[]);
        let mut c = srv.raw_conn();
        c.cmd_str(&["SET", "k", "v"]);
        let mut args = vec!["SHUTDOWN"];
        args.extend_from_slice(opts);
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        c.send(&common::resp::encode(&a));
        assert!(c.is_closed(), "SHUTDOWN {opts:?} closes without a reply");
        assert_eq!(srv.wait(), Some(0));
        srv.restart();
        assert_eq!(srv.raw_conn().cmd_str(&["GET", "k"]), "$1\r\nv\r\n");
        assert_eq!(srv.kind, Kind::GoStore);
    }
}

/// `THP_enabled` of a process's /proc status (Linux 5.0 and later).
fn thp_enabled(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("THP_enabled:"))
        .map(|v| v.trim().to_string())
        .expect("THP_enabled in /proc/PID/status (Linux 5.0 or later)")
}

#[test]
fn transparent_huge_pages_are_off_for_the_process_unless_disable_thp_is_no() {
    let on = TestServer::gostore(&[]);
    let off = TestServer::gostore(&["--disable-thp", "no"]);
    assert_eq!(thp_enabled(on.pid().unwrap()), "0");
    assert_eq!(thp_enabled(off.pid().unwrap()), "1");
    let mut c = on.client();
    let got: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("disable-thp")
        .query(&mut c)
        .unwrap();
    assert_eq!(got, ["disable-thp", "yes"]);
}

#[test]
fn start_up_warns_when_memory_overcommit_is_off() {
    let overcommit = std::fs::read_to_string("/proc/sys/vm/overcommit_memory").unwrap();
    let dir = TempDir::new("overcommit");
    let port = common::free_port();
    let log = dir.path().join("gostore.log");
    let mut child = Command::new(gostore_bin())
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--dir", dir.path().to_str().unwrap()])
        .args(["--logfile", log.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    common::wait_for(30, "the server to answer", || common::ping(port));
    let text = std::fs::read_to_string(&log).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let warned = text.contains("WARNING Memory overcommit must be enabled!");
    assert_eq!(
        warned,
        overcommit.trim() != "1",
        "vm.overcommit_memory = {overcommit}: {text}"
    );
}
