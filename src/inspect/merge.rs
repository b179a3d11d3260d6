//! Replays layer records, lowest first, into the image's file system ([`FileTree`]) and keeps
//! the books on every copy of every path on the way:
//!
//! - each file copy (a member with content, in any layer) is either **kept** (it is what the
//!   final image shows) or **reclaimable**, and then exactly one of: *overwritten* by a later
//!   copy with other content, a *metadata-only* duplicate (a later copy has the same content:
//!   only mode, owner or time changed), or *deleted* by a whiteout or opaque directory. So
//!   `total = kept + overwritten + metadata_only + deleted`, with nothing counted twice;
//! - dive's own figures, computed as dive computes them (`dive/filetree/efficiency.go`): every
//!   leaf of every layer's tree is a visit of its path; a whiteout visits with the size of the
//!   directory it deletes (0 for a file); opaque markers only add an empty visit of their
//!   directory; efficiency = Σ smallest visit / Σ all visits; wasted = Σ all visits of every
//!   path visited twice or more — which counts the copy that stays as waste (dive #684).

use std::collections::{HashMap as StdHashMap, HashSet as StdHashSet};

/// Hash maps keyed by paths: foldhash, as hashbrown uses, instead of SipHash (image paths are
/// not chosen to collide by anyone who can see the process, and SipHash was a fifth of a warm
/// inspect).
pub type HashMap<K, V> = StdHashMap<K, V, foldhash::fast::RandomState>;
/// See [`HashMap`].
pub type HashSet<K> = StdHashSet<K, foldhash::fast::RandomState>;

use super::record::{ElfFile, Entry, FLAG_PRIVATE_KEY, GoBinary, Kind, LayerRecord, PathProblem};
use super::sensitive;
use crate::oci::{Applied, FileTree, NodeInfo, Whiteout};

/// How a copy stopped being the one the image shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WasteKind {
    /// A later layer wrote the path with other content (or turned it into something else).
    Overwritten,
    /// A later copy has the same content; only mode, owner or time changed (chmod/chown).
    MetadataOnly,
    /// A whiteout or opaque directory deleted it.
    Deleted,
}

/// dive's bookkeeping for one path.
#[derive(Clone, Copy, Debug, Default)]
struct DiveStat {
    visits: u32,
    cumulative: u64,
    smallest: u64,
}

impl DiveStat {
    fn visit(&mut self, size: u64) {
        self.smallest = if self.visits == 0 {
            size
        } else {
            self.smallest.min(size)
        };
        self.visits += 1;
        self.cumulative += size;
    }

    fn absorb(&mut self, other: DiveStat) {
        if other.visits == 0 {
            return;
        }
        self.smallest = if self.visits == 0 {
            other.smallest
        } else {
            self.smallest.min(other.smallest)
        };
        self.visits += other.visits;
        self.cumulative += other.cumulative;
    }
}

/// What is known about a path that exists now.
#[derive(Clone, Debug, Default)]
pub struct PathState {
    /// sha256 of the current content, for files.
    pub sha256: Option<[u8; 32]>,
    /// Flags of the current copy ([`super::record::FLAG_ELF`]…).
    pub flags: u8,
    dive: DiveStat,
}

/// A path with reclaimable copies.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct WastedPath {
    /// Normalised path.
    pub path: String,
    /// Reclaimable copies.
    pub copies: u32,
    /// Their bytes (uncompressed).
    pub bytes: u64,
    /// What happened to them, each kind once, in the order first seen.
    pub kinds: Vec<WasteKind>,
}

/// A copy of a sensitive file that is no longer visible but still stored in a layer blob.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BuriedSecret {
    /// Normalised path.
    pub path: String,
    /// 0-based index of the layer whose blob holds it.
    pub layer: u32,
    /// Its size in bytes.
    pub size: u64,
    /// Why it is sensitive.
    pub why: &'static str,
    /// How it was hidden.
    pub hidden_by: WasteKind,
}

/// Per-layer facts from the replay.
#[derive(Clone, Debug, Default)]
pub struct LayerFacts {
    /// Members (whiteouts included).
    pub entries: usize,
    /// Σ member sizes: the layer's file bytes (what dive calls the layer size).
    pub file_bytes: u64,
    /// Bytes of this layer's copies that are reclaimable.
    pub reclaimable: u64,
}

/// A Go binary and where it lies.
#[derive(Clone, Debug)]
pub struct FoundBinary {
    /// 0-based layer index.
    pub layer: u32,
    /// Normalised path.
    pub path: String,
    /// Content size.
    pub size: u64,
    /// Mode bits of that copy.
    pub mode: u32,
    /// Owner of that copy.
    pub uid: u64,
    /// Group of that copy.
    pub gid: u64,
    /// What the binary says.
    pub binary: GoBinary,
}

/// An ELF file that is not a Go binary, and where it lies.
#[derive(Clone, Debug)]
pub struct FoundElf {
    /// 0-based layer index.
    pub layer: u32,
    /// Normalised path.
    pub path: String,
    /// Content size.
    pub size: u64,
    /// Mode bits of that copy.
    pub mode: u32,
    /// What its headers say.
    pub file: ElfFile,
}

/// A member with an odd stored path, with its layer.
#[derive(Clone, Debug)]
pub struct FoundProblem {
    /// 0-based layer index.
    pub layer: u32,
    /// The normalised path of the member.
    pub path: String,
    /// The problem.
    pub problem: PathProblem,
}

/// Waste totals (bytes, uncompressed).
#[derive(Clone, Debug, Default)]
pub struct WasteTally {
    /// Σ sizes of every file copy in every layer.
    pub total: u64,
    /// Overwritten copies.
    pub overwritten: u64,
    /// Metadata-only duplicates.
    pub metadata_only: u64,
    /// Deleted copies.
    pub deleted: u64,
}

impl WasteTally {
    /// Everything reclaimable.
    pub fn reclaimable(&self) -> u64 {
        self.overwritten + self.metadata_only + self.deleted
    }
}

/// dive's figures, as dive would print them for the same layers.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct DiveFigures {
    /// Σ smallest visit / Σ all visits (1 when nothing was visited).
    pub efficiency: f64,
    /// Σ all visits of paths visited twice or more.
    pub wasted_bytes: u64,
    /// `wasted_bytes` / Σ file bytes of every layer but the first; `None` when that is 0.
    pub user_wasted_percent: Option<f64>,
}

/// The replayed image.
pub struct Merged {
    /// The final file system.
    pub tree: FileTree,
    /// State of every path that exists (files, and paths dive visited).
    pub states: HashMap<Box<str>, PathState>,
    /// Per-layer facts, in layer order.
    pub layers: Vec<LayerFacts>,
    /// Waste totals.
    pub waste: WasteTally,
    /// Paths with reclaimable copies.
    pub wasted_paths: HashMap<Box<str>, WastedPath>,
    /// dive's figures.
    pub dive: DiveFigures,
    /// Sensitive files hidden but still stored.
    pub buried: Vec<BuriedSecret>,
    /// Go binaries of every layer (check [`Merged::is_current`] for those the image shows).
    pub binaries: Vec<FoundBinary>,
    /// Other ELF files of every layer (check [`Merged::is_current`] for those the image shows).
    pub elf_files: Vec<FoundElf>,
    /// Captured small files: path → (layer, content), the last copy written.
    pub captured: HashMap<String, (u32, Vec<u8>)>,
    /// Members with odd stored paths.
    pub path_problems: Vec<FoundProblem>,
}

impl Merged {
    /// Whether the copy of `path` written by `layer` is the one the image shows.
    pub fn is_current(&self, path: &str, layer: u32) -> bool {
        self.tree
            .lookup_link(path)
            .is_some_and(|id| self.tree.info(id).layer == layer && !self.tree.info(id).implicit)
    }

    /// The content of a captured file as the image shows it (`etc/passwd`…).
    pub fn captured(&self, path: &str) -> Option<&[u8]> {
        let (layer, bytes) = self.captured.get(path)?;
        self.is_current(path, *layer).then_some(bytes.as_slice())
    }
}

/// Replays records in layer order.
#[derive(Default)]
pub struct Merger {
    tree: FileTree,
    live: HashMap<Box<str>, PathState>,
    gone: HashMap<Box<str>, DiveStat>,
    layers: Vec<LayerFacts>,
    waste: WasteTally,
    wasted_paths: HashMap<Box<str>, WastedPath>,
    buried: Vec<BuriedSecret>,
    binaries: Vec<FoundBinary>,
    elf_files: Vec<FoundElf>,
    captured: HashMap<String, (u32, Vec<u8>)>,
    path_problems: Vec<FoundProblem>,
}

/// One copy leaving the image.
struct Leaving<'a> {
    path: &'a str,
    info: &'a NodeInfo,
    kind: WasteKind,
    flags: u8,
}

impl Merger {
    /// An empty image.
    pub fn new() -> Merger {
        Merger::default()
    }

    /// Applies the next layer (layers must come in order, from 0).
    pub fn apply(&mut self, record: LayerRecord) {
        let layer = self.layers.len() as u32;
        self.layers.push(LayerFacts {
            entries: record.entries.len(),
            file_bytes: record.entries.iter().map(|e| e.size).sum(),
            reclaimable: 0,
        });
        self.tree.begin_layer(layer);
        let leaves = dive_leaves(&record.entries);
        for (i, e) in record.entries.iter().enumerate() {
            match e.kind {
                Kind::Whiteout => self.whiteout(e),
                Kind::Opaque => {
                    if leaves.phantoms.contains(e.path.as_str()) {
                        self.dive_visit(&e.path, 0);
                    }
                    self.tree.whiteout(Whiteout::Opaque(e.path.clone()));
                }
                _ => self.insert(layer, e, leaves.entries.contains(&i)),
            }
        }
        let mut removed: Vec<(String, NodeInfo)> = Vec::new();
        self.tree
            .end_layer_with(|p, info| removed.push((p.to_string(), info.clone())));
        for (path, info) in &removed {
            self.leave(Leaving {
                path,
                info,
                kind: WasteKind::Deleted,
                flags: 0,
            });
        }
        self.keep_extras(layer, record);
    }

    fn keep_extras(&mut self, layer: u32, record: LayerRecord) {
        for c in record.captured {
            let path = record.entries[c.entry as usize].path.clone();
            self.captured.insert(path, (layer, c.bytes));
        }
        for b in record.binaries {
            let e = &record.entries[b.entry as usize];
            self.binaries.push(FoundBinary {
                layer,
                path: e.path.clone(),
                size: e.size,
                mode: e.mode,
                uid: e.uid,
                gid: e.gid,
                binary: b,
            });
        }
        for f in record.elf_files {
            let e = &record.entries[f.entry as usize];
            self.elf_files.push(FoundElf {
                layer,
                path: e.path.clone(),
                size: e.size,
                mode: e.mode,
                file: f,
            });
        }
        for p in record.path_problems {
            self.path_problems.push(FoundProblem {
                layer,
                path: record.entries[p.entry as usize].path.clone(),
                problem: p,
            });
        }
    }

    fn whiteout(&mut self, e: &Entry) {
        // dive sizes a whiteout by what it deletes, when that is a directory; a file: 0.
        let size = match self.tree.lookup_link(&e.path) {
            Some(id) if self.tree.info(id).file_type == crate::oci::FileType::Directory => {
                subtree_bytes(&self.tree, id)
            }
            _ => 0,
        };
        self.dive_visit(&e.path, size);
        self.tree.whiteout(Whiteout::Remove(e.path.clone()));
    }

    fn insert(&mut self, layer: u32, e: &Entry, dive_leaf: bool) {
        self.waste.total += e.size;
        let info = NodeInfo {
            file_type: e.kind.file_type(),
            mode: e.mode,
            uid: e.uid,
            gid: e.gid,
            size: e.size,
            mtime: e.mtime,
            link_target: e.link.as_deref().map(Box::from),
            layer,
            implicit: false,
        };
        let mut dropped: Vec<(String, NodeInfo)> = Vec::new();
        let applied = self.tree.insert_with(&e.path, info, &mut |p, i| {
            dropped.push((p.to_string(), i.clone()))
        });
        for (path, info) in &dropped {
            self.leave(Leaving {
                path,
                info,
                kind: WasteKind::Overwritten,
                flags: 0,
            });
        }
        let previous = self.live.get(e.path.as_str()).cloned().unwrap_or_default();
        if let Applied::Replaced(prev) = &applied {
            let same = e.kind == Kind::File && e.sha256.is_some() && e.sha256 == previous.sha256;
            let kind = if same {
                WasteKind::MetadataOnly
            } else {
                WasteKind::Overwritten
            };
            self.count_waste(&e.path, prev, kind, previous.flags);
        }
        let mut dive = previous.dive;
        if let Some(old) = self.gone.remove(e.path.as_str()) {
            dive.absorb(old);
        }
        if dive_leaf {
            dive.visit(e.size);
        }
        let keep_state = matches!(e.kind, Kind::File | Kind::Sparse) || dive.visits > 0;
        if keep_state {
            let state = PathState {
                sha256: e.sha256,
                flags: e.flags,
                dive,
            };
            match self.live.get_mut(e.path.as_str()) {
                Some(s) => *s = state,
                None => {
                    self.live.insert(e.path.as_str().into(), state);
                }
            }
        } else {
            self.live.remove(e.path.as_str());
        }
    }

    /// A copy that leaves the image without being replaced at its path (deleted, or dropped
    /// because a parent changed kind): its state is retired and its bytes counted.
    fn leave(&mut self, l: Leaving<'_>) {
        let state = self.live.remove(l.path);
        let flags = state.as_ref().map_or(l.flags, |s| s.flags);
        if let Some(s) = state {
            self.gone.entry(l.path.into()).or_default().absorb(s.dive);
        }
        self.count_waste(l.path, l.info, l.kind, flags);
    }

    fn count_waste(&mut self, path: &str, copy: &NodeInfo, kind: WasteKind, flags: u8) {
        if copy.size == 0 {
            return;
        }
        match kind {
            WasteKind::Overwritten => self.waste.overwritten += copy.size,
            WasteKind::MetadataOnly => self.waste.metadata_only += copy.size,
            WasteKind::Deleted => self.waste.deleted += copy.size,
        }
        if let Some(l) = self.layers.get_mut(copy.layer as usize) {
            l.reclaimable += copy.size;
        }
        let w = self.wasted_paths.entry(path.into()).or_default();
        if w.path.is_empty() {
            w.path = path.to_string();
        }
        w.copies += 1;
        w.bytes += copy.size;
        if !w.kinds.contains(&kind) {
            w.kinds.push(kind);
        }
        let why = sensitive::classify(path)
            .map(|s| s.why)
            .or_else(|| (flags & FLAG_PRIVATE_KEY != 0).then_some("holds a PEM private key"));
        if let Some(why) = why {
            self.buried.push(BuriedSecret {
                path: path.to_string(),
                layer: copy.layer,
                size: copy.size,
                why,
                hidden_by: kind,
            });
        }
    }

    fn dive_visit(&mut self, path: &str, size: u64) {
        match self.live.get_mut(path) {
            Some(s) => s.dive.visit(size),
            None => self.gone.entry(path.into()).or_default().visit(size),
        }
    }

    /// The replayed image, with dive's figures.
    pub fn finish(self) -> Merged {
        let mut smallest = 0u64;
        let mut all = 0u64;
        let mut wasted = 0u64;
        let stats = self
            .live
            .values()
            .map(|s| s.dive)
            .chain(self.gone.values().copied());
        for d in stats {
            smallest += d.smallest;
            all += d.cumulative;
            if d.visits >= 2 {
                wasted += d.cumulative;
            }
        }
        let user: u64 = self.layers.iter().skip(1).map(|l| l.file_bytes).sum();
        let dive = DiveFigures {
            efficiency: if all == 0 {
                1.0
            } else {
                smallest as f64 / all as f64
            },
            wasted_bytes: wasted,
            user_wasted_percent: (user > 0).then(|| wasted as f64 / user as f64),
        };
        Merged {
            tree: self.tree,
            states: self.live,
            layers: self.layers,
            waste: self.waste,
            wasted_paths: self.wasted_paths,
            dive,
            buried: self.buried,
            binaries: self.binaries,
            elf_files: self.elf_files,
            captured: self.captured,
            path_problems: self.path_problems,
        }
    }
}

/// Σ sizes of everything below (and at) a node.
fn subtree_bytes(tree: &FileTree, id: crate::oci::NodeId) -> u64 {
    let mut total = 0;
    let mut stack = vec![id];
    while let Some(n) = stack.pop() {
        total += tree.info(n).size;
        stack.extend(tree.children(n).map(|(_, c)| c));
    }
    total
}

/// Which members of one layer are leaves of that layer's own tree, as dive builds it.
struct Leaves<'a> {
    /// Indexes of non-whiteout members that are leaves (the last member of each path).
    entries: HashSet<usize>,
    /// Opaque directories dive makes as empty leaves (no member at or below them).
    phantoms: HashSet<&'a str>,
}

fn dive_leaves(entries: &[Entry]) -> Leaves<'_> {
    let mut parents: HashSet<&str> = HashSet::default();
    let mut last: HashMap<&str, usize> = HashMap::default();
    for (i, e) in entries.iter().enumerate() {
        if !matches!(e.kind, Kind::Whiteout | Kind::Opaque) {
            last.insert(e.path.as_str(), i);
        }
        // Every ancestor of the member's node has a child in this layer (for an opaque
        // marker, dive creates the directory node on the way to the skipped marker).
        let mut p = e.path.as_str();
        while let Some((parent, _)) = p.rsplit_once('/') {
            if !parents.insert(parent) {
                break;
            }
            p = parent;
        }
    }
    let phantoms = entries
        .iter()
        .filter(|e| e.kind == Kind::Opaque)
        .map(|e| e.path.as_str())
        .filter(|d| !d.is_empty() && !parents.contains(d) && !last.contains_key(d))
        .collect();
    let entries = last
        .into_iter()
        .filter(|(path, _)| !path.is_empty() && !parents.contains(path))
        .map(|(_, i)| i)
        .collect();
    Leaves { entries, phantoms }
}

#[cfg(test)]
mod tests;
