//! Server commands: INFO, CONFIG, COMMAND, DBSIZE, FLUSHDB/FLUSHALL, SWAPDB, TIME, LASTSAVE, SHUTDOWN.

use super::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::resp::parser::Args;

/// Not implemented yet.
pub fn command(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn command_count(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn command_docs(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn command_getkeys(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn command_getkeysandflags(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn command_help(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn command_info(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn command_list(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn config_get(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn config_help(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn config_resetstat(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn config_set(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn dbsize(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn flushall(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn flushdb(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn info(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn lastsave(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn shutdown(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn swapdb(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn time(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}
