//! `make bench`: GoStore against redis-server, side by side, on one machine.
//!
//! Both servers run with the same settings (AOF on, `appendfsync everysec`,
//! no RDB saves), each in its own temporary directory on a free port. Every
//! throughput line runs redis-benchmark against both, interleaved A/B over
//! several rounds (the order alternates), and keeps each side's median, so
//! both meet the same noise. Then memory per key, the worst latency a client
//! sees while the key table grows, the AOF load time, and BGREWRITEAOF's
//! time and copy-on-write memory.
//!
//! The table ends with ratios (GoStore / redis-server): for throughput higher
//! is better; for memory, latency and load time lower is better. Results are
//! also written as CSV and JSON under target/bench/.
//!
//! Usage: cargo run --release --example bench -- [--quick] [--rounds N]
//!        [--self] [--only SECTION,...] [--out DIR]
//! `--self` runs redis-server against itself: how far 1.0 wanders is the
//! noise floor of this machine (written to self.* instead of latest.*).
//! Sections: throughput, memory, growth, load, rewrite, transactions, pubsub, sets
//! (only the set throughput lines and the set memory row), zsets (only the
//! sorted-set throughput lines and memory rows), zsetops (only the
//! ZUNIONSTORE/ZINTERSTORE lines, which throughput runs too), geo
//! (GEOADD and GEOSEARCH as arbitrary-command redis-benchmark lines), and
//! bits (SETBIT, BITCOUNT, PFADD and PFCOUNT, likewise), streams (XADD
//! `*` at -P 1 and -P 16, and the memory row of a 1M-entry stream), and
//! scripting (EVALSHA of a script doing INCR and EXPIRE, at -P 1 and -P 16),
//! snapshots (BGSAVE's time and copy-on-write, and the RDB load time, for
//! 1M keys) and replication (the full sync of 1M keys to a replica, and SET
//! at -P 16 with one replica attached).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Which server binary a side runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    GoStore,
    Redis,
}

struct Options {
    quick: bool,
    rounds: usize,
    self_compare: bool,
    sections: Vec<String>,
    out: PathBuf,
    gostore: PathBuf,
    redis: PathBuf,
}

fn parse_options() -> Result<Options, String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut o = Options {
        quick: false,
        rounds: 0,
        self_compare: false,
        sections: vec![
            "throughput".into(),
            "transactions".into(),
            "pubsub".into(),
            "memory".into(),
            "growth".into(),
            "load".into(),
            "rewrite".into(),
            "geo".into(),
            "bits".into(),
            "streams".into(),
            "scripting".into(),
            "snapshots".into(),
            "replication".into(),
        ],
        out: root.join("target/bench"),
        gostore: std::env::var_os("GOSTORE_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target/release/gostore")),
        redis: std::env::var_os("REDIS_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("redis-server")),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--self" => o.self_compare = true,
            "--rounds" => {
                o.rounds = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--rounds needs a number")?
            }
            "--only" => {
                o.sections = args
                    .next()
                    .ok_or("--only needs a list")?
                    .split(',')
                    .map(String::from)
                    .collect()
            }
            "--out" => o.out = PathBuf::from(args.next().ok_or("--out needs a directory")?),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    if o.rounds == 0 {
        o.rounds = if o.quick { 1 } else { 3 };
    }
    if !o.self_compare && !o.gostore.exists() {
        return Err(format!(
            "{} not found: build it first (cargo build --release)",
            o.gostore.display()
        ));
    }
    Ok(o)
}

/// A server process in a temporary directory, stopped on drop.
struct Server {
    kind: Kind,
    port: u16,
    child: Option<Child>,
    dir: PathBuf,
    program: PathBuf,
    args: Vec<String>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

fn ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

impl Server {
    fn start(kind: Kind, opts: &Options, tag: &str, extra: &[&str]) -> Server {
        let dir = std::env::temp_dir().join(format!(
            "gostore-bench-{}-{tag}-{:?}",
            std::process::id(),
            kind
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let program = match kind {
            Kind::GoStore => opts.gostore.clone(),
            Kind::Redis => opts.redis.clone(),
        };
        let mut args: Vec<String> = [
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // No automatic rewrite mid-run on either side: a forked child takes
        // a core from the client and the server on a small machine.
        args.extend(["--auto-aof-rewrite-percentage".into(), "0".into()]);
        if kind == Kind::Redis {
            // Same layout and format as GoStore's, and redis.conf's
            // small-hash threshold (GoStore's default).
            args.extend(
                [
                    "--appendfilename",
                    "database.aof",
                    "--aof-use-rdb-preamble",
                    "no",
                    "--hash-max-listpack-entries",
                    "128",
                ]
                .iter()
                .map(|s| s.to_string()),
            );
        } else {
            args.extend(["--loglevel", "warning"].iter().map(|s| s.to_string()));
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut s = Server {
            kind,
            port: 0,
            child: None,
            dir,
            program,
            args,
        };
        s.launch();
        s
    }

    fn launch(&mut self) {
        let port = free_port();
        let child = Command::new(&self.program)
            .args([
                "--port",
                &port.to_string(),
                "--dir",
                &self.dir.display().to_string(),
            ])
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(if std::env::var_os("BENCH_SERVER_STDERR").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.program.display()));
        self.port = port;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(600);
        while !ping(port) {
            assert!(Instant::now() < deadline, "{:?} did not start", self.kind);
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    fn cmd(&self, args: &[&str]) -> String {
        let mut c = Conn::new(self.port);
        c.send(&[args]);
        c.read_replies(1).pop().unwrap_or_default()
    }

    /// SHUTDOWN (AOF written and fsynced), waiting for the exit.
    fn shutdown(&mut self) {
        let _ = Conn::new(self.port).stream.write_all(b"SHUTDOWN\r\n");
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
    }

    fn rss(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A minimal pipelining RESP client for loading data.
struct Conn {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn new(port: u16) -> Conn {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_nodelay(true).ok();
        let reader = BufReader::with_capacity(1 << 20, stream.try_clone().expect("clone"));
        Conn { stream, reader }
    }

    fn send(&mut self, cmds: &[&[&str]]) {
        let mut out = Vec::with_capacity(cmds.len() * 48);
        for c in cmds {
            out.extend_from_slice(format!("*{}\r\n", c.len()).as_bytes());
            for a in *c {
                out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
            }
        }
        self.stream.write_all(&out).expect("send");
    }

    fn read_replies(&mut self, n: usize) -> Vec<String> {
        (0..n).map(|_| self.read_reply()).collect()
    }

    fn read_reply(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("read");
        match line.as_bytes().first() {
            Some(b'$') => {
                let n: i64 = line[1..].trim().parse().unwrap_or(-1);
                if n >= 0 {
                    let mut buf = vec![0u8; n as usize + 2];
                    self.reader.read_exact(&mut buf).expect("read bulk");
                    return String::from_utf8_lossy(&buf[..n as usize]).into_owned();
                }
                String::new()
            }
            Some(b'*') => {
                let n: i64 = line[1..].trim().parse().unwrap_or(0);
                (0..n.max(0))
                    .map(|_| self.read_reply())
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            _ => line.trim_end().to_string(),
        }
    }
}

/// One redis-benchmark result.
#[derive(Clone, Copy, Default, Debug)]
struct Run {
    rps: f64,
    p50: f64,
    p99: f64,
    max: f64,
    /// Server CPU time (user + system, all threads) per request, in µs.
    cpu_us: f64,
}

fn median(mut v: Vec<Run>) -> Run {
    let pick = |f: fn(&Run) -> f64, v: &mut Vec<Run>| {
        v.sort_by(|a, b| f(a).partial_cmp(&f(b)).unwrap_or(std::cmp::Ordering::Equal));
        f(&v[v.len() / 2])
    };
    Run {
        rps: pick(|r| r.rps, &mut v),
        p50: pick(|r| r.p50, &mut v),
        p99: pick(|r| r.p99, &mut v),
        max: pick(|r| r.max, &mut v),
        cpu_us: pick(|r| r.cpu_us, &mut v),
    }
}

/// CPU time a process has used (user + system, all threads), in µs.
fn cpu_time_us(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the ")" that ends the command name; utime and stime are
    // the 14th and 15th fields of the whole line.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // SAFETY: sysconf is always safe to call.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    if f.len() < 13 {
        return 0.0;
    }
    (f[11] + f[12]) * 1e6 / hz
}

/// Runs redis-benchmark `--csv` and parses the line of the test `-t`
/// names (LRANGE tests print their own fill's LPUSH line first).
fn redis_benchmark(port: u16, args: &[String]) -> Run {
    let out = Command::new("redis-benchmark")
        .args(["-p", &port.to_string(), "--csv"])
        .args(args)
        .output()
        .expect("run redis-benchmark (apt-get install redis-tools)");
    let text = String::from_utf8_lossy(&out.stdout);
    let test = args
        .iter()
        .skip_while(|a| *a != "-t")
        .nth(1)
        .map(|t| t.to_uppercase())
        .unwrap_or_default();
    for line in text.lines().skip(1) {
        let name = line.split(',').next().unwrap_or("").trim_matches('"');
        if !name.starts_with(&test) || name.contains("needed") {
            continue;
        }
        let f: Vec<f64> = line
            .split(',')
            .skip(1)
            .map(|x| x.trim_matches('"').parse().unwrap_or(0.0))
            .collect();
        if f.len() >= 7 {
            return Run {
                cpu_us: 0.0,
                rps: f[0],
                p50: f[3],
                p99: f[5],
                max: f[6],
            };
        }
    }
    panic!(
        "redis-benchmark {args:?} printed no result:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A row of the final table.
struct Row {
    section: &'static str,
    name: String,
    unit: &'static str,
    higher_is_better: bool,
    gostore: f64,
    redis: f64,
}

impl Row {
    fn ratio(&self) -> f64 {
        if self.redis == 0.0 && self.gostore == 0.0 {
            // Neither recorded anything (no LATENCY event): a tie.
            1.0
        } else if self.redis == 0.0 {
            f64::INFINITY
        } else {
            self.gostore / self.redis
        }
    }
}

/// Which throughput lines to run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lines {
    All,
    /// `--only sets`.
    Sets,
    /// `--only zsets`.
    Zsets,
}

/// The throughput lines (every one, or only the set or sorted-set lines),
/// each run `opts.rounds` times on both servers.
fn throughput(opts: &Options, a: &Server, b: &Server, rows: &mut Vec<Row>, which: Lines) {
    let n1 = if opts.quick { "50000" } else { "200000" };
    let n16 = if opts.quick { "200000" } else { "1000000" };
    // redis-benchmark's arguments for test `t` with 50 clients.
    let args = |t: &str, p: &str, n: &str, extra: &[&str]| -> Vec<String> {
        ["-t", t, "-c", "50", "-P", p, "-n", n]
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect()
    };
    let mut lines: Vec<Line> = Vec::new();
    // redis-benchmark's set lines: SADD of `element:__rand_int__` (one
    // member without -r, as in its default suite) and SPOP, which first
    // gets the set to pop from (an unmeasured SADD run, as the suite's
    // order gives it).
    for (p, n) in [("1", n1), ("16", n16)] {
        for (t, fill) in [("sadd", None), ("spop", Some("sadd"))] {
            let name = format!("{} -P {p}", t.to_uppercase());
            let fill = fill.map(|f| args(f, p, n, &[]));
            lines.push((name, args(t, p, n, &[]), None, fill));
        }
    }
    if which == Lines::Sets {
        run_lines(opts, a, b, rows, lines);
        return;
    }
    if which == Lines::Zsets {
        lines.clear();
    }
    // redis-benchmark's sorted-set lines: ZADD of `element:__rand_int__`
    // (score 0, one member without -r) and ZPOPMIN after a ZADD fill run;
    // then ZADD and ZRANGE over up to a million random members, written in
    // redis-benchmark's arbitrary-command form (ZRANGE reads a set the
    // unmeasured ZADD run filled).
    for (p, n) in [("1", n1), ("16", n16)] {
        for (t, fill) in [("zadd", None), ("zpopmin", Some("zadd"))] {
            let name = format!("{} -P {p}", t.to_uppercase());
            let fill = fill.map(|f| args(f, p, n, &[]));
            lines.push((name, args(t, p, n, &[]), None, fill));
        }
    }
    let zadd_rand = ["zadd", "myzset", "__rand_int__", "member:__rand_int__"];
    let custom = |cmd: &[&str], n: &str| -> Vec<String> {
        ["-c", "50", "-P", "16", "-n", n, "-r", "1000000"]
            .iter()
            .chain(cmd)
            .map(|s| s.to_string())
            .collect()
    };
    lines.push((
        "ZADD -r 1000000 -P 16".into(),
        custom(&zadd_rand, n16),
        None,
        None,
    ));
    lines.push((
        "ZRANGE 0 10 WITHSCORES -r 1000000 -P 16".into(),
        custom(&["zrange", "myzset", "0", "10", "withscores"], n16),
        None,
        Some(custom(&zadd_rand, n16)),
    ));
    if which == Lines::Zsets {
        run_lines(opts, a, b, rows, lines);
        return;
    }
    let suite = [
        "ping_inline",
        "ping_mbulk",
        "set",
        "get",
        "incr",
        "mset",
        "hset",
    ];
    for (p, n) in [("1", n1), ("16", n16)] {
        for t in suite {
            let name = format!("{} -P {p}", t.to_uppercase());
            lines.push((name, args(t, p, n, &[]), None, None));
        }
        for t in ["set", "get"] {
            let name = format!("{} -d 1024 -P {p}", t.to_uppercase());
            lines.push((name, args(t, p, n, &["-d", "1024"]), None, None));
        }
        // redis-benchmark's list lines. The pops first get a list to pop
        // from (an unmeasured push run of the same size, as the default
        // suite's order gives them); LRANGE fills its own list.
        for (t, fill) in [
            ("lpush", None),
            ("rpush", None),
            ("lpop", Some("lpush")),
            ("rpop", Some("rpush")),
            ("lrange_100", None),
            ("lrange_300", None),
            ("lrange_500", None),
            ("lrange_600", None),
        ] {
            let name = format!("{} -P {p}", t.to_uppercase());
            let fill = fill.map(|f| args(f, p, n, &[]));
            lines.push((name, args(t, p, n, &[]), None, fill));
        }
    }
    for t in ["set", "get", "hset"] {
        let name = format!("{} -r 1000000 -P 16", t.to_uppercase());
        lines.push((name, args(t, "16", n16, &["-r", "1000000"]), None, None));
    }
    for p in ["16", "1"] {
        let name = format!("SET always -P {p}");
        lines.push((name, args("set", p, n1, &[]), Some("always"), None));
    }
    run_lines(opts, a, b, rows, lines);
    algebra(opts, a, b, rows);
}

/// The sorted-set algebra lines: ZUNIONSTORE and ZINTERSTORE over two
/// filled sorted sets (skip lists of 1000 members, 500 of them in both),
/// in redis-benchmark's arbitrary-command form.
fn algebra(opts: &Options, a: &Server, b: &Server, rows: &mut Vec<Row>) {
    let n = if opts.quick { "5000" } else { "20000" };
    let fill = |s: &Server| {
        load(s.port, 2, 1, |k| {
            let mut v = vec!["ZADD".to_string(), format!("zs{}", k + 1)];
            for m in k * 500..k * 500 + 1000 {
                v.push(m.to_string());
                v.push(format!("member:{m}"));
            }
            v
        })
    };
    let mut lines: Vec<Line> = Vec::new();
    for cmd in ["ZUNIONSTORE", "ZINTERSTORE"] {
        for p in ["1", "16"] {
            let name = format!("{cmd} 2x1000 -P {p}");
            let args = ["-c", "50", "-P", p, "-n", n, cmd, "zdst", "2", "zs1", "zs2"];
            let args = args.iter().map(|s| s.to_string()).collect();
            lines.push((name, args, None, None));
        }
    }
    run_lines_with(opts, a, b, rows, lines, fill);
}

/// GEO lines, as redis-benchmark's arbitrary-command mode sends them (50
/// clients): GEOADD of random points in a 1-degree square (`__rand_int__e-6`
/// for both coordinates, a random member: up to 1M distinct), and
/// GEOSEARCH of the 10 closest within 1 km of its centre (about 50 points
/// in range per 100k), after an unmeasured GEOADD fill of 100k requests.
fn geo(opts: &Options, a: &Server, b: &Server, rows: &mut Vec<Row>) {
    let n1 = if opts.quick { "50000" } else { "200000" };
    let n16 = if opts.quick { "200000" } else { "1000000" };
    let bench = |p: &str, n: &str, cmd: &str| -> Vec<String> {
        ["-c", "50", "-P", p, "-n", n, "-r", "1000000"]
            .iter()
            .map(|s| s.to_string())
            .chain(cmd.split(' ').map(String::from))
            .collect()
    };
    let add = "GEOADD geo __rand_int__e-6 __rand_int__e-6 m:__rand_int__";
    let search = "GEOSEARCH geo FROMLONLAT 0.5 0.5 BYRADIUS 1 km COUNT 10 ASC";
    let mut lines: Vec<Line> = Vec::new();
    for (p, n) in [("1", n1), ("16", n16)] {
        lines.push((format!("GEOADD -P {p}"), bench(p, n, add), None, None));
    }
    for (p, n) in [("1", n1), ("16", n16)] {
        let fill = bench("16", "100000", add);
        lines.push((
            format!("GEOSEARCH 1 km COUNT 10 -P {p}"),
            bench(p, n, search),
            None,
            Some(fill),
        ));
    }
    run_lines(opts, a, b, rows, lines);
}

/// Bitmap and HyperLogLog lines, as redis-benchmark's arbitrary-command
/// mode sends them (50 clients): SETBIT of bit 4095 of one of 1000 keys
/// (`__rand_int__` is zero-padded, which no bit offset parser accepts, so
/// the key is the random part), BITCOUNT of a 125 KB bitmap of ones (a
/// popcount of all of it per request), PFADD of a random element (of up to
/// 1M) to one HyperLogLog (sparse at first, dense soon), and PFCOUNT of it
/// after an unmeasured PFADD fill (the cached cardinality, as a counter
/// reader sees it).
fn bits(opts: &Options, a: &Server, b: &Server, rows: &mut Vec<Row>) {
    let n1 = if opts.quick { "50000" } else { "200000" };
    let n16 = if opts.quick { "200000" } else { "1000000" };
    let bench = |p: &str, n: &str, r: &str, cmd: &str| -> Vec<String> {
        ["-c", "50", "-P", p, "-n", n, "-r", r]
            .iter()
            .map(|s| s.to_string())
            .chain(cmd.split(' ').map(String::from))
            .collect()
    };
    let pfadd = "PFADD hll el:__rand_int__";
    let mut lines: Vec<Line> = Vec::new();
    for (name, r, cmd, fill) in [
        ("SETBIT", "1000", "SETBIT bm:__rand_int__ 4095 1", None),
        ("BITCOUNT 125 KB", "1000", "BITCOUNT bits", None),
        ("PFADD", "1000000", pfadd, None),
        ("PFCOUNT", "1000000", "PFCOUNT hll", Some(pfadd)),
    ] {
        for (p, n) in [("1", n1), ("16", n16)] {
            let fill = fill.map(|f| bench("16", "100000", "1000000", f));
            lines.push((format!("{name} -P {p}"), bench(p, n, r, cmd), None, fill));
        }
    }
    run_lines_with(opts, a, b, rows, lines, |s| {
        s.cmd(&["SETBIT", "bits", "999999", "0"]);
        s.cmd(&["BITOP", "NOT", "bits", "bits"]);
    });
}

/// Stream lines: `XADD s * f v` as redis-benchmark's arbitrary-command
/// mode sends it (50 clients, one stream, auto IDs; 7.0's default suite
/// has no XADD), at -P 1 and -P 16.
fn streams(opts: &Options, a: &Server, b: &Server, rows: &mut Vec<Row>) {
    let n1 = if opts.quick { "50000" } else { "200000" };
    let n16 = if opts.quick { "200000" } else { "1000000" };
    let mut lines: Vec<Line> = Vec::new();
    for (p, n) in [("1", n1), ("16", n16)] {
        let args = ["-c", "50", "-P", p, "-n", n, "XADD", "s", "*", "f", "v"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        lines.push((format!("XADD s * f v -P {p}"), args, None, None));
    }
    run_lines(opts, a, b, rows, lines);
}

/// Streams: RSS per entry of one stream of 1M entries (200k with
/// `--quick`) of two small fields, added with auto IDs as a producer
/// does (the same field names each time, so entries share the node's
/// master fields).
fn streams_memory(opts: &Options, rows: &mut Vec<Row>) {
    let n: usize = if opts.quick { 200_000 } else { 1_000_000 };
    let mut per = [0.0f64; 2];
    for (side, kind) in sides(opts).iter().enumerate() {
        let s = Server::start(*kind, opts, "mem-stream", &["--appendonly", "no"]);
        let before = s.rss();
        load(s.port, n, 1000, |i| {
            vec![
                "XADD".to_string(),
                "stream".to_string(),
                "*".to_string(),
                "user".to_string(),
                (i % 10_000).to_string(),
                "event".to_string(),
                format!("ev{}", i % 7),
            ]
        });
        per[side] = (s.rss().saturating_sub(before)) as f64 / n as f64;
    }
    memory_row(
        rows,
        format!("{}-entry stream of 2 small fields, RSS per entry", label(n)),
        per[0],
        per[1],
    );
    eprintln!("  memory per stream entry: {:.1} vs {:.1}", per[0], per[1]);
}

/// The scripting section's script (a rate limiter's core: INCR, then
/// EXPIRE) and its SHA-1.
const BENCH_SCRIPT: &str =
    "local v = redis.call('INCR', KEYS[1]) redis.call('EXPIRE', KEYS[1], 60) return v";
const BENCH_SCRIPT_SHA: &str = "b53dec798f0729ac526f9bcab3a22b8352a19f05";

/// EVALSHA of `BENCH_SCRIPT` on a random key of 10000, at -P 1 and -P 16.
fn scripting(opts: &Options, a: &Server, b: &Server, rows: &mut Vec<Row>) {
    let n1 = if opts.quick { "50000" } else { "200000" };
    let n16 = if opts.quick { "200000" } else { "1000000" };
    let mut lines: Vec<Line> = Vec::new();
    for (p, n) in [("1", n1), ("16", n16)] {
        let args: Vec<String> = ["-c", "50", "-P", p, "-n", n, "-r", "10000", "EVALSHA"]
            .iter()
            .map(|s| s.to_string())
            .chain([
                BENCH_SCRIPT_SHA.to_string(),
                "1".into(),
                "rl:__rand_int__".into(),
            ])
            .collect();
        lines.push((format!("EVALSHA INCR+EXPIRE -P {p}"), args, None, None));
    }
    run_lines_with(opts, a, b, rows, lines, |s| {
        let sha = s.cmd(&["SCRIPT", "LOAD", BENCH_SCRIPT]);
        assert!(sha.contains(BENCH_SCRIPT_SHA), "SCRIPT LOAD answered {sha}");
    });
}

fn label(n: usize) -> String {
    if n % 1_000_000 == 0 {
        format!("{}M", n / 1_000_000)
    } else {
        format!("{}k", n / 1000)
    }
}

/// One throughput line: its name, redis-benchmark's arguments, the
/// appendfsync it runs under, and a fill run first.
type Line<'a> = (String, Vec<String>, Option<&'a str>, Option<Vec<String>>);

/// Runs each line `opts.rounds` times on both servers (alternating who goes
/// first) and keeps the medians.
fn run_lines(opts: &Options, a: &Server, b: &Server, rows: &mut Vec<Row>, lines: Vec<Line>) {
    run_lines_with(opts, a, b, rows, lines, |_| {});
}

/// `run_lines`, with `setup` run on each server after it is flushed for a
/// line (data the line reads but does not change).
fn run_lines_with(
    opts: &Options,
    a: &Server,
    b: &Server,
    rows: &mut Vec<Row>,
    lines: Vec<Line>,
    setup: impl Fn(&Server),
) {
    for (name, args, fsync, fill) in lines {
        let mut runs = (Vec::new(), Vec::new());
        for s in [a, b] {
            s.cmd(&["FLUSHALL"]);
            setup(s);
            if let Some(p) = fsync {
                s.cmd(&["CONFIG", "SET", "appendfsync", p]);
            }
        }
        for round in 0..opts.rounds {
            // Alternate who goes first, so drift hits both alike.
            let order: [(&Server, bool); 2] = if round % 2 == 0 {
                [(a, true), (b, false)]
            } else {
                [(b, false), (a, true)]
            };
            for (s, is_a) in order {
                if let Some(f) = &fill {
                    redis_benchmark(s.port, f);
                }
                let before = cpu_time_us(s.pid());
                let mut r = redis_benchmark(s.port, &args);
                let n: f64 = args
                    .iter()
                    .skip_while(|a| *a != "-n")
                    .nth(1)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1.0);
                r.cpu_us = (cpu_time_us(s.pid()) - before) / n;
                if is_a {
                    runs.0.push(r);
                } else {
                    runs.1.push(r);
                }
            }
        }
        if fsync.is_some() {
            for s in [a, b] {
                s.cmd(&["CONFIG", "SET", "appendfsync", "everysec"]);
            }
        }
        let (ra, rb) = (median(runs.0), median(runs.1));
        eprintln!(
            "  {name:<24} {:>12.0} {:>12.0}  {:.2}x   CPU/req {:.2} vs {:.2} µs",
            ra.rps,
            rb.rps,
            ra.rps / rb.rps.max(1.0),
            ra.cpu_us,
            rb.cpu_us
        );
        rows.push(Row {
            section: "throughput",
            name: format!("{name} rps"),
            unit: "req/s",
            higher_is_better: true,
            gostore: ra.rps,
            redis: rb.rps,
        });
        rows.push(Row {
            section: "latency",
            name: format!("{name} p50"),
            unit: "ms",
            higher_is_better: false,
            gostore: ra.p50,
            redis: rb.p50,
        });
        rows.push(Row {
            section: "latency",
            name: format!("{name} p99"),
            unit: "ms",
            higher_is_better: false,
            gostore: ra.p99,
            redis: rb.p99,
        });
        rows.push(Row {
            section: "latency",
            name: format!("{name} max"),
            unit: "ms",
            higher_is_better: false,
            gostore: ra.max,
            redis: rb.max,
        });
        rows.push(Row {
            section: "cpu",
            name: format!("{name} server CPU per request"),
            unit: "µs",
            higher_is_better: false,
            gostore: ra.cpu_us,
            redis: rb.cpu_us,
        });
    }
}

/// MULTI/SET/EXEC transactions per second from 50 clients, each sending
/// `depth` whole transactions (3 commands each) per round trip, as a
/// client library's transactional pipeline does. redis-benchmark sends
/// one command per request, so this client drives both servers alike;
/// rounds alternate who goes first and the median is kept.
fn transactions(opts: &Options, a: &Server, b: &Server, rows: &mut Vec<Row>) {
    let total = if opts.quick { 100_000 } else { 400_000 };
    for depth in [1usize, 16] {
        let name = format!("MULTI/SET/EXEC -P {depth}");
        let mut runs = (Vec::new(), Vec::new());
        for round in 0..opts.rounds {
            let order: [(&Server, bool); 2] = if round % 2 == 0 {
                [(a, true), (b, false)]
            } else {
                [(b, false), (a, true)]
            };
            for (s, is_a) in order {
                s.cmd(&["FLUSHALL"]);
                let rps = transaction_run(s.port, 50, total, depth);
                if is_a {
                    runs.0.push(rps);
                } else {
                    runs.1.push(rps);
                }
            }
        }
        let (ra, rb) = (median_f64(runs.0), median_f64(runs.1));
        eprintln!(
            "  {name:<24} {ra:>12.0} {rb:>12.0}  {:.2}x  transactions/s",
            ra / rb.max(1.0)
        );
        rows.push(Row {
            section: "throughput",
            name: format!("{name} transactions/s"),
            unit: "tx/s",
            higher_is_better: true,
            gostore: ra,
            redis: rb,
        });
    }
}

/// PUBLISH throughput to 1, 100 and 1,000 subscribers: one publisher
/// pipelines batches of PUBLISH and, before the next batch, waits until
/// every subscriber has read the whole batch (so no server buffers the
/// backlog); messages published per second, end to end. The same client
/// code drives both servers; rounds alternate who goes first.
fn pubsub(opts: &Options, a: &Server, b: &Server, rows: &mut Vec<Row>) {
    for subs in [1usize, 100, 1000] {
        let total = match subs {
            1 => 200_000,
            100 => 40_000,
            _ => 8_000,
        } / if opts.quick { 4 } else { 1 };
        let name = format!(
            "PUBLISH to {subs} subscriber{}",
            if subs == 1 { "" } else { "s" }
        );
        let mut runs = (Vec::new(), Vec::new());
        for round in 0..opts.rounds {
            let order: [(&Server, bool); 2] = if round % 2 == 0 {
                [(a, true), (b, false)]
            } else {
                [(b, false), (a, true)]
            };
            for (s, is_a) in order {
                let rps = pubsub_run(s.port, subs, total);
                if is_a {
                    runs.0.push(rps);
                } else {
                    runs.1.push(rps);
                }
            }
        }
        let (ra, rb) = (median_f64(runs.0), median_f64(runs.1));
        eprintln!(
            "  {name:<24} {ra:>12.0} {rb:>12.0}  {:.2}x  messages/s",
            ra / rb.max(1.0)
        );
        rows.push(Row {
            section: "throughput",
            name: format!("{name} messages/s"),
            unit: "msg/s",
            higher_is_better: true,
            gostore: ra,
            redis: rb,
        });
    }
}

/// One timed run of `pubsub`: `subs` subscribers to one channel, read by
/// up to 8 threads; returns messages published (and fully delivered) per
/// second.
fn pubsub_run(port: u16, subs: usize, total: usize) -> f64 {
    const BATCH: usize = 200;
    let payload = "p".repeat(32);
    let message = format!(
        "*3\r\n$7\r\nmessage\r\n$5\r\nbench\r\n${}\r\n{payload}\r\n",
        payload.len()
    );
    let confirm = "*3\r\n$9\r\nsubscribe\r\n$5\r\nbench\r\n:1\r\n";
    let threads = subs.min(8);
    let batches = total.div_ceil(BATCH);
    let mut groups: Vec<Vec<TcpStream>> = (0..threads).map(|_| Vec::new()).collect();
    for i in 0..subs {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("subscriber");
        s.write_all(b"*2\r\n$9\r\nSUBSCRIBE\r\n$5\r\nbench\r\n")
            .expect("subscribe");
        let mut buf = vec![0u8; confirm.len()];
        s.read_exact(&mut buf).expect("subscribed");
        groups[i % threads].push(s);
    }
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let want = BATCH * message.len();
    let workers: Vec<_> = groups
        .into_iter()
        .map(|mut socks| {
            let done = done_tx.clone();
            std::thread::spawn(move || {
                let mut buf = vec![0u8; want];
                for _ in 0..batches {
                    for s in socks.iter_mut() {
                        s.read_exact(&mut buf).expect("messages");
                    }
                    if done.send(()).is_err() {
                        return;
                    }
                }
            })
        })
        .collect();
    let mut publisher = Conn::new(port);
    let cmd: [&str; 3] = ["PUBLISH", "bench", &payload];
    let batch: Vec<&[&str]> = (0..BATCH).map(|_| &cmd[..]).collect();
    let start = Instant::now();
    for _ in 0..batches {
        publisher.send(&batch);
        for r in publisher.read_replies(BATCH) {
            assert_eq!(r, format!(":{subs}"), "PUBLISH answered {r}");
        }
        for _ in 0..threads {
            done_rx.recv().expect("subscriber thread");
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    for w in workers {
        w.join().expect("subscriber thread");
    }
    (batches * BATCH) as f64 / elapsed
}

/// One timed run of `transactions`: `clients` connections share `total`
/// transactions; returns transactions per second.
fn transaction_run(port: u16, clients: usize, total: usize, depth: usize) -> f64 {
    let per_client = (total / clients / depth).max(1);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(clients + 1));
    let workers: Vec<_> = (0..clients)
        .map(|i| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut c = Conn::new(port);
                let key = format!("tx:{i}");
                let one: [&[&str]; 3] = [&["MULTI"], &["SET", &key, "xxx"], &["EXEC"]];
                let batch: Vec<&[&str]> = (0..depth).flat_map(|_| one).collect();
                barrier.wait();
                for _ in 0..per_client {
                    c.send(&batch);
                    for r in c.read_replies(3 * depth).chunks(3) {
                        assert_eq!(r[2], "+OK", "EXEC answered {:?}", r);
                    }
                }
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    for w in workers {
        w.join().expect("transaction client");
    }
    (per_client * clients * depth) as f64 / start.elapsed().as_secs_f64()
}

/// Loads `n` keys with pipelined commands built by `make`.
fn load(port: u16, n: usize, batch: usize, make: impl Fn(usize) -> Vec<String>) {
    let mut c = Conn::new(port);
    let mut i = 0;
    while i < n {
        let end = (i + batch).min(n);
        let cmds: Vec<Vec<String>> = (i..end).map(&make).collect();
        let refs: Vec<Vec<&str>> = cmds
            .iter()
            .map(|c| c.iter().map(|s| s.as_str()).collect())
            .collect();
        let slices: Vec<&[&str]> = refs.iter().map(|v| v.as_slice()).collect();
        c.send(&slices);
        c.read_replies(end - i);
        i = end;
    }
}

fn memory(opts: &Options, rows: &mut Vec<Row>) {
    let n_strings = if opts.quick { 200_000 } else { 1_000_000 };
    let n_hashes = if opts.quick { 20_000 } else { 100_000 };
    let kinds = sides(opts);
    let mut per = [[0.0f64; 2]; 2];
    for (side, kind) in kinds.iter().enumerate() {
        let s = Server::start(*kind, opts, "mem-str", &["--appendonly", "no"]);
        let before = s.rss();
        load(s.port, n_strings, 1000, |i| {
            vec!["SET".into(), format!("key:{i:012}"), "value-1234".into()]
        });
        per[0][side] = (s.rss().saturating_sub(before)) as f64 / n_strings as f64;
        drop(s);
        let s = Server::start(*kind, opts, "mem-hash", &["--appendonly", "no"]);
        let before = s.rss();
        load(s.port, n_hashes, 200, |i| {
            let mut v = vec!["HSET".to_string(), format!("hash:{i:010}")];
            for f in 0..10 {
                v.push(format!("field{f}"));
                v.push(format!("val{f}"));
            }
            v
        });
        per[1][side] = (s.rss().saturating_sub(before)) as f64 / n_hashes as f64;
    }
    memory_row(
        rows,
        format!("{n_strings} small strings, RSS per key"),
        per[0][0],
        per[0][1],
    );
    memory_row(
        rows,
        format!("{n_hashes} hashes of 10 fields, RSS per key"),
        per[1][0],
        per[1][1],
    );
    eprintln!(
        "  memory per key: strings {:.1} vs {:.1}, hashes {:.1} vs {:.1}",
        per[0][0], per[0][1], per[1][0], per[1][1]
    );
    lists_memory(opts, rows);
    sets_memory(opts, rows);
    zsets_memory(opts, rows);
}

/// Sorted sets: RSS per member of one big set (skip list: nodes and the
/// member index) and of many sets of 10 (listpacks: per-key overhead).
fn zsets_memory(opts: &Options, rows: &mut Vec<Row>) {
    let n_members: usize = if opts.quick { 200_000 } else { 1_000_000 };
    let n_sets: usize = if opts.quick { 20_000 } else { 100_000 };
    let mut per = [[0.0f64; 2]; 2];
    for (side, kind) in sides(opts).iter().enumerate() {
        let s = Server::start(*kind, opts, "mem-zset", &["--appendonly", "no"]);
        let before = s.rss();
        // 100 members per ZADD.
        load(s.port, n_members / 100, 100, |i| {
            let mut v = vec!["ZADD".to_string(), "bigzset".to_string()];
            for j in i * 100..i * 100 + 100 {
                v.push(((j * 7919) % 1_000_003).to_string());
                v.push(format!("member:{j:08}"));
            }
            v
        });
        per[0][side] = (s.rss().saturating_sub(before)) as f64 / n_members as f64;
        drop(s);
        let s = Server::start(*kind, opts, "mem-zsets", &["--appendonly", "no"]);
        let before = s.rss();
        load(s.port, n_sets, 200, |i| {
            let mut v = vec!["ZADD".to_string(), format!("zset:{i:010}")];
            for j in 0..10 {
                v.push((i % 1000 + j * 37).to_string());
                v.push(format!("m{j}"));
            }
            v
        });
        per[1][side] = (s.rss().saturating_sub(before)) as f64 / (n_sets * 10) as f64;
    }
    memory_row(
        rows,
        format!("{n_members}-member sorted set, RSS per member"),
        per[0][0],
        per[0][1],
    );
    memory_row(
        rows,
        format!("{n_sets} sorted sets of 10 members, RSS per member"),
        per[1][0],
        per[1][1],
    );
    eprintln!(
        "  sorted sets, per member: one big {:.1} vs {:.1}, sets of 10 {:.1} vs {:.1}",
        per[0][0], per[0][1], per[1][0], per[1][1]
    );
}

/// Sets: RSS per member of many small sets of integers (intsets: the
/// per-key and per-set overhead matters).
fn sets_memory(opts: &Options, rows: &mut Vec<Row>) {
    let n_sets: usize = if opts.quick { 20_000 } else { 100_000 };
    let mut per = [0.0f64; 2];
    for (side, kind) in sides(opts).iter().enumerate() {
        let s = Server::start(*kind, opts, "mem-sets", &["--appendonly", "no"]);
        let before = s.rss();
        load(s.port, n_sets, 200, |i| {
            let mut v = vec!["SADD".to_string(), format!("set:{i:010}")];
            v.extend((0..10).map(|j| (i % 1000 + j * 37).to_string()));
            v
        });
        per[side] = (s.rss().saturating_sub(before)) as f64 / (n_sets * 10) as f64;
    }
    memory_row(
        rows,
        format!("{n_sets} small sets of 10 integers, RSS per member"),
        per[0],
        per[1],
    );
    eprintln!("  memory per set member: {:.1} vs {:.1}", per[0], per[1]);
}

/// A memory row: bytes per key, element or connection, GoStore then Redis.
fn memory_row(rows: &mut Vec<Row>, name: String, gostore: f64, redis: f64) {
    rows.push(Row {
        section: "memory",
        name,
        unit: "bytes",
        higher_is_better: false,
        gostore,
        redis,
    });
}

/// Lists: RSS per element of one list of many small elements (packed
/// nodes dominate) and of many lists of 10 (per-key overhead matters).
fn lists_memory(opts: &Options, rows: &mut Vec<Row>) {
    let n_elems: usize = if opts.quick { 200_000 } else { 1_000_000 };
    let n_lists: usize = if opts.quick { 20_000 } else { 100_000 };
    let kinds = sides(opts);
    let mut per = [[0.0f64; 2]; 2];
    for (side, kind) in kinds.iter().enumerate() {
        let s = Server::start(*kind, opts, "mem-list", &["--appendonly", "no"]);
        let before = s.rss();
        // 100 elements per RPUSH.
        load(s.port, n_elems / 100, 100, |i| {
            let mut v = vec!["RPUSH".to_string(), "biglist".to_string()];
            v.extend((0..100).map(|j| format!("element:{:08}", i * 100 + j)));
            v
        });
        per[0][side] = (s.rss().saturating_sub(before)) as f64 / n_elems as f64;
        drop(s);
        let s = Server::start(*kind, opts, "mem-lists", &["--appendonly", "no"]);
        let before = s.rss();
        load(s.port, n_lists, 200, |i| {
            let mut v = vec!["RPUSH".to_string(), format!("list:{i:010}")];
            v.extend((0..10).map(|j| format!("val{j}")));
            v
        });
        per[1][side] = (s.rss().saturating_sub(before)) as f64 / (n_lists * 10) as f64;
    }
    memory_row(
        rows,
        format!("{n_elems} small elements in one list, RSS per element"),
        per[0][0],
        per[0][1],
    );
    memory_row(
        rows,
        format!("{n_lists} lists of 10 elements, RSS per element"),
        per[1][0],
        per[1][1],
    );
    eprintln!(
        "  lists, per element: one list {:.1} vs {:.1}, lists of 10 {:.1} vs {:.1}",
        per[0][0], per[0][1], per[1][0], per[1][1]
    );
}

/// Memory per connection: `n` clients connect and PING once, then stay
/// idle; the growth of RSS per client is the first figure. They then close,
/// and after 11 s (GoStore gives free heap back from its cron at most every
/// 10 s) what RSS kept per client is the second.
fn connections(opts: &Options, rows: &mut Vec<Row>) {
    let n: usize = if opts.quick { 1000 } else { 5000 };
    raise_nofile(n as u64 + 64);
    let kinds = sides(opts);
    let mut per = [[0.0f64; 2]; 2];
    for (side, kind) in kinds.iter().enumerate() {
        let s = Server::start(
            *kind,
            opts,
            "mem-conn",
            &["--appendonly", "no", "--maxclients", "10000"],
        );
        let before = s.rss() as f64;
        let mut conns = Vec::with_capacity(n);
        for _ in 0..n {
            let Ok(mut c) = TcpStream::connect(("127.0.0.1", s.port)) else {
                eprintln!(
                    "  connections: connect failed after {} clients",
                    conns.len()
                );
                break;
            };
            let _ = c.set_read_timeout(Some(Duration::from_secs(10)));
            let mut pong = [0u8; 7];
            if c.write_all(b"PING\r\n").is_err() || c.read_exact(&mut pong).is_err() {
                break;
            }
            conns.push(c);
        }
        let connected = conns.len().max(1) as f64;
        per[0][side] = (s.rss() as f64 - before).max(0.0) / connected;
        drop(conns);
        std::thread::sleep(Duration::from_secs(11));
        per[1][side] = (s.rss() as f64 - before).max(0.0) / connected;
    }
    memory_row(
        rows,
        format!("{n} idle connections, RSS per connection"),
        per[0][0],
        per[0][1],
    );
    memory_row(
        rows,
        format!("{n} connections closed, RSS kept per connection"),
        per[1][0],
        per[1][1],
    );
    eprintln!(
        "  per connection: idle {:.0} vs {:.0} bytes, kept after close {:.0} vs {:.0}",
        per[0][0], per[0][1], per[1][0], per[1][1]
    );
}

/// Raises this process's open-file limit to `want` if the hard limit
/// allows (the connections row opens thousands of sockets).
fn raise_nofile(want: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write the struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < want {
            lim.rlim_cur = want.min(lim.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// The worst PING latency a second client sees while redis-benchmark grows
/// the key table from 0 to about `n` keys (table doubling must not pause the
/// loop). The loader runs at a lower scheduling priority than the probe, so
/// on a small machine the probe measures the server more than the
/// scheduler. Three rounds per side in alternating order (one in quick
/// mode), each figure's median kept.
fn growth(opts: &Options, rows: &mut Vec<Row>) {
    let n = if opts.quick { 1_000_000 } else { 10_000_000 };
    let rounds = if opts.quick { 1 } else { 3 };
    let kinds = sides(opts);
    // Per side: (max PING, p99.9 PING, slowest LATENCY event) of each round.
    let mut runs: [Vec<[f64; 3]>; 2] = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        // The order alternates, as for throughput: a side that always ran
        // first would always meet the write-back of the sections before.
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for side in order {
            runs[side].push(growth_run(opts, kinds[side], n));
        }
    }
    let med = |side: usize, i: usize| median_f64(runs[side].iter().map(|r| r[i]).collect());
    let worst = [med(0, 0), med(1, 0)];
    let p999 = [med(0, 1), med(1, 1)];
    let server_max = [med(0, 2), med(1, 2)];
    eprintln!(
        "  medians: PING while growing to ~{n} keys: max {:.2} ms vs {:.2} ms, p99.9 {:.2} ms vs {:.2} ms",
        worst[0], worst[1], p999[0], p999[1]
    );
    rows.push(Row {
        section: "latency",
        name: format!("max PING ms while growing to ~{n} keys"),
        unit: "ms",
        higher_is_better: false,
        gostore: worst[0],
        redis: worst[1],
    });
    rows.push(Row {
        section: "latency",
        name: format!("p99.9 PING ms while growing to ~{n} keys"),
        unit: "ms",
        higher_is_better: false,
        gostore: p999[0],
        redis: p999[1],
    });
    eprintln!("  slowest event the servers themselves recorded (LATENCY, 1 ms threshold): {:.0} ms vs {:.0} ms", server_max[0], server_max[1]);
    rows.push(Row {
        section: "latency",
        name: format!("slowest event ms while growing to ~{n} keys (LATENCY)"),
        unit: "ms",
        higher_is_better: false,
        gostore: server_max[0],
        redis: server_max[1],
    });
}

/// One growth run on a fresh server: (max PING, p99.9 PING, slowest
/// LATENCY event), in ms.
fn growth_run(opts: &Options, kind: Kind, n: usize) -> [f64; 3] {
    // Dirty pages the earlier sections left are written back now, not
    // during the measurement.
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
    // LATENCY records every event of 1 ms or more on both servers: the
    // server's own view, free of the client's scheduling noise.
    let s = Server::start(
        kind,
        opts,
        "growth",
        &["--appendonly", "no", "--latency-monitor-threshold", "1"],
    );
    let port = s.port;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let d = std::sync::Arc::clone(&done);
    let probe = std::thread::spawn(move || {
        let mut c = TcpStream::connect(("127.0.0.1", port)).expect("probe");
        c.set_nodelay(true).ok();
        let mut samples = Vec::with_capacity(1 << 20);
        let mut buf = [0u8; 7];
        while !d.load(std::sync::atomic::Ordering::Relaxed) {
            let t = Instant::now();
            c.write_all(b"PING\r\n").expect("probe send");
            c.read_exact(&mut buf).expect("probe read");
            samples.push(t.elapsed());
            // Pace the probe: one PING every ~200 µs.
            std::thread::sleep(Duration::from_micros(200));
        }
        samples.sort();
        let max = samples.last().copied().unwrap_or_default();
        let p = samples
            .get(samples.len() * 999 / 1000)
            .copied()
            .unwrap_or_default();
        (max, p)
    });
    // The loader is redis-benchmark in its own process at nice 10: random
    // keys from a space of 10^9, so nearly every SET adds one.
    let status = Command::new("nice")
        .args(["-n", "10", "redis-benchmark", "-p", &port.to_string()])
        .args(["-t", "set", "-r", "1000000000", "-n", &n.to_string()])
        .args(["-P", "64", "-c", "2", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run redis-benchmark (apt-get install redis-tools)");
    assert!(status.success(), "the growth loader failed: {status}");
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let (max, p) = probe.join().unwrap_or_default();
    let r = [
        max.as_secs_f64() * 1000.0,
        p.as_secs_f64() * 1000.0,
        latency_max(&s),
    ];
    eprintln!(
        "  {kind:?}: {} keys, max PING {:.2} ms, p99.9 {:.2} ms, slowest event {:.0} ms",
        s.cmd(&["DBSIZE"]).trim_start_matches(':'),
        r[0],
        r[1],
        r[2]
    );
    r
}

/// The median of a few values (the upper one of the middle two).
fn median_f64(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// The largest latency LATENCY LATEST reports for any event (commands,
/// expiry cycles, AOF writes...), in ms; 0 when none reached the 1 ms
/// threshold.
fn latency_max(s: &Server) -> f64 {
    let text = s.cmd(&["LATENCY", "LATEST"]);
    // Each entry reads "<event> <time> <latest> <max>" in `read_reply`'s
    // join; the max is every fourth word.
    text.split_whitespace()
        .skip(3)
        .step_by(4)
        .filter_map(|v| v.trim_start_matches(':').parse::<f64>().ok())
        .fold(0.0, f64::max)
}

/// Time from start to the first PONG with an AOF of `n` keys (ms).
fn load_time(opts: &Options, rows: &mut Vec<Row>) {
    let n = if opts.quick { 200_000 } else { 1_000_000 };
    let mut secs = [0.0f64; 2];
    for (side, kind) in sides(opts).iter().enumerate() {
        let mut s = Server::start(*kind, opts, "load", &[]);
        load(s.port, n, 1000, |i| {
            vec!["SET".into(), format!("key:{i:012}"), "value-1234".into()]
        });
        s.shutdown();
        let t = Instant::now();
        s.launch();
        secs[side] = t.elapsed().as_secs_f64();
        let size = s.cmd(&["DBSIZE"]);
        assert_eq!(size, format!(":{n}"), "{:?} loaded {size}", kind);
    }
    eprintln!(
        "  AOF load of {n} keys: {:.3} s vs {:.3} s",
        secs[0], secs[1]
    );
    rows.push(Row {
        section: "load",
        name: format!("AOF load of {n} keys"),
        unit: "ms",
        higher_is_better: false,
        gostore: secs[0] * 1000.0,
        redis: secs[1] * 1000.0,
    });
}

/// BGREWRITEAOF of `n` keys: the time until INFO says it is done, and the
/// child's copy-on-write memory (aof_last_cow_size, Private_Dirty, as both
/// servers measure it). hz 100 on both, so noticing the child's exit adds
/// at most 10 ms.
fn rewrite(opts: &Options, rows: &mut Vec<Row>) {
    let n = if opts.quick { 200_000 } else { 1_000_000 };
    let mut secs = [0.0f64; 2];
    let mut cow = [0.0f64; 2];
    for (side, kind) in sides(opts).iter().enumerate() {
        let s = Server::start(*kind, opts, "rewrite", &["--hz", "100"]);
        load(s.port, n, 1000, |i| {
            vec!["SET".into(), format!("key:{i:012}"), "value-1234".into()]
        });
        let t = Instant::now();
        let reply = s.cmd(&["BGREWRITEAOF"]);
        assert!(reply.starts_with("+Background"), "{kind:?}: {reply}");
        let info = wait_info(&s, "persistence", "the rewrite's end", |i| {
            info_field(i, "aof_rewrite_in_progress") == "0"
                && info_field(i, "aof_rewrite_scheduled") == "0"
        });
        secs[side] = t.elapsed().as_secs_f64();
        assert_eq!(
            info_field(&info, "aof_last_bgrewrite_status"),
            "ok",
            "{kind:?} rewrite failed"
        );
        cow[side] = info_field(&info, "aof_last_cow_size")
            .parse()
            .unwrap_or(0.0)
            / 1024.0;
    }
    eprintln!(
        "  BGREWRITEAOF of {n} keys: {:.3} s vs {:.3} s, copy-on-write {:.0} KB vs {:.0} KB",
        secs[0], secs[1], cow[0], cow[1]
    );
    rows.push(Row {
        section: "rewrite",
        name: format!("BGREWRITEAOF of {n} keys"),
        unit: "ms",
        higher_is_better: false,
        gostore: secs[0] * 1000.0,
        redis: secs[1] * 1000.0,
    });
    rows.push(Row {
        section: "rewrite",
        name: format!("BGREWRITEAOF of {n} keys, copy-on-write"),
        unit: "KB",
        higher_is_better: false,
        gostore: cow[0],
        redis: cow[1],
    });
}

/// A field of an INFO reply ("" when absent).
fn info_field(info: &str, name: &str) -> String {
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Polls INFO `section` until `done` holds (at most five minutes).
fn wait_info(s: &Server, section: &str, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let info = s.cmd(&["INFO", section]);
        if done(&info) {
            return info;
        }
        assert!(
            Instant::now() < deadline,
            "{:?}: {what} never happened",
            s.kind
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The snapshot rows: BGSAVE of `n` keys (time until INFO says it is done,
/// and the child's copy-on-write, rdb_last_cow_size), then the time from
/// start to the first PONG with that dump.rdb and no AOF. hz 100 on both,
/// so noticing the child's exit adds at most 10 ms.
fn snapshots(opts: &Options, rows: &mut Vec<Row>) {
    let n = if opts.quick { 200_000 } else { 1_000_000 };
    let mut save = [0.0f64; 2];
    let mut cow = [0.0f64; 2];
    let mut load_secs = [0.0f64; 2];
    for (side, kind) in sides(opts).iter().enumerate() {
        let mut s = Server::start(
            *kind,
            opts,
            "rdb",
            &[
                "--hz",
                "100",
                "--appendonly",
                "no",
                "--dbfilename",
                "dump.rdb",
            ],
        );
        load(s.port, n, 1000, |i| {
            vec!["SET".into(), format!("key:{i:012}"), "value-1234".into()]
        });
        let t = Instant::now();
        let reply = s.cmd(&["BGSAVE"]);
        assert!(reply.starts_with("+Background"), "{kind:?}: {reply}");
        let info = wait_info(&s, "persistence", "BGSAVE's end", |i| {
            info_field(i, "rdb_bgsave_in_progress") == "0" && info_field(i, "rdb_saves") != "0"
        });
        save[side] = t.elapsed().as_secs_f64();
        assert_eq!(
            info_field(&info, "rdb_last_bgsave_status"),
            "ok",
            "{kind:?}: BGSAVE failed"
        );
        cow[side] = info_field(&info, "rdb_last_cow_size")
            .parse()
            .unwrap_or(0.0)
            / 1024.0;
        // The restart loads dump.rdb (the AOF is off on both).
        if let Some(mut c) = s.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let t = Instant::now();
        s.launch();
        load_secs[side] = t.elapsed().as_secs_f64();
        let size = s.cmd(&["DBSIZE"]);
        assert_eq!(
            size,
            format!(":{n}"),
            "{kind:?} loaded {size} from dump.rdb"
        );
    }
    eprintln!(
        "  BGSAVE of {n} keys: {:.3} s vs {:.3} s, copy-on-write {:.0} KB vs {:.0} KB; RDB load {:.3} s vs {:.3} s",
        save[0], save[1], cow[0], cow[1], load_secs[0], load_secs[1]
    );
    for (name, unit, g, r) in [
        (
            format!("BGSAVE of {n} keys"),
            "ms",
            save[0] * 1000.0,
            save[1] * 1000.0,
        ),
        (
            format!("BGSAVE of {n} keys, copy-on-write"),
            "KB",
            cow[0],
            cow[1],
        ),
        (
            format!("RDB load of {n} keys"),
            "ms",
            load_secs[0] * 1000.0,
            load_secs[1] * 1000.0,
        ),
    ] {
        rows.push(Row {
            section: "snapshots",
            name,
            unit,
            higher_is_better: false,
            gostore: g,
            redis: r,
        });
    }
}

/// Makes `replica` a replica of `master` and waits until its first sync is
/// done (link up, nothing in progress); returns the time it took.
fn attach_replica(master: &Server, replica: &Server) -> Duration {
    let t = Instant::now();
    let reply = replica.cmd(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]);
    assert!(reply.starts_with("+OK"), "{:?}: {reply}", replica.kind);
    wait_info(replica, "replication", "the first sync", |i| {
        info_field(i, "master_link_status") == "up"
            && info_field(i, "master_sync_in_progress") == "0"
    });
    t.elapsed()
}

/// The replication rows: the full sync of `n` keys to a fresh replica of the
/// same kind (from REPLICAOF until the replica's link is up and loaded), and
/// SET at -P 16 on a master with that replica attached.
fn replication(opts: &Options, rows: &mut Vec<Row>) {
    let n = if opts.quick { 200_000 } else { 1_000_000 };
    let mut sync = [0.0f64; 2];
    let mut masters = Vec::new();
    let mut replicas = Vec::new();
    for (side, kind) in sides(opts).iter().enumerate() {
        // Both sync at once (Redis waits 5 s for more replicas by default).
        let m = Server::start(*kind, opts, "master", &["--repl-diskless-sync-delay", "0"]);
        load(m.port, n, 1000, |i| {
            vec!["SET".into(), format!("key:{i:012}"), "value-1234".into()]
        });
        let r = Server::start(*kind, opts, "replica", &["--appendonly", "no"]);
        sync[side] = attach_replica(&m, &r).as_secs_f64();
        let size = r.cmd(&["DBSIZE"]);
        assert_eq!(size, format!(":{n}"), "{kind:?} replica has {size}");
        masters.push(m);
        replicas.push(r);
    }
    eprintln!(
        "  full sync of {n} keys: {:.3} s vs {:.3} s",
        sync[0], sync[1]
    );
    rows.push(Row {
        section: "replication",
        name: format!("full sync of {n} keys to a replica"),
        unit: "ms",
        higher_is_better: false,
        gostore: sync[0] * 1000.0,
        redis: sync[1] * 1000.0,
    });
    let n16 = if opts.quick { "200000" } else { "1000000" };
    let args: Vec<String> = [
        "-c", "50", "-P", "16", "-n", n16, "-r", "100000", "-t", "set",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let lines: Vec<Line> = vec![("SET -P 16, one replica attached".into(), args, None, None)];
    run_lines_with(opts, &masters[0], &masters[1], rows, lines, |_| {});
    // Every write reached the replica: the stream kept up.
    for (m, r) in masters.iter().zip(&replicas) {
        let want = info_field(&m.cmd(&["INFO", "replication"]), "master_repl_offset");
        wait_info(r, "replication", "catching up with the master", |i| {
            info_field(i, "slave_repl_offset") == want
        });
    }
}

fn sides(opts: &Options) -> [Kind; 2] {
    if opts.self_compare {
        [Kind::Redis, Kind::Redis]
    } else {
        [Kind::GoStore, Kind::Redis]
    }
}

fn geomean(v: &[f64]) -> f64 {
    let v: Vec<f64> = v
        .iter()
        .copied()
        .filter(|x| *x > 0.0 && x.is_finite())
        .collect();
    if v.is_empty() {
        return 0.0;
    }
    (v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!("{cpu}, {cores} cores")
}

fn report(opts: &Options, rows: &[Row]) -> std::io::Result<()> {
    let (a, b) = if opts.self_compare {
        ("redis A", "redis B")
    } else {
        ("gostore", "redis")
    };
    let mut out = String::new();
    out.push_str(&format!(
        "Machine: {}\nRounds per line: {} (median kept){}\n\n",
        machine(),
        opts.rounds,
        if opts.quick { ", quick mode" } else { "" }
    ));
    let label = |r: &Row| format!("{} ({})", r.name, r.unit);
    let w = rows
        .iter()
        .map(|r| label(r).chars().count())
        .max()
        .unwrap_or(0)
        .max(46);
    out.push_str(&format!(
        "| {:<w$} | {:>14} | {:>14} | {:>7} |\n",
        "line", a, b, "ratio"
    ));
    out.push_str(&format!(
        "|{:-<w2$}|{:->16}|{:->16}|{:->9}|\n",
        "",
        "",
        "",
        "",
        w2 = w + 2
    ));
    for r in rows {
        let better = if r.higher_is_better { "" } else { " ↓" };
        out.push_str(&format!(
            "| {:<w$} | {:>14.1} | {:>14.1} | {:>6.2}x |{better}\n",
            label(r),
            r.gostore,
            r.redis,
            r.ratio()
        ));
    }
    let tp = |p: &str| -> Vec<f64> {
        rows.iter()
            .filter(|r| r.section == "throughput" && r.name.contains(p))
            .map(|r| r.ratio())
            .collect()
    };
    let all: Vec<f64> = rows
        .iter()
        .filter(|r| r.section == "throughput")
        .map(|r| r.ratio())
        .collect();
    out.push('\n');
    if !all.is_empty() {
        out.push_str(&format!(
            "Throughput ratio, geometric mean: -P 1 {:.2}x, -P 16 {:.2}x, all {:.2}x (higher is better)\n",
            geomean(&tp("-P 1 ")),
            geomean(&tp("-P 16 ")),
            geomean(&all)
        ));
    }
    let cpu = |p: &str| -> Vec<f64> {
        rows.iter()
            .filter(|r| r.section == "cpu" && r.name.contains(p))
            .map(|r| r.ratio())
            .collect()
    };
    if rows.iter().any(|r| r.section == "cpu") {
        out.push_str(&format!(
            "Server CPU per request, geometric mean of the ratios: -P 1 {:.2}x, -P 16 {:.2}x (lower is better)\n",
            geomean(&cpu("-P 1 ")),
            geomean(&cpu("-P 16 "))
        ));
    }
    out.push_str("Rows marked ↓: lower is better (memory, latency, CPU, load and rewrite time); ratio < 1.00x means GoStore uses less / is faster.\n");
    print!("{out}");
    std::fs::create_dir_all(&opts.out)?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut csv = String::from("section,line,unit,higher_is_better,gostore,redis,ratio\n");
    let mut json = String::from("[\n");
    for (i, r) in rows.iter().enumerate() {
        csv.push_str(&format!(
            "{},\"{}\",{},{},{:.3},{:.3},{:.4}\n",
            r.section,
            r.name,
            r.unit,
            r.higher_is_better,
            r.gostore,
            r.redis,
            r.ratio()
        ));
        json.push_str(&format!(
            "  {{\"section\": \"{}\", \"line\": \"{}\", \"unit\": \"{}\", \"higher_is_better\": {}, \"gostore\": {:.3}, \"redis\": {:.3}, \"ratio\": {}}}{}\n",
            r.section,
            r.name,
            r.unit,
            r.higher_is_better,
            r.gostore,
            r.redis,
            // JSON has no infinity: a ratio over a zero is null.
            if r.ratio().is_finite() {
                format!("{:.4}", r.ratio())
            } else {
                "null".into()
            },
            if i + 1 < rows.len() { "," } else { "" }
        ));
    }
    json.push_str("]\n");
    // A self-comparison is kept apart: it must not replace the latest
    // GoStore figures.
    let base = if opts.self_compare { "self" } else { "latest" };
    for (name, body) in [
        (format!("{base}-{stamp}.csv"), &csv),
        (format!("{base}.csv"), &csv),
        (format!("{base}-{stamp}.json"), &json),
        (format!("{base}.json"), &json),
        (format!("{base}.txt"), &out),
    ] {
        std::fs::write(opts.out.join(name), body)?;
    }
    eprintln!(
        "\nWritten to {}/{base}.{{txt,csv,json}}",
        opts.out.display()
    );
    Ok(())
}

fn main() {
    let opts = match parse_options() {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("{e}");
            }
            eprintln!("usage: cargo run --release --example bench -- [--quick] [--rounds N] [--self] [--only throughput,transactions,pubsub,memory,growth,load,rewrite,snapshots,replication,sets,zsets,zsetops,geo,bits,streams,scripting] [--out DIR]");
            std::process::exit(if e.is_empty() { 0 } else { 1 });
        }
    };
    let started = Instant::now();
    let mut rows = Vec::new();
    if opts.sections.iter().any(|s| s == "throughput") {
        eprintln!("throughput ({} rounds per line, median kept):", opts.rounds);
        let [ka, kb] = sides(&opts);
        let a = Server::start(ka, &opts, "tp-a", &[]);
        let b = Server::start(kb, &opts, "tp-b", &[]);
        throughput(&opts, &a, &b, &mut rows, Lines::All);
    }
    if opts.sections.iter().any(|s| s == "sets") {
        eprintln!("sets ({} rounds per line, median kept):", opts.rounds);
        let [ka, kb] = sides(&opts);
        let a = Server::start(ka, &opts, "tp-a", &[]);
        let b = Server::start(kb, &opts, "tp-b", &[]);
        throughput(&opts, &a, &b, &mut rows, Lines::Sets);
        drop((a, b));
        sets_memory(&opts, &mut rows);
    }
    if opts.sections.iter().any(|s| s == "geo") {
        eprintln!("geo ({} rounds per line, median kept):", opts.rounds);
        let [ka, kb] = sides(&opts);
        let a = Server::start(ka, &opts, "geo-a", &[]);
        let b = Server::start(kb, &opts, "geo-b", &[]);
        geo(&opts, &a, &b, &mut rows);
    }
    if opts.sections.iter().any(|s| s == "bits") {
        eprintln!("bits ({} rounds per line, median kept):", opts.rounds);
        let [ka, kb] = sides(&opts);
        let a = Server::start(ka, &opts, "bits-a", &[]);
        let b = Server::start(kb, &opts, "bits-b", &[]);
        bits(&opts, &a, &b, &mut rows);
    }
    if opts.sections.iter().any(|s| s == "streams") {
        eprintln!("streams ({} rounds per line, median kept):", opts.rounds);
        let [ka, kb] = sides(&opts);
        let a = Server::start(ka, &opts, "streams-a", &[]);
        let b = Server::start(kb, &opts, "streams-b", &[]);
        streams(&opts, &a, &b, &mut rows);
        drop((a, b));
        streams_memory(&opts, &mut rows);
    }
    if opts.sections.iter().any(|s| s == "scripting") {
        eprintln!("scripting ({} rounds per line, median kept):", opts.rounds);
        let [ka, kb] = sides(&opts);
        let a = Server::start(ka, &opts, "lua-a", &[]);
        let b = Server::start(kb, &opts, "lua-b", &[]);
        scripting(&opts, &a, &b, &mut rows);
    }
    if opts.sections.iter().any(|s| s == "transactions") {
        eprintln!(
            "transactions ({} rounds per line, median kept):",
            opts.rounds
        );
        let [ka, kb] = sides(&opts);
        let a = Server::start(ka, &opts, "tx-a", &[]);
        let b = Server::start(kb, &opts, "tx-b", &[]);
        transactions(&opts, &a, &b, &mut rows);
    }
    if opts.sections.iter().any(|s| s == "zsets") {
        eprintln!(
            "sorted sets ({} rounds per line, median kept):",
            opts.rounds
        );
        let [ka, kb] = sides(&opts);
        let a = Server::start(ka, &opts, "tp-a", &[]);
        let b = Server::start(kb, &opts, "tp-b", &[]);
        throughput(&opts, &a, &b, &mut rows, Lines::Zsets);
        drop((a, b));
        zsets_memory(&opts, &mut rows);
    }
    if opts.sections.iter().any(|s| s == "zsetops") {
        eprintln!("zsetops ({} rounds per line, median kept):", opts.rounds);
        let [ka, kb] = sides(&opts);
        let a = Server::start(ka, &opts, "tp-a", &[]);
        let b = Server::start(kb, &opts, "tp-b", &[]);
        algebra(&opts, &a, &b, &mut rows);
    }
    if opts.sections.iter().any(|s| s == "pubsub") {
        eprintln!("pub/sub ({} rounds per line, median kept):", opts.rounds);
        let [ka, kb] = sides(&opts);
        let a = Server::start(ka, &opts, "ps-a", &[]);
        let b = Server::start(kb, &opts, "ps-b", &[]);
        pubsub(&opts, &a, &b, &mut rows);
    }
    if opts.sections.iter().any(|s| s == "memory") {
        eprintln!("memory:");
        memory(&opts, &mut rows);
        connections(&opts, &mut rows);
    }
    if opts.sections.iter().any(|s| s == "growth") {
        eprintln!("latency while the key table grows:");
        growth(&opts, &mut rows);
    }
    if opts.sections.iter().any(|s| s == "load") {
        eprintln!("AOF load time:");
        load_time(&opts, &mut rows);
    }
    if opts.sections.iter().any(|s| s == "rewrite") {
        eprintln!("AOF rewrite:");
        rewrite(&opts, &mut rows);
    }
    if opts.sections.iter().any(|s| s == "snapshots") {
        eprintln!("RDB snapshots:");
        snapshots(&opts, &mut rows);
    }
    if opts.sections.iter().any(|s| s == "replication") {
        eprintln!("replication:");
        replication(&opts, &mut rows);
    }
    eprintln!("done in {:.0} s\n", started.elapsed().as_secs_f64());
    if let Err(e) = report(&opts, &rows) {
        eprintln!("writing results: {e}");
        std::process::exit(1);
    }
}
