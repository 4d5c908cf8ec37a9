//! `bit`: LuaBitOp 1.0.2's API as Redis links it, with its argument
//! checks (`barg`), its order of checking (`band`/`bor`/`bxor` check the
//! first argument, then the others from the last one back) and its errors
//! raised as plain Lua strings, as the other C libraries' (`support`).

use mlua::{Lua, MultiValue, Table, Value};

use super::support::{one, register, to_number, type_name, LibErr, LibResult};

/// LuaBitOp's `barg` under Lua 5.1: `lua_tonumber`, the 2^52+2^51 trick
/// for a modular 32-bit conversion, and `luaL_typerror` when the result is
/// 0 and the argument is not a number.
fn barg(args: &[Value], narg: usize) -> LibResult<u32> {
    let v = args.get(narg - 1);
    let n = to_number(v);
    let b = (n.unwrap_or(0.0) + 6_755_399_441_055_744.0).to_bits() as u32;
    if b == 0 && n.is_none() {
        return Err(LibErr::Arg(
            narg as i32,
            format!("number expected, got {}", type_name(v)),
        ));
    }
    Ok(b)
}

/// A result: LuaBitOp returns signed 32-bit numbers.
fn ret(b: u32) -> LibResult<MultiValue> {
    one(Value::Number(b as i32 as f64))
}

/// Sets `t.bit`.
pub fn load(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    let bit = lua.create_table()?;
    register(lua, &bit, "tobit", |_, a| {
        let a: Vec<Value> = a.into_iter().collect();
        ret(barg(&a, 1)?)
    })?;
    register(lua, &bit, "bnot", |_, a| {
        let a: Vec<Value> = a.into_iter().collect();
        ret(!barg(&a, 1)?)
    })?;
    register(lua, &bit, "bswap", |_, a| {
        let a: Vec<Value> = a.into_iter().collect();
        ret(barg(&a, 1)?.swap_bytes())
    })?;
    for (name, op) in [("band", 0u8), ("bor", 1), ("bxor", 2)] {
        register(lua, &bit, name, move |_, a| {
            let a: Vec<Value> = a.into_iter().collect();
            let mut b = barg(&a, 1)?;
            for i in (2..=a.len()).rev() {
                let x = barg(&a, i)?;
                b = match op {
                    0 => b & x,
                    1 => b | x,
                    _ => b ^ x,
                };
            }
            ret(b)
        })?;
    }
    for (name, op) in [
        ("lshift", 0u8),
        ("rshift", 1),
        ("arshift", 2),
        ("rol", 3),
        ("ror", 4),
    ] {
        register(lua, &bit, name, move |_, a| {
            let a: Vec<Value> = a.into_iter().collect();
            let b = barg(&a, 1)?;
            let n = barg(&a, 2)? & 31;
            ret(match op {
                0 => b.wrapping_shl(n),
                1 => b.wrapping_shr(n),
                2 => (b as i32).wrapping_shr(n) as u32,
                3 => b.rotate_left(n),
                _ => b.rotate_right(n),
            })
        })?;
    }
    register(lua, &bit, "tohex", |lua, a| {
        let a: Vec<Value> = a.into_iter().collect();
        let mut b = barg(&a, 1)?;
        // lua_isnone: an explicit nil is checked (and refused).
        let mut n = if a.len() < 2 { 8 } else { barg(&a, 2)? as i32 };
        if n == i32::MIN {
            n = i32::MIN + 1;
        }
        let digits: &[u8; 16] = if n < 0 {
            n = -n;
            b"0123456789ABCDEF"
        } else {
            b"0123456789abcdef"
        };
        let n = n.clamp(0, 8) as usize;
        let mut buf = [0u8; 8];
        for i in (0..n).rev() {
            buf[i] = digits[(b & 15) as usize];
            b >>= 4;
        }
        one(Value::String(lua.create_string(&buf[..n])?))
    })?;
    globals.raw_set("bit", bit)
}
