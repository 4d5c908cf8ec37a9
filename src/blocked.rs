//! Parking: the one way a client waits, as Redis's `blocked.c`.
//!
//! A command that cannot go on now asks to block its client (a
//! `BlockRequest`: from `process_command` under CLIENT PAUSE, or from a
//! blocking command's handler waiting for keys). The server then parks the
//! client here with its reason and, if it has one, its deadline, and keeps
//! the command parsed in the query buffer. A client waiting for keys is
//! also in each key's line of waiters (`Db::waiting`, Redis's
//! `blocking_keys`). When the reason goes away (`release`, or a key it waits
//! for becomes ready: the server's `serve_ready_keys`) or the deadline
//! passes (`timed_out`), the client's command goes through
//! `process_command` again, from the start: a pop then serves it, or, past
//! its deadline, answers the timeout reply.
//!
//! A parked client runs no further commands; it is still read, so a
//! disconnect is noticed and the client unparked (`unpark`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use mio::Token;

/// Why a client waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockReason {
    /// CLIENT PAUSE holds its command until the pause ends (Redis's
    /// BLOCKED_POSTPONE).
    Postpone,
    /// A blocking pop waits for one of its keys to hold a list (Redis's
    /// BLOCKED_LIST).
    List,
    /// A sorted-set pop waits for one of its keys to hold a sorted set
    /// (Redis's BLOCKED_ZSET).
    Zset,
    /// XREAD/XREADGROUP waits for one of its keys to hold new stream
    /// entries (Redis's BLOCKED_STREAM).
    Stream,
    /// WAIT waits for replicas to acknowledge its client's writes (Redis's
    /// BLOCKED_WAIT).
    Wait,
}

impl BlockReason {
    /// The name Redis's INFO and CLIENT LIST use for it.
    pub fn name(self) -> &'static str {
        match self {
            BlockReason::Postpone => "postpone",
            BlockReason::List => "list",
            BlockReason::Zset => "zset",
            BlockReason::Stream => "stream",
            BlockReason::Wait => "wait",
        }
    }
}

/// What a command asks for when its client must wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRequest {
    /// Why.
    pub reason: BlockReason,
    /// Unix ms after which the wait ends on its own; 0 for none.
    pub deadline_ms: i64,
    /// The database of `keys`.
    pub db: usize,
    /// The keys waited for (none for a pause), without repeats.
    pub keys: Vec<Vec<u8>>,
}

impl BlockRequest {
    /// A wait for no key (CLIENT PAUSE).
    pub fn without_keys(reason: BlockReason, deadline_ms: i64) -> BlockRequest {
        BlockRequest {
            reason,
            deadline_ms,
            db: 0,
            keys: Vec::new(),
        }
    }
}

/// The parked clients, by token, in the order they were parked, with a
/// deadline index.
#[derive(Debug, Default)]
pub struct Parking {
    /// Each parked client's place in line and request.
    parked: HashMap<Token, (u64, BlockRequest)>,
    /// Parked clients in the order they were parked (Redis serves and
    /// releases waiters first come, first served).
    line: BTreeMap<u64, Token>,
    /// (deadline, token) of parked clients that have a deadline.
    deadlines: BTreeSet<(i64, Token)>,
    /// The next place in line.
    next: u64,
}

impl Parking {
    /// Parks a client. A client already parked keeps its first request.
    pub fn park(&mut self, token: Token, req: BlockRequest) {
        if self.parked.contains_key(&token) {
            return;
        }
        let seq = self.next;
        self.next += 1;
        if req.deadline_ms > 0 {
            self.deadlines.insert((req.deadline_ms, token));
        }
        self.parked.insert(token, (seq, req));
        self.line.insert(seq, token);
    }

    /// Unparks a client (served, timed out, or gone); returns its request,
    /// whose keys the caller takes it out of the waiters of.
    pub fn unpark(&mut self, token: Token) -> Option<BlockRequest> {
        let (seq, req) = self.parked.remove(&token)?;
        self.line.remove(&seq);
        if req.deadline_ms > 0 {
            self.deadlines.remove(&(req.deadline_ms, token));
        }
        Some(req)
    }

    /// Unparks every client waiting for `reason`, in the order they were
    /// parked (held writes then run in the order they arrived, as Redis's
    /// postponed-clients list does).
    pub fn release(&mut self, reason: BlockReason) -> Vec<(Token, BlockRequest)> {
        let tokens: Vec<Token> = self
            .line
            .values()
            .copied()
            .filter(|t| self.parked.get(t).is_some_and(|(_, r)| r.reason == reason))
            .collect();
        tokens
            .into_iter()
            .filter_map(|t| self.unpark(t).map(|r| (t, r)))
            .collect()
    }

    /// Unparks the clients whose deadline is before `now_ms`.
    pub fn timed_out(&mut self, now_ms: i64) -> Vec<(Token, BlockRequest)> {
        let mut out = Vec::new();
        while let Some(&(deadline, token)) = self.deadlines.first() {
            if deadline >= now_ms {
                break;
            }
            if let Some(r) = self.unpark(token) {
                out.push((token, r));
            }
        }
        out
    }

    /// Why `token` waits, if it does.
    pub fn reason(&self, token: Token) -> Option<BlockReason> {
        self.parked.get(&token).map(|(_, r)| r.reason)
    }

    /// The earliest deadline, for the event loop's sleep.
    pub fn next_deadline(&self) -> Option<i64> {
        self.deadlines.first().map(|&(d, _)| d)
    }

    /// Parked clients (INFO blocked_clients).
    pub fn len(&self) -> usize {
        self.parked.len()
    }

    /// Whether no client is parked.
    pub fn is_empty(&self) -> bool {
        self.parked.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(deadline_ms: i64) -> BlockRequest {
        BlockRequest::without_keys(BlockReason::Postpone, deadline_ms)
    }

    fn tokens(v: Vec<(Token, BlockRequest)>) -> Vec<Token> {
        v.into_iter().map(|(t, _)| t).collect()
    }

    #[test]
    fn deadlines_and_release_keep_their_order_and_unpark_forgets() {
        let mut p = Parking::default();
        p.park(Token(1), req(300));
        p.park(Token(2), req(100));
        p.park(Token(3), req(0));
        p.park(Token(4), req(200));
        assert_eq!(p.next_deadline(), Some(100));
        assert_eq!(
            p.unpark(Token(4)).map(|r| r.reason),
            Some(BlockReason::Postpone)
        );
        assert_eq!(tokens(p.timed_out(250)), vec![Token(2)]);
        assert_eq!(p.len(), 2);
        assert_eq!(tokens(p.timed_out(1000)), vec![Token(1)]);
        assert_eq!(p.next_deadline(), None);
        assert_eq!(tokens(p.release(BlockReason::Postpone)), vec![Token(3)]);
        assert!(p.is_empty());
        // Released in the order they were parked, whatever the tokens.
        for t in [9, 4, 7, 1] {
            p.park(Token(t), req(0));
        }
        p.unpark(Token(7));
        assert_eq!(
            tokens(p.release(BlockReason::Postpone)),
            vec![Token(9), Token(4), Token(1)]
        );
        assert!(p.unpark(Token(3)).is_none());
    }
}
