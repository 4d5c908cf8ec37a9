//! Redis's glob matcher (`stringmatchlen` in util.c), byte for byte: `*`, `?`,
//! `[...]` classes with ranges and `^`, and `\` escapes. KEYS, SCAN MATCH,
//! CONFIG GET and COMMAND LIST FILTERBY PATTERN all use it.

/// Whether `string` matches `pattern`.
pub fn matches(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, string, nocase, &mut skip_longer, 0)
}

/// Byte at `i`, or NUL past the end, as C's strings read.
#[inline]
fn at(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

fn lower(c: u8) -> u8 {
    c.to_ascii_lowercase()
}

fn match_impl(pat: &[u8], s: &[u8], nocase: bool, skip_longer: &mut bool, nesting: u32) -> bool {
    // Protection against abusive patterns, as Redis.
    if nesting > 1000 {
        return false;
    }
    let (mut p, mut plen) = (0usize, pat.len());
    let (mut si, mut slen) = (0usize, s.len());
    while plen > 0 && slen > 0 {
        match pat[p] {
            b'*' => {
                while plen > 0 && at(pat, p + 1) == b'*' {
                    p += 1;
                    plen -= 1;
                }
                if plen == 1 {
                    return true;
                }
                while slen > 0 {
                    if match_impl(
                        &pat[p + 1..p + plen],
                        &s[si..si + slen],
                        nocase,
                        skip_longer,
                        nesting + 1,
                    ) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    si += 1;
                    slen -= 1;
                }
                // No match for the rest of the pattern from anywhere in the
                // rest of the string: earlier stars cannot help either.
                *skip_longer = true;
                return false;
            }
            b'?' => {
                si += 1;
                slen -= 1;
            }
            b'[' => {
                p += 1;
                plen -= 1;
                let not = at(pat, p) == b'^';
                if not {
                    p += 1;
                    plen = plen.saturating_sub(1);
                }
                let mut matched = false;
                let c = s[si];
                loop {
                    if at(pat, p) == b'\\' && plen >= 2 {
                        p += 1;
                        plen -= 1;
                        if pat[p] == c {
                            matched = true;
                        }
                    } else if plen > 0 && pat[p] == b']' {
                        break;
                    } else if plen == 0 {
                        // Unterminated class: step back so the advance below
                        // lands on the end of the pattern.
                        p -= 1;
                        plen += 1;
                        break;
                    } else if plen >= 3 && pat[p + 1] == b'-' {
                        // Redis compares C chars, which are signed here.
                        let (mut start, mut end, mut ch) =
                            (pat[p] as i8 as i32, pat[p + 2] as i8 as i32, c as i8 as i32);
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        if nocase {
                            start = lower_i(start);
                            end = lower_i(end);
                            ch = lower_i(ch);
                        }
                        p += 2;
                        plen -= 2;
                        if ch >= start && ch <= end {
                            matched = true;
                        }
                    } else if nocase {
                        if lower(pat[p]) == lower(c) {
                            matched = true;
                        }
                    } else if pat[p] == c {
                        matched = true;
                    }
                    p += 1;
                    plen -= 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                si += 1;
                slen -= 1;
            }
            other => {
                let mut pc = other;
                if other == b'\\' && plen >= 2 {
                    p += 1;
                    plen -= 1;
                    pc = pat[p];
                }
                let c = s[si];
                let equal = if nocase {
                    lower(pc) == lower(c)
                } else {
                    pc == c
                };
                if !equal {
                    return false;
                }
                si += 1;
                slen -= 1;
            }
        }
        p += 1;
        plen -= 1;
        if slen == 0 {
            while at(pat, p) == b'*' && plen > 0 {
                p += 1;
                plen -= 1;
            }
            break;
        }
    }
    plen == 0 && slen == 0
}

fn lower_i(c: i32) -> i32 {
    if (b'A' as i32..=b'Z' as i32).contains(&c) {
        c + 32
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    fn m(p: &str, s: &str) -> bool {
        matches(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn stars_questions_and_literals() {
        // As in Redis, a pattern never matches the empty string by itself
        // (KEYS special-cases a lone "*").
        assert!(!m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("foo**", "foo"));
        assert!(!m("", "a"));
        assert!(m("", ""));
    }

    #[test]
    fn classes_ranges_negation_and_escapes() {
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"));
        assert!(m("h\\*llo", "h*llo"));
        assert!(!m("h\\*llo", "hello"));
        assert!(m("[\\]]", "]"));
        assert!(!m("a[", "ab"), "an unterminated class matches nothing");
        assert!(matches(b"HELLO", b"hello", true));
    }

    #[test]
    fn abusive_patterns_finish_quickly() {
        let p = "a*".repeat(50) + "b";
        let s = "a".repeat(60);
        assert!(!m(&p, &s));
    }
}
