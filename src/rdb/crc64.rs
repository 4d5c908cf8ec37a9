//! CRC-64/Jones, as Redis's `crc64.c`: the polynomial 0xad93d23594c935a9,
//! reflected input and output, initial value 0, no final xor. An RDB file
//! ends with the CRC of every byte before it, and a DUMP payload with the
//! CRC of its value and version, both as 8 little-endian bytes.

/// The reflected polynomial.
const POLY_REV: u64 = 0x95ac_9329_ac4b_c9b5;

/// Eight tables of 256 entries, for slicing-by-8.
static TABLES: [[u64; 256]; 8] = make_tables();

const fn make_tables() -> [[u64; 256]; 8] {
    let mut t = [[0u64; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut b = 0;
        while b < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLY_REV
            } else {
                crc >> 1
            };
            b += 1;
        }
        t[0][i] = crc;
        i += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            i += 1;
        }
        k += 1;
    }
    t
}

/// Continues `crc` over `data` (start with 0).
pub fn update(mut crc: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let v = crc ^ u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        crc = TABLES[7][(v & 0xff) as usize]
            ^ TABLES[6][((v >> 8) & 0xff) as usize]
            ^ TABLES[5][((v >> 16) & 0xff) as usize]
            ^ TABLES[4][((v >> 24) & 0xff) as usize]
            ^ TABLES[3][((v >> 32) & 0xff) as usize]
            ^ TABLES[2][((v >> 40) & 0xff) as usize]
            ^ TABLES[1][((v >> 48) & 0xff) as usize]
            ^ TABLES[0][(v >> 56) as usize];
    }
    for &b in chunks.remainder() {
        crc = TABLES[0][((crc ^ b as u64) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_check_value_is_redis_s() {
        // crc64.c's own test: crc64(0, "123456789") = e9c6d914c4b8d9ca.
        assert_eq!(super::update(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        let long: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let whole = super::update(0, &long);
        let parts = super::update(super::update(0, &long[..333]), &long[333..]);
        assert_eq!(whole, parts);
    }
}
