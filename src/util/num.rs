//! Numbers as Redis reads and writes them: `string2ll`'s strict integers,
//! `strtod`-style doubles, integer formatting without allocation, and the
//! long double arithmetic of INCRBYFLOAT (in `ldouble.c`).

/// Longest decimal text of an i64 ("-9223372036854775808").
pub const MAX_I64_LEN: usize = 20;

/// Redis's `string2ll`: optional '-', then digits with no leading zero (the
/// string "0" aside); no '+', no spaces, no overflow.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > MAX_I64_LEN {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s.strip_prefix(b"-") {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > (i64::MAX as u64) + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

/// Formats `v` in decimal into `buf`, returning the used tail. No allocation.
pub fn fmt_i64(v: i64, buf: &mut [u8; MAX_I64_LEN]) -> &[u8] {
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// Formats a double as Redis's `%.17g` replies do (`addReplyDouble`,
/// `d2string`): integers without a fraction, `inf`/`-inf`, else the shortest
/// of up to 17 significant digits that C's `%.17g` prints.
pub fn fmt_f64_g17(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let mut buf = [0u8; 64];
    let fmt = b"%.17g\0";
    // SAFETY: buf has room for any %.17g rendering of a double (< 32 bytes);
    // the format string is NUL-terminated and takes one double.
    let n = unsafe { libc::snprintf(buf.as_mut_ptr().cast(), buf.len(), fmt.as_ptr().cast(), v) };
    let n = (n.max(0) as usize).min(buf.len() - 1);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// What went wrong in a long double increment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatIncrError {
    /// The stored value does not parse as a long double.
    CurrentNotFloat,
    /// The increment does not parse as a long double.
    IncrNotFloat,
    /// The sum is NaN or infinite.
    NanOrInfinity,
    /// The increment itself is NaN or infinite (HINCRBYFLOAT checks first).
    IncrNanOrInfinity,
}

extern "C" {
    fn gostore_ld_incr(
        cur: *const u8,
        curlen: usize,
        incr: *const u8,
        incrlen: usize,
        check_incr: i32,
        out: *mut u8,
        outcap: usize,
        outlen: *mut usize,
    ) -> i32;
    fn gostore_ld_check(s: *const u8, len: usize) -> i32;
    fn gostore_timeout_ms(s: *const u8, len: usize, ms: *mut i64) -> i32;
}

/// Why a blocking command's timeout was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutError {
    /// `ERR timeout is not a float or out of range`.
    NotFloat,
    /// `ERR timeout is negative`.
    Negative,
}

/// A blocking command's timeout in seconds (decimals allowed), in
/// milliseconds, read exactly as Redis's `getTimeoutFromObjectOrReply`
/// (strtold, so `0x10` and `1e3` are numbers too).
pub fn parse_timeout_secs(arg: &[u8]) -> Result<i64, TimeoutError> {
    let mut ms = 0i64;
    // SAFETY: pointer and length describe a live slice; `ms` is written
    // only on success.
    match unsafe { gostore_timeout_ms(arg.as_ptr(), arg.len(), &mut ms) } {
        0 => Ok(ms),
        2 => Err(TimeoutError::Negative),
        _ => Err(TimeoutError::NotFloat),
    }
}

/// Capacity of the formatted result, as Redis's MAX_LONG_DOUBLE_CHARS.
const LD_CHARS: usize = 5 * 1024;

/// Validates an increment as HINCRBYFLOAT does before touching the key.
pub fn check_float_incr(incr: &[u8]) -> Result<(), FloatIncrError> {
    // SAFETY: pointer and length describe a live slice.
    match unsafe { gostore_ld_check(incr.as_ptr(), incr.len()) } {
        0 => Ok(()),
        1 => Err(FloatIncrError::IncrNotFloat),
        _ => Err(FloatIncrError::IncrNanOrInfinity),
    }
}

/// `cur + incr` in long double precision, formatted as Redis stores it.
/// `cur` of `None` counts as 0.
pub fn long_double_incr(cur: Option<&[u8]>, incr: &[u8]) -> Result<Vec<u8>, FloatIncrError> {
    let mut out = vec![0u8; LD_CHARS];
    let mut len = 0usize;
    let (cp, cl) = match cur {
        Some(c) => (c.as_ptr(), c.len()),
        None => (std::ptr::null(), 0),
    };
    // SAFETY: every pointer/length pair describes a live buffer; `out` has
    // LD_CHARS bytes and the C side writes at most that many.
    let rc = unsafe {
        gostore_ld_incr(
            cp,
            cl,
            incr.as_ptr(),
            incr.len(),
            0,
            out.as_mut_ptr(),
            out.len(),
            &mut len,
        )
    };
    match rc {
        0 => {
            out.truncate(len.min(LD_CHARS));
            Ok(out)
        }
        1 => Err(FloatIncrError::CurrentNotFloat),
        2 => Err(FloatIncrError::IncrNotFloat),
        4 => Err(FloatIncrError::IncrNanOrInfinity),
        _ => Err(FloatIncrError::NanOrInfinity),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_i64_follows_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"9223372036854775808",
            b"1.0",
            b"abc",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn fmt_i64_round_trips() {
        let mut buf = [0u8; MAX_I64_LEN];
        for v in [0, 1, -1, 42, i64::MAX, i64::MIN, 1000, -999] {
            assert_eq!(fmt_i64(v, &mut buf), v.to_string().as_bytes());
        }
    }

    #[test]
    fn long_double_sums_print_as_redis() {
        assert_eq!(long_double_incr(Some(b"0.1"), b"0.2").unwrap(), b"0.3");
        assert_eq!(long_double_incr(Some(b"10.50"), b"0.1").unwrap(), b"10.6");
        assert_eq!(long_double_incr(None, b"5.0e3").unwrap(), b"5000");
        assert_eq!(long_double_incr(Some(b"-1"), b"1").unwrap(), b"0");
        assert_eq!(
            long_double_incr(Some(b"abc"), b"1"),
            Err(FloatIncrError::CurrentNotFloat)
        );
        assert_eq!(
            long_double_incr(Some(b"1"), b" 1"),
            Err(FloatIncrError::IncrNotFloat)
        );
        assert_eq!(
            long_double_incr(Some(b"1"), b"inf"),
            Err(FloatIncrError::NanOrInfinity)
        );
        assert_eq!(
            check_float_incr(b"inf"),
            Err(FloatIncrError::IncrNanOrInfinity)
        );
    }

    #[test]
    fn g17_matches_c() {
        assert_eq!(fmt_f64_g17(1.5), "1.5");
        assert_eq!(fmt_f64_g17(0.1), "0.10000000000000001");
        assert_eq!(fmt_f64_g17(3.0), "3");
        assert_eq!(fmt_f64_g17(f64::NEG_INFINITY), "-inf");
    }
}
