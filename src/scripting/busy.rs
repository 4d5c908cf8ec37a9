//! Busy scripts: Redis's `scriptInterrupt` and `processEventsWhileBlocked`
//! within GoStore's one loop.
//!
//! Every script runs under a Lua count hook (every `HOOK_EVERY`
//! instructions). Once a script has run past `busy-reply-threshold`, each
//! hook serves the other clients from inside the script: it accepts new
//! connections, reads what clients sent (without blocking), runs their
//! commands through `process_command` (which answers `-BUSY` to all but
//! the `allow-busy` commands: SCRIPT KILL, FUNCTION KILL, SHUTDOWN, ...)
//! and writes the replies. SCRIPT KILL marks the run killed; the next hook
//! raises Redis's error in the script. SHUTDOWN NOSAVE ends the script
//! too, so that the loop can shut down.
//!
//! Replies a client had waiting for the AOF (a write it made earlier in
//! the tick) are not written from here: a reply leaves only once its write
//! is durable. Such a client gets its `-BUSY` after the script.

use std::cell::Cell;
use std::io;
use std::time::{Duration, Instant};

use mio::{Interest, Token};

use crate::client::{fmt_addr, Client, Flags, Stream};
use crate::commands::{process_command, Exec, Outcome};
use crate::resp::parser::{Limits, Parser, READ_CHUNK};
use crate::resp::Reply;

/// Lua instructions between two hook calls (Redis's 100000).
pub const HOOK_EVERY: u32 = 100_000;

/// The error a killed script raises.
pub const KILLED: &str = "Script killed by user with SCRIPT KILL...";

/// `-BUSY` while an EVAL script runs.
pub const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
/// `-BUSY` while a function runs.
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
/// SCRIPT KILL / FUNCTION KILL when the script already wrote.
pub const UNKILLABLE: &str = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
/// SCRIPT KILL / FUNCTION KILL with no script running.
pub const NOTBUSY: &str = "NOTBUSY No scripts in execution right now.";

/// The script being run (Redis's `curr_run_ctx`).
#[derive(Debug)]
pub struct Running {
    /// EVAL (true) or FCALL (false).
    pub is_eval: bool,
    /// It called a write command: it can no longer be killed.
    pub write_dirty: bool,
    /// SCRIPT KILL / FUNCTION KILL asked it to stop.
    pub killed: bool,
    /// It ran past `busy-reply-threshold`: other clients are answered.
    pub timed_out: bool,
    /// The SHA-1 or the function's name (for the log).
    pub name: String,
}

thread_local! {
    /// When the running script passes `busy-reply-threshold` (None: no
    /// script, or the threshold is 0).
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Arms the deadline for a script starting now.
pub fn arm(threshold_ms: u64) {
    let at = (threshold_ms > 0).then(|| Instant::now() + Duration::from_millis(threshold_ms));
    DEADLINE.with(|d| d.set(at));
}

/// Disarms it (the script ended).
pub fn disarm() {
    DEADLINE.with(|d| d.set(None));
}

/// Whether the running script is past its deadline (the hook's fast test).
pub fn past_deadline() -> bool {
    DEADLINE.with(|d| d.get().is_some_and(|at| Instant::now() >= at))
}

/// The `-BUSY` error for the running script, if it timed out.
pub fn busy_error(r: Option<&Running>) -> Option<&'static str> {
    match r {
        Some(r) if r.timed_out => Some(if r.is_eval { BUSY_EVAL } else { BUSY_FUNCTION }),
        _ => None,
    }
}

/// Redis's `scriptKill`: SCRIPT KILL (`eval`) or FUNCTION KILL.
pub fn kill(r: Option<&mut Running>, eval: bool) -> Result<(), &'static str> {
    match r {
        None => Err(NOTBUSY),
        Some(r) if r.is_eval != eval => Err(if r.is_eval { BUSY_EVAL } else { BUSY_FUNCTION }),
        Some(r) if r.write_dirty => Err(UNKILLABLE),
        Some(r) => {
            r.killed = true;
            Ok(())
        }
    }
}

/// One hook call past the deadline: serves the other clients. Returns
/// whether the script must stop (killed, or the server shuts down).
pub fn serve(x: &mut Exec<'_>) -> bool {
    let Some(r) = x.core.scripting.running.as_mut() else {
        return false;
    };
    if !r.timed_out {
        r.timed_out = true;
        log::warn!(
            "Slow script detected: still in execution after {} milliseconds. You can try killing the script using the {} command. Script name is: {}.",
            x.core.config.busy_reply_threshold,
            if r.is_eval { "SCRIPT KILL" } else { "FUNCTION KILL" },
            r.name
        );
    }
    serve_clients(x);
    let stop = x.core.shutdown.is_some();
    match x.core.scripting.running.as_ref() {
        Some(r) if r.killed => {
            log::warn!("Lua script killed by user with SCRIPT KILL.");
            true
        }
        _ => stop,
    }
}

/// One round of serving the other clients from inside a long run (a busy
/// script, or a dataset loading: `crate::loading`): accepts connections,
/// reads and runs what clients sent, writes the replies that may leave.
pub(crate) fn serve_clients(x: &mut Exec<'_>) {
    x.core.clock.refresh();
    accept(x);
    let tokens: Vec<Token> = x.clients.iter().map(|c| c.token).collect();
    for token in tokens {
        if x.core.shutdown.is_some() {
            break;
        }
        let Some(mut c) = x.clients.take(token) else {
            continue;
        };
        let close = serve_client(x, &mut c);
        x.clients.put_back(c);
        if close {
            x.clients.kill(token);
        }
    }
}

/// Accepts the connections waiting on the listeners (a client that runs
/// `redis-cli SCRIPT KILL` connects while the script runs).
fn accept(x: &mut Exec<'_>) {
    let mut tokens: Vec<Token> = (crate::listeners::TCP_TOKEN_BASE
        ..crate::listeners::TCP_TOKEN_BASE + crate::listeners::MAX_TCP)
        .map(Token)
        .filter(|t| x.core.listeners.tcp(*t).is_some())
        .collect();
    if x.core.listeners.unix().is_some() {
        tokens.push(crate::listeners::UNIX_TOKEN);
    }
    for lt in tokens {
        for _ in 0..64 {
            let got = if lt == crate::listeners::UNIX_TOKEN {
                match x.core.listeners.unix().map(|l| l.accept()) {
                    Some(Ok((s, _))) => {
                        let path = x
                            .core
                            .listeners
                            .unix_path()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default();
                        (
                            Stream::Unix(s),
                            format!("{path}:0"),
                            format!("{path}:0"),
                            true,
                        )
                    }
                    _ => break,
                }
            } else {
                match x.core.listeners.tcp(lt).map(|l| l.accept()) {
                    Some(Ok((s, peer))) => {
                        let _ = s.set_nodelay(true);
                        let local = s.local_addr().map(|a| fmt_addr(&a)).unwrap_or_default();
                        if crate::limits::protected_mode_refuses(
                            x.core.config.protected_mode,
                            &x.core.config.requirepass,
                            peer.ip(),
                        ) {
                            continue;
                        }
                        (Stream::Tcp(s), fmt_addr(&peer), local, false)
                    }
                    _ => break,
                }
            };
            let (mut stream, addr, laddr, unix) = got;
            if x.clients.len() >= x.core.config.maxclients as usize {
                let _ = stream.write(b"-ERR max number of clients reached\r\n");
                x.core.stats.rejected_connections += 1;
                continue;
            }
            let token = x.clients.next_token();
            if let Err(e) = x.core.listeners.registry().register(
                stream.source(),
                token,
                Interest::READABLE | Interest::WRITABLE,
            ) {
                log::warn!("Can't register client {addr}: {e}");
                continue;
            }
            x.core.stats.total_connections_received += 1;
            let id = x.core.new_client_id();
            let fd = stream.fd();
            let authenticated = x.core.config.requirepass.is_empty();
            let mut state = crate::client::ClientState::new(
                id,
                addr,
                laddr,
                fd,
                unix,
                crate::util::time::unix_ms(),
                authenticated,
            );
            state.token = token;
            state.flags.set(Flags::READABLE | Flags::WRITABLE, true);
            let mut reply = Reply::new();
            reply.set_cap(
                x.core
                    .config
                    .client_output_buffer_limit
                    .for_client(false)
                    .hard_cap(),
            );
            x.clients.insert(Box::new(Client {
                stream,
                token,
                query: Parser::new(),
                reply,
                state,
                closing: None,
            }));
        }
    }
}

/// Reads one client's input to the end (non-blocking), runs its complete
/// commands, and writes its replies when nothing it waits on is pending in
/// the AOF.
fn serve_client(x: &mut Exec<'_>, c: &mut Client) -> bool {
    if c.closing.is_some()
        || c.state.has(Flags::BLOCKED)
        || c.state.has(Flags::CLOSE_AFTER_REPLY)
        || c.state.has(Flags::CLOSE_ASAP)
    {
        return false;
    }
    let mut close = false;
    // Read until the socket is drained: the loop is edge-triggered, so
    // input left unread would get no new event.
    let mut read_total = 0usize;
    loop {
        if read_total >= crate::server::BIG_READ_BUDGET {
            // Left for the next hook call.
            break;
        }
        let target = c.query.read_target(READ_CHUNK);
        match c.stream.read(target) {
            Ok(0) => {
                c.state.flags.set(Flags::CLOSE_AFTER_REPLY, true);
                break;
            }
            Ok(n) => {
                c.query.commit_read(n);
                read_total += n;
                x.core.stats.net_input_bytes += n as u64;
                x.core.stats.total_reads_processed += 1;
                if c.query.buffered() as i64 > x.core.config.client_query_buffer_limit {
                    close = true;
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(_) => {
                close = true;
                break;
            }
        }
    }
    if read_total > 0 {
        c.state.last_interaction_ms = x.core.clock.tick_ms();
    }
    loop {
        if close
            || c.state.has(Flags::CLOSE_ASAP)
            || c.state.has(Flags::BLOCKED)
            || x.core.shutdown.is_some()
        {
            break;
        }
        let limits = Limits {
            max_bulk_len: x.core.config.proto_max_bulk_len,
            auth_required: !c.state.has(Flags::AUTHENTICATED)
                && !x.core.config.requirepass.is_empty(),
            oversize_is_incomplete: false,
        };
        match c.query.next(&limits) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                c.reply.error(&crate::error::CmdError::msg(e.to_string()));
                c.query.reset();
                c.state.flags.set(Flags::CLOSE_AFTER_REPLY, true);
                break;
            }
        }
        let outcome = {
            let Client {
                query,
                reply,
                state,
                ..
            } = &mut *c;
            let args = query.args();
            let mut sub = Exec {
                dbs: &mut *x.dbs,
                client: state,
                reply,
                clients: &mut *x.clients,
                core: &mut *x.core,
                redaction: &mut *x.redaction,
            };
            process_command(&mut sub, &args)
        };
        if let Outcome::Block(_) = outcome {
            // Only an allow-busy (or, loading, a `loading`) command held by
            // CLIENT PAUSE gets here: it is left parsed, and runs when the
            // script or the load has ended.
            c.state.flags.set(Flags::READABLE, true);
            break;
        }
        c.query.consume();
        if c.state.has(Flags::CLOSE_AFTER_REPLY) {
            break;
        }
    }
    let durable = x.core.aof.durable_offset();
    if close || c.state.needs_aof > durable {
        return close;
    }
    while !c.reply.is_empty() {
        match c.stream.write(c.reply.pending()) {
            Ok(0) => break,
            Ok(n) => {
                x.core.stats.net_output_bytes += n as u64;
                c.reply.advance(n);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    if !c.reply.is_empty() || c.state.has(Flags::CLOSE_AFTER_REPLY) {
        // The loop writes the rest (or closes it) at the end of the tick.
        x.clients.queue_flush(c.token);
    }
    false
}
