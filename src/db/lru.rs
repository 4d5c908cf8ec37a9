//! The access clock kept per key (Redis's `robj.lru` and `LRU_CLOCK`): OBJECT
//! IDLETIME reads it today; approximated-LRU eviction will sample it.
//!
//! Each key table node has a 32-bit `meta` word (see `dict`). Under an LRU
//! (or no) eviction policy it holds the clock of the key's last access: Unix
//! seconds modulo 2^24 (`clock_at`), so it wraps every 194 days and idle
//! times are estimated across one wrap, as Redis's `estimateObjectIdleTime`.
//!
//! The clock is cached: `observe` advances it once per second of the `now`
//! the lookups already carry, and every other access stores the cached value
//! (one load and one store on the GET path). The cache is global because the
//! clock is wall time, the same for every database and server.
//!
//! Who touches: `Db`'s lookups for reads and writes, and new values; not the
//! lookups Redis marks `LOOKUP_NOTOUCH` (EXISTS, TYPE, TTL, OBJECT, SCAN
//! TYPE), which use `Db::peek`.

use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};

use super::LOADING_NOW;

/// Bits of the clock stored per key (Redis's `LRU_BITS`).
pub const LRU_BITS: u32 = 24;
/// Largest clock value (Redis's `LRU_CLOCK_MAX`).
pub const CLOCK_MAX: u32 = (1 << LRU_BITS) - 1;
/// Milliseconds per clock tick (Redis's `LRU_CLOCK_RESOLUTION`).
pub const RESOLUTION_MS: i64 = 1000;

/// A cached clock: the value, and the Unix ms at which it goes stale (0
/// before the first refresh).
#[derive(Debug)]
pub struct ClockCache {
    clock: AtomicU32,
    stale_at_ms: AtomicI64,
}

/// The process's cached clock, which `Db`'s lookups use.
static CACHE: ClockCache = ClockCache::new();

/// The clock at Unix time `unix_ms` (Redis's `getLRUClock`).
pub fn clock_at(unix_ms: i64) -> u32 {
    (unix_ms.div_euclid(RESOLUTION_MS) as u64 & CLOCK_MAX as u64) as u32
}

impl ClockCache {
    /// A cache not yet set.
    pub const fn new() -> ClockCache {
        ClockCache {
            clock: AtomicU32::new(0),
            stale_at_ms: AtomicI64::new(0),
        }
    }

    /// Sets the clock from `unix_ms` and returns it.
    pub fn refresh(&self, unix_ms: i64) -> u32 {
        let c = clock_at(unix_ms);
        self.clock.store(c, Ordering::Relaxed);
        let next_tick = (unix_ms.div_euclid(RESOLUTION_MS) + 1).saturating_mul(RESOLUTION_MS);
        self.stale_at_ms.store(next_tick, Ordering::Relaxed);
        c
    }

    /// Advances the clock to `now_ms` and returns it; see `observe`.
    #[inline]
    pub fn observe(&self, now_ms: i64) -> u32 {
        let stale_at = self.stale_at_ms.load(Ordering::Relaxed);
        if now_ms >= stale_at || stale_at == 0 {
            return self.observe_slow(now_ms);
        }
        self.clock.load(Ordering::Relaxed)
    }

    #[cold]
    fn observe_slow(&self, now_ms: i64) -> u32 {
        if now_ms == LOADING_NOW {
            if self.stale_at_ms.load(Ordering::Relaxed) != 0 {
                return self.clock.load(Ordering::Relaxed);
            }
            return self.refresh(crate::util::time::unix_ms());
        }
        self.refresh(now_ms)
    }

    /// The clock as last observed.
    #[inline]
    pub fn get(&self) -> u32 {
        self.clock.load(Ordering::Relaxed)
    }
}

impl Default for ClockCache {
    fn default() -> Self {
        ClockCache::new()
    }
}

/// Sets the cached clock from `unix_ms` and returns it. The cron may call
/// this every tick, as Redis's `serverCron` refreshes `server.lruclock`.
pub fn refresh(unix_ms: i64) -> u32 {
    CACHE.refresh(unix_ms)
}

/// Advances the cached clock to `now_ms` (a command's clock; `LOADING_NOW`
/// while replaying the AOF, when the system clock is read once) and returns
/// it. Costs a load and a compare unless a second boundary was crossed; a
/// clock going backwards leaves it until time catches up.
#[inline]
pub fn observe(now_ms: i64) -> u32 {
    CACHE.observe(now_ms)
}

/// The cached clock, as last observed: what an access stores in `meta`.
#[inline]
pub fn clock() -> u32 {
    CACHE.get()
}

/// Milliseconds since the access that stored `meta`, at clock `now`
/// (Redis's `estimateObjectIdleTime`, which assumes at most one wrap).
pub fn idle_ms(meta: u32, now: u32) -> u64 {
    let (meta, now) = (meta & CLOCK_MAX, now & CLOCK_MAX);
    let ticks = if now >= meta {
        (now - meta) as u64
    } else {
        now as u64 + (CLOCK_MAX - meta) as u64
    };
    ticks * RESOLUTION_MS as u64
}

/// Whether an LFU eviction policy is selected, making `meta` an access
/// frequency rather than a clock (OBJECT FREQ works, OBJECT IDLETIME
/// refuses). GoStore has no `maxmemory-policy` yet, so never.
pub fn lfu_selected() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_counts_seconds_modulo_2_pow_24() {
        assert_eq!(clock_at(0), 0);
        assert_eq!(clock_at(999), 0);
        assert_eq!(clock_at(1000), 1);
        assert_eq!(
            clock_at(1_700_000_123_456),
            (1_700_000_123u64 % (1 << 24)) as u32
        );
        assert_eq!(clock_at((CLOCK_MAX as i64 + 1) * 1000), 0);
    }

    #[test]
    fn idle_time_is_estimated_across_one_wrap() {
        assert_eq!(idle_ms(10, 10), 0);
        assert_eq!(idle_ms(10, 25), 15_000);
        // Redis's formula across the wrap: now + (MAX - lru).
        assert_eq!(idle_ms(CLOCK_MAX - 5, 3), 8_000);
    }

    #[test]
    fn observe_advances_the_cached_clock_by_seconds() {
        let c = ClockCache::new();
        let t = 1_700_000_000_000;
        assert_eq!(c.observe(t), clock_at(t));
        assert_eq!(c.get(), clock_at(t));
        assert_eq!(c.observe(t + 999), clock_at(t));
        assert_eq!(c.observe(t + 1000), clock_at(t) + 1);
        // While loading, the cached clock stands.
        assert_eq!(c.observe(LOADING_NOW), clock_at(t) + 1);
        assert_eq!(c.observe(t + 61_000), clock_at(t) + 61);
        // Backwards: kept until time catches up.
        assert_eq!(c.observe(t), clock_at(t) + 61);
    }

    #[test]
    fn loading_before_any_refresh_reads_the_system_clock() {
        let c = ClockCache::new();
        let before = clock_at(crate::util::time::unix_ms());
        let got = c.observe(LOADING_NOW);
        assert!(got == before || got == before + 1, "{got} vs {before}");
    }
}
