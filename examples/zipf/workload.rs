//! A cache workload with Zipf-distributed keys, for comparing eviction
//! policies between servers: each request GETs a key drawn from a Zipf
//! distribution and, on a miss, SETs it (cache-aside), so the server's
//! memory limit and policy decide the hit ratio.
//!
//! Requests go in pipelined batches: the batch's GETs, then SETs for the
//! keys that missed. The key sequence depends only on the seed, so two
//! servers given the same `Workload` see exactly the same requests.
//!
//! Shared by `examples/zipf` (the benchmark tool) and tests/eviction.rs.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Distinct keys (`key:<n>`).
    pub keys: usize,
    /// Zipf exponent: the key of rank r is drawn with weight 1 / r^s.
    pub exponent: f64,
    /// Value size in bytes.
    pub value_size: usize,
    /// Requests run before counting (to fill the cache).
    pub warmup: usize,
    /// Requests counted.
    pub requests: usize,
    /// GETs per pipelined batch.
    pub batch: usize,
    /// Seed of the key sequence.
    pub seed: u64,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            keys: 100_000,
            exponent: 1.0,
            value_size: 100,
            warmup: 100_000,
            requests: 200_000,
            batch: 100,
            seed: 42,
        }
    }
}

/// What a run measured (counted requests only, except `elapsed`/`ops`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome {
    /// GETs that found their key.
    pub hits: u64,
    /// GETs that did not.
    pub misses: u64,
    /// Wall time of the whole run, warm-up included.
    pub elapsed: Duration,
    /// Commands sent (GETs and SETs), warm-up included.
    pub commands: u64,
}

impl Outcome {
    /// hits / (hits + misses).
    pub fn hit_ratio(&self) -> f64 {
        let n = self.hits + self.misses;
        if n == 0 {
            0.0
        } else {
            self.hits as f64 / n as f64
        }
    }

    /// Commands per second.
    pub fn ops_per_sec(&self) -> f64 {
        self.commands as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// splitmix64: small, seedable, good enough for a workload.
#[derive(Debug, Clone)]
pub struct Rand(u64);

impl Rand {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Rand {
        Rand(seed)
    }

    /// 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Draws key numbers: ranks from the Zipf distribution (inverse CDF by
/// binary search), mapped through a fixed permutation so popular keys are
/// spread over the key names.
pub struct ZipfKeys {
    cdf: Vec<f64>,
    perm: Vec<u32>,
    rng: Rand,
}

impl ZipfKeys {
    /// The generator for `w`.
    pub fn new(w: &Workload) -> ZipfKeys {
        let mut cdf = Vec::with_capacity(w.keys);
        let mut sum = 0.0;
        for r in 1..=w.keys {
            sum += 1.0 / (r as f64).powf(w.exponent);
            cdf.push(sum);
        }
        for c in &mut cdf {
            *c /= sum;
        }
        let mut rng = Rand::new(w.seed);
        let mut perm: Vec<u32> = (0..w.keys as u32).collect();
        for i in (1..perm.len()).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            perm.swap(i, j);
        }
        ZipfKeys { cdf, perm, rng }
    }

    /// The next key number.
    pub fn next_key(&mut self) -> u32 {
        let u = self.rng.next_f64();
        let rank = self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1);
        self.perm[rank]
    }
}

/// A RESP connection, just enough for this workload.
pub struct Conn {
    out: TcpStream,
    inp: BufReader<TcpStream>,
}

impl Conn {
    /// Connects to `addr` (`host:port`).
    pub fn connect(addr: &str) -> io::Result<Conn> {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(60)))?;
        Ok(Conn {
            inp: BufReader::with_capacity(1 << 16, s.try_clone()?),
            out: s,
        })
    }

    /// Sends one command and returns its reply, as text.
    pub fn command(&mut self, args: &[&[u8]]) -> io::Result<String> {
        let mut buf = Vec::new();
        encode(&mut buf, args);
        self.out.write_all(&buf)?;
        self.read_reply()
    }

    /// Reads one reply: simple strings, errors and integers as their line,
    /// bulks as their text, nil as "(nil)", arrays as their items joined by
    /// newlines.
    pub fn read_reply(&mut self) -> io::Result<String> {
        let mut line = String::new();
        if self.inp.read_line(&mut line)? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed"));
        }
        let line = line.trim_end_matches("\r\n");
        let bad = || io::Error::new(io::ErrorKind::InvalidData, "bad reply");
        match line.as_bytes().first() {
            Some(b'+' | b'-' | b':') => Ok(line.to_string()),
            Some(b'$') => {
                let n: i64 = line[1..].parse().map_err(|_| bad())?;
                if n < 0 {
                    return Ok("(nil)".into());
                }
                let mut v = vec![0u8; n as usize + 2];
                self.inp.read_exact(&mut v)?;
                v.truncate(n as usize);
                Ok(String::from_utf8_lossy(&v).into_owned())
            }
            Some(b'*') => {
                let n: i64 = line[1..].parse().map_err(|_| bad())?;
                let mut items = Vec::new();
                for _ in 0..n.max(0) {
                    items.push(self.read_reply()?);
                }
                Ok(items.join("\n"))
            }
            _ => Err(bad()),
        }
    }

    /// Reads a GET's reply: whether it was a hit. Skips the value.
    fn read_get(&mut self) -> io::Result<bool> {
        let mut line = String::new();
        self.inp.read_line(&mut line)?;
        let bad = || {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad GET reply {line:?}"),
            )
        };
        if !line.starts_with('$') {
            return Err(bad());
        }
        let n: i64 = line[1..].trim_end().parse().map_err(|_| bad())?;
        if n < 0 {
            return Ok(false);
        }
        io::copy(&mut (&mut self.inp).take(n as u64 + 2), &mut io::sink())?;
        Ok(true)
    }

    /// Reads a SET's reply; an error reply (-OOM) is returned as Err.
    fn read_set(&mut self) -> io::Result<()> {
        let mut line = String::new();
        self.inp.read_line(&mut line)?;
        if line.starts_with("+OK") {
            Ok(())
        } else {
            Err(io::Error::other(format!("SET failed: {}", line.trim_end())))
        }
    }
}

/// Appends `args` as a RESP array.
pub fn encode(buf: &mut Vec<u8>, args: &[&[u8]]) {
    buf.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        buf.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        buf.extend_from_slice(a);
        buf.extend_from_slice(b"\r\n");
    }
}

/// Runs `w` on `conn` (whose server should be empty and configured).
pub fn run(conn: &mut Conn, w: &Workload) -> io::Result<Outcome> {
    let mut keys = ZipfKeys::new(w);
    let value = vec![b'v'; w.value_size];
    let mut out = Outcome::default();
    let mut batch_keys: Vec<u32> = Vec::with_capacity(w.batch);
    let mut buf = Vec::with_capacity(w.batch * (w.value_size + 64));
    let mut missed = Vec::with_capacity(w.batch);
    let mut done = 0usize;
    let total = w.warmup + w.requests;
    let start = Instant::now();
    while done < total {
        let n = w.batch.min(total - done);
        batch_keys.clear();
        buf.clear();
        for _ in 0..n {
            let k = keys.next_key();
            batch_keys.push(k);
            encode(&mut buf, &[b"GET", format!("key:{k}").as_bytes()]);
        }
        conn.out.write_all(&buf)?;
        missed.clear();
        for (i, &k) in batch_keys.iter().enumerate() {
            let hit = conn.read_get()?;
            if done + i >= w.warmup {
                if hit {
                    out.hits += 1;
                } else {
                    out.misses += 1;
                }
            }
            if !hit {
                missed.push(k);
            }
        }
        out.commands += n as u64;
        if !missed.is_empty() {
            buf.clear();
            for &k in &missed {
                encode(&mut buf, &[b"SET", format!("key:{k}").as_bytes(), &value]);
            }
            conn.out.write_all(&buf)?;
            for _ in 0..missed.len() {
                conn.read_set()?;
            }
            out.commands += missed.len() as u64;
        }
        done += n;
    }
    out.elapsed = start.elapsed();
    Ok(out)
}

/// Empties the server and sets its memory limit and policy, for `run`.
pub fn prepare(conn: &mut Conn, maxmemory: u64, policy: &str) -> io::Result<()> {
    for cmd in [
        vec![&b"FLUSHALL"[..]],
        vec![b"CONFIG", b"SET", b"maxmemory-policy", policy.as_bytes()],
        vec![
            b"CONFIG",
            b"SET",
            b"maxmemory",
            maxmemory.to_string().as_bytes(),
        ],
    ] {
        let r = conn.command(&cmd)?;
        if r.starts_with('-') {
            return Err(io::Error::other(format!("{cmd:?}: {r}")));
        }
    }
    Ok(())
}
