//! One connection to the server (TCP or Unix socket): send argv, read
//! replies. `ConnError` prints as hiredis's `errstr`, because redis-cli shows
//! it verbatim (`Could not connect to Redis at HOST:PORT: <errstr>`,
//! `Error: <errstr>`).

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;

use crate::resp::{encode_command, ProtocolError, Reader, Reply};
use crate::signals;

/// Seconds of idle before TCP keepalive probes, as redis-cli's
/// `REDIS_CLI_KEEPALIVE_INTERVAL`.
const KEEPALIVE_SECS: libc::c_int = 15;

/// Why a connection failed, worded as hiredis's `errstr`.
#[derive(Debug)]
pub enum ConnError {
    /// Connecting failed: resolution or `connect(2)`.
    Connect(String),
    /// The server closed the connection.
    Eof,
    /// A read or write failed.
    Io(io::Error),
    /// The server sent bytes that are not RESP.
    Protocol(ProtocolError),
    /// Ctrl-C interrupted a blocking read (MONITOR, SUBSCRIBE).
    Aborted,
}

impl ConnError {
    /// redis-cli reconnects on the next command after these, in the REPL;
    /// on anything else it exits.
    pub fn is_disconnect(&self) -> bool {
        match self {
            ConnError::Eof => true,
            ConnError::Io(e) => {
                matches!(e.raw_os_error(), Some(libc::ECONNRESET) | Some(libc::EPIPE))
            }
            _ => false,
        }
    }
}

/// `strerror(errno)` text of an I/O error, without Rust's ` (os error N)`.
pub fn strerror(e: &io::Error) -> String {
    let s = e.to_string();
    let s = match s.find(" (os error ") {
        Some(at) if s.ends_with(')') => s[..at].to_string(),
        _ => s,
    };
    match s.strip_prefix("failed to lookup address information: ") {
        Some(rest) => rest.to_string(),
        None => s,
    }
}

impl fmt::Display for ConnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect(s) => f.write_str(s),
            Self::Eof => f.write_str("Server closed the connection"),
            Self::Io(e) => f.write_str(&strerror(e)),
            Self::Protocol(p) => write!(f, "{p}"),
            Self::Aborted => f.write_str("Interrupted"),
        }
    }
}

impl std::error::Error for ConnError {}

/// Where to connect.
#[derive(Debug, Clone)]
pub enum Addr {
    Tcp(String, i64),
    Unix(String),
}

impl fmt::Display for Addr {
    /// As redis-cli names it in errors: `host:port`, `[v6]:port` or the path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Tcp(h, p) if h.contains(':') => write!(f, "[{h}]:{p}"),
            Addr::Tcp(h, p) => write!(f, "{h}:{p}"),
            Addr::Unix(path) => f.write_str(path),
        }
    }
}

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// A connected socket and its reply reader.
pub struct Conn {
    stream: Stream,
    reader: Reader,
}

impl Conn {
    /// Connects, blocking, as hiredis's `redisConnect` does.
    pub fn connect(addr: &Addr) -> Result<Conn, ConnError> {
        let stream = match addr {
            Addr::Unix(path) => Stream::Unix(
                UnixStream::connect(path).map_err(|e| ConnError::Connect(strerror(&e)))?,
            ),
            Addr::Tcp(host, port) => {
                let port = u16::try_from(*port).map_err(|_| {
                    ConnError::Connect("Servname not supported for ai_socktype".into())
                })?;
                let addrs = (host.as_str(), port)
                    .to_socket_addrs()
                    .map_err(|e| ConnError::Connect(strerror(&e)))?;
                let mut last = ConnError::Connect("Can't resolve: ".to_string() + host);
                let mut connected = None;
                for a in addrs {
                    match TcpStream::connect(a) {
                        Ok(s) => {
                            connected = Some(s);
                            break;
                        }
                        Err(e) => last = ConnError::Connect(strerror(&e)),
                    }
                }
                let s = connected.ok_or(last)?;
                let _ = s.set_nodelay(true);
                keepalive(&s);
                Stream::Tcp(s)
            }
        };
        Ok(Conn {
            stream,
            reader: Reader::new(),
        })
    }

    /// The socket's descriptor, for `poll(2)`.
    pub fn fd(&self) -> i32 {
        match &self.stream {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
        }
    }

    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        match &self.stream {
            Stream::Tcp(s) => s.set_nonblocking(on),
            Stream::Unix(s) => s.set_nonblocking(on),
        }
    }

    /// One `write(2)`; may write less than `buf`.
    pub fn write_some(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.stream {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    /// Bounds blocking reads (None: wait indefinitely).
    fn set_read_timeout(&self, t: Option<std::time::Duration>) {
        let _ = match &self.stream {
            Stream::Tcp(s) => s.set_read_timeout(t),
            Stream::Unix(s) => s.set_read_timeout(t),
        };
    }

    /// One `read(2)` into the reply reader; `Ok(0)` is end of stream.
    pub fn read_some(&mut self) -> io::Result<usize> {
        let mut buf = [0u8; 16 * 1024];
        let n = match &mut self.stream {
            Stream::Tcp(s) => s.read(&mut buf)?,
            Stream::Unix(s) => s.read(&mut buf)?,
        };
        self.reader.feed(&buf[..n]);
        Ok(n)
    }

    /// A reply already buffered, without reading.
    pub fn buffered_reply(&mut self) -> Result<Option<Reply>, ConnError> {
        self.reader.next().map_err(ConnError::Protocol)
    }

    /// Sends one command.
    pub fn send(&mut self, argv: &[Vec<u8>]) -> Result<(), ConnError> {
        let bytes = encode_command(argv);
        let r = match &mut self.stream {
            Stream::Tcp(s) => s.write_all(&bytes),
            Stream::Unix(s) => s.write_all(&bytes),
        };
        r.map_err(ConnError::Io)
    }

    /// Reads the next reply, pushes included; blocks. A Ctrl-C during a
    /// blocking MONITOR or SUBSCRIBE read gives `Aborted`.
    pub fn read_reply(&mut self) -> Result<Reply, ConnError> {
        loop {
            if let Some(r) = self.buffered_reply()? {
                return Ok(r);
            }
            // A Ctrl-C may land just before the read starts, where it cannot
            // interrupt it: look at the flag first, and bound each read in
            // blocking mode so a missed signal is seen within 100 ms.
            if signals::take_abort() {
                return Err(ConnError::Aborted);
            }
            let blocking = signals::in_blocking_mode();
            self.set_read_timeout(blocking.then(|| std::time::Duration::from_millis(100)));
            let r = self.read_some();
            if blocking {
                self.set_read_timeout(None);
            }
            match r {
                Ok(0) => return Err(ConnError::Eof),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    if signals::take_abort() {
                        return Err(ConnError::Aborted);
                    }
                }
                Err(e)
                    if blocking
                        && matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) => {}
                Err(e) => return Err(ConnError::Io(e)),
            }
        }
    }

    /// Sends a command and reads its reply (auth, select, hello...).
    pub fn call(&mut self, argv: &[&[u8]]) -> Result<Reply, ConnError> {
        let argv: Vec<Vec<u8>> = argv.iter().map(|a| a.to_vec()).collect();
        self.send(&argv)?;
        loop {
            match self.read_reply()? {
                Reply::Push(_) => continue,
                r => return Ok(r),
            }
        }
    }
}

/// Aggressive keepalive, so long commands don't look like dead links.
fn keepalive(s: &TcpStream) {
    let fd = s.as_raw_fd();
    let on: libc::c_int = 1;
    let secs = KEEPALIVE_SECS;
    let size = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: fd is a live socket owned by `s`; the option values are c_ints
    // that outlive the calls. Failures only lose the keepalive.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_KEEPALIVE,
            (&on as *const libc::c_int).cast(),
            size,
        );
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_KEEPIDLE,
            (&secs as *const libc::c_int).cast(),
            size,
        );
    }
}
