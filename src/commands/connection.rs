//! Connection commands: PING, ECHO, QUIT, HELLO, AUTH, SELECT, RESET,
//! MONITOR and CLIENT (ID, SETNAME, GETNAME, LIST, INFO, KILL, SETINFO,
//! PAUSE, UNPAUSE, NO-EVICT, HELP).

use super::args::{self, is};
use super::Ctx;
use crate::client::Flags;
use crate::client::{Client, ClientState, IoStats};
use crate::error::{CmdError, CmdResult};
use crate::resp::parser::Args;

/// `PING [message]`.
pub fn ping(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() > 2 {
        return Err(CmdError::Arity("ping"));
    }
    // A RESP2 subscriber gets a pub/sub message: ["pong", message or ""].
    if ctx.client.has(Flags::PUBSUB) && !ctx.reply.is_resp3() {
        ctx.reply.array_len(2);
        ctx.reply.bulk(b"pong");
        ctx.reply
            .bulk(if args.len() == 2 { args.get(1) } else { b"" });
        return Ok(());
    }
    match args.len() {
        1 => ctx.reply.simple("PONG"),
        2 => ctx.reply.bulk(args.get(1)),
        _ => return Err(CmdError::Arity("ping")),
    }
    Ok(())
}

/// `ECHO message`.
pub fn echo(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    ctx.reply.bulk(args.get(1));
    Ok(())
}

/// `QUIT`: OK, then the connection closes once the reply is written.
pub fn quit(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.reply.ok();
    ctx.client.flags.set(Flags::CLOSE_AFTER_REPLY, true);
    Ok(())
}

/// `SELECT index`.
pub fn select(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let n = ctx.db_count();
    ctx.client.db = args::db_index(args.get(1), n, None)?;
    ctx.reply.ok();
    Ok(())
}

/// Whether a password is needed and `user`/`pass` are right.
fn check_credentials(ctx: &Ctx<'_>, user: &[u8], pass: &[u8]) -> bool {
    if user != b"default" {
        return false;
    }
    let required = ctx.server().config.requirepass.as_bytes();
    required.is_empty() || constant_time_eq(required, pass)
}

/// Compares without an early exit on the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `AUTH [username] password`.
pub fn auth(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    ctx.redact(1);
    if args.len() == 3 {
        ctx.redact(2);
    }
    let (user, pass): (&[u8], &[u8]) = if args.len() == 2 {
        if ctx.server().config.requirepass.is_empty() {
            return Err(CmdError::Static(
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
            ));
        }
        (b"default", args.get(1))
    } else {
        (args.get(1), args.get(2))
    };
    if !check_credentials(ctx, user, pass) {
        return Err(CmdError::WrongPass);
    }
    ctx.client.flags.set(Flags::AUTHENTICATED, true);
    ctx.reply.ok();
    Ok(())
}

/// Redis's `validateClientName`: printable ASCII without spaces.
fn valid_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

/// `HELLO [protover [AUTH username password] [SETNAME clientname]]`.
pub fn hello(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let mut ver = 0;
    let mut next = 1;
    if args.len() >= 2 {
        ver = crate::util::num::parse_i64(args.get(1)).ok_or(CmdError::Static(
            "ERR Protocol version is not an integer or out of range",
        ))?;
        next = 2;
        if !(2..=3).contains(&ver) {
            return Err(CmdError::Static("NOPROTO unsupported protocol version"));
        }
    }
    let mut creds = None;
    let mut name = None;
    let mut j = next;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = args.get(j);
        if is(opt, "AUTH") && more >= 2 {
            ctx.redact(j + 1);
            ctx.redact(j + 2);
            creds = Some((args.get(j + 1), args.get(j + 2)));
            j += 3;
        } else if is(opt, "SETNAME") && more >= 1 {
            let n = args.get(j + 1);
            if !valid_name(n) {
                return Err(CmdError::Static(
                    "ERR Client names cannot contain spaces, newlines or special characters.",
                ));
            }
            name = Some(n);
            j += 2;
        } else {
            return Err(CmdError::msg(format!(
                "ERR Syntax error in HELLO option '{}'",
                args::text(opt)
            )));
        }
    }
    if let Some((u, p)) = creds {
        if !check_credentials(ctx, u, p) {
            return Err(CmdError::WrongPass);
        }
        ctx.client.flags.set(Flags::AUTHENTICATED, true);
    }
    if !ctx.client.has(Flags::AUTHENTICATED) && !ctx.server().config.requirepass.is_empty() {
        return Err(CmdError::Static(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
        ));
    }
    if let Some(n) = name {
        ctx.client.name = (!n.is_empty()).then(|| n.to_vec());
    }
    if ver != 0 {
        ctx.reply.set_resp3(ver == 3);
    }
    let r = &mut *ctx.reply;
    r.map_len(7);
    r.bulk(b"server");
    r.bulk(b"redis");
    r.bulk(b"version");
    r.bulk(crate::REDIS_VERSION.as_bytes());
    r.bulk(b"proto");
    r.int(if r.is_resp3() { 3 } else { 2 });
    r.bulk(b"id");
    r.int(ctx.client.id as i64);
    r.bulk(b"mode");
    r.bulk(b"standalone");
    r.bulk(b"role");
    r.bulk(b"master");
    r.bulk(b"modules");
    r.array_len(0);
    Ok(())
}

/// `RESET`: back to a fresh connection's state (MONITOR mode ends too).
pub fn reset(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    if ctx.client.has(Flags::MONITOR) {
        ctx.client.flags.set(Flags::MONITOR, false);
        let me = ctx.client.token;
        ctx.server_mut().ops.monitors.retain(|&t| t != me);
        let limit = ctx
            .server()
            .config
            .client_output_buffer_limit
            .for_client(false);
        ctx.reply.set_cap(limit.hard_cap());
    }
    // Out of any transaction, watching nothing (Redis's
    // `discardTransaction` in `clearClientConnectionState`).
    super::multi::discard_in_ctx(ctx);
    // No subscription left, no reply for them (Redis's
    // `pubsubUnsubscribeAll*(c, 0)`).
    if ctx.client.subs.is_some() {
        let parts = ctx.server_parts();
        parts.core.pubsub.unsubscribe_all(parts.client);
        let limit = parts
            .core
            .config
            .client_output_buffer_limit
            .for_client(parts.client.has(Flags::MONITOR));
        parts.reply.set_cap(limit.hard_cap());
    }
    if ctx.client.tracking.is_some() {
        let parts = ctx.server_parts();
        parts.core.tracking.disable(parts.client);
    }
    ctx.client.db = 0;
    ctx.client.name = None;
    ctx.client.flags.set(Flags::NO_TOUCH, false);
    ctx.reply.set_resp3(false);
    ctx.client.flags.set(
        Flags::AUTHENTICATED,
        ctx.server().config.requirepass.is_empty(),
    );
    ctx.reply.simple("RESET");
    Ok(())
}

/// `CLIENT ID`.
pub fn client_id(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.reply.int(ctx.client.id as i64);
    Ok(())
}

/// `CLIENT SETNAME name` (empty removes it).
pub fn client_setname(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let n = args.get(2);
    if !valid_name(n) {
        return Err(CmdError::Static(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    ctx.client.name = (!n.is_empty()).then(|| n.to_vec());
    ctx.reply.ok();
    Ok(())
}

/// `CLIENT GETNAME`.
pub fn client_getname(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    match &ctx.client.name {
        Some(n) => ctx.reply.bulk(n),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// `CLIENT SETINFO LIB-NAME|LIB-VER value` (Redis 7.2).
pub fn client_setinfo(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let attr = args.get(2);
    let val = args.get(3);
    let (slot, label) = if is(attr, "LIB-NAME") {
        (&mut ctx.client.lib_name, "lib-name")
    } else if is(attr, "LIB-VER") {
        (&mut ctx.client.lib_ver, "lib-ver")
    } else {
        return Err(CmdError::msg(format!(
            "ERR Unrecognized option '{}'",
            args::text(attr)
        )));
    };
    if !valid_name(val) {
        return Err(CmdError::msg(format!(
            "ERR {label} cannot contain spaces, newlines or special characters."
        )));
    }
    *slot = (!val.is_empty()).then(|| val.to_vec());
    ctx.reply.ok();
    Ok(())
}

/// `MONITOR`: from now on, every command any client runs (but admin
/// commands) is streamed to this one. Ignored when already monitoring.
pub fn monitor(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    if ctx.client.has(Flags::MONITOR) {
        return Ok(());
    }
    ctx.client.flags.set(Flags::MONITOR, true);
    let me = ctx.client.token;
    ctx.server_mut().ops.monitors.push(me);
    let limit = ctx
        .server()
        .config
        .client_output_buffer_limit
        .for_client(true);
    ctx.reply.set_cap(limit.hard_cap());
    ctx.reply.ok();
    Ok(())
}

/// `CLIENT PAUSE timeout [WRITE|ALL]`: holds commands (all, or those that
/// may write) from every client for `timeout` ms.
pub fn client_pause(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let mut kind = crate::pause::Kind::All;
    if args.len() == 4 {
        if is(args.get(3), "WRITE") {
            kind = crate::pause::Kind::Write;
        } else if is(args.get(3), "ALL") {
            kind = crate::pause::Kind::All;
        } else {
            return Err(CmdError::Static(
                "ERR CLIENT PAUSE mode must be WRITE or ALL",
            ));
        }
    } else if args.len() > 4 {
        return Err(CmdError::msg(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
            args::text(&args.get(1)[..args.get(1).len().min(128)]),
            args::text(args.get(0)).to_ascii_uppercase()
        )));
    }
    let ms = crate::util::num::parse_i64(args.get(2)).ok_or(CmdError::Static(
        "ERR timeout is not an integer or out of range",
    ))?;
    if ms < 0 {
        return Err(CmdError::Static("ERR timeout is negative"));
    }
    // Redis 7.0 lets `now + timeout` overflow (the pause then ends at
    // once); later Redis versions refuse such a timeout, and so does GoStore.
    let end = if ms > 0 {
        crate::util::time::unix_ms()
            .checked_add(ms)
            .ok_or(CmdError::Static("ERR timeout is out of range"))?
    } else {
        0
    };
    ctx.server_mut().ops.pause.pause(kind, end);
    ctx.reply.ok();
    Ok(())
}

/// `CLIENT UNPAUSE`.
pub fn client_unpause(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.server_mut().ops.pause.unpause();
    ctx.reply.ok();
    Ok(())
}

/// `CLIENT UNBLOCK id [TIMEOUT|ERROR]`: releases a client blocked by a
/// blocking command. With TIMEOUT (the default) its command runs again and,
/// its deadline treated as passed, gives its timeout reply; with ERROR it
/// gets `-UNBLOCKED` and its command is dropped. A client held by CLIENT
/// PAUSE is not released (`:0`; Redis 7.0.15 aborts on that case).
pub fn client_unblock(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let id = crate::util::num::parse_i64(args.get(2)).ok_or(CmdError::Static(
        "ERR value is not an integer or out of range",
    ))?;
    let error = match args.len() {
        3 => false,
        4 if is(args.get(3), "TIMEOUT") => false,
        4 if is(args.get(3), "ERROR") => true,
        4 => {
            return Err(CmdError::Static(
                "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ))
        }
        _ => {
            return Err(CmdError::msg(format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try CLIENT HELP.",
                args::text(&args.get(1)[..args.get(1).len().min(128)])
            )))
        }
    };
    let target = ctx
        .clients()
        .iter()
        .find(|c| c.state.id as i64 == id)
        .map(|c| c.token);
    let waiting = target.filter(|&t| {
        matches!(
            ctx.server().blocked.reason(t),
            Some(crate::blocked::BlockReason::List | crate::blocked::BlockReason::Zset)
        )
    });
    let Some(token) = waiting else {
        ctx.reply.int(0);
        return Ok(());
    };
    if let Some(req) = ctx.server_mut().blocked.unpark(token) {
        if let Some(db) = ctx.db_at(req.db) {
            db.forget_waiter(&req.keys, token.0);
        }
    }
    let clients = ctx.clients_mut();
    if let Some(c) = clients.get_mut(token) {
        c.state.flags.set(Flags::BLOCKED, false);
        if error {
            c.reply.error(&CmdError::Static(
                "UNBLOCKED client unblocked via CLIENT UNBLOCK",
            ));
            c.query.consume();
            c.state.block_deadline_ms = 0;
        } else {
            // Processed again, its deadline counts as passed.
            c.state.block_deadline_ms = 1;
        }
    }
    clients.resume(token);
    ctx.reply.int(1);
    Ok(())
}

/// `CLIENT NO-EVICT ON|OFF`: exempts this client from client eviction.
pub fn client_no_evict(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let a = args.get(2);
    if is(a, "ON") {
        ctx.client.flags.set(Flags::NO_EVICT, true);
    } else if is(a, "OFF") {
        ctx.client.flags.set(Flags::NO_EVICT, false);
    } else {
        return Err(CmdError::Syntax);
    }
    ctx.reply.ok();
    Ok(())
}

/// `CLIENT NO-TOUCH ON|OFF` (Redis 7.2): while on, this client's commands
/// do not change the LRU/LFU data of the keys they read or write, except
/// TOUCH, whose job that is.
pub fn client_no_touch(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let arg = args.get(2);
    let on = if is(arg, "ON") {
        true
    } else if is(arg, "OFF") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    ctx.client.flags.set(Flags::NO_TOUCH, on);
    ctx.reply.ok();
    Ok(())
}

fn own_line(ctx: &Ctx<'_>, args: &Args<'_>) -> String {
    let io = IoStats {
        qbuf: 0,
        qbuf_free: 0,
        argv_mem: args.total_bytes(),
        obl: ctx.reply.pending_len(),
        omem: ctx.reply.capacity(),
    };
    let mut s = ctx.client.clone();
    // Run by EXEC, the command is EXEC's (Redis's `lastcmd`).
    if !s.has(Flags::MULTI) {
        s.last_cmd = ctx.spec.fullname;
    }
    ClientState::info_line(
        &s,
        io,
        crate::util::time::unix_ms(),
        if ctx.reply.is_resp3() { 3 } else { 2 },
    )
}

/// `CLIENT INFO`.
pub fn client_info(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let line = own_line(ctx, args);
    ctx.reply.verbatim(line.as_bytes());
    Ok(())
}

/// A client type CLIENT LIST/KILL TYPE names (Redis's `getClientType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientType {
    /// Everyone else (MONITOR clients included, as in Redis).
    Normal,
    /// Clients with pub/sub subscriptions.
    Pubsub,
    /// Replicas connected to this server (`replica`, `slave`).
    Replica,
    /// The link to this replica's master (listed while it is up).
    Master,
}

impl ClientType {
    fn matches(self, s: &ClientState) -> bool {
        // The master's and a replica's connections are of their type
        // whatever else they are, as in Redis.
        let replication = s.has(Flags::REPLICA) || s.has(Flags::MASTER);
        match self {
            ClientType::Normal => !replication && !s.has(Flags::PUBSUB),
            ClientType::Pubsub => !replication && s.has(Flags::PUBSUB),
            ClientType::Replica => s.has(Flags::REPLICA),
            ClientType::Master => s.has(Flags::MASTER),
        }
    }
}

/// Client types CLIENT LIST/KILL TYPE accept.
fn check_type(t: &[u8]) -> Result<ClientType, CmdError> {
    if is(t, "normal") {
        Ok(ClientType::Normal)
    } else if is(t, "pubsub") {
        Ok(ClientType::Pubsub)
    } else if is(t, "replica") || is(t, "slave") {
        Ok(ClientType::Replica)
    } else if is(t, "master") {
        Ok(ClientType::Master)
    } else {
        Err(CmdError::msg(format!(
            "ERR Unknown client type '{}'",
            args::text(t)
        )))
    }
}

/// `CLIENT LIST [TYPE type] [ID id ...]`.
pub fn client_list(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let mut ty: Option<ClientType> = None;
    let mut ids: Option<Vec<i64>> = None;
    if args.len() > 2 {
        if args.len() == 4 && is(args.get(2), "TYPE") {
            ty = Some(check_type(args.get(3))?);
        } else if args.len() >= 4 && is(args.get(2), "ID") {
            let mut v = Vec::new();
            for a in args.iter_from(3) {
                let id = crate::util::num::parse_i64(a)
                    .ok_or(CmdError::Static("ERR Invalid client ID"))?;
                v.push(id);
            }
            ids = Some(v);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let now = crate::util::time::unix_ms();
    let resp_of = |c: &Client| if c.reply.is_resp3() { 3 } else { 2 };
    // The master's connection, while the link is up (Redis lists its
    // master client, `flags=M`).
    let master = ctx.server().replica.as_ref().filter(|l| l.up()).map(|l| {
        let mut s = l.client.clone();
        s.last_interaction_ms = l.last_io_ms;
        (s.id, s.info_line(Default::default(), now, 2), s)
    });
    let mut text = String::new();
    {
        match &ids {
            // As Redis: in the order asked, each id that exists.
            Some(ids) => {
                for &id in ids {
                    if id == ctx.client.id as i64 {
                        text.push_str(&own_line(ctx, args));
                    } else if let Some((_, line, _)) =
                        master.as_ref().filter(|(mid, _, _)| *mid as i64 == id)
                    {
                        text.push_str(line);
                    } else if let Some(c) = ctx.clients().iter().find(|c| c.state.id as i64 == id) {
                        text.push_str(&c.state.info_line(c.io_stats(), now, resp_of(c)));
                    }
                }
            }
            None => {
                let mut lines: Vec<(u64, String)> = ctx
                    .clients()
                    .iter()
                    .filter(|c| ty.is_none_or(|t| t.matches(&c.state)))
                    .map(|c| (c.state.id, c.state.info_line(c.io_stats(), now, resp_of(c))))
                    .collect();
                if ty.is_none_or(|t| t.matches(ctx.client)) {
                    lines.push((ctx.client.id, own_line(ctx, args)));
                }
                if let Some((id, line, s)) = master {
                    if ty.is_none_or(|t| t.matches(&s)) {
                        lines.push((id, line));
                    }
                }
                lines.sort_by_key(|(id, _)| *id);
                text = lines.into_iter().map(|(_, l)| l).collect();
            }
        }
    }
    ctx.reply.verbatim(text.as_bytes());
    Ok(())
}

/// `CLIENT KILL addr` or `CLIENT KILL filter value ...`.
pub fn client_kill(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    struct Filter<'a> {
        id: Option<u64>,
        ty: Option<ClientType>,
        addr: Option<&'a [u8]>,
        laddr: Option<&'a [u8]>,
        skipme: bool,
    }
    let old_style = args.len() == 3;
    let mut f = Filter {
        id: None,
        ty: None,
        addr: None,
        laddr: None,
        skipme: true,
    };
    if old_style {
        f.addr = Some(args.get(2));
        f.skipme = false;
    } else {
        if args.len() % 2 != 0 {
            return Err(CmdError::Syntax);
        }
        let mut i = 2;
        while i + 1 < args.len() {
            let (opt, val) = (args.get(i), args.get(i + 1));
            if is(opt, "ID") {
                match crate::util::num::parse_i64(val) {
                    Some(id) if id > 0 => f.id = Some(id as u64),
                    _ => return Err(CmdError::Static("ERR client-id should be greater than 0")),
                }
            } else if is(opt, "TYPE") {
                f.ty = Some(check_type(val)?);
            } else if is(opt, "USER") {
                if val != b"default" {
                    return Err(CmdError::msg(format!(
                        "ERR No such user '{}'",
                        args::text(val)
                    )));
                }
            } else if is(opt, "ADDR") {
                f.addr = Some(val);
            } else if is(opt, "LADDR") {
                f.laddr = Some(val);
            } else if is(opt, "SKIPME") {
                if is(val, "yes") {
                    f.skipme = true;
                } else if is(val, "no") {
                    f.skipme = false;
                } else {
                    return Err(CmdError::Syntax);
                }
            } else {
                return Err(CmdError::Syntax);
            }
            i += 2;
        }
    }
    let matches = |s: &ClientState| {
        f.id.is_none_or(|id| id == s.id)
            && f.ty.is_none_or(|t| t.matches(s))
            && f.addr.is_none_or(|a| a == s.addr.as_bytes())
            && f.laddr.is_none_or(|a| a == s.laddr.as_bytes())
    };
    let victims: Vec<mio::Token> = ctx
        .clients()
        .iter()
        .filter(|c| matches(&c.state))
        .map(|c| c.token)
        .collect();
    let mut killed = victims.len() as i64;
    for t in victims {
        ctx.clients_mut().kill(t);
    }
    // The master's connection, while it is up (Redis's master client).
    if let Some(link) = ctx.server_mut().replica.as_mut() {
        if link.up() && !link.kill && matches(&link.client) {
            link.kill = true;
            killed += 1;
        }
    }
    let me = !f.skipme && matches(ctx.client);
    if me {
        killed += 1;
        ctx.client.flags.set(Flags::CLOSE_AFTER_REPLY, true);
    }
    if old_style {
        if killed == 0 {
            return Err(CmdError::Static("ERR No such client"));
        }
        ctx.reply.ok();
    } else {
        ctx.reply.int(killed);
    }
    Ok(())
}

/// `CLIENT HELP`.
pub fn client_help(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    ctx.reply.help(
        &args::text(args.get(0)),
        &[
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "NO-TOUCH (ON|OFF)",
            "    Will not touch LRU/LFU stats when this mode is on.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are:",
            "    * LIB-NAME: the client lib name.",
            "    * LIB-VER: the client lib version.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
        ],
    );
    Ok(())
}
