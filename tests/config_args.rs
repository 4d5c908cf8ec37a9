//! Multi-argument directives (bind, save, client-output-buffer-limit,
//! latency-tracking-info-percentiles) given as one argument: Redis 7 splits
//! such a value, in the config file, on the command line and in CONFIG SET.
//! Each path is compared with a real redis-server given the same input.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::{gostore_bin, redis_bin, TempDir, TestServer};

/// The multi-argument directives GoStore has (Redis's MULTI_ARG_CONFIG).
const MULTI: &[&str] = &[
    "bind",
    "save",
    "client-output-buffer-limit",
    "latency-tracking-info-percentiles",
];

fn config_get(port: u16, name: &str) -> String {
    common::resp::RawConn::connect(port).cmd_str(&["CONFIG", "GET", name])
}

fn has_ipv6_loopback() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

fn ping_v6(port: u16) -> bool {
    let Ok(mut s) = std::net::TcpStream::connect(("::1", port)) else {
        return false;
    };
    let mut buf = [0u8; 7];
    s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

#[test]
fn one_command_line_argument_holding_several_values_is_split_as_redis_does() {
    // `--bind "127.0.0.1 ::1"` must listen on both (where the host has ::1).
    let bind = if has_ipv6_loopback() {
        "127.0.0.1 ::1"
    } else {
        "127.0.0.1"
    };
    let args = [
        "--bind",
        bind,
        "--client-output-buffer-limit",
        "normal 1mb 512kb 1",
        "--save",
        "100 10 200 20",
        "--latency-tracking-info-percentiles",
        "50 90",
    ];
    let redis = TestServer::redis(&args);
    let gostore = TestServer::gostore(&args);
    for name in MULTI {
        assert_eq!(
            config_get(gostore.port, name),
            config_get(redis.port, name),
            "CONFIG GET {name}"
        );
    }
    assert!(config_get(gostore.port, "bind").contains(bind));
    if bind.contains("::1") {
        assert!(ping_v6(redis.port), "redis-server listens on ::1");
        assert!(ping_v6(gostore.port), "GoStore listens on ::1 as well");
    }
}

/// A server started with only a config file (the harness's `--bind` would
/// override the file's), killed on drop.
struct FileServer {
    child: Child,
    port: u16,
}

impl FileServer {
    fn start(bin: &Path, dir: &Path, body: &str, args: &[&str]) -> FileServer {
        let port = common::free_port();
        let conf = dir.join("server.conf");
        std::fs::write(&conf, format!("port {port}\ndir {}\n{body}", dir.display()))
            .expect("write config");
        let child = Command::new(bin)
            .arg(&conf)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn server");
        let mut s = FileServer { child, port };
        common::wait_for(30, "the server to answer PING", || {
            assert!(
                s.child.try_wait().ok().flatten().is_none(),
                "{} exited at start-up with config:\n{body}",
                bin.display()
            );
            common::ping(port)
        });
        s
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn one_config_file_value_holding_several_values_is_split_as_redis_does() {
    let bind = if has_ipv6_loopback() {
        "\"127.0.0.1 ::1\""
    } else {
        "\"127.0.0.1\""
    };
    let body = format!(
        "bind {bind}\nappendonly no\nsave \"100 10  200 20\"\nclient-output-buffer-limit \"normal 1mb 512kb 1\"\nclient-output-buffer-limit \"pubsub 2mb 1mb 5 replica 3mb 2mb 7\"\nlatency-tracking-info-percentiles \"50 90\"\n"
    );
    let (rdir, gdir) = (TempDir::new("args-redis"), TempDir::new("args-gostore"));
    let redis = FileServer::start(&redis_bin(), rdir.path(), &body, &[]);
    let gostore = FileServer::start(&gostore_bin(), gdir.path(), &body, &[]);
    for name in MULTI {
        assert_eq!(
            config_get(gostore.port, name),
            config_get(redis.port, name),
            "CONFIG GET {name}"
        );
    }
    assert!(config_get(gostore.port, "save").contains("100 10 200 20"));
    if bind.contains("::1") {
        assert!(ping_v6(redis.port), "redis-server listens on ::1");
        assert!(ping_v6(gostore.port), "GoStore listens on ::1 as well");
    }
}

#[test]
fn config_set_splits_a_multi_argument_value_on_each_space_as_redis_does() {
    // Redis's CONFIG SET splits on every single space (sdssplitlen): an
    // empty value is no argument, and doubled, leading or trailing spaces
    // make empty arguments, which the directive then refuses. (bind is left
    // out: changing it rebinds the listeners, tested elsewhere.)
    let cases: &[(&str, &[&str])] = &[
        (
            "client-output-buffer-limit",
            &[
                "normal 1mb 512kb 1",
                "pubsub 2mb 1mb 5 replica 3mb 2mb 7",
                "normal  1mb 512kb 1",
                " normal 1mb 512kb 1",
                "normal 1mb 512kb 1 ",
                "   ",
                "",
            ],
        ),
        (
            "save",
            &["100 10", "100 10 200 20", "100  10", " ", "100 10 ", ""],
        ),
        (
            "latency-tracking-info-percentiles",
            &["50 90", "50  90", " 50", " ", "", "99.9"],
        ),
    ];
    let redis = TestServer::redis(&[]);
    let gostore = TestServer::gostore(&[]);
    let (mut r, mut g) = (redis.raw_conn(), gostore.raw_conn());
    for (name, values) in cases {
        for value in *values {
            let want = r.cmd_str(&["CONFIG", "SET", name, value]);
            let got = g.cmd_str(&["CONFIG", "SET", name, value]);
            assert_eq!(got, want, "CONFIG SET {name} {value:?}");
            assert_eq!(
                g.cmd_str(&["CONFIG", "GET", name]),
                r.cmd_str(&["CONFIG", "GET", name]),
                "CONFIG GET {name} after setting {value:?}"
            );
        }
    }
}

#[test]
fn save_lines_in_the_file_and_on_the_command_line_add_up_as_in_redis() {
    // Redis reads the options as config lines after the file's: the first
    // `save` replaces the defaults, the others add to it, `save ""` clears.
    let cases: &[(&str, &[&str])] = &[
        ("save 10 1\n", &["--save", "20 2"]),
        (
            "save 10 1\nsave 30 3\n",
            &["--save", "20 2", "--save", "40 4"],
        ),
        ("save 10 1\n", &["--save", ""]),
        ("save 10 1\n", &["--save", "", "--save", "20 2"]),
        ("", &["--save", "20 2", "--save", "40 4"]),
        ("save 10 1\n", &[]),
    ];
    for (i, (file, args)) in cases.iter().enumerate() {
        let body = format!("appendonly no\n{file}");
        let (rdir, gdir) = (TempDir::new("save-redis"), TempDir::new("save-gostore"));
        let redis = FileServer::start(&redis_bin(), rdir.path(), &body, args);
        let gostore = FileServer::start(&gostore_bin(), gdir.path(), &body, args);
        assert_eq!(
            config_get(gostore.port, "save"),
            config_get(redis.port, "save"),
            "case {i}: file {file:?}, options {args:?}"
        );
    }
}

/// The replies of one client session, sent to a server at `port`.
fn session(port: u16, cmds: &[&[&str]]) -> Vec<String> {
    let mut c = common::resp::RawConn::connect(port);
    cmds.iter().map(|cmd| c.cmd_str(cmd)).collect()
}

#[test]
fn protected_configs_are_refused_by_default_as_redis_does() {
    let target = TempDir::new("protected-target");
    let t = target.path().to_string_lossy().into_owned();
    let cmds: &[&[&str]] = &[
        &["CONFIG", "SET", "dir", &t],
        &["CONFIG", "SET", "dbfilename", "other.rdb"],
        // Names are checked before any value: the protected one is named,
        // not the bad number before it.
        &["CONFIG", "SET", "hz", "abc", "dir", &t],
        &["CONFIG", "SET", "enable-protected-configs", "yes"],
        &["CONFIG", "SET", "enable-debug-command", "yes"],
        &["CONFIG", "GET", "enable-protected-configs"],
        &["CONFIG", "GET", "enable-debug-command"],
        &["CONFIG", "GET", "hz"],
    ];
    let redis = TestServer::redis(&[]);
    let gostore = TestServer::gostore(&[]);
    let want = session(redis.port, cmds);
    assert_eq!(
        want[0],
        "-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config\r\n"
    );
    assert_eq!(session(gostore.port, cmds), want);
}

#[test]
fn enable_protected_configs_yes_or_local_lets_config_set_dir_move_as_redis_does() {
    for access in ["yes", "local"] {
        let target = TempDir::new("protected-target");
        let t = std::fs::canonicalize(target.path())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let missing = format!("{t}/missing");
        let cmds: &[&[&str]] = &[
            &["CONFIG", "SET", "dir", &t],
            &["CONFIG", "GET", "dir"],
            &["CONFIG", "SET", "dir", &missing],
            &["CONFIG", "GET", "dir"],
            // A failure later in the same CONFIG SET moves back.
            &["CONFIG", "SET", "dir", "/", "port", "99999"],
            &["CONFIG", "GET", "dir"],
            &["CONFIG", "SET", "dbfilename", "other.rdb"],
            &["CONFIG", "GET", "dbfilename"],
            &["CONFIG", "GET", "enable-protected-configs"],
        ];
        let args = ["--enable-protected-configs", access];
        let redis = TestServer::redis(&args);
        let gostore = TestServer::gostore(&args);
        let want = session(redis.port, cmds);
        assert_eq!(want[0], "+OK\r\n", "{access}");
        assert!(want[1].contains(&t), "{want:?}");
        assert_eq!(session(gostore.port, cmds), want, "{access}");
    }
}
