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
//!
//! A file that starts with `REDIS` (an RDB base, Redis 7's default
//! `aof-use-rdb-preamble yes`, or a pre-7 AOF with a preamble) is an RDB
//! followed by commands: the caller loads the RDB part (`Input::Rdb`), and
//! the commands after it replay as usual.
//!
//! `scan_from` is the reading half, shared with `gostore-check-aof` (`check`), so
//! the server and the tool agree on what a valid file is.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
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

/// One thing found in an AOF file.
pub enum Item<'a> {
    /// A command.
    Command(Args<'a>),
    /// A `#...` annotation line, newline included.
    Annotation(&'a [u8]),
}

/// Where a scan stopped, at the end of the file.
#[derive(Debug, Clone, Copy)]
pub struct ScanEnd {
    /// Offset just past the last whole item.
    pub consumed: u64,
    /// Bytes in the file.
    pub size: u64,
}

/// Why a scan stopped early.
#[derive(Debug)]
pub enum ScanError<E> {
    /// Reading failed.
    Io(io::Error),
    /// Bytes that are not RESP, at `offset`.
    Corrupt { offset: u64, why: String },
    /// The callback stopped it.
    Stop(E),
}

/// Reads `path` item by item, calling `on(item, offset)` for each complete
/// command or annotation. What follows the last whole item (`consumed` <
/// `size`) is an incomplete command.
/// Starts at byte `start` (past an RDB preamble); offsets stay those of
/// the whole file.
pub fn scan_from<E>(
    path: &Path,
    start: u64,
    on: &mut dyn FnMut(Item<'_>, u64) -> Result<(), E>,
) -> Result<ScanEnd, ScanError<E>> {
    use std::io::{Seek, SeekFrom};
    let mut file = File::open(path).map_err(ScanError::Io)?;
    let size = file.metadata().map(|m| m.len()).map_err(ScanError::Io)?;
    file.seek(SeekFrom::Start(start)).map_err(ScanError::Io)?;
    let on = &mut |item: Item<'_>, offset: u64| on(item, start + offset);
    // A bulk cannot be longer than the file: that bounds the allocation a
    // corrupt length could ask for.
    let limits = Limits {
        max_bulk_len: size.min(i64::MAX as u64) as i64,
        auth_required: false,
        oversize_is_incomplete: true,
    };
    let mut parser = Parser::new();
    let mut read_total: u64 = 0;
    let mut eof = false;
    loop {
        // Every complete item in the buffer.
        loop {
            let offset = parser.consumed();
            match parser.peek() {
                Some(b'#') => match parser.skip_line() {
                    Ok(true) => {
                        on(Item::Annotation(parser.skipped_line()), offset)
                            .map_err(ScanError::Stop)?;
                        continue;
                    }
                    Ok(false) => break,
                    Err(e) => {
                        return Err(ScanError::Corrupt {
                            offset,
                            why: e.to_string(),
                        })
                    }
                },
                Some(b'*') | None => {}
                Some(other) => {
                    return Err(ScanError::Corrupt {
                        offset,
                        why: format!("expected '*', got '{}'", other.escape_ascii()),
                    });
                }
            }
            match parser.next(&limits) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    // The offset is the start of the command that holds the
                    // bad bytes: the whole command is what a repair drops.
                    return Err(ScanError::Corrupt {
                        offset,
                        why: e.to_string().trim_start_matches("ERR ").to_string(),
                    });
                }
            }
            on(Item::Command(parser.args()), offset).map_err(ScanError::Stop)?;
            parser.consume();
        }
        if eof {
            break;
        }
        let target = parser.read_target(CHUNK);
        let n = loop {
            match file.read(target) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ScanError::Io(e)),
            }
        };
        if n == 0 {
            eof = true;
            continue;
        }
        parser.commit_read(n);
        read_total += n as u64;
    }
    Ok(ScanEnd {
        consumed: start + parser.consumed(),
        size: start + read_total,
    })
}

/// What the loader hands its caller.
pub enum Input<'a, 'b> {
    /// A command to run.
    Command(&'a Args<'b>),
    /// The bytes of a file that starts with an RDB (an RDB base, or a
    /// pre-7 AOF with an RDB preamble): the caller loads the RDB and says
    /// how many bytes it took (the rest are commands).
    Rdb(&'a [u8]),
}

/// Runs one command, or loads an RDB preamble (returning the bytes it
/// took); Err(reason) for an unknown or malformed command or a bad RDB.
pub type Exec<'a> = dyn FnMut(Input<'_, '_>) -> Result<usize, String> + 'a;

/// Replays `files` in order. Only the last may be truncated. `manifest` is
/// named in errors, for the repair command.
pub fn load(
    files: &[PathBuf],
    manifest: &Path,
    truncate_ok: bool,
    exec: &mut Exec<'_>,
) -> Result<LoadStats, AofError> {
    let total: u64 = files
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    let mut stats = LoadStats::default();
    let mut progress = Progress {
        started: Instant::now(),
        last_report: Instant::now(),
        done_before: 0,
        total,
    };
    for (i, path) in files.iter().enumerate() {
        let last = i + 1 == files.len();
        let started = Instant::now();
        load_file(
            path,
            manifest,
            last && truncate_ok,
            last,
            exec,
            &mut stats,
            &mut progress,
        )?;
        log::info!(
            "DB loaded from {} file {}: {:.3} seconds",
            if path.to_string_lossy().ends_with(".incr.aof") {
                "incr"
            } else {
                "base"
            },
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            started.elapsed().as_secs_f64()
        );
        progress.done_before = stats.bytes;
        if stats.truncated {
            break;
        }
    }
    Ok(stats)
}

/// Logs the load's progress once a second.
struct Progress {
    started: Instant,
    last_report: Instant,
    done_before: u64,
    total: u64,
}

impl Progress {
    fn report(&mut self, offset: u64) {
        if self.last_report.elapsed().as_secs() < 1 {
            return;
        }
        self.last_report = Instant::now();
        let done = self.done_before + offset;
        let pct = (done * 100).checked_div(self.total).unwrap_or(100);
        let mbs = done as f64 / 1e6 / self.started.elapsed().as_secs_f64().max(1e-3);
        log::info!(
            "Loading the AOF: {pct}% ({} of {} MB, {mbs:.0} MB/s)",
            done / 1_000_000,
            self.total / 1_000_000
        );
    }
}

fn load_file(
    path: &Path,
    manifest: &Path,
    truncate_ok: bool,
    is_last: bool,
    exec: &mut Exec<'_>,
    stats: &mut LoadStats,
    progress: &mut Progress,
) -> Result<(), AofError> {
    let mut multi: Option<(u64, Vec<OwnedArgs>)> = None;
    let mut n: u64 = 0;
    let mut start = 0u64;
    if super::is_rdb(path) {
        let bytes = std::fs::read(path).map_err(|e| {
            AofError::Io(
                format!("Error reading the append only file {}", path.display()),
                e,
            )
        })?;
        let took = exec(Input::Rdb(&bytes)).map_err(|why| AofError::RdbPreamble {
            file: path.to_path_buf(),
            why,
        })?;
        start = took as u64;
    }
    let scanned = scan_from(path, start, &mut |item, offset| {
        let Item::Command(args) = item else {
            return Ok(());
        };
        n += 1;
        if n % 1024 == 0 {
            progress.report(offset);
        }
        let name = args.get(0);
        if name.eq_ignore_ascii_case(b"MULTI") {
            multi = Some((offset, Vec::new()));
        } else if name.eq_ignore_ascii_case(b"EXEC") {
            if let Some((_, queued)) = multi.take() {
                for q in &queued {
                    run(exec, &q.args(), path, offset)?;
                    stats.commands += 1;
                }
            }
        } else if let Some((_, queued)) = &mut multi {
            queued.push(OwnedArgs::new(args.iter_from(0).map(|a| a.to_vec())));
        } else {
            run(exec, &args, path, offset)?;
            stats.commands += 1;
        }
        Ok(())
    });
    let end = match scanned {
        Ok(end) => end,
        Err(ScanError::Io(e)) => {
            return Err(AofError::Io(
                format!("Error reading the append only file {}", path.display()),
                e,
            ))
        }
        Err(ScanError::Corrupt { offset, why }) => {
            return Err(AofError::Corrupt {
                file: path.to_path_buf(),
                offset,
                why,
                manifest: manifest.to_path_buf(),
            })
        }
        Err(ScanError::Stop(e)) => return Err(e),
    };
    stats.bytes += end.size;
    // What is left is a partial command (or an open MULTI): a crash mid-write.
    // An open MULTI is cut off whole, even when its commands are complete
    // (Redis: "Revert incomplete MULTI/EXEC transaction").
    let valid_end = match &multi {
        Some((start, _)) => {
            log::warn!(
                "Revert incomplete MULTI/EXEC transaction in AOF file {}",
                path.display()
            );
            *start
        }
        None => end.consumed,
    };
    if valid_end < end.size {
        if !is_last {
            return Err(AofError::Corrupt {
                file: path.to_path_buf(),
                offset: valid_end,
                why: "unexpected end of file".into(),
                manifest: manifest.to_path_buf(),
            });
        }
        if !truncate_ok {
            return Err(AofError::Truncated {
                file: path.to_path_buf(),
                offset: valid_end,
                manifest: manifest.to_path_buf(),
            });
        }
        log::warn!(
            "!!! Warning: short read while loading the AOF file {}!!! Truncating the AOF at offset {valid_end} (the last {} bytes were an incomplete command)",
            path.display(),
            end.size - valid_end
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
    exec(Input::Command(args))
        .map(|_| ())
        .map_err(|why| AofError::BadCommand {
            file: path.to_path_buf(),
            offset,
            why,
        })
}
