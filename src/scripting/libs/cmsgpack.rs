//! The `cmsgpack` library Redis 7.0 loads (lua-cmsgpack 0.4.0): `pack`
//! (any number of values, concatenated), `unpack`, `unpack_one`,
//! `unpack_limit`, with its encoding choices (smallest integer form,
//! float32 when the value survives the round trip, tables as arrays only
//! when their keys are exactly 1..n, str8/16/32), its 16-level nesting
//! limit when packing (deeper tables pack as nil), and its errors.
//! Decoding keeps Redis's limit too: Lua's C stack, which bounds the
//! nesting (3999 levels) and the number of values returned at once.

use mlua::{Lua, MultiValue, Table, Value};

use super::support::{
    check_bytes, check_integer, number_of, one, opt_integer, register, spread, trunc_i64, LibErr,
    LibResult, MAX_C_STACK,
};

/// LUACMSGPACK_MAX_NESTING: a table this deep packs as nil.
const MAX_NESTING: usize = 16;

fn encode_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_number(out: &mut Vec<u8>, n: f64) {
    // IS_INT64_EQUIVALENT: the C cast to int64 gives the value back.
    if !n.is_infinite() && trunc_i64(n) as f64 == n {
        encode_int(out, trunc_i64(n));
    } else {
        let f = n as f32;
        if f as f64 == n {
            out.push(0xca);
            out.extend_from_slice(&f.to_be_bytes());
        } else {
            out.push(0xcb);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

fn encode_bytes(out: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

fn encode_header(out: &mut Vec<u8>, n: usize, fix: u8, b16: u8, b32: u8) {
    if n <= 15 {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(b16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(b32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// `table_is_an_array`: every key a positive number that a C int holds
/// exactly, and as many keys as the largest.
fn is_array(t: &Table) -> mlua::Result<bool> {
    let (mut count, mut max) = (0i64, 0i64);
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        match number_of(&k) {
            Some(n) if n > 0.0 && !n.is_infinite() && (n as i32) as f64 == n => {
                max = max.max(n as i64);
                count += 1;
            }
            _ => return Ok(false),
        }
    }
    Ok(max == count)
}

fn encode_value(lua: &Lua, out: &mut Vec<u8>, v: &Value, level: usize) -> mlua::Result<()> {
    match v {
        Value::String(s) => encode_bytes(out, &s.as_bytes()),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Number(n) => encode_number(out, *n),
        Value::Integer(i) => encode_number(out, *i as f64),
        Value::Table(t) if level < MAX_NESTING => {
            let t = &super::support::real_table(lua, t);
            if is_array(t)? {
                let len = t.raw_len();
                encode_header(out, len, 0x90, 0xdc, 0xdd);
                for i in 1..=len {
                    let item: Value = t.raw_get(i)?;
                    encode_value(lua, out, &item, level + 1)?;
                }
            } else {
                let len = t.pairs::<Value, Value>().count();
                encode_header(out, len, 0x80, 0xde, 0xdf);
                for pair in t.pairs::<Value, Value>() {
                    let (k, item) = pair?;
                    encode_value(lua, out, &k, level + 1)?;
                    encode_value(lua, out, &item, level + 1)?;
                }
            }
        }
        _ => out.push(0xc0),
    }
    Ok(())
}

fn pack(lua: &Lua, a: MultiValue) -> LibResult<MultiValue> {
    let n = a.len();
    if n == 0 {
        return Err(LibErr::Arg(0, "MessagePack pack needs input.".into()));
    }
    if n + n > MAX_C_STACK {
        return Err(LibErr::Arg(
            0,
            "Too many arguments for MessagePack pack.".into(),
        ));
    }
    let mut out = Vec::new();
    for v in a.iter() {
        encode_value(lua, &mut out, v, 0)?;
    }
    one(Value::String(lua.create_string(&out)?))
}

// --------------------------------------------------------------- decoding

#[derive(Debug)]
enum Fail {
    Eof,
    BadFormat,
    /// A Lua error raised on the spot (stack overflow, bad table index).
    Now(LibErr),
}

impl From<mlua::Error> for Fail {
    fn from(e: mlua::Error) -> Self {
        Fail::Now(LibErr::Lua(e))
    }
}

struct Cursor<'a> {
    p: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn need(&self, n: usize) -> Result<(), Fail> {
        if self.p.len() - self.at < n {
            Err(Fail::Eof)
        } else {
            Ok(())
        }
    }
    fn left(&self) -> usize {
        self.p.len() - self.at
    }
    fn be(&self, off: usize, n: usize) -> u64 {
        self.p[self.at + off..self.at + off + n]
            .iter()
            .fold(0u64, |a, &b| (a << 8) | b as u64)
    }
}

/// An open container: its table is in `holder[2 * depth - 1]`, an
/// object's decoded key waiting for its value in `holder[2 * depth]`.
enum Open {
    Array { left: u64, index: f64 },
    MapKey { left: u64 },
    MapValue { left: u64 },
}

const STACK_MSG: &str = "too many return values at once; use unpack_one or unpack_limit instead.";

fn overflow(what: &str) -> Fail {
    Fail::Now(LibErr::Msg(format!("stack overflow ({what})")))
}

/// Decodes one value at the cursor (`mp_decode_to_lua_type`), with the
/// Lua stack `top` slots deep before it.
fn decode_one(lua: &Lua, c: &mut Cursor, top: usize) -> Result<Value, Fail> {
    let holder = lua.create_table()?;
    let mut open: Vec<Open> = Vec::new();
    // Lua stack use of the open containers above `top`.
    let mut used = 0usize;
    loop {
        // One value at the current position.
        let here = top + used;
        c.need(1)?;
        if here + 1 > MAX_C_STACK {
            return Err(overflow(STACK_MSG));
        }
        let b = c.p[c.at];
        let mut new_container: Option<(u64, bool)> = None;
        let mut val = match b {
            0xcc => {
                c.need(2)?;
                let v = c.p[c.at + 1] as f64;
                c.at += 2;
                Value::Number(v)
            }
            0xd0 => {
                c.need(2)?;
                let v = c.p[c.at + 1] as i8 as f64;
                c.at += 2;
                Value::Number(v)
            }
            0xcd | 0xd1 => {
                c.need(3)?;
                let u = c.be(1, 2) as u16;
                c.at += 3;
                Value::Number(if b == 0xcd { u as f64 } else { u as i16 as f64 })
            }
            0xce | 0xd2 => {
                c.need(5)?;
                let u = c.be(1, 4) as u32;
                c.at += 5;
                Value::Number(if b == 0xce { u as f64 } else { u as i32 as f64 })
            }
            0xcf | 0xd3 => {
                c.need(9)?;
                let u = c.be(1, 8);
                c.at += 9;
                Value::Number(if b == 0xcf { u as f64 } else { u as i64 as f64 })
            }
            0xc0 => {
                c.at += 1;
                Value::Nil
            }
            0xc3 | 0xc2 => {
                c.at += 1;
                Value::Boolean(b == 0xc3)
            }
            0xca => {
                c.need(5)?;
                let f = f32::from_bits(c.be(1, 4) as u32);
                c.at += 5;
                Value::Number(f as f64)
            }
            0xcb => {
                c.need(9)?;
                let f = f64::from_bits(c.be(1, 8));
                c.at += 9;
                Value::Number(f)
            }
            0xd9..=0xdb => {
                let hl = match b {
                    0xd9 => 1,
                    0xda => 2,
                    _ => 4,
                };
                c.need(1 + hl)?;
                let l = c.be(1, hl) as usize;
                c.need(1 + hl + l)?;
                let s = lua.create_string(&c.p[c.at + 1 + hl..c.at + 1 + hl + l])?;
                c.at += 1 + hl + l;
                Value::String(s)
            }
            0xdc..=0xdf => {
                let hl = if matches!(b, 0xdc | 0xde) { 2 } else { 4 };
                c.need(1 + hl)?;
                let l = c.be(1, hl);
                c.at += 1 + hl;
                new_container = Some((l, b >= 0xde));
                Value::Nil
            }
            _ if b & 0x80 == 0 => {
                c.at += 1;
                Value::Number(b as f64)
            }
            _ if b & 0xe0 == 0xe0 => {
                c.at += 1;
                Value::Number(b as i8 as f64)
            }
            _ if b & 0xe0 == 0xa0 => {
                let l = (b & 0x1f) as usize;
                c.need(1 + l)?;
                let s = lua.create_string(&c.p[c.at + 1..c.at + 1 + l])?;
                c.at += 1 + l;
                Value::String(s)
            }
            _ if b & 0xf0 == 0x90 || b & 0xf0 == 0x80 => {
                c.at += 1;
                new_container = Some(((b & 0x0f) as u64, b & 0xf0 == 0x80));
                Value::Nil
            }
            _ => return Err(Fail::BadFormat),
        };
        if let Some((len, is_map)) = new_container {
            let t = lua.create_table()?;
            // The new table takes a slot; an array then checks for one
            // more (its index), a map does not check.
            if !is_map && here + 2 > MAX_C_STACK {
                return Err(overflow("in function mp_decode_to_lua_array"));
            }
            if len > 0 {
                let depth = open.len() + 1;
                holder.raw_set(2 * depth - 1, t)?;
                open.push(if is_map {
                    Open::MapKey { left: len }
                } else {
                    Open::Array {
                        left: len,
                        index: 1.0,
                    }
                });
                // Arrays hold the table and the pending index; maps the
                // table while decoding a key (then the key as well).
                used += if is_map { 1 } else { 2 };
                continue;
            }
            val = Value::Table(t);
        }
        // Hand `val` to the open containers, closing the finished ones.
        loop {
            let depth = open.len();
            match open.last_mut() {
                None => return Ok(val),
                Some(Open::Array { left, index }) => {
                    let t: Table = holder.raw_get(2 * depth - 1)?;
                    t.raw_set(*index, val)?;
                    *index += 1.0;
                    *left -= 1;
                    if *left > 0 {
                        break;
                    }
                    open.pop();
                    used -= 2;
                    val = Value::Table(t);
                    holder.raw_set(2 * depth - 1, Value::Nil)?;
                }
                Some(Open::MapKey { left }) => {
                    let left = *left;
                    holder.raw_set(2 * depth, val)?;
                    *open.last_mut().expect("open map") = Open::MapValue { left };
                    used += 1;
                    break;
                }
                Some(Open::MapValue { left }) => {
                    let key: Value = holder.raw_get(2 * depth)?;
                    match &key {
                        Value::Nil => {
                            return Err(Fail::Now(LibErr::Raw("table index is nil".into())))
                        }
                        Value::Number(n) if n.is_nan() => {
                            return Err(Fail::Now(LibErr::Raw("table index is NaN".into())))
                        }
                        _ => {}
                    }
                    let t: Table = holder.raw_get(2 * depth - 1)?;
                    t.raw_set(key, val)?;
                    holder.raw_set(2 * depth, Value::Nil)?;
                    used -= 1;
                    *left -= 1;
                    if *left > 0 {
                        let left = *left;
                        *open.last_mut().expect("open map") = Open::MapKey { left };
                        break;
                    }
                    open.pop();
                    used -= 1;
                    val = Value::Table(t);
                    holder.raw_set(2 * depth - 1, Value::Nil)?;
                }
            }
        }
    }
}

/// `mp_unpack_full`: `base` is the Lua stack the arguments take.
fn unpack_full(lua: &Lua, s: &[u8], limit: i32, offset: i32, base: usize) -> LibResult<MultiValue> {
    let len = s.len();
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        return Err(LibErr::Msg(format!(
            "Invalid request to unpack with offset of {offset} and limit of {}.",
            len as i32
        )));
    }
    if offset as usize > len {
        return Err(LibErr::Msg(format!(
            "Start offset {offset} greater than input length {}.",
            len as i32
        )));
    }
    let limit = if decode_all { i32::MAX } else { limit };
    let mut c = Cursor {
        p: s,
        at: offset as usize,
    };
    let results = lua.create_table()?;
    let mut n = 0usize;
    let first = if decode_all { 1 } else { 2 };
    while c.left() > 0 && (n as i64) < limit as i64 {
        match decode_one(lua, &mut c, base + n) {
            Ok(v) => results.raw_set(first + n, v)?,
            Err(Fail::Eof) => return Err(LibErr::Msg("Missing bytes in input.".into())),
            Err(Fail::BadFormat) => return Err(LibErr::Msg("Bad data format in input.".into())),
            Err(Fail::Now(e)) => return Err(e),
        }
        n += 1;
    }
    if decode_all {
        return spread(results, n);
    }
    if base + n + 1 > MAX_C_STACK {
        return Err(LibErr::Msg(
            "stack overflow (in function mp_unpack_full)".into(),
        ));
    }
    let next = if c.left() == 0 {
        -1.0
    } else {
        (len - c.left()) as i32 as f64
    };
    results.raw_set(1, next)?;
    spread(results, n + 1)
}

fn unpack(lua: &Lua, a: MultiValue) -> LibResult<MultiValue> {
    let args: Vec<Value> = a.into_iter().collect();
    let s = check_bytes(&args, 1)?;
    unpack_full(lua, &s, 0, 0, args.len())
}

fn unpack_one(lua: &Lua, a: MultiValue) -> LibResult<MultiValue> {
    let args: Vec<Value> = a.into_iter().collect();
    let offset = opt_integer(&args, 2, 0)? as i32;
    let s = check_bytes(&args, 1)?;
    unpack_full(lua, &s, 1, offset, 1)
}

fn unpack_limit(lua: &Lua, a: MultiValue) -> LibResult<MultiValue> {
    let args: Vec<Value> = a.into_iter().collect();
    let limit = check_integer(&args, 2)? as i32;
    let offset = opt_integer(&args, 3, 0)? as i32;
    let s = check_bytes(&args, 1)?;
    unpack_full(lua, &s, limit, offset, 1)
}

/// Sets the `cmsgpack` global.
pub fn load(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    let t = lua.create_table()?;
    register(lua, &t, "pack", pack)?;
    register(lua, &t, "unpack", unpack)?;
    register(lua, &t, "unpack_one", unpack_one)?;
    register(lua, &t, "unpack_limit", unpack_limit)?;
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    globals.raw_set("cmsgpack", t)
}
