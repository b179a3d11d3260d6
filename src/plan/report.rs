//! The plan as reported after building: [`Plan`] plus, per target, what the linked binary
//! turned out to be and need ([`BuiltTarget`]). `gopack plan --deep` and `gopack build` report
//! the same thing; the plan itself is never written to.

use serde::Serialize;

use super::files::FileDecisions;
use super::{Plan, TargetPlan};
use crate::binary::needs::DetectedNeed;
use crate::oci::Platform;

/// What one linked binary is and needs, and which base files it gets.
#[derive(Clone, Debug, Serialize)]
pub struct BuiltTarget {
    /// The target this is for (its package and platform).
    #[serde(skip)]
    pub package: String,
    /// The target's platform.
    #[serde(skip)]
    pub platform: Platform,
    /// Size of the binary in bytes.
    pub binary_size: u64,
    /// No interpreter and no DT_NEEDED libraries: starts on scratch.
    pub static_binary: bool,
    /// PT_INTERP of a dynamic binary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interpreter: Option<String>,
    /// DT_NEEDED libraries of a dynamic binary.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub needed_libraries: Vec<String>,
    /// Runtime needs with the linked function that shows each.
    pub needs: Vec<DetectedNeed>,
    /// Needs the binary meets itself (e.g. `time/tzdata` embedded).
    pub satisfied_in_binary: Vec<DetectedNeed>,
    /// Needs an environment variable turns on where the image runs (TZ).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reads_environment: Vec<DetectedNeed>,
    /// Why the function table could not be read (then every base file goes in).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs_error: Option<String>,
    /// Absolute program paths the binary may run (it links os/exec), found in its data.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub programs: Vec<String>,
    /// Which base files go in, and why.
    pub files: FileDecisions,
    /// What may fail at run time (programs the image lacks…).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl BuiltTarget {
    fn is_for(&self, target: &TargetPlan) -> bool {
        self.package == target.package && self.platform == target.platform
    }
}

/// The plan and what each built target turned out to be.
#[derive(Clone, Debug)]
pub struct PlanReport {
    /// The plan.
    pub plan: Plan,
    /// Each target that was built, in plan order.
    pub built: Vec<BuiltTarget>,
}

impl PlanReport {
    /// What `target` turned out to be, once built.
    pub fn built_for(&self, target: &TargetPlan) -> Option<&BuiltTarget> {
        self.built.iter().find(|b| b.is_for(target))
    }
}

impl Serialize for PlanReport {
    /// The plan's JSON, with each built target under `targets[].built`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        let mut value = serde_json::to_value(&self.plan).map_err(S::Error::custom)?;
        if let Some(targets) = value.get_mut("targets").and_then(|t| t.as_array_mut()) {
            for (json, target) in targets.iter_mut().zip(&self.plan.targets) {
                if let (Some(built), Some(object)) = (self.built_for(target), json.as_object_mut())
                {
                    let built = serde_json::to_value(built).map_err(S::Error::custom)?;
                    object.insert("built".into(), built);
                }
            }
        }
        value.serialize(s)
    }
}
