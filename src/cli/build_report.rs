//! What a build reports: the summary on stderr (the plan lines, then one block for one image
//! or one table row per image), the `--json` document on stdout, and the `--metadata-file`.

use std::fmt::Write as _;
use std::path::Path;

use gopack::pipeline::{BuildOutcome, BuiltImage};
use serde::Serialize;
use serde_json::Value;

use super::build::human;
use super::plan_targets::Setup;

/// Version of the metadata layout; raised on any incompatible change.
pub const METADATA_SCHEMA: u32 = 1;

/// The result of a build, per target and platform (`--metadata-file`, and `targets` in
/// `--json`).
#[derive(Clone, Debug, Serialize)]
pub struct Metadata {
    /// [`METADATA_SCHEMA`].
    pub schema: u32,
    /// One per image built.
    pub targets: Vec<TargetMetadata>,
    /// Main packages not rebuilt: unaffected by the changes since `--changed-since`.
    pub unchanged: Vec<String>,
    /// Main packages left to other `--shard`s.
    pub other_shards: Vec<String>,
}

/// One image built.
#[derive(Clone, Debug, Serialize)]
pub struct TargetMetadata {
    /// The image name.
    pub name: String,
    /// The main package.
    pub package: String,
    /// The reference that pins it (`REGISTRY/REPO@sha256:…` after a push).
    pub reference: String,
    /// The index's digest (several platforms) or the manifest's.
    pub digest: String,
    /// Every name it was written under.
    pub references: Vec<String>,
    /// One per platform.
    pub platforms: Vec<PlatformMetadata>,
}

/// One platform image.
#[derive(Clone, Debug, Serialize)]
pub struct PlatformMetadata {
    /// `os/arch[/variant]`.
    pub platform: String,
    /// The manifest's digest.
    pub digest: String,
    /// The binary, bytes.
    pub binary_size: u64,
    /// Every blob (layers, config, manifest) as stored, bytes.
    pub compressed_size: u64,
    /// Every layer's tar, bytes.
    pub uncompressed_size: u64,
    /// Digests of referrers attached to this manifest (SBOMs, signatures).
    pub referrers: Vec<String>,
}

/// The outcomes of a run and what was left out.
pub struct Report<'a> {
    outcomes: &'a [BuildOutcome],
    metadata: Metadata,
}

fn target_metadata(image: &BuiltImage) -> TargetMetadata {
    TargetMetadata {
        name: image.name.clone(),
        package: image.package.clone(),
        reference: image.reference.clone(),
        digest: image.digest.to_string(),
        references: image.references.clone(),
        platforms: image
            .platforms
            .iter()
            .map(|p| PlatformMetadata {
                platform: p.platform.to_string(),
                digest: p.manifest_digest.to_string(),
                binary_size: p.binary_size,
                compressed_size: p.compressed_size,
                uncompressed_size: p.uncompressed_size,
                referrers: p.sboms.iter().map(|s| s.digest.to_string()).collect(),
            })
            .collect(),
    }
}

impl<'a> Report<'a> {
    /// The report of `outcomes`.
    pub fn new(outcomes: &'a [BuildOutcome], setup: &Setup) -> Report<'a> {
        Report {
            outcomes,
            metadata: Metadata {
                schema: METADATA_SCHEMA,
                targets: outcomes
                    .iter()
                    .flat_map(|o| &o.images)
                    .map(target_metadata)
                    .collect(),
                unchanged: setup.unchanged.clone(),
                other_shards: setup.other_shards.clone(),
            },
        }
    }

    /// Writes the metadata to `file` (whole or not at all).
    pub fn write_metadata(&self, file: &Path) -> anyhow::Result<()> {
        let dir = gopack::fsutil::parent_of(file);
        let write = || -> std::io::Result<()> {
            let mut tmp = gopack::fsutil::temp_file_in(&dir)?;
            serde_json::to_writer_pretty(&mut tmp, &self.metadata)?;
            std::io::Write::write_all(&mut tmp, b"\n")?;
            gopack::fsutil::commit(tmp, file)?;
            Ok(())
        };
        write().map_err(|e| anyhow::anyhow!("cannot write --metadata-file {}: {e}", file.display()))
    }

    /// The `--json` document: one build's outcome as it always was (`images`, `plan`…), or
    /// for several plans the images of all with `plans`; both with `targets`, `unchanged`
    /// and `other_shards` (the metadata).
    pub fn json(&self) -> Value {
        let mut doc = match self.outcomes {
            [one] => serde_json::to_value(one).unwrap_or_default(),
            many => {
                let images: Vec<&BuiltImage> = many.iter().flat_map(|o| &o.images).collect();
                let warnings: Vec<&String> = many.iter().flat_map(|o| &o.warnings).collect();
                serde_json::json!({
                    "images": images,
                    "plans": many.iter().map(|o| &o.plan).collect::<Vec<_>>(),
                    "warnings": warnings,
                })
            }
        };
        if let Value::Object(map) = &mut doc
            && let Ok(Value::Object(meta)) = serde_json::to_value(&self.metadata)
        {
            for (k, v) in meta {
                if k != "schema" {
                    map.insert(k, v);
                }
            }
        }
        doc
    }

    /// What stderr shows: per plan its decisions (one line each, or the whole plan with
    /// `explain`), the warnings, then the summary.
    /// The warnings alone (plan and build), for `-q`: a quiet build still says what may hurt.
    pub fn warnings(&self) -> String {
        let mut o = String::new();
        for outcome in self.outcomes {
            o.push_str(&super::plan::warnings_only(&outcome.plan));
            for warning in &outcome.warnings {
                let _ = writeln!(o, "warning: {warning}");
            }
        }
        o
    }

    pub fn talk(&self, explain: bool, setup: &Setup) -> String {
        let mut o = String::new();
        for outcome in self.outcomes {
            if explain {
                let _ = writeln!(o, "{}", super::plan::long_form(&outcome.plan));
            } else {
                o.push_str(&super::plan::short_form(&outcome.plan));
            }
            for (dir, name, values) in &setup.image_settings {
                if outcome.plan.plan.images.iter().any(|i| &i.dir == dir) {
                    for v in values {
                        let _ = writeln!(
                            o,
                            "plan: {name}: {} {} (from {})",
                            v.setting,
                            v.value,
                            join(&v.origins)
                        );
                    }
                }
            }
            for warning in &outcome.warnings {
                let _ = writeln!(o, "warning: {warning}");
            }
        }
        let images: Vec<&BuiltImage> = self.outcomes.iter().flat_map(|o| &o.images).collect();
        match images.as_slice() {
            [] => {}
            [one] => o.push_str(&details(one)),
            many => o.push_str(&table(many)),
        }
        if !setup.unchanged.is_empty() {
            let _ = writeln!(
                o,
                "unchanged (not rebuilt; their previous images stay valid): {}",
                setup.unchanged.join(", ")
            );
        }
        if !setup.other_shards.is_empty() {
            let _ = writeln!(
                o,
                "left to the other shards: {} target{}",
                setup.other_shards.len(),
                if setup.other_shards.len() == 1 {
                    ""
                } else {
                    "s"
                }
            );
        }
        if images.is_empty() {
            let _ = writeln!(o, "nothing to build");
        }
        o
    }
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `N thing` / `N things`.
pub fn count(n: usize, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

/// One row per image: name, platforms, binary and image sizes, and where it went.
fn table(images: &[&BuiltImage]) -> String {
    let mut rows = vec![[
        "IMAGE".to_string(),
        "PLATFORMS".into(),
        "BINARY".into(),
        "IMAGE".into(),
        "PUSHED".into(),
        "REFERENCE".into(),
    ]];
    for image in images {
        let platforms: Vec<String> = image
            .platforms
            .iter()
            .map(|p| p.platform.to_string())
            .collect();
        let binary: u64 = image
            .platforms
            .iter()
            .map(|p| p.binary_size)
            .max()
            .unwrap_or(0);
        let size: u64 = image
            .platforms
            .iter()
            .map(|p| p.compressed_size)
            .max()
            .unwrap_or(0);
        let pushed = image.push.as_ref().map_or("-".to_string(), |p| {
            format!(
                "{} ({})",
                count(p.blobs_uploaded, "blob"),
                human(p.blob_bytes_uploaded)
            )
        });
        rows.push([
            image.name.clone(),
            platforms.join(","),
            human(binary),
            human(size),
            pushed,
            image.reference.clone(),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut o = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        let _ = writeln!(o, "{}", cells.join("  ").trim_end());
    }
    let _ = writeln!(o, "built {}", count(images.len(), "image"));
    o
}

/// The summary of one image: per platform its size and layers, then digest, entrypoint, user
/// and where it went.
fn details(image: &BuiltImage) -> String {
    let mut o = String::new();
    let platforms: Vec<String> = image
        .platforms
        .iter()
        .map(|p| p.platform.to_string())
        .collect();
    let _ = writeln!(
        o,
        "built {} ({}) for {}",
        image.name,
        image.package,
        platforms.join(", ")
    );
    for p in &image.platforms {
        if image.platforms.len() > 1 {
            let _ = writeln!(o, "  {}  {}", p.platform, p.manifest_digest);
        }
        let _ = writeln!(
            o,
            "    binary  {}    image  {} compressed, {} uncompressed, {}",
            human(p.binary_size),
            human(p.compressed_size),
            human(p.uncompressed_size),
            count(p.layers.len(), "layer")
        );
        for layer in &p.layers {
            let note = if layer.reused && !layer.from_base {
                "  (cached)"
            } else {
                ""
            };
            let _ = writeln!(
                o,
                "      {}  {:>10}  {}{note}",
                layer.digest.short(),
                human(layer.size),
                layer.description
            );
        }
        for sbom in &p.sboms {
            let _ = writeln!(
                o,
                "    sbom    {} {} (referrer, {})",
                sbom.format,
                sbom.digest.short(),
                sbom.attached_by
            );
        }
    }
    let _ = writeln!(o, "  digest      {}", image.digest);
    let _ = writeln!(o, "  entrypoint  {}", image.entrypoint.join(" "));
    let _ = writeln!(o, "  user        {}", image.user);
    o.push_str(&destination(image));
    o
}

/// Where the image went: every name it was written under, each once (the push first, its
/// other tags in one line, then the local outputs).
fn destination(image: &BuiltImage) -> String {
    let mut o = String::new();
    // With a push the pin is `REGISTRY/REPO@sha256:…`, and the pushed names `REGISTRY/REPO:TAG`.
    let pushed_repository = image
        .push
        .as_ref()
        .and_then(|_| image.reference.split_once('@'))
        .map(|(repository, _)| format!("{repository}:"));
    let (pushed, local): (Vec<&String>, Vec<&String>) = image
        .references
        .iter()
        .partition(|r| pushed_repository.as_ref().is_some_and(|p| r.starts_with(p)));
    let (first, others) = match (pushed.first(), local.split_first()) {
        (Some(first), _) => (*first, local.as_slice()),
        (None, Some((first, others))) => (*first, others),
        (None, None) => return o,
    };
    match &image.push {
        Some(push) => {
            let _ = writeln!(o, "  pushed to   {first}");
            let tags: Vec<&str> = push.tags.iter().skip(1).map(String::as_str).collect();
            if !tags.is_empty() {
                let _ = writeln!(o, "  also tagged {}", tags.join(", "));
            }
            let _ = writeln!(
                o,
                "  blobs       {} uploaded ({}), {} mounted, {} already there",
                push.blobs_uploaded,
                human(push.blob_bytes_uploaded),
                push.blobs_mounted,
                push.blobs_present
            );
            for (i, other) in others.iter().enumerate() {
                let label = if i == 0 { "written to " } else { "           " };
                let _ = writeln!(o, "  {label} {other}");
            }
        }
        None => {
            let _ = writeln!(o, "  written to  {first}");
            for other in others {
                let _ = writeln!(o, "              {other}");
            }
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_with_a_layout_says_where_each_went() {
        let digest = gopack::oci::Digest::of(b"image");
        let image = BuiltImage {
            name: "api".into(),
            package: "example.com/m/cmd/api".into(),
            digest: digest.clone(),
            media_type: gopack::oci::MEDIA_TYPE_MANIFEST.into(),
            user: "65532:65532".into(),
            entrypoint: vec!["/usr/local/bin/api".into()],
            platforms: Vec::new(),
            reference: format!("r.example/team/api@{digest}"),
            // As publishing records them: the layout first (written first), then the push.
            references: vec![
                "oci:out:v1".into(),
                "oci:out:latest".into(),
                "r.example/team/api:v1".into(),
                "r.example/team/api:latest".into(),
            ],
            push: Some(gopack::sink::PushStats {
                tags: vec!["v1".into(), "latest".into()],
                blobs_uploaded: 3,
                blobs_mounted: 0,
                blobs_present: 1,
                blob_bytes_uploaded: 2048,
            }),
        };
        let text = destination(&image);
        assert!(
            text.contains("pushed to   r.example/team/api:v1\n"),
            "{text}"
        );
        assert!(text.contains("also tagged latest\n"), "{text}");
        assert!(text.contains("written to  oci:out:v1\n"), "{text}");
        assert!(text.contains("            oci:out:latest\n"), "{text}");
        assert!(!text.contains("pushed to   oci:"), "{text}");
    }

    #[test]
    fn counts_agree_in_number() {
        assert_eq!(count(1, "layer"), "1 layer");
        assert_eq!(count(3, "layer"), "3 layers");
        assert_eq!(count(0, "image"), "0 images");
    }
}
