//! gopack: Go program → minimal OCI image, and audits of Dockerfiles, images and binaries.
//!
//! Each module is one stage of the pipeline described in DESIGN.md; stages hand plain values
//! forward and never reach back.

#![warn(missing_docs)]

pub mod assemble;
pub mod base;
pub mod binary;
pub mod cache;
pub mod config;
pub mod dockerfile;
pub mod fsutil;
pub mod gobuild;
pub mod inspect;
pub mod log;
pub mod oci;
pub mod parallel;
pub mod pipeline;
pub mod plan;
pub mod project;
pub mod registry;
pub mod resolve;
pub mod rootfs;
pub mod run;
pub mod sbom;
pub mod sink;
pub mod size;
pub mod text;
pub mod trace;
