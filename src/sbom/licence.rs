//! Licences read offline from the Go module cache, as SPDX identifiers.
//!
//! For each module gopack looks in `$GOMODCACHE/<escaped path>@<escaped version>/` for licence
//! files (`LICENSE*`, `LICENCE*`, `COPYING*`, `UNLICENSE*`, `MIT-LICENSE*` at the module root)
//! and classifies each one:
//! 1. an `SPDX-License-Identifier:` line, when the file carries one, is taken as written
//!    (checked as an SPDX expression);
//! 2. otherwise its words are compared with the canonical texts of the common licences
//!    (`licences/*.txt`, from the SPDX License List) by word pairs: a licence is found when at
//!    least [`MIN_CONTAINMENT`] of its word pairs are in the file, the best being the one with
//!    the most pairs present and the fewest missing (so BSD-3-Clause beats BSD-2-Clause on a
//!    3-clause text, MIT beats MIT-0 on an MIT text, and the other way round); a file holding
//!    several licence texts yields each of them;
//! 3. a file whose text is not explained by the licences found (more than
//!    [`MAX_UNEXPLAINED`] of its words, copyright lines left out) — JSON's "Good, not Evil"
//!    clause on MIT, an unknown licence — is *unrecognised*: the SBOM lists it as such, with
//!    its text, never as NOASSERTION and never as the licence it resembles.
//!
//! Why not a crate: `askalono` (and the `spdx` crate's `detection`, its fork) compares against
//! all ~700 SPDX licences and takes 1.4 s to load its store and 0.1–0.3 s per file here, which
//! alone is more than the whole `gopack sbom` budget (a tenth of syft's time); it also reads
//! Apache-2.0 without its appendix as "Pixar" (12 of 725 module-cache licence files). Go
//! modules use a small set of licences, which this classifier knows; everything else is
//! reported as unrecognised rather than guessed.

use std::collections::{HashMap, HashSet};
use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Least share of a licence's word pairs a file must contain for that licence to be found.
pub const MIN_CONTAINMENT: f64 = 0.8;
/// Largest share of the words inside a licence's text (from the first to the last word it
/// explains) that may be explained by no licence before the file counts as unrecognised: added
/// or changed terms.
pub const MAX_UNEXPLAINED: f64 = 0.03;
/// Unexplained words always tolerated inside a licence's text (a changed word or two).
pub const MIN_SLACK_WORDS: usize = 4;
/// Largest share of a file's words outside every licence text found (titles, notes on which
/// files the licence covers) before the file counts as unrecognised.
pub const MAX_OUTSIDE: f64 = 0.5;
/// Files larger than this are not read (bytes); no licence text comes close.
pub const MAX_LICENCE_FILE: u64 = 512 << 10;
/// Text kept for an unrecognised file in the SBOM (bytes, cut at a character boundary).
pub const MAX_KEPT_TEXT: usize = 32 << 10;

/// The licences gopack recognises: SPDX identifier and canonical text.
const TEMPLATES: &[(&str, &str)] = &[
    ("0BSD", include_str!("licences/0BSD.txt")),
    ("AGPL-3.0-only", include_str!("licences/AGPL-3.0.txt")),
    ("Apache-2.0", include_str!("licences/Apache-2.0.txt")),
    // The notice the licence's appendix asks for, often the whole LICENSE file.
    ("Apache-2.0", include_str!("licences/Apache-2.0-notice.txt")),
    ("BlueOak-1.0.0", include_str!("licences/BlueOak-1.0.0.txt")),
    ("BSD-2-Clause", include_str!("licences/BSD-2-Clause.txt")),
    (
        "BSD-2-Clause-Patent",
        include_str!("licences/BSD-2-Clause-Patent.txt"),
    ),
    ("BSD-3-Clause", include_str!("licences/BSD-3-Clause.txt")),
    ("BSL-1.0", include_str!("licences/BSL-1.0.txt")),
    ("CC-BY-4.0", include_str!("licences/CC-BY-4.0.txt")),
    ("CC-BY-SA-4.0", include_str!("licences/CC-BY-SA-4.0.txt")),
    ("CC0-1.0", include_str!("licences/CC0-1.0.txt")),
    ("EPL-1.0", include_str!("licences/EPL-1.0.txt")),
    ("EPL-2.0", include_str!("licences/EPL-2.0.txt")),
    ("GPL-2.0-only", include_str!("licences/GPL-2.0.txt")),
    ("GPL-3.0-only", include_str!("licences/GPL-3.0.txt")),
    ("ISC", include_str!("licences/ISC.txt")),
    ("JSON", include_str!("licences/JSON.txt")),
    ("LGPL-2.1-only", include_str!("licences/LGPL-2.1.txt")),
    ("LGPL-3.0-only", include_str!("licences/LGPL-3.0.txt")),
    ("MIT", include_str!("licences/MIT.txt")),
    ("MIT-0", include_str!("licences/MIT-0.txt")),
    ("MPL-2.0", include_str!("licences/MPL-2.0.txt")),
    ("PostgreSQL", include_str!("licences/PostgreSQL.txt")),
    (
        "Unicode-DFS-2016",
        include_str!("licences/Unicode-DFS-2016.txt"),
    ),
    ("Unlicense", include_str!("licences/Unlicense.txt")),
    ("WTFPL", include_str!("licences/WTFPL.txt")),
    ("Zlib", include_str!("licences/Zlib.txt")),
];

/// What one licence file turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileVerdict {
    /// SPDX identifiers of the licences found (one or more), in the order they appear.
    Identified(Vec<String>),
    /// Not a licence gopack knows, or one with terms added; `closest` names the licence it
    /// resembles most, when one reached [`MIN_CONTAINMENT`].
    Unrecognised {
        /// The nearest known licence, if any.
        closest: Option<String>,
    },
}

/// One licence file of a module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenceFile {
    /// Its name at the module root (`LICENSE`, `COPYING.md`).
    pub name: String,
    /// What it is.
    pub verdict: FileVerdict,
    /// Its text (at most [`MAX_KEPT_TEXT`] bytes), kept only when unrecognised.
    pub text: Option<String>,
}

/// What is known about a module's licence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Licence {
    /// A licence known without reading files (the Go standard library's BSD-3-Clause).
    Known(String),
    /// The licence files found at the module root (at least one).
    Files(Vec<LicenceFile>),
    /// The module is in the cache but has no licence file at its root.
    NoFile,
    /// The module is not in the module cache (or has no version to find it by), so nothing
    /// could be read offline.
    NotInCache,
}

impl Licence {
    /// The SPDX identifiers found, each once, in order.
    pub fn identifiers(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut add = |id: &str| {
            if !out.iter().any(|x| x == id) {
                out.push(id.to_string());
            }
        };
        match self {
            Licence::Known(id) => add(id),
            Licence::Files(files) => {
                for f in files {
                    if let FileVerdict::Identified(ids) = &f.verdict {
                        ids.iter().for_each(|id| add(id));
                    }
                }
            }
            Licence::NoFile | Licence::NotInCache => {}
        }
        out
    }

    /// The files that are not a licence gopack knows.
    pub fn unrecognised(&self) -> Vec<&LicenceFile> {
        match self {
            Licence::Files(files) => files
                .iter()
                .filter(|f| matches!(f.verdict, FileVerdict::Unrecognised { .. }))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Looks modules up in a module cache, remembering answers (an image's binaries share
/// modules).
pub struct LicenceFinder {
    modcache: Option<PathBuf>,
    seen: std::sync::Mutex<HashMap<(String, String), Licence>>,
}

impl LicenceFinder {
    /// A finder over the module cache at `modcache` (`None`: every module is
    /// [`Licence::NotInCache`]).
    pub fn new(modcache: Option<PathBuf>) -> LicenceFinder {
        LicenceFinder {
            modcache,
            seen: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The module cache this finder reads.
    pub fn modcache(&self) -> Option<&Path> {
        self.modcache.as_deref()
    }

    /// The licence of `path@version`, from the module cache. Never fails: an unreadable
    /// file is left out, a missing directory is [`Licence::NotInCache`].
    pub fn module(&self, path: &str, version: &str) -> Licence {
        let key = (path.to_string(), version.to_string());
        if let Some(l) = self.lock().get(&key) {
            return l.clone();
        }
        let licence = match &self.modcache {
            Some(cache) if !version.is_empty() && version != "(devel)" => {
                let dir = cache.join(format!(
                    "{}@{}",
                    super::purl::escape_module(path),
                    super::purl::escape_module(version)
                ));
                licence_of_dir(&dir)
            }
            _ => Licence::NotInCache,
        };
        self.lock().insert(key, licence.clone());
        licence
    }

    /// Looks up every module of `info` (dependencies, replacements applied, and the main
    /// module) so that later [`LicenceFinder::module`] calls are answered from memory; meant
    /// to run while something else (hashing the binary) keeps another core busy.
    pub fn prefetch(&self, info: &crate::binary::buildinfo::BuildInfo) {
        for m in info.main.iter().chain(&info.deps) {
            let m = match m.replace.as_deref() {
                Some(r) if !r.version.is_empty() => r,
                _ => m,
            };
            let _ = self.module(&m.path, &m.version);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Licence>> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The licence files at the root of a module directory (a module cache entry, or a source
/// tree), classified. A missing directory is [`Licence::NotInCache`].
pub fn licence_of_dir(dir: &Path) -> Licence {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Licence::NotInCache;
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_licence_file_name(n))
        .collect();
    names.sort();
    let files: Vec<LicenceFile> = names
        .into_iter()
        .filter_map(|name| {
            let path = dir.join(&name);
            let meta = std::fs::metadata(&path).ok()?;
            if meta.len() > MAX_LICENCE_FILE {
                return None;
            }
            let bytes = std::fs::read(&path).ok()?;
            let text = String::from_utf8_lossy(&bytes);
            let verdict = classify(&text);
            let kept = matches!(verdict, FileVerdict::Unrecognised { .. })
                .then(|| cut(&text, MAX_KEPT_TEXT).to_string());
            Some(LicenceFile {
                name,
                verdict,
                text: kept,
            })
        })
        .collect();
    if files.is_empty() {
        Licence::NoFile
    } else {
        Licence::Files(files)
    }
}

/// `LICENSE`, `LICENCE.md`, `COPYING.LESSER`, `LICENSE-APACHE`, `UNLICENSE`, `MIT-LICENSE.txt`…;
/// not source or data files (`license.go`, `license.json`).
pub fn is_licence_file_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let (stem, ext) = match lower.split_once('.') {
        Some((s, e)) => (s, e),
        None => (lower.as_str(), ""),
    };
    let stem_ok = ["license", "licence", "copying", "unlicense", "mit-license"]
        .iter()
        .any(|p| {
            stem == *p || stem.starts_with(&format!("{p}-")) || stem.starts_with(&format!("{p}_"))
        });
    // Any extension but those of code and data files (`license.go`, `license.json`).
    let ext_ok = !matches!(
        ext.rsplit('.').next().unwrap_or(""),
        "go" | "s"
            | "c"
            | "h"
            | "cc"
            | "cpp"
            | "py"
            | "sh"
            | "js"
            | "ts"
            | "json"
            | "yaml"
            | "yml"
            | "toml"
            | "xml"
            | "html"
            | "css"
            | "proto"
            | "mod"
            | "sum"
            | "png"
            | "jpg"
            | "svg"
            | "tmpl"
    );
    stem_ok && ext_ok
}

fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Classifies one licence text (see the module docs for the rules).
pub fn classify(text: &str) -> FileVerdict {
    classify_detail(text).0
}

/// How much of a text the licences found leave unexplained: inside their regions (from the
/// first to the last word a licence explains) and outside them, in words.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unexplained {
    /// Words inside the licences' regions that no licence explains (added terms).
    pub inside: usize,
    /// Words inside the regions.
    pub region_words: usize,
    /// Words outside every region (titles, notes, third-party notices).
    pub outside: usize,
    /// All words compared (copyright lines left out).
    pub words: usize,
}

/// [`classify`], with how much of the text was left unexplained.
pub fn classify_detail(text: &str) -> (FileVerdict, Unexplained) {
    if let Some(expression) = spdx_identifier_line(text) {
        return (
            FileVerdict::Identified(vec![expression]),
            Unexplained::default(),
        );
    }
    let words = word_hashes(text);
    if words.len() < 2 {
        return (
            FileVerdict::Unrecognised { closest: None },
            Unexplained::default(),
        );
    }
    let set = templates();
    // For each word pair of the text, the templates holding it (one bit per template).
    let masks: Vec<u64> = words
        .windows(2)
        .map(|w| set.index.get(&pair_hash(w[0], w[1])).copied().unwrap_or(0))
        .collect();
    let found = find_templates(set, &words, &masks);
    let mut covered = vec![false; words.len()];
    let mut in_region = vec![false; words.len()];
    for &(_, t) in &found {
        let bit = 1u64 << t;
        let hits: Vec<usize> = (0..masks.len()).filter(|&i| masks[i] & bit != 0).collect();
        for &i in &hits {
            covered[i] = true;
            covered[i + 1] = true;
        }
        if let (Some(&first), Some(&last)) = (hits.first(), hits.last()) {
            in_region[first..=last + 1]
                .iter_mut()
                .for_each(|r| *r = true);
        }
    }
    let count = |f: &dyn Fn(usize) -> bool| (0..words.len()).filter(|&i| f(i)).count();
    let unexplained = Unexplained {
        inside: count(&|i| in_region[i] && !covered[i]),
        region_words: count(&|i| in_region[i]),
        outside: count(&|i| !in_region[i]),
        words: words.len(),
    };
    let closest = found.first().map(|&(_, t)| set.list[t].id.to_string());
    // Terms no licence explains (`may not`, `shall`…), wherever they are.
    let added_terms = (0..words.len()).any(|i| !covered[i] && is_normative(&words, i));
    let too_much = unexplained.inside as f64
        > (MAX_UNEXPLAINED * unexplained.region_words as f64).max(MIN_SLACK_WORDS as f64)
        || unexplained.outside as f64 > MAX_OUTSIDE * unexplained.words as f64
        || added_terms;
    if found.is_empty() || too_much {
        return (FileVerdict::Unrecognised { closest }, unexplained);
    }
    let mut ids: Vec<(usize, &'static str)> = found
        .iter()
        .map(|&(first, t)| (first, set.list[t].id))
        .collect();
    // The LGPL-3.0 is the GPL-3.0 plus additional permissions: a file with both is LGPL.
    if ids.iter().any(|(_, id)| *id == "LGPL-3.0-only") {
        ids.retain(|(_, id)| *id != "GPL-3.0-only");
    }
    ids.sort();
    let mut out: Vec<String> = Vec::new();
    for (_, id) in ids {
        if !out.iter().any(|x| x == id) {
            out.push(id.to_string());
        }
    }
    (FileVerdict::Identified(out), unexplained)
}

/// Whether word `i` starts language that sets terms (`shall`, `must`, `may not`,
/// `prohibited`…): where no licence explains it, that is an added term, not a title or a
/// note.
fn is_normative(words: &[u64], i: usize) -> bool {
    static CUES: OnceLock<(Vec<u64>, u64, u64)> = OnceLock::new();
    let (single, may, not) = CUES.get_or_init(|| {
        let single = [
            "shall",
            "must",
            "prohibited",
            "forbidden",
            "restricted",
            "restriction",
            "restrictions",
            "unless",
        ];
        (
            single.iter().map(|w| fnv1a(w.as_bytes())).collect(),
            fnv1a(b"may"),
            fnv1a(b"not"),
        )
    });
    single.contains(&words[i]) || (words[i] == *may && words.get(i + 1) == Some(not))
}

/// The templates whose texts the word pairs hold, best first, each as (position of the first
/// pair it explains, template number).
fn find_templates(set: &TemplateSet, words: &[u64], masks: &[u64]) -> Vec<(usize, usize)> {
    // How many of each template's distinct pairs the text holds.
    let mut matched = vec![0usize; set.list.len()];
    let mut seen: HashSet<u64, IdentityHash> = HashSet::default();
    for (i, mask) in masks.iter().enumerate() {
        if *mask != 0 && seen.insert(pair_hash(words[i], words[i + 1])) {
            for (t, m) in matched.iter_mut().enumerate() {
                *m += usize::from(mask & (1 << t) != 0);
            }
        }
    }
    let mut explained = vec![false; masks.len()];
    let mut found: Vec<(usize, usize)> = Vec::new();
    loop {
        let mut best: Option<(i64, usize)> = None;
        for (t, template) in set.list.iter().enumerate() {
            let needed = MIN_CONTAINMENT * template.pairs as f64;
            if found.iter().any(|&(_, f)| f == t) || (matched[t] as f64) < needed {
                continue;
            }
            // A licence found after another must explain pairs the others did not.
            if !found.is_empty() {
                let fresh = (0..masks.len())
                    .filter(|&i| !explained[i] && masks[i] & (1 << t) != 0)
                    .count();
                if (fresh as f64) < needed * 0.5 {
                    continue;
                }
            }
            let score = matched[t] as i64 - 2 * (template.pairs - matched[t]) as i64;
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, t));
            }
        }
        let Some((_, t)) = best else {
            return found;
        };
        let mut first = usize::MAX;
        for (i, mask) in masks.iter().enumerate() {
            if mask & (1 << t) != 0 {
                explained[i] = true;
                first = first.min(i);
            }
        }
        found.push((first, t));
    }
}

/// The expression of an `SPDX-License-Identifier:` line, when it parses as one.
fn spdx_identifier_line(text: &str) -> Option<String> {
    let line = text.lines().take(200).find_map(|l| {
        l.split_once("SPDX-License-Identifier:")
            .map(|(_, rest)| rest.trim())
    })?;
    let expression = line.trim_end_matches(['*', '/', '-', '>', ' ']).trim();
    spdx::Expression::parse(expression)
        .ok()
        .map(|_| expression.to_string())
}

struct Template {
    id: &'static str,
    /// Distinct word pairs in its text.
    pairs: usize,
}

/// Every template, and for each word pair the templates holding it (bit `t` for template `t`).
struct TemplateSet {
    list: Vec<Template>,
    index: HashMap<u64, u64, IdentityHash>,
}

fn templates() -> &'static TemplateSet {
    static SET: OnceLock<TemplateSet> = OnceLock::new();
    SET.get_or_init(|| {
        const _: () = assert!(TEMPLATES.len() <= 64, "one bit per template");
        let mut index: HashMap<u64, u64, IdentityHash> = HashMap::default();
        let list = TEMPLATES
            .iter()
            .enumerate()
            .map(|(t, (id, text))| {
                let words = word_hashes(text);
                let pairs: HashSet<u64> = words.windows(2).map(|w| pair_hash(w[0], w[1])).collect();
                for p in &pairs {
                    *index.entry(*p).or_default() |= 1 << t;
                }
                Template {
                    id,
                    pairs: pairs.len(),
                }
            })
            .collect();
        TemplateSet { list, index }
    })
}

/// The words of a licence text as hashes, lower-cased, spelling variants unified (`licence`
/// → `license`), with copyright statements and URL scheme words left out: what the comparison
/// sees.
fn word_hashes(text: &str) -> Vec<u64> {
    let mut out = Vec::new();
    let mut lower = String::new();
    for line in text.lines() {
        let line = line.trim_start_matches(|c: char| !c.is_alphanumeric() && c != '(' && c != '©');
        lower.clear();
        lower.extend(line.chars().flat_map(char::to_lowercase));
        if is_copyright_statement(&lower) {
            continue;
        }
        for word in lower.split(|c: char| !c.is_alphanumeric()) {
            let word = match word {
                "" | "http" | "https" | "www" => continue,
                "licence" => "license",
                "licences" => "licenses",
                "licenced" => "licensed",
                w => w,
            };
            out.push(fnv1a(word.as_bytes()));
        }
    }
    out
}

/// `Copyright (c) 2020 Someone`, `© Someone`, `Copyright The Go Authors`, `All rights
/// reserved.` — but not a wrapped licence line such as `copyright notice and this permission
/// notice appear in all copies`.
fn is_copyright_statement(line: &str) -> bool {
    if line.starts_with("(c)") || line.starts_with('©') || line.starts_with("all rights reserved")
    {
        return true;
    }
    let Some(rest) = line.strip_prefix("copyright") else {
        return false;
    };
    let next = rest
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty())
        .unwrap_or("");
    !matches!(
        next,
        "notice"
            | "notices"
            | "holder"
            | "holders"
            | "owner"
            | "owners"
            | "license"
            | "law"
            | "laws"
            | "and"
            | "or"
            | "statement"
            | "statements"
            | "protection"
            | "interest"
            | "interests"
            | "infringement"
            | "to"
            | "in"
            | "of"
            | "is"
            | "that"
            | "which"
    )
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn pair_hash(a: u64, b: u64) -> u64 {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_le_bytes());
    bytes[8..].copy_from_slice(&b.to_le_bytes());
    fnv1a(&bytes)
}

/// Keys that are hashes already are used as they are.
#[derive(Clone, Copy, Default)]
struct IdentityHash;

impl std::hash::BuildHasher for IdentityHash {
    type Hasher = IdentityHasher;
    fn build_hasher(&self) -> IdentityHasher {
        IdentityHasher(0)
    }
}

struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0 = fnv1a(bytes);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests;
