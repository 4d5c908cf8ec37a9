//! FUNCTION LOAD / DELETE / LIST / DUMP / RESTORE / FLUSH / STATS / KILL /
//! HELP. The library changes count as changes to the dataset, so `call`
//! writes them to the AOF as received (as Redis does) and the AOF replays
//! them at start-up.

use super::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::resp::parser::Args;
use crate::util::glob::matches as glob_match;

/// `FUNCTION LOAD [REPLACE] code`.
pub fn function_load(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let mut replace = false;
    let mut i = 2;
    while i < args.len() - 1 {
        if args.get(i).eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else {
            return Err(CmdError::msg(format!(
                "ERR Unknown option given: {}",
                String::from_utf8_lossy(args.get(i))
            )));
        }
        i += 1;
    }
    if i != args.len() - 1 {
        return Err(CmdError::Static("ERR Function code was not given"));
    }
    let name = ctx
        .server_mut()
        .scripting
        .function_load(args.get(args.len() - 1), replace)?;
    ctx.dirty += 1;
    ctx.reply.bulk(name.as_bytes());
    Ok(())
}

/// `FUNCTION DELETE library-name`.
pub fn function_delete(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    ctx.server_mut().scripting.function_delete(args.get(2))?;
    ctx.dirty += 1;
    ctx.reply.ok();
    Ok(())
}

/// `FUNCTION FLUSH [ASYNC|SYNC]`.
pub fn function_flush(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() == 3 {
        let o = args.get(2);
        if !o.eq_ignore_ascii_case(b"sync") && !o.eq_ignore_ascii_case(b"async") {
            return Err(CmdError::Static(
                "ERR FUNCTION FLUSH only supports SYNC|ASYNC option",
            ));
        }
    } else if args.len() > 3 {
        return Err(CmdError::Static(
            "ERR FUNCTION FLUSH only supports SYNC|ASYNC option",
        ));
    }
    ctx.server_mut().scripting.function_flush();
    ctx.dirty += 1;
    ctx.reply.ok();
    Ok(())
}

/// `FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]`.
pub fn function_list(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let mut pattern: Option<&[u8]> = None;
    let mut with_code = false;
    let mut i = 2;
    while i < args.len() {
        let a = args.get(i);
        if a.eq_ignore_ascii_case(b"withcode") {
            if with_code {
                return Err(CmdError::Static(
                    "ERR Unknown argument withcode given more then once",
                ));
            }
            with_code = true;
        } else if a.eq_ignore_ascii_case(b"libraryname") {
            if pattern.is_some() {
                return Err(CmdError::Static(
                    "ERR library name argument was already given",
                ));
            }
            if i + 1 >= args.len() {
                return Err(CmdError::Static("ERR library name argument was not given"));
            }
            i += 1;
            pattern = Some(args.get(i));
        } else {
            return Err(CmdError::msg(format!(
                "ERR Unknown argument {}",
                String::from_utf8_lossy(a)
            )));
        }
        i += 1;
    }
    let parts = ctx.server_parts();
    let libs = &parts.core.scripting.functions.libs;
    let reply = parts.reply;
    let shown: Vec<_> = libs
        .iter()
        .filter(|l| pattern.is_none_or(|p| glob_match(p, l.name.as_bytes(), false)))
        .collect();
    reply.array_len(shown.len());
    for l in shown {
        reply.map_len(if with_code { 4 } else { 3 });
        reply.bulk(b"library_name");
        reply.bulk(l.name.as_bytes());
        reply.bulk(b"engine");
        reply.bulk(b"LUA");
        reply.bulk(b"functions");
        reply.array_len(l.functions.len());
        for f in &l.functions {
            reply.map_len(3);
            reply.bulk(b"name");
            reply.bulk(f.name.as_bytes());
            reply.bulk(b"description");
            match &f.description {
                Some(d) => reply.bulk(d),
                None => reply.null(),
            }
            reply.bulk(b"flags");
            let names = crate::scripting::flag_names(f.flags);
            reply.set_len(names.len());
            for n in names {
                reply.simple(n);
            }
        }
        if with_code {
            reply.bulk(b"library_code");
            reply.bulk(&l.code);
        }
    }
    Ok(())
}

/// `FUNCTION STATS`: no script is ever running when it is read.
pub fn function_stats(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    // An EVAL script past busy-reply-threshold: Redis answers -BUSY.
    if let Some(r) = ctx.server().scripting.running.as_ref() {
        if r.is_eval && r.timed_out {
            return Err(CmdError::Static(crate::scripting::busy::BUSY_EVAL));
        }
    }
    let parts = ctx.server_parts();
    let f = &parts.core.scripting.functions;
    let (libs, funcs) = (f.libs.len() as i64, f.function_count() as i64);
    let reply = parts.reply;
    reply.map_len(2);
    reply.bulk(b"running_script");
    reply.null();
    reply.bulk(b"engines");
    reply.map_len(1);
    reply.bulk(b"LUA");
    reply.map_len(2);
    reply.bulk(b"libraries_count");
    reply.int(libs);
    reply.bulk(b"functions_count");
    reply.int(funcs);
    Ok(())
}

/// `FUNCTION KILL`.
pub fn function_kill(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    crate::scripting::busy::kill(ctx.server_mut().scripting.running.as_mut(), false)
        .map_err(CmdError::Static)?;
    ctx.reply.ok();
    Ok(())
}

/// `FUNCTION DUMP`: the libraries in Redis's payload (RDB function
/// opcodes, RDB version, CRC64), which either server restores.
pub fn function_dump(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let codes: Vec<Vec<u8>> = ctx
        .server_mut()
        .scripting
        .functions
        .libs
        .iter()
        .map(|l| l.code.clone())
        .collect();
    let compression = ctx.server_mut().config.rdbcompression;
    let payload = crate::rdb::writer::function_payload(&codes, compression);
    ctx.reply.bulk(&payload);
    Ok(())
}

/// `FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]`, as Redis's
/// `functionRestoreCommand`: all the payload's libraries or none.
pub fn function_restore(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() > 4 {
        return Err(CmdError::msg(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try FUNCTION HELP.",
            String::from_utf8_lossy(args.get(1))
        )));
    }
    #[derive(PartialEq)]
    enum Policy {
        Flush,
        Append,
        Replace,
    }
    let policy = if args.len() == 4 {
        let p = args.get(3);
        if p.eq_ignore_ascii_case(b"append") {
            Policy::Append
        } else if p.eq_ignore_ascii_case(b"replace") {
            Policy::Replace
        } else if p.eq_ignore_ascii_case(b"flush") {
            Policy::Flush
        } else {
            return Err(CmdError::Static(
                "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            ));
        }
    } else {
        Policy::Append
    };
    let codes = crate::rdb::loader::function_payload_codes(args.get(2))
        .map_err(|e| CmdError::msg(format!("ERR {e}")))?;
    let scripting = &mut ctx.server_mut().scripting;
    let saved: Vec<crate::scripting::functions::Library> = scripting
        .functions
        .libs
        .iter()
        .map(|l| crate::scripting::functions::Library {
            name: l.name.clone(),
            code: l.code.clone(),
            functions: l.functions.clone(),
        })
        .collect();
    let existing: Vec<String> = saved.iter().map(|l| l.name.clone()).collect();
    if policy == Policy::Flush {
        scripting.functions.libs.clear();
    }
    let mut result = Ok(());
    for code in &codes {
        match scripting.function_load(code, policy == Policy::Replace) {
            Ok(_) => {}
            Err(e) => {
                // A library the payload shares with the current set, under
                // APPEND: Redis's `libraryJoin` words it without quotes.
                let text = e.to_string();
                let joined = text
                    .strip_prefix("ERR Library '")
                    .and_then(|r| r.strip_suffix("' already exists"))
                    .filter(|n| policy == Policy::Append && existing.iter().any(|x| x == n));
                result = Err(match joined {
                    Some(name) => CmdError::msg(format!("ERR Library {name} already exists")),
                    None => e,
                });
                break;
            }
        }
    }
    if let Err(e) = result {
        scripting.functions.libs = saved;
        return Err(e);
    }
    ctx.dirty += 1;
    ctx.reply.ok();
    Ok(())
}

/// `FUNCTION HELP`.
pub fn function_help(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.reply.help(
        "FUNCTION",
        &[
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this case there is no guarantee that the",
            "      functions will be restored in the same order as they were loaded originally).",
        ],
    );
    Ok(())
}
