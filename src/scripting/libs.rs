//! The libraries scripts get besides Lua's own: `bit` (LuaBitOp's API)
//! and the Rust halves of the `redis` table (`sha1hex`, `log`,
//! `error_reply`, `status_reply`, `setresp`'s checks).
//!
//! The C libraries Redis links into its Lua are redone in Rust under
//! `libs/`: `cjson`, `cmsgpack`, `struct`, and Redis's rand48-based
//! `math.random`/`math.randomseed`.

mod bit;
mod cjson;
mod cmsgpack;
mod lstruct;
mod rand48;
mod support;

pub use support::{c_wrapper, guard_maker, VIEWS_KEY};

use mlua::{Lua, MultiValue, Table, Value};

use super::convert;

/// An error a `redis.*` function raises: the script sees the `{err=...}`
/// table Redis raises (the error handler and `pcall` unwrap it).
#[derive(Debug)]
pub struct Raise {
    /// The error text, code included.
    pub err: Vec<u8>,
    /// The error was counted when the command replied it.
    pub counted: bool,
}

impl std::fmt::Display for Raise {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.err))
    }
}

impl std::error::Error for Raise {}

/// Raises `ERR <text>` from a `redis.*` function.
pub fn raise(text: &str) -> mlua::Error {
    mlua::Error::external(Raise {
        err: format!("ERR {text}").into_bytes(),
        counted: false,
    })
}

/// Raises an `{err=...}` table from a `redis.*` function.
pub fn raise_table(t: &Table) -> mlua::Error {
    let (err, counted) = convert::error_info(t).unwrap_or((b"ERR unknown error".to_vec(), false));
    mlua::Error::external(Raise { err, counted })
}

fn find_raise(e: &mlua::Error) -> Option<&Raise> {
    match e {
        mlua::Error::CallbackError { cause, .. } => find_raise(cause),
        mlua::Error::ExternalError(inner) => inner.downcast_ref::<Raise>(),
        mlua::Error::WithContext { cause, .. } => find_raise(cause),
        _ => None,
    }
}

/// Sets the `bit`, `cjson`, `cmsgpack` and `struct` globals and
/// Redis's `math.random`.
pub fn load(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    bit::load(lua, globals)?;
    if let Value::Table(math) = globals.raw_get::<Value>("math")? {
        rand48::load(lua, &math)?;
    }
    cjson::load(lua, globals)?;
    cmsgpack::load(lua, globals)?;
    lstruct::load(lua, globals)?;
    Ok(())
}

/// The `redis` table's functions written in Rust.
pub fn register_redis(lua: &Lua, redis: &Table, internal: &Table) -> mlua::Result<()> {
    redis.raw_set(
        "sha1hex",
        lua.create_function(|lua, a: MultiValue| {
            if a.len() != 1 {
                return Err(raise("wrong number of arguments"));
            }
            let data: Vec<u8> = match a.front() {
                Some(Value::String(s)) => s.as_bytes().to_vec(),
                Some(Value::Number(n)) => lua_number_text(*n).into_bytes(),
                Some(Value::Integer(n)) => n.to_string().into_bytes(),
                _ => Vec::new(),
            };
            Ok(Value::String(lua.create_string(super::sha1_hex(&data))?))
        })?,
    )?;
    redis.raw_set(
        "error_reply",
        lua.create_function(|lua, a: MultiValue| {
            let Some(Value::String(s)) = a.front().filter(|_| a.len() == 1) else {
                return convert::error_table(lua, b"wrong number or type of arguments");
            };
            let s = s.as_bytes();
            let mut text = Vec::with_capacity(s.len() + 1);
            if s.first() != Some(&b'-') {
                text.push(b'-');
            }
            text.extend_from_slice(&s);
            convert::error_table(lua, &text)
        })?,
    )?;
    redis.raw_set(
        "status_reply",
        lua.create_function(|lua, a: MultiValue| {
            let Some(Value::String(s)) = a.front().filter(|_| a.len() == 1) else {
                return convert::error_table(lua, b"wrong number or type of arguments");
            };
            let t = lua.create_table()?;
            t.raw_set("ok", s.clone())?;
            Ok(t)
        })?,
    )?;
    // redis.log: an error text to raise, or nil.
    // The error a Rust function raised, as the table Redis raises.
    internal.raw_set(
        "unwrap",
        lua.create_function(|lua, v: Value| {
            let t = lua.create_table()?;
            match &v {
                Value::Error(e) => match find_raise(e) {
                    Some(r) => {
                        t.raw_set("err", lua.create_string(&r.err)?)?;
                        if r.counted {
                            t.raw_set("ignore_error_stats_update", true)?;
                        }
                    }
                    None => t.raw_set("err", format!("ERR {}", super::lua_error_text(e)))?,
                },
                other => t.raw_set("err", format!("ERR {other:?}"))?,
            }
            Ok(t)
        })?,
    )?;
    redis.raw_set(
        "log",
        lua.create_function(|_, a: MultiValue| {
            if a.len() < 2 {
                return Err(raise("redis.log() requires two arguments or more."));
            }
            let level = match a.front() {
                Some(Value::Number(n)) => *n as i64,
                Some(Value::Integer(n)) => *n,
                Some(Value::String(s)) => {
                    match s.to_str().ok().and_then(|s| s.trim().parse::<f64>().ok()) {
                        Some(f) => f as i64,
                        None => return Err(raise("First argument must be a number (log level).")),
                    }
                }
                _ => return Err(raise("First argument must be a number (log level).")),
            };
            if !(0..=3).contains(&level) {
                return Err(raise("Invalid debug level."));
            }
            let mut parts: Vec<String> = Vec::new();
            for v in a.iter().skip(1) {
                match v {
                    Value::String(s) => parts.push(s.to_string_lossy()),
                    Value::Number(n) => parts.push(lua_number_text(*n)),
                    Value::Integer(n) => parts.push(n.to_string()),
                    _ => {}
                }
            }
            let line = parts.join(" ");
            match level {
                0 => log::trace!("{line}"),
                1 => log::debug!("{line}"),
                2 => log::info!("{line}"),
                _ => log::warn!("{line}"),
            }
            Ok(())
        })?,
    )?;
    Ok(())
}

/// A number as Lua's `tostring` writes it (`%.14g`).
pub fn lua_number_text(n: f64) -> String {
    let mut buf = [0u8; 64];
    let fmt = b"%.14g\0";
    // SAFETY: buf has room for any %.14g rendering of a double (< 32 bytes);
    // the format string is NUL-terminated and takes one double.
    let len = unsafe { libc::snprintf(buf.as_mut_ptr().cast(), buf.len(), fmt.as_ptr().cast(), n) };
    let len = (len.max(0) as usize).min(buf.len() - 1);
    String::from_utf8_lossy(&buf[..len]).into_owned()
}
