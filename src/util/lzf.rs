//! LZF compression in the format of liblzf 3.6 (Redis's `lzf_c.c` and
//! `lzf_d.c`): what `compress` writes, Redis's `lzf_decompress` reads, and
//! what Redis's `lzf_compress` writes (RDB strings, compressed quicklist
//! nodes), `decompress` reads. `compress` follows lzf_c.c's choices (a
//! 16-bit hash of the next three bytes, the "very fast" re-hashing after a
//! match) so that it produces the same bytes as Redis for the same input.
//!
//! The stream is a sequence of:
//! - a literal run: a byte `n` < 32, then `n + 1` bytes copied as they are;
//! - a back reference: a byte `LLLooooo` (L = length - 2, 1..=7; 7 means a
//!   second byte adds to it), then the offset's low byte; it copies
//!   `length` bytes starting `offset + 1` bytes behind the output's end.

/// Bits of the hash table index (lzfP.h's `HLOG`).
const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
/// Longest literal run.
const MAX_LIT: usize = 1 << 5;
/// Farthest back reference.
const MAX_OFF: usize = 1 << 13;
/// Longest back reference.
const MAX_REF: usize = (1 << 8) + (1 << 3);

#[inline]
fn idx(h: u32) -> usize {
    // lzfP.h's VERY_FAST variant of IDX.
    ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
}

/// Compresses `input` into `out` (Redis's `lzf_compress`): returns the
/// bytes written, or `None` when `input` is empty or the result would not
/// fit in `out.len()` bytes (so a caller that wants a saving passes a
/// shorter `out`).
pub fn compress(input: &[u8], out: &mut [u8]) -> Option<usize> {
    let in_len = input.len();
    let out_len = out.len();
    if in_len == 0 || out_len == 0 {
        return None;
    }
    if in_len > u32::MAX as usize {
        return None;
    }
    HTAB.with(|t| {
        let mut t = t.borrow_mut();
        let (table, generation) = &mut *t;
        if table.is_empty() {
            table.resize(HSIZE, 0);
        }
        *generation = generation.wrapping_add(1);
        if *generation == 0 {
            // Wrapped: forget every slot so none looks current.
            table.fill(0);
            *generation = 1;
        }
        compress_with(table, *generation, input, out)
    })
}

thread_local! {
    /// The hash table, kept between calls so that a call costs no 512 KB
    /// clear: a slot holds `generation << 32 | position`, and only slots of
    /// the current call's generation count (lzf_c.c's table starts empty).
    static HTAB: std::cell::RefCell<(Vec<u64>, u32)> = const { std::cell::RefCell::new((Vec::new(), 0)) };
}

fn compress_with(htab: &mut [u64], generation: u32, input: &[u8], out: &mut [u8]) -> Option<usize> {
    let in_len = input.len();
    let out_len = out.len();
    let tag = (generation as u64) << 32;
    let slot_pos = |v: u64| -> usize {
        if v >> 32 == generation as u64 {
            v as u32 as usize
        } else {
            0
        }
    };
    let mut ip = 0usize;
    let mut op = 1usize; // out[op - lit - 1] is the open run's length byte
    let mut lit = 0usize;

    let frst = |p: usize| -> u32 {
        ((input[p] as u32) << 8) | input.get(p + 1).copied().unwrap_or(0) as u32
    };
    let mut hval = if in_len >= 2 { frst(0) } else { 0 };
    while in_len > 2 && ip < in_len - 2 {
        hval = (hval << 8) | input[ip + 2] as u32;
        let slot = idx(hval);
        let r = slot_pos(htab[slot]);
        htab[slot] = tag | ip as u64;
        // lzf_c.c stores `ip` itself; `r` is the referenced position, and
        // slot value 0 (position 0 or never set) is never used.
        let ok = r > 0
            && r < ip
            && ip - r - 1 < MAX_OFF
            && input[r + 2] == input[ip + 2]
            && input[r] == input[ip]
            && input[r + 1] == input[ip + 1];
        if ok {
            let off = ip - r - 1;
            let mut len = 2usize;
            let maxlen = (in_len - ip - len).min(MAX_REF);
            if op + 3 + 1 >= out_len && op - usize::from(lit == 0) + 3 + 1 >= out_len {
                return None;
            }
            out[op - lit - 1] = (lit as u8).wrapping_sub(1); // stop run
            op -= usize::from(lit == 0); // undo run if empty
            'm: {
                if maxlen > 16 {
                    for _ in 0..16 {
                        len += 1;
                        if input[r + len] != input[ip + len] {
                            break 'm;
                        }
                    }
                }
                loop {
                    len += 1;
                    if !(len < maxlen && input[r + len] == input[ip + len]) {
                        break;
                    }
                }
            }
            len -= 2; // now octets - 1... minus one more, as lzf_c.c
            ip += 1;
            if len < 7 {
                out[op] = ((off >> 8) + (len << 5)) as u8;
                op += 1;
            } else {
                out[op] = ((off >> 8) + (7 << 5)) as u8;
                out[op + 1] = (len - 7) as u8;
                op += 2;
            }
            out[op] = off as u8;
            op += 1;
            lit = 0;
            op += 1; // start run
            ip += len + 1;
            if ip >= in_len - 2 {
                break;
            }
            ip -= 2;
            hval = frst(ip);
            hval = (hval << 8) | input[ip + 2] as u32;
            htab[idx(hval)] = tag | ip as u64;
            ip += 1;
            hval = (hval << 8) | input[ip + 2] as u32;
            htab[idx(hval)] = tag | ip as u64;
            ip += 1;
        } else {
            if op >= out_len {
                return None;
            }
            lit += 1;
            out[op] = input[ip];
            op += 1;
            ip += 1;
            if lit == MAX_LIT {
                out[op - lit - 1] = (lit - 1) as u8;
                lit = 0;
                op += 1;
            }
        }
    }
    if op + 3 > out_len {
        return None;
    }
    while ip < in_len {
        // `op + 3 > out_len` above covers at most three bytes here; longer
        // tails cannot remain (the loop stops within two of the end).
        if op >= out_len {
            return None;
        }
        lit += 1;
        out[op] = input[ip];
        op += 1;
        ip += 1;
        if lit == MAX_LIT {
            out[op - lit - 1] = (lit - 1) as u8;
            lit = 0;
            op += 1;
        }
    }
    if op > out_len {
        return None;
    }
    out[op - lit - 1] = (lit as u8).wrapping_sub(1);
    op -= usize::from(lit == 0);
    Some(op)
}

/// Why a stream did not decompress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LzfError {
    /// The output would exceed the room given (lzf_d.c's E2BIG).
    TooBig,
    /// The stream is malformed (EINVAL).
    Invalid,
}

/// Decompresses `input` into `out` (Redis's `lzf_decompress`): returns the
/// bytes written.
pub fn decompress(input: &[u8], out: &mut [u8]) -> Result<usize, LzfError> {
    let mut ip = 0usize;
    let mut op = 0usize;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < (1 << 5) {
            let n = ctrl + 1;
            if op + n > out.len() {
                return Err(LzfError::TooBig);
            }
            if ip + n > input.len() {
                return Err(LzfError::Invalid);
            }
            out[op..op + n].copy_from_slice(&input[ip..ip + n]);
            op += n;
            ip += n;
        } else {
            let mut len = ctrl >> 5;
            let back = (ctrl & 0x1f) << 8;
            if ip >= input.len() {
                return Err(LzfError::Invalid);
            }
            if len == 7 {
                len += input[ip] as usize;
                ip += 1;
                if ip >= input.len() {
                    return Err(LzfError::Invalid);
                }
            }
            let back = back + input[ip] as usize + 1;
            ip += 1;
            len += 2;
            if op + len > out.len() {
                return Err(LzfError::TooBig);
            }
            if back > op {
                return Err(LzfError::Invalid);
            }
            let r = op - back;
            if back >= len {
                out.copy_within(r..r + len, op);
            } else {
                for i in 0..len {
                    out[op + i] = out[r + i];
                }
            }
            op += len;
        }
    }
    Ok(op)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(data: &[u8]) -> Option<Vec<u8>> {
        let mut c = vec![0u8; data.len() + data.len() / 16 + 64];
        let n = compress(data, &mut c)?;
        let mut d = vec![0u8; data.len()];
        let m = decompress(&c[..n], &mut d).expect("decompresses");
        assert_eq!(m, data.len());
        assert_eq!(&d[..], data);
        Some(c[..n].to_vec())
    }

    #[test]
    fn empty_input_does_not_compress() {
        assert_eq!(compress(b"", &mut [0u8; 16]), None);
        assert_eq!(decompress(b"", &mut []), Ok(0));
    }

    #[test]
    fn short_and_repetitive_inputs_round_trip() {
        for data in [
            &b"a"[..],
            b"ab",
            b"abc",
            b"abcd",
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            b"hello hello hello hello hello hello world",
        ] {
            round_trip(data);
        }
        let long: Vec<u8> = (0..100_000u32)
            .map(|i| (i % 251) as u8 ^ (i / 1000) as u8)
            .collect();
        let c = round_trip(&long).expect("fits");
        assert!(c.len() < long.len() / 2);
    }

    /// What Redis 7.0.15 wrote into an RDB for `SET k <value>` (rdbcompression
    /// yes, output room `len - 4`): the LZF streams of two strings, copied
    /// from the dump file.
    #[test]
    fn matches_redis_output_for_known_strings() {
        let a = [b'a'; 100];
        let mut out = [0u8; 200];
        let n = compress(&a, &mut out[..a.len() - 4]).expect("compresses");
        assert_eq!(
            &out[..n],
            &[0x01, 0x61, 0x61, 0xe0, 0x57, 0x00, 0x01, 0x61, 0x61]
        );

        let b: &[u8] = b"hello hello hello hello hello hello world, the quick brown fox \
jumps over the lazy dog, hello world";
        assert_eq!(b.len(), 99);
        let want: [u8; 69] = [
            0x06, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x68, 0xe0, 0x14, 0x05, 0x1f, 0x77, 0x6f,
            0x72, 0x6c, 0x64, 0x2c, 0x20, 0x74, 0x68, 0x65, 0x20, 0x71, 0x75, 0x69, 0x63, 0x6b,
            0x20, 0x62, 0x72, 0x6f, 0x77, 0x6e, 0x20, 0x66, 0x6f, 0x78, 0x20, 0x6a, 0x75, 0x6d,
            0x70, 0x73, 0x04, 0x20, 0x6f, 0x76, 0x65, 0x72, 0x60, 0x1e, 0x08, 0x6c, 0x61, 0x7a,
            0x79, 0x20, 0x64, 0x6f, 0x67, 0x2c, 0xa0, 0x51, 0x20, 0x39, 0x01, 0x6c, 0x64,
        ];
        let n = compress(b, &mut out[..b.len() - 4]).expect("compresses");
        assert_eq!(&out[..n], &want[..]);
        let mut d = [0u8; 99];
        assert_eq!(decompress(&want, &mut d), Ok(99));
        assert_eq!(&d[..], b);
    }

    #[test]
    fn a_short_output_buffer_is_refused() {
        let data: Vec<u8> = (0..200u32).map(|i| (i * 7919 % 256) as u8).collect();
        let mut out = [0u8; 150];
        assert_eq!(compress(&data, &mut out), None);
    }

    #[test]
    fn malformed_streams_are_errors() {
        // A back reference before any output.
        assert_eq!(
            decompress(&[0x20, 0x00], &mut [0u8; 16]),
            Err(LzfError::Invalid)
        );
        // A literal run cut short.
        assert_eq!(
            decompress(&[0x03, b'a'], &mut [0u8; 16]),
            Err(LzfError::Invalid)
        );
        // More output than room.
        assert_eq!(
            decompress(&[0x02, b'a', b'b', b'c'], &mut [0u8; 2]),
            Err(LzfError::TooBig)
        );
    }

    proptest! {
        #[test]
        fn random_data_round_trips(data in proptest::collection::vec(0u8..4, 1..3000)) {
            round_trip(&data);
        }

        #[test]
        fn random_bytes_round_trip_or_refuse(data in proptest::collection::vec(any::<u8>(), 1..600)) {
            let mut c = vec![0u8; data.len() + data.len() / 16 + 64];
            let n = compress(&data, &mut c).expect("room for incompressible data");
            let mut d = vec![0u8; data.len()];
            prop_assert_eq!(decompress(&c[..n], &mut d), Ok(data.len()));
            prop_assert_eq!(d, data);
        }
    }
}
