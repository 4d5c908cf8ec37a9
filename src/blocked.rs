//! Parking: the one way a client waits, as Redis's `blocked.c`.
//!
//! A command that cannot go on now asks to block its client (a
//! `BlockRequest` from `process_command`: CLIENT PAUSE today; a key to be
//! ready or replicas to acknowledge tomorrow). The server then parks the
//! client here with its reason and, if it has one, its deadline, and keeps
//! the command parsed in the query buffer. When the reason goes away
//! (`release`) or the deadline passes (`timed_out`), the client is queued
//! and the command goes through `process_command` again, from the start.
//!
//! A parked client reads no further commands; its socket is still watched,
//! so a disconnect is noticed and the client unparked (`unpark`).

use std::collections::{BTreeSet, HashMap};

use mio::Token;

/// Why a client waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockReason {
    /// CLIENT PAUSE holds its command until the pause ends (Redis's
    /// BLOCKED_POSTPONE).
    Postpone,
}

impl BlockReason {
    /// The name Redis's INFO and CLIENT LIST use for it.
    pub fn name(self) -> &'static str {
        match self {
            BlockReason::Postpone => "postpone",
        }
    }
}

/// What a command asks for when its client must wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockRequest {
    /// Why.
    pub reason: BlockReason,
    /// Unix ms after which the wait ends on its own; 0 for none.
    pub deadline_ms: i64,
}

/// The parked clients, by token, with a deadline index.
#[derive(Debug, Default)]
pub struct Parking {
    parked: HashMap<Token, BlockRequest>,
    /// (deadline, token) of parked clients that have a deadline.
    deadlines: BTreeSet<(i64, Token)>,
}

impl Parking {
    /// Parks a client. A client already parked keeps its first request.
    pub fn park(&mut self, token: Token, req: BlockRequest) {
        if self.parked.contains_key(&token) {
            return;
        }
        self.parked.insert(token, req);
        if req.deadline_ms > 0 {
            self.deadlines.insert((req.deadline_ms, token));
        }
    }

    /// Unparks a client (served, timed out, or gone); returns why it waited.
    pub fn unpark(&mut self, token: Token) -> Option<BlockReason> {
        let req = self.parked.remove(&token)?;
        if req.deadline_ms > 0 {
            self.deadlines.remove(&(req.deadline_ms, token));
        }
        Some(req.reason)
    }

    /// Unparks every client waiting for `reason`, in no particular order.
    pub fn release(&mut self, reason: BlockReason) -> Vec<Token> {
        let tokens: Vec<Token> = self
            .parked
            .iter()
            .filter(|(_, r)| r.reason == reason)
            .map(|(&t, _)| t)
            .collect();
        for &t in &tokens {
            self.unpark(t);
        }
        tokens
    }

    /// Unparks the clients whose deadline is before `now_ms`.
    pub fn timed_out(&mut self, now_ms: i64) -> Vec<Token> {
        let mut out = Vec::new();
        while let Some(&(deadline, token)) = self.deadlines.first() {
            if deadline >= now_ms {
                break;
            }
            self.unpark(token);
            out.push(token);
        }
        out
    }

    /// The earliest deadline, for the event loop's sleep.
    pub fn next_deadline(&self) -> Option<i64> {
        self.deadlines.first().map(|&(d, _)| d)
    }

    /// Why `token` waits, if it does.
    pub fn reason(&self, token: Token) -> Option<BlockReason> {
        self.parked.get(&token).map(|r| r.reason)
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
        BlockRequest {
            reason: BlockReason::Postpone,
            deadline_ms,
        }
    }

    #[test]
    fn deadlines_release_in_order_and_unpark_forgets_them() {
        let mut p = Parking::default();
        p.park(Token(1), req(300));
        p.park(Token(2), req(100));
        p.park(Token(3), req(0));
        p.park(Token(4), req(200));
        assert_eq!(p.next_deadline(), Some(100));
        assert_eq!(p.unpark(Token(4)), Some(BlockReason::Postpone));
        assert_eq!(p.timed_out(250), vec![Token(2)]);
        assert_eq!(p.len(), 2);
        assert_eq!(p.timed_out(1000), vec![Token(1)]);
        assert_eq!(p.next_deadline(), None);
        assert_eq!(p.release(BlockReason::Postpone), vec![Token(3)]);
        assert!(p.is_empty());
        assert_eq!(p.unpark(Token(3)), None);
    }
}
