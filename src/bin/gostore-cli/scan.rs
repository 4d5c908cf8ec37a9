//! `--scan [--pattern P] [--count N]`: every key, one per line, through the
//! SCAN cursor (quoted on a terminal, raw otherwise), as redis-cli's
//! `scanMode`; `-i` pauses between batches.

use std::time::Duration;

use crate::format::{repr, OutputMode};
use crate::out::{errln, out};
use crate::resp::Reply;
use crate::session::Session;

/// Runs scan mode; never returns.
pub fn run(session: &mut Session) -> ! {
    let mut cursor: u64 = 0;
    loop {
        let cur = cursor.to_string();
        let count = session.cfg.count.map(|c| c.to_string());
        let mut argv: Vec<&[u8]> = vec![b"SCAN", cur.as_bytes()];
        let pattern = session.cfg.pattern.clone();
        if let Some(p) = &pattern {
            argv.extend([b"MATCH".as_slice(), p.as_slice()]);
        }
        if let Some(c) = &count {
            argv.extend([b"COUNT".as_slice(), c.as_bytes()]);
        }
        let reply = match session.conn.as_mut().map(|c| c.call(&argv)) {
            Some(Ok(r)) => r,
            _ => {
                errln("\nI/O error");
                std::process::exit(1);
            }
        };
        let (next, keys) = match &reply {
            Reply::Error(e) => {
                errln(&format!("SCAN error: {}", String::from_utf8_lossy(e)));
                std::process::exit(1);
            }
            Reply::Array(v) if v.len() == 2 => (&v[0], &v[1]),
            Reply::Array(_) => {
                errln("Invalid element count from SCAN!");
                std::process::exit(1);
            }
            _ => {
                errln("Non ARRAY response from SCAN!");
                std::process::exit(1);
            }
        };
        cursor = std::str::from_utf8(next.as_bytes().unwrap_or_default())
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        let mut text = Vec::new();
        for key in keys.elements().unwrap_or_default() {
            let k = key.as_bytes().unwrap_or_default();
            if session.cfg.output == OutputMode::Standard {
                repr(&mut text, k);
            } else {
                text.extend_from_slice(k.split(|&b| b == 0).next().unwrap_or_default());
            }
            text.push(b'\n');
        }
        out(&text);
        if cursor == 0 {
            std::process::exit(0);
        }
        if session.cfg.interval_us > 0 {
            std::thread::sleep(Duration::from_micros(session.cfg.interval_us as u64));
        }
    }
}
