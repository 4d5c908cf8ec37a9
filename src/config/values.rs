//! The value types of directives whose meaning lives elsewhere: the
//! eviction policy (`evict`), the output buffer limits (`limits`) and the
//! latency percentiles (`latency`). They are defined here, below those
//! modules, so that `config` depends on none of them.

use std::fmt;

/// What to delete when memory is over `maxmemory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxmemoryPolicy {
    /// Least recently used among keys with a TTL.
    VolatileLru,
    /// Least frequently used among keys with a TTL.
    VolatileLfu,
    /// Any key with a TTL.
    VolatileRandom,
    /// The key with the nearest expiry.
    VolatileTtl,
    /// Least recently used among all keys.
    AllkeysLru,
    /// Least frequently used among all keys.
    AllkeysLfu,
    /// Any key.
    AllkeysRandom,
    /// Nothing: writes that need memory fail with -OOM.
    NoEviction,
}

impl MaxmemoryPolicy {
    /// Every policy, in the order Redis lists them in its errors.
    pub const ALL: [MaxmemoryPolicy; 8] = [
        MaxmemoryPolicy::VolatileLru,
        MaxmemoryPolicy::VolatileLfu,
        MaxmemoryPolicy::VolatileRandom,
        MaxmemoryPolicy::VolatileTtl,
        MaxmemoryPolicy::AllkeysLru,
        MaxmemoryPolicy::AllkeysLfu,
        MaxmemoryPolicy::AllkeysRandom,
        MaxmemoryPolicy::NoEviction,
    ];

    /// The directive value.
    pub fn name(self) -> &'static str {
        match self {
            MaxmemoryPolicy::VolatileLru => "volatile-lru",
            MaxmemoryPolicy::VolatileLfu => "volatile-lfu",
            MaxmemoryPolicy::VolatileRandom => "volatile-random",
            MaxmemoryPolicy::VolatileTtl => "volatile-ttl",
            MaxmemoryPolicy::AllkeysLru => "allkeys-lru",
            MaxmemoryPolicy::AllkeysLfu => "allkeys-lfu",
            MaxmemoryPolicy::AllkeysRandom => "allkeys-random",
            MaxmemoryPolicy::NoEviction => "noeviction",
        }
    }

    /// The policy named `name` (case-insensitive).
    pub fn parse(name: &[u8]) -> Option<MaxmemoryPolicy> {
        Self::ALL
            .into_iter()
            .find(|p| name.eq_ignore_ascii_case(p.name().as_bytes()))
    }

    /// Whether it ranks keys by recency (Redis's `MAXMEMORY_FLAG_LRU`).
    pub fn is_lru(self) -> bool {
        matches!(
            self,
            MaxmemoryPolicy::VolatileLru | MaxmemoryPolicy::AllkeysLru
        )
    }

    /// Whether it ranks keys by frequency (`MAXMEMORY_FLAG_LFU`): the keys'
    /// `meta` words then hold LFU counters.
    pub fn is_lfu(self) -> bool {
        matches!(
            self,
            MaxmemoryPolicy::VolatileLfu | MaxmemoryPolicy::AllkeysLfu
        )
    }

    /// Whether every key may be evicted, not only keys with a TTL
    /// (`MAXMEMORY_FLAG_ALLKEYS`).
    pub fn all_keys(self) -> bool {
        matches!(
            self,
            MaxmemoryPolicy::AllkeysLru
                | MaxmemoryPolicy::AllkeysLfu
                | MaxmemoryPolicy::AllkeysRandom
        )
    }

    /// Whether keys need their own access field (LRU or LFU), which is why
    /// Redis stops sharing small integers (`MAXMEMORY_FLAG_NO_SHARED_INTEGERS`).
    pub fn tracks_access(self) -> bool {
        self.is_lru() || self.is_lfu()
    }

    /// Whether candidates go through the eviction pool.
    pub(crate) fn uses_pool(self) -> bool {
        self.tracks_access() || self == MaxmemoryPolicy::VolatileTtl
    }
}

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
            let hard = super::parse_memory(&g[1]);
            let soft = super::parse_memory(&g[2]);
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

/// `latency-tracking-info-percentiles`'s value: `%f` with trailing zeros
/// removed, as Redis's `trimDoubleString`.
pub fn format_percentile(p: f64) -> String {
    let s = format!("{p:.6}");
    let s = s.trim_end_matches('0');
    s.trim_end_matches('.').to_string()
}

/// The directive's value: percentiles separated by spaces.
pub fn format_percentiles(ps: &[f64]) -> String {
    ps.iter()
        .map(|&p| format_percentile(p))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses `latency-tracking-info-percentiles`; one empty argument (or none)
/// means no percentiles.
pub fn parse_percentiles(args: &[Vec<u8>]) -> Result<Vec<f64>, String> {
    if args.is_empty() || (args.len() == 1 && args[0].is_empty()) {
        return Ok(Vec::new());
    }
    let mut out = Vec::with_capacity(args.len());
    for a in args {
        let p = std::str::from_utf8(a)
            .ok()
            .filter(|s| !s.starts_with(|c: char| c.is_whitespace()))
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|p| !p.is_nan())
            .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
        if !(0.0..=100.0).contains(&p) {
            return Err(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                    .into(),
            );
        }
        out.push(p);
    }
    Ok(out)
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
    fn percentile_directive_values_are_trimmed_as_redis() {
        assert_eq!(format_percentiles(&[50.0, 99.0, 99.9]), "50 99 99.9");
        let p = |s: &str| parse_percentiles(&[s.as_bytes().to_vec()]);
        assert_eq!(p("").unwrap(), Vec::<f64>::new());
        assert_eq!(p("12.5").unwrap(), vec![12.5]);
        assert_eq!(
            p("101").unwrap_err(),
            "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
        );
        assert_eq!(
            p("abc").unwrap_err(),
            "Invalid latency-tracking-info-percentiles parameters"
        );
    }
}
