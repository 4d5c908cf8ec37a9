//! gostore-cli: GoStore's command-line client, a drop-in for redis-cli in
//! what people use it for.
//!
//! Tour of the modules, in the order a command flows through them:
//! - `args`, `uri`: flags and `redis://` URIs → `Config`.
//! - `split`: a typed line → argv, with redis-cli's quoting rules.
//! - `session`: connect (AUTH, SELECT, HELLO 3), send argv N times, track
//!   SELECT/MULTI state, MONITOR and SUBSCRIBE output.
//! - `conn`, `resp`: the socket and the incremental RESP2/RESP3 reader.
//! - `format`: replies → bytes, exactly as redis-cli prints them.
//! - `repl`, `help`: the interactive loop, history, completion and hints
//!   from `COMMAND DOCS`.
//! - `pipe`, `stat`, `latency`, `scan`: the special modes.
//! - `signals`, `out`: SIGINT/SIGPIPE handling and panic-free output.
//!
//! **Invariant:** the CLI depends on no part of the `gostore` library; it
//! speaks to any Redis-compatible server over the wire only.

mod args;
mod conn;
mod format;
mod help;
mod latency;
mod out;
mod pipe;
mod repl;
mod resp;
mod scan;
mod session;
mod signals;
mod stat;
mod uri;

use std::io::Read;
use std::os::unix::ffi::OsStringExt;

use args::{Config, Parsed};
use out::{errln, out_str};
use session::Session;

/// Printed by `--version` and `help`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

fn main() {
    let argv: Vec<Vec<u8>> = std::env::args_os()
        .skip(1)
        .map(OsStringExt::into_vec)
        .collect();
    // FAKETTY: redis-cli's switch to the terminal format for scripts.
    let stdout_tty = out::isatty(1) || std::env::var_os("FAKETTY").is_some();
    let (mut cfg, words) = match args::parse(&argv, stdout_tty) {
        Ok(Parsed::Run(cfg, words)) => (*cfg, words),
        Ok(Parsed::Help) => {
            out_str(&args::usage());
            std::process::exit(0);
        }
        Ok(Parsed::Version) => {
            out_str(&format!("gostore-cli {VERSION}\n"));
            std::process::exit(0);
        }
        Err(e) => {
            errln(&e.to_string());
            std::process::exit(1);
        }
    };
    if cfg.auth.is_none() {
        cfg.auth = std::env::var_os(args::AUTH_ENV).map(OsStringExt::into_vec);
    }
    if words.is_empty() && !cfg.latency && !cfg.pipe && !cfg.stat && !cfg.scan {
        repl::run(Session::new(cfg, true));
    }
    signals::default_sigpipe();
    std::process::exit(run_once(cfg, words));
}

/// The special modes and one-shot commands; returns the exit status.
fn run_once(cfg: Config, words: Vec<Vec<u8>>) -> i32 {
    let mut session = Session::new(cfg, false);
    if session.cfg.latency || session.cfg.pipe || session.cfg.stat || session.cfg.scan {
        if session.connect(false).is_err() {
            return 1;
        }
        if session.cfg.latency {
            latency::run(&mut session);
        }
        if session.cfg.pipe {
            match session.conn.take() {
                Some(conn) => pipe::run(conn, session.cfg.pipe_timeout),
                None => return 1,
            }
        }
        if session.cfg.stat {
            stat::run(&mut session);
        }
        scan::run(&mut session);
    }
    let _ = session.connect(true);
    let Some(argv) = command_words(&session.cfg, words) else {
        return 1;
    };
    match session.issue(&argv, session.cfg.repeat) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

/// The command to send: unquoted with `--quoted-input`, with stdin as the
/// last argument (`-x`) or in place of the tag (`-X tag`).
fn command_words(cfg: &Config, words: Vec<Vec<u8>>) -> Option<Vec<Vec<u8>>> {
    let mut argv = if cfg.quoted_input {
        match words
            .iter()
            .map(|w| args::unquote(w))
            .collect::<Option<Vec<_>>>()
        {
            Some(v) => v,
            None => {
                out_str("Invalid quoted string\n");
                return None;
            }
        }
    } else {
        words
    };
    if cfg.stdin_last_arg || cfg.stdin_tag.is_some() {
        let mut data = Vec::new();
        if let Err(e) = std::io::stdin().lock().read_to_end(&mut data) {
            errln(&format!(
                "Reading from standard input: {}",
                conn::strerror(&e)
            ));
            std::process::exit(1);
        }
        if cfg.stdin_last_arg {
            argv.push(data);
        } else if let Some(tag) = &cfg.stdin_tag {
            match argv.iter_mut().find(|a| *a == tag) {
                Some(slot) => *slot = data,
                None => {
                    errln("Using -X option but stdin tag not match.");
                    return None;
                }
            }
        }
    }
    Some(argv)
}
