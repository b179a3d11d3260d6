//! The integration tests, one crate: real go, docker-registry, skopeo, umoci and runc.
//! Shared helpers live in `common`, `needs_support` and `registry_support`.

mod build_e2e;
mod build_registry;
mod buildinfo;
mod cgo;
mod common;
mod config;
mod conventions;
mod dockerfile_gen;
mod fidelity;
mod lint;
mod lint_corpus;
mod lint_fuzz;
mod lint_issue14;
mod monorepo;
mod needs;
mod needs_e2e;
mod needs_support;
mod outputs;
mod outputs_faults;
mod pclntab;
mod pclntab_props;
mod plan;
mod registry;
mod registry_credentials;
mod registry_hostile;
mod registry_mount;
mod registry_parsers;
mod registry_support;
mod registry_tls;
mod registry_token;
mod resolve;
