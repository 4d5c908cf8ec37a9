//! Keyspace notifications, as Redis 7.0's `notify.c`.
//!
//! Every change to a key (and, with the `m` class, every read that misses)
//! calls `notify_keyspace_event(class, event, key, db)` with Redis's event
//! name and class: a command after its change (`"set"`, `"hdel"`,
//! `"rename_from"`...), the keyspace itself for what happens below commands
//! (`"new"` when a key is created, `"expired"`, `"keymiss"`), and eviction
//! (`"evicted"`). The `notify-keyspace-events` directive selects the
//! classes, in Redis's flag string (`parse_flags`, `flags_to_string`).
//!
//! The call is placed at every point where Redis makes it. An event that
//! passes the class check goes to `deliver`, which queues Redis's two
//! PUBLISHes: to `__keyspace@<db>__:<key>` (message: the event name) when
//! the flags have `K`, and to `__keyevent@<db>__:<event>` (message: the key)
//! when they have `E`. `pubsub` publishes the queue right after the command
//! (see `pubsub.rs`).
//!
//! Cost: with notifications off (the default) a call is one load and one
//! bit test, no allocation; the event is built only when its class is on.
//! The flags are a process-wide static, like the LRU clock and policy in
//! `db::lru`: configuration, the same for every database, written only by
//! the event loop (`set_flags`, after the config is loaded or changed).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// `K`: publish to `__keyspace@<db>__:<key>`.
pub const KEYSPACE: u32 = 1 << 0;
/// `E`: publish to `__keyevent@<db>__:<event>`.
pub const KEYEVENT: u32 = 1 << 1;
/// `g`: generic commands (DEL, EXPIRE, RENAME, ...).
pub const GENERIC: u32 = 1 << 2;
/// `$`: string commands.
pub const STRING: u32 = 1 << 3;
/// `l`: list commands.
pub const LIST: u32 = 1 << 4;
/// `s`: set commands.
pub const SET: u32 = 1 << 5;
/// `h`: hash commands.
pub const HASH: u32 = 1 << 6;
/// `z`: sorted set commands.
pub const ZSET: u32 = 1 << 7;
/// `x`: a key deleted because its TTL passed.
pub const EXPIRED: u32 = 1 << 8;
/// `e`: a key evicted for `maxmemory`.
pub const EVICTED: u32 = 1 << 9;
/// `t`: stream commands.
pub const STREAM: u32 = 1 << 10;
/// `m`: a read that found no key (not part of `A`).
pub const KEY_MISS: u32 = 1 << 11;
/// `d`: module key types.
pub const MODULE: u32 = 1 << 13;
/// `n`: a key was created (not part of `A`).
pub const NEW: u32 = 1 << 14;
/// `A`: every class but `m` and `n`.
pub const ALL: u32 =
    GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// The error for a flag string with another character (Redis 7.0.15's
/// words, which list `n` too).
pub const INVALID_FLAGS: &str = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";

/// Redis's `keyspaceEventsStringToFlags`: the classes a flag string selects,
/// or None for a character that names none. As in C, the string ends at its
/// first NUL.
pub fn parse_flags(s: &[u8]) -> Option<u32> {
    let mut flags = 0;
    for &c in s.iter().take_while(|&&c| c != 0) {
        flags |= match c {
            b'A' => ALL,
            b'g' => GENERIC,
            b'$' => STRING,
            b'l' => LIST,
            b's' => SET,
            b'h' => HASH,
            b'z' => ZSET,
            b'x' => EXPIRED,
            b'e' => EVICTED,
            b'K' => KEYSPACE,
            b'E' => KEYEVENT,
            b't' => STREAM,
            b'm' => KEY_MISS,
            b'd' => MODULE,
            b'n' => NEW,
            _ => return None,
        };
    }
    Some(flags)
}

/// Redis's `keyspaceEventsFlagsToString`: `A` when every class of `A` is
/// on, else the classes one by one; then `K`, `E`, `m`. As in Redis, `n`
/// is not shown next to `A` (CONFIG GET of `AKEn` is `AKE`).
pub fn flags_to_string(flags: u32) -> String {
    let mut s = String::new();
    if flags & ALL == ALL {
        s.push('A');
    } else {
        for (bit, c) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
            (NEW, 'n'),
        ] {
            if flags & bit != 0 {
                s.push(c);
            }
        }
    }
    for (bit, c) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if flags & bit != 0 {
            s.push(c);
        }
    }
    s
}

/// The selected classes (`notify-keyspace-events`).
static FLAGS: AtomicU32 = AtomicU32::new(0);

/// Events handed to `deliver` since start.
static DELIVERED: AtomicU64 = AtomicU64::new(0);

/// Applies `notify-keyspace-events` (at start-up and after CONFIG SET).
pub fn set_flags(flags: u32) {
    FLAGS.store(flags, Ordering::Relaxed);
}

/// The flags in force.
pub fn flags() -> u32 {
    FLAGS.load(Ordering::Relaxed)
}

/// Whether `flags` let an event of `class` through (Redis's
/// `server.notify_keyspace_events & type`).
#[inline]
pub fn wanted(flags: u32, class: u32) -> bool {
    flags & class != 0
}

/// One keyspace event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
    /// Its class (one of the constants above).
    pub class: u32,
    /// Redis's event name (`"set"`, `"del"`, `"expired"`...).
    pub name: &'static str,
    /// The key.
    pub key: &'a [u8],
    /// The database's number.
    pub db: usize,
}

/// Redis's `notifyKeyspaceEvent`: an event of `class` named `event` on
/// `key` in database `db`. Nothing happens (one bit test) unless the class
/// is selected.
#[inline]
pub fn notify_keyspace_event(class: u32, event: &'static str, key: &[u8], db: usize) {
    let flags = flags();
    if !wanted(flags, class) {
        return;
    }
    deliver(
        flags,
        &Event {
            class,
            name: event,
            key,
            db,
        },
    );
}

/// Where a selected event goes (Redis's `notifyKeyspaceEvent` body): the
/// event name to `__keyspace@<db>__:<key>` when `flags` has `KEYSPACE`,
/// the key to `__keyevent@<db>__:<name>` when it has `KEYEVENT`. The
/// messages are queued for `pubsub::PubSub::drain_notifications`, which
/// publishes them once the command that raised them is done changing keys;
/// with no subscriber to any channel or pattern nothing is built.
#[cold]
fn deliver(flags: u32, event: &Event<'_>) {
    DELIVERED.fetch_add(1, Ordering::Relaxed);
    #[cfg(test)]
    recorder::record(event);
    if !crate::pubsub::listening() {
        return;
    }
    if flags & KEYSPACE != 0 {
        let mut channel = format!("__keyspace@{}__:", event.db).into_bytes();
        channel.extend_from_slice(event.key);
        crate::pubsub::queue_notification(channel, event.name.as_bytes().to_vec());
    }
    if flags & KEYEVENT != 0 {
        let channel = format!("__keyevent@{}__:{}", event.db, event.name).into_bytes();
        crate::pubsub::queue_notification(channel, event.key.to_vec());
    }
}

/// Events handed to `deliver` since start (for tests; INFO has no such
/// field in Redis, so it shows none).
#[cfg(test)]
pub fn delivered() -> u64 {
    DELIVERED.load(Ordering::Relaxed)
}

/// Test-only: the last events delivered on this thread.
#[cfg(test)]
pub(crate) mod recorder {
    use super::Event;
    use std::cell::RefCell;

    /// Events kept per thread.
    const KEEP: usize = 4096;

    /// An event as recorded: class, name, key, database.
    pub type Recorded = (u32, &'static str, Vec<u8>, usize);

    thread_local! {
        static EVENTS: RefCell<Vec<Recorded>> = const { RefCell::new(Vec::new()) };
    }

    pub(super) fn record(e: &Event<'_>) {
        EVENTS.with(|v| {
            let mut v = v.borrow_mut();
            if v.len() == KEEP {
                v.remove(0);
            }
            v.push((e.class, e.name, e.key.to_vec(), e.db));
        });
    }

    /// Takes this thread's events, oldest first.
    pub fn take() -> Vec<Recorded> {
        EVENTS.with(|v| std::mem::take(&mut *v.borrow_mut()))
    }

    /// Turns every class on, with `K` and `E`. Tests only ever set this one
    /// value, so tests running side by side agree on the process-wide flags.
    pub fn enable_all() {
        super::set_flags(
            super::ALL | super::KEY_MISS | super::NEW | super::KEYSPACE | super::KEYEVENT,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_strings_parse_and_print_as_redis_does() {
        // (input, CONFIG GET answer), checked against redis-server 7.0.15.
        for (input, shown) in [
            ("", ""),
            ("A", "A"),
            ("KEA", "AKE"),
            ("AKEnm", "AKEm"),
            ("g$lshzxetd", "A"),
            ("g$lshzxetdn", "A"),
            ("Kx", "xK"),
            ("E", "E"),
            ("m", "m"),
            ("n", "n"),
            ("gn", "gn"),
            ("KK", "K"),
            ("EK", "KE"),
            ("ghK", "ghK"),
            ("Ad", "A"),
            ("td", "td"),
            ("nmEK$", "$nKEm"),
        ] {
            let flags = parse_flags(input.as_bytes()).expect(input);
            assert_eq!(flags_to_string(flags), shown, "{input}");
        }
        for bad in ["xyz", "a", "KEA ", "AKE!", "k", "N", "M"] {
            assert_eq!(parse_flags(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(parse_flags(b"K\0junk"), Some(KEYSPACE));
        assert_eq!(parse_flags(b"AKE"), Some(ALL | KEYSPACE | KEYEVENT));
        assert_eq!(ALL & (KEY_MISS | NEW), 0);
    }

    #[test]
    fn a_class_passes_only_when_selected() {
        let flags = parse_flags(b"$K").unwrap();
        assert!(wanted(flags, STRING));
        assert!(!wanted(flags, GENERIC));
        assert!(!wanted(0, STRING));
        assert!(!wanted(parse_flags(b"A").unwrap(), NEW));
        assert!(!wanted(parse_flags(b"A").unwrap(), KEY_MISS));
    }

    #[test]
    fn selected_events_reach_deliver_with_their_name_key_and_db() {
        recorder::enable_all();
        recorder::take();
        let before = delivered();
        notify_keyspace_event(STRING, "set", b"k", 3);
        assert_eq!(recorder::take(), vec![(STRING, "set", b"k".to_vec(), 3)]);
        assert!(delivered() > before);
    }
}
