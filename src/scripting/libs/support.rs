//! What the C libraries Redis loads (cjson, cmsgpack, struct, its
//! `math.random`) get from Lua's auxiliary library, redone for Rust
//! callbacks: argument checks with `luaL_check*`'s conversions and error
//! texts, and errors raised as plain strings, prefixed like `luaL_error`
//! does (the calling script's `chunk:line: `), so that `pcall` hands a
//! script the same string Redis does.
//!
//! mlua raises a callback's `Err` as a userdata, so a library function
//! here returns its error as a value instead: the Rust function returns
//! the `FAIL` marker and the text, and a C closure around it
//! (`raise_failure`) raises the text as a string.

use std::ffi::{c_int, c_void};

use mlua::{ffi, Function, LightUserData, Lua, MultiValue, Table, Value};

/// Lua 5.1's LUAI_MAXCSTACK: the most stack slots a C function may use
/// (`lua_checkstack` refuses beyond it). The libraries' nesting and
/// result-count limits come from it.
pub const MAX_C_STACK: usize = 8000;

/// An error a library function raises.
#[derive(Debug)]
pub enum LibErr {
    /// `luaL_error`: the text, after the caller's position.
    Msg(String),
    /// A runtime error raised from inside a C function (no position),
    /// e.g. `table index is nil`.
    Raw(String),
    /// `luaL_argerror(narg, extramsg)`.
    Arg(i32, String),
    /// An error of Lua itself (out of memory and the like), passed on.
    Lua(mlua::Error),
}

impl From<mlua::Error> for LibErr {
    fn from(e: mlua::Error) -> Self {
        LibErr::Lua(e)
    }
}

pub type LibResult<T> = Result<T, LibErr>;

static FAIL_MARK: u8 = 0;
static SPREAD_MARK: u8 = 0;

fn spread_ptr() -> *mut c_void {
    std::ptr::addr_of!(SPREAD_MARK) as *const c_void as *mut c_void
}

/// Results returned as the elements 1..=n of a table, which the C closure
/// pushes onto its own stack: many results need no mlua reference each
/// (mlua's reference stack is no bigger than Lua's C stack).
pub fn spread(t: mlua::Table, n: usize) -> LibResult<MultiValue> {
    Ok(MultiValue::from_iter([
        Value::LightUserData(LightUserData(spread_ptr())),
        Value::Table(t),
        Value::Number(n as f64),
    ]))
}

fn fail_ptr() -> *mut c_void {
    std::ptr::addr_of!(FAIL_MARK) as *const c_void as *mut c_void
}

fn fail_marker() -> Value {
    Value::LightUserData(LightUserData(fail_ptr()))
}

/// The text `luaL_error`/`luaL_argerror` would raise for `e`, as seen
/// from the library function the wrapper called (level 0 the Rust
/// function, 1 the wrapper, 2 the wrapper's caller).
fn render(lua: &Lua, e: LibErr) -> Result<String, mlua::Error> {
    let msg = match e {
        LibErr::Lua(e) => return Err(e),
        LibErr::Raw(m) => return Ok(m),
        LibErr::Msg(m) => m,
        LibErr::Arg(mut narg, extra) => {
            let (name, what) = lua
                .inspect_stack(1, |d| {
                    let n = d.names();
                    (n.name.map(|s| s.into_owned()), n.name_what)
                })
                .unwrap_or((None, None));
            if what == Some("method") {
                narg -= 1;
                if narg == 0 {
                    let name = name.unwrap_or_else(|| "?".into());
                    return Ok(with_where(
                        lua,
                        format!("calling '{name}' on bad self ({extra})"),
                    ));
                }
            }
            let name = name.unwrap_or_else(|| "?".into());
            format!("bad argument #{narg} to '{name}' ({extra})")
        }
    };
    Ok(with_where(lua, msg))
}

/// `luaL_where(L, 1)` seen through the wrapper: `chunk:line: ` of the
/// function that called the library function, when it is Lua code.
fn with_where(lua: &Lua, msg: String) -> String {
    let prefix = lua
        .inspect_stack(2, |d| {
            let line = d.current_line().unwrap_or(0);
            if line > 0 {
                let src = d.source().short_src.map(|s| s.into_owned());
                Some(format!("{}:{line}: ", src.unwrap_or_default()))
            } else {
                None
            }
        })
        .flatten();
    match prefix {
        Some(p) => p + &msg,
        None => msg,
    }
}

/// The function scripts call: a C closure over the Rust function that
/// raises the Rust function's error text (FAIL, text) as a Lua string
/// error. Being a C function it keeps a tail-calling script's frame on
/// the stack, as Redis's C libraries do, so the error handler and the
/// `chunk:line: ` prefix see the script.
unsafe extern "C-unwind" fn raise_failure(l: *mut ffi::lua_State) -> c_int {
    // SAFETY (whole body): `l` is the running state and this closure was
    // made by `register` with the Rust function as upvalue 1. Nothing here
    // owns a destructor, so `lua_call` or `lua_error` unwinding through
    // this frame (longjmp) skips nothing.
    unsafe {
        let nargs = ffi::lua_gettop(l);
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
        ffi::lua_insert(l, 1);
        ffi::lua_call(l, nargs, ffi::LUA_MULTRET);
        let n = ffi::lua_gettop(l);
        if n >= 2 && ffi::lua_type(l, 1) == ffi::LUA_TLIGHTUSERDATA {
            let mark = ffi::lua_touserdata(l, 1);
            if mark == fail_ptr() {
                ffi::lua_settop(l, 2);
                ffi::lua_error(l);
            }
            if n == 3 && mark == spread_ptr() {
                let count = ffi::lua_tointeger(l, 3) as c_int;
                // Keep only the table (slot 1), then push its elements; the
                // Rust side kept the count within Lua's C stack limit.
                ffi::lua_settop(l, 2);
                ffi::lua_replace(l, 1);
                if count > 0 && ffi::lua_checkstack(l, count) == 0 {
                    ffi::lua_pushstring(l, c"stack overflow".as_ptr());
                    ffi::lua_error(l);
                }
                for i in 1..=count {
                    ffi::lua_rawgeti(l, 1, i as _);
                }
                return count.max(0);
            }
        }
        n
    }
}

/// Sets `t[name]` to a library function written in Rust.
pub fn register<F>(lua: &Lua, t: &Table, name: &str, f: F) -> mlua::Result<()>
where
    F: Fn(&Lua, MultiValue) -> LibResult<MultiValue> + 'static,
{
    let raw = lua.create_function(move |lua, args: MultiValue| match f(lua, args) {
        Ok(v) => Ok(v),
        Err(e) => {
            let text = render(lua, e)?;
            Ok(MultiValue::from_iter([
                fail_marker(),
                Value::String(lua.create_string(text)?),
            ]))
        }
    })?;
    // SAFETY: the callback only pushes a C closure over the one value
    // exec_raw pushed (the Rust function), leaving that closure as the
    // single result.
    let wrapped: Function = unsafe {
        lua.exec_raw(raw, |l| {
            ffi::lua_pushcclosure(l, raise_failure, 1);
        })?
    };
    t.raw_set(name, wrapped)
}

/// One value as a function result.
pub fn one(v: Value) -> LibResult<MultiValue> {
    Ok(MultiValue::from_iter([v]))
}

/// `luaL_typename` of an argument (`no value` when absent).
pub fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None => "no value",
        Some(v) => match v {
            Value::Nil => "nil",
            Value::Boolean(_) => "boolean",
            Value::Number(_) | Value::Integer(_) => "number",
            Value::String(_) => "string",
            Value::Table(_) => "table",
            Value::Function(_) => "function",
            Value::Thread(_) => "thread",
            _ => "userdata",
        },
    }
}

/// Lua 5.1's `luaO_str2d`: a whole string as a number (decimal or
/// `strtod`'s forms, `0x` hex, surrounding white space).
pub fn str_to_number(s: &[u8]) -> Option<f64> {
    let end = s.iter().position(|&c| c == 0).unwrap_or(s.len());
    let mut buf = s[..end].to_vec();
    buf.push(0);
    let start = buf.as_ptr();
    let mut endp: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: buf is NUL-terminated and outlives both calls; endp is set by
    // strtod/strtoul to a position inside buf.
    let (mut n, mut used) = unsafe {
        let n = libc::strtod(start.cast(), &mut endp);
        (n, endp as usize - start as usize)
    };
    if used == 0 {
        return None;
    }
    if matches!(buf[used], b'x' | b'X') {
        // SAFETY: as above.
        unsafe {
            n = libc::strtoul(start.cast(), &mut endp, 16) as f64;
            used = endp as usize - start as usize;
        }
    }
    while is_c_space(buf[used]) {
        used += 1;
    }
    (buf[used] == 0).then_some(n)
}

/// A number argument as `lua_tonumber` sees it (numbers and numeric
/// strings), or None.
pub fn to_number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => Some(*n),
        Value::Integer(i) => Some(*i as f64),
        Value::String(s) => str_to_number(&s.as_bytes()),
        _ => None,
    }
}

/// `luaL_checknumber`.
pub fn check_number(args: &[Value], narg: usize) -> LibResult<f64> {
    let v = args.get(narg - 1);
    to_number(v).ok_or_else(|| {
        LibErr::Arg(
            narg as i32,
            format!("number expected, got {}", type_name(v)),
        )
    })
}

/// C's double to integer conversion on x86-64 (`cvttsd2si`): truncation,
/// and the "integer indefinite" value when out of range.
pub fn trunc_i64(n: f64) -> i64 {
    if n.is_finite() && n > -9_223_372_036_854_775_809.0 && n < 9_223_372_036_854_775_808.0 {
        n as i64
    } else {
        i64::MIN
    }
}

/// `luaL_checkinteger` (lua_Integer is 64-bit).
pub fn check_integer(args: &[Value], narg: usize) -> LibResult<i64> {
    Ok(trunc_i64(check_number(args, narg)?))
}

/// `luaL_checkint`: `luaL_checkinteger` cast to a C int.
pub fn check_int(args: &[Value], narg: usize) -> LibResult<i32> {
    Ok(check_integer(args, narg)? as i32)
}

/// `luaL_optinteger`.
pub fn opt_integer(args: &[Value], narg: usize, def: i64) -> LibResult<i64> {
    match args.get(narg - 1) {
        None | Some(Value::Nil) => Ok(def),
        Some(_) => check_integer(args, narg),
    }
}

/// `luaL_checklstring`: strings, and numbers as their text.
pub fn check_bytes(args: &[Value], narg: usize) -> LibResult<Vec<u8>> {
    match args.get(narg - 1) {
        Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
        Some(Value::Number(n)) => Ok(super::lua_number_text(*n).into_bytes()),
        Some(Value::Integer(i)) => Ok(super::lua_number_text(*i as f64).into_bytes()),
        v => Err(LibErr::Arg(
            narg as i32,
            format!("string expected, got {}", type_name(v)),
        )),
    }
}

/// A Lua 5.1 number as a table key or value.
pub fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => Some(*n),
        Value::Integer(i) => Some(*i as f64),
        _ => None,
    }
}

/// The null pointer light userdata (`cjson.null`).
pub fn null_value() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

/// C's `isspace` in the C locale.
pub fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// A C closure that calls its upvalue (a Lua function) with its
/// arguments and returns all its results: the base functions' Lua
/// wrappers run under it, so that a script that tail-calls one keeps its
/// frame (as it does calling a C function), and the wrapper sees its
/// caller at a fixed distance (the C closure, then the caller).
unsafe extern "C-unwind" fn trampoline(l: *mut ffi::lua_State) -> c_int {
    // SAFETY (whole body): `l` is the running state and this closure was
    // made by `c_wrap` with a function as upvalue 1. Nothing here owns a
    // destructor, so an error unwinding through `lua_call` (longjmp)
    // skips nothing.
    unsafe {
        let nargs = ffi::lua_gettop(l);
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
        ffi::lua_insert(l, 1);
        ffi::lua_call(l, nargs, ffi::LUA_MULTRET);
        ffi::lua_gettop(l)
    }
}

/// `cwrap(f)`: the C closure around `f` (see `trampoline`).
unsafe extern "C-unwind" fn c_wrap(l: *mut ffi::lua_State) -> c_int {
    // SAFETY (whole body): `l` is the running state; the argument is
    // checked to be a function before it becomes the closure's upvalue.
    unsafe {
        if ffi::lua_type(l, 1) != ffi::LUA_TFUNCTION {
            ffi::lua_pushstring(l, c"cwrap: function expected".as_ptr());
            ffi::lua_error(l);
        }
        ffi::lua_settop(l, 1);
        ffi::lua_pushcclosure(l, trampoline, 1);
        1
    }
}

/// The `cwrap` function the sandbox's set-up uses (see `trampoline`).
pub fn c_wrapper(lua: &Lua) -> mlua::Result<Function> {
    let any = lua.create_function(|_, ()| Ok(()))?;
    // SAFETY: the callback drops the value exec_raw pushed and pushes the
    // C function `c_wrap`, leaving it as the single result.
    unsafe {
        lua.exec_raw(any, |l| {
            ffi::lua_settop(l, 0);
            ffi::lua_pushcfunction(l, c_wrap);
        })
    }
}

/// The registry key of the sandbox's table of read-only views (view to
/// the table it shows).
pub const VIEWS_KEY: &str = "gostore.readonly_views";

/// The table behind a read-only view (`string`, `_G`, ...), or `t`
/// itself: what Redis's C libraries see when they walk it, since Redis's
/// read-only tables are the tables themselves.
pub fn real_table(lua: &Lua, t: &Table) -> Table {
    if let Ok(Value::Table(views)) = lua.named_registry_value::<Value>(VIEWS_KEY) {
        if let Ok(Value::Table(real)) = views.raw_get::<Value>(t.clone()) {
            return real;
        }
    }
    t.clone()
}

/// `guard`'s fast-path rules, by function (upvalue 4).
const GUARD_INSERT: ffi::lua_Integer = 1;
const GUARD_RAWSET: ffi::lua_Integer = 2;
const GUARD_RAWGET: ffi::lua_Integer = 3;
const GUARD_SETMETATABLE: ffi::lua_Integer = 4;

/// A base function's guard: when the first argument is a table that the
/// set (upvalue 3) does not hold and the arguments are ones the original
/// C function (upvalue 2) accepts, calls it straight away; otherwise calls
/// the Lua wrapper (upvalue 1) as `trampoline` does. Scripts' common calls
/// (`table.insert(t, v)`, `next(t)`, `pairs(t)`) so pay no Lua call.
unsafe extern "C-unwind" fn guard(l: *mut ffi::lua_State) -> c_int {
    // SAFETY (whole body): `l` is the running state and this closure was
    // made by `make_guard` with four upvalues (two functions, a table,
    // an integer). Nothing here owns a destructor, so an error unwinding
    // through `lua_call` (longjmp) skips nothing.
    unsafe {
        let n = ffi::lua_gettop(l);
        let mut fast = n >= 1 && ffi::lua_type(l, 1) == ffi::LUA_TTABLE;
        if fast {
            ffi::lua_pushvalue(l, 1);
            ffi::lua_rawget(l, ffi::lua_upvalueindex(3));
            fast = ffi::lua_type(l, -1) == ffi::LUA_TNIL;
            ffi::lua_settop(l, n);
        }
        if fast {
            fast = match ffi::lua_tointeger(l, ffi::lua_upvalueindex(4)) {
                GUARD_INSERT => n == 2 || (n == 3 && ffi::lua_type(l, 2) == ffi::LUA_TNUMBER),
                GUARD_RAWSET => n >= 3,
                GUARD_RAWGET => n >= 2,
                // A table with no metatable yet, given a table or nil:
                // nothing the original could refuse.
                GUARD_SETMETATABLE => {
                    n >= 2
                        && matches!(ffi::lua_type(l, 2), ffi::LUA_TTABLE | ffi::LUA_TNIL)
                        && ffi::lua_getmetatable(l, 1) == 0
                }
                _ => true,
            };
            // lua_getmetatable pushed the metatable it found.
            ffi::lua_settop(l, n);
        }
        let f = if fast { 2 } else { 1 };
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(f));
        ffi::lua_insert(l, 1);
        ffi::lua_call(l, n, ffi::LUA_MULTRET);
        ffi::lua_gettop(l)
    }
}

/// `guard(wrapper, original, set, kind)`: the guard closure (see `guard`).
unsafe extern "C-unwind" fn make_guard(l: *mut ffi::lua_State) -> c_int {
    // SAFETY (whole body): `l` is the running state; the arguments are
    // checked before they become the closure's upvalues.
    unsafe {
        if ffi::lua_type(l, 1) != ffi::LUA_TFUNCTION
            || ffi::lua_type(l, 2) != ffi::LUA_TFUNCTION
            || ffi::lua_type(l, 3) != ffi::LUA_TTABLE
            || ffi::lua_type(l, 4) != ffi::LUA_TNUMBER
        {
            ffi::lua_pushstring(l, c"guard: bad arguments".as_ptr());
            ffi::lua_error(l);
        }
        ffi::lua_settop(l, 4);
        ffi::lua_pushcclosure(l, guard, 4);
        1
    }
}

/// The `guard` function the sandbox's set-up uses (see `guard`).
pub fn guard_maker(lua: &Lua) -> mlua::Result<Function> {
    let any = lua.create_function(|_, ()| Ok(()))?;
    // SAFETY: the callback drops the value exec_raw pushed and pushes the
    // C function `make_guard`, leaving it as the single result.
    unsafe {
        lua.exec_raw(any, |l| {
            ffi::lua_settop(l, 0);
            ffi::lua_pushcfunction(l, make_guard);
        })
    }
}
