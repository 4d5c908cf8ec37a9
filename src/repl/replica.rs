//! Replication, replica side (Redis 7.0's `replication.c` replica state
//! machine): the link to the master, its non-blocking handshake on the
//! loop (PING, AUTH, REPLCONF listening-port and capa, PSYNC), the full
//! sync's RDB (`$<len>` or the diskless `$EOF:<mark>` form), and the
//! stream after it, which the loop runs through `process_command` on the
//! master's client (`Server::replica_io`).
//!
//! The bytes of the master's stream are also what this server's own
//! replication stream carries (`ReplStream::proxy`): a replica keeps the
//! master's replication id and offset, so that after a promotion the old
//! master's other replicas can continue from it with PSYNC.

use std::io::{self, Read, Write};

use mio::net::TcpStream;

use crate::client::{ClientState, Flags};
use crate::resp::Parser;

/// Where the link is (Redis's `repl_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Must connect (at the next cron or end of tick).
    Connect,
    /// The non-blocking connect is in flight.
    Connecting,
    /// PING sent.
    ReceivePong,
    /// AUTH sent.
    ReceiveAuth,
    /// REPLCONF listening-port sent.
    ReceivePort,
    /// REPLCONF ip-address sent (`replica-announce-ip`).
    ReceiveIp,
    /// REPLCONF capa sent.
    ReceiveCapa,
    /// PSYNC sent.
    ReceivePsync,
    /// +FULLRESYNC read: the RDB is coming.
    Transfer,
    /// The stream flows.
    Connected,
}

/// The RDB of a full sync being received.
#[derive(Debug, Default)]
pub struct Transfer {
    /// `$<len>`: the bytes expected.
    pub len: Option<usize>,
    /// `$EOF:<mark>`: the 40 bytes that end it.
    pub mark: Option<Vec<u8>>,
    /// What came so far.
    pub data: Vec<u8>,
}

/// The link to the master.
#[derive(Debug)]
pub struct Link {
    /// The master.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// Where the link is.
    pub state: State,
    /// The socket, from `Connecting` on.
    pub sock: Option<TcpStream>,
    /// Handshake input not yet used.
    pub inbuf: Vec<u8>,
    /// Output not yet written (handshake commands, ACKs).
    pub out: Vec<u8>,
    /// The stream's parser, once connected.
    pub parser: Parser,
    /// The master's client: its commands run on it.
    pub client: ClientState,
    /// The full sync in progress.
    pub transfer: Option<Transfer>,
    /// The master's replication id (from +FULLRESYNC or +CONTINUE).
    pub master_replid: String,
    /// The offset the stream started at after the sync (the parser's
    /// `consumed` counts from here): processed offset is `base + consumed`.
    pub base: u64,
    /// Bytes read past `base` (the read offset).
    pub read: u64,
    /// The master state kept across a dropped link, for PSYNC
    /// (`server.cached_master`): its replid and processed offset.
    pub cached: Option<(String, u64)>,
    /// The database the master's stream had selected when `cached` was
    /// kept: a partial resync continues the stream without a SELECT.
    pub cached_db: usize,
    /// Unix ms of the last byte from the master.
    pub last_io_ms: i64,
    /// Unix ms the link went down (0 while up).
    pub down_since_ms: i64,
    /// Unix ms of the last REPLCONF ACK sent.
    pub last_ack_ms: i64,
    /// Unix ms of the handshake's start (for `repl-timeout`).
    pub handshake_ms: i64,
    /// Whether the event loop saw the socket ready since the last look.
    pub ready: bool,
    /// REPLICAOF asked for it: connect at the end of this tick, not at
    /// the next retry.
    pub connect_now: bool,
    /// CLIENT KILL TYPE master asked for the link to be closed (done by
    /// the loop, which owns the socket's registration).
    pub kill: bool,
}

impl Link {
    /// A link to `host:port`, to connect.
    pub fn new(host: String, port: u16, cached: Option<(String, u64)>, now_ms: i64) -> Link {
        let mut client = ClientState::new(
            0,
            format!("{host}:{port}"),
            String::new(),
            -1,
            false,
            now_ms,
            true,
        );
        client.flags.set(Flags::MASTER, true);
        client.flags.set(Flags::DENY_BLOCKING, true);
        Link {
            host,
            port,
            state: State::Connect,
            sock: None,
            inbuf: Vec::new(),
            out: Vec::new(),
            parser: Parser::new(),
            client,
            transfer: None,
            master_replid: String::new(),
            base: 0,
            read: 0,
            cached,
            cached_db: 0,
            last_io_ms: now_ms,
            down_since_ms: 0,
            last_ack_ms: 0,
            handshake_ms: now_ms,
            ready: false,
            connect_now: true,
            kill: false,
        }
    }

    /// The offset of the last byte processed (`slave_repl_offset`).
    pub fn processed(&self) -> u64 {
        if self.state == State::Connected {
            self.base + self.parser.consumed()
        } else {
            self.cached.as_ref().map_or(0, |c| c.1)
        }
    }

    /// The offset of the last byte read (`slave_read_repl_offset`).
    pub fn read_offset(&self) -> u64 {
        if self.state == State::Connected {
            self.base + self.read
        } else {
            self.processed()
        }
    }

    /// Whether the link is up (`master_link_status:up`).
    pub fn up(&self) -> bool {
        self.state == State::Connected
    }

    /// ROLE's state word (Redis's `slaveStateToString` family).
    pub fn role_state(&self) -> &'static str {
        match self.state {
            State::Connect => "connect",
            State::Connecting => "connecting",
            State::Transfer => "sync",
            State::Connected => "connected",
            _ => "handshake",
        }
    }

    /// Queues one command for the master, as RESP.
    pub fn send(&mut self, args: &[&[u8]]) {
        crate::resp::encode::command(&mut self.out, args.iter().copied());
    }

    /// Writes what is queued; Err when the link failed.
    pub fn flush(&mut self) -> io::Result<()> {
        let Some(sock) = self.sock.as_mut() else {
            return Ok(());
        };
        while !self.out.is_empty() {
            match sock.write(&self.out) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.out.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads everything available into `inbuf` (handshake, transfer).
    /// Ok(true) when the master closed the link.
    pub fn read_into_inbuf(&mut self) -> io::Result<bool> {
        let Some(sock) = self.sock.as_mut() else {
            return Ok(false);
        };
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match sock.read(&mut chunk) {
                Ok(0) => return Ok(true),
                Ok(n) => self.inbuf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Takes one line (without CRLF) from `inbuf`.
    pub fn take_line(&mut self) -> Option<Vec<u8>> {
        let nl = self.inbuf.iter().position(|&b| b == b'\n')?;
        let mut line: Vec<u8> = self.inbuf.drain(..=nl).collect();
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Some(line)
    }

    /// Reads stream bytes into the parser. Ok(true) when the master closed
    /// the link. Returns the bytes read through `fed`.
    pub fn read_stream(&mut self, fed: &mut Vec<u8>) -> io::Result<bool> {
        let Some(sock) = self.sock.as_mut() else {
            return Ok(false);
        };
        loop {
            let target = self.parser.read_target(crate::server::READ_BUDGET);
            match sock.read(target) {
                Ok(0) => return Ok(true),
                Ok(n) => {
                    fed.extend_from_slice(&target[..n]);
                    self.parser.commit_read(n);
                    self.read += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Queues `REPLCONF ACK <processed offset>`.
    pub fn ack(&mut self, now_ms: i64) {
        let off = self.processed().to_string();
        self.send(&[b"REPLCONF", b"ACK", off.as_bytes()]);
        self.last_ack_ms = now_ms;
    }
}

/// The next state after a reply to a handshake step, or the error line.
pub fn check_reply(line: &[u8]) -> Result<(), String> {
    if line.first() == Some(&b'-') {
        Err(String::from_utf8_lossy(line).into_owned())
    } else {
        Ok(())
    }
}
