//! The file system an image's layers add up to, built entry by entry from [`EntryMeta`]s with
//! the whiteout rules of image-spec `layer.md`: `.wh.NAME` deletes `NAME` and `.wh..wh..opq`
//! hides a directory's contents, each only for *lower* layers (so a layer may delete a directory
//! and recreate it, in any member order).
//!
//! Costs are bounded by the input, never quadratic: paths live in a tree of per-directory maps
//! (a whiteout is one lookup, not a scan of every path — issue 8, item 10), whiteouts are
//! applied once per distinct path at the end of their layer, and symlinks are resolved with a
//! depth limit of [`MAX_LINK_DEPTH`] nested links and memoised per lookup, so a chain or tree
//! of links costs time linear in the links (issue 8, item 9).
#![warn(missing_docs)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use super::digest::Digest;
use super::image::Image;
use super::layer_reader::{EntryMeta, LayerReadError, Whiteout};
use super::resolve::open_layer;
use super::source::{ImageSource, SourceError};
use super::tar_reader::{FileType, TarLimits};

/// Most symlinks followed one inside another while resolving a path (Linux's `MAXSYMLINKS`).
pub const MAX_LINK_DEPTH: u32 = 40;

/// A node of a [`FileTree`]; valid until the tree is next changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeId(u32);

/// What the tree knows about one path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInfo {
    /// What it is.
    pub file_type: FileType,
    /// Permission, set-id and sticky bits.
    pub mode: u32,
    /// Owner user id.
    pub uid: u64,
    /// Owner group id.
    pub gid: u64,
    /// Content size in bytes (uncompressed; 0 for all but regular and sparse files).
    pub size: u64,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
    /// A symlink's stored target, or a hard link's normalised target path.
    pub link_target: Option<Box<str>>,
    /// Index (0-based) of the layer that last wrote this path.
    pub layer: u32,
    /// True for a directory no member named, made because a member below it needed it.
    pub implicit: bool,
}

impl NodeInfo {
    fn implicit_dir(layer: u32) -> NodeInfo {
        NodeInfo {
            file_type: FileType::Directory,
            mode: 0o755,
            uid: 0,
            gid: 0,
            size: 0,
            mtime: 0,
            link_target: None,
            layer,
            implicit: true,
        }
    }
}

/// What [`FileTree::apply`] did with an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// A new path.
    Added,
    /// The path existed (from this or a lower layer); this is what it was.
    Replaced(NodeInfo),
    /// A whiteout, queued until [`FileTree::end_layer`].
    Whiteout,
    /// Nothing to apply (aufs metadata such as `.wh..wh.plnk`).
    Ignored,
}

#[derive(Clone, Debug)]
struct Node {
    name: Arc<str>,
    parent: u32,
    /// The newest layer that wrote this node or anything below it.
    latest: u32,
    info: NodeInfo,
    children: Option<BTreeMap<Arc<str>, u32>>,
}

/// A merged view of layers. Use: for each layer, [`FileTree::begin_layer`], [`FileTree::apply`]
/// every entry, [`FileTree::end_layer`]; then look paths up.
#[derive(Clone, Debug)]
pub struct FileTree {
    nodes: Vec<Node>,
    free: Vec<u32>,
    live: usize,
    layer: u32,
    pending: Vec<Whiteout>,
    pending_seen: HashSet<Whiteout>,
}

impl Default for FileTree {
    fn default() -> Self {
        FileTree::new()
    }
}

/// A layer of an image that could not be read into a [`FileTree`].
#[derive(Debug, thiserror::Error)]
#[error("layer {} ({}) of {origin}: {error}", .index + 1, .digest.short())]
pub struct LayerFailure {
    /// 0-based position of the layer in the manifest.
    pub index: usize,
    /// The layer blob's digest.
    pub digest: Digest,
    /// The source, as named by the user.
    pub origin: String,
    /// What went wrong.
    #[source]
    pub error: Box<LayerReadError>,
}

impl FileTree {
    /// Reads every layer of `image` from `source` in one streaming pass each, merging them,
    /// and checks each layer's size and digest (descriptor) and diff_id (config) on the way.
    /// Layers are decompressed and hashed on up to as many threads as there are CPUs (each
    /// handing its entries over in bounded batches) and merged in order on this one.
    pub fn read_image<S: ImageSource + ?Sized>(
        source: &S,
        image: &Image,
        limits: TarLimits,
    ) -> Result<FileTree, LayerFailure> {
        let layers = &image.manifest.layers;
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, layers.len().max(1));
        let mut tree = FileTree::new();
        std::thread::scope(|scope| {
            let mut pending = std::collections::VecDeque::new();
            let mut next = 0;
            for index in 0..layers.len() {
                while pending.len() < workers && next < layers.len() {
                    let (tx, rx) = std::sync::mpsc::sync_channel(8);
                    let expected = image.config.rootfs.diff_ids.get(next);
                    let layer = &layers[next];
                    scope.spawn(move || read_layer(source, layer, expected, limits, tx));
                    pending.push_back(rx);
                    next += 1;
                }
                let Some(rx) = pending.pop_front() else { break };
                tree.begin_layer(index as u32);
                let fail = |error| LayerFailure {
                    index,
                    digest: layers[index].digest.clone(),
                    origin: source.name(),
                    error: Box::new(error),
                };
                loop {
                    match rx.recv() {
                        Ok(Batch::Entries(entries)) => {
                            for entry in &entries {
                                tree.apply(entry);
                            }
                        }
                        Ok(Batch::Done(Ok(()))) => break,
                        Ok(Batch::Done(Err(e))) => return Err(fail(e)),
                        Err(_) => {
                            return Err(fail(LayerReadError::Source(SourceError::Invalid {
                                origin: source.name(),
                                reason: "its layer reader stopped before the end".into(),
                            })));
                        }
                    }
                }
                tree.end_layer();
            }
            Ok(tree)
        })
    }

    /// An empty tree: just the root directory.
    pub fn new() -> FileTree {
        FileTree {
            nodes: vec![Node {
                name: Arc::from(""),
                parent: 0,
                latest: 0,
                info: NodeInfo::implicit_dir(0),
                children: Some(BTreeMap::new()),
            }],
            free: Vec::new(),
            live: 0,
            layer: 0,
            pending: Vec::new(),
            pending_seen: HashSet::new(),
        }
    }

    /// The root directory.
    pub fn root(&self) -> NodeId {
        NodeId(0)
    }

    /// Paths in the tree, not counting the root.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether the tree holds nothing but the root.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Starts layer `layer` (0-based, increasing).
    pub fn begin_layer(&mut self, layer: u32) {
        self.layer = layer;
    }

    /// Applies one entry of the current layer. Whiteouts are queued and take effect at
    /// [`FileTree::end_layer`]. A member under a path that is not a directory replaces it with
    /// a directory (the path is never followed through a symlink).
    pub fn apply(&mut self, entry: &EntryMeta) -> Applied {
        match entry.whiteout() {
            Some(Whiteout::Meta) => return Applied::Ignored,
            Some(w) => {
                if self.pending_seen.insert(w.clone()) {
                    self.pending.push(w);
                }
                return Applied::Whiteout;
            }
            None => {}
        }
        let info = NodeInfo {
            file_type: entry.file_type,
            mode: entry.mode,
            uid: entry.uid,
            gid: entry.gid,
            size: entry.size,
            mtime: entry.mtime,
            link_target: entry.link_target.as_deref().map(Box::from),
            layer: self.layer,
            implicit: false,
        };
        self.insert(&entry.path, info)
    }

    /// Queues a whiteout of the current layer, as [`FileTree::apply`] does for a whiteout
    /// member (for callers that replay layers from a record instead of a tar stream).
    pub fn whiteout(&mut self, whiteout: Whiteout) {
        if whiteout != Whiteout::Meta && self.pending_seen.insert(whiteout.clone()) {
            self.pending.push(whiteout);
        }
    }

    /// Adds or replaces `path` (normalised, `""` is the root) with `info`.
    pub fn insert(&mut self, path: &str, info: NodeInfo) -> Applied {
        self.insert_with(path, info, &mut |_, _| {})
    }

    /// [`FileTree::insert`], calling `dropped(path, info)` for every node the insertion
    /// removes besides the one it replaces: what was below a directory that becomes a file, and
    /// a file that becomes a directory because a member lies below it.
    pub fn insert_with(
        &mut self,
        path: &str,
        info: NodeInfo,
        dropped: &mut dyn FnMut(&str, &NodeInfo),
    ) -> Applied {
        let layer = self.layer;
        self.nodes[0].latest = layer;
        if path.is_empty() {
            if info.file_type != FileType::Directory {
                return Applied::Ignored;
            }
            let previous = std::mem::replace(&mut self.nodes[0].info, info);
            return Applied::Replaced(previous);
        }
        let mut current = 0u32;
        let mut parts = path.split('/').peekable();
        let mut end = 0usize;
        while let Some(part) = parts.next() {
            end += part.len();
            if parts.peek().is_none() {
                return self.put_child(current, part, info, path, dropped);
            }
            current = self.dir_child(current, part, &path[..end], dropped);
            self.nodes[current as usize].latest = layer;
            end += 1;
        }
        Applied::Ignored
    }

    /// The directory `name` under `parent` (at `path`), made (or made a directory) if needed.
    fn dir_child(
        &mut self,
        parent: u32,
        name: &str,
        path: &str,
        dropped: &mut dyn FnMut(&str, &NodeInfo),
    ) -> u32 {
        let existing = self.child(parent, name);
        match existing {
            Some(id) if self.nodes[id as usize].children.is_some() => id,
            Some(id) => {
                let old = std::mem::replace(
                    &mut self.nodes[id as usize].info,
                    NodeInfo::implicit_dir(self.layer),
                );
                dropped(path, &old);
                self.nodes[id as usize].children = Some(BTreeMap::new());
                id
            }
            None => self.new_child(parent, name, NodeInfo::implicit_dir(self.layer)),
        }
    }

    fn put_child(
        &mut self,
        parent: u32,
        name: &str,
        info: NodeInfo,
        path: &str,
        dropped: &mut dyn FnMut(&str, &NodeInfo),
    ) -> Applied {
        let Some(id) = self.child(parent, name) else {
            self.new_child(parent, name, info);
            return Applied::Added;
        };
        let is_dir = info.file_type == FileType::Directory;
        let node = &mut self.nodes[id as usize];
        node.latest = self.layer;
        let previous = std::mem::replace(&mut node.info, info);
        if !(is_dir && node.children.is_some()) {
            let old = node.children.take();
            node.children = is_dir.then(BTreeMap::new);
            for (child_name, child) in old.into_iter().flat_map(BTreeMap::into_iter) {
                self.release(child, dropped, &join(path, &child_name));
            }
        }
        Applied::Replaced(previous)
    }

    fn child(&self, parent: u32, name: &str) -> Option<u32> {
        self.nodes[parent as usize]
            .children
            .as_ref()?
            .get(name)
            .copied()
    }

    fn new_child(&mut self, parent: u32, name: &str, info: NodeInfo) -> u32 {
        let name: Arc<str> = Arc::from(name);
        let node = Node {
            name: name.clone(),
            parent,
            latest: self.layer,
            children: (info.file_type == FileType::Directory).then(BTreeMap::new),
            info,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.nodes[id as usize] = node;
                id
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        self.live += 1;
        if let Some(children) = self.nodes[parent as usize].children.as_mut() {
            children.insert(name, id);
        }
        id
    }

    /// Ends the current layer: applies its whiteouts to what lower layers left. Returns nothing;
    /// see [`FileTree::end_layer_with`] to learn what was deleted.
    pub fn end_layer(&mut self) {
        self.end_layer_with(|_, _| {});
    }

    /// [`FileTree::end_layer`], calling `removed(path, info)` for every path a whiteout deleted
    /// (every path of a deleted directory, parents first).
    pub fn end_layer_with(&mut self, mut removed: impl FnMut(&str, &NodeInfo)) {
        let pending = std::mem::take(&mut self.pending);
        self.pending_seen.clear();
        for whiteout in pending {
            match whiteout {
                Whiteout::Remove(path) => {
                    if let Some(id) = self.exact(&path) {
                        self.prune(id, &path, &mut removed);
                    }
                }
                Whiteout::Opaque(dir) => {
                    let Some(id) = self.exact(&dir) else { continue };
                    let children: Vec<(Arc<str>, u32)> = match &self.nodes[id as usize].children {
                        Some(c) => c.iter().map(|(k, v)| (k.clone(), *v)).collect(),
                        None => continue,
                    };
                    for (name, child) in children {
                        let path = join(&dir, &name);
                        self.prune(child, &path, &mut removed);
                    }
                }
                Whiteout::Meta => {}
            }
        }
    }

    /// Deletes what lower layers put at `id` and below, keeping what the current layer wrote.
    fn prune(&mut self, id: u32, path: &str, removed: &mut dyn FnMut(&str, &NodeInfo)) {
        if id == 0 {
            return;
        }
        let node = &self.nodes[id as usize];
        if node.latest < self.layer {
            let parent = node.parent;
            let name = node.name.clone();
            if let Some(c) = self.nodes[parent as usize].children.as_mut() {
                c.remove(&name);
            }
            self.release(id, removed, path);
            return;
        }
        let children: Vec<(Arc<str>, u32)> = match &node.children {
            Some(c) => c.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            None => return,
        };
        for (name, child) in children {
            self.prune(child, &join(path, &name), removed);
        }
    }

    /// Frees `id` and everything below it (already detached from its parent), reporting each.
    fn release(&mut self, id: u32, removed: &mut dyn FnMut(&str, &NodeInfo), path: &str) {
        let mut stack = vec![(id, path.to_string())];
        while let Some((id, path)) = stack.pop() {
            let node = &mut self.nodes[id as usize];
            removed(&path, &node.info);
            if let Some(children) = node.children.take() {
                for (name, child) in children.into_iter().rev() {
                    stack.push((child, join(&path, &name)));
                }
            }
            self.free.push(id);
            self.live -= 1;
        }
    }

    /// The node at exactly `path`, following no symlink.
    fn exact(&self, path: &str) -> Option<u32> {
        let mut current = 0u32;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            current = self.child(current, part)?;
        }
        Some(current)
    }

    /// The node `path` names, following symlinks in every component including the last (as
    /// `stat` does). `None` when it does not exist or links nest deeper than [`MAX_LINK_DEPTH`]
    /// or loop.
    pub fn lookup(&self, path: &str) -> Option<NodeId> {
        Resolver::new(self).walk(0, path, true, 0).map(NodeId)
    }

    /// Like [`FileTree::lookup`], but a symlink in the last component is not followed (`lstat`).
    pub fn lookup_link(&self, path: &str) -> Option<NodeId> {
        Resolver::new(self).walk(0, path, false, 0).map(NodeId)
    }

    /// Whether `path` exists, following symlinks (absolute or relative to the image root).
    pub fn exists(&self, path: &str) -> bool {
        self.lookup(path).is_some()
    }

    /// What the tree knows about a node.
    pub fn info(&self, id: NodeId) -> &NodeInfo {
        &self.nodes[id.0 as usize].info
    }

    /// The node's normalised path (`""` for the root).
    pub fn path(&self, id: NodeId) -> String {
        let mut parts = Vec::new();
        let mut current = id.0;
        while current != 0 {
            let node = &self.nodes[current as usize];
            parts.push(node.name.clone());
            current = node.parent;
        }
        parts.reverse();
        parts.join("/")
    }

    /// A directory's entries in name order (nothing for other nodes).
    pub fn children(&self, id: NodeId) -> impl Iterator<Item = (&str, NodeId)> {
        self.nodes[id.0 as usize]
            .children
            .iter()
            .flat_map(|c| c.iter().map(|(k, v)| (k.as_ref(), NodeId(*v))))
    }

    /// Every path (the root excluded), depth first in name order, with its node.
    pub fn walk(&self) -> impl Iterator<Item = (String, NodeId)> + '_ {
        let mut stack: Vec<(String, u32)> = self
            .children(self.root())
            .map(|(n, id)| (n.to_string(), id.0))
            .collect();
        stack.reverse();
        std::iter::from_fn(move || {
            let (path, id) = stack.pop()?;
            let mut below: Vec<(String, u32)> = self
                .children(NodeId(id))
                .map(|(n, c)| (join(&path, n), c.0))
                .collect();
            below.reverse();
            stack.extend(below);
            Some((path, NodeId(id)))
        })
    }
}

/// What a layer reader thread hands to the merging thread.
enum Batch {
    Entries(Vec<EntryMeta>),
    Done(Result<(), LayerReadError>),
}

/// Reads one layer, sending its entries in batches, then the verification result. Stops early
/// (quietly) when the merger has gone away.
fn read_layer<S: ImageSource + ?Sized>(
    source: &S,
    layer: &super::image::Descriptor,
    expected: Option<&Digest>,
    limits: TarLimits,
    tx: std::sync::mpsc::SyncSender<Batch>,
) {
    let result = (|| {
        let mut reader = open_layer(source, layer, limits)?;
        let mut batch = Vec::with_capacity(512);
        while let Some(entry) = reader.next_entry()? {
            batch.push(entry.into_meta());
            if batch.len() == 512 {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(512));
                if tx.send(Batch::Entries(full)).is_err() {
                    return Ok(());
                }
            }
        }
        if !batch.is_empty() && tx.send(Batch::Entries(batch)).is_err() {
            return Ok(());
        }
        reader.finish(expected).map(drop)
    })();
    let _ = tx.send(Batch::Done(result));
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}/{name}")
    }
}

/// One lookup: remembers where each symlink led, so every link is resolved once per lookup.
struct Resolver<'t> {
    tree: &'t FileTree,
    memo: HashMap<u32, Option<u32>>,
    active: HashSet<u32>,
}

impl<'t> Resolver<'t> {
    fn new(tree: &'t FileTree) -> Self {
        Resolver {
            tree,
            memo: HashMap::new(),
            active: HashSet::new(),
        }
    }

    fn walk(&mut self, start: u32, path: &str, follow_last: bool, depth: u32) -> Option<u32> {
        let parts: Vec<&str> = path
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        let mut current = start;
        for (i, part) in parts.iter().enumerate() {
            if *part == ".." {
                current = self.tree.nodes[current as usize].parent;
                continue;
            }
            let child = self.tree.child(current, part)?;
            let last = i + 1 == parts.len();
            let is_link = self.tree.nodes[child as usize].info.file_type == FileType::Symlink;
            current = if is_link && (follow_last || !last) {
                self.follow(child, depth)?
            } else {
                child
            };
        }
        Some(current)
    }

    fn follow(&mut self, link: u32, depth: u32) -> Option<u32> {
        if let Some(done) = self.memo.get(&link) {
            return *done;
        }
        if depth >= MAX_LINK_DEPTH || !self.active.insert(link) {
            return None;
        }
        let node = &self.tree.nodes[link as usize];
        let target = node.info.link_target.clone().unwrap_or_default();
        let start = if target.starts_with('/') {
            0
        } else {
            node.parent
        };
        let found = self.walk(start, &target, true, depth + 1);
        self.active.remove(&link);
        self.memo.insert(link, found);
        found
    }
}

#[cfg(test)]
mod tests;
