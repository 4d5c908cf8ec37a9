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
use common::rng::Rng;
use common::{info_field, wait_for, TempDir, TestServer};

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
        // The SIGKILL comes from the helper thread and may land while the
        // loop's write(2) is under way: with a fatal signal pending, the
        // kernel ends a file write at a page boundary, so the last incr
        // file may end in part of a command that no client was answered
        // for. That torn tail is what start-up cuts off
        // (aof-load-truncated); any other damage is a failure.
        let report = String::from_utf8_lossy(&out.stdout);
        let torn_tail =
            report.contains("Unexpected end of file") && report.contains(".incr.aof is not valid");
        assert!(out.status.success() || torn_tail, "{point}: {report}");
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
fn everysec_fsyncs_again_and_again_while_writes_flow_and_covers_the_last_write() {
    // A machine crash loses what is not fsynced. Under everysec the fsync
    // thread fsyncs in the background again and again while writes flow,
    // and once they stop, one last fsync covers the last write. It logs
    // each one (loglevel verbose) with the offset it covers. The test waits
    // for those conditions, not for a time: how soon each fsync comes is a
    // figure for `make bench`, not an assertion a busy machine could break.
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
        n
    });
    // The offsets of the background fsyncs logged so far, in order.
    let fsyncs = || -> Vec<u64> {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                l.split("Background AOF fsync up to offset ")
                    .nth(1)?
                    .split(' ')
                    .next()?
                    .parse()
                    .ok()
            })
            .collect()
    };
    // Each fsync covers more than the one before: writes kept coming and
    // fsyncs kept following them.
    wait_for(30, "three background fsyncs while the writer runs", || {
        fsyncs().len() >= 3
    });
    stop.store(true, Ordering::Relaxed);
    let writes = w.join().unwrap();
    let during = fsyncs();
    assert!(
        during.windows(2).all(|p| p[0] < p[1]),
        "each fsync covers new writes: {during:?}"
    );
    // Every reply was sent once its write was in the file (the file holds
    // exactly what the server wrote since it started), and a last fsync
    // comes to cover it all without another write.
    let incr = dir.path().join("appendonlydir/database.aof.1.incr.aof");
    let size = std::fs::metadata(&incr).unwrap().len();
    assert!(writes > 0 && size > 0, "{writes} writes, {size} bytes");
    wait_for(10, "an fsync that covers the last write", || {
        fsyncs().last().is_some_and(|&o| o >= size)
    });
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        fsyncs().last().copied(),
        Some(size),
        "the last fsync covers exactly the file: {text}"
    );
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
