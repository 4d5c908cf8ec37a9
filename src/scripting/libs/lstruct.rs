//! The `struct` library Redis 7.0 loads (Roberto Ierusalimschy's struct
//! 0.2 with Redis's fixes): `pack`, `unpack` and `size`, with every format
//! code (`b B h H l L T i[n] I[n] f d x c[n] s`), `<` `>` endianness,
//! `![n]` alignment, spaces, and Redis's error texts. Sizes are those of
//! x86-64 Linux, where Redis runs (long and size_t 8 bytes, native
//! little-endian, maximum alignment 8).

use mlua::{Lua, MultiValue, Table, Value};

use super::support::{
    check_bytes, check_number, one, opt_integer, register, spread, to_number, trunc_i64, LibErr,
    LibResult, MAX_C_STACK,
};

/// MAXINTSIZE: the widest `i[n]`.
const MAX_INT_SIZE: i64 = 32;
/// MAXALIGN: `!` without a number.
const MAX_ALIGN: i64 = 8;

#[derive(Clone, Copy)]
struct Header {
    big: bool,
    align: u64,
}

const DEFAULT: Header = Header {
    big: false,
    align: 1,
};

/// The format, a C string: it ends at the first NUL.
struct Fmt {
    s: Vec<u8>,
    at: usize,
}

impl Fmt {
    fn new(mut s: Vec<u8>) -> Fmt {
        if let Some(n) = s.iter().position(|&c| c == 0) {
            s.truncate(n);
        }
        Fmt { s, at: 0 }
    }
    fn next(&mut self) -> Option<u8> {
        let c = self.s.get(self.at).copied();
        self.at += 1;
        c
    }
    fn peek_digit(&self) -> Option<i64> {
        self.s
            .get(self.at)
            .filter(|c| c.is_ascii_digit())
            .map(|&c| (c - b'0') as i64)
    }

    /// `getnum`: a decimal number, or `df` when none follows.
    fn num(&mut self, df: i64) -> LibResult<i64> {
        if self.peek_digit().is_none() {
            return Ok(df);
        }
        let mut a: i64 = 0;
        while let Some(d) = self.peek_digit() {
            if a > (i32::MAX / 10) as i64 || a * 10 > i32::MAX as i64 - d {
                return Err(LibErr::Msg("integral size overflow".into()));
            }
            a = a * 10 + d;
            self.at += 1;
        }
        Ok(a)
    }

    /// `optsize`.
    fn size(&mut self, opt: u8) -> LibResult<u64> {
        Ok(match opt {
            b'B' | b'b' | b'x' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'c' => self.num(1)? as u64,
            b'i' | b'I' => {
                let sz = self.num(4)?;
                if sz > MAX_INT_SIZE {
                    return Err(LibErr::Msg(format!(
                        "integral size {sz} is larger than limit of {MAX_INT_SIZE}"
                    )));
                }
                sz as u64
            }
            _ => 0,
        })
    }
}

/// `gettoalign`, as the C int it returns.
fn to_align(len: u64, h: &Header, opt: u8, size: u64) -> i64 {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    let m = size.wrapping_sub(1);
    (size.wrapping_sub(len & m) & m) as i32 as i64
}

/// `controloptions`.
fn control(opt: u8, f: &mut Fmt, h: &mut Header) -> LibResult<()> {
    match opt {
        b' ' => {}
        b'>' => h.big = true,
        b'<' => h.big = false,
        b'!' => {
            let a = f.num(MAX_ALIGN)?;
            if !(a > 0 && a & (a - 1) == 0) {
                return Err(LibErr::Msg(format!("alignment {a} is not a power of 2")));
            }
            h.align = a as u64;
        }
        _ => {
            return Err(LibErr::Arg(
                1,
                format!(
                    "invalid format option '{}'",
                    String::from_utf8_lossy(&[opt])
                ),
            ))
        }
    }
    Ok(())
}

/// C's double to unsigned long conversion as gcc emits it on x86-64.
fn to_u64(n: f64) -> u64 {
    if n >= 9_223_372_036_854_775_808.0 {
        (trunc_i64(n - 9_223_372_036_854_775_808.0) as u64) ^ (1 << 63)
    } else {
        trunc_i64(n) as u64
    }
}

fn put_bytes(out: &mut Vec<u8>, little: &[u8], big: bool) {
    if big {
        out.extend(little.iter().rev());
    } else {
        out.extend_from_slice(little);
    }
}

fn pack(lua: &Lua, a: MultiValue) -> LibResult<MultiValue> {
    let mut args: Vec<Value> = a.into_iter().collect();
    let mut f = Fmt::new(check_bytes(&args, 1)?);
    // b_pack then pushes a nil right after its arguments (separating them
    // from its string buffer), so a missing argument right after them is
    // nil.
    args.push(Value::Nil);
    let mut h = DEFAULT;
    let mut arg = 2;
    let mut total: u64 = 0;
    let mut out = Vec::new();
    while let Some(opt) = f.next() {
        let mut size = f.size(opt)?;
        let toalign = to_align(total, &h, opt, size);
        total = total.wrapping_add(toalign as u64);
        out.resize(out.len() + toalign.max(0) as usize, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = check_number(&args, arg)?;
                arg += 1;
                let mut value = if n < 0.0 {
                    trunc_i64(n) as u64
                } else {
                    to_u64(n)
                };
                let mut bytes = Vec::with_capacity(size as usize);
                for _ in 0..size {
                    bytes.push((value & 0xff) as u8);
                    value >>= 8;
                }
                put_bytes(&mut out, &bytes, h.big);
            }
            b'x' => out.push(0),
            b'f' => {
                let v = check_number(&args, arg)? as f32;
                arg += 1;
                put_bytes(&mut out, &v.to_le_bytes(), h.big);
            }
            b'd' => {
                let v = check_number(&args, arg)?;
                arg += 1;
                put_bytes(&mut out, &v.to_le_bytes(), h.big);
            }
            b'c' | b's' => {
                let s = check_bytes(&args, arg)?;
                arg += 1;
                let l = s.len() as u64;
                if size == 0 {
                    size = l;
                }
                if l < size {
                    return Err(LibErr::Arg(arg as i32, "string too short".into()));
                }
                out.extend_from_slice(&s[..size as usize]);
                if opt == b's' {
                    out.push(0);
                    size += 1;
                }
            }
            _ => control(opt, &mut f, &mut h)?,
        }
        total = total.wrapping_add(size);
    }
    one(Value::String(lua.create_string(&out)?))
}

fn get_integer(b: &[u8], big: bool, signed: bool, size: u64) -> f64 {
    let mut l: u64 = 0;
    let mut push = |c: u8| l = (l << 8) | c as u64;
    if big {
        b.iter().for_each(|&c| push(c));
    } else {
        b.iter().rev().for_each(|&c| push(c));
    }
    if !signed {
        return l as f64;
    }
    // The C shift count is masked to 6 bits on x86-64, as wrapping_shl.
    let mask = (!0u64).wrapping_shl((size as u32).wrapping_mul(8).wrapping_sub(1));
    if l & mask != 0 {
        l |= mask;
    }
    l as i64 as f64
}

fn unpack(lua: &Lua, a: MultiValue) -> LibResult<MultiValue> {
    let args: Vec<Value> = a.into_iter().collect();
    let mut f = Fmt::new(check_bytes(&args, 1)?);
    let data = check_bytes(&args, 2)?;
    let ld = data.len() as u64;
    let offset = opt_integer(&args, 3, 1)? as u64;
    if offset == 0 {
        return Err(LibErr::Arg(3, "offset must be 1 or greater".into()));
    }
    let mut pos = offset - 1;
    let mut h = DEFAULT;
    let results = lua.create_table()?;
    let mut n: usize = 0;
    let short = || LibErr::Arg(2, "data string too short".into());
    while let Some(opt) = f.next() {
        let mut size = f.size(opt)?;
        pos = pos.wrapping_add(to_align(pos, &h, opt, size) as u64);
        if !(size <= ld && pos <= ld - size) {
            return Err(short());
        }
        if args.len() + n + 2 > MAX_C_STACK {
            return Err(LibErr::Msg("stack overflow (too many results)".into()));
        }
        let at = pos as usize;
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let v = get_integer(
                    &data[at..at + size as usize],
                    h.big,
                    opt.is_ascii_lowercase(),
                    size,
                );
                n += 1;
                results.raw_set(n, v)?;
            }
            b'x' => {}
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&data[at..at + 4]);
                let v = if h.big {
                    f32::from_be_bytes(b)
                } else {
                    f32::from_le_bytes(b)
                };
                n += 1;
                results.raw_set(n, v as f64)?;
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[at..at + 8]);
                let v = if h.big {
                    f64::from_be_bytes(b)
                } else {
                    f64::from_le_bytes(b)
                };
                n += 1;
                results.raw_set(n, v)?;
            }
            b'c' => {
                if size == 0 {
                    let prev = if n == 0 {
                        None
                    } else {
                        to_number(Some(&results.raw_get::<Value>(n)?))
                    };
                    let Some(prev) = prev else {
                        return Err(LibErr::Msg("format 'c0' needs a previous size".into()));
                    };
                    size = if prev < 0.0 { u64::MAX } else { to_u64(prev) };
                    results.raw_set(n, Value::Nil)?;
                    n -= 1;
                    if !(size <= ld && pos <= ld - size) {
                        return Err(short());
                    }
                }
                n += 1;
                results.raw_set(n, lua.create_string(&data[at..at + size as usize])?)?;
            }
            b's' => {
                let Some(len) = data[at..].iter().position(|&c| c == 0) else {
                    return Err(LibErr::Msg("unfinished string in data".into()));
                };
                size = len as u64 + 1;
                n += 1;
                results.raw_set(n, lua.create_string(&data[at..at + len])?)?;
            }
            _ => control(opt, &mut f, &mut h)?,
        }
        pos = pos.wrapping_add(size);
    }
    results.raw_set(n + 1, pos.wrapping_add(1) as i64 as f64)?;
    spread(results, n + 1)
}

fn size(_: &Lua, a: MultiValue) -> LibResult<MultiValue> {
    let args: Vec<Value> = a.into_iter().collect();
    let mut f = Fmt::new(check_bytes(&args, 1)?);
    let mut h = DEFAULT;
    let mut pos: u64 = 0;
    while let Some(opt) = f.next() {
        let size = f.size(opt)?;
        pos = pos.wrapping_add(to_align(pos, &h, opt, size) as u64);
        if opt == b's' {
            return Err(LibErr::Arg(1, "option 's' has no fixed size".into()));
        } else if opt == b'c' && size == 0 {
            return Err(LibErr::Arg(1, "option 'c0' has no fixed size".into()));
        }
        if !opt.is_ascii_alphanumeric() {
            control(opt, &mut f, &mut h)?;
        }
        pos = pos.wrapping_add(size);
    }
    one(Value::Number(pos as f64))
}

/// Sets the `struct` global.
pub fn load(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    let t = lua.create_table()?;
    register(lua, &t, "pack", pack)?;
    register(lua, &t, "unpack", unpack)?;
    register(lua, &t, "size", size)?;
    globals.raw_set("struct", t)
}
