//! Why a build failed, for people: what failed, why, and the next step.

use crate::assemble::AssembleError;
use crate::binary::check::CheckError;
use crate::plan::{MakePlanError, Problem};

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    MakePlan(#[from] MakePlanError),
    #[error("{0}")]
    Plan(#[from] Problem),
    #[error(transparent)]
    Base(#[from] crate::base::BaseError),
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    #[error(
        "{binary} ({platform}) is dynamically linked, and the base image {base} lacks {missing}. \
         Build without cgo (a pure-Go alternative), link statically (--cgo static), or choose a \
         base that provides these files"
    )]
    BaseLacksLibraries {
        binary: String,
        platform: String,
        base: String,
        missing: String,
    },
    #[error("`{0}` is not a registry reference to push to: {1}")]
    PushReference(String, String),
    #[error(transparent)]
    GoBuild(#[from] crate::gobuild::GoBuildError),
    #[error(
        "{binary} ({platform}) is dynamically linked and would not start on an empty base image:\n  \
         interpreter: {interpreter}\n  needed libraries: {libraries}\nTwo ways out: (1) replace the \
         cgo packages with pure-Go ones and build with CGO_ENABLED=0 (gopack's default; `gopack \
         plan` names every package that needs cgo and its module){alternatives}; or (2) keep cgo \
         and link it statically with --cgo static (what --cgo auto does), so the image stays on \
         scratch. An image that ships these libraries needs a base that contains the interpreter \
         and every library listed above"
    )]
    NotStatic {
        binary: String,
        platform: String,
        interpreter: String,
        libraries: String,
        alternatives: String,
    },
    #[error(
        "{binary} ({platform}) is dynamically linked and would not start on an empty base image:\n  \
         interpreter: {interpreter}\n  needed libraries: {libraries}\nThe cause is the build \
         flags, not cgo: {cause}. Remove that flag (gopack's own build is static), or build on a \
         --base that holds the loader and these libraries"
    )]
    DynamicByFlags {
        binary: String,
        platform: String,
        interpreter: String,
        libraries: String,
        cause: String,
    },
    #[error("{binary}: the image platform must equal the binary's, and it does not: {detail}")]
    PlatformMismatch { binary: String, detail: String },
    #[error(transparent)]
    BadBinary(#[from] CheckError),
    #[error(transparent)]
    Rootfs(#[from] crate::rootfs::RootfsError),
    #[error(transparent)]
    Assemble(#[from] AssembleError),
    #[error(transparent)]
    Layer(#[from] crate::oci::LayerError),
    #[error(transparent)]
    Store(#[from] crate::oci::StoreError),
    #[error(transparent)]
    Sink(#[from] crate::sink::SinkError),
}
