//! Replaying the AOF at start-up. Files are read in large chunks through the
//! same incremental parser clients use (no per-argument allocation), and
//! each command runs through the command table on a loading client, with the
//! expiry clock stopped (see `db::LOADING_NOW`).
//!
//! A file that ends in the middle of a command is the mark of a crash during
//! a write: in the last file, with `aof-load-truncated yes`, the partial
//! command is cut off (logged with the file and offset) and loading goes on.
//! Anything else malformed stops start-up with the file and byte offset.
//! `MULTI ... EXEC` blocks (written by Redis for transactions) are applied
//! whole or not at all.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::AofError;
use crate::resp::parser::{Args, Limits, OwnedArgs, Parser};

/// Bytes read per chunk.
const CHUNK: usize = 1024 * 1024;

/// What a load did.
#[derive(Debug, Default, Clone, Copy)]
pub struct LoadStats {
    /// Commands applied.
    pub commands: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Whether a truncated tail was cut off.
    pub truncated: bool,
}

/// Runs one command; Err(reason) for an unknown or malformed command.
pub type Exec<'a> = dyn FnMut(&Args<'_>) -> Result<(), String> + 'a;

/// Replays `files` in order. Only the last may be truncated.
pub fn load(
    files: &[PathBuf],
    truncate_ok: bool,
    exec: &mut Exec<'_>,
) -> Result<LoadStats, AofError> {
    let total: u64 = files
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    let mut stats = LoadStats::default();
    let started = Instant::now();
    let mut last_report = Instant::now();
    for (i, path) in files.iter().enumerate() {
        let last = i + 1 == files.len();
        let before = stats.bytes;
        load_file(
            path,
            last && truncate_ok,
            last,
            exec,
            &mut stats,
            &mut |done| {
                if last_report.elapsed().as_secs() >= 1 {
                    last_report = Instant::now();
                    let done = before + done;
                    let pct = (done * 100).checked_div(total).unwrap_or(100);
                    let mbs = done as f64 / 1e6 / started.elapsed().as_secs_f64().max(1e-3);
                    log::info!(
                        "Loading the AOF: {pct}% ({} of {} MB, {mbs:.0} MB/s)",
                        done / 1_000_000,
                        total / 1_000_000
                    );
                }
            },
        )?;
        if stats.truncated {
            break;
        }
    }
    Ok(stats)
}

fn load_file(
    path: &Path,
    truncate_ok: bool,
    is_last: bool,
    exec: &mut Exec<'_>,
    stats: &mut LoadStats,
    progress: &mut dyn FnMut(u64),
) -> Result<(), AofError> {
    let mut file = File::open(path).map_err(|e| {
        AofError::Io(
            format!("Can't open the append only file {}", path.display()),
            e,
        )
    })?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size == 0 {
        return Ok(());
    }
    // A bulk cannot be longer than the file: that bounds the allocation a
    // corrupt length could ask for.
    let limits = Limits {
        max_bulk_len: size as i64,
        auth_required: false,
        oversize_is_incomplete: true,
    };
    let mut parser = Parser::new();
    let mut read_total: u64 = 0;
    let mut multi: Option<(u64, Vec<OwnedArgs>)> = None;
    let mut eof = false;
    loop {
        // Run every complete command in the buffer.
        loop {
            match parser.peek() {
                Some(b'#') => match parser.skip_line() {
                    Ok(true) => continue,
                    Ok(false) => break,
                    Err(e) => {
                        return Err(AofError::Corrupt {
                            file: path.to_path_buf(),
                            offset: parser.consumed(),
                            why: e.to_string(),
                        })
                    }
                },
                Some(b'*') | None => {}
                Some(other) => {
                    return Err(AofError::Corrupt {
                        file: path.to_path_buf(),
                        offset: parser.consumed(),
                        why: format!("expected '*', got '{}'", other as char),
                    });
                }
            }
            let cmd_offset = parser.consumed();
            match parser.next(&limits) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    return Err(AofError::Corrupt {
                        file: path.to_path_buf(),
                        offset: cmd_offset,
                        why: e.to_string(),
                    })
                }
            }
            let args = parser.args();
            let name = args.get(0);
            if name.eq_ignore_ascii_case(b"MULTI") {
                multi = Some((cmd_offset, Vec::new()));
            } else if name.eq_ignore_ascii_case(b"EXEC") {
                if let Some((_, queued)) = multi.take() {
                    for q in &queued {
                        run(exec, &q.args(), path, cmd_offset)?;
                        stats.commands += 1;
                    }
                }
            } else if let Some((_, queued)) = &mut multi {
                queued.push(OwnedArgs::new(args.iter_from(0).map(|a| a.to_vec())));
            } else {
                run(exec, &args, path, cmd_offset)?;
                stats.commands += 1;
            }
            parser.consume();
        }
        if eof {
            break;
        }
        let target = parser.read_target(CHUNK);
        let n = loop {
            match file.read(target) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(AofError::Io(
                        format!("Error reading the append only file {}", path.display()),
                        e,
                    ))
                }
            }
        };
        if n == 0 {
            eof = true;
            continue;
        }
        parser.commit_read(n);
        read_total += n as u64;
        stats.bytes += n as u64;
        progress(read_total);
    }
    // What is left is a partial command (or an open MULTI): a crash mid-write.
    let valid_end = match &multi {
        Some((start, _)) => *start,
        None => parser.consumed(),
    };
    if valid_end < read_total {
        if !is_last {
            return Err(AofError::Corrupt {
                file: path.to_path_buf(),
                offset: valid_end,
                why: "unexpected end of file".into(),
            });
        }
        if !truncate_ok {
            return Err(AofError::Truncated {
                file: path.to_path_buf(),
                offset: valid_end,
            });
        }
        log::warn!(
            "!!! Warning: short read while loading the AOF file {}!!! Truncating the AOF at offset {valid_end} (the last {} bytes were an incomplete command)",
            path.display(),
            read_total - valid_end
        );
        let f = OpenOptions::new().write(true).open(path).map_err(|e| {
            AofError::Io(format!("Can't open {} to truncate it", path.display()), e)
        })?;
        f.set_len(valid_end).map_err(|e| {
            AofError::Io(
                format!("Error truncating the AOF file {}", path.display()),
                e,
            )
        })?;
        f.sync_all().map_err(|e| {
            AofError::Io(
                format!("Error fsyncing the truncated AOF file {}", path.display()),
                e,
            )
        })?;
        log::warn!(
            "AOF {} loaded anyway because aof-load-truncated is enabled",
            path.display()
        );
        stats.truncated = true;
    }
    Ok(())
}

fn run(exec: &mut Exec<'_>, args: &Args<'_>, path: &Path, offset: u64) -> Result<(), AofError> {
    exec(args).map_err(|why| AofError::BadCommand {
        file: path.to_path_buf(),
        offset,
        why,
    })
}
