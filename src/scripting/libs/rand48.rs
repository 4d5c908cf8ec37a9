//! Redis's `math.random` and `math.randomseed`: script_lua.c replaces
//! Lua's (which use libc `rand`) with its own, built on rand.c's `rand48`
//! so the sequence is the same on every platform. The generator's state
//! is one per server process, shared by EVAL scripts and FUNCTION
//! libraries; Redis 7.0 never reseeds it per script (scripts replicate
//! their effects), so successive calls continue one sequence from the
//! server's start.

use std::sync::atomic::{AtomicU64, Ordering};

use mlua::{Lua, MultiValue, Table, Value};

use super::support::{check_int, one, register, LibErr, LibResult};

const MASK48: u64 = (1 << 48) - 1;
/// rand.c's initial X2:X1:X0.
const INITIAL: u64 = 0x1234_ABCD_330E;
const A: u64 = 0x5_DEEC_E66D;
const C: u64 = 0xB;

static STATE: AtomicU64 = AtomicU64::new(INITIAL);

/// rand.c's `redisLrand48`: the next 31-bit value.
fn lrand48() -> i32 {
    let x = STATE.load(Ordering::Relaxed);
    let x = A.wrapping_mul(x).wrapping_add(C) & MASK48;
    STATE.store(x, Ordering::Relaxed);
    (x >> 17) as i32
}

/// rand.c's `redisSrand48`: X0 fixed, the seed's two 16-bit halves above.
fn srand48(seed: i32) {
    STATE.store(
        ((seed as u32 as u64) << 16) | (INITIAL & 0xFFFF),
        Ordering::Relaxed,
    );
}

fn random(_: &Lua, a: MultiValue) -> LibResult<MultiValue> {
    let args: Vec<Value> = a.into_iter().collect();
    // Drawn before the arguments are checked, as Redis does.
    let max = i32::MAX;
    let r = (lrand48() % max) as f64 / max as f64;
    let v = match args.len() {
        0 => r,
        1 => {
            let u = check_int(&args, 1)?;
            if u < 1 {
                return Err(LibErr::Arg(1, "interval is empty".into()));
            }
            (r * u as f64).floor() + 1.0
        }
        2 => {
            let l = check_int(&args, 1)?;
            let u = check_int(&args, 2)?;
            if l > u {
                return Err(LibErr::Arg(2, "interval is empty".into()));
            }
            (r * u.wrapping_sub(l).wrapping_add(1) as f64).floor() + l as f64
        }
        _ => return Err(LibErr::Msg("wrong number of arguments".into())),
    };
    one(Value::Number(v))
}

fn randomseed(_: &Lua, a: MultiValue) -> LibResult<MultiValue> {
    let args: Vec<Value> = a.into_iter().collect();
    srand48(check_int(&args, 1)?);
    Ok(MultiValue::new())
}

/// Replaces `math.random` and `math.randomseed`.
pub fn load(lua: &Lua, math: &Table) -> mlua::Result<()> {
    register(lua, math, "random", random)?;
    register(lua, math, "randomseed", randomseed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rand48_matches_the_c_generator() {
        // lrand48() after srand48(0): the C library's first outputs.
        srand48(0);
        assert_eq!(lrand48(), 366850414);
        assert_eq!(lrand48(), 1610402240);
    }
}
