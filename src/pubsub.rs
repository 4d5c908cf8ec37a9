//! Pub/sub, as Redis 7.0's `pubsub.c`: the server's subscription indexes,
//! each client's own subscriptions, and message delivery.
//!
//! - `PubSub` (in `Core`) maps each channel, pattern and shard channel to
//!   its subscribers' tokens, in subscription order; `Subscriptions` (in
//!   `ClientState`) is the client's side. The two always agree: every
//!   change goes through `subscribe`/`unsubscribe` here, and a client that
//!   goes (disconnect, RESET) leaves through `unsubscribe_all`.
//! - **Fan-out** encodes a message once per protocol (a RESP2 array, a
//!   RESP3 push) and appends those bytes to each subscriber's output buffer:
//!   no per-subscriber formatting. Each append is checked against the
//!   subscriber's `client-output-buffer-limit` (its class is `pubsub` while
//!   it has subscriptions): over the hard limit the buffer is dropped, over
//!   the soft limit for longer than its seconds the client is closed, so a
//!   subscriber that stops reading never grows memory without bound.
//! - The running client is out of the client table while its command runs;
//!   messages for it go to its own reply (`Own`).
//! - **Keyspace notifications** (`notify.rs`) are queued here, on the event
//!   loop's thread, when anyone listens (`listening`), and published by
//!   `drain_notifications` right after the command that raised them (or, for
//!   active expiry and eviction between commands, before replies are
//!   written). To the running client they go before its command's reply,
//!   as Redis 7.0 sends them.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};

use mio::Token;

use crate::client::{ClientState, Clients, Flags};
use crate::limits::OutputLimits;
use crate::resp::{encode, Reply};

/// The three kinds of subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// SUBSCRIBE.
    Channel,
    /// PSUBSCRIBE.
    Pattern,
    /// SSUBSCRIBE.
    Shard,
}

impl Kind {
    /// The reply's first element when subscribing.
    pub fn subscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::Shard => b"ssubscribe",
        }
    }

    /// The reply's first element when unsubscribing.
    pub fn unsubscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::Shard => b"sunsubscribe",
        }
    }
}

/// A client's subscriptions (Redis's `c->pubsub_channels`,
/// `c->pubsub_patterns`, `c->pubsubshard_channels`).
#[derive(Debug, Clone, Default)]
pub struct Subscriptions {
    /// SUBSCRIBE channels.
    pub channels: HashSet<Vec<u8>>,
    /// PSUBSCRIBE patterns.
    pub patterns: HashSet<Vec<u8>>,
    /// SSUBSCRIBE channels.
    pub shard: HashSet<Vec<u8>>,
}

impl Subscriptions {
    fn set(&mut self, kind: Kind) -> &mut HashSet<Vec<u8>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    /// The count a (un)subscribe reply carries: channels and patterns
    /// together, or shard channels alone (Redis's `subscriptionCount`).
    pub fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Shard => self.shard.len(),
            _ => self.channels.len() + self.patterns.len(),
        }
    }

    /// Whether it has no subscription of any kind.
    pub fn is_empty(&self) -> bool {
        self.channels.is_empty() && self.patterns.is_empty() && self.shard.is_empty()
    }
}

/// The server's subscription indexes (Redis's `server.pubsub_channels`,
/// `pubsub_patterns`, `pubsubshard_channels`).
#[derive(Debug, Default)]
pub struct PubSub {
    channels: HashMap<Vec<u8>, Vec<Token>>,
    patterns: HashMap<Vec<u8>, Vec<Token>>,
    shard: HashMap<Vec<u8>, Vec<Token>>,
    /// Clients with at least one subscription.
    subscribers: usize,
}

/// Whether keyspace notifications have anyone to go to.
#[inline]
pub fn listening() -> bool {
    LISTENING.with(Cell::get)
}

thread_local! {
    /// Whether any client subscribes to a channel or pattern: keyspace
    /// notifications are queued only then. Per thread, like the queue: the
    /// event loop's thread is the one that raises and publishes them.
    static LISTENING: Cell<bool> = const { Cell::new(false) };
    /// Keyspace notifications raised and not yet published: (channel, message).
    static QUEUED: RefCell<Vec<(Vec<u8>, Vec<u8>)>> = const { RefCell::new(Vec::new()) };
}

/// Queues a notification for `drain_notifications` (called by
/// `notify::deliver`).
pub fn queue_notification(channel: Vec<u8>, message: Vec<u8>) {
    QUEUED.with(|q| q.borrow_mut().push((channel, message)));
}

/// Whether notifications wait to be published.
#[inline]
pub fn has_queued() -> bool {
    listening() && QUEUED.with(|q| !q.borrow().is_empty())
}

/// The running client, out of the client table while its command runs:
/// its token, protocol and reply.
pub struct Own<'a> {
    /// Its token.
    pub token: Token,
    /// Its reply buffer.
    pub reply: &'a mut Reply,
}

/// Where messages go: the client table, the running client, the output
/// limits and what a disconnection counts.
pub struct Fanout<'a> {
    /// Every other client.
    pub clients: &'a mut Clients,
    /// The running client, if any.
    pub own: Option<Own<'a>>,
    /// `client-output-buffer-limit`.
    pub limits: &'a OutputLimits,
    /// Clients closed for their output buffer (INFO
    /// `client_output_buffer_limit_disconnections`).
    pub disconnections: &'a mut u64,
}

/// A message encoded once per protocol, on first need.
struct Encoded<'m> {
    parts: [&'m [u8]; 4],
    n: usize,
    resp2: Option<Vec<u8>>,
    resp3: Option<Vec<u8>>,
}

impl<'m> Encoded<'m> {
    fn new(parts: &[&'m [u8]]) -> Encoded<'m> {
        let mut p: [&[u8]; 4] = [b""; 4];
        p[..parts.len()].copy_from_slice(parts);
        Encoded {
            parts: p,
            n: parts.len(),
            resp2: None,
            resp3: None,
        }
    }

    fn bytes(&mut self, resp3: bool) -> &[u8] {
        let (slot, prefix) = if resp3 {
            (&mut self.resp3, b'>')
        } else {
            (&mut self.resp2, b'*')
        };
        let parts = &self.parts[..self.n];
        slot.get_or_insert_with(|| {
            let len: usize = parts.iter().map(|p| p.len() + 16).sum();
            let mut out = Vec::with_capacity(len + 8);
            encode::header(&mut out, prefix, parts.len() as i64);
            for p in parts {
                encode::bulk(&mut out, p);
            }
            out
        })
    }
}

impl Fanout<'_> {
    /// Appends a message to one subscriber; closes it when it broke its
    /// output buffer limit.
    fn send(&mut self, token: Token, msg: &mut Encoded<'_>) {
        if let Some(own) = self.own.as_mut() {
            if own.token == token {
                let resp3 = own.reply.is_resp3();
                own.reply.raw(msg.bytes(resp3));
                // An overflow closes it after its command (run_commands).
                return;
            }
        }
        let Some(c) = self.clients.get_mut(token) else {
            return;
        };
        if c.state.has(Flags::CLOSE_ASAP) {
            return;
        }
        let resp3 = c.reply.is_resp3();
        c.reply.raw(msg.bytes(resp3));
        let limit = crate::limits::limit_for(self.limits, &c.state);
        let pending = c.reply.pending_len() as u64;
        // The clock is read only when the soft limit is in play: a message
        // to a subscriber that keeps up costs no system call.
        let now = if limit.soft != 0 && (pending >= limit.soft || c.state.obuf_soft_since != 0) {
            crate::util::time::unix_ms() / 1000
        } else {
            0
        };
        let over =
            c.reply.overflowed() || limit.reached(pending, now, &mut c.state.obuf_soft_since);
        if over {
            crate::limits::log_output_limit_close(c);
            c.closing = Some(crate::client::CloseReason::OutputBufferLimit);
            *self.disconnections += 1;
            self.clients.kill(token);
        } else {
            self.clients.queue_flush(token);
        }
    }
}

impl PubSub {
    fn map(&mut self, kind: Kind) -> &mut HashMap<Vec<u8>, Vec<Token>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    fn map_ref(&self, kind: Kind) -> &HashMap<Vec<u8>, Vec<Token>> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard,
        }
    }

    fn update_listening(&self) {
        LISTENING.with(|l| l.set(!self.channels.is_empty() || !self.patterns.is_empty()));
    }

    /// Clients with at least one subscription.
    pub fn subscribers(&self) -> usize {
        self.subscribers
    }

    /// Subscribes `client` to `name`; false if it already was. The client
    /// gets `Flags::PUBSUB`.
    pub fn subscribe(&mut self, client: &mut ClientState, kind: Kind, name: &[u8]) -> bool {
        let subs = client.subs.get_or_insert_with(Box::default);
        let was_empty = subs.is_empty();
        if !subs.set(kind).insert(name.to_vec()) {
            return false;
        }
        if was_empty {
            self.subscribers += 1;
        }
        client.flags.set(Flags::PUBSUB, true);
        self.map(kind)
            .entry(name.to_vec())
            .or_default()
            .push(client.token);
        self.update_listening();
        true
    }

    /// Unsubscribes `client` from `name`; false if it was not subscribed.
    /// A client left with no subscription loses `Flags::PUBSUB`.
    pub fn unsubscribe(&mut self, client: &mut ClientState, kind: Kind, name: &[u8]) -> bool {
        let Some(subs) = client.subs.as_mut() else {
            return false;
        };
        if !subs.set(kind).remove(name) {
            return false;
        }
        let token = client.token;
        let map = self.map(kind);
        if let Some(list) = map.get_mut(name) {
            if let Some(pos) = list.iter().position(|&t| t == token) {
                list.remove(pos);
            }
            if list.is_empty() {
                map.remove(name);
            }
        }
        if subs.is_empty() {
            client.subs = None;
            client.flags.set(Flags::PUBSUB, false);
            self.subscribers -= 1;
        }
        self.update_listening();
        true
    }

    /// The client's subscriptions of `kind`.
    pub fn names(client: &ClientState, kind: Kind) -> Vec<Vec<u8>> {
        let Some(subs) = client.subs.as_ref() else {
            return Vec::new();
        };
        let set = match kind {
            Kind::Channel => &subs.channels,
            Kind::Pattern => &subs.patterns,
            Kind::Shard => &subs.shard,
        };
        set.iter().cloned().collect()
    }

    /// Drops every subscription of a client (disconnect, RESET), with no
    /// reply.
    pub fn unsubscribe_all(&mut self, client: &mut ClientState) {
        for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
            for name in Self::names(client, kind) {
                self.unsubscribe(client, kind, &name);
            }
        }
    }

    /// Active channels (or shard channels) matching `pattern`, if any.
    pub fn active(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<&[u8]> {
        self.map_ref(kind)
            .keys()
            .filter(|k| pattern.is_none_or(|p| crate::util::glob::matches(p, k, false)))
            .map(|k| k.as_slice())
            .collect()
    }

    /// Subscribers of a channel (not counting patterns).
    pub fn numsub(&self, kind: Kind, name: &[u8]) -> usize {
        self.map_ref(kind).get(name).map_or(0, Vec::len)
    }

    /// Distinct patterns subscribed to (PUBSUB NUMPAT, INFO).
    pub fn numpat(&self) -> usize {
        self.patterns.len()
    }

    /// Channels with subscribers (INFO `pubsub_channels`).
    pub fn numchannels(&self, kind: Kind) -> usize {
        self.map_ref(kind).len()
    }

    /// Redis's `pubsubPublishMessage`: `message` to the subscribers of
    /// `channel`, then (not for shard channels) to those of each matching
    /// pattern. Returns how many received it.
    pub fn publish(
        &self,
        out: &mut Fanout<'_>,
        shard: bool,
        channel: &[u8],
        message: &[u8],
    ) -> usize {
        let mut receivers = 0;
        let (map, word): (_, &[u8]) = if shard {
            (&self.shard, b"smessage")
        } else {
            (&self.channels, b"message")
        };
        if let Some(list) = map.get(channel) {
            let mut msg = Encoded::new(&[word, channel, message]);
            for &t in list {
                out.send(t, &mut msg);
                receivers += 1;
            }
        }
        if shard {
            return receivers;
        }
        for (pattern, list) in &self.patterns {
            if !crate::util::glob::matches(pattern, channel, false) {
                continue;
            }
            let mut msg = Encoded::new(&[b"pmessage", pattern, channel, message]);
            for &t in list {
                out.send(t, &mut msg);
                receivers += 1;
            }
        }
        receivers
    }

    /// Publishes the queued keyspace notifications. Those for `out.own`
    /// are inserted at `own_mark` of its reply (before its command's
    /// reply, where Redis puts them).
    pub fn drain_notifications(&self, out: &mut Fanout<'_>, own_mark: Option<usize>) {
        let queued = QUEUED.with(|q| std::mem::take(&mut *q.borrow_mut()));
        if queued.is_empty() {
            return;
        }
        // Messages for the running client go before its command's reply.
        let after = match (out.own.as_mut(), own_mark) {
            (Some(own), Some(mark)) => {
                let after = own.reply.since(mark).to_vec();
                own.reply.truncate(mark);
                Some(after)
            }
            _ => None,
        };
        for (channel, message) in &queued {
            self.publish(out, false, channel, message);
        }
        if let (Some(after), Some(own)) = (after, out.own.as_mut()) {
            own.reply.raw(&after);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_encoded_once_per_protocol() {
        let mut m = Encoded::new(&[b"message", b"ch", b"hi"]);
        assert_eq!(
            m.bytes(false),
            b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
        );
        assert_eq!(
            m.bytes(true),
            b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
        );
        let p = m.bytes(false).as_ptr();
        assert_eq!(m.bytes(false).as_ptr(), p, "encoded once, reused");
    }

    #[test]
    fn subscriptions_and_indexes_agree() {
        let mut ps = PubSub::default();
        let mut c = ClientState::new(1, String::new(), String::new(), -1, false, 0, true);
        c.token = Token(70);
        assert!(ps.subscribe(&mut c, Kind::Channel, b"a"));
        assert!(!ps.subscribe(&mut c, Kind::Channel, b"a"));
        assert!(ps.subscribe(&mut c, Kind::Pattern, b"a*"));
        assert!(ps.subscribe(&mut c, Kind::Shard, b"s"));
        assert!(c.has(Flags::PUBSUB));
        assert_eq!(c.subs.as_ref().map(|s| s.count(Kind::Channel)), Some(2));
        assert_eq!(ps.numsub(Kind::Channel, b"a"), 1);
        assert_eq!(ps.numpat(), 1);
        ps.unsubscribe_all(&mut c);
        assert!(!c.has(Flags::PUBSUB));
        assert_eq!(ps.numsub(Kind::Channel, b"a"), 0);
        assert_eq!(ps.numpat(), 0);
        assert_eq!(ps.subscribers(), 0);
    }

    #[test]
    fn keyspace_events_are_queued_on_redis_s_two_channels_once_someone_listens() {
        let mut ps = PubSub::default();
        let mut c = ClientState::new(2, String::new(), String::new(), -1, false, 0, true);
        c.token = Token(71);
        QUEUED.with(|q| q.borrow_mut().clear());
        ps.subscribe(&mut c, Kind::Pattern, b"__key*");
        assert!(listening());
        crate::notify::recorder::enable_all();
        crate::notify::notify_keyspace_event(crate::notify::STRING, "set", b"k", 3);
        let queued = QUEUED.with(|q| std::mem::take(&mut *q.borrow_mut()));
        assert_eq!(
            queued,
            vec![
                (b"__keyspace@3__:k".to_vec(), b"set".to_vec()),
                (b"__keyevent@3__:set".to_vec(), b"k".to_vec()),
            ]
        );
        ps.unsubscribe_all(&mut c);
    }
}
