//! The RESP <-> Lua conversions, with Redis 7.0's rules (script_lua.c).
//!
//! A command's reply (the script client's RESP2 or RESP3 bytes) becomes a
//! Lua value for `redis.call`; a script's return value becomes a reply to
//! its caller.

use mlua::{Lua, Table, Value};

use crate::error::CmdError;
use crate::resp::Reply;
use crate::util::num::fmt_f64_g17;

/// Deepest nesting a script's return value may have.
const MAX_DEPTH: usize = 1000;

/// Redis's `luaPushErrorBuff`: the `{err=...}` table for an error text
/// that may start with `-CODE`; without a code it gets `ERR`.
pub fn error_table(lua: &Lua, text: &[u8]) -> mlua::Result<Table> {
    let (code, msg): (&[u8], &[u8]) = if let Some(rest) = text.strip_prefix(b"-") {
        match rest.iter().position(|&c| c == b' ') {
            Some(p) => (&rest[..p], &rest[p + 1..]),
            None => (b"ERR", rest),
        }
    } else {
        (b"ERR", text)
    };
    let mut end = msg.len();
    while end > 0 && (msg[end - 1] == b'\r' || msg[end - 1] == b'\n') {
        end -= 1;
    }
    let mut start = 0;
    while start < end && (msg[start] == b'\r' || msg[start] == b'\n') {
        start += 1;
    }
    let mut full = code.to_vec();
    full.push(b' ');
    full.extend_from_slice(&msg[start..end]);
    let t = lua.create_table()?;
    t.raw_set("err", lua.create_string(&full)?)?;
    Ok(t)
}

/// A RESP reply, as Lua sees it (`redisProtocolToLuaType`).
pub fn reply_to_lua(lua: &Lua, bytes: &[u8]) -> mlua::Result<Value> {
    let mut p = RespReader { b: bytes, pos: 0 };
    p.value(lua).map(|v| v.unwrap_or(Value::Nil))
}

struct RespReader<'b> {
    b: &'b [u8],
    pos: usize,
}

impl RespReader<'_> {
    fn line(&mut self) -> &[u8] {
        let start = self.pos;
        let end = self.b[start..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .map_or(self.b.len(), |p| start + p);
        self.pos = (end + 2).min(self.b.len());
        &self.b[start..end]
    }

    fn int_line(&mut self) -> i64 {
        let l = self.line();
        crate::util::num::parse_i64(l).unwrap_or(0)
    }

    fn bulk(&mut self, len: i64) -> &[u8] {
        let start = self.pos;
        let end = (start + len.max(0) as usize).min(self.b.len());
        self.pos = (end + 2).min(self.b.len());
        &self.b[start..end]
    }

    /// The next value; `None` when `lua` is not to see it (attributes).
    fn value(&mut self, lua: &Lua) -> mlua::Result<Option<Value>> {
        if self.pos >= self.b.len() {
            return Ok(None);
        }
        let kind = self.b[self.pos];
        self.pos += 1;
        let v = match kind {
            b'+' => {
                let s = self.line().to_vec();
                let t = lua.create_table()?;
                t.raw_set("ok", lua.create_string(&s)?)?;
                Value::Table(t)
            }
            b'-' => {
                let mut s = vec![b'-'];
                s.extend_from_slice(self.line());
                let t = error_table(lua, &s)?;
                t.raw_set("ignore_error_stats_update", true)?;
                Value::Table(t)
            }
            b':' => Value::Number(self.int_line() as f64),
            b'$' => {
                let n = self.int_line();
                if n < 0 {
                    Value::Boolean(false)
                } else {
                    let s = self.bulk(n).to_vec();
                    Value::String(lua.create_string(&s)?)
                }
            }
            b'*' => {
                let n = self.int_line();
                if n < 0 {
                    Value::Boolean(false)
                } else {
                    let t = lua.create_table()?;
                    for i in 0..n {
                        let v = self.value(lua)?.unwrap_or(Value::Nil);
                        t.raw_set(i + 1, v)?;
                    }
                    Value::Table(t)
                }
            }
            b'%' => {
                let n = self.int_line();
                let inner = lua.create_table()?;
                for _ in 0..n {
                    let k = self.value(lua)?.unwrap_or(Value::Nil);
                    let v = self.value(lua)?.unwrap_or(Value::Nil);
                    if !k.is_nil() {
                        inner.raw_set(k, v)?;
                    }
                }
                let t = lua.create_table()?;
                t.raw_set("map", inner)?;
                Value::Table(t)
            }
            b'~' => {
                let n = self.int_line();
                let inner = lua.create_table()?;
                for _ in 0..n {
                    let k = self.value(lua)?.unwrap_or(Value::Nil);
                    if !k.is_nil() {
                        inner.raw_set(k, true)?;
                    }
                }
                let t = lua.create_table()?;
                t.raw_set("set", inner)?;
                Value::Table(t)
            }
            b'_' => {
                self.line();
                Value::Nil
            }
            b'#' => Value::Boolean(self.line() == b"t"),
            b',' => {
                let l = String::from_utf8_lossy(self.line()).to_ascii_lowercase();
                let d = match l.as_str() {
                    "inf" => f64::INFINITY,
                    "-inf" => f64::NEG_INFINITY,
                    "nan" | "-nan" => f64::NAN,
                    s => s.parse().unwrap_or(0.0),
                };
                let t = lua.create_table()?;
                t.raw_set("double", d)?;
                Value::Table(t)
            }
            b'(' => {
                let s = self.line().to_vec();
                let t = lua.create_table()?;
                t.raw_set("big_number", lua.create_string(&s)?)?;
                Value::Table(t)
            }
            b'=' => {
                let n = self.int_line();
                let body = self.bulk(n).to_vec();
                let (fmt, text) = if body.len() >= 4 {
                    (&body[..3], &body[4..])
                } else {
                    (&b"txt"[..], &body[..])
                };
                let inner = lua.create_table()?;
                inner.raw_set("string", lua.create_string(text)?)?;
                inner.raw_set("format", lua.create_string(fmt)?)?;
                let t = lua.create_table()?;
                t.raw_set("verbatim_string", inner)?;
                Value::Table(t)
            }
            b'|' => {
                // Attributes are not shown to scripts: skip them.
                let n = self.int_line();
                for _ in 0..2 * n {
                    self.value(lua)?;
                }
                return self.value(lua);
            }
            b'>' => {
                let n = self.int_line();
                let t = lua.create_table()?;
                for i in 0..n {
                    let v = self.value(lua)?.unwrap_or(Value::Nil);
                    t.raw_set(i + 1, v)?;
                }
                Value::Table(t)
            }
            _ => {
                self.line();
                Value::Nil
            }
        };
        Ok(Some(v))
    }
}

/// The text of an error table's `err` field and whether its stats were
/// already counted (an error a command replied inside the script).
pub fn error_info(t: &Table) -> Option<(Vec<u8>, bool)> {
    match t.get::<Value>("err").ok()? {
        Value::String(s) => {
            let ignore = matches!(
                t.get::<Value>("ignore_error_stats_update"),
                Ok(Value::Boolean(true))
            );
            Some((s.as_bytes().to_vec(), ignore))
        }
        _ => None,
    }
}

/// Redis's `luaReplyToRedisReply`: a script's value as a reply to its
/// caller. `script_resp3`: the protocol the script chose with
/// `redis.setresp` (booleans follow it). Errors found inside the value go
/// to `errors` (their codes, for the error stats) unless already counted.
pub fn lua_to_reply(
    v: &Value,
    reply: &mut Reply,
    script_resp3: bool,
    errors: &mut Vec<CmdError>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        let e = CmdError::Static("ERR reached lua stack limit");
        reply.error(&e);
        errors.push(e);
        return;
    }
    match v {
        Value::String(s) => reply.bulk(&s.as_bytes()),
        Value::Boolean(b) => {
            if !script_resp3 {
                if *b {
                    reply.int(1);
                } else {
                    reply.null();
                }
            } else {
                reply.boolean(*b);
            }
        }
        Value::Number(n) => reply.int(c_long_long(*n)),
        Value::Integer(n) => reply.int(*n),
        Value::Table(t) => table_to_reply(t, reply, script_resp3, errors, depth),
        _ => reply.null(),
    }
}

/// C's `(long long)d` as x86-64 does it: NaN and out-of-range values give
/// the minimum.
fn c_long_long(d: f64) -> i64 {
    if d.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&d) {
        i64::MIN
    } else {
        d as i64
    }
}

fn sanitize(b: &[u8]) -> Vec<u8> {
    b.iter()
        .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
        .collect()
}

fn table_to_reply(
    t: &Table,
    reply: &mut Reply,
    script_resp3: bool,
    errors: &mut Vec<CmdError>,
    depth: usize,
) {
    if let Some((msg, counted)) = error_info(t) {
        let e = CmdError::Owned(String::from_utf8_lossy(&msg).into_owned());
        reply.error(&e);
        if !counted {
            errors.push(e);
        }
        return;
    }
    if let Ok(Value::String(s)) = t.get::<Value>("ok") {
        let mut line = vec![b'+'];
        line.extend_from_slice(&sanitize(&s.as_bytes()));
        line.extend_from_slice(b"\r\n");
        reply.raw(&line);
        return;
    }
    if let Ok(Value::Number(d)) = t.get::<Value>("double") {
        reply.double(d);
        return;
    }
    if let Ok(Value::Integer(d)) = t.get::<Value>("double") {
        reply.double(d as f64);
        return;
    }
    if let Ok(Value::String(s)) = t.get::<Value>("big_number") {
        reply.bignum(&sanitize(&s.as_bytes()));
        return;
    }
    if let Ok(Value::Table(vt)) = t.get::<Value>("verbatim_string") {
        if let (Ok(Value::String(f)), Ok(Value::String(s))) =
            (vt.get::<Value>("format"), vt.get::<Value>("string"))
        {
            let f = f.as_bytes();
            let s = s.as_bytes();
            if reply.is_resp3() {
                let mut out = format!("={}\r\n", s.len() + 4).into_bytes();
                out.extend_from_slice(&f[..f.len().min(3)]);
                out.push(b':');
                out.extend_from_slice(&s);
                out.extend_from_slice(b"\r\n");
                reply.raw(&out);
            } else {
                reply.bulk(&s);
            }
            return;
        }
    }
    if let Ok(Value::Table(m)) = t.get::<Value>("map") {
        let d = reply.defer_len();
        let mut n = 0;
        for (k, v) in m.pairs::<Value, Value>().flatten() {
            lua_to_reply(&k, reply, script_resp3, errors, depth + 1);
            lua_to_reply(&v, reply, script_resp3, errors, depth + 1);
            n += 1;
        }
        reply.set_deferred_map(d, n);
        return;
    }
    if let Ok(Value::Table(s)) = t.get::<Value>("set") {
        let d = reply.defer_len();
        let mut n = 0;
        for (k, _) in s.pairs::<Value, Value>().flatten() {
            lua_to_reply(&k, reply, script_resp3, errors, depth + 1);
            n += 1;
        }
        reply.set_deferred_set(d, n);
        return;
    }
    let d = reply.defer_len();
    let mut n = 0;
    loop {
        let v: Value = t.get(n + 1).unwrap_or(Value::Nil);
        if v.is_nil() {
            break;
        }
        lua_to_reply(&v, reply, script_resp3, errors, depth + 1);
        n += 1;
    }
    reply.set_deferred_array(d, n as usize);
}

/// A number as `redis.call` passes it: `%.17g`, as Redis.
pub fn number_arg(n: f64) -> Vec<u8> {
    fmt_f64_g17(n).into_bytes()
}
