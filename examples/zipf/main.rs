//! `zipf`: hit ratio and throughput of a server used as a cache under a
//! Zipf-distributed workload, for comparing eviction between GoStore and
//! redis-server (`make bench` reuses it). See `workload.rs` for what runs.
//!
//! ```sh
//! cargo run --release --example zipf -- -p 6379 --maxmemory 16mb --policy allkeys-lru
//! ```
//!
//! It empties the server (FLUSHALL), sets `maxmemory` and
//! `maxmemory-policy`, runs the workload and prints one line:
//! `policy hit_ratio hits misses ops_per_sec used_memory evicted_keys`.

mod workload;

use std::process::ExitCode;

use workload::{prepare, run, Conn, Workload};

const USAGE: &str =
    "Usage: zipf [-h host] [-p port] [--maxmemory bytes|16mb] [--policy allkeys-lru]
            [--keys 100000] [--exponent 1.0] [--value-size 100] [--warmup 100000]
            [--requests 200000] [--batch 100] [--seed 42]";

fn info_field(conn: &mut Conn, section: &str, field: &str) -> String {
    conn.command(&[b"INFO", section.as_bytes()])
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
        })
        .unwrap_or_default()
}

fn parse_memory(s: &str) -> Option<u64> {
    let l = s.to_ascii_lowercase();
    for (unit, mul) in [("gb", 1u64 << 30), ("mb", 1 << 20), ("kb", 1 << 10)] {
        if let Some(d) = l.strip_suffix(unit) {
            return d.parse::<u64>().ok().map(|n| n * mul);
        }
    }
    l.parse().ok()
}

fn main() -> ExitCode {
    let mut host = "127.0.0.1".to_string();
    let mut port = 6379u16;
    let mut maxmemory = 16u64 << 20;
    let mut policy = "allkeys-lru".to_string();
    let mut w = Workload::default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let (flag, val) = (args[i].as_str(), args.get(i + 1).map(String::as_str));
        let Some(val) = val else {
            eprintln!("{USAGE}");
            return ExitCode::FAILURE;
        };
        let ok = match flag {
            "-h" => {
                host = val.to_string();
                true
            }
            "-p" => val.parse().map(|v| port = v).is_ok(),
            "--maxmemory" => parse_memory(val).map(|v| maxmemory = v).is_some(),
            "--policy" => {
                policy = val.to_string();
                true
            }
            "--keys" => val.parse().map(|v| w.keys = v).is_ok(),
            "--exponent" => val.parse().map(|v| w.exponent = v).is_ok(),
            "--value-size" => val.parse().map(|v| w.value_size = v).is_ok(),
            "--warmup" => val.parse().map(|v| w.warmup = v).is_ok(),
            "--requests" => val.parse().map(|v| w.requests = v).is_ok(),
            "--batch" => val.parse().map(|v| w.batch = v).is_ok(),
            "--seed" => val.parse().map(|v| w.seed = v).is_ok(),
            _ => false,
        };
        if !ok || w.keys == 0 || w.batch == 0 {
            eprintln!("Bad option {flag} {val}\n{USAGE}");
            return ExitCode::FAILURE;
        }
        i += 2;
    }
    let addr = format!("{host}:{port}");
    let result = Conn::connect(&addr).and_then(|mut c| {
        prepare(&mut c, maxmemory, &policy)?;
        let o = run(&mut c, &w)?;
        let used = info_field(&mut c, "memory", "used_memory");
        let evicted = info_field(&mut c, "stats", "evicted_keys");
        Ok((o, used, evicted))
    });
    match result {
        Ok((o, used, evicted)) => {
            println!(
                "{policy} hit_ratio={:.4} hits={} misses={} ops_per_sec={:.0} used_memory={used} evicted_keys={evicted}",
                o.hit_ratio(),
                o.hits,
                o.misses,
                o.ops_per_sec()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("zipf: {addr}: {e}");
            ExitCode::FAILURE
        }
    }
}
