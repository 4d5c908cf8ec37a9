//! The loop's work for the replicas of this master: the stream bytes of
//! the tick to each online replica, the periodic PING, REPLCONF GETACK for
//! WAIT, and the replica list INFO and ROLE show.

use mio::Token;

use super::ReplStream;
use crate::client::{Clients, Flags};
use crate::resp::encode::command as encode_command;

/// End of the tick (after the AOF write, before replies leave): asks the
/// replicas for their offset if a WAIT wants it, then appends what the
/// stream got this tick to each online replica's output. A replica whose
/// output overflows its `replica` class limit is closed, as in Redis.
pub fn feed_replicas(stream: &mut ReplStream, clients: &mut Clients) {
    if !stream.active() {
        return;
    }
    if stream.getack_wanted {
        stream.getack_wanted = false;
        let mut cmd = Vec::with_capacity(40);
        encode_command(
            &mut cmd,
            [&b"REPLCONF"[..], &b"GETACK"[..], &b"*"[..]].into_iter(),
        );
        stream.feed_command(None, &cmd);
    }
    let (start, bytes) = stream.take_tick();
    if bytes.is_empty() {
        stream.return_tick(bytes);
        return;
    }
    let end = stream.offset;
    let mut fed: Vec<(Token, bool)> = Vec::new();
    for c in clients.iter_mut() {
        let Some(r) = c.state.repl.as_mut() else {
            continue;
        };
        let holding = r.in_child || r.await_ack;
        if !(r.online || holding) || r.sent >= end {
            continue;
        }
        // `sent` is never before this tick's start: PSYNC hands a replica
        // everything up to the offset of its sync, and a snapshot child
        // everything up to the offset of its fork.
        let skip = (r.sent + 1).saturating_sub(start) as usize;
        let tail = &bytes[skip.min(bytes.len())..];
        r.sent = end;
        if holding {
            // The child owns the socket, or the replica has yet to find
            // the snapshot's end: kept until then.
            let fits = super::sync::hold(r, tail);
            fed.push((c.token, !fits));
            continue;
        }
        c.reply.raw(tail);
        fed.push((c.token, c.reply.overflowed()));
    }
    for (t, overflowed) in fed {
        if overflowed {
            log::warn!("Client closed for overcoming of output buffer limits (replica).");
            clients.kill(t);
        } else {
            clients.queue_flush(t);
        }
    }
    stream.return_tick(bytes);
}

/// Every `repl-ping-replica-period` seconds while replicas are connected,
/// a PING in the stream (`replicationCron`), so that they see the link
/// alive and their offset moves.
pub fn cron(stream: &mut ReplStream, clients: &Clients, period_secs: u64, now_ms: i64) {
    // A FAILOVER waits for a replica to reach the offset: no PING moves it.
    if !stream.active() || period_secs == 0 || stream.failover.state != super::FailoverState::None {
        return;
    }
    if now_ms - stream.last_ping_ms < period_secs as i64 * 1000 {
        return;
    }
    stream.last_ping_ms = now_ms;
    if replicas(clients).next().is_none() {
        return;
    }
    let mut ping = Vec::with_capacity(16);
    encode_command(&mut ping, [&b"PING"[..]].into_iter());
    stream.feed_command(None, &ping);
}

/// The online replicas that sent no REPLCONF ACK for `timeout_ms`
/// (`repl-timeout`), with their names for the log: Redis closes them.
pub fn timed_out(clients: &Clients, timeout_ms: i64, now_ms: i64) -> Vec<(Token, String)> {
    clients
        .iter()
        .filter(|c| c.state.has(Flags::REPLICA))
        .filter(|c| {
            c.state
                .repl
                .as_ref()
                .is_some_and(|r| (r.online || r.await_ack) && now_ms - r.ack_ms > timeout_ms)
        })
        .map(|c| (c.token, super::replica_name(&c.state)))
        .collect()
}

/// One replica as INFO and ROLE show it.
#[derive(Debug, Clone)]
pub struct ReplicaView {
    /// Announced or peer IP.
    pub ip: String,
    /// REPLCONF listening-port.
    pub port: u16,
    /// `wait_bgsave` until its snapshot is sent, then `online`.
    pub state: &'static str,
    /// Its acknowledged offset.
    pub offset: u64,
    /// Seconds since its last ACK.
    pub lag: i64,
}

/// The replicas (clients that completed PSYNC/SYNC), in connection order.
pub fn replicas(clients: &Clients) -> impl Iterator<Item = ReplicaView> + '_ {
    let now = crate::util::time::unix_ms();
    clients
        .iter()
        .filter(|c| c.state.has(Flags::REPLICA))
        .filter_map(move |c| {
            let r = c.state.repl.as_ref()?;
            let ip = r.announced_ip.clone().unwrap_or_else(|| {
                c.state
                    .addr
                    .rsplit_once(':')
                    .map_or(c.state.addr.clone(), |(ip, _)| ip.to_string())
            });
            Some(ReplicaView {
                ip,
                port: r.listening_port,
                state: if r.online || r.await_ack {
                    "online"
                } else {
                    "wait_bgsave"
                },
                offset: r.ack_off,
                lag: ((now - r.ack_ms) / 1000).max(0),
            })
        })
}

/// How many replicas acknowledged at least `offset` (WAIT's count,
/// `replicationCountAcksByOffset`).
pub fn count_acks(clients: &Clients, offset: u64) -> usize {
    clients
        .iter()
        .filter(|c| c.state.has(Flags::REPLICA))
        .filter(|c| c.state.repl.as_ref().is_some_and(|r| r.ack_off >= offset))
        .count()
}

/// The replicas that count for `min-replicas-to-write`: online, with an
/// ACK within `max_lag` seconds (Redis's `refreshGoodSlavesCount`).
pub fn good_replicas(clients: &Clients, max_lag: u64) -> usize {
    replicas(clients)
        .filter(|r| r.state == "online" && r.lag as u64 <= max_lag)
        .count()
}

/// Whether writes may run under `min-replicas-to-write` (Redis's
/// `checkGoodReplicasStatus`): always on a replica or with the check off.
pub fn enough_good_replicas(core: &crate::core::Core, clients: &Clients) -> bool {
    let (want, lag) = (
        core.config.min_replicas_to_write,
        core.config.min_replicas_max_lag,
    );
    core.is_replica || want == 0 || lag == 0 || good_replicas(clients, lag) as u64 >= want
}

/// `-NOREPLICAS`, Redis's `shared.noreplicaserr`.
pub const NOREPLICAS: &str = "NOREPLICAS Not enough good replicas to write.";
