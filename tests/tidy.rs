//! Repository hygiene that `cargo test` enforces: every Rust source file
//! opens with a `//!` comment saying what it is for, and every file git
//! tracks at the top level is one README.md's layout names.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_source_file_starts_with_a_module_doc_comment() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for d in ["src", "tests"] {
        rust_files(&root.join(d), &mut files);
    }
    let missing: Vec<String> = files
        .iter()
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .map(|p| p.strip_prefix(root).unwrap_or(p).display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a //! header: {missing:?}"
    );
}

/// The top-level entries README.md's "## Layout" section names: the first
/// word of each line of its code block that starts in column 0
/// (`src/`, `gostore.conf`, ...).
fn layout_entries(readme: &str) -> Vec<String> {
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("Layout\n"))
        .expect("README.md has a \"## Layout\" section");
    let block = section
        .split("```")
        .nth(1)
        .expect("the Layout section has a code block");
    block
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with(char::is_whitespace))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// The tracked paths whose top-level entry the layout does not name. A
/// layout entry ending in `/` allows a directory (any path below it); one
/// without allows exactly that file.
fn strays(tracked: &[&str], allowed: &[String]) -> Vec<String> {
    let mut out: Vec<String> = tracked
        .iter()
        .filter(|path| {
            let ok = match path.split_once('/') {
                Some((dir, _)) => allowed.iter().any(|a| a.strip_suffix('/') == Some(dir)),
                None => allowed.iter().any(|a| a == *path),
            };
            !ok
        })
        .map(|p| p.to_string())
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn every_tracked_top_level_file_is_named_by_the_readme_layout() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let allowed = layout_entries(&readme);
    // Tracked files only: build outputs (target/) and what `make run`
    // writes (appendonlydir/) are not tracked.
    let out = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root)
        .output()
        .expect("git must be installed: this test reads `git ls-files`");
    assert!(
        out.status.success(),
        "git ls-files failed (run the tests in a git checkout): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8 paths");
    let tracked: Vec<&str> = text.split('\0').filter(|p| !p.is_empty()).collect();
    assert!(
        tracked.contains(&"Cargo.toml") && tracked.iter().any(|p| p.starts_with("src/")),
        "git ls-files listed no sources: {tracked:?}"
    );
    let strays = strays(&tracked, &allowed);
    assert!(
        strays.is_empty(),
        "tracked files outside README.md's layout: {strays:?}; remove them, or name \
         their top-level entry in README.md's \"## Layout\" block (allowed: {allowed:?})"
    );
    // Every entry the layout names exists, so the README does not promise
    // what is gone.
    let gone: Vec<&String> = allowed
        .iter()
        .filter(|a| match a.strip_suffix('/') {
            Some(dir) => !tracked.iter().any(|p| p.starts_with(&format!("{dir}/"))),
            None => !tracked.contains(&a.as_str()),
        })
        .collect();
    assert!(
        gone.is_empty(),
        "README.md's layout names untracked {gone:?}"
    );
}

#[test]
fn the_layout_check_refuses_a_stray_file_and_a_stray_directory() {
    let allowed = layout_entries(
        "# x\n\n## Layout\n\n```\nsrc/          code\n              more words\nMakefile      make\n```\n\n## Next\n",
    );
    assert_eq!(allowed, ["src/", "Makefile"]);
    let tracked = [
        "src/lib.rs",
        "Makefile",
        "g.txt",
        "junk/a",
        "Makefile.bak",
        "src",
    ];
    assert_eq!(
        strays(&tracked, &allowed),
        ["Makefile.bak", "g.txt", "junk/a", "src"]
    );
}
