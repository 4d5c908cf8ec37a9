//! Hash commands.

use super::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::resp::parser::Args;

/// Not implemented yet.
pub fn hdel(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn hexists(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn hget(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn hgetall(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn hincrby(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn hincrbyfloat(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn hkeys(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn hlen(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn hmget(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn hmset(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn hrandfield(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn hscan(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn hset(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn hsetnx(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn hstrlen(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn hvals(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}
