//! `gostore-check-aof`: checks (and repairs) an AOF without starting the
//! server, as `redis-check-aof` 7.0 does.
//!
//! ```text
//! gostore-check-aof [--fix [--yes]] <file.manifest|file.aof>
//! gostore-check-aof --truncate-to-timestamp <unix-time> <file.manifest|file.aof>
//! ```
//!
//! Given a manifest, it checks every file it names, in load order (base,
//! then incr files); given one file, that file. For the first problem it
//! prints the file, the byte offset and the reason, and exits 1. `--fix`
//! truncates the last file after its last whole command, after asking
//! (`--yes` skips the question); a problem in another file cannot be fixed
//! by truncation and is only reported. A valid file is never written to.
//! `--truncate-to-timestamp` cuts the last file at the first `#TS:`
//! annotation later than the given time.

use std::fs::OpenOptions;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use gostore::aof::check::{check_file, FileCheck, Problem};
use gostore::aof::manifest::{FileType, Manifest};
use gostore::commands::CommandTable;

const USAGE: &str = "Usage: gostore-check-aof [--fix [--yes]|--truncate-to-timestamp $timestamp] <file.manifest|file.aof>";

/// What the command line asks for.
struct Options {
    fix: bool,
    yes: bool,
    to_timestamp: Option<i64>,
    path: PathBuf,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        fix: false,
        yes: false,
        to_timestamp: None,
        path: PathBuf::new(),
    };
    let mut path = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--fix" => o.fix = true,
            "--yes" | "-y" => o.yes = true,
            "--truncate-to-timestamp" => {
                i += 1;
                let ts = args.get(i).ok_or("--truncate-to-timestamp needs a time")?;
                o.to_timestamp = Some(
                    ts.parse()
                        .map_err(|_| "Invalid timestamp, aborting...".to_string())?,
                );
            }
            a if a.starts_with("--") => return Err(format!("Unknown option {a}")),
            a => {
                if path.replace(PathBuf::from(a)).is_some() {
                    return Err("Only one file can be checked at a time".into());
                }
            }
        }
        i += 1;
    }
    if o.fix && o.to_timestamp.is_some() {
        return Err("--fix and --truncate-to-timestamp can't be used together".into());
    }
    o.path = path.ok_or("No file given")?;
    Ok(o)
}

/// How a file starts.
enum Input {
    Manifest,
    Aof,
    Rdb,
}

fn input_type(p: &Path) -> std::io::Result<Input> {
    let head = {
        use std::io::Read;
        let mut f = std::fs::File::open(p)?;
        let mut b = vec![0u8; 4096];
        let n = f.read(&mut b)?;
        b.truncate(n);
        b
    };
    if head.starts_with(b"REDIS") {
        return Ok(Input::Rdb);
    }
    // The first line that is not a comment says it.
    let first = head
        .split(|c| *c == b'\n')
        .map(|l| l.trim_ascii_start())
        .find(|l| !l.is_empty() && !l.starts_with(b"#"));
    Ok(match first {
        Some(l) if l.starts_with(b"file") => Input::Manifest,
        _ => Input::Aof,
    })
}

/// Checks one file and applies --fix / --truncate-to-timestamp to it.
/// Returns Err(exit message) to stop with status 1.
fn check_one(
    o: &Options,
    table: &CommandTable,
    shown: &str,
    path: &Path,
    last: bool,
) -> Result<Option<&'static str>, String> {
    let c = check_file(
        path,
        &|name, argc| table.replayable(name, argc),
        o.to_timestamp,
    )
    .map_err(|e| format!("Cannot open file {}: {e}, aborting...", path.display()))?;
    if c.size == 0 {
        return Ok(Some("empty"));
    }
    if let Some(ts) = o.to_timestamp {
        return truncate_to_timestamp(shown, path, &c, ts, last);
    }
    let Some(problem) = &c.problem else {
        return Ok(None);
    };
    match problem {
        Problem::Truncated(why) => println!("{why} at offset {}", c.ok_up_to),
        Problem::Corrupt { offset, why } => println!("Bad file format at offset {offset}: {why}"),
        Problem::Unreplayable { offset, why } => {
            println!("{why} at offset {offset}");
            return Err(format!(
                "AOF {shown} is well-formed, but GoStore can't replay the command at offset {offset}: --fix can't repair that by truncating."
            ));
        }
    }
    let diff = c.size - c.ok_up_to;
    println!(
        "AOF analyzed: filename={shown}, size={}, ok_up_to={}, diff={diff}",
        c.size, c.ok_up_to
    );
    if !o.fix {
        return Err(format!(
            "AOF {shown} is not valid. Use the --fix option to try fixing it."
        ));
    }
    if !last {
        return Err(format!(
            "Failed to truncate AOF {shown} because it is not the last file"
        ));
    }
    println!(
        "This will shrink the AOF {shown} from {} bytes, with {diff} bytes, to {} bytes",
        c.size, c.ok_up_to
    );
    if !o.yes {
        print!("Continue? [y/N]: ");
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        let read = std::io::stdin().lock().read_line(&mut answer);
        if read.is_err() || !answer.trim_start().to_ascii_lowercase().starts_with('y') {
            return Err("Aborting...".into());
        }
    }
    truncate(path, c.ok_up_to).map_err(|e| format!("Failed to truncate AOF {shown}: {e}"))?;
    Ok(Some("truncated"))
}

fn truncate_to_timestamp(
    shown: &str,
    path: &Path,
    c: &FileCheck,
    ts: i64,
    last: bool,
) -> Result<Option<&'static str>, String> {
    if let Some(Problem::Corrupt { offset, why } | Problem::Unreplayable { offset, why }) =
        &c.problem
    {
        return Err(format!(
            "AOF {shown} is not valid ({why} at offset {offset}); check it without --truncate-to-timestamp first"
        ));
    }
    let Some(at) = c.after_timestamp else {
        println!("Truncate nothing in AOF {shown} to timestamp {ts}");
        return Ok(None);
    };
    if at == 0 {
        return Err(format!(
            "AOF {shown} has nothing before timestamp {ts}, aborting..."
        ));
    }
    if !last {
        return Err(format!(
            "Failed to truncate AOF {shown} to timestamp {ts} to offset {at} because it is not the last file.\nIf you insist, please delete all files after this file according to the manifest file and delete the corresponding records in manifest file manually. Then re-run gostore-check-aof."
        ));
    }
    truncate(path, at)
        .map_err(|e| format!("Failed to truncate AOF {shown} to timestamp {ts}: {e}"))?;
    println!("Successfully truncated AOF {shown} to timestamp {ts}");
    Ok(Some("checked"))
}

fn truncate(path: &Path, len: u64) -> std::io::Result<()> {
    let f = OpenOptions::new().write(true).open(path)?;
    f.set_len(len)?;
    f.sync_all()
}

fn report(kind: &str, shown: &str, outcome: Option<&str>) {
    match outcome {
        None => println!("{kind}AOF {shown} is valid"),
        Some("empty") => println!("{kind}AOF {shown} is empty"),
        Some("truncated") => println!("Successfully truncated AOF {shown}"),
        Some(_) => {}
    }
}

fn run(o: &Options) -> Result<(), String> {
    let table = CommandTable::new();
    let input =
        input_type(&o.path).map_err(|e| format!("Cannot open file {}: {e}", o.path.display()))?;
    match input {
        Input::Aof | Input::Rdb => {
            println!("Start checking Old-Style AOF");
            if matches!(input, Input::Rdb) {
                println!("The AOF appears to start with an RDB preamble.");
            }
            let shown = o.path.display().to_string();
            let outcome = check_one(o, &table, &shown, &o.path, true)?;
            report("", &shown, outcome);
            Ok(())
        }
        Input::Manifest => {
            println!("Start checking Multi Part AOF");
            let m = Manifest::load(&o.path)
                .map_err(|e| format!("Invalid AOF manifest {}: {e}", o.path.display()))?;
            let dir = o.path.parent().unwrap_or(Path::new("."));
            let files: Vec<_> = m.load_order().collect();
            let mut incr_header = false;
            for (i, f) in files.iter().enumerate() {
                let path = dir.join(&f.name);
                let last = i + 1 == files.len();
                let kind = if f.kind == FileType::Base {
                    if gostore::aof::is_rdb(&path) {
                        println!("Start to check BASE AOF (RDB format).");
                    } else {
                        println!("Start to check BASE AOF (RESP format).");
                    }
                    "BASE "
                } else {
                    if !incr_header {
                        println!("Start to check INCR files.");
                        incr_header = true;
                    }
                    "INCR "
                };
                let outcome = check_one(o, &table, &f.name, &path, last)?;
                report(kind, &f.name, outcome);
            }
            println!("All AOF files and manifest are valid");
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "-v" || a == "--version") {
        println!("gostore-check-aof {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let o = match parse_args(&args) {
        Ok(o) => o,
        Err(e) => {
            println!("{e}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    match run(&o) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            println!("{e}");
            ExitCode::FAILURE
        }
    }
}
