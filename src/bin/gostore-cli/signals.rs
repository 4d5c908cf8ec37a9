//! Signals, as redis-cli sets them up.
//!
//! - SIGINT in the REPL: during MONITOR or SUBSCRIBE it interrupts the
//!   blocking read and the REPL reconnects and shows its prompt again
//!   (redis-cli's `blocking_state_aborted`); at any other time it exits with
//!   status 1. At the prompt the line editor reads Ctrl-C as a key.
//! - SIGPIPE: ignored in the REPL (a dead server is noticed on the next
//!   command); default elsewhere, so `gostore-cli --scan | head` ends quietly.
//!   Socket writes never raise it (the standard library sends with
//!   `MSG_NOSIGNAL`).

use std::sync::atomic::{AtomicBool, Ordering};

static IN_BLOCKING_MODE: AtomicBool = AtomicBool::new(false);
static ABORTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_sig: libc::c_int) {
    if IN_BLOCKING_MODE.load(Ordering::SeqCst) {
        ABORTED.store(true, Ordering::SeqCst);
    } else {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(1) }
    }
}

/// Installs the REPL's SIGINT handler, without SA_RESTART so that a blocked
/// `read(2)` returns EINTR.
pub fn install_repl_handlers() {
    // SAFETY: a zeroed sigaction with a plain handler and an empty mask is
    // valid; the handler only touches atomics and calls _exit.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigint as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        sa.sa_flags = 0;
        libc::sigaction(libc::SIGINT, &sa, std::ptr::null_mut());
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// Restores SIGPIPE's default action, for the non-interactive modes.
pub fn default_sigpipe() {
    // SAFETY: setting a signal's disposition to its default is always valid.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Marks the start or the end of MONITOR/SUBSCRIBE output.
pub fn set_blocking_mode(on: bool) {
    ABORTED.store(false, Ordering::SeqCst);
    IN_BLOCKING_MODE.store(on, Ordering::SeqCst);
}

/// Whether MONITOR/SUBSCRIBE output is being streamed in the REPL.
pub fn in_blocking_mode() -> bool {
    IN_BLOCKING_MODE.load(Ordering::SeqCst)
}

/// True (once) if Ctrl-C asked to leave the blocking mode.
pub fn take_abort() -> bool {
    ABORTED.swap(false, Ordering::SeqCst)
}
