//! The active expiry cycle (Redis's `activeExpireCycle`): besides lazy expiry
//! on access, each cron tick walks the expiry tables a bucket at a time,
//! deleting keys whose time passed, and repeats on a database while more
//! than a tenth (less with more effort) of the sampled keys were expired,
//! within a time budget of a quarter of the tick. A fast cycle of at most
//! 1 ms runs between ticks when the last slow one ran out of time.

use std::time::{Duration, Instant};

use super::Db;

/// Keys sampled per database per loop at effort 1.
const KEYS_PER_LOOP: usize = 20;
/// Duration of a fast cycle, in microseconds.
const FAST_DURATION_US: u64 = 1000;
/// Percent of CPU the slow cycle may use.
const SLOW_TIME_PERC: u64 = 25;
/// Percent of expired keys in a sample that makes the cycle keep going.
const ACCEPTABLE_STALE: usize = 10;
/// Databases visited per call.
const DBS_PER_CALL: usize = 16;

/// Which cycle to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CycleKind {
    /// From the cron, every `1/hz` seconds.
    Slow,
    /// From before-sleep, when the last slow cycle hit its time limit.
    Fast,
}

/// State carried between cycles.
#[derive(Debug, Default)]
pub struct ExpireState {
    current_db: usize,
    timelimit_exit: bool,
    last_fast_cycle: Option<Instant>,
    /// Total keys sampled and expired by the last cycle (stats).
    pub last_sampled: u64,
    /// See `last_sampled`.
    pub last_expired: u64,
    /// Percentage estimate of stale keys (INFO expired_stale_perc).
    pub stale_perc: f64,
    /// Cycles that stopped on their time limit (INFO expired_time_cap_reached_count).
    pub time_cap_reached: u64,
    /// Microseconds spent in cycles (INFO expire_cycle_cpu_milliseconds).
    pub cpu_us: u64,
    /// `DEBUG SET-ACTIVE-EXPIRE 0`: no active cycle runs (keys still expire
    /// lazily, on access).
    pub disabled: bool,
}

/// Runs one cycle over `dbs` at wall-clock `now_ms`. `effort` is
/// `active-expire-effort` (1..=10), `hz` the cron frequency.
pub fn active_expire_cycle(
    dbs: &mut [Db],
    st: &mut ExpireState,
    kind: CycleKind,
    now_ms: i64,
    effort: u32,
    hz: u32,
) {
    if st.disabled {
        return;
    }
    let effort = effort.clamp(1, 10) as usize - 1;
    let keys_per_loop = KEYS_PER_LOOP + KEYS_PER_LOOP / 4 * effort;
    let fast_duration = FAST_DURATION_US + FAST_DURATION_US / 4 * effort as u64;
    let slow_time_perc = SLOW_TIME_PERC + 2 * effort as u64;
    let acceptable_stale = ACCEPTABLE_STALE - effort;
    let start = Instant::now();

    if kind == CycleKind::Fast {
        // Only after a slow cycle that ran out of time, only if the database
        // looks stale enough, and not more often than twice its duration.
        if !st.timelimit_exit && st.stale_perc < acceptable_stale as f64 {
            return;
        }
        if let Some(last) = st.last_fast_cycle {
            if start.duration_since(last) < Duration::from_micros(fast_duration * 2) {
                return;
            }
        }
        st.last_fast_cycle = Some(start);
    }

    let dbs_per_call = DBS_PER_CALL.min(dbs.len());
    let timelimit_us = match kind {
        CycleKind::Slow => (slow_time_perc * 1_000_000 / hz.max(1) as u64 / 100).max(1),
        CycleKind::Fast => fast_duration,
    };
    st.timelimit_exit = false;
    let (mut total_sampled, mut total_expired) = (0u64, 0u64);
    let mut iteration = 0u64;
    let mut scratch: Vec<(Vec<u8>, i64)> = Vec::new();

    'dbs: for _ in 0..dbs_per_call {
        let idx = st.current_db % dbs.len();
        st.current_db = st.current_db.wrapping_add(1);
        let db = &mut dbs[idx];
        loop {
            iteration += 1;
            let num = db.expires.len();
            if num == 0 {
                db.avg_ttl = 0;
                break;
            }
            let slots = db.expires.slots();
            // A very sparse table is slow to walk; wait for it to shrink.
            if slots > 4 && num * 100 / slots < 1 {
                break;
            }
            let num = num.min(keys_per_loop);
            let max_buckets = num * 20;
            let (mut sampled, mut expired, mut checked_buckets) = (0usize, 0usize, 0usize);
            let (mut ttl_sum, mut ttl_samples) = (0i64, 0i64);
            while sampled < num && checked_buckets < max_buckets {
                scratch.clear();
                db.expires.visit_bucket(db.expires_cursor, |k, &when| {
                    if now_ms > when {
                        scratch.push((k.to_vec(), when));
                    } else {
                        let ttl = when - now_ms;
                        if ttl > 0 {
                            ttl_sum += ttl;
                            ttl_samples += 1;
                        }
                    }
                    sampled += 1;
                });
                checked_buckets += if db.expires.is_rehashing() { 2 } else { 1 };
                for (k, _) in scratch.drain(..) {
                    db.delete_expired(&k);
                    expired += 1;
                }
                db.expires_cursor = db.expires_cursor.wrapping_add(1);
            }
            total_expired += expired as u64;
            total_sampled += sampled as u64;
            if ttl_samples > 0 {
                let avg = ttl_sum / ttl_samples;
                // A running average weighting the last sample by 2%.
                db.avg_ttl = if db.avg_ttl == 0 {
                    avg
                } else {
                    (db.avg_ttl / 50) * 49 + (avg / 50)
                };
            }
            if iteration & 0xf == 0 && start.elapsed().as_micros() as u64 > timelimit_us {
                st.timelimit_exit = true;
                st.time_cap_reached += 1;
                break 'dbs;
            }
            let repeat = sampled == 0 || expired * 100 / sampled > acceptable_stale;
            if !repeat {
                break;
            }
        }
    }
    st.cpu_us += start.elapsed().as_micros() as u64;
    st.last_sampled = total_sampled;
    st.last_expired = total_expired;
    let current_perc = if total_sampled > 0 {
        total_expired as f64 / total_sampled as f64
    } else {
        0.0
    };
    st.stale_perc = current_perc * 0.05 + st.stale_perc * 0.95;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::value::Value;

    #[test]
    fn expired_keys_are_removed_and_queued_for_the_aof() {
        let mut dbs = vec![Db::new()];
        for i in 0..1000 {
            let k = format!("k{i}");
            dbs[0].add(k.as_bytes(), Value::string(b"v"));
            dbs[0].set_expire(k.as_bytes(), if i % 2 == 0 { 1000 } else { 10_000_000 });
        }
        let mut st = ExpireState::default();
        for _ in 0..200 {
            active_expire_cycle(&mut dbs, &mut st, CycleKind::Slow, 5000, 1, 10);
        }
        assert_eq!(dbs[0].len(), 500);
        assert_eq!(dbs[0].expired.len(), 500);
        assert_eq!(dbs[0].stats.expired_keys, 500);
        assert!(dbs[0].avg_ttl > 0);
    }
}
