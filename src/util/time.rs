//! Clocks: wall time in ms/µs (expiry times are Unix times, as in Redis) and a
//! monotonic clock for timers and durations.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Microseconds since the Unix epoch.
pub fn unix_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Wall time derived from one reading per event-loop tick and the
/// monotonic clock: commands get Unix milliseconds without a second clock
/// read each (the monotonic read is needed anyway to time them).
#[derive(Debug, Clone, Copy)]
pub struct TickClock {
    base_ms: i64,
    base: Instant,
}

impl Default for TickClock {
    fn default() -> Self {
        TickClock::now()
    }
}

impl TickClock {
    /// A clock based now.
    pub fn now() -> TickClock {
        TickClock {
            base_ms: unix_ms(),
            base: Instant::now(),
        }
    }

    /// Re-reads the wall clock (each tick, so clock adjustments show up).
    pub fn refresh(&mut self) {
        *self = TickClock::now();
    }

    /// Unix ms at the monotonic instant `at` (not before the base).
    pub fn unix_ms_at(&self, at: Instant) -> i64 {
        self.base_ms + at.saturating_duration_since(self.base).as_millis() as i64
    }

    /// Unix ms at the base reading (the start of the tick).
    pub fn tick_ms(&self) -> i64 {
        self.base_ms
    }
}
