//! `rename-command old new` (config file and command line only), as Redis:
//! the command answers only to its new name; an empty new name disables it.
//! COMMAND, INFO commandstats and the slow log keep the original name, as
//! Redis's `cmd->fullname` does.
//!
//! Unlike Redis, the AOF is written with the original names, and replay
//! looks original names up first: an AOF stays loadable whatever renames the
//! configuration has (and by Redis's tools), and changing a rename never
//! makes the existing AOF unreadable.

use super::table::COMMANDS;

/// The renamed commands: new (lowercase) name → command id, and which
/// top-level ids no longer answer to their own name.
#[derive(Debug, Default)]
pub struct Renamed {
    by_new_name: Vec<(Vec<u8>, u32)>,
    hidden: Vec<bool>,
}

impl Renamed {
    /// Builds the lookup from the config's renames; `id_of` gives the id of a
    /// top-level command name.
    pub fn new(
        renames: &[(String, String)],
        count: usize,
        id_of: impl Fn(&str) -> Option<u32>,
    ) -> Renamed {
        let mut r = Renamed {
            by_new_name: Vec::new(),
            hidden: vec![false; count],
        };
        for (orig, new) in renames {
            let Some(id) = id_of(orig) else { continue };
            r.hidden[id as usize] = true;
            if !new.is_empty() {
                r.by_new_name
                    .push((new.to_ascii_lowercase().into_bytes(), id));
            }
        }
        r
    }

    /// The id of a command called by its new name.
    pub fn lookup(&self, lower_name: &[u8]) -> Option<u32> {
        self.by_new_name
            .iter()
            .find(|(n, _)| n == lower_name)
            .map(|(_, id)| *id)
    }

    /// Whether the command no longer answers to its own name.
    pub fn is_hidden(&self, id: u32) -> bool {
        self.hidden.get(id as usize).copied().unwrap_or(false)
    }

    /// Whether the command answers to a new name (renamed, not disabled).
    pub fn answers(&self, id: u32) -> bool {
        self.by_new_name.iter().any(|(_, i)| *i == id)
    }
}

/// The name a top-level command answers to now, given the renames so far.
fn current_name<'a>(renames: &'a [(String, String)], orig: &'a str) -> Option<&'a str> {
    match renames.iter().find(|(o, _)| o == orig) {
        Some((_, new)) if new.is_empty() => None,
        Some((_, new)) => Some(new),
        None => Some(orig),
    }
}

/// Applies one `rename-command from to` line to `renames` (pairs of original
/// name, current name), with Redis's errors.
pub fn add(renames: &mut Vec<(String, String)>, from: &[u8], to: &[u8]) -> Result<(), String> {
    let from = String::from_utf8_lossy(from).to_ascii_lowercase();
    let to = String::from_utf8_lossy(to).to_ascii_lowercase();
    let orig = COMMANDS
        .iter()
        .map(|c| c.fullname)
        .find(|n| current_name(renames, n).is_some_and(|cur| cur.eq_ignore_ascii_case(&from)))
        .ok_or("No such command in rename-command")?;
    if !to.is_empty()
        && COMMANDS
            .iter()
            .any(|c| current_name(renames, c.fullname).is_some_and(|cur| cur == to))
    {
        return Err("Target command name already exists".into());
    }
    match renames.iter_mut().find(|(o, _)| o == orig) {
        Some(entry) => entry.1 = to,
        None => renames.push((orig.to_string(), to)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_chain_disable_and_refuse_clashes() {
        let mut r = Vec::new();
        add(&mut r, b"CONFIG", b"cfg").unwrap();
        assert_eq!(r, vec![("config".to_string(), "cfg".to_string())]);
        assert_eq!(
            add(&mut r, b"config", b"x").unwrap_err(),
            "No such command in rename-command"
        );
        add(&mut r, b"cfg", b"cfg2").unwrap();
        assert_eq!(r, vec![("config".to_string(), "cfg2".to_string())]);
        assert_eq!(
            add(&mut r, b"get", b"set").unwrap_err(),
            "Target command name already exists"
        );
        add(&mut r, b"flushall", b"").unwrap();
        assert_eq!(
            add(&mut r, b"flushall", b"x").unwrap_err(),
            "No such command in rename-command"
        );
        // A disabled name is free again.
        add(&mut r, b"get", b"flushall").unwrap();
        assert!(add(&mut r, b"config|get", b"x").is_err());
    }
}
