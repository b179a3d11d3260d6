//! A synchronous client for the OCI distribution API: references, credentials (docker and
//! podman config files, credential helpers, basic and bearer-token auth), push and pull.
//!
//! Built on `ureq` (blocking, rustls with ring): blobs stream straight between the registry and
//! the content store, manifests go over the wire as the exact bytes whose digest was computed,
//! and TLS trusts the system roots, Mozilla's roots compiled into gopack, and `--registry-ca`.

mod auth;
mod client;
mod error;
mod pull;
mod push;
mod reference;

pub use auth::{
    Challenge, Credential, CredentialError, CredentialStore, TokenResponse, config_key,
    parse_challenge, store_with_helper,
};
pub use client::{RegistryClient, RegistryOptions, RetryPolicy, TransferStats, parse_retry_after};
pub use error::{RegistryError, registry_message};
pub use pull::{Pulled, parse_manifest_document};
pub use push::{PushReport, PushRequest, parse_range_end};
pub use reference::{DOCKER_HUB, Reference, ReferenceError, api_host};
