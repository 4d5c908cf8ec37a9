//! Writing to stdout and stderr without `print!`, which panics when the
//! other end is gone. Like redis-cli, output is flushed after every write so
//! it is "grep friendly"; a failed write to stdout is ignored here, and a
//! closed pipe ends the process through SIGPIPE outside interactive mode
//! (see `signals`).

use std::io::Write;

/// Writes `bytes` to stdout and flushes.
pub fn out(bytes: &[u8]) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(bytes);
    let _ = o.flush();
}

/// Writes a string to stdout and flushes.
pub fn out_str(s: &str) {
    out(s.as_bytes());
}

/// Writes `bytes` to stderr.
pub fn err(bytes: &[u8]) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(bytes);
    let _ = e.flush();
}

/// Writes a line to stderr.
pub fn errln(s: &str) {
    err(format!("{s}\n").as_bytes());
}

/// True when file descriptor `fd` is a terminal.
pub fn isatty(fd: i32) -> bool {
    // SAFETY: isatty only inspects the descriptor number.
    unsafe { libc::isatty(fd) == 1 }
}
