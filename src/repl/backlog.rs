//! The replication backlog (Redis's `repl_backlog`): the last
//! `repl-backlog-size` bytes of the replication stream, so that a replica
//! that lost its link can continue from its offset (`+CONTINUE`) instead
//! of loading a full copy again.
//!
//! Offsets are Redis's: the stream's first byte has offset 1, and
//! `master_repl_offset` is the offset of its last byte. A replica that has
//! processed `n` bytes asks for `PSYNC <replid> <n+1>`.

/// A ring buffer of the stream's latest bytes.
#[derive(Debug)]
pub struct Backlog {
    buf: Vec<u8>,
    /// Where the next byte goes in `buf`.
    idx: usize,
    /// Bytes held (at most `buf.len()`).
    histlen: usize,
    /// The stream offset of the last byte held (`master_repl_offset`).
    end: u64,
}

impl Backlog {
    /// An empty backlog of `size` bytes whose next byte is `end + 1`.
    pub fn new(size: usize, end: u64) -> Backlog {
        Backlog {
            buf: vec![0; size.max(16 * 1024)],
            idx: 0,
            histlen: 0,
            end,
        }
    }

    /// Its size (INFO `repl_backlog_size`).
    pub fn size(&self) -> usize {
        self.buf.len()
    }

    /// Bytes held (INFO `repl_backlog_histlen`).
    pub fn histlen(&self) -> usize {
        self.histlen
    }

    /// The offset of the first byte held (INFO
    /// `repl_backlog_first_byte_offset`).
    pub fn first_byte_offset(&self) -> u64 {
        self.end + 1 - self.histlen as u64
    }

    /// Appends stream bytes.
    pub fn feed(&mut self, mut data: &[u8]) {
        self.end += data.len() as u64;
        let size = self.buf.len();
        if data.len() > size {
            data = &data[data.len() - size..];
        }
        while !data.is_empty() {
            let n = (size - self.idx).min(data.len());
            self.buf[self.idx..self.idx + n].copy_from_slice(&data[..n]);
            self.idx = (self.idx + n) % size;
            self.histlen = (self.histlen + n).min(size);
            data = &data[n..];
        }
    }

    /// The bytes from offset `from` (the replica's next byte) to the end,
    /// or None when `from` is not in the backlog (`addReplyReplicationBacklog`
    /// after `masterTryPartialResynchronization`'s range check).
    pub fn since(&self, from: u64) -> Option<Vec<u8>> {
        let first = self.first_byte_offset();
        if from < first || from > self.end + 1 {
            return None;
        }
        let skip = (from - first) as usize;
        let len = self.histlen - skip;
        let size = self.buf.len();
        // The oldest byte held sits `histlen` bytes before `idx`.
        let start = (self.idx + size - self.histlen + skip) % size;
        let mut out = Vec::with_capacity(len);
        let first_part = (size - start).min(len);
        out.extend_from_slice(&self.buf[start..start + first_part]);
        out.extend_from_slice(&self.buf[..len - first_part]);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_answers_ranges() {
        let mut b = Backlog::new(16 * 1024, 0);
        assert_eq!(b.first_byte_offset(), 1);
        assert_eq!(b.since(1).as_deref(), Some(&b""[..]));
        let chunk: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        b.feed(&chunk);
        b.feed(&chunk);
        // 20000 bytes in a 16384-byte ring: the first 3616 are gone.
        assert_eq!(b.histlen(), 16 * 1024);
        assert_eq!(b.first_byte_offset(), 20_000 - 16 * 1024 + 1);
        assert!(b.since(100).is_none());
        assert!(b.since(20_002).is_none());
        let tail = b.since(15_001).expect("in range");
        assert_eq!(tail.len(), 5_000);
        assert_eq!(&tail[..], &chunk[5_000..]);
        assert_eq!(b.since(20_001).map(|v| v.len()), Some(0));
    }
}
