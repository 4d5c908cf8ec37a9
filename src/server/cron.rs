//! Timers, `hz` times a second: stats samples, client timeouts and output
//! limits, giving memory back, active expiry, table resizing, and the
//! AOF's cron work.

use super::*;

impl Server {
    /// Timers, `hz` times a second.
    pub(super) fn cron(&mut self) {
        let hz = self.core.config.hz.max(1);
        let period = Duration::from_micros(1_000_000 / hz as u64);
        self.next_cron = Instant::now() + period;
        self.cron_count += 1;
        let now = unix_ms();
        self.replica_cron();

        // Stats samples every 100 ms.
        let stats = &mut self.core.stats;
        let ops = stats.total_commands_processed;
        let (inb, outb) = (stats.net_input_bytes, stats.net_output_bytes);
        stats.ops.track(now, ops);
        stats.input.track(now, inb);
        stats.output.track(now, outb);

        // Keep the LRU clock fresh even when no lookup advances it.
        crate::db::lru::refresh(now);
        let used = crate::memory::used_memory();
        self.core.peak_memory = self.core.peak_memory.max(used);
        self.clients_cron(now);
        self.core.ops.migrate.close_idle(now);
        crate::repl::master::cron(
            &mut self.core.propagator.repl,
            &self.clients,
            self.core.config.repl_ping_replica_period,
            now,
        );
        let timeout_ms = self.core.config.repl_timeout as i64 * 1000;
        for (t, name) in crate::repl::master::timed_out(&self.clients, timeout_ms, now) {
            log::warn!("Disconnecting timedout replica (streaming sync): {name}");
            self.clients.kill(t);
        }
        self.trim_memory();
        crate::service::watchdog();

        // Databases: active expiry (not under CLIENT PAUSE WRITE), then
        // table resizing and rehashing.
        if !self.core.ops.pause.writes_paused() && !self.core.is_replica {
            let (effort, hz_cfg) = (self.core.config.active_expire_effort, self.core.config.hz);
            let started = Instant::now();
            active_expire_cycle(
                &mut self.dbs,
                &mut self.core.expire,
                CycleKind::Slow,
                now,
                effort,
                hz_cfg,
            );
            let ms = started.elapsed().as_millis() as u64;
            let threshold = self.core.config.latency_monitor_threshold;
            self.core
                .ops
                .latency
                .add_if_needed(threshold, "expire-cycle", ms);
            self.feed_expired();
        }
        self.databases_cron();

        self.core.aof.cron();
        self.core.aof.rewrite_cron(&self.core.config);
        self.record_aof_latency();
        for token in std::mem::take(&mut self.accept_retry_cron) {
            self.accept(token);
        }
        // Accepted here, after this tick's work: read them next tick, and
        // don't let the loop sleep until then.
        self.pending.append(&mut self.work);
    }

    pub(super) fn clients_cron(&mut self, now: i64) {
        self.output_limits_cron();
        let timeout = self.core.config.timeout;
        if timeout == 0 {
            return;
        }
        let limit = timeout as i64 * 1000;
        // MONITOR clients, replicas and clients held by CLIENT PAUSE are never idle,
        // as in Redis. A client with unsent replies is: if it read none of
        // them for `timeout` seconds (writing them moves its interaction
        // time), it stopped reading. Not one whose replies the server
        // itself holds until its writes are in the AOF: that wait is ours.
        let durable = self.core.aof.durable_offset();
        let idle: Vec<Token> = self
            .clients
            .iter()
            .filter(|c| {
                now - c.state.last_interaction_ms > limit
                    && !c.state.has(Flags::MONITOR)
                    && !c.state.has(Flags::REPLICA)
                    && !c.state.has(Flags::BLOCKED)
                    && (c.state.needs_aof <= durable || c.reply.is_empty())
            })
            .map(|c| c.token)
            .collect();
        for t in idle {
            if let Some(c) = self.clients.get_mut(t) {
                log::debug!(
                    "Closing idle client id={} addr={}",
                    c.state.id,
                    c.state.addr
                );
                c.closing = Some(CloseReason::Timeout);
            }
            self.clients.kill(t);
        }
    }

    /// The soft output buffer limit is a matter of time: check every client
    /// whose output is waiting (Redis's clientsCron does the same).
    pub(super) fn output_limits_cron(&mut self) {
        let limits = self.core.config.client_output_buffer_limit;
        let normal = limits.for_client(false);
        if normal.hard == 0
            && normal.soft == 0
            && self.core.ops.monitors.is_empty()
            && self.core.pubsub.subscribers() == 0
        {
            return;
        }
        let over: Vec<Token> = self
            .clients
            .iter()
            .filter(|c| !c.reply.is_empty() || c.state.obuf_soft_since != 0)
            .map(|c| c.token)
            .collect();
        for t in over {
            let Some(mut c) = self.clients.take(t) else {
                continue;
            };
            let reached = !c.state.has(Flags::CLOSE_ASAP) && self.output_limit_reached(&mut c);
            self.clients.put_back(c);
            if reached {
                if let Some(c) = self.clients.get_mut(t) {
                    c.closing = Some(CloseReason::OutputBufferLimit);
                }
                self.clients.kill(t);
            }
        }
    }

    /// Returns free heap memory to the system once it is well above what is
    /// in use (closed connections, deleted data): glibc keeps it otherwise,
    /// and RSS would never come down. At most once every 10 seconds; a trim
    /// that gave back little (a fragmented heap, where trimming cannot
    /// close the gap) doubles the wait, up to 10 minutes, so the loop does
    /// not pay for useless trims. The time it takes goes to the latency
    /// monitor (`malloc-trim`).
    pub(super) fn trim_memory(&mut self) {
        if self.last_trim.elapsed() < self.trim_interval {
            return;
        }
        self.last_trim = Instant::now();
        let rss = crate::memory::rss_bytes();
        let used = crate::memory::used_memory();
        if rss < used.saturating_mul(3) / 2 || rss - used < TRIM_MIN_EXCESS {
            self.trim_interval = TRIM_INTERVAL;
            return;
        }
        let started = Instant::now();
        crate::memory::purge();
        let ms = started.elapsed().as_millis() as u64;
        let given_back = rss.saturating_sub(crate::memory::rss_bytes());
        self.trim_interval = if given_back >= (rss - used) / 4 {
            TRIM_INTERVAL
        } else {
            (self.trim_interval * 2).min(TRIM_INTERVAL_MAX)
        };
        let threshold = self.core.config.latency_monitor_threshold;
        self.core
            .ops
            .latency
            .add_if_needed(threshold, "malloc-trim", ms);
    }

    pub(super) fn databases_cron(&mut self) {
        // Shrink sparse tables, then spend up to 1 ms finishing rehashes.
        for db in &mut self.dbs {
            db.dict.shrink_if_needed();
            db.expires.shrink_if_needed();
        }
        let deadline = Instant::now() + Duration::from_millis(1);
        for db in &mut self.dbs {
            if db.dict.is_rehashing() {
                db.dict.rehash_until(deadline);
            }
            if db.expires.is_rehashing() {
                db.expires.rehash_until(deadline);
            }
            if Instant::now() >= deadline {
                break;
            }
        }
    }
}
