//! Listening sockets: TCP on every `bind` address (made with socket2 for
//! SO_REUSEADDR, IPV6_V6ONLY and the `tcp-backlog`), and the Unix socket.
//! A `-` before an address makes it optional: skipped when the address does
//! not exist on this host, as in Redis.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use mio::net::{TcpListener, UnixListener};
use mio::{Interest, Registry, Token};
use socket2::{Domain, Protocol, Socket, Type};

use crate::config::Config;

/// Token of the first TCP listener; listener i has token i.
pub const TCP_TOKEN_BASE: usize = 0;
/// Most TCP listeners.
pub const MAX_TCP: usize = 16;
/// Token of the Unix listener.
pub const UNIX_TOKEN: Token = Token(32);

/// The listening sockets.
pub struct Listeners {
    registry: Registry,
    tcp: Vec<(TcpListener, SocketAddr)>,
    unix: Option<(UnixListener, PathBuf)>,
}

/// Why listening failed.
#[derive(Debug)]
pub struct ListenError(pub String);

impl std::fmt::Display for ListenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn parse_bind(addr: &str, port: u16) -> Result<SocketAddr, String> {
    let ip: IpAddr = match addr {
        "*" => IpAddr::from([0, 0, 0, 0]),
        "::*" => IpAddr::from([0u16; 8]),
        a => a
            .parse()
            .map_err(|_| format!("Invalid bind address '{a}'"))?,
    };
    Ok(SocketAddr::new(ip, port))
}

fn listen_tcp(addr: SocketAddr, backlog: i32) -> std::io::Result<TcpListener> {
    let domain = if addr.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let s = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
    s.set_reuse_address(true)?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    s.listen(backlog)?;
    Ok(TcpListener::from_std(s.into()))
}

/// Whether a bind error on an optional address means "not on this host".
fn absent(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EADDRNOTAVAIL)
            | Some(libc::EAFNOSUPPORT)
            | Some(libc::EPROTONOSUPPORT)
            | Some(libc::ENOPROTOOPT)
            | Some(libc::ESOCKTNOSUPPORT)
            | Some(libc::EPFNOSUPPORT)
    )
}

impl Listeners {
    /// Binds everything the config asks for and registers it.
    pub fn bind(config: &Config, registry: Registry) -> Result<Listeners, ListenError> {
        let tcp = Self::bind_tcp(&config.bind, config.port, config.tcp_backlog)?;
        let mut l = Listeners {
            registry,
            tcp,
            unix: None,
        };
        if !config.unixsocket.is_empty() {
            let path = PathBuf::from(&config.unixsocket);
            let _ = std::fs::remove_file(&path);
            let sock = UnixListener::bind(&path).map_err(|e| {
                ListenError(format!(
                    "Failed opening Unix socket {}: {e}",
                    path.display()
                ))
            })?;
            if config.unixsocketperm != 0 {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(
                    &path,
                    std::fs::Permissions::from_mode(config.unixsocketperm),
                )
                .map_err(|e| {
                    ListenError(format!(
                        "Failed to set permissions on {}: {e}",
                        path.display()
                    ))
                })?;
            }
            l.unix = Some((sock, path));
        }
        if l.tcp.is_empty() && l.unix.is_none() {
            return Err(ListenError(
                "Configured to not listen anywhere, exiting.".to_string(),
            ));
        }
        l.register_all()
            .map_err(|e| ListenError(format!("Can't register listeners: {e}")))?;
        Ok(l)
    }

    fn bind_tcp(
        bind: &[String],
        port: u16,
        backlog: i32,
    ) -> Result<Vec<(TcpListener, SocketAddr)>, ListenError> {
        let mut out = Vec::new();
        if port == 0 {
            return Ok(out);
        }
        for b in bind {
            let (optional, a) = match b.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, b.as_str()),
            };
            let addr = parse_bind(a, port).map_err(ListenError)?;
            match listen_tcp(addr, backlog) {
                Ok(l) => {
                    let local = l.local_addr().unwrap_or(addr);
                    out.push((l, local));
                }
                Err(e) if optional && absent(&e) => {
                    log::debug!("Skipping optional bind address {a}: {e}");
                }
                Err(e) => {
                    return Err(ListenError(format!(
                        "Could not create server TCP listening socket {a}:{port}: {e}"
                    )));
                }
            }
            if out.len() > MAX_TCP {
                return Err(ListenError(format!(
                    "Too many bind addresses (at most {MAX_TCP})"
                )));
            }
        }
        // No address at all (`bind ""`, or only optional ones absent here)
        // means no TCP listener, as in Redis; `bind` checks that something
        // listens.
        Ok(out)
    }

    fn register_all(&mut self) -> std::io::Result<()> {
        for (i, (l, _)) in self.tcp.iter_mut().enumerate() {
            self.registry
                .register(l, Token(TCP_TOKEN_BASE + i), Interest::READABLE)?;
        }
        if let Some((u, _)) = &mut self.unix {
            self.registry.register(u, UNIX_TOKEN, Interest::READABLE)?;
        }
        Ok(())
    }

    /// Replaces the TCP listeners (CONFIG SET port/bind), as Redis's
    /// `changeBindAddr`: the old sockets close first, so a new list that
    /// shares an address with the old one can bind it; if the new ones
    /// cannot all be made, the old ones are made again and the error is
    /// returned.
    pub fn rebind(
        &mut self,
        bind: &[String],
        port: u16,
        backlog: i32,
        old: (&[String], u16),
    ) -> Result<(), ListenError> {
        for (mut l, _) in self.tcp.drain(..) {
            let _ = self.registry.deregister(&mut l);
        }
        let err = match Self::bind_tcp(bind, port, backlog) {
            Ok(fresh) => match self.adopt(fresh) {
                Ok(()) => return Ok(()),
                Err(e) => e,
            },
            Err(e) => e,
        };
        log::warn!("Failed to bind ({err}), trying to restore old listening sockets.");
        let restored = Self::bind_tcp(old.0, old.1, backlog).and_then(|l| self.adopt(l));
        if let Err(e) = restored {
            log::warn!("Failed to restore old listening sockets: {e}. No TCP listener is open until CONFIG SET bind or port succeeds.");
        }
        Err(err)
    }

    /// Registers fresh TCP listeners and keeps them (none on failure).
    fn adopt(&mut self, mut fresh: Vec<(TcpListener, SocketAddr)>) -> Result<(), ListenError> {
        for (i, (l, _)) in fresh.iter_mut().enumerate() {
            if let Err(e) = self
                .registry
                .register(l, Token(TCP_TOKEN_BASE + i), Interest::READABLE)
            {
                for (mut l, _) in fresh {
                    let _ = self.registry.deregister(&mut l);
                }
                return Err(ListenError(format!("Can't register listeners: {e}")));
            }
        }
        self.tcp = fresh;
        Ok(())
    }

    pub fn tcp(&self, token: Token) -> Option<&TcpListener> {
        token
            .0
            .checked_sub(TCP_TOKEN_BASE)
            .and_then(|i| self.tcp.get(i))
            .map(|(l, _)| l)
    }

    /// The Unix listener.
    pub fn unix(&self) -> Option<&UnixListener> {
        self.unix.as_ref().map(|(u, _)| u)
    }

    /// Whether a token is a listener's.
    pub fn is_listener(&self, token: Token) -> bool {
        token == UNIX_TOKEN || (TCP_TOKEN_BASE..=TCP_TOKEN_BASE + MAX_TCP).contains(&token.0)
    }

    /// Bound TCP addresses.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.tcp.iter().map(|(_, a)| *a).collect()
    }

    /// The Unix socket path.
    pub fn unix_path(&self) -> Option<&PathBuf> {
        self.unix.as_ref().map(|(_, p)| p)
    }

    /// Stops listening (shutdown): closes sockets, removes the Unix socket file.
    pub fn close(&mut self) {
        for (mut l, _) in self.tcp.drain(..) {
            let _ = self.registry.deregister(&mut l);
        }
        if let Some((mut u, p)) = self.unix.take() {
            let _ = self.registry.deregister(&mut u);
            let _ = std::fs::remove_file(p);
        }
    }

    /// The registry, for registering clients.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}
