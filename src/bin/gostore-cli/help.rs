//! Command help, tab completion and argument hints, all built from the
//! server's `COMMAND DOCS` reply, the way redis-cli 7.2 builds them
//! (`cliInitCommandHelpEntries`, `cliInitGroupHelpEntries`, `makeHint`).
//!
//! Hints match what was typed against each argument's spec (tokens, types,
//! optional and repeated arguments) and show only what is still missing:
//! `SET k v ` hints `[NX|XX] [GET] [EX seconds|...]`. The last word is not
//! matched until a space follows it.
//!
//! Invariant: a malformed `COMMAND DOCS` reply only loses entries; nothing
//! here panics on server input.

use crate::resp::Reply;
use gostore::resp::split::split_args;

/// Argument types of `COMMAND DOCS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArgType {
    String,
    Integer,
    Double,
    Key,
    Pattern,
    UnixTime,
    PureToken,
    OneOf,
    Block,
}

/// One argument spec, with redis-cli's matching state.
#[derive(Debug, Clone)]
struct Arg {
    name: String,
    display: Option<String>,
    token: Option<String>,
    ty: ArgType,
    optional: bool,
    multiple: bool,
    multiple_token: bool,
    subargs: Vec<Arg>,
    matched: usize,
    matched_token: bool,
    matched_name: bool,
    matched_all: bool,
}

/// A help topic: a command (`GET`, `CONFIG GET`) or a group (`@string`).
#[derive(Debug, Clone)]
pub struct Entry {
    is_group: bool,
    /// Upper-case words of the name.
    argv: Vec<String>,
    /// The name as completed and sorted: `CONFIG GET`, `@hash`.
    pub full: String,
    summary: String,
    since: Option<String>,
    group: String,
    args: Option<Vec<Arg>>,
    params: String,
}

/// All help entries, sorted by name as redis-cli sorts them.
#[derive(Debug, Clone, Default)]
pub struct Help {
    pub entries: Vec<Entry>,
}

/// Key/value pairs of a map, or of a RESP2 array holding them flat.
fn pairs(r: &Reply) -> Vec<(&Reply, &Reply)> {
    match r {
        Reply::Map(m) => m.iter().map(|(k, v)| (k, v)).collect(),
        Reply::Array(v) => v.chunks_exact(2).map(|c| (&c[0], &c[1])).collect(),
        _ => Vec::new(),
    }
}

fn text(r: &Reply) -> Option<String> {
    r.as_bytes()
        .map(|b| String::from_utf8_lossy(b).into_owned())
}

fn parse_arg(r: &Reply) -> Arg {
    let mut a = Arg {
        name: String::new(),
        display: None,
        token: None,
        ty: ArgType::String,
        optional: false,
        multiple: false,
        multiple_token: false,
        subargs: Vec::new(),
        matched: 0,
        matched_token: false,
        matched_name: false,
        matched_all: false,
    };
    for (k, v) in pairs(r) {
        match k.as_bytes().unwrap_or_default() {
            b"name" => a.name = text(v).unwrap_or_default(),
            b"display_text" => a.display = text(v),
            b"token" => a.token = text(v),
            b"type" => {
                a.ty = match text(v).as_deref().unwrap_or_default() {
                    "integer" => ArgType::Integer,
                    "double" => ArgType::Double,
                    "key" => ArgType::Key,
                    "pattern" => ArgType::Pattern,
                    "unix-time" => ArgType::UnixTime,
                    "pure-token" => ArgType::PureToken,
                    "oneof" => ArgType::OneOf,
                    "block" => ArgType::Block,
                    _ => ArgType::String,
                }
            }
            b"arguments" => {
                a.subargs = v
                    .elements()
                    .unwrap_or_default()
                    .into_iter()
                    .map(parse_arg)
                    .collect()
            }
            b"flags" => {
                for f in v.elements().unwrap_or_default() {
                    match f.as_bytes().unwrap_or_default() {
                        b"optional" => a.optional = true,
                        b"multiple" => a.multiple = true,
                        b"multiple_token" => a.multiple_token = true,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    a
}

impl Help {
    /// Builds the entries from a `COMMAND DOCS` reply (RESP2 or RESP3).
    pub fn from_docs(docs: &Reply) -> Help {
        let mut entries = Vec::new();
        let mut groups: Vec<String> = Vec::new();
        for (name, specs) in pairs(docs) {
            if let Some(name) = text(name) {
                add_command(&mut entries, &mut groups, &name, None, specs);
            }
        }
        for g in groups {
            entries.push(Entry {
                is_group: true,
                argv: vec![format!("@{g}")],
                full: format!("@{g}"),
                summary: String::new(),
                since: None,
                group: String::new(),
                args: None,
                params: String::new(),
            });
        }
        entries.sort_by(|a, b| a.full.as_bytes().cmp(b.full.as_bytes()));
        Help { entries }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Completions for the whole line `buf`, as redis-cli's
    /// `completionCallback`: full command names, and groups after `help `.
    pub fn complete(&self, buf: &str) -> Vec<String> {
        let (start, groups_too) =
            if buf.len() >= 5 && buf.as_bytes()[..5].eq_ignore_ascii_case(b"help ") {
                let rest = &buf[5..];
                (5 + (rest.len() - rest.trim_start().len()), true)
            } else {
                (0, false)
            };
        let typed = &buf[start..];
        self.entries
            .iter()
            .filter(|e| groups_too || !e.is_group)
            .filter(|e| {
                e.full.len() >= typed.len()
                    && e.full.as_bytes()[..typed.len()].eq_ignore_ascii_case(typed.as_bytes())
            })
            .map(|e| format!("{}{}", &buf[..start], e.full))
            .collect()
    }

    /// The command entry matching the most leading words of `argv`.
    fn find(&self, argv: &[Vec<u8>]) -> Option<&Entry> {
        let mut best: Option<&Entry> = None;
        for e in self.entries.iter().filter(|e| !e.is_group) {
            if e.argv.len() > argv.len() || best.is_some_and(|b| b.argv.len() >= e.argv.len()) {
                continue;
            }
            if e.argv
                .iter()
                .zip(argv)
                .all(|(w, a)| w.as_bytes().eq_ignore_ascii_case(a))
            {
                best = Some(e);
            }
        }
        best
    }

    /// The hint for the line being typed (redis-cli 7.2's `hintsCallback`),
    /// with a leading space when the line does not end in one.
    pub fn hint(&self, buf: &str) -> Option<String> {
        let argv = split_args(buf.as_bytes());
        let end_space = buf
            .as_bytes()
            .last()
            .is_some_and(|c| c.is_ascii_whitespace());
        let argv = argv.unwrap_or_default();
        let match_argc = if end_space {
            argv.len()
        } else {
            argv.len().checked_sub(1)?
        };
        let entry = self.find(&argv[..match_argc])?;
        let hint = make_hint(&argv[..match_argc], entry.argv.len(), entry);
        Some(if end_space { hint } else { format!(" {hint}") })
    }

    /// `help`, `help <command...>` or `help @<group>`, as redis-cli prints it.
    /// A topic with no entry says so, where redis-cli prints a blank line.
    pub fn output(&self, argv: &[Vec<u8>]) -> Vec<u8> {
        let Some(first) = argv.first() else {
            return generic_help().into_bytes();
        };
        if self.is_empty() {
            return b"\r\n  No help: the server could not be reached, or did not answer COMMAND DOCS\r\n\r\n"
                .to_vec();
        }
        let group = first.strip_prefix(b"@");
        let mut out = String::new();
        for e in self.entries.iter().filter(|e| !e.is_group) {
            match group {
                None => {
                    let words_match = argv.len() <= e.argv.len()
                        && argv
                            .iter()
                            .zip(&e.argv)
                            .all(|(a, w)| a.eq_ignore_ascii_case(w.as_bytes()));
                    if words_match {
                        command_help(&mut out, e, true);
                    }
                }
                Some(g) if g.eq_ignore_ascii_case(e.group.as_bytes()) => {
                    command_help(&mut out, e, false)
                }
                Some(_) => {}
            }
        }
        if out.is_empty() {
            let topic = argv
                .iter()
                .map(|w| String::from_utf8_lossy(w))
                .collect::<Vec<_>>()
                .join(" ");
            let what = if group.is_some() {
                "command group"
            } else {
                "command"
            };
            out.push_str(&format!(
                "\r\n  No help for '{topic}': the server has no such {what}\r\n"
            ));
        }
        out.push_str("\r\n");
        out.into_bytes()
    }
}

fn add_command(
    entries: &mut Vec<Entry>,
    groups: &mut Vec<String>,
    cmd: &str,
    sub: Option<&str>,
    specs: &Reply,
) {
    let mut argv = vec![cmd.to_ascii_uppercase()];
    if let Some(sub) = sub {
        let word = sub.split_once('|').map_or(sub, |(_, w)| w);
        argv.push(word.to_ascii_uppercase());
    }
    let mut e = Entry {
        is_group: false,
        full: argv.join(" "),
        argv,
        summary: String::new(),
        since: None,
        group: String::new(),
        args: None,
        params: String::new(),
    };
    let mut subcommands = Vec::new();
    for (k, v) in pairs(specs) {
        match k.as_bytes().unwrap_or_default() {
            b"summary" => e.summary = text(v).unwrap_or_default(),
            b"since" => e.since = text(v),
            b"group" => {
                e.group = text(v).unwrap_or_default();
                if !groups.contains(&e.group) {
                    groups.push(e.group.clone());
                }
            }
            b"arguments" => {
                let args: Vec<Arg> = v
                    .elements()
                    .unwrap_or_default()
                    .into_iter()
                    .map(parse_arg)
                    .collect();
                e.params = add_hint_for_arguments(String::new(), &mut args.clone(), " ");
                e.args = Some(args);
            }
            b"subcommands" => subcommands.extend(pairs(v)),
            _ => {}
        }
    }
    entries.push(e);
    for (name, spec) in subcommands {
        if let Some(name) = text(name) {
            add_command(entries, groups, cmd, Some(&name), spec);
        }
    }
}

fn command_help(out: &mut String, e: &Entry, with_group: bool) {
    out.push_str(&format!(
        "\r\n  \x1b[1m{}\x1b[0m \x1b[90m{}\x1b[0m\r\n",
        e.full, e.params
    ));
    out.push_str(&format!("  \x1b[33msummary:\x1b[0m {}\r\n", e.summary));
    if let Some(since) = &e.since {
        out.push_str(&format!("  \x1b[33msince:\x1b[0m {since}\r\n"));
    }
    if with_group {
        out.push_str(&format!("  \x1b[33mgroup:\x1b[0m {}\r\n", e.group));
    }
}

fn generic_help() -> String {
    format!(
        "gostore-cli {}\n\
         To get help about commands type:\n      \
         \"help @<group>\" to get a list of commands in <group>\n      \
         \"help <command>\" for help on <command>\n      \
         \"help <tab>\" to get a list of possible help topics\n      \
         \"quit\" to exit\n\
         \n\
         To set gostore-cli preferences:\n      \
         \":set hints\" enable online hints\n      \
         \":set nohints\" disable online hints\n\
         Set your preferences in ~/.gostoreclirc\n",
        crate::VERSION
    )
}

/// redis-cli's `makeHint`: the still-missing arguments after `words`.
fn make_hint(words: &[Vec<u8>], cmdlen: usize, e: &Entry) -> String {
    let Some(args) = &e.args else {
        return if words.len() <= cmdlen {
            e.params.clone()
        } else {
            String::new()
        };
    };
    let mut args = args.clone();
    let rest = words.get(cmdlen..).unwrap_or_default();
    let matched = if rest.is_empty() {
        0
    } else {
        match_args(rest, &mut args)
    };
    if matched == rest.len() {
        add_hint_for_arguments(String::new(), &mut args, " ")
    } else {
        String::new()
    }
}

fn clear_matched(a: &mut Arg) {
    a.matched = 0;
    a.matched_token = false;
    a.matched_name = false;
    a.matched_all = false;
    a.subargs.iter_mut().for_each(clear_matched);
}

/// `sscanf("%lld")` succeeds: optional blanks and sign, then a digit.
fn scans_integer(w: &[u8]) -> bool {
    let w = &w[w.iter().take_while(|c| c.is_ascii_whitespace()).count()..];
    let w = w
        .strip_prefix(b"-")
        .or_else(|| w.strip_prefix(b"+"))
        .unwrap_or(w);
    w.first().is_some_and(u8::is_ascii_digit)
}

/// `sscanf("%lf")` succeeds: a number, `inf` or `nan` starts the word.
fn scans_double(w: &[u8]) -> bool {
    let w = &w[w.iter().take_while(|c| c.is_ascii_whitespace()).count()..];
    let w = w
        .strip_prefix(b"-")
        .or_else(|| w.strip_prefix(b"+"))
        .unwrap_or(w);
    match w {
        [d, ..] if d.is_ascii_digit() => true,
        [b'.', d, ..] if d.is_ascii_digit() => true,
        _ => {
            let lower = w.to_ascii_lowercase();
            lower.starts_with(b"inf") || lower.starts_with(b"nan")
        }
    }
}

fn match_no_token_arg(words: &[Vec<u8>], a: &mut Arg) -> usize {
    match a.ty {
        ArgType::Block => {
            a.matched += match_args(words, &mut a.subargs);
            a.matched_all = a.subargs.iter().all(|s| s.matched_all);
        }
        ArgType::OneOf => {
            for s in a.subargs.iter_mut() {
                if match_arg(words, s) != 0 {
                    a.matched += s.matched;
                    a.matched_all = s.matched_all;
                    break;
                }
            }
        }
        ArgType::Integer | ArgType::UnixTime | ArgType::Double => {
            let ok = words.first().is_some_and(|w| {
                if a.ty == ArgType::Double {
                    scans_double(w)
                } else {
                    scans_integer(w)
                }
            });
            if ok {
                a.matched += 1;
                a.matched_name = true;
                a.matched_all = true;
            } else {
                a.matched = 0;
                a.matched_name = false;
            }
        }
        _ => {
            a.matched += 1;
            a.matched_name = true;
            a.matched_all = true;
        }
    }
    a.matched
}

fn match_arg_once(words: &[Vec<u8>], a: &mut Arg) -> usize {
    let mut words = words;
    if let Some(token) = &a.token {
        match words.first() {
            Some(w) if w.eq_ignore_ascii_case(token.as_bytes()) => {}
            _ => return 0,
        }
        a.matched_token = true;
        a.matched = 1;
        if a.ty == ArgType::PureToken {
            a.matched_all = true;
            return 1;
        }
        if words.len() == 1 {
            return 1;
        }
        words = &words[1..];
    }
    if match_no_token_arg(words, a) == 0 {
        return 0;
    }
    a.matched
}

fn match_arg(words: &[Vec<u8>], a: &mut Arg) -> usize {
    let once = match_arg_once(words, a);
    if !a.multiple {
        return once;
    }
    let mut n = once;
    while a.matched_all && n < words.len() {
        clear_matched(a);
        let more = if a.token.is_some() && !a.multiple_token {
            let m = match_no_token_arg(&words[n..], a);
            if a.matched > 0 {
                a.matched_token = true;
            }
            m
        } else {
            match_arg_once(&words[n..], a)
        };
        if more == 0 {
            break;
        }
        n += more;
    }
    a.matched_all = false;
    n
}

fn match_one_optional_arg(words: &[Vec<u8>], args: &mut [Arg]) -> Option<(usize, usize)> {
    if words.is_empty() {
        return None;
    }
    for (i, a) in args.iter_mut().enumerate() {
        if a.matched > 0 {
            continue;
        }
        let n = match_arg(words, a);
        if n != 0 {
            return Some((n, i));
        }
    }
    None
}

fn match_optional_args(words: &[Vec<u8>], args: &mut [Arg]) -> usize {
    let mut next = 0;
    let mut last: Option<usize> = None;
    while next < words.len() {
        let Some((n, which)) = match_one_optional_arg(&words[next..], args) else {
            break;
        };
        if let Some(prev) = last {
            args[prev].matched_all = true;
        }
        last = Some(which);
        next += n;
    }
    next
}

fn match_args(words: &[Vec<u8>], args: &mut [Arg]) -> usize {
    let mut next_word = 0;
    let mut next_arg = 0;
    while next_word < words.len() && next_arg < args.len() {
        let n = if args[next_arg].optional {
            let last_optional = args[next_arg..]
                .iter()
                .position(|a| !a.optional)
                .map_or(args.len(), |p| next_arg + p);
            let n = match_optional_args(&words[next_word..], &mut args[next_arg..last_optional]);
            next_arg = last_optional;
            n
        } else {
            let n = match_arg(&words[next_word..], &mut args[next_arg]);
            if n == 0 {
                return 0;
            }
            next_arg += 1;
            n
        };
        next_word += n;
    }
    next_word
}

fn cat_or_empty(hint: &mut String, s: &str) {
    hint.push_str(if s.is_empty() { "\"\"" } else { s });
}

fn add_separator(hint: &mut String, len: &mut usize, sep: &str, is_last: bool) {
    if hint.len() > *len && !is_last {
        hint.push_str(sep);
        *len = hint.len();
    }
}

fn add_hint_for_arguments(mut hint: String, args: &mut [Arg], sep: &str) -> String {
    let mut len = hint.len();
    let n = args.len();
    let mut i = 0;
    while i < n {
        if !args[i].optional {
            hint = add_hint_for_argument(hint, &mut args[i]);
            add_separator(&mut hint, &mut len, sep, i == n - 1);
            i += 1;
            continue;
        }
        // A run of optional arguments may come in any order: first what the
        // user has started typing, then the rest of the run.
        let mut j = i;
        let mut incomplete = None;
        while j < n && args[j].optional {
            if args[j].matched != 0 && !args[j].matched_all {
                hint = add_hint_for_argument(hint, &mut args[j]);
                add_separator(&mut hint, &mut len, sep, i == n - 1);
                incomplete = Some(j);
            }
            j += 1;
        }
        if j == n || args[j].matched == 0 {
            while i < j {
                if incomplete != Some(i) {
                    hint = add_hint_for_argument(hint, &mut args[i]);
                    add_separator(&mut hint, &mut len, sep, i == n - 1);
                }
                i += 1;
            }
        }
        i = j;
    }
    hint
}

fn add_hint_for_repeated_argument(mut hint: String, a: &mut Arg) -> String {
    if !a.multiple {
        return hint;
    }
    clear_matched(a);
    if !hint.is_empty() {
        hint.push(' ');
    }
    hint.push('[');
    if a.multiple_token {
        cat_or_empty(&mut hint, a.token.as_deref().unwrap_or_default());
        if a.ty != ArgType::PureToken {
            hint.push(' ');
        }
    }
    hint = match a.ty {
        ArgType::OneOf => add_hint_for_arguments(hint, &mut a.subargs, "|"),
        ArgType::Block => add_hint_for_arguments(hint, &mut a.subargs, " "),
        ArgType::PureToken => hint,
        _ => {
            cat_or_empty(&mut hint, a.display.as_deref().unwrap_or(&a.name));
            hint
        }
    };
    hint.push_str(" ...]");
    hint
}

fn add_hint_for_argument(mut hint: String, a: &mut Arg) -> String {
    if a.matched_all {
        return hint;
    }
    let bracket = a.optional && a.matched == 0;
    if bracket {
        hint.push('[');
    }
    if let Some(token) = &a.token {
        if !a.matched_token {
            cat_or_empty(&mut hint, token);
            if a.ty != ArgType::PureToken {
                hint.push(' ');
            }
        }
    }
    match a.ty {
        ArgType::OneOf => {
            if a.matched == 0 {
                hint = add_hint_for_arguments(hint, &mut a.subargs, "|");
            } else {
                for s in a.subargs.iter_mut() {
                    if s.matched != 0 {
                        hint = add_hint_for_argument(hint, s);
                    }
                }
            }
        }
        ArgType::Block => hint = add_hint_for_arguments(hint, &mut a.subargs, " "),
        ArgType::PureToken => {}
        _ => {
            if !a.matched_name {
                cat_or_empty(&mut hint, a.display.as_deref().unwrap_or(&a.name));
            }
        }
    }
    hint = add_hint_for_repeated_argument(hint, a);
    if bracket {
        hint.push(']');
    }
    hint
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Reply {
        Reply::Bulk(s.as_bytes().to_vec())
    }

    fn arg(name: &str, ty: &str, token: Option<&str>, flags: &[&str], sub: Vec<Reply>) -> Reply {
        let mut m = vec![(b("name"), b(name)), (b("type"), b(ty))];
        if let Some(t) = token {
            m.push((b("token"), b(t)));
        }
        if !flags.is_empty() {
            m.push((
                b("flags"),
                Reply::Set(
                    flags
                        .iter()
                        .map(|f| Reply::Status(f.as_bytes().to_vec()))
                        .collect(),
                ),
            ));
        }
        if !sub.is_empty() {
            m.push((b("arguments"), Reply::Array(sub)));
        }
        Reply::Map(m)
    }

    /// SET and GET as Redis 7.0's COMMAND DOCS describes them, plus a
    /// MULTI without arguments.
    fn docs() -> Help {
        let set_args = vec![
            arg("key", "key", None, &[], vec![]),
            arg("value", "string", None, &[], vec![]),
            arg(
                "condition",
                "oneof",
                None,
                &["optional"],
                vec![
                    arg("nx", "pure-token", Some("NX"), &[], vec![]),
                    arg("xx", "pure-token", Some("XX"), &[], vec![]),
                ],
            ),
            arg("get", "pure-token", Some("GET"), &["optional"], vec![]),
            arg(
                "expiration",
                "oneof",
                None,
                &["optional"],
                vec![
                    arg("seconds", "integer", Some("EX"), &[], vec![]),
                    arg("milliseconds", "integer", Some("PX"), &[], vec![]),
                    arg("keepttl", "pure-token", Some("KEEPTTL"), &[], vec![]),
                ],
            ),
        ];
        let mset_args = vec![arg(
            "key_value",
            "block",
            None,
            &["multiple"],
            vec![
                arg("key", "key", None, &[], vec![]),
                arg("value", "string", None, &[], vec![]),
            ],
        )];
        let spec = |group: &str, args: Vec<Reply>| {
            let mut m = vec![
                (b("summary"), b("s")),
                (b("since"), b("1.0.0")),
                (b("group"), b(group)),
            ];
            if !args.is_empty() {
                m.push((b("arguments"), Reply::Array(args)));
            }
            Reply::Map(m)
        };
        let config_sub = Reply::Map(vec![(
            b("config|get"),
            spec(
                "server",
                vec![arg("parameter", "string", None, &["multiple"], vec![])],
            ),
        )]);
        let mut config = spec("server", vec![]);
        if let Reply::Map(m) = &mut config {
            m.push((b("subcommands"), config_sub));
        }
        Help::from_docs(&Reply::Map(vec![
            (b("set"), spec("string", set_args)),
            (b("mset"), spec("string", mset_args)),
            (b("multi"), spec("transactions", vec![])),
            (b("config"), config),
        ]))
    }

    #[test]
    fn full_hint_lists_every_argument() {
        let h = docs();
        assert_eq!(
            h.hint("set ").unwrap(),
            "key value [NX|XX] [GET] [EX seconds|PX milliseconds|KEEPTTL]"
        );
        assert_eq!(h.hint("mset ").unwrap(), "key value [key value ...]");
    }

    #[test]
    fn typed_arguments_drop_out_of_the_hint() {
        let h = docs();
        assert_eq!(
            h.hint("set k v ").unwrap(),
            "[NX|XX] [GET] [EX seconds|PX milliseconds|KEEPTTL]"
        );
        assert_eq!(
            h.hint("set k v nx ").unwrap(),
            "[GET] [EX seconds|PX milliseconds|KEEPTTL]"
        );
        assert_eq!(h.hint("set k v ex ").unwrap(), "seconds [NX|XX] [GET] ");
        // Like redis-cli 7.2, a separator may trail when the last run is done.
        assert_eq!(h.hint("set k v ex 10 ").unwrap(), "[NX|XX] [GET] ");
        assert_eq!(
            h.hint("set k").unwrap(),
            " key value [NX|XX] [GET] [EX seconds|PX milliseconds|KEEPTTL]"
        );
    }

    #[test]
    fn the_last_word_needs_a_space_before_it_is_matched() {
        let h = docs();
        assert_eq!(h.hint("set"), None);
        assert_eq!(h.hint("config get ").unwrap(), "parameter [parameter ...]");
        assert_eq!(h.hint("multi ").unwrap(), "");
    }

    #[test]
    fn completion_offers_full_names_and_groups_after_help() {
        let h = docs();
        assert_eq!(h.complete("con"), ["CONFIG", "CONFIG GET"]);
        assert_eq!(h.complete("help @s"), ["help @server", "help @string"]);
        assert_eq!(h.complete("m"), ["MSET", "MULTI"]);
    }

    #[test]
    fn help_for_a_command_shows_its_subcommands_and_group() {
        let out = String::from_utf8(docs().output(&[b"config".to_vec()])).unwrap();
        assert!(
            out.contains("\x1b[1mCONFIG GET\x1b[0m \x1b[90mparameter [parameter ...]\x1b[0m"),
            "{out}"
        );
        assert!(out.contains("\x1b[33mgroup:\x1b[0m server"));
        let by_group = String::from_utf8(docs().output(&[b"@string".to_vec()])).unwrap();
        assert!(
            by_group.contains("MSET") && by_group.contains("SET") && !by_group.contains("group:")
        );
    }

    #[test]
    fn help_for_an_unknown_topic_says_so() {
        let out = |argv: &[&str]| {
            let argv: Vec<Vec<u8>> = argv.iter().map(|w| w.as_bytes().to_vec()).collect();
            String::from_utf8(docs().output(&argv)).unwrap()
        };
        assert_eq!(
            out(&["nosuchcmd"]),
            "\r\n  No help for 'nosuchcmd': the server has no such command\r\n\r\n"
        );
        assert_eq!(
            out(&["config", "nosuch"]),
            "\r\n  No help for 'config nosuch': the server has no such command\r\n\r\n"
        );
        assert_eq!(
            out(&["@nosuchgroup"]),
            "\r\n  No help for '@nosuchgroup': the server has no such command group\r\n\r\n"
        );
        let none = String::from_utf8(Help::default().output(&[b"get".to_vec()])).unwrap();
        assert!(
            none.contains("No help: the server could not be reached"),
            "{none}"
        );
    }
}
