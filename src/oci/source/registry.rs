//! A registry (distribution-spec v1.1 pull): the [`RegistryClient`] does the HTTP (auth,
//! retries, TLS); this adapter only asks it for documents and blobs. Everything fetched is kept
//! in the blob store, so a digest-pinned reference already there needs no network.
#![warn(missing_docs)]

use std::io::{self, Read};

use super::{ImageSource, SourceError};
use crate::oci::media::{MediaKind, classify};
use crate::oci::{BlobStore, Descriptor};
use crate::registry::{Reference, RegistryClient};

/// `docker://REF` or a bare reference.
pub struct RegistrySource<'c> {
    client: Client<'c>,
    reference: Reference,
    store: BlobStore,
}

enum Client<'c> {
    Owned(Box<RegistryClient>),
    Borrowed(&'c RegistryClient),
}

impl RegistrySource<'static> {
    /// A source owning its client; `store` receives what is downloaded.
    pub fn new(client: RegistryClient, reference: Reference, store: BlobStore) -> Self {
        RegistrySource {
            client: Client::Owned(Box::new(client)),
            reference,
            store,
        }
    }
}

impl<'c> RegistrySource<'c> {
    /// A source using a client the caller keeps (and its transfer statistics).
    pub fn with_client(client: &'c RegistryClient, reference: Reference, store: BlobStore) -> Self {
        RegistrySource {
            client: Client::Borrowed(client),
            reference,
            store,
        }
    }

    /// The client in use.
    pub fn client(&self) -> &RegistryClient {
        match &self.client {
            Client::Owned(c) => c,
            Client::Borrowed(c) => c,
        }
    }

    /// The reference read.
    pub fn reference(&self) -> &Reference {
        &self.reference
    }
}

impl ImageSource for RegistrySource<'_> {
    fn name(&self) -> String {
        self.reference.to_string()
    }

    fn top(&self) -> Result<Descriptor, SourceError> {
        let target = self.reference.manifest_reference();
        let (bytes, digest, media_type) = self.client().get_document(
            &self.store,
            &self.reference,
            &target,
            self.reference.digest.as_ref(),
        )?;
        Ok(Descriptor::new(&media_type, digest, bytes.len() as u64))
    }

    fn open_raw(&self, descriptor: &Descriptor) -> Result<Box<dyn Read + Send>, SourceError> {
        let document = matches!(
            classify(&descriptor.media_type),
            Some(MediaKind::Index | MediaKind::Manifest)
        );
        if document {
            let (bytes, ..) = self.client().get_document(
                &self.store,
                &self.reference,
                &descriptor.digest.to_string(),
                Some(&descriptor.digest),
            )?;
            return Ok(Box::new(io::Cursor::new(bytes)));
        }
        self.fetch_raw_into(descriptor, &self.store)?;
        Ok(Box::new(self.store.open_blob(&descriptor.digest)?))
    }

    fn fetch_raw_into(
        &self,
        descriptor: &Descriptor,
        store: &BlobStore,
    ) -> Result<(), SourceError> {
        Ok(self.client().get_blob(store, &self.reference, descriptor)?)
    }
}
