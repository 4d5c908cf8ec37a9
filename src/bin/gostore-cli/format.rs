//! Reply formatting, byte for byte as redis-cli 7.0 prints it
//! (`cliFormatReplyTTY`, `cliFormatReplyRaw`, `cliFormatReplyCSV`).
//!
//! The human ("standard") format is used when stdout is a terminal, the raw
//! one otherwise. Status, error and double texts are C strings in redis-cli,
//! so they stop at a NUL byte in the human format; bulk strings never do.

/// Output modes, as redis-cli's `OUTPUT_*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputMode {
    Standard,
    Raw,
    Csv,
}

use crate::resp::Reply;

/// Options a formatter needs besides the reply.
#[derive(Debug, Clone)]
pub struct Delims {
    /// Between elements of an aggregate, raw mode (`-d`, default "\n").
    pub bulk: Vec<u8>,
    /// After each reply, raw mode (`-D`, default "\n").
    pub reply: Vec<u8>,
}

impl Default for Delims {
    fn default() -> Self {
        Delims {
            bulk: b"\n".to_vec(),
            reply: b"\n".to_vec(),
        }
    }
}

/// Sds's `sdscatrepr`: a double-quoted, escaped rendering of `s`.
pub fn repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' | b'"' => {
                out.push(b'\\');
                out.push(c);
            }
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(c),
            _ => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// The part of `s` a C string would hold: up to the first NUL.
fn c_str(s: &[u8]) -> &[u8] {
    match s.iter().position(|&b| b == 0) {
        Some(n) => &s[..n],
        None => s,
    }
}

/// The whole output for one reply in `mode`, delimiters included.
/// `verbatim` is redis-cli's `output_raw_strings` (INFO, CLIENT LIST...).
pub fn format_reply(r: &Reply, mode: OutputMode, verbatim: bool, d: &Delims) -> Vec<u8> {
    let mut out = Vec::new();
    if verbatim {
        raw(&mut out, r, d);
    } else {
        match mode {
            OutputMode::Standard => tty(&mut out, r, b""),
            OutputMode::Raw => {
                raw(&mut out, r, d);
                out.extend_from_slice(&d.reply);
            }
            OutputMode::Csv => {
                csv(&mut out, r);
                out.push(b'\n');
            }
        }
    }
    out
}

/// redis-cli's `cliIsMultilineValueTTY`.
fn is_multiline(r: &Reply) -> bool {
    match r {
        Reply::Array(v) | Reply::Set(v) | Reply::Push(v) => match v.len() {
            0 => false,
            1 => is_multiline(&v[0]),
            _ => true,
        },
        Reply::Map(m) => match m.len() {
            0 => false,
            1 => is_multiline(&m[0].1),
            _ => true,
        },
        _ => false,
    }
}

/// redis-cli's `cliFormatReplyTTY`.
pub fn tty(out: &mut Vec<u8>, r: &Reply, prefix: &[u8]) {
    match r {
        Reply::Error(s) => {
            out.extend_from_slice(b"(error) ");
            out.extend_from_slice(c_str(s));
            out.push(b'\n');
        }
        Reply::Status(s) => {
            out.extend_from_slice(c_str(s));
            out.push(b'\n');
        }
        Reply::Integer(n) => out.extend_from_slice(format!("(integer) {n}\n").as_bytes()),
        Reply::Double(s) => {
            out.extend_from_slice(b"(double) ");
            out.extend_from_slice(c_str(s));
            out.push(b'\n');
        }
        Reply::BigNumber(s) => {
            out.extend_from_slice(b"(big number) ");
            out.extend_from_slice(s);
            out.push(b'\n');
        }
        Reply::Bulk(s) => {
            repr(out, s);
            out.push(b'\n');
        }
        Reply::Verbatim(s) => {
            out.extend_from_slice(s);
            out.push(b'\n');
        }
        Reply::Nil => out.extend_from_slice(b"(nil)\n"),
        Reply::Bool(b) => out.extend_from_slice(if *b { b"(true)\n" } else { b"(false)\n" }),
        Reply::Array(v) | Reply::Set(v) | Reply::Push(v) => {
            if v.is_empty() {
                out.extend_from_slice(match r {
                    Reply::Array(_) => b"(empty array)\n".as_slice(),
                    Reply::Set(_) => b"(empty set)\n",
                    _ => b"(empty push)\n",
                });
                return;
            }
            let sep = if matches!(r, Reply::Set(_)) { '~' } else { ')' };
            let width = v.len().to_string().len();
            let child = child_prefix(prefix, width);
            for (i, e) in v.iter().enumerate() {
                index(out, if i == 0 { b"" } else { prefix }, i + 1, width, sep);
                tty(out, e, &child);
            }
        }
        Reply::Map(m) => {
            if m.is_empty() {
                out.extend_from_slice(b"(empty hash)\n");
                return;
            }
            let width = m.len().to_string().len();
            let child = child_prefix(prefix, width);
            for (i, (k, v)) in m.iter().enumerate() {
                index(out, if i == 0 { b"" } else { prefix }, i + 1, width, '#');
                tty(out, k, &child);
                out.pop(); // the key's newline
                out.extend_from_slice(b" => ");
                if is_multiline(v) {
                    out.push(b'\n');
                    out.extend_from_slice(&child);
                }
                tty(out, v, &child);
            }
        }
    }
}

fn child_prefix(prefix: &[u8], width: usize) -> Vec<u8> {
    let mut p = prefix.to_vec();
    p.resize(prefix.len() + width + 2, b' ');
    p
}

/// `"%s%*d%c "`: prefix, right-aligned index, separator.
fn index(out: &mut Vec<u8>, prefix: &[u8], i: usize, width: usize, sep: char) {
    out.extend_from_slice(prefix);
    out.extend_from_slice(format!("{i:>width$}{sep} ").as_bytes());
}

/// redis-cli's `cliFormatReplyRaw`.
pub fn raw(out: &mut Vec<u8>, r: &Reply, d: &Delims) {
    match r {
        Reply::Nil => {}
        Reply::Error(s) => {
            out.extend_from_slice(s);
            out.push(b'\n');
        }
        Reply::Status(s) | Reply::Bulk(s) | Reply::Verbatim(s) | Reply::BigNumber(s) => {
            out.extend_from_slice(s)
        }
        Reply::Bool(b) => out.extend_from_slice(if *b { b"(true)" } else { b"(false)" }),
        Reply::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Reply::Double(s) => out.extend_from_slice(c_str(s)),
        Reply::Array(v) | Reply::Set(v) | Reply::Push(v) => {
            for (i, e) in v.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(&d.bulk);
                }
                raw(out, e, d);
            }
        }
        Reply::Map(m) => {
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(&d.bulk);
                }
                raw(out, k, d);
                out.push(b' ');
                raw(out, v, d);
            }
        }
    }
}

/// redis-cli's `cliFormatReplyCSV`.
pub fn csv(out: &mut Vec<u8>, r: &Reply) {
    match r {
        Reply::Error(s) => {
            out.extend_from_slice(b"ERROR,");
            repr(out, c_str(s));
        }
        Reply::Status(s) | Reply::Bulk(s) | Reply::Verbatim(s) => repr(out, s),
        Reply::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Reply::Double(s) => out.extend_from_slice(c_str(s)),
        Reply::BigNumber(s) => out.extend_from_slice(s),
        Reply::Nil => out.extend_from_slice(b"NULL"),
        Reply::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Reply::Array(_) | Reply::Set(_) | Reply::Push(_) | Reply::Map(_) => {
            let items = r.elements().unwrap_or_default();
            for (i, e) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                csv(out, e);
            }
        }
    }
}

/// redis-cli's `cliFormatInvalidateTTY`, for RESP3 `invalidate` pushes;
/// `None` when `r` is not one.
pub fn invalidate_tty(r: &Reply) -> Option<Vec<u8>> {
    let Reply::Push(v) = r else { return None };
    let [Reply::Bulk(kind), Reply::Array(keys)] = v.as_slice() else {
        return None;
    };
    if !kind.starts_with(b"invalidate") {
        return None;
    }
    let mut out = b"-> invalidate: ".to_vec();
    for (i, k) in keys.iter().enumerate() {
        out.push(b'\'');
        out.extend_from_slice(c_str(k.as_bytes().unwrap_or_default()));
        out.push(b'\'');
        if i + 1 < keys.len() {
            out.extend_from_slice(b", ");
        }
    }
    out.push(b'\n');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Reply {
        Reply::Bulk(s.as_bytes().to_vec())
    }

    fn show(r: &Reply) -> String {
        String::from_utf8_lossy(&format_reply(
            r,
            OutputMode::Standard,
            false,
            &Delims::default(),
        ))
        .into_owned()
    }

    #[test]
    fn nested_arrays_indent_by_index_width() {
        let inner = Reply::Array(vec![bulk("a"), Reply::Integer(1)]);
        let mut v = vec![inner];
        v.extend((0..10).map(|i| bulk(&i.to_string())));
        let s = show(&Reply::Array(v));
        assert!(
            s.starts_with(" 1) 1) \"a\"\n    2) (integer) 1\n 2) \"0\"\n"),
            "{s}"
        );
        assert!(s.ends_with("11) \"9\"\n"));
    }

    #[test]
    fn maps_put_multiline_values_on_their_own_line() {
        let m = Reply::Map(vec![
            (bulk("k"), Reply::Array(vec![bulk("x"), bulk("y")])),
            (bulk("n"), Reply::Nil),
        ]);
        assert_eq!(
            show(&m),
            "1# \"k\" => \n   1) \"x\"\n   2) \"y\"\n2# \"n\" => (nil)\n"
        );
    }

    #[test]
    fn repr_escapes_like_sdscatrepr() {
        let mut out = Vec::new();
        repr(&mut out, b"a\"\\\n\x01\xff");
        assert_eq!(out, b"\"a\\\"\\\\\\n\\x01\\xff\"");
    }

    #[test]
    fn raw_nil_is_empty_and_maps_pair_with_space() {
        let d = Delims::default();
        assert_eq!(format_reply(&Reply::Nil, OutputMode::Raw, false, &d), b"\n");
        let m = Reply::Map(vec![
            (bulk("a"), Reply::Integer(1)),
            (bulk("b"), Reply::Bool(true)),
        ]);
        assert_eq!(
            format_reply(&m, OutputMode::Raw, false, &d),
            b"a 1\nb (true)\n"
        );
    }
}
