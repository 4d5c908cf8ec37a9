//! Argument parsing with Redis's error replies: integers (`string2ll`),
//! floats, options matched case-insensitively.

use crate::error::CmdError;
use crate::util::num;

/// Whether `arg` equals `word`, ignoring ASCII case.
#[inline]
pub fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

/// A 64-bit integer (`ERR value is not an integer or out of range`).
pub fn int(arg: &[u8]) -> Result<i64, CmdError> {
    num::parse_i64(arg).ok_or(CmdError::NotInteger)
}

/// A C int, as Redis's `getIntFromObjectOrReply`: `msg` (or the generic
/// integer error) when not an integer, then a range error.
pub fn int32(arg: &[u8], msg: Option<&'static str>) -> Result<i32, CmdError> {
    let v = num::parse_i64(arg).ok_or(match msg {
        Some(m) => CmdError::Static(m),
        None => CmdError::NotInteger,
    })?;
    i32::try_from(v).map_err(|_| match msg {
        Some(m) => CmdError::Static(m),
        None => CmdError::Static(
            "ERR value is out of range, value must between -2147483648 and 2147483647",
        ),
    })
}

/// A database index: a C int (`msg` when not one), then in range.
pub fn db_index(arg: &[u8], count: usize, msg: Option<&'static str>) -> Result<usize, CmdError> {
    let v = int32(arg, msg)?;
    if v < 0 || v as usize >= count {
        return Err(CmdError::DbIndexOutOfRange);
    }
    Ok(v as usize)
}

/// Lossy text of an argument, for error messages.
pub fn text(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).into_owned()
}

/// A SCAN cursor, parsed as Redis's `parseScanCursorOrReply` does with
/// `strtoul`: optional sign (a negative value wraps), decimal digits, no
/// leading space, nothing after. An empty string is cursor 0.
pub fn scan_cursor(arg: &[u8]) -> Result<u64, CmdError> {
    const ERR: CmdError = CmdError::Static("ERR invalid cursor");
    let (neg, digits) = match arg.first() {
        Some(b'-') => (true, &arg[1..]),
        Some(b'+') => (false, &arg[1..]),
        Some(c) if c.is_ascii_whitespace() => return Err(ERR),
        _ => (false, arg),
    };
    if digits.is_empty() {
        // strtoul consumed nothing: only valid when the whole string is empty.
        return if arg.is_empty() { Ok(0) } else { Err(ERR) };
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(ERR);
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add((c - b'0') as u64))
            .ok_or(ERR)?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// The options of SCAN/HSCAN (`MATCH`, `COUNT`, and `TYPE` for SCAN only),
/// as Redis's `scanGenericCommand` parses them.
#[derive(Debug, Clone, Copy)]
pub struct ScanOpts<'a> {
    /// The cursor.
    pub cursor: u64,
    /// MATCH pattern, None for all (or "*").
    pub pattern: Option<&'a [u8]>,
    /// COUNT (default 10).
    pub count: usize,
    /// TYPE filter (SCAN only).
    pub type_name: Option<&'a [u8]>,
}

impl<'a> ScanOpts<'a> {
    /// Parses `cursor [MATCH p] [COUNT n] [TYPE t]` starting at `cursor_at`.
    pub fn parse(
        args: &crate::resp::parser::Args<'a>,
        cursor_at: usize,
        allow_type: bool,
    ) -> Result<ScanOpts<'a>, CmdError> {
        let cursor = scan_cursor(args.get(cursor_at))?;
        let mut o = ScanOpts {
            cursor,
            pattern: None,
            count: 10,
            type_name: None,
        };
        let mut i = cursor_at + 1;
        while i < args.len() {
            let left = args.len() - i;
            let opt = args.get(i);
            if is(opt, "COUNT") && left >= 2 {
                let n = int(args.get(i + 1))?;
                if n < 1 {
                    return Err(CmdError::Syntax);
                }
                o.count = n as usize;
            } else if is(opt, "MATCH") && left >= 2 {
                let p = args.get(i + 1);
                o.pattern = (p != b"*").then_some(p);
            } else if is(opt, "TYPE") && allow_type && left >= 2 {
                o.type_name = Some(args.get(i + 1));
            } else {
                return Err(CmdError::Syntax);
            }
            i += 2;
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_cursors_parse_like_strtoul() {
        assert_eq!(scan_cursor(b"0"), Ok(0));
        assert_eq!(scan_cursor(b""), Ok(0));
        assert_eq!(scan_cursor(b"+5"), Ok(5));
        assert_eq!(scan_cursor(b"-1"), Ok(u64::MAX));
        assert_eq!(scan_cursor(b"18446744073709551615"), Ok(u64::MAX));
        assert!(scan_cursor(b"18446744073709551616").is_err());
        assert!(scan_cursor(b" 1").is_err());
        assert!(scan_cursor(b"1x").is_err());
        assert!(scan_cursor(b"-").is_err());
    }
}
