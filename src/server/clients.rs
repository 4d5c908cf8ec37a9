//! A client's share of the tick: read, parse and process its commands
//! within the budgets (`process_client`), park it when a command blocks,
//! write its replies once their writes are durable (`flush_replies`), and
//! close it.

use super::*;

impl Server {
    /// Reads, parses and runs commands of one client, within the budgets.
    pub(super) fn process_client(&mut self, token: Token) {
        let Some(mut c) = self.clients.take(token) else {
            return;
        };
        c.state.flags.set(Flags::QUEUED, false);
        if c.query.capacity() == 0 {
            c.query.lend_buffer(std::mem::take(&mut self.spare_query));
        }
        if c.reply.capacity() == 0 {
            if let Some(buf) = self.reply_pool.pop() {
                c.reply.lend_buffer(buf);
            }
        }
        let mut read_total = 0usize;
        let mut commands_left = COMMAND_BUDGET;
        // Output this tick may add before the client yields (what it had
        // already does not count: a client that does not read must still
        // have its input processed).
        let output_yield = c.reply.pending_len().saturating_add(OUTPUT_YIELD);
        let mut more = false;
        loop {
            if c.closing.is_some()
                || c.state.has(Flags::CLOSE_AFTER_REPLY)
                || c.state.has(Flags::CLOSE_ASAP)
            {
                break;
            }
            // Run what the buffer already holds.
            match self.run_commands(&mut c, &mut commands_left, output_yield) {
                Ran::NeedInput => {}
                Ran::Budget => {
                    more = true;
                    break;
                }
                Ran::Stop => break,
            }
            if !c.state.has(Flags::READABLE) {
                break;
            }
            // Bounded input per tick; more while a big bulk streams in.
            let big = c.query.big_remaining();
            let limit = if big.is_some() {
                BIG_READ_BUDGET
            } else {
                READ_BUDGET
            };
            if read_total >= limit {
                more = true;
                break;
            }
            let want = big.unwrap_or(READ_CHUNK).min(limit - read_total).max(1);
            let target = c.query.read_target(want);
            let asked = target.len();
            self.core.stats.total_reads_processed += 1;
            match c.stream.read(target) {
                Ok(0) => {
                    // The peer will send no more; what it sent still gets
                    // its replies (it may have only shut down its side).
                    c.state.flags.set(Flags::READABLE, false);
                    c.state.flags.set(Flags::CLOSE_AFTER_REPLY, true);
                    break;
                }
                Ok(n) => {
                    c.query.commit_read(n);
                    // Any input counts as interaction (a big upload in
                    // progress is not idle), as Redis's readQueryFromClient.
                    c.state.last_interaction_ms = self.core.clock.tick_ms();
                    if let Some(r) = c.state.repl.as_mut() {
                        // A replica that is loading its snapshot sends
                        // newlines, not ACKs: any input keeps it from
                        // `repl-timeout`, as Redis's repl_ack_time.
                        r.ack_ms = r.ack_ms.max(crate::util::time::unix_ms());
                    }
                    self.core.stats.net_input_bytes += n as u64;
                    read_total += n;
                    // A short read drained the socket, unless the peer closed
                    // its side: then only a read of 0 bytes tells us so.
                    if n < asked && !c.state.has(Flags::READ_CLOSED) {
                        c.state.flags.set(Flags::READABLE, false);
                    }
                    if c.query.buffered() as i64 > self.core.config.client_query_buffer_limit {
                        log::warn!("Closing client that reached max query buffer length: id={} addr={} (qbuf={})", c.state.id, c.state.addr, c.query.buffered());
                        self.core.stats.client_qbuf_limit_disconnections += 1;
                        c.closing = Some(CloseReason::QueryBufferLimit);
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    c.state.flags.set(Flags::READABLE, false);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    log::debug!("Reading from client {}: {e}", c.state.addr);
                    c.closing = Some(CloseReason::IoError);
                    break;
                }
            }
        }
        self.reclaim_buffers(&mut c);
        if c.closing.is_some() || c.state.has(Flags::CLOSE_ASAP) {
            self.close_client(c);
            return;
        }
        if (!c.reply.is_empty() || c.state.has(Flags::CLOSE_AFTER_REPLY))
            && !c.state.has(Flags::PENDING_WRITE)
        {
            c.state.flags.set(Flags::PENDING_WRITE, true);
            self.writes.push(token);
        }
        if more && !c.state.has(Flags::QUEUED) {
            c.state.flags.set(Flags::QUEUED, true);
            self.pending.push(token);
        }
        self.clients.put_back(c);
    }

    pub(super) fn run_commands(
        &mut self,
        c: &mut Client,
        budget: &mut usize,
        output_yield: usize,
    ) -> Ran {
        // Whether this client has an output buffer limit to check after each
        // command (the default normal class has none).
        let limit =
            crate::limits::limit_for(&self.core.config.client_output_buffer_limit, &c.state);
        let limited = limit.hard != 0 || limit.soft != 0;
        loop {
            if *budget == 0 {
                return Ran::Budget;
            }
            if c.reply.pending_len() > output_yield {
                // Let the others run; its replies go out at the end of the
                // tick and it goes on next tick, reading as usual.
                return Ran::Budget;
            }
            if c.state.has(Flags::CLOSE_AFTER_REPLY)
                || c.state.has(Flags::CLOSE_ASAP)
                || self.core.shutdown.is_some()
            {
                return Ran::Stop;
            }
            let limits = Limits {
                max_bulk_len: self.core.config.proto_max_bulk_len,
                auth_required: !c.state.has(Flags::AUTHENTICATED)
                    && !self.core.config.requirepass.is_empty(),
                oversize_is_incomplete: false,
            };
            match c.query.next(&limits) {
                Ok(true) => {}
                Ok(false) => return Ran::NeedInput,
                Err(e) => {
                    log::debug!(
                        "Protocol error ({e}) from client: id={} addr={}",
                        c.state.id,
                        c.state.addr
                    );
                    c.reply.error(&CmdError::msg(e.to_string()));
                    self.core.stats.count_error("ERR");
                    c.query.reset();
                    c.state.flags.set(Flags::CLOSE_AFTER_REPLY, true);
                    return Ran::Stop;
                }
            }
            if c.state.has(Flags::BLOCKED) {
                // A parked client runs nothing, but is still read (into its
                // query buffer, within its limit), so a disconnect is seen
                // and it is unparked, as Redis does.
                return Ran::NeedInput;
            }
            *budget -= 1;
            c.state.last_interaction_ms = self.core.clock.tick_ms();
            let outcome = {
                let Client {
                    query,
                    reply,
                    state,
                    ..
                } = &mut *c;
                let args = query.args();
                let Server {
                    dbs,
                    core,
                    clients,
                    redaction,
                    ..
                } = self;
                let mut x = Exec {
                    dbs,
                    client: state,
                    reply,
                    clients,
                    core,
                    redaction,
                };
                commands::process_command(&mut x, &args)
            };
            if let Outcome::Block(req) = outcome {
                // Parked with its command still parsed: it is processed
                // again, from the start, when the wait ends.
                self.park(c, req);
                return Ran::Stop;
            }
            c.state.block_deadline_ms = 0;
            c.query.consume();
            // Clients waiting for keys this command readied are served now,
            // before this client's next command (Redis's
            // `handleClientsBlockedOnKeys` after `call`).
            self.serve_ready_keys();
            if (limited || c.reply.overflowed()) && self.output_limit_reached(c) {
                c.closing = Some(CloseReason::OutputBufferLimit);
                return Ran::Stop;
            }
        }
    }

    /// Redis's `closeClientOnOutputBufferLimitReached`: whether the client's
    /// pending output broke its hard limit, or its soft limit for too long.
    /// Logs and counts the disconnection.
    pub(super) fn output_limit_reached(&mut self, c: &mut Client) -> bool {
        let overflowed = c.reply.overflowed();
        let limit =
            crate::limits::limit_for(&self.core.config.client_output_buffer_limit, &c.state);
        if !overflowed && limit.hard == 0 && limit.soft == 0 {
            return false;
        }
        let pending = c.reply.pending_len() as u64;
        if !overflowed && pending == 0 && c.state.obuf_soft_since == 0 {
            return false;
        }
        let now = if limit.soft != 0 { unix_ms() / 1000 } else { 0 };
        if overflowed || limit.reached(pending, now, &mut c.state.obuf_soft_since) {
            crate::limits::log_output_limit_close(c);
            self.core.stats.client_outbuf_limit_disconnections += 1;
            return true;
        }
        false
    }

    /// Gives a drained client's buffers back: its query buffer becomes the
    /// spare (or is freed), its reply buffer, if empty, goes to the pool.
    pub(super) fn reclaim_buffers(&mut self, c: &mut Client) {
        if let Some(buf) = c.query.take_idle_buffer() {
            if self.spare_query.capacity() == 0 && buf.len() <= 4 * READ_CHUNK {
                self.spare_query = buf;
            }
        }
        if c.reply.is_empty() {
            if let Some(buf) = c.reply.take_buffer() {
                if self.reply_pool.len() < REPLY_POOL_MAX && buf.capacity() <= REPLY_POOL_BUF_MAX {
                    self.reply_pool.push(buf);
                }
            }
        }
    }

    pub(super) fn flush_replies(&mut self) {
        let durable = self.core.aof.durable_offset();
        let writes = std::mem::take(&mut self.writes);
        let mut held = Vec::new();
        for token in writes {
            let Some(c) = self.clients.get_mut(token) else {
                continue;
            };
            c.state.flags.set(Flags::PENDING_WRITE, false);
            // A killed client gets nothing more (Redis's
            // handleClientsWithPendingWrites skips CLOSE_ASAP): a replica
            // killed in a transaction must not receive what followed.
            if c.state.has(Flags::CLOSE_ASAP) {
                continue;
            }
            if crate::repl::sync::socket_owned_by_child(&c.state) {
                // A snapshot child writes to this replica's socket; what
                // the loop has for it waits until the child is done.
                continue;
            }
            if c.state.needs_aof > durable && !c.reply.is_empty() {
                // Its write is not in the AOF yet (postponed or failed write).
                c.state.flags.set(Flags::PENDING_WRITE, true);
                held.push(token);
                continue;
            }
            let mut failed = false;
            if !c.reply.is_empty() {
                self.core.stats.total_writes_processed += 1;
            }
            let mut wrote = false;
            while !c.reply.is_empty() {
                match c.stream.write(c.reply.pending()) {
                    Ok(0) => {
                        failed = true;
                        break;
                    }
                    Ok(n) => {
                        self.core.stats.net_output_bytes += n as u64;
                        c.reply.advance(n);
                        wrote = true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        c.state.flags.set(Flags::WRITABLE, false);
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => {
                        failed = true;
                        break;
                    }
                }
            }
            if wrote {
                // A client that reads its replies is not idle, however long
                // they take (Redis's writeToClient).
                c.state.last_interaction_ms = self.core.clock.tick_ms();
            }
            if c.reply.is_empty() {
                if let Some(buf) = c.reply.take_buffer() {
                    if self.reply_pool.len() < REPLY_POOL_MAX
                        && buf.capacity() <= REPLY_POOL_BUF_MAX
                    {
                        self.reply_pool.push(buf);
                    }
                }
            }
            if failed {
                c.closing = Some(CloseReason::IoError);
            } else if c.reply.is_empty() && c.state.has(Flags::CLOSE_AFTER_REPLY) {
                c.closing = Some(CloseReason::AfterReply);
            } else if !c.reply.is_empty() && c.state.has(Flags::WRITABLE) {
                c.state.flags.set(Flags::PENDING_WRITE, true);
                held.push(token);
            }
            if c.closing.is_some() {
                if let Some(c) = self.clients.remove(token) {
                    self.drop_client(c);
                }
            }
        }
        self.writes = held;
        self.close_killed();
    }

    pub(super) fn close_killed(&mut self) {
        for t in self.clients.take_killed() {
            if let Some(c) = self.clients.remove(t) {
                self.drop_client(c);
            }
        }
    }

    pub(super) fn close_client(&mut self, c: Box<Client>) {
        // `c` was taken out of the slab; put it back so remove() frees its slot.
        let token = c.token;
        self.clients.put_back(c);
        if let Some(c) = self.clients.remove(token) {
            self.drop_client(c);
        }
    }

    pub(super) fn drop_client(&mut self, mut c: Box<Client>) {
        // Its watched keys leave the databases' indexes.
        crate::commands::multi::unwatch_all_keys(&mut self.dbs, &mut c.state);
        // Its subscriptions end.
        if c.state.subs.is_some() {
            self.core.pubsub.unsubscribe_all(&mut c.state);
        }
        if c.state.tracking.is_some() {
            self.core.tracking.disable(&mut c.state);
        }
        if c.state.has(Flags::MONITOR) {
            self.core.ops.monitors.retain(|&t| t != c.token);
        }
        if c.state.has(Flags::BLOCKED) {
            if let Some(req) = self.core.blocked.unpark(c.token) {
                self.forget_waits(c.token, &req);
            }
        }
        log::debug!(
            "Client closed connection id={} addr={} (reason: {})",
            c.state.id,
            c.state.addr,
            c.closing.unwrap_or(CloseReason::Killed).describe()
        );
        let _ = self.poll.registry().deregister(c.stream.source());
    }

    /// Parks a client whose command must wait, with the command kept: in
    /// `Parking`, and in the line of waiters of each key it waits for. A
    /// client served but blocked again (its key emptied before its turn)
    /// keeps its place at the head of the lines.
    pub(super) fn park(&mut self, c: &mut Client, req: BlockRequest) {
        c.state.flags.set(Flags::BLOCKED, true);
        c.state.block_deadline_ms = req.deadline_ms;
        let front = std::mem::take(&mut c.state.reprocessing);
        if let Some(db) = self.dbs.get_mut(req.db) {
            for key in &req.keys {
                let line = db.waiting.entry(key.clone()).or_default();
                if front {
                    line.push_front(c.token.0);
                } else {
                    line.push_back(c.token.0);
                }
            }
        }
        self.core.blocked.park(c.token, req);
    }

    /// Takes an unparked client out of the lines of the keys it waited for.
    pub(super) fn forget_waits(&mut self, token: Token, req: &BlockRequest) {
        if let Some(db) = self.dbs.get_mut(req.db) {
            db.forget_waiter(&req.keys, token.0);
        }
    }

    /// Serves the clients waiting for keys that commands readied, key by
    /// key in the order they were readied, each key's waiters first come,
    /// first served: a waiter's kept command runs again, now. It may block
    /// again (nothing left for it) or ready more keys (BLMOVE), which are
    /// served in the same pass. A key that holds no list (deleted, or of
    /// another type) leaves its waiters waiting.
    pub(super) fn serve_ready_keys(&mut self) {
        // The common case, nobody waiting, costs one check per command (a
        // key readied for waiters that have gone is dropped when a later
        // pass meets it).
        if self.core.blocked.is_empty() || self.serving {
            // A waiter's own command readied keys: the outer pass serves them.
            return;
        }
        self.serving = true;
        loop {
            let mut served_any = false;
            for db_index in 0..self.dbs.len() {
                if self.dbs[db_index].ready.is_empty() {
                    continue;
                }
                let ready = std::mem::take(&mut self.dbs[db_index].ready);
                for key in ready {
                    served_any = true;
                    self.serve_key(db_index, &key);
                }
            }
            if !served_any {
                break;
            }
        }
        self.serving = false;
    }

    /// Serves `key`'s waiters while it holds a list (see `serve_ready_keys`).
    fn serve_key(&mut self, db_index: usize, key: &[u8]) {
        // Each waiter in line now gets one turn at most.
        let mut turns = self.dbs[db_index].waiting.get(key).map_or(0, |l| l.len());
        while turns > 0 {
            turns -= 1;
            let now = self.core.clock.tick_ms();
            let db = &mut self.dbs[db_index];
            // Only waiters for the kind the key now holds are served (Redis's
            // BLOCKED_LIST / BLOCKED_ZSET): a list pop keeps waiting on a
            // key that became a sorted set, and the other way round.
            let wanted = match db.peek_quiet(key, now).map(|(v, _)| v.kind()) {
                Some(crate::db::value::Kind::List) => BlockReason::List,
                Some(crate::db::value::Kind::Zset) => BlockReason::Zset,
                Some(crate::db::value::Kind::Stream) => BlockReason::Stream,
                _ => return,
            };
            let blocked = &self.core.blocked;
            let Some(first) = db.waiting.get(key).and_then(|line| {
                line.iter()
                    .copied()
                    .find(|&t| blocked.reason(Token(t)).is_none_or(|r| r == wanted))
            }) else {
                return;
            };
            let token = Token(first);
            let Some(req) = self.core.blocked.unpark(token) else {
                // In a line but not parked: cannot happen; drop it.
                self.dbs[db_index].forget_waiter(&[key.to_vec()], first);
                continue;
            };
            self.forget_waits(token, &req);
            let Some(mut c) = self.clients.take(token) else {
                continue;
            };
            c.state.flags.set(Flags::BLOCKED, false);
            c.state.reprocessing = true;
            let mut budget = 1;
            let output_yield = c.reply.pending_len().saturating_add(OUTPUT_YIELD);
            let ran = self.run_commands(&mut c, &mut budget, output_yield);
            c.state.reprocessing = false;
            if matches!(ran, Ran::Stop) && c.closing.is_some() {
                self.close_client(c);
                continue;
            }
            if !c.reply.is_empty() && !c.state.has(Flags::PENDING_WRITE) {
                c.state.flags.set(Flags::PENDING_WRITE, true);
                self.writes.push(token);
            }
            // Its pipeline goes on next tick.
            if !c.state.has(Flags::BLOCKED) && !c.state.has(Flags::QUEUED) {
                c.state.flags.set(Flags::QUEUED, true);
                self.pending.push(token);
            }
            self.clients.put_back(c);
        }
    }

    /// Queues an unparked client: its kept command is processed again.
    pub(super) fn unblock(&mut self, token: Token) {
        if let Some(c) = self.clients.get_mut(token) {
            c.state.flags.set(Flags::BLOCKED, false);
            if !c.state.has(Flags::QUEUED) {
                c.state.flags.set(Flags::QUEUED, true);
                self.pending.push(token);
            }
        }
    }

    /// This server became a replica: its keys now change only through the
    /// master's stream, so clients waiting in a blocking command (not those
    /// held by CLIENT PAUSE) get `-UNBLOCKED` and are closed after it, as
    /// Redis's `disconnectAllBlockedClients`.
    pub(super) fn disconnect_blocked_clients(&mut self) {
        let reasons = [
            BlockReason::List,
            BlockReason::Zset,
            BlockReason::Stream,
            BlockReason::Wait,
        ];
        for reason in reasons {
            for (t, req) in self.core.blocked.release(reason) {
                self.forget_waits(t, &req);
                if let Some(c) = self.clients.get_mut(t) {
                    c.state.flags.set(Flags::BLOCKED, false);
                    c.reply.error(&crate::error::CmdError::Static(
                        "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)",
                    ));
                    c.query.consume();
                    c.state.block_deadline_ms = 0;
                    c.state.flags.set(Flags::CLOSE_AFTER_REPLY, true);
                    self.clients.queue_flush(t);
                }
            }
        }
    }

    /// Ends an expired CLIENT PAUSE (or one lifted by CLIENT UNPAUSE) and
    /// lets the held clients run their commands.
    pub(super) fn check_pause_end(&mut self) {
        let ops = &mut self.core.ops;
        if ops.pause.active() {
            ops.pause.expire(unix_ms());
        }
        if ops.pause.active() {
            return;
        }
        for (t, req) in self.core.blocked.release(BlockReason::Postpone) {
            self.forget_waits(t, &req);
            self.unblock(t);
        }
    }
}
