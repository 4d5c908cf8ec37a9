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
