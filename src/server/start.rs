//! Start-up: `Server::new` binds the listeners (a port clash fails fast),
//! checks the data directory, and replays the AOF through
//! `process_command` (or loads the RDB), serving clients that connect
//! meanwhile with `-LOADING` (`crate::loading`).

use super::*;

/// Start-up failures.
#[derive(Debug)]
pub enum StartError {
    /// Listening failed.
    Listen(ListenError),
    /// The AOF could not be loaded or opened.
    Aof(crate::aof::AofError),
    /// An OS resource could not be created.
    Io(String, io::Error),
    /// The RDB file could not be loaded.
    Rdb(String),
    /// SHUTDOWN ran while the data loaded: exit without saving, as Redis.
    Shutdown,
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Listen(e) => write!(f, "{e}"),
            StartError::Aof(e) => write!(f, "{e}"),
            StartError::Io(what, e) => write!(f, "{what}: {e}"),
            StartError::Rdb(m) => write!(f, "{m}"),
            StartError::Shutdown => write!(f, "shutdown requested while loading"),
        }
    }
}

impl std::error::Error for StartError {}

impl Server {
    /// Binds, loads the AOF, and returns a server ready to `run`.
    pub fn new(config: Config, config_file: Option<PathBuf>) -> Result<Server, StartError> {
        let poll =
            Poll::new().map_err(|e| StartError::Io("Can't create the event loop".into(), e))?;
        let registry = poll
            .registry()
            .try_clone()
            .map_err(|e| StartError::Io("Can't clone the poll registry".into(), e))?;
        let waker = Arc::new(
            Waker::new(poll.registry(), WAKER_TOKEN)
                .map_err(|e| StartError::Io("Can't create the loop waker".into(), e))?,
        );
        let signals = SignalPipe::install()
            .map_err(|e| StartError::Io("Can't install signal handlers".into(), e))?;
        poll.registry()
            .register(
                &mut SourceFd(&signals.fd()),
                SIGNAL_TOKEN,
                Interest::READABLE,
            )
            .map_err(|e| StartError::Io("Can't watch the signal pipe".into(), e))?;

        // Bind before loading, as Redis: a port conflict fails fast, and
        // clients that connect while the data loads are answered (-LOADING).
        let listeners = Listeners::bind(&config, registry).map_err(StartError::Listen)?;
        // Logged before the load, as Redis: clients are served from now on.
        let addrs: Vec<String> = listeners.addrs().iter().map(|a| a.to_string()).collect();
        log::info!(
            "Running mode=standalone, listening on {}",
            if addrs.is_empty() {
                "no TCP port".to_string()
            } else {
                addrs.join(", ")
            }
        );
        let mut config = config;
        crate::service::listening(&mut config);
        let mut rng = Rng::from_entropy();
        crate::util::hash::set_seed(rng.next_u64());
        let dbs = Db::numbered(config.databases);
        let lazyfree = LazyFree::start()
            .map_err(|e| StartError::Io("Can't start the lazyfree thread".into(), e))?;
        let started_ms = unix_ms();
        let run_id = new_run_id(&mut rng);
        let mut propagator = crate::propagate::Propagator::default();
        propagator.repl.replid = new_run_id(&mut rng);
        let wake_loop = Arc::clone(&waker);
        let core = Core {
            aof: Aof::new(
                &config,
                Arc::new(move || {
                    let _ = wake_loop.wake();
                }),
            ),
            config,
            config_file,
            stats: Stats::default(),
            commands: CommandTable::new(),
            rng,
            expire: ExpireState::default(),
            lazyfree,
            listeners,
            started: Instant::now(),
            started_ms,
            run_id,
            next_client_id: 0,
            dirty: 0,
            lastsave: started_ms / 1000,
            rdb: Default::default(),
            shutdown: None,
            loading: false,
            load: None,
            peak_memory: 0,
            clock: Default::default(),
            ops: Default::default(),
            evict: crate::evict::Evictor::new(),
            propagator,
            blocked: Default::default(),
            pubsub: Default::default(),
            tracking: Default::default(),
            scripting: Default::default(),
            replica: None,
            is_replica: false,
        };
        let mut server = Server {
            poll,
            clients: Clients::default(),
            dbs,
            core,
            redaction: Redaction::default(),
            work: Vec::new(),
            pending: Vec::new(),
            writes: Vec::new(),
            spare_query: Vec::new(),
            reply_pool: Vec::new(),
            serving: false,
            last_trim: Instant::now(),
            trim_interval: TRIM_INTERVAL,
            signals,
            accept_retry: Vec::new(),
            accept_retry_cron: Vec::new(),
            _waker: Arc::clone(&waker),
            next_cron: Instant::now(),
            cron_count: 0,
        };
        let Core {
            commands, config, ..
        } = &mut server.core;
        commands.apply_renames(&config.renames);
        // Keys loaded from the AOF get LFU counters if an LFU policy is set.
        crate::evict::apply_config(&server.core.config);
        crate::notify::set_flags(server.core.config.notify_keyspace_events);
        let maxmemory = server.core.config.maxmemory;
        if maxmemory > 0 && maxmemory < 1024 * 1024 {
            log::warn!("WARNING: You specified a maxmemory value that is less than 1MB (current value is {maxmemory} bytes). Are you sure this is what you really want?");
        }
        crate::memory::mark_startup();
        // Never start empty beside data this configuration would not load.
        crate::aof::datadir::check(&server.core.config).map_err(StartError::Aof)?;
        if server.core.config.appendonly {
            server.load_aof()?;
        } else {
            // Kept for BGREWRITEAOF and CONFIG SET appendonly yes, as Redis.
            server.core.aof.read_manifest().map_err(StartError::Aof)?;
            server.load_rdb()?;
        }
        server.replica_start_from_config();
        Ok(server)
    }

    /// Replays the AOF, then opens it for appending.
    pub(super) fn load_aof(&mut self) -> Result<(), StartError> {
        let files = self.core.aof.open().map_err(StartError::Aof)?;
        if !files.is_empty() {
            let started = Instant::now();
            let Server {
                dbs,
                core,
                clients,
                redaction,
                signals,
                ..
            } = self;
            let total = files
                .iter()
                .filter_map(|f| std::fs::metadata(f).ok())
                .map(|m| m.len())
                .sum();
            let mut progress = crate::service::LoadProgress::new(total);
            let manifest = core.aof.manifest_path();
            let truncate_ok = core.config.aof_load_truncated;
            // Clients connecting meanwhile get -LOADING (or INFO...).
            crate::loading::start(core, total);
            let replayed = commands::process::replay_aof(
                &files,
                &manifest,
                truncate_ok,
                dbs,
                core,
                crate::loading::Serve {
                    clients,
                    redaction,
                    signals: Some(signals),
                },
                &mut |args| progress.command(args.total_bytes() + 16 * args.len()),
            );
            crate::loading::stop(core);
            if core.shutdown.is_some() {
                return Err(StartError::Shutdown);
            }
            let stats = replayed.map_err(StartError::Aof)?;
            log::info!(
                "DB loaded from append only file: {:.3} seconds ({} commands, {} bytes{})",
                started.elapsed().as_secs_f64(),
                stats.commands,
                stats.bytes,
                if stats.truncated {
                    ", truncated tail removed"
                } else {
                    ""
                }
            );
            // Replay must not count as fresh changes.
            self.core.dirty = 0;
            self.core.stats = Stats::default();
            self.core.commands.reset_stats();
            for db in &mut self.dbs {
                db.stats = Default::default();
            }
        }
        self.core.aof.start_appending().map_err(StartError::Aof)?;
        Ok(())
    }

    /// Loads `dbfilename` when it exists (appendonly no), as Redis's
    /// `loadDataFromDisk`.
    pub(super) fn load_rdb(&mut self) -> Result<(), StartError> {
        let path = crate::rdb::save::rdb_path(&self.core.config);
        if !path.is_file() {
            return Ok(());
        }
        let started = Instant::now();
        let lim = crate::rdb::Limits::from_config(&self.core.config);
        let o = crate::rdb::loader::LoadOptions {
            expire_before: Some(crate::util::time::unix_ms()),
            check_crc: self.core.config.rdbchecksum,
        };
        let loaded = std::fs::read(&path)
            .map_err(crate::rdb::loader::RdbError::Io)
            .and_then(|b| {
                // Clients connecting meanwhile get -LOADING (or INFO...).
                crate::loading::start(&mut self.core, b.len() as u64);
                let Server {
                    dbs,
                    core,
                    clients,
                    redaction,
                    signals,
                    ..
                } = self;
                let mut s = crate::loading::Serve {
                    clients,
                    redaction,
                    signals: Some(signals),
                };
                let r = crate::loading::load_rdb(&b, dbs, core, &mut s, &lim, o, 0);
                crate::loading::stop(core);
                r
            });
        if self.core.shutdown.is_some() {
            return Err(StartError::Shutdown);
        }
        match loaded {
            Ok(st) => {
                if let Err(e) = commands::process::load_libraries(&mut self.core, &st.functions) {
                    return Err(StartError::Rdb(format!(
                        "Can't load the RDB file {}: {e}. Refusing to start.",
                        path.display()
                    )));
                }
                for (k, v) in &st.aux {
                    if k == "redis-ver" {
                        log::info!(
                            "Loading RDB produced by version {}",
                            String::from_utf8_lossy(v)
                        );
                    }
                }
                log::info!(
                    "Done loading RDB, keys loaded: {}, keys expired: {}.",
                    st.keys_loaded,
                    st.keys_expired
                );
                log::info!(
                    "DB loaded from disk: {:.3} seconds",
                    started.elapsed().as_secs_f64()
                );
                self.core.rdb.loaded_keys = st.keys_loaded;
                self.core.rdb.loaded_expired = st.keys_expired;
                // A replica restarted from its RDB continues its master's
                // stream from there (`loadDataFromDisk`).
                if self.core.config.replicaof.is_some() {
                    self.core.rdb.loaded_repl = repl_info(&st.aux, self.dbs.len());
                    if self.core.rdb.loaded_repl.is_none() {
                        log::info!("The RDB file holds no replication ID and offset: a full resync will follow");
                    }
                }
                Ok(())
            }
            Err(e) => Err(StartError::Rdb(format!(
                "Can't load the RDB file {}: {e}. Refusing to start; check it with redis-check-rdb, or move it out of the way to start empty.",
                path.display()
            ))),
        }
    }

    /// Addresses the server listens on (tests, logs).
    pub fn local_addrs(&self) -> Vec<std::net::SocketAddr> {
        self.core.listeners.addrs()
    }
}

/// The `repl-id`, `repl-offset` and `repl-stream-db` AUX fields, when all
/// three are there and sound.
fn repl_info(aux: &[(String, Vec<u8>)], dbs: usize) -> Option<crate::rdb::writer::ReplSaveInfo> {
    let field = |name: &str| {
        aux.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    };
    let id = field("repl-id")?;
    let offset: u64 = field("repl-offset")?.parse().ok()?;
    let stream_db: usize = field("repl-stream-db")?.parse().ok()?;
    if id.len() != 40 || !id.bytes().all(|b| b.is_ascii_hexdigit()) || stream_db >= dbs {
        return None;
    }
    Some(crate::rdb::writer::ReplSaveInfo {
        stream_db,
        id,
        offset,
    })
}
