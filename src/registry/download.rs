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
use super::push::{finish, status_error};
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
            let (status, _, body) = finish(resp);
            if status == 404 {
                return Err(RegistryError::NotFound {
                    what: what.into(),
                    reference: format!("{}@{}", reference.name(), blob.digest),
                    message: super::error::registry_message(&body),
                });
            }
            return Err(status_error(what, registry, status, &body));
        }
        let (host, budget) = (resp.host.clone(), resp.budget);
        let too_large = |detail: &str| RegistryError::TooLarge {
            what: what.into(),
            host: host.clone(),
            declared: blob.size,
            detail: detail.into(),
        };
        let announced = resp
            .header("content-length")
            .and_then(|v| v.trim().parse::<u64>().ok());
        if let Some(n) = announced.filter(|n| *n > blob.size) {
            return Err(too_large(&format!("it announced {n} bytes")));
        }
        let mut reader = Bounded {
            inner: Counting {
                inner: resp.body.into_reader(),
                stats: self.stats.clone(),
            },
            left: blob.size,
            failed: false,
        };
        match store.put_verified(&blob.digest, &mut reader) {
            Ok(_) => Ok(()),
            Err(StoreError::DigestMismatch { actual, .. }) => Err(RegistryError::DigestMismatch {
                what: what.into(),
                host,
                expected: blob.digest.to_string(),
                actual: actual.to_string(),
            }),
            // A failure to write to the store is local: not retried, not the network's.
            Err(e @ StoreError::Io { .. }) if !reader.failed => Err(e.into()),
            Err(StoreError::Io { source, .. }) if is_overflow(&source) => Err(too_large(
                "it kept sending past that size; a body longer than its descriptor says is \
                 refused",
            )),
            Err(StoreError::Io { source, .. }) if is_wrapped_deadline(&source) => {
                Err(RegistryError::Deadline {
                    what: what.into(),
                    host,
                    budget,
                })
            }
            Err(StoreError::Io { source, .. }) => Err(RegistryError::Transport {
                what: what.into(),
                host,
                detail: format!(
                    "the download broke off ({})",
                    printable(&source.to_string(), 200)
                ),
            }),
            Err(e) => Err(e.into()),
        }
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
