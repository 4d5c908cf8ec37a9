//! RESP2/RESP3 on the client side: `Reply`, the incremental `Reader` that
//! turns socket bytes into replies, and the encoder for outgoing commands.
//!
//! The reader follows hiredis (`deps/hiredis/read.c`): it keeps a stack of
//! half-built aggregates, so a huge reply arriving in many reads is parsed
//! once, not re-walked from its first byte on every read. Its error texts are
//! hiredis's, because redis-cli prints them as `Error: <text>`.
//!
//! Invariant: nothing here panics on server bytes; every malformed input is a
//! `ProtocolError`.

use std::fmt;

/// One reply, as hiredis's `redisReply` types it.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+OK`
    Status(Vec<u8>),
    /// `-ERR ...`
    Error(Vec<u8>),
    /// `:1`
    Integer(i64),
    /// `$3\r\nabc`
    Bulk(Vec<u8>),
    /// `$-1`, `*-1`, `_`
    Nil,
    /// `,3.14`: the text as received, as redis-cli prints it.
    Double(Vec<u8>),
    /// `#t`, `#f`
    Bool(bool),
    /// `(1234...`: digits as received.
    BigNumber(Vec<u8>),
    /// `=txt:...`: the text without its 4-byte format prefix.
    Verbatim(Vec<u8>),
    /// `*N`
    Array(Vec<Reply>),
    /// `%N`: key and value pairs, in order.
    Map(Vec<(Reply, Reply)>),
    /// `~N`
    Set(Vec<Reply>),
    /// `>N`
    Push(Vec<Reply>),
}

impl Reply {
    /// True for an error reply.
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// The bytes of a string-like reply (bulk, status, verbatim, error).
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Reply::Bulk(b) | Reply::Status(b) | Reply::Verbatim(b) | Reply::Error(b) => Some(b),
            _ => None,
        }
    }

    /// Elements of an array-like reply; a map gives keys and values in turn.
    pub fn elements(&self) -> Option<Vec<&Reply>> {
        match self {
            Reply::Array(v) | Reply::Set(v) | Reply::Push(v) => Some(v.iter().collect()),
            Reply::Map(m) => Some(m.iter().flat_map(|(k, v)| [k, v]).collect()),
            _ => None,
        }
    }
}

/// A protocol error, worded as hiredis words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ProtocolError {}

fn perr(msg: &str) -> ProtocolError {
    ProtocolError(msg.to_string())
}

/// hiredis's `chrtos`: a byte shown in double quotes, escaped.
fn quoted_byte(b: u8) -> String {
    match b {
        b'\\' | b'"' => format!("\"\\{}\"", b as char),
        b'\n' => "\"\\n\"".to_string(),
        b'\r' => "\"\\r\"".to_string(),
        b'\t' => "\"\\t\"".to_string(),
        0x07 => "\"\\a\"".to_string(),
        0x08 => "\"\\b\"".to_string(),
        0x20..=0x7e => format!("\"{}\"", b as char),
        _ => format!("\"\\x{b:02x}\""),
    }
}

/// hiredis's `string2ll`: optional '-', no '+', no spaces, no leading zeros.
pub fn parse_ll(s: &[u8]) -> Option<i64> {
    if s == b"0" {
        return Some(0);
    }
    let digits = s.strip_prefix(b"-").unwrap_or(s);
    if !matches!(digits.first(), Some(b'1'..=b'9')) || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Aggregate kinds, for the reader's stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Agg {
    Array,
    Map,
    Set,
    Push,
}

/// A half-built aggregate: how many elements it still wants.
#[derive(Debug)]
struct Frame {
    kind: Agg,
    want: usize,
    items: Vec<Reply>,
}

impl Frame {
    fn finish(self) -> Reply {
        match self.kind {
            Agg::Array => Reply::Array(self.items),
            Agg::Set => Reply::Set(self.items),
            Agg::Push => Reply::Push(self.items),
            Agg::Map => {
                let mut pairs = Vec::with_capacity(self.items.len() / 2);
                let mut it = self.items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    pairs.push((k, v));
                }
                Reply::Map(pairs)
            }
        }
    }
}

/// What one element at the read position turned out to be.
enum Element {
    Value(Reply),
    Open(Agg, usize),
}

/// Hiredis's `REDIS_READER_MAX_ARRAY_ELEMENTS`.
const MAX_ELEMENTS: i64 = (1 << 32) - 1;
/// Preallocate at most this many elements, whatever `*N` claims.
const PREALLOC_CAP: usize = 1024;
/// Deeper nesting is refused: printing and dropping a reply recurse.
const MAX_DEPTH: usize = 512;

/// Incremental reply reader: `feed` bytes, then take replies with `next`.
#[derive(Debug, Default)]
pub struct Reader {
    buf: Vec<u8>,
    pos: usize,
    stack: Vec<Frame>,
}

impl Reader {
    pub fn new() -> Reader {
        Reader::default()
    }

    /// Appends bytes read from the socket.
    pub fn feed(&mut self, data: &[u8]) {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > 64 * 1024 && self.pos * 2 > self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// True when bytes of an unfinished reply are buffered.
    #[cfg(test)]
    pub fn has_pending(&self) -> bool {
        self.pos < self.buf.len() || !self.stack.is_empty()
    }

    /// The next complete reply, `Ok(None)` if more bytes are needed.
    pub fn next(&mut self) -> Result<Option<Reply>, ProtocolError> {
        loop {
            let element = match self.element() {
                Ok(Some(e)) => e,
                Ok(None) => return Ok(None),
                Err(e) => {
                    // Like hiredis: the reader is unusable after an error.
                    self.buf.clear();
                    self.pos = 0;
                    self.stack.clear();
                    return Err(e);
                }
            };
            let mut value = match element {
                Element::Open(kind, n) => {
                    if self.stack.len() >= MAX_DEPTH {
                        self.buf.clear();
                        self.pos = 0;
                        self.stack.clear();
                        return Err(ProtocolError(format!(
                            "No support for nested multi bulk replies with depth > {MAX_DEPTH}"
                        )));
                    }
                    self.stack.push(Frame {
                        kind,
                        want: n,
                        items: Vec::with_capacity(n.min(PREALLOC_CAP)),
                    });
                    continue;
                }
                Element::Value(v) => v,
            };
            loop {
                match self.stack.last_mut() {
                    None => return Ok(Some(value)),
                    Some(top) => {
                        top.items.push(value);
                        if top.items.len() < top.want {
                            break;
                        }
                    }
                }
                match self.stack.pop() {
                    Some(done) => value = done.finish(),
                    None => return Err(perr("Protocol error: reader stack underflow")),
                }
            }
        }
    }

    /// The line at `from` (without CRLF) and the position after it.
    fn line(&self, from: usize) -> Option<(&[u8], usize)> {
        let rest = self.buf.get(from..)?;
        let at = rest.windows(2).position(|w| w == b"\r\n")?;
        Some((&rest[..at], from + at + 2))
    }

    /// Parses one element at `pos`; consumes it only when complete.
    fn element(&mut self) -> Result<Option<Element>, ProtocolError> {
        let Some(&kind) = self.buf.get(self.pos) else {
            return Ok(None);
        };
        let Some((line, after)) = self.line(self.pos + 1) else {
            return Ok(None);
        };
        let line = line.to_vec();
        let element = match kind {
            b'+' | b'-' => {
                if line.contains(&b'\r') || line.contains(&b'\n') {
                    return Err(perr("Bad simple string value"));
                }
                Element::Value(if kind == b'+' {
                    Reply::Status(line)
                } else {
                    Reply::Error(line)
                })
            }
            b':' => Element::Value(Reply::Integer(
                parse_ll(&line).ok_or_else(|| perr("Bad integer value"))?,
            )),
            b',' => Element::Value(Reply::Double(parse_double(&line)?)),
            b'_' => {
                if !line.is_empty() {
                    return Err(perr("Bad nil value"));
                }
                Element::Value(Reply::Nil)
            }
            b'#' => match line.as_slice() {
                b"t" | b"T" => Element::Value(Reply::Bool(true)),
                b"f" | b"F" => Element::Value(Reply::Bool(false)),
                _ => return Err(perr("Bad bool value")),
            },
            b'(' => {
                let digits = line.strip_prefix(b"-").unwrap_or(&line);
                if !digits.iter().all(u8::is_ascii_digit) {
                    return Err(perr("Bad bignum value"));
                }
                Element::Value(Reply::BigNumber(line))
            }
            b'$' | b'=' => {
                let len = parse_ll(&line).ok_or_else(|| perr("Bad bulk string length"))?;
                if len < -1 {
                    return Err(perr("Bulk string length out of range"));
                }
                if len == -1 {
                    Element::Value(Reply::Nil)
                } else {
                    let len = usize::try_from(len)
                        .map_err(|_| perr("Bulk string length out of range"))?;
                    let end = after
                        .checked_add(len)
                        .ok_or_else(|| perr("Bulk string length out of range"))?;
                    if self.buf.len() < end + 2 {
                        return Ok(None);
                    }
                    let body = self.buf[after..end].to_vec();
                    self.pos = end + 2;
                    if kind == b'=' {
                        if body.len() < 4 || body[3] != b':' {
                            return Err(perr(
                                "Verbatim string 4 bytes of content type are missing or incorrectly encoded.",
                            ));
                        }
                        return Ok(Some(Element::Value(Reply::Verbatim(body[4..].to_vec()))));
                    }
                    return Ok(Some(Element::Value(Reply::Bulk(body))));
                }
            }
            b'*' | b'%' | b'~' | b'>' => {
                let n = parse_ll(&line).ok_or_else(|| perr("Bad multi-bulk length"))?;
                if !(-1..=MAX_ELEMENTS).contains(&n) {
                    return Err(perr("Multi-bulk length out of range"));
                }
                let agg = match kind {
                    b'*' => Agg::Array,
                    b'%' => Agg::Map,
                    b'~' => Agg::Set,
                    _ => Agg::Push,
                };
                if n == -1 {
                    Element::Value(Reply::Nil)
                } else {
                    // `n` is at most 2^32-1, so this fits a usize on 64-bit.
                    let n = n as usize * if agg == Agg::Map { 2 } else { 1 };
                    if n == 0 {
                        Element::Value(
                            Frame {
                                kind: agg,
                                want: 0,
                                items: Vec::new(),
                            }
                            .finish(),
                        )
                    } else {
                        Element::Open(agg, n)
                    }
                }
            }
            other => {
                return Err(ProtocolError(format!(
                    "Protocol error, got {} as reply type byte",
                    quoted_byte(other)
                )))
            }
        };
        self.pos = after;
        Ok(Some(element))
    }
}

/// A RESP3 double as hiredis accepts it: `inf`, `-inf` or a finite number.
fn parse_double(line: &[u8]) -> Result<Vec<u8>, ProtocolError> {
    if line.len() >= 326 {
        return Err(perr("Double value is too large"));
    }
    if line.eq_ignore_ascii_case(b"inf") || line.eq_ignore_ascii_case(b"-inf") {
        return Ok(line.to_vec());
    }
    let ok = std::str::from_utf8(line)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .is_some_and(f64::is_finite);
    if ok {
        Ok(line.to_vec())
    } else {
        Err(perr("Bad double value"))
    }
}

/// Encodes argv as a RESP multibulk, as `redisAppendCommandArgv` does
/// (with the server's encoder).
pub fn encode_command(argv: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + argv.iter().map(|a| a.len() + 16).sum::<usize>());
    gostore::resp::encode::command(&mut out, argv.iter().map(Vec::as_slice));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Vec<Result<Option<Reply>, ProtocolError>> {
        let mut r = Reader::new();
        r.feed(input);
        let mut out = Vec::new();
        loop {
            let x = r.next();
            let stop = !matches!(x, Ok(Some(_)));
            out.push(x);
            if stop {
                return out;
            }
        }
    }

    #[test]
    fn nested_aggregates_arrive_byte_by_byte() {
        let input = b"*2\r\n%1\r\n+k\r\n~2\r\n:1\r\n,1.5\r\n$3\r\nabc\r\n";
        let mut r = Reader::new();
        let mut got = None;
        for b in input.iter() {
            r.feed(&[*b]);
            if let Some(x) = r.next().expect("valid") {
                got = Some(x);
            }
        }
        let want = Reply::Array(vec![
            Reply::Map(vec![(
                Reply::Status(b"k".to_vec()),
                Reply::Set(vec![Reply::Integer(1), Reply::Double(b"1.5".to_vec())]),
            )]),
            Reply::Bulk(b"abc".to_vec()),
        ]);
        assert_eq!(got, Some(want));
        assert!(!r.has_pending());
    }

    #[test]
    fn unknown_type_byte_is_hiredis_protocol_error() {
        let out = parse_all(b"|1\r\n");
        assert_eq!(
            out[0],
            Err(ProtocolError(
                "Protocol error, got \"|\" as reply type byte".into()
            ))
        );
    }

    #[test]
    fn null_forms_and_verbatim_prefix() {
        let out = parse_all(b"$-1\r\n*-1\r\n_\r\n=8\r\ntxt:abcd\r\n");
        assert_eq!(out[0], Ok(Some(Reply::Nil)));
        assert_eq!(out[1], Ok(Some(Reply::Nil)));
        assert_eq!(out[2], Ok(Some(Reply::Nil)));
        assert_eq!(out[3], Ok(Some(Reply::Verbatim(b"abcd".to_vec()))));
    }

    #[test]
    fn absurd_nesting_is_a_protocol_error() {
        let input = b"*1\r\n".repeat(MAX_DEPTH + 1);
        assert!(parse_all(&input)[0].is_err());
        let ok = [b"*1\r\n".repeat(MAX_DEPTH), b":1\r\n".to_vec()].concat();
        assert!(matches!(parse_all(&ok)[0], Ok(Some(Reply::Array(_)))));
    }

    #[test]
    fn bad_integers_are_rejected() {
        assert_eq!(parse_ll(b"+1"), None);
        assert_eq!(parse_ll(b"01"), None);
        assert_eq!(parse_ll(b"-0"), None);
        assert_eq!(parse_ll(b"-12"), Some(-12));
        assert!(parse_all(b":x\r\n")[0].is_err());
    }
}
