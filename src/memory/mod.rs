//! Memory accounting: how much the server uses, where it goes, and what one
//! key costs. docs/memory.md explains the figures.
//!
//! - `used_memory` is the counting allocator's total (`alloc`): every byte
//!   the process has asked glibc for and not freed, in chunk sizes. It moves
//!   with the dataset, clients' query and reply buffers, the AOF buffer and
//!   values waiting on the lazyfree thread, at the moment they are allocated
//!   or freed. maxmemory (`crate::evict`) and INFO read it.
//! - `overhead` splits it as Redis's `getMemoryOverheadData` does: what the
//!   server had at start-up, clients, the AOF buffer, the key tables' own
//!   structure; the rest is the dataset (MEMORY STATS, INFO memory).
//! - `key_usage` and `value_size` estimate what one key costs (MEMORY
//!   USAGE), sampling the fields of big hashes as Redis's
//!   `objectComputeSize` does.

pub mod alloc;
pub mod system;

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::client::Clients;
use crate::db::dict::Dict;
use crate::db::hash::Hash;
use crate::db::list::List;
use crate::db::set::Set;
use crate::db::value::{Value, ValueRef};
use crate::db::zset::Zset;
use crate::db::Db;
use alloc::chunk_size;

/// Fields of a big hash MEMORY USAGE samples by default (Redis's
/// `OBJ_COMPUTE_SIZE_DEF_SAMPLES`).
pub(crate) const DEFAULT_SAMPLES: usize = 5;

/// `used_memory` once the server was set up, before loading data (INFO
/// used_memory_startup).
static STARTUP: AtomicUsize = AtomicUsize::new(0);

/// Bytes in use: the counting allocator's figure, or glibc's own statistics
/// when the program does not use it (unit tests).
#[inline]
pub fn used_memory() -> usize {
    match alloc::allocated() {
        Some(n) => n,
        None => malloc_stats().allocated,
    }
}

/// Records the start-up figure (`Server::new`, before loading the AOF).
pub(crate) fn mark_startup() {
    STARTUP.store(used_memory(), Ordering::Relaxed);
}

/// INFO used_memory_startup.
pub(crate) fn startup() -> usize {
    STARTUP.load(Ordering::Relaxed)
}

/// What glibc's malloc reports (`mallinfo2`), for INFO's allocator_* fields.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MallocStats {
    /// Bytes in chunks in use, headers included.
    pub allocated: usize,
    /// Bytes obtained from the system: the heaps plus mmapped chunks.
    pub active: usize,
}

/// Reads glibc's statistics. Walks the free lists of every arena: cheap for
/// INFO, too slow for a hot path.
pub(crate) fn malloc_stats() -> MallocStats {
    // SAFETY: mallinfo2 only reads the allocator's bookkeeping.
    let mi = unsafe { libc::mallinfo2() };
    MallocStats {
        allocated: mi.uordblks + mi.hblkhd,
        active: mi.arena + mi.hblkhd,
    }
}

/// glibc's own report on its arenas (`malloc_info`, an XML document), for
/// MEMORY MALLOC-STATS; None if it cannot be produced.
pub(crate) fn malloc_info() -> Option<String> {
    let mut buf: *mut libc::c_char = std::ptr::null_mut();
    let mut len: libc::size_t = 0;
    // SAFETY: open_memstream gets valid out-pointers; the stream is closed
    // before `buf` is read, and `buf` (malloc'd by glibc) is freed once.
    unsafe {
        let f = libc::open_memstream(&mut buf, &mut len);
        if f.is_null() {
            return None;
        }
        let rc = libc::malloc_info(0, f);
        libc::fclose(f);
        if buf.is_null() {
            return None;
        }
        let text = std::slice::from_raw_parts(buf as *const u8, len);
        let out = (rc == 0).then(|| String::from_utf8_lossy(text).into_owned());
        libc::free(buf.cast());
        out
    }
}

/// Resident set size, from /proc/self/statm.
pub fn rss_bytes() -> usize {
    // SAFETY: sysconf has no preconditions.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<usize>().ok())
        })
        .map(|p| p * page)
        .unwrap_or(0)
}

/// Asks glibc to give free memory back to the system (MEMORY PURGE).
pub(crate) fn purge() {
    // SAFETY: malloc_trim has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Heap bytes `v` owns besides its 24 bytes in the key's node (Redis's
/// `objectComputeSize` without the `robj`): a long string's buffer, a hash's
/// box and buffer or table, a set's buffer or table (the set itself is in
/// the 24 bytes). A table's entries are estimated from `samples`
/// of them (all of them when `samples` is 0 or exceeds their number).
pub fn value_size(v: &Value, samples: usize) -> usize {
    match v.view() {
        ValueRef::Str(_) => match v.heap_bytes() {
            0 => 0,
            cap => chunk_size(cap),
        },
        ValueRef::Hash(h) => chunk_size(std::mem::size_of::<Hash>()) + hash_size(h, samples),
        // The list counts its own nodes and buffers.
        ValueRef::List(l) => chunk_size(std::mem::size_of::<List>()) + l.heap_bytes(),
        // A set lives in the value's own words: only its buffer or table.
        ValueRef::Set(s) => set_size(s, samples),
        ValueRef::Zset(z) => chunk_size(std::mem::size_of::<Zset>()) + z.heap_bytes(),
        ValueRef::Stream(st) => {
            chunk_size(std::mem::size_of::<crate::db::stream::Stream>()) + st.heap_bytes()
        }
    }
}

/// A set's buffer, or its table estimated from `samples` members as
/// `hash_size` does.
fn set_size(s: &Set, samples: usize) -> usize {
    match s {
        Set::Ints(i) => match i.heap_bytes() {
            0 => 0,
            n => chunk_size(n),
        },
        Set::Table(d) => {
            let mut size = chunk_size(std::mem::size_of::<Dict<()>>());
            if d.bucket_bytes() > 0 {
                size += chunk_size(d.bucket_bytes());
            }
            let n = d.len();
            let take = if samples == 0 { n } else { samples.min(n) };
            if take == 0 {
                return size;
            }
            let sampled: usize = d
                .iter()
                .take(take)
                .map(|(k, _)| chunk_size(Dict::<()>::node_bytes(k.len())))
                .sum();
            size + (sampled as f64 / take as f64 * n as f64) as usize
        }
    }
}

fn hash_size(h: &Hash, samples: usize) -> usize {
    match h {
        Hash::Pack(p) => match p.heap_bytes() {
            0 => 0,
            n => chunk_size(n),
        },
        Hash::Table(d) => {
            let mut size = chunk_size(std::mem::size_of::<Dict<Value>>());
            if d.bucket_bytes() > 0 {
                size += chunk_size(d.bucket_bytes());
            }
            let n = d.len();
            let take = if samples == 0 { n } else { samples.min(n) };
            if take == 0 {
                return size;
            }
            let sampled: usize = d
                .iter()
                .take(take)
                .map(|(k, v)| chunk_size(Dict::<Value>::node_bytes(k.len())) + value_size(v, 0))
                .sum();
            size + (sampled as f64 / take as f64 * n as f64) as usize
        }
    }
}

/// MEMORY USAGE of a key of `klen` bytes holding `v`: its node in the key
/// table (header, value and key bytes) and what the value owns.
pub(crate) fn key_usage(klen: usize, v: &Value, samples: usize) -> usize {
    chunk_size(Dict::<Value>::node_bytes(klen)) + value_size(v, samples)
}

/// Memory held by connected clients: each client's state, query buffer and
/// reply buffer. The client running the command is out of the slab while
/// it runs: its state and its reply buffer of `running_reply` bytes are
/// added.
pub(crate) fn clients_memory(clients: &Clients, running_reply: usize) -> usize {
    let per_client = chunk_size(std::mem::size_of::<crate::client::Client>());
    clients
        .iter()
        .map(|c| per_client + alloc_size(c.query.capacity()) + alloc_size(c.reply.capacity()))
        .sum::<usize>()
        + per_client
        + alloc_size(running_reply)
}

/// What a buffer of `cap` bytes costs, 0 for none.
pub(crate) fn alloc_size(cap: usize) -> usize {
    if cap == 0 {
        0
    } else {
        chunk_size(cap)
    }
}

/// One database's structural overhead (MEMORY STATS `db.N`).
#[derive(Debug, Clone, Copy, Default)]
pub struct DbOverhead {
    /// The database number.
    pub db: usize,
    /// Keys in it.
    pub keys: usize,
    /// Key table: buckets, plus each node's header and value slot.
    pub main: usize,
    /// Expiry table: buckets and node headers.
    pub expires: usize,
}

/// Redis's `redisMemOverhead`: where `used_memory` goes.
#[derive(Debug, Clone, Default)]
pub struct MemOverhead {
    /// used_memory now.
    pub total_allocated: usize,
    /// used_memory_startup.
    pub startup_allocated: usize,
    /// used_memory_peak.
    pub peak_allocated: usize,
    /// Clients' buffers and state.
    pub clients_normal: usize,
    /// The AOF buffer.
    pub aof_buffer: usize,
    /// Non-empty databases.
    pub dbs: Vec<DbOverhead>,
    /// Everything above that is not data.
    pub overhead_total: usize,
    /// Keys in all databases.
    pub total_keys: usize,
    /// used_memory minus the overhead.
    pub dataset: usize,
    /// The dataset as a share of what was added since start-up.
    pub dataset_perc: f64,
    /// used_memory as a share of the peak.
    pub peak_perc: f64,
    /// Average bytes per key since start-up.
    pub bytes_per_key: usize,
}

/// Computes the split (Redis's `getMemoryOverheadData`). `peak` is the
/// peak so far; `clients` the memory `clients_memory` reports.
pub fn overhead<'a>(
    dbs: impl Iterator<Item = &'a Db>,
    peak: usize,
    clients: usize,
    aof_buffer: usize,
) -> MemOverhead {
    let used = used_memory();
    let startup = startup();
    let mut mh = MemOverhead {
        total_allocated: used,
        startup_allocated: startup,
        peak_allocated: peak.max(used),
        clients_normal: clients,
        aof_buffer: alloc_size(aof_buffer),
        ..Default::default()
    };
    let mut total = startup + mh.clients_normal + mh.aof_buffer;
    let main_node = Dict::<Value>::node_bytes(0);
    let expires_node = Dict::<i64>::node_bytes(0);
    for (i, db) in dbs.enumerate() {
        let keys = db.dict.len();
        if keys == 0 {
            continue;
        }
        let o = DbOverhead {
            db: i,
            keys,
            main: db.dict.bucket_bytes() + keys * main_node,
            expires: db.expires.bucket_bytes() + db.expires.len() * expires_node,
        };
        total += o.main + o.expires;
        mh.total_keys += keys;
        mh.dbs.push(o);
    }
    mh.overhead_total = total;
    mh.dataset = used.saturating_sub(total);
    mh.peak_perc = used as f64 * 100.0 / mh.peak_allocated.max(1) as f64;
    let net = if used > startup { used - startup } else { 1 };
    mh.dataset_perc = mh.dataset as f64 * 100.0 / net as f64;
    mh.bytes_per_key = net.checked_div(mh.total_keys).unwrap_or(0);
    mh
}

/// Fragmentation figures, from used_memory, glibc's statistics and the RSS
/// (Redis's allocator_*, rss_overhead_* and mem_fragmentation_* fields).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Fragmentation {
    /// allocator_allocated.
    pub allocated: usize,
    /// allocator_active.
    pub active: usize,
    /// allocator_resident (glibc keeps no separate figure: the RSS).
    pub resident: usize,
    /// The process's resident set.
    pub rss: usize,
    /// used_memory the ratios are computed against.
    pub used: usize,
}

impl Fragmentation {
    /// Reads the figures now.
    pub fn now(rss: usize) -> Fragmentation {
        let m = malloc_stats();
        Fragmentation {
            allocated: m.allocated,
            active: m.active,
            resident: rss,
            rss,
            used: used_memory(),
        }
    }

    fn ratio(a: usize, b: usize) -> f64 {
        if b == 0 {
            0.0
        } else {
            a as f64 / b as f64
        }
    }

    /// allocator_frag_ratio: heap obtained / heap in use.
    pub(crate) fn allocator_frag(&self) -> f64 {
        Self::ratio(self.active, self.allocated)
    }

    /// allocator_frag_bytes.
    pub(crate) fn allocator_frag_bytes(&self) -> i64 {
        self.active as i64 - self.allocated as i64
    }

    /// allocator_rss_ratio: resident / heap obtained.
    pub(crate) fn allocator_rss(&self) -> f64 {
        Self::ratio(self.resident, self.active)
    }

    /// allocator_rss_bytes.
    pub(crate) fn allocator_rss_bytes(&self) -> i64 {
        self.resident as i64 - self.active as i64
    }

    /// rss_overhead_ratio: RSS beyond the allocator's (1 here).
    pub(crate) fn rss_extra(&self) -> f64 {
        Self::ratio(self.rss, self.resident)
    }

    /// rss_overhead_bytes.
    pub(crate) fn rss_extra_bytes(&self) -> i64 {
        self.rss as i64 - self.resident as i64
    }

    /// mem_fragmentation_ratio: RSS / used_memory.
    pub(crate) fn total_frag(&self) -> f64 {
        Self::ratio(self.rss, self.used)
    }

    /// mem_fragmentation_bytes.
    pub(crate) fn total_frag_bytes(&self) -> i64 {
        self.rss as i64 - self.used as i64
    }
}

/// MEMORY DOCTOR's report (Redis's `getMemoryDoctorReport`), for
/// `clients` connected clients.
pub(crate) fn doctor_report(mh: &MemOverhead, frag: &Fragmentation, clients: usize) -> String {
    let mut empty = false;
    let mut big_peak = false;
    let mut high_frag = false;
    let mut high_alloc_frag = false;
    let mut high_alloc_rss = false;
    let mut high_proc_rss = false;
    let mut big_client_buf = false;
    let mut reports = 0;
    const MB10: i64 = 10 << 20;
    if mh.total_allocated < 5 * 1024 * 1024 {
        empty = true;
        reports += 1;
    } else {
        if mh.peak_allocated as f64 / mh.total_allocated as f64 > 1.5 {
            big_peak = true;
            reports += 1;
        }
        if frag.total_frag() > 1.4 && frag.total_frag_bytes() > MB10 {
            high_frag = true;
            reports += 1;
        }
        if frag.allocator_frag() > 1.1 && frag.allocator_frag_bytes() > MB10 {
            high_alloc_frag = true;
            reports += 1;
        }
        if frag.allocator_rss() > 1.1 && frag.allocator_rss_bytes() > MB10 {
            high_alloc_rss = true;
            reports += 1;
        }
        if frag.rss_extra() > 1.1 && frag.rss_extra_bytes() > MB10 {
            high_proc_rss = true;
            reports += 1;
        }
        if mh.clients_normal / clients.max(1) > 1024 * 200 {
            big_client_buf = true;
            reports += 1;
        }
    }
    if reports == 0 {
        return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n".into();
    }
    if empty {
        return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n".into();
    }
    let mut s =
        String::from("Sam, I detected a few issues in this GoStore instance memory implants:\n\n");
    if big_peak {
        s.push_str(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the GoStore instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the GoStore instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n");
    }
    if high_frag {
        s.push_str(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the GoStore process is much larger than the sum of the logical allocations GoStore performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, try the MEMORY PURGE command. Note: The currently used allocator is \"libc\".\n\n");
    }
    if high_alloc_frag {
        s.push_str(" * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try the MEMORY PURGE command.\n\n");
    }
    if high_alloc_rss {
        s.push_str(" * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n");
    }
    if high_proc_rss {
        s.push_str(" * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the GoStore process is much larger than the RSS the allocator holds).\n\n");
    }
    if big_client_buf {
        s.push_str(" * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the GoStore instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n");
    }
    s.push_str("I'm here to keep you safe, Sam. I want to help you.\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::hash::HashLimits;

    #[test]
    fn a_key_costs_its_node_and_what_its_value_owns() {
        let short = Value::string(b"bar");
        assert_eq!(value_size(&short, 5), 0);
        // Node: 40-byte header and value, then the 3 key bytes, plus glibc's
        // 8-byte chunk header: one 64-byte chunk.
        assert_eq!(key_usage(3, &short, 5), 64);
        let long = Value::string(&[b'x'; 100]);
        assert_eq!(value_size(&long, 5), chunk_size(long.heap_bytes()));
        assert_eq!(key_usage(3, &long, 5), 64 + chunk_size(long.heap_bytes()));
    }

    #[test]
    fn big_hashes_are_estimated_from_samples() {
        let limits = HashLimits {
            max_entries: 4,
            max_value: 64,
        };
        let mut h = Hash::new();
        for i in 0..1000 {
            h.set(format!("field:{i:04}").as_bytes(), b"v", &limits);
        }
        let v = Value::hash(h);
        let exact = value_size(&v, 0);
        let sampled = value_size(&v, 5);
        // Equal-sized fields: sampling five is exact up to rounding.
        assert!(
            exact.abs_diff(sampled) <= exact / 100,
            "{exact} vs {sampled}"
        );
        // 1000 nodes of at least 48 bytes, plus the table.
        assert!(exact > 1000 * 48 + 1024 * 8, "{exact}");
    }

    #[test]
    fn the_doctor_says_hi_when_there_is_little_to_say() {
        let mh = MemOverhead {
            total_allocated: 1 << 20,
            ..Default::default()
        };
        let r = doctor_report(&mh, &Fragmentation::default(), 1);
        assert!(r.starts_with("Hi Sam, this instance is empty"), "{r}");
        let mh = MemOverhead {
            total_allocated: 100 << 20,
            peak_allocated: 100 << 20,
            ..Default::default()
        };
        let r = doctor_report(&mh, &Fragmentation::default(), 1);
        assert!(
            r.starts_with("Hi Sam, I can't find any memory issue"),
            "{r}"
        );
        let mh = MemOverhead {
            total_allocated: 100 << 20,
            peak_allocated: 200 << 20,
            ..Default::default()
        };
        let r = doctor_report(&mh, &Fragmentation::default(), 1);
        assert!(r.contains(" * Peak memory:"), "{r}");
        assert!(r.ends_with("I want to help you.\n"));
    }
}
