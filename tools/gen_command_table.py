#!/usr/bin/env python3
"""Generate src/commands/table.rs from a running redis-server 7.0.

GoStore's command table carries the same metadata as Redis's (arity, flags,
ACL categories, tips, key specs, docs, arguments), so `COMMAND INFO` and
`COMMAND DOCS` answer exactly as Redis 7.0 does and redis-cli hints and
client libraries' key extraction work unchanged. Redis generates its own
table from JSON; we take the same data from Redis's live `COMMAND` replies.

Usage: redis-server --port 7777 --save '' &
       python3 tools/gen_command_table.py 7777 > src/commands/table.rs
Then `cargo fmt`. The list below says which commands GoStore implements and
which Rust function handles each; a command Redis 7.0 lacks is described in
EXTRA by hand.
"""
import socket
import sys

# command (or "container|sub") -> handler path. Containers map to None.
COMMANDS = {
    # connection
    "ping": "connection::ping", "echo": "connection::echo", "quit": "connection::quit",
    "hello": "connection::hello", "auth": "connection::auth", "select": "connection::select",
    "reset": "connection::reset",
    "client": None, "client|id": "connection::client_id", "client|setname": "connection::client_setname",
    "client|getname": "connection::client_getname", "client|list": "connection::client_list",
    "client|info": "connection::client_info", "client|kill": "connection::client_kill",
    "client|setinfo": "connection::client_setinfo", "client|help": "connection::client_help",
    "client|pause": "connection::client_pause", "client|unpause": "connection::client_unpause",
    "client|no-evict": "connection::client_no_evict", "monitor": "connection::monitor",
    "client|no-touch": "connection::client_no_touch",
    "client|unblock": "connection::client_unblock",
    "client|tracking": "tracking::client_tracking", "client|caching": "tracking::client_caching",
    "client|getredir": "tracking::client_getredir",
    "client|trackinginfo": "tracking::client_trackinginfo",
    # server
    "info": "server::info", "dbsize": "server::dbsize", "flushdb": "server::flushdb",
    "flushall": "server::flushall", "swapdb": "server::swapdb", "time": "server::time",
    "lastsave": "server::lastsave", "shutdown": "server::shutdown",
    # replication (master side)
    "replconf": "repl::replconf", "psync": "repl::psync", "sync": "repl::sync",
    "wait": "repl::wait", "role": "repl::role",
    "replicaof": "repl::replicaof", "slaveof": "repl::replicaof",
    "save": "rdbcmds::save", "bgsave": "rdbcmds::bgsave", "dump": "rdbcmds::dump", "restore": "rdbcmds::restore",
    "migrate": "migrate::migrate", "restore-asking": "rdbcmds::restore",
    "config": None, "config|get": "server::config_get", "config|set": "server::config_set",
    "config|resetstat": "server::config_resetstat", "config|help": "server::config_help",
    "config|rewrite": "server::config_rewrite",
    # observability
    "slowlog": None, "slowlog|get": "slowlog::slowlog_get", "slowlog|len": "slowlog::slowlog_len",
    "slowlog|reset": "slowlog::slowlog_reset", "slowlog|help": "slowlog::slowlog_help",
    "latency": None, "latency|latest": "latency::latency_latest",
    "latency|history": "latency::latency_history", "latency|reset": "latency::latency_reset",
    "latency|graph": "latency::latency_graph",
    "latency|doctor": "latency::latency_doctor", "latency|histogram": "latency::latency_histogram",
    "latency|help": "latency::latency_help",
    "command": "server::command", "command|count": "server::command_count",
    "command|info": "server::command_info", "command|docs": "server::command_docs",
    "command|list": "server::command_list", "command|getkeys": "server::command_getkeys",
    "command|getkeysandflags": "server::command_getkeysandflags", "command|help": "server::command_help",
    "memory": None, "memory|usage": "memory::memory_usage", "memory|stats": "memory::memory_stats",
    "memory|doctor": "memory::memory_doctor", "memory|malloc-stats": "memory::memory_malloc_stats",
    "memory|purge": "memory::memory_purge", "memory|help": "memory::memory_help",
    # transactions
    "multi": "multi::multi", "exec": "multi::exec_entry", "discard": "multi::discard",
    "watch": "multi::watch", "unwatch": "multi::unwatch",
    # pub/sub
    "subscribe": "pubsub::subscribe", "unsubscribe": "pubsub::unsubscribe",
    "psubscribe": "pubsub::psubscribe", "punsubscribe": "pubsub::punsubscribe",
    "ssubscribe": "pubsub::ssubscribe", "sunsubscribe": "pubsub::sunsubscribe",
    "publish": "pubsub::publish", "spublish": "pubsub::spublish",
    "pubsub": None, "pubsub|channels": "pubsub::pubsub_channels",
    "pubsub|numsub": "pubsub::pubsub_numsub", "pubsub|numpat": "pubsub::pubsub_numpat",
    "pubsub|shardchannels": "pubsub::pubsub_shardchannels",
    "pubsub|shardnumsub": "pubsub::pubsub_shardnumsub", "pubsub|help": "pubsub::pubsub_help",
    # persistence
    "bgrewriteaof": "persistence::bgrewriteaof",
    # debugging (behind enable-debug-command)
    "debug": "debug::debug",
    # generic keyspace
    "del": "keys::del", "unlink": "keys::unlink", "exists": "keys::exists", "type": "keys::type_",
    "keys": "keys::keys", "scan": "keys::scan", "randomkey": "keys::randomkey",
    "rename": "keys::rename", "renamenx": "keys::renamenx", "copy": "keys::copy", "move": "keys::move_",
    "expire": "keys::expire", "pexpire": "keys::pexpire", "expireat": "keys::expireat",
    "pexpireat": "keys::pexpireat", "ttl": "keys::ttl", "pttl": "keys::pttl",
    "expiretime": "keys::expiretime", "pexpiretime": "keys::pexpiretime", "persist": "keys::persist",
    "touch": "keys::touch",
    "object": None, "object|encoding": "keys::object_encoding", "object|idletime": "keys::object_idletime",
    "object|refcount": "keys::object_refcount", "object|freq": "keys::object_freq",
    "object|help": "keys::object_help",
    # strings
    "set": "strings::set", "get": "strings::get", "getset": "strings::getset", "getdel": "strings::getdel",
    "getex": "strings::getex", "setnx": "strings::setnx", "setex": "strings::setex",
    "psetex": "strings::psetex", "mget": "strings::mget", "mset": "strings::mset",
    "msetnx": "strings::msetnx", "append": "strings::append", "strlen": "strings::strlen",
    "getrange": "strings::getrange", "substr": "strings::substr", "setrange": "strings::setrange",
    "incr": "strings::incr", "decr": "strings::decr", "incrby": "strings::incrby",
    "decrby": "strings::decrby", "incrbyfloat": "strings::incrbyfloat", "lcs": "strings::lcs",
    # hashes
    "hset": "hashes::hset", "hsetnx": "hashes::hsetnx", "hget": "hashes::hget", "hmget": "hashes::hmget",
    "hmset": "hashes::hmset", "hgetall": "hashes::hgetall", "hdel": "hashes::hdel", "hlen": "hashes::hlen",
    "hexists": "hashes::hexists", "hkeys": "hashes::hkeys", "hvals": "hashes::hvals",
    "hincrby": "hashes::hincrby", "hincrbyfloat": "hashes::hincrbyfloat", "hstrlen": "hashes::hstrlen",
    "hrandfield": "hashes::hrandfield", "hscan": "hashes::hscan",
    # lists
    "lpush": "lists::lpush", "rpush": "lists::rpush", "lpushx": "lists::lpushx",
    "rpushx": "lists::rpushx", "lpop": "lists::lpop", "rpop": "lists::rpop", "llen": "lists::llen",
    "lrange": "lists::lrange", "lindex": "lists::lindex", "lset": "lists::lset",
    "linsert": "lists::linsert", "lrem": "lists::lrem", "ltrim": "lists::ltrim", "lpos": "lists::lpos",
    "rpoplpush": "lists::rpoplpush", "lmove": "lists::lmove", "lmpop": "lists::lmpop",
    # sets
    "sadd": "sets::sadd", "srem": "sets::srem", "smembers": "sets::smembers",
    "sismember": "sets::sismember", "smismember": "sets::smismember", "scard": "sets::scard",
    "spop": "sets::spop", "srandmember": "sets::srandmember", "smove": "sets::smove",
    "sinter": "sets::sinter", "sintercard": "sets::sintercard", "sinterstore": "sets::sinterstore",
    "sunion": "sets::sunion", "sunionstore": "sets::sunionstore", "sdiff": "sets::sdiff",
    "sdiffstore": "sets::sdiffstore", "sscan": "sets::sscan",
    "blpop": "lists::blpop", "brpop": "lists::brpop", "brpoplpush": "lists::brpoplpush",
    "blmove": "lists::blmove", "blmpop": "lists::blmpop",
    # sorted sets
    "zadd": "zsets::zadd", "zincrby": "zsets::zincrby", "zrem": "zsets::zrem",
    "zcard": "zsets::zcard", "zcount": "zsets::zcount", "zlexcount": "zsets::zlexcount",
    "zscore": "zsets::zscore", "zmscore": "zsets::zmscore", "zrank": "zsets::zrank",
    "zrevrank": "zsets::zrevrank", "zrange": "zsets::zrange", "zrangestore": "zsets::zrangestore",
    "zrangebyscore": "zsets::zrangebyscore", "zrevrangebyscore": "zsets::zrevrangebyscore",
    "zrangebylex": "zsets::zrangebylex", "zrevrangebylex": "zsets::zrevrangebylex",
    "zrevrange": "zsets::zrevrange", "zremrangebyrank": "zsets::zremrangebyrank",
    "zremrangebyscore": "zsets::zremrangebyscore", "zremrangebylex": "zsets::zremrangebylex",
    "zpopmin": "zsets::zpopmin", "zpopmax": "zsets::zpopmax", "zmpop": "zsets::zmpop",
    "bzpopmin": "zsets::bzpopmin", "bzpopmax": "zsets::bzpopmax", "bzmpop": "zsets::bzmpop",
    "zrandmember": "zsets::zrandmember", "zscan": "zsets::zscan",
    # sort
    "sort": "sort::sort", "sort_ro": "sort::sort_ro",
    # streams
    "xadd": "streams::xadd", "xlen": "streams::xlen", "xrange": "streams::xrange",
    "xrevrange": "streams::xrevrange", "xdel": "streams::xdel", "xtrim": "streams::xtrim",
    "xread": "streams::xread", "xreadgroup": "streams::xreadgroup", "xack": "streams::xack",
    "xpending": "streams::xpending", "xclaim": "streams::xclaim",
    "xautoclaim": "streams::xautoclaim", "xsetid": "streams::xsetid",
    "xgroup": None, "xgroup|create": "streams::xgroup_create",
    "xgroup|setid": "streams::xgroup_setid", "xgroup|destroy": "streams::xgroup_destroy",
    "xgroup|createconsumer": "streams::xgroup_createconsumer",
    "xgroup|delconsumer": "streams::xgroup_delconsumer", "xgroup|help": "streams::xgroup_help",
    "xinfo": None, "xinfo|stream": "streams::xinfo_stream", "xinfo|groups": "streams::xinfo_groups",
    "xinfo|consumers": "streams::xinfo_consumers", "xinfo|help": "streams::xinfo_help",
    # geo
    "geoadd": "geo::geoadd", "geodist": "geo::geodist", "geohash": "geo::geohash",
    "geopos": "geo::geopos", "geosearch": "geo::geosearch", "geosearchstore": "geo::geosearchstore",
    "georadius": "geo::georadius", "georadius_ro": "geo::georadius_ro",
    "georadiusbymember": "geo::georadiusbymember",
    "georadiusbymember_ro": "geo::georadiusbymember_ro",
    "zunion": "zsetops::zunion", "zinter": "zsetops::zinter", "zdiff": "zsetops::zdiff",
    "zunionstore": "zsetops::zunionstore", "zinterstore": "zsetops::zinterstore",
    "zdiffstore": "zsetops::zdiffstore", "zintercard": "zsetops::zintercard",
    # bitmaps
    "setbit": "bitops::setbit", "getbit": "bitops::getbit", "bitcount": "bitops::bitcount",
    "bitpos": "bitops::bitpos", "bitop": "bitops::bitop", "bitfield": "bitops::bitfield",
    "bitfield_ro": "bitops::bitfield_ro",
    # hyperloglog
    "pfadd": "hyperloglog::pfadd", "pfcount": "hyperloglog::pfcount",
    "pfmerge": "hyperloglog::pfmerge", "pfdebug": "hyperloglog::pfdebug",
    "pfselftest": "hyperloglog::pfselftest",
    # scripting (`call` runs EVAL* and FCALL* itself; their entries are never reached)
    "eval": "scripting::eval_entry", "evalsha": "scripting::eval_entry",
    "eval_ro": "scripting::eval_entry", "evalsha_ro": "scripting::eval_entry",
    "fcall": "scripting::eval_entry", "fcall_ro": "scripting::eval_entry",
    "script": None, "script|load": "scripting::script_load",
    "script|exists": "scripting::script_exists", "script|flush": "scripting::script_flush",
    "script|kill": "scripting::script_kill", "script|help": "scripting::script_help",
    "function": None, "function|load": "functions::function_load",
    "function|delete": "functions::function_delete", "function|list": "functions::function_list",
    "function|dump": "functions::function_dump", "function|restore": "functions::function_restore",
    "function|flush": "functions::function_flush", "function|stats": "functions::function_stats",
    "function|kill": "functions::function_kill", "function|help": "functions::function_help",
}

# Commands Redis 7.0 lacks, in the shape COMMAND INFO / COMMAND DOCS would give
# them (CLIENT SETINFO arrived in Redis 7.2; clients send it on connect.
# CLIENT NO-TOUCH is Redis 7.2's too).
EXTRA = {
    "client|no-touch": {
        "info": ["client|no-touch", 3, ["noscript", "loading", "stale"], 0, 0, 0,
                 ["@slow", "@connection"], [], [], []],
        "docs": {"summary": "Controls whether commands sent by the client affect the LRU/LFU of accessed keys",
                 "since": "7.2.0", "group": "connection", "complexity": "O(1)",
                 "arguments": [{"name": "enabled", "type": "oneof", "arguments": [
                     {"name": "on", "type": "pure-token", "token": "ON"},
                     {"name": "off", "type": "pure-token", "token": "OFF"}]}]},
    },
    "client|setinfo": {
        "info": ["client|setinfo", 4, ["noscript", "loading", "stale"], 0, 0, 0,
                 ["@slow", "@connection"], [], [], []],
        "docs": {"summary": "Set client or connection specific info", "since": "7.2.0",
                 "group": "connection", "complexity": "O(1)",
                 "arguments": [{"name": "attr", "type": "oneof", "arguments": [
                     {"name": "libname", "type": "string", "token": "LIB-NAME"},
                     {"name": "libver", "type": "string", "token": "LIB-VER"}]}]},
    },
}

GROUPS = {"generic": "Generic", "string": "String", "hash": "Hash", "connection": "Connection",
          "server": "Server", "list": "List", "set": "Set", "sorted-set": "SortedSet",
          "geo": "Geo", "stream": "Stream", "transactions": "Transactions", "pubsub": "Pubsub",
          "bitmap": "Bitmap", "hyperloglog": "Hyperloglog", "scripting": "Scripting"}
ARG_TYPES = {"string": "Str", "integer": "Integer", "double": "Double", "key": "Key",
             "pattern": "Pattern", "unix-time": "UnixTime", "pure-token": "PureToken",
             "oneof": "OneOf", "block": "Block"}
FLAGS = ["write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "blocking",
         "loading", "stale", "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth",
         "may_replicate", "sentinel", "only_sentinel", "no_mandatory_keys", "no_async_loading",
         "no_multi", "movablekeys", "allow_busy"]


class Resp:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")

    def cmd(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)
        return self.read()

    def read(self):
        line = self.f.readline()[:-2]
        t, rest = chr(line[0]), line[1:]
        if t in "+":
            return rest.decode()
        if t == "-":
            raise RuntimeError(rest.decode())
        if t == ":":
            return int(rest)
        if t == "$":
            n = int(rest)
            return None if n < 0 else self.f.read(n + 2)[:-2].decode()
        if t == "_":
            return None
        if t in "*~>":
            return [self.read() for _ in range(int(rest))]
        if t == "%":
            d = {}
            for _ in range(int(rest)):
                k = self.read()
                d[k] = self.read()
            return d
        raise RuntimeError("unexpected RESP type " + t)


def rs(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def strs(items):
    return "&[" + ", ".join(rs(x) for x in items) + "]"


def key_spec(ks):
    bs, fk = ks["begin_search"], ks["find_keys"]
    if bs["type"] == "index":
        b = "BeginSearch::Index(%d)" % bs["spec"]["index"]
    elif bs["type"] == "keyword":
        b = "BeginSearch::Keyword(%s, %d)" % (rs(bs["spec"]["keyword"]), bs["spec"]["startfrom"])
    else:
        b = "BeginSearch::Unknown"
    if fk["type"] == "range":
        s = fk["spec"]
        f = "FindKeys::Range { lastkey: %d, step: %d, limit: %d }" % (s["lastkey"], s["keystep"], s["limit"])
    elif fk["type"] == "keynum":
        s = fk["spec"]
        f = "FindKeys::Keynum { keynumidx: %d, firstkey: %d, step: %d }" % (s["keynumidx"], s["firstkey"], s["keystep"])
    else:
        f = "FindKeys::Unknown"
    out = "KeySpec::new(%s, %s, %s)" % (strs(ks["flags"]), b, f)
    if "notes" in ks:
        out += ".notes(%s)" % rs(ks["notes"])
    return out


def arg(a, depth):
    kind = ARG_TYPES[a["type"]]
    out = "arg(%s, ArgKind::%s)" % (rs(a["name"]), kind)
    if "key_spec_index" in a:
        out += ".key_spec(%d)" % a["key_spec_index"]
    if "token" in a:
        out += ".token(%s)" % rs(a["token"])
    if "summary" in a:
        out += ".summary(%s)" % rs(a["summary"])
    if "since" in a:
        out += ".since(%s)" % rs(a["since"])
    if "deprecated_since" in a:
        out += ".deprecated_since(%s)" % rs(a["deprecated_since"])
    for fl in a.get("flags", []):
        out += "." + {"optional": "optional()", "multiple": "multiple()", "multiple_token": "multiple_token()"}[fl]
    if "arguments" in a:
        out += ".args(&[" + ", ".join(arg(x, depth + 1) for x in a["arguments"]) + "])"
    return out


def command(name, info, docs, subs):
    (fullname, arity, flags, first, last, step, acl, tips, specs, _subinfo) = info
    handler = COMMANDS[name]
    hflags = " | ".join(f.upper() for f in flags) or "NONE"
    for f in flags:
        assert f in FLAGS, f
    h = ("Some(%s)" % handler) if handler else "None"
    out = "cmd(%s, %d, %s, %s)" % (rs(fullname), arity, hflags, h)
    if (first, last, step) != (0, 0, 0):
        out += "\n.keys(%d, %d, %d)" % (first, last, step)
    out += "\n.acl(%s)" % strs([c.lstrip("@") for c in acl])
    if tips:
        out += "\n.tips(%s)" % strs(tips)
    if specs:
        out += "\n.key_specs(&[" + ", ".join(key_spec(k) for k in specs) + "])"
    out += "\n.doc(Group::%s, %s, %s, %s)" % (
        GROUPS[docs["group"]], rs(docs.get("since", "")), rs(docs["summary"]), rs(docs.get("complexity", "")))
    if "doc_flags" in docs:
        out += "\n.doc_flags(%s)" % strs(docs["doc_flags"])
    if "deprecated_since" in docs:
        out += "\n.deprecated(%s, %s)" % (rs(docs["deprecated_since"]), rs(docs.get("replaced_by", "")))
    if "history" in docs:
        out += "\n.history(&[" + ", ".join("(%s, %s)" % (rs(v), rs(d)) for v, d in docs["history"]) + "])"
    if "arguments" in docs:
        out += "\n.args(&[" + ", ".join(arg(a, 0) for a in docs["arguments"]) + "])"
    if subs:
        out += "\n.subcommands(&[\n" + ",\n".join(subs) + ",\n])"
    return out


def fetch(r, name):
    if name in EXTRA:
        return EXTRA[name]["info"], EXTRA[name]["docs"]
    info = r.cmd("COMMAND", "INFO", name)[0]
    docs = r.cmd("COMMAND", "DOCS", name)
    assert info is not None, name
    return info, docs[name]


def main():
    r = Resp(int(sys.argv[1]))
    r.cmd("HELLO", "3")
    tops = [n for n in COMMANDS if "|" not in n]
    entries = []
    for name in sorted(tops):
        info, docs = fetch(r, name)
        subs = []
        for sub in sorted(n for n in COMMANDS if n.startswith(name + "|")):
            si, sd = fetch(r, sub)
            subs.append(command(sub, si, sd, []))
        entries.append(command(name, info, docs, subs))
    print("//! The command table: one entry per command, generated from Redis 7.0's own")
    print("//! metadata by `tools/gen_command_table.py` (see there before editing by hand).")
    print("//! Dispatch, `COMMAND INFO` and `COMMAND DOCS` all read it.")
    print()
    print("use super::spec::*;")
    mods = sorted({h.split("::")[0] for h in COMMANDS.values() if h})
    print("use super::{%s};" % ", ".join(mods))
    print()
    print("/// Every command GoStore serves, sorted by name.")
    print("pub static COMMANDS: &[CommandSpec] = &[")
    for e in entries:
        print(e + ",")
    print("];")


if __name__ == "__main__":
    main()
