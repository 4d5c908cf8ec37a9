//! The `cjson` library Redis 7.0 loads (lua-cjson 2.1.0): `encode`,
//! `decode`, `null`, `new` and the configuration functions, with its
//! defaults, number formatting, escaping, sparse-array rules, limits and
//! error texts. The configuration lives as long as the Lua state, as in
//! Redis; `cjson.new()` makes a module with its own.

use std::cell::RefCell;
use std::rc::Rc;

use mlua::{Lua, MultiValue, Table, Value};

use super::support::{
    check_bytes, check_integer, null_value, number_of, one, register, type_name, LibErr, LibResult,
    MAX_C_STACK,
};

#[derive(Debug, Clone)]
struct Config {
    sparse_convert: i32,
    sparse_ratio: i32,
    sparse_safe: i32,
    encode_max_depth: i32,
    decode_max_depth: i32,
    /// 0 refuse NaN/Inf, 1 write them, 2 write `null`.
    encode_invalid_numbers: i32,
    decode_invalid_numbers: i32,
    keep_buffer: i32,
    precision: i32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sparse_convert: 0,
            sparse_ratio: 2,
            sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid_numbers: 0,
            decode_invalid_numbers: 1,
            keep_buffer: 1,
            precision: 14,
        }
    }
}

type Shared = Rc<RefCell<Config>>;

/// `printf("%.*g", prec, n)`.
pub fn fmt_g(n: f64, prec: i32) -> String {
    let mut buf = [0u8; 64];
    let fmt = b"%.*g\0";
    // SAFETY: buf has room for any %.{1..17}g rendering of a double (at
    // most 24 bytes); the format is NUL-terminated and takes an int and a
    // double, which are passed.
    let len = unsafe {
        libc::snprintf(
            buf.as_mut_ptr().cast(),
            buf.len(),
            fmt.as_ptr().cast(),
            prec as libc::c_int,
            n,
        )
    };
    let len = (len.max(0) as usize).min(buf.len() - 1);
    String::from_utf8_lossy(&buf[..len]).into_owned()
}

// ---------------------------------------------------------------- options

/// `json_arg_init`: at most `max` arguments.
fn arg_init(args: &[Value], max: usize) -> LibResult<()> {
    if args.len() > max {
        return Err(LibErr::Arg(
            max as i32 + 1,
            "found too many arguments".into(),
        ));
    }
    Ok(())
}

fn is_nil(args: &[Value], narg: usize) -> bool {
    matches!(args.get(narg - 1), None | Some(Value::Nil))
}

/// `json_integer_option`: the new value when given (its range error
/// names argument 1 whichever argument it was, as lua-cjson does).
fn integer_option(
    args: &[Value],
    narg: usize,
    setting: &mut i32,
    min: i32,
    max: i32,
) -> LibResult<Value> {
    if !is_nil(args, narg) {
        let value = check_integer(args, narg)? as i32;
        if !(min <= value && value <= max) {
            return Err(LibErr::Arg(
                1,
                format!("expected integer between {min} and {max}"),
            ));
        }
        *setting = value;
    }
    Ok(Value::Number(*setting as f64))
}

/// `json_enum_option`: booleans (when `bool_true` is set) or an option
/// name; returns the setting as a boolean or its name.
fn enum_option(
    lua: &Lua,
    args: &[Value],
    narg: usize,
    setting: &mut i32,
    options: Option<&[&str]>,
    bool_true: i32,
) -> LibResult<Value> {
    let (options, bool_true) = match options {
        Some(o) => (o, bool_true),
        None => (&["off", "on"][..], 1),
    };
    if !is_nil(args, narg) {
        match args.get(narg - 1) {
            Some(Value::Boolean(b)) if bool_true != 0 => *setting = *b as i32 * bool_true,
            _ => {
                let name = check_bytes(args, narg)?;
                match options.iter().position(|o| o.as_bytes() == name.as_slice()) {
                    Some(i) => *setting = i as i32,
                    None => {
                        return Err(LibErr::Arg(
                            narg as i32,
                            format!("invalid option '{}'", String::from_utf8_lossy(&name)),
                        ))
                    }
                }
            }
        }
    }
    if bool_true != 0 && (*setting == 0 || *setting == bool_true) {
        Ok(Value::Boolean(*setting != 0))
    } else {
        Ok(Value::String(lua.create_string(
            options.get(*setting as usize).copied().unwrap_or(""),
        )?))
    }
}

// --------------------------------------------------------------- encoding

struct Encoder<'a> {
    cfg: &'a Config,
    out: Vec<u8>,
}

fn serialise_error(what: &Value, reason: &str) -> LibErr {
    LibErr::Msg(format!(
        "Cannot serialise {}: {reason}",
        type_name(Some(what))
    ))
}

fn append_string(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            8 => out.extend_from_slice(b"\\b"),
            9 => out.extend_from_slice(b"\\t"),
            10 => out.extend_from_slice(b"\\n"),
            12 => out.extend_from_slice(b"\\f"),
            13 => out.extend_from_slice(b"\\r"),
            0..=31 | 127 => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
            _ => out.push(c),
        }
    }
    out.push(b'"');
}

/// A double as a C int on x86-64 (out of range: INT_MIN).
fn c_int(k: f64) -> i32 {
    if k > -2_147_483_649.0 && k < 2_147_483_648.0 {
        k as i32
    } else {
        i32::MIN
    }
}

impl Encoder<'_> {
    fn number(&mut self, v: &Value, n: f64) -> LibResult<()> {
        if n.is_nan() || n.is_infinite() {
            match self.cfg.encode_invalid_numbers {
                0 => return Err(serialise_error(v, "must not be NaN or Inf")),
                1 if n.is_nan() => {
                    self.out.extend_from_slice(b"nan");
                    return Ok(());
                }
                1 => {}
                _ => {
                    self.out.extend_from_slice(b"null");
                    return Ok(());
                }
            }
        }
        self.out
            .extend_from_slice(fmt_g(n, self.cfg.precision).as_bytes());
        Ok(())
    }

    /// `lua_array_length`: the array's length, or None for an object.
    fn array_length(&self, v: &Value, t: &Table) -> LibResult<Option<i32>> {
        let mut max: i32 = 0;
        let mut items: i32 = 0;
        for pair in t.pairs::<Value, Value>() {
            let (k, _) = pair?;
            match number_of(&k) {
                Some(k) if k != 0.0 && k.floor() == k && k >= 1.0 => {
                    if k > max as f64 {
                        max = c_int(k);
                    }
                    items = items.wrapping_add(1);
                }
                _ => return Ok(None),
            }
        }
        let c = self.cfg;
        if c.sparse_ratio > 0 && max > items.wrapping_mul(c.sparse_ratio) && max > c.sparse_safe {
            if c.sparse_convert == 0 {
                return Err(serialise_error(v, "excessively sparse array"));
            }
            return Ok(None);
        }
        Ok(Some(max))
    }

    /// `json_append_data` for a value that is not a table.
    fn scalar(&mut self, v: &Value) -> LibResult<()> {
        match v {
            Value::String(s) => append_string(&mut self.out, &s.as_bytes()),
            Value::Number(n) => self.number(v, *n)?,
            Value::Integer(i) => self.number(v, *i as f64)?,
            Value::Boolean(b) => self
                .out
                .extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Nil => self.out.extend_from_slice(b"null"),
            Value::LightUserData(p) if p.0.is_null() => self.out.extend_from_slice(b"null"),
            other => return Err(serialise_error(other, "type not supported")),
        }
        Ok(())
    }

    /// An object's key, `"key":`.
    fn key(&mut self, k: &Value) -> LibResult<()> {
        match k {
            Value::String(s) => {
                append_string(&mut self.out, &s.as_bytes());
                self.out.push(b':');
            }
            _ => match number_of(k) {
                Some(n) => {
                    self.out.push(b'"');
                    self.number(k, n)?;
                    self.out.extend_from_slice(b"\":");
                }
                None => return Err(serialise_error(k, "table key must be a number or string")),
            },
        }
        Ok(())
    }

    /// `json_append_data` for a table at `depth`, `top` being the Lua
    /// stack the C code would use there: writes an empty container whole,
    /// else its opening and the frame that walks it. The table (and an
    /// object's keys, in `next` order) are kept in `held`, not as Rust
    /// references, so the nesting is bounded by Lua's C stack as in the C
    /// code (about 7997 levels of arrays), not by mlua's reference stack.
    fn open(
        &mut self,
        lua: &Lua,
        held: &Table,
        v: &Value,
        t: &Table,
        depth: usize,
        top: usize,
    ) -> LibResult<Option<Frame>> {
        if depth > self.cfg.encode_max_depth.max(0) as usize || top + 3 > MAX_C_STACK {
            return Err(LibErr::Msg(format!(
                "Cannot serialise, excessive nesting ({depth})"
            )));
        }
        let t = &super::support::real_table(lua, t);
        match self.array_length(v, t)? {
            Some(len) if len > 0 => {
                self.out.push(b'[');
                held.raw_set(2 * depth - 1, t)?;
                Ok(Some(Frame {
                    len: len as usize,
                    next: 1,
                    object: false,
                    top,
                }))
            }
            _ => {
                let keys = lua.create_table()?;
                let mut n = 0usize;
                for pair in t.pairs::<Value, Value>() {
                    let (k, _) = pair?;
                    n += 1;
                    keys.raw_set(n, k)?;
                }
                if n == 0 {
                    self.out.extend_from_slice(b"{}");
                    return Ok(None);
                }
                self.out.push(b'{');
                held.raw_set(2 * depth - 1, t)?;
                held.raw_set(2 * depth, keys)?;
                Ok(Some(Frame {
                    len: n,
                    next: 1,
                    object: true,
                    top,
                }))
            }
        }
    }

    /// `json_append_data` for the value to encode, walking nested tables
    /// with a stack of frames instead of recursion.
    fn value(&mut self, lua: &Lua, root: &Value) -> LibResult<()> {
        let Value::Table(t) = root else {
            return self.scalar(root);
        };
        let held = lua.create_table()?;
        let mut frames: Vec<Frame> = Vec::new();
        if let Some(f) = self.open(lua, &held, root, t, 1, 1)? {
            frames.push(f);
        }
        loop {
            let depth = frames.len();
            let Some(f) = frames.last_mut() else { break };
            if f.next > f.len {
                self.out.push(if f.object { b'}' } else { b']' });
                held.raw_set(2 * depth - 1, Value::Nil)?;
                held.raw_set(2 * depth, Value::Nil)?;
                frames.pop();
                continue;
            }
            if f.next > 1 {
                self.out.push(b',');
            }
            let i = f.next;
            f.next += 1;
            let (object, top) = (f.object, f.top);
            let t: Table = held.raw_get(2 * depth - 1)?;
            let item: Value = if object {
                let keys: Table = held.raw_get(2 * depth)?;
                let k: Value = keys.raw_get(i)?;
                self.key(&k)?;
                t.raw_get(k)?
            } else {
                t.raw_get(i)?
            };
            drop(t);
            match &item {
                Value::Table(child) => {
                    let child_top = top + if object { 2 } else { 1 };
                    if let Some(f) = self.open(lua, &held, &item, child, depth + 1, child_top)? {
                        frames.push(f);
                    }
                }
                _ => self.scalar(&item)?,
            }
        }
        Ok(())
    }
}

/// A table being encoded: its length (array) or key count (object), the
/// next element, and the Lua stack the C code would use at its level.
struct Frame {
    len: usize,
    next: usize,
    object: bool,
    top: usize,
}

fn encode(lua: &Lua, cfg: &Shared, args: &[Value]) -> LibResult<MultiValue> {
    if args.len() != 1 {
        return Err(LibErr::Arg(1, "expected 1 argument".into()));
    }
    let cfg = cfg.borrow().clone();
    let mut enc = Encoder {
        cfg: &cfg,
        out: Vec::new(),
    };
    enc.value(lua, &args[0])?;
    one(Value::String(lua.create_string(&enc.out)?))
}

// --------------------------------------------------------------- decoding

#[derive(Debug)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str(Vec<u8>),
    Num(f64),
    Bool(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

impl Tok {
    fn name(&self) -> &'static str {
        match self {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::Str(_) => "T_STRING",
            Tok::Num(_) => "T_NUMBER",
            Tok::Bool(_) => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Error(e) => e,
        }
    }
}

struct Parser<'a> {
    /// The text and a NUL after it (the C parser stops at the first NUL).
    data: Vec<u8>,
    ptr: usize,
    cfg: &'a Config,
}

fn hex_digit(c: u8) -> Option<u32> {
    (c as char).to_digit(16)
}

fn to_utf8(out: &mut Vec<u8>, cp: u32) {
    if cp <= 0x7F {
        out.push(cp as u8);
    } else if cp <= 0x7FF {
        out.extend_from_slice(&[(cp >> 6) as u8 | 0xC0, (cp & 0x3F) as u8 | 0x80]);
    } else if cp <= 0xFFFF {
        out.extend_from_slice(&[
            (cp >> 12) as u8 | 0xE0,
            ((cp >> 6) & 0x3F) as u8 | 0x80,
            (cp & 0x3F) as u8 | 0x80,
        ]);
    } else {
        out.extend_from_slice(&[
            (cp >> 18) as u8 | 0xF0,
            ((cp >> 12) & 0x3F) as u8 | 0x80,
            ((cp >> 6) & 0x3F) as u8 | 0x80,
            (cp & 0x3F) as u8 | 0x80,
        ]);
    }
}

impl Parser<'_> {
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn hex4(&self, i: usize) -> Option<u32> {
        let mut v = 0;
        for j in 0..4 {
            v = (v << 4) | hex_digit(self.at(i + j))?;
        }
        Some(v)
    }

    /// A `\uXXXX` escape (and its low surrogate) at `ptr`, appended.
    fn unicode_escape(&mut self, out: &mut Vec<u8>) -> Option<()> {
        let mut cp = self.hex4(self.ptr + 2)?;
        let mut len = 6;
        if cp & 0xF800 == 0xD800 {
            if cp & 0x400 != 0 {
                return None;
            }
            if self.at(self.ptr + 6) != b'\\' || self.at(self.ptr + 7) != b'u' {
                return None;
            }
            let low = self.hex4(self.ptr + 8)?;
            if low & 0xFC00 != 0xDC00 {
                return None;
            }
            cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            len = 12;
        }
        to_utf8(out, cp);
        self.ptr += len;
        Some(())
    }

    fn string(&mut self) -> Tok {
        self.ptr += 1;
        let mut out = Vec::new();
        loop {
            let mut ch = self.at(self.ptr);
            if ch == b'"' {
                break;
            }
            if ch == 0 {
                return Tok::Error("unexpected end of string");
            }
            if ch == b'\\' {
                ch = match self.at(self.ptr + 1) {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 8,
                    b't' => 9,
                    b'n' => 10,
                    b'f' => 12,
                    b'r' => 13,
                    b'u' => {
                        if self.unicode_escape(&mut out).is_some() {
                            continue;
                        }
                        return Tok::Error("invalid unicode escape code");
                    }
                    _ => return Tok::Error("invalid escape code"),
                };
                self.ptr += 1;
            }
            out.push(ch);
            self.ptr += 1;
        }
        self.ptr += 1;
        Tok::Str(out)
    }

    /// `json_is_invalid_number`: forms strtod takes but JSON does not.
    fn invalid_number(&self) -> bool {
        let mut p = self.ptr;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        let c = self.at(p);
        if c == b'0' {
            let c2 = self.at(p + 1);
            return (c2 | 0x20) == b'x' || c2.is_ascii_digit();
        } else if c <= b'9' {
            return false;
        }
        let word = |w: &[u8]| (0..3).all(|i| self.at(p + i).to_ascii_lowercase() == w[i]);
        word(b"inf") || word(b"nan")
    }

    fn number(&mut self) -> Tok {
        let start = self.data[self.ptr..].as_ptr();
        let mut end: *mut libc::c_char = std::ptr::null_mut();
        // SAFETY: data ends with a NUL, so strtod stops inside it; `end` is
        // set to a position within data at or after `start`.
        let (n, used) = unsafe {
            let n = libc::strtod(start.cast(), &mut end);
            (n, end as usize - start as usize)
        };
        if used == 0 {
            return Tok::Error("invalid number");
        }
        self.ptr += used;
        Tok::Num(n)
    }

    /// The next token and where it starts (for errors: where it failed).
    fn next(&mut self) -> (Tok, usize) {
        while matches!(self.at(self.ptr), b' ' | b'\t' | b'\n' | b'\r') {
            self.ptr += 1;
        }
        let at = self.ptr;
        let ch = self.at(at);
        let single = match ch {
            b'{' => Some(Tok::ObjBegin),
            b'}' => Some(Tok::ObjEnd),
            b'[' => Some(Tok::ArrBegin),
            b']' => Some(Tok::ArrEnd),
            b',' => Some(Tok::Comma),
            b':' => Some(Tok::Colon),
            0 => return (Tok::End, at),
            _ => None,
        };
        if let Some(t) = single {
            self.ptr += 1;
            return (t, at);
        }
        let rest = &self.data[at..];
        let tok = match ch {
            b'"' => self.string(),
            b'-' | b'0'..=b'9' => {
                if self.cfg.decode_invalid_numbers == 0 && self.invalid_number() {
                    Tok::Error("invalid number")
                } else {
                    self.number()
                }
            }
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+' => {
                if rest.starts_with(b"true") {
                    self.ptr += 4;
                    Tok::Bool(true)
                } else if rest.starts_with(b"false") {
                    self.ptr += 5;
                    Tok::Bool(false)
                } else if rest.starts_with(b"null") {
                    self.ptr += 4;
                    Tok::Null
                } else if self.cfg.decode_invalid_numbers != 0 && self.invalid_number() {
                    self.number()
                } else {
                    Tok::Error("invalid token")
                }
            }
            _ => Tok::Error("invalid token"),
        };
        let at = if matches!(tok, Tok::Error(_)) {
            self.ptr
        } else {
            at
        };
        (tok, at)
    }
}

fn expected(exp: &str, tok: &(Tok, usize)) -> LibErr {
    LibErr::Msg(format!(
        "Expected {exp} but found {} at character {}",
        tok.0.name(),
        tok.1 + 1
    ))
}

/// An open array (next index) or object (pending key); its table is in
/// the `holder` table at the container's depth.
enum Open {
    Arr(i64),
    Obj(Vec<u8>),
}

fn decode_text(lua: &Lua, cfg: &Config, text: &[u8]) -> LibResult<Value> {
    if text.len() >= 2 && (text[0] == 0 || text[1] == 0) {
        return Err(LibErr::Msg(
            "JSON parser does not support UTF-16 or UTF-32".into(),
        ));
    }
    let mut data = Vec::with_capacity(text.len() + 1);
    data.extend_from_slice(text);
    data.push(0);
    let mut p = Parser { data, ptr: 0, cfg };
    // The C parser recurses, one level per open array or object, with
    // the Lua stack holding each level's table (and an object's key).
    let mut open: Vec<Open> = Vec::new();
    let holder = lua.create_table()?;
    let mut top: usize = 1;
    let mut tok = p.next();
    'values: loop {
        let mut val = match tok.0 {
            Tok::Str(ref s) => Value::String(lua.create_string(s)?),
            Tok::Num(n) => Value::Number(n),
            Tok::Bool(b) => Value::Boolean(b),
            Tok::Null => null_value(),
            Tok::ObjBegin | Tok::ArrBegin => {
                let is_obj = matches!(tok.0, Tok::ObjBegin);
                let slots = if is_obj { 3 } else { 2 };
                let depth = open.len() + 1;
                // Redis's bound is Lua's C stack (7998 arrays or 3999
                // objects), emulated here; open containers live in one Lua
                // table, not as mlua references, so there is no cap of
                // GoStore's own.
                if depth > cfg.decode_max_depth.max(0) as usize || top + slots > MAX_C_STACK {
                    return Err(LibErr::Msg(format!(
                        "Found too many nested data structures ({depth}) at character {}",
                        p.ptr
                    )));
                }
                let t = lua.create_table()?;
                let next = p.next();
                let closes = if is_obj {
                    matches!(next.0, Tok::ObjEnd)
                } else {
                    matches!(next.0, Tok::ArrEnd)
                };
                if closes {
                    Value::Table(t)
                } else if is_obj {
                    let Tok::Str(key) = next.0 else {
                        return Err(expected("object key string", &next));
                    };
                    let colon = p.next();
                    if !matches!(colon.0, Tok::Colon) {
                        return Err(expected("colon", &colon));
                    }
                    holder.raw_set(depth, t)?;
                    open.push(Open::Obj(key));
                    top += 2;
                    tok = p.next();
                    continue 'values;
                } else {
                    holder.raw_set(depth, t)?;
                    open.push(Open::Arr(1));
                    top += 1;
                    tok = next;
                    continue 'values;
                }
            }
            _ => return Err(expected("value", &tok)),
        };
        // Hand the value to the innermost open container, closing those
        // that end.
        loop {
            let depth = open.len();
            match open.last_mut() {
                None => {
                    let end = p.next();
                    if !matches!(end.0, Tok::End) {
                        return Err(expected("the end", &end));
                    }
                    return Ok(val);
                }
                Some(Open::Arr(i)) => {
                    let t: Table = holder.raw_get(depth)?;
                    t.raw_set(*i, val)?;
                    *i += 1;
                    let next = p.next();
                    match next.0 {
                        Tok::ArrEnd => {
                            holder.raw_set(depth, Value::Nil)?;
                            open.pop();
                            top -= 1;
                            val = Value::Table(t);
                        }
                        Tok::Comma => {
                            tok = p.next();
                            continue 'values;
                        }
                        _ => return Err(expected("comma or array end", &next)),
                    }
                }
                Some(Open::Obj(key)) => {
                    let t: Table = holder.raw_get(depth)?;
                    t.raw_set(lua.create_string(&*key)?, val)?;
                    let next = p.next();
                    match next.0 {
                        Tok::ObjEnd => {
                            holder.raw_set(depth, Value::Nil)?;
                            open.pop();
                            top -= 2;
                            val = Value::Table(t);
                        }
                        Tok::Comma => {
                            let k = p.next();
                            let Tok::Str(s) = k.0 else {
                                return Err(expected("object key string", &k));
                            };
                            *key = s;
                            let colon = p.next();
                            if !matches!(colon.0, Tok::Colon) {
                                return Err(expected("colon", &colon));
                            }
                            tok = p.next();
                            continue 'values;
                        }
                        _ => return Err(expected("comma or object end", &next)),
                    }
                }
            }
        }
    }
}

fn decode(lua: &Lua, cfg: &Shared, args: &[Value]) -> LibResult<MultiValue> {
    if args.len() != 1 {
        return Err(LibErr::Arg(1, "expected 1 argument".into()));
    }
    let text = check_bytes(args, 1)?;
    let cfg = cfg.borrow().clone();
    one(decode_text(lua, &cfg, &text)?)
}

// ----------------------------------------------------------------- module

fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let cfg: Shared = Rc::default();
    let reg = |name: &str, f: fn(&Lua, &Shared, &[Value]) -> LibResult<MultiValue>| {
        let cfg = cfg.clone();
        register(lua, &t, name, move |lua, a: MultiValue| {
            let args: Vec<Value> = a.into_iter().collect();
            f(lua, &cfg, &args)
        })
    };
    reg("encode", encode)?;
    reg("decode", decode)?;
    reg("encode_sparse_array", |lua, cfg, args| {
        arg_init(args, 3)?;
        let mut c = cfg.borrow_mut();
        let convert = enum_option(lua, args, 1, &mut c.sparse_convert, None, 1)?;
        let ratio = integer_option(args, 2, &mut c.sparse_ratio, 0, i32::MAX)?;
        let safe = integer_option(args, 3, &mut c.sparse_safe, 0, i32::MAX)?;
        Ok(MultiValue::from_iter([convert, ratio, safe]))
    })?;
    reg("encode_max_depth", |_, cfg, args| {
        arg_init(args, 1)?;
        one(integer_option(
            args,
            1,
            &mut cfg.borrow_mut().encode_max_depth,
            1,
            i32::MAX,
        )?)
    })?;
    reg("decode_max_depth", |_, cfg, args| {
        arg_init(args, 1)?;
        one(integer_option(
            args,
            1,
            &mut cfg.borrow_mut().decode_max_depth,
            1,
            i32::MAX,
        )?)
    })?;
    reg("encode_number_precision", |_, cfg, args| {
        arg_init(args, 1)?;
        one(integer_option(
            args,
            1,
            &mut cfg.borrow_mut().precision,
            1,
            14,
        )?)
    })?;
    reg("encode_keep_buffer", |lua, cfg, args| {
        arg_init(args, 1)?;
        one(enum_option(
            lua,
            args,
            1,
            &mut cfg.borrow_mut().keep_buffer,
            None,
            1,
        )?)
    })?;
    reg("encode_invalid_numbers", |lua, cfg, args| {
        arg_init(args, 1)?;
        let opts = ["off", "on", "null"];
        let mut c = cfg.borrow_mut();
        one(enum_option(
            lua,
            args,
            1,
            &mut c.encode_invalid_numbers,
            Some(&opts),
            1,
        )?)
    })?;
    reg("decode_invalid_numbers", |lua, cfg, args| {
        arg_init(args, 1)?;
        let mut c = cfg.borrow_mut();
        one(enum_option(
            lua,
            args,
            1,
            &mut c.decode_invalid_numbers,
            None,
            1,
        )?)
    })?;
    register(lua, &t, "new", |lua, _| one(Value::Table(module(lua)?)))?;
    t.raw_set("null", null_value())?;
    t.raw_set("_NAME", "cjson")?;
    t.raw_set("_VERSION", "2.1.0")?;
    Ok(t)
}

/// Sets the `cjson` global.
pub fn load(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    globals.raw_set("cjson", module(lua)?)
}
