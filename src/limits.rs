//! Limits and protection, as Redis enforces them:
//! - `client-output-buffer-limit`: per client class, a hard limit (close as
//!   soon as the pending output reaches it) and a soft limit (close once the
//!   output stays at or above it for more than `seconds`);
//! - `maxclients`: the process's RLIMIT_NOFILE is raised to fit it, or
//!   `maxclients` is lowered to what the limit allows (`adjust_open_files`);
//! - protected mode: with no password, only loopback and Unix socket
//!   clients are served (`protected_mode_refuses`).

use crate::client::Flags;
use std::fmt;
use std::net::IpAddr;

/// File descriptors kept for listeners, the AOF, logs and helper threads
/// (Redis's CONFIG_MIN_RESERVED_FDS).
pub(crate) const RESERVED_FDS: u64 = 32;

/// One class's output buffer limit. Zero means "no limit".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputLimit {
    /// Close as soon as pending output reaches this many bytes.
    pub hard: u64,
    /// Close once pending output stays at or above this...
    pub soft: u64,
    /// ...for more than this many seconds.
    pub soft_seconds: u64,
}

/// The client classes of `client-output-buffer-limit`, in Redis's order.
pub(crate) const CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];

/// `client-output-buffer-limit`: normal, replica (`slave`) and pubsub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimits(pub [OutputLimit; 3]);

/// Which limit a client obeys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Ordinary clients.
    Normal,
    /// Replicas (GoStore has none yet; the limit is kept and reported).
    Replica,
    /// Push-only streams: pub/sub, and MONITOR (see `OutputLimits::for_client`).
    Pubsub,
}

impl Default for OutputLimits {
    /// Redis's defaults: `normal 0 0 0`, `replica 256mb 64mb 60`,
    /// `pubsub 32mb 8mb 60`.
    fn default() -> Self {
        OutputLimits([
            OutputLimit::default(),
            OutputLimit {
                hard: 256 << 20,
                soft: 64 << 20,
                soft_seconds: 60,
            },
            OutputLimit {
                hard: 32 << 20,
                soft: 8 << 20,
                soft_seconds: 60,
            },
        ])
    }
}

impl fmt::Display for OutputLimits {
    /// CONFIG GET's form: `normal 0 0 0 slave 268435456 67108864 60 pubsub ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, l)) in CLASSES.iter().zip(&self.0).enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{name} {} {} {}", l.hard, l.soft, l.soft_seconds)?;
        }
        Ok(())
    }
}

impl OutputLimits {
    /// Redis's `updateClientOutputBufferLimit`: `<class> <hard> <soft>
    /// <seconds>` groups; all are checked before any is applied.
    pub fn update(&mut self, args: &[Vec<u8>]) -> Result<(), String> {
        if args.len() % 4 != 0 {
            return Err("Wrong number of arguments in buffer limit configuration.".into());
        }
        let mut next = *self;
        for g in args.chunks(4) {
            let class = match g[0].to_ascii_lowercase().as_slice() {
                b"normal" => 0,
                b"slave" | b"replica" => 1,
                b"pubsub" => 2,
                _ => {
                    return Err(
                        "Invalid client class specified in buffer limit configuration.".into(),
                    )
                }
            };
            let hard = crate::config::parse_memory(&g[1]);
            let soft = crate::config::parse_memory(&g[2]);
            let secs = std::str::from_utf8(&g[3])
                .ok()
                .and_then(|s| s.parse::<i64>().ok());
            match (hard, soft, secs) {
                (Some(h), Some(s), Some(t)) if h >= 0 && s >= 0 && t >= 0 => {
                    next.0[class] = OutputLimit {
                        hard: h as u64,
                        soft: s as u64,
                        soft_seconds: t as u64,
                    };
                }
                _ => return Err(
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration."
                        .into(),
                ),
            }
        }
        *self = next;
        Ok(())
    }

    /// The limit of a class.
    pub fn of(&self, class: Class) -> OutputLimit {
        self.0[match class {
            Class::Normal => 0,
            Class::Replica => 1,
            Class::Pubsub => 2,
        }]
    }

    /// The limit a client obeys. Redis counts a MONITOR client as normal, so
    /// with the default `normal 0 0 0` a monitor that stops reading grows
    /// without bound; GoStore gives monitors the normal limit when one is set
    /// and the pubsub limit (32mb/8mb/60s by default) otherwise.
    pub(crate) fn for_client(&self, monitor: bool) -> OutputLimit {
        let normal = self.of(Class::Normal);
        if monitor && normal.hard == 0 && normal.soft == 0 {
            self.of(Class::Pubsub)
        } else {
            normal
        }
    }
}

impl OutputLimit {
    /// The size at which output must stop being added (the hard limit), or
    /// `usize::MAX` for none.
    pub(crate) fn hard_cap(&self) -> usize {
        if self.hard == 0 {
            usize::MAX
        } else {
            usize::try_from(self.hard).unwrap_or(usize::MAX)
        }
    }

    /// Redis's `checkClientOutputBufferLimits`: whether a client with `used`
    /// pending bytes must be closed now. `soft_since` is when it first went
    /// over the soft limit (Unix seconds, 0 for never), updated here.
    pub fn reached(&self, used: u64, now_secs: i64, soft_since: &mut i64) -> bool {
        let hard = self.hard != 0 && used >= self.hard;
        let mut soft = self.soft != 0 && used >= self.soft;
        if soft {
            if *soft_since == 0 {
                *soft_since = now_secs;
                soft = false;
            } else if now_secs - *soft_since <= self.soft_seconds as i64 {
                soft = false;
            }
        } else {
            *soft_since = 0;
        }
        hard || soft
    }
}

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
        c.reply
            .set_cap(limits.for_client(c.state.has(Flags::MONITOR)).hard_cap());
    }
    own.0
        .set_cap(limits.for_client(own.1.has(Flags::MONITOR)).hard_cap());
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

    fn v(args: &str) -> Vec<Vec<u8>> {
        args.split(' ').map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn defaults_and_config_get_form_are_redis_s() {
        assert_eq!(
            OutputLimits::default().to_string(),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        );
    }

    #[test]
    fn update_is_all_or_nothing_with_redis_s_errors() {
        let mut l = OutputLimits::default();
        l.update(&v("normal 10mb 5mb 10 replica 1gb 1gb 0"))
            .unwrap();
        assert_eq!(
            l.of(Class::Normal),
            OutputLimit {
                hard: 10 << 20,
                soft: 5 << 20,
                soft_seconds: 10
            }
        );
        assert_eq!(l.of(Class::Replica).hard, 1 << 30);
        let before = l;
        assert_eq!(
            l.update(&v("normal 1 1 1 master 1 1 1")).unwrap_err(),
            "Invalid client class specified in buffer limit configuration."
        );
        assert_eq!(
            l.update(&v("normal 1 1 -1")).unwrap_err(),
            "Error in hard, soft or soft_seconds setting in buffer limit configuration."
        );
        assert_eq!(
            l.update(&v("normal 1 1")).unwrap_err(),
            "Wrong number of arguments in buffer limit configuration."
        );
        assert_eq!(l, before);
    }

    #[test]
    fn hard_closes_at_once_soft_only_after_its_seconds() {
        let l = OutputLimit {
            hard: 100,
            soft: 50,
            soft_seconds: 2,
        };
        let mut since = 0;
        assert!(l.reached(100, 10, &mut since));
        since = 0;
        assert!(!l.reached(60, 10, &mut since));
        assert_eq!(since, 10);
        assert!(!l.reached(60, 12, &mut since));
        assert!(l.reached(60, 13, &mut since));
        // Going under the soft limit restarts the clock.
        assert!(!l.reached(10, 14, &mut since));
        assert_eq!(since, 0);
    }

    #[test]
    fn monitors_fall_back_to_the_pubsub_limit_when_normal_is_unlimited() {
        let mut l = OutputLimits::default();
        assert_eq!(l.for_client(true), l.of(Class::Pubsub));
        assert_eq!(l.for_client(false).hard_cap(), usize::MAX);
        l.update(&v("normal 1mb 0 0")).unwrap();
        assert_eq!(l.for_client(true).hard, 1 << 20);
    }

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
