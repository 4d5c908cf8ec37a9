//! String commands.

use super::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::resp::parser::Args;

/// Not implemented yet.
pub fn append(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn decr(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn decrby(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn get(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn getdel(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn getex(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn getrange(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn getset(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn incr(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn incrby(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn incrbyfloat(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn lcs(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn mget(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn mset(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn msetnx(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn psetex(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn set(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn setex(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn setnx(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn setrange(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn strlen(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn substr(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}
