//! What `call` records about each command it ran, as Redis's `call()`:
//! the per-command latency histogram (INFO latencystats), the `command` /
//! `fast-command` latency events, the slow log, and the MONITOR stream.
//!
//! Arguments a handler redacted (AUTH passwords, `CONFIG SET requirepass`)
//! appear as `(redacted)` in the slow log and in MONITOR.
//!
//! Cost when nothing is watched: a histogram increment and three compares.

use crate::client::Flags;
use std::fmt::Write as _;

use super::spec::{ADMIN, FAST, SKIP_MONITOR, SKIP_SLOWLOG};
use super::Exec;
use crate::resp::encode;
use crate::resp::parser::Args;

/// Records command `id`, which ran for `elapsed_us` with `args`; `redacted`
/// has bit i set for each argument i to hide.
#[inline]
pub fn after_call(x: &mut Exec<'_>, id: u32, args: &Args<'_>, elapsed_us: u64, redacted: u64) {
    if x.core.loading {
        return;
    }
    let core = &mut *x.core;
    let spec = core.commands.spec(id);
    if core.config.latency_tracking {
        if let Some(slot) = core.commands.histograms.get_mut(id as usize) {
            slot.get_or_insert_with(Default::default)
                .record(elapsed_us.saturating_mul(1000));
        }
    }
    let event = if spec.has(FAST) {
        "fast-command"
    } else {
        "command"
    };
    core.ops.latency.add_if_needed(
        core.config.latency_monitor_threshold,
        event,
        elapsed_us / 1000,
    );
    let slower = core.config.slowlog_log_slower_than;
    let max_len = core.config.slowlog_max_len;
    // The common case, a fast command and a log within bounds, costs two
    // compares here.
    if !spec.has(SKIP_SLOWLOG)
        && slower >= 0
        && (elapsed_us >= slower as u64 || core.ops.slowlog.len() as u64 > max_len)
    {
        core.ops.slowlog.push_if_needed(
            slower,
            max_len,
            elapsed_us,
            (0..args.len()).map(|i| (redacted & bit(i) == 0).then(|| args.get(i))),
            &x.client.addr,
            x.client.name.as_deref(),
        );
    }
    let has_monitors = !core.ops.monitors.is_empty() || x.client.has(Flags::MONITOR);
    if has_monitors && !spec.has(SKIP_MONITOR) && !spec.has(ADMIN) {
        feed_monitors(x, args, redacted);
    }
}

fn bit(i: usize) -> u64 {
    if i < 64 {
        1 << i
    } else {
        0
    }
}

/// The MONITOR line of an EXEC refused by `process_command` (Redis's
/// `execCommandAbort` feeds it, as `call` would have).
pub(super) fn feed_refused(x: &mut Exec<'_>, args: &Args<'_>) {
    if !x.core.ops.monitors.is_empty() || x.client.has(Flags::MONITOR) {
        feed_monitors(x, args, 0);
    }
}

/// Redis's `replicationFeedMonitors`: one line per command,
/// `+1339518083.107412 [0 127.0.0.1:60866] "keys" "*"`, to every monitor.
fn feed_monitors(x: &mut Exec<'_>, args: &Args<'_>, redacted: u64) {
    let us = crate::util::time::unix_us();
    let mut bytes = Vec::with_capacity(64);
    encode::simple_with(&mut bytes, |out| {
        let mut w = ByteWriter(out);
        let _ = write!(w, "{}.{:06} ", us / 1_000_000, us % 1_000_000);
        if x.client.has(Flags::UNIX_SOCKET) {
            let _ = write!(w, "[{} unix:{}] ", x.client.db, x.core.config.unixsocket);
        } else {
            let _ = write!(w, "[{} {}] ", x.client.db, x.client.addr);
        }
        for i in 0..args.len() {
            if i > 0 {
                out.push(b' ');
            }
            if redacted & bit(i) != 0 {
                out.extend_from_slice(b"\"(redacted)\"");
            } else {
                // Escaped: the line holds no CR or LF.
                crate::util::repr::repr(out, args.get(i));
            }
        }
    });
    // A client closing after its reply gets no more output (Redis's
    // prepareClientToWrite): a monitor's own QUIT is not echoed to it.
    if x.client.has(Flags::MONITOR)
        && !x.client.has(Flags::CLOSE_AFTER_REPLY)
        && !x.client.has(Flags::CLOSE_ASAP)
    {
        x.reply.raw(&bytes);
    }
    let mut dropped = Vec::new();
    for &t in &x.core.ops.monitors {
        if !x.clients.push_output(t, &bytes) {
            dropped.push(t);
        }
    }
    for t in dropped {
        if let Some(c) = x.clients.get_mut(t) {
            crate::limits::log_output_limit_close(c);
        }
        x.core.stats.client_outbuf_limit_disconnections += 1;
        x.core.ops.monitors.retain(|&m| m != t);
    }
}

struct ByteWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for ByteWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}
