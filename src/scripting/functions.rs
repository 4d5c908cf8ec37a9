//! Function libraries (FUNCTION LOAD, FCALL), as Redis 7.0's functions.c
//! and function_lua.c: a library is Lua code whose first line is
//! `#!lua name=<library>`; loading it runs the code once, with only
//! `redis.register_function`, `redis.log` and the version fields of the
//! `redis` table, and keeps the functions it registered.

use std::cell::RefCell;
use std::rc::Rc;

use mlua::{Function, MultiValue, Table, Value};

use super::{flag_bit, Scripting};
use crate::error::CmdError;

/// A registered function.
#[derive(Clone)]
pub struct FunctionDef {
    /// Its name.
    pub name: String,
    /// The Lua callback.
    pub func: Function,
    /// Its flags (`super::script_flags`).
    pub flags: u32,
    /// Its description, if one was given.
    pub description: Option<Vec<u8>>,
}

/// A loaded library.
pub struct Library {
    /// Its name.
    pub name: String,
    /// Its code, shebang included.
    pub code: Vec<u8>,
    /// Its functions, in registration order.
    pub functions: Vec<FunctionDef>,
}

/// The loaded libraries.
#[derive(Default)]
pub struct Libraries {
    /// By load order.
    pub libs: Vec<Library>,
}

impl Libraries {
    /// The function named `name` and its flags.
    pub fn lookup(&self, name: &[u8]) -> Option<(Function, u32)> {
        self.libs.iter().find_map(|l| {
            l.functions
                .iter()
                .find(|f| f.name.as_bytes() == name)
                .map(|f| (f.func.clone(), f.flags))
        })
    }

    /// The flags of the function named `name`.
    pub fn flags_of(&self, name: &[u8]) -> Option<u32> {
        self.lookup(name).map(|(_, f)| f)
    }

    /// Number of functions in all libraries.
    pub fn function_count(&self) -> usize {
        self.libs.iter().map(|l| l.functions.len()).sum()
    }

    /// Bytes of the libraries' code.
    pub fn code_bytes(&self) -> usize {
        self.libs.iter().map(|l| l.code.len()).sum()
    }
}

fn valid_name(n: &[u8]) -> bool {
    !n.is_empty() && n.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Redis's `functionExtractLibMetaData`: the library's name from its
/// shebang, and where the code starts.
fn parse_metadata(code: &[u8]) -> Result<(String, usize), CmdError> {
    if !code.starts_with(b"#!") {
        return Err(CmdError::Static("ERR Missing library metadata"));
    }
    let end = code.iter().position(|&c| c == b'\n').unwrap_or(code.len());
    let line = String::from_utf8_lossy(&code[2..end]).into_owned();
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or("");
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(CmdError::msg(format!("ERR Engine '{engine}' not found")));
    }
    let mut name = None;
    for p in parts {
        match p.strip_prefix("name=") {
            Some(n) => name = Some(n.to_string()),
            None => {
                return Err(CmdError::msg(format!(
                    "ERR Invalid metadata value given: {p}"
                )))
            }
        }
    }
    let name = name.ok_or(CmdError::Static("ERR Library name was not given"))?;
    Ok((name, end))
}

impl Scripting {
    /// FUNCTION LOAD: compiles and runs `code`, keeping the library it
    /// registers. Returns the library's name.
    pub fn function_load(&mut self, code: &[u8], replace: bool) -> Result<String, CmdError> {
        let (name, skip) = parse_metadata(code)?;
        if !valid_name(name.as_bytes()) {
            return Err(CmdError::Static(
                "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
            ));
        }
        let existing = self.functions.libs.iter().position(|l| l.name == name);
        if existing.is_some() && !replace {
            return Err(CmdError::msg(format!(
                "ERR Library '{name}' already exists"
            )));
        }
        let registered = self.run_library(&code[skip..]).map_err(|e| match e {
            LoadError::Compile(m) => CmdError::msg(format!("ERR Error compiling function: {m}")),
            LoadError::Run(m) => CmdError::msg(format!("ERR Error registering functions: {m}")),
        })?;
        if registered.is_empty() {
            return Err(CmdError::Static("ERR No functions registered"));
        }
        for f in &registered {
            let clash =
                self.functions.libs.iter().enumerate().any(|(i, l)| {
                    Some(i) != existing && l.functions.iter().any(|g| g.name == f.name)
                });
            if clash {
                return Err(CmdError::msg(format!(
                    "ERR Function {} already exists",
                    f.name
                )));
            }
        }
        let lib = Library {
            name: name.clone(),
            code: code.to_vec(),
            functions: registered,
        };
        match existing {
            Some(i) => self.functions.libs[i] = lib,
            None => self.functions.libs.push(lib),
        }
        Ok(name)
    }

    /// Runs a library's code with the load-time API; the functions it
    /// registered.
    fn run_library(&mut self, code: &[u8]) -> Result<Vec<FunctionDef>, LoadError> {
        let lua = &self.func.lua;
        let fail = |e: mlua::Error| LoadError::Run(super::lua_error_text(&e));
        let registered: Rc<RefCell<Vec<FunctionDef>>> = Rc::default();
        let reg_error: Rc<RefCell<Option<String>>> = Rc::default();
        // The library's environment, as Redis's function_lua.c sets it: at
        // load time reads see only the load-time `redis` table (no globals,
        // no `_G`, no base library), after it the globals; writes are
        // refused.
        let env = lua.create_table().map_err(fail)?;
        let meta: Table = lua
            .load(
                r#"
return {
  __newindex = function() error("Attempt to modify a readonly table", 2) end,
  __metatable = false,
}"#,
            )
            .set_name("=gostore")
            .call(())
            .map_err(fail)?;
        env.set_metatable(Some(meta.clone())).map_err(fail)?;
        let load_api: Table = lua
            .load(
                r#"
local real, register = ...
local api = {
  REDIS_VERSION = real.REDIS_VERSION, REDIS_VERSION_NUM = real.REDIS_VERSION_NUM,
  log = real.log, LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
}
api.register_function = function(...)
  local e = register(...)
  if e then error({err = e}, 0) end
end
return setmetatable(api, {
  __index = function(t, k)
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
  end,
  __newindex = function() error("Attempt to modify a readonly table", 2) end,
  __metatable = false,
})"#,
            )
            .set_name("=gostore")
            .call((
                self.func.globals.raw_get::<Value>("redis").map_err(fail)?,
                {
                    let registered = registered.clone();
                    let reg_error = reg_error.clone();
                    lua.create_function(move |_, a: MultiValue| match register_args(&a) {
                        Ok(def) => {
                            if registered.borrow().iter().any(|f| f.name == def.name) {
                                return Ok(Some(
                                    "ERR Function already exists in the library".to_string(),
                                ));
                            }
                            registered.borrow_mut().push(def);
                            Ok(None)
                        }
                        Err(e) => {
                            *reg_error.borrow_mut() = Some(e.clone());
                            Ok(Some(e))
                        }
                    })
                    .map_err(fail)?
                },
            ))
            .map_err(fail)?;
        let load_globals: Table = lua
            .load(
                r#"
local api = ...
return setmetatable({redis = api}, {
  __index = function(t, k)
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
  end,
  __newindex = function() error("Attempt to modify a readonly table", 2) end,
  __metatable = false,
})"#,
            )
            .set_name("=gostore")
            .call(load_api)
            .map_err(fail)?;
        meta.raw_set("__index", load_globals).map_err(fail)?;
        let func = lua
            .load(code)
            .set_name("@user_function")
            .set_environment(env.clone())
            .into_function()
            .map_err(|e| LoadError::Compile(super::lua_error_text(&e)))?;
        let runner: Function = self.func.internal.raw_get("run").map_err(fail)?;
        let r: MultiValue = runner.call(func).map_err(fail)?;
        let mut it = r.into_iter();
        if !matches!(it.next(), Some(Value::Boolean(true))) {
            let msg = match it.next() {
                Some(Value::Table(t)) => super::convert::error_info(&t)
                    .map(|(m, _)| String::from_utf8_lossy(&m).into_owned())
                    .unwrap_or_else(|| "ERR unknown error".into()),
                Some(Value::String(s)) => s.to_string_lossy(),
                _ => "ERR unknown error".into(),
            };
            return Err(LoadError::Run(msg));
        }
        // From now on the functions see the globals and the whole API.
        meta.raw_set("__index", self.func.globals.clone())
            .map_err(fail)?;
        let out = registered.borrow().clone();
        Ok(out)
    }

    /// FUNCTION DELETE.
    pub fn function_delete(&mut self, name: &[u8]) -> Result<(), CmdError> {
        let i = self
            .functions
            .libs
            .iter()
            .position(|l| l.name.as_bytes() == name)
            .ok_or(CmdError::Static("ERR Library not found"))?;
        self.functions.libs.remove(i);
        Ok(())
    }

    /// FUNCTION FLUSH.
    pub fn function_flush(&mut self) {
        self.functions.libs.clear();
        self.func.lua.gc_collect().ok();
    }
}

enum LoadError {
    Compile(String),
    Run(String),
}

/// `redis.register_function(name, callback)` or
/// `redis.register_function{function_name=..., callback=..., flags=...,
/// description=...}`.
fn register_args(a: &MultiValue) -> Result<FunctionDef, String> {
    let (name, func, flags, description) = match (a.len(), a.front()) {
        (1, Some(Value::Table(t))) => {
            let mut name = None;
            let mut func = None;
            let mut flags = 0;
            let mut description = None;
            for (k, v) in t.pairs::<Value, Value>().flatten() {
                let Value::String(k) = k else {
                    return Err(
                        "ERR named argument key given to register_function is not a string".into(),
                    );
                };
                match k.to_string_lossy().as_str() {
                    "function_name" => match v {
                        Value::String(s) => name = Some(s.as_bytes().to_vec()),
                        _ => return Err("ERR function_name argument given to register_function must be a string".into()),
                    },
                    "description" => match v {
                        Value::String(s) => description = Some(s.as_bytes().to_vec()),
                        _ => return Err("ERR description argument given to register_function must be a string".into()),
                    },
                    "callback" => match v {
                        Value::Function(f) => func = Some(f),
                        _ => return Err("ERR callback argument given to register_function must be a function".into()),
                    },
                    "flags" => match v {
                        Value::Table(ft) => {
                            for f in ft.sequence_values::<Value>().flatten() {
                                let Value::String(f) = f else {
                                    return Err("ERR unknown flag given".into());
                                };
                                flags |= flag_bit(&f.to_string_lossy()).ok_or_else(|| "ERR unknown flag given".to_string())?;
                            }
                        }
                        _ => return Err("ERR flags argument to redis.register_function must be a table representing function flags".into()),
                    },
                    other => return Err(format!("ERR unknown argument given to register_function: {other}").replace("ERR unknown argument", "ERR unknown argument")),
                }
            }
            let name = name.ok_or_else(|| {
                "ERR redis.register_function must get a function name argument".to_string()
            })?;
            let func = func.ok_or_else(|| {
                "ERR redis.register_function must get a callback argument".to_string()
            })?;
            (name, func, flags, description)
        }
        (2, Some(Value::String(n))) => {
            let Some(Value::Function(f)) = a.get(1) else {
                return Err(
                    "ERR callback argument given to register_function must be a function".into(),
                );
            };
            (n.as_bytes().to_vec(), f.clone(), 0, None)
        }
        _ => return Err("ERR wrong number of arguments to redis.register_function".into()),
    };
    if !valid_name(&name) {
        return Err("ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long".into());
    }
    Ok(FunctionDef {
        name: String::from_utf8_lossy(&name).into_owned(),
        func,
        flags,
        description,
    })
}
