//! Writing RDB version 10, as Redis 7.0's `rdb.c` does: the header, AUX
//! fields, each non-empty database (SELECTDB, RESIZEDB, then its keys with
//! their expiry and LRU/LFU opcodes), EOF and the CRC64.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use super::pack::{intset_blob, ListpackBuilder};
use super::{crc64, opcode, rtype, KeyMeta, RDB_VERSION};
use crate::db::set::Set;
use crate::db::value::{Value, ValueRef};
use crate::db::Db;
use crate::util::lzf;
use crate::util::num::{fmt_i64, parse_i64, MAX_I64_LEN};

/// Flush the buffer at this size.
const FLUSH_AT: usize = 256 * 1024;
/// With incremental fsync, fsync every this many bytes.
const AUTOSYNC_BYTES: u64 = 32 * 1024 * 1024;
/// The most bytes a list node's listpack takes before a new node starts
/// (quicklist's 8 KB default, `list-max-listpack-size -2`).
const LIST_NODE_BYTES: usize = 8192;

/// Which access information each key carries (Redis writes IDLE under an
/// LRU policy, FREQ under an LFU one, nothing otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccessInfo {
    /// Neither.
    #[default]
    None,
    /// RDB_OPCODE_IDLE with the idle seconds.
    Idle,
    /// RDB_OPCODE_FREQ with the LFU counter.
    Freq,
}

/// How a file is written.
#[derive(Debug, Clone, Default)]
pub struct SaveOptions {
    /// `rdbcompression`: LZF for strings longer than 20 bytes when it saves.
    pub compression: bool,
    /// `rdbchecksum`: the CRC64 at the end (zeros otherwise).
    pub checksum: bool,
    /// LRU/LFU opcodes.
    pub access: AccessInfo,
    /// The `aof-base` AUX field: 1 for an AOF base (preamble), else 0.
    pub aof_base: bool,
    /// The `used-mem` AUX field.
    pub used_mem: u64,
    /// Sleep this many µs after each key (`rdb-key-save-delay`, tests).
    pub key_delay_us: i32,
    /// fsync every 32 MB while writing (`rdb-save-incremental-fsync`).
    pub incremental_fsync: bool,
    /// The function libraries' code, written as RDB_OPCODE_FUNCTION2.
    pub functions: Vec<Vec<u8>>,
    /// The replication stream's database, id and offset (the
    /// `repl-stream-db`, `repl-id` and `repl-offset` AUX fields), so that a
    /// replica restarted from this file continues with a partial resync.
    pub repl: Option<ReplSaveInfo>,
}

/// Where the replication stream stood at a save (Redis's `rdbSaveInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplSaveInfo {
    /// The database the stream has selected.
    pub stream_db: usize,
    /// The replication id (a replica's is its master's).
    pub id: String,
    /// The replication offset.
    pub offset: u64,
}

/// Where encoded bytes go: a buffer, drained to a file when there is one,
/// with the running CRC.
pub struct Out {
    buf: Vec<u8>,
    file: Option<File>,
    /// A stream instead of a file (a diskless sync's sockets).
    stream: Option<Box<dyn Write>>,
    crc: u64,
    checksum: bool,
    written: u64,
    synced: u64,
    incremental_fsync: bool,
    compression: bool,
}

impl Out {
    /// An in-memory sink (DUMP).
    pub fn memory(compression: bool) -> Out {
        Out {
            buf: Vec::new(),
            file: None,
            stream: None,
            crc: 0,
            checksum: true,
            written: 0,
            synced: 0,
            incremental_fsync: false,
            compression,
        }
    }

    pub(crate) fn raw(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    fn byte(&mut self, b: u8) {
        self.buf.push(b);
    }

    /// Redis's `rdbSaveLen`.
    pub fn len(&mut self, n: u64) {
        if n < 1 << 6 {
            self.byte(n as u8);
        } else if n < 1 << 14 {
            self.byte(0x40 | (n >> 8) as u8);
            self.byte(n as u8);
        } else if n <= u32::MAX as u64 {
            self.byte(0x80);
            self.raw(&(n as u32).to_be_bytes());
        } else {
            self.byte(0x81);
            self.raw(&n.to_be_bytes());
        }
    }

    /// Redis's `rdbSaveRawString`: an integer encoding when the string is
    /// a small canonical integer, LZF when enabled and it saves at least
    /// 4 bytes, the bytes otherwise.
    pub fn string(&mut self, s: &[u8]) {
        if s.len() <= 11 {
            if let Some(v) = parse_i64(s) {
                if self.try_int(v) {
                    return;
                }
            }
        }
        if self.compression && s.len() > 20 {
            let mut out = vec![0u8; s.len() - 4];
            if let Some(n) = lzf::compress(s, &mut out) {
                self.byte(0xC3);
                self.len(n as u64);
                self.len(s.len() as u64);
                self.raw(&out[..n]);
                return;
            }
        }
        self.len(s.len() as u64);
        self.raw(s);
    }

    /// An integer as a string: an INT8/16/32 encoding, or its text.
    pub fn string_int(&mut self, v: i64) {
        if !self.try_int(v) {
            let mut b = [0u8; MAX_I64_LEN];
            let t = fmt_i64(v, &mut b);
            self.len(t.len() as u64);
            self.raw(t);
        }
    }

    fn try_int(&mut self, v: i64) -> bool {
        if let Ok(x) = i8::try_from(v) {
            self.byte(0xC0);
            self.raw(&x.to_le_bytes());
        } else if let Ok(x) = i16::try_from(v) {
            self.byte(0xC1);
            self.raw(&x.to_le_bytes());
        } else if let Ok(x) = i32::try_from(v) {
            self.byte(0xC2);
            self.raw(&x.to_le_bytes());
        } else {
            return false;
        }
        true
    }

    pub(crate) fn maybe_flush(&mut self) -> io::Result<()> {
        if (self.file.is_some() || self.stream.is_some()) && self.buf.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.checksum {
            self.crc = crc64::update(self.crc, &self.buf);
        }
        if let Some(f) = self.file.as_mut() {
            f.write_all(&self.buf)?;
            self.written += self.buf.len() as u64;
            self.buf.clear();
            if self.incremental_fsync && self.written - self.synced >= AUTOSYNC_BYTES {
                f.sync_data()?;
                self.synced = self.written;
            }
        } else if let Some(w) = self.stream.as_mut() {
            w.write_all(&self.buf)?;
            self.written += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }

    /// The bytes of an in-memory sink.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// The RDB type byte of `v`, as Redis's `rdbSaveObjectType`.
pub fn value_type(v: &Value) -> u8 {
    match v.view() {
        ValueRef::Str(_) => rtype::STRING,
        ValueRef::List(_) => rtype::LIST_QUICKLIST_2,
        ValueRef::Set(s) => {
            if s.is_intset() {
                rtype::SET_INTSET
            } else {
                rtype::SET
            }
        }
        ValueRef::Zset(z) => {
            if z.is_packed() {
                rtype::ZSET_LISTPACK
            } else {
                rtype::ZSET_2
            }
        }
        ValueRef::Hash(h) => {
            if h.is_packed() {
                rtype::HASH_LISTPACK
            } else {
                rtype::HASH
            }
        }
        ValueRef::Stream(_) => rtype::STREAM_LISTPACKS_2,
    }
}

/// A score as Redis's `d2string` writes it into a listpack.
fn push_score(lp: &mut ListpackBuilder, s: f64) {
    if s == 0.0 && s.is_sign_negative() {
        lp.push_str(b"-0");
    } else if s.fract() == 0.0 && s.abs() < (1u64 << 53) as f64 {
        lp.push_int(s as i64);
    } else if s.is_infinite() {
        lp.push_str(if s > 0.0 { b"inf" } else { b"-inf" });
    } else {
        lp.push_str(crate::util::num::fmt_f64_g17(s).as_bytes());
    }
}

/// Writes `v`'s payload (without its type byte), as Redis's `rdbSaveObject`.
pub fn write_value(o: &mut Out, v: &Value) -> io::Result<()> {
    match v.view() {
        // STREAMS: RDB_TYPE_STREAM_LISTPACKS_2, as Redis 7.0 writes it.
        ValueRef::Stream(s) => super::stream::write(o, s)?,
        ValueRef::Str(s) => {
            // A long value goes straight out, without building a copy.
            o.string(s);
        }
        ValueRef::List(l) => {
            // Nodes: a listpack of up to 8 KB, or a plain node for an
            // element past the packed threshold.
            let threshold = crate::db::list::packed_threshold();
            let mut nodes: Vec<(bool, Vec<u8>)> = Vec::new();
            let mut lp = ListpackBuilder::new();
            for e in l.iter() {
                if e.len() >= threshold {
                    if !lp.is_empty() {
                        nodes.push((false, std::mem::take(&mut lp).finish()));
                    }
                    nodes.push((true, e.into_owned()));
                    continue;
                }
                if !lp.is_empty() && lp.bytes() + e.len() + 11 > LIST_NODE_BYTES {
                    nodes.push((false, std::mem::take(&mut lp).finish()));
                }
                lp.push(&e);
            }
            if !lp.is_empty() {
                nodes.push((false, lp.finish()));
            }
            o.len(nodes.len() as u64);
            for (plain, b) in nodes {
                o.len(if plain { 1 } else { 2 });
                o.string(&b);
                o.maybe_flush()?;
            }
        }
        ValueRef::Set(s) => match s {
            Set::Ints(i) => o.string(&intset_blob((0..i.len()).map(|k| i.get(k)), i.width())),
            Set::Table(_) => {
                o.len(s.len() as u64);
                let mut b = [0u8; MAX_I64_LEN];
                for m in s.iter() {
                    o.string(m.bytes(&mut b));
                    o.maybe_flush()?;
                }
            }
        },
        ValueRef::Zset(z) => {
            if z.is_packed() {
                let mut lp = ListpackBuilder::new();
                for (m, s) in z.iter() {
                    lp.push(m);
                    push_score(&mut lp, s);
                }
                o.string(&lp.finish());
            } else {
                o.len(z.len() as u64);
                for (m, s) in z.iter() {
                    o.string(m);
                    o.raw(&s.to_le_bytes());
                    o.maybe_flush()?;
                }
            }
        }
        ValueRef::Hash(h) => {
            if h.is_packed() {
                let mut lp = ListpackBuilder::new();
                for (f, v) in h.iter() {
                    lp.push(f);
                    lp.push(v);
                }
                o.string(&lp.finish());
            } else {
                o.len(h.len() as u64);
                for (f, v) in h.iter() {
                    o.string(f);
                    o.string(v);
                    o.maybe_flush()?;
                }
            }
        }
    }
    Ok(())
}

fn aux(o: &mut Out, k: &str, v: &[u8]) {
    o.byte(opcode::AUX);
    o.string(k.as_bytes());
    o.string(v);
}

/// Writes the whole dataset to `path` (created or truncated) and fsyncs
/// it. Returns its size and the number of keys.
pub fn write_file(dbs: &[&Db], path: &Path, opts: &SaveOptions) -> io::Result<(u64, u64)> {
    let mut o = Out {
        buf: Vec::with_capacity(FLUSH_AT * 2),
        file: Some(File::create(path)?),
        stream: None,
        crc: 0,
        checksum: opts.checksum,
        written: 0,
        synced: 0,
        incremental_fsync: opts.incremental_fsync,
        compression: opts.compression,
    };
    let keys = write_dataset(&mut o, dbs, opts)?;
    o.flush()?;
    let crc = if opts.checksum { o.crc } else { 0 };
    o.raw(&crc.to_le_bytes());
    let checksum = o.checksum;
    o.checksum = false;
    o.flush()?;
    o.checksum = checksum;
    let f = o.file.take().ok_or_else(|| io::Error::other("no file"))?;
    f.sync_all()?;
    Ok((o.written, keys))
}

/// Writes the whole dataset, checksum included, to `w` as it is encoded
/// (a diskless sync's child writing to the replicas). Returns the bytes
/// written and the number of keys.
pub fn write_to(dbs: &[&Db], w: Box<dyn Write>, opts: &SaveOptions) -> io::Result<(u64, u64)> {
    let mut o = Out {
        buf: Vec::with_capacity(FLUSH_AT * 2),
        file: None,
        stream: Some(w),
        crc: 0,
        checksum: opts.checksum,
        written: 0,
        synced: 0,
        incremental_fsync: false,
        compression: opts.compression,
    };
    let keys = write_dataset(&mut o, dbs, opts)?;
    o.flush()?;
    let crc = if opts.checksum { o.crc } else { 0 };
    o.checksum = false;
    o.raw(&crc.to_le_bytes());
    o.flush()?;
    if let Some(w) = o.stream.as_mut() {
        w.flush()?;
    }
    Ok((o.written, keys))
}

/// The whole dataset as an RDB file in memory, checksum included: what a
/// master sends a replica in a full resync.
pub fn dataset_bytes(dbs: &[&Db], opts: &SaveOptions) -> io::Result<(Vec<u8>, u64)> {
    let mut o = Out::memory(opts.compression);
    o.checksum = opts.checksum;
    let keys = write_dataset(&mut o, dbs, opts)?;
    let crc = if opts.checksum {
        crc64::update(0, &o.buf)
    } else {
        0
    };
    o.raw(&crc.to_le_bytes());
    Ok((o.buf, keys))
}

/// The header, AUX fields, databases and EOF (not the checksum).
pub fn write_dataset(o: &mut Out, dbs: &[&Db], opts: &SaveOptions) -> io::Result<u64> {
    o.raw(format!("REDIS{RDB_VERSION:04}").as_bytes());
    aux(o, "redis-ver", super::REDIS_VER.as_bytes());
    aux(o, "redis-bits", b"64");
    let now_ms = crate::util::time::unix_ms();
    let mut b = [0u8; MAX_I64_LEN];
    aux(o, "ctime", fmt_i64(now_ms / 1000, &mut b));
    aux(o, "used-mem", fmt_i64(opts.used_mem as i64, &mut b));
    if let Some(r) = &opts.repl {
        aux(o, "repl-stream-db", fmt_i64(r.stream_db as i64, &mut b));
        aux(o, "repl-id", r.id.as_bytes());
        aux(o, "repl-offset", fmt_i64(r.offset as i64, &mut b));
    }
    aux(o, "aof-base", if opts.aof_base { b"1" } else { b"0" });
    write_functions(o, &opts.functions);
    let mut keys = 0u64;
    let lru_now = crate::db::lru::clock();
    for (i, db) in dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        o.byte(opcode::SELECTDB);
        o.len(i as u64);
        o.byte(opcode::RESIZEDB);
        o.len(db.dict.len() as u64);
        o.len(db.expires.len() as u64);
        for (key, value) in db.dict.iter() {
            let meta = db.dict.meta(key).unwrap_or(0);
            let km = KeyMeta {
                expire_ms: db.expire_of(key),
                idle_secs: match opts.access {
                    AccessInfo::Idle => Some(crate::db::lru::idle_ms(meta, lru_now) / 1000),
                    _ => None,
                },
                freq: match opts.access {
                    AccessInfo::Freq => Some(crate::db::lru::lfu_decr_and_return(meta) as u8),
                    _ => None,
                },
            };
            write_key(o, key, value, &km)?;
            o.maybe_flush()?;
            keys += 1;
            key_delay(opts.key_delay_us, keys);
        }
    }
    o.byte(opcode::EOF);
    Ok(keys)
}

/// The function libraries, as Redis's `rdbSaveFunctions`: each library's
/// code after RDB_OPCODE_FUNCTION2.
pub fn write_functions(o: &mut Out, codes: &[Vec<u8>]) {
    for code in codes {
        o.byte(opcode::FUNCTION2);
        o.string(code);
    }
}

/// One key, as Redis's `rdbSaveKeyValuePair`.
pub fn write_key(o: &mut Out, key: &[u8], v: &Value, m: &KeyMeta) -> io::Result<()> {
    if let Some(ms) = m.expire_ms {
        o.byte(opcode::EXPIRETIME_MS);
        o.raw(&ms.to_le_bytes());
    }
    if let Some(idle) = m.idle_secs {
        o.byte(opcode::IDLE);
        o.len(idle);
    }
    if let Some(f) = m.freq {
        o.byte(opcode::FREQ);
        o.byte(f);
    }
    o.byte(value_type(v));
    o.string(key);
    write_value(o, v)
}

/// A DUMP payload: the type, the value, the RDB version (2 bytes LE) and
/// the CRC64 of all that (8 bytes LE), as Redis's `createDumpPayload`.
pub fn dump_payload(v: &Value, compression: bool) -> Vec<u8> {
    let mut o = Out::memory(compression);
    o.byte(value_type(v));
    // In memory nothing can fail.
    let _ = write_value(&mut o, v);
    let mut b = o.into_bytes();
    b.extend_from_slice(&(RDB_VERSION as u16).to_le_bytes());
    let crc = crc64::update(0, &b);
    b.extend_from_slice(&crc.to_le_bytes());
    b
}

/// A FUNCTION DUMP payload: each library as RDB_OPCODE_FUNCTION2 and its
/// code, then the RDB version (2 bytes LE) and the CRC64 of all that (8
/// bytes LE), as Redis's `functionDumpCommand`.
pub fn function_payload(codes: &[Vec<u8>], compression: bool) -> Vec<u8> {
    let mut o = Out::memory(compression);
    write_functions(&mut o, codes);
    let mut b = o.into_bytes();
    b.extend_from_slice(&(RDB_VERSION as u16).to_le_bytes());
    let crc = crc64::update(0, &b);
    b.extend_from_slice(&crc.to_le_bytes());
    b
}

fn key_delay(us: i32, keys: u64) {
    let sleep = match us {
        0 => return,
        n if n > 0 => n as u32,
        n if keys % (n.unsigned_abs() as u64) == 0 => 1,
        _ => return,
    };
    // SAFETY: usleep has no memory-safety preconditions.
    unsafe {
        libc::usleep(sleep);
    }
}
