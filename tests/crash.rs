//! Crash tests: the server is killed with SIGKILL while clients write, at
//! random moments, in the middle of AOF rewrites, and at each step of a
//! rewrite's file swap (`GOSTORE_CRASH_AT`). After each restart every
//! acknowledged write is present and no write is half applied. Plus the
//! everysec fsync cadence behind "a machine crash loses at most two
//! seconds".

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::dataset::{assert_same, dump, fill_every_type, without_encodings};
use common::resp::RawConn;
use common::{info_field, wait_for, TempDir, TestServer};

/// A small deterministic PRNG (xorshift64*), seeded per run and printed on
/// failure.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Keys per kind and writer: writes keep overwriting a bounded keyspace.
const SLOTS: u64 = 128;

/// What a writer's keys must hold: for each slot, the op number of the
/// last acknowledged write to it (None: deleted or never written).
#[derive(Debug, Clone)]
struct Model {
    /// `s:<slot>`: SET, or None after DEL.
    strings: Vec<Option<u64>>,
    /// `a:<slot>` and `b:<slot>`, written together by one MSET.
    pairs: Vec<Option<u64>>,
    /// `h:<slot>`: fields f1 and f2, written together by one HSET.
    hashes: Vec<Option<u64>>,
    /// The INCR counter.
    counter: u64,
}

impl Default for Model {
    fn default() -> Self {
        let none = vec![None; SLOTS as usize];
        Model {
            strings: none.clone(),
            pairs: none.clone(),
            hashes: none,
            counter: 0,
        }
    }
}

/// Write number `n` of writer `w`: five kinds of command in turn.
fn op(w: usize, n: u64) -> Vec<Vec<u8>> {
    let k = |p: &str, i: u64| format!("w{w}:{p}:{}", i % SLOTS).into_bytes();
    let v = n.to_string().into_bytes();
    match n % 5 {
        0 => vec![b"SET".to_vec(), k("s", n), v],
        1 => vec![b"MSET".to_vec(), k("a", n), v.clone(), k("b", n), v],
        2 => vec![
            b"HSET".to_vec(),
            k("h", n),
            b"f1".to_vec(),
            v.clone(),
            b"f2".to_vec(),
            v,
        ],
        3 => vec![b"INCR".to_vec(), format!("w{w}:ctr").into_bytes()],
        // The string the SET four writes earlier made.
        _ => vec![b"DEL".to_vec(), k("s", n - 4)],
    }
}

impl Model {
    /// Records write `n` as applied.
    fn apply(&mut self, n: u64) {
        let slot = (n % SLOTS) as usize;
        match n % 5 {
            0 => self.strings[slot] = Some(n),
            1 => self.pairs[slot] = Some(n),
            2 => self.hashes[slot] = Some(n),
            3 => self.counter += 1,
            _ => self.strings[((n - 4) % SLOTS) as usize] = None,
        }
    }
}

/// Reads back a writer's keys after a restart and checks them against the
/// model: every acknowledged write present, and the one write in flight at
/// the kill (`pending`) either whole or absent, never half applied. Adopts
/// the pending write into the model if it was applied.
fn verify(port: u16, w: usize, m: &mut Model, pending: Option<u64>, ctx: &str) {
    let mut c = RawConn::connect(port);
    // Pipelined: every query, then every reply.
    let mut out = Vec::new();
    for slot in 0..SLOTS {
        for q in [
            vec![format!("GET w{w}:s:{slot}")],
            vec![format!("MGET w{w}:a:{slot} w{w}:b:{slot}")],
            vec![format!("HMGET w{w}:h:{slot} f1 f2")],
        ] {
            let parts: Vec<&str> = q[0].split(' ').collect();
            let args: Vec<&[u8]> = parts.iter().map(|a| a.as_bytes()).collect();
            out.extend(common::resp::encode(&args));
        }
    }
    let ctr = format!("w{w}:ctr");
    out.extend(common::resp::encode(&[b"GET", ctr.as_bytes()]));
    c.send(&out);
    let bulk = |v: Option<u64>| match v {
        Some(v) => format!("${}\r\n{v}\r\n", v.to_string().len()),
        None => "$-1\r\n".to_string(),
    };
    let pair = |v: Option<u64>| format!("*2\r\n{}{}", bulk(v), bulk(v));
    let mut applied = false;
    for slot in 0..SLOTS {
        let i = slot as usize;
        let p = pending.filter(|n| n % SLOTS == slot);
        // The string: the last acknowledged SET or DEL, or the pending one.
        let got = String::from_utf8_lossy(&c.read_reply()).into_owned();
        let alt = match pending {
            Some(n) if n % 5 == 0 && n % SLOTS == slot => Some(bulk(Some(n))),
            Some(n) if n % 5 == 4 && (n - 4) % SLOTS == slot => Some(bulk(None)),
            _ => None,
        };
        if got != bulk(m.strings[i]) {
            assert_eq!(
                Some(&got),
                alt.as_ref(),
                "{ctx}: w{w}:s:{slot}, want {:?}",
                m.strings[i]
            );
            applied = true;
        }
        // The MSET pair: both from the same write.
        let got = String::from_utf8_lossy(&c.read_reply()).into_owned();
        if got != pair(m.pairs[i]) {
            let n = p.filter(|n| n % 5 == 1);
            assert!(
                n.is_some() && got == pair(n),
                "{ctx}: w{w}:a/b:{slot} is {got:?}, want {:?} (never half applied)",
                m.pairs[i]
            );
            applied = true;
        }
        // The hash: both fields from the same HSET.
        let got = String::from_utf8_lossy(&c.read_reply()).into_owned();
        if got != pair(m.hashes[i]) {
            let n = p.filter(|n| n % 5 == 2);
            assert!(
                n.is_some() && got == pair(n),
                "{ctx}: w{w}:h:{slot} is {got:?}, want {:?} (never half applied)",
                m.hashes[i]
            );
            applied = true;
        }
    }
    // The counter: every acknowledged INCR, maybe the one in flight.
    let got = String::from_utf8_lossy(&c.read_reply()).into_owned();
    let want = bulk(Some(m.counter).filter(|&n| n > 0));
    if got != want {
        assert!(
            pending.is_some_and(|n| n % 5 == 3) && got == bulk(Some(m.counter + 1)),
            "{ctx}: w{w}:ctr is {got:?}, want {want:?}"
        );
        applied = true;
    }
    if let (true, Some(n)) = (applied, pending) {
        m.apply(n);
    }
}

/// A writer: runs `op`s in order from `next` until a command fails (the
/// server died); returns the acknowledged ones and the one in flight.
fn writer(
    port: u16,
    w: usize,
    mut next: u64,
    connected: std::sync::mpsc::Sender<()>,
) -> (Vec<u64>, Option<u64>) {
    let mut c = RawConn::connect(port);
    let _ = connected.send(());
    let mut acked = Vec::new();
    loop {
        let cmd = op(w, next);
        let args: Vec<&[u8]> = cmd.iter().map(|a| &a[..]).collect();
        match c.try_cmd(&args) {
            Ok(r) if !r.starts_with(b"-") => acked.push(next),
            Ok(r) => panic!("w{w} op {next}: {}", String::from_utf8_lossy(&r)),
            Err(_) => return (acked, Some(next)),
        }
        next += 1;
    }
}

#[test]
fn every_acknowledged_write_survives_random_kill_9s_under_each_policy_and_mid_rewrite() {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut rng = Rng(seed);
    let dir = TempDir::new("crash-cycles");
    const WRITERS: usize = 2;
    let mut models = vec![Model::default(); WRITERS];
    let mut next = [0u64; WRITERS];
    let (mut cycles, mut mid_rewrite) = (0, 0);
    let started = Instant::now();
    // At least 20 cycles; more while the time budget allows.
    while cycles < 20 || (cycles < 40 && started.elapsed() < Duration::from_secs(10)) {
        let policy = ["always", "everysec", "no"][cycles % 3];
        let mut srv = TestServer::gostore_in(
            dir.path(),
            &[
                "--appendfsync",
                policy,
                // Rewrites start by themselves and take a while.
                "--auto-aof-rewrite-min-size",
                "1mb",
                "--auto-aof-rewrite-percentage",
                "100",
                "--rdb-key-save-delay",
                "100",
            ],
        );
        let ctx = format!("cycle {cycles} ({policy}, seed {seed})");
        let (tx, rx) = std::sync::mpsc::channel();
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (port, from, tx) = (srv.port, next[w], tx.clone());
                std::thread::spawn(move || writer(port, w, from, tx))
            })
            .collect();
        for _ in 0..WRITERS {
            rx.recv().expect("a writer connected");
        }
        if cycles % 3 == 1 {
            // Kill while a rewrite runs.
            srv.raw_conn().cmd_str(&["BGREWRITEAOF"]);
            wait_for(10, "the rewrite child", || {
                info_field(srv.port, "aof_rewrite_in_progress").as_deref() == Some("1")
            });
            std::thread::sleep(Duration::from_millis(rng.below(40)));
        } else {
            std::thread::sleep(Duration::from_millis(20 + rng.below(200)));
        }
        if info_field(srv.port, "aof_rewrite_in_progress").as_deref() == Some("1") {
            mid_rewrite += 1;
        }
        srv.kill9();
        let mut pending = [None; WRITERS];
        for (w, h) in writers.into_iter().enumerate() {
            let (acked, inflight) = h.join().expect("writer");
            for n in &acked {
                models[w].apply(*n);
            }
            next[w] = inflight.map(|n| n + 1).unwrap_or(next[w]);
            pending[w] = inflight;
        }
        let srv = TestServer::gostore_in(dir.path(), &[]);
        for w in 0..WRITERS {
            verify(srv.port, w, &mut models[w], pending[w], &ctx);
        }
        drop(srv);
        cycles += 1;
    }
    let writes: u64 = next.iter().sum();
    eprintln!(
        "{cycles} kill -9 cycles ({mid_rewrite} during a rewrite), {writes} writes, {:.1} s, seed {seed}",
        started.elapsed().as_secs_f64()
    );
    assert!(writes > 500, "the writers made progress: {writes} writes");
    assert!(
        mid_rewrite >= 5 && cycles - mid_rewrite >= 5,
        "{mid_rewrite} of {cycles} kills landed during a rewrite"
    );
    let out = std::process::Command::new(common::check_aof_bin())
        .arg(dir.path().join("appendonlydir/database.aof.manifest"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// The crash points of a rewrite, in the order it reaches them (see
/// src/aof/failpoint.rs). Manifest points count hits after start-up: the
/// first is the prepare step's manifest, the second the install's.
const CRASH_POINTS: &[&str] = &[
    "incr-created",
    "manifest-temp-written:1",
    "manifest-renamed:1",
    "base-renamed",
    "manifest-temp-written:2",
    "manifest-renamed:2",
    "rewrite-installed",
    "history-removed",
];

#[test]
fn a_crash_at_each_step_of_a_rewrite_leaves_a_complete_loadable_set_of_files() {
    for point in CRASH_POINTS {
        let dir = TempDir::new("crash-point");
        let mut srv = TestServer::gostore_in_env(
            dir.path(),
            &["--appendfsync", "always", "--rdb-key-save-delay", "2000"],
            &[("GOSTORE_CRASH_AT", point)],
        );
        fill_every_type(srv.port);
        let mut c = srv.raw_conn();
        c.cmd_str(&["SET", "before-rewrite", "1"]);
        let mut want = dump(srv.port, 16);
        // The crash may come before the reply.
        let _ = c.try_cmd(&[b"BGREWRITEAOF"]);
        // Write until the server dies at the crash point; the writes made
        // while the child runs go to the new incr file.
        let mut acked = 0u64;
        loop {
            let k = format!("during:{acked}");
            match c.try_cmd(&[b"SET", k.as_bytes(), b"x"]) {
                Ok(r) if r == b"+OK\r\n" => {
                    acked += 1;
                }
                _ => break,
            }
            assert!(
                acked < 100_000,
                "{point}: the server never reached the crash point"
            );
        }
        assert_eq!(srv.wait(), None, "{point}: killed by SIGKILL");
        let mut keys = Vec::new();
        for i in 0..acked {
            keys.push(format!("during:{i}"));
        }
        let manifest = dir.path().join("appendonlydir/database.aof.manifest");
        let out = std::process::Command::new(common::check_aof_bin())
            .arg(&manifest)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{point}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let srv = TestServer::gostore_in(dir.path(), &[]);
        let got = dump(srv.port, 16);
        // The write in flight at the crash may have been applied.
        keys.push(format!("during:{acked}"));
        let inflight = (0, keys[keys.len() - 1].as_bytes().to_vec());
        if let Some(e) = got.get(&inflight) {
            want.insert(inflight, e.clone());
        }
        keys.pop();
        for k in &keys {
            want.insert(
                (0, k.as_bytes().to_vec()),
                got.get(&(0, k.as_bytes().to_vec()))
                    .cloned()
                    .unwrap_or_else(|| panic!("{point}: acknowledged {k} lost")),
            );
        }
        assert_same(
            &without_encodings(&got),
            &without_encodings(&want),
            &format!("after a crash at {point}"),
        );
        check_no_unnamed_files(dir.path(), point);
    }
}

/// After a restart, the AOF directory holds the files the manifest names
/// (and nothing of a failed rewrite but what start-up removes).
fn check_no_unnamed_files(dir: &Path, point: &str) {
    let a = dir.join("appendonlydir");
    wait_for(10, "leftovers to be removed", || {
        let m = std::fs::read_to_string(a.join("database.aof.manifest")).unwrap_or_default();
        std::fs::read_dir(&a).unwrap().flatten().all(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let named = name == "database.aof.manifest" || m.contains(&format!("file {name} "));
            if !named {
                eprintln!("{point}: {name} is not named by the manifest yet");
            }
            named
        }) && !m.contains(" type h\n")
    });
}

#[test]
fn everysec_fsyncs_at_least_once_a_second_while_writes_flow() {
    // A machine crash loses what is not fsynced. Under everysec every write
    // is covered by a completed fsync within two seconds: the fsync thread
    // logs each one (loglevel verbose), and the test checks the coverage of
    // the whole time the writer ran.
    let dir = TempDir::new("everysec");
    let log = dir.path().join("gostore.log");
    let log_arg = log.to_string_lossy().into_owned();
    let srv = TestServer::gostore_in(
        dir.path(),
        &[
            "--appendfsync",
            "everysec",
            "--loglevel",
            "verbose",
            "--logfile",
            &log_arg,
        ],
    );
    let stop = Arc::new(AtomicBool::new(false));
    let (port, s) = (srv.port, stop.clone());
    let w = std::thread::spawn(move || {
        let mut c = RawConn::connect(port);
        let mut n = 0u64;
        while !s.load(Ordering::Relaxed) {
            c.cmd(&[b"SET", format!("k{}", n % 1000).as_bytes(), b"v"]);
            n += 1;
        }
    });
    let t0 = now_ms_of_day();
    std::thread::sleep(Duration::from_millis(3500));
    stop.store(true, Ordering::Relaxed);
    w.join().unwrap();
    let t_end = now_ms_of_day();
    // (asked, done) times of each background fsync, ms of the day.
    let text = std::fs::read_to_string(&log).unwrap();
    let fsyncs: Vec<(i64, i64)> = text
        .lines()
        .filter(|l| l.contains("Background AOF fsync up to offset"))
        .filter_map(|l| {
            let done = log_ms_of_day(l)?;
            let ago: i64 = l.split(", ").nth(1)?.split(' ').next()?.parse().ok()?;
            Some((done - ago, done))
        })
        .collect();
    assert!(fsyncs.len() >= 3, "fsyncs: {fsyncs:?}\n{text}");
    // Every write made at t (up to 2 s before the end) is covered by an
    // fsync asked for after t and done by t + 2 s.
    let mut t = t0;
    while t + 2000 <= t_end {
        assert!(
            fsyncs
                .iter()
                .any(|&(asked, done)| asked >= t && done <= t + 2000),
            "a write at {t} ms is not on disk 2 s later; fsyncs {fsyncs:?}"
        );
        t += 50;
    }
}

#[test]
fn under_appendfsync_no_gostore_never_fsyncs_the_aof_while_it_runs() {
    let dir = TempDir::new("fsync-no");
    let log = dir.path().join("gostore.log");
    let log_arg = log.to_string_lossy().into_owned();
    let srv = TestServer::gostore_in(
        dir.path(),
        &[
            "--appendfsync",
            "no",
            "--loglevel",
            "verbose",
            "--logfile",
            &log_arg,
        ],
    );
    let mut c = RawConn::connect(srv.port);
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < Duration::from_millis(2500) {
        c.cmd(&[b"SET", format!("k{}", n % 100).as_bytes(), b"v"]);
        n += 1;
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("Ready to accept connections"));
    assert!(
        !text.contains("Background AOF fsync"),
        "the kernel decides when to write back: {text}"
    );
}

/// Now, as milliseconds since local midnight (the log's clock).
fn now_ms_of_day() -> i64 {
    let us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64;
    let secs = (us / 1_000_000) as libc::time_t;
    // SAFETY: tm is plain data that localtime_r fills.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe { libc::localtime_r(&secs, &mut tm) };
    ((tm.tm_hour as i64 * 60 + tm.tm_min as i64) * 60 + tm.tm_sec as i64) * 1000
        + (us % 1_000_000) / 1000
}

/// The time of a log line (`pid:M 23 Nov 2026 11:28:00.123 - ...`) as
/// milliseconds since midnight.
fn log_ms_of_day(line: &str) -> Option<i64> {
    let hms = line.split(' ').nth(4)?;
    let (h, rest) = hms.split_once(':')?;
    let (m, rest) = rest.split_once(':')?;
    let (s, ms) = rest.split_once('.')?;
    Some(
        ((h.parse::<i64>().ok()? * 60 + m.parse::<i64>().ok()?) * 60 + s.parse::<i64>().ok()?)
            * 1000
            + ms.parse::<i64>().ok()?,
    )
}
