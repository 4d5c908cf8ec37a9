//! The pub/sub commands, as Redis 7.0's `pubsub.c`: SUBSCRIBE,
//! UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE, SUNSUBSCRIBE,
//! PUBLISH, SPUBLISH and PUBSUB. The indexes and the fan-out are in
//! `crate::pubsub`; the RESP2 subscriber context is checked in
//! `process_command`.

use super::Ctx;
use crate::client::Flags;
use crate::error::{CmdError, CmdResult};
use crate::pubsub::{Fanout, Kind, Own, PubSub};
use crate::resp::parser::Args;
use crate::resp::Reply;

/// The header of a pub/sub reply: an array in RESP2, a push in RESP3
/// (Redis's `addReplyPubsub*`).
fn header(reply: &mut Reply, n: usize) {
    if reply.is_resp3() {
        reply.push_len(n);
    } else {
        reply.array_len(n);
    }
}

/// After a (un)subscription: the reply cap follows the client's output
/// limit class (`pubsub` while it has subscriptions).
fn refresh_cap(ctx: &mut Ctx<'_>) {
    let limit =
        crate::limits::limit_for(&ctx.server().config.client_output_buffer_limit, ctx.client);
    ctx.reply.set_cap(limit.hard_cap());
}

fn subscribe_kind(ctx: &mut Ctx<'_>, args: &Args<'_>, kind: Kind, name: &str) -> CmdResult {
    if ctx.client.has(Flags::DENY_BLOCKING) && !ctx.client.has(Flags::MULTI) {
        return Err(CmdError::msg(format!(
            "ERR {name} isn't allowed for a DENY BLOCKING client"
        )));
    }
    for ch in args.iter_from(1) {
        let parts = ctx.server_parts();
        parts.core.pubsub.subscribe(parts.client, kind, ch);
        let count = parts.client.subs.as_ref().map_or(0, |s| s.count(kind));
        header(parts.reply, 3);
        parts.reply.bulk(kind.subscribe_word());
        parts.reply.bulk(ch);
        parts.reply.int(count as i64);
    }
    refresh_cap(ctx);
    Ok(())
}

fn unsubscribe_kind(ctx: &mut Ctx<'_>, args: &Args<'_>, kind: Kind) -> CmdResult {
    let names: Vec<Vec<u8>> = if args.len() > 1 {
        args.iter_from(1).map(<[u8]>::to_vec).collect()
    } else {
        PubSub::names(ctx.client, kind)
    };
    if names.is_empty() {
        // Nothing to leave: one reply with a null name.
        let count = ctx.client.subs.as_ref().map_or(0, |s| s.count(kind));
        header(ctx.reply, 3);
        ctx.reply.bulk(kind.unsubscribe_word());
        ctx.reply.null();
        ctx.reply.int(count as i64);
        return Ok(());
    }
    for ch in &names {
        let parts = ctx.server_parts();
        parts.core.pubsub.unsubscribe(parts.client, kind, ch);
        let count = parts.client.subs.as_ref().map_or(0, |s| s.count(kind));
        header(parts.reply, 3);
        parts.reply.bulk(kind.unsubscribe_word());
        parts.reply.bulk(ch);
        parts.reply.int(count as i64);
    }
    refresh_cap(ctx);
    Ok(())
}

/// `SUBSCRIBE channel [channel ...]`.
pub fn subscribe(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    subscribe_kind(ctx, args, Kind::Channel, "SUBSCRIBE")
}

/// `PSUBSCRIBE pattern [pattern ...]`.
pub fn psubscribe(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    subscribe_kind(ctx, args, Kind::Pattern, "PSUBSCRIBE")
}

/// `SSUBSCRIBE shardchannel [shardchannel ...]`.
pub fn ssubscribe(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    subscribe_kind(ctx, args, Kind::Shard, "SSUBSCRIBE")
}

/// `UNSUBSCRIBE [channel ...]`: all of them when none is named.
pub fn unsubscribe(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    unsubscribe_kind(ctx, args, Kind::Channel)
}

/// `PUNSUBSCRIBE [pattern ...]`.
pub fn punsubscribe(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    unsubscribe_kind(ctx, args, Kind::Pattern)
}

/// `SUNSUBSCRIBE [shardchannel ...]`.
pub fn sunsubscribe(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    unsubscribe_kind(ctx, args, Kind::Shard)
}

fn publish_kind(ctx: &mut Ctx<'_>, args: &Args<'_>, shard: bool) -> CmdResult {
    let parts = ctx.server_parts();
    let core = parts.core;
    let mut out = Fanout {
        clients: parts.clients,
        own: Some(Own {
            token: parts.client.token,
            reply: parts.reply,
        }),
        limits: &core.config.client_output_buffer_limit,
        disconnections: &mut core.stats.client_outbuf_limit_disconnections,
    };
    let n = core
        .pubsub
        .publish(&mut out, shard, args.get(1), args.get(2));
    ctx.reply.int(n as i64);
    Ok(())
}

/// `PUBLISH channel message`: the number of clients that received it.
pub fn publish(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    publish_kind(ctx, args, false)
}

/// `SPUBLISH shardchannel message`.
pub fn spublish(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    publish_kind(ctx, args, true)
}

fn channels_kind(ctx: &mut Ctx<'_>, args: &Args<'_>, kind: Kind) -> CmdResult {
    let pattern = (args.len() > 2).then(|| args.get(2));
    let parts = ctx.server_parts();
    let list = parts.core.pubsub.active(kind, pattern);
    parts.reply.array_len(list.len());
    for ch in list {
        parts.reply.bulk(ch);
    }
    Ok(())
}

fn numsub_kind(ctx: &mut Ctx<'_>, args: &Args<'_>, kind: Kind) -> CmdResult {
    let parts = ctx.server_parts();
    parts.reply.array_len(2 * (args.len() - 2));
    for ch in args.iter_from(2) {
        parts.reply.bulk(ch);
        parts.reply.int(parts.core.pubsub.numsub(kind, ch) as i64);
    }
    Ok(())
}

/// `PUBSUB CHANNELS [pattern]`.
pub fn pubsub_channels(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    channels_kind(ctx, args, Kind::Channel)
}

/// `PUBSUB SHARDCHANNELS [pattern]`.
pub fn pubsub_shardchannels(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    channels_kind(ctx, args, Kind::Shard)
}

/// `PUBSUB NUMSUB [channel ...]`.
pub fn pubsub_numsub(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    numsub_kind(ctx, args, Kind::Channel)
}

/// `PUBSUB SHARDNUMSUB [shardchannel ...]`.
pub fn pubsub_shardnumsub(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    numsub_kind(ctx, args, Kind::Shard)
}

/// `PUBSUB NUMPAT`.
pub fn pubsub_numpat(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let n = ctx.server().pubsub.numpat();
    ctx.reply.int(n as i64);
    Ok(())
}

/// `PUBSUB HELP`.
pub fn pubsub_help(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.reply.help(
        "PUBSUB",
        &[
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
        ],
    );
    Ok(())
}

/// Whether a RESP2 client with subscriptions may run `fullname` (Redis's
/// subscriber context).
pub(crate) fn allowed_in_context(fullname: &str) -> bool {
    matches!(
        fullname,
        "ping"
            | "subscribe"
            | "ssubscribe"
            | "unsubscribe"
            | "sunsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "quit"
            | "reset"
    )
}

/// The error for any other command.
pub(crate) fn context_error(fullname: &str) -> CmdError {
    CmdError::msg(format!("ERR Can't execute '{fullname}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"))
}
