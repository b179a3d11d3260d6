//! `gopack inspect`: what is inside an image, read from any [`ImageSource`] without extracting
//! anything and without a daemon.
//!
//! Data flow (each step hands plain data to the next):
//! ```text
//! resolve (oci::resolve: manifest + config, no layer)
//!   → per layer: cache::LayerCache hit, else scan::scan_layer (one streaming pass)  = LayerRecord
//!   → merge::Merger (records replayed in order: FileTree + waste books + dive's figures)
//!   → findings::check (+ needs: Go binaries against the image)                   = Analysis
//!     (other ELF files are only described: report::executable_views)
//!   → report::ImageReport (the JSON document, schema `gopack.inspect/v1`)
//!   → diff::diff (two reports), gate::evaluate (CI), sarif/junit (other formats)
//! ```
//! Layers are scanned `concurrency` at a time and replayed in order as they complete, so memory
//! holds at most that many layer records besides the merged tree.

pub mod cache;
pub mod cat;
pub mod diff;
pub mod elffile;
pub mod findings;
pub mod gate;
pub mod gobin;
pub mod merge;
pub mod needs;
pub mod output;
pub mod record;
pub mod report;
pub mod rules;
pub mod scan;
pub mod sensitive;
pub mod users;

use crate::oci::{Descriptor, Image, ImageSource};

pub use cache::LayerCache;
pub use findings::Finding;
pub use merge::Merged;
pub use record::LayerRecord;
pub use report::ImageReport;
pub use scan::ScanLimits;

/// How to inspect.
#[derive(Clone, Debug)]
pub struct InspectOptions {
    /// Bounds of each layer scan.
    pub limits: ScanLimits,
    /// Where layer records are kept; `None` reads every layer.
    pub cache: Option<LayerCache>,
    /// Layers scanned at the same time (at least 1).
    pub concurrency: usize,
}

impl Default for InspectOptions {
    fn default() -> Self {
        InspectOptions {
            limits: ScanLimits::default(),
            cache: None,
            concurrency: std::thread::available_parallelism().map_or(2, |n| n.get().min(4)),
        }
    }
}

/// How one layer was read.
#[derive(Clone, Debug)]
pub struct LayerScan {
    /// Its descriptor in the manifest (digest, media type, compressed size).
    pub descriptor: Descriptor,
    /// The diff_id computed from its content (`sha256:…`; empty when unreadable).
    pub diff_id: String,
    /// Uncompressed bytes.
    pub uncompressed_size: u64,
    /// The compression found in its first bytes.
    pub compression: String,
    /// Why it could not be read whole.
    pub error: Option<String>,
    /// True when its record came from the cache (no byte of the blob was read).
    pub from_cache: bool,
}

/// One image, read.
pub struct Analysis {
    /// The source as the user named it.
    pub origin: String,
    /// Manifest, config, platform.
    pub image: Image,
    /// Per-layer reading facts, in manifest order.
    pub layers: Vec<LayerScan>,
    /// The replayed file system and its books.
    pub merged: Merged,
    /// Problems found.
    pub findings: Vec<Finding>,
}

/// Reads every layer of `image` (through the cache when there is one), replays them and runs
/// the checks. Never fails on a bad layer: a layer that cannot be read whole becomes an
/// IMG902 finding and what was read of it still counts. Cache write failures are returned as
/// warnings, for the caller to print.
pub fn analyse<S: ImageSource + ?Sized>(
    source: &S,
    image: Image,
    options: &InspectOptions,
) -> (Analysis, Vec<String>) {
    let mut merger = merge::Merger::new();
    let mut layers = Vec::with_capacity(image.manifest.layers.len());
    let mut warnings = Vec::new();
    let step = options.concurrency.max(1);
    let mut replayed = 0usize;
    let cap = options.limits.max_image_entries;
    for chunk in image.manifest.layers.chunks(step) {
        if replayed >= cap {
            // Over the bound: the remaining layers are listed, not read.
            for descriptor in chunk {
                layers.push(LayerScan {
                    descriptor: descriptor.clone(),
                    diff_id: String::new(),
                    uncompressed_size: 0,
                    compression: String::new(),
                    error: Some(format!(
                        "not read: the layers before already hold {cap} members, the most \
                         gopack replays for one image"
                    )),
                    from_cache: false,
                });
            }
            continue;
        }
        let records = read_records(source, chunk, options);
        for (descriptor, (mut record, from_cache)) in chunk.iter().zip(records) {
            let room = cap.saturating_sub(replayed);
            if record.entries.len() > room {
                record.entries.truncate(room);
                record.binaries.retain(|b| (b.entry as usize) < room);
                record.elf_files.retain(|f| (f.entry as usize) < room);
                record.error.get_or_insert_with(|| {
                    format!(
                        "replayed only in part: the image holds more than {cap} members, the \
                         most gopack replays for one image"
                    )
                });
            }
            replayed += record.entries.len();
            if !from_cache
                && let Some(cache) = &options.cache
                && let Err(e) = cache.put(&record)
            {
                warnings.push(format!(
                    "cannot keep the record of layer {} in {}: {e}",
                    descriptor.digest.short(),
                    cache.dir().display()
                ));
            }
            layers.push(LayerScan {
                descriptor: descriptor.clone(),
                diff_id: record.diff_id.clone(),
                uncompressed_size: record.uncompressed_size,
                compression: record.compression.clone(),
                error: record.error.clone(),
                from_cache,
            });
            merger.apply(record);
        }
    }
    let mut analysis = Analysis {
        origin: source.name(),
        image,
        layers,
        merged: merger.finish(),
        findings: Vec::new(),
    };
    analysis.findings = findings::check(&analysis);
    (analysis, warnings)
}

/// The records of `layers`: from the cache, else scanned, the scans running in parallel.
fn read_records<S: ImageSource + ?Sized>(
    source: &S,
    layers: &[Descriptor],
    options: &InspectOptions,
) -> Vec<(LayerRecord, bool)> {
    let cached: Vec<Option<LayerRecord>> = layers
        .iter()
        .map(|d| options.cache.as_ref().and_then(|c| c.get(&d.digest)))
        .collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = layers
            .iter()
            .zip(cached)
            .map(|(d, hit)| match hit {
                Some(r) => Err(Box::new((r, true))),
                None => Ok(s.spawn(move || scan::scan_layer(source, d, &options.limits))),
            })
            .collect();
        handles
            .into_iter()
            .map(|h| match h {
                Err(hit) => *hit,
                Ok(handle) => match handle.join() {
                    Ok(r) => (r, false),
                    Err(_) => (
                        LayerRecord {
                            error: Some("the layer reader stopped unexpectedly".into()),
                            ..LayerRecord::default()
                        },
                        false,
                    ),
                },
            })
            .collect()
    })
}
