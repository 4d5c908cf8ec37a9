//! The `gostore` server binary: `gostore [config-file] [--directive value ...]`,
//! as `redis-server` takes them.

use std::path::PathBuf;
use std::process::ExitCode;

use gostore::config::{parse_command_line, Config};
use gostore::memory::alloc::CountingAlloc;
use gostore::server::Server;

/// Counts every allocation, for used_memory and maxmemory (see
/// `gostore::memory::alloc`).
#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const USAGE: &str = "Usage: ./gostore [/path/to/gostore.conf] [options] [-]
       ./gostore - (read config from stdin)
       ./gostore -v or --version
       ./gostore -h or --help

Examples:
       ./gostore (run the server with default config)
       ./gostore /etc/gostore/gostore.conf
       ./gostore --port 7777
       ./gostore gostore.conf --port 7000 --appendfsync always
       ./gostore /etc/mygostore.conf --loglevel verbose -

Every configuration directive can be given as --name value; see gostore.conf.";

fn main() -> ExitCode {
    ALLOC.install();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(first) = args.first() {
        match first.as_str() {
            "-v" | "--version" => {
                println!(
                    "GoStore server v={} redis_version={} bits=64",
                    env!("CARGO_PKG_VERSION"),
                    gostore::REDIS_VERSION
                );
                return ExitCode::SUCCESS;
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => {}
        }
    }
    // `-` as the first or the last argument reads configuration from
    // standard input, applied after the file and before the options, as
    // redis-server does.
    let mut args = args;
    let mut from_stdin = false;
    if args.first().is_some_and(|a| a == "-") {
        args.remove(0);
        from_stdin = true;
    }
    if args.last().is_some_and(|a| a == "-") {
        args.pop();
        from_stdin = true;
    }
    let (file, options) = match parse_command_line(&args) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}\n\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let stdin_text = if from_stdin {
        let mut text = Vec::new();
        if let Err(e) = std::io::Read::read_to_end(&mut std::io::stdin(), &mut text) {
            eprintln!("Can't read the configuration from standard input: {e}");
            return ExitCode::FAILURE;
        }
        Some(text)
    } else {
        None
    };
    let mut config = match Config::load_with_stdin(file.as_deref(), stdin_text.as_deref(), &options)
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    // Absolute before chdir, for INFO config_file and CONFIG REWRITE.
    // Standard input is no file: as Redis, INFO shows none and CONFIG
    // REWRITE refuses.
    let config_file: Option<PathBuf> = file.map(|p| std::fs::canonicalize(&p).unwrap_or(p));
    // As Redis, which changes directory when it applies `dir`: every
    // relative path (logfile, pidfile, unixsocket, the AOF directory) is
    // relative to `dir`, wherever it came in the configuration.
    if let Err(e) = std::env::set_current_dir(&config.dir) {
        eprintln!("Can't chdir to '{}': {e}", config.dir);
        return ExitCode::FAILURE;
    }
    if let Err(e) = gostore::logging::init(&config) {
        eprintln!("Can't open the log file '{}': {e}", config.logfile);
        return ExitCode::FAILURE;
    }
    // As Redis: supervision first; a supervised server never daemonizes.
    let supervised = gostore::service::supervise(config.supervised);
    if config.daemonize && !supervised {
        if let Err(e) = gostore::service::daemonize() {
            log::warn!("Can't daemonize: {e}");
            return ExitCode::FAILURE;
        }
    }
    log::info!("oO0OoO0OoO0Oo GoStore is starting oO0OoO0OoO0Oo");
    log::info!(
        "GoStore version={}, redis_version={}, bits=64, pid={}, just started",
        env!("CARGO_PKG_VERSION"),
        gostore::REDIS_VERSION,
        std::process::id()
    );
    match (&config_file, from_stdin) {
        (Some(p), false) => log::info!("Configuration loaded from {}", p.display()),
        (Some(p), true) => log::info!(
            "Configuration loaded from {} and standard input",
            p.display()
        ),
        (None, true) => log::info!("Configuration loaded from standard input"),
        (None, false) if !args.is_empty() => log::info!("Configuration loaded"),
        (None, false) => log::warn!("Warning: no config file specified, using the default config. In order to specify a config file use ./gostore /path/to/gostore.conf"),
    }
    match gostore::limits::adjust_open_files(config.maxclients) {
        gostore::limits::FilesLimit::Lowered { maxclients, .. } => config.maxclients = maxclients,
        gostore::limits::FilesLimit::TooLow { .. } => return ExitCode::FAILURE,
        _ => {}
    }
    gostore::memory::system::linux_memory_warnings(config.disable_thp);
    let server = match Server::new(config, config_file) {
        Ok(s) => s,
        Err(gostore::server::StartError::Shutdown) => {
            // SHUTDOWN while loading: nothing was written, nothing to save.
            log::warn!("User requested shutdown...");
            gostore::service::remove_pidfile();
            log::warn!("GoStore is now ready to exit, bye bye...");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            log::warn!("Fatal error at start-up: {e}");
            gostore::service::remove_pidfile();
            return ExitCode::FAILURE;
        }
    };
    match server.run() {
        0 => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}
