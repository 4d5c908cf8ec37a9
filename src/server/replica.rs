//! The loop's side of being a replica: connecting to the master, the
//! handshake, the full sync's load, and running the master's stream
//! through `process_command` on its client (`repl::replica` holds the
//! link; Redis's `syncWithMaster`, `readSyncBulkPayload`,
//! `replicationCron`).

use mio::net::TcpStream;
use mio::{Interest, Token};
use std::net::ToSocketAddrs;

use super::Server;
use crate::commands::{self, Exec};
use crate::repl::replica::{check_reply, Link, State, Transfer};
use crate::resp::parser::Limits;
use crate::resp::Reply;
use crate::util::time::unix_ms;

/// The master link's token.
pub(super) const MASTER_TOKEN: Token = Token(42);

/// Why a link step failed: the message to log.
type Fail = String;

impl Server {
    /// Makes this server a replica of `host:port` (REPLICAOF, `replicaof`),
    /// caching its own history so that PSYNC may continue from it.
    pub(super) fn replica_start_from_config(&mut self) {
        if let Some((host, port)) = self.core.config.replicaof.clone() {
            // The history the RDB recorded becomes this replica's own, which
            // `set_master` caches for the first PSYNC
            // (`replicationCacheMasterUsingMyself`).
            let saved = self.core.rdb.loaded_repl.take();
            if let Some(r) = &saved {
                log::info!(
                    "Using the replication ID {} and offset {} saved in the RDB file",
                    r.id,
                    r.offset
                );
                let size = self.core.config.repl_backlog_size as usize;
                self.core.propagator.repl.follow(&r.id, r.offset, size);
            }
            crate::commands::repl::set_master(&mut self.core, &mut self.clients, host, port);
            if let (Some(r), Some(link)) = (saved, self.core.replica.as_mut()) {
                link.cached_db = r.stream_db;
            }
        }
    }

    /// Does what the link is ready for: connect, the handshake, the RDB,
    /// the stream. Runs after the clients of the tick and at cron.
    pub(super) fn replica_io(&mut self) {
        let Some(mut link) = self.core.replica.take() else {
            return;
        };
        let now = unix_ms();
        if link.kill {
            // CLIENT KILL TYPE master: as a lost link, then reconnect.
            link.kill = false;
            self.replica_drop(&mut link, "", now);
        }
        let result = self.replica_step(&mut link, now);
        if let Err(msg) = result {
            self.replica_drop(&mut link, &msg, now);
        } else if let Err(e) = link.flush() {
            self.replica_drop(&mut link, &format!("Error writing to MASTER: {e}"), now);
        }
        // A REPLICAOF run by the stream itself would have set a new link;
        // keep the newer one.
        if self.core.replica.is_none() && self.core.is_replica {
            self.core.replica = Some(link);
        } else if let Some(mut sock) = link.sock.take() {
            let _ = self.poll.registry().deregister(&mut sock);
        }
        if self.core.propagator.repl.failover.rejected {
            crate::commands::repl::abort_failover(
                &mut self.core,
                "Failover target rejected psync request",
            );
        }
    }

    fn replica_step(&mut self, link: &mut Link, now: i64) -> Result<(), Fail> {
        link.ready = false;
        match link.state {
            State::Connect => {
                // After a failure, one try a second (`replicationCron`).
                if !link.connect_now && now - link.handshake_ms < 1000 {
                    return Ok(());
                }
                link.connect_now = false;
                log::info!("Connecting to MASTER {}:{}", link.host, link.port);
                let addr = (link.host.as_str(), link.port)
                    .to_socket_addrs()
                    .map_err(|e| format!("Unable to connect to MASTER: {e}"))?
                    .next()
                    .ok_or_else(|| "Unable to connect to MASTER: no address".to_string())?;
                let mut sock = TcpStream::connect(addr)
                    .map_err(|e| format!("Unable to connect to MASTER: {e}"))?;
                self.poll
                    .registry()
                    .register(
                        &mut sock,
                        MASTER_TOKEN,
                        Interest::READABLE | Interest::WRITABLE,
                    )
                    .map_err(|e| format!("Unable to connect to MASTER: {e}"))?;
                link.sock = Some(sock);
                link.state = State::Connecting;
                link.handshake_ms = now;
                log::info!("MASTER <-> REPLICA sync started");
                Ok(())
            }
            State::Connecting => {
                let Some(sock) = link.sock.as_ref() else {
                    return Err("no socket".into());
                };
                if let Ok(Some(e)) | Err(e) = sock.take_error() {
                    return Err(format!("Error condition on socket for SYNC: {e}"));
                }
                if sock.peer_addr().is_err() {
                    return Ok(()); // not yet
                }
                log::info!("Non blocking connect for SYNC fired the event.");
                link.send(&[b"PING"]);
                link.state = State::ReceivePong;
                Ok(())
            }
            State::Transfer => self.replica_transfer(link, now),
            State::Connected => self.replica_stream(link, now),
            _ => self.replica_handshake(link, now),
        }
    }

    fn replica_handshake(&mut self, link: &mut Link, now: i64) -> Result<(), Fail> {
        let closed = link
            .read_into_inbuf()
            .map_err(|e| format!("Error reading from MASTER: {e}"))?;
        while let Some(line) = link.take_line() {
            link.last_io_ms = now;
            match link.state {
                State::ReceivePong => {
                    // -NOAUTH is fine here: AUTH comes next.
                    if line.first() == Some(&b'-')
                        && !line.starts_with(b"-NOAUTH")
                        && !line.starts_with(b"-NOPERM")
                        && !line.starts_with(b"-ERR operation not permitted")
                    {
                        return Err(format!(
                            "Error reply to PING from master: '{}'",
                            String::from_utf8_lossy(&line)
                        ));
                    }
                    log::info!("Master replied to PING, replication can continue...");
                    let (user, pass) = (
                        self.core.config.masteruser.clone(),
                        self.core.config.masterauth.clone(),
                    );
                    if !pass.is_empty() {
                        if user.is_empty() {
                            link.send(&[b"AUTH", pass.as_bytes()]);
                        } else {
                            link.send(&[b"AUTH", user.as_bytes(), pass.as_bytes()]);
                        }
                        link.state = State::ReceiveAuth;
                    } else {
                        self.send_port(link);
                    }
                }
                State::ReceiveAuth => {
                    check_reply(&line).map_err(|e| format!("Unable to AUTH to MASTER: {e}"))?;
                    self.send_port(link);
                }
                State::ReceivePort => {
                    if check_reply(&line).is_err() {
                        log::info!(
                            "(Non critical) Master does not understand REPLCONF listening-port: {}",
                            String::from_utf8_lossy(&line)
                        );
                    }
                    let ip = self.core.config.replica_announce_ip.clone();
                    if ip.is_empty() {
                        send_capa(link);
                    } else {
                        link.send(&[b"REPLCONF", b"ip-address", ip.as_bytes()]);
                        link.state = State::ReceiveIp;
                    }
                }
                State::ReceiveIp => {
                    if check_reply(&line).is_err() {
                        log::info!(
                            "(Non critical) Master does not understand REPLCONF ip-address: {}",
                            String::from_utf8_lossy(&line)
                        );
                    }
                    send_capa(link);
                }
                State::ReceiveCapa => {
                    if check_reply(&line).is_err() {
                        log::info!(
                            "(Non critical) Master does not understand REPLCONF capa: {}",
                            String::from_utf8_lossy(&line)
                        );
                    }
                    // A master handing over with FAILOVER asks the target
                    // to take the master role in the same PSYNC.
                    let failover = self.core.propagator.repl.failover.state
                        == crate::repl::FailoverState::InProgress;
                    let (id, next) = match link.cached.clone() {
                        Some((id, off)) => {
                            let next = (off + 1).to_string();
                            log::info!("Trying a partial resynchronization (request {id}:{next}).");
                            (id, next)
                        }
                        None => {
                            log::info!("Partial resynchronization not possible (no cached master)");
                            ("?".to_string(), "-1".to_string())
                        }
                    };
                    if failover {
                        link.send(&[b"PSYNC", id.as_bytes(), next.as_bytes(), b"FAILOVER"]);
                    } else {
                        link.send(&[b"PSYNC", id.as_bytes(), next.as_bytes()]);
                    }
                    link.state = State::ReceivePsync;
                }
                State::ReceivePsync => {
                    if line.is_empty() {
                        continue; // keepalive newline
                    }
                    return self.replica_psync_reply(link, &line, now);
                }
                _ => {}
            }
        }
        if closed {
            return Err("Master closed the connection during the handshake".into());
        }
        Ok(())
    }

    fn send_port(&mut self, link: &mut Link) {
        let port = match self.core.config.replica_announce_port {
            0 => self
                .core
                .listeners
                .addrs()
                .first()
                .map_or(self.core.config.port, |a| a.port()),
            announced => announced,
        }
        .to_string();
        link.send(&[b"REPLCONF", b"listening-port", port.as_bytes()]);
        link.state = State::ReceivePort;
    }

    fn replica_psync_reply(&mut self, link: &mut Link, line: &[u8], now: i64) -> Result<(), Fail> {
        let text = String::from_utf8_lossy(line).into_owned();
        // A FAILOVER is done once the target took our PSYNC either way;
        // refused, this server is a master again.
        if self.core.propagator.repl.failover.state == crate::repl::FailoverState::InProgress {
            if text.starts_with("+CONTINUE") || text.starts_with("+FULLRESYNC") {
                crate::commands::repl::clear_failover(&mut self.core);
            } else {
                // Undone by `replica_io` once the link is back in place.
                self.core.propagator.repl.failover.rejected = true;
                return Ok(());
            }
        }
        if let Some(rest) = text.strip_prefix("+FULLRESYNC") {
            let mut it = rest.split_whitespace();
            let id = it.next().unwrap_or_default().to_string();
            let off: u64 = it.next().and_then(|o| o.parse().ok()).unwrap_or(0);
            log::info!("Full resync from master: {id}:{off}");
            link.master_replid = id;
            link.base = off;
            link.cached = None;
            link.transfer = Some(Transfer::default());
            link.state = State::Transfer;
            // What followed the line is the RDB's start.
            return self.replica_transfer(link, now);
        }
        if let Some(rest) = text.strip_prefix("+CONTINUE") {
            let Some((cached_id, off)) = link.cached.take() else {
                return Err("+CONTINUE without a cached master".into());
            };
            let new_id = rest.trim();
            log::info!("Successful partial resynchronization with master.");
            let stream = &mut self.core.propagator.repl;
            if !new_id.is_empty() && new_id != cached_id {
                log::info!("Master replication ID changed to {new_id}");
                stream.shift_replid(new_id.to_string());
                link.master_replid = new_id.to_string();
            } else {
                link.master_replid = cached_id;
            }
            stream.proxy = true;
            log::info!("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
            self.replica_online(link, off, now, true);
            // The stream goes on in the database it had selected.
            link.client.db = link.cached_db;
            return self.replica_stream(link, now);
        }
        Err(format!("Unexpected reply to PSYNC from master: {text}"))
    }

    /// The link is up from offset `off`: what is left in `inbuf` is stream.
    /// `resumed`: a partial resync, which continues the cached master.
    fn replica_online(&mut self, link: &mut Link, off: u64, now: i64, resumed: bool) {
        link.base = off;
        link.read = 0;
        link.parser = crate::resp::Parser::new();
        link.client.db = 0;
        link.client.multi = Default::default();
        link.client.flags.set(crate::client::Flags::MULTI, false);
        link.client
            .flags
            .set(crate::client::Flags::DIRTY_EXEC, false);
        link.state = State::Connected;
        link.down_since_ms = 0;
        link.last_io_ms = now;
        // The master's client, as CLIENT LIST shows it: a new one (id, age)
        // after a full sync (Redis's `replicationCreateMasterClient`), the
        // same one after a partial resync (`replicationResurrectCachedMaster`),
        // on the new socket.
        if !resumed || link.client.id == 0 {
            link.client.id = self.core.new_client_id();
            link.client.created_ms = now;
        }
        link.client.last_interaction_ms = now;
        if let Some(sock) = link.sock.as_ref() {
            use std::os::fd::AsRawFd;
            if let Ok(a) = sock.peer_addr() {
                link.client.addr = crate::client::fmt_addr(&a);
            }
            link.client.laddr = sock
                .local_addr()
                .map(|a| crate::client::fmt_addr(&a))
                .unwrap_or_default();
            link.client.fd = sock.as_raw_fd();
        }
        let rest = std::mem::take(&mut link.inbuf);
        if !rest.is_empty() {
            let target = link.parser.read_target(rest.len());
            target[..rest.len()].copy_from_slice(&rest);
            link.parser.commit_read(rest.len());
            link.read += rest.len() as u64;
            self.core.propagator.repl.feed_proxy(&rest);
        }
    }

    fn replica_transfer(&mut self, link: &mut Link, now: i64) -> Result<(), Fail> {
        let closed = link
            .read_into_inbuf()
            .map_err(|e| format!("I/O error trying to sync with MASTER: {e}"))?;
        if !link.inbuf.is_empty() {
            link.last_io_ms = now;
        }
        let Some(mut t) = link.transfer.take() else {
            return Err("no transfer".into());
        };
        if t.len.is_none() && t.mark.is_none() {
            // The bulk header, after any keepalive newlines.
            loop {
                let Some(line) = link.take_line() else {
                    link.transfer = Some(t);
                    return if closed {
                        Err("Master closed the connection during the sync".into())
                    } else {
                        Ok(())
                    };
                };
                if line.is_empty() {
                    continue;
                }
                if line.first() == Some(&b'-') {
                    return Err(format!(
                        "MASTER aborted replication with an error: {}",
                        String::from_utf8_lossy(&line)
                    ));
                }
                if let Some(mark) = line.strip_prefix(b"$EOF:") {
                    t.mark = Some(mark.to_vec());
                    log::info!("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to memory");
                } else {
                    let len = std::str::from_utf8(line.get(1..).unwrap_or_default())
                        .ok()
                        .and_then(|l| l.parse::<usize>().ok())
                        .ok_or_else(|| {
                            format!(
                                "Bad protocol from MASTER, the first byte is not '$' (we received '{}'), are you sure the host and port are right?",
                                String::from_utf8_lossy(&line)
                            )
                        })?;
                    t.len = Some(len);
                    log::info!(
                        "MASTER <-> REPLICA sync: receiving {len} bytes from master to memory"
                    );
                }
                break;
            }
        }
        let before = t.data.len();
        t.data.append(&mut link.inbuf);
        let done = if let Some(len) = t.len {
            if t.data.len() >= len {
                link.inbuf = t.data.split_off(len);
                true
            } else {
                false
            }
        } else if let Some(mark) = t.mark.clone() {
            let from = before.saturating_sub(mark.len());
            match t.data[from..]
                .windows(mark.len())
                .position(|w| w == &mark[..])
            {
                Some(p) => {
                    let at = from + p;
                    link.inbuf = t.data.split_off(at + mark.len());
                    t.data.truncate(at);
                    true
                }
                None => false,
            }
        } else {
            false
        };
        if !done {
            link.transfer = Some(t);
            if closed {
                return Err("Master closed the connection during the sync".into());
            }
            return Ok(());
        }
        self.replica_load(link, &t.data, t.mark.is_some(), now)
    }

    fn replica_load(
        &mut self,
        link: &mut Link,
        rdb: &[u8],
        eof_form: bool,
        now: i64,
    ) -> Result<(), Fail> {
        log::info!("MASTER <-> REPLICA sync: Flushing old data");
        for db in self.dbs.iter_mut() {
            drop(db.take_all());
        }
        crate::tracking::flushed(true);
        log::info!("MASTER <-> REPLICA sync: Loading DB in memory");
        let lim = crate::rdb::Limits::from_config(&self.core.config);
        let o = crate::rdb::loader::LoadOptions {
            expire_before: None,
            check_crc: self.core.config.rdbchecksum,
        };
        let started = std::time::Instant::now();
        // Clients get -LOADING meanwhile (Redis's `repl-diskless-load
        // disabled` path: the transfer is whole, then loaded).
        crate::loading::start(&mut self.core, rdb.len() as u64);
        // The link is out of `core` while it is handled; clients served
        // during the load still see a replica in sync (INFO replication,
        // ROLE), as Redis shows `master_sync_in_progress:1` then.
        let mut view = Link::new(link.host.clone(), link.port, None, now);
        view.state = State::Transfer;
        view.base = link.base;
        view.read = link.read;
        view.last_io_ms = link.last_io_ms;
        view.down_since_ms = link.down_since_ms;
        self.core.replica = Some(Box::new(view));
        let loaded = {
            let Server {
                dbs,
                core,
                clients,
                redaction,
                signals,
                ..
            } = self;
            let mut s = crate::loading::Serve {
                clients,
                redaction,
                signals: Some(signals),
            };
            crate::loading::load_rdb(rdb, dbs, core, &mut s, &lim, o, 0)
        };
        crate::loading::stop(&mut self.core);
        self.core.replica = None;
        match loaded {
            Ok(st) => {
                log::info!(
                    "Done loading RDB, keys loaded: {}, keys expired: {}.",
                    st.keys_loaded,
                    st.keys_expired
                );
                log::debug!("loaded in {:.3} seconds", started.elapsed().as_secs_f64());
            }
            Err(e) => {
                for db in self.dbs.iter_mut() {
                    drop(db.take_all());
                }
                return Err(format!(
                    "Failed trying to load the MASTER synchronization DB from socket: {e}"
                ));
            }
        }
        // This server's own replicas follow a history that just ended.
        let subs: Vec<Token> = self
            .clients
            .iter()
            .filter(|c| c.state.has(crate::client::Flags::REPLICA))
            .map(|c| c.token)
            .collect();
        for t in subs {
            self.clients.kill(t);
        }
        // A snapshot child still writing to them sends an old dataset.
        crate::repl::sync::kill(&mut self.core);
        let size = self.core.config.repl_backlog_size as usize;
        self.core
            .propagator
            .repl
            .follow(&link.master_replid, link.base, size);
        // The AOF must hold the new dataset: rewrite it from memory, as
        // Redis restarts its AOF after a sync.
        if self.core.aof.enabled() && !self.core.aof.rewrite_in_progress() {
            if let Err(e) = self.core.aof.start_rewrite() {
                log::warn!("Can't start the AOF rewrite after the sync: {e}");
            }
        }
        self.core.dirty += 1;
        log::info!("MASTER <-> REPLICA sync: Finished with success");
        let off = link.base;
        self.replica_online(link, off, now, false);
        if eof_form {
            // The master puts a diskless replica online on its first ACK.
            link.ack(now);
        }
        self.replica_stream(link, now)
    }

    /// Runs the master's commands: replies are dropped, REPLCONF GETACK is
    /// answered with an ACK of what was processed before it.
    fn replica_stream(&mut self, link: &mut Link, now: i64) -> Result<(), Fail> {
        let mut fed = Vec::new();
        let closed = link
            .read_stream(&mut fed)
            .map_err(|e| format!("Error reading from MASTER: {e}"))?;
        if !fed.is_empty() {
            link.last_io_ms = now;
            self.core.propagator.repl.feed_proxy(&fed);
        }
        let limits = Limits {
            max_bulk_len: self.core.config.proto_max_bulk_len,
            auth_required: false,
            oversize_is_incomplete: false,
        };
        let mut reply = Reply::new();
        loop {
            match link.parser.next(&limits) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => return Err(format!("Protocol error from MASTER: {e:?}")),
            }
            let args = link.parser.args();
            let getack = args.len() >= 2
                && args.get(0).eq_ignore_ascii_case(b"replconf")
                && args.get(1).eq_ignore_ascii_case(b"getack");
            if getack {
                // Redis acknowledges the offset before the GETACK itself.
                link.ack(now);
                link.parser.consume();
                continue;
            }
            let mut x = Exec {
                dbs: &mut self.dbs,
                client: &mut link.client,
                reply: &mut reply,
                clients: &mut self.clients,
                core: &mut self.core,
                redaction: &mut self.redaction,
            };
            let outcome = commands::process_command(&mut x, &args);
            reply.discard();
            if let commands::Outcome::Block(_) = outcome {
                log::warn!(
                    "A command from the MASTER could not run: '{}'",
                    String::from_utf8_lossy(args.get(0))
                );
            }
            link.parser.consume();
        }
        if closed {
            return Err("Connection with master lost.".into());
        }
        Ok(())
    }

    /// The link failed or closed: keep the master's state for PSYNC and
    /// connect again at the next cron.
    fn replica_drop(&mut self, link: &mut Link, msg: &str, now: i64) {
        if !msg.is_empty() {
            log::warn!("{msg}");
        }
        if link.state == State::Connected {
            log::info!("Connection with master lost.");
            log::info!("* Caching the disconnected master state.");
            link.cached = Some((link.master_replid.clone(), link.processed()));
            link.cached_db = link.client.db;
            link.down_since_ms = now;
        }
        if let Some(mut sock) = link.sock.take() {
            let _ = self.poll.registry().deregister(&mut sock);
        }
        link.inbuf.clear();
        link.out.clear();
        link.transfer = None;
        link.state = State::Connect;
        link.handshake_ms = now;
    }

    /// Once a second: connect when due, the handshake's timeout, and the
    /// REPLCONF ACK.
    pub(super) fn replica_cron(&mut self) {
        let now = unix_ms();
        let timeout_ms = self.core.config.repl_timeout as i64 * 1000;
        let Some(link) = self.core.replica.as_mut() else {
            return;
        };
        match link.state {
            State::Connect => {}
            State::Connected => {
                if now - link.last_ack_ms >= 1000 {
                    link.ack(now);
                }
                if now - link.last_io_ms > timeout_ms {
                    let mut l = self.core.replica.take();
                    if let Some(l) = l.as_mut() {
                        self.replica_drop(l, "MASTER timeout: no data nor PING received...", now);
                    }
                    self.core.replica = l;
                }
            }
            _ => {
                if now - link.handshake_ms > timeout_ms {
                    let mut l = self.core.replica.take();
                    if let Some(l) = l.as_mut() {
                        self.replica_drop(l, "Timeout connecting to the MASTER...", now);
                    }
                    self.core.replica = l;
                }
            }
        }
        self.replica_io();
    }
}

/// The handshake's last REPLCONF: what this replica can take.
fn send_capa(link: &mut Link) {
    link.send(&[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]);
    link.state = State::ReceiveCapa;
}
