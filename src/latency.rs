//! Latency: the latency monitor behind `LATENCY` (Redis's latency.c) and the
//! per-command histograms behind `INFO latencystats` and `LATENCY
//! HISTOGRAM`.
//!
//! The monitor keeps, for each event class (`command`, `fast-command`,
//! `aof-write`, `aof-fsync-always`, `expire-cycle`, `fork`, ...), the latest
//! 160 samples of at least `latency-monitor-threshold` ms, at most one per
//! second (the worst of that second), and the all-time maximum.
//!
//! `Histogram` has the layout of the HDR histogram Redis uses (values 1 ns to
//! 1 s, two significant digits: 256 exact sub-buckets, then 128 per power of
//! two), so percentiles come out with the same rounding as Redis's.

use std::fmt::Write as _;

/// Samples kept per event (Redis's LATENCY_TS_LEN).
pub const SAMPLES: usize = 160;

/// One sample: Unix seconds and milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    /// When (Unix seconds); 0 for an unused slot.
    pub time: i64,
    /// How long, in ms.
    pub latency: u64,
}

/// The time series of one event.
#[derive(Debug, Clone)]
pub struct Series {
    idx: usize,
    /// All-time maximum, ms.
    pub max: u64,
    samples: [Sample; SAMPLES],
}

impl Series {
    fn new() -> Series {
        Series {
            idx: 0,
            max: 0,
            samples: [Sample::default(); SAMPLES],
        }
    }

    /// The latest sample.
    pub fn latest(&self) -> Sample {
        self.samples[(self.idx + SAMPLES - 1) % SAMPLES]
    }

    /// The samples, oldest first.
    pub fn history(&self) -> impl Iterator<Item = Sample> + '_ {
        (0..SAMPLES)
            .map(move |j| self.samples[(self.idx + j) % SAMPLES])
            .filter(|s| s.time != 0)
    }
}

/// Every event's series, in the order events first happened.
#[derive(Debug, Default)]
pub struct Monitor {
    events: Vec<(&'static str, Box<Series>)>,
}

impl Monitor {
    /// Redis's `latencyAddSampleIfNeeded`: records `ms` for `event` when the
    /// monitor is on (`threshold` > 0) and `ms` reaches it.
    #[inline]
    pub fn add_if_needed(&mut self, threshold: i64, event: &'static str, ms: u64) {
        if threshold > 0 && ms >= threshold as u64 {
            self.add_now(event, ms);
        }
    }

    #[cold]
    fn add_now(&mut self, event: &'static str, ms: u64) {
        self.add(event, ms, crate::util::time::unix_ms() / 1000);
    }

    /// Redis's `latencyAddSample`.
    pub fn add(&mut self, event: &'static str, ms: u64, now_secs: i64) {
        let ts = match self.events.iter().position(|(e, _)| *e == event) {
            Some(i) => &mut self.events[i].1,
            None => {
                self.events.push((event, Box::new(Series::new())));
                &mut self.events.last_mut().expect("just pushed").1
            }
        };
        ts.max = ts.max.max(ms);
        let prev = (ts.idx + SAMPLES - 1) % SAMPLES;
        if ts.samples[prev].time == now_secs {
            ts.samples[prev].latency = ts.samples[prev].latency.max(ms);
            return;
        }
        ts.samples[ts.idx] = Sample {
            time: now_secs,
            latency: ms,
        };
        ts.idx = (ts.idx + 1) % SAMPLES;
    }

    /// The events with their series.
    pub fn events(&self) -> impl Iterator<Item = (&'static str, &Series)> {
        self.events.iter().map(|(e, s)| (*e, &**s))
    }

    /// One event's series, by name (case-insensitively).
    pub fn get(&self, event: &[u8]) -> Option<&Series> {
        self.events
            .iter()
            .find(|(e, _)| e.as_bytes().eq_ignore_ascii_case(event))
            .map(|(_, s)| &**s)
    }

    /// Forgets one event (or all with `None`); returns how many.
    pub fn reset(&mut self, event: Option<&[u8]>) -> usize {
        let before = self.events.len();
        match event {
            None => self.events.clear(),
            Some(name) => self
                .events
                .retain(|(e, _)| !e.as_bytes().eq_ignore_ascii_case(name)),
        }
        before - self.events.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// Statistics of one event for DOCTOR (Redis's `analyzeLatencyForEvent`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Analysis {
    /// Samples.
    pub samples: u64,
    /// Mean, ms.
    pub avg: u64,
    /// Mean absolute deviation, ms.
    pub mad: u64,
    /// Seconds since the oldest sample (at least 1).
    pub period: i64,
}

/// Redis's `analyzeLatencyForEvent`.
pub fn analyze(ts: &Series, now_secs: i64) -> Analysis {
    let mut a = Analysis::default();
    let mut sum = 0u64;
    let mut oldest = 0i64;
    for s in ts.history() {
        a.samples += 1;
        sum += s.latency;
        if oldest == 0 || s.time < oldest {
            oldest = s.time;
        }
    }
    if let Some(avg) = sum.checked_div(a.samples) {
        a.avg = avg;
        a.period = (now_secs - oldest).max(1);
        let dev: u64 = ts
            .history()
            .map(|s| (a.avg as i64 - s.latency as i64).unsigned_abs())
            .sum();
        a.mad = dev / a.samples;
    }
    a
}

// ---- Histograms -----------------------------------------------------------

/// Smallest and largest recorded values, ns (Redis's
/// LATENCY_HISTOGRAM_MIN/MAX_VALUE).
const MIN_VALUE: u64 = 1;
const MAX_VALUE: u64 = 1_000_000_000;
/// 256 sub-buckets, the upper 128 of which repeat per power of two.
const SUB_BUCKET_HALF_MAGNITUDE: u32 = 7;
const SUB_BUCKET_HALF: usize = 1 << SUB_BUCKET_HALF_MAGNITUDE;
const SUB_BUCKET_MASK: u64 = 255;
/// Buckets needed to reach MAX_VALUE: 256 << 22 > 10^9.
const BUCKETS: usize = 23;
/// Counters: (BUCKETS + 1) * 128 = 3072, as HDR's counts_len.
const COUNTS: usize = (BUCKETS + 1) * SUB_BUCKET_HALF;

/// A latency histogram in nanoseconds, laid out as Redis's HDR histogram.
#[derive(Clone)]
pub struct Histogram {
    counts: Box<[u64; COUNTS]>,
    total: u64,
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Histogram({} values)", self.total)
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new()
    }
}

fn bucket_index(v: u64) -> u32 {
    // Smallest power of two containing v, minus the sub-bucket magnitude.
    (64 - (v | SUB_BUCKET_MASK).leading_zeros()) - (SUB_BUCKET_HALF_MAGNITUDE + 1)
}

fn counts_index(v: u64) -> usize {
    let b = bucket_index(v);
    let sub = (v >> b) as usize;
    (((b as usize) + 1) << SUB_BUCKET_HALF_MAGNITUDE) + sub - SUB_BUCKET_HALF
}

fn value_at_index(idx: usize) -> u64 {
    let mut bucket = (idx >> SUB_BUCKET_HALF_MAGNITUDE) as i64 - 1;
    let mut sub = (idx & (SUB_BUCKET_HALF - 1)) + SUB_BUCKET_HALF;
    if bucket < 0 {
        sub -= SUB_BUCKET_HALF;
        bucket = 0;
    }
    (sub as u64) << bucket
}

fn lowest_equivalent(v: u64) -> u64 {
    let b = bucket_index(v);
    (v >> b) << b
}

fn range_size(v: u64) -> u64 {
    let b = bucket_index(v);
    let sub = v >> b;
    let adjusted = if sub >= 256 { b + 1 } else { b };
    1 << adjusted
}

fn highest_equivalent(v: u64) -> u64 {
    lowest_equivalent(v) + range_size(v) - 1
}

impl Histogram {
    /// An empty histogram (24 KB, as Redis's).
    pub fn new() -> Histogram {
        Histogram {
            counts: Box::new([0; COUNTS]),
            total: 0,
        }
    }

    /// Records a value in ns, clamped to 1 ns..1 s.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        let v = ns.clamp(MIN_VALUE, MAX_VALUE);
        self.counts[counts_index(v)] += 1;
        self.total += 1;
    }

    /// Values recorded.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// HDR's `hdr_value_at_percentile`, in ns.
    pub fn value_at_percentile(&self, percentile: f64) -> u64 {
        let p = percentile.min(100.0);
        let want = (((p / 100.0) * self.total as f64) + 0.5) as u64;
        let want = want.max(1);
        let mut seen = 0;
        let mut value = 0;
        for (idx, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= want {
                value = value_at_index(idx);
                break;
            }
        }
        if percentile == 0.0 {
            lowest_equivalent(value)
        } else {
            highest_equivalent(value)
        }
    }

    /// `LATENCY HISTOGRAM`'s buckets: HDR's logarithmic iteration from
    /// 1024 ns, doubling, as (µs, cumulative count) for each step that
    /// added values.
    pub fn cumulative_buckets(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let mut level = 1024u64;
        let mut level_low = lowest_equivalent(level);
        let mut idx: isize = -1;
        let (mut cumulative, mut value, mut highest) = (0u64, 0u64, 0u64);
        let mut previous = 0u64;
        loop {
            // log_iter_next
            let peek_greater =
                idx < COUNTS as isize && value_at_index((idx + 1) as usize) > level_low;
            if !(cumulative < self.total || peek_greater) {
                break;
            }
            loop {
                if value >= level_low {
                    level *= 2;
                    level_low = lowest_equivalent(level.min(u64::MAX / 4));
                    break;
                }
                idx += 1;
                if idx as usize >= COUNTS {
                    break;
                }
                let c = self.counts[idx as usize];
                cumulative += c;
                value = value_at_index(idx as usize);
                highest = lowest_equivalent(value) + range_size(value) - 1;
            }
            if cumulative > previous {
                out.push((highest / 1000, cumulative));
            }
            previous = cumulative;
            if idx as usize >= COUNTS {
                break;
            }
        }
        out
    }
}

pub use crate::config::values::format_percentile;

/// One `INFO latencystats` line:
/// `latency_percentiles_usec_<cmd>:p50=1.003,p99=2.007,p99.9=3.007`.
pub fn info_line(out: &mut String, name: &str, h: &Histogram, percentiles: &[f64]) {
    let _ = write!(out, "latency_percentiles_usec_{name}:");
    for (i, &p) in percentiles.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "p{}={:.3}",
            format_percentile(p),
            h.value_at_percentile(p) as f64 / 1000.0
        );
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_round_as_redis_s_hdr_histogram() {
        let mut h = Histogram::new();
        for _ in 0..50 {
            h.record(1000);
        }
        for _ in 0..49 {
            h.record(2000);
        }
        h.record(3000);
        // The values Redis prints for the same samples.
        assert_eq!(h.value_at_percentile(50.0), 1003);
        assert_eq!(h.value_at_percentile(99.0), 2007);
        assert_eq!(h.value_at_percentile(99.9), 3007);
        let mut s = String::new();
        info_line(&mut s, "get", &h, &[50.0, 99.0, 99.9]);
        assert_eq!(
            s,
            "latency_percentiles_usec_get:p50=1.003,p99=2.007,p99.9=3.007\r\n"
        );
    }

    #[test]
    fn extreme_values_are_clamped_to_one_ns_and_one_second() {
        let mut h = Histogram::new();
        h.record(0);
        h.record(u64::MAX);
        assert_eq!(h.total(), 2);
        assert_eq!(h.value_at_percentile(0.0), 1);
        assert!(h.value_at_percentile(100.0) >= MAX_VALUE);
    }

    #[test]
    fn cumulative_buckets_double_from_one_microsecond() {
        let mut h = Histogram::new();
        h.record(1000); // 1 µs
        h.record(1000);
        h.record(3000); // 3 µs
        h.record(100_000); // 100 µs
        assert_eq!(h.cumulative_buckets(), vec![(1, 2), (4, 3), (132, 4)]);
    }

    #[test]
    fn the_monitor_keeps_the_worst_sample_per_second_and_the_max() {
        let mut m = Monitor::default();
        m.add("command", 5, 100);
        m.add("command", 9, 100);
        m.add("command", 3, 101);
        let s = m.get(b"COMMAND").unwrap();
        let h: Vec<_> = s.history().map(|x| (x.time, x.latency)).collect();
        assert_eq!(h, vec![(100, 9), (101, 3)]);
        assert_eq!(s.max, 9);
        assert_eq!(s.latest().latency, 3);
        for t in 0..200 {
            m.add("command", 1, 1000 + t);
        }
        assert_eq!(m.get(b"command").unwrap().history().count(), SAMPLES);
        let a = analyze(m.get(b"command").unwrap(), 1200);
        assert_eq!((a.samples, a.avg, a.mad), (160, 1, 0));
        m.add_if_needed(0, "aof-write", 100);
        assert!(m.get(b"aof-write").is_none());
        assert_eq!(m.reset(Some(b"command")), 1);
        assert!(m.is_empty());
    }
}
