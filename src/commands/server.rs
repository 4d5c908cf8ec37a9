//! Server commands: INFO, CONFIG, COMMAND, DBSIZE, FLUSHDB/FLUSHALL, SWAPDB, TIME, LASTSAVE, SHUTDOWN.

use super::args::{self, is};
use super::spec::{
    ArgDoc, BeginSearch, CommandSpec, FindKeys, KeySpec, ARG_MULTIPLE, ARG_MULTIPLE_TOKEN,
    ARG_OPTIONAL, FLAG_NAMES,
};
use super::Ctx;
use crate::core::{ShutdownReason, ShutdownRequest};
use crate::db::dict::Dict;
use crate::db::value::Value;
use crate::error::{CmdError, CmdResult};
use crate::resp::parser::Args;

/// `DBSIZE`.
pub fn dbsize(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.reply.int(ctx.db.len() as i64);
    Ok(())
}

/// `FLUSHALL [ASYNC|SYNC]`.
pub fn flushall(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let lazy = flush_is_async(ctx, args)?;
    let mut tables = Vec::new();
    for db in ctx.all_dbs() {
        tables.push(db.take_all());
    }
    // The whole tracking table goes (Redis's FLUSHALL case).
    crate::tracking::flushed(true);
    for (d, e) in tables {
        ctx.dirty += d.len() as u64;
        free_tables(ctx, d, e, lazy);
    }
    ctx.dirty += 1; // always propagated, as Redis forces it
    ctx.reply.ok();
    Ok(())
}

/// FLUSHALL/FLUSHDB's flag: ASYNC, SYNC, or `lazyfree-lazy-user-flush`.
fn flush_is_async(ctx: &Ctx<'_>, args: &Args<'_>) -> Result<bool, CmdError> {
    match args.len() {
        1 => Ok(ctx.server().config.lazyfree_lazy_user_flush),
        2 if is(args.get(1), "ASYNC") => Ok(true),
        2 if is(args.get(1), "SYNC") => Ok(false),
        _ => Err(CmdError::Syntax),
    }
}

fn free_tables(ctx: &mut Ctx<'_>, d: Dict<Value>, e: Dict<i64>, lazy: bool) {
    if lazy {
        ctx.server().lazyfree.free(d, e);
    } else {
        drop((d, e));
    }
}

/// `FLUSHDB [ASYNC|SYNC]`.
pub fn flushdb(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let lazy = flush_is_async(ctx, args)?;
    let (d, e) = ctx.db.take_all();
    ctx.dirty += d.len() as u64 + 1; // always propagated, as Redis forces it
    free_tables(ctx, d, e, lazy);
    ctx.reply.ok();
    Ok(())
}

/// `LASTSAVE`: GoStore writes no RDB, so this is the start-up time.
pub fn lastsave(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.reply.int(ctx.server().lastsave);
    Ok(())
}

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]`: the AOF is written and
/// fsynced and the server exits; the client gets no reply (as Redis).
pub fn shutdown(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let (mut save, mut nosave, mut abort, mut force) = (false, false, false, false);
    for a in args.iter_from(1) {
        if is(a, "NOSAVE") {
            nosave = true;
        } else if is(a, "SAVE") {
            save = true;
        } else if is(a, "NOW") {
        } else if is(a, "FORCE") {
            force = true;
        } else if is(a, "ABORT") {
            abort = true;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if (save && nosave) || (abort && args.len() > 2) {
        return Err(CmdError::Syntax);
    }
    if abort {
        // Shutdowns here are immediate: there is never one to abort.
        return Err(CmdError::Static("ERR No shutdown in progress."));
    }
    // A busy script: only SHUTDOWN NOSAVE may end the server.
    if !nosave {
        if let Some(e) = crate::scripting::busy::busy_error(ctx.server().scripting.running.as_ref())
        {
            return Err(CmdError::Static(e));
        }
    }
    let client = Some(ctx.client.id);
    // While loading, the dataset is partial: never saved (Redis forces
    // NOSAVE then).
    let loading = ctx.server().load.is_some();
    ctx.server_mut().shutdown = Some(ShutdownRequest {
        reason: ShutdownReason::Command,
        save: if loading {
            Some(false)
        } else if save {
            Some(true)
        } else if nosave {
            Some(false)
        } else {
            None
        },
        force,
        client,
    });
    Ok(())
}

/// `SWAPDB index1 index2`.
pub fn swapdb(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let a = args::int32(args.get(1), Some("ERR invalid first DB index"))?;
    let b = args::int32(args.get(2), Some("ERR invalid second DB index"))?;
    let n = ctx.db_count() as i32;
    if a < 0 || a >= n || b < 0 || b >= n {
        return Err(CmdError::DbIndexOutOfRange);
    }
    ctx.swap_dbs(a as usize, b as usize);
    ctx.dirty += 1;
    ctx.reply.ok();
    Ok(())
}

/// `TIME`: seconds and microseconds.
pub fn time(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let us = crate::util::time::unix_us();
    ctx.reply.array_len(2);
    ctx.reply.bulk_i64(us / 1_000_000);
    ctx.reply.bulk_i64(us % 1_000_000);
    Ok(())
}

pub use super::info::info;

/// `CONFIG GET parameter [parameter ...]`.
pub fn config_get(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let patterns: Vec<&[u8]> = args.iter_from(2).collect();
    let pairs = ctx.server().config.get(&patterns);
    ctx.reply.map_len(pairs.len());
    for (name, value) in pairs {
        ctx.reply.bulk(name.as_bytes());
        ctx.reply.bulk(value.as_bytes());
    }
    Ok(())
}

/// `CONFIG SET parameter value [parameter value ...]`: all or nothing
/// (the directive table does the work: `config::config_set`).
pub fn config_set(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() % 2 != 0 {
        return Err(CmdError::Syntax);
    }
    let pairs: Vec<(&[u8], &[u8])> = (2..args.len())
        .step_by(2)
        .map(|i| (args.get(i), args.get(i + 1)))
        .collect();
    for (i, (name, _)) in pairs.iter().enumerate() {
        if is(name, "requirepass") {
            ctx.redact(3 + 2 * i);
        }
    }
    let local = ctx.client.is_local();
    crate::config::config_set(&mut Live(ctx), &pairs, local)
        .map_err(|e| CmdError::msg(e.to_string()))?;
    ctx.reply.ok();
    Ok(())
}

/// The running server as CONFIG SET's apply hooks see it.
struct Live<'c, 'a>(&'c mut Ctx<'a>);

impl crate::config::Runtime for Live<'_, '_> {
    fn config(&mut self) -> &mut crate::config::Config {
        &mut self.0.server_mut().config
    }

    fn rebind(&mut self, old_bind: &[String], old_port: u16) -> Result<(), String> {
        let core = self.0.server_mut();
        let c = &core.config;
        core.listeners
            .rebind(&c.bind, c.port, c.tcp_backlog, (old_bind, old_port))
            .map_err(|e| e.to_string())
    }

    fn set_appendonly(&mut self, on: bool) -> Result<(), String> {
        let aof = &mut self.0.server_mut().aof;
        if on {
            aof.turn_on()
        } else {
            aof.turn_off();
            Ok(())
        }
    }

    fn fsync_policy_changed(&mut self) {
        self.0.server_mut().aof.policy_changed();
    }

    fn loglevel_changed(&mut self) {
        crate::logging::set_level(self.0.server_mut().config.loglevel);
    }

    fn output_limits_changed(&mut self) {
        let super::ctx::ServerParts {
            core,
            clients,
            reply,
            client,
        } = self.0.server_parts();
        crate::limits::apply_output_limits(
            &core.config.client_output_buffer_limit,
            clients,
            (reply, client),
        );
    }

    fn eviction_changed(&mut self) {
        crate::evict::apply_config(&self.0.server().config);
    }

    fn maxmemory_changed(&mut self) {
        crate::evict::maxmemory_changed(self.0.server_mut());
    }

    fn maxclients_grew(&mut self) -> Result<(), String> {
        crate::limits::raise_for_maxclients(self.0.server_mut().config.maxclients)
    }
}

/// `CONFIG REWRITE`: rewrites the config file in place (Redis's
/// `rewriteConfig`; see `config_rewrite`).
pub fn config_rewrite(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let Some(path) = ctx.server().config_file.clone() else {
        return Err(CmdError::Static(
            "ERR The server is running without a config file",
        ));
    };
    match crate::config_rewrite::rewrite(&path, &ctx.server().config) {
        Ok(()) => {
            log::warn!("CONFIG REWRITE executed with success.");
            ctx.reply.ok();
            Ok(())
        }
        Err(e) => {
            log::warn!("CONFIG REWRITE failed: {e}");
            Err(CmdError::msg(format!("ERR Rewriting config file: {e}")))
        }
    }
}

/// `CONFIG RESETSTAT`.
pub fn config_resetstat(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    ctx.server_mut().stats = Default::default();
    ctx.server_mut().commands.reset_stats();
    ctx.server_mut().expire.time_cap_reached = 0;
    ctx.server_mut().expire.stale_perc = 0.0;
    ctx.server_mut().expire.cpu_us = 0;
    ctx.server_mut().evict.reset_stats();
    for db in ctx.all_dbs() {
        db.stats = Default::default();
    }
    ctx.reply.ok();
    Ok(())
}

/// `CONFIG HELP`.
pub fn config_help(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    ctx.reply.help(
        &args::text(args.get(0)),
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    );
    Ok(())
}

fn reply_flags(ctx: &mut Ctx<'_>, names: &[&str]) {
    ctx.reply.set_len(names.len());
    for n in names {
        ctx.reply.simple(n);
    }
}

fn reply_key_specs(ctx: &mut Ctx<'_>, specs: &[KeySpec]) {
    let r = &mut *ctx.reply;
    r.set_len(specs.len());
    for ks in specs {
        r.map_len(3 + ks.notes.is_some() as usize);
        if let Some(n) = ks.notes {
            r.bulk(b"notes");
            r.bulk(n.as_bytes());
        }
        r.bulk(b"flags");
        r.set_len(ks.flags.len());
        for f in ks.flags {
            r.simple(f);
        }
        r.bulk(b"begin_search");
        r.map_len(2);
        r.bulk(b"type");
        match ks.begin {
            BeginSearch::Index(i) => {
                r.bulk(b"index");
                r.bulk(b"spec");
                r.map_len(1);
                r.bulk(b"index");
                r.int(i as i64);
            }
            BeginSearch::Keyword(k, from) => {
                r.bulk(b"keyword");
                r.bulk(b"spec");
                r.map_len(2);
                r.bulk(b"keyword");
                r.bulk(k.as_bytes());
                r.bulk(b"startfrom");
                r.int(from as i64);
            }
            BeginSearch::Unknown => {
                r.bulk(b"unknown");
                r.bulk(b"spec");
                r.map_len(0);
            }
        }
        r.bulk(b"find_keys");
        r.map_len(2);
        r.bulk(b"type");
        match ks.find {
            FindKeys::Range {
                lastkey,
                step,
                limit,
            } => {
                r.bulk(b"range");
                r.bulk(b"spec");
                r.map_len(3);
                r.bulk(b"lastkey");
                r.int(lastkey as i64);
                r.bulk(b"keystep");
                r.int(step as i64);
                r.bulk(b"limit");
                r.int(limit as i64);
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                step,
            } => {
                r.bulk(b"keynum");
                r.bulk(b"spec");
                r.map_len(3);
                r.bulk(b"keynumidx");
                r.int(keynumidx as i64);
                r.bulk(b"firstkey");
                r.int(firstkey as i64);
                r.bulk(b"keystep");
                r.int(step as i64);
            }
            FindKeys::Unknown => {
                r.bulk(b"unknown");
                r.bulk(b"spec");
                r.map_len(0);
            }
        }
    }
}

/// One command's COMMAND INFO entry (Redis's `addReplyCommandInfo`).
fn reply_command_info(ctx: &mut Ctx<'_>, c: &CommandSpec) {
    ctx.reply.array_len(10);
    ctx.reply.bulk(c.fullname.as_bytes());
    ctx.reply.int(c.arity as i64);
    let flags: Vec<&str> = FLAG_NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| c.flags & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect();
    reply_flags(ctx, &flags);
    ctx.reply.int(c.first_key as i64);
    ctx.reply.int(c.last_key as i64);
    ctx.reply.int(c.key_step as i64);
    let cats: Vec<String> = c.acl.iter().map(|a| format!("@{a}")).collect();
    ctx.reply.set_len(cats.len());
    for a in &cats {
        ctx.reply.simple(a);
    }
    ctx.reply.set_len(c.tips.len());
    for t in c.tips {
        ctx.reply.bulk(t.as_bytes());
    }
    reply_key_specs(ctx, c.key_specs);
    if c.subcommands.is_empty() {
        ctx.reply.set_len(0);
    } else {
        ctx.reply.array_len(c.subcommands.len());
        for s in c.subcommands {
            reply_command_info(ctx, s);
        }
    }
}

fn reply_args(ctx: &mut Ctx<'_>, list: &[ArgDoc]) {
    ctx.reply.array_len(list.len());
    for a in list {
        let n = 2
            + (a.key_spec_index >= 0) as usize
            + a.token.is_some() as usize
            + a.summary.is_some() as usize
            + a.since.is_some() as usize
            + a.deprecated_since.is_some() as usize
            + (a.flags != 0) as usize
            + (!a.args.is_empty()) as usize;
        let r = &mut *ctx.reply;
        r.map_len(n);
        r.bulk(b"name");
        r.bulk(a.name.as_bytes());
        r.bulk(b"type");
        r.bulk(a.kind.name().as_bytes());
        if a.key_spec_index >= 0 {
            r.bulk(b"key_spec_index");
            r.int(a.key_spec_index as i64);
        }
        if let Some(t) = a.token {
            r.bulk(b"token");
            r.bulk(t.as_bytes());
        }
        if let Some(t) = a.summary {
            r.bulk(b"summary");
            r.bulk(t.as_bytes());
        }
        if let Some(t) = a.since {
            r.bulk(b"since");
            r.bulk(t.as_bytes());
        }
        if let Some(t) = a.deprecated_since {
            r.bulk(b"deprecated_since");
            r.bulk(t.as_bytes());
        }
        if a.flags != 0 {
            r.bulk(b"flags");
            let names: Vec<&str> = [
                (ARG_OPTIONAL, "optional"),
                (ARG_MULTIPLE, "multiple"),
                (ARG_MULTIPLE_TOKEN, "multiple_token"),
            ]
            .iter()
            .filter(|(f, _)| a.flags & f != 0)
            .map(|(_, n)| *n)
            .collect();
            reply_flags(ctx, &names);
        }
        if !a.args.is_empty() {
            ctx.reply.bulk(b"arguments");
            reply_args(ctx, a.args);
        }
    }
}

/// One command's COMMAND DOCS map (Redis's `addReplyCommandDocs`).
fn reply_command_docs(ctx: &mut Ctx<'_>, c: &CommandSpec) {
    let n = 1
        + !c.summary.is_empty() as usize
        + !c.since.is_empty() as usize
        + !c.complexity.is_empty() as usize
        + !c.doc_flags.is_empty() as usize
        + c.deprecated_since.is_some() as usize
        + c.replaced_by.is_some() as usize
        + !c.history.is_empty() as usize
        + !c.args.is_empty() as usize
        + !c.subcommands.is_empty() as usize;
    let r = &mut *ctx.reply;
    r.map_len(n);
    if !c.summary.is_empty() {
        r.bulk(b"summary");
        r.bulk(c.summary.as_bytes());
    }
    if !c.since.is_empty() {
        r.bulk(b"since");
        r.bulk(c.since.as_bytes());
    }
    r.bulk(b"group");
    r.bulk(c.group.name().as_bytes());
    if !c.complexity.is_empty() {
        r.bulk(b"complexity");
        r.bulk(c.complexity.as_bytes());
    }
    if !c.doc_flags.is_empty() {
        r.bulk(b"doc_flags");
        reply_flags(ctx, c.doc_flags);
    }
    let r = &mut *ctx.reply;
    if let Some(d) = c.deprecated_since {
        r.bulk(b"deprecated_since");
        r.bulk(d.as_bytes());
    }
    if let Some(d) = c.replaced_by {
        r.bulk(b"replaced_by");
        r.bulk(d.as_bytes());
    }
    if !c.history.is_empty() {
        r.bulk(b"history");
        r.set_len(c.history.len());
        for (v, d) in c.history {
            r.array_len(2);
            r.bulk(v.as_bytes());
            r.bulk(d.as_bytes());
        }
    }
    if !c.args.is_empty() {
        ctx.reply.bulk(b"arguments");
        reply_args(ctx, c.args);
    }
    if !c.subcommands.is_empty() {
        ctx.reply.bulk(b"subcommands");
        ctx.reply.map_len(c.subcommands.len());
        for s in c.subcommands {
            ctx.reply.bulk(s.fullname.as_bytes());
            reply_command_docs(ctx, s);
        }
    }
}

/// `COMMAND`: every command's info.
pub fn command(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let all: Vec<&'static CommandSpec> = ctx.server().commands.top_level().collect();
    ctx.reply.array_len(all.len());
    for c in all {
        reply_command_info(ctx, c);
    }
    Ok(())
}

/// `COMMAND COUNT`.
pub fn command_count(ctx: &mut Ctx<'_>, _args: &Args<'_>) -> CmdResult {
    let n = ctx.server().commands.top_level().count();
    ctx.reply.int(n as i64);
    Ok(())
}

/// `COMMAND INFO [name ...]`.
pub fn command_info(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    if args.len() == 2 {
        return command(ctx, args);
    }
    ctx.reply.array_len(args.len() - 2);
    for a in args.iter_from(2) {
        match ctx.server().commands.find(a) {
            Some(c) => reply_command_info(ctx, c),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

/// `COMMAND DOCS [name ...]`.
pub fn command_docs(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    let list: Vec<&'static CommandSpec> = if args.len() == 2 {
        ctx.server().commands.top_level().collect()
    } else {
        args.iter_from(2)
            .filter_map(|a| ctx.server().commands.find(a))
            .collect()
    };
    ctx.reply.map_len(list.len());
    for c in list {
        ctx.reply.bulk(c.fullname.as_bytes());
        reply_command_docs(ctx, c);
    }
    Ok(())
}

/// `COMMAND LIST [FILTERBY MODULE name | ACLCAT cat | PATTERN pattern]`.
pub fn command_list(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    enum Filter<'a> {
        None,
        Module,
        AclCat(&'a [u8]),
        Pattern(&'a [u8]),
    }
    let mut filter = Filter::None;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if is(args.get(i), "FILTERBY") && more == 2 {
            let (kind, arg) = (args.get(i + 1), args.get(i + 2));
            filter = if is(kind, "MODULE") {
                Filter::Module
            } else if is(kind, "ACLCAT") {
                Filter::AclCat(arg)
            } else if is(kind, "PATTERN") {
                Filter::Pattern(arg)
            } else {
                return Err(CmdError::Syntax);
            };
            i += 3;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let names: Vec<&'static str> = ctx
        .server()
        .commands
        .iter()
        .map(|(_, c)| c)
        .filter(|c| match &filter {
            Filter::None => true,
            Filter::Module => false,
            Filter::AclCat(cat) => c.acl.iter().any(|a| cat.eq_ignore_ascii_case(a.as_bytes())),
            Filter::Pattern(p) => crate::util::glob::matches(p, c.fullname.as_bytes(), true),
        })
        .map(|c| c.fullname)
        .collect();
    ctx.reply.array_len(names.len());
    for n in names {
        ctx.reply.bulk(n.as_bytes());
    }
    Ok(())
}

/// Key positions of `argv` (a full command) by the command's key specs,
/// with each key's flags, as Redis's `getKeysUsingKeySpecs`. None when
/// the arguments do not fit the specs.
pub fn keys_by_specs(
    c: &CommandSpec,
    argv: &[&[u8]],
) -> Option<Vec<(usize, &'static [&'static str])>> {
    let argc = argv.len() as i64;
    let mut out = Vec::new();
    for ks in c.key_specs {
        if ks.flags.contains(&"not_key") {
            continue;
        }
        let first = match ks.begin {
            BeginSearch::Index(p) => p as i64,
            BeginSearch::Keyword(kw, from) => {
                let start = if from > 0 {
                    from as i64
                } else {
                    argc + from as i64
                };
                let end = if from > 0 { argc - 1 } else { 1 };
                let mut found = 0;
                let mut i = start;
                while i != end {
                    if i >= argc || i < 1 {
                        break;
                    }
                    if argv[i as usize].eq_ignore_ascii_case(kw.as_bytes()) {
                        found = i + 1;
                        break;
                    }
                    i = if start <= end { i + 1 } else { i - 1 };
                }
                if found == 0 {
                    continue;
                }
                found
            }
            BeginSearch::Unknown => return None,
        };
        let (first, last, step) = match ks.find {
            FindKeys::Range {
                lastkey,
                step,
                limit,
            } => {
                let last = if lastkey >= 0 {
                    first + lastkey as i64
                } else if limit == 0 {
                    argc + lastkey as i64
                } else {
                    first + ((argc - first) / limit as i64 + lastkey as i64)
                };
                (first, last, step as i64)
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                step,
            } => {
                let idx = first + keynumidx as i64;
                if idx >= argc {
                    return None;
                }
                let n = crate::util::num::parse_i64(argv[idx as usize]).filter(|n| *n >= 0)?;
                let f = first + firstkey as i64;
                (f, f + n - 1, step as i64)
            }
            FindKeys::Unknown => return None,
        };
        if last >= argc || last < first || first >= argc {
            return None;
        }
        let mut i = first;
        while i <= last {
            out.push((i as usize, ks.flags));
            i += step.max(1);
        }
        if ks.flags.contains(&"incomplete") {
            return None;
        }
    }
    Some(out)
}

fn getkeys(ctx: &mut Ctx<'_>, args: &Args<'_>, with_flags: bool) -> CmdResult {
    let argv: Vec<&[u8]> = args.iter_from(2).collect();
    let spec = ctx.server().commands.lookup(argv[0]).map(|id| {
        let top = ctx.server().commands.spec(id);
        if !top.subcommands.is_empty() && argv.len() >= 2 {
            ctx.server()
                .commands
                .lookup_sub(id, argv[1])
                .map(|s| ctx.server().commands.spec(s))
        } else {
            Some(top)
        }
    });
    let Some(Some(spec)) = spec else {
        return Err(CmdError::Static("ERR Invalid command specified"));
    };
    if spec.key_specs.is_empty() {
        return Err(CmdError::Static("ERR The command has no key arguments"));
    }
    if !spec.arity_ok(argv.len()) {
        return Err(CmdError::Static(
            "ERR Invalid number of arguments specified for command",
        ));
    }
    // SORT and SORT_RO have key-finding functions in Redis (their BY/GET
    // key spec is unknown): `sortGetKeys`, and `sortROGetKeys`, which gives
    // the sorted key alone.
    let keys = if spec.fullname == "sort" {
        Some(sort_keys(&argv))
    } else if spec.fullname == "sort_ro" {
        Some(vec![(1, &["RO", "access"][..])])
    } else if spec.fullname == "migrate" {
        super::migrate::migrate_keys(&argv)
    } else {
        keys_by_specs(spec, &argv)
    };
    let Some(keys) = keys else {
        if spec.has(super::spec::NO_MANDATORY_KEYS) {
            ctx.reply.array_len(0);
            return Ok(());
        }
        return Err(CmdError::Static(
            "ERR Invalid arguments specified for command",
        ));
    };
    ctx.reply.array_len(keys.len());
    for (pos, mut flags) in keys {
        if spec.fullname == "set" {
            // SET's key flags vary with GET (Redis's setGetKeys).
            let get = argv.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"GET"));
            flags = if get {
                &["RW", "access", "update"]
            } else {
                &["OW", "update"]
            };
        }
        if with_flags {
            ctx.reply.array_len(2);
            ctx.reply.bulk(argv[pos]);
            reply_flags(ctx, flags);
        } else {
            ctx.reply.bulk(argv[pos]);
        }
    }
    Ok(())
}

/// SORT's keys, as Redis's `sortGetKeys` finds them (its STORE key spec is
/// incomplete): the key, and the argument after the last STORE, skipping
/// LIMIT's two arguments and GET's and BY's one.
fn sort_keys(argv: &[&[u8]]) -> Vec<(usize, &'static [&'static str])> {
    let mut keys: Vec<(usize, &'static [&'static str])> = vec![(1, &["RO", "access"])];
    let mut store = None;
    let mut i = 2;
    while i < argv.len() {
        let a = argv[i];
        if a.eq_ignore_ascii_case(b"limit") {
            i += 2;
        } else if a.eq_ignore_ascii_case(b"get") || a.eq_ignore_ascii_case(b"by") {
            i += 1;
        } else if a.eq_ignore_ascii_case(b"store") && i + 1 < argv.len() {
            // Not skipped: the word after STORE is read as an option too.
            store = Some(i + 1);
        }
        i += 1;
    }
    if let Some(pos) = store {
        keys.push((pos, &["OW", "update"]));
    }
    keys
}

/// `COMMAND GETKEYS command [arg ...]`.
pub fn command_getkeys(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    getkeys(ctx, args, false)
}

/// `COMMAND GETKEYSANDFLAGS command [arg ...]`.
pub fn command_getkeysandflags(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    getkeys(ctx, args, true)
}

/// `COMMAND HELP`.
pub fn command_help(ctx: &mut Ctx<'_>, args: &Args<'_>) -> CmdResult {
    ctx.reply.help(
        &args::text(args.get(0)),
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    );
    Ok(())
}
