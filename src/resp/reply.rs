//! `Reply`: a client's output buffer, and where the RESP2/RESP3 form of
//! each reply is chosen. Handlers call these methods; the bytes come from
//! `encode`, the one RESP encoder. Integers and lengths are formatted
//! without allocating.
//!
//! The buffer has a cap (the client's hard `client-output-buffer-limit`).
//! Output that would take the unsent bytes past it is not added: the buffer
//! is dropped and marked `overflowed`, and the server closes the client. A
//! single reply bigger than the limit (HGETALL of a huge hash, GET of a huge
//! value) therefore never takes more memory than the limit.

use super::encode::{self, prefix, MAX_HEADER_LEN};
use crate::error::CmdError;
use crate::util::num::{fmt_f64_g17, MAX_I64_LEN};

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
        if self.room(MAX_HEADER_LEN) {
            encode::header(&mut self.buf, prefix, n);
        }
    }

    /// `+OK`.
    pub fn ok(&mut self) {
        self.raw(encode::OK);
    }

    /// A status reply, `+text`.
    pub fn simple(&mut self, text: &str) {
        if self.room(text.len() + 3) {
            encode::simple(&mut self.buf, text.as_bytes());
        }
    }

    /// An error reply. Newlines in the text become spaces, as Redis does, so
    /// the reply stays one protocol line.
    pub fn error(&mut self, err: &CmdError) {
        // Error texts are short (Redis caps the parts it echoes back).
        if self.room(512) {
            encode::error(&mut self.buf, err);
        }
    }

    /// An integer, `:n`.
    pub fn int(&mut self, n: i64) {
        if self.room(MAX_HEADER_LEN) {
            encode::int(&mut self.buf, n);
        }
    }

    /// A bulk string.
    #[inline]
    pub fn bulk(&mut self, b: &[u8]) {
        if self.room(b.len() + MAX_HEADER_LEN + 2) {
            encode::bulk(&mut self.buf, b);
        }
    }

    /// A bulk string holding a decimal integer.
    pub fn bulk_i64(&mut self, n: i64) {
        if self.room(MAX_HEADER_LEN + MAX_I64_LEN + 2) {
            encode::bulk_i64(&mut self.buf, n);
        }
    }

    /// The null bulk: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        self.raw(if self.resp3 {
            encode::NULL
        } else {
            encode::NULL_BULK
        });
    }

    /// The null array: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        self.raw(if self.resp3 {
            encode::NULL
        } else {
            encode::NULL_ARRAY
        });
    }

    /// An array header.
    pub fn array_len(&mut self, n: usize) {
        self.header(prefix::ARRAY, n as i64);
    }

    /// A map header: `%n` in RESP3, an array of 2n in RESP2.
    pub fn map_len(&mut self, n: usize) {
        if self.resp3 {
            self.header(prefix::MAP, n as i64)
        } else {
            self.header(prefix::ARRAY, 2 * n as i64)
        }
    }

    /// A set header: `~n` in RESP3, an array in RESP2.
    pub fn set_len(&mut self, n: usize) {
        self.header(self.set_prefix(), n as i64)
    }

    fn set_prefix(&self) -> u8 {
        if self.resp3 {
            prefix::SET
        } else {
            prefix::ARRAY
        }
    }

    /// A push header, `>n`: out-of-band data (pub/sub messages,
    /// invalidations). RESP3 only, as Redis's `addReplyPushLen`: a RESP2
    /// client is sent such messages as plain arrays by the caller.
    pub fn push_len(&mut self, n: usize) {
        debug_assert!(self.resp3, "push data is RESP3 only");
        self.header(prefix::PUSH, n as i64);
    }

    /// An attribute header, `|n`: `n` pairs of metadata, then the reply
    /// they describe. RESP3 only, as Redis's `addReplyAttributeLen`: for a
    /// RESP2 client the caller leaves the attribute out.
    pub fn attribute_len(&mut self, n: usize) {
        debug_assert!(self.resp3, "attributes are RESP3 only");
        self.header(prefix::ATTRIBUTE, n as i64);
    }

    /// A big number given in decimal: `(digits` in RESP3, a bulk string in
    /// RESP2 (Redis's `addReplyBigNum`).
    pub fn bignum(&mut self, digits: &[u8]) {
        if !self.room(digits.len() + MAX_HEADER_LEN + 2) {
            return;
        }
        if self.resp3 {
            encode::bignum(&mut self.buf, digits);
        } else {
            encode::bulk(&mut self.buf, digits);
        }
    }

    /// A double: `,d` in RESP3, a bulk string in RESP2 (`%.17g`, as Redis).
    pub fn double(&mut self, d: f64) {
        let text = fmt_f64_g17(d);
        if !self.room(text.len() + MAX_HEADER_LEN + 2) {
            return;
        }
        if self.resp3 {
            encode::double(&mut self.buf, text.as_bytes());
        } else {
            encode::bulk(&mut self.buf, text.as_bytes());
        }
    }

    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    pub fn boolean(&mut self, b: bool) {
        if self.resp3 {
            self.raw(if b { encode::TRUE } else { encode::FALSE });
        } else {
            self.int(b as i64);
        }
    }

    /// Verbatim text (`=` with the `txt` format in RESP3, a bulk in RESP2):
    /// INFO, CLIENT LIST, CLIENT INFO.
    pub fn verbatim(&mut self, text: &[u8]) {
        if !self.room(text.len() + MAX_HEADER_LEN + 6) {
            return;
        }
        if self.resp3 {
            encode::verbatim(&mut self.buf, b"txt", text);
        } else {
            encode::bulk(&mut self.buf, text);
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
        encode::insert_header(&mut self.buf, d.0, prefix, n);
    }

    /// Writes the array header for a deferred aggregate.
    pub fn set_deferred_array(&mut self, d: Deferred, n: usize) {
        self.fill_deferred(d, prefix::ARRAY, n as i64);
    }

    /// Writes the map header for a deferred aggregate of `n` pairs.
    pub fn set_deferred_map(&mut self, d: Deferred, n: usize) {
        if self.resp3 {
            self.fill_deferred(d, prefix::MAP, n as i64)
        } else {
            self.fill_deferred(d, prefix::ARRAY, 2 * n as i64)
        }
    }

    /// Writes the set header for a deferred aggregate.
    pub fn set_deferred_set(&mut self, d: Deferred, n: usize) {
        self.fill_deferred(d, self.set_prefix(), n as i64);
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
    fn resp3_push_attribute_and_bignum() {
        let mut r = Reply::new();
        r.bignum(b"12345678901234567890");
        r.set_resp3(true);
        r.push_len(2);
        r.bulk(b"message");
        r.attribute_len(1);
        r.simple("ttl");
        r.int(3);
        r.bignum(b"-12345678901234567890");
        assert_eq!(
            r.pending(),
            &b"$20\r\n12345678901234567890\r\n>2\r\n$7\r\nmessage\r\n|1\r\n+ttl\r\n:3\r\n(-12345678901234567890\r\n"[..]
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
