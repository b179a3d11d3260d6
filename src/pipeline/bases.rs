//! The `--base` image, resolved once and read once per target platform.

use std::collections::BTreeMap;

use crate::assemble::{self, BaseView};
use crate::base::{self, BaseSpec};
use crate::oci::{BlobStore, Platform};
use crate::plan::Plan;
use crate::registry::RegistryOptions;

use super::{BuildError, Progress};

/// The base image, resolved once, and read once per platform.
pub(super) struct Bases {
    views: BTreeMap<Platform, BaseView>,
}

impl Bases {
    pub(super) fn resolve(
        store: &BlobStore,
        plan: &Plan,
        registry: &RegistryOptions,
        progress: &dyn Progress,
    ) -> Result<Bases, BuildError> {
        if plan.base_spec != BaseSpec::Scratch {
            progress.step(&format!("resolving the base image {}", plan.base_spec));
        }
        let platforms: Vec<Platform> = plan.targets.iter().map(|t| t.platform.clone()).collect();
        let base = base::resolve(&plan.base_spec, store, &platforms, registry)?;
        let mut views = BTreeMap::new();
        if let Some(b) = &base {
            for p in &platforms {
                if !views.contains_key(p) {
                    let mut view = BaseView::read(store, b, p)?;
                    view.recorded_name = assemble::stable_base_name(&plan.base_spec);
                    views.insert(p.clone(), view);
                }
            }
        }
        Ok(Bases { views })
    }

    /// The base for `platform` (every target platform was read by `resolve`); `None` for scratch.
    pub(super) fn view(&self, platform: &Platform) -> Option<&BaseView> {
        self.views.get(platform)
    }
}
