//! Checking AOF files without loading them, for `gostore-check-aof`. The
//! reading is the loader's own (`loader::scan_from`), so a file this module calls
//! valid is one the server loads, and the offset it reports for a problem is
//! the one the server names.

use std::path::Path;

use super::loader::{scan_from, Item, ScanError};

/// What is wrong with a file, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// It ends inside a command or an open MULTI block: what a crash in the
    /// middle of a write leaves. Cutting the tail off repairs it.
    Truncated(String),
    /// Bytes that are not valid AOF content, or a MULTI/EXEC out of place.
    Corrupt { offset: u64, why: String },
    /// Well-formed, but a command GoStore cannot replay (unknown, or with
    /// the wrong number of arguments). Truncating would only lose data.
    Unreplayable { offset: u64, why: String },
}

/// The result of checking one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    /// Its size.
    pub size: u64,
    /// Everything before this offset is whole, valid commands.
    pub ok_up_to: u64,
    /// The first problem, if any.
    pub problem: Option<Problem>,
    /// The offset of the first `#TS:` annotation later than the requested
    /// timestamp (`--truncate-to-timestamp`).
    pub after_timestamp: Option<u64>,
}

/// Whether GoStore's loader would accept a command (known, with a valid
/// number of arguments), and if not, why: `CommandTable::replayable`. The
/// AOF layer takes it as a function so it does not depend on `commands`.
/// It gets the command's name and its number of arguments, name included.
pub type Replayable<'a> = &'a dyn Fn(&[u8], usize) -> Result<(), String>;

/// Checks `path`. `replayable` decides which commands GoStore can replay;
/// `to_timestamp`, if given, finds the first `#TS:` annotation past it.
pub fn check_file(
    path: &Path,
    replayable: Replayable<'_>,
    to_timestamp: Option<i64>,
) -> std::io::Result<FileCheck> {
    let mut multi: Option<u64> = None;
    let mut after_timestamp = None;
    // An RDB at the start (an RDB base, or a pre-7 preamble): what the
    // server would load, the rest are commands.
    let start = if super::is_rdb(path) {
        match check_rdb_part(path)? {
            Ok(end) => end,
            Err((offset, why)) => {
                return Ok(FileCheck {
                    size: std::fs::metadata(path)?.len(),
                    ok_up_to: 0,
                    problem: Some(Problem::Corrupt { offset, why }),
                    after_timestamp,
                })
            }
        }
    } else {
        0
    };
    let mut ok_up_to = start;
    let scanned = scan_from(path, start, &mut |item, offset| {
        if multi.is_none() {
            ok_up_to = offset;
        }
        match item {
            Item::Annotation(line) => {
                if let (Some(limit), None) = (to_timestamp, after_timestamp) {
                    let ts = line
                        .strip_prefix(b"#TS:")
                        .and_then(|r| std::str::from_utf8(r).ok())
                        .and_then(|r| r.trim_end().parse::<i64>().ok());
                    if ts.is_some_and(|ts| ts > limit) {
                        after_timestamp = Some(offset);
                    }
                }
                Ok(())
            }
            Item::Command(args) => {
                let name = args.get(0);
                if name.eq_ignore_ascii_case(b"MULTI") {
                    if multi.is_some() {
                        return Err(Problem::Corrupt {
                            offset,
                            why: "Unexpected MULTI".into(),
                        });
                    }
                    multi = Some(offset);
                    return Ok(());
                }
                if name.eq_ignore_ascii_case(b"EXEC") {
                    if multi.take().is_none() {
                        return Err(Problem::Corrupt {
                            offset,
                            why: "Unexpected EXEC".into(),
                        });
                    }
                    return Ok(());
                }
                replayable(args.get(0), args.len())
                    .map_err(|why| Problem::Unreplayable { offset, why })
            }
        }
    });
    let (end, problem) = match scanned {
        Ok(end) => (Some(end), None),
        Err(ScanError::Io(e)) => return Err(e),
        Err(ScanError::Corrupt { offset, why }) => {
            ok_up_to = multi.unwrap_or(offset);
            (None, Some(Problem::Corrupt { offset, why }))
        }
        Err(ScanError::Stop(p)) => (None, Some(p)),
    };
    let size = std::fs::metadata(path)?.len();
    let Some(end) = end else {
        return Ok(FileCheck {
            size,
            ok_up_to,
            problem,
            after_timestamp,
        });
    };
    let (ok_up_to, problem) = match multi {
        Some(start) => (
            start,
            Some(Problem::Truncated(
                "Reached EOF before reading EXEC for MULTI".into(),
            )),
        ),
        None if end.consumed < end.size => (
            end.consumed,
            Some(Problem::Truncated(format!(
                "Unexpected end of file (an incomplete command of {} bytes)",
                end.size - end.consumed
            ))),
        ),
        None => (end.consumed, None),
    };
    Ok(FileCheck {
        size,
        ok_up_to,
        problem,
        after_timestamp,
    })
}

/// Databases an RDB part may use (Redis's default `databases 16`).
const CHECK_DATABASES: usize = 16;

/// Loads the RDB at the start of `path` into scratch databases (as
/// `redis-check-rdb` does): Ok(its length), or Err((offset, why)).
fn check_rdb_part(path: &Path) -> std::io::Result<Result<u64, (u64, String)>> {
    use crate::rdb::loader::{load_bytes, LoadOptions, RdbError};
    let bytes = std::fs::read(path)?;
    let mut dbs: Vec<crate::db::Db> = (0..CHECK_DATABASES).map(|_| crate::db::Db::new()).collect();
    let o = LoadOptions {
        expire_before: None,
        check_crc: true,
    };
    let lim = crate::rdb::Limits::from_config(&crate::config::Config::default());
    Ok(match load_bytes(&bytes, &mut dbs, &lim, o) {
        Ok(st) => Ok(st.end as u64),
        Err(e) => {
            let offset = match &e {
                RdbError::Corrupt { offset, .. } => *offset as u64,
                _ => 0,
            };
            Err((offset, format!("RDB preamble: {e}")))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(content: &[u8]) -> FileCheck {
        let dir = std::env::temp_dir().join(format!(
            "gostore-check-{}-{}",
            std::process::id(),
            content.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("f.aof");
        std::fs::write(&p, content).unwrap();
        let table = crate::commands::CommandTable::new();
        let r = check_file(
            &p,
            &|name, argc| table.replayable(name, argc),
            Some(1_700_000_000),
        )
        .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        r
    }

    const SET: &[u8] = b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n";

    #[test]
    fn a_valid_file_has_no_problem() {
        let c = check(&[SET, b"#TS:1700000001\r\n", SET].concat());
        assert_eq!(c.problem, None);
        assert_eq!(c.ok_up_to, c.size);
        assert_eq!(c.after_timestamp, Some(SET.len() as u64));
    }

    #[test]
    fn problems_are_told_apart_with_their_offsets() {
        let c = check(&[SET, b"*3\r\n$3\r\nSET\r\n$1"].concat());
        assert!(matches!(c.problem, Some(Problem::Truncated(_))));
        assert_eq!(c.ok_up_to, SET.len() as u64);
        let c = check(&[SET, b"xx\r\n", SET].concat());
        assert_eq!(
            c.problem,
            Some(Problem::Corrupt {
                offset: SET.len() as u64,
                why: "expected '*', got 'x'".into()
            })
        );
        let c = check(&[SET, b"*1\r\n$5\r\nMULTI\r\n", SET].concat());
        assert!(matches!(c.problem, Some(Problem::Truncated(_))));
        assert_eq!(c.ok_up_to, SET.len() as u64, "cut before the open MULTI");
        let c = check(&[SET, b"*1\r\n$4\r\nEXEC\r\n"].concat());
        assert!(
            matches!(c.problem, Some(Problem::Corrupt { offset, .. }) if offset == SET.len() as u64)
        );
        let c = check(&[SET, b"*1\r\n$5\r\nRPUSH\r\n"].concat());
        assert!(matches!(c.problem, Some(Problem::Unreplayable { .. })));
    }
}
