//! `MIGRATE`: moves keys to another server (Redis 7.0's `migrateCommand`).
//!
//! The source DUMPs each key, sends `RESTORE key ttl payload [REPLACE]` to
//! the target (after `AUTH` and `SELECT` where needed) and, unless `COPY`,
//! deletes the keys the target acknowledged, propagating them as one `DEL`.
//!
//! Like Redis, this is bounded synchronous I/O on the event loop: the
//! connect, each write and each read wait at most `timeout` milliseconds,
//! and the loop serves nobody else meanwhile. That keeps MIGRATE atomic
//! for the source (no command can touch a key between its DUMP and its
//! DEL) at the price of a stall of up to `timeout` per step; see
//! docs/compatibility.md. Connections are cached per `host:port`
//! (`migrate_cached_sockets`) and closed after 10 s idle by the cron.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::args::is;
use super::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::notify::GENERIC;
use crate::rdb::writer::dump_payload;
use crate::resp::parser::Args;
use crate::util::num::parse_i64;

/// At most this many cached connections (Redis's `MIGRATE_SOCKET_CACHE_ITEMS`).
const CACHE_ITEMS: usize = 64;
/// Seconds a cached connection may stay unused (`MIGRATE_SOCKET_CACHE_TTL`).
const CACHE_TTL_SECS: i64 = 10;
/// Writes go out in chunks of this size, each with its own timeout.
const WRITE_CHUNK: usize = 64 * 1024;
/// A reply line longer than this is cut (Redis reads into 1024 bytes).
const MAX_LINE: usize = 1024;

/// A connection to a target, kept between MIGRATEs.
#[derive(Debug)]
struct Cached {
    stream: TcpStream,
    /// The database selected on the target, -1 when unknown.
    last_dbid: i64,
    /// Unix seconds of the last use.
    last_use: i64,
    /// Bytes read past the last reply line.
    rbuf: Vec<u8>,
}

/// MIGRATE's connections by `host:port` (Redis's `migrate_cached_sockets`).
#[derive(Debug, Default)]
pub struct MigrateSockets {
    by_target: HashMap<Vec<u8>, Cached>,
}

impl MigrateSockets {
    /// How many connections are cached (INFO `migrate_cached_sockets`).
    pub fn len(&self) -> usize {
        self.by_target.len()
    }

    /// Whether none is cached.
    pub fn is_empty(&self) -> bool {
        self.by_target.is_empty()
    }

    /// Closes the connections unused for 10 s (Redis's
    /// `migrateCloseTimedoutSockets`, run by the cron).
    pub fn close_idle(&mut self, now_ms: i64) {
        let now = now_ms / 1000;
        self.by_target
            .retain(|_, c| now - c.last_use <= CACHE_TTL_SECS);
    }

    fn close(&mut self, name: &[u8]) {
        self.by_target.remove(name);
    }

    /// The cached connection to `host:port`, or a new one.
    fn get(
        &mut self,
        name: &[u8],
        host: &[u8],
        port: &[u8],
        timeout: Duration,
        now_ms: i64,
    ) -> Result<&mut Cached, IoFailure> {
        if !self.by_target.contains_key(name) {
            if self.by_target.len() >= CACHE_ITEMS {
                if let Some(k) = self.by_target.keys().next().cloned() {
                    self.by_target.remove(&k);
                }
            }
            let stream = connect(host, port, timeout)?;
            self.by_target.insert(
                name.to_vec(),
                Cached {
                    stream,
                    last_dbid: -1,
                    last_use: now_ms / 1000,
                    rbuf: Vec::new(),
                },
            );
        }
        let c = self.by_target.get_mut(name).ok_or(IoFailure::Connect)?;
        c.last_use = now_ms / 1000;
        Ok(c)
    }
}

/// Connects within `timeout`. An address that does not resolve fails as
/// `Connect`; a refused or timed-out connection as a `Write`, since Redis's
/// non-blocking connect only learns of it when it first writes (so its
/// reply says "writing", and a refusal is retried once).
fn connect(host: &[u8], port: &[u8], timeout: Duration) -> Result<TcpStream, IoFailure> {
    let host = std::str::from_utf8(host).map_err(|_| IoFailure::Connect)?;
    let port: u16 = std::str::from_utf8(port)
        .ok()
        .and_then(|p| p.parse().ok())
        .ok_or(IoFailure::Connect)?;
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|_| IoFailure::Connect)?;
    let mut failure = IoFailure::Connect;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => {
                failure = IoFailure::Write {
                    timed_out: is_timeout(&e),
                }
            }
        }
    }
    Err(failure)
}

/// How the exchange with the target failed.
#[derive(Debug, Clone, Copy)]
enum IoFailure {
    Connect,
    Write { timed_out: bool },
    Read { timed_out: bool },
}

impl IoFailure {
    fn timed_out(self) -> bool {
        matches!(
            self,
            IoFailure::Write { timed_out: true } | IoFailure::Read { timed_out: true }
        )
    }

    fn error(self) -> CmdError {
        CmdError::Static(match self {
            IoFailure::Connect => "IOERR error or timeout connecting to the client",
            IoFailure::Write { .. } => "IOERR error or timeout writing to target instance",
            IoFailure::Read { .. } => "IOERR error or timeout reading to target instance",
        })
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

impl Cached {
    fn write_all(&mut self, buf: &[u8], timeout: Duration) -> Result<(), IoFailure> {
        self.stream
            .set_write_timeout(Some(timeout))
            .map_err(|_| IoFailure::Write { timed_out: false })?;
        for chunk in buf.chunks(WRITE_CHUNK) {
            self.stream.write_all(chunk).map_err(|e| IoFailure::Write {
                timed_out: is_timeout(&e),
            })?;
        }
        Ok(())
    }

    /// One reply line, without its CRLF (Redis's `connSyncReadLine`).
    fn read_line(&mut self, timeout: Duration) -> Result<Vec<u8>, IoFailure> {
        self.stream
            .set_read_timeout(Some(timeout))
            .map_err(|_| IoFailure::Read { timed_out: false })?;
        loop {
            if let Some(nl) = self.rbuf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.rbuf.drain(..=nl).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                line.truncate(MAX_LINE);
                if line.is_empty() {
                    // An empty line is a failed read for Redis (`<= 0`).
                    return Err(IoFailure::Read { timed_out: false });
                }
                return Ok(line);
            }
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(IoFailure::Read { timed_out: false }),
                Ok(n) => self.rbuf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(IoFailure::Read {
                        timed_out: is_timeout(&e),
                    })
                }
            }
        }
    }
}

/// Appends `argv` as a RESP array of bulk strings.
fn encode(out: &mut Vec<u8>, argv: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", argv.len()).as_bytes());
    for a in argv {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// What the target answered.
struct Exchange {
    /// The first error among AUTH's and SELECT's replies, if any.
    setup_error: Option<Vec<u8>>,
    /// RESTORE's replies, in order, as many as were read.
    restores: Vec<Vec<u8>>,
    /// A read failed before all RESTORE replies came.
    read_failed: bool,
}

/// Sends the commands and reads the replies, reconnecting once when a
/// cached connection turns out dead (not after a timeout), as Redis does.
#[allow(clippy::too_many_arguments)]
fn exchange(
    sockets: &mut MigrateSockets,
    host: &[u8],
    port: &[u8],
    timeout: Duration,
    now_ms: i64,
    auth: &[u8],
    dbid: i64,
    restores: &[u8],
    count: usize,
) -> Result<Exchange, IoFailure> {
    let mut name = host.to_vec();
    name.push(b':');
    name.extend_from_slice(port);
    let mut may_retry = true;
    loop {
        let cs = sockets.get(&name, host, port, timeout, now_ms)?;
        let select = cs.last_dbid != dbid;
        let mut buf = auth.to_vec();
        if select {
            encode(&mut buf, &[b"SELECT", dbid.to_string().as_bytes()]);
        }
        buf.extend_from_slice(restores);
        let attempt = (|| {
            cs.write_all(&buf, timeout)?;
            let mut setup_error = None;
            if !auth.is_empty() {
                let l = cs.read_line(timeout)?;
                if l[0] == b'-' {
                    setup_error = Some(l);
                }
            }
            if select {
                let l = cs.read_line(timeout)?;
                if l[0] == b'-' && setup_error.is_none() {
                    setup_error = Some(l);
                }
            }
            let mut out = Exchange {
                setup_error,
                restores: Vec::with_capacity(count),
                read_failed: false,
            };
            for _ in 0..count {
                match cs.read_line(timeout) {
                    Ok(l) => out.restores.push(l),
                    Err(e) => {
                        if out.restores.is_empty() && out.setup_error.is_none() {
                            return Err(e);
                        }
                        out.read_failed = true;
                        break;
                    }
                }
            }
            Ok(out)
        })();
        match attempt {
            Ok(x) => {
                if x.read_failed {
                    sockets.close(&name);
                } else if x.setup_error.is_some() || x.restores.iter().any(|l| l[0] == b'-') {
                    // On error the selected database is no longer trusted.
                    cs_forget_db(sockets, &name);
                } else if let Some(c) = sockets.by_target.get_mut(&name) {
                    c.last_dbid = dbid;
                }
                return Ok(x);
            }
            Err(e) => {
                sockets.close(&name);
                if may_retry && !e.timed_out() {
                    may_retry = false;
                    continue;
                }
                return Err(e);
            }
        }
    }
}

fn cs_forget_db(sockets: &mut MigrateSockets, name: &[u8]) {
    if let Some(c) = sockets.by_target.get_mut(name) {
        c.last_dbid = -1;
    }
}

/// MIGRATE's keys as Redis's `migrateGetKeys` finds them (its KEYS key
/// spec is incomplete): the key argument, or every argument after KEYS,
/// skipping AUTH's and AUTH2's values; None when KEYS comes with a key.
pub(crate) fn migrate_keys(argv: &[&[u8]]) -> Option<Vec<(usize, &'static [&'static str])>> {
    const FLAGS: &[&str] = &["RW", "access", "delete"];
    let (mut first, mut num) = (3, 1);
    let mut i = 6;
    while i < argv.len() {
        let a = argv[i];
        if is(a, "KEYS") {
            if !argv[3].is_empty() {
                return None;
            }
            first = i + 1;
            num = argv.len() - first;
            break;
        } else if is(a, "AUTH") {
            i += 1;
        } else if is(a, "AUTH2") {
            i += 2;
        }
        i += 1;
    }
    if num == 0 {
        return None;
    }
    Some((first..first + num).map(|p| (p, FLAGS)).collect())
}

/// `MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
/// [AUTH password | AUTH2 username password] [KEYS key ...]`.
pub fn migrate(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (mut copy, mut replace) = (false, false);
    let (mut username, mut password): (Option<&[u8]>, Option<&[u8]>) = (None, None);
    let (mut first_key, mut num_keys) = (3, 1);
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let a = args.get(j);
        if is(a, "COPY") {
            copy = true;
        } else if is(a, "REPLACE") {
            replace = true;
        } else if is(a, "AUTH") {
            if more == 0 {
                return Err(CmdError::Syntax);
            }
            j += 1;
            password = Some(args.get(j));
            ctx.redact(j);
        } else if is(a, "AUTH2") {
            if more < 2 {
                return Err(CmdError::Syntax);
            }
            j += 1;
            username = Some(args.get(j));
            ctx.redact(j);
            j += 1;
            password = Some(args.get(j));
            ctx.redact(j);
        } else if is(a, "KEYS") {
            if !args.get(3).is_empty() {
                return Err(CmdError::Static(
                    "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
                ));
            }
            first_key = j + 1;
            num_keys = args.len() - j - 1;
            break;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let timeout = parse_i64(args.get(5)).ok_or(CmdError::NotInteger)?;
    let dbid = parse_i64(args.get(4)).ok_or(CmdError::NotInteger)?;
    let timeout = Duration::from_millis(if timeout <= 0 { 1000 } else { timeout as u64 });

    // The keys that are here, each RESTOREd with what is left of its TTL.
    let now = ctx.now_ms;
    let compression = ctx.config().rdbcompression;
    let mut keys: Vec<&[u8]> = Vec::new();
    let mut restores = Vec::new();
    let mut found = 0;
    for i in first_key..first_key + num_keys {
        let key = args.get(i);
        let Some(v) = ctx.db.get(key, now) else {
            continue;
        };
        found += 1;
        let payload = dump_payload(v, compression);
        let ttl = match ctx.db.expire_of(key) {
            Some(at) if at - now < 0 => continue,
            Some(at) => (at - now).max(1),
            None => 0,
        };
        let ttl = ttl.to_string();
        let mut argv: Vec<&[u8]> = vec![b"RESTORE", key, ttl.as_bytes(), &payload];
        if replace {
            argv.push(b"REPLACE");
        }
        encode(&mut restores, &argv);
        keys.push(key);
    }
    if found == 0 {
        ctx.reply.simple("NOKEY");
        return Ok(());
    }
    let mut auth = Vec::new();
    if let Some(p) = password {
        match username {
            Some(u) => encode(&mut auth, &[b"AUTH", u, p]),
            None => encode(&mut auth, &[b"AUTH", p]),
        }
    }

    let x = exchange(
        &mut ctx.server_mut().ops.migrate,
        args.get(1),
        args.get(2),
        timeout,
        now,
        &auth,
        dbid,
        &restores,
        keys.len(),
    )
    .map_err(IoFailure::error)?;

    // Delete what the target took, unless COPY; the first error is the reply.
    let mut error: Option<Vec<u8>> = None;
    let mut deleted: Vec<&[u8]> = vec![b"DEL"];
    for (key, line) in keys.iter().zip(&x.restores) {
        if x.setup_error.is_some() || line[0] == b'-' {
            if error.is_none() {
                error = Some(x.setup_error.clone().unwrap_or_else(|| line.clone()));
            }
        } else if !copy {
            ctx.db.remove(key);
            ctx.notify(GENERIC, "del", key);
            ctx.dirty += 1;
            deleted.push(key);
        }
    }
    if deleted.len() > 1 {
        ctx.propagate_as(&deleted);
    }
    if let Some(e) = error {
        let text = String::from_utf8_lossy(&e[1..]).replace(['\r', '\n'], " ");
        return Err(CmdError::Owned(format!(
            "ERR Target instance replied with error: {text}"
        )));
    }
    if x.read_failed {
        return Err(IoFailure::Read { timed_out: false }.error());
    }
    ctx.reply.ok();
    Ok(())
}
