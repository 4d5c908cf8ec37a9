//! Accepting connections: protected mode, `maxclients`, TCP options, and
//! a new client's registration.

use super::*;

impl Server {
    pub(super) fn accept(&mut self, token: Token) {
        for _ in 0..MAX_ACCEPTS {
            let accepted = if token == UNIX_TOKEN {
                match self.core.listeners.unix().map(|l| l.accept()) {
                    Some(Ok((s, _))) => {
                        let path = self
                            .core
                            .listeners
                            .unix_path()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default();
                        Ok((
                            Stream::Unix(s),
                            format!("{path}:0"),
                            format!("{path}:0"),
                            true,
                        ))
                    }
                    Some(Err(e)) => Err(e),
                    None => return,
                }
            } else {
                match self.core.listeners.tcp(token).map(|l| l.accept()) {
                    Some(Ok((s, peer))) => {
                        let local = s.local_addr().map(|a| fmt_addr(&a)).unwrap_or_default();
                        self.tune_tcp(&s);
                        if crate::limits::protected_mode_refuses(
                            self.core.config.protected_mode,
                            &self.core.config.requirepass,
                            peer.ip(),
                        ) {
                            self.refuse(Stream::Tcp(s), PROTECTED_MODE_MSG);
                            continue;
                        }
                        Ok((Stream::Tcp(s), fmt_addr(&peer), local, false))
                    }
                    Some(Err(e)) => Err(e),
                    None => return,
                }
            };
            match accepted {
                Ok((stream, addr, laddr, unix)) => self.add_client(stream, addr, laddr, unix),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // EMFILE and friends. The listener is edge-triggered: no
                    // new event comes for the connections still queued, so
                    // retry from the cron, once descriptors may be free.
                    log::warn!("Accepting client connection: {e}");
                    if !self.accept_retry_cron.contains(&token) {
                        self.accept_retry_cron.push(token);
                    }
                    return;
                }
            }
        }
        // The budget ran out with connections perhaps still queued: go on
        // next tick (no new edge would come for them).
        if !self.accept_retry.contains(&token) {
            self.accept_retry.push(token);
        }
    }

    pub(super) fn tune_tcp(&self, s: &TcpStream) {
        let _ = s.set_nodelay(true);
        let sock = socket2::SockRef::from(s);
        let ka = self.core.config.tcp_keepalive;
        if ka > 0 {
            // Redis's anetKeepAlive: idle = interval, probes every
            // interval/3, dropped after 3 unanswered probes.
            let params = socket2::TcpKeepalive::new()
                .with_time(Duration::from_secs(ka))
                .with_interval(Duration::from_secs((ka / 3).max(1)))
                .with_retries(3);
            let _ = sock.set_tcp_keepalive(&params);
        }
    }

    /// Sends `err` as an error reply to a connection refused before it
    /// became a client (protected mode, maxclients), then drops it.
    pub(super) fn refuse(&mut self, mut stream: Stream, err: &str) {
        self.core.stats.rejected_connections += 1;
        let mut out = Vec::with_capacity(err.len() + 3);
        crate::resp::encode::error(&mut out, &err);
        let _ = stream.write(&out);
    }

    pub(super) fn add_client(&mut self, stream: Stream, addr: String, laddr: String, unix: bool) {
        if self.clients.len() >= self.core.config.maxclients as usize {
            self.refuse(stream, "ERR max number of clients reached");
            return;
        }
        self.core.stats.total_connections_received += 1;
        let token = self.clients.next_token();
        let mut stream = stream;
        if let Err(e) = self.poll.registry().register(
            stream.source(),
            token,
            Interest::READABLE | Interest::WRITABLE,
        ) {
            log::warn!("Can't register client {addr}: {e}");
            return;
        }
        let id = self.core.new_client_id();
        let fd = stream.fd();
        let authenticated = self.core.config.requirepass.is_empty();
        let mut state = ClientState::new(id, addr, laddr, fd, unix, unix_ms(), authenticated);
        state.token = token;
        // Data may have arrived with the connection: it is read this tick.
        state
            .flags
            .set(Flags::READABLE | Flags::WRITABLE | Flags::QUEUED, true);
        log::debug!("Accepted {}", state.addr);
        let mut reply = Reply::new();
        reply.set_cap(
            self.core
                .config
                .client_output_buffer_limit
                .for_client(false)
                .hard_cap(),
        );
        let client = Client {
            stream,
            token,
            query: Parser::new(),
            reply,
            state,
            closing: None,
        };
        self.clients.insert(Box::new(client));
        // Data may have arrived with the connection: process it this tick.
        self.work.push(token);
    }
}

/// What a non-loopback client hears in protected mode.
const PROTECTED_MODE_MSG: &str = "DENIED GoStore is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to GoStore you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to GoStore from the same host the server is running, however MAKE SURE GoStore is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the GoStore configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.";
