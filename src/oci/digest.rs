//! sha256 content digests (image-spec `descriptor.md` "Digests").
#![warn(missing_docs)]
use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

/// A `sha256:<64 hex>` content digest. Only sha256 is produced; other algorithms are refused
/// when read, with a message saying so.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    hex: String,
}

/// Why a digest string was refused.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    /// Not `sha256:` + 64 lowercase hex.
    #[error("`{0}` is not a digest: expected `sha256:` followed by 64 lowercase hex characters")]
    Malformed(String),
    /// Another algorithm than sha256.
    #[error("digest algorithm `{0}` is not supported (only sha256)")]
    Algorithm(String),
}

impl Digest {
    /// The sha256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest::from_sha256(Sha256::digest(bytes).as_slice())
    }

    pub(crate) fn from_sha256(raw: &[u8]) -> Digest {
        Digest {
            hex: hex::encode(raw),
        }
    }

    /// The 64 hex characters, as used in blob paths (`blobs/sha256/<hex>`).
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The short form people read in summaries (`sha256:0123456789ab`).
    pub fn short(&self) -> String {
        format!("sha256:{}", &self.hex[..12])
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Digest, DigestError> {
        let (algorithm, hex) = s
            .split_once(':')
            .ok_or_else(|| DigestError::Malformed(s.into()))?;
        if algorithm != "sha256" {
            return Err(DigestError::Algorithm(algorithm.into()));
        }
        let valid = hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !valid {
            return Err(DigestError::Malformed(s.into()));
        }
        Ok(Digest { hex: hex.into() })
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Digest, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Passes bytes through to `inner` while hashing and counting them.
pub struct Sha256Writer<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> Sha256Writer<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Sha256Writer {
            inner,
            hasher: Sha256::new(),
            written: 0,
        }
    }

    /// The inner writer, the digest and the byte count of everything written.
    pub fn finish(self) -> (W, Digest, u64) {
        (
            self.inner,
            Digest::from_sha256(self.hasher.finalize().as_slice()),
            self.written,
        )
    }

    /// The digest of everything written so far, without ending the stream.
    pub fn digest(&self) -> Digest {
        Digest::from_sha256(self.hasher.clone().finalize().as_slice())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The inner writer.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }
}

impl<W: Write> Write for Sha256Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_of_empty_input_is_the_well_known_one() {
        assert_eq!(
            Digest::of(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn parse_rejects_bad_digests_with_reasons() {
        assert!(matches!(
            "sha512:abc".parse::<Digest>(),
            Err(DigestError::Algorithm(_))
        ));
        assert!(matches!(
            "sha256:XYZ".parse::<Digest>(),
            Err(DigestError::Malformed(_))
        ));
        assert!(matches!(
            "nocolon".parse::<Digest>(),
            Err(DigestError::Malformed(_))
        ));
        let good = Digest::of(b"x");
        assert_eq!(good.to_string().parse::<Digest>().unwrap(), good);
    }

    #[test]
    fn writer_hashes_what_passes_through() {
        let mut w = Sha256Writer::new(Vec::new());
        w.write_all(b"hello").unwrap();
        let (inner, digest, n) = w.finish();
        assert_eq!(inner, b"hello");
        assert_eq!(n, 5);
        assert_eq!(digest, Digest::of(b"hello"));
    }
}
