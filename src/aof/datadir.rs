//! The start-up look at `dir` for data GoStore would not load: another AOF
//! (a Redis data directory's `appendonlydir/appendonly.aof.manifest`, or a
//! pre-7 single-file `appendonly.aof`) or an RDB file (`dump.rdb`).
//!
//! Redis's default `appendfilename` is `appendonly.aof`, GoStore's
//! `database.aof`: started on a Redis data directory, GoStore would find no
//! AOF of its own and start empty beside Redis's files. So, before loading:
//!
//! - GoStore's own AOF exists: it is loaded as always; any other data found
//!   is named in a warning, as not loaded.
//! - `appendonly yes` and no AOF of its own, but other data: start-up stops
//!   with a message naming each file and the option that loads it (or, for
//!   RDB, how to convert it).
//! - `appendonly no` and an RDB file: Redis would load it, GoStore can't
//!   read RDB yet, so start-up stops too. Other AOFs are only warned about,
//!   as Redis ignores AOFs under `appendonly no`.
//!
//! Moving the files out of `dir` is the way to start empty anyway; the
//! message says so.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use super::manifest::Manifest;
use super::{is_rdb, AofError};
use crate::config::Config;

/// Redis's default `appenddirname`, looked in as well when GoStore's differs.
const REDIS_AOF_DIR: &str = "appendonlydir";
/// Redis's default `dbfilename`, looked for as well when GoStore's differs.
const REDIS_RDB: &str = "dump.rdb";

/// Data in `dir` that GoStore's configuration would not load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A multi-part AOF under another name or directory.
    Manifest {
        /// The manifest, relative to `dir`.
        path: PathBuf,
        /// The `appendfilename` that names it.
        appendfilename: String,
        /// The `appenddirname` it is in, when that is not the configured one.
        appenddirname: Option<String>,
    },
    /// A pre-7 single-file AOF under another name.
    LegacyAof {
        /// The file, relative to `dir`.
        path: PathBuf,
    },
    /// An RDB file.
    Rdb {
        /// The file, relative to `dir`.
        path: PathBuf,
    },
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Found::Manifest {
                path,
                appendfilename,
                appenddirname,
            } => {
                write!(
                    f,
                    "the AOF {} (start with --appendfilename {}",
                    path.display(),
                    appendfilename
                )?;
                if let Some(d) = appenddirname {
                    write!(f, " --appenddirname {d}")?;
                }
                write!(f, " to load it)")
            }
            Found::LegacyAof { path } => {
                let name = path.display();
                write!(
                    f,
                    "the single-file AOF {name} (start with --appendfilename {name} to load it; it is then moved into the AOF directory, as Redis 7 does)"
                )
            }
            Found::Rdb { path } => write!(
                f,
                "the RDB file {} (start with --appendonly no --dbfilename {} to load it; see \"Migrating a Redis data directory\" in docs/durability.md)",
                path.display(),
                path.display()
            ),
        }
    }
}

/// Why start-up stops: the data found, and the mode it was found in.
#[derive(Debug)]
pub struct ForeignData {
    /// The working directory (absolute when known).
    pub dir: PathBuf,
    /// GoStore's own manifest path, which does not exist (`appendonly yes`).
    pub own_manifest: PathBuf,
    /// Whether `appendonly` is on.
    pub appendonly: bool,
    /// What was found.
    pub found: Vec<Found>,
}

impl fmt::Display for ForeignData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = self.dir.display();
        if self.appendonly {
            write!(
                f,
                "GoStore's AOF {} doesn't exist, but {dir} holds data GoStore would not load; refusing to start empty beside it. Found: ",
                self.own_manifest.display()
            )?;
        } else {
            write!(
                f,
                "appendonly is no, and {dir} holds an RDB file other than dbfilename, which GoStore would not load; refusing to start empty beside it. Found: "
            )?;
        }
        for (i, x) in self.found.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            write!(f, "{x}")?;
        }
        write!(f, ". To start empty anyway, move these files out of {dir}.")
    }
}

/// Whether GoStore's own AOF (a manifest, or a single file to upgrade) is
/// in the current directory.
fn own_aof_exists(config: &Config) -> bool {
    config
        .aof_dir()
        .join(Manifest::file_name(&config.appendfilename))
        .exists()
        || Path::new(&config.appendfilename).is_file()
}

fn sorted_names(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

/// Whether a file looks like a single-file AOF: RESP (`*`) or an RDB
/// preamble at its start.
fn looks_like_aof(p: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 1];
    p.is_file()
        && fs::File::open(p)
            .and_then(|mut f| f.read_exact(&mut head))
            .is_ok()
        && (head[0] == b'*' || is_rdb(p))
}

/// The data in the current directory (`dir`) that `config` would not load.
pub fn scan(config: &Config) -> Vec<Found> {
    let mut found = Vec::new();
    let mut aof_dirs = vec![config.appenddirname.as_str()];
    if config.appenddirname != REDIS_AOF_DIR {
        aof_dirs.push(REDIS_AOF_DIR);
    }
    for d in aof_dirs {
        for name in sorted_names(Path::new(d)) {
            let Some(filename) = name.strip_suffix(".manifest") else {
                continue;
            };
            if filename.is_empty()
                || name.starts_with("temp-")
                || (d == config.appenddirname && filename == config.appendfilename)
            {
                continue;
            }
            let path = Path::new(d).join(&name);
            if !path.is_file() {
                continue;
            }
            found.push(Found::Manifest {
                path,
                appendfilename: filename.to_string(),
                appenddirname: (d != config.appenddirname).then(|| d.to_string()),
            });
        }
    }
    for name in sorted_names(Path::new(".")) {
        if name.ends_with(".aof") && name != config.appendfilename {
            let path = PathBuf::from(&name);
            if looks_like_aof(&path) {
                found.push(Found::LegacyAof { path });
            }
        }
    }
    let mut rdbs = vec![config.dbfilename.as_str()];
    if config.dbfilename != REDIS_RDB {
        rdbs.push(REDIS_RDB);
    }
    for name in rdbs {
        let path = PathBuf::from(name);
        if path.is_file() {
            found.push(Found::Rdb { path });
        }
    }
    found
}

/// Start-up check, in `dir`, before the AOF is loaded: stops start-up
/// rather than start empty beside data GoStore would not load, and warns
/// about such data when GoStore's own AOF is loaded instead.
pub fn check(config: &Config) -> Result<(), AofError> {
    let found = scan(config);
    if found.is_empty() {
        return Ok(());
    }
    let own = own_aof_exists(config);
    // With appendonly no, the RDB file named by `dbfilename` is loaded;
    // another one (Redis's dump.rdb beside a different dbfilename) is not.
    let has_rdb = found.iter().any(
        |f| matches!(f, Found::Rdb { path } if config.appendonly || path != Path::new(&config.dbfilename)),
    );
    let found: Vec<Found> = if config.appendonly {
        found
    } else {
        found
            .into_iter()
            .filter(|f| !matches!(f, Found::Rdb { path } if path == Path::new(&config.dbfilename)))
            .collect()
    };
    if found.is_empty() {
        return Ok(());
    }
    let refuse = if config.appendonly { !own } else { has_rdb };
    if refuse {
        return Err(AofError::Foreign(ForeignData {
            dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(&config.dir)),
            own_manifest: config
                .aof_dir()
                .join(Manifest::file_name(&config.appendfilename)),
            appendonly: config.appendonly,
            found,
        }));
    }
    let why = if config.appendonly {
        "GoStore loads its own AOF"
    } else {
        "appendonly is no"
    };
    for f in &found {
        log::warn!("Not loading {f}: {why}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_finding_names_the_option_that_loads_it() {
        let m = Found::Manifest {
            path: Path::new("appendonlydir").join("appendonly.aof.manifest"),
            appendfilename: "appendonly.aof".into(),
            appenddirname: None,
        };
        assert_eq!(
            m.to_string(),
            "the AOF appendonlydir/appendonly.aof.manifest (start with --appendfilename appendonly.aof to load it)"
        );
        let m = Found::Manifest {
            path: Path::new("aofs").join("x.aof.manifest"),
            appendfilename: "x.aof".into(),
            appenddirname: Some("aofs".into()),
        };
        assert_eq!(
            m.to_string(),
            "the AOF aofs/x.aof.manifest (start with --appendfilename x.aof --appenddirname aofs to load it)"
        );
        let r = Found::Rdb {
            path: "dump.rdb".into(),
        }
        .to_string();
        assert!(r.starts_with(
            "the RDB file dump.rdb (start with --appendonly no --dbfilename dump.rdb"
        ));
    }
}
