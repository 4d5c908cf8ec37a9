//! Persistence commands: BGREWRITEAOF. The work is in `aof::rewrite`; the
//! handler only starts it and answers as Redis 7.0 does.

use super::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::resp::parser::Args;

/// `BGREWRITEAOF`: starts an AOF rewrite in the background. Refused while
/// one is in progress; later failures show in INFO persistence
/// (`aof_last_bgrewrite_status`) and the log.
pub fn bgrewriteaof(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let aof = &mut ctx.server_mut().aof;
    if aof.rewrite_in_progress() {
        return Err(CmdError::Static(
            "ERR Background append only file rewriting already in progress",
        ));
    }
    match aof.start_rewrite() {
        Ok(()) => {
            ctx.reply
                .simple("Background append only file rewriting started");
            Ok(())
        }
        Err(e) => {
            log::warn!("Can't start the AOF rewrite: {e}");
            Err(CmdError::Static("ERR Can't execute an AOF background rewriting. Please check the server logs for more information."))
        }
    }
}
