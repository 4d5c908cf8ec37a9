//! The RESP encoder: free functions that append one protocol element to a
//! caller's buffer. It is the only code that formats RESP: `Reply` (client
//! replies, RESP2 or RESP3) calls it after its output-limit check, and so do
//! the AOF (commands as RESP arrays), the rewrite's base writer, the MONITOR
//! feed and the refusals written to a connection before it has a client.
//!
//! Nothing here allocates beyond growing `out`: integers and lengths are
//! formatted on the stack (`util::num::fmt_i64`).
//!
//! These functions write what they are asked for; choosing between the RESP2
//! and RESP3 form of a reply is `Reply`'s job.

use crate::util::num::{fmt_i64, MAX_I64_LEN};

/// Most bytes a header line takes: a type byte, a 64-bit integer and CRLF.
pub const MAX_HEADER_LEN: usize = MAX_I64_LEN + 3;

/// The end of every line.
pub const CRLF: &[u8] = b"\r\n";

/// RESP type bytes.
pub mod prefix {
    /// `+`: a simple string (status).
    pub const SIMPLE: u8 = b'+';
    /// `-`: an error.
    pub const ERROR: u8 = b'-';
    /// `:`: an integer.
    pub const INT: u8 = b':';
    /// `$`: a bulk string.
    pub const BULK: u8 = b'$';
    /// `*`: an array.
    pub const ARRAY: u8 = b'*';
    /// `%`: a map (RESP3).
    pub const MAP: u8 = b'%';
    /// `~`: a set (RESP3).
    pub const SET: u8 = b'~';
    /// `>`: a push, out-of-band data (RESP3).
    pub const PUSH: u8 = b'>';
    /// `|`: an attribute, metadata before a reply (RESP3).
    pub const ATTRIBUTE: u8 = b'|';
    /// `,`: a double (RESP3).
    pub const DOUBLE: u8 = b',';
    /// `(`: a big number (RESP3).
    pub const BIGNUM: u8 = b'(';
    /// `=`: a verbatim string (RESP3).
    pub const VERBATIM: u8 = b'=';
}

/// `+OK`.
pub const OK: &[u8] = b"+OK\r\n";
/// RESP2's null bulk string.
pub const NULL_BULK: &[u8] = b"$-1\r\n";
/// RESP2's null array.
pub const NULL_ARRAY: &[u8] = b"*-1\r\n";
/// RESP3's null.
pub const NULL: &[u8] = b"_\r\n";
/// RESP3's true.
pub const TRUE: &[u8] = b"#t\r\n";
/// RESP3's false.
pub const FALSE: &[u8] = b"#f\r\n";

/// A header line, `<prefix><n>\r\n`: an aggregate's or a bulk's length, or
/// an integer.
#[inline]
pub fn header(out: &mut Vec<u8>, prefix: u8, n: i64) {
    let mut tmp = [0u8; MAX_I64_LEN];
    out.push(prefix);
    out.extend_from_slice(fmt_i64(n, &mut tmp));
    out.extend_from_slice(CRLF);
}

/// A line, `<prefix><body>\r\n` (simple strings, doubles, big numbers).
/// `body` must hold no CR or LF.
#[inline]
pub fn line(out: &mut Vec<u8>, prefix: u8, body: &[u8]) {
    out.push(prefix);
    out.extend_from_slice(body);
    out.extend_from_slice(CRLF);
}

/// A simple string, `+text`.
#[inline]
pub fn simple(out: &mut Vec<u8>, text: &[u8]) {
    line(out, prefix::SIMPLE, text);
}

/// A simple string whose text `body` appends (MONITOR's lines).
pub fn simple_with(out: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    out.push(prefix::SIMPLE);
    body(out);
    out.extend_from_slice(CRLF);
}

/// An error, `-text`, with CR and LF in the text turned into spaces (as
/// Redis's `addReplyErrorLength` does), so it stays one line.
pub fn error(out: &mut Vec<u8>, err: &impl std::fmt::Display) {
    use std::io::Write;
    out.push(prefix::ERROR);
    let start = out.len();
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{err}");
    for c in &mut out[start..] {
        if *c == b'\r' || *c == b'\n' {
            *c = b' ';
        }
    }
    out.extend_from_slice(CRLF);
}

/// An integer, `:n`.
#[inline]
pub fn int(out: &mut Vec<u8>, n: i64) {
    match n {
        0 => out.extend_from_slice(b":0\r\n"),
        1 => out.extend_from_slice(b":1\r\n"),
        _ => header(out, prefix::INT, n),
    }
}

/// A bulk string.
#[inline]
pub fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    header(out, prefix::BULK, b.len() as i64);
    out.extend_from_slice(b);
    out.extend_from_slice(CRLF);
}

/// A bulk string holding `n` in decimal.
#[inline]
pub fn bulk_i64(out: &mut Vec<u8>, n: i64) {
    let mut tmp = [0u8; MAX_I64_LEN];
    bulk(out, fmt_i64(n, &mut tmp));
}

/// An array header.
#[inline]
pub fn array_len(out: &mut Vec<u8>, n: usize) {
    header(out, prefix::ARRAY, n as i64);
}

/// A RESP3 map header of `n` pairs.
#[inline]
pub fn map_len(out: &mut Vec<u8>, n: usize) {
    header(out, prefix::MAP, n as i64);
}

/// A RESP3 set header.
#[inline]
pub fn set_len(out: &mut Vec<u8>, n: usize) {
    header(out, prefix::SET, n as i64);
}

/// A RESP3 push header (`>`): out-of-band data such as pub/sub messages or
/// invalidations, `n` items follow.
#[inline]
pub fn push_len(out: &mut Vec<u8>, n: usize) {
    header(out, prefix::PUSH, n as i64);
}

/// A RESP3 attribute header (`|`) of `n` pairs; the reply it describes
/// follows them.
#[inline]
pub fn attribute_len(out: &mut Vec<u8>, n: usize) {
    header(out, prefix::ATTRIBUTE, n as i64);
}

/// A RESP3 double, `,text`, where `text` is the number as
/// `util::num::fmt_f64_g17` writes it (`inf`, `-inf` and `nan` included).
#[inline]
pub fn double(out: &mut Vec<u8>, text: &[u8]) {
    line(out, prefix::DOUBLE, text);
}

/// A RESP3 big number, `(digits`: an integer of any size, in decimal.
#[inline]
pub fn bignum(out: &mut Vec<u8>, digits: &[u8]) {
    line(out, prefix::BIGNUM, digits);
}

/// A RESP3 boolean, `#t` or `#f`.
#[inline]
pub fn boolean(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { TRUE } else { FALSE });
}

/// A RESP3 verbatim string: `=`, its length, then `fmt:text` (`fmt` is
/// three bytes, such as `txt` or `mkd`).
pub fn verbatim(out: &mut Vec<u8>, fmt: &[u8; 3], text: &[u8]) {
    header(out, prefix::VERBATIM, text.len() as i64 + 4);
    out.extend_from_slice(fmt);
    out.push(b':');
    out.extend_from_slice(text);
    out.extend_from_slice(CRLF);
}

/// A command, `argv` as an array of bulk strings: how clients send
/// commands and how the AOF stores them.
pub fn command<'a>(out: &mut Vec<u8>, argv: impl ExactSizeIterator<Item = &'a [u8]>) {
    array_len(out, argv.len());
    for a in argv {
        bulk(out, a);
    }
}

/// Inserts a header line at `at`, before bytes already written (a length
/// known only once its items are: Redis's deferred lengths). Moves the
/// bytes after `at` once; allocates nothing beyond growing `out`.
pub fn insert_header(out: &mut Vec<u8>, at: usize, prefix: u8, n: i64) {
    let end = out.len();
    header(out, prefix, n);
    let head = out.len() - end;
    out[at..].rotate_right(head);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn scalars() {
        assert_eq!(enc(|o| simple(o, b"PONG")), "+PONG\r\n");
        assert_eq!(enc(|o| error(o, &"ERR a\r\nb")), "-ERR a  b\r\n");
        assert_eq!(enc(|o| int(o, 0)), ":0\r\n");
        assert_eq!(enc(|o| int(o, 1)), ":1\r\n");
        assert_eq!(enc(|o| int(o, i64::MIN)), ":-9223372036854775808\r\n");
        assert_eq!(enc(|o| bulk(o, b"")), "$0\r\n\r\n");
        assert_eq!(enc(|o| bulk_i64(o, -12)), "$3\r\n-12\r\n");
        assert_eq!(enc(|o| double(o, b"1.5")), ",1.5\r\n");
        assert_eq!(
            enc(|o| bignum(o, b"1234567999999999999999999999999999999")),
            "(1234567999999999999999999999999999999\r\n"
        );
        assert_eq!(enc(|o| boolean(o, false)), "#f\r\n");
        assert_eq!(enc(|o| verbatim(o, b"txt", b"hi")), "=6\r\ntxt:hi\r\n");
    }

    #[test]
    fn aggregates() {
        assert_eq!(
            enc(|o| {
                push_len(o, 2);
                bulk(o, b"invalidate");
                array_len(o, 0);
            }),
            ">2\r\n$10\r\ninvalidate\r\n*0\r\n"
        );
        assert_eq!(
            enc(|o| {
                attribute_len(o, 1);
                simple(o, b"key-popularity");
                map_len(o, 0);
                set_len(o, 0);
            }),
            "|1\r\n+key-popularity\r\n%0\r\n~0\r\n"
        );
    }

    #[test]
    fn commands_are_arrays_of_bulks() {
        let argv: [&[u8]; 3] = [b"SET", b"k", b"hello"];
        assert_eq!(
            enc(|o| command(o, argv.into_iter())),
            "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n"
        );
    }

    #[test]
    fn a_header_is_inserted_before_its_items() {
        let mut out = b":7\r\n$1\r\na\r\n".to_vec();
        insert_header(&mut out, 4, prefix::ARRAY, 1);
        assert_eq!(out, b":7\r\n*1\r\n$1\r\na\r\n");
        let end = out.len();
        insert_header(&mut out, end, prefix::ARRAY, 0);
        assert_eq!(out, b":7\r\n*1\r\n$1\r\na\r\n*0\r\n");
    }
}
