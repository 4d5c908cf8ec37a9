//! `--latency` and `--latency-history`: PING every 10 ms and report
//! min/max/avg in whole milliseconds, as redis-cli's `latencyMode` does. On a
//! terminal the line is rewritten forever; otherwise one line is printed
//! after the interval (default 1 s) and the program exits, except with
//! `--latency-history`, which prints every sample and a ` -- N seconds range`
//! line each history interval (default 15 s).

use std::time::{Duration, Instant};

use crate::format::OutputMode;
use crate::out::out_str;
use crate::session::Session;

const SAMPLE_RATE: Duration = Duration::from_millis(10);
const HISTORY_DEFAULT_MS: i64 = 15_000;

fn print(mode: OutputMode, min: i64, max: i64, avg: f64, count: i64) {
    out_str(&match mode {
        OutputMode::Standard => format!("min: {min}, max: {max}, avg: {avg:.2} ({count} samples)"),
        OutputMode::Csv => format!("{min},{max},{avg:.2},{count}\n"),
        OutputMode::Raw => format!("{min} {max} {avg:.2} {count}\n"),
    });
}

/// Runs latency mode; never returns.
pub fn run(session: &mut Session) -> ! {
    let origin = Instant::now();
    let mstime = || origin.elapsed().as_millis() as i64;
    let interval_ms = session.cfg.interval_us / 1000;
    let history_interval = if interval_ms > 0 {
        interval_ms
    } else {
        HISTORY_DEFAULT_MS
    };
    let report_after = if interval_ms > 0 { interval_ms } else { 1000 };
    let mode = session.cfg.output;
    let history = session.cfg.latency_history;
    let (mut min, mut max, mut tot, mut count) = (0i64, 0i64, 0i64, 0i64);
    let mut history_start = mstime();
    loop {
        let start = mstime();
        session.reconnecting_call(&[b"PING"]);
        let latency = mstime() - start;
        count += 1;
        if count == 1 {
            (min, max, tot) = (latency, latency, latency);
        } else {
            min = min.min(latency);
            max = max.max(latency);
            tot += latency;
        }
        let avg = tot as f64 / count as f64;
        if mode == OutputMode::Standard {
            out_str("\x1b[0G\x1b[2K");
            print(mode, min, max, avg, count);
        } else if history {
            print(mode, min, max, avg, count);
        } else if mstime() - history_start > report_after {
            print(mode, min, max, avg, count);
            std::process::exit(0);
        }
        if history && mstime() - history_start > history_interval {
            out_str(&format!(
                " -- {:.2} seconds range\n",
                (mstime() - history_start) as f64 / 1000.0
            ));
            history_start = mstime();
            (min, max, tot, count) = (0, 0, 0, 0);
        }
        std::thread::sleep(SAMPLE_RATE);
    }
}
