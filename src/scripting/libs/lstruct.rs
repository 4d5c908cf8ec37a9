use mlua::{Lua, Table};

/// Not there yet (next commits).
pub fn load(_: &Lua, _: &Table) -> mlua::Result<()> {
    Ok(())
}
