//! Assembling one platform image, like go-containerregistry's `mutate`: the base's layers, then
//! gopack's base-files layer (only what the base lacks, merged into the base's own files where
//! gopack extends them), the data layer, the binary layer at `/usr/local/bin/<name>`, and the
//! config. Every input is a plain value decided earlier (plan, checked binary, file decisions).

mod base;
mod config;

pub use base::BaseView;
pub use config::{
    ConfigInputs, ImageSettings, image_config, rfc3339, source_date_epoch, stable_base_name,
};

use std::path::Path;

use crate::binary::check::CheckedBinary;
use crate::oci::{
    BlobStore, Descriptor, EntryKind, Image, LayerEntry, LayerError, LayerSpec, LayerWriter,
    Platform, StoreError, WrittenLayer,
};
use crate::plan::data::DataPlan;
use crate::plan::files::FileDecisions;
use crate::plan::{BINARY_DIR, ImagePlan, UserPlan};
use crate::rootfs::{BaseFilesSpec, CaBundle, UserDatabase};

/// Everything one platform image is made from.
pub struct Assembly<'a> {
    /// The image (main package) this platform image belongs to.
    pub image: &'a ImagePlan,
    /// The platform.
    pub platform: &'a Platform,
    /// The module path.
    pub module_path: &'a str,
    /// The module root.
    pub module_root: &'a Path,
    /// The linked, checked binary.
    pub binary: &'a CheckedBinary,
    /// The base-file decisions for this binary.
    pub files: &'a FileDecisions,
    /// The run user, resolved against the base.
    pub user: &'a UserPlan,
    /// The base, for this platform; `None` for scratch.
    pub base: Option<&'a BaseView>,
    /// Ports, workdir, labels, annotations.
    pub settings: &'a ImageSettings,
    /// The image's environment.
    pub env: &'a [(String, String)],
    /// The data layer, shared by every image of the build that has the same owner.
    pub data_layer: Option<&'a (WrittenLayer, String)>,
    /// `--ca-file` contents (PEM).
    pub extra_ca: &'a [String],
    /// Layer mtime and `created`, seconds since the epoch.
    pub mtime: u64,
}

/// An image in the store, with gopack's layers (not the base's) and their descriptions.
pub struct AssembledImage {
    /// The image, its config and manifest in the store.
    pub image: Image,
    /// gopack's layers (after the base's), with the history sentence of each.
    pub layers: Vec<(WrittenLayer, String)>,
}

/// Why an image could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum AssembleError {
    /// A layer could not be written.
    #[error(transparent)]
    Layer(#[from] LayerError),
    /// The store could not take a blob.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Writes the layers and config of one platform image into the store.
pub fn assemble(
    store: &BlobStore,
    writer: &LayerWriter<'_>,
    a: &Assembly<'_>,
) -> Result<AssembledImage, AssembleError> {
    let mut layers: Vec<(WrittenLayer, String)> = Vec::new();
    let base_files = base_files_layer(a.files, a.user, a.base, a.extra_ca);
    let bin = binary_layer_spec(a.image, &a.binary.path, a.mtime);
    // The two layers are written at once: the base-files layer is one gzip member (one core,
    // at the highest level when it is not cached yet) while the binary's blocks use the rest.
    let (base_written, bin_written) = std::thread::scope(|scope| {
        let base_job = scope.spawn(|| {
            (!base_files.entries.is_empty())
                .then(|| writer.write(&base_files))
                .transpose()
        });
        let bin_written = writer.write(&bin);
        let base_written = base_job
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (base_written, bin_written)
    });
    if let Some(written) = base_written? {
        layers.push((written, base_files.description.clone()));
    }
    layers.extend(a.data_layer.cloned());
    layers.push((bin_written?, bin.description.clone()));
    let base = a.base.map(|b| (b.recorded_name.as_deref(), &b.image));
    let (config, annotations) = image_config(&ConfigInputs {
        settings: a.settings,
        env: a.env,
        module_path: a.module_path,
        module_root: a.module_root,
        name: &a.image.name,
        platform: a.platform,
        user: &a.user.user,
        own_ca_bundle: a.files.ca_certificates.included
            && a.files.ca_certificates.merged_with_base.is_none(),
        build_info: a.binary.build_info.as_ref(),
        base,
        layers: &layers,
        mtime: a.mtime,
    });
    let descriptors = base
        .map(|(_, image)| image.manifest.layers.clone())
        .unwrap_or_default()
        .into_iter()
        .chain(layers.iter().map(|(l, _)| Descriptor::of_layer(l)))
        .collect();
    let image = Image::assemble(store, a.platform.clone(), config, descriptors, annotations)?;
    Ok(AssembledImage { image, layers })
}

/// The base-files layer the decisions call for.
pub fn base_files_layer(
    files: &FileDecisions,
    user: &UserPlan,
    base: Option<&BaseView>,
    extra_ca: &[String],
) -> LayerSpec {
    let base_file = |path: &str| base.and_then(|b| b.file(path)).unwrap_or_default();
    let ca = &files.ca_certificates;
    let ca_bundle = ca.included.then(|| match &ca.merged_with_base {
        Some(path) => CaBundle::merged(path, base_file(path), extra_ca),
        None => CaBundle::ours(extra_ca),
    });
    let users = &files.user_database;
    let user_database = users
        .included
        .then(|| match (&users.merged_with_base, &user.account) {
            (Some(_), Some(account)) => {
                UserDatabase::merged(base_file("/etc/passwd"), base_file("/etc/group"), account)
            }
            _ => UserDatabase::ours(user.account.as_ref()),
        });
    crate::rootfs::base_files_layer(&BaseFilesSpec {
        ca_bundle,
        user_database,
        tmp: files.tmp.included,
        zoneinfo: files.zoneinfo.included,
    })
}

/// The data layer: every `--data` directory, and each `--writable` directory owned by
/// `uid:gid` (with what a data directory holds under it). `None` when there is neither.
pub fn data_layer_spec(
    data: &[DataPlan],
    writable: &[String],
    (uid, gid): (u32, u32),
    mtime: u64,
) -> Option<LayerSpec> {
    if data.is_empty() && writable.is_empty() {
        return None;
    }
    let mut entries: Vec<LayerEntry> = data.iter().flat_map(|d| d.entries.clone()).collect();
    let mut names: Vec<String> = data
        .iter()
        .map(|d| format!("{} → {}", d.source.display(), d.dest))
        .collect();
    for path in writable {
        let clean = path.trim_matches('/');
        let under = format!("{clean}/");
        let mut found = false;
        for e in entries
            .iter_mut()
            .filter(|e| e.path == clean || e.path.starts_with(&under))
        {
            found |= e.path == clean;
            if !matches!(e.kind, EntryKind::Symlink(_)) {
                e.uid = uid.into();
                e.gid = gid.into();
            }
        }
        if !found {
            entries.push(LayerEntry::dir(path, 0o755, uid.into(), gid.into()));
        }
        names.push(format!("{path} writable by {uid}:{gid}"));
    }
    Some(
        LayerSpec {
            entries,
            mtime,
            description: format!("gopack: data {}", names.join(", ")),
        }
        .with_parent_dirs(),
    )
}

fn binary_layer_spec(image: &ImagePlan, binary: &Path, mtime: u64) -> LayerSpec {
    let in_image = format!("{BINARY_DIR}/{}", image.name);
    LayerSpec {
        entries: vec![LayerEntry::file_from_disk(
            &in_image,
            binary.to_path_buf(),
            0o755,
        )],
        mtime,
        description: format!("gopack: {in_image} built from {}", image.package),
    }
    .with_parent_dirs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writable_dirs_belong_to_the_run_user() {
        let spec = data_layer_spec(&[], &["/var/lib/app".into()], (65532, 65532), 0).unwrap();
        let dir = spec
            .entries
            .iter()
            .find(|e| e.path == "var/lib/app")
            .unwrap();
        assert_eq!((dir.uid, dir.gid, dir.mode), (65532, 65532, 0o755));
        let parent = spec.entries.iter().find(|e| e.path == "var/lib").unwrap();
        assert_eq!(parent.uid, 0);
        assert!(data_layer_spec(&[], &[], (0, 0), 0).is_none());
    }
}
