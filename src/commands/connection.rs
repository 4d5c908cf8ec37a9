//! Connection commands: PING, ECHO, HELLO, AUTH, SELECT, CLIENT, RESET, QUIT.

use super::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::resp::parser::Args;

/// Not implemented yet.
pub fn auth(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn client_getname(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn client_help(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn client_id(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn client_info(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn client_kill(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn client_list(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn client_setinfo(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn client_setname(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn echo(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn hello(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn ping(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn quit(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn reset(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}

/// Not implemented yet.
pub fn select(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    Err(CmdError::Static("ERR not implemented yet"))
}
