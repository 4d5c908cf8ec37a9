//! Command-line flags, parsed as redis-cli's `parseOptions` parses them: the
//! first word that is not a flag starts the command; a flag it does not know,
//! or one missing its value, is `Unrecognized option or bad number of args`.
//! Numbers are read with C's `atoi`/`atof`/`strtoll` leniency, as redis-cli does.

use std::fmt;

use crate::format::{Delims, OutputMode};
use crate::uri::{parse_uri, UriError};
use gostore::resp::split::split_args;

/// Environment variable holding a password (redis-cli's `REDISCLI_AUTH`).
pub const AUTH_ENV: &str = "GOSTORECLI_AUTH";

/// Everything the flags decide.
#[derive(Debug, Clone)]
pub struct Config {
    pub host: String,
    pub port: i64,
    pub socket: Option<String>,
    pub user: Option<Vec<u8>>,
    pub auth: Option<Vec<u8>>,
    /// The database asked for (`-n`, URI path, `SELECT`).
    pub db: i64,
    pub repeat: i64,
    /// `-i`, in microseconds.
    pub interval_us: i64,
    pub resp2: bool,
    pub resp3: bool,
    pub output: OutputMode,
    pub delims: Delims,
    pub push_output: bool,
    pub stdin_last_arg: bool,
    pub stdin_tag: Option<Vec<u8>>,
    pub quoted_input: bool,
    pub set_errcode: bool,
    pub no_auth_warning: bool,
    pub pipe: bool,
    pub pipe_timeout: i64,
    pub scan: bool,
    pub pattern: Option<Vec<u8>>,
    pub count: Option<i64>,
    pub latency: bool,
    pub latency_history: bool,
    pub stat: bool,
}

impl Config {
    /// Defaults; `stdout_tty` picks the human or the raw format.
    pub fn new(stdout_tty: bool) -> Config {
        Config {
            host: "127.0.0.1".to_string(),
            port: 6379,
            socket: None,
            user: None,
            auth: None,
            db: 0,
            repeat: 1,
            interval_us: 0,
            resp2: false,
            resp3: false,
            output: if stdout_tty {
                OutputMode::Standard
            } else {
                OutputMode::Raw
            },
            delims: Delims::default(),
            push_output: stdout_tty,
            stdin_last_arg: false,
            stdin_tag: None,
            quoted_input: false,
            set_errcode: false,
            no_auth_warning: false,
            pipe: false,
            pipe_timeout: 30,
            scan: false,
            pattern: None,
            count: None,
            latency: false,
            latency_history: false,
            stat: false,
        }
    }
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Parsed {
    /// Run with this config; the command words follow.
    Run(Box<Config>, Vec<Vec<u8>>),
    /// `--help` (or a lone trailing `-h`).
    Help,
    /// `--version` / `-v`.
    Version,
}

/// A command line that cannot run; each prints as redis-cli's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgsError {
    Unrecognized(String),
    Exclusive(&'static str),
    Uri(UriError),
    InvalidQuotedPattern,
    NotUtf8(String),
}

impl fmt::Display for ArgsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unrecognized(flag) => {
                write!(f, "Unrecognized option or bad number of args for: '{flag}'")
            }
            Self::Exclusive(what) => write!(f, "Options {what} are mutually exclusive."),
            Self::Uri(e) => write!(f, "{e}"),
            Self::InvalidQuotedPattern => {
                f.write_str("Invalid quoted string specified for --quoted-pattern.")
            }
            Self::NotUtf8(flag) => write!(f, "The value of '{flag}' is not valid UTF-8"),
        }
    }
}

impl std::error::Error for ArgsError {}

/// C's `atoi`/`strtoll(s, NULL, 10)`: leading blanks, a sign, digits; 0 if none.
pub fn atoi(s: &[u8]) -> i64 {
    let s = trim_start(s);
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for &c in digits.iter().take_while(|c| c.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add(i64::from(c - b'0'));
    }
    if neg {
        -n
    } else {
        n
    }
}

/// C's `atof`, on the longest prefix that reads as a decimal number.
pub fn atof(s: &[u8]) -> f64 {
    let s = trim_start(s);
    let mut end = 0;
    let mut best = 0.0;
    while end < s.len() {
        end += 1;
        if let Some(v) = std::str::from_utf8(&s[..end])
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
        {
            best = v;
        }
    }
    best
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &s[n..]
}

fn utf8(flag: &str, v: &[u8]) -> Result<String, ArgsError> {
    String::from_utf8(v.to_vec()).map_err(|_| ArgsError::NotUtf8(flag.to_string()))
}

/// Parses `args` (without the program name).
pub fn parse(args: &[Vec<u8>], stdout_tty: bool) -> Result<Parsed, ArgsError> {
    let mut c = Config::new(stdout_tty);
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_slice();
        let has_value = i + 1 < args.len();
        let value = args.get(i + 1).map(Vec::as_slice).unwrap_or_default();
        let flag = String::from_utf8_lossy(a).into_owned();
        let mut takes_value = true;
        match a {
            b"-h" if has_value => c.host = utf8("-h", value)?,
            b"-h" | b"--help" => return Ok(Parsed::Help),
            b"-v" | b"--version" => return Ok(Parsed::Version),
            b"-p" if has_value => c.port = atoi(value),
            b"-s" if has_value => c.socket = Some(utf8("-s", value)?),
            b"-a" | b"--pass" if has_value => c.auth = Some(value.to_vec()),
            b"--user" if has_value => c.user = Some(value.to_vec()),
            b"-u" if has_value => {
                let uri = parse_uri(value).map_err(ArgsError::Uri)?;
                if let Some(h) = uri.host {
                    c.host = h;
                }
                if let Some(p) = uri.port {
                    c.port = p;
                }
                if uri.user.is_some() {
                    c.user = uri.user;
                }
                if uri.auth.is_some() {
                    c.auth = uri.auth;
                }
                if let Some(db) = uri.db {
                    c.db = db;
                }
            }
            b"-n" if has_value => c.db = atoi(value),
            b"-r" if has_value => c.repeat = atoi(value),
            b"-i" if has_value => c.interval_us = (atof(value) * 1_000_000.0) as i64,
            b"-d" if has_value => c.delims.bulk = value.to_vec(),
            b"-D" if has_value => c.delims.reply = value.to_vec(),
            b"-X" if has_value => c.stdin_tag = Some(value.to_vec()),
            b"--pattern" if has_value => c.pattern = Some(value.to_vec()),
            b"--quoted-pattern" if has_value => {
                c.pattern = Some(unquote(value).ok_or(ArgsError::InvalidQuotedPattern)?);
            }
            b"--count" if has_value => c.count = Some(atoi(value)),
            b"--pipe-timeout" if has_value => c.pipe_timeout = atoi(value),
            b"--show-pushes" if has_value => {
                if value.first().is_some_and(|b| b.eq_ignore_ascii_case(&b'n')) {
                    c.push_output = false;
                } else if value.first().is_some_and(|b| b.eq_ignore_ascii_case(&b'y')) {
                    c.push_output = true;
                } else {
                    eprintln_lossy(&format!(
                        "Unknown --show-pushes value '{}' (valid: '[y]es', '[n]o')",
                        String::from_utf8_lossy(value)
                    ));
                }
            }
            _ => {
                takes_value = false;
                match a {
                    b"-x" => c.stdin_last_arg = true,
                    b"-2" => c.resp2 = true,
                    b"-3" => c.resp3 = true,
                    b"-e" => c.set_errcode = true,
                    b"--raw" => c.output = OutputMode::Raw,
                    b"--no-raw" => c.output = OutputMode::Standard,
                    b"--csv" => c.output = OutputMode::Csv,
                    b"--quoted-input" => c.quoted_input = true,
                    b"--no-auth-warning" => c.no_auth_warning = true,
                    b"--pipe" => c.pipe = true,
                    b"--scan" => c.scan = true,
                    b"--latency" => c.latency = true,
                    b"--latency-history" => {
                        c.latency = true;
                        c.latency_history = true;
                    }
                    b"--stat" => c.stat = true,
                    b"--verbose" => {}
                    _ if a.first() == Some(&b'-') => return Err(ArgsError::Unrecognized(flag)),
                    _ => break,
                }
            }
        }
        i += if takes_value { 2 } else { 1 };
    }
    if c.resp2 && c.resp3 {
        return Err(ArgsError::Exclusive("-2 and -3"));
    }
    if c.stdin_last_arg && c.stdin_tag.is_some() {
        return Err(ArgsError::Exclusive("-x and -X"));
    }
    if !c.no_auth_warning && c.auth.is_some() {
        eprintln_lossy("Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.");
    }
    Ok(Parsed::Run(Box::new(c), args[i..].to_vec()))
}

/// redis-cli's `unquoteCString`: the one argument `s` splits into.
pub fn unquote(s: &[u8]) -> Option<Vec<u8>> {
    let mut v = split_args(s)?;
    if v.len() == 1 {
        v.pop()
    } else {
        None
    }
}

fn eprintln_lossy(s: &str) {
    crate::out::err(format!("{s}\n").as_bytes());
}

/// The `--help` text.
pub fn usage() -> String {
    format!(
        "gostore-cli {version}

Usage: gostore-cli [OPTIONS] [cmd [arg [arg ...]]]
  -h <hostname>      Server hostname (default: 127.0.0.1).
  -p <port>          Server port (default: 6379).
  -s <socket>        Server socket (overrides hostname and port).
  -a <password>      Password to use when connecting to the server.
                     You can also use the {AUTH_ENV} environment
                     variable to pass this password more safely
                     (if both are used, this argument takes precedence).
  --user <username>  Used to send ACL style 'AUTH username pass'. Needs -a.
  --pass <password>  Alias of -a for consistency with the new --user option.
  -u <uri>           Server URI: redis://[[user:]password@]host[:port][/db].
  -r <repeat>        Execute specified command N times.
  -i <interval>      When -r is used, waits <interval> seconds per command.
                     It is possible to specify sub-second times like -i 0.1.
                     This interval is also used in --scan and --stat per cycle.
  -n <db>            Database number.
  -2                 Start session in RESP2 protocol mode.
  -3                 Start session in RESP3 protocol mode.
  -x                 Read last argument from STDIN (see example below).
  -X <tag>           Read <tag> argument from STDIN (see example below).
  -d <delimiter>     Delimiter between response bulks for raw formatting (default: \\n).
  -D <delimiter>     Delimiter between responses for raw formatting (default: \\n).
  -e                 Return exit error code when command execution fails.
  --raw              Use raw formatting for replies (default when STDOUT is
                     not a tty).
  --no-raw           Force formatted output even when STDOUT is not a tty.
  --quoted-input     Force input to be handled as quoted strings.
  --csv              Output in CSV format.
  --show-pushes <yn> Whether to print RESP3 PUSH messages.  Enabled by default when
                     STDOUT is a tty but can be overridden with --show-pushes no.
  --stat             Print rolling stats about server: mem, clients, ...
  --latency          Enter a special mode continuously sampling latency.
                     If you use this mode in an interactive session it runs
                     forever displaying real-time stats. Otherwise if --raw or
                     --csv is specified, or if you redirect the output to a non
                     TTY, it samples the latency for 1 second (you can use
                     -i to change the interval), then produces a single output
                     and exits.
  --latency-history  Like --latency but tracking latency changes over time.
                     Default time interval is 15 sec. Change it using -i.
  --pipe             Transfer raw Redis protocol from stdin to server.
  --pipe-timeout <n> In --pipe mode, abort with error if after sending all data.
                     no reply is received within <n> seconds.
                     Default timeout: 30. Use 0 to wait forever.
  --scan             List all keys using the SCAN command.
  --pattern <pat>    Keys pattern when using the --scan option (default: *).
  --quoted-pattern <pat> Same as --pattern, but the specified string can be
                         quoted, in order to pass an otherwise non binary-safe string.
  --count <count>    Count option when using the --scan option (default: 10).
  --verbose          Verbose mode (accepted, no effect).
  --no-auth-warning  Don't show warning message when using password on command
                     line interface.
  --help             Output this help and exit.
  --version          Output version and exit.

Examples:
  cat /etc/passwd | gostore-cli -x set mypasswd
  gostore-cli -D \"\" --raw get key > value.bin && gostore-cli -X value_tag set key2 value_tag < value.bin
  gostore-cli -r 100 hincrby myhash visits 1
  gostore-cli -r 100 -i 1 info | grep used_memory_human:
  gostore-cli --quoted-input set '\"null-\\x00-separated\"' value
  gostore-cli --scan --pattern '*:12345*'

When no command is given, gostore-cli starts in interactive mode.
Type \"help\" in interactive mode for information on available commands
and settings.

",
        version = crate::VERSION
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<(Config, Vec<Vec<u8>>), ArgsError> {
        let v: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        match parse(&v, false)? {
            Parsed::Run(c, rest) => Ok((*c, rest)),
            other => panic!("not a run: {other:?}"),
        }
    }

    #[test]
    fn the_first_non_flag_word_starts_the_command() {
        let (c, rest) = run(&["-p", "7000", "-n", "2", "--raw", "hgetall", "-x"]).unwrap();
        assert_eq!((c.port, c.db, c.output), (7000, 2, OutputMode::Raw));
        assert_eq!(rest, [b"hgetall".to_vec(), b"-x".to_vec()]);
    }

    #[test]
    fn an_unknown_flag_or_a_missing_value_is_rejected() {
        assert_eq!(
            run(&["--nope"]).unwrap_err(),
            ArgsError::Unrecognized("--nope".into())
        );
        assert_eq!(
            run(&["-p"]).unwrap_err(),
            ArgsError::Unrecognized("-p".into())
        );
        assert_eq!(
            run(&["-2", "-3"]).unwrap_err(),
            ArgsError::Exclusive("-2 and -3")
        );
    }

    #[test]
    fn numbers_are_read_like_c() {
        assert_eq!(atoi(b" 12abc"), 12);
        assert_eq!(atoi(b"x"), 0);
        assert_eq!(atoi(b"-3"), -3);
        assert!((atof(b"0.25s") - 0.25).abs() < 1e-12);
        assert_eq!(atof(b"abc"), 0.0);
    }
}
