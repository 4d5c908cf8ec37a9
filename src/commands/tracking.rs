//! CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO, as Redis 7.0's
//! `clientCommand`; the table and the messages are in `crate::tracking`.

use super::args::{self, is};
use super::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::resp::parser::Args;
use crate::tracking::{ClientTracking, Tracking};

/// `CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN]
/// [OPTOUT] [NOLOOP]`.
pub fn client_tracking(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let mut t = ClientTracking::default();
    let mut i = 3;
    while i < args.len() {
        let a = args.get(i);
        let more = args.len() - i - 1;
        if is(a, "REDIRECT") && more >= 1 {
            i += 1;
            if t.redirect != 0 {
                return Err(CmdError::Static(
                    "ERR A client can only redirect to a single other client",
                ));
            }
            let id = args::int(args.get(i))?;
            let parts = ctx.server_parts();
            match Tracking::find_client(parts.clients, parts.client, id as u64) {
                Some(token) if id > 0 => {
                    t.redirect = id as u64;
                    t.redirect_token = Some(token);
                }
                _ => {
                    return Err(CmdError::Static(
                        "ERR The client ID you want redirect to does not exist",
                    ))
                }
            }
        } else if is(a, "BCAST") {
            t.bcast = true;
        } else if is(a, "OPTIN") {
            t.optin = true;
        } else if is(a, "OPTOUT") {
            t.optout = true;
        } else if is(a, "NOLOOP") {
            t.noloop = true;
        } else if is(a, "PREFIX") && more >= 1 {
            i += 1;
            t.prefixes.push(args.get(i).to_vec());
        } else {
            return Err(CmdError::Static("ERR syntax error"));
        }
        i += 1;
    }
    let on = args.get(2);
    if is(on, "ON") {
        if !t.bcast && !t.prefixes.is_empty() {
            return Err(CmdError::Static(
                "ERR PREFIX option requires BCAST mode to be enabled",
            ));
        }
        if let Some(old) = ctx.client.tracking.as_ref() {
            if old.bcast != t.bcast {
                return Err(CmdError::Static("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."));
            }
        }
        if t.bcast && (t.optin || t.optout) {
            return Err(CmdError::Static(
                "ERR OPTIN and OPTOUT are not compatible with BCAST",
            ));
        }
        if t.optin && t.optout {
            return Err(CmdError::Static(
                "ERR You can't specify both OPTIN mode and OPTOUT mode",
            ));
        }
        if let Some(old) = ctx.client.tracking.as_ref() {
            if (t.optin && old.optout) || (t.optout && old.optin) {
                return Err(CmdError::Static("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."));
            }
        }
        check_prefixes(ctx, &t.prefixes)?;
        let parts = ctx.server_parts();
        parts.core.tracking.enable(parts.client, t);
    } else if is(on, "OFF") {
        let parts = ctx.server_parts();
        parts.core.tracking.disable(parts.client);
    } else {
        return Err(CmdError::Static("ERR syntax error"));
    }
    ctx.reply.ok();
    Ok(())
}

/// Redis's `checkPrefixCollisionsOrReply`: no prefix may be a prefix of
/// another, among those given and those the client has.
fn check_prefixes(ctx: &Ctx<'_>, given: &[Vec<u8>]) -> CmdResult {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let overlap = |a: &[u8], b: &[u8]| a.starts_with(b) || b.starts_with(a);
    let existing: &[Vec<u8>] = ctx
        .client
        .tracking
        .as_ref()
        .map_or(&[], |t| t.prefixes.as_slice());
    for (i, p) in given.iter().enumerate() {
        for e in existing {
            if e != p && overlap(p, e) {
                return Err(CmdError::msg(format!("ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.", text(p), text(e))));
            }
        }
        for q in &given[i + 1..] {
            if overlap(p, q) {
                return Err(CmdError::msg(format!("ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.", text(p), text(q))));
            }
        }
    }
    Ok(())
}

/// `CLIENT CACHING YES|NO`.
pub fn client_caching(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let Some(t) = ctx.client.tracking.as_mut().filter(|t| t.optin || t.optout) else {
        return Err(CmdError::Static("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"));
    };
    let v = args.get(2);
    if is(v, "YES") {
        if !t.optin {
            return Err(CmdError::Static(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            ));
        }
        t.caching = Some(true);
    } else if is(v, "NO") {
        if !t.optout {
            return Err(CmdError::Static(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            ));
        }
        t.caching = Some(false);
    } else {
        return Err(CmdError::Static("ERR syntax error"));
    }
    ctx.reply.ok();
    Ok(())
}

/// `CLIENT GETREDIR`: -1 when not tracking, 0 without a redirect.
pub fn client_getredir(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let r = ctx
        .client
        .tracking
        .as_ref()
        .map_or(-1, |t| t.redirect as i64);
    ctx.reply.int(r);
    Ok(())
}

/// `CLIENT TRACKINGINFO`.
pub fn client_trackinginfo(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let t = ctx.client.tracking.clone();
    let r = &mut *ctx.reply;
    r.map_len(3);
    r.bulk(b"flags");
    match &t {
        None => {
            r.set_len(1);
            r.bulk(b"off");
        }
        Some(t) => {
            let mut flags: Vec<&[u8]> = vec![b"on"];
            if t.bcast {
                flags.push(b"bcast");
            }
            if t.optin {
                flags.push(b"optin");
                if t.caching == Some(true) {
                    flags.push(b"caching-yes");
                }
            }
            if t.optout {
                flags.push(b"optout");
                if t.caching == Some(false) {
                    flags.push(b"caching-no");
                }
            }
            if t.noloop {
                flags.push(b"noloop");
            }
            if t.broken {
                flags.push(b"broken_redirect");
            }
            r.set_len(flags.len());
            for f in flags {
                r.bulk(f);
            }
        }
    }
    r.bulk(b"redirect");
    r.int(t.as_ref().map_or(-1, |t| t.redirect as i64));
    r.bulk(b"prefixes");
    let prefixes = t.map(|t| t.prefixes).unwrap_or_default();
    r.array_len(prefixes.len());
    for p in prefixes {
        r.bulk(&p);
    }
    Ok(())
}
