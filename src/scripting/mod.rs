//! Lua scripting, as Redis 7.0 runs it (eval.c, script.c, script_lua.c):
//! two Lua 5.1 interpreters (the `mlua` crate, vendored), one for EVAL
//! scripts (replaced at SCRIPT FLUSH) and one for FUNCTION libraries,
//! EVAL's script cache, and the run of one script.
//!
//! - **The sandbox**: the libraries Redis loads (base, table, string, math,
//!   `bit`, `cjson`, `cmsgpack` and `struct`, see `libs`); `loadfile`,
//!   `dofile`, `print`, `getfenv`, `setfenv`, `newproxy`, `os`, `io` and
//!   `debug` are absent. Scripts run with an environment that reads
//!   through to the globals and refuses writes (`Attempt to modify a
//!   readonly table`); reading a global that does not exist is an error
//!   (`Script attempted to access nonexistent global variable 'x'`).
//!   `_G` and the libraries' tables are read-only views, and the base
//!   functions that bypass metamethods are guarded (see `SETUP`), in place
//!   of Redis's patched read-only tables.
//! - **A run** (`run`): `call` hands EVAL, EVALSHA, their `_RO` forms and
//!   FCALL here. KEYS and ARGV are set, `redis.call` is bound for the run
//!   to a closure over the server (`mlua`'s scope, so nothing outlives the
//!   run), and the script is called under an error handler that notes
//!   where the error happened. `redis.call` runs each command through
//!   `call` on the script's own client, after Redis's checks for scripts
//!   (`script_call`), with `DENY_BLOCKING` set as EXEC does.
//! - **Effects**: the commands' effects gather in the propagation unit
//!   `call` opened for the EVAL, so they leave as one MULTI ... EXEC (or
//!   as the one command), never as the EVAL itself.

pub mod busy;
pub(crate) mod convert;
pub(crate) mod functions;
pub(crate) mod libs;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::marker::PhantomData;

use mlua::{Function, Lua, MultiValue, Table, Value};

use crate::client::{ClientState, Flags};
use crate::commands::{call_counted, spec, Exec};
use crate::error::{CmdError, CmdResult};
use crate::resp::parser::{Args, ArgsBuf};
use crate::resp::Reply;

/// Redis's version, as scripts see it.
pub const REDIS_VERSION: &str = "7.0.15";
/// `REDIS_VERSION_NUM`: 0x00MMmmpp.
pub const REDIS_VERSION_NUM: i64 = 0x0007_000f;

/// A script's shebang flags (`#!lua flags=...`).
pub mod script_flags {
    /// The script declared flags (a shebang): its flags, not the
    /// command's, decide OOM and writes.
    pub const HAS_SHEBANG: u32 = 1 << 0;
    /// `no-writes`.
    pub const NO_WRITES: u32 = 1 << 1;
    /// `allow-oom`.
    pub const ALLOW_OOM: u32 = 1 << 2;
    /// `allow-stale`.
    pub const ALLOW_STALE: u32 = 1 << 3;
    /// `no-cluster`.
    pub const NO_CLUSTER: u32 = 1 << 4;
    /// `allow-cross-slot-keys`.
    pub const ALLOW_CROSS_SLOT: u32 = 1 << 5;
}

/// A cached EVAL script.
struct Script {
    func: Function,
    flags: u32,
}

/// One Lua interpreter with Redis's libraries and sandbox. Redis runs
/// EVAL scripts and FUNCTION libraries in interpreters of their own, and
/// SCRIPT FLUSH replaces EVAL's (the libraries' settings, such as cjson's,
/// go back to their defaults).
struct Vm {
    lua: Lua,
    /// The environment scripts run in (reads through to the globals,
    /// refuses writes).
    env: Table,
    /// The globals (KEYS and ARGV are set here).
    globals: Table,
    /// Internal table of the setup's helpers (`run`, `unwrap`).
    internal: Table,
    /// `internal.run`: calls a script under the error handler.
    runner: Function,
}

/// The scripting engine: the interpreters, EVAL's cache and counters.
pub struct Scripting {
    /// EVAL's interpreter.
    eval: Vm,
    /// FUNCTION's interpreter.
    func: Vm,
    scripts: HashMap<String, Script>,
    /// Bytes of the cached scripts' bodies (INFO used_memory_scripts_eval).
    scripts_bytes: usize,
    /// The script's client, kept between runs.
    client: Option<Box<ClientState>>,
    /// The script client's reply buffer, kept between runs.
    reply: Reply,
    /// The arguments of the command a script calls, kept between calls.
    argbuf: ArgsBuf,
    /// Function libraries (FUNCTION LOAD).
    pub functions: functions::Libraries,
    /// The script being run, if any (SCRIPT KILL, -BUSY).
    pub running: Option<busy::Running>,
}

/// Builds an interpreter with Redis's libraries and sandbox.
fn new_lua(for_functions: bool) -> mlua::Result<Vm> {
    use mlua::StdLib;
    // SAFETY: the debug library is loaded only so that the error handler
    // below can capture `debug.getinfo` in a local; the global `debug` is
    // removed right after, so scripts never reach it (as Redis does).
    let lua = unsafe {
        Lua::unsafe_new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG,
            mlua::LuaOptions::default(),
        )
    };
    let globals = lua.globals();
    for name in [
        "loadfile", "dofile", "print", "require", "module", "package",
    ] {
        globals.raw_set(name, Value::Nil)?;
    }
    libs::load(&lua, &globals)?;
    let internal = lua.create_table()?;
    internal.raw_set("cwrap", libs::c_wrapper(&lua)?)?;
    internal.raw_set("guard", libs::guard_maker(&lua)?)?;
    let setup: Table = lua.load(SETUP).set_name("=gostore").call((
        internal.clone(),
        REDIS_VERSION,
        REDIS_VERSION_NUM,
        for_functions,
    ))?;
    let env: Table = setup.get("env")?;
    lua.set_named_registry_value(libs::VIEWS_KEY, setup.get::<Table>("views")?)?;
    let redis: Table = setup.get("redis")?;
    libs::register_redis(&lua, &redis, &internal)?;
    register_run_api(&lua, &redis)?;
    // Redis's luaMaskCountHook: past busy-reply-threshold, serve the other
    // clients (see `busy`), and stop the script once killed.
    lua.set_hook(
        mlua::HookTriggers::new().every_nth_instruction(busy::HOOK_EVERY),
        |_, _| {
            if !busy::past_deadline() {
                return Ok(mlua::VmState::Continue);
            }
            // Stopping is sticky: a killed script is raised at every hook
            // (a pcall in the script cannot keep it going).
            let stop = with_run(|st| {
                let stop = st.stopping || busy::serve(st.x);
                st.stopping = stop;
                stop
            });
            if stop == Some(true) {
                return Err(libs::raise(busy::KILLED));
            }
            Ok(mlua::VmState::Continue)
        },
    )?;
    let runner: Function = internal.raw_get("run")?;
    Ok(Vm {
        lua,
        env,
        globals,
        internal,
        runner,
    })
}

thread_local! {
    /// The run in progress (a `&RefCell<Run>` with its lifetimes erased),
    /// or null: what `redis.call` and the busy hook act on. Set only by
    /// `Published`.
    static CURRENT: Cell<*const ()> = const { Cell::new(std::ptr::null()) };
}

/// Publishes a run in `CURRENT` for as long as it lives (the script's
/// call), then puts back what was there. It borrows the run's cell, so the
/// cell cannot move or drop while it is published.
struct Published<'s> {
    prev: *const (),
    _cell: PhantomData<&'s ()>,
}

impl<'s> Published<'s> {
    fn new(cell: &'s RefCell<Run<'_, '_>>) -> Published<'s> {
        let p: *const RefCell<Run<'_, '_>> = cell;
        let prev = CURRENT.with(|c| c.replace(p.cast()));
        Published {
            prev,
            _cell: PhantomData,
        }
    }
}

impl Drop for Published<'_> {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.prev));
    }
}

/// Runs `f` on the published run; `None` when no script is running (or
/// the run is already in use further up the stack).
fn with_run<R>(f: impl FnOnce(&mut Run<'_, '_>) -> R) -> Option<R> {
    let p = CURRENT.with(Cell::get);
    if p.is_null() {
        return None;
    }
    // SAFETY: a non-null CURRENT comes from `Published::new`, which took it
    // from a live `&RefCell<Run>` and, borrowing that cell for its own
    // lifetime, puts the previous value back before the cell can move or
    // drop; everything here runs on this one thread. The lifetimes the cast
    // erases are re-bound by `f`, which must accept any lifetimes and so
    // cannot keep the references. The RefCell still checks the borrow.
    let cell = unsafe { &*p.cast::<RefCell<Run<'_, '_>>>() };
    let mut run = cell.try_borrow_mut().ok()?;
    Some(f(&mut run))
}

/// The `redis` functions that act on the run in progress (`call`,
/// `pcall`, `setresp`, `set_repl`), made once: they reach the run through
/// `with_run`, and outside a run they raise Redis's errors.
fn register_run_api(lua: &Lua, redis: &Table) -> mlua::Result<()> {
    const NO_RUN_CALL: &str = "redis.call/pcall can only be called inside a script invocation";
    let call = lua.create_function(|lua, a: MultiValue| {
        let (v, raise) =
            with_run(|st| st.redis_call(lua, &a)).ok_or_else(|| libs::raise(NO_RUN_CALL))??;
        match (raise, &v) {
            (true, Value::Table(t)) => Err(libs::raise_table(t)),
            _ => Ok(v),
        }
    })?;
    redis.raw_set("call", call)?;
    let pcall = lua.create_function(|lua, a: MultiValue| {
        Ok(with_run(|st| st.redis_call(lua, &a))
            .ok_or_else(|| libs::raise(NO_RUN_CALL))??
            .0)
    })?;
    redis.raw_set("pcall", pcall)?;
    let setresp = lua.create_function(|_, a: MultiValue| {
        with_run(|st| {
            if a.len() != 1 {
                return Err(libs::raise("redis.setresp() requires one argument."));
            }
            let n = number_of(a.front());
            if n != 2 && n != 3 {
                return Err(libs::raise("RESP version must be 2 or 3."));
            }
            st.reply.set_resp3(n == 3);
            Ok(())
        })
        .ok_or_else(|| libs::raise("redis.setresp can only be called inside a script invocation"))?
    })?;
    redis.raw_set("setresp", setresp)?;
    let set_repl = lua.create_function(|_, a: MultiValue| {
        with_run(|st| {
            if a.len() != 1 {
                return Err(libs::raise("redis.set_repl() requires two arguments."));
            }
            let n = number_of(a.front());
            if n & !3 != 0 {
                return Err(libs::raise(
                    "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                ));
            }
            st.repl_aof = n & 1 != 0;
            Ok(())
        })
        .ok_or_else(|| {
            libs::raise("redis.set_repl can only be called inside a script invocation")
        })?
    })?;
    redis.raw_set("set_repl", set_repl)?;
    // With no ACL users, every command is allowed; Redis's errors for no
    // arguments, a bad argument and an unknown command.
    let acl_check_cmd = lua.create_function(|_, a: MultiValue| {
        with_run(|st| {
            let name_of = |v: Option<&Value>| -> Option<Vec<u8>> {
                match v? {
                    Value::String(s) => Some(s.as_bytes().to_vec()),
                    _ => None,
                }
            };
            if a.is_empty() {
                return Err(libs::raise(
                    "Please specify at least one argument for this redis lib call",
                ));
            }
            let bad = a
                .iter()
                .any(|v| !matches!(v, Value::String(_) | Value::Number(_) | Value::Integer(_)));
            if bad {
                return Err(libs::raise(
                    "Lua redis lib command arguments must be strings or integers",
                ));
            }
            let commands = &st.x.core.commands;
            let found = name_of(a.front())
                .and_then(|name| commands.lookup(&name))
                .and_then(|id| {
                    if commands.spec(id).subcommands.is_empty() || a.len() < 2 {
                        return Some(id);
                    }
                    let sub = name_of(a.get(1)).unwrap_or_default();
                    commands.lookup_sub(id, &sub)
                });
            match found {
                Some(_) => Ok(true),
                None => Err(libs::raise(
                    "Invalid command passed to redis.acl_check_cmd()",
                )),
            }
        })
        .ok_or_else(|| {
            libs::raise("redis.acl_check_cmd can only be called inside a script invocation")
        })?
    })?;
    redis.raw_set("acl_check_cmd", acl_check_cmd)?;
    Ok(())
}

/// The Lua side of the setup: the `redis` table's Lua-written functions,
/// Redis's `pcall` that turns error tables into their text, the error
/// handler, and the protected environment.
const SETUP: &str = r#"
local internal, version, version_num, for_functions = ...
local dbg = debug
debug = nil
local G = _G
local rawget, error, type, tostring, lpcall, select = rawget, error, type, tostring, pcall, select
local setmetatable, getmetatable, rawset, ipairs = setmetatable, getmetatable, rawset, ipairs
local setfenv = setfenv
-- Absent from Redis's Lua.
G.getfenv, G.setfenv, G.newproxy = nil, nil, nil
local redis = {}
redis.REDIS_VERSION = version
redis.REDIS_VERSION_NUM = version_num
-- EVAL's alone: functions' `redis` has no debugger or replication
-- switches, as Redis's.
if not for_functions then
  redis.replicate_commands = function() return true end
  redis.breakpoint = function() return false end
  redis.debug = function() end
end
redis.LOG_DEBUG = 0
redis.LOG_VERBOSE = 1
redis.LOG_NOTICE = 2
redis.LOG_WARNING = 3
redis.REPL_NONE = 0
redis.REPL_AOF = 1
redis.REPL_SLAVE = 2
redis.REPL_REPLICA = 2
redis.REPL_ALL = 3
-- Redis patches Lua with read-only tables; with stock Lua the globals'
-- tables are kept behind read-only views (reads go through, writes are
-- refused), and the base functions that bypass metamethods (rawset,
-- rawget, next, pairs, getmetatable, setmetatable, table.insert,
-- table.foreach) are wrapped so that they see through the views and
-- refuse to modify a protected table, as Redis's patched ones do.
local RO = "Attempt to modify a readonly table"
local real_of = setmetatable({}, {__mode = 'k'})
local protected = setmetatable({}, {__mode = 'k'})
local shown_mt = setmetatable({}, {__mode = 'k'})
local function readonly(t)
  local v = setmetatable({}, {
    __index = t,
    __newindex = function() error(RO, 2) end,
    __metatable = false,
  })
  real_of[v] = t
  protected[v] = true
  return v
end
G.redis = readonly(redis)
for _, name in ipairs({'string', 'math', 'table', 'bit', 'coroutine', 'cjson', 'cmsgpack', 'struct'}) do
  if rawget(G, name) then rawset(G, name, readonly(rawget(G, name))) end
end
local string_mt = getmetatable('')
rawset(string_mt, '__index', G.string)
shown_mt[string_mt] = readonly(string_mt)
protected[G] = true
-- The C functions' own argument errors, raised from their Lua wrappers
-- as luaL_argerror and luaL_error would from the C function: the
-- wrapper's name as its caller called it, at the caller's position (none
-- when the caller is C code, e.g. pcall). The wrappers run under a C
-- closure (`cwrap`), so the caller is one frame above the wrapper.
-- `depth`: the frames between the raising helper and the wrapper (1
-- when the wrapper calls it).
local getinfo, format, tonumber = dbg.getinfo, string.format, tonumber
local cwrap, guard = internal.cwrap, internal.guard
local function fail(msg, depth)
  error(msg, 3 + depth)
end
local function argerror(narg, extra, depth)
  local ar = getinfo(2 + depth, 'n')
  local name = ar and ar.name
  if ar and ar.namewhat == 'method' then
    narg = narg - 1
    if narg == 0 then
      error(format("calling '%s' on bad self (%s)", tostring(name), extra), 3 + depth)
    end
  end
  error(format("bad argument #%d to '%s' (%s)", narg, name or '?', extra), 3 + depth)
end
local function typename(n, i, v)
  if i > n then return 'no value' end
  return type(v)
end
local function checktype(n, i, v, want)
  if type(v) ~= want then
    argerror(i, want .. ' expected, got ' .. typename(n, i, v), 2)
  end
end
do
  local rawset, rawget, next, pairs, getmetatable, setmetatable =
    rawset, rawget, next, pairs, getmetatable, setmetatable
  local rawgetmt = dbg.getmetatable
  local insert, foreach = table.insert, table.foreach
  G.rawset = guard(function(...)
    local n, t = select('#', ...), ...
    checktype(n, 1, t, 'table')
    if n < 2 then argerror(2, 'value expected', 1) end
    if n < 3 then argerror(3, 'value expected', 1) end
    if protected[t] then error(RO, 0) end
    local r = rawset(...)
    return r
  end, rawset, protected, 2)
  G.rawget = guard(function(...)
    local n, t, k = select('#', ...), ...
    checktype(n, 1, t, 'table')
    if n < 2 then argerror(2, 'value expected', 1) end
    return (rawget(real_of[t] or t, k))
  end, rawget, real_of, 3)
  local next_ = guard(function(...)
    local n, t, k = select('#', ...), ...
    checktype(n, 1, t, 'table')
    local a, b = next(real_of[t] or t, k)
    return a, b
  end, next, real_of, 0)
  G.next = next_
  G.pairs = guard(function(...)
    local n, t = select('#', ...), ...
    checktype(n, 1, t, 'table')
    if real_of[t] ~= nil then return next_, t, nil end
    return next, t, nil
  end, pairs, real_of, 0)
  G.getmetatable = cwrap(function(...)
    local n, t = select('#', ...), ...
    if n < 1 then argerror(1, 'value expected', 1) end
    if real_of[t] ~= nil then return shown_mt[t] end
    local m = getmetatable(t)
    if m ~= nil and shown_mt[m] ~= nil then return shown_mt[m] end
    return m
  end)
  G.setmetatable = guard(function(...)
    local n, t, m = select('#', ...), ...
    checktype(n, 1, t, 'table')
    if n < 2 or (m ~= nil and type(m) ~= 'table') then
      argerror(2, 'nil or table expected', 1)
    end
    if protected[t] then error(RO, 0) end
    local mt = rawgetmt(t)
    if mt ~= nil and rawget(mt, '__metatable') ~= nil then
      fail('cannot change a protected metatable', 1)
    end
    return (setmetatable(t, m))
  end, setmetatable, protected, 4)
  local tbl = real_of[G.table]
  rawset(tbl, 'insert', guard(function(...)
    local n, t, pos = select('#', ...), ...
    if n == 2 and type(t) == 'table' and not protected[t] then return insert(t, pos) end
    checktype(n, 1, t, 'table')
    if n ~= 2 and n ~= 3 then fail("wrong number of arguments to 'insert'", 1) end
    if n == 3 and tonumber(pos) == nil then
      argerror(2, 'number expected, got ' .. type(pos), 1)
    end
    if protected[t] then error(RO, 0) end
    insert(...)
  end, insert, protected, 1))
  if foreach then
    rawset(tbl, 'foreach', cwrap(function(...)
      local n, t, f = select('#', ...), ...
      checktype(n, 1, t, 'table')
      checktype(n, 2, f, 'function')
      return (foreach(real_of[t] or t, f))
    end))
  end
end
local function pcall_ret(ok, ...)
  if not ok then
    local e = ...
    if type(e) == 'userdata' then e = internal.unwrap(e) end
    if type(e) == 'table' and type(e.err) == 'string' then return false, e.err end
    return false, e
  end
  return true, ...
end
G.pcall = function(f, ...) return pcall_ret(lpcall(f, ...)) end
local function internal_frame(i)
  return i.source == '=gostore' or i.source == '=[C]'
end
local handler = function(err)
  local level = 2
  local i = dbg.getinfo(level, 'nSl')
  while i and (i.what == 'C' or internal_frame(i)) do
    level = level + 1
    i = dbg.getinfo(level, 'nSl')
  end
  if type(err) == 'userdata' then err = internal.unwrap(err) end
  if type(err) ~= 'table' then
    err = {err = 'ERR ' .. tostring(err)}
  end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end
local nonexistent = function(t, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end
local G_mt = {
  __index = nonexistent,
  __newindex = function(t, k, v)
    error("Attempt to modify a readonly table", 2)
  end,
}
setmetatable(G, G_mt)
-- Scripts reach the globals as `_G` through a read-only view (so that
-- they cannot overwrite a global), whose metatable shows as Redis's
-- error metatable, read-only.
local Gv = readonly(G)
shown_mt[Gv] = readonly({__index = nonexistent})
rawset(G, '_G', Gv)
local env = setmetatable({}, {
  __index = G,
  __newindex = function(t, k, v)
    error("Attempt to modify a readonly table", 2)
  end,
  __metatable = false,
})
-- Chunks that scripts load run in the scripts' environment, not in the
-- globals themselves (where they could overwrite a global).
do
  local loadstring, load = loadstring, load
  local function wrap(f, ...)
    if f then setfenv(f, env) end
    return f, ...
  end
  rawset(G, 'loadstring', cwrap(function(...)
    local n, s = select('#', ...), ...
    if type(s) ~= 'string' and type(s) ~= 'number' then
      argerror(1, 'string expected, got ' .. typename(n, 1, s), 1)
    end
    return wrap(loadstring(...))
  end))
  rawset(G, 'load', cwrap(function(...)
    local n, f = select('#', ...), ...
    checktype(n, 1, f, 'function')
    return wrap(load(...))
  end))
end
-- Redis's EVAL state names its error handler as a global.
if not for_functions then rawset(G, '__redis__err__handler', handler) end
internal.run = function(f, ...)
  local n = select('#', ...)
  if n == 0 then return xpcall(f, handler) end
  local a, b = ...
  return xpcall(function() return f(a, b) end, handler)
end
return { env = env, handler = handler, redis = redis, views = real_of }
"#;

impl Default for Scripting {
    fn default() -> Self {
        Scripting::new()
    }
}

impl Scripting {
    /// A fresh interpreter with an empty cache.
    pub fn new() -> Scripting {
        Scripting {
            eval: new_lua(false).expect("the Lua interpreter starts"),
            func: new_lua(true).expect("the Lua interpreter starts"),
            scripts: HashMap::new(),
            scripts_bytes: 0,
            client: None,
            reply: Reply::new(),
            argbuf: ArgsBuf::default(),
            functions: functions::Libraries::default(),
            running: None,
        }
    }

    /// Cached EVAL scripts (INFO number_of_cached_scripts).
    pub fn cached_scripts(&self) -> usize {
        self.scripts.len()
    }

    /// Bytes of the cached scripts' bodies.
    pub fn scripts_bytes(&self) -> usize {
        self.scripts_bytes
    }

    /// EVAL's interpreter's memory (INFO used_memory_lua,
    /// used_memory_vm_eval).
    pub fn lua_memory(&self) -> usize {
        self.eval.lua.used_memory()
    }

    /// FUNCTION's interpreter's memory (INFO used_memory_vm_functions).
    pub fn functions_vm_memory(&self) -> usize {
        self.func.lua.used_memory()
    }

    /// `SCRIPT FLUSH`: forgets every cached script and, as Redis, starts
    /// EVAL's interpreter afresh (what scripts set in the libraries, such
    /// as cjson's settings, goes with it). Should a new interpreter fail to
    /// start (out of memory), the old one stays.
    pub fn flush_scripts(&mut self) {
        self.scripts.clear();
        self.scripts_bytes = 0;
        match new_lua(false) {
            Ok(vm) => self.eval = vm,
            Err(_) => {
                self.eval.lua.gc_collect().ok();
            }
        }
    }

    /// Whether a script with this SHA-1 (lower or upper case) is cached.
    pub fn exists(&self, sha: &[u8]) -> bool {
        self.cached(sha).is_some()
    }

    /// The cached script with this SHA-1 (lower or upper case), and its
    /// SHA-1 as the cache keeps it, looked up without allocating.
    fn cached(&self, sha: &[u8]) -> Option<(&String, &Script)> {
        let mut key = [0u8; 40];
        if sha.len() != key.len() || !sha.is_ascii() {
            return None;
        }
        key.copy_from_slice(sha);
        key.make_ascii_lowercase();
        self.scripts.get_key_value(std::str::from_utf8(&key).ok()?)
    }

    /// Compiles and caches `body` (EVAL, SCRIPT LOAD); returns its SHA-1.
    pub fn load_script(&mut self, body: &[u8]) -> Result<String, CmdError> {
        let sha = sha1_hex(body);
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, skip) = parse_shebang(body)?;
        let func = self
            .eval
            .lua
            .load(&body[skip..])
            .set_name("@user_script")
            .set_environment(self.eval.env.clone())
            .into_function()
            .map_err(|e| {
                CmdError::msg(format!(
                    "ERR Error compiling script (new function): {}",
                    lua_error_text(&e)
                ))
            })?;
        self.scripts_bytes += body.len();
        self.scripts.insert(sha.clone(), Script { func, flags });
        Ok(sha)
    }

    /// The shebang flags of a cached script.
    fn flags_of(&self, sha: &[u8]) -> Option<u32> {
        self.cached(sha).map(|(_, s)| s.flags)
    }
}

/// The text of a Lua error as Lua would print it.
pub fn lua_error_text(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::RuntimeError(m) => m.clone(),
        mlua::Error::CallbackError { cause, .. } => lua_error_text(cause),
        other => other.to_string(),
    }
}

/// The lower-case hex SHA-1 of `data`.
pub fn sha1_hex(data: &[u8]) -> String {
    let d = crate::util::sha1::sha1(data);
    let mut s = String::with_capacity(40);
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Redis's `evalExtractShebangFlags`: the flags of `#!lua flags=a,b` and
/// where the code starts (the shebang line is not compiled; its newline
/// is, so line numbers stay right).
pub fn parse_shebang(body: &[u8]) -> Result<(u32, usize), CmdError> {
    if !body.starts_with(b"#!") {
        return Ok((0, 0));
    }
    let end = body.iter().position(|&c| c == b'\n').unwrap_or(body.len());
    let line = String::from_utf8_lossy(&body[2..end]).into_owned();
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or("");
    if engine != "lua" {
        return Err(CmdError::msg(format!(
            "ERR Unexpected engine in script shebang: {engine}"
        )));
    }
    let mut flags = script_flags::HAS_SHEBANG;
    for part in parts {
        let Some(list) = part.strip_prefix("flags=") else {
            return Err(CmdError::msg(format!(
                "ERR Unknown lua shebang option: {part}"
            )));
        };
        for f in list.split(',').filter(|f| !f.is_empty()) {
            flags |= match flag_bit(f) {
                Some(b) => b,
                None => {
                    return Err(CmdError::msg(format!(
                        "ERR Unexpected flag in script shebang: {f}"
                    )))
                }
            };
        }
    }
    Ok((flags, end))
}

/// The bit of a script flag name.
pub fn flag_bit(name: &str) -> Option<u32> {
    Some(match name {
        "no-writes" => script_flags::NO_WRITES,
        "allow-oom" => script_flags::ALLOW_OOM,
        "allow-stale" => script_flags::ALLOW_STALE,
        "no-cluster" => script_flags::NO_CLUSTER,
        "allow-cross-slot-keys" => script_flags::ALLOW_CROSS_SLOT,
        _ => return None,
    })
}

/// The names of a flag set, in Redis's order.
pub fn flag_names(flags: u32) -> Vec<&'static str> {
    let mut out = Vec::new();
    for (bit, name) in [
        (script_flags::NO_WRITES, "no-writes"),
        (script_flags::ALLOW_OOM, "allow-oom"),
        (script_flags::ALLOW_STALE, "allow-stale"),
        (script_flags::NO_CLUSTER, "no-cluster"),
        (script_flags::ALLOW_CROSS_SLOT, "allow-cross-slot-keys"),
    ] {
        if flags & bit != 0 {
            out.push(name);
        }
    }
    out
}

/// Redis's `scriptFlagsToCmdFlags`: a script that declared flags counts
/// as a write (unless `no-writes`) that may grow memory (unless
/// `allow-oom` or `no-writes`) in `process_command`'s checks.
pub fn command_flags(x: &Exec<'_>, id: u32, args: &Args<'_>, cmd_flags: u32) -> u32 {
    let name = x.core.commands.spec(id).fullname;
    let script = match name {
        "eval" | "eval_ro" => {
            let sha = sha1_hex(args.get(1));
            match x.core.scripting.flags_of(sha.as_bytes()) {
                Some(f) => f,
                None => match parse_shebang(args.get(1)) {
                    Ok((f, _)) => f,
                    Err(_) => return cmd_flags,
                },
            }
        }
        "evalsha" | "evalsha_ro" => match x.core.scripting.flags_of(args.get(1)) {
            Some(f) => f,
            None => return cmd_flags,
        },
        "fcall" | "fcall_ro" => match x.core.scripting.functions.flags_of(args.get(1)) {
            Some(f) => f | script_flags::HAS_SHEBANG,
            None => return cmd_flags,
        },
        _ => return cmd_flags,
    };
    if script & script_flags::HAS_SHEBANG == 0 {
        return cmd_flags;
    }
    let mut f = cmd_flags & !(spec::STALE | spec::DENYOOM | spec::WRITE | spec::MAY_REPLICATE);
    if script & (script_flags::ALLOW_OOM | script_flags::NO_WRITES) == 0 {
        f |= spec::DENYOOM;
    }
    if script & script_flags::NO_WRITES == 0 {
        f |= spec::WRITE;
    }
    if script & script_flags::ALLOW_STALE != 0 {
        f |= spec::STALE;
    }
    f
}

/// The most room the script's argument and reply buffers keep between
/// runs.
const KEEP_BUFFER: usize = 64 * 1024;

/// The state of one run, shared by the `redis.call` closure.
struct Run<'r, 'x> {
    x: &'r mut Exec<'x>,
    client: Box<ClientState>,
    reply: Reply,
    /// Writes are refused (EVAL_RO, FCALL_RO, `no-writes`).
    read_only: bool,
    /// `allow-oom`.
    allow_oom: bool,
    /// maxmemory was exceeded when the script started.
    oom: bool,
    /// Changes made by the script's commands.
    dirty: u64,
    /// The arguments of the command the script calls (kept between runs).
    argbuf: ArgsBuf,
    /// `redis.set_repl`: whether effects go to the AOF.
    repl_aof: bool,
    /// The script was killed or the server shuts down: it is stopped.
    stopping: bool,
}

/// A Lua value as a number, as `lua_tonumber` takes it (0 when it is none).
fn number_of(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Number(n)) => *n as i64,
        Some(Value::Integer(n)) => *n,
        Some(Value::String(s)) => s
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .map_or(0, |f| f as i64),
        _ => 0,
    }
}

/// Runs EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, FCALL or FCALL_RO for `call`:
/// the result and the changes the script's commands made.
pub fn run(x: &mut Exec<'_>, id: u32, args: &Args<'_>) -> (CmdResult, u64) {
    let name = x.core.commands.spec(id).fullname;
    let ro_command = name.ends_with("_ro");
    let is_function = name.starts_with("fcall");
    let numkeys = match parse_numkeys(args) {
        Ok(n) => n,
        Err(e) => return (Err(e), 0),
    };
    let (func, flags, funcname) = if is_function {
        match x.core.scripting.functions.lookup(args.get(1)) {
            Some((f, flags)) => (
                f,
                flags | script_flags::HAS_SHEBANG,
                String::from_utf8_lossy(args.get(1)).into_owned(),
            ),
            None => return (Err(CmdError::Static("ERR Function not found")), 0),
        }
    } else if name.starts_with("evalsha") {
        match x.core.scripting.cached(args.get(1)) {
            Some((sha, s)) => (s.func.clone(), s.flags, sha.clone()),
            None => {
                return (
                    Err(CmdError::Static(
                        "NOSCRIPT No matching script. Please use EVAL.",
                    )),
                    0,
                )
            }
        }
    } else {
        let sha = match x.core.scripting.load_script(args.get(1)) {
            Ok(sha) => sha,
            Err(e) => return (Err(e), 0),
        };
        let s = &x.core.scripting.scripts[&sha];
        (s.func.clone(), s.flags, sha)
    };
    if ro_command
        && (is_function || flags & script_flags::HAS_SHEBANG != 0)
        && flags & script_flags::NO_WRITES == 0
    {
        return (
            Err(CmdError::Static(
                "ERR Can not execute a script with write flag using *_ro command.",
            )),
            0,
        );
    }
    let sc = &mut x.core.scripting;
    let vm = if is_function { &sc.func } else { &sc.eval };
    let lua = vm.lua.clone();
    let runner = vm.runner.clone();
    let globals = vm.globals.clone();
    let mut client = sc.client.take().unwrap_or_else(|| {
        let mut c = ClientState::new(0, "lua".into(), String::new(), -1, false, 0, true);
        c.flags.set(Flags::DENY_BLOCKING, true);
        Box::new(c)
    });
    let mut reply = std::mem::take(&mut sc.reply);
    reply.discard();
    reply.set_resp3(false);
    let argbuf = std::mem::take(&mut sc.argbuf);
    sc.running = Some(busy::Running {
        is_eval: !is_function,
        write_dirty: false,
        killed: false,
        timed_out: false,
        name: funcname,
    });
    client.db = x.client.db;
    let oom = x.core.config.maxmemory > 0
        && !x.core.loading
        && crate::memory::used_memory() > x.core.config.maxmemory as usize;
    busy::arm(x.core.config.busy_reply_threshold);
    let effects_mark = x.core.propagator.pending();
    let state = RefCell::new(Run {
        x,
        client,
        reply,
        read_only: ro_command || flags & script_flags::NO_WRITES != 0,
        allow_oom: flags & script_flags::ALLOW_OOM != 0,
        oom,
        dirty: 0,
        argbuf,
        repl_aof: true,
        stopping: false,
    });
    let outcome = {
        let _published = Published::new(&state);
        call_script(&lua, &runner, &globals, func, is_function, args, numkeys)
    };
    busy::disarm();
    let Run {
        x,
        client,
        reply: mut script_reply,
        dirty,
        argbuf,
        ..
    } = state.into_inner();
    let sc = &mut x.core.scripting;
    sc.client = Some(client);
    let script_resp3 = script_reply.is_resp3();
    script_reply.discard();
    // The buffers are kept for the next run, unless a big command or reply
    // grew them: that memory goes back now.
    if argbuf.capacity() <= KEEP_BUFFER {
        sc.argbuf = argbuf;
    }
    if script_reply.capacity() <= KEEP_BUFFER {
        sc.reply = script_reply;
    }
    let funcname = sc.running.take().map(|r| r.name).unwrap_or_default();
    if x.core.shutdown.is_some() {
        // SHUTDOWN NOSAVE stopped the script: Redis exits without
        // propagating what it had written.
        x.core.propagator.truncate(effects_mark);
    }
    let result = match outcome {
        Err(e) => Err(CmdError::msg(format!(
            "ERR Error running script {funcname}, {:.100}",
            lua_error_text(&e)
        ))),
        Ok((true, v)) => {
            let mut errors = Vec::new();
            convert::lua_to_reply(&v, x.reply, script_resp3, &mut errors, 0);
            for e in errors {
                x.core.stats.count_error(&e.code());
            }
            Ok(())
        }
        Ok((false, v)) => {
            let msg = match &v {
                Value::Table(t) => {
                    let (text, _) =
                        convert::error_info(t).unwrap_or((b"ERR unknown error".to_vec(), false));
                    let mut m = String::from_utf8_lossy(&text).into_owned();
                    let source: Option<String> = t.get("source").ok();
                    let line: Option<String> = match t.get::<Value>("line") {
                        Ok(Value::Number(n)) => Some(format!("{}", n as i64)),
                        Ok(Value::Integer(n)) => Some(n.to_string()),
                        Ok(Value::String(s)) => Some(s.to_string_lossy()),
                        _ => None,
                    };
                    if let (Some(s), Some(l)) = (source, line) {
                        m.push_str(&format!(" script: {funcname}, on {s}:{l}."));
                    }
                    m
                }
                Value::String(s) => format!(
                    "ERR Error running script {funcname}, {:.100}",
                    s.to_string_lossy()
                ),
                _ => format!("ERR Error running script {funcname}, execution failure"),
            };
            Err(CmdError::msg(msg))
        }
    };
    (result, dirty)
}

/// Calls a script (or a function) under the error handler, with KEYS and
/// ARGV from `args`: whether it succeeded, and its value or error.
fn call_script(
    lua: &Lua,
    runner: &Function,
    globals: &Table,
    func: Function,
    is_function: bool,
    args: &Args<'_>,
    numkeys: usize,
) -> mlua::Result<(bool, Value)> {
    let keys = args_table(lua, args, 3, 3 + numkeys)?;
    let argv = args_table(lua, args, 3 + numkeys, args.len())?;
    // xpcall's two results, read straight off the stack.
    let (ok, v): (Value, Value) = if is_function {
        runner.call((func, keys, argv))?
    } else {
        globals.raw_set("KEYS", keys)?;
        globals.raw_set("ARGV", argv)?;
        runner.call(func)?
    };
    Ok((matches!(ok, Value::Boolean(true)), v))
}

/// A Lua array of the arguments `from..to` (KEYS, ARGV).
fn args_table(lua: &Lua, args: &Args<'_>, from: usize, to: usize) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(to - from, 0)?;
    for i in from..to {
        t.raw_set(i - from + 1, lua.create_string(args.get(i))?)?;
    }
    Ok(t)
}

/// EVAL's and FCALL's numkeys, checked against the arguments.
fn parse_numkeys(args: &Args<'_>) -> Result<usize, CmdError> {
    let n = crate::util::num::parse_i64(args.get(2)).ok_or(CmdError::NotInteger)?;
    if n < 0 {
        return Err(CmdError::Static("ERR Number of keys can't be negative"));
    }
    if n as usize > args.len() - 3 {
        return Err(CmdError::Static(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    Ok(n as usize)
}

impl Run<'_, '_> {
    /// `redis.call` / `redis.pcall`: the reply as a Lua value, and whether
    /// it is an error `redis.call` must raise.
    fn redis_call(&mut self, lua: &Lua, a: &MultiValue) -> mlua::Result<(Value, bool)> {
        if a.is_empty() {
            let t = convert::error_table(
                lua,
                b"Please specify at least one argument for this redis lib call",
            )?;
            return Ok((Value::Table(t), true));
        }
        let mut argv = std::mem::take(&mut self.argbuf);
        argv.clear();
        for v in a.iter() {
            match v {
                Value::String(s) => argv.push(&s.as_bytes()),
                Value::Number(n) => argv.push(&convert::number_arg(*n)),
                // Lua 5.1 numbers are doubles, which Redis writes with
                // `%.17g`: whole numbers under 1e17 come out as integers.
                Value::Integer(n) if n.unsigned_abs() < 100_000_000_000_000_000 => {
                    let mut buf = [0u8; crate::util::num::MAX_I64_LEN];
                    argv.push(crate::util::num::fmt_i64(*n, &mut buf));
                }
                Value::Integer(n) => argv.push(&convert::number_arg(*n as f64)),
                _ => {
                    self.argbuf = argv;
                    let t = convert::error_table(
                        lua,
                        b"Lua redis lib command arguments must be strings or integers",
                    )?;
                    return Ok((Value::Table(t), true));
                }
            }
        }
        let called = self.script_call(&argv.args());
        self.argbuf = argv;
        match called {
            Err(text) => {
                let t = convert::error_table(lua, text.as_bytes())?;
                t.raw_set("ignore_error_stats_update", true)?;
                Ok((Value::Table(t), true))
            }
            Ok(()) => {
                let bytes = self.reply.pending();
                let is_err = bytes.first() == Some(&b'-');
                let v = convert::reply_to_lua(lua, bytes)?;
                self.reply.discard();
                Ok((v, is_err))
            }
        }
    }

    /// Redis's `scriptCall`: the checks for a command a script calls, then
    /// `call` on the script's client. An `Err` is a refusal's text.
    fn script_call(&mut self, args: &Args<'_>) -> Result<(), String> {
        let x = &mut *self.x;
        let Some(id) = lookup(x, args) else {
            return Err("Unknown Redis command called from script".into());
        };
        let spec = x.core.commands.spec(id);
        if !spec.arity_ok(args.len()) {
            return Err("Wrong number of args calling Redis command from script".into());
        }
        if spec.flags & spec::NOSCRIPT != 0 {
            return Err("This Redis command is not allowed from script".into());
        }
        let writes = spec.flags & spec::WRITE != 0;
        if writes {
            if self.read_only {
                return Err("Write commands are not allowed from read-only scripts.".into());
            }
            if !x.core.loading {
                if let Some(e) = x.core.aof.write_error() {
                    return Err(format!("-MISCONF Errors writing to the AOF file: {e}"));
                }
            }
            if !crate::repl::master::enough_good_replicas(x.core, x.clients) {
                return Err(format!("-{}", crate::repl::master::NOREPLICAS));
            }
        }
        if !self.allow_oom && self.oom && spec.flags & spec::DENYOOM != 0 {
            return Err("-OOM command not allowed when used memory > 'maxmemory'.".into());
        }
        if writes {
            // From now on SCRIPT KILL answers UNKILLABLE.
            if let Some(r) = x.core.scripting.running.as_mut() {
                r.write_dirty = true;
            }
        }
        let mut sub = Exec {
            dbs: &mut *x.dbs,
            client: &mut self.client,
            reply: &mut self.reply,
            clients: &mut *x.clients,
            core: &mut *x.core,
            redaction: &mut *x.redaction,
        };
        let mark = sub.core.propagator.pending();
        let (_, dirty) = call_counted(&mut sub, id, args);
        if !self.repl_aof {
            sub.core.propagator.truncate(mark);
        }
        self.dirty += dirty;
        Ok(())
    }
}

/// The command a script names, with its subcommand (no renames apply:
/// scripts call commands by the names they answer to, as in Redis).
fn lookup(x: &Exec<'_>, args: &Args<'_>) -> Option<u32> {
    let id = x.core.commands.lookup(args.get(0))?;
    let spec = x.core.commands.spec(id);
    if spec.subcommands.is_empty() || args.len() < 2 {
        return Some(id);
    }
    x.core.commands.lookup_sub(id, args.get(1))
}
