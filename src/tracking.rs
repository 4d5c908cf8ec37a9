//! Client-side caching, as Redis 7.0's `tracking.c`: CLIENT TRACKING and
//! the invalidation messages.
//!
//! - **Default mode**: after a read-only command, a tracking client's keys
//!   go into `Tracking::table` (key -> client ids; OPTIN/OPTOUT and CLIENT
//!   CACHING decide, as Redis's `trackingRememberKeys`). When a key is
//!   modified (every change passes `Db::signal_modified_key`: writes,
//!   expiry, eviction), its entry is removed and each client in it is sent
//!   an invalidation (NOLOOP: not the client that changed it).
//! - **BCAST**: clients register prefixes; a modified key matching a
//!   prefix is collected and each prefix's keys go out as one message
//!   before the replies of the tick are written.
//! - **Flush**: FLUSHDB/FLUSHALL send every tracking client a null
//!   invalidation; FLUSHALL also empties the table.
//! - Messages: a RESP3 push `["invalidate", [keys] | null]`, or, through a
//!   REDIRECT target subscribed in RESP2, a `message` on
//!   `__redis__:invalidate`. A redirect to a client that has gone gives the
//!   RESP3 client one `["tracking-redir-broken", id]` push.
//! - `tracking-table-max-keys`: past it, keys are dropped from the table
//!   (their clients invalidated) before the next command, as Redis's
//!   `trackingLimitUsedSlots`.
//!
//! `Db` signals reach here through a queue on the loop thread (as keyspace
//! notifications do, see `pubsub.rs`); `drain` processes it right after the
//! command (so the running client gets its invalidations after its reply,
//! as Redis 7.0.15 defers them) and before replies are written.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};

use mio::Token;

use crate::client::{ClientState, Clients, Flags};
use crate::resp::{encode, Reply};

/// The redirect channel.
pub const CHANNEL: &[u8] = b"__redis__:invalidate";

/// A client's tracking state (Redis's `CLIENT_TRACKING*` flags,
/// `client_tracking_redirection` and `client_tracking_prefixes`).
#[derive(Debug, Clone, Default)]
pub struct ClientTracking {
    /// BCAST mode.
    pub bcast: bool,
    /// OPTIN mode.
    pub optin: bool,
    /// OPTOUT mode.
    pub optout: bool,
    /// NOLOOP.
    pub noloop: bool,
    /// CLIENT CACHING given for the next command.
    pub caching: Option<bool>,
    /// REDIRECT target's id (0: none) and token.
    pub redirect: u64,
    /// The target's token (meaningful when `redirect` is not 0).
    pub redirect_token: Option<Token>,
    /// The redirect target went away.
    pub broken: bool,
    /// BCAST prefixes.
    pub prefixes: Vec<Vec<u8>>,
}

/// A key modified this tick, and the id of the client that changed it
/// (0: none).
type Modified = (Vec<u8>, u64);

#[derive(Debug, Default)]
struct Prefix {
    clients: Vec<u64>,
    /// Keys modified this tick: key -> the id of the client that changed it
    /// (0: none), first change kept.
    keys: Vec<Modified>,
    seen: HashSet<Vec<u8>>,
}

/// The server's tracking state (in `Core`).
#[derive(Debug, Default)]
pub struct Tracking {
    table: HashMap<Vec<u8>, HashSet<u64>>,
    prefixes: BTreeMap<Vec<u8>, Prefix>,
    /// Tracking clients: id -> token.
    clients: HashMap<u64, Token>,
}

static ACTIVE: AtomicBool = AtomicBool::new(false);

enum Pending {
    Key(Vec<u8>, u64),
    Flush { all: bool },
}

thread_local! {
    static PENDING: RefCell<Vec<Pending>> = const { RefCell::new(Vec::new()) };
    static CURRENT: Cell<u64> = const { Cell::new(0) };
}

/// Whether any client tracks.
#[inline]
pub fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

/// The client whose command runs (for NOLOOP); 0 for none.
pub fn set_current(id: u64) {
    CURRENT.with(|c| c.set(id));
}

/// Redis's `trackingInvalidateKey`, queued: `key` was modified.
#[inline]
pub fn key_modified(key: &[u8]) {
    if active() {
        let by = CURRENT.with(Cell::get);
        PENDING.with(|p| p.borrow_mut().push(Pending::Key(key.to_vec(), by)));
    }
}

/// Redis's `trackingInvalidateKeysOnFlush`, queued.
pub fn flushed(all: bool) {
    if active() {
        PENDING.with(|p| p.borrow_mut().push(Pending::Flush { all }));
    }
}

/// Whether invalidations wait.
#[inline]
pub fn has_pending() -> bool {
    active() && PENDING.with(|p| !p.borrow().is_empty())
}

/// Where messages go: the client table and the running client.
pub struct Out<'a> {
    /// Every other client.
    pub clients: &'a mut Clients,
    /// The running client (out of the table), if any.
    pub own: Option<(&'a mut ClientState, &'a mut Reply)>,
}

impl Out<'_> {
    fn with<R>(
        &mut self,
        token: Token,
        f: impl FnOnce(&mut ClientState, &mut Reply) -> R,
    ) -> Option<R> {
        if let Some((state, reply)) = self.own.as_mut() {
            if state.token == token {
                return Some(f(state, reply));
            }
        }
        let c = self.clients.get_mut(token)?;
        if c.state.has(Flags::CLOSE_ASAP) {
            return None;
        }
        let r = f(&mut c.state, &mut c.reply);
        self.clients.queue_flush(token);
        Some(r)
    }
}

/// The invalidation message bytes: `keys` None for a flush.
fn message(resp3: bool, keys: Option<&[&[u8]]>) -> Vec<u8> {
    let mut out = Vec::new();
    if resp3 {
        encode::header(&mut out, b'>', 2);
        encode::bulk(&mut out, b"invalidate");
    } else {
        encode::header(&mut out, b'*', 3);
        encode::bulk(&mut out, b"message");
        encode::bulk(&mut out, CHANNEL);
    }
    match keys {
        Some(keys) => {
            encode::header(&mut out, b'*', keys.len() as i64);
            for k in keys {
                encode::bulk(&mut out, k);
            }
        }
        None => out.extend_from_slice(if resp3 { b"_\r\n" } else { b"$-1\r\n" }),
    }
    out
}

impl Tracking {
    fn update_active(&self) {
        ACTIVE.store(!self.clients.is_empty(), Ordering::Relaxed);
    }

    /// Keys in the table (INFO `tracking_total_keys`).
    pub fn total_keys(&self) -> usize {
        self.table.len()
    }

    /// (key, client) pairs (INFO `tracking_total_items`).
    pub fn total_items(&self) -> usize {
        self.table.values().map(HashSet::len).sum()
    }

    /// BCAST prefixes (INFO `tracking_total_prefixes`).
    pub fn total_prefixes(&self) -> usize {
        self.prefixes.len()
    }

    /// Tracking clients (INFO `tracking_clients`).
    pub fn clients(&self) -> usize {
        self.clients.len()
    }

    /// Redis's `enableTracking`.
    pub fn enable(&mut self, client: &mut ClientState, mut t: ClientTracking) {
        // BCAST with no prefix follows every key: the empty prefix.
        let had = client
            .tracking
            .as_ref()
            .is_some_and(|o| !o.prefixes.is_empty());
        if t.bcast && t.prefixes.is_empty() && !had {
            t.prefixes.push(Vec::new());
        }
        let old_prefixes = client
            .tracking
            .as_ref()
            .map(|o| o.prefixes.clone())
            .unwrap_or_default();
        for p in &t.prefixes {
            if !old_prefixes.contains(p) {
                self.prefixes
                    .entry(p.clone())
                    .or_default()
                    .clients
                    .push(client.id);
            }
        }
        let mut all = old_prefixes;
        for p in t.prefixes.drain(..) {
            if !all.contains(&p) {
                all.push(p);
            }
        }
        t.prefixes = all;
        client.tracking = Some(Box::new(t));
        self.clients.insert(client.id, client.token);
        self.update_active();
    }

    /// Redis's `disableTracking`.
    pub fn disable(&mut self, client: &mut ClientState) {
        let Some(t) = client.tracking.take() else {
            return;
        };
        for p in &t.prefixes {
            if let Some(entry) = self.prefixes.get_mut(p) {
                entry.clients.retain(|&id| id != client.id);
                if entry.clients.is_empty() {
                    self.prefixes.remove(p);
                }
            }
        }
        self.clients.remove(&client.id);
        self.update_active();
    }

    /// Redis's `trackingRememberKeys`, after a read-only command.
    pub fn remember(&mut self, client: &ClientState, keys: impl Iterator<Item = Vec<u8>>) {
        let Some(t) = client.tracking.as_ref() else {
            return;
        };
        if t.bcast {
            return;
        }
        let given = t.caching.is_some();
        if (t.optin && !given) || (t.optout && given) {
            return;
        }
        for k in keys {
            self.table.entry(k).or_default().insert(client.id);
        }
    }

    /// Sends one invalidation for client `id` (Redis's `sendTrackingMessage`).
    fn send(&self, out: &mut Out<'_>, id: u64, keys: Option<&[&[u8]]>) {
        let Some(&token) = self.clients.get(&id) else {
            return;
        };
        let redirect = out
            .with(token, |state, _| {
                if state.id != id {
                    return None;
                }
                state
                    .tracking
                    .as_ref()
                    .map(|t| (t.redirect, t.redirect_token.unwrap_or(Token(usize::MAX))))
            })
            .flatten();
        let Some((redir, redir_token)) = redirect else {
            return;
        };
        let target = if redir != 0 {
            let alive = out
                .with(redir_token, |state, _| state.id == redir)
                .unwrap_or(false);
            if !alive {
                out.with(token, |state, reply| {
                    if let Some(t) = state.tracking.as_mut() {
                        if !t.broken {
                            t.broken = true;
                            if reply.is_resp3() {
                                let mut m = Vec::new();
                                encode::header(&mut m, b'>', 2);
                                encode::bulk(&mut m, b"tracking-redir-broken");
                                m.extend_from_slice(format!(":{redir}\r\n").as_bytes());
                                reply.raw(&m);
                            }
                        }
                    }
                });
                return;
            }
            redir_token
        } else {
            token
        };
        out.with(target, |state, reply| {
            if reply.is_resp3() {
                reply.raw(&message(true, keys));
            } else if redir != 0 && state.has(Flags::PUBSUB) {
                reply.raw(&message(false, keys));
            }
        });
    }

    /// A key was modified: its clients are invalidated (but `by` under
    /// NOLOOP), and it leaves the table.
    fn invalidate_key(&mut self, out: &mut Out<'_>, key: &[u8], by: u64, bcast: bool) {
        if bcast && !self.prefixes.is_empty() {
            for (p, entry) in self.prefixes.iter_mut() {
                if key.starts_with(p) && entry.seen.insert(key.to_vec()) {
                    entry.keys.push((key.to_vec(), by));
                }
            }
        }
        let Some(ids) = self.table.remove(key) else {
            return;
        };
        for id in ids {
            let Some(&token) = self.clients.get(&id) else {
                continue;
            };
            let skip = out
                .with(token, |state, _| {
                    state.id != id
                        || state
                            .tracking
                            .as_ref()
                            .is_none_or(|t| t.bcast || (t.noloop && id == by))
                })
                .unwrap_or(true);
            if !skip {
                self.send(out, id, Some(&[key]));
            }
        }
    }

    /// Processes the queued signals.
    pub fn drain(&mut self, out: &mut Out<'_>) {
        let pending = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
        let mut flushed = false;
        for p in pending {
            match p {
                Pending::Key(key, by) => {
                    flushed = false;
                    self.invalidate_key(out, &key, by, true);
                }
                Pending::Flush { all } => {
                    // FLUSHALL flushes every database: one null message.
                    if !flushed {
                        let ids: Vec<u64> = self.clients.keys().copied().collect();
                        for id in ids {
                            self.send(out, id, None);
                        }
                    }
                    flushed = true;
                    if all {
                        self.table.clear();
                    }
                }
            }
        }
    }

    /// Redis's `trackingBroadcastInvalidationMessages` (before replies
    /// are written).
    pub fn broadcast(&mut self, out: &mut Out<'_>) {
        if self.prefixes.values().all(|p| p.keys.is_empty()) {
            return;
        }
        let prefixes: Vec<(Vec<u64>, Vec<Modified>)> = self
            .prefixes
            .values_mut()
            .filter(|p| !p.keys.is_empty())
            .map(|p| {
                p.seen.clear();
                (p.clients.clone(), std::mem::take(&mut p.keys))
            })
            .collect();
        for (clients, keys) in prefixes {
            for id in clients {
                let Some(&token) = self.clients.get(&id) else {
                    continue;
                };
                let noloop = out
                    .with(token, |s, _| s.tracking.as_ref().is_some_and(|t| t.noloop))
                    .unwrap_or(false);
                let list: Vec<&[u8]> = keys
                    .iter()
                    .filter(|(_, by)| !(noloop && *by == id))
                    .map(|(k, _)| k.as_slice())
                    .collect();
                if !list.is_empty() {
                    self.send(out, id, Some(&list));
                }
            }
        }
    }

    /// Redis's `trackingLimitUsedSlots`: past `max` keys, keys leave the
    /// table, their clients invalidated.
    pub fn limit(&mut self, out: &mut Out<'_>, max: usize) {
        if max == 0 || self.table.len() <= max {
            return;
        }
        let over: Vec<Vec<u8>> = self
            .table
            .keys()
            .take(self.table.len() - max)
            .cloned()
            .collect();
        for k in over {
            self.invalidate_key(out, &k, 0, false);
        }
    }

    /// Whether client `id` exists (a REDIRECT target), and its token.
    pub fn find_client(clients: &Clients, own: &ClientState, id: u64) -> Option<Token> {
        if own.id == id {
            return Some(own.token);
        }
        clients.iter().find(|c| c.state.id == id).map(|c| c.token)
    }
}
