//! Streams in RDB, as Redis 7.0's `rdb.c` writes and reads them
//! (`RDB_TYPE_STREAM_LISTPACKS_2`, and the 6.x `RDB_TYPE_STREAM_LISTPACKS`
//! on load).
//!
//! The value is: the number of nodes, then each node as two strings, its
//! master ID (16 bytes, milliseconds then sequence, big-endian) and its
//! listpack; the length, the last ID, the first ID, the max deleted ID and
//! the entries added (the last three only in type 19); then the groups,
//! each with its name, last ID, entries read (type 19), its pending
//! entries (raw 16-byte ID, delivery time as 8 little-endian bytes,
//! delivery count) and its consumers (name, seen time, and the raw IDs of
//! their pending entries).
//!
//! A node's listpack is `t_stream.c`'s: the master entry (live count,
//! deleted count, field count, the field names, a 0), then each entry as
//! its flags (1 deleted, 2 same fields as the master), the milliseconds and
//! sequence as differences from the master ID, the field count and fields
//! unless the flags say same fields, the values, and the entry's element
//! count (`lp-count`) so iteration can walk backwards.

use std::io;

use super::loader::{RdbError, Reader};
use super::pack::{self, Elem, ListpackBuilder};
use super::rtype;
use super::writer::Out;
use crate::db::stream::{Consumer, Group, Nack, Stream, StreamId};

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;

fn raw_id(id: StreamId) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&id.ms.to_be_bytes());
    b[8..].copy_from_slice(&id.seq.to_be_bytes());
    b
}

fn id_of(b: &[u8]) -> Option<StreamId> {
    if b.len() != 16 {
        return None;
    }
    let ms = u64::from_be_bytes(b[..8].try_into().ok()?);
    let seq = u64::from_be_bytes(b[8..].try_into().ok()?);
    Some(StreamId::new(ms, seq))
}

fn save_id(o: &mut Out, id: StreamId) {
    o.len(id.ms);
    o.len(id.seq);
}

/// Writes a stream's payload (Redis's `rdbSaveObject`, stream branch).
pub fn write(o: &mut Out, s: &Stream) -> io::Result<()> {
    write_as(o, s, false)
}

/// The payload as type 19, or as 6.x's type 15 when `legacy` (no first
/// ID, max deleted ID, entries added or entries read; tests).
fn write_as(o: &mut Out, s: &Stream, legacy: bool) -> io::Result<()> {
    o.len(s.node_count() as u64);
    for node in s.raw_nodes() {
        let mut lp = ListpackBuilder::new();
        lp.push_int(node.live as i64);
        lp.push_int(node.deleted as i64);
        lp.push_int(node.master_fields.len() as i64);
        for f in node.master_fields {
            lp.push(f);
        }
        lp.push_int(0);
        for e in &node.entries {
            let same = e.same_fields();
            let mut flags = 0;
            if e.is_deleted() {
                flags |= FLAG_DELETED;
            }
            if same {
                flags |= FLAG_SAMEFIELDS;
            }
            lp.push_int(flags);
            lp.push_int(e.id.ms.wrapping_sub(node.master.ms) as i64);
            lp.push_int(e.id.seq.wrapping_sub(node.master.seq) as i64);
            let fields = e.fields();
            let n = fields.len() as i64;
            if same {
                for (_, v) in &fields {
                    lp.push(v);
                }
                lp.push_int(n + 3);
            } else {
                lp.push_int(n);
                for (f, v) in &fields {
                    lp.push(f);
                    lp.push(v);
                }
                lp.push_int(2 * n + 4);
            }
        }
        o.string(&raw_id(node.master));
        o.string(&lp.finish());
        o.maybe_flush()?;
    }
    o.len(s.len());
    save_id(o, s.last_id);
    if !legacy {
        save_id(o, s.first_id);
        save_id(o, s.max_deleted_id);
        o.len(s.entries_added);
    }
    o.len(s.groups.len() as u64);
    for (name, g) in &s.groups {
        o.string(name);
        save_id(o, g.last_id);
        // -1 (entries read unknown) goes out as Redis writes it: the
        // 64-bit length u64::MAX.
        if !legacy {
            o.len(g.entries_read as u64);
        }
        o.len(g.pel.len() as u64);
        for (id, nack) in &g.pel {
            o.raw(&raw_id(*id));
            o.raw(&nack.delivery_time.to_le_bytes());
            o.len(nack.delivery_count);
        }
        o.len(g.consumers.len() as u64);
        for (cname, c) in &g.consumers {
            o.string(cname);
            o.raw(&c.seen_time.to_le_bytes());
            o.len(c.pel.len() as u64);
            for id in &c.pel {
                o.raw(&raw_id(*id));
            }
        }
        o.maybe_flush()?;
    }
    Ok(())
}

fn int(r: &Reader<'_>, e: Option<&Elem<'_>>) -> Result<i64, RdbError> {
    match e {
        Some(Elem::Int(v)) => Ok(*v),
        Some(Elem::Str(s)) => crate::util::num::parse_i64(s)
            .map_or_else(|| r.bad("a stream listpack integer is not one"), Ok),
        None => r.bad("a stream listpack ends inside an entry"),
    }
}

/// Decodes one node's listpack into `s`.
fn read_node(r: &Reader<'_>, s: &mut Stream, master: StreamId, lp: &[u8]) -> Result<(), RdbError> {
    let elems = pack::listpack_elems(lp).or_else(|e| r.bad(e.0))?;
    if elems.is_empty() {
        return r.bad("Empty listpack inside stream");
    }
    let owned: Vec<std::borrow::Cow<'_, [u8]>> = elems.iter().map(|e| e.bytes()).collect();
    let mut i = 0;
    let next_int = |i: &mut usize| {
        let v = int(r, elems.get(*i));
        *i += 1;
        v
    };
    let live = next_int(&mut i)?;
    let deleted = next_int(&mut i)?;
    let nmaster = next_int(&mut i)?;
    if live < 0 || deleted < 0 || nmaster < 0 || nmaster as usize > elems.len() {
        return r.bad("a stream node's master entry is malformed");
    }
    let nmaster = nmaster as usize;
    if i + nmaster >= elems.len() {
        return r.bad("a stream node's master entry is truncated");
    }
    let master_fields: Vec<&[u8]> = owned[i..i + nmaster].iter().map(|c| &c[..]).collect();
    i += nmaster;
    if next_int(&mut i)? != 0 {
        return r.bad("a stream node's master entry lacks its terminator");
    }
    let mut entries = Vec::new();
    let mut prev: Option<StreamId> = None;
    let (mut seen_live, mut seen_deleted) = (0i64, 0i64);
    while i < elems.len() {
        let flags = next_int(&mut i)?;
        let ms = master.ms.wrapping_add(next_int(&mut i)? as u64);
        let seq = master.seq.wrapping_add(next_int(&mut i)? as u64);
        let id = StreamId::new(ms, seq);
        if id < master || prev.is_some_and(|p| id <= p) {
            return r.bad("stream entries out of order in a node");
        }
        prev = Some(id);
        let same = flags & FLAG_SAMEFIELDS != 0;
        let n = if same {
            nmaster
        } else {
            let n = next_int(&mut i)?;
            if n < 0 || n as usize > elems.len() {
                return r.bad("a stream entry's field count is malformed");
            }
            n as usize
        };
        let width = if same { n } else { 2 * n };
        if i + width >= elems.len() {
            return r.bad("a stream entry is truncated");
        }
        let fields: Vec<(&[u8], &[u8])> = if same {
            master_fields
                .iter()
                .zip(&owned[i..i + n])
                .map(|(f, v)| (*f, &v[..]))
                .collect()
        } else {
            owned[i..i + width]
                .chunks_exact(2)
                .map(|p| (&p[0][..], &p[1][..]))
                .collect()
        };
        i += width;
        let lp_count = next_int(&mut i)?;
        let expect = if same { n as i64 + 3 } else { 2 * n as i64 + 4 };
        if lp_count != expect {
            return r.bad("a stream entry's lp-count does not match it");
        }
        let del = flags & FLAG_DELETED != 0;
        if del {
            seen_deleted += 1;
        } else {
            seen_live += 1;
        }
        entries.push((id, del, fields));
    }
    if seen_live != live || seen_deleted != deleted {
        return r.bad("a stream node's counts do not match its entries");
    }
    s.push_raw_node(master, &master_fields, &entries);
    Ok(())
}

fn load_id(r: &mut Reader<'_>) -> Result<StreamId, RdbError> {
    let ms = r.length()?;
    let seq = r.length()?;
    Ok(StreamId::new(ms, seq))
}

fn load_raw_id(r: &mut Reader<'_>) -> Result<StreamId, RdbError> {
    let b = r.take(16)?;
    id_of(b).map_or_else(|| r.bad("a stream ID"), Ok)
}

fn load_ms(r: &mut Reader<'_>) -> Result<i64, RdbError> {
    Ok(i64::from_le_bytes(r.arr()?))
}

/// Reads a stream of type `t` (Redis's `rdbLoadObject`, stream branch).
pub fn read(r: &mut Reader<'_>, t: u8) -> Result<Stream, RdbError> {
    let mut s = Stream::new();
    let nodes = r.count()?;
    let mut last_master: Option<StreamId> = None;
    for _ in 0..nodes {
        let key = r.string()?;
        let Some(master) = id_of(&key) else {
            return r.bad("Stream node key entry is not the size of a stream ID");
        };
        if last_master.is_some_and(|m| master <= m) {
            return r.bad("Duplicate or unordered stream node keys");
        }
        last_master = Some(master);
        let lp = r.string()?;
        read_node(r, &mut s, master, &lp)?;
    }
    let length = r.length()?;
    if length != s.counted_len() {
        return r.bad("the stream length does not match its entries");
    }
    s.set_len(length);
    s.last_id = load_id(r)?;
    if t == rtype::STREAM_LISTPACKS_2 {
        s.first_id = load_id(r)?;
        s.max_deleted_id = load_id(r)?;
        s.entries_added = r.length()?;
    } else {
        // 6.x: as Redis 7.0 migrates it, the entries added are the length,
        // no tombstones are known, and the first ID is the first entry's.
        s.max_deleted_id = StreamId::MIN;
        s.entries_added = length;
        s.first_id = s.edge(false).unwrap_or(StreamId::MIN);
    }
    let ngroups = r.count()?;
    for _ in 0..ngroups {
        let name: Box<[u8]> = Box::from(&r.string()?[..]);
        let last_id = load_id(r)?;
        let entries_read = if t == rtype::STREAM_LISTPACKS_2 {
            r.length()? as i64
        } else {
            s.estimate_distance(last_id)
        };
        if s.groups.contains_key(&name) {
            return r.bad("Duplicated consumer group name");
        }
        let mut g = Group::new(last_id, entries_read);
        let npel = r.count()?;
        for _ in 0..npel {
            let id = load_raw_id(r)?;
            let delivery_time = load_ms(r)?;
            let delivery_count = r.length()?;
            let nack = Nack {
                delivery_time,
                delivery_count,
                consumer: Box::from(&b""[..]),
            };
            if g.pel.insert(id, nack).is_some() {
                return r.bad("Duplicated global PEL entry loading stream consumer group");
            }
        }
        let nconsumers = r.count()?;
        let mut owned = std::collections::BTreeSet::new();
        for _ in 0..nconsumers {
            let cname: Box<[u8]> = Box::from(&r.string()?[..]);
            if g.consumers.contains_key(&cname) {
                return r.bad("Duplicate stream consumer detected");
            }
            let mut c = Consumer {
                seen_time: load_ms(r)?,
                ..Consumer::default()
            };
            let n = r.count()?;
            for _ in 0..n {
                let id = load_raw_id(r)?;
                let Some(nack) = g.pel.get_mut(&id) else {
                    return r.bad("Consumer entry not found in group global PEL");
                };
                nack.consumer = cname.clone();
                owned.insert(id);
                if !c.pel.insert(id) {
                    return r.bad("Duplicated consumer PEL entry loading a stream consumer group");
                }
            }
            g.consumers.insert(cname, c);
        }
        if owned.len() != g.pel.len() {
            return r.bad("Stream CG PEL entry without consumer");
        }
        s.groups.insert(name, g);
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::stream::StreamLimits;

    const L: StreamLimits = StreamLimits {
        max_bytes: 4096,
        max_entries: 100,
    };

    fn sample() -> Stream {
        let mut s = Stream::new();
        for i in 1..=150u64 {
            let v = i.to_string();
            s.append(StreamId::new(i, 7), &[(b"f", v.as_bytes())], L);
        }
        s.xdel(&[StreamId::new(1, 7), StreamId::new(40, 7)]);
        let mut g = Group::new(StreamId::new(3, 7), 2);
        for (id, c) in [(2u64, &b"a"[..]), (3, b"b")] {
            g.pel.insert(
                StreamId::new(id, 7),
                Nack {
                    delivery_time: 1_700_000_000_000 + id as i64,
                    delivery_count: id,
                    consumer: Box::from(c),
                },
            );
            let mut cons = Consumer {
                seen_time: 5,
                ..Consumer::default()
            };
            cons.pel.insert(StreamId::new(id, 7));
            g.consumers.insert(Box::from(c), cons);
        }
        s.groups.insert(Box::from(&b"g"[..]), g);
        s
    }

    fn ids(s: &Stream) -> Vec<StreamId> {
        let mut v = Vec::new();
        s.range(StreamId::MIN, StreamId::MAX, false, |id, _| {
            v.push(id);
            true
        });
        v
    }

    fn round_trip(legacy: bool) -> (Stream, Stream) {
        let s = sample();
        let mut o = Out::memory(true);
        write_as(&mut o, &s, legacy).unwrap();
        let b = o.into_bytes();
        let t = if legacy {
            rtype::STREAM_LISTPACKS
        } else {
            rtype::STREAM_LISTPACKS_2
        };
        let mut r = Reader::new(&b);
        let back = read(&mut r, t).unwrap();
        assert_eq!(r.pos(), b.len());
        (s, back)
    }

    #[test]
    fn type_19_round_trips() {
        let (s, back) = round_trip(false);
        assert_eq!(ids(&back), ids(&s));
        assert_eq!(back.node_count(), s.node_count());
        assert_eq!(back.len(), 148);
        assert_eq!(back.first_id, StreamId::new(2, 7));
        assert_eq!(back.max_deleted_id, StreamId::new(40, 7));
        assert_eq!(back.entries_added, 150);
        let g = &back.groups[&b"g"[..]];
        assert_eq!(g.entries_read, 2);
        assert_eq!(&*g.pel[&StreamId::new(3, 7)].consumer, b"b");
        assert_eq!(g.pel[&StreamId::new(3, 7)].delivery_count, 3);
    }

    #[test]
    fn type_15_loads_as_redis_7_migrates_it() {
        let (s, back) = round_trip(true);
        assert_eq!(ids(&back), ids(&s));
        // No tombstones known, entries added = length, first ID found.
        assert_eq!(back.max_deleted_id, StreamId::MIN);
        assert_eq!(back.entries_added, 148);
        assert_eq!(back.first_id, StreamId::new(2, 7));
        // Entries read estimated (`streamEstimateDistanceFromFirstEverEntry`):
        // 3-7 is past the first entry, so unknown, as in Redis.
        assert_eq!(back.groups[&b"g"[..]].entries_read, -1);
    }

    #[test]
    fn a_pending_entry_without_its_consumer_is_refused() {
        let mut s = sample();
        if let Some(g) = s.groups.get_mut(&b"g"[..]) {
            g.consumers.remove(&b"a"[..]);
        }
        let mut o = Out::memory(false);
        write(&mut o, &s).unwrap();
        let b = o.into_bytes();
        let e = read(&mut Reader::new(&b), rtype::STREAM_LISTPACKS_2).unwrap_err();
        assert!(e.to_string().contains("PEL entry without consumer"), "{e}");
    }
}
