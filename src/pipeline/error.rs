//! Why a build failed, for people: what failed, why, and the next step.

use crate::assemble::AssembleError;
use crate::binary::check::CheckError;
use crate::plan::{MakePlanError, Problem};

/// Why a build (or `plan --deep`) failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// No plan could be made.
    #[error(transparent)]
    MakePlan(#[from] MakePlanError),
    /// The plan has a problem that stops the build.
    #[error("{0}")]
    Plan(#[from] Problem),
    /// The base image could not be read.
    #[error(transparent)]
    Base(#[from] crate::base::BaseError),
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    #[error(
        "{binary} ({platform}) is dynamically linked, and the base image {base} lacks {missing}. \
         Build without cgo (a pure-Go alternative), link statically (--cgo static), or choose a \
         base that provides these files"
    )]
    /// A dynamic binary whose base lacks its loader or libraries.
    BaseLacksLibraries {
        /// The image name.
        binary: String,
        /// The platform.
        platform: String,
        /// The base as named.
        base: String,
        /// What the base lacks, comma-separated.
        missing: String,
    },
    /// go build failed.
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
    /// A dynamic binary (cgo) on scratch.
    NotStatic {
        /// The image name.
        binary: String,
        /// The platform.
        platform: String,
        /// PT_INTERP, or `(none)`.
        interpreter: String,
        /// DT_NEEDED libraries, or `(none)`.
        libraries: String,
        /// Pure-Go alternatives, as a clause, or empty.
        alternatives: String,
    },
    #[error(
        "{binary} ({platform}) is dynamically linked and would not start on an empty base image:\n  \
         interpreter: {interpreter}\n  needed libraries: {libraries}\nThe cause is the build \
         flags, not cgo: {cause}. Remove that flag (gopack's own build is static), or build on a \
         --base that holds the loader and these libraries"
    )]
    /// A binary the build flags made dynamic (`-buildmode=pie`…) on scratch.
    DynamicByFlags {
        /// The image name.
        binary: String,
        /// The platform.
        platform: String,
        /// PT_INTERP, or `(none)`.
        interpreter: String,
        /// DT_NEEDED libraries, or `(none)`.
        libraries: String,
        /// Which flag, and why it links dynamically.
        cause: String,
    },
    /// The binary's recorded level differs from the image platform's.
    #[error("{binary}: the image platform must equal the binary's, and it does not: {detail}")]
    PlatformMismatch {
        /// The image name.
        binary: String,
        /// What differs.
        detail: String,
    },
    /// The built binary is not a readable ELF file.
    #[error(transparent)]
    BadBinary(#[from] CheckError),
    /// A `--ca-file` could not be read.
    #[error(transparent)]
    Rootfs(#[from] crate::rootfs::RootfsError),
    /// An image could not be assembled.
    #[error(transparent)]
    Assemble(#[from] AssembleError),
    /// A layer could not be written.
    #[error(transparent)]
    Layer(#[from] crate::oci::LayerError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::oci::StoreError),
    /// The cache could not say a base layer's size.
    #[error(transparent)]
    Cache(#[from] crate::cache::CacheError),
    /// The output could not be written.
    #[error(transparent)]
    Sink(#[from] crate::sink::SinkError),
    /// `--sbom`: the built binary could not be described.
    #[error(transparent)]
    Sbom(#[from] crate::sbom::SbomError),
}
