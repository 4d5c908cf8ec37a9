//! RESP, both ways: `parser` turns a client's bytes into argv (RESP2
//! multibulk or inline), `reply` is the only encoder of RESP2/RESP3 replies.

pub(crate) mod parser;
pub(crate) mod reply;
pub mod split;

pub use parser::{Argv, Parser};
pub use reply::Reply;
