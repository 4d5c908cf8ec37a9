//! MEMORY: USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE and HELP, with Redis
//! 7.0's reply shapes (`object.c`'s `memoryCommand`). The figures come from
//! `crate::memory`.

use super::args::{self, is};
use super::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::memory::{self, Fragmentation, MemOverhead};
use crate::resp::parser::Args;
use crate::util::num;

/// `MEMORY HELP`.
pub fn memory_help(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    ctx.reply.help(
        &args::text(args.get(0)),
        &[
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    );
    Ok(())
}

/// `MEMORY USAGE key [SAMPLES count]`: bytes the key and its value take;
/// nil when missing. Like Redis, it neither expires nor touches the key.
pub fn memory_usage(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let mut samples = memory::DEFAULT_SAMPLES;
    let mut j = 3;
    while j < args.len() {
        if is(args.get(j), "SAMPLES") && j + 1 < args.len() {
            let n = num::parse_i64(args.get(j + 1)).ok_or(CmdError::NotInteger)?;
            if n < 0 {
                return Err(CmdError::Syntax);
            }
            samples = if n == 0 { 0 } else { n as usize };
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let key = args.get(2);
    match ctx.db.dict.get(key) {
        Some(v) => ctx
            .reply
            .int(memory::key_usage(key.len(), v, samples) as i64),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// The overhead split, as MEMORY STATS and DOCTOR see it.
fn overhead(ctx: &mut Ctx<'_>) -> MemOverhead {
    let clients = memory::clients_memory(ctx.clients(), ctx.reply.capacity());
    let used = memory::used_memory();
    ctx.server_mut().peak_memory = ctx.server().peak_memory.max(used);
    let peak = ctx.server().peak_memory;
    let aof = ctx.server().aof.buffer_capacity();
    memory::overhead(ctx.all_dbs().map(|d| &*d), peak, clients, aof)
}

/// `MEMORY STATS`: Redis's map of figures, one `db.N` map per non-empty
/// database.
pub fn memory_stats(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let mh = overhead(ctx);
    let frag = Fragmentation::now(crate::memory::rss_bytes());
    let r = &mut *ctx.reply;
    r.map_len(27 + mh.dbs.len());
    let int = |r: &mut crate::resp::Reply, name: &str, v: i64| {
        r.bulk(name.as_bytes());
        r.int(v);
    };
    int(r, "peak.allocated", mh.peak_allocated as i64);
    int(r, "total.allocated", mh.total_allocated as i64);
    int(r, "startup.allocated", mh.startup_allocated as i64);
    int(r, "replication.backlog", 0);
    int(r, "clients.slaves", 0);
    int(r, "clients.normal", mh.clients_normal as i64);
    int(r, "cluster.links", 0);
    int(r, "aof.buffer", mh.aof_buffer as i64);
    int(r, "lua.caches", 0);
    int(r, "functions.caches", 0);
    for d in &mh.dbs {
        r.bulk(format!("db.{}", d.db).as_bytes());
        r.map_len(3);
        int(r, "overhead.hashtable.main", d.main as i64);
        int(r, "overhead.hashtable.expires", d.expires as i64);
        int(r, "overhead.hashtable.slot-to-keys", 0);
    }
    int(r, "overhead.total", mh.overhead_total as i64);
    int(r, "keys.count", mh.total_keys as i64);
    int(r, "keys.bytes-per-key", mh.bytes_per_key as i64);
    int(r, "dataset.bytes", mh.dataset as i64);
    r.bulk(b"dataset.percentage");
    r.double(mh.dataset_perc);
    r.bulk(b"peak.percentage");
    r.double(mh.peak_perc);
    int(r, "allocator.allocated", frag.allocated as i64);
    int(r, "allocator.active", frag.active as i64);
    int(r, "allocator.resident", frag.resident as i64);
    r.bulk(b"allocator-fragmentation.ratio");
    r.double(frag.allocator_frag());
    int(
        r,
        "allocator-fragmentation.bytes",
        frag.allocator_frag_bytes(),
    );
    r.bulk(b"allocator-rss.ratio");
    r.double(frag.allocator_rss());
    int(r, "allocator-rss.bytes", frag.allocator_rss_bytes());
    r.bulk(b"rss-overhead.ratio");
    r.double(frag.rss_extra());
    int(r, "rss-overhead.bytes", frag.rss_extra_bytes());
    r.bulk(b"fragmentation");
    r.double(frag.total_frag());
    int(r, "fragmentation.bytes", frag.total_frag_bytes());
    Ok(())
}

/// `MEMORY DOCTOR`: Redis's report, as a verbatim string.
pub fn memory_doctor(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let mh = overhead(ctx);
    let frag = Fragmentation::now(crate::memory::rss_bytes());
    let report = memory::doctor_report(&mh, &frag, ctx.clients().len() + 1);
    ctx.reply.verbatim(report.as_bytes());
    Ok(())
}

/// `MEMORY MALLOC-STATS`: glibc's `malloc_info` report. Redis built with
/// libc answers "Stats not supported for the current allocator"; GoStore
/// can say more.
pub fn memory_malloc_stats(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    match memory::malloc_info() {
        Some(text) => ctx.reply.verbatim(text.as_bytes()),
        None => ctx
            .reply
            .bulk(b"Stats not supported for the current allocator"),
    }
    Ok(())
}

/// `MEMORY PURGE`: gives free heap memory back to the system
/// (`malloc_trim`), as Redis's jemalloc purge does.
pub fn memory_purge(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    memory::purge();
    ctx.reply.ok();
    Ok(())
}
