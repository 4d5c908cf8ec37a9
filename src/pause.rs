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
}

impl Pause {
    /// CLIENT PAUSE: pauses until `end_ms`, keeping the stronger kind and the
    /// later end of this and any pause in effect (Redis's `pauseClients`).
    pub fn pause(&mut self, kind: Kind, end_ms: i64) {
        if self.kind == Kind::Off {
            *self = Pause { kind, end_ms };
        } else {
            self.kind = self.kind.max(kind);
            self.end_ms = self.end_ms.max(end_ms);
        }
    }

    /// CLIENT UNPAUSE.
    pub fn unpause(&mut self) {
        *self = Pause::default();
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
        self.kind != Kind::Off
    }

    /// The kind in effect.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// When it ends (Unix ms), if paused.
    pub fn end_ms(&self) -> Option<i64> {
        self.active().then_some(self.end_ms)
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
            Kind::Off => false,
            Kind::All => true,
            Kind::Write => may_write,
        }
    }

    /// Whether writes (and so expiry and eviction) are held.
    pub fn writes_paused(&self) -> bool {
        self.kind >= Kind::Write
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
