//! Redis's `sdssplitargs`: splits a line into arguments the way inline
//! commands and `redis.conf` lines are split, with double quotes (escapes
//! `\n \r \t \b \a \\ \" \xHH`) and single quotes (only `\'`).

/// Whitespace as C's `isspace`.
pub(crate) fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Splits `line`; None when quotes are unbalanced or a closing quote is
/// followed by something other than a space. Like the C version, input stops
/// at the first NUL byte.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = match line.iter().position(|&c| c == 0) {
        Some(n) => &line[..n],
        None => line,
    };
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut out = Vec::new();
    let mut p = 0;
    loop {
        while p < line.len() && is_space(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Some(out);
        }
        let (mut inq, mut insq, mut done) = (false, false, false);
        let mut cur = Vec::new();
        while !done {
            let c = at(p);
            if inq {
                if c == b'\\'
                    && at(p + 1) == b'x'
                    && hex(at(p + 2)).is_some()
                    && hex(at(p + 3)).is_some()
                {
                    cur.push(hex(at(p + 2)).unwrap_or(0) * 16 + hex(at(p + 3)).unwrap_or(0));
                    p += 3;
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    cur.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else if insq {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_space(at(p + 1)) {
                        return None;
                    }
                    done = true;
                } else if c == 0 {
                    return None;
                } else {
                    cur.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    _ => cur.push(c),
                }
            }
            if at(p) != 0 {
                p += 1;
            }
        }
        out.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::split_args;

    fn s(line: &str) -> Option<Vec<String>> {
        split_args(line.as_bytes()).map(|v| {
            v.into_iter()
                .map(|a| String::from_utf8_lossy(&a).into_owned())
                .collect()
        })
    }

    #[test]
    fn splits_like_sdssplitargs() {
        assert_eq!(
            s("set a b"),
            Some(vec!["set".into(), "a".into(), "b".into()])
        );
        assert_eq!(
            s("  set   \"a b\"  'c d' "),
            Some(vec!["set".into(), "a b".into(), "c d".into()])
        );
        assert_eq!(
            s(r#"x "\x41\n\"q" 'it\'s'"#),
            Some(vec!["x".into(), "A\n\"q".into(), "it's".into()])
        );
        assert_eq!(
            s(r"get 'it\'s \n' "),
            Some(vec!["get".into(), "it's \\n".into()]),
            "single quotes escape only the quote"
        );
        assert_eq!(s(r#""a\tb""#), Some(vec!["a\tb".into()]));
        assert_eq!(s(""), Some(vec![]));
        assert_eq!(s("\"\""), Some(vec!["".into()]));
        assert_eq!(s("a\"b\"c"), None, "a closing quote glued to more text");
        assert_eq!(
            s("a\"b c\""),
            Some(vec!["ab c".into()]),
            "a quote may open mid-token"
        );
    }

    #[test]
    fn unbalanced_or_glued_quotes_fail() {
        assert_eq!(s("\"abc"), None);
        assert_eq!(s("'abc"), None);
        assert_eq!(s("\"a\"b"), None);
        assert_eq!(s("'a'b"), None);
    }
}
