//! `-u redis://[[user:]password@][host[:port]][/db]`, parsed as redis-cli's
//! `parseRedisUri` parses it (percent-decoding the user and the password).

use std::fmt;

use crate::args::atoi;

/// The parts a URI sets; `None` leaves the flag's default alone.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Uri {
    pub user: Option<Vec<u8>>,
    pub auth: Option<Vec<u8>>,
    pub host: Option<String>,
    pub port: Option<i64>,
    pub db: Option<i64>,
}

/// Why a URI is refused, in redis-cli's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UriError {
    Scheme,
    Tls,
    Incomplete,
    Illegal,
}

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Scheme => "Invalid URI scheme",
            // redis-cli names its OpenSSL build option here; gostore-cli has
            // no TLS at all, in any build.
            Self::Tls => "rediss:// is not supported: gostore-cli has no TLS support",
            Self::Incomplete => "Incomplete URI encoding",
            Self::Illegal => "Illegal character in URI encoding",
        })
    }
}

impl std::error::Error for UriError {}

fn percent_decode(s: &[u8]) -> Result<Vec<u8>, UriError> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            // redis-cli checks for two bytes, then reads a third.
            if s.len() - i < 2 {
                return Err(UriError::Incomplete);
            }
            let hex = |c: u8| match c.to_ascii_lowercase() {
                c @ b'0'..=b'9' => Ok(c - b'0'),
                c @ b'a'..=b'f' => Ok(c - b'a' + 10),
                _ => Err(UriError::Illegal),
            };
            out.push(hex(s[i + 1])? * 16 + hex(s.get(i + 2).copied().unwrap_or(0))?);
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn starts_with_ci(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Parses a `redis://` URI.
pub fn parse_uri(uri: &[u8]) -> Result<Uri, UriError> {
    let mut u = Uri::default();
    let mut cur = if starts_with_ci(uri, b"rediss://") {
        return Err(UriError::Tls);
    } else if starts_with_ci(uri, b"redis://") {
        &uri[b"redis://".len()..]
    } else {
        return Err(UriError::Scheme);
    };
    if cur.is_empty() {
        return Ok(u);
    }
    if let Some(at) = cur.iter().position(|&b| b == b'@') {
        let userinfo = &cur[..at];
        let pass = match userinfo.iter().position(|&b| b == b':') {
            Some(colon) => {
                // `redis://:pass@host` means no user name: plain AUTH pass
                // (redis-cli 7.0 sends AUTH "" pass, which always fails).
                if colon > 0 {
                    u.user = Some(percent_decode(&userinfo[..colon])?);
                }
                &userinfo[colon + 1..]
            }
            None => userinfo,
        };
        u.auth = Some(percent_decode(pass)?);
        cur = &cur[at + 1..];
    }
    if cur.is_empty() {
        return Ok(u);
    }
    let slash = cur.iter().position(|&b| b == b'/');
    if cur[0] != b'/' {
        let hostport = &cur[..slash.unwrap_or(cur.len())];
        // redis-cli looks for ':' anywhere in the rest, path included.
        let host = match cur.iter().position(|&b| b == b':') {
            Some(colon) => {
                u.port = Some(atoi(&cur[colon + 1..]));
                &cur[..colon]
            }
            None => hostport,
        };
        u.host = Some(String::from_utf8_lossy(host).into_owned());
    }
    let rest = match slash {
        Some(s) => &cur[s + 1..],
        None => &[][..],
    };
    if !rest.is_empty() {
        u.db = Some(atoi(rest));
    }
    Ok(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_uri_sets_every_part() {
        let u = parse_uri(b"redis://al%69ce:p%40ss@localhost:7000/3").unwrap();
        assert_eq!(u.user.as_deref(), Some(&b"alice"[..]));
        assert_eq!(u.auth.as_deref(), Some(&b"p@ss"[..]));
        assert_eq!(u.host.as_deref(), Some("localhost"));
        assert_eq!((u.port, u.db), (Some(7000), Some(3)));
    }

    #[test]
    fn a_password_alone_and_a_bare_db() {
        let u = parse_uri(b"REDIS://secret@/2").unwrap();
        assert_eq!(
            (u.user, u.auth.as_deref(), u.host, u.db),
            (None, Some(&b"secret"[..]), None, Some(2))
        );
    }

    #[test]
    fn an_empty_user_name_means_none() {
        let u = parse_uri(b"redis://:pw@h").unwrap();
        assert_eq!((u.user, u.auth.as_deref()), (None, Some(&b"pw"[..])));
    }

    #[test]
    fn bad_uris_are_refused() {
        assert_eq!(parse_uri(b"http://x").unwrap_err(), UriError::Scheme);
        assert_eq!(
            parse_uri(b"redis://a%@h").unwrap_err(),
            UriError::Incomplete
        );
        assert_eq!(parse_uri(b"redis://a%zz@h").unwrap_err(), UriError::Illegal);
        assert_eq!(parse_uri(b"RediSS://h:1").unwrap_err(), UriError::Tls);
    }
}
