//! The interactive loop (redis-cli's `repl`): prompt, line editing and
//! history through rustyline, completion and grey hints from `COMMAND DOCS`,
//! `N COMMAND` repeats, `help`, `clear`, `connect`, `:set hints`,
//! `quit`/`exit`. Ctrl-C or Ctrl-D at the prompt exits with status 0.
//!
//! When stdin is not a terminal, lines are read plainly, with no prompt and
//! no history, as linenoise does.

use std::borrow::Cow;
use std::io::BufRead;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Instant;

use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::{Hint, Hinter};
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config as EditorConfig, Context, Editor, Helper};

use crate::format::OutputMode;
use crate::help::Help;
use crate::out::{isatty, out_str};
use crate::session::Session;
use crate::signals;
use gostore::resp::split::split_args;

/// History file override (redis-cli's `REDISCLI_HISTFILE`).
pub const HISTFILE_ENV: &str = "GOSTORECLI_HISTFILE";
const HISTFILE_DEFAULT: &str = ".gostorecli_history";
/// Preferences file override (redis-cli's `REDISCLI_RCFILE`).
pub const RCFILE_ENV: &str = "GOSTORECLI_RCFILE";
const RCFILE_DEFAULT: &str = ".gostoreclirc";

/// A hint shown in grey; unlike rustyline's default it is never inserted
/// into the line by the right arrow, as in linenoise.
pub struct GreyHint(String);

impl Hint for GreyHint {
    fn display(&self) -> &str {
        &self.0
    }

    fn completion(&self) -> Option<&str> {
        None
    }
}

/// Completion and hints for the line editor.
pub struct CliHelper {
    help: Rc<Help>,
    hints: bool,
}

impl Completer for CliHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let typed = line.get(..pos).unwrap_or(line);
        Ok((0, self.help.complete(typed)))
    }
}

impl Hinter for CliHelper {
    type Hint = GreyHint;

    fn hint(&self, line: &str, _pos: usize, _ctx: &Context<'_>) -> Option<GreyHint> {
        if !self.hints {
            return None;
        }
        self.help.hint(line).filter(|h| !h.is_empty()).map(GreyHint)
    }
}

impl Highlighter for CliHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("\x1b[0;90;49m{hint}\x1b[0m"))
    }
}

impl Validator for CliHelper {}

impl Helper for CliHelper {}

/// `$ENV` if set (None for /dev/null), else `$HOME/<default>`.
fn dotfile(env: &str, default: &str) -> Option<PathBuf> {
    match std::env::var_os(env) {
        Some(p) if !p.is_empty() => (p != "/dev/null").then(|| PathBuf::from(p)),
        _ => std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(default)),
    }
}

/// Commands kept out of history: redis-cli's `isSensitiveCommand`.
fn is_sensitive(argv: &[Vec<u8>]) -> bool {
    let is = |i: usize, s: &str| {
        argv.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(s.as_bytes()))
    };
    let n = argv.len();
    if is(0, "auth") {
        return true;
    }
    if n > 1 && is(0, "acl") && is(1, "setuser") {
        return true;
    }
    if n > 2
        && is(0, "config")
        && is(1, "set")
        && (is(2, "masterauth") || is(2, "masteruser") || is(2, "requirepass"))
    {
        return true;
    }
    if n > 4 && is(0, "hello") {
        let mut j = 2;
        while j < n {
            let more = n - 1 - j;
            if is(j, "auth") && more >= 2 {
                return true;
            } else if is(j, "setname") && more > 0 {
                j += 1;
            } else {
                return false;
            }
            j += 1;
        }
    }
    if n > 7 && is(0, "migrate") {
        for j in 6..n {
            let more = n - 1 - j;
            if (is(j, "auth") && more > 0) || (is(j, "auth2") && more >= 2) {
                return true;
            } else if is(j, "keys") && more > 0 {
                return false;
            }
        }
    }
    false
}

/// `strtol(word)` consumed the whole word: `Some(n)`; `n` may be invalid.
fn repeat_count(word: &[u8]) -> Option<Option<i64>> {
    let digits = word
        .strip_prefix(b"-")
        .or_else(|| word.strip_prefix(b"+"))
        .unwrap_or(word);
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = std::str::from_utf8(word)
        .ok()
        .and_then(|s| s.parse::<i64>().ok());
    Some(n.filter(|&n| n > 0))
}

/// Where lines come from: the editor on a terminal, plain stdin otherwise.
enum Input {
    Editor(Box<Editor<CliHelper, DefaultHistory>>, Option<PathBuf>),
    Plain(std::io::StdinLock<'static>),
}

impl Input {
    /// The next line; `None` ends the session.
    fn read(&mut self, prompt: &str) -> Option<Vec<u8>> {
        match self {
            Input::Editor(rl, _) => rl.readline(prompt).ok().map(String::into_bytes),
            Input::Plain(stdin) => {
                let mut line = Vec::new();
                match stdin.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => None,
                    Ok(_) => {
                        if line.last() == Some(&b'\n') {
                            line.pop();
                        }
                        Some(line)
                    }
                }
            }
        }
    }

    fn remember(&mut self, line: &[u8]) {
        if let Input::Editor(rl, file) = self {
            let _ = rl.add_history_entry(String::from_utf8_lossy(line).into_owned());
            if let Some(f) = file {
                let _ = rl.save_history(f);
            }
        }
    }

    fn share_help(&mut self, help: &Rc<Help>) {
        if let Input::Editor(rl, _) = self {
            if let Some(h) = rl.helper_mut() {
                if !Rc::ptr_eq(&h.help, help) {
                    h.help = Rc::clone(help);
                }
            }
        }
    }

    fn set_hints(&mut self, on: bool) {
        if let Input::Editor(rl, _) = self {
            if let Some(h) = rl.helper_mut() {
                h.hints = on;
            }
        }
    }

    fn clear_screen(&mut self) {
        match self {
            Input::Editor(rl, _) => {
                let _ = rl.clear_screen();
            }
            Input::Plain(_) => out_str("\x1b[H\x1b[2J"),
        }
    }
}

fn editor_config() -> rustyline::Result<EditorConfig> {
    Ok(EditorConfig::builder()
        .completion_type(CompletionType::Circular)
        .auto_add_history(false)
        .max_history_size(100)?
        .history_ignore_dups(true)?
        .build())
}

fn open_input(help: &Rc<Help>) -> Input {
    if !isatty(0) {
        return Input::Plain(std::io::stdin().lock());
    }
    let config = editor_config().unwrap_or_default();
    let mut rl = match Editor::<CliHelper, DefaultHistory>::with_config(config) {
        Ok(rl) => rl,
        Err(_) => return Input::Plain(std::io::stdin().lock()),
    };
    rl.set_helper(Some(CliHelper {
        help: Rc::clone(help),
        hints: true,
    }));
    let file = dotfile(HISTFILE_ENV, HISTFILE_DEFAULT);
    if let Some(f) = &file {
        let _ = rl.load_history(f);
    }
    Input::Editor(Box::new(rl), file)
}

/// `:set hints` / `:set nohints`, typed or read from the rc file.
fn set_preference(input: &mut Input, argv: &[Vec<u8>], interactive: bool) {
    let origin = if interactive { "" } else { ".gostoreclirc: " };
    let first = String::from_utf8_lossy(&argv[0]).into_owned();
    if first.eq_ignore_ascii_case(":set") && argv.len() >= 2 {
        match argv[1].to_ascii_lowercase().as_slice() {
            b"hints" => input.set_hints(true),
            b"nohints" => input.set_hints(false),
            other => out_str(&format!(
                "{origin}unknown gostore-cli preference '{}'\n",
                String::from_utf8_lossy(other)
            )),
        }
    } else {
        out_str(&format!(
            "{origin}unknown gostore-cli internal command '{first}'\n"
        ));
    }
}

fn load_preferences(input: &mut Input) {
    let Some(path) = dotfile(RCFILE_ENV, RCFILE_DEFAULT) else {
        return;
    };
    let Ok(text) = std::fs::read(path) else {
        return;
    };
    for line in text.split(|&b| b == b'\n') {
        if let Some(argv) = split_args(line) {
            if !argv.is_empty() {
                set_preference(input, &argv, false);
            }
        }
    }
}

/// Runs the REPL until `quit`, Ctrl-C or Ctrl-D; never returns.
pub fn run(mut session: Session) -> ! {
    session.interactive = true;
    signals::install_repl_handlers();
    let _ = session.connect(false);
    let mut input = open_input(&session.help);
    if matches!(input, Input::Editor(..)) {
        load_preferences(&mut input);
    }
    loop {
        input.share_help(&session.help);
        let Some(line) = input.read(&session.prompt()) else {
            std::process::exit(0);
        };
        if line.is_empty() {
            continue;
        }
        let Some(argv) = split_args(&line) else {
            out_str("Invalid argument(s)\n");
            input.remember(&line);
            continue;
        };
        if argv.is_empty() {
            continue;
        }
        let (repeat, skip) = match repeat_count(&argv[0]) {
            Some(Some(n)) if argv.len() > 1 => (n, 1),
            Some(None) if argv.len() > 1 => {
                out_str("Invalid gostore-cli repeat command option value.\n");
                continue;
            }
            _ => (1, 0),
        };
        let argv = &argv[skip..];
        if !is_sensitive(argv) {
            input.remember(&line);
        }
        let cmd = argv[0].to_ascii_lowercase();
        if cmd == b"quit" || cmd == b"exit" {
            std::process::exit(0);
        } else if cmd.first() == Some(&b':') {
            set_preference(&mut input, argv, true);
        } else if cmd == b"restart" {
            out_str("Use 'restart' only in Lua debugging mode.\n");
        } else if argv.len() == 3 && cmd == b"connect" {
            session.cfg.host = String::from_utf8_lossy(&argv[1]).into_owned();
            session.cfg.port = crate::args::atoi(&argv[2]);
            session.cfg.socket = None;
            let _ = session.connect(false);
        } else if argv.len() == 1 && cmd == b"clear" {
            input.clear_screen();
        } else {
            let start = Instant::now();
            let _ = session.issue(argv, repeat);
            let elapsed = start.elapsed().as_secs_f64();
            if elapsed >= 0.5 && session.cfg.output == OutputMode::Standard {
                out_str(&format!("({elapsed:.2}s)\n"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<Vec<u8>> {
        split_args(s.as_bytes()).unwrap_or_default()
    }

    #[test]
    fn secrets_stay_out_of_history() {
        assert!(is_sensitive(&words("auth pw")));
        assert!(is_sensitive(&words("config set requirepass x")));
        assert!(is_sensitive(&words("hello 3 setname n auth u p")));
        assert!(!is_sensitive(&words("hello 3 setname n")));
        assert!(!is_sensitive(&words("get auth")));
    }

    #[test]
    fn a_leading_number_is_a_repeat_count() {
        assert_eq!(repeat_count(b"3"), Some(Some(3)));
        assert_eq!(repeat_count(b"0"), Some(None));
        assert_eq!(repeat_count(b"-2"), Some(None));
        assert_eq!(repeat_count(b"3x"), None);
    }
}
