//! What every key remembers about its accesses (Redis's `robj.lru`): the
//! time of its last access under an LRU (or no) eviction policy, or a
//! logarithmic access counter under an LFU policy. OBJECT IDLETIME and OBJECT
//! FREQ read it; eviction (`crate::evict`) samples it.
//!
//! Each key table node has a 32-bit `meta` word (see `dict`):
//! - **LRU**: the access clock, in ticks of `RESOLUTION_MS` (10 ms) modulo
//!   2^32 (`tick_at`). Redis keeps 24 bits of seconds; GoStore has 32 bits,
//!   so its clock is 100 times finer and still wraps later (every 497 days
//!   instead of 194). The finer clock tells apart keys touched within the
//!   same second, which is what a busy cache's LRU approximation hinges on.
//!   Idle times are estimated across one wrap, as Redis's
//!   `estimateObjectIdleTime`.
//! - **LFU**: Redis's layout in the low 24 bits: the minute of the last
//!   decrement (16 bits, `minutes`) above an 8-bit counter that grows with
//!   the logarithm of the accesses (`lfu_log_incr`, `lfu-log-factor`) and
//!   drops by one per `lfu-decay-time` minutes without access
//!   (`lfu_decr_and_return`). A new key starts at `LFU_INIT_VAL`.
//!
//! The clock is cached: `observe` advances it once per tick of the `now` the
//! lookups already carry, so an access costs a load and a store on the GET
//! path. The cache, the mode (LRU, LFU, no-touch) and the LFU parameters are
//! process-wide statics because they are wall time and configuration, the
//! same for every database; only the event loop writes them.
//!
//! Who touches (`touch`): `Db`'s lookups for reads and writes; not the
//! lookups Redis marks `LOOKUP_NOTOUCH` (EXISTS, TYPE, TTL, OBJECT, SCAN
//! TYPE), which use `Db::peek`, and nothing while a client in CLIENT
//! NO-TOUCH mode runs a command other than TOUCH (`set_no_touch`). New keys
//! get `new_meta`; a value overwritten in place gets `overwrite`.

use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, AtomicU8, Ordering};

use super::LOADING_NOW;

/// Milliseconds per clock tick.
pub const RESOLUTION_MS: i64 = 10;
/// Redis's LRU clock bits, for INFO's `lru_clock` (`clock_at`).
const REDIS_LRU_BITS: u32 = 24;
/// A new key's LFU counter (Redis's `LFU_INIT_VAL`), so it is not evicted
/// before it has had a chance to be read again.
pub const LFU_INIT_VAL: u32 = 5;

/// A cached clock: the ticks, the minutes for LFU, and the Unix ms at which
/// they go stale (0 before the first refresh).
#[derive(Debug)]
pub struct ClockCache {
    ticks: AtomicU32,
    minutes: AtomicU32,
    stale_at_ms: AtomicI64,
}

/// The process's cached clock, which `Db`'s lookups use.
static CACHE: ClockCache = ClockCache::new();

/// `MODE` bit: `meta` holds an LFU counter (an LFU policy is selected).
const MODE_LFU: u8 = 1;
/// `MODE` bit: accesses do not touch (a CLIENT NO-TOUCH client is running).
const MODE_NO_TOUCH: u8 = 2;
/// `MODE` bit: accesses do not touch (a forked rewrite child shares our
/// pages: touching would copy them, as Redis's `hasActiveChildProcess`).
const MODE_CHILD: u8 = 4;
static MODE: AtomicU8 = AtomicU8::new(0);
/// `lfu-log-factor`.
static LFU_LOG_FACTOR: AtomicU32 = AtomicU32::new(10);
/// `lfu-decay-time`, in minutes.
static LFU_DECAY_TIME: AtomicU32 = AtomicU32::new(1);
/// xorshift64* state for `lfu_log_incr` (Redis calls `rand()` there).
static LFU_RAND: AtomicU64 = AtomicU64::new(0x9e37_79b9_7f4a_7c15);

/// The per-key clock at Unix time `unix_ms`: 10 ms ticks modulo 2^32.
pub fn tick_at(unix_ms: i64) -> u32 {
    unix_ms.div_euclid(RESOLUTION_MS) as u32
}

/// Redis's LRU clock at `unix_ms` (`getLRUClock`: seconds modulo 2^24), for
/// INFO's `lru_clock`.
pub fn clock_at(unix_ms: i64) -> u32 {
    (unix_ms.div_euclid(1000) as u64 & ((1u64 << REDIS_LRU_BITS) - 1)) as u32
}

/// Redis's `LFUGetTimeInMinutes`: Unix minutes modulo 2^16.
pub fn minutes_at(unix_ms: i64) -> u32 {
    (unix_ms.div_euclid(60_000) as u64 & 0xffff) as u32
}

impl ClockCache {
    /// A cache not yet set.
    pub const fn new() -> ClockCache {
        ClockCache {
            ticks: AtomicU32::new(0),
            minutes: AtomicU32::new(0),
            stale_at_ms: AtomicI64::new(0),
        }
    }

    /// Sets the clock from `unix_ms` and returns it.
    pub fn refresh(&self, unix_ms: i64) -> u32 {
        let t = tick_at(unix_ms);
        self.ticks.store(t, Ordering::Relaxed);
        self.minutes.store(minutes_at(unix_ms), Ordering::Relaxed);
        let next_tick = (unix_ms.div_euclid(RESOLUTION_MS) + 1).saturating_mul(RESOLUTION_MS);
        self.stale_at_ms.store(next_tick, Ordering::Relaxed);
        t
    }

    /// Advances the clock to `now_ms` and returns it; see `observe`.
    #[inline]
    pub fn observe(&self, now_ms: i64) -> u32 {
        let stale_at = self.stale_at_ms.load(Ordering::Relaxed);
        if now_ms >= stale_at || stale_at == 0 {
            return self.observe_slow(now_ms);
        }
        self.ticks.load(Ordering::Relaxed)
    }

    #[cold]
    fn observe_slow(&self, now_ms: i64) -> u32 {
        if now_ms == LOADING_NOW {
            if self.stale_at_ms.load(Ordering::Relaxed) != 0 {
                return self.ticks.load(Ordering::Relaxed);
            }
            return self.refresh(crate::util::time::unix_ms());
        }
        self.refresh(now_ms)
    }

    /// The clock as last observed.
    #[inline]
    pub fn get(&self) -> u32 {
        self.ticks.load(Ordering::Relaxed)
    }

    /// The minutes as last observed.
    #[inline]
    pub fn minutes(&self) -> u32 {
        self.minutes.load(Ordering::Relaxed)
    }
}

impl Default for ClockCache {
    fn default() -> Self {
        ClockCache::new()
    }
}

/// Sets the cached clock from `unix_ms` and returns it. The cron calls this
/// every tick, as Redis's `serverCron` refreshes `server.lruclock`.
pub fn refresh(unix_ms: i64) -> u32 {
    CACHE.refresh(unix_ms)
}

/// Advances the cached clock to `now_ms` (a command's clock; `LOADING_NOW`
/// while replaying the AOF, when the system clock is read once) and returns
/// it. Costs a load and a compare unless a tick boundary was crossed; a
/// clock going backwards leaves it until time catches up.
#[inline]
pub fn observe(now_ms: i64) -> u32 {
    CACHE.observe(now_ms)
}

/// The cached clock, as last observed.
#[inline]
pub fn clock() -> u32 {
    CACHE.get()
}

/// Milliseconds since the access that stored `meta`, at clock `now`
/// (Redis's `estimateObjectIdleTime`, which assumes at most one wrap).
pub fn idle_ms(meta: u32, now: u32) -> u64 {
    now.wrapping_sub(meta) as u64 * RESOLUTION_MS as u64
}

/// Selects what `meta` means from now on: an LFU counter (`true`) or an
/// access clock. Switching leaves the existing words as they are; they
/// adjust as keys are accessed, as in Redis.
pub fn set_lfu(on: bool) {
    let m = MODE.load(Ordering::Relaxed);
    let m = if on { m | MODE_LFU } else { m & !MODE_LFU };
    MODE.store(m, Ordering::Relaxed);
}

/// Whether an LFU eviction policy is selected, making `meta` an access
/// frequency rather than a clock (OBJECT FREQ works, OBJECT IDLETIME
/// refuses).
#[inline]
pub fn lfu_selected() -> bool {
    MODE.load(Ordering::Relaxed) & MODE_LFU != 0
}

/// Sets `lfu-log-factor` and `lfu-decay-time`.
pub fn set_lfu_params(log_factor: u32, decay_time_minutes: u32) {
    LFU_LOG_FACTOR.store(log_factor, Ordering::Relaxed);
    LFU_DECAY_TIME.store(decay_time_minutes, Ordering::Relaxed);
}

/// Suspends touching while a child process shares the keyspace's pages.
pub fn set_child_running(on: bool) {
    let m = MODE.load(Ordering::Relaxed);
    MODE.store(
        if on { m | MODE_CHILD } else { m & !MODE_CHILD },
        Ordering::Relaxed,
    );
}

/// Suspends touching while a CLIENT NO-TOUCH client runs a command (`call`
/// sets it around the handler, except for TOUCH).
#[inline]
pub fn set_no_touch(on: bool) {
    let m = MODE.load(Ordering::Relaxed);
    let m = if on {
        m | MODE_NO_TOUCH
    } else {
        m & !MODE_NO_TOUCH
    };
    MODE.store(m, Ordering::Relaxed);
}

/// Records an access in `meta` (Redis's `lookupKey` side effect): the clock
/// under LRU, a decayed-then-incremented counter under LFU, nothing in
/// no-touch mode.
#[inline]
pub fn touch(meta: &mut u32) {
    let m = MODE.load(Ordering::Relaxed);
    if m == 0 {
        *meta = CACHE.get();
    } else if m == MODE_LFU {
        lfu_touch(meta);
    }
}

/// The `meta` of a new key: now, or a fresh LFU counter (Redis's
/// `createObject`). Creation is not an access: no-touch mode does not apply.
#[inline]
pub fn new_meta() -> u32 {
    if MODE.load(Ordering::Relaxed) & MODE_LFU != 0 {
        (CACHE.minutes() << 8) | LFU_INIT_VAL
    } else {
        CACHE.get()
    }
}

/// The `meta` of a key whose value is replaced (SET on an existing key):
/// under LFU the key keeps its counter, touched as the write lookup before
/// the overwrite does (Redis's `dbOverwrite` copies the old `lru`); under
/// LRU the new value is new, so its clock is now, even in no-touch mode.
#[inline]
pub fn overwrite(meta: &mut u32) {
    if MODE.load(Ordering::Relaxed) & MODE_LFU != 0 {
        touch(meta);
    } else {
        *meta = CACHE.get();
    }
}

#[cold]
fn lfu_touch(meta: &mut u32) {
    let counter = lfu_log_incr(lfu_decr_and_return(*meta));
    *meta = (CACHE.minutes() << 8) | counter;
}

/// Minutes since `ldt` (16-bit minutes), across one wrap (Redis's
/// `LFUTimeElapsed`).
fn lfu_time_elapsed(ldt: u32, now: u32) -> u32 {
    if now >= ldt {
        now - ldt
    } else {
        65535 - ldt + now
    }
}

/// The LFU counter in `meta` after the decay its idle minutes call for
/// (Redis's `LFUDecrAndReturn`): minus one per `lfu-decay-time` minutes.
/// OBJECT FREQ reports this; eviction ranks by it.
pub fn lfu_decr_and_return(meta: u32) -> u32 {
    lfu_decr_at(meta, CACHE.minutes())
}

/// `lfu_decr_and_return` at minute `now` (16 bits).
fn lfu_decr_at(meta: u32, now: u32) -> u32 {
    let ldt = (meta >> 8) & 0xffff;
    let counter = meta & 0xff;
    let decay = LFU_DECAY_TIME.load(Ordering::Relaxed);
    let periods = lfu_time_elapsed(ldt, now).checked_div(decay).unwrap_or(0);
    counter.saturating_sub(periods)
}

/// Increments `counter` with probability 1 / ((counter - LFU_INIT_VAL) *
/// lfu-log-factor + 1), so it grows with the logarithm of the accesses
/// (Redis's `LFULogIncr`); 255 is the ceiling.
pub fn lfu_log_incr(counter: u32) -> u32 {
    if counter >= 255 {
        return 255;
    }
    let r = lfu_rand();
    let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
    let p = 1.0 / (base * LFU_LOG_FACTOR.load(Ordering::Relaxed) as f64 + 1.0);
    if r < p {
        counter + 1
    } else {
        counter
    }
}

/// A uniform number in [0, 1) (xorshift64*; the loop is its only caller, so
/// a relaxed load and store suffice).
fn lfu_rand() -> f64 {
    let mut x = LFU_RAND.load(Ordering::Relaxed);
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    LFU_RAND.store(x, Ordering::Relaxed);
    (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_counts_ten_millisecond_ticks_modulo_2_pow_32() {
        assert_eq!(tick_at(0), 0);
        assert_eq!(tick_at(9), 0);
        assert_eq!(tick_at(10), 1);
        assert_eq!(
            tick_at(1_700_000_123_456),
            (170_000_012_345u64 % (1 << 32)) as u32
        );
        assert_eq!(tick_at((1i64 << 32) * 10), 0);
        // INFO's lru_clock stays Redis's seconds modulo 2^24.
        assert_eq!(
            clock_at(1_700_000_123_456),
            (1_700_000_123u64 % (1 << 24)) as u32
        );
        assert_eq!(minutes_at(60_000 * 65_537), 1);
    }

    #[test]
    fn idle_time_is_estimated_across_one_wrap() {
        assert_eq!(idle_ms(10, 10), 0);
        assert_eq!(idle_ms(10, 25), 150);
        assert_eq!(idle_ms(u32::MAX - 5, 3), 9 * 10);
    }

    #[test]
    fn observe_advances_the_cached_clock_by_ticks() {
        let c = ClockCache::new();
        let t = 1_700_000_000_000;
        assert_eq!(c.observe(t), tick_at(t));
        assert_eq!(c.get(), tick_at(t));
        assert_eq!(c.minutes(), minutes_at(t));
        assert_eq!(c.observe(t + 9), tick_at(t));
        assert_eq!(c.observe(t + 10), tick_at(t) + 1);
        // While loading, the cached clock stands.
        assert_eq!(c.observe(LOADING_NOW), tick_at(t) + 1);
        assert_eq!(c.observe(t + 61_000), tick_at(t) + 6100);
        assert_eq!(c.minutes(), minutes_at(t + 61_000));
        // Backwards: kept until time catches up.
        assert_eq!(c.observe(t), tick_at(t) + 6100);
    }

    #[test]
    fn loading_before_any_refresh_reads_the_system_clock() {
        let c = ClockCache::new();
        let before = tick_at(crate::util::time::unix_ms());
        let got = c.observe(LOADING_NOW);
        assert!(got.wrapping_sub(before) < 100, "{got} vs {before}");
    }

    #[test]
    fn the_lfu_counter_grows_logarithmically_and_saturates() {
        // With the default factor 10, a million increments reach ~255 and
        // a hundred stay near the bottom (Redis's table in redis.conf).
        let mut c = LFU_INIT_VAL;
        for _ in 0..100 {
            c = lfu_log_incr(c);
        }
        assert!((8..=20).contains(&c), "100 hits gave {c}");
        assert_eq!(lfu_log_incr(255), 255);
        // Below the initial value every access counts.
        assert_eq!(lfu_log_incr(0), 1);
        assert_eq!(lfu_log_incr(4), 5);
    }

    #[test]
    fn the_lfu_counter_decays_one_per_decay_period() {
        let now = 7;
        let meta = |ago: u32, counter: u32| (((now + 65536 - ago) & 0xffff) << 8) | counter;
        assert_eq!(lfu_decr_at(meta(0, 20), now), 20);
        assert_eq!(lfu_decr_at(meta(3, 20), now), 17);
        assert_eq!(lfu_decr_at(meta(30, 20), now), 0);
        // Across the 16-bit wrap of the minutes.
        assert_eq!(lfu_decr_at(meta(10, 20), now), 10 + 1);
    }
}
