//! CLIENT PAUSE, as Redis 7.0: `WRITE` holds every command that may change
//! the dataset (write or may-replicate flags), `ALL` holds every command.
//! A held client keeps its command in its query buffer and runs it once the
//! pause ends (timeout or CLIENT UNPAUSE). MONITOR clients are never held,
//! as Redis never holds replicas. During a pause the active expiry cycle
//! does not run, so the dataset does not change under a `WRITE` pause.

/// The kind of pause in effect; a later pause never weakens an earlier one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// No pause.
    #[default]
    Off,
    /// Writes are held.
    Write,
    /// Everything is held.
    All,
}

/// The pause state.
#[derive(Debug, Default, Clone, Copy)]
pub struct Pause {
    kind: Kind,
    /// Unix ms when it ends.
    end_ms: i64,
    /// FAILOVER holds writes until it ends or is aborted, apart from any
    /// CLIENT PAUSE (Redis's `PAUSE_DURING_FAILOVER` purpose): CLIENT
    /// UNPAUSE does not end it.
    failover: bool,
}

impl Pause {
    /// CLIENT PAUSE: pauses until `end_ms`, keeping the stronger kind and the
    /// later end of this and any pause in effect (Redis's `pauseClients`).
    pub fn pause(&mut self, kind: Kind, end_ms: i64) {
        if self.kind == Kind::Off {
            self.kind = kind;
            self.end_ms = end_ms;
        } else {
            self.kind = self.kind.max(kind);
            self.end_ms = self.end_ms.max(end_ms);
        }
    }

    /// CLIENT UNPAUSE: ends the client pause, not a failover's.
    pub fn unpause(&mut self) {
        self.kind = Kind::Off;
        self.end_ms = 0;
    }

    /// FAILOVER starts (true) or ends (false) holding writes.
    pub fn set_failover(&mut self, on: bool) {
        self.failover = on;
    }

    /// The pause in effect at `now_ms` (an expired one is cleared). Returns
    /// true when a pause has just ended.
    pub fn expire(&mut self, now_ms: i64) -> bool {
        if self.kind != Kind::Off && self.end_ms < now_ms {
            self.unpause();
            return true;
        }
        false
    }

    /// Whether any pause is in effect.
    pub fn active(&self) -> bool {
        self.kind != Kind::Off || self.failover
    }

    /// The kind in effect.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// When the client pause ends (Unix ms), if there is one.
    pub fn end_ms(&self) -> Option<i64> {
        (self.kind != Kind::Off).then_some(self.end_ms)
    }

    /// Whether the pause in effect holds a command: every one under `ALL`,
    /// those that may change the dataset (`may_write`: the write or
    /// may-replicate flag) under `WRITE`. `process_command` asks only once
    /// the command passed lookup, arity and authentication, so those fail
    /// at once; MONITOR clients are never held (it does not ask for them).
    /// A pause past its end still holds until the loop ends it (`expire`)
    /// and releases the held clients first, so no later command overtakes
    /// a held one.
    pub fn holds(&self, may_write: bool) -> bool {
        match self.kind {
            Kind::Off => self.failover && may_write,
            Kind::All => true,
            Kind::Write => may_write,
        }
    }

    /// Whether writes (and so expiry and eviction) are held.
    pub fn writes_paused(&self) -> bool {
        self.kind >= Kind::Write || self.failover
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_pause_only_strengthens_and_lengthens() {
        let mut p = Pause::default();
        p.pause(Kind::All, 100);
        p.pause(Kind::Write, 50);
        assert_eq!((p.kind(), p.end_ms()), (Kind::All, Some(100)));
        assert!(!p.expire(100));
        assert!(p.expire(101));
        assert!(!p.active());
        p.pause(Kind::Write, 10);
        assert!(p.writes_paused());
        assert!(p.holds(true) && !p.holds(false));
        p.unpause();
        assert_eq!(p.end_ms(), None);
    }
}
