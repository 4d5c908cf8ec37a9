//! The slow log (Redis's slowlog.c): commands that ran for at least
//! `slowlog-log-slower-than` µs, newest first, at most `slowlog-max-len`
//! entries. Each entry keeps at most 32 arguments of at most 128 bytes each,
//! so its size is bounded whatever the command was.

use std::collections::VecDeque;

/// Arguments kept per entry (SLOWLOG_ENTRY_MAX_ARGC).
pub const MAX_ARGC: usize = 32;
/// Bytes kept per argument (SLOWLOG_ENTRY_MAX_STRING).
pub const MAX_STRING: usize = 128;

/// One logged command.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Unique, increasing id (not reset by SLOWLOG RESET).
    pub id: u64,
    /// Unix seconds when it was logged.
    pub time: i64,
    /// How long it ran, µs.
    pub duration_us: u64,
    /// Its arguments, trimmed.
    pub argv: Vec<Vec<u8>>,
    /// The client's address (`ip:port`, `path:0`).
    pub peer: String,
    /// The client's name, or empty.
    pub name: Vec<u8>,
}

/// The log.
#[derive(Debug, Default)]
pub struct SlowLog {
    entries: VecDeque<Entry>,
    next_id: u64,
}

impl SlowLog {
    /// Redis's `slowlogPushEntryIfNeeded`: logs the command if it was slow
    /// enough, then trims the log to `max_len`. `args` yields each argument,
    /// `None` for a redacted one.
    pub fn push_if_needed<'a>(
        &mut self,
        slower_than: i64,
        max_len: u64,
        duration_us: u64,
        args: impl ExactSizeIterator<Item = Option<&'a [u8]>>,
        peer: &str,
        name: Option<&[u8]>,
    ) {
        if slower_than < 0 {
            return;
        }
        if duration_us >= slower_than as u64 {
            let entry = Entry {
                id: self.next_id,
                time: crate::util::time::unix_ms() / 1000,
                duration_us,
                argv: trim_argv(args),
                peer: peer.to_string(),
                name: name.map(|n| n.to_vec()).unwrap_or_default(),
            };
            self.next_id += 1;
            self.entries.push_front(entry);
        }
        while self.entries.len() as u64 > max_len {
            self.entries.pop_back();
        }
    }

    /// Entries, newest first.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// SLOWLOG RESET (the id counter goes on).
    pub fn reset(&mut self) {
        self.entries.clear();
    }
}

/// Redis's `slowlogCreateEntry` argument trimming.
fn trim_argv<'a>(args: impl ExactSizeIterator<Item = Option<&'a [u8]>>) -> Vec<Vec<u8>> {
    let argc = args.len();
    let kept = argc.min(MAX_ARGC);
    let mut out = Vec::with_capacity(kept);
    for (j, a) in args.enumerate().take(kept) {
        if kept != argc && j == kept - 1 {
            out.push(format!("... ({} more arguments)", argc - kept + 1).into_bytes());
            break;
        }
        match a {
            None => out.push(b"(redacted)".to_vec()),
            Some(a) if a.len() > MAX_STRING => {
                let mut s = a[..MAX_STRING].to_vec();
                s.extend_from_slice(
                    format!("... ({} more bytes)", a.len() - MAX_STRING).as_bytes(),
                );
                out.push(s);
            }
            Some(a) => out.push(a.to_vec()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(log: &mut SlowLog, us: u64, args: &[&[u8]]) {
        log.push_if_needed(
            10,
            3,
            us,
            args.iter().map(|a| Some(*a)),
            "127.0.0.1:1",
            None,
        );
    }

    #[test]
    fn only_slow_commands_are_logged_newest_first_and_trimmed() {
        let mut log = SlowLog::default();
        push(&mut log, 5, &[b"get", b"a"]);
        assert!(log.is_empty());
        for i in 0..5u64 {
            push(&mut log, 10 + i, &[b"set", b"k", b"v"]);
        }
        assert_eq!(log.len(), 3);
        let ids: Vec<u64> = log.iter().map(|e| e.id).collect();
        assert_eq!(ids, vec![4, 3, 2]);
        log.reset();
        push(&mut log, 20, &[b"ping"]);
        assert_eq!(log.iter().next().map(|e| e.id), Some(5));
    }

    #[test]
    fn long_arguments_and_many_arguments_are_cut_as_redis() {
        let big = vec![b'x'; 200];
        let many: Vec<Vec<u8>> = (0..40).map(|i| i.to_string().into_bytes()).collect();
        let mut args: Vec<&[u8]> = vec![b"mset", &big];
        args.extend(many.iter().map(|v| v.as_slice()));
        let v = trim_argv(args.iter().map(|a| Some(*a)));
        assert_eq!(v.len(), 32);
        assert_eq!(v[1].len(), 128 + "... (72 more bytes)".len());
        assert!(v[1].ends_with(b"... (72 more bytes)"));
        assert_eq!(v[31], b"... (11 more arguments)");
        let r = trim_argv([Some(&b"auth"[..]), None].into_iter());
        assert_eq!(r, vec![b"auth".to_vec(), b"(redacted)".to_vec()]);
    }
}
