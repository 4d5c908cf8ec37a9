//! A raw RESP connection for tests: send bytes, read one complete reply and
//! get its exact bytes back (RESP2 and RESP3 types), plus helpers to encode
//! commands and to normalise replies for comparison.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A raw connection.
pub struct RawConn {
    /// The socket.
    pub stream: TcpStream,
    buf: Vec<u8>,
}

/// Encodes a command as a RESP multibulk.
pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

impl RawConn {
    /// Connects to 127.0.0.1:port.
    pub fn connect(port: u16) -> RawConn {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        stream.set_nodelay(true).ok();
        RawConn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Sends bytes.
    pub fn send(&mut self, data: &[u8]) {
        self.stream.write_all(data).expect("send");
    }

    /// Sends a command.
    pub fn cmd(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.send(&encode(args));
        self.read_reply()
    }

    /// Sends a command given as strings and returns the reply as text.
    pub fn cmd_str(&mut self, args: &[&str]) -> String {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        String::from_utf8_lossy(&self.cmd(&a)).into_owned()
    }

    fn fill(&mut self) -> bool {
        self.try_fill()
            .unwrap_or_else(|e| panic!("read failed: {e}"))
    }

    fn try_fill(&mut self) -> std::io::Result<bool> {
        let mut tmp = [0u8; 65536];
        let n = self.stream.read(&mut tmp)?;
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(n > 0)
    }

    /// Sends a command and reads its reply; Err on timeout or closed connection.
    pub fn try_cmd(&mut self, args: &[&[u8]]) -> Result<Vec<u8>, String> {
        self.stream
            .write_all(&encode(args))
            .map_err(|e| format!("send: {e}"))?;
        loop {
            if let Some(n) = reply_len(&self.buf) {
                return Ok(self.buf.drain(..n).collect());
            }
            match self.try_fill() {
                Ok(true) => {}
                Ok(false) => {
                    return Err(format!(
                        "connection closed (partial: {:?})",
                        show(&self.buf)
                    ))
                }
                Err(e) => return Err(format!("no reply: {e} (partial: {:?})", show(&self.buf))),
            }
        }
    }

    /// Reads exactly one reply and returns its bytes. Panics on EOF.
    pub fn read_reply(&mut self) -> Vec<u8> {
        loop {
            if let Some(n) = reply_len(&self.buf) {
                return self.buf.drain(..n).collect();
            }
            assert!(
                self.fill(),
                "connection closed before a full reply; have {:?}",
                String::from_utf8_lossy(&self.buf)
            );
        }
    }

    /// Reads until the server closes the connection; returns what came.
    pub fn read_to_close(&mut self) -> Vec<u8> {
        while self.fill() {}
        std::mem::take(&mut self.buf)
    }

    /// Whether the server closed the connection (after any pending bytes).
    pub fn is_closed(&mut self) -> bool {
        loop {
            match self.try_fill() {
                Ok(true) => continue,
                Ok(false) => return true,
                // A read timeout means the server kept the connection open.
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return false
                }
                Err(_) => return true,
            }
        }
    }

    /// Reads one reply, or whatever came before the server closed.
    pub fn read_to_close_or_reply(&mut self) -> Vec<u8> {
        loop {
            if let Some(n) = reply_len(&self.buf) {
                return self.buf.drain(..n).collect();
            }
            match self.try_fill() {
                Ok(true) => {}
                _ => return std::mem::take(&mut self.buf),
            }
        }
    }
}

fn line_end(buf: &[u8], from: usize) -> Option<usize> {
    buf[from..]
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|p| from + p)
}

/// Length of the complete reply at the start of `buf`, if it is complete.
pub fn reply_len(buf: &[u8]) -> Option<usize> {
    parse_at(buf, 0)
}

fn parse_at(buf: &[u8], at: usize) -> Option<usize> {
    let t = *buf.get(at)?;
    let le = line_end(buf, at)?;
    let head = std::str::from_utf8(&buf[at + 1..le]).ok()?;
    let after = le + 2;
    match t {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Some(after),
        b'$' | b'=' | b'!' => {
            let n: i64 = head.parse().ok()?;
            if n < 0 {
                return Some(after);
            }
            let end = after + n as usize + 2;
            (buf.len() >= end).then_some(end)
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n: i64 = head.parse().ok()?;
            if n < 0 {
                return Some(after);
            }
            let items = if t == b'%' || t == b'|' { n * 2 } else { n };
            let mut pos = after;
            for _ in 0..items {
                pos = parse_at(buf, pos)?;
            }
            if t == b'|' {
                // An attribute precedes the actual reply.
                return parse_at(buf, pos);
            }
            Some(pos)
        }
        _ => panic!(
            "unexpected RESP type byte {:?} in {:?}",
            t as char,
            String::from_utf8_lossy(buf)
        ),
    }
}

/// A parsed reply, for normalising comparisons.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reply {
    /// A single-line or bulk item: its type byte and raw bytes (header included).
    Leaf(Vec<u8>),
    /// An aggregate: type byte, header, children.
    Agg(u8, Vec<Reply>),
}

/// Parses one complete reply.
pub fn parse(buf: &[u8]) -> Reply {
    parse_tree(buf, 0).0
}

fn parse_tree(buf: &[u8], at: usize) -> (Reply, usize) {
    let t = buf[at];
    let le = line_end(buf, at).expect("complete reply");
    let after = le + 2;
    match t {
        b'*' | b'~' | b'>' | b'%' => {
            let n: i64 = std::str::from_utf8(&buf[at + 1..le])
                .ok()
                .and_then(|s| s.parse().ok())
                .expect("length");
            if n < 0 {
                return (Reply::Leaf(buf[at..after].to_vec()), after);
            }
            let items = if t == b'%' { n * 2 } else { n };
            let mut pos = after;
            let mut kids = Vec::new();
            for _ in 0..items {
                let (r, p) = parse_tree(buf, pos);
                kids.push(r);
                pos = p;
            }
            (Reply::Agg(t, kids), pos)
        }
        _ => {
            let end = parse_at(buf, at).expect("complete reply");
            (Reply::Leaf(buf[at..end].to_vec()), end)
        }
    }
}

impl Reply {
    /// Sorts the children of every aggregate (map pairs stay together), for
    /// replies whose order is unspecified.
    pub fn sorted(self) -> Reply {
        match self {
            Reply::Leaf(b) => Reply::Leaf(b),
            Reply::Agg(t, kids) => {
                let mut kids: Vec<Reply> = kids.into_iter().map(Reply::sorted).collect();
                if t == b'%' {
                    let mut pairs: Vec<(Reply, Reply)> = Vec::new();
                    let mut it = kids.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        pairs.push((k, v));
                    }
                    pairs.sort();
                    kids = pairs.into_iter().flat_map(|(k, v)| [k, v]).collect();
                } else {
                    kids.sort();
                }
                Reply::Agg(t, kids)
            }
        }
    }

    /// The shape only: type bytes and aggregate sizes, leaves reduced to
    /// their type (nil stays distinguishable).
    pub fn shape(&self) -> String {
        match self {
            Reply::Leaf(b) => {
                let nil = b == b"$-1\r\n" || b == b"*-1\r\n" || b == b"_\r\n";
                if nil {
                    "nil".into()
                } else {
                    (b[0] as char).to_string()
                }
            }
            Reply::Agg(t, kids) => format!(
                "{}{}[{}]",
                *t as char,
                kids.len(),
                kids.iter().map(|k| k.shape()).collect::<Vec<_>>().join(",")
            ),
        }
    }

    /// Serialises back to bytes.
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Reply::Leaf(b) => b.clone(),
            Reply::Agg(t, kids) => {
                let n = if *t == b'%' {
                    kids.len() / 2
                } else {
                    kids.len()
                };
                let mut out = format!("{}{}\r\n", *t as char, n).into_bytes();
                for k in kids {
                    out.extend(k.bytes());
                }
                out
            }
        }
    }
}

/// Shows bytes with CR/LF escaped.
pub fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .replace('\r', "\\r")
        .replace('\n', "\\n")
}
