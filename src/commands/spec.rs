//! The shape of a command table entry: what Redis 7.0 declares for each
//! command (arity, flags, ACL categories, tips, key specs, docs, arguments)
//! plus the handler. Entries are built with `const fn` builders so the table
//! stays declarative; `COMMAND INFO`/`COMMAND DOCS` render these fields.

use super::Ctx;
use crate::error::CmdResult;
use crate::resp::parser::Args;

/// A command handler.
pub type Handler = fn(&mut Ctx<'_>, &Args<'_>) -> CmdResult;

/// Command flags, in the order Redis lists them in COMMAND INFO. Every bit
/// of Redis's set is defined, so FLAG_NAMES lines up with them; the bits no
/// GoStore command sets yet (modules, pub/sub, blocking, cluster, sentinel,
/// movable keys) are allowed to be unused until their commands arrive.
pub type Flags = u32;
/// No flags.
pub const NONE: Flags = 0;
/// May modify the keyspace.
pub const WRITE: Flags = 1 << 0;
/// Reads only.
pub const READONLY: Flags = 1 << 1;
/// May grow memory; refused past maxmemory.
pub const DENYOOM: Flags = 1 << 2;
/// From a module.
#[allow(dead_code)]
pub const MODULE: Flags = 1 << 3;
/// Administrative.
pub const ADMIN: Flags = 1 << 4;
/// Pub/Sub.
#[allow(dead_code)]
pub const PUBSUB: Flags = 1 << 5;
/// Not allowed in scripts.
pub const NOSCRIPT: Flags = 1 << 6;
/// May block the client.
#[allow(dead_code)]
pub const BLOCKING: Flags = 1 << 7;
/// Allowed while loading.
pub const LOADING: Flags = 1 << 8;
/// Allowed on a stale replica.
pub const STALE: Flags = 1 << 9;
/// Not shown in MONITOR.
pub const SKIP_MONITOR: Flags = 1 << 10;
/// Not logged in SLOWLOG.
pub const SKIP_SLOWLOG: Flags = 1 << 11;
/// Cluster ASKING.
#[allow(dead_code)]
pub const ASKING: Flags = 1 << 12;
/// O(1) or O(log N).
pub const FAST: Flags = 1 << 13;
/// Allowed before authentication.
pub const NO_AUTH: Flags = 1 << 14;
/// May replicate.
pub const MAY_REPLICATE: Flags = 1 << 15;
/// Sentinel.
#[allow(dead_code)]
pub const SENTINEL: Flags = 1 << 16;
/// Sentinel only.
#[allow(dead_code)]
pub const ONLY_SENTINEL: Flags = 1 << 17;
/// Keys are optional.
pub const NO_MANDATORY_KEYS: Flags = 1 << 18;
/// Not during async loading.
pub const NO_ASYNC_LOADING: Flags = 1 << 19;
/// Not inside MULTI.
pub const NO_MULTI: Flags = 1 << 20;
/// Keys are found by parsing arguments.
#[allow(dead_code)]
pub const MOVABLEKEYS: Flags = 1 << 21;
/// Allowed while a script is busy.
pub const ALLOW_BUSY: Flags = 1 << 22;

/// Flag names, bit by bit.
pub const FLAG_NAMES: [&str; 23] = [
    "write",
    "readonly",
    "denyoom",
    "module",
    "admin",
    "pubsub",
    "noscript",
    "blocking",
    "loading",
    "stale",
    "skip_monitor",
    "skip_slowlog",
    "asking",
    "fast",
    "no_auth",
    "may_replicate",
    "sentinel",
    "only_sentinel",
    "no_mandatory_keys",
    "no_async_loading",
    "no_multi",
    "movablekeys",
    "allow_busy",
];

/// The group COMMAND DOCS reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Keyspace commands.
    Generic,
    /// Strings.
    String,
    /// Hashes.
    Hash,
    /// Lists.
    List,
    /// Sets.
    Set,
    /// Sorted sets.
    SortedSet,
    /// Geospatial indexes (sorted sets of geohashes).
    Geo,
    /// Streams.
    Stream,
    /// Bitmaps (strings as arrays of bits).
    Bitmap,
    /// HyperLogLog (strings holding cardinality estimators).
    Hyperloglog,
    /// Connection.
    Connection,
    /// Server.
    Server,
    /// Transactions.
    Transactions,
    /// Pub/sub.
    Pubsub,
    /// Scripting and functions.
    Scripting,
}

impl Group {
    /// The name Redis uses.
    pub fn name(self) -> &'static str {
        match self {
            Group::Generic => "generic",
            Group::String => "string",
            Group::Hash => "hash",
            Group::List => "list",
            Group::Set => "set",
            Group::SortedSet => "sorted-set",
            Group::Geo => "geo",
            Group::Pubsub => "pubsub",
            Group::Stream => "stream",
            Group::Bitmap => "bitmap",
            Group::Hyperloglog => "hyperloglog",
            Group::Connection => "connection",
            Group::Server => "server",
            Group::Transactions => "transactions",
            Group::Scripting => "scripting",
        }
    }
}

/// Where a key spec starts searching.
#[derive(Debug, Clone, Copy)]
pub enum BeginSearch {
    /// At a fixed argument index.
    Index(i32),
    /// After a keyword, searching from `startfrom`.
    Keyword(&'static str, i32),
    /// Not describable.
    Unknown,
}

/// How a key spec finds its keys from the start.
#[derive(Debug, Clone, Copy)]
pub enum FindKeys {
    /// A range of arguments.
    Range {
        /// Last key, relative to the start (-1 = the last argument).
        lastkey: i32,
        /// Step between keys.
        step: i32,
        /// Limit (0 = none).
        limit: i32,
    },
    /// A count argument followed by keys.
    Keynum {
        /// Index of the count, relative to the start.
        keynumidx: i32,
        /// First key, relative to the start.
        firstkey: i32,
        /// Step between keys.
        step: i32,
    },
    /// Not describable.
    Unknown,
}

/// One key specification (Redis 7's key-specs).
#[derive(Debug, Clone, Copy)]
pub struct KeySpec {
    /// Notes.
    pub notes: Option<&'static str>,
    /// Flags (RO, RW, OW, RM, access, update, insert, delete, ...).
    pub flags: &'static [&'static str],
    /// Start of the search.
    pub begin: BeginSearch,
    /// The keys.
    pub find: FindKeys,
}

impl KeySpec {
    /// A key spec.
    pub const fn new(
        flags: &'static [&'static str],
        begin: BeginSearch,
        find: FindKeys,
    ) -> KeySpec {
        KeySpec {
            notes: None,
            flags,
            begin,
            find,
        }
    }

    /// With notes.
    pub const fn notes(mut self, n: &'static str) -> KeySpec {
        self.notes = Some(n);
        self
    }
}

/// An argument's type in COMMAND DOCS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// string
    Str,
    /// integer
    Integer,
    /// double
    Double,
    /// key
    Key,
    /// pattern
    Pattern,
    /// unix-time
    UnixTime,
    /// pure-token
    PureToken,
    /// oneof
    OneOf,
    /// block
    Block,
}

impl ArgKind {
    /// The name Redis uses.
    pub fn name(self) -> &'static str {
        match self {
            ArgKind::Str => "string",
            ArgKind::Integer => "integer",
            ArgKind::Double => "double",
            ArgKind::Key => "key",
            ArgKind::Pattern => "pattern",
            ArgKind::UnixTime => "unix-time",
            ArgKind::PureToken => "pure-token",
            ArgKind::OneOf => "oneof",
            ArgKind::Block => "block",
        }
    }
}

/// Argument flag: may be omitted.
pub const ARG_OPTIONAL: u8 = 1;
/// Argument flag: may repeat.
pub const ARG_MULTIPLE: u8 = 2;
/// Argument flag: the token repeats with each value.
pub const ARG_MULTIPLE_TOKEN: u8 = 4;

/// One argument of a command, as COMMAND DOCS describes it.
#[derive(Debug, Clone, Copy)]
pub struct ArgDoc {
    /// Name.
    pub name: &'static str,
    /// Type.
    pub kind: ArgKind,
    /// Index into the key specs, -1 for none.
    pub key_spec_index: i32,
    /// A literal token preceding the value.
    pub token: Option<&'static str>,
    /// A summary.
    pub summary: Option<&'static str>,
    /// Version it appeared in.
    pub since: Option<&'static str>,
    /// Version it was deprecated in.
    pub deprecated_since: Option<&'static str>,
    /// ARG_* flags.
    pub flags: u8,
    /// Nested arguments (oneof, block).
    pub args: &'static [ArgDoc],
}

/// An argument description.
pub const fn arg(name: &'static str, kind: ArgKind) -> ArgDoc {
    ArgDoc {
        name,
        kind,
        key_spec_index: -1,
        token: None,
        summary: None,
        since: None,
        deprecated_since: None,
        flags: 0,
        args: &[],
    }
}

impl ArgDoc {
    /// Refers to key spec `i`.
    pub const fn key_spec(mut self, i: i32) -> ArgDoc {
        self.key_spec_index = i;
        self
    }
    /// With a token.
    pub const fn token(mut self, t: &'static str) -> ArgDoc {
        self.token = Some(t);
        self
    }
    /// With a summary.
    pub const fn summary(mut self, s: &'static str) -> ArgDoc {
        self.summary = Some(s);
        self
    }
    /// With a version.
    pub const fn since(mut self, s: &'static str) -> ArgDoc {
        self.since = Some(s);
        self
    }
    /// Deprecated since a version.
    pub const fn deprecated_since(mut self, s: &'static str) -> ArgDoc {
        self.deprecated_since = Some(s);
        self
    }
    /// Optional.
    pub const fn optional(mut self) -> ArgDoc {
        self.flags |= ARG_OPTIONAL;
        self
    }
    /// Repeatable.
    pub const fn multiple(mut self) -> ArgDoc {
        self.flags |= ARG_MULTIPLE;
        self
    }
    /// Token repeats.
    pub const fn multiple_token(mut self) -> ArgDoc {
        self.flags |= ARG_MULTIPLE_TOKEN;
        self
    }
    /// Nested arguments.
    pub const fn args(mut self, a: &'static [ArgDoc]) -> ArgDoc {
        self.args = a;
        self
    }
}

/// A command: what dispatch checks and COMMAND reports.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    /// Full lowercase name (`get`, `client|id`).
    pub fullname: &'static str,
    /// Redis's arity: N exactly, or -N for at least N (name included).
    pub arity: i32,
    /// `Flags` bits.
    pub flags: Flags,
    /// Legacy key positions: first, last, step.
    pub first_key: i32,
    /// See `first_key`.
    pub last_key: i32,
    /// See `first_key`.
    pub key_step: i32,
    /// ACL categories (without '@').
    pub acl: &'static [&'static str],
    /// Command tips.
    pub tips: &'static [&'static str],
    /// Key specs.
    pub key_specs: &'static [KeySpec],
    /// Group.
    pub group: Group,
    /// Version it appeared in.
    pub since: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Time complexity.
    pub complexity: &'static str,
    /// Doc flags (deprecated, syscmd).
    pub doc_flags: &'static [&'static str],
    /// Deprecated since.
    pub deprecated_since: Option<&'static str>,
    /// Replacement, when deprecated.
    pub replaced_by: Option<&'static str>,
    /// History: (version, change).
    pub history: &'static [(&'static str, &'static str)],
    /// Arguments.
    pub args: &'static [ArgDoc],
    /// The handler; None for containers, which dispatch to subcommands.
    pub handler: Option<Handler>,
    /// Subcommands of a container.
    pub subcommands: &'static [CommandSpec],
}

/// A command entry.
pub const fn cmd(
    fullname: &'static str,
    arity: i32,
    flags: Flags,
    handler: Option<Handler>,
) -> CommandSpec {
    CommandSpec {
        fullname,
        arity,
        flags,
        first_key: 0,
        last_key: 0,
        key_step: 0,
        acl: &[],
        tips: &[],
        key_specs: &[],
        group: Group::Generic,
        since: "",
        summary: "",
        complexity: "",
        doc_flags: &[],
        deprecated_since: None,
        replaced_by: None,
        history: &[],
        args: &[],
        handler,
        subcommands: &[],
    }
}

impl CommandSpec {
    /// Legacy key positions.
    pub const fn keys(mut self, first: i32, last: i32, step: i32) -> Self {
        self.first_key = first;
        self.last_key = last;
        self.key_step = step;
        self
    }
    /// ACL categories.
    pub const fn acl(mut self, a: &'static [&'static str]) -> Self {
        self.acl = a;
        self
    }
    /// Tips.
    pub const fn tips(mut self, t: &'static [&'static str]) -> Self {
        self.tips = t;
        self
    }
    /// Key specs.
    pub const fn key_specs(mut self, k: &'static [KeySpec]) -> Self {
        self.key_specs = k;
        self
    }
    /// Documentation.
    pub const fn doc(
        mut self,
        group: Group,
        since: &'static str,
        summary: &'static str,
        complexity: &'static str,
    ) -> Self {
        self.group = group;
        self.since = since;
        self.summary = summary;
        self.complexity = complexity;
        self
    }
    /// Doc flags.
    pub const fn doc_flags(mut self, f: &'static [&'static str]) -> Self {
        self.doc_flags = f;
        self
    }
    /// Deprecation.
    pub const fn deprecated(mut self, since: &'static str, replaced_by: &'static str) -> Self {
        self.deprecated_since = Some(since);
        self.replaced_by = Some(replaced_by);
        self
    }
    /// History.
    pub const fn history(mut self, h: &'static [(&'static str, &'static str)]) -> Self {
        self.history = h;
        self
    }
    /// Arguments.
    pub const fn args(mut self, a: &'static [ArgDoc]) -> Self {
        self.args = a;
        self
    }
    /// Subcommands.
    pub const fn subcommands(mut self, s: &'static [CommandSpec]) -> Self {
        self.subcommands = s;
        self
    }

    /// The declared name: `id` for `client|id`.
    pub fn name(&self) -> &'static str {
        match self.fullname.split_once('|') {
            Some((_, sub)) => sub,
            None => self.fullname,
        }
    }

    /// Whether the command has a flag.
    pub fn has(&self, flag: Flags) -> bool {
        self.flags & flag != 0
    }

    /// Whether `argc` arguments satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let a = self.arity as i64;
        (a >= 0 && argc == a) || (a < 0 && argc >= -a)
    }
}
