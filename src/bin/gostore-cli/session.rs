//! The client session: connecting (AUTH, SELECT, HELLO 3), sending a
//! command N times, reading and printing its replies, and the state that
//! follows from them (database, MULTI, MONITOR and SUBSCRIBE output). This
//! is redis-cli's `cliConnect`, `issueCommandRepeat`, `cliSendCommand` and
//! `cliReadReply`, shared by the REPL and the one-shot command line.
//!
//! One deliberate difference: after any reconnect the session selects the
//! database asked for again (redis-cli 7.0 forgets to after a failed
//! reconnect, while its prompt still shows `[db]`).

use std::rc::Rc;
use std::time::Duration;

use crate::args::{atoi, Config};
use crate::conn::{Addr, Conn, ConnError};
use crate::format::{format_reply, invalidate_tty, OutputMode};
use crate::help::Help;
use crate::out::{errln, out, out_str};
use crate::resp::Reply;
use crate::signals;

/// A command or a connection setup that did not succeed; the reason has
/// already been printed, in redis-cli's words.
#[derive(Debug)]
pub struct Failed;

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("command failed (reason printed)")
    }
}

impl std::error::Error for Failed {}

/// The connection and everything redis-cli tracks about it.
pub struct Session {
    pub cfg: Config,
    pub conn: Option<Conn>,
    /// The REPL reconnects after a dropped connection; one-shot mode exits.
    pub interactive: bool,
    /// The database the live connection has selected.
    cur_db: i64,
    in_multi: bool,
    pre_multi_db: i64,
    /// Set by SHUTDOWN: a closed connection is then expected.
    shutdown: bool,
    /// Shared with the line editor's completion and hints.
    pub help: Rc<Help>,
}

/// Commands whose reply is printed raw even in the human format.
fn prints_raw(argv: &[Vec<u8>]) -> bool {
    let is = |i: usize, s: &str| {
        argv.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(s.as_bytes()))
    };
    let n = argv.len();
    is(0, "info")
        || is(0, "lolwut")
        || (n >= 2
            && is(0, "debug")
            && (is(1, "htstats") || is(1, "htstats-key") || is(1, "client-eviction")))
        || (n >= 2 && is(0, "memory") && (is(1, "malloc-stats") || is(1, "doctor")))
        || (n == 2 && is(0, "cluster") && (is(1, "nodes") || is(1, "info")))
        || (n >= 2 && is(0, "client") && (is(1, "list") || is(1, "info")))
        || (n == 3 && is(0, "latency") && is(1, "graph"))
        || (n == 2 && is(0, "latency") && is(1, "doctor"))
        || (n >= 2 && is(0, "proxy") && is(1, "info"))
}

impl Session {
    pub fn new(cfg: Config, interactive: bool) -> Session {
        Session {
            cfg,
            conn: None,
            interactive,
            cur_db: 0,
            in_multi: false,
            pre_multi_db: 0,
            shutdown: false,
            help: Rc::new(Help::default()),
        }
    }

    pub fn addr(&self) -> Addr {
        match &self.cfg.socket {
            Some(path) => Addr::Unix(path.clone()),
            None => Addr::Tcp(self.cfg.host.clone(), self.cfg.port),
        }
    }

    /// The REPL prompt: `127.0.0.1:6379[2](TX)> `, or `not connected> `.
    pub fn prompt(&self) -> String {
        if self.conn.is_none() {
            return "not connected> ".to_string();
        }
        let mut p = match &self.cfg.socket {
            Some(path) => format!("redis {path}"),
            None => self.addr().to_string(),
        };
        if self.cur_db != 0 {
            p.push_str(&format!("[{}]", self.cur_db));
        }
        if self.in_multi {
            p.push_str("(TX)");
        }
        p.push_str("> ");
        p
    }

    /// (Re)connects: AUTH, SELECT and HELLO 3 as configured. `Err` when the
    /// server cannot be reached (the connection is then gone) or when one of
    /// those commands failed (the connection stays, as in redis-cli).
    pub fn connect(&mut self, quiet: bool) -> Result<(), Failed> {
        self.conn = None;
        self.cur_db = 0;
        self.in_multi = false;
        let addr = self.addr();
        let mut conn = match Conn::connect(&addr) {
            Ok(c) => c,
            Err(e) => {
                if !quiet {
                    errln(&format!("Could not connect to Redis at {addr}: {e}"));
                }
                return Err(Failed);
            }
        };
        let setup = self.setup(&mut conn);
        self.conn = Some(conn);
        if self.help.is_empty() && self.interactive {
            self.load_help();
        }
        setup
    }

    fn setup(&mut self, conn: &mut Conn) -> Result<(), Failed> {
        if let Some(pass) = self.cfg.auth.clone() {
            let r = match &self.cfg.user {
                Some(user) => conn.call(&[b"AUTH", user, &pass]),
                None => conn.call(&[b"AUTH", &pass]),
            };
            check(r, "AUTH failed")?;
        }
        if self.cfg.db != self.cur_db {
            let db = self.cfg.db.to_string();
            check(
                conn.call(&[b"SELECT", db.as_bytes()]),
                &format!("SELECT {db} failed"),
            )?;
            self.cur_db = self.cfg.db;
        }
        if self.cfg.resp3 && !self.cfg.resp2 {
            check(conn.call(&[b"HELLO", b"3"]), "HELLO 3 failed")?;
        }
        Ok(())
    }

    /// Loads help, completion and hints from `COMMAND DOCS`.
    pub fn load_help(&mut self) {
        if let Some(conn) = self.conn.as_mut() {
            if let Ok(docs) = conn.call(&[b"COMMAND", b"DOCS"]) {
                if !docs.is_error() {
                    self.help = Rc::new(Help::from_docs(&docs));
                }
            }
        }
    }

    /// Runs one command line `repeat` times (negative: forever), printing
    /// the replies: redis-cli's `issueCommandRepeat`.
    pub fn issue(&mut self, argv: &[Vec<u8>], repeat: i64) -> Result<(), Failed> {
        let Some(cmd) = argv.first() else {
            return Ok(());
        };
        if cmd.eq_ignore_ascii_case(b"help") || cmd.as_slice() == b"?" {
            if self.help.is_empty() && argv.len() > 1 {
                if self.conn.is_none() {
                    let _ = self.connect(true);
                }
                self.load_help();
            }
            out(&self.help.output(&argv[1..]));
            return Ok(());
        }
        if self.conn.is_none() {
            self.connect(false)?;
        }
        match self.send_repeat(argv, repeat) {
            Ok(()) => Ok(()),
            Err(e) => {
                errln(&format!("Error: {e}"));
                self.conn = None;
                Err(Failed)
            }
        }
    }

    /// redis-cli's `cliSendCommand`.
    fn send_repeat(&mut self, argv: &[Vec<u8>], mut repeat: i64) -> Result<(), ConnError> {
        let is = |s: &str| argv[0].eq_ignore_ascii_case(s.as_bytes());
        let raw = prints_raw(argv);
        if is("shutdown") {
            self.shutdown = true;
        }
        let monitor = is("monitor");
        let pubsub = is("subscribe") || is("psubscribe") || is("ssubscribe");
        while repeat != 0 {
            if repeat > 0 {
                repeat -= 1;
            }
            let conn = self.conn.as_mut().ok_or(ConnError::Eof)?;
            conn.send(argv)?;
            if monitor || pubsub {
                if pubsub && self.cfg.output != OutputMode::Raw {
                    out_str("Reading messages... (press Ctrl-C to quit)\n");
                }
                self.stream_replies(raw)?;
                if monitor {
                    return Ok(());
                }
                continue;
            }
            let Some(reply) = self.read_reply(raw)? else {
                return Ok(());
            };
            self.track_state(argv, &reply);
            if self.cfg.interval_us > 0 {
                std::thread::sleep(Duration::from_micros(self.cfg.interval_us as u64));
            }
        }
        Ok(())
    }

    /// MONITOR and SUBSCRIBE: print every reply until Ctrl-C (REPL: then
    /// reconnect) or until MONITOR fails.
    fn stream_replies(&mut self, raw: bool) -> Result<(), ConnError> {
        signals::set_blocking_mode(self.interactive);
        let result = loop {
            let Some(conn) = self.conn.as_mut() else {
                break Ok(());
            };
            match conn.read_reply() {
                Ok(r) => {
                    self.print(&r, raw);
                    if r.is_error() {
                        break Ok(());
                    }
                }
                Err(ConnError::Aborted) => {
                    signals::set_blocking_mode(false);
                    let _ = self.connect(false);
                    break Ok(());
                }
                Err(e) => {
                    errln(&format!("Error: {e}"));
                    std::process::exit(1);
                }
            }
        };
        signals::set_blocking_mode(false);
        result
    }

    /// Reads the reply to a command and prints it; pushes that arrive first
    /// are printed (on a terminal) or dropped. `Ok(None)`: the connection
    /// closed after SHUTDOWN.
    fn read_reply(&mut self, raw: bool) -> Result<Option<Reply>, ConnError> {
        loop {
            let conn = self.conn.as_mut().ok_or(ConnError::Eof)?;
            let reply = match conn.read_reply() {
                Ok(r) => r,
                Err(_) if self.shutdown => {
                    self.shutdown = false;
                    self.conn = None;
                    return Ok(None);
                }
                Err(e) if self.interactive && e.is_disconnect() => return Err(e),
                Err(e) => {
                    errln(&format!("Error: {e}"));
                    std::process::exit(1);
                }
            };
            if let Reply::Push(_) = reply {
                if self.cfg.push_output {
                    let text = match invalidate_tty(&reply) {
                        Some(t) if self.cfg.output == OutputMode::Standard => t,
                        _ => format_reply(&reply, self.cfg.output, false, &self.cfg.delims),
                    };
                    out(&text);
                }
                continue;
            }
            if !self.interactive && self.cfg.set_errcode {
                if let Reply::Error(e) = &reply {
                    crate::out::err(&[e.as_slice(), b"\n"].concat());
                    std::process::exit(1);
                }
            }
            self.print(&reply, raw);
            return Ok(Some(reply));
        }
    }

    fn print(&self, r: &Reply, raw: bool) {
        out(&format_reply(r, self.cfg.output, raw, &self.cfg.delims));
    }

    /// What a successful SELECT, AUTH, MULTI, EXEC, DISCARD or RESET changes.
    fn track_state(&mut self, argv: &[Vec<u8>], reply: &Reply) {
        let is = |s: &str| argv[0].eq_ignore_ascii_case(s.as_bytes());
        let ok = !reply.is_error();
        let n = argv.len();
        if is("select") && n == 2 && ok {
            self.cfg.db = atoi(&argv[1]);
            self.cur_db = self.cfg.db;
        } else if is("auth") && (n == 2 || n == 3) {
            if self.cfg.db != self.cur_db {
                let db = self.cfg.db.to_string();
                if let Some(conn) = self.conn.as_mut() {
                    if check(
                        conn.call(&[b"SELECT", db.as_bytes()]),
                        &format!("SELECT {db} failed"),
                    )
                    .is_ok()
                    {
                        self.cur_db = self.cfg.db;
                    }
                }
            }
        } else if is("multi") && n == 1 && ok {
            self.in_multi = true;
            self.pre_multi_db = self.cur_db;
        } else if is("exec") && n == 1 && self.in_multi {
            self.in_multi = false;
            if !ok || *reply == Reply::Nil {
                self.cfg.db = self.pre_multi_db;
                self.cur_db = self.pre_multi_db;
            }
        } else if is("discard") && n == 1 && ok {
            self.in_multi = false;
            self.cfg.db = self.pre_multi_db;
            self.cur_db = self.pre_multi_db;
        } else if is("reset") && n == 1 && ok {
            self.in_multi = false;
            self.cfg.db = 0;
            self.cur_db = 0;
            self.cfg.resp3 = false;
        }
    }
}

impl Session {
    /// One command for `--stat` and `--latency`: on a dropped link, retry
    /// once a second, showing `Reconnecting... N` (redis-cli's
    /// `reconnectingRedisCommand`).
    pub fn reconnecting_call(&mut self, argv: &[&[u8]]) -> Reply {
        let mut tries = 0;
        loop {
            while self.conn.is_none() {
                tries += 1;
                out_str(&format!("\r\x1b[0KReconnecting... {tries}\r"));
                let _ = self.connect(true);
                std::thread::sleep(Duration::from_secs(1));
            }
            let Some(conn) = self.conn.as_mut() else {
                continue;
            };
            match conn.call(argv) {
                Ok(r) => {
                    if tries > 0 {
                        out_str("\r\x1b[0K");
                    }
                    return r;
                }
                Err(ConnError::Eof) | Err(ConnError::Io(_)) => self.conn = None,
                Err(e) => {
                    errln(&format!("Error: {e}"));
                    std::process::exit(1);
                }
            }
        }
    }
}

/// Prints `what: <error>` for a failed setup command.
fn check(r: Result<Reply, ConnError>, what: &str) -> Result<(), Failed> {
    match r {
        Ok(Reply::Error(e)) => {
            errln(&format!("{what}: {}", String::from_utf8_lossy(&e)));
            Err(Failed)
        }
        Ok(_) => Ok(()),
        Err(_) => {
            errln("\nI/O error");
            Err(Failed)
        }
    }
}
