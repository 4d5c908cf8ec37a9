//! Typed errors. Each `Display` is the exact text Redis 7.0 sends (without
//! the leading `-`), so replies match byte for byte.

use std::borrow::Cow;
use std::fmt;

/// An error a command replies with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdError {
    /// A key holds another type.
    WrongType,
    /// An argument or a stored value is not a 64-bit integer.
    NotInteger,
    /// An argument or a stored value is not a float.
    NotFloat,
    /// A generic syntax error.
    Syntax,
    /// The key does not exist (RENAME and friends).
    NoSuchKey,
    /// INCR/DECR overflow.
    Overflow,
    /// A DB index out of range.
    DbIndexOutOfRange,
    /// An invalid DB index value.
    InvalidDbIndex,
    /// The connection must authenticate first.
    NoAuth,
    /// Bad credentials.
    WrongPass,
    /// Wrong number of arguments for the named command.
    Arity(&'static str),
    /// An expire time that overflows or is out of range, for the named command.
    InvalidExpire(&'static str),
    /// A value that exceeds `proto-max-bulk-len`.
    StringTooBig,
    /// Over maxmemory with nothing to evict, for a `denyoom` command.
    Oom,
    /// An error with a fixed text, prefix included (`ERR ...`).
    Static(&'static str),
    /// An error with a computed text, prefix included.
    Owned(String),
}

impl CmdError {
    /// An error with a computed message; `text` includes its prefix.
    pub fn msg(text: impl Into<Cow<'static, str>>) -> CmdError {
        match text.into() {
            Cow::Borrowed(s) => CmdError::Static(s),
            Cow::Owned(s) => CmdError::Owned(s),
        }
    }

    /// The error code: the first word (`ERR`, `WRONGTYPE`, ...), for errorstats.
    pub fn code(&self) -> String {
        let text = self.to_string();
        text.split(' ').next().unwrap_or("ERR").to_string()
    }
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongType => {
                f.write_str("WRONGTYPE Operation against a key holding the wrong kind of value")
            }
            Self::NotInteger => f.write_str("ERR value is not an integer or out of range"),
            Self::NotFloat => f.write_str("ERR value is not a valid float"),
            Self::Syntax => f.write_str("ERR syntax error"),
            Self::NoSuchKey => f.write_str("ERR no such key"),
            Self::Overflow => f.write_str("ERR increment or decrement would overflow"),
            Self::DbIndexOutOfRange => f.write_str("ERR DB index is out of range"),
            Self::InvalidDbIndex => f.write_str("ERR invalid DB index"),
            Self::NoAuth => f.write_str("NOAUTH Authentication required."),
            Self::WrongPass => {
                f.write_str("WRONGPASS invalid username-password pair or user is disabled.")
            }
            Self::Arity(cmd) => write!(f, "ERR wrong number of arguments for '{cmd}' command"),
            Self::InvalidExpire(cmd) => write!(f, "ERR invalid expire time in '{cmd}' command"),
            Self::Oom => f.write_str("OOM command not allowed when used memory > 'maxmemory'."),
            Self::StringTooBig => {
                f.write_str("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
            }
            Self::Static(s) => f.write_str(s),
            Self::Owned(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for CmdError {}

/// What a handler returns.
pub type CmdResult = Result<(), CmdError>;

/// A violation of the protocol: the client gets `-ERR Protocol error: ...`
/// and is closed once that reply is flushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    /// `*` count that is not an integer or is too large.
    InvalidMultibulkLength,
    /// `$` length that is not an integer, negative, or over proto-max-bulk-len.
    InvalidBulkLength,
    /// Something other than `$` where a bulk header was due.
    ExpectedDollar(u8),
    /// An inline command with an unterminated quote.
    UnbalancedQuotes,
    /// An inline command longer than 64 KB without a newline.
    TooBigInline,
    /// A `*` count line longer than 64 KB.
    TooBigMultibulkCount,
    /// A `$` length line longer than 64 KB.
    TooBigBulkCount,
    /// More than 10 arguments before authenticating.
    UnauthenticatedMultibulkLength,
    /// A bulk over 16 KB before authenticating.
    UnauthenticatedBulkLength,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ERR Protocol error: ")?;
        match self {
            Self::InvalidMultibulkLength => f.write_str("invalid multibulk length"),
            Self::InvalidBulkLength => f.write_str("invalid bulk length"),
            Self::ExpectedDollar(c) => write!(f, "expected '$', got '{}'", *c as char),
            Self::UnbalancedQuotes => f.write_str("unbalanced quotes in request"),
            Self::TooBigInline => f.write_str("too big inline request"),
            Self::TooBigMultibulkCount => f.write_str("too big mbulk count string"),
            Self::TooBigBulkCount => f.write_str("too big bulk count string"),
            Self::UnauthenticatedMultibulkLength => f.write_str("unauthenticated multibulk length"),
            Self::UnauthenticatedBulkLength => f.write_str("unauthenticated bulk length"),
        }
    }
}

impl std::error::Error for ProtocolError {}
