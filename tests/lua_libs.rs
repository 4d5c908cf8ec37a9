//! The C libraries Redis loads into Lua (cjson, cmsgpack, struct), fed
//! random values: GoStore's bytes must be Redis's, value for value. The
//! hand-picked cases and the errors are in tests/corpus/scripting.txt.

mod common;

use common::resp::RawConn;
use common::rng::Rng;
use common::TestServer;

const EDGES: &[&str] = &[
    "0",
    "1",
    "31",
    "32",
    "127",
    "128",
    "255",
    "256",
    "32767",
    "32768",
    "65535",
    "65536",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "2^53",
    "2^53+1",
    "2^63",
    "2^64",
];

/// A Lua expression for a random value, tables nested up to `depth`.
fn value(r: &mut Rng, depth: u32) -> String {
    let pick = if depth == 0 { r.below(6) } else { r.below(9) };
    match pick {
        0 => {
            let e = EDGES[r.below(EDGES.len() as u64) as usize];
            match r.below(3) {
                0 => format!("-({e})"),
                1 => format!("({e}-1)"),
                _ => e.to_string(),
            }
        }
        1 => {
            // Any finite double, written exactly.
            let f = loop {
                let f = f64::from_bits(r.next());
                if f.is_finite() {
                    break f;
                }
            };
            format!("{f:e}")
        }
        2 => [
            "0.5",
            "-0.25",
            "1/3",
            "1e300",
            "-1e-300",
            "3.4028234663852886e38",
            "0.1",
        ][r.below(7) as usize]
            .to_string(),
        3 => {
            let len = [0, 1, 5, 31, 32, 33, 255, 256, 65535, 65536][r.below(10) as usize];
            let ch = r.below(256);
            if len < 40 {
                let bytes: Vec<String> = (0..len).map(|_| format!("\\{}", r.below(256))).collect();
                format!("'{}'", bytes.concat())
            } else {
                format!("string.rep('\\{ch}', {len})")
            }
        }
        4 => ["true", "false"][r.below(2) as usize].to_string(),
        5 => "nil".to_string(),
        6 => {
            // An array, sometimes with holes.
            let n = [0, 1, 3, 15, 16, 17][r.below(6) as usize];
            let items: Vec<String> = (0..n).map(|_| value(r, depth - 1)).collect();
            format!("{{{}}}", items.join(", "))
        }
        7 => {
            // A map with string and number keys.
            let n = [1, 2, 15, 16, 17][r.below(5) as usize];
            let items: Vec<String> = (0..n)
                .map(|i| {
                    let k = match r.below(3) {
                        0 => format!("k{i}"),
                        1 => format!("[{}]", r.below(40)),
                        _ => format!("[{}.5]", i),
                    };
                    let k = if k.starts_with('[') { k } else { k.to_string() };
                    format!("{k} = {}", value(r, depth - 1))
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        _ => {
            // A chain deeper than cmsgpack's 16 levels, now and then.
            let levels = r.below(20) + 1;
            let inner = value(r, 0);
            format!(
                "{}{inner}{}",
                "{".repeat(levels as usize),
                "}".repeat(levels as usize)
            )
        }
    }
}

fn eval(c: &mut RawConn, script: &str) -> Vec<u8> {
    c.cmd(&[b"EVAL", script.as_bytes(), b"0"])
}

#[test]
fn random_values_pack_encode_and_round_trip_as_redis_does() {
    let redis = TestServer::redis(&[]);
    let gostore = TestServer::gostore(&[]);
    let (mut rc, mut gc) = (redis.raw_conn(), gostore.raw_conn());
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let mut compared = 0;
    for _ in 0..300 {
        let v = value(&mut r, 3);
        let scripts = [
            format!("return cmsgpack.pack({v})"),
            format!("return cmsgpack.pack({v}, {v})"),
            format!("return cmsgpack.pack(cmsgpack.unpack(cmsgpack.pack({v})))"),
            format!("return cjson.encode({v})"),
            format!("return cjson.encode(cjson.decode(cjson.encode({v})))"),
            format!("local v = {v} if type(v) == 'number' then return {{struct.pack('>d<fbhiIlT', v, v, v, v, v, v, v, v)}} end return 0"),
        ];
        for s in &scripts {
            let (a, b) = (eval(&mut rc, s), eval(&mut gc, s));
            assert_eq!(
                String::from_utf8_lossy(&a),
                String::from_utf8_lossy(&b),
                "script: {s}"
            );
            assert_eq!(a, b, "script: {s}");
            compared += 1;
        }
    }
    // Both servers answered every script the same; make sure they were
    // real replies, not the same error for everything.
    let ok = eval(&mut gc, "return cmsgpack.pack({1, 'a', {b = true}})");
    assert_eq!(ok, b"$8\r\n\x93\x01\xa1a\x81\xa1b\xc3\r\n".to_vec());
    assert_eq!(compared, 1800);
}

/// Random bytes of `alphabet`, up to `max` long.
fn garbage(r: &mut Rng, alphabet: &[u8], max: u64) -> Vec<u8> {
    let n = r.below(max + 1);
    (0..n)
        .map(|_| alphabet[r.below(alphabet.len() as u64) as usize])
        .collect()
}

/// Decoders fed garbage answer what Redis answers (a value or the same
/// error text), and the server stays up.
#[test]
fn decoders_fed_garbage_answer_as_redis_does() {
    let redis = TestServer::redis(&[]);
    let gostore = TestServer::gostore(&[]);
    let (mut rc, mut gc) = (redis.raw_conn(), gostore.raw_conn());
    let mut r = Rng(0xD1B5_4A32_D192_ED03);
    // The results (or the error) of a pcall, as bytes both servers print
    // the same way: values packed again with cmsgpack.
    let show = "local function show(ok, ...) \
                  if not ok then return 'error: ' .. tostring((...)) end \
                  local n = select('#', ...) \
                  if n == 0 then return 'none' end \
                  return {n, cmsgpack.pack(...)} \
                end ";
    let all_bytes: Vec<u8> = (0..=255).collect();
    let msgpack_bytes: Vec<u8> = [
        0x00, 0x01, 0x7f, 0x80, 0x81, 0x8f, 0x90, 0x91, 0x9f, 0xa0, 0xa1, 0xbf, 0xc0, 0xc1, 0xc2,
        0xc3, 0xc4, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd9, 0xda, 0xdb,
        0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff, b'a',
    ]
    .to_vec();
    let json_bytes = b"[]{}\",:0123456789eE.+-tfnulrasxIN\\/ \t\nu".to_vec();
    let fmt_bytes = b"bBhHlLTiIfdxcs<>! 0123456789=z".to_vec();
    let mut compared = 0;
    for i in 0..1000 {
        let (script, args): (String, Vec<Vec<u8>>) = match i % 5 {
            0 => (
                format!("{show} return show(pcall(cmsgpack.unpack, ARGV[1]))"),
                vec![garbage(&mut r, &msgpack_bytes, 24)],
            ),
            1 => (
                format!("{show} return show(pcall(cmsgpack.unpack_limit, ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])))"),
                vec![
                    garbage(&mut r, &all_bytes, 16),
                    r.below(4).to_string().into_bytes(),
                    r.below(6).to_string().into_bytes(),
                ],
            ),
            2 => (
                format!("{show} return show(pcall(function(s) return cmsgpack.pack(cjson.decode(s)) end, ARGV[1]))"),
                vec![garbage(&mut r, &json_bytes, 24)],
            ),
            3 => (
                format!("{show} return show(pcall(struct.unpack, ARGV[1], ARGV[2]))"),
                vec![
                    garbage(&mut r, &fmt_bytes, 8),
                    garbage(&mut r, &all_bytes, 40),
                ],
            ),
            _ => (
                format!("{show} return show(pcall(struct.pack, ARGV[1], 1, 'abcdefgh', -2.5, 'xy', 300, 7))"),
                vec![garbage(&mut r, &fmt_bytes, 8)],
            ),
        };
        let mut cmd: Vec<&[u8]> = vec![b"EVAL", script.as_bytes(), b"0"];
        cmd.extend(args.iter().map(|a| a.as_slice()));
        let (a, b) = (rc.cmd(&cmd), gc.cmd(&cmd));
        assert_eq!(
            String::from_utf8_lossy(&a),
            String::from_utf8_lossy(&b),
            "script: {script}\nargs: {args:?}"
        );
        assert_eq!(a, b, "script: {script}\nargs: {args:?}");
        compared += 1;
    }
    assert_eq!(compared, 1000);
    assert_eq!(gc.cmd_str(&["PING"]), "+PONG\r\n");
}
