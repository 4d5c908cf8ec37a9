//! EVAL's table entry and SCRIPT LOAD / EXISTS / FLUSH / KILL / HELP.
//! `call` runs EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, FCALL and FCALL_RO
//! itself (`crate::scripting::run`), as it runs EXEC.

use super::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::resp::parser::Args;

/// The table entry of the commands `call` runs through
/// `crate::scripting::run`; never reached.
pub fn eval_entry(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR scripts must run through call"))
}

/// `SCRIPT LOAD script`.
pub fn script_load(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let sha = ctx.server_mut().scripting.load_script(args.get(2))?;
    ctx.reply.bulk(sha.as_bytes());
    Ok(())
}

/// `SCRIPT EXISTS sha1 [sha1 ...]`.
pub fn script_exists(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    ctx.reply.array_len(args.len() - 2);
    for sha in args.iter_from(2) {
        let found = ctx.server().scripting.exists(sha);
        ctx.reply.int(found as i64);
    }
    Ok(())
}

/// `SCRIPT FLUSH [ASYNC|SYNC]`.
pub fn script_flush(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Static(
            "ERR SCRIPT FLUSH only support SYNC|ASYNC option",
        ));
    }
    if args.len() == 3 {
        let o = args.get(2);
        if !o.eq_ignore_ascii_case(b"sync") && !o.eq_ignore_ascii_case(b"async") {
            return Err(CmdError::Static(
                "ERR SCRIPT FLUSH only support SYNC|ASYNC option",
            ));
        }
    }
    ctx.server_mut().scripting.flush_scripts();
    ctx.reply.ok();
    Ok(())
}

/// `SCRIPT KILL`: stops the running EVAL script, unless it wrote (only
/// reached while a script is past `busy-reply-threshold`, see `busy`).
pub fn script_kill(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    crate::scripting::busy::kill(ctx.server_mut().scripting.running.as_mut(), true)
        .map_err(CmdError::Static)?;
    ctx.reply.ok();
    Ok(())
}

/// `SCRIPT HELP`.
pub fn script_help(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.reply.help(
        "SCRIPT",
        &[
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    );
    Ok(())
}
