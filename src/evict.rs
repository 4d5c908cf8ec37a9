//! `maxmemory` and eviction, as Redis's `evict.c`.
//!
//! Before every command, while `maxmemory` is set, `perform_evictions`
//! compares the memory the counting allocator reports (minus the AOF buffer,
//! which Redis does not count either) with the limit, and deletes keys
//! chosen by `maxmemory-policy` until the server is under it:
//!
//! - **LRU, LFU, TTL**: each round samples `maxmemory-samples` keys from
//!   every database (all keys, or only those with a TTL for `volatile-*`)
//!   into a pool of the 16 best candidates seen so far, kept sorted by score
//!   (idle time; 255 minus the decayed LFU counter; how soon the TTL ends),
//!   and evicts the best one still present. The pool carries good candidates
//!   over from round to round, which is what makes a 5-key sample behave
//!   almost like true LRU (Redis's `evictionPoolPopulate`).
//! - **random**: a random key of the next non-empty database in turn.
//! - **noeviction**: nothing is deleted.
//!
//! When nothing can be deleted (noeviction, or no volatile key left), the
//! result is `Fail` and `commands::process_command` refuses `denyoom` commands with
//! `-OOM command not allowed when used memory > 'maxmemory'.`; reads and
//! deletes still run.
//!
//! Each evicted key is written to the AOF as `DEL`, counted in
//! `evicted_keys`, signalled (`Db::remove`) and notified as `evicted`. A value that is costly to free (a big hash, a big string)
//! goes to the lazyfree thread; its estimated size counts as freed at once,
//! so the loop does not evict more than it must while the thread catches up.
//!
//! Time: one call evicts for at most the time `maxmemory-eviction-tenacity`
//! allows (500 µs at the default 10). Past that it schedules itself
//! (`proc_running`): the server then polls without sleeping and calls
//! `time_proc` every tick, between clients' commands, until the memory is
//! under the limit or nothing is left to evict (Redis's `evictionTimeProc`).
//! CONFIG SET maxmemory below the usage starts it the same way.

use std::time::Instant;

use crate::aof::Aof;
use crate::core::Core;
use crate::db::{lru, Db};
use crate::lazyfree::LazyFree;
use crate::memory;
use crate::notify;
use crate::util::rand::Rng;

pub use crate::config::values::MaxmemoryPolicy;

/// Candidates kept between rounds (Redis's `EVPOOL_SIZE`).
pub const EVPOOL_SIZE: usize = 16;
/// Pool entries keep their key buffer up to this size between uses, so
/// filling the pool does not allocate (Redis's `EVPOOL_CACHED_SDS_SIZE`).
const EVPOOL_CACHED_KEY: usize = 255;

/// Pool rounds that may find no candidate before eviction gives up.
const MAX_EMPTY_ROUNDS: usize = 100;

/// One candidate: its score (higher is evicted first), key and database.
#[derive(Debug, Default, Clone)]
struct PoolEntry {
    idle: u64,
    key: Vec<u8>,
    db: usize,
    used: bool,
}

/// How a call went (Redis's `EVICT_OK`, `EVICT_RUNNING`, `EVICT_FAIL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Under the limit (or no limit).
    Ok,
    /// Still over, but the time ran out and `time_proc` carries on.
    Running,
    /// Over the limit with nothing that can be evicted.
    Fail,
}

/// The evictor's state: the pool, the random policies' database cursor,
/// the background continuation, and the statistics INFO reports.
#[derive(Debug)]
pub struct Evictor {
    pool: Vec<PoolEntry>,
    next_db: usize,
    /// The key being evicted (reused).
    scratch: Vec<u8>,
    /// `time_proc` must run on the next ticks.
    pub proc_running: bool,
    /// Keys evicted (INFO evicted_keys).
    pub evicted_keys: u64,
    /// Since when the memory has been over the limit, if it is.
    exceeded_since: Option<Instant>,
    /// Microseconds spent over the limit, finished episodes only.
    total_exceeded_us: u64,
}

impl Default for Evictor {
    fn default() -> Self {
        Evictor::new()
    }
}

impl Evictor {
    /// An empty pool and zeroed statistics.
    pub fn new() -> Evictor {
        Evictor {
            pool: vec![PoolEntry::default(); EVPOOL_SIZE],
            next_db: 0,
            scratch: Vec::new(),
            proc_running: false,
            evicted_keys: 0,
            exceeded_since: None,
            total_exceeded_us: 0,
        }
    }

    /// INFO total_eviction_exceeded_time, in ms: time spent over the limit.
    pub fn total_exceeded_ms(&self) -> u64 {
        (self.total_exceeded_us + self.current_exceeded_us()) / 1000
    }

    /// INFO current_eviction_exceeded_time, in ms: how long the memory has
    /// been over the limit, 0 when it is not.
    pub fn current_exceeded_ms(&self) -> u64 {
        self.current_exceeded_us() / 1000
    }

    fn current_exceeded_us(&self) -> u64 {
        self.exceeded_since
            .map(|t| t.elapsed().as_micros() as u64)
            .unwrap_or(0)
    }

    /// CONFIG RESETSTAT.
    pub fn reset_stats(&mut self) {
        self.evicted_keys = 0;
        self.total_exceeded_us = 0;
        if self.exceeded_since.is_some() {
            self.exceeded_since = Some(Instant::now());
        }
    }

    /// Schedules `time_proc` (Redis's `startEvictionTimeProc`).
    pub fn start_proc(&mut self) {
        self.proc_running = true;
    }

    fn update_metrics(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Running | Outcome::Fail => {
                if self.exceeded_since.is_none() {
                    self.exceeded_since = Some(Instant::now());
                }
            }
            Outcome::Ok => {
                if let Some(t) = self.exceeded_since.take() {
                    self.total_exceeded_us += t.elapsed().as_micros() as u64;
                }
            }
        }
    }
}

/// Bytes left out of the count against maxmemory (Redis's
/// `freeMemoryGetNotCountedMemory`): the AOF buffer, which is written out
/// every tick and must not make keys go, and values the lazyfree thread is
/// about to free.
pub fn not_counted_memory(aof: &Aof, lazyfree: &LazyFree) -> usize {
    aof.buffer_capacity() + lazyfree.pending_bytes()
}

/// The memory maxmemory is compared with: used memory minus what is not
/// counted.
pub fn counted_memory(aof: &Aof, lazyfree: &LazyFree) -> usize {
    memory::used_memory().saturating_sub(not_counted_memory(aof, lazyfree))
}

/// Bytes to free to get under `maxmemory`, or None when under it (or no
/// limit). Redis's `getMaxmemoryState`.
pub fn bytes_to_free(maxmemory: u64, aof: &Aof, lazyfree: &LazyFree) -> Option<usize> {
    if maxmemory == 0 {
        return None;
    }
    let reported = memory::used_memory();
    if reported as u64 <= maxmemory {
        return None;
    }
    let used = reported.saturating_sub(not_counted_memory(aof, lazyfree));
    if used as u64 <= maxmemory {
        return None;
    }
    Some(used - maxmemory as usize)
}

/// The time one call may spend evicting, from `maxmemory-eviction-tenacity`
/// (Redis's `evictionTimeLimitUs`): 50 µs per step up to 10, then 15% more
/// per step, unlimited at 100.
pub fn time_limit_us(tenacity: u32) -> u64 {
    if tenacity <= 10 {
        50 * tenacity as u64
    } else if tenacity < 100 {
        (500.0 * 1.15f64.powi(tenacity as i32 - 10)) as u64
    } else {
        u64::MAX
    }
}

/// Applies the eviction settings that live outside `Config`: what the keys'
/// `meta` words hold, the LFU parameters, and the limit table growth
/// respects (`dict::set_expand_limit`). Called at start-up and after CONFIG
/// SET.
pub fn apply_config(config: &crate::config::Config) {
    lru::set_lfu(config.maxmemory_policy.is_lfu());
    crate::db::dict::set_expand_limit(config.maxmemory as usize);
    lru::set_lfu_params(config.lfu_log_factor, config.lfu_decay_time);
}

/// After CONFIG SET maxmemory (Redis's `updateMaxmemory`): warns when the
/// new limit is below the usage, and starts evicting from the loop.
pub fn maxmemory_changed(core: &mut Core) {
    let max = core.config.maxmemory;
    if max == 0 {
        // No limit, so no longer over it.
        core.evict.update_metrics(Outcome::Ok);
        return;
    }
    let used = counted_memory(&core.aof, &core.lazyfree);
    if max < used as u64 {
        log::warn!("WARNING: the new maxmemory value set via CONFIG SET ({max}) is smaller than the current memory usage ({used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.");
    }
    core.evict.start_proc();
}

/// Evicts keys until the memory is under `maxmemory`, within the time the
/// tenacity allows (Redis's `performEvictions`).
pub fn perform_evictions(dbs: &mut [Db], core: &mut Core) -> Outcome {
    // AOF replay reproduces a history, it does not make one.
    if core.loading {
        return Outcome::Ok;
    }
    // During CLIENT PAUSE WRITE|ALL nothing may change the dataset, as in
    // Redis (PAUSE_ACTION_EVICT): eviction waits for the pause to end.
    if core.ops.pause.writes_paused() {
        return Outcome::Ok;
    }
    let Core {
        config,
        aof,
        lazyfree,
        rng,
        evict,
        propagator,
        ..
    } = core;
    let Some(to_free) = bytes_to_free(config.maxmemory, aof, lazyfree) else {
        evict.update_metrics(Outcome::Ok);
        return Outcome::Ok;
    };
    let policy = config.maxmemory_policy;
    if policy == MaxmemoryPolicy::NoEviction {
        evict.update_metrics(Outcome::Fail);
        return Outcome::Fail;
    }
    let limit_us = time_limit_us(config.maxmemory_eviction_tenacity);
    let samples = config.maxmemory_samples.max(1) as usize;
    let start = Instant::now();
    let mut freed: usize = 0;
    let mut keys_freed = 0u64;
    let mut nothing_left = false;
    while freed < to_free {
        let Some(db_index) = pick(evict, dbs, policy, samples, rng) else {
            nothing_left = true;
            break;
        };
        let key = std::mem::take(&mut evict.scratch);
        freed += delete(&mut dbs[db_index], &key, lazyfree);
        propagator.propagate_del(aof, db_index, &key);
        evict.scratch = key;
        evict.evicted_keys += 1;
        keys_freed += 1;
        if keys_freed % 16 == 0 {
            // The lazyfree thread frees memory as we go: check the real
            // figure from time to time.
            if bytes_to_free(config.maxmemory, aof, lazyfree).is_none() {
                break;
            }
            if start.elapsed().as_micros() as u64 > limit_us {
                evict.start_proc();
                break;
            }
        }
    }
    let mut outcome = if nothing_left {
        Outcome::Fail
    } else if evict.proc_running {
        Outcome::Running
    } else {
        Outcome::Ok
    };
    if outcome == Outcome::Fail {
        // Nothing left to evict; memory may still come back from the
        // lazyfree thread: wait for it a little, within the time limit.
        while lazyfree.pending() > 0 && (start.elapsed().as_micros() as u64) < limit_us {
            if bytes_to_free(config.maxmemory, aof, lazyfree).is_none() {
                outcome = Outcome::Ok;
                break;
            }
            let wait = limit_us.min(1000);
            std::thread::sleep(std::time::Duration::from_micros(wait));
        }
    }
    if keys_freed > 0 {
        log::debug!(
            "Evicted {keys_freed} keys ({freed} bytes) in {} us",
            start.elapsed().as_micros()
        );
    }
    evict.update_metrics(outcome);
    outcome
}

/// The continuation after a call ran out of time (Redis's
/// `evictionTimeProc`): the server calls it every tick while
/// `proc_running`; it stops once under the limit or out of candidates.
pub fn time_proc(dbs: &mut [Db], core: &mut Core) {
    if perform_evictions(dbs, core) != Outcome::Running {
        core.evict.proc_running = false;
    }
}

/// Chooses the next key to evict into `evict.scratch`; returns its database.
fn pick(
    evict: &mut Evictor,
    dbs: &[Db],
    policy: MaxmemoryPolicy,
    samples: usize,
    rng: &mut Rng,
) -> Option<usize> {
    if policy.uses_pool() {
        // Redis retries until it finds a candidate; a sample can come back
        // empty from a sparse table, so retry, but not forever.
        for _ in 0..MAX_EMPTY_ROUNDS {
            let mut total_keys = 0;
            for (i, db) in dbs.iter().enumerate() {
                let keys = if policy.all_keys() {
                    db.dict.len()
                } else {
                    db.expires.len()
                };
                if keys > 0 {
                    populate(&mut evict.pool, i, db, policy, samples, rng);
                    total_keys += keys;
                }
            }
            if total_keys == 0 {
                return None;
            }
            // From the best candidate down; a key deleted since it was
            // sampled is a ghost, skipped.
            for k in (0..EVPOOL_SIZE).rev() {
                let e = &mut evict.pool[k];
                if !e.used {
                    continue;
                }
                e.used = false;
                e.idle = 0;
                let db = &dbs[e.db];
                let present = if policy.all_keys() {
                    db.dict.contains_key(&e.key)
                } else {
                    db.expires.contains_key(&e.key)
                };
                if present {
                    evict.scratch.clear();
                    evict.scratch.extend_from_slice(&e.key);
                    if e.key.capacity() > EVPOOL_CACHED_KEY {
                        e.key = Vec::new();
                    }
                    return Some(e.db);
                }
            }
        }
        return None;
    }
    // allkeys-random, volatile-random: one key from each database in turn.
    let n = dbs.len();
    for _ in 0..n {
        evict.next_db = evict.next_db.wrapping_add(1);
        let j = evict.next_db % n;
        let db = &dbs[j];
        let picked = if policy == MaxmemoryPolicy::AllkeysRandom {
            db.dict.random(rng).map(|(k, _)| k)
        } else {
            db.expires.random(rng).map(|(k, _)| k)
        };
        if let Some(k) = picked {
            evict.scratch.clear();
            evict.scratch.extend_from_slice(k);
            return Some(j);
        }
    }
    None
}

/// Samples `db` and merges the candidates into the pool (Redis's
/// `evictionPoolPopulate`).
fn populate(
    pool: &mut [PoolEntry],
    db_index: usize,
    db: &Db,
    policy: MaxmemoryPolicy,
    samples: usize,
    rng: &mut Rng,
) {
    let clock = lru::clock();
    if policy.all_keys() {
        db.dict.sample(rng, samples, |key, _, meta| {
            pool_insert(pool, score(policy, meta, clock), key, db_index);
        });
    } else {
        db.expires.sample(rng, samples, |key, &when, _| {
            let idle = if policy == MaxmemoryPolicy::VolatileTtl {
                // The sooner it expires, the better a candidate.
                u64::MAX - when as u64
            } else {
                match db.dict.meta(key) {
                    Some(meta) => score(policy, meta, clock),
                    None => return,
                }
            };
            pool_insert(pool, idle, key, db_index);
        });
    }
}

/// A key's score from its `meta`: idle time under LRU, 255 minus the
/// decayed counter under LFU (so rarely used keys score high).
fn score(policy: MaxmemoryPolicy, meta: u32, clock: u32) -> u64 {
    if policy.is_lfu() {
        255 - lru::lfu_decr_and_return(meta) as u64
    } else {
        lru::idle_ms(meta, clock)
    }
}

/// Puts a candidate in the pool, kept sorted by ascending score: into an
/// empty slot or in the middle, dropping the worst candidate when full;
/// not at all when it is worse than everything in a full pool.
fn pool_insert(pool: &mut [PoolEntry], idle: u64, key: &[u8], db: usize) {
    let mut k = 0;
    while k < EVPOOL_SIZE && pool[k].used && pool[k].idle < idle {
        k += 1;
    }
    if k == 0 && pool[EVPOOL_SIZE - 1].used {
        return;
    } else if k < EVPOOL_SIZE && !pool[k].used {
        // An empty slot: take it.
    } else if !pool[EVPOOL_SIZE - 1].used {
        // Room on the right: shift k.. right by one (the empty last entry
        // comes round to k, its buffer reused).
        pool[k..].rotate_right(1);
    } else {
        // Full: drop the worst (leftmost) and shift 1..=k-1 left.
        k -= 1;
        pool[..=k].rotate_left(1);
    }
    let e = &mut pool[k];
    e.key.clear();
    e.key.extend_from_slice(key);
    e.idle = idle;
    e.db = db;
    e.used = true;
}

/// Deletes `key` from `db` and returns the bytes that frees: measured for
/// what is freed here, estimated for a value handed to the lazyfree thread
/// (which `not_counted_memory` leaves out until the thread is done).
/// Signalled (by `Db::remove`), then event `evicted`, as Redis.
fn delete(db: &mut Db, key: &[u8], lazyfree: &LazyFree) -> usize {
    let before = memory::used_memory();
    let Some(value) = db.remove(key) else {
        return 0;
    };
    let deferred = lazyfree.free_evicted(value);
    let freed = before.saturating_sub(memory::used_memory()) + deferred;
    notify::notify_keyspace_event(notify::EVICTED, "evicted", key, db.id());
    freed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_evicted_key_is_signalled_then_notified_in_its_database() {
        use crate::db::hooks::Signal;
        use crate::notify::recorder;
        let _guard = crate::db::dict::FREER_TEST_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        recorder::enable_all();
        recorder::take();
        let lazyfree = LazyFree::start().expect("lazyfree");
        let mut dbs = Db::numbered(2);
        dbs[1].add(b"k", crate::db::value::Value::string(b"v"));
        dbs[1].hooks.log.clear();
        recorder::take();
        delete(&mut dbs[1], b"k", &lazyfree);
        assert_eq!(
            recorder::take(),
            [(notify::EVICTED, "evicted", b"k".to_vec(), 1)]
        );
        assert_eq!(dbs[1].hooks.log, [Signal::Key(b"k".to_vec())]);
        delete(&mut dbs[1], b"k", &lazyfree);
        assert_eq!(recorder::take(), [], "nothing evicted, nothing said");
    }

    fn pool() -> Vec<PoolEntry> {
        vec![PoolEntry::default(); EVPOOL_SIZE]
    }

    fn keys(p: &[PoolEntry]) -> Vec<(u64, String)> {
        p.iter()
            .filter(|e| e.used)
            .map(|e| (e.idle, String::from_utf8_lossy(&e.key).into_owned()))
            .collect()
    }

    #[test]
    fn the_pool_stays_sorted_and_keeps_the_sixteen_best() {
        let mut p = pool();
        for (i, idle) in [50u64, 10, 30, 20, 40].iter().enumerate() {
            pool_insert(&mut p, *idle, format!("k{i}").as_bytes(), 0);
        }
        let got: Vec<u64> = keys(&p).iter().map(|(i, _)| *i).collect();
        assert_eq!(got, vec![10, 20, 30, 40, 50]);
        for idle in 100..120 {
            pool_insert(&mut p, idle, format!("x{idle}").as_bytes(), 1);
        }
        let got: Vec<u64> = keys(&p).iter().map(|(i, _)| *i).collect();
        // Full: the five small scores and the lowest newcomers were pushed out.
        assert_eq!(got, (104..120).collect::<Vec<_>>());
        // Worse than everything in a full pool: ignored.
        pool_insert(&mut p, 1, b"cold", 0);
        assert_eq!(keys(&p)[0].0, 104);
        // Better than some: the worst one goes.
        pool_insert(&mut p, 110, b"mid", 2);
        let k = keys(&p);
        assert_eq!(k.len(), EVPOOL_SIZE);
        assert_eq!(k[0].0, 105);
        assert!(k.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(k.iter().any(|(_, n)| n == "mid"));
    }

    #[test]
    fn tenacity_maps_to_redis_time_limits() {
        assert_eq!(time_limit_us(0), 0);
        assert_eq!(time_limit_us(10), 500);
        assert_eq!(time_limit_us(11), 575);
        // About two minutes at 99.
        assert!((120_000_000..=130_000_000).contains(&time_limit_us(99)));
        assert_eq!(time_limit_us(100), u64::MAX);
    }

    #[test]
    fn policies_parse_by_name_and_carry_redis_flags() {
        for p in MaxmemoryPolicy::ALL {
            assert_eq!(MaxmemoryPolicy::parse(p.name().as_bytes()), Some(p));
        }
        assert_eq!(
            MaxmemoryPolicy::parse(b"ALLKEYS-LRU"),
            Some(MaxmemoryPolicy::AllkeysLru)
        );
        assert_eq!(MaxmemoryPolicy::parse(b"lru"), None);
        assert!(MaxmemoryPolicy::VolatileTtl.uses_pool());
        assert!(!MaxmemoryPolicy::VolatileTtl.tracks_access());
        assert!(!MaxmemoryPolicy::AllkeysRandom.uses_pool());
        assert!(MaxmemoryPolicy::AllkeysLfu.all_keys() && MaxmemoryPolicy::AllkeysLfu.is_lfu());
    }
}
