//! Limits and protection, as Redis enforces them:
//! - `client-output-buffer-limit`: per client class, a hard limit (close as
//!   soon as the pending output reaches it) and a soft limit (close once the
//!   output stays at or above it for more than `seconds`);
//! - `maxclients`: the process's RLIMIT_NOFILE is raised to fit it, or
//!   `maxclients` is lowered to what the limit allows (`adjust_open_files`);
//! - protected mode: with no password, only loopback and Unix socket
//!   clients are served (`protected_mode_refuses`).

use crate::client::Flags;
use std::net::IpAddr;

/// File descriptors kept for listeners, the AOF, logs and helper threads
/// (Redis's CONFIG_MIN_RESERVED_FDS).
pub(crate) const RESERVED_FDS: u64 = 32;

pub use crate::config::values::{Class, OutputLimit, OutputLimits};

/// Redis's protected mode rule: with `protected-mode yes` and no password,
/// a client that is not on a loopback address (or a Unix socket, which never
/// gets here) is refused.
pub(crate) fn protected_mode_refuses(protected: bool, requirepass: &str, peer: IpAddr) -> bool {
    protected && requirepass.is_empty() && !is_loopback(peer)
}

/// 127.0.0.0/8, ::1, and IPv4-mapped loopback (::ffff:127.0.0.1).
pub(crate) fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// CONFIG SET maxclients grew (its apply hook, Redis's
/// `updateMaxclients`): a higher value needs a higher RLIMIT_NOFILE; if it
/// cannot be had, Redis's reason.
pub(crate) fn raise_for_maxclients(want: u32) -> Result<(), String> {
    let can = match adjust_open_files(want) {
        FilesLimit::Enough | FilesLimit::Raised { .. } => return Ok(()),
        FilesLimit::Lowered { maxclients, .. } => maxclients,
        FilesLimit::TooLow { .. } => 0,
    };
    Err(format!("The operating system is not able to handle the specified number of clients, try with {can}"))
}

/// CONFIG SET client-output-buffer-limit: every client's reply cap follows,
/// the running one's (`own`, not in `clients` while it runs) too.
pub(crate) fn apply_output_limits(
    limits: &OutputLimits,
    clients: &mut crate::client::Clients,
    own: (&mut crate::resp::Reply, &crate::client::ClientState),
) {
    for c in clients.iter_mut() {
        c.reply.set_cap(limit_for(limits, &c.state).hard_cap());
    }
    own.0.set_cap(limit_for(limits, own.1).hard_cap());
}

/// The limit a client obeys now (Redis's `getClientType`): `replica` for
/// a replica, `pubsub` while it has subscriptions, else `normal` (see `OutputLimits::for_client` for
/// MONITOR).
pub(crate) fn limit_for(limits: &OutputLimits, state: &crate::client::ClientState) -> OutputLimit {
    if state.has(Flags::REPLICA) {
        limits.of(Class::Replica)
    } else if state.has(Flags::PUBSUB) {
        limits.of(Class::Pubsub)
    } else {
        limits.for_client(state.has(Flags::MONITOR))
    }
}

/// Logs a client closed for its output buffer, as Redis does.
pub(crate) fn log_output_limit_close(c: &crate::client::Client) {
    let line = c.state.info_line(
        c.io_stats(),
        crate::util::time::unix_ms(),
        if c.reply.is_resp3() { 3 } else { 2 },
    );
    log::warn!(
        "Client {} scheduled to be closed ASAP for overcoming of output buffer limits.",
        line.trim_end()
    );
}

/// What `adjust_open_files` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilesLimit {
    /// The limit already fit.
    Enough,
    /// The soft limit was raised from `from` to `to`.
    Raised { from: u64, to: u64 },
    /// It could not be raised enough: maxclients must become `maxclients`.
    Lowered {
        limit: u64,
        maxclients: u32,
        error: i32,
    },
    /// Not even the reserved descriptors fit.
    TooLow { limit: u64 },
}

/// Redis's `adjustOpenFilesLimit`: makes RLIMIT_NOFILE at least
/// `maxclients + 32`. The soft limit is raised up to the hard limit; past
/// it, raising the hard limit is tried too (it needs CAP_SYS_RESOURCE).
/// Logs as Redis does; the caller applies a lowered `maxclients`.
pub fn adjust_open_files(maxclients: u32) -> FilesLimit {
    let want = maxclients as u64 + RESERVED_FDS;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit fills the struct.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == -1 {
        log::warn!("Unable to obtain the current NOFILE limit ({}), assuming 1024 and setting the max clients configuration accordingly.", std::io::Error::last_os_error());
        return FilesLimit::Lowered {
            limit: 1024,
            maxclients: (1024 - RESERVED_FDS) as u32,
            error: 0,
        };
    }
    let old: u64 = lim.rlim_cur;
    if old >= want {
        return FilesLimit::Enough;
    }
    let set = |cur: u64, max: u64| -> Result<(), i32> {
        let l = libc::rlimit {
            rlim_cur: cur,
            rlim_max: max,
        };
        // SAFETY: setrlimit reads the struct.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &l) } == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
        }
    };
    let hard: u64 = lim.rlim_max;
    let result = if hard >= want {
        set(want, hard)
    } else {
        set(want, want)
    };
    let error = match result {
        Ok(()) => {
            log::info!("Increased maximum number of open files to {want} (it was originally set to {old}).");
            return FilesLimit::Raised {
                from: old,
                to: want,
            };
        }
        Err(e) => e,
    };
    // The best we can do without privileges: the soft limit up to the hard.
    let best = if hard > old && set(hard, hard).is_ok() {
        hard
    } else {
        old
    };
    if best <= RESERVED_FDS {
        log::warn!("Your current 'ulimit -n' of {old} is not enough for the server to start. Please increase your open file limit to at least {want}. Exiting.");
        return FilesLimit::TooLow { limit: best };
    }
    let lowered = (best - RESERVED_FDS).min(u32::MAX as u64) as u32;
    log::warn!(
        "You requested maxclients of {maxclients} requiring at least {want} max file descriptors."
    );
    log::warn!(
        "Server can't set maximum open files to {want} because of OS error: {}.",
        std::io::Error::from_raw_os_error(error)
    );
    log::warn!("Current maximum open files is {best}. maxclients has been reduced to {lowered} to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.");
    FilesLimit::Lowered {
        limit: best,
        maxclients: lowered,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_mode_refuses_only_remote_clients_without_a_password() {
        let remote: IpAddr = "10.1.2.3".parse().unwrap();
        let local: IpAddr = "127.0.0.5".parse().unwrap();
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        let v6: IpAddr = "::1".parse().unwrap();
        assert!(protected_mode_refuses(true, "", remote));
        assert!(!protected_mode_refuses(true, "", local));
        assert!(!protected_mode_refuses(true, "", mapped));
        assert!(!protected_mode_refuses(true, "", v6));
        assert!(!protected_mode_refuses(true, "secret", remote));
        assert!(!protected_mode_refuses(false, "", remote));
        assert!(protected_mode_refuses(
            true,
            "",
            "::ffff:10.0.0.1".parse().unwrap()
        ));
    }
}
