//! Downloading one blob: a GET whose body streams into the store, cut at the descriptor's
//! size (a longer body is refused, not retried), within the exchange's deadline, with its
//! digest verified; failures told apart (the registry's, the network's, the store's).

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use ureq::http::Method;

use crate::oci::{BlobStore, Descriptor, StoreError};
use crate::text::printable;

use super::client::{AuthMode, RegistryClient, Req, ReqBody, TransferStats};
use super::error::RegistryError;
use super::push::get_refused;
use super::reference::Reference;
use super::transport::is_wrapped_deadline;

impl RegistryClient {
    /// One attempt at downloading `blob` of `reference` into the store (the caller retries
    /// what [`RegistryError::is_transient`] says may pass, and digest mismatches).
    pub(crate) fn download_blob(
        &self,
        store: &BlobStore,
        reference: &Reference,
        blob: &Descriptor,
        scopes: &[String],
        what: &str,
    ) -> Result<(), RegistryError> {
        let registry = reference.registry.as_str();
        let req = Req {
            method: Method::GET,
            url: format!(
                "{}{}/blobs/{}",
                self.base_url(registry),
                reference.repository,
                blob.digest
            ),
            headers: vec![],
            body: ReqBody::Empty,
            registry,
            scopes,
            what,
            auth: AuthMode::Registry,
            size_hint: blob.size,
        };
        let resp = self.execute(&req, true)?;
        if resp.status != 200 {
            let name = format!("{}@{}", reference.name(), blob.digest);
            return Err(get_refused(what, registry, name, resp));
        }
        let (host, budget) = (resp.host.clone(), resp.budget);
        let announced = resp
            .header("content-length")
            .and_then(|v| v.trim().parse::<u64>().ok());
        if let Some(n) = announced.filter(|n| *n > blob.size) {
            return Err(too_large(
                what,
                &host,
                blob,
                &format!("it announced {n} bytes"),
            ));
        }
        let mut reader = Bounded {
            inner: Counting {
                inner: resp.body.into_reader(),
                stats: self.stats.clone(),
            },
            left: blob.size,
            failed: false,
        };
        let stored = store.put_verified(&blob.digest, &mut reader);
        stored
            .map(drop)
            .map_err(|e| download_error(e, reader.failed, what, host, budget, blob))
    }
}

/// The refusal of a body longer than `blob`'s descriptor says (`detail`: how it showed).
fn too_large(what: &str, host: &str, blob: &Descriptor, detail: &str) -> RegistryError {
    RegistryError::TooLarge {
        what: what.into(),
        host: host.into(),
        declared: blob.size,
        detail: detail.into(),
    }
}

/// Tells apart why streaming `blob` into the store failed: a digest mismatch, the store's own
/// I/O (`read_failed` false: local, not retried), an over-long body, the exchange's deadline
/// (`budget`) or a broken download.
fn download_error(
    e: StoreError,
    read_failed: bool,
    what: &str,
    host: String,
    budget: std::time::Duration,
    blob: &Descriptor,
) -> RegistryError {
    match e {
        StoreError::DigestMismatch { actual, .. } => RegistryError::DigestMismatch {
            what: what.into(),
            host,
            expected: blob.digest.to_string(),
            actual: actual.to_string(),
        },
        // A failure to write to the store is local: not retried, not the network's.
        e @ StoreError::Io { .. } if !read_failed => e.into(),
        StoreError::Io { source, .. } if is_overflow(&source) => too_large(
            what,
            &host,
            blob,
            "it kept sending past that size; a body longer than its descriptor says is \
             refused",
        ),
        StoreError::Io { source, .. } if is_wrapped_deadline(&source) => RegistryError::Deadline {
            what: what.into(),
            host,
            budget,
        },
        StoreError::Io { source, .. } => RegistryError::Transport {
            what: what.into(),
            host,
            detail: format!(
                "the download broke off ({})",
                printable(&source.to_string(), 200)
            ),
        },
        e => e.into(),
    }
}

/// A body cut at `left` bytes: one byte more is an error ([`Overflow`]), not silently
/// dropped. Remembers whether reading failed, to tell network failures from store failures.
struct Bounded<R> {
    inner: R,
    left: u64,
    failed: bool,
}

/// The error a [`Bounded`] reader gives when the body goes on past its declared size.
#[derive(Debug, thiserror::Error)]
#[error("the body is longer than its declared size")]
struct Overflow;

fn is_overflow(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|i| i.is::<Overflow>())
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = if self.left == 0 {
            let mut probe = [0u8; 1];
            match self.inner.read(&mut probe) {
                Ok(0) => Ok(0),
                Ok(_) => Err(io::Error::other(Overflow)),
                Err(e) => Err(e),
            }
        } else {
            let max = buf
                .len()
                .min(usize::try_from(self.left).unwrap_or(usize::MAX));
            self.inner.read(&mut buf[..max]).inspect(|n| {
                self.left -= *n as u64;
            })
        };
        self.failed |= result.is_err();
        result
    }
}

struct Counting<R> {
    inner: R,
    stats: Arc<TransferStats>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.stats
            .bytes_downloaded
            .fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}
