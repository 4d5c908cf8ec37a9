//! LATENCY LATEST|HISTORY|RESET|GRAPH|DOCTOR|HISTOGRAM|HELP (Redis's
//! latency.c, and sparkline.c for GRAPH).

use super::args;
use super::ctx::ServerParts;
use super::Ctx;
use crate::config::FsyncPolicy;
use crate::error::{CmdError, CmdResult};
use crate::resp::parser::Args;

/// `LATENCY LATEST`: `[event, time, latest ms, max ms]` per event.
pub fn latency_latest(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let ServerParts { core, reply: r, .. } = ctx.server_parts();
    let events: Vec<_> = core.ops.latency.events().collect();
    r.array_len(events.len());
    for (name, ts) in events {
        let last = ts.latest();
        r.array_len(4);
        r.bulk(name.as_bytes());
        r.int(last.time);
        r.int(last.latency as i64);
        r.int(ts.max as i64);
    }
    Ok(())
}

/// `LATENCY HISTORY event`: `[time, ms]` pairs, oldest first.
pub fn latency_history(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let ServerParts { core, reply: r, .. } = ctx.server_parts();
    match core.ops.latency.get(args.get(2)) {
        None => r.array_len(0),
        Some(ts) => {
            let samples: Vec<_> = ts.history().collect();
            r.array_len(samples.len());
            for s in samples {
                r.array_len(2);
                r.int(s.time);
                r.int(s.latency as i64);
            }
        }
    }
    Ok(())
}

/// `LATENCY GRAPH event`: an ASCII graph of the event's samples.
pub fn latency_graph(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let Some((event, ts)) = ctx
        .server()
        .ops
        .latency
        .events()
        .find(|(e, _)| e.as_bytes().eq_ignore_ascii_case(args.get(2)))
    else {
        return Err(CmdError::msg(format!(
            "ERR No samples available for event '{}'",
            args::text(args.get(2))
        )));
    };
    let now = crate::util::time::unix_ms() / 1000;
    let samples: Vec<(u64, String)> = ts
        .history()
        .map(|s| {
            let elapsed = now - s.time;
            let label = if elapsed < 60 {
                format!("{elapsed}s")
            } else if elapsed < 3600 {
                format!("{}m", elapsed / 60)
            } else if elapsed < 86400 {
                format!("{}h", elapsed / 3600)
            } else {
                format!("{}d", elapsed / 86400)
            };
            (s.latency, label)
        })
        .collect();
    let min = samples.iter().map(|s| s.0).min().unwrap_or(0);
    let max = samples.iter().map(|s| s.0).max().unwrap_or(0);
    let mut graph = format!(
        "{event} - high {max} ms, low {min} ms (all time high {} ms)\n",
        ts.max
    );
    graph.push_str(&"-".repeat(80));
    graph.push('\n');
    sparkline(&mut graph, &samples, 80, 4);
    ctx.reply.verbatim(graph.as_bytes());
    Ok(())
}

/// Redis's `sparklineRender` with SPARKLINE_FILL: `rows` rows of `_o#|`
/// per chunk of `columns` samples, labels written vertically below.
fn sparkline(out: &mut String, samples: &[(u64, String)], columns: usize, rows: usize) {
    const FILL: &[u8] = b"_o#";
    let (min, max) = (
        samples.iter().map(|s| s.0).min().unwrap_or(0) as f64,
        samples.iter().map(|s| s.0).max().unwrap_or(0) as f64,
    );
    let labels = samples.iter().any(|s| !s.1.is_empty());
    for (i, chunk) in samples.chunks(columns).enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let relmax = if max - min == 0.0 { 1.0 } else { max - min };
        let steps = (FILL.len() * rows) as f64;
        let mut row = 0usize;
        loop {
            let mut more = false;
            let mut chars = vec![b' '; chunk.len()];
            for (j, (value, label)) in chunk.iter().enumerate() {
                let relval = *value as f64 - min;
                let step = (((relval * steps) as i64) as f64 / relmax) as i64;
                let step = step.clamp(0, steps as i64 - 1);
                if row < rows {
                    more = true;
                    let idx = step - ((rows - row - 1) * FILL.len()) as i64;
                    if idx >= 0 && (idx as usize) < FILL.len() {
                        chars[j] = FILL[idx as usize];
                    } else if idx >= FILL.len() as i64 {
                        chars[j] = b'|';
                    }
                } else {
                    if labels && row - rows < 1 {
                        more = true;
                        break;
                    }
                    let k = row - rows - 1;
                    if let Some(&c) = label.as_bytes().get(k) {
                        more = true;
                        chars[j] = c;
                    }
                }
            }
            if !more {
                break;
            }
            row += 1;
            out.push_str(&String::from_utf8_lossy(&chars));
            out.push('\n');
        }
    }
}

/// `LATENCY RESET [event ...]`: the number of events reset.
pub fn latency_reset(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let n = if args.len() == 2 {
        ctx.server_mut().ops.latency.reset(None)
    } else {
        args.iter_from(2)
            .map(|e| ctx.server_mut().ops.latency.reset(Some(e)))
            .sum()
    };
    ctx.reply.int(n as i64);
    Ok(())
}

/// `LATENCY HISTOGRAM [command ...]`: per command, its calls and the
/// cumulative distribution of its latency in power-of-two µs buckets.
pub fn latency_histogram(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let ServerParts { core, reply: r, .. } = ctx.server_parts();
    let table = &core.commands;
    let mut ids: Vec<u32> = Vec::new();
    if args.len() == 2 {
        ids.extend(table.iter().map(|(id, _)| id));
    } else {
        for name in args.iter_from(2) {
            // As Redis: a command and, for a container, its subcommands.
            let Some(spec) = table.find(name) else {
                continue;
            };
            for (id, c) in table.iter() {
                let parent = c.fullname.split('|').next().unwrap_or("");
                if std::ptr::eq(c, spec)
                    || (spec.fullname.find('|').is_none()
                        && c.fullname.contains('|')
                        && parent == spec.fullname)
                {
                    ids.push(id);
                }
            }
        }
    }
    let with_data: Vec<u32> = ids
        .into_iter()
        .filter(|&id| table.histograms[id as usize].is_some())
        .collect();
    r.map_len(with_data.len());
    for id in with_data {
        let Some(h) = table.histograms[id as usize].as_deref() else {
            continue;
        };
        r.bulk(table.spec(id).fullname.as_bytes());
        r.map_len(2);
        r.bulk(b"calls");
        r.int(h.total() as i64);
        r.bulk(b"histogram_usec");
        let buckets = h.cumulative_buckets();
        r.map_len(buckets.len());
        for (us, n) in buckets {
            r.int(us as i64);
            r.int(n as i64);
        }
    }
    Ok(())
}

/// `LATENCY DOCTOR`: Redis's human-readable report, for GoStore's events.
pub fn latency_doctor(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let report = doctor(ctx);
    ctx.reply.verbatim(report.as_bytes());
    Ok(())
}

fn doctor(ctx: &Ctx<'_>) -> String {
    let core = ctx.server();
    let cfg = &core.config;
    let mon = &core.ops.latency;
    if mon.is_empty() && cfg.latency_monitor_threshold == 0 {
        return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this GoStore instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".into();
    }
    let now = crate::util::time::unix_ms() / 1000;
    let mut out = String::new();
    #[derive(Default)]
    struct Advice {
        slowlog_enabled: bool,
        slowlog_tuning: bool,
        slowlog_inspect: bool,
        disk_contention: bool,
        scheduler: bool,
        data_writeback: bool,
        local_disk: bool,
        ssd: bool,
        hz: bool,
        large_objects: bool,
        relax_fsync: bool,
        thp: bool,
        count: usize,
    }
    let mut a = Advice::default();
    let mut eventnum = 0;
    for (event, ts) in mon.events() {
        eventnum += 1;
        if eventnum == 1 {
            out.push_str("Dave, I have observed latency spikes in this GoStore instance. You don't mind talking about it, do you Dave?\n\n");
        }
        let ls = crate::latency::analyze(ts, now);
        out.push_str(&format!(
            "{eventnum}. {event}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.",
            ls.samples,
            ls.avg,
            ls.mad,
            ls.period as f64 / ls.samples.max(1) as f64,
            ts.max
        ));
        match event {
            "command" => {
                if cfg.slowlog_log_slower_than < 0 {
                    a.slowlog_enabled = true;
                    a.count += 1;
                } else if cfg.slowlog_log_slower_than / 1000 > cfg.latency_monitor_threshold {
                    a.slowlog_tuning = true;
                    a.count += 1;
                }
                a.slowlog_inspect = true;
                a.large_objects = true;
                a.count += 2;
            }
            "fast-command" => {
                a.scheduler = true;
                a.count += 1;
            }
            "aof-write-pending-fsync" => {
                a.local_disk = true;
                a.disk_contention = true;
                a.ssd = true;
                a.data_writeback = true;
                a.count += 4;
            }
            "aof-write-alone" => {
                a.local_disk = true;
                a.data_writeback = true;
                a.ssd = true;
                a.count += 3;
            }
            "aof-fsync-always" => {
                a.relax_fsync = true;
                a.count += 1;
            }
            "expire-cycle" => {
                a.hz = true;
                a.large_objects = true;
                a.count += 2;
            }
            _ => {}
        }
        out.push('\n');
    }
    if anon_huge_pages() > 0 {
        a.thp = true;
        a.count += 1;
    }
    if eventnum == 0 && a.count == 0 {
        out.push_str("Dave, no latency spike was observed during the lifetime of this GoStore instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
        return out;
    }
    if eventnum > 0 && a.count == 0 {
        out.push_str("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the GoStore community to get some help, providing this report in your help request.\n");
        return out;
    }
    out.push_str("\nI have a few advices for you:\n\n");
    let thr = cfg.latency_monitor_threshold.max(0) as u64 * 1000;
    if a.slowlog_enabled {
        out.push_str(&format!("- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log GoStore feature using the command 'CONFIG SET slowlog-log-slower-than {thr}'. If the Slow log is disabled GoStore is not able to log slow commands execution for you.\n"));
    }
    if a.slowlog_tuning {
        out.push_str(&format!("- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {thr}'.\n"));
    }
    if a.slowlog_inspect {
        out.push_str("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
    }
    if a.scheduler {
        out.push_str("- The system is slow to execute GoStore code paths not containing system calls. This usually means the system does not provide GoStore CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for GoStore if you are running other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n");
    }
    if a.local_disk {
        out.push_str("- It is strongly advised to use local disks for persistence, especially if you are using AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n");
    }
    if a.ssd {
        out.push_str("- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log rewriting (resulting in smaller memory usage). With extremely high write load SSD disks can be a good option. However GoStore should perform reasonably with high load using normal disks. Use this advice as a last resort.\n");
    }
    if a.data_writeback {
        out.push_str("- Mounting ext3/4 filesystems with data=writeback can provide a performance boost compared to data=ordered, however this mode of operation provides less guarantees, and sometimes it can happen that after a hard crash the AOF file will have a half-written command at the end and will require to be repaired before GoStore restarts.\n");
    }
    if a.disk_contention {
        out.push_str("- Try to lower the disk contention. This is often caused by other disk intensive processes running in the same computer (including other GoStore instances).\n");
    }
    if a.relax_fsync && cfg.appendfsync() == FsyncPolicy::Always {
        out.push_str("- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n");
    }
    if a.hz && cfg.hz < 100 {
        out.push_str("- In order to make the GoStore keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n");
    }
    if a.large_objects {
        out.push_str("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
    }
    if a.thp {
        out.push_str("- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when GoStore is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the GoStore process to get rid of the huge pages already created.\n");
    }
    out
}

/// Redis's `THPGetAnonHugePagesSize`: AnonHugePages of this process, bytes.
fn anon_huge_pages() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/smaps_rollup") else {
        return 0;
    };
    text.lines()
        .find_map(|l| l.strip_prefix("AnonHugePages:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// `LATENCY HELP`.
pub fn latency_help(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    ctx.reply.help(
        &args::text(args.get(0)),
        &[
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_graph_is_drawn_as_redis_draws_it() {
        // Samples and output captured from redis-server 7.0.15 (DEBUG SLEEP
        // of 3, 8, 20 and 12 ms, one second apart).
        let samples: Vec<(u64, String)> = [(3, "4s"), (8, "3s"), (20, "2s"), (12, "1s")]
            .iter()
            .map(|(v, l)| (*v, l.to_string()))
            .collect();
        let mut out = String::new();
        sparkline(&mut out, &samples, 80, 4);
        assert_eq!(out, "  # \n  |_\n _||\n_|||\n    \n4321\nssss\n");
    }
}
