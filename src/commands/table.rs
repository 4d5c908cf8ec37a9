//! The command table: one entry per command, generated from Redis 7.0's own
//! metadata by `tools/gen_command_table.py` (see there before editing by hand).
//! Dispatch, `COMMAND INFO` and `COMMAND DOCS` all read it.

use super::spec::*;
use super::{
    connection, debug, hashes, keys, latency, lists, memory, persistence, server, slowlog, sort,
    strings,
};

/// Every command GoStore serves, sorted by name.
pub static COMMANDS: &[CommandSpec] = &[
cmd("append", 3, WRITE | DENYOOM | FAST, Some(strings::append))
.keys(1, 1, 1)
.acl(&["write", "string", "fast"])
.key_specs(&[KeySpec::new(&["RW", "insert"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::String, "2.0.0", "Append a value to a key", "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("value", ArgKind::Str)]),
cmd("auth", -2, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, Some(connection::auth))
.acl(&["fast", "connection"])
.doc(Group::Connection, "1.0.0", "Authenticate to the server", "O(N) where N is the number of passwords defined for the user")
.history(&[("6.0.0", "Added ACL style (username and password).")])
.args(&[arg("username", ArgKind::Str).since("6.0.0").optional(), arg("password", ArgKind::Str)]),
cmd("bgrewriteaof", 1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING, Some(persistence::bgrewriteaof))
.acl(&["admin", "slow", "dangerous"])
.doc(Group::Server, "1.0.0", "Asynchronously rewrite the append-only file", "O(1)"),
cmd("blmove", 6, WRITE | DENYOOM | NOSCRIPT | BLOCKING, Some(lists::blmove))
.keys(1, 2, 1)
.acl(&["write", "list", "slow", "blocking"])
.key_specs(&[KeySpec::new(&["RW", "access", "delete"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 }), KeySpec::new(&["RW", "insert"], BeginSearch::Index(2), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::List, "6.2.0", "Pop an element from a list, push it to another list and return it; or block until one is available", "O(1)")
.args(&[arg("source", ArgKind::Key).key_spec(0), arg("destination", ArgKind::Key).key_spec(1), arg("wherefrom", ArgKind::OneOf).args(&[arg("left", ArgKind::PureToken).token("LEFT"), arg("right", ArgKind::PureToken).token("RIGHT")]), arg("whereto", ArgKind::OneOf).args(&[arg("left", ArgKind::PureToken).token("LEFT"), arg("right", ArgKind::PureToken).token("RIGHT")]), arg("timeout", ArgKind::Double)]),
cmd("blmpop", -5, WRITE | BLOCKING | MOVABLEKEYS, Some(lists::blmpop))
.acl(&["write", "list", "slow", "blocking"])
.key_specs(&[KeySpec::new(&["RW", "access", "delete"], BeginSearch::Index(2), FindKeys::Keynum { keynumidx: 0, firstkey: 1, step: 1 })])
.doc(Group::List, "7.0.0", "Pop elements from a list, or block until one is available", "O(N+M) where N is the number of provided keys and M is the number of elements returned.")
.args(&[arg("timeout", ArgKind::Double), arg("numkeys", ArgKind::Integer), arg("key", ArgKind::Key).key_spec(0).multiple(), arg("where", ArgKind::OneOf).args(&[arg("left", ArgKind::PureToken).token("LEFT"), arg("right", ArgKind::PureToken).token("RIGHT")]), arg("count", ArgKind::Integer).token("COUNT").optional()]),
cmd("blpop", -3, WRITE | NOSCRIPT | BLOCKING, Some(lists::blpop))
.keys(1, -2, 1)
.acl(&["write", "list", "slow", "blocking"])
.key_specs(&[KeySpec::new(&["RW", "access", "delete"], BeginSearch::Index(1), FindKeys::Range { lastkey: -2, step: 1, limit: 0 })])
.doc(Group::List, "2.0.0", "Remove and get the first element in a list, or block until one is available", "O(N) where N is the number of provided keys.")
.history(&[("6.0.0", "`timeout` is interpreted as a double instead of an integer.")])
.args(&[arg("key", ArgKind::Key).key_spec(0).multiple(), arg("timeout", ArgKind::Double)]),
cmd("brpop", -3, WRITE | NOSCRIPT | BLOCKING, Some(lists::brpop))
.keys(1, -2, 1)
.acl(&["write", "list", "slow", "blocking"])
.key_specs(&[KeySpec::new(&["RW", "access", "delete"], BeginSearch::Index(1), FindKeys::Range { lastkey: -2, step: 1, limit: 0 })])
.doc(Group::List, "2.0.0", "Remove and get the last element in a list, or block until one is available", "O(N) where N is the number of provided keys.")
.history(&[("6.0.0", "`timeout` is interpreted as a double instead of an integer.")])
.args(&[arg("key", ArgKind::Key).key_spec(0).multiple(), arg("timeout", ArgKind::Double)]),
cmd("brpoplpush", 4, WRITE | DENYOOM | NOSCRIPT | BLOCKING, Some(lists::brpoplpush))
.keys(1, 2, 1)
.acl(&["write", "list", "slow", "blocking"])
.key_specs(&[KeySpec::new(&["RW", "access", "delete"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 }), KeySpec::new(&["RW", "insert"], BeginSearch::Index(2), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::List, "2.2.0", "Pop an element from a list, push it to another list and return it; or block until one is available", "O(1)")
.doc_flags(&["deprecated"])
.deprecated("6.2.0", "`BLMOVE` with the `RIGHT` and `LEFT` arguments")
.history(&[("6.0.0", "`timeout` is interpreted as a double instead of an integer.")])
.args(&[arg("source", ArgKind::Key).key_spec(0), arg("destination", ArgKind::Key).key_spec(1), arg("timeout", ArgKind::Double)]),
cmd("client", -2, NONE, None)
.acl(&["slow"])
.doc(Group::Connection, "2.4.0", "A container for client connection commands", "Depends on subcommand.")
.subcommands(&[
cmd("client|getname", 2, NOSCRIPT | LOADING | STALE, Some(connection::client_getname))
.acl(&["slow", "connection"])
.doc(Group::Connection, "2.6.9", "Get the current connection name", "O(1)"),
cmd("client|help", 2, LOADING | STALE, Some(connection::client_help))
.acl(&["slow", "connection"])
.doc(Group::Connection, "5.0.0", "Show helpful text about the different subcommands", "O(1)"),
cmd("client|id", 2, NOSCRIPT | LOADING | STALE, Some(connection::client_id))
.acl(&["slow", "connection"])
.doc(Group::Connection, "5.0.0", "Returns the client ID for the current connection", "O(1)"),
cmd("client|info", 2, NOSCRIPT | LOADING | STALE, Some(connection::client_info))
.acl(&["slow", "connection"])
.tips(&["nondeterministic_output"])
.doc(Group::Connection, "6.2.0", "Returns information about the current client connection.", "O(1)"),
cmd("client|kill", -3, ADMIN | NOSCRIPT | LOADING | STALE, Some(connection::client_kill))
.acl(&["admin", "slow", "dangerous", "connection"])
.doc(Group::Connection, "2.4.0", "Kill the connection of a client", "O(N) where N is the number of client connections")
.history(&[("2.8.12", "Added new filter format."), ("2.8.12", "`ID` option."), ("3.2.0", "Added `master` type in for `TYPE` option."), ("5.0.0", "Replaced `slave` `TYPE` with `replica`. `slave` still supported for backward compatibility."), ("6.2.0", "`LADDR` option.")])
.args(&[arg("filter", ArgKind::OneOf).args(&[arg("ip:port", ArgKind::Str).deprecated_since("2.8.12"), arg("new-format", ArgKind::OneOf).multiple().args(&[arg("client-id", ArgKind::Integer).token("ID").since("2.8.12").optional(), arg("normal_master_slave_pubsub", ArgKind::OneOf).token("TYPE").since("2.8.12").optional().args(&[arg("normal", ArgKind::PureToken).token("NORMAL"), arg("master", ArgKind::PureToken).token("MASTER").since("3.2.0"), arg("slave", ArgKind::PureToken).token("SLAVE"), arg("replica", ArgKind::PureToken).token("REPLICA").since("5.0.0"), arg("pubsub", ArgKind::PureToken).token("PUBSUB")]), arg("username", ArgKind::Str).token("USER").optional(), arg("ip:port", ArgKind::Str).token("ADDR").optional(), arg("ip:port", ArgKind::Str).token("LADDR").since("6.2.0").optional(), arg("yes/no", ArgKind::Str).token("SKIPME").optional()])])]),
cmd("client|list", -2, ADMIN | NOSCRIPT | LOADING | STALE, Some(connection::client_list))
.acl(&["admin", "slow", "dangerous", "connection"])
.tips(&["nondeterministic_output"])
.doc(Group::Connection, "2.4.0", "Get the list of client connections", "O(N) where N is the number of client connections")
.history(&[("2.8.12", "Added unique client `id` field."), ("5.0.0", "Added optional `TYPE` filter."), ("6.0.0", "Added `user` field."), ("6.2.0", "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional `ID` filter."), ("7.0.0", "Added `resp`, `multi-mem`, `rbs` and `rbp` fields."), ("7.0.3", "Added `ssub` field.")])
.args(&[arg("normal_master_replica_pubsub", ArgKind::OneOf).token("TYPE").since("5.0.0").optional().args(&[arg("normal", ArgKind::PureToken).token("NORMAL"), arg("master", ArgKind::PureToken).token("MASTER"), arg("replica", ArgKind::PureToken).token("REPLICA"), arg("pubsub", ArgKind::PureToken).token("PUBSUB")]), arg("id", ArgKind::Block).token("ID").since("6.2.0").optional().args(&[arg("client-id", ArgKind::Integer).multiple()])]),
cmd("client|no-evict", 3, ADMIN | NOSCRIPT | LOADING | STALE, Some(connection::client_no_evict))
.acl(&["admin", "slow", "dangerous", "connection"])
.doc(Group::Connection, "7.0.0", "Set client eviction mode for the current connection", "O(1)")
.args(&[arg("enabled", ArgKind::OneOf).args(&[arg("on", ArgKind::PureToken).token("ON"), arg("off", ArgKind::PureToken).token("OFF")])]),
cmd("client|no-touch", 3, NOSCRIPT | LOADING | STALE, Some(connection::client_no_touch))
.acl(&["slow", "connection"])
.doc(Group::Connection, "7.2.0", "Controls whether commands sent by the client affect the LRU/LFU of accessed keys", "O(1)")
.args(&[arg("enabled", ArgKind::OneOf).args(&[arg("on", ArgKind::PureToken).token("ON"), arg("off", ArgKind::PureToken).token("OFF")])]),
cmd("client|pause", -3, ADMIN | NOSCRIPT | LOADING | STALE, Some(connection::client_pause))
.acl(&["admin", "slow", "dangerous", "connection"])
.doc(Group::Connection, "2.9.50", "Stop processing commands from clients for some time", "O(1)")
.history(&[("6.2.0", "`CLIENT PAUSE WRITE` mode added along with the `mode` option.")])
.args(&[arg("timeout", ArgKind::Integer), arg("mode", ArgKind::OneOf).since("6.2.0").optional().args(&[arg("write", ArgKind::PureToken).token("WRITE"), arg("all", ArgKind::PureToken).token("ALL")])]),
cmd("client|setinfo", 4, NOSCRIPT | LOADING | STALE, Some(connection::client_setinfo))
.acl(&["slow", "connection"])
.doc(Group::Connection, "7.2.0", "Set client or connection specific info", "O(1)")
.args(&[arg("attr", ArgKind::OneOf).args(&[arg("libname", ArgKind::Str).token("LIB-NAME"), arg("libver", ArgKind::Str).token("LIB-VER")])]),
cmd("client|setname", 3, NOSCRIPT | LOADING | STALE, Some(connection::client_setname))
.acl(&["slow", "connection"])
.doc(Group::Connection, "2.6.9", "Set the current connection name", "O(1)")
.args(&[arg("connection-name", ArgKind::Str)]),
cmd("client|unblock", -3, ADMIN | NOSCRIPT | LOADING | STALE, Some(connection::client_unblock))
.acl(&["admin", "slow", "dangerous", "connection"])
.doc(Group::Connection, "5.0.0", "Unblock a client blocked in a blocking command from a different connection", "O(log N) where N is the number of client connections")
.args(&[arg("client-id", ArgKind::Integer), arg("timeout_error", ArgKind::OneOf).optional().args(&[arg("timeout", ArgKind::PureToken).token("TIMEOUT"), arg("error", ArgKind::PureToken).token("ERROR")])]),
cmd("client|unpause", 2, ADMIN | NOSCRIPT | LOADING | STALE, Some(connection::client_unpause))
.acl(&["admin", "slow", "dangerous", "connection"])
.doc(Group::Connection, "6.2.0", "Resume processing of clients that were paused", "O(N) Where N is the number of paused clients"),
]),
cmd("command", -1, LOADING | STALE, Some(server::command))
.acl(&["slow", "connection"])
.tips(&["nondeterministic_output_order"])
.doc(Group::Server, "2.8.13", "Get array of Redis command details", "O(N) where N is the total number of Redis commands")
.subcommands(&[
cmd("command|count", 2, LOADING | STALE, Some(server::command_count))
.acl(&["slow", "connection"])
.doc(Group::Server, "2.8.13", "Get total number of Redis commands", "O(1)"),
cmd("command|docs", -2, LOADING | STALE, Some(server::command_docs))
.acl(&["slow", "connection"])
.tips(&["nondeterministic_output_order"])
.doc(Group::Server, "7.0.0", "Get array of specific Redis command documentation", "O(N) where N is the number of commands to look up")
.args(&[arg("command-name", ArgKind::Str).optional().multiple()]),
cmd("command|getkeys", -4, LOADING | STALE, Some(server::command_getkeys))
.acl(&["slow", "connection"])
.doc(Group::Server, "2.8.13", "Extract keys given a full Redis command", "O(N) where N is the number of arguments to the command"),
cmd("command|getkeysandflags", -4, LOADING | STALE, Some(server::command_getkeysandflags))
.acl(&["slow", "connection"])
.doc(Group::Server, "7.0.0", "Extract keys and access flags given a full Redis command", "O(N) where N is the number of arguments to the command"),
cmd("command|help", 2, LOADING | STALE, Some(server::command_help))
.acl(&["slow", "connection"])
.doc(Group::Server, "5.0.0", "Show helpful text about the different subcommands", "O(1)"),
cmd("command|info", -2, LOADING | STALE, Some(server::command_info))
.acl(&["slow", "connection"])
.tips(&["nondeterministic_output_order"])
.doc(Group::Server, "2.8.13", "Get array of specific Redis command details, or all when no argument is given.", "O(N) where N is the number of commands to look up")
.history(&[("7.0.0", "Allowed to be called with no argument to get info on all commands.")])
.args(&[arg("command-name", ArgKind::Str).optional().multiple()]),
cmd("command|list", -2, LOADING | STALE, Some(server::command_list))
.acl(&["slow", "connection"])
.tips(&["nondeterministic_output_order"])
.doc(Group::Server, "7.0.0", "Get an array of Redis command names", "O(N) where N is the total number of Redis commands")
.args(&[arg("filterby", ArgKind::OneOf).token("FILTERBY").optional().args(&[arg("module-name", ArgKind::Str).token("MODULE"), arg("category", ArgKind::Str).token("ACLCAT"), arg("pattern", ArgKind::Pattern).token("PATTERN")])]),
]),
cmd("config", -2, NONE, None)
.acl(&["slow"])
.doc(Group::Server, "2.0.0", "A container for server configuration commands", "Depends on subcommand.")
.subcommands(&[
cmd("config|get", -3, ADMIN | NOSCRIPT | LOADING | STALE, Some(server::config_get))
.acl(&["admin", "slow", "dangerous"])
.doc(Group::Server, "2.0.0", "Get the values of configuration parameters", "O(N) when N is the number of configuration parameters provided")
.history(&[("7.0.0", "Added the ability to pass multiple pattern parameters in one call")])
.args(&[arg("parameter", ArgKind::Block).multiple().args(&[arg("parameter", ArgKind::Str)])]),
cmd("config|help", 2, LOADING | STALE, Some(server::config_help))
.acl(&["slow"])
.doc(Group::Server, "5.0.0", "Show helpful text about the different subcommands", "O(1)"),
cmd("config|resetstat", 2, ADMIN | NOSCRIPT | LOADING | STALE, Some(server::config_resetstat))
.acl(&["admin", "slow", "dangerous"])
.doc(Group::Server, "2.0.0", "Reset the stats returned by INFO", "O(1)"),
cmd("config|rewrite", 2, ADMIN | NOSCRIPT | LOADING | STALE, Some(server::config_rewrite))
.acl(&["admin", "slow", "dangerous"])
.doc(Group::Server, "2.8.0", "Rewrite the configuration file with the in memory configuration", "O(1)"),
cmd("config|set", -4, ADMIN | NOSCRIPT | LOADING | STALE, Some(server::config_set))
.acl(&["admin", "slow", "dangerous"])
.tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
.doc(Group::Server, "2.0.0", "Set configuration parameters to the given values", "O(N) when N is the number of configuration parameters provided")
.history(&[("7.0.0", "Added the ability to set multiple parameters in one call.")])
.args(&[arg("parameter_value", ArgKind::Block).multiple().args(&[arg("parameter", ArgKind::Str), arg("value", ArgKind::Str)])]),
]),
cmd("copy", -3, WRITE | DENYOOM, Some(keys::copy))
.keys(1, 2, 1)
.acl(&["keyspace", "write", "slow"])
.key_specs(&[KeySpec::new(&["RO", "access"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 }), KeySpec::new(&["OW", "update"], BeginSearch::Index(2), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Generic, "6.2.0", "Copy a key", "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.")
.args(&[arg("source", ArgKind::Key).key_spec(0), arg("destination", ArgKind::Key).key_spec(1), arg("destination-db", ArgKind::Integer).token("DB").optional(), arg("replace", ArgKind::PureToken).token("REPLACE").optional()]),
cmd("dbsize", 1, READONLY | FAST, Some(server::dbsize))
.acl(&["keyspace", "read", "fast"])
.tips(&["request_policy:all_shards", "response_policy:agg_sum"])
.doc(Group::Server, "1.0.0", "Return the number of keys in the selected database", "O(1)"),
cmd("debug", -2, ADMIN | NOSCRIPT | LOADING | STALE, Some(debug::debug))
.acl(&["admin", "slow", "dangerous"])
.doc(Group::Server, "1.0.0", "A container for debugging commands", "Depends on subcommand.")
.doc_flags(&["syscmd"]),
cmd("decr", 2, WRITE | DENYOOM | FAST, Some(strings::decr))
.keys(1, 1, 1)
.acl(&["write", "string", "fast"])
.key_specs(&[KeySpec::new(&["RW", "access", "update"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::String, "1.0.0", "Decrement the integer value of a key by one", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0)]),
cmd("decrby", 3, WRITE | DENYOOM | FAST, Some(strings::decrby))
.keys(1, 1, 1)
.acl(&["write", "string", "fast"])
.key_specs(&[KeySpec::new(&["RW", "access", "update"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::String, "1.0.0", "Decrement the integer value of a key by the given number", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("decrement", ArgKind::Integer)]),
cmd("del", -2, WRITE, Some(keys::del))
.keys(1, -1, 1)
.acl(&["keyspace", "write", "slow"])
.tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
.key_specs(&[KeySpec::new(&["RM", "delete"], BeginSearch::Index(1), FindKeys::Range { lastkey: -1, step: 1, limit: 0 })])
.doc(Group::Generic, "1.0.0", "Delete a key", "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).")
.args(&[arg("key", ArgKind::Key).key_spec(0).multiple()]),
cmd("echo", 2, LOADING | STALE | FAST, Some(connection::echo))
.acl(&["fast", "connection"])
.doc(Group::Connection, "1.0.0", "Echo the given string", "O(1)")
.args(&[arg("message", ArgKind::Str)]),
cmd("exists", -2, READONLY | FAST, Some(keys::exists))
.keys(1, -1, 1)
.acl(&["keyspace", "read", "fast"])
.tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
.key_specs(&[KeySpec::new(&["RO"], BeginSearch::Index(1), FindKeys::Range { lastkey: -1, step: 1, limit: 0 })])
.doc(Group::Generic, "1.0.0", "Determine if a key exists", "O(N) where N is the number of keys to check.")
.history(&[("3.0.3", "Accepts multiple `key` arguments.")])
.args(&[arg("key", ArgKind::Key).key_spec(0).multiple()]),
cmd("expire", -3, WRITE | FAST, Some(keys::expire))
.keys(1, 1, 1)
.acl(&["keyspace", "write", "fast"])
.key_specs(&[KeySpec::new(&["RW", "update"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Generic, "1.0.0", "Set a key's time to live in seconds", "O(1)")
.history(&[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")])
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("seconds", ArgKind::Integer), arg("condition", ArgKind::OneOf).since("7.0.0").optional().args(&[arg("nx", ArgKind::PureToken).token("NX"), arg("xx", ArgKind::PureToken).token("XX"), arg("gt", ArgKind::PureToken).token("GT"), arg("lt", ArgKind::PureToken).token("LT")])]),
cmd("expireat", -3, WRITE | FAST, Some(keys::expireat))
.keys(1, 1, 1)
.acl(&["keyspace", "write", "fast"])
.key_specs(&[KeySpec::new(&["RW", "update"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Generic, "1.2.0", "Set the expiration for a key as a UNIX timestamp", "O(1)")
.history(&[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")])
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("unix-time-seconds", ArgKind::UnixTime), arg("condition", ArgKind::OneOf).since("7.0.0").optional().args(&[arg("nx", ArgKind::PureToken).token("NX"), arg("xx", ArgKind::PureToken).token("XX"), arg("gt", ArgKind::PureToken).token("GT"), arg("lt", ArgKind::PureToken).token("LT")])]),
cmd("expiretime", 2, READONLY | FAST, Some(keys::expiretime))
.keys(1, 1, 1)
.acl(&["keyspace", "read", "fast"])
.key_specs(&[KeySpec::new(&["RO", "access"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Generic, "7.0.0", "Get the expiration Unix timestamp for a key", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0)]),
cmd("flushall", -1, WRITE, Some(server::flushall))
.acl(&["keyspace", "write", "slow", "dangerous"])
.tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
.doc(Group::Server, "1.0.0", "Remove all keys from all databases", "O(N) where N is the total number of keys in all databases")
.history(&[("4.0.0", "Added the `ASYNC` flushing mode modifier."), ("6.2.0", "Added the `SYNC` flushing mode modifier.")])
.args(&[arg("async", ArgKind::OneOf).optional().args(&[arg("async", ArgKind::PureToken).token("ASYNC").since("4.0.0"), arg("sync", ArgKind::PureToken).token("SYNC").since("6.2.0")])]),
cmd("flushdb", -1, WRITE, Some(server::flushdb))
.acl(&["keyspace", "write", "slow", "dangerous"])
.tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
.doc(Group::Server, "1.0.0", "Remove all keys from the current database", "O(N) where N is the number of keys in the selected database")
.history(&[("4.0.0", "Added the `ASYNC` flushing mode modifier."), ("6.2.0", "Added the `SYNC` flushing mode modifier.")])
.args(&[arg("async", ArgKind::OneOf).optional().args(&[arg("async", ArgKind::PureToken).token("ASYNC").since("4.0.0"), arg("sync", ArgKind::PureToken).token("SYNC").since("6.2.0")])]),
cmd("get", 2, READONLY | FAST, Some(strings::get))
.keys(1, 1, 1)
.acl(&["read", "string", "fast"])
.key_specs(&[KeySpec::new(&["RO", "access"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::String, "1.0.0", "Get the value of a key", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0)]),
cmd("getdel", 2, WRITE | FAST, Some(strings::getdel))
.keys(1, 1, 1)
.acl(&["write", "string", "fast"])
.key_specs(&[KeySpec::new(&["RW", "access", "delete"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::String, "6.2.0", "Get the value of a key and delete the key", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0)]),
cmd("getex", -2, WRITE | FAST, Some(strings::getex))
.keys(1, 1, 1)
.acl(&["write", "string", "fast"])
.key_specs(&[KeySpec::new(&["RW", "access", "update"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 }).notes("RW and UPDATE because it changes the TTL")])
.doc(Group::String, "6.2.0", "Get the value of a key and optionally set its expiration", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("expiration", ArgKind::OneOf).optional().args(&[arg("seconds", ArgKind::Integer).token("EX"), arg("milliseconds", ArgKind::Integer).token("PX"), arg("unix-time-seconds", ArgKind::UnixTime).token("EXAT"), arg("unix-time-milliseconds", ArgKind::UnixTime).token("PXAT"), arg("persist", ArgKind::PureToken).token("PERSIST")])]),
cmd("getrange", 4, READONLY, Some(strings::getrange))
.keys(1, 1, 1)
.acl(&["read", "string", "slow"])
.key_specs(&[KeySpec::new(&["RO", "access"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::String, "2.4.0", "Get a substring of the string stored at a key", "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("start", ArgKind::Integer), arg("end", ArgKind::Integer)]),
cmd("getset", 3, WRITE | DENYOOM | FAST, Some(strings::getset))
.keys(1, 1, 1)
.acl(&["write", "string", "fast"])
.key_specs(&[KeySpec::new(&["RW", "access", "update"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::String, "1.0.0", "Set the string value of a key and return its old value", "O(1)")
.doc_flags(&["deprecated"])
.deprecated("6.2.0", "`SET` with the `!GET` argument")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("value", ArgKind::Str)]),
cmd("hdel", -3, WRITE | FAST, Some(hashes::hdel))
.keys(1, 1, 1)
.acl(&["write", "hash", "fast"])
.key_specs(&[KeySpec::new(&["RW", "delete"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Hash, "2.0.0", "Delete one or more hash fields", "O(N) where N is the number of fields to be removed.")
.history(&[("2.4.0", "Accepts multiple `field` arguments.")])
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("field", ArgKind::Str).multiple()]),
cmd("hello", -1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, Some(connection::hello))
.acl(&["fast", "connection"])
.doc(Group::Connection, "6.0.0", "Handshake with Redis", "O(1)")
.history(&[("6.2.0", "`protover` made optional; when called without arguments the command reports the current connection's context.")])
.args(&[arg("arguments", ArgKind::Block).optional().args(&[arg("protover", ArgKind::Integer), arg("username_password", ArgKind::Block).token("AUTH").optional().args(&[arg("username", ArgKind::Str), arg("password", ArgKind::Str)]), arg("clientname", ArgKind::Str).token("SETNAME").optional()])]),
cmd("hexists", 3, READONLY | FAST, Some(hashes::hexists))
.keys(1, 1, 1)
.acl(&["read", "hash", "fast"])
.key_specs(&[KeySpec::new(&["RO"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Hash, "2.0.0", "Determine if a hash field exists", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("field", ArgKind::Str)]),
cmd("hget", 3, READONLY | FAST, Some(hashes::hget))
.keys(1, 1, 1)
.acl(&["read", "hash", "fast"])
.key_specs(&[KeySpec::new(&["RO", "access"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Hash, "2.0.0", "Get the value of a hash field", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("field", ArgKind::Str)]),
cmd("hgetall", 2, READONLY, Some(hashes::hgetall))
.keys(1, 1, 1)
.acl(&["read", "hash", "slow"])
.tips(&["nondeterministic_output_order"])
.key_specs(&[KeySpec::new(&["RO", "access"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Hash, "2.0.0", "Get all the fields and values in a hash", "O(N) where N is the size of the hash.")
.args(&[arg("key", ArgKind::Key).key_spec(0)]),
cmd("hincrby", 4, WRITE | DENYOOM | FAST, Some(hashes::hincrby))
.keys(1, 1, 1)
.acl(&["write", "hash", "fast"])
.key_specs(&[KeySpec::new(&["RW", "access", "update"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Hash, "2.0.0", "Increment the integer value of a hash field by the given number", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("field", ArgKind::Str), arg("increment", ArgKind::Integer)]),
cmd("hincrbyfloat", 4, WRITE | DENYOOM | FAST, Some(hashes::hincrbyfloat))
.keys(1, 1, 1)
.acl(&["write", "hash", "fast"])
.key_specs(&[KeySpec::new(&["RW", "access", "update"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Hash, "2.6.0", "Increment the float value of a hash field by the given amount", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("field", ArgKind::Str), arg("increment", ArgKind::Double)]),
cmd("hkeys", 2, READONLY, Some(hashes::hkeys))
.keys(1, 1, 1)
.acl(&["read", "hash", "slow"])
.tips(&["nondeterministic_output_order"])
.key_specs(&[KeySpec::new(&["RO", "access"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Hash, "2.0.0", "Get all the fields in a hash", "O(N) where N is the size of the hash.")
.args(&[arg("key", ArgKind::Key).key_spec(0)]),
cmd("hlen", 2, READONLY | FAST, Some(hashes::hlen))
.keys(1, 1, 1)
.acl(&["read", "hash", "fast"])
.key_specs(&[KeySpec::new(&["RO"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Hash, "2.0.0", "Get the number of fields in a hash", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0)]),
cmd("hmget", -3, READONLY | FAST, Some(hashes::hmget))
.keys(1, 1, 1)
.acl(&["read", "hash", "fast"])
.key_specs(&[KeySpec::new(&["RO", "access"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Hash, "2.0.0", "Get the values of all the given hash fields", "O(N) where N is the number of fields being requested.")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("field", ArgKind::Str).multiple()]),
cmd("hmset", -4, WRITE | DENYOOM | FAST, Some(hashes::hmset))
.keys(1, 1, 1)
.acl(&["write", "hash", "fast"])
.key_specs(&[KeySpec::new(&["RW", "update"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Hash, "2.0.0", "Set multiple hash fields to multiple values", "O(N) where N is the number of fields being set.")
.doc_flags(&["deprecated"])
.deprecated("4.0.0", "`HSET` with multiple field-value pairs")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("field_value", ArgKind::Block).multiple().args(&[arg("field", ArgKind::Str), arg("value", ArgKind::Str)])]),
cmd("hrandfield", -2, READONLY, Some(hashes::hrandfield))
.keys(1, 1, 1)
.acl(&["read", "hash", "slow"])
.tips(&["nondeterministic_output"])
.key_specs(&[KeySpec::new(&["RO", "access"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Hash, "6.2.0", "Get one or multiple random fields from a hash", "O(N) where N is the number of fields returned")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("options", ArgKind::Block).optional().args(&[arg("count", ArgKind::Integer), arg("withvalues", ArgKind::PureToken).token("WITHVALUES").optional()])]),
cmd("hscan", -3, READONLY, Some(hashes::hscan))
.keys(1, 1, 1)
.acl(&["read", "hash", "slow"])
.tips(&["nondeterministic_output"])
.key_specs(&[KeySpec::new(&["RO", "access"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Hash, "2.8.0", "Incrementally iterate hash fields and associated values", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("cursor", ArgKind::Integer), arg("pattern", ArgKind::Pattern).token("MATCH").optional(), arg("count", ArgKind::Integer).token("COUNT").optional()]),
cmd("hset", -4, WRITE | DENYOOM | FAST, Some(hashes::hset))
.keys(1, 1, 1)
.acl(&["write", "hash", "fast"])
.key_specs(&[KeySpec::new(&["RW", "update"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Hash, "2.0.0", "Set the string value of a hash field", "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.")
.history(&[("4.0.0", "Accepts multiple `field` and `value` arguments.")])
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("field_value", ArgKind::Block).multiple().args(&[arg("field", ArgKind::Str), arg("value", ArgKind::Str)])]),
cmd("hsetnx", 4, WRITE | DENYOOM | FAST, Some(hashes::hsetnx))
.keys(1, 1, 1)
.acl(&["write", "hash", "fast"])
.key_specs(&[KeySpec::new(&["RW", "insert"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Hash, "2.0.0", "Set the value of a hash field, only if the field does not exist", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("field", ArgKind::Str), arg("value", ArgKind::Str)]),
cmd("hstrlen", 3, READONLY | FAST, Some(hashes::hstrlen))
.keys(1, 1, 1)
.acl(&["read", "hash", "fast"])
.key_specs(&[KeySpec::new(&["RO"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Hash, "3.2.0", "Get the length of the value of a hash field", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("field", ArgKind::Str)]),
cmd("hvals", 2, READONLY, Some(hashes::hvals))
.keys(1, 1, 1)
.acl(&["read", "hash", "slow"])
.tips(&["nondeterministic_output_order"])
.key_specs(&[KeySpec::new(&["RO", "access"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Hash, "2.0.0", "Get all the values in a hash", "O(N) where N is the size of the hash.")
.args(&[arg("key", ArgKind::Key).key_spec(0)]),
cmd("incr", 2, WRITE | DENYOOM | FAST, Some(strings::incr))
.keys(1, 1, 1)
.acl(&["write", "string", "fast"])
.key_specs(&[KeySpec::new(&["RW", "access", "update"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::String, "1.0.0", "Increment the integer value of a key by one", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0)]),
cmd("incrby", 3, WRITE | DENYOOM | FAST, Some(strings::incrby))
.keys(1, 1, 1)
.acl(&["write", "string", "fast"])
.key_specs(&[KeySpec::new(&["RW", "access", "update"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::String, "1.0.0", "Increment the integer value of a key by the given amount", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("increment", ArgKind::Integer)]),
cmd("incrbyfloat", 3, WRITE | DENYOOM | FAST, Some(strings::incrbyfloat))
.keys(1, 1, 1)
.acl(&["write", "string", "fast"])
.key_specs(&[KeySpec::new(&["RW", "access", "update"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::String, "2.6.0", "Increment the float value of a key by the given amount", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("increment", ArgKind::Double)]),
cmd("info", -1, LOADING | STALE, Some(server::info))
.acl(&["slow", "dangerous"])
.tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"])
.doc(Group::Server, "1.0.0", "Get information and statistics about the server", "O(1)")
.history(&[("7.0.0", "Added support for taking multiple section arguments.")])
.args(&[arg("section", ArgKind::Str).optional().multiple()]),
cmd("keys", 2, READONLY, Some(keys::keys))
.acl(&["keyspace", "read", "slow", "dangerous"])
.tips(&["request_policy:all_shards", "nondeterministic_output_order"])
.doc(Group::Generic, "1.0.0", "Find all keys matching the given pattern", "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.")
.args(&[arg("pattern", ArgKind::Pattern)]),
cmd("lastsave", 1, LOADING | STALE | FAST, Some(server::lastsave))
.acl(&["admin", "fast", "dangerous"])
.tips(&["nondeterministic_output"])
.doc(Group::Server, "1.0.0", "Get the UNIX time stamp of the last successful save to disk", "O(1)"),
cmd("latency", -2, NONE, None)
.acl(&["slow"])
.doc(Group::Server, "2.8.13", "A container for latency diagnostics commands", "Depends on subcommand.")
.subcommands(&[
cmd("latency|doctor", 2, ADMIN | NOSCRIPT | LOADING | STALE, Some(latency::latency_doctor))
.acl(&["admin", "slow", "dangerous"])
.tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"])
.doc(Group::Server, "2.8.13", "Return a human readable latency analysis report.", "O(1)"),
cmd("latency|graph", 3, ADMIN | NOSCRIPT | LOADING | STALE, Some(latency::latency_graph))
.acl(&["admin", "slow", "dangerous"])
.tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"])
.doc(Group::Server, "2.8.13", "Return a latency graph for the event.", "O(1)")
.args(&[arg("event", ArgKind::Str)]),
cmd("latency|help", 2, LOADING | STALE, Some(latency::latency_help))
.acl(&["slow"])
.doc(Group::Server, "2.8.13", "Show helpful text about the different subcommands.", "O(1)"),
cmd("latency|histogram", -2, ADMIN | NOSCRIPT | LOADING | STALE, Some(latency::latency_histogram))
.acl(&["admin", "slow", "dangerous"])
.tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"])
.doc(Group::Server, "7.0.0", "Return the cumulative distribution of latencies of a subset of commands or all.", "O(N) where N is the number of commands with latency information being retrieved.")
.args(&[arg("command", ArgKind::Str).optional().multiple()]),
cmd("latency|history", 3, ADMIN | NOSCRIPT | LOADING | STALE, Some(latency::latency_history))
.acl(&["admin", "slow", "dangerous"])
.tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"])
.doc(Group::Server, "2.8.13", "Return timestamp-latency samples for the event.", "O(1)")
.args(&[arg("event", ArgKind::Str)]),
cmd("latency|latest", 2, ADMIN | NOSCRIPT | LOADING | STALE, Some(latency::latency_latest))
.acl(&["admin", "slow", "dangerous"])
.tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"])
.doc(Group::Server, "2.8.13", "Return the latest latency samples for all events.", "O(1)"),
cmd("latency|reset", -2, ADMIN | NOSCRIPT | LOADING | STALE, Some(latency::latency_reset))
.acl(&["admin", "slow", "dangerous"])
.tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
.doc(Group::Server, "2.8.13", "Reset latency data for one or more events.", "O(1)")
.args(&[arg("event", ArgKind::Str).optional().multiple()]),
]),
cmd("lcs", -3, READONLY, Some(strings::lcs))
.keys(1, 2, 1)
.acl(&["read", "string", "slow"])
.key_specs(&[KeySpec::new(&["RO", "access"], BeginSearch::Index(1), FindKeys::Range { lastkey: 1, step: 1, limit: 0 })])
.doc(Group::String, "7.0.0", "Find longest common substring", "O(N*M) where N and M are the lengths of s1 and s2, respectively")
.args(&[arg("key1", ArgKind::Key).key_spec(0), arg("key2", ArgKind::Key).key_spec(0), arg("len", ArgKind::PureToken).token("LEN").optional(), arg("idx", ArgKind::PureToken).token("IDX").optional(), arg("len", ArgKind::Integer).token("MINMATCHLEN").optional(), arg("withmatchlen", ArgKind::PureToken).token("WITHMATCHLEN").optional()]),
cmd("lindex", 3, READONLY, Some(lists::lindex))
.keys(1, 1, 1)
.acl(&["read", "list", "slow"])
.key_specs(&[KeySpec::new(&["RO", "access"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::List, "1.0.0", "Get an element from a list by its index", "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("index", ArgKind::Integer)]),
cmd("linsert", 5, WRITE | DENYOOM, Some(lists::linsert))
.keys(1, 1, 1)
.acl(&["write", "list", "slow"])
.key_specs(&[KeySpec::new(&["RW", "insert"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::List, "2.2.0", "Insert an element before or after another element in a list", "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("where", ArgKind::OneOf).args(&[arg("before", ArgKind::PureToken).token("BEFORE"), arg("after", ArgKind::PureToken).token("AFTER")]), arg("pivot", ArgKind::Str), arg("element", ArgKind::Str)]),
cmd("llen", 2, READONLY | FAST, Some(lists::llen))
.keys(1, 1, 1)
.acl(&["read", "list", "fast"])
.key_specs(&[KeySpec::new(&["RO"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::List, "1.0.0", "Get the length of a list", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0)]),
cmd("lmove", 5, WRITE | DENYOOM, Some(lists::lmove))
.keys(1, 2, 1)
.acl(&["write", "list", "slow"])
.key_specs(&[KeySpec::new(&["RW", "access", "delete"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 }), KeySpec::new(&["RW", "insert"], BeginSearch::Index(2), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::List, "6.2.0", "Pop an element from a list, push it to another list and return it", "O(1)")
.args(&[arg("source", ArgKind::Key).key_spec(0), arg("destination", ArgKind::Key).key_spec(1), arg("wherefrom", ArgKind::OneOf).args(&[arg("left", ArgKind::PureToken).token("LEFT"), arg("right", ArgKind::PureToken).token("RIGHT")]), arg("whereto", ArgKind::OneOf).args(&[arg("left", ArgKind::PureToken).token("LEFT"), arg("right", ArgKind::PureToken).token("RIGHT")])]),
cmd("lmpop", -4, WRITE | MOVABLEKEYS, Some(lists::lmpop))
.acl(&["write", "list", "slow"])
.key_specs(&[KeySpec::new(&["RW", "access", "delete"], BeginSearch::Index(1), FindKeys::Keynum { keynumidx: 0, firstkey: 1, step: 1 })])
.doc(Group::List, "7.0.0", "Pop elements from a list", "O(N+M) where N is the number of provided keys and M is the number of elements returned.")
.args(&[arg("numkeys", ArgKind::Integer), arg("key", ArgKind::Key).key_spec(0).multiple(), arg("where", ArgKind::OneOf).args(&[arg("left", ArgKind::PureToken).token("LEFT"), arg("right", ArgKind::PureToken).token("RIGHT")]), arg("count", ArgKind::Integer).token("COUNT").optional()]),
cmd("lpop", -2, WRITE | FAST, Some(lists::lpop))
.keys(1, 1, 1)
.acl(&["write", "list", "fast"])
.key_specs(&[KeySpec::new(&["RW", "access", "delete"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::List, "1.0.0", "Remove and get the first elements in a list", "O(N) where N is the number of elements returned")
.history(&[("6.2.0", "Added the `count` argument.")])
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("count", ArgKind::Integer).since("6.2.0").optional()]),
cmd("lpos", -3, READONLY, Some(lists::lpos))
.keys(1, 1, 1)
.acl(&["read", "list", "slow"])
.key_specs(&[KeySpec::new(&["RO", "access"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::List, "6.0.6", "Return the index of matching elements on a list", "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("element", ArgKind::Str), arg("rank", ArgKind::Integer).token("RANK").optional(), arg("num-matches", ArgKind::Integer).token("COUNT").optional(), arg("len", ArgKind::Integer).token("MAXLEN").optional()]),
cmd("lpush", -3, WRITE | DENYOOM | FAST, Some(lists::lpush))
.keys(1, 1, 1)
.acl(&["write", "list", "fast"])
.key_specs(&[KeySpec::new(&["RW", "insert"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::List, "1.0.0", "Prepend one or multiple elements to a list", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.")
.history(&[("2.4.0", "Accepts multiple `element` arguments.")])
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("element", ArgKind::Str).multiple()]),
cmd("lpushx", -3, WRITE | DENYOOM | FAST, Some(lists::lpushx))
.keys(1, 1, 1)
.acl(&["write", "list", "fast"])
.key_specs(&[KeySpec::new(&["RW", "insert"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::List, "2.2.0", "Prepend an element to a list, only if the list exists", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.")
.history(&[("4.0.0", "Accepts multiple `element` arguments.")])
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("element", ArgKind::Str).multiple()]),
cmd("lrange", 4, READONLY, Some(lists::lrange))
.keys(1, 1, 1)
.acl(&["read", "list", "slow"])
.key_specs(&[KeySpec::new(&["RO", "access"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::List, "1.0.0", "Get a range of elements from a list", "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("start", ArgKind::Integer), arg("stop", ArgKind::Integer)]),
cmd("lrem", 4, WRITE, Some(lists::lrem))
.keys(1, 1, 1)
.acl(&["write", "list", "slow"])
.key_specs(&[KeySpec::new(&["RW", "delete"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::List, "1.0.0", "Remove elements from a list", "O(N+M) where N is the length of the list and M is the number of elements removed.")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("count", ArgKind::Integer), arg("element", ArgKind::Str)]),
cmd("lset", 4, WRITE | DENYOOM, Some(lists::lset))
.keys(1, 1, 1)
.acl(&["write", "list", "slow"])
.key_specs(&[KeySpec::new(&["RW", "update"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::List, "1.0.0", "Set the value of an element in a list by its index", "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("index", ArgKind::Integer), arg("element", ArgKind::Str)]),
cmd("ltrim", 4, WRITE, Some(lists::ltrim))
.keys(1, 1, 1)
.acl(&["write", "list", "slow"])
.key_specs(&[KeySpec::new(&["RW", "delete"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::List, "1.0.0", "Trim a list to the specified range", "O(N) where N is the number of elements to be removed by the operation.")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("start", ArgKind::Integer), arg("stop", ArgKind::Integer)]),
cmd("memory", -2, NONE, None)
.acl(&["slow"])
.doc(Group::Server, "4.0.0", "A container for memory diagnostics commands", "Depends on subcommand.")
.subcommands(&[
cmd("memory|doctor", 2, NONE, Some(memory::memory_doctor))
.acl(&["slow"])
.tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"])
.doc(Group::Server, "4.0.0", "Outputs memory problems report", "O(1)"),
cmd("memory|help", 2, LOADING | STALE, Some(memory::memory_help))
.acl(&["slow"])
.doc(Group::Server, "4.0.0", "Show helpful text about the different subcommands", "O(1)"),
cmd("memory|malloc-stats", 2, NONE, Some(memory::memory_malloc_stats))
.acl(&["slow"])
.tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"])
.doc(Group::Server, "4.0.0", "Show allocator internal stats", "Depends on how much memory is allocated, could be slow"),
cmd("memory|purge", 2, NONE, Some(memory::memory_purge))
.acl(&["slow"])
.tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
.doc(Group::Server, "4.0.0", "Ask the allocator to release memory", "Depends on how much memory is allocated, could be slow"),
cmd("memory|stats", 2, NONE, Some(memory::memory_stats))
.acl(&["slow"])
.tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"])
.doc(Group::Server, "4.0.0", "Show memory usage details", "O(1)"),
cmd("memory|usage", -3, READONLY, Some(memory::memory_usage))
.keys(2, 2, 1)
.acl(&["read", "slow"])
.key_specs(&[KeySpec::new(&["RO"], BeginSearch::Index(2), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Server, "4.0.0", "Estimate the memory usage of a key", "O(N) where N is the number of samples.")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("count", ArgKind::Integer).token("SAMPLES").optional()]),
]),
cmd("mget", -2, READONLY | FAST, Some(strings::mget))
.keys(1, -1, 1)
.acl(&["read", "string", "fast"])
.tips(&["request_policy:multi_shard"])
.key_specs(&[KeySpec::new(&["RO", "access"], BeginSearch::Index(1), FindKeys::Range { lastkey: -1, step: 1, limit: 0 })])
.doc(Group::String, "1.0.0", "Get the values of all the given keys", "O(N) where N is the number of keys to retrieve.")
.args(&[arg("key", ArgKind::Key).key_spec(0).multiple()]),
cmd("monitor", 1, ADMIN | NOSCRIPT | LOADING | STALE, Some(connection::monitor))
.acl(&["admin", "slow", "dangerous"])
.doc(Group::Server, "1.0.0", "Listen for all requests received by the server in real time", ""),
cmd("move", 3, WRITE | FAST, Some(keys::move_))
.keys(1, 1, 1)
.acl(&["keyspace", "write", "fast"])
.key_specs(&[KeySpec::new(&["RW", "access", "update"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Generic, "1.0.0", "Move a key to another database", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("db", ArgKind::Integer)]),
cmd("mset", -3, WRITE | DENYOOM, Some(strings::mset))
.keys(1, -1, 2)
.acl(&["write", "string", "slow"])
.tips(&["request_policy:multi_shard", "response_policy:all_succeeded"])
.key_specs(&[KeySpec::new(&["OW", "update"], BeginSearch::Index(1), FindKeys::Range { lastkey: -1, step: 2, limit: 0 })])
.doc(Group::String, "1.0.1", "Set multiple keys to multiple values", "O(N) where N is the number of keys to set.")
.args(&[arg("key_value", ArgKind::Block).multiple().args(&[arg("key", ArgKind::Key).key_spec(0), arg("value", ArgKind::Str)])]),
cmd("msetnx", -3, WRITE | DENYOOM, Some(strings::msetnx))
.keys(1, -1, 2)
.acl(&["write", "string", "slow"])
.tips(&["request_policy:multi_shard", "response_policy:agg_min"])
.key_specs(&[KeySpec::new(&["OW", "insert"], BeginSearch::Index(1), FindKeys::Range { lastkey: -1, step: 2, limit: 0 })])
.doc(Group::String, "1.0.1", "Set multiple keys to multiple values, only if none of the keys exist", "O(N) where N is the number of keys to set.")
.args(&[arg("key_value", ArgKind::Block).multiple().args(&[arg("key", ArgKind::Key).key_spec(0), arg("value", ArgKind::Str)])]),
cmd("object", -2, NONE, None)
.acl(&["slow"])
.doc(Group::Generic, "2.2.3", "A container for object introspection commands", "Depends on subcommand.")
.subcommands(&[
cmd("object|encoding", 3, READONLY, Some(keys::object_encoding))
.keys(2, 2, 1)
.acl(&["keyspace", "read", "slow"])
.tips(&["nondeterministic_output"])
.key_specs(&[KeySpec::new(&["RO"], BeginSearch::Index(2), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Generic, "2.2.3", "Inspect the internal encoding of a Redis object", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0)]),
cmd("object|freq", 3, READONLY, Some(keys::object_freq))
.keys(2, 2, 1)
.acl(&["keyspace", "read", "slow"])
.tips(&["nondeterministic_output"])
.key_specs(&[KeySpec::new(&["RO"], BeginSearch::Index(2), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Generic, "4.0.0", "Get the logarithmic access frequency counter of a Redis object", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0)]),
cmd("object|help", 2, LOADING | STALE, Some(keys::object_help))
.acl(&["keyspace", "slow"])
.doc(Group::Generic, "6.2.0", "Show helpful text about the different subcommands", "O(1)"),
cmd("object|idletime", 3, READONLY, Some(keys::object_idletime))
.keys(2, 2, 1)
.acl(&["keyspace", "read", "slow"])
.tips(&["nondeterministic_output"])
.key_specs(&[KeySpec::new(&["RO"], BeginSearch::Index(2), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Generic, "2.2.3", "Get the time since a Redis object was last accessed", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0)]),
cmd("object|refcount", 3, READONLY, Some(keys::object_refcount))
.keys(2, 2, 1)
.acl(&["keyspace", "read", "slow"])
.tips(&["nondeterministic_output"])
.key_specs(&[KeySpec::new(&["RO"], BeginSearch::Index(2), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Generic, "2.2.3", "Get the number of references to the value of the key", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0)]),
]),
cmd("persist", 2, WRITE | FAST, Some(keys::persist))
.keys(1, 1, 1)
.acl(&["keyspace", "write", "fast"])
.key_specs(&[KeySpec::new(&["RW", "update"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Generic, "2.2.0", "Remove the expiration from a key", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0)]),
cmd("pexpire", -3, WRITE | FAST, Some(keys::pexpire))
.keys(1, 1, 1)
.acl(&["keyspace", "write", "fast"])
.key_specs(&[KeySpec::new(&["RW", "update"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Generic, "2.6.0", "Set a key's time to live in milliseconds", "O(1)")
.history(&[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")])
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("milliseconds", ArgKind::Integer), arg("condition", ArgKind::OneOf).since("7.0.0").optional().args(&[arg("nx", ArgKind::PureToken).token("NX"), arg("xx", ArgKind::PureToken).token("XX"), arg("gt", ArgKind::PureToken).token("GT"), arg("lt", ArgKind::PureToken).token("LT")])]),
cmd("pexpireat", -3, WRITE | FAST, Some(keys::pexpireat))
.keys(1, 1, 1)
.acl(&["keyspace", "write", "fast"])
.key_specs(&[KeySpec::new(&["RW", "update"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Generic, "2.6.0", "Set the expiration for a key as a UNIX timestamp specified in milliseconds", "O(1)")
.history(&[("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")])
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("unix-time-milliseconds", ArgKind::UnixTime), arg("condition", ArgKind::OneOf).since("7.0.0").optional().args(&[arg("nx", ArgKind::PureToken).token("NX"), arg("xx", ArgKind::PureToken).token("XX"), arg("gt", ArgKind::PureToken).token("GT"), arg("lt", ArgKind::PureToken).token("LT")])]),
cmd("pexpiretime", 2, READONLY | FAST, Some(keys::pexpiretime))
.keys(1, 1, 1)
.acl(&["keyspace", "read", "fast"])
.key_specs(&[KeySpec::new(&["RO", "access"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Generic, "7.0.0", "Get the expiration Unix timestamp for a key in milliseconds", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0)]),
cmd("ping", -1, FAST, Some(connection::ping))
.acl(&["fast", "connection"])
.tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
.doc(Group::Connection, "1.0.0", "Ping the server", "O(1)")
.args(&[arg("message", ArgKind::Str).optional()]),
cmd("psetex", 4, WRITE | DENYOOM, Some(strings::psetex))
.keys(1, 1, 1)
.acl(&["write", "string", "slow"])
.key_specs(&[KeySpec::new(&["OW", "update"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::String, "2.6.0", "Set the value and expiration in milliseconds of a key", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("milliseconds", ArgKind::Integer), arg("value", ArgKind::Str)]),
cmd("pttl", 2, READONLY | FAST, Some(keys::pttl))
.keys(1, 1, 1)
.acl(&["keyspace", "read", "fast"])
.tips(&["nondeterministic_output"])
.key_specs(&[KeySpec::new(&["RO", "access"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Generic, "2.6.0", "Get the time to live for a key in milliseconds", "O(1)")
.history(&[("2.8.0", "Added the -2 reply.")])
.args(&[arg("key", ArgKind::Key).key_spec(0)]),
cmd("quit", -1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, Some(connection::quit))
.acl(&["fast", "connection"])
.doc(Group::Connection, "1.0.0", "Close the connection", "O(1)"),
cmd("randomkey", 1, READONLY, Some(keys::randomkey))
.acl(&["keyspace", "read", "slow"])
.tips(&["request_policy:all_shards", "nondeterministic_output"])
.doc(Group::Generic, "1.0.0", "Return a random key from the keyspace", "O(1)"),
cmd("rename", 3, WRITE, Some(keys::rename))
.keys(1, 2, 1)
.acl(&["keyspace", "write", "slow"])
.key_specs(&[KeySpec::new(&["RW", "access", "delete"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 }), KeySpec::new(&["OW", "update"], BeginSearch::Index(2), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Generic, "1.0.0", "Rename a key", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("newkey", ArgKind::Key).key_spec(1)]),
cmd("renamenx", 3, WRITE | FAST, Some(keys::renamenx))
.keys(1, 2, 1)
.acl(&["keyspace", "write", "fast"])
.key_specs(&[KeySpec::new(&["RW", "access", "delete"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 }), KeySpec::new(&["OW", "insert"], BeginSearch::Index(2), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Generic, "1.0.0", "Rename a key, only if the new key does not exist", "O(1)")
.history(&[("3.2.0", "The command no longer returns an error when source and destination names are the same.")])
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("newkey", ArgKind::Key).key_spec(1)]),
cmd("reset", 1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, Some(connection::reset))
.acl(&["fast", "connection"])
.doc(Group::Connection, "6.2.0", "Reset the connection", "O(1)"),
cmd("rpop", -2, WRITE | FAST, Some(lists::rpop))
.keys(1, 1, 1)
.acl(&["write", "list", "fast"])
.key_specs(&[KeySpec::new(&["RW", "access", "delete"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::List, "1.0.0", "Remove and get the last elements in a list", "O(N) where N is the number of elements returned")
.history(&[("6.2.0", "Added the `count` argument.")])
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("count", ArgKind::Integer).since("6.2.0").optional()]),
cmd("rpoplpush", 3, WRITE | DENYOOM, Some(lists::rpoplpush))
.keys(1, 2, 1)
.acl(&["write", "list", "slow"])
.key_specs(&[KeySpec::new(&["RW", "access", "delete"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 }), KeySpec::new(&["RW", "insert"], BeginSearch::Index(2), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::List, "1.2.0", "Remove the last element in a list, prepend it to another list and return it", "O(1)")
.doc_flags(&["deprecated"])
.deprecated("6.2.0", "`LMOVE` with the `RIGHT` and `LEFT` arguments")
.args(&[arg("source", ArgKind::Key).key_spec(0), arg("destination", ArgKind::Key).key_spec(1)]),
cmd("rpush", -3, WRITE | DENYOOM | FAST, Some(lists::rpush))
.keys(1, 1, 1)
.acl(&["write", "list", "fast"])
.key_specs(&[KeySpec::new(&["RW", "insert"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::List, "1.0.0", "Append one or multiple elements to a list", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.")
.history(&[("2.4.0", "Accepts multiple `element` arguments.")])
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("element", ArgKind::Str).multiple()]),
cmd("rpushx", -3, WRITE | DENYOOM | FAST, Some(lists::rpushx))
.keys(1, 1, 1)
.acl(&["write", "list", "fast"])
.key_specs(&[KeySpec::new(&["RW", "insert"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::List, "2.2.0", "Append an element to a list, only if the list exists", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.")
.history(&[("4.0.0", "Accepts multiple `element` arguments.")])
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("element", ArgKind::Str).multiple()]),
cmd("scan", -2, READONLY, Some(keys::scan))
.acl(&["keyspace", "read", "slow"])
.tips(&["nondeterministic_output", "request_policy:special"])
.doc(Group::Generic, "2.8.0", "Incrementally iterate the keys space", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.")
.history(&[("6.0.0", "Added the `TYPE` subcommand.")])
.args(&[arg("cursor", ArgKind::Integer), arg("pattern", ArgKind::Pattern).token("MATCH").optional(), arg("count", ArgKind::Integer).token("COUNT").optional(), arg("type", ArgKind::Str).token("TYPE").since("6.0.0").optional()]),
cmd("select", 2, LOADING | STALE | FAST, Some(connection::select))
.acl(&["fast", "connection"])
.doc(Group::Connection, "1.0.0", "Change the selected database for the current connection", "O(1)")
.args(&[arg("index", ArgKind::Integer)]),
cmd("set", -3, WRITE | DENYOOM, Some(strings::set))
.keys(1, 1, 1)
.acl(&["write", "string", "slow"])
.key_specs(&[KeySpec::new(&["RW", "access", "update", "variable_flags"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 }).notes("RW and ACCESS due to the optional `GET` argument")])
.doc(Group::String, "1.0.0", "Set the string value of a key", "O(1)")
.history(&[("2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."), ("6.0.0", "Added the `KEEPTTL` option."), ("6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."), ("7.0.0", "Allowed the `NX` and `GET` options to be used together.")])
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("value", ArgKind::Str), arg("condition", ArgKind::OneOf).since("2.6.12").optional().args(&[arg("nx", ArgKind::PureToken).token("NX"), arg("xx", ArgKind::PureToken).token("XX")]), arg("get", ArgKind::PureToken).token("GET").since("6.2.0").optional(), arg("expiration", ArgKind::OneOf).optional().args(&[arg("seconds", ArgKind::Integer).token("EX").since("2.6.12"), arg("milliseconds", ArgKind::Integer).token("PX").since("2.6.12"), arg("unix-time-seconds", ArgKind::UnixTime).token("EXAT").since("6.2.0"), arg("unix-time-milliseconds", ArgKind::UnixTime).token("PXAT").since("6.2.0"), arg("keepttl", ArgKind::PureToken).token("KEEPTTL").since("6.0.0")])]),
cmd("setex", 4, WRITE | DENYOOM, Some(strings::setex))
.keys(1, 1, 1)
.acl(&["write", "string", "slow"])
.key_specs(&[KeySpec::new(&["OW", "update"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::String, "2.0.0", "Set the value and expiration of a key", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("seconds", ArgKind::Integer), arg("value", ArgKind::Str)]),
cmd("setnx", 3, WRITE | DENYOOM | FAST, Some(strings::setnx))
.keys(1, 1, 1)
.acl(&["write", "string", "fast"])
.key_specs(&[KeySpec::new(&["OW", "insert"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::String, "1.0.0", "Set the value of a key, only if the key does not exist", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("value", ArgKind::Str)]),
cmd("setrange", 4, WRITE | DENYOOM, Some(strings::setrange))
.keys(1, 1, 1)
.acl(&["write", "string", "slow"])
.key_specs(&[KeySpec::new(&["RW", "update"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::String, "2.2.0", "Overwrite part of a string at key starting at the specified offset", "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("offset", ArgKind::Integer), arg("value", ArgKind::Str)]),
cmd("shutdown", -1, ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY, Some(server::shutdown))
.acl(&["admin", "slow", "dangerous"])
.doc(Group::Server, "1.0.0", "Synchronously save the dataset to disk and then shut down the server", "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)")
.history(&[("7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers.")])
.args(&[arg("nosave_save", ArgKind::OneOf).optional().args(&[arg("nosave", ArgKind::PureToken).token("NOSAVE"), arg("save", ArgKind::PureToken).token("SAVE")]), arg("now", ArgKind::PureToken).token("NOW").since("7.0.0").optional(), arg("force", ArgKind::PureToken).token("FORCE").since("7.0.0").optional(), arg("abort", ArgKind::PureToken).token("ABORT").since("7.0.0").optional()]),
cmd("slowlog", -2, NONE, None)
.acl(&["slow"])
.doc(Group::Server, "2.2.12", "A container for slow log commands", "Depends on subcommand.")
.subcommands(&[
cmd("slowlog|get", -2, ADMIN | LOADING | STALE, Some(slowlog::slowlog_get))
.acl(&["admin", "slow", "dangerous"])
.tips(&["request_policy:all_nodes", "nondeterministic_output"])
.doc(Group::Server, "2.2.12", "Get the slow log's entries", "O(N) where N is the number of entries returned")
.history(&[("4.0.0", "Added client IP address, port and name to the reply.")])
.args(&[arg("count", ArgKind::Integer).optional()]),
cmd("slowlog|help", 2, LOADING | STALE, Some(slowlog::slowlog_help))
.acl(&["slow"])
.doc(Group::Server, "6.2.0", "Show helpful text about the different subcommands", "O(1)"),
cmd("slowlog|len", 2, ADMIN | LOADING | STALE, Some(slowlog::slowlog_len))
.acl(&["admin", "slow", "dangerous"])
.tips(&["request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"])
.doc(Group::Server, "2.2.12", "Get the slow log's length", "O(1)"),
cmd("slowlog|reset", 2, ADMIN | LOADING | STALE, Some(slowlog::slowlog_reset))
.acl(&["admin", "slow", "dangerous"])
.tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
.doc(Group::Server, "2.2.12", "Clear all entries from the slow log", "O(N) where N is the number of entries in the slowlog"),
]),
cmd("sort", -2, WRITE | DENYOOM | MOVABLEKEYS, Some(sort::sort))
.keys(1, 1, 1)
.acl(&["write", "set", "sortedset", "list", "slow", "dangerous"])
.key_specs(&[KeySpec::new(&["RO", "access"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 }), KeySpec::new(&["RO", "access"], BeginSearch::Unknown, FindKeys::Unknown).notes("For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"), KeySpec::new(&["OW", "update"], BeginSearch::Unknown, FindKeys::Unknown).notes("For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array")])
.doc(Group::Generic, "1.0.0", "Sort the elements in a list, set or sorted set", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("pattern", ArgKind::Pattern).key_spec(1).token("BY").optional(), arg("offset_count", ArgKind::Block).token("LIMIT").optional().args(&[arg("offset", ArgKind::Integer), arg("count", ArgKind::Integer)]), arg("pattern", ArgKind::Pattern).key_spec(1).token("GET").optional().multiple().multiple_token(), arg("order", ArgKind::OneOf).optional().args(&[arg("asc", ArgKind::PureToken).token("ASC"), arg("desc", ArgKind::PureToken).token("DESC")]), arg("sorting", ArgKind::PureToken).token("ALPHA").optional(), arg("destination", ArgKind::Key).key_spec(2).token("STORE").optional()]),
cmd("sort_ro", -2, READONLY | MOVABLEKEYS, Some(sort::sort_ro))
.keys(1, 1, 1)
.acl(&["read", "set", "sortedset", "list", "slow", "dangerous"])
.key_specs(&[KeySpec::new(&["RO", "access"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 }), KeySpec::new(&["RO", "access"], BeginSearch::Unknown, FindKeys::Unknown).notes("For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort")])
.doc(Group::Generic, "7.0.0", "Sort the elements in a list, set or sorted set. Read-only variant of SORT.", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("pattern", ArgKind::Pattern).key_spec(1).token("BY").optional(), arg("offset_count", ArgKind::Block).token("LIMIT").optional().args(&[arg("offset", ArgKind::Integer), arg("count", ArgKind::Integer)]), arg("pattern", ArgKind::Pattern).key_spec(1).token("GET").optional().multiple().multiple_token(), arg("order", ArgKind::OneOf).optional().args(&[arg("asc", ArgKind::PureToken).token("ASC"), arg("desc", ArgKind::PureToken).token("DESC")]), arg("sorting", ArgKind::PureToken).token("ALPHA").optional()]),
cmd("strlen", 2, READONLY | FAST, Some(strings::strlen))
.keys(1, 1, 1)
.acl(&["read", "string", "fast"])
.key_specs(&[KeySpec::new(&["RO"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::String, "2.2.0", "Get the length of the value stored in a key", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0)]),
cmd("substr", 4, READONLY, Some(strings::substr))
.keys(1, 1, 1)
.acl(&["read", "string", "slow"])
.key_specs(&[KeySpec::new(&["RO", "access"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::String, "1.0.0", "Get a substring of the string stored at a key", "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.")
.doc_flags(&["deprecated"])
.deprecated("2.0.0", "`GETRANGE`")
.args(&[arg("key", ArgKind::Key).key_spec(0), arg("start", ArgKind::Integer), arg("end", ArgKind::Integer)]),
cmd("swapdb", 3, WRITE | FAST, Some(server::swapdb))
.acl(&["keyspace", "write", "fast", "dangerous"])
.doc(Group::Server, "4.0.0", "Swaps two Redis databases", "O(N) where N is the count of clients watching or blocking on keys from both databases.")
.args(&[arg("index1", ArgKind::Integer), arg("index2", ArgKind::Integer)]),
cmd("time", 1, LOADING | STALE | FAST, Some(server::time))
.acl(&["fast"])
.tips(&["nondeterministic_output"])
.doc(Group::Server, "2.6.0", "Return the current server time", "O(1)"),
cmd("touch", -2, READONLY | FAST, Some(keys::touch))
.keys(1, -1, 1)
.acl(&["keyspace", "read", "fast"])
.tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
.key_specs(&[KeySpec::new(&["RO"], BeginSearch::Index(1), FindKeys::Range { lastkey: -1, step: 1, limit: 0 })])
.doc(Group::Generic, "3.2.1", "Alters the last access time of a key(s). Returns the number of existing keys specified.", "O(N) where N is the number of keys that will be touched.")
.args(&[arg("key", ArgKind::Key).key_spec(0).multiple()]),
cmd("ttl", 2, READONLY | FAST, Some(keys::ttl))
.keys(1, 1, 1)
.acl(&["keyspace", "read", "fast"])
.tips(&["nondeterministic_output"])
.key_specs(&[KeySpec::new(&["RO", "access"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Generic, "1.0.0", "Get the time to live for a key in seconds", "O(1)")
.history(&[("2.8.0", "Added the -2 reply.")])
.args(&[arg("key", ArgKind::Key).key_spec(0)]),
cmd("type", 2, READONLY | FAST, Some(keys::type_))
.keys(1, 1, 1)
.acl(&["keyspace", "read", "fast"])
.key_specs(&[KeySpec::new(&["RO"], BeginSearch::Index(1), FindKeys::Range { lastkey: 0, step: 1, limit: 0 })])
.doc(Group::Generic, "1.0.0", "Determine the type stored at key", "O(1)")
.args(&[arg("key", ArgKind::Key).key_spec(0)]),
cmd("unlink", -2, WRITE | FAST, Some(keys::unlink))
.keys(1, -1, 1)
.acl(&["keyspace", "write", "fast"])
.tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
.key_specs(&[KeySpec::new(&["RM", "delete"], BeginSearch::Index(1), FindKeys::Range { lastkey: -1, step: 1, limit: 0 })])
.doc(Group::Generic, "4.0.0", "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.", "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.")
.args(&[arg("key", ArgKind::Key).key_spec(0).multiple()]),
];
