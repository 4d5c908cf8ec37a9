//! The incremental request parser: a client's query buffer and parse state.
//!
//! As Redis's `processMultibulkBuffer`, the state (arguments left, length of
//! the bulk being read) lives here between reads, so a command that arrives in
//! pieces is resumed where it stopped and never rescanned. Arguments are spans
//! into the buffer (no copy); a bulk of 32 KB or more that is not yet complete
//! gets a buffer of its own, sized once from its header, and the socket reads
//! straight into it, so a 100 MB value costs one pass over its bytes however
//! small the reads are. Compaction moves the unparsed tail to the front only
//! when at least as many bytes were consumed, which keeps it linear too.

use super::split::{is_space, split_args};
use crate::error::ProtocolError;
use crate::util::num::parse_i64;

/// Longest inline command, and longest `*`/`$` header line, without a newline.
pub const INLINE_MAX: usize = 64 * 1024;
/// Bulks at least this long are read into their own buffer.
pub const BIG_ARG: usize = 32 * 1024;
/// Bytes asked of each socket read into the query buffer.
pub const READ_CHUNK: usize = 16 * 1024;
/// Preallocated argument slots at most, whatever `*N` claims.
const MAX_PREALLOC_ARGS: usize = 1024;

/// Position of the first `b` in `hay`.
#[inline]
fn find_byte(b: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&c| c == b)
}

/// Limits that depend on the configuration and the client.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `proto-max-bulk-len`.
    pub max_bulk_len: i64,
    /// Whether the client still has to authenticate (tighter limits).
    pub auth_required: bool,
    /// Treat a bulk longer than `max_bulk_len` as input still to come
    /// rather than an error (AOF loading, where the limit is the file size).
    pub oversize_is_incomplete: bool,
}

#[derive(Debug, Clone, Copy)]
enum Span {
    Buf { start: usize, len: usize },
    Owned(usize),
}

/// The arguments of the command being parsed or executed.
#[derive(Debug, Default)]
pub struct Argv {
    spans: Vec<Span>,
    owned: Vec<Vec<u8>>,
    /// Bytes held in `owned`.
    owned_bytes: usize,
}

impl Argv {
    fn clear(&mut self) {
        self.spans.clear();
        self.owned.clear();
        self.owned_bytes = 0;
    }

    fn push_owned(&mut self, v: Vec<u8>) {
        self.spans.push(Span::Owned(self.owned.len()));
        self.owned_bytes += v.capacity();
        self.owned.push(v);
    }
}

/// A read-only view of a command's arguments, `argv[0]` being the name.
#[derive(Clone, Copy)]
pub struct Args<'a> {
    buf: &'a [u8],
    spans: &'a [Span],
    owned: &'a [Vec<u8>],
}

impl<'a> Args<'a> {
    /// Number of arguments, the command name included.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there are no arguments at all.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Argument `i` (0 is the command name). Out of range gives an empty
    /// slice: arity is checked before handlers run, so that is a bug, caught
    /// in debug builds.
    #[inline]
    pub fn get(&self, i: usize) -> &'a [u8] {
        debug_assert!(i < self.spans.len(), "argument {i} of {}", self.spans.len());
        match self.spans.get(i) {
            Some(Span::Buf { start, len }) => &self.buf[*start..*start + *len],
            Some(Span::Owned(k)) => &self.owned[*k],
            None => &[],
        }
    }

    /// Iterates over the arguments from `from` on.
    pub fn iter_from(&self, from: usize) -> impl Iterator<Item = &'a [u8]> + 'a {
        let this = *self;
        (from..self.len()).map(move |i| this.get(i))
    }

    /// Total bytes of all arguments (CLIENT LIST argv-mem).
    pub fn total_bytes(&self) -> usize {
        (0..self.len()).map(|i| self.get(i).len()).sum()
    }
}

/// An argument list built from owned vectors: AOF loading, tests, and
/// commands the server issues to itself.
#[derive(Debug, Default, Clone)]
pub struct OwnedArgs {
    spans: Vec<Span>,
    owned: Vec<Vec<u8>>,
}

impl OwnedArgs {
    /// Builds from parts.
    pub fn new<I: IntoIterator<Item = Vec<u8>>>(parts: I) -> OwnedArgs {
        let owned: Vec<Vec<u8>> = parts.into_iter().collect();
        OwnedArgs {
            spans: (0..owned.len()).map(Span::Owned).collect(),
            owned,
        }
    }

    /// The view handlers take.
    pub fn args(&self) -> Args<'_> {
        Args {
            buf: &[],
            spans: &self.spans,
            owned: &self.owned,
        }
    }
}

/// An argument list built in one buffer that is kept and reused: the
/// commands a script calls, which then cost no allocation once the buffer
/// has grown to their size.
#[derive(Debug, Default)]
pub struct ArgsBuf {
    buf: Vec<u8>,
    spans: Vec<Span>,
}

impl ArgsBuf {
    /// Forgets the arguments, keeping the room.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.spans.clear();
    }

    /// Appends one argument.
    pub fn push(&mut self, arg: &[u8]) {
        let start = self.buf.len();
        self.buf.extend_from_slice(arg);
        self.spans.push(Span::Buf {
            start,
            len: arg.len(),
        });
    }

    /// Bytes of room held (the buffer's and the spans').
    pub fn capacity(&self) -> usize {
        self.buf.capacity() + self.spans.capacity() * std::mem::size_of::<Span>()
    }

    /// The view handlers take.
    pub fn args(&self) -> Args<'_> {
        Args {
            buf: &self.buf,
            spans: &self.spans,
            owned: &[],
        }
    }
}

/// Where the parser is within a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between commands.
    Idle,
    /// Reading the bulks of a multibulk command.
    Multibulk {
        remaining: i64,
        bulk_len: Option<usize>,
    },
}

/// A client's query buffer with its parse state.
#[derive(Debug)]
pub struct Parser {
    /// Initialised storage; `buf[..end]` holds received bytes.
    buf: Vec<u8>,
    end: usize,
    /// Bytes before `pos` are parsed.
    pos: usize,
    /// Start of the command being parsed (its spans point after it).
    cmd_start: usize,
    state: State,
    /// The big bulk being read: its buffer (bulk + CRLF) and bytes filled.
    big: Option<(Vec<u8>, usize)>,
    /// Where the search for the current line's delimiter got to.
    scanned: usize,
    argv: Argv,
    ready: bool,
    /// Stream bytes before `cmd_start`: every complete (or skipped)
    /// command so far. The AOF loader's offsets come from here.
    consumed: u64,
    /// Bytes of the current command kept outside `buf` (finished big bulks
    /// with their CRLF).
    cmd_extra: u64,
    /// The range of the line `skip_line` last passed.
    skipped: (usize, usize),
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new()
    }
}

impl Parser {
    /// An empty parser; its buffer grows on the first read.
    pub fn new() -> Parser {
        Parser {
            buf: Vec::new(),
            end: 0,
            pos: 0,
            cmd_start: 0,
            state: State::Idle,
            big: None,
            scanned: 0,
            argv: Argv::default(),
            ready: false,
            consumed: 0,
            cmd_extra: 0,
            skipped: (0, 0),
        }
    }

    /// Where the next read should land: the rest of the big bulk being read,
    /// or free space at the end of the query buffer (made room for here).
    /// `max` bounds the size of the slice.
    pub fn read_target(&mut self, max: usize) -> &mut [u8] {
        if self.big.is_some() {
            let (big, filled) = self
                .big
                .as_mut()
                .map(|(b, f)| (b, *f))
                .unwrap_or_else(|| unreachable!());
            let end = (filled + max).min(big.len());
            return &mut big[filled..end];
        }
        self.make_room(max.clamp(1, 4 * 1024 * 1024));
        let end = (self.end + max).min(self.buf.len());
        &mut self.buf[self.end..end]
    }

    /// Records that `n` bytes were read into the last `read_target`.
    pub fn commit_read(&mut self, n: usize) {
        match &mut self.big {
            Some((_, filled)) => *filled += n,
            None => self.end += n,
        }
    }

    /// Bytes received but not yet parsed, plus a big bulk's buffer: what
    /// `client-query-buffer-limit` bounds.
    pub fn buffered(&self) -> usize {
        // The whole command in progress counts, its parsed arguments too:
        // a client cannot grow memory with an endless multibulk.
        let start = if self.state == State::Idle && !self.ready {
            self.pos
        } else {
            self.cmd_start
        };
        (self.end - start)
            + self.big.as_ref().map(|(b, _)| b.len()).unwrap_or(0)
            + self.argv.owned_bytes
    }

    /// Allocated bytes (CLIENT LIST qbuf/qbuf-free).
    pub fn capacity(&self) -> usize {
        self.buf.len() + self.big.as_ref().map(|(b, _)| b.len()).unwrap_or(0)
    }

    /// Unparsed bytes in the query buffer (qbuf).
    pub fn unparsed(&self) -> usize {
        self.end - self.cmd_start.min(self.pos)
    }

    /// Stream offset of the start of the command being parsed: the bytes
    /// of every command consumed (or line skipped) so far.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// Moves the command start to `pos`, counting the bytes passed.
    fn advance_start(&mut self) {
        self.consumed += (self.pos - self.cmd_start) as u64 + self.cmd_extra;
        self.cmd_extra = 0;
        self.cmd_start = self.pos;
    }

    /// Bytes still to come of a big bulk being read into its own buffer.
    pub fn big_remaining(&self) -> Option<usize> {
        self.big.as_ref().map(|(b, f)| b.len() - f)
    }

    /// The next unparsed byte, between commands.
    pub fn peek(&self) -> Option<u8> {
        (self.state == State::Idle && !self.ready && self.pos < self.end)
            .then(|| self.buf[self.pos])
    }

    /// Skips to after the next newline (AOF annotations). Ok(false) when
    /// the line is not complete yet; an error past 64 KB without one.
    pub fn skip_line(&mut self) -> Result<bool, ProtocolError> {
        match self.find(b'\n') {
            Some(nl) => {
                self.skipped = (self.pos, nl + 1);
                self.pos = nl + 1;
                self.advance_start();
                Ok(true)
            }
            None if self.end - self.pos > INLINE_MAX => Err(ProtocolError::TooBigInline),
            None => Ok(false),
        }
    }

    /// The line the last successful `skip_line` passed, newline included.
    /// Valid until the next read.
    pub fn skipped_line(&self) -> &[u8] {
        let (a, b) = self.skipped;
        self.buf.get(a..b).unwrap_or_default()
    }

    /// Whether a complete command is waiting in `args`.
    pub fn has_command(&self) -> bool {
        self.ready
    }

    /// Ensures `want` free bytes after `end`, compacting when the consumed
    /// prefix is at least as large as what must move (amortised linear).
    fn make_room(&mut self, want: usize) {
        if self.buf.len() - self.end >= want {
            return;
        }
        let keep_from = if self.state == State::Idle && !self.ready {
            self.pos
        } else {
            self.cmd_start
        };
        let live = self.end - keep_from;
        if keep_from > 0 && keep_from >= live {
            self.buf.copy_within(keep_from..self.end, 0);
            self.shift(keep_from);
            if self.buf.len() - self.end >= want {
                return;
            }
        }
        let new_len = (self.buf.len() * 2).max(self.end + want).max(READ_CHUNK);
        self.buf.resize(new_len, 0);
    }

    fn shift(&mut self, by: usize) {
        self.skipped = (0, 0);
        self.end -= by;
        self.pos -= by;
        self.cmd_start -= by;
        self.scanned = self.scanned.saturating_sub(by);
        for s in &mut self.argv.spans {
            if let Span::Buf { start, .. } = s {
                *start -= by;
            }
        }
    }

    /// Whether everything read has been parsed and run: nothing of a
    /// command is buffered.
    fn drained(&self) -> bool {
        self.state == State::Idle && self.pos == self.end && !self.ready && self.big.is_none()
    }

    /// Gives an empty parser a buffer to read into (a server-wide spare,
    /// see `take_idle_buffer`). Ignored unless the parser holds no buffer.
    pub fn lend_buffer(&mut self, buf: Vec<u8>) {
        if self.buf.is_empty() && self.drained() {
            self.buf = buf;
            self.pos = 0;
            self.end = 0;
            self.cmd_start = 0;
            self.scanned = 0;
        }
    }

    /// Once everything read has been parsed and run, hands the query buffer
    /// back (to be lent to the next client), so an idle client holds no
    /// query buffer. A client holding part of a command keeps its buffer.
    pub fn take_idle_buffer(&mut self) -> Option<Vec<u8>> {
        if !self.drained() {
            return None;
        }
        self.pos = 0;
        self.end = 0;
        self.cmd_start = 0;
        self.scanned = 0;
        self.skipped = (0, 0);
        (!self.buf.is_empty()).then(|| std::mem::take(&mut self.buf))
    }

    /// The arguments of the complete command (valid until `next`).
    pub fn args(&self) -> Args<'_> {
        Args {
            buf: &self.buf,
            spans: &self.argv.spans,
            owned: &self.argv.owned,
        }
    }

    /// Drops the executed command's arguments.
    pub fn consume(&mut self) {
        self.ready = false;
        self.argv.clear();
        self.advance_start();
    }

    /// Throws away all input (after a protocol error).
    pub fn reset(&mut self) {
        *self = Parser::new();
    }

    /// Parses the next command. Ok(true) when one is complete (see `args`),
    /// Ok(false) when more input is needed.
    pub fn next(&mut self, limits: &Limits) -> Result<bool, ProtocolError> {
        if self.ready {
            return Ok(true);
        }
        loop {
            match self.state {
                State::Idle => {
                    if self.pos == self.end {
                        return Ok(false);
                    }
                    self.cmd_start = self.pos;
                    self.argv.clear();
                    if self.buf[self.pos] == b'*' {
                        if !self.multibulk_header(limits)? {
                            return Ok(false);
                        }
                    } else {
                        match self.inline()? {
                            Line::Command => return Ok(true),
                            Line::Incomplete => return Ok(false),
                            Line::Empty => continue,
                        }
                    }
                }
                State::Multibulk { remaining: 0, .. } => {
                    self.state = State::Idle;
                    self.ready = true;
                    return Ok(true);
                }
                State::Multibulk {
                    remaining,
                    bulk_len: None,
                } => {
                    let Some(len) = self.bulk_header(limits)? else {
                        return Ok(false);
                    };
                    self.state = State::Multibulk {
                        remaining,
                        bulk_len: Some(len),
                    };
                    if len >= BIG_ARG && self.end - self.pos < len + 2 {
                        // Move what we have of the bulk into its own buffer;
                        // the rest is read straight into it.
                        let mut big = vec![0u8; len + 2];
                        let have = self.end - self.pos;
                        big[..have].copy_from_slice(&self.buf[self.pos..self.end]);
                        // Those bytes now live in `big` only.
                        self.end = self.pos;
                        self.scanned = self.scanned.min(self.end);
                        self.big = Some((big, have));
                    }
                }
                State::Multibulk {
                    remaining,
                    bulk_len: Some(len),
                } => {
                    if let Some((big, filled)) = &mut self.big {
                        if *filled < big.len() {
                            return Ok(false);
                        }
                        let mut v = std::mem::take(big);
                        self.big = None;
                        self.cmd_extra += v.len() as u64;
                        v.truncate(len); // CRLF is skipped unchecked, as Redis does
                        self.argv.push_owned(v);
                    } else {
                        if self.end - self.pos < len + 2 {
                            return Ok(false);
                        }
                        self.argv.spans.push(Span::Buf {
                            start: self.pos,
                            len,
                        });
                        self.pos += len + 2;
                    }
                    self.state = State::Multibulk {
                        remaining: remaining - 1,
                        bulk_len: None,
                    };
                }
            }
        }
    }

    /// Parses `*N\r\n`. Ok(false) when the line is incomplete.
    fn multibulk_header(&mut self, limits: &Limits) -> Result<bool, ProtocolError> {
        let Some(cr) = self.find(b'\r') else {
            if self.end - self.pos > INLINE_MAX {
                return Err(ProtocolError::TooBigMultibulkCount);
            }
            return Ok(false);
        };
        if cr + 1 >= self.end {
            return Ok(false); // the '\n' is still to come
        }
        let n = parse_i64(&self.buf[self.pos + 1..cr]);
        let n = match n {
            Some(n) if n <= i32::MAX as i64 => n,
            _ => return Err(ProtocolError::InvalidMultibulkLength),
        };
        if n > 10 && limits.auth_required {
            return Err(ProtocolError::UnauthenticatedMultibulkLength);
        }
        self.pos = cr + 2;
        if n <= 0 {
            // An empty command: nothing to run, keep parsing.
            self.advance_start();
            return Ok(true);
        }
        self.argv.spans.reserve((n as usize).min(MAX_PREALLOC_ARGS));
        self.state = State::Multibulk {
            remaining: n,
            bulk_len: None,
        };
        Ok(true)
    }

    /// Parses `$len\r\n`. Ok(None) when the line is incomplete.
    fn bulk_header(&mut self, limits: &Limits) -> Result<Option<usize>, ProtocolError> {
        if self.pos == self.end {
            return Ok(None);
        }
        let Some(cr) = self.find(b'\r') else {
            if self.end - self.pos > INLINE_MAX {
                return Err(ProtocolError::TooBigBulkCount);
            }
            return Ok(None);
        };
        if cr + 1 >= self.end {
            return Ok(None);
        }
        if self.buf[self.pos] != b'$' {
            return Err(ProtocolError::ExpectedDollar(self.buf[self.pos]));
        }
        let len = match parse_i64(&self.buf[self.pos + 1..cr]) {
            Some(l) if l >= 0 && l <= limits.max_bulk_len => l,
            // The AOF loader: a length past the end of the file is a write
            // cut short, to be found truncated at EOF, not bad input.
            Some(l) if l >= 0 && limits.oversize_is_incomplete => {
                self.scanned = self.pos;
                return Ok(None);
            }
            _ => return Err(ProtocolError::InvalidBulkLength),
        };
        if len > 16384 && limits.auth_required {
            return Err(ProtocolError::UnauthenticatedBulkLength);
        }
        self.pos = cr + 2;
        Ok(Some(len as usize))
    }

    /// Finds `b` in the unparsed bytes, resuming where the last search of the
    /// same line stopped, so a line arriving byte by byte is scanned once.
    fn find(&mut self, b: u8) -> Option<usize> {
        let from = self.scanned.max(self.pos);
        match find_byte(b, &self.buf[from..self.end]) {
            Some(i) => {
                self.scanned = from + i;
                Some(from + i)
            }
            None => {
                self.scanned = self.end;
                None
            }
        }
    }

    /// Parses one inline command line.
    fn inline(&mut self) -> Result<Line, ProtocolError> {
        let Some(nl) = self.find(b'\n') else {
            if self.end - self.pos > INLINE_MAX {
                return Err(ProtocolError::TooBigInline);
            }
            return Ok(Line::Incomplete);
        };
        let mut line_end = nl;
        if line_end > self.pos && self.buf[line_end - 1] == b'\r' {
            line_end -= 1;
        }
        let start = self.pos;
        let line = &self.buf[start..line_end];
        if line.iter().any(|&c| c == b'"' || c == b'\'' || c == 0) {
            let parts = split_args(line).ok_or(ProtocolError::UnbalancedQuotes)?;
            for p in parts {
                self.argv.push_owned(p);
            }
        } else {
            // No quotes: every token is a plain run of bytes in the buffer.
            let mut i = 0;
            while i < line.len() {
                while i < line.len() && is_space(line[i]) {
                    i += 1;
                }
                if i == line.len() {
                    break;
                }
                let s = i;
                while i < line.len() && !matches!(line[i], b' ' | b'\n' | b'\r' | b'\t') {
                    i += 1;
                }
                self.argv.spans.push(Span::Buf {
                    start: start + s,
                    len: i - s,
                });
            }
        }
        self.pos = nl + 1;
        if self.argv.spans.is_empty() {
            // An empty line is no command.
            self.advance_start();
            return Ok(Line::Empty);
        }
        self.ready = true;
        Ok(Line::Command)
    }
}

/// What one inline line gave.
enum Line {
    Command,
    Incomplete,
    Empty,
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIM: Limits = Limits {
        max_bulk_len: 512 * 1024 * 1024,
        auth_required: false,
        oversize_is_incomplete: false,
    };

    fn feed(p: &mut Parser, mut data: &[u8], piece: usize) {
        while !data.is_empty() {
            let t = p.read_target(piece);
            let n = t.len().min(data.len());
            t[..n].copy_from_slice(&data[..n]);
            p.commit_read(n);
            data = &data[n..];
        }
    }

    fn commands(input: &[u8], piece: usize) -> Result<Vec<Vec<Vec<u8>>>, ProtocolError> {
        let mut p = Parser::new();
        let mut out = Vec::new();
        let mut rest = input;
        loop {
            while p.next(&LIM)? {
                let a = p.args();
                out.push(a.iter_from(0).map(|x| x.to_vec()).collect());
                p.consume();
            }
            if rest.is_empty() {
                return Ok(out);
            }
            // One read, as the server does: at most `piece` bytes, and never
            // past the end of a big bulk.
            let t = p.read_target(piece);
            let n = t.len().min(rest.len());
            t[..n].copy_from_slice(&rest[..n]);
            p.commit_read(n);
            rest = &rest[n..];
        }
    }

    fn v(parts: &[&str]) -> Vec<Vec<u8>> {
        parts.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn multibulk_in_any_piece_size() {
        let input = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*1\r\n$4\r\nPING\r\n";
        for piece in [1, 2, 3, 7, 100] {
            assert_eq!(
                commands(input, piece).unwrap(),
                vec![v(&["SET", "k", "hello"]), v(&["PING"])],
                "piece {piece}"
            );
        }
    }

    #[test]
    fn inline_commands_split_like_redis() {
        let got = commands(b"PING\r\nset a \"b c\"\n\r\n  \nECHO x\r\n", 1).unwrap();
        assert_eq!(
            got,
            vec![v(&["PING"]), v(&["set", "a", "b c"]), v(&["ECHO", "x"])]
        );
    }

    #[test]
    fn protocol_errors_match_redis() {
        assert_eq!(
            commands(b"*x\r\n", 100),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        assert_eq!(
            commands(b"*1\r\n$-3\r\n", 100),
            Err(ProtocolError::InvalidBulkLength)
        );
        assert_eq!(
            commands(b"*1\r\nfoo\r\n", 100),
            Err(ProtocolError::ExpectedDollar(b'f'))
        );
        assert_eq!(
            commands(b"set \"a\r\n", 100),
            Err(ProtocolError::UnbalancedQuotes)
        );
        assert_eq!(
            commands(&vec![b'a'; INLINE_MAX + 2], 4096),
            Err(ProtocolError::TooBigInline)
        );
        assert_eq!(
            commands(b"*3000000000\r\n", 100),
            Err(ProtocolError::InvalidMultibulkLength)
        );
        let lim = Limits {
            max_bulk_len: 10,
            auth_required: false,
            oversize_is_incomplete: false,
        };
        let mut p = Parser::new();
        feed(&mut p, b"*1\r\n$11\r\n", 100);
        assert_eq!(p.next(&lim), Err(ProtocolError::InvalidBulkLength));
    }

    #[test]
    fn empty_multibulk_is_skipped() {
        assert_eq!(
            commands(b"*0\r\n*-1\r\n*1\r\n$1\r\nx\r\n", 1).unwrap(),
            vec![v(&["x"])]
        );
    }

    #[test]
    fn big_bulk_is_read_into_its_own_buffer() {
        let value = vec![b'v'; BIG_ARG * 3 + 5];
        let mut input = format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${}\r\n", value.len()).into_bytes();
        input.extend_from_slice(&value);
        input.extend_from_slice(b"\r\n*1\r\n$4\r\nPING\r\n");
        for piece in [1, 1000, 65536] {
            let got = commands(&input, piece).unwrap();
            assert_eq!(got.len(), 2);
            assert_eq!(got[0][2], value);
            assert_eq!(got[1], v(&["PING"]));
        }
    }

    #[test]
    fn query_buffer_stays_small_while_a_big_bulk_streams_in() {
        let mut p = Parser::new();
        feed(&mut p, b"*2\r\n$3\r\nSET\r\n$1000000\r\n", 1000);
        assert!(!p.next(&LIM).unwrap());
        for _ in 0..100 {
            let t = p.read_target(10_000);
            assert_eq!(t.len(), 10_000);
            t.fill(b'x');
            p.commit_read(10_000);
        }
        let t = p.read_target(10);
        assert_eq!(t.len(), 2, "reads stop at the end of the bulk");
        t.copy_from_slice(b"\r\n");
        p.commit_read(2);
        assert!(p.next(&LIM).unwrap());
        assert_eq!(p.args().get(1).len(), 1_000_000);
        assert!(p.capacity() < 1_100_000);
    }

    #[test]
    fn consumed_counts_every_byte_of_finished_commands_big_bulks_included() {
        let big = vec![b'z'; BIG_ARG * 2];
        let mut input = b"*1\r\n$4\r\nPING\r\n".to_vec();
        let first = input.len() as u64;
        input.extend(format!("*2\r\n$3\r\nSET\r\n${}\r\n", big.len()).as_bytes());
        input.extend_from_slice(&big);
        input.extend_from_slice(b"\r\n");
        let second = input.len() as u64;
        input.extend_from_slice(b"*2\r\n$3\r\nSET\r\n$100000\r\nabc"); // cut short
        for piece in [1, 7, 4096, 1 << 20] {
            let mut p = Parser::new();
            let mut rest = &input[..];
            let mut seen = Vec::new();
            loop {
                while p.next(&LIM).unwrap() {
                    p.consume();
                    seen.push(p.consumed());
                }
                if rest.is_empty() {
                    break;
                }
                let t = p.read_target(piece);
                let n = t.len().min(rest.len());
                t[..n].copy_from_slice(&rest[..n]);
                p.commit_read(n);
                rest = &rest[n..];
            }
            assert_eq!(seen, vec![first, second], "piece {piece}");
            assert_eq!(p.consumed(), second, "the partial command is not counted");
            assert!(
                p.buffered() < 100_200,
                "no byte is counted twice: {}",
                p.buffered()
            );
        }
    }
}
