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

/// A double as Redis's `getDoubleFromObject` (`ERR value is not a valid float`).
pub fn float(arg: &[u8]) -> Result<f64, CmdError> {
    num::parse_f64(arg).ok_or(CmdError::NotFloat)
}

/// A non-negative integer for COUNT-like options, with the given error
/// when negative.
pub fn non_negative(arg: &[u8], err: CmdError) -> Result<i64, CmdError> {
    let v = int(arg)?;
    if v < 0 {
        return Err(err);
    }
    Ok(v)
}

/// A database index: an integer, then in range.
pub fn db_index(arg: &[u8], count: usize) -> Result<usize, CmdError> {
    let v = num::parse_i64(arg).ok_or(CmdError::InvalidDbIndex)?;
    if v < 0 || v >= count as i64 {
        return Err(CmdError::DbIndexOutOfRange);
    }
    Ok(v as usize)
}

/// Lossy text of an argument, for error messages.
pub fn text(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).into_owned()
}
