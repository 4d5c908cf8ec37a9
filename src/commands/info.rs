//! INFO: Redis 7.0's sections and field names, so `redis-cli --stat`,
//! redis_exporter and other INFO scrapers read GoStore unchanged. Fields
//! about features GoStore does not have (replication, RDB, modules) keep
//! Redis's names with their idle values.

use std::fmt::Write as _;

use super::Ctx;
use crate::error::CmdResult;
use crate::resp::parser::Args;

/// Sections in `INFO` / `INFO default`.
const DEFAULT: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];
/// Sections only in `all`/`everything` or by name.
const EXTRA: &[&str] = &["commandstats", "latencystats"];

fn total_system_memory() -> u64 {
    // SAFETY: sysconf is always safe to call.
    let (pages, size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    (pages.max(0) as u64) * (size.max(0) as u64)
}

/// Redis's `bytesToHuman`.
pub fn human(n: u64) -> String {
    let d = n as f64;
    if n < 1024 {
        format!("{n}B")
    } else if n < 1024 * 1024 {
        format!("{:.2}K", d / 1024.0)
    } else if n < 1024 * 1024 * 1024 {
        format!("{:.2}M", d / (1024.0 * 1024.0))
    } else if n < 1024u64.pow(4) {
        format!("{:.2}G", d / 1024f64.powi(3))
    } else if n < 1024u64.pow(5) {
        format!("{:.2}T", d / 1024f64.powi(4))
    } else {
        format!("{:.2}P", d / 1024f64.powi(5))
    }
}

fn rusage(who: i32) -> (f64, f64) {
    // SAFETY: getrusage fills a zeroed rusage struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut ru) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (t(ru.ru_stime), t(ru.ru_utime))
}

fn uname() -> String {
    // SAFETY: uname fills a zeroed utsname struct.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return "Linux".into();
    }
    let s = |f: &[libc::c_char]| {
        f.iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8 as char)
            .collect::<String>()
    };
    format!("{} {} {}", s(&u.sysname), s(&u.release), s(&u.machine))
}

/// `INFO [section ...]`.
pub fn info(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let mut wanted: Vec<String> = Vec::new();
    if args.len() == 1 {
        wanted.extend(DEFAULT.iter().map(|s| s.to_string()));
    }
    for a in args.iter_from(1) {
        let s = String::from_utf8_lossy(a).to_ascii_lowercase();
        match s.as_str() {
            "default" => wanted.extend(DEFAULT.iter().map(|s| s.to_string())),
            "all" | "everything" => {
                wanted.extend(DEFAULT.iter().chain(EXTRA).map(|s| s.to_string()));
            }
            _ => wanted.push(s),
        }
    }
    let has = |name: &str| wanted.iter().any(|w| w == name);
    let mut out = String::new();
    let order = [
        "server",
        "clients",
        "memory",
        "persistence",
        "stats",
        "replication",
        "cpu",
        "modules",
        "commandstats",
        "errorstats",
        "latencystats",
        "cluster",
        "keyspace",
    ];
    for section in order {
        if !has(section) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        render(ctx, section, &mut out);
    }
    ctx.reply.verbatim(out.as_bytes());
    Ok(())
}

fn render(ctx: &mut Ctx<'_>, section: &str, o: &mut String) {
    let core = ctx.server();
    let now_us = crate::util::time::unix_us();
    match section {
        "server" => {
            let exe = std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let port = core
                .listeners
                .addrs()
                .first()
                .map(|a| a.port())
                .unwrap_or(core.config.port);
            let _ = write!(
                o,
                "# Server\r\nredis_version:{}\r\ngostore_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:{}\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\ngcc_version:0.0.0\r\nprocess_id:{}\r\nprocess_supervised:{}\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\nexecutable:{}\r\nconfig_file:{}\r\nio_threads_active:0\r\n",
                crate::REDIS_VERSION,
                env!("CARGO_PKG_VERSION"),
                uname(),
                std::process::id(),
                crate::service::supervised_name(),
                core.run_id,
                port,
                now_us,
                core.uptime_secs(),
                core.uptime_secs() / 86400,
                core.config.hz,
                core.config.hz,
                crate::db::lru::clock_at(now_us / 1000),
                exe,
                core.config_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
            );
        }
        "clients" => {
            let (mut max_in, mut max_out) = (0usize, 0usize);
            for c in ctx.clients().iter() {
                max_in = max_in.max(c.query.capacity());
                max_out = max_out.max(c.reply.capacity());
            }
            let _ = write!(
                o,
                "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:{}\r\nclient_recent_max_output_buffer:{}\r\nblocked_clients:{}\r\ntracking_clients:{}\r\nclients_in_timeout_table:0\r\n",
                // The running client is out of the slab but still counted;
                // so is the master's, while the link is up, as Redis.
                ctx.clients().len() + core.replica.as_ref().is_some_and(|l| l.up()) as usize,
                core.config.maxclients,
                max_in,
                max_out,
                core.blocked.len(),
                core.tracking.clients(),
            );
        }
        "memory" => {
            let clients = crate::memory::clients_memory(ctx.clients(), ctx.reply.capacity());
            let used = crate::memory::used_memory();
            ctx.server_mut().peak_memory = ctx.server().peak_memory.max(used);
            let aof_buf = ctx.server().aof.buffer_capacity();
            let peak = ctx.server().peak_memory;
            let mh = crate::memory::overhead(ctx.all_dbs().map(|d| &*d), peak, clients, aof_buf);
            let core = ctx.server();
            let frag = crate::memory::Fragmentation::now(crate::memory::rss_bytes());
            let total = total_system_memory();
            let used = mh.total_allocated as u64;
            let maxmemory = core.config.maxmemory;
            let sc = &core.scripting;
            let lua_mem = sc.lua_memory();
            let lua_mem_h = human(lua_mem as u64);
            let fvm_mem = sc.functions_vm_memory();
            let vm_total = lua_mem + fvm_mem;
            let vm_total_h = human(vm_total as u64);
            let scripts_eval = sc.scripts_bytes();
            let cached = sc.cached_scripts();
            let nfuncs = sc.functions.function_count();
            let nlibs = sc.functions.libs.len();
            let funcs_mem = sc.functions.code_bytes();
            let scripts_mem = scripts_eval + funcs_mem;
            let scripts_mem_h = human(scripts_mem as u64);
            let _ = write!(
                o,
                "# Memory\r\nused_memory:{used}\r\nused_memory_human:{}\r\nused_memory_rss:{}\r\nused_memory_rss_human:{}\r\nused_memory_peak:{}\r\nused_memory_peak_human:{}\r\nused_memory_peak_perc:{:.2}%\r\nused_memory_overhead:{}\r\nused_memory_startup:{}\r\nused_memory_dataset:{}\r\nused_memory_dataset_perc:{:.2}%\r\nallocator_allocated:{}\r\nallocator_active:{}\r\nallocator_resident:{}\r\ntotal_system_memory:{total}\r\ntotal_system_memory_human:{}\r\nused_memory_lua:{lua_mem}\r\nused_memory_vm_eval:{lua_mem}\r\nused_memory_lua_human:{lua_mem_h}\r\nused_memory_scripts_eval:{scripts_eval}\r\nnumber_of_cached_scripts:{cached}\r\nnumber_of_functions:{nfuncs}\r\nnumber_of_libraries:{nlibs}\r\nused_memory_vm_functions:{fvm_mem}\r\nused_memory_vm_total:{vm_total}\r\nused_memory_vm_total_human:{vm_total_h}\r\nused_memory_functions:{funcs_mem}\r\nused_memory_scripts:{scripts_mem}\r\nused_memory_scripts_human:{scripts_mem_h}\r\nmaxmemory:{maxmemory}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\nallocator_frag_ratio:{:.2}\r\nallocator_frag_bytes:{}\r\nallocator_rss_ratio:{:.2}\r\nallocator_rss_bytes:{}\r\nrss_overhead_ratio:{:.2}\r\nrss_overhead_bytes:{}\r\nmem_fragmentation_ratio:{:.2}\r\nmem_fragmentation_bytes:{}\r\nmem_not_counted_for_evict:{}\r\nmem_replication_backlog:0\r\nmem_total_replication_buffers:0\r\nmem_clients_slaves:0\r\nmem_clients_normal:{}\r\nmem_cluster_links:0\r\nmem_aof_buffer:{}\r\nmem_allocator:libc\r\nactive_defrag_running:0\r\nlazyfree_pending_objects:{}\r\nlazyfreed_objects:{}\r\n",
                human(used),
                frag.rss,
                human(frag.rss as u64),
                mh.peak_allocated,
                human(mh.peak_allocated as u64),
                mh.peak_perc,
                mh.overhead_total,
                mh.startup_allocated,
                mh.dataset,
                mh.dataset_perc,
                frag.allocated,
                frag.active,
                frag.resident,
                human(total),
                human(maxmemory),
                core.config.maxmemory_policy.name(),
                frag.allocator_frag(),
                frag.allocator_frag_bytes(),
                frag.allocator_rss(),
                frag.allocator_rss_bytes(),
                frag.rss_extra(),
                frag.rss_extra_bytes(),
                frag.total_frag(),
                frag.total_frag_bytes(),
                crate::evict::not_counted_memory(&core.aof, &core.lazyfree),
                mh.clients_normal,
                mh.aof_buffer,
                core.lazyfree.pending(),
                core.lazyfree.freed(),
            );
        }
        "persistence" => {
            let aof = &core.aof;
            let _ = write!(
                o,
                "# Persistence\r\nloading:{}\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{}\r\nrdb_saves:{}\r\nrdb_last_cow_size:{}\r\nrdb_last_load_keys_expired:{}\r\nrdb_last_load_keys_loaded:{}\r\naof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:{}\r\naof_last_rewrite_time_sec:{}\r\naof_current_rewrite_time_sec:{}\r\naof_last_bgrewrite_status:{}\r\naof_rewrites:{}\r\naof_rewrites_consecutive_failures:{}\r\naof_last_write_status:{}\r\naof_last_cow_size:{}\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
                core.load.is_some() as u8,
                core.dirty.saturating_sub(core.rdb.dirty_at_save),
                core.rdb.child_running() as u8,
                core.lastsave,
                if core.rdb.last_ok { "ok" } else { "err" },
                core.rdb.last_bgsave_secs,
                core.rdb.current_secs(),
                core.rdb.saves,
                core.rdb.last_cow,
                core.rdb.loaded_expired,
                core.rdb.loaded_keys,
                aof.enabled() as u8,
                aof.rewrite_in_progress() as u8,
                aof.rw_stats.scheduled as u8,
                aof.rw_stats.last_time_sec,
                aof.rw_stats.current_time_sec(),
                if aof.rw_stats.last_ok { "ok" } else { "err" },
                aof.rw_stats.rewrites,
                aof.rw_stats.consecutive_failures,
                if aof.last_write_ok() { "ok" } else { "err" },
                aof.rw_stats.last_cow_size,
            );
            if core.config.appendonly {
                let _ = write!(
                    o,
                    "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:{}\r\naof_buffer_length:{}\r\naof_pending_bio_fsync:{}\r\naof_delayed_fsync:{}\r\n",
                    aof.current_size,
                    aof.base_size,
                    aof.rw_stats.scheduled as u8,
                    aof.buffered(),
                    aof.fsync_in_progress() as u8,
                    aof.delayed_fsync,
                );
            }
            if let Some(l) = core.load.as_ref() {
                o.push_str(&l.info_lines(crate::util::time::unix_ms() / 1000));
            }
        }
        "stats" => {
            let (mut expired, mut hits, mut misses) = (0, 0, 0);
            for db in ctx.all_dbs() {
                expired += db.stats.expired_keys;
                hits += db.stats.hits;
                misses += db.stats.misses;
            }
            let core = ctx.server();
            let s2 = &core.stats;
            let pch = core.pubsub.numchannels(crate::pubsub::Kind::Channel);
            let ppat = core.pubsub.numpat();
            let psh = core.pubsub.numchannels(crate::pubsub::Kind::Shard);
            let tk = core.tracking.total_keys();
            let ti = core.tracking.total_items();
            let tp = core.tracking.total_prefixes();
            let mcs = core.ops.migrate.len();
            let rst = core.propagator.repl.stats;
            let (sf, spo, spe) = (rst.sync_full, rst.sync_partial_ok, rst.sync_partial_err);
            let _ = write!(
                o,
                "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:{}\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\ntotal_net_repl_input_bytes:0\r\ntotal_net_repl_output_bytes:0\r\ninstantaneous_input_kbps:{:.2}\r\ninstantaneous_output_kbps:{:.2}\r\ninstantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:0.00\r\nrejected_connections:{}\r\nsync_full:{sf}\r\nsync_partial_ok:{spo}\r\nsync_partial_err:{spe}\r\nexpired_keys:{expired}\r\nexpired_stale_perc:{:.2}\r\nexpired_time_cap_reached_count:{}\r\nexpire_cycle_cpu_milliseconds:{}\r\nevicted_keys:{}\r\nevicted_clients:0\r\ntotal_eviction_exceeded_time:{}\r\ncurrent_eviction_exceeded_time:{}\r\nkeyspace_hits:{hits}\r\nkeyspace_misses:{misses}\r\npubsub_channels:{pch}\r\npubsub_patterns:{ppat}\r\npubsubshard_channels:{psh}\r\nlatest_fork_usec:{}\r\ntotal_forks:{}\r\nmigrate_cached_sockets:{mcs}\r\nslave_expires_tracked_keys:0\r\nactive_defrag_hits:0\r\nactive_defrag_misses:0\r\nactive_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\ntotal_active_defrag_time:0\r\ncurrent_active_defrag_time:0\r\ntracking_total_keys:{tk}\r\ntracking_total_items:{ti}\r\ntracking_total_prefixes:{tp}\r\nunexpected_error_replies:0\r\ntotal_error_replies:{}\r\ndump_payload_sanitizations:0\r\ntotal_reads_processed:{}\r\ntotal_writes_processed:{}\r\nio_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\nreply_buffer_shrinks:0\r\nreply_buffer_expands:0\r\nclient_query_buffer_limit_disconnections:{}\r\nclient_output_buffer_limit_disconnections:{}\r\n",
                s2.total_connections_received,
                s2.total_commands_processed,
                s2.ops.average(),
                s2.net_input_bytes,
                s2.net_output_bytes,
                s2.input.average() as f64 / 1024.0,
                s2.output.average() as f64 / 1024.0,
                s2.rejected_connections,
                core.expire.stale_perc * 100.0,
                core.expire.time_cap_reached,
                core.expire.cpu_us / 1000,
                core.evict.evicted_keys,
                core.evict.total_exceeded_ms(),
                core.evict.current_exceeded_ms(),
                core.aof.rw_stats.latest_fork_usec,
                core.aof.rw_stats.total_forks,
                s2.total_error_replies,
                s2.total_reads_processed,
                s2.total_writes_processed,
                s2.client_qbuf_limit_disconnections,
                s2.client_outbuf_limit_disconnections,
            );
        }
        "replication" => {
            let core = ctx.server();
            let st = &core.propagator.repl;
            let replicas: Vec<_> = crate::repl::master::replicas(ctx.clients()).collect();
            match core.replica.as_ref() {
                None => {
                    let _ = write!(o, "# Replication\r\nrole:master\r\n");
                }
                Some(l) => {
                    let now = crate::util::time::unix_ms();
                    let last_io = if l.up() {
                        (now - l.last_io_ms) / 1000
                    } else {
                        -1
                    };
                    let _ = write!(
                        o,
                        "# Replication\r\nrole:slave\r\nmaster_host:{}\r\nmaster_port:{}\r\nmaster_link_status:{}\r\nmaster_last_io_seconds_ago:{last_io}\r\nmaster_sync_in_progress:{}\r\nslave_read_repl_offset:{}\r\nslave_repl_offset:{}\r\n",
                        l.host,
                        l.port,
                        if l.up() { "up" } else { "down" },
                        u8::from(l.state == crate::repl::replica::State::Transfer),
                        l.read_offset(),
                        l.processed(),
                    );
                    if l.state == crate::repl::replica::State::Transfer {
                        let got = l.transfer.as_ref().map_or(0, |t| t.data.len());
                        let size = l
                            .transfer
                            .as_ref()
                            .and_then(|t| t.len)
                            .map_or(-1, |n| n as i64);
                        let _ = write!(
                            o,
                            "master_sync_total_bytes:{size}\r\nmaster_sync_read_bytes:{got}\r\nmaster_sync_left_bytes:{}\r\nmaster_sync_perc:0.00\r\nmaster_sync_last_io_seconds_ago:{}\r\n",
                            if size < 0 { -1 } else { size - got as i64 },
                            (now - l.last_io_ms) / 1000
                        );
                    }
                    if !l.up() {
                        let _ = write!(
                            o,
                            "master_link_down_since_seconds:{}\r\n",
                            if l.down_since_ms == 0 {
                                -1
                            } else {
                                (now - l.down_since_ms) / 1000
                            }
                        );
                    }
                    let _ = write!(
                        o,
                        "slave_priority:{}\r\nslave_read_only:{}\r\nreplica_announced:{}\r\n",
                        core.config.replica_priority,
                        u8::from(core.config.replica_read_only),
                        u8::from(core.config.replica_announced)
                    );
                }
            }
            let _ = write!(o, "connected_slaves:{}\r\n", replicas.len());
            let (want, lag) = (
                core.config.min_replicas_to_write,
                core.config.min_replicas_max_lag,
            );
            if want > 0 && lag > 0 {
                let good = replicas
                    .iter()
                    .filter(|r| r.state == "online" && r.lag as u64 <= lag)
                    .count();
                let _ = write!(o, "min_slaves_good_slaves:{good}\r\n");
            }
            for (i, r) in replicas.iter().enumerate() {
                let _ = write!(
                    o,
                    "slave{i}:ip={},port={},state={},offset={},lag={}\r\n",
                    r.ip, r.port, r.state, r.offset, r.lag
                );
            }
            let (first, histlen) = st
                .backlog
                .as_ref()
                .map_or((0, 0), |b| (b.first_byte_offset(), b.histlen()));
            let size = st
                .backlog
                .as_ref()
                .map_or(core.config.repl_backlog_size, |b| b.size() as u64);
            let _ = write!(
                o,
                "master_failover_state:{}\r\nmaster_replid:{}\r\nmaster_replid2:{}\r\nmaster_repl_offset:{}\r\nsecond_repl_offset:{}\r\nrepl_backlog_active:{}\r\nrepl_backlog_size:{size}\r\nrepl_backlog_first_byte_offset:{first}\r\nrepl_backlog_histlen:{histlen}\r\n",
                st.failover.state.name(),
                st.replid,
                st.replid2,
                st.offset,
                st.second_offset,
                u8::from(st.active()),
            );
        }
        "cpu" => {
            let (sys, user) = rusage(libc::RUSAGE_SELF);
            let (csys, cuser) = rusage(libc::RUSAGE_CHILDREN);
            let (tsys, tuser) = rusage(libc::RUSAGE_THREAD);
            let _ = write!(
                o,
                "# CPU\r\nused_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\nused_cpu_sys_children:{csys:.6}\r\nused_cpu_user_children:{cuser:.6}\r\nused_cpu_sys_main_thread:{tsys:.6}\r\nused_cpu_user_main_thread:{tuser:.6}\r\n"
            );
        }
        "modules" => o.push_str("# Modules\r\n"),
        "commandstats" => {
            o.push_str("# Commandstats\r\n");
            for (id, spec) in core.commands.iter() {
                let s = core.commands.stats[id as usize];
                if s.calls == 0 && s.rejected_calls == 0 && s.failed_calls == 0 {
                    continue;
                }
                let per = if s.calls > 0 {
                    s.usec as f64 / s.calls as f64
                } else {
                    0.0
                };
                let _ = write!(
                    o,
                    "cmdstat_{}:calls={},usec={},usec_per_call={per:.2},rejected_calls={},failed_calls={}\r\n",
                    spec.fullname, s.calls, s.usec, s.rejected_calls, s.failed_calls
                );
            }
        }
        "errorstats" => {
            o.push_str("# Errorstats\r\n");
            let mut errs = core.stats.errors.clone();
            errs.sort();
            for (code, n) in errs {
                let _ = write!(o, "errorstat_{code}:count={n}\r\n");
            }
        }
        "latencystats" => {
            o.push_str("# Latencystats\r\n");
            if core.config.latency_tracking {
                let percentiles = &core.config.latency_tracking_info_percentiles;
                for (id, spec) in core.commands.iter() {
                    if let Some(h) = core.commands.histograms[id as usize].as_deref() {
                        crate::latency::info_line(o, spec.fullname, h, percentiles);
                    }
                }
            }
        }
        "cluster" => o.push_str("# Cluster\r\ncluster_enabled:0\r\n"),
        "keyspace" => {
            o.push_str("# Keyspace\r\n");
            for (i, db) in ctx.all_dbs().enumerate() {
                if !db.is_empty() {
                    let _ = write!(
                        o,
                        "db{i}:keys={},expires={},avg_ttl={}\r\n",
                        db.len(),
                        db.expires.len(),
                        db.avg_ttl
                    );
                }
            }
        }
        _ => {}
    }
}
