//! The multi-part AOF manifest, in Redis 7's format: one line per file,
//! `file <name> seq <n> type <b|h|i>`, base first, then history, then incr
//! files in order. It is replaced atomically (temp file, fsync, rename,
//! fsync of the directory), so a crash leaves the old or the new one.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::resp::split::split_args;

/// The role of a file in the set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    /// The base: a full snapshot (`b`).
    Base,
    /// Superseded, waiting for deletion (`h`).
    History,
    /// Commands since the base (`i`).
    Incr,
}

impl FileType {
    fn letter(self) -> char {
        match self {
            FileType::Base => 'b',
            FileType::History => 'h',
            FileType::Incr => 'i',
        }
    }
}

/// One file of the set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AofFile {
    /// File name inside the AOF directory.
    pub name: String,
    /// Sequence number.
    pub seq: u64,
    /// Role.
    pub kind: FileType,
}

/// Errors reading a manifest.
#[derive(Debug)]
pub enum ManifestError {
    /// Reading failed.
    Io(io::Error),
    /// The content is not a valid manifest.
    Invalid(String),
}

impl std::fmt::Display for ManifestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ManifestError::Io(e) => write!(f, "{e}"),
            ManifestError::Invalid(why) => {
                write!(f, "The AOF manifest file is invalid format: {why}")
            }
        }
    }
}

impl std::error::Error for ManifestError {}

/// The live set of AOF files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The base file, if any.
    pub base: Option<AofFile>,
    /// Files to delete.
    pub history: Vec<AofFile>,
    /// Incremental files, oldest first.
    pub incrs: Vec<AofFile>,
    /// Highest base sequence used.
    pub base_seq: u64,
    /// Highest incr sequence used.
    pub incr_seq: u64,
}

/// Whether a name can be written bare (Redis's `sdsneedsrepr` is false).
fn plain(name: &str) -> bool {
    name.bytes()
        .all(|c| c.is_ascii_graphic() && c != b'"' && c != b'\'' && c != b'\\')
}

/// Quotes a name as Redis's `sdscatrepr`.
fn repr(name: &str) -> String {
    let mut s = String::from("\"");
    for c in name.bytes() {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            7 => s.push_str("\\a"),
            8 => s.push_str("\\b"),
            c if c.is_ascii_graphic() || c == b' ' => s.push(c as char),
            c => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}

impl Manifest {
    /// The manifest's file name for `appendfilename`.
    pub fn file_name(appendfilename: &str) -> String {
        format!("{appendfilename}.manifest")
    }

    /// Parses manifest text.
    pub fn parse(text: &[u8]) -> Result<Manifest, ManifestError> {
        let mut m = Manifest::default();
        for raw in text.split(|c| *c == b'\n') {
            let line = raw.strip_suffix(b"\r").unwrap_or(raw);
            let trimmed: &[u8] = {
                let s = line
                    .iter()
                    .position(|c| !c.is_ascii_whitespace())
                    .unwrap_or(line.len());
                &line[s..]
            };
            if trimmed.is_empty() || trimmed[0] == b'#' {
                continue;
            }
            if line.len() > 1024 {
                return Err(ManifestError::Invalid("line too long".into()));
            }
            let args = split_args(trimmed)
                .ok_or_else(|| ManifestError::Invalid("unbalanced quotes".into()))?;
            if args.len() % 2 != 0 {
                return Err(ManifestError::Invalid(
                    "the number of arguments is not even".into(),
                ));
            }
            let (mut name, mut seq, mut kind) = (None, None, None);
            for kv in args.chunks(2) {
                let val = String::from_utf8_lossy(&kv[1]).into_owned();
                match &kv[0][..] {
                    b"file" => name = Some(val),
                    b"seq" => seq = val.parse::<u64>().ok(),
                    b"type" => {
                        kind = match val.as_str() {
                            "b" => Some(FileType::Base),
                            "h" => Some(FileType::History),
                            "i" => Some(FileType::Incr),
                            _ => {
                                return Err(ManifestError::Invalid(format!(
                                    "unknown file type '{val}'"
                                )))
                            }
                        }
                    }
                    _ => {} // Unknown keys are ignored, as Redis does.
                }
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return Err(ManifestError::Invalid(
                    "a line lacks file, seq or type".into(),
                ));
            };
            if name.is_empty() || name.contains('/') {
                return Err(ManifestError::Invalid(format!("bad file name '{name}'")));
            }
            let f = AofFile { name, seq, kind };
            match kind {
                FileType::Base => {
                    if m.base.is_some() {
                        return Err(ManifestError::Invalid("more than one base file".into()));
                    }
                    m.base_seq = seq;
                    m.base = Some(f);
                }
                FileType::History => m.history.push(f),
                FileType::Incr => {
                    if seq <= m.incr_seq && !m.incrs.is_empty() {
                        return Err(ManifestError::Invalid(
                            "found a non-monotonic sequence number".into(),
                        ));
                    }
                    m.incr_seq = seq;
                    m.incrs.push(f);
                }
            }
        }
        if m.base.is_none() && m.incrs.is_empty() {
            return Err(ManifestError::Invalid(
                "it names no base and no incr file".into(),
            ));
        }
        Ok(m)
    }

    /// Reads the manifest at `path`.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = fs::read(path).map_err(ManifestError::Io)?;
        Manifest::parse(&text)
    }

    /// The manifest text.
    pub(crate) fn to_text(&self) -> String {
        let mut s = String::new();
        let mut line = |f: &AofFile| {
            let name = if plain(&f.name) {
                f.name.clone()
            } else {
                repr(&f.name)
            };
            s.push_str(&format!(
                "file {} seq {} type {}\n",
                name,
                f.seq,
                f.kind.letter()
            ));
        };
        if let Some(b) = &self.base {
            line(b);
        }
        for h in &self.history {
            line(h);
        }
        for i in &self.incrs {
            line(i);
        }
        s
    }

    /// Adds a new incr file for `appendfilename` and returns its name.
    pub(crate) fn new_incr(&mut self, appendfilename: &str) -> String {
        self.incr_seq += 1;
        let name = format!("{appendfilename}.{}.incr.aof", self.incr_seq);
        self.incrs.push(AofFile {
            name: name.clone(),
            seq: self.incr_seq,
            kind: FileType::Incr,
        });
        name
    }

    /// Sets a new base file for `appendfilename` (the old one becomes
    /// history) and returns its name: `.base.rdb` for an RDB base
    /// (`aof-use-rdb-preamble yes`), `.base.aof` otherwise, as Redis names them.
    pub(crate) fn new_base(&mut self, appendfilename: &str, rdb: bool) -> String {
        self.base_seq += 1;
        let ext = if rdb { "rdb" } else { "aof" };
        let name = format!("{appendfilename}.{}.base.{ext}", self.base_seq);
        if let Some(mut old) = self.base.take() {
            old.kind = FileType::History;
            self.history.push(old);
        }
        self.base = Some(AofFile {
            name: name.clone(),
            seq: self.base_seq,
            kind: FileType::Base,
        });
        name
    }

    /// Files to load, in order: base then incrs.
    pub fn load_order(&self) -> impl Iterator<Item = &AofFile> {
        self.base.iter().chain(self.incrs.iter())
    }

    /// Writes the manifest into `dir` atomically: temp file, fsync, rename,
    /// fsync of the directory.
    pub fn persist(&self, dir: &Path, appendfilename: &str) -> Result<(), PersistError> {
        write_manifest(dir, appendfilename, &self.to_text())
    }

    /// Moves every incr file but the last `keep` to history (they are
    /// covered by a new base), as Redis's `markRewrittenIncrAofAsHistory`.
    pub(crate) fn retire_incrs(&mut self, keep: usize) {
        let n = self.incrs.len().saturating_sub(keep);
        for mut f in self.incrs.drain(..n) {
            f.kind = FileType::History;
            self.history.push(f);
        }
    }
}

/// Why writing a manifest failed. `committed` tells whether the new manifest
/// was already renamed into place (only the directory fsync failed): it is
/// then the one a restart reads, though a power loss could still bring the
/// old one back.
#[derive(Debug)]
pub struct PersistError {
    /// What failed.
    pub step: &'static str,
    /// The OS error.
    pub error: io::Error,
    /// Whether the rename happened.
    pub committed: bool,
}

impl std::fmt::Display for PersistError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.step, self.error)
    }
}

impl std::error::Error for PersistError {}

/// Writes manifest `text` into `dir` atomically: a temp file, fsync, rename
/// over the manifest, fsync of the directory (which also makes new AOF
/// files' names durable). A crash at any point leaves the old manifest or
/// the new one, whole.
pub(crate) fn write_manifest(
    dir: &Path,
    appendfilename: &str,
    text: &str,
) -> Result<(), PersistError> {
    let name = Manifest::file_name(appendfilename);
    let tmp: PathBuf = dir.join(format!("temp-{name}"));
    let fail = |step, error, committed| PersistError {
        step,
        error,
        committed,
    };
    {
        let mut f = File::create(&tmp)
            .map_err(|e| fail("Can't open the temporary AOF manifest file", e, false))?;
        f.write_all(text.as_bytes())
            .map_err(|e| fail("Error writing the temporary AOF manifest file", e, false))?;
        f.sync_all()
            .map_err(|e| fail("Can't fsync the temporary AOF manifest file", e, false))?;
    }
    super::failpoint::hit("manifest-temp-written");
    fs::rename(&tmp, dir.join(&name))
        .map_err(|e| fail("Can't rename the temporary AOF manifest file", e, false))?;
    super::failpoint::hit("manifest-renamed");
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| fail("Can't fsync the AOF directory", e, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_redis_format() {
        let text = "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n";
        let m = Manifest::parse(text.as_bytes()).unwrap();
        assert_eq!(m.base.as_ref().unwrap().name, "appendonly.aof.1.base.aof");
        assert_eq!(m.incrs.len(), 2);
        assert_eq!(m.to_text(), text);
    }

    #[test]
    fn names_needing_quotes_are_quoted() {
        let mut m = Manifest::default();
        m.new_base("my db.aof", false);
        assert_eq!(m.to_text(), "file \"my db.aof.1.base.aof\" seq 1 type b\n");
        assert_eq!(Manifest::parse(m.to_text().as_bytes()).unwrap(), m);
    }

    #[test]
    fn malformed_manifests_are_refused() {
        assert!(Manifest::parse(b"file a seq 1\n").is_err());
        assert!(Manifest::parse(b"file a seq 1 type x\n").is_err());
        assert!(Manifest::parse(b"").is_err());
        assert!(Manifest::parse(b"file a seq 2 type i\nfile b seq 1 type i\n").is_err());
        assert!(Manifest::parse(b"file ../a seq 1 type b\n").is_err());
    }
}
