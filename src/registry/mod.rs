//! A synchronous client for the OCI distribution API: references, credentials (docker and
//! podman config files, credential helpers, basic and bearer-token auth), push and pull.
//!
//! Built on `ureq` (blocking, rustls with ring): blobs stream straight between the registry and
//! the content store, manifests go over the wire as the exact bytes whose digest was computed,
//! and TLS trusts the system roots, Mozilla's roots compiled into gopack, and `--registry-ca`.
//!
//! What it guarantees:
//! - Credentials (passwords, identity tokens, registry tokens) travel only over TLS, or over
//!   plain HTTP to a host the user named with `--insecure-registry` (and to the loopback
//!   interface for a loopback registry); registry credentials go only to the registry's own
//!   host, never with a redirect elsewhere; HTTPS is never downgraded by a redirect.
//! - Every exchange is bounded in time (a minimum plus one second per
//!   [`RegistryOptions::min_bytes_per_second`] of expected bytes) and in size (blobs by their
//!   descriptor, manifests, tokens and error bodies by fixed limits).
//! - Text from a registry, a config file or a helper reaches messages only through
//!   [`crate::text::printable`]; secrets never reach a message.

mod auth;
mod client;
mod credentials;
mod download;
mod error;
mod pull;
mod push;
mod reference;
pub mod referrers;
mod transport;

pub use auth::{Challenge, MAX_TOKEN, TokenResponse, parse_challenge};
pub use client::{RegistryClient, RegistryOptions, RetryPolicy, TransferStats, parse_retry_after};
pub use credentials::{
    ConfigFile, Credential, CredentialError, CredentialStore, DEFAULT_HELPER_TIMEOUT, config_key,
    erase_with_helper, helper_in, key_registry, parse_config, store_with_helper,
};
pub use error::{RegistryError, registry_message};
pub use pull::{Pulled, parse_manifest_document};
pub use push::{PushReport, PushRequest, parse_range_end};
pub use reference::{DOCKER_HUB, Reference, ReferenceError, api_host};
pub use referrers::{Artifact, ListSource, PushedReferrer, ReferrerPath};
