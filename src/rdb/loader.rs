//! Reading RDB files and DUMP payloads: every type and encoding Redis 7.0
//! reads (strings in their int and LZF forms; lists as quicklist 2,
//! quicklist of ziplists, ziplist and linked list; sets as intset or
//! table; sorted sets as listpack, ziplist, or skip list with binary or text
//! scores; hashes as listpack, ziplist, zipmap or table), AUX fields,
//! streams (7.0's type 19 and 6.x's type 15), expiry and LRU/LFU opcodes.
//! Module values are refused with a message naming them. Function libraries
//! (RDB_OPCODE_FUNCTION2) are returned as code, for the caller to load into
//! the scripting engine.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

use super::pack::{self, Elem};
use super::{crc64, opcode, rtype, KeyMeta, Limits, RDB_VERSION};
use crate::db::hash::Hash;
use crate::db::list::{End, List};
use crate::db::set::Set;
use crate::db::value::Value;
use crate::db::zset::Zset;
use crate::db::Db;
use crate::util::lzf;
use crate::util::num::{fmt_i64, MAX_I64_LEN};

/// Why a file or payload did not load.
#[derive(Debug)]
pub enum RdbError {
    /// It could not be read.
    Io(std::io::Error),
    /// Not an RDB file (no `REDIS` signature) or a version past ours.
    Format(String),
    /// Malformed at `offset`.
    Corrupt {
        /// Byte offset of the problem.
        offset: usize,
        /// What is wrong.
        what: String,
    },
    /// The stored checksum does not match the contents.
    Checksum {
        /// The CRC stored in the file.
        expected: u64,
        /// The CRC of the contents.
        got: u64,
    },
    /// Well formed, but holds something GoStore cannot load.
    Unsupported(String),
    /// Stopped by the caller (SHUTDOWN while loading).
    Aborted,
}

impl fmt::Display for RdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RdbError::Io(e) => write!(f, "{e}"),
            RdbError::Format(m) => write!(f, "{m}"),
            RdbError::Corrupt { offset, what } => {
                write!(f, "Bad file format at offset {offset}: {what}")
            }
            RdbError::Checksum { expected, got } => write!(
                f,
                "Wrong RDB checksum expected: ({expected:x}) got ({got:x})"
            ),
            RdbError::Unsupported(m) => write!(f, "{m}"),
            RdbError::Aborted => write!(f, "Loading stopped: the server is shutting down"),
        }
    }
}

impl std::error::Error for RdbError {}

type Res<T> = Result<T, RdbError>;

/// A cursor over RDB bytes.
pub struct Reader<'a> {
    b: &'a [u8],
    p: usize,
}

impl<'a> Reader<'a> {
    /// Reads `b` from its start.
    pub fn new(b: &'a [u8]) -> Reader<'a> {
        Reader { b, p: 0 }
    }

    /// Bytes consumed.
    pub fn pos(&self) -> usize {
        self.p
    }

    pub(crate) fn bad<T>(&self, what: impl Into<String>) -> Res<T> {
        Err(RdbError::Corrupt {
            offset: self.p,
            what: what.into(),
        })
    }

    pub(crate) fn take(&mut self, n: usize) -> Res<&'a [u8]> {
        match self.p.checked_add(n).and_then(|e| self.b.get(self.p..e)) {
            Some(s) => {
                self.p += n;
                Ok(s)
            }
            None => self.bad("unexpected end of data (the file is truncated)"),
        }
    }

    fn u8(&mut self) -> Res<u8> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn arr<const N: usize>(&mut self) -> Res<[u8; N]> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// A length, or the special encoding it names (`rdbLoadLenByRef`).
    fn len_enc(&mut self) -> Res<(u64, bool)> {
        let c = self.u8()?;
        Ok(match c >> 6 {
            0 => ((c & 0x3F) as u64, false),
            1 => ((((c & 0x3F) as u64) << 8) | self.u8()? as u64, false),
            2 if c == 0x80 => (u32::from_be_bytes(self.arr()?) as u64, false),
            2 if c == 0x81 => (u64::from_be_bytes(self.arr()?), false),
            2 => return self.bad(format!("unknown length encoding {c:#x}")),
            _ => ((c & 0x3F) as u64, true),
        })
    }

    /// A plain length.
    pub fn length(&mut self) -> Res<u64> {
        match self.len_enc()? {
            (n, false) => Ok(n),
            _ => self.bad("an encoded string where a length belongs"),
        }
    }

    /// A length used as a count of things that follow (bounded by what is
    /// left, so a corrupt count does not reserve memory).
    pub(crate) fn count(&mut self) -> Res<usize> {
        let n = self.length()?;
        if n > (self.b.len() - self.p) as u64 {
            return self.bad(format!(
                "a count of {n} past the end of the data (the file is truncated or damaged)"
            ));
        }
        Ok(n as usize)
    }

    /// A string in any of its encodings (`rdbGenericLoadStringObject`).
    pub fn string(&mut self) -> Res<Cow<'a, [u8]>> {
        let (n, enc) = self.len_enc()?;
        if !enc {
            let n = usize::try_from(n).or_else(|_| self.bad("string too long"))?;
            return Ok(Cow::Borrowed(self.take(n)?));
        }
        let v = match n {
            0 => self.u8()? as i8 as i64,
            1 => i16::from_le_bytes(self.arr()?) as i64,
            2 => i32::from_le_bytes(self.arr()?) as i64,
            3 => {
                let clen = self.length()? as usize;
                let ulen = self.length()? as usize;
                let at = self.p;
                let c = self.take(clen)?;
                if ulen > 1 << 32 {
                    return self.bad("LZF string too long");
                }
                let mut out = vec![0u8; ulen];
                return match lzf::decompress(c, &mut out) {
                    Ok(k) if k == ulen && ulen > 0 => Ok(Cow::Owned(out)),
                    _ => Err(RdbError::Corrupt {
                        offset: at,
                        what: "invalid LZF compressed string".into(),
                    }),
                };
            }
            _ => return self.bad(format!("unknown string encoding {n}")),
        };
        let mut b = [0u8; MAX_I64_LEN];
        Ok(Cow::Owned(fmt_i64(v, &mut b).to_vec()))
    }

    /// A score in the old text form (RDB_TYPE_ZSET).
    fn text_double(&mut self) -> Res<f64> {
        match self.u8()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let s = self.take(n as usize)?;
                match std::str::from_utf8(s).ok().and_then(|t| t.parse().ok()) {
                    Some(v) => Ok(v),
                    None => self.bad("invalid double"),
                }
            }
        }
    }
}

fn parse_score(r: &Reader<'_>, e: &Elem<'_>) -> Res<f64> {
    match e {
        Elem::Int(v) => Ok(*v as f64),
        Elem::Str(s) => match std::str::from_utf8(s)
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
        {
            Some(v) if !v.is_nan() => Ok(v),
            _ => r.bad("invalid score in a packed sorted set"),
        },
    }
}

fn pack_err<T>(r: &Reader<'_>, at: usize, e: pack::BadPack) -> Res<T> {
    let _ = r;
    Err(RdbError::Corrupt {
        offset: at,
        what: e.0.to_string(),
    })
}

/// Reads the value of RDB type `t` (`rdbLoadObject`), building it under
/// `lim` as the write commands would. `None`: an empty value, which Redis
/// skips too.
pub fn read_value(r: &mut Reader<'_>, t: u8, lim: &Limits) -> Res<Option<Value>> {
    let v = match t {
        rtype::STRING => {
            let s = r.string()?;
            return Ok(Some(match s {
                Cow::Borrowed(b) => Value::string(b),
                Cow::Owned(v) => Value::from_vec(v),
            }));
        }
        rtype::LIST => {
            let n = r.count()?;
            let mut l = List::new();
            for _ in 0..n {
                l.push(End::Tail, &r.string()?, lim.list);
            }
            (!l.is_empty()).then(|| Value::list(l))
        }
        rtype::LIST_ZIPLIST | rtype::LIST_QUICKLIST | rtype::LIST_QUICKLIST_2 => {
            let nodes = if t == rtype::LIST_ZIPLIST {
                1
            } else {
                r.count()?
            };
            let mut l = List::new();
            for _ in 0..nodes {
                let container = if t == rtype::LIST_QUICKLIST_2 {
                    r.length()?
                } else {
                    2
                };
                let at = r.pos();
                let blob = r.string()?;
                match container {
                    1 => l.push(End::Tail, &blob, lim.list),
                    2 => {
                        let elems = if t == rtype::LIST_QUICKLIST_2 {
                            pack::listpack_elems(&blob)
                        } else {
                            pack::ziplist_elems(&blob)
                        };
                        let elems = elems.or_else(|e| pack_err(r, at, e))?;
                        if elems.is_empty() && t == rtype::LIST_QUICKLIST_2 {
                            return Err(RdbError::Corrupt {
                                offset: at,
                                what: "empty listpack in a list".into(),
                            });
                        }
                        for e in elems {
                            l.push(End::Tail, &e.bytes(), lim.list);
                        }
                    }
                    c => return r.bad(format!("unknown quicklist node container {c}")),
                }
            }
            (!l.is_empty()).then(|| Value::list(l))
        }
        rtype::SET => {
            let n = r.count()?;
            let mut s = Set::default();
            if n > lim.intset {
                s.convert_to_table();
            }
            for _ in 0..n {
                let m = r.string()?;
                if !s.add(&m, lim.intset) {
                    return r.bad("duplicate set members");
                }
            }
            (!s.is_empty()).then(|| Value::set(s))
        }
        rtype::SET_INTSET => {
            let at = r.pos();
            let blob = r.string()?;
            let vals = pack::intset_values(&blob).or_else(|e| pack_err(r, at, e))?;
            let mut s = Set::default();
            let mut b = [0u8; MAX_I64_LEN];
            for v in vals {
                s.add(fmt_i64(v, &mut b), lim.intset);
            }
            (!s.is_empty()).then(|| Value::set(s))
        }
        rtype::ZSET | rtype::ZSET_2 => {
            let n = r.count()?;
            let mut z = Zset::new();
            if n > lim.zset.max_entries {
                z.convert_to_skip();
            }
            for _ in 0..n {
                let m = r.string()?;
                let s = if t == rtype::ZSET_2 {
                    f64::from_le_bytes(r.arr()?)
                } else {
                    r.text_double()?
                };
                if s.is_nan() {
                    return r.bad("a sorted set score is NaN");
                }
                if z.set(&m, s, lim.zset).is_some() {
                    return r.bad("duplicate sorted set members");
                }
            }
            (!z.is_empty()).then(|| Value::zset(z))
        }
        rtype::ZSET_ZIPLIST | rtype::ZSET_LISTPACK => {
            let at = r.pos();
            let blob = r.string()?;
            let elems = if t == rtype::ZSET_LISTPACK {
                pack::listpack_elems(&blob)
            } else {
                pack::ziplist_elems(&blob)
            }
            .or_else(|e| pack_err(r, at, e))?;
            if elems.len() % 2 != 0 {
                return r.bad("a packed sorted set with an odd number of elements");
            }
            let mut z = Zset::new();
            for pair in elems.chunks_exact(2) {
                let s = parse_score(r, &pair[1])?;
                if z.set(&pair[0].bytes(), s, lim.zset).is_some() {
                    return r.bad("duplicate sorted set members");
                }
            }
            (!z.is_empty()).then(|| Value::zset(z))
        }
        rtype::HASH => {
            let n = r.count()?;
            let mut h = Hash::new();
            for _ in 0..n {
                let f = r.string()?;
                let v = r.string()?;
                if !h.set(&f, &v, &lim.hash) {
                    return r.bad("duplicate hash fields");
                }
            }
            (!h.is_empty()).then(|| Value::hash(h))
        }
        rtype::HASH_ZIPMAP => {
            let at = r.pos();
            let blob = r.string()?;
            let pairs = pack::zipmap_pairs(&blob).or_else(|e| pack_err(r, at, e))?;
            let mut h = Hash::new();
            for (f, v) in pairs {
                if !h.set(f, v, &lim.hash) {
                    return r.bad("duplicate hash fields");
                }
            }
            (!h.is_empty()).then(|| Value::hash(h))
        }
        rtype::HASH_ZIPLIST | rtype::HASH_LISTPACK => {
            let at = r.pos();
            let blob = r.string()?;
            let elems = if t == rtype::HASH_LISTPACK {
                pack::listpack_elems(&blob)
            } else {
                pack::ziplist_elems(&blob)
            }
            .or_else(|e| pack_err(r, at, e))?;
            if elems.len() % 2 != 0 {
                return r.bad("a packed hash with an odd number of elements");
            }
            let mut h = Hash::new();
            for pair in elems.chunks_exact(2) {
                if !h.set(&pair[0].bytes(), &pair[1].bytes(), &lim.hash) {
                    return r.bad("duplicate hash fields");
                }
            }
            (!h.is_empty()).then(|| Value::hash(h))
        }
        // STREAMS: 7.0's RDB_TYPE_STREAM_LISTPACKS_2 and 6.x's
        // RDB_TYPE_STREAM_LISTPACKS; an empty stream is a key (as in Redis).
        rtype::STREAM_LISTPACKS | rtype::STREAM_LISTPACKS_2 => {
            Some(Value::stream(super::stream::read(r, t)?))
        }
        rtype::MODULE | rtype::MODULE_2 => {
            return Err(RdbError::Unsupported(
                "The RDB data holds a module value, and GoStore has no modules".into(),
            ))
        }
        _ => return r.bad(format!("unknown value type {t}")),
    };
    Ok(v)
}

/// What a load found.
#[derive(Debug, Default, Clone)]
pub struct LoadStats {
    /// Keys loaded.
    pub keys_loaded: u64,
    /// Keys skipped because their time had passed.
    pub keys_expired: u64,
    /// Empty values skipped.
    pub empty_skipped: u64,
    /// The AUX fields, in file order.
    pub aux: Vec<(String, Vec<u8>)>,
    /// The RDB version.
    pub version: u32,
    /// The function libraries' code (RDB_OPCODE_FUNCTION2), in file order.
    pub functions: Vec<Vec<u8>>,
    /// Bytes read, the checksum included (an AOF base may go on with
    /// commands after it).
    pub end: usize,
}

/// How a load treats keys.
#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    /// Skip keys whose expiry is before this Unix ms (Redis's master
    /// rule); `None` keeps them.
    pub expire_before: Option<i64>,
    /// Whether the checksum is checked (`rdbchecksum`).
    pub check_crc: bool,
}

/// The `meta` word a loaded key gets from its IDLE/FREQ opcodes (Redis's
/// `objectSetLRUOrLFU`).
pub fn meta_for(m: &KeyMeta) -> u32 {
    use crate::db::lru;
    let mut meta = lru::new_meta();
    if lru::lfu_selected() {
        if let Some(f) = m.freq {
            meta = (meta & !0xff) | f as u32;
        }
    } else if let Some(idle) = m.idle_secs {
        let ticks = idle.saturating_mul(1000 / lru::RESOLUTION_MS as u64);
        meta = lru::clock().wrapping_sub(ticks.min(u32::MAX as u64) as u32);
    }
    meta
}

/// Loads the RDB bytes `b` into `dbs` (`rdbLoadRio`).
pub fn load_bytes(b: &[u8], dbs: &mut [Db], lim: &Limits, o: LoadOptions) -> Res<LoadStats> {
    load_bytes_with(b, dbs, lim, o, &mut |_, _, _| true)
}

/// `load_bytes` calling `each` after every key read (loaded or skipped)
/// with what was found so far, the position in `b`, and the databases
/// (`rdbLoadProgressCallback`, `key-load-delay`: see `crate::loading`);
/// `each` returning false stops the load (`RdbError::Aborted`).
pub fn load_bytes_with(
    b: &[u8],
    dbs: &mut [Db],
    lim: &Limits,
    o: LoadOptions,
    each: &mut dyn FnMut(&LoadStats, usize, &mut [Db]) -> bool,
) -> Res<LoadStats> {
    let mut r = Reader::new(b);
    let sig = r
        .take(9)
        .map_err(|_| RdbError::Format("Short read or OOM loading DB".into()))?;
    if &sig[..5] != b"REDIS" {
        return Err(RdbError::Format(
            "Wrong signature trying to load DB from file".into(),
        ));
    }
    let version: u32 = std::str::from_utf8(&sig[5..])
        .ok()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| RdbError::Format("Wrong signature trying to load DB from file".into()))?;
    if !(1..=RDB_VERSION).contains(&version) {
        return Err(RdbError::Format(format!(
            "Can't handle RDB format version {version}"
        )));
    }
    let mut st = LoadStats {
        version,
        ..LoadStats::default()
    };
    let mut db = 0usize;
    let mut meta = KeyMeta::default();
    loop {
        let t = r.u8()?;
        match t {
            opcode::EXPIRETIME => {
                meta.expire_ms = Some(u32::from_le_bytes(r.arr()?) as i64 * 1000);
                continue;
            }
            opcode::EXPIRETIME_MS => {
                meta.expire_ms = Some(i64::from_le_bytes(r.arr()?));
                continue;
            }
            opcode::IDLE => {
                meta.idle_secs = Some(r.length()?);
                continue;
            }
            opcode::FREQ => {
                meta.freq = Some(r.u8()?);
                continue;
            }
            opcode::EOF => break,
            opcode::SELECTDB => {
                let n = r.length()? as usize;
                if n >= dbs.len() {
                    return Err(RdbError::Unsupported(format!(
                        "FATAL: Data file was created with a Redis server configured to handle more than {} databases. Exiting",
                        dbs.len()
                    )));
                }
                db = n;
                continue;
            }
            opcode::RESIZEDB => {
                r.length()?;
                r.length()?;
                continue;
            }
            opcode::AUX => {
                let k = r.string()?;
                let v = r.string()?;
                st.aux
                    .push((String::from_utf8_lossy(&k).into_owned(), v.into_owned()));
                continue;
            }
            opcode::MODULE_AUX => {
                return Err(RdbError::Unsupported(
                    "The RDB file holds module data, and GoStore has no modules".into(),
                ))
            }
            opcode::FUNCTION2 => {
                st.functions.push(r.string()?.into_owned());
                continue;
            }
            opcode::FUNCTION => {
                return Err(RdbError::Unsupported(
                    "Pre-GA function format not supported".into(),
                ))
            }
            _ => {}
        }
        let key_at = r.pos();
        let key = r.string()?;
        let value = read_value(&mut r, t, lim)?;
        let m = std::mem::take(&mut meta);
        let Some(value) = value else {
            st.empty_skipped += 1;
            if !each(&st, r.pos(), dbs) {
                return Err(RdbError::Aborted);
            }
            continue;
        };
        if let (Some(when), Some(before)) = (m.expire_ms, o.expire_before) {
            if when < before {
                st.keys_expired += 1;
                if !each(&st, r.pos(), dbs) {
                    return Err(RdbError::Aborted);
                }
                continue;
            }
        }
        let d = &mut dbs[db];
        if d.dict.contains_key(&key) {
            return Err(RdbError::Corrupt {
                offset: key_at,
                what: format!(
                    "duplicated key '{}' in DB {db}",
                    String::from_utf8_lossy(&key)
                ),
            });
        }
        d.dict.insert_with_meta(&key, value, meta_for(&m));
        if let Some(when) = m.expire_ms {
            d.expires.insert(&key, when);
        }
        st.keys_loaded += 1;
        if !each(&st, r.pos(), dbs) {
            return Err(RdbError::Aborted);
        }
    }
    if version >= 5 {
        let end = r.pos();
        let stored = u64::from_le_bytes(r.arr()?);
        if o.check_crc && stored != 0 {
            let got = crc64::update(0, &b[..end]);
            if got != stored {
                return Err(RdbError::Checksum {
                    expected: stored,
                    got,
                });
            }
        }
    }
    st.end = r.pos();
    Ok(st)
}

/// Loads the file at `path` into `dbs`.
pub fn load_file(path: &Path, dbs: &mut [Db], lim: &Limits, o: LoadOptions) -> Res<LoadStats> {
    let b = std::fs::read(path).map_err(RdbError::Io)?;
    load_bytes(&b, dbs, lim, o)
}

/// The `used-mem` AUX field, when there is one and it is a number.
pub fn aux_used_mem(st: &LoadStats) -> Option<u64> {
    st.aux
        .iter()
        .find(|(k, _)| k == "used-mem")
        .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse().ok())
}

/// Why a DUMP payload was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadError {
    /// The footer's version or CRC is wrong.
    VersionOrChecksum,
    /// The value does not parse.
    BadData,
}

/// Whether a payload's footer (RDB version, CRC64) is right
/// (`verifyDumpPayload`).
fn payload_ok(p: &[u8]) -> bool {
    if p.len() < 10 {
        return false;
    }
    let footer = &p[p.len() - 10..];
    let ver = u16::from_le_bytes([footer[0], footer[1]]) as u32;
    let crc = u64::from_le_bytes(footer[2..10].try_into().unwrap_or([0; 8]));
    ver <= RDB_VERSION && crc64::update(0, &p[..p.len() - 8]) == crc
}

/// The library code in a FUNCTION DUMP payload, as Redis's
/// `functionRestoreCommand` reads it; Err(the error text, without `ERR `).
pub fn function_payload_codes(p: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if !payload_ok(p) {
        return Err("DUMP payload version or checksum are wrong".into());
    }
    let body = &p[..p.len() - 10];
    let mut r = Reader::new(body);
    let mut codes = Vec::new();
    while r.pos() < body.len() {
        let t = r.u8().map_err(|_| "can not read data type".to_string())?;
        if t == opcode::FUNCTION {
            return Err("Pre-GA function format not supported".into());
        }
        if t != opcode::FUNCTION2 {
            return Err("given type is not a function".into());
        }
        let code = r
            .string()
            .map_err(|_| "failed loading the given functions payload".to_string())?;
        codes.push(code.into_owned());
    }
    Ok(codes)
}

/// The value of a DUMP payload (`verifyDumpPayload` then `rdbLoadObject`).
pub fn load_payload(p: &[u8], lim: &Limits) -> Result<Value, PayloadError> {
    if p.len() < 10 {
        return Err(PayloadError::VersionOrChecksum);
    }
    let footer = &p[p.len() - 10..];
    let ver = u16::from_le_bytes([footer[0], footer[1]]) as u32;
    if ver > RDB_VERSION {
        return Err(PayloadError::VersionOrChecksum);
    }
    let crc = u64::from_le_bytes(footer[2..10].try_into().unwrap_or([0; 8]));
    if crc64::update(0, &p[..p.len() - 8]) != crc {
        return Err(PayloadError::VersionOrChecksum);
    }
    let body = &p[..p.len() - 10];
    let mut r = Reader::new(body);
    let t = r.u8().map_err(|_| PayloadError::BadData)?;
    match read_value(&mut r, t, lim) {
        Ok(Some(v)) => Ok(v),
        _ => Err(PayloadError::BadData),
    }
}
