//! `--stat`: one line of INFO figures per interval (keys, memory, clients,
//! blocked clients, requests, connections, child processes), with a header
//! every 20 lines, as redis-cli's `statMode` prints them.

use std::time::Duration;

use crate::out::{errln, out_str};
use crate::resp::Reply;
use crate::session::Session;

/// redis-cli's `getInfoField`: the text after the first `field` and one
/// separator byte, up to `\r` or `,`.
pub fn info_field<'a>(info: &'a [u8], field: &str) -> Option<&'a [u8]> {
    let f = field.as_bytes();
    let at = info.windows(f.len()).position(|w| w == f)?;
    let rest = info.get(at + f.len() + 1..)?;
    let end = rest
        .iter()
        .position(|&b| b == b'\r' || b == b',')
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// redis-cli's `getLongInfoField`: `i64::MIN` when missing.
fn long_field(info: &[u8], field: &str) -> i64 {
    info_field(info, field).map_or(i64::MIN, crate::args::atoi)
}

/// redis-cli's `bytesToHuman`: 100B, 2.00K, 1.50M, 3.00G.
pub fn bytes_to_human(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    let n = n.unsigned_abs() as f64;
    const K: f64 = 1024.0;
    if n < K {
        format!("{sign}{n}B")
    } else if n < K * K {
        format!("{sign}{:.2}K", n / K)
    } else if n < K * K * K {
        format!("{sign}{:.2}M", n / (K * K))
    } else if n < K * K * K * K {
        format!("{sign}{:.2}G", n / (K * K * K))
    } else {
        format!("{sign}{:.2}T", n / (K * K * K * K))
    }
}

/// Runs stat mode; never returns.
pub fn run(session: &mut Session) -> ! {
    let interval = Duration::from_micros(if session.cfg.interval_us > 0 {
        session.cfg.interval_us as u64
    } else {
        1_000_000
    });
    let mut requests: i64 = 0;
    let mut lines: u64 = 0;
    loop {
        let reply = session.reconnecting_call(&[b"INFO"]);
        let info = match &reply {
            Reply::Error(e) => {
                errln(&format!("ERROR: {}", String::from_utf8_lossy(e)));
                std::process::exit(1);
            }
            r => r.as_bytes().unwrap_or_default().to_vec(),
        };
        if lines % 20 == 0 {
            out_str(
                "------- data ------ --------------------- load -------------------- - child -\n\
                 keys       mem      clients blocked requests            connections          \n",
            );
        }
        lines += 1;
        let keys: i64 = (0..20)
            .map(|j| long_field(&info, &format!("db{j}:keys")))
            .filter(|&k| k != i64::MIN)
            .sum();
        let mut line = format!("{:<11}", keys.to_string());
        line.push_str(&format!(
            "{:<8}",
            bytes_to_human(long_field(&info, "used_memory"))
        ));
        line.push_str(&format!(" {:<8}", long_field(&info, "connected_clients")));
        line.push_str(&format!("{:<8}", long_field(&info, "blocked_clients")));
        let total = long_field(&info, "total_commands_processed");
        let delta = if requests == 0 {
            0
        } else {
            total.wrapping_sub(requests)
        };
        line.push_str(&format!("{:<19}", format!("{total} (+{delta})")));
        requests = total;
        line.push_str(&format!(
            " {:<12}",
            long_field(&info, "total_connections_received")
        ));
        let flag = |f: &str| long_field(&info, f) & 1;
        let children = flag("bgsave_in_progress")
            | flag("aof_rewrite_in_progress") << 1
            | flag("loading") << 2;
        line.push_str(match children {
            1 => "SAVE",
            2 => "AOF",
            3 => "SAVE+AOF",
            4 => "LOAD",
            _ => "",
        });
        line.push('\n');
        out_str(&line);
        std::thread::sleep(interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_fields_stop_at_cr_or_comma() {
        let info = b"# Keyspace\r\ndb0:keys=5,expires=0\r\nused_memory:1048576\r\n";
        assert_eq!(info_field(info, "db0:keys"), Some(&b"5"[..]));
        assert_eq!(info_field(info, "used_memory"), Some(&b"1048576"[..]));
        assert_eq!(info_field(info, "db1:keys"), None);
    }

    #[test]
    fn byte_counts_read_like_redis_cli() {
        assert_eq!(bytes_to_human(100), "100B");
        assert_eq!(bytes_to_human(1536), "1.50K");
        assert_eq!(bytes_to_human(3 * 1024 * 1024), "3.00M");
    }
}
