//! Size and digest verification of every blob read.
#![warn(missing_docs)]

use std::io::{self, Read};

use sha2::{Digest as _, Sha256};

use super::SourceError;
use crate::oci::{Descriptor, Digest};

/// A blob's bytes, checked against its descriptor as they are read: the descriptor's size is a
/// hard limit (the stream is cut one byte past it and refused), a stream that ends early is
/// refused, and at the end the sha256 must be the descriptor's digest. Errors arrive as
/// `io::Error`s carrying a [`SourceError`] (see [`SourceError::from_verification`]); the check
/// happens only when the stream is read to its end (see [`VerifiedReader::verify_to_end`]).
pub struct VerifiedReader {
    inner: Box<dyn Read + Send>,
    expected: Digest,
    size: u64,
    what: String,
    hasher: Sha256,
    seen: u64,
    state: State,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Reading,
    Verified,
    Failed,
}

impl VerifiedReader {
    /// Wraps `inner`, which should yield exactly the blob `descriptor` names. `what` names the
    /// blob in errors.
    pub fn new(inner: Box<dyn Read + Send>, descriptor: &Descriptor, what: String) -> Self {
        VerifiedReader {
            inner,
            expected: descriptor.digest.clone(),
            size: descriptor.size,
            what,
            hasher: Sha256::new(),
            seen: 0,
            state: State::Reading,
        }
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.seen
    }

    /// Reads (and drops) the rest of the blob, then checks it.
    pub fn verify_to_end(&mut self) -> Result<(), SourceError> {
        io::copy(self, &mut io::sink())
            .map(drop)
            .map_err(|e| self.error(e))
    }

    /// Turns an error from reading this blob into a [`SourceError`] naming it.
    pub fn error(&self, e: io::Error) -> SourceError {
        SourceError::from_verification(e).unwrap_or_else(|error| SourceError::Io {
            what: self.what.clone(),
            error,
        })
    }

    fn fail(&mut self, e: SourceError) -> io::Error {
        self.state = State::Failed;
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

impl Read for VerifiedReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.state {
            State::Verified => return Ok(0),
            State::Failed => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{} failed verification", self.what),
                ));
            }
            State::Reading => {}
        }
        if buf.is_empty() {
            return Ok(0);
        }
        // Never ask for more than one byte past the declared size.
        let room = (self.size - self.seen).saturating_add(1);
        let want = buf.len().min(room.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            if self.seen < self.size {
                let e = SourceError::Size {
                    what: self.what.clone(),
                    expected: self.size,
                    found: format!("it ends after {} bytes", self.seen),
                };
                return Err(self.fail(e));
            }
            let actual = Digest::from_sha256(self.hasher.clone().finalize().as_slice());
            if actual != self.expected {
                let e = SourceError::Digest {
                    what: self.what.clone(),
                    expected: self.expected.clone(),
                    actual,
                };
                return Err(self.fail(e));
            }
            self.state = State::Verified;
            return Ok(0);
        }
        if self.seen + n as u64 > self.size {
            let e = SourceError::Size {
                what: self.what.clone(),
                expected: self.size,
                found: "it is longer".into(),
            };
            return Err(self.fail(e));
        }
        self.hasher.update(&buf[..n]);
        self.seen += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::MEDIA_TYPE_LAYER_TAR;

    fn verified(body: &'static [u8], declared: &[u8], size: u64) -> Result<Vec<u8>, SourceError> {
        let d = Descriptor::new(MEDIA_TYPE_LAYER_TAR, Digest::of(declared), size);
        let mut r = VerifiedReader::new(Box::new(body), &d, "blob x".into());
        let mut out = Vec::new();
        r.read_to_end(&mut out).map_err(|e| r.error(e))?;
        Ok(out)
    }

    #[test]
    fn good_blobs_pass_and_bad_ones_say_why() {
        assert_eq!(verified(b"abc", b"abc", 3).unwrap(), b"abc");
        let short = verified(b"ab", b"abc", 3).unwrap_err().to_string();
        assert!(short.contains("ends after 2 bytes"), "{short}");
        let long = verified(b"abcd", b"abc", 3).unwrap_err().to_string();
        assert!(long.contains("longer"), "{long}");
        let wrong = verified(b"abd", b"abc", 3).unwrap_err();
        assert!(matches!(wrong, SourceError::Digest { .. }), "{wrong}");
    }

    #[test]
    fn an_endless_body_is_cut_one_byte_past_its_size() {
        let d = Descriptor::new(MEDIA_TYPE_LAYER_TAR, Digest::of(b"0000"), 4);
        let mut r = VerifiedReader::new(Box::new(io::repeat(b'0')), &d, "blob z".into());
        let err = r.verify_to_end().unwrap_err().to_string();
        assert!(err.contains("longer"), "{err}");
        assert!(r.bytes_read() <= 4);
    }
}
