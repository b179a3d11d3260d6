//! Remembers `go list` answers, so a build does not pay for `go list` again when nothing it
//! depends on changed — including after an edit inside a function body, the usual edit.
//!
//! The key covers everything the answer (package names and directories, dependencies, cgo files
//! and directives) depends on: gopack and Go versions, the arguments, the Go environment (variables
//! and the `go env -w` file), go.mod/go.sum/vendor/modules.txt, and for every package directory
//! of the module the file names plus, per file:
//! - Go files: the text from the start through the import declarations (build constraints,
//!   package clause, imports, and the cgo preamble with its `#cgo` lines, which sits right before
//!   `import "C"`), and every `//go:embed` line; function bodies are not part of the key;
//! - `_test.go` files: nothing but the name (`go list -deps` without `-test` ignores them);
//! - every other file: its whole content (C sources, headers, assembly, `.syso`, embedded files;
//!   small next to the Go sources, and what cgo and build constraints read).
//!
//! File contents are read, never mtimes, so a touched but unchanged file keeps its answer and an
//! edited import is seen even when the mtime did not move. Projects the key cannot cover (a
//! go.work, `replace` with a local directory, very large trees) are not cached.

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

/// Files beyond this many make the walk cost more than it saves.
const MAX_ENTRIES: usize = 20_000;

/// Changes whenever what goes into the key changes.
const KEY_FORMAT: &str = "golist-v2";

fn cache_dir() -> PathBuf {
    crate::cache::golist_dir()
}

/// The cache key, or `None` when this project must not be cached.
pub(super) fn key(root: &Path, dir: &Path, args: &[String], go_version: &str) -> Option<String> {
    if std::env::var("GOPACK_NO_LIST_CACHE").is_ok_and(|v| !v.is_empty()) {
        return None;
    }
    let gomod = std::fs::read(root.join("go.mod")).ok()?;
    if !self_contained(root, &gomod) {
        return None;
    }
    let mut h = Sha256::new();
    h.update(format!(
        "gopack {} {KEY_FORMAT}\n{go_version}\n",
        env!("CARGO_PKG_VERSION")
    ));
    // Absolute paths: the answer holds them (Dir), so two copies of a module never share one.
    let absolute = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    h.update(format!(
        "{}\n{}\n{}\n",
        absolute(root).display(),
        absolute(dir).display(),
        args.join("\0")
    ));
    let mut env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| {
            k.starts_with("GO")
                || k.starts_with("CGO_")
                || matches!(k.as_str(), "CC" | "CXX" | "PKG_CONFIG" | "PKG_CONFIG_PATH")
        })
        .collect();
    env.sort();
    for (k, v) in env {
        h.update(format!("{k}={v}\n"));
    }
    h.update(go_env_file().unwrap_or_default());
    h.update(b"\n");
    h.update(&gomod);
    for name in ["go.sum", "vendor/modules.txt"] {
        h.update(std::fs::read(root.join(name)).unwrap_or_default());
        h.update(b"\n");
    }
    let mut entries = 0usize;
    walk(root, root, &mut h, &mut entries)?;
    Some(hex::encode(h.finalize()))
}

/// Whether every source file a build of the module at `root` reads is under `root` or in the
/// module cache: no `replace` with a local directory in `gomod` (go.mod's text), no go.work.
pub(super) fn self_contained(root: &Path, gomod: &[u8]) -> bool {
    let has_local_replace = String::from_utf8_lossy(gomod).lines().any(|l| {
        l.split_once("=>").is_some_and(|(_, to)| {
            let to = to.trim_start();
            to.starts_with("./") || to.starts_with("../") || to.starts_with('/')
        })
    });
    let workspace = std::env::var("GOWORK").map_or(true, |w| w != "off")
        && root.ancestors().any(|d| d.join("go.work").is_file());
    !has_local_replace && !workspace
}

/// The settings `go env -w` wrote (`$GOENV`, else `<user config dir>/go/env`), which act like
/// environment variables for every go command.
fn go_env_file() -> Option<Vec<u8>> {
    let path = match std::env::var_os("GOENV") {
        Some(p) if p == "off" => return None,
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => dirs::config_dir()?.join("go").join("env"),
    };
    std::fs::read(path).ok()
}

/// Hashes what `go list` reads of every file in the package directories under `dir`, skipping
/// what the go command skips (`.x`, `_x`, `testdata`) and nested modules.
fn walk(root: &Path, dir: &Path, h: &mut Sha256, entries: &mut usize) -> Option<()> {
    let mut children: Vec<_> = std::fs::read_dir(dir).ok()?.flatten().collect();
    children.sort_by_key(|e| e.file_name());
    for child in children {
        *entries += 1;
        if *entries > MAX_ENTRIES {
            return None;
        }
        let name = child.file_name();
        let name = name.to_string_lossy();
        let path = child.path();
        // Follows symlinks, as the go command does for files.
        let meta = std::fs::metadata(&path).ok()?;
        if meta.is_dir() {
            if name.starts_with('.')
                || name.starts_with('_')
                || name == "testdata"
                || path.join("go.mod").is_file()
            {
                continue;
            }
            h.update(format!(
                "d {}\n",
                path.strip_prefix(root).unwrap_or(&path).display()
            ));
            walk(root, &path, h, entries)?;
        } else if name.ends_with("_test.go") {
            h.update(format!("t {name}\n"));
        } else {
            let content = std::fs::read(&path).ok()?;
            let relevant = if name.ends_with(".go") {
                go_file_key(&content)
            } else {
                Sha256::digest(&content).to_vec()
            };
            h.update(format!("f {name} {}\n", hex::encode(relevant)));
        }
    }
    Some(())
}

/// What `go list` reads of a Go file: the header through the import declarations, and every
/// `//go:embed` line after it. A file whose header cannot be parsed counts whole.
fn go_file_key(src: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    match header_len(src) {
        Some(end) => {
            h.update(&src[..end]);
            for line in src[end..].split(|&b| b == b'\n') {
                let line = line.trim_ascii();
                if line.starts_with(b"//go:embed") {
                    h.update(b"\n");
                    h.update(line);
                }
            }
        }
        None => h.update(src),
    }
    h.finalize().to_vec()
}

/// Length of the part of a Go file that ends with its last import declaration (Go spec:
/// `SourceFile = PackageClause ";" { ImportDecl ";" } …`), or `None` when it does not look like
/// Go source.
fn header_len(src: &[u8]) -> Option<usize> {
    let mut s = Scanner { src, pos: 0 };
    s.skip_space();
    if s.word()? != b"package" {
        return None;
    }
    s.skip_space();
    s.word()?;
    let mut end = s.pos;
    loop {
        s.skip_space();
        if s.peek() == Some(b';') {
            s.pos += 1;
            continue;
        }
        if s.word() != Some(&b"import"[..]) {
            return Some(end);
        }
        s.skip_space();
        if s.peek() == Some(b'(') {
            s.pos += 1;
            loop {
                s.skip_space();
                match s.peek()? {
                    b')' => {
                        s.pos += 1;
                        break;
                    }
                    b'"' | b'`' => s.string()?,
                    b';' | b'.' => s.pos += 1,
                    _ => {
                        s.word()?;
                    }
                }
            }
        } else {
            if matches!(s.peek()?, b'.') {
                s.pos += 1;
            } else if !matches!(s.peek()?, b'"' | b'`') {
                s.word()?;
            }
            s.skip_space();
            s.string()?;
        }
        end = s.pos;
    }
}

struct Scanner<'a> {
    src: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    /// Skips white space and comments.
    fn skip_space(&mut self) {
        loop {
            let rest = &self.src[self.pos..];
            if rest.first().is_some_and(|b| b.is_ascii_whitespace()) {
                self.pos += 1;
            } else if rest.starts_with(b"//") {
                self.pos += rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            } else if rest.starts_with(b"/*") {
                self.pos += rest
                    .windows(2)
                    .skip(2)
                    .position(|w| w == b"*/")
                    .map_or(rest.len(), |i| i + 4);
            } else {
                return;
            }
        }
    }

    /// An identifier (ASCII letters, digits, `_`, and any non-ASCII byte).
    fn word(&mut self) -> Option<&'a [u8]> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
        {
            self.pos += 1;
        }
        (self.pos > start).then(|| &self.src[start..self.pos])
    }

    /// An interpreted (`"…"`) or raw (`` `…` ``) string literal.
    fn string(&mut self) -> Option<()> {
        let quote = self.peek().filter(|q| matches!(q, b'"' | b'`'))?;
        self.pos += 1;
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'\\' if quote == b'"' => self.pos += 1,
                b'\n' if quote == b'"' => return None,
                _ if b == quote => return Some(()),
                _ => {}
            }
        }
        None
    }
}

pub(super) fn get(key: &str) -> Option<Vec<u8>> {
    std::fs::read(cache_dir().join(key)).ok()
}

/// Best effort: a failure to save costs a `go list` next time, nothing else.
pub(super) fn put(key: &str, answer: &[u8]) {
    let dir = cache_dir();
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    if let Ok(mut tmp) = tempfile::NamedTempFile::new_in(&dir)
        && std::io::Write::write_all(&mut tmp, answer).is_ok()
    {
        let _ = tmp.persist(dir.join(key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: &str = "// Doc.\n//go:build linux\n\npackage main // c\n\nimport (\n\t\"fmt\"\n\tx \"os\" ; _ `embed`\n)\nimport . \"strings\"\n\n// #cgo LDFLAGS: -lm\nimport \"C\"\n\n//go:embed static/*\nvar fs string\n\nfunc main() { fmt.Println(\"import (\") }\n";

    fn key_of(src: &str) -> Vec<u8> {
        go_file_key(src.as_bytes())
    }

    #[test]
    fn the_header_ends_after_the_last_import() {
        let end = header_len(HELLO.as_bytes()).unwrap();
        assert!(HELLO[..end].ends_with("import \"C\""), "{}", &HELLO[..end]);
        assert_eq!(header_len(b"package p\nfunc f() {}\n"), Some(9));
        assert_eq!(header_len(b"package p; import \"a\"; var x = 1"), Some(21));
        assert_eq!(
            header_len(b"/* a */ package p /* b */ import ( \"a\" )"),
            Some(40)
        );
        assert_eq!(header_len(b"not go"), None);
        assert_eq!(header_len(b"package p\nimport \"unterminated"), None);
    }

    #[test]
    fn body_edits_keep_the_key_and_what_go_list_reads_changes_it() {
        let base = key_of(HELLO);
        assert_eq!(
            key_of(&HELLO.replace("Println(\"import (\")", "Print(42)")),
            base,
            "a function body is not part of the key"
        );
        for (what, from, to) in [
            ("an import", "\"fmt\"", "\"fmt\"\n\t\"net\""),
            ("a #cgo line", "-lm", "-lm -lz"),
            ("import \"C\"", "import \"C\"", "import \"D\""),
            ("an embed pattern", "static/*", "static/* web"),
            ("a build constraint", "linux", "linux && amd64"),
            ("the package name", "package main", "package mainx"),
        ] {
            assert_ne!(key_of(&HELLO.replace(from, to)), base, "{what}");
        }
        assert_ne!(
            key_of(&format!("{HELLO}\n//go:embed more\nvar more string\n")),
            base,
            "a new //go:embed line"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 512, timeout: 2_000, ..Default::default()
        })]

        #[test]
        fn any_bytes_give_a_header_within_the_file(src in proptest::collection::vec(0u8..=255, 0..400)) {
            proptest::prop_assert!(header_len(&src).is_none_or(|n| n <= src.len()));
        }

        #[test]
        fn text_after_the_imports_never_matters_unless_it_embeds(body in "[ -~\n]{0,300}") {
            proptest::prop_assume!(!body.contains("//go:embed"));
            let head = "package p\n\nimport (\n\t\"os\"\n)\n";
            proptest::prop_assert_eq!(key_of(&format!("{head}func f() {{}}\n")), key_of(&format!("{head}func g() {{\n{body}")));
        }
    }
}
