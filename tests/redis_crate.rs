//! Every command group through a real client library, the `redis` crate, in
//! RESP2 and in RESP3: typed results (strings, integers, floats, maps,
//! options, errors) must come out as a Redis user's code expects.

mod common;

use std::collections::HashMap;

use common::TestServer;
use redis::{Commands, Connection, RedisResult};

fn both(srv: &TestServer, mut f: impl FnMut(&mut Connection, &str)) {
    for (mut con, proto) in [(srv.client(), "RESP2"), (srv.client3(), "RESP3")] {
        let _: () = redis::cmd("FLUSHALL").query(&mut con).unwrap();
        f(&mut con, proto);
    }
}

#[test]
fn connection_commands_through_the_redis_crate() {
    let srv = TestServer::gostore(&[]);
    both(&srv, |con, proto| {
        let pong: String = redis::cmd("PING").query(con).unwrap();
        assert_eq!(pong, "PONG", "{proto}");
        let echo: Vec<u8> = redis::cmd("ECHO")
            .arg(&b"bin\x00ary"[..])
            .query(con)
            .unwrap();
        assert_eq!(echo, b"bin\x00ary");
        let _: () = redis::cmd("CLIENT")
            .arg("SETNAME")
            .arg("app")
            .query(con)
            .unwrap();
        let name: Option<String> = redis::cmd("CLIENT").arg("GETNAME").query(con).unwrap();
        assert_eq!(name.as_deref(), Some("app"));
        let id: i64 = redis::cmd("CLIENT").arg("ID").query(con).unwrap();
        assert!(id > 0);
        let info: String = redis::cmd("CLIENT").arg("INFO").query(con).unwrap();
        assert!(info.contains("name=app"), "{proto}: {info}");
        let _: () = redis::cmd("SELECT").arg(3).query(con).unwrap();
        let _: () = con.set("in3", 1).unwrap();
        let _: () = redis::cmd("SELECT").arg(0).query(con).unwrap();
        let missing: Option<i64> = con.get("in3").unwrap();
        assert_eq!(missing, None);
        let err: RedisResult<()> = redis::cmd("SELECT").arg(99).query(con);
        let err = err.unwrap_err();
        assert_eq!(
            (err.code(), err.detail()),
            (Some("ERR"), Some("DB index is out of range"))
        );
    });
}

#[test]
fn string_commands_through_the_redis_crate() {
    let srv = TestServer::gostore(&[]);
    both(&srv, |con, proto| {
        let _: () = con.set("s", "hello").unwrap();
        assert_eq!(con.get::<_, String>("s").unwrap(), "hello", "{proto}");
        assert_eq!(con.append::<_, _, i64>("s", " world").unwrap(), 11);
        assert_eq!(con.strlen::<_, i64>("s").unwrap(), 11);
        assert_eq!(con.getrange::<_, String>("s", 0, 4).unwrap(), "hello");
        assert_eq!(con.incr::<_, _, i64>("n", 5).unwrap(), 5);
        assert_eq!(con.decr::<_, _, i64>("n", 2).unwrap(), 3);
        let f: f64 = redis::cmd("INCRBYFLOAT")
            .arg("f")
            .arg("0.1")
            .query(con)
            .unwrap();
        let f2: f64 = redis::cmd("INCRBYFLOAT")
            .arg("f")
            .arg("0.2")
            .query(con)
            .unwrap();
        assert_eq!((f, f2), (0.1, 0.3));
        let _: () = con.mset(&[("a", "1"), ("b", "2")]).unwrap();
        let v: Vec<Option<String>> = con.mget(&["a", "b", "nope"]).unwrap();
        assert_eq!(v, vec![Some("1".into()), Some("2".into()), None]);
        let old: Option<String> = redis::cmd("SET")
            .arg("a")
            .arg("10")
            .arg("GET")
            .query(con)
            .unwrap();
        assert_eq!(old.as_deref(), Some("1"));
        let set: Option<String> = redis::cmd("SET")
            .arg("a")
            .arg("x")
            .arg("NX")
            .query(con)
            .unwrap();
        assert_eq!(set, None, "SET NX on an existing key is nil");
        let _: () = con.set_ex("e", "v", 100).unwrap();
        assert!((99..=100).contains(&con.ttl::<_, i64>("e").unwrap()));
        let err: RedisResult<i64> = con.incr("s", 1);
        let err = err.unwrap_err();
        assert_eq!(
            err.detail(),
            Some("value is not an integer or out of range")
        );
        let lcs: String = redis::cmd("LCS").arg("s").arg("a").query(con).unwrap();
        assert_eq!(lcs, "");
    });
}

#[test]
fn hash_commands_through_the_redis_crate() {
    let srv = TestServer::gostore(&[]);
    both(&srv, |con, proto| {
        assert_eq!(
            con.hset_multiple::<_, _, _, ()>("h", &[("name", "Ada"), ("lang", "en")])
                .ok(),
            Some(())
        );
        let all: HashMap<String, String> = con.hgetall("h").unwrap();
        assert_eq!(all.get("name").map(String::as_str), Some("Ada"), "{proto}");
        assert_eq!(all.len(), 2);
        assert_eq!(con.hget::<_, _, Option<String>>("h", "nope").unwrap(), None);
        assert_eq!(con.hincr::<_, _, _, i64>("h", "visits", 3).unwrap(), 3);
        assert_eq!(con.hlen::<_, i64>("h").unwrap(), 3);
        assert!(con.hexists::<_, _, bool>("h", "lang").unwrap());
        assert_eq!(con.hdel::<_, _, i64>("h", &["lang", "nope"]).unwrap(), 1);
        let keys: Vec<String> = con.hkeys("h").unwrap();
        assert_eq!(
            keys,
            vec!["name", "visits"],
            "small hashes keep insertion order"
        );
        let f: f64 = redis::cmd("HINCRBYFLOAT")
            .arg("h")
            .arg("score")
            .arg("1.5")
            .query(con)
            .unwrap();
        assert_eq!(f, 1.5);
        let pairs: Vec<(String, String)> = redis::cmd("HRANDFIELD")
            .arg("h")
            .arg(-2)
            .arg("WITHVALUES")
            .query(con)
            .unwrap_or_default();
        assert_eq!(pairs.len(), 2, "{proto}");
        let (cursor, items): (u64, Vec<String>) =
            redis::cmd("HSCAN").arg("h").arg(0).query(con).unwrap();
        assert_eq!((cursor, items.len()), (0, 6));
        let err: RedisResult<String> = con.get("h");
        assert!(err.unwrap_err().to_string().contains("WRONGTYPE"));
    });
}

#[test]
fn keyspace_commands_through_the_redis_crate() {
    let srv = TestServer::gostore(&[]);
    both(&srv, |con, proto| {
        for i in 0..50 {
            let _: () = con.set(format!("user:{i}"), i).unwrap();
        }
        let _: () = con.hset("hash", "f", "v").unwrap();
        assert_eq!(
            con.exists::<_, i64>(&["user:1", "user:2", "nope"]).unwrap(),
            2,
            "{proto}"
        );
        let mut keys: Vec<String> = con.keys("user:1*").unwrap();
        keys.sort();
        assert_eq!(keys.len(), 11);
        let scanned: Vec<String> = con
            .scan_match::<_, String>("user:*")
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(scanned.len(), 50);
        let t: String = redis::cmd("TYPE").arg("hash").query(con).unwrap();
        assert_eq!(t, "hash");
        assert!(con.expire::<_, bool>("user:1", 100).unwrap());
        assert_eq!(con.ttl::<_, i64>("user:1").unwrap(), 100);
        assert!(con.persist::<_, bool>("user:1").unwrap());
        assert_eq!(con.ttl::<_, i64>("user:1").unwrap(), -1);
        let _: () = con.rename("user:1", "renamed").unwrap();
        assert_eq!(con.get::<_, i64>("renamed").unwrap(), 1);
        let copied: bool = redis::cmd("COPY")
            .arg("renamed")
            .arg("copy")
            .query(con)
            .unwrap();
        assert!(copied);
        assert_eq!(con.del::<_, i64>(&["renamed", "copy", "nope"]).unwrap(), 2);
        let enc: String = redis::cmd("OBJECT")
            .arg("ENCODING")
            .arg("user:2")
            .query(con)
            .unwrap();
        assert_eq!(enc, "int");
        let random: Option<String> = redis::cmd("RANDOMKEY").query(con).unwrap();
        assert!(random.is_some());
        let size: i64 = redis::cmd("DBSIZE").query(con).unwrap();
        assert_eq!(size, 50);
    });
}

#[test]
fn server_commands_through_the_redis_crate() {
    let srv = TestServer::gostore(&[]);
    both(&srv, |con, proto| {
        let cfg: HashMap<String, String> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("append*")
            .query(con)
            .unwrap();
        assert_eq!(
            cfg.get("appendfsync").map(String::as_str),
            Some("everysec"),
            "{proto}"
        );
        assert_eq!(cfg.get("appendonly").map(String::as_str), Some("yes"));
        let _: () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("hz")
            .arg("20")
            .arg("timeout")
            .arg("0")
            .query(con)
            .unwrap();
        let hz: HashMap<String, i64> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("hz")
            .query(con)
            .unwrap();
        assert_eq!(hz["hz"], 20);
        let info: redis::InfoDict = redis::cmd("INFO").query(con).unwrap();
        assert_eq!(
            info.get::<String>("redis_version").as_deref(),
            Some("7.0.15")
        );
        assert!(info.get::<String>("gostore_version").is_some());
        assert_eq!(info.get::<i64>("aof_enabled"), Some(1));
        let (secs, micros): (i64, i64) = redis::cmd("TIME").query(con).unwrap();
        assert!(secs > 1_700_000_000 && (0..1_000_000).contains(&micros));
        let n: i64 = redis::cmd("COMMAND").arg("COUNT").query(con).unwrap();
        assert_eq!(
            n as usize,
            redis::cmd("COMMAND")
                .query::<Vec<redis::Value>>(con)
                .unwrap()
                .len()
        );
        let keys: Vec<String> = redis::cmd("COMMAND")
            .arg("GETKEYS")
            .arg("MSET")
            .arg("a")
            .arg("1")
            .arg("b")
            .arg("2")
            .query(con)
            .unwrap();
        assert_eq!(keys, vec!["a", "b"]);
        let _: () = con.set("x", 1).unwrap();
        let _: () = redis::cmd("FLUSHDB").arg("ASYNC").query(con).unwrap();
        assert_eq!(redis::cmd("DBSIZE").query::<i64>(con).unwrap(), 0);
    });
}
