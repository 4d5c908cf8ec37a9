//! `Reply`: a client's output buffer and the only RESP2/RESP3 encoder.
//! Handlers call these methods; nothing else writes protocol bytes. Integers
//! and lengths are formatted without allocating.
//!
//! The buffer has a cap (the client's hard `client-output-buffer-limit`).
//! Output that would take the unsent bytes past it is not added: the buffer
//! is dropped and marked `overflowed`, and the server closes the client. A
//! single reply bigger than the limit (HGETALL of a huge hash, GET of a huge
//! value) therefore never takes more memory than the limit.

use crate::error::CmdError;
use crate::util::num::{fmt_f64_g17, fmt_i64, MAX_I64_LEN};

/// Output buffers larger than this are released once drained, so an idle
/// client that once got a big reply does not keep the memory.
const SHRINK_ABOVE: usize = 64 * 1024;

/// A position in the buffer where a length header is still to be written.
#[derive(Debug, Clone, Copy)]
pub struct Deferred(usize);

/// A client's pending replies.
#[derive(Debug)]
pub struct Reply {
    buf: Vec<u8>,
    /// Bytes at the front already written to the socket.
    sent: usize,
    resp3: bool,
    /// Most unsent bytes allowed (usize::MAX: no limit; 0 once overflowed).
    cap: usize,
    /// Output was refused because of `cap`: the client must be closed.
    overflowed: bool,
}

impl Default for Reply {
    fn default() -> Self {
        Reply {
            buf: Vec::new(),
            sent: 0,
            resp3: false,
            cap: usize::MAX,
            overflowed: false,
        }
    }
}

impl Reply {
    /// An empty RESP2 reply buffer.
    pub fn new() -> Reply {
        Reply::default()
    }

    /// Sets the most unsent bytes the buffer may hold (`usize::MAX`: none).
    pub fn set_cap(&mut self, cap: usize) {
        if !self.overflowed {
            self.cap = cap;
        }
    }

    /// Whether output was refused because of the cap.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Whether `n` more bytes fit under the cap; if not, the buffer is
    /// dropped and marked overflowed.
    #[inline]
    fn room(&mut self, n: usize) -> bool {
        if self.buf.len() - self.sent + n <= self.cap {
            return true;
        }
        self.overflow();
        false
    }

    #[cold]
    fn overflow(&mut self) {
        self.overflowed = true;
        self.cap = 0;
        self.buf = Vec::new();
        self.sent = 0;
    }

    /// Whether the client speaks RESP3.
    pub fn is_resp3(&self) -> bool {
        self.resp3
    }

    /// Switches the protocol (HELLO).
    pub fn set_resp3(&mut self, on: bool) {
        self.resp3 = on;
    }

    /// Bytes waiting to be written to the socket.
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.sent..]
    }

    /// Number of bytes waiting.
    pub fn pending_len(&self) -> usize {
        self.buf.len() - self.sent
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.pending_len() == 0
    }

    /// Memory held by the buffer (CLIENT LIST omem, INFO).
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Gives an empty buffer with no storage a drained buffer to reuse (a
    /// pooled one, see `take_buffer`). Ignored otherwise.
    pub fn lend_buffer(&mut self, mut buf: Vec<u8>) {
        if self.buf.capacity() == 0 && !self.overflowed {
            buf.clear();
            self.buf = buf;
            self.sent = 0;
        }
    }

    /// Takes the storage of a drained buffer, so an idle client holds none.
    pub fn take_buffer(&mut self) -> Option<Vec<u8>> {
        if !self.is_empty() || self.buf.capacity() == 0 {
            return None;
        }
        self.sent = 0;
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        Some(buf)
    }

    /// Marks `n` pending bytes as written.
    pub fn advance(&mut self, n: usize) {
        self.sent += n;
        if self.sent >= self.buf.len() {
            self.buf.clear();
            self.sent = 0;
            if self.buf.capacity() > SHRINK_ABOVE {
                self.buf = Vec::new();
            }
        } else if self.sent >= SHRINK_ABOVE && self.sent >= self.buf.len() / 2 {
            // A client that never lets its buffer drain would otherwise keep
            // every byte already sent: move the rest to the front (at most
            // half the buffer, so amortised linear).
            self.buf.drain(..self.sent);
            self.sent = 0;
        }
    }

    /// Drops every pending byte (a client being closed, AOF loading).
    pub fn discard(&mut self) {
        self.buf.clear();
        self.sent = 0;
    }

    /// The current end of the buffer, for `truncate`.
    pub fn mark(&self) -> usize {
        self.buf.len()
    }

    /// Removes everything written after `mark`.
    pub fn truncate(&mut self, mark: usize) {
        self.buf.truncate(mark.max(self.sent));
    }

    /// Bytes written since `mark`.
    pub fn since(&self, mark: usize) -> &[u8] {
        &self.buf[mark.min(self.buf.len())..]
    }

    /// Appends raw protocol bytes (pre-encoded replies only).
    pub fn raw(&mut self, bytes: &[u8]) {
        if self.room(bytes.len()) {
            self.buf.extend_from_slice(bytes);
        }
    }

    #[inline]
    fn header(&mut self, prefix: u8, n: i64) {
        if !self.room(MAX_I64_LEN + 3) {
            return;
        }
        let mut tmp = [0u8; MAX_I64_LEN];
        self.buf.push(prefix);
        self.buf.extend_from_slice(fmt_i64(n, &mut tmp));
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `+OK`.
    pub fn ok(&mut self) {
        self.raw(b"+OK\r\n");
    }

    /// A status reply, `+text`.
    pub fn simple(&mut self, text: &str) {
        if !self.room(text.len() + 3) {
            return;
        }
        self.buf.push(b'+');
        self.buf.extend_from_slice(text.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error reply. Newlines in the text become spaces, as Redis does, so
    /// the reply stays one protocol line.
    pub fn error(&mut self, err: &CmdError) {
        use std::io::Write;
        // Error texts are short (Redis caps the parts it echoes back).
        if !self.room(512) {
            return;
        }
        self.buf.push(b'-');
        let start = self.buf.len();
        let _ = write!(self.buf, "{err}");
        for c in &mut self.buf[start..] {
            if *c == b'\r' || *c == b'\n' {
                *c = b' ';
            }
        }
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An integer, `:n`.
    pub fn int(&mut self, n: i64) {
        match n {
            0 => self.raw(b":0\r\n"),
            1 => self.raw(b":1\r\n"),
            _ => self.header(b':', n),
        }
    }

    /// A bulk string.
    #[inline]
    pub fn bulk(&mut self, b: &[u8]) {
        if !self.room(b.len() + MAX_I64_LEN + 5) {
            return;
        }
        self.header(b'$', b.len() as i64);
        self.buf.extend_from_slice(b);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// A bulk string holding a decimal integer.
    pub fn bulk_i64(&mut self, n: i64) {
        let mut tmp = [0u8; MAX_I64_LEN];
        let s = fmt_i64(n, &mut tmp);
        self.header(b'$', s.len() as i64);
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// The null bulk: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        self.raw(if self.resp3 { b"_\r\n" } else { b"$-1\r\n" });
    }

    /// The null array: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        self.raw(if self.resp3 { b"_\r\n" } else { b"*-1\r\n" });
    }

    /// An array header.
    pub fn array_len(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }

    /// A map header: `%n` in RESP3, an array of 2n in RESP2.
    pub fn map_len(&mut self, n: usize) {
        if self.resp3 {
            self.header(b'%', n as i64)
        } else {
            self.header(b'*', 2 * n as i64)
        }
    }

    /// A set header: `~n` in RESP3, an array in RESP2.
    pub fn set_len(&mut self, n: usize) {
        self.header(if self.resp3 { b'~' } else { b'*' }, n as i64)
    }

    /// A double: `,d` in RESP3, a bulk string in RESP2 (`%.17g`, as Redis).
    pub fn double(&mut self, d: f64) {
        let text = fmt_f64_g17(d);
        if !self.room(text.len() + MAX_I64_LEN + 5) {
            return;
        }
        if self.resp3 {
            self.buf.push(b',');
            self.buf.extend_from_slice(text.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text.as_bytes());
        }
    }

    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    pub fn boolean(&mut self, b: bool) {
        match (self.resp3, b) {
            (true, true) => self.raw(b"#t\r\n"),
            (true, false) => self.raw(b"#f\r\n"),
            (false, b) => self.int(b as i64),
        }
    }

    /// A big number: `(digits` in RESP3, a bulk string in RESP2 (Redis's
    /// `addReplyBigNum`). `digits` must be a decimal integer.
    pub fn bignum(&mut self, digits: &[u8]) {
        if !self.resp3 {
            return self.bulk(digits);
        }
        if self.room(digits.len() + 3) {
            self.buf.push(b'(');
            self.buf.extend_from_slice(digits);
            self.buf.extend_from_slice(b"\r\n");
        }
    }

    /// An attribute header, `|n` (RESP3 only: the caller sends it only to
    /// RESP3 clients, as Redis's `addReplyAttributeLen` requires), followed
    /// by n key/value pairs and then the reply they describe.
    pub fn attribute_len(&mut self, n: usize) {
        debug_assert!(self.resp3, "attributes exist only in RESP3");
        self.header(b'|', n as i64);
    }

    /// A push header: `>n` in RESP3, an array in RESP2 (Redis's
    /// `addReplyPushLen`).
    pub fn push_len(&mut self, n: usize) {
        self.header(if self.resp3 { b'>' } else { b'*' }, n as i64);
    }

    /// Verbatim text (`=` with the `txt` format in RESP3, a bulk in RESP2):
    /// INFO, CLIENT LIST, CLIENT INFO.
    pub fn verbatim(&mut self, text: &[u8]) {
        if !self.room(text.len() + MAX_I64_LEN + 9) {
            return;
        }
        if self.resp3 {
            self.header(b'=', text.len() as i64 + 4);
            self.buf.extend_from_slice(b"txt:");
            self.buf.extend_from_slice(text);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    /// Starts an aggregate whose length is known only at the end.
    pub fn defer_len(&mut self) -> Deferred {
        Deferred(self.buf.len())
    }

    fn fill_deferred(&mut self, d: Deferred, prefix: u8, n: i64) {
        if self.overflowed || d.0 > self.buf.len() {
            return;
        }
        let mut head = Vec::with_capacity(24);
        let mut tmp = [0u8; MAX_I64_LEN];
        head.push(prefix);
        head.extend_from_slice(fmt_i64(n, &mut tmp));
        head.extend_from_slice(b"\r\n");
        self.buf.splice(d.0..d.0, head);
    }

    /// Writes the array header for a deferred aggregate.
    pub fn set_deferred_array(&mut self, d: Deferred, n: usize) {
        self.fill_deferred(d, b'*', n as i64);
    }

    /// Writes the map header for a deferred aggregate of `n` pairs.
    pub fn set_deferred_map(&mut self, d: Deferred, n: usize) {
        if self.resp3 {
            self.fill_deferred(d, b'%', n as i64)
        } else {
            self.fill_deferred(d, b'*', 2 * n as i64)
        }
    }

    /// Writes the set header for a deferred aggregate.
    pub fn set_deferred_set(&mut self, d: Deferred, n: usize) {
        self.fill_deferred(d, if self.resp3 { b'~' } else { b'*' }, n as i64);
    }

    /// A help reply: the lines Redis's `addReplyHelp` sends, with its header
    /// and trailer.
    pub fn help(&mut self, command: &str, lines: &[&str]) {
        self.array_len(lines.len() + 3);
        self.simple(&format!(
            "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            command.to_ascii_uppercase()
        ));
        for l in lines {
            self.simple(l);
        }
        self.simple("HELP");
        self.simple("    Prints this help.");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(f: impl FnOnce(&mut Reply)) -> (String, String) {
        let mut r2 = Reply::new();
        f(&mut r2);
        let s2 = String::from_utf8_lossy(r2.pending()).into_owned();
        (s2, String::new())
    }

    #[test]
    fn resp2_and_resp3_nulls_and_maps() {
        let mut r = Reply::new();
        r.null();
        r.map_len(2);
        r.set_resp3(true);
        r.null();
        r.map_len(2);
        r.double(1.5);
        r.boolean(true);
        assert_eq!(r.pending(), b"$-1\r\n*4\r\n_\r\n%2\r\n,1.5\r\n#t\r\n");
    }

    #[test]
    fn bignum_attribute_and_push_encodings() {
        let mut r = Reply::new();
        r.bignum(b"12345678901234567890");
        r.push_len(2);
        r.set_resp3(true);
        r.bignum(b"12345678901234567890");
        r.attribute_len(1);
        r.push_len(2);
        assert_eq!(
            r.pending(),
            b"$20\r\n12345678901234567890\r\n*2\r\n(12345678901234567890\r\n|1\r\n>2\r\n"
        );
    }

    #[test]
    fn errors_stay_on_one_line() {
        let (s, _) = out(|r| r.error(&CmdError::msg(format!("ERR bad {}", "a\r\nb"))));
        assert_eq!(s, "-ERR bad a  b\r\n");
    }

    #[test]
    fn deferred_lengths_are_inserted_before_the_items() {
        let mut r = Reply::new();
        r.int(7);
        let d = r.defer_len();
        r.bulk(b"a");
        r.bulk(b"b");
        r.set_deferred_array(d, 2);
        assert_eq!(r.pending(), b":7\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n");
        r.advance(4);
        assert_eq!(r.pending_len(), 18);
        r.advance(18);
        assert!(r.is_empty());
    }

    #[test]
    fn output_past_the_cap_is_dropped_and_flagged() {
        let mut r = Reply::new();
        r.set_cap(100);
        r.bulk(b"small");
        assert!(!r.overflowed());
        let d = r.defer_len();
        for _ in 0..10 {
            r.bulk(&[b'x'; 20]);
        }
        r.set_deferred_array(d, 10);
        assert!(r.overflowed());
        assert_eq!(r.pending_len(), 0);
        r.bulk(&[b'y'; 1 << 20]);
        r.int(5);
        assert_eq!(r.capacity(), 0, "nothing is kept after the overflow");
        // A reply bigger than the cap is never copied.
        let mut r = Reply::new();
        r.set_cap(1024);
        r.bulk(&vec![b'z'; 10 << 20]);
        assert!(r.overflowed());
        assert_eq!(r.capacity(), 0);
    }

    #[test]
    fn a_buffer_that_never_drains_does_not_keep_sent_bytes() {
        let mut r = Reply::new();
        let chunk = vec![b'x'; 100_000];
        for _ in 0..1000 {
            r.bulk(&chunk);
            // The socket takes a little less than what is added each time.
            let n = r.pending_len().min(99_000);
            r.advance(n);
            assert!(r.pending_len() > 0);
        }
        assert!(r.capacity() < 8 * 1024 * 1024, "capacity {}", r.capacity());
    }
}
