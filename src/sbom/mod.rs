//! Software bills of materials for Go binaries and the images holding them: SPDX 2.3 and
//! CycloneDX 1.6 JSON, built from what gopack knows first-hand.

pub mod golang;
pub mod licence;
pub mod purl;
