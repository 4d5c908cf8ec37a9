//! SLOWLOG GET|LEN|RESET|HELP (Redis's slowlog.c).

use super::args;
use super::ctx::ServerParts;
use super::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::resp::parser::Args;

/// `SLOWLOG GET [count]`: the newest `count` entries (default 10, -1: all),
/// each `[id, time, µs, [args...], client addr, client name]`.
pub fn slowlog_get(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let mut count: i64 = 10;
    if args.len() > 3 {
        return Err(CmdError::msg(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
            args::text(args.get(1)),
            args::text(args.get(0)).to_ascii_uppercase()
        )));
    }
    if args.len() == 3 {
        const MSG: &str = "ERR count should be greater than or equal to -1";
        count = crate::util::num::parse_i64(args.get(2))
            .filter(|&n| n >= -1)
            .ok_or(CmdError::Static(MSG))?;
        if count == -1 {
            count = ctx.server().ops.slowlog.len() as i64;
        }
    }
    let n = (count as usize).min(ctx.server().ops.slowlog.len());
    let ServerParts { core, reply: r, .. } = ctx.server_parts();
    r.array_len(n);
    for e in core.ops.slowlog.iter().take(n) {
        r.array_len(6);
        r.int(e.id as i64);
        r.int(e.time);
        r.int(e.duration_us as i64);
        r.array_len(e.argv.len());
        for a in &e.argv {
            r.bulk(a);
        }
        r.bulk(e.peer.as_bytes());
        r.bulk(&e.name);
    }
    Ok(())
}

/// `SLOWLOG LEN`.
pub fn slowlog_len(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.reply.int(ctx.server().ops.slowlog.len() as i64);
    Ok(())
}

/// `SLOWLOG RESET`.
pub fn slowlog_reset(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.server_mut().ops.slowlog.reset();
    ctx.reply.ok();
    Ok(())
}

/// `SLOWLOG HELP`.
pub fn slowlog_help(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    ctx.reply.help(
        &args::text(args.get(0)),
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    );
    Ok(())
}
