use mlua::{Lua, Table};

/// Not there yet (next commit).
pub fn load(_: &Lua, _: &Table) -> mlua::Result<()> {
    Ok(())
}
