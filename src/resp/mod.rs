//! RESP, both ways: `parser` turns a client's bytes into argv (RESP2
//! multibulk or inline); `encode` is the one encoder of RESP2/RESP3, used by
//! `reply` (a client's replies) and by everything else that writes RESP (the
//! AOF, the rewrite, MONITOR, refused connections).

pub mod encode;
pub(crate) mod parser;
pub(crate) mod reply;
pub mod split;

pub use parser::{Argv, Parser};
pub use reply::Reply;
