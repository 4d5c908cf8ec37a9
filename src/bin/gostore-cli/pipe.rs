//! `--pipe`: mass insertion. Raw RESP from stdin goes to the server while
//! replies are read back, as redis-cli's `pipeMode` does; after stdin ends an
//! `ECHO` of 20 random bytes marks the last reply. Errors are printed to
//! stderr as they come; the end is `errors: N, replies: M`, exit status 1 if
//! any reply was an error.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read};
use std::time::Instant;

use crate::conn::{strerror, Conn};
use crate::out::{err, errln, out_str};
use crate::resp::Reply;

const OBUF_SIZE: usize = 16 * 1024;
/// Write at most this much per writable event, then read replies again.
const WRITE_LOOP_MAX_BYTES: usize = 128 * 1024;

fn random_magic() -> [u8; 20] {
    let state = RandomState::new();
    let mut magic = [0u8; 20];
    for (i, chunk) in magic.chunks_mut(8).enumerate() {
        let mut h = state.build_hasher();
        h.write_usize(i);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        let bytes = h.finish().to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
    magic
}

/// `poll(2)` on one descriptor; returns the revents.
fn wait(fd: i32, events: i16, timeout_ms: i32) -> i16 {
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: one valid pollfd, for the duration of the call.
    let n = unsafe { libc::poll(&mut p, 1, timeout_ms) };
    if n > 0 {
        p.revents
    } else {
        0
    }
}

/// The next buffered reply; a protocol error ends the program.
fn next_reply(conn: &mut Conn) -> Option<Reply> {
    match conn.buffered_reply() {
        Ok(r) => r,
        Err(_) => {
            errln("Error reading replies from server");
            std::process::exit(1);
        }
    }
}

/// Runs pipe mode on a connected `conn`; never returns.
pub fn run(mut conn: Conn, timeout_secs: i64) -> ! {
    if let Err(e) = conn.set_nonblocking(true) {
        errln(&format!(
            "Can't set the socket in non blocking mode: {}",
            strerror(&e)
        ));
        std::process::exit(1);
    }
    let magic = random_magic();
    let mut stdin = io::stdin().lock();
    let mut obuf: Vec<u8> = Vec::with_capacity(OBUF_SIZE);
    let mut obuf_pos = 0usize;
    let (mut errors, mut replies) = (0i64, 0i64);
    let (mut eof, mut done) = (false, false);
    let mut last_read = Instant::now();
    let mut chunk = vec![0u8; OBUF_SIZE];

    while !done {
        let pending = obuf.len() - obuf_pos;
        let mut events = libc::POLLIN;
        if !eof || pending != 0 {
            events |= libc::POLLOUT;
        }
        let revents = wait(conn.fd(), events, 1000);

        if revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
            // Read until the socket is drained, taking replies as they come.
            let mut read_error = false;
            loop {
                let more = match conn.read_some() {
                    Ok(0) => {
                        read_error = true;
                        false
                    }
                    Ok(_) => true,
                    Err(e) => {
                        read_error = !matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                        );
                        false
                    }
                };
                while let Some(reply) = next_reply(&mut conn) {
                    last_read = Instant::now();
                    match &reply {
                        Reply::Error(e) => {
                            err(&[e.as_slice(), b"\n"].concat());
                            errors += 1;
                        }
                        Reply::Bulk(b) if eof && b.as_slice() == magic => {
                            out_str("Last reply received from server.\n");
                            done = true;
                            replies -= 1;
                        }
                        _ => {}
                    }
                    replies += 1;
                }
                if !more {
                    break;
                }
            }
            // Replies read before the error are counted; then give up.
            if read_error {
                std::process::exit(1);
            }
        }

        if revents & libc::POLLOUT != 0 {
            let mut written = 0usize;
            loop {
                if obuf_pos < obuf.len() {
                    match conn.write_some(&obuf[obuf_pos..]) {
                        Ok(n) => {
                            obuf_pos += n;
                            written += n;
                        }
                        Err(e)
                            if matches!(
                                e.kind(),
                                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                            ) => {}
                        Err(e) => {
                            errln(&format!("Error writing to the server: {}", strerror(&e)));
                            std::process::exit(1);
                        }
                    }
                    if obuf_pos < obuf.len() {
                        break;
                    }
                }
                if obuf_pos == obuf.len() && !eof {
                    match stdin.read(&mut chunk) {
                        Ok(0) => {
                            eof = true;
                            obuf.clear();
                            // A CRLF ends a last inline command left
                            // without one; then ECHO <magic>.
                            obuf.extend_from_slice(b"\r\n");
                            gostore::resp::encode::command(
                                &mut obuf,
                                [&b"ECHO"[..], &magic[..]].into_iter(),
                            );
                            obuf_pos = 0;
                            out_str("All data transferred. Waiting for the last reply...\n");
                        }
                        Ok(n) => {
                            obuf.clear();
                            obuf.extend_from_slice(&chunk[..n]);
                            obuf_pos = 0;
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            errln(&format!("Error reading from stdin: {}", strerror(&e)));
                            std::process::exit(1);
                        }
                    }
                }
                if (obuf_pos == obuf.len() && eof) || written > WRITE_LOOP_MAX_BYTES {
                    break;
                }
            }
        }

        if eof && timeout_secs > 0 && last_read.elapsed().as_secs() as i64 > timeout_secs {
            errln(&format!("No replies for {timeout_secs} seconds: exiting."));
            errors += 1;
            break;
        }
    }
    out_str(&format!("errors: {errors}, replies: {replies}\n"));
    std::process::exit(if errors > 0 { 1 } else { 0 });
}
