//! SPDX 2.3 JSON (spdx-spec v2.3, `schemas/spdx-schema.json`) written from a [`Bom`].
//!
//! - Packages: the image (`primaryPackagePurpose: CONTAINER`), each binary (`APPLICATION`,
//!   named by its main module, `packageFileName` its path), each module and the standard
//!   library (`LIBRARY`). `filesAnalyzed: false`; checksums `SHA256` (a module's `h1:` hash in
//!   hex, as syft and ko write it); `externalRefs` purl (PACKAGE-MANAGER) and, for the standard
//!   library, `cpe23Type` (SECURITY).
//! - Licences: `licenseDeclared` is what the module's licence files say (an unrecognised file
//!   becomes a `LicenseRef-gopack-…` with its text in `hasExtractedLicensingInfos`);
//!   `NOASSERTION` only when no file could be read, and the package `comment` says why.
//!   `licenseConcluded` is `NOASSERTION`: gopack declares, it does not conclude.
//! - Relationships: DOCUMENT DESCRIBES the root, image CONTAINS binary, DEPENDS_ON edges.
//! - gopack's extra facts (version source, toolchain, build settings) are package
//!   `annotations` of type OTHER, one per property, `name=value`.
//! - `documentNamespace` is derived from the content (same content → same namespace).

use std::collections::BTreeMap;

use serde::Serialize;

use super::bom::{Bom, Component, Kind};
use super::licence::{FileVerdict, Licence};
use crate::oci::Digest;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: &'a str,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<Package>,
    relationships: Vec<Relationship>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicence>,
}

#[derive(Serialize)]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    name: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    package_file_name: Option<String>,
    supplier: &'static str,
    download_location: String,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    license_concluded: &'static str,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    primary_package_purpose: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    built_date: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    annotations: Vec<Annotation>,
}

#[derive(Serialize)]
struct Checksum {
    algorithm: &'static str,
    #[serde(rename = "checksumValue")]
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Annotation {
    annotation_date: String,
    annotation_type: &'static str,
    annotator: String,
    comment: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicence {
    license_id: String,
    extracted_text: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

/// The SPDX 2.3 JSON document for `bom`, pretty-printed, ending in a newline.
pub fn render(bom: &Bom) -> Vec<u8> {
    let ids: BTreeMap<&str, String> = bom
        .components
        .iter()
        .map(|c| (c.key.as_str(), spdx_id(c)))
        .collect();
    let tool = format!("Tool: gopack-{}", bom.tool_version);
    let mut extracted: BTreeMap<String, ExtractedLicence> = BTreeMap::new();
    let packages = bom
        .components
        .iter()
        .map(|c| package(c, &ids, bom, &tool, &mut extracted))
        .collect();
    let mut relationships = vec![Relationship {
        spdx_element_id: "SPDXRef-DOCUMENT".into(),
        relationship_type: "DESCRIBES",
        related_spdx_element: ids.get(bom.root.as_str()).cloned().unwrap_or_default(),
    }];
    for (kind, edges) in [("CONTAINS", &bom.contains), ("DEPENDS_ON", &bom.depends_on)] {
        for (from, tos) in edges {
            for to in tos {
                // The image's dependency on its binaries is said by CONTAINS already.
                if kind == "DEPENDS_ON" && bom.contains.get(from).is_some_and(|c| c.contains(to)) {
                    continue;
                }
                if let (Some(f), Some(t)) = (ids.get(from.as_str()), ids.get(to.as_str())) {
                    relationships.push(Relationship {
                        spdx_element_id: f.clone(),
                        relationship_type: kind,
                        related_spdx_element: t.clone(),
                    });
                }
            }
        }
    }
    let document = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name: &bom.name,
        document_namespace: format!(
            "https://spdx.org/spdxdocs/gopack/{}-{}",
            sanitise(&bom.name),
            bom.content_hash
        ),
        creation_info: CreationInfo {
            created: bom.created.clone(),
            creators: vec![tool],
        },
        packages,
        relationships,
        has_extracted_licensing_infos: extracted.into_values().collect(),
    };
    let mut out = serde_json::to_vec_pretty(&document).unwrap_or_default();
    out.push(b'\n');
    out
}

fn package(
    c: &Component,
    ids: &BTreeMap<&str, String>,
    bom: &Bom,
    tool: &str,
    extracted: &mut BTreeMap<String, ExtractedLicence>,
) -> Package {
    let mut external_refs = Vec::new();
    if let Some(purl) = &c.purl {
        external_refs.push(ExternalRef {
            reference_category: "PACKAGE-MANAGER",
            reference_type: "purl",
            reference_locator: purl.clone(),
        });
    }
    if let Some(cpe) = &c.cpe {
        external_refs.push(ExternalRef {
            reference_category: "SECURITY",
            reference_type: "cpe23Type",
            reference_locator: cpe.clone(),
        });
    }
    let (license_declared, comment) = declared(c, extracted);
    let source_info = c
        .properties
        .iter()
        .find(|(k, _)| k == "gopack:version:source")
        .map(|(_, v)| format!("version from {v}"));
    Package {
        name: c.name.clone(),
        spdx_id: ids.get(c.key.as_str()).cloned().unwrap_or_default(),
        version_info: c.version.clone(),
        package_file_name: (c.kind == Kind::Application).then(|| c.locations.join(", ")),
        supplier: "NOASSERTION",
        download_location: c.download.clone().unwrap_or_else(|| "NOASSERTION".into()),
        files_analyzed: false,
        checksums: c
            .sha256
            .iter()
            .map(|v| Checksum {
                algorithm: "SHA256",
                value: v.clone(),
            })
            .collect(),
        license_concluded: "NOASSERTION",
        license_declared,
        copyright_text: "NOASSERTION",
        source_info,
        comment,
        external_refs,
        primary_package_purpose: match c.kind {
            Kind::Container => "CONTAINER",
            Kind::Application => "APPLICATION",
            Kind::Library | Kind::Stdlib => "LIBRARY",
        },
        built_date: (c.kind == Kind::Application).then(|| bom.created.clone()),
        annotations: c
            .properties
            .iter()
            .filter(|(k, v)| annotated(c.kind, k, v))
            .map(|(k, v)| Annotation {
                annotation_date: bom.created.clone(),
                annotation_type: "OTHER",
                annotator: tool.to_string(),
                comment: format!("{k}={v}"),
            })
            .collect(),
    }
}

/// Which properties become annotations: all of a binary's, the standard library's and an
/// image's; of a module only what is not routine (a replacement, a licence not identified) —
/// its `h1:` hash is the SHA256 checksum already.
fn annotated(kind: Kind, key: &str, value: &str) -> bool {
    match kind {
        Kind::Library => match key {
            "gopack:license:status" => value != "identified",
            "gopack:go:h1" | "gopack:license:files" => false,
            _ => true,
        },
        _ => true,
    }
}

/// `licenseDeclared` and, when it is NOASSERTION, the comment saying why; unrecognised files
/// are added to `extracted`.
fn declared(
    c: &Component,
    extracted: &mut BTreeMap<String, ExtractedLicence>,
) -> (String, Option<String>) {
    let mut terms: Vec<String> = Vec::new();
    for id in c.licence.identifiers() {
        terms.push(parenthesise(&id));
    }
    for file in c.licence.unrecognised() {
        let text = file.text.clone().unwrap_or_default();
        let id = licence_ref(&text);
        let closest = match &file.verdict {
            FileVerdict::Unrecognised { closest: Some(c) } => Some(format!(
                "Not a licence text gopack recognises; it resembles {c}."
            )),
            _ => Some("Not a licence text gopack recognises.".to_string()),
        };
        extracted.entry(id.clone()).or_insert(ExtractedLicence {
            license_id: id.clone(),
            extracted_text: if text.trim().is_empty() {
                "(empty file)".into()
            } else {
                text
            },
            name: format!("{} of {}", file.name, c.name),
            comment: closest,
        });
        if !terms.contains(&id) {
            terms.push(id);
        }
    }
    if !terms.is_empty() {
        let expression = if terms.len() == 1 {
            terms[0]
                .trim_start_matches('(')
                .trim_end_matches(')')
                .to_string()
        } else {
            terms.join(" AND ")
        };
        return (expression, None);
    }
    let why = match &c.licence {
        Licence::NotInCache if c.kind == Kind::Container => None,
        Licence::NotInCache => Some(
            "Licence not read: the module is not in the Go module cache (run `go mod download` \
             in the project, then generate the SBOM again)."
                .to_string(),
        ),
        Licence::NoFile if c.kind == Kind::Container => None,
        Licence::NoFile => Some("The module has no licence file at its root.".to_string()),
        _ => None,
    };
    ("NOASSERTION".into(), why)
}

/// `LicenseRef-gopack-<12 hex of the text's sha256>`: the same text gets the same reference.
pub fn licence_ref(text: &str) -> String {
    format!(
        "LicenseRef-gopack-{}",
        &Digest::of(text.as_bytes()).hex()[..12]
    )
}

fn parenthesise(expression: &str) -> String {
    if expression.contains(' ') {
        format!("({expression})")
    } else {
        expression.to_string()
    }
}

/// `SPDXRef-<Kind>-<name>-<8 hex of the key>`, in the characters SPDX allows.
fn spdx_id(c: &Component) -> String {
    let kind = match c.kind {
        Kind::Container => "Image",
        Kind::Application => "Binary",
        Kind::Library => "Module",
        Kind::Stdlib => "Stdlib",
    };
    let hash = Digest::of(c.key.as_bytes());
    format!("SPDXRef-{kind}-{}-{}", sanitise(&c.name), &hash.hex()[..8])
}

/// Keeps `A-Z a-z 0-9 . -`; everything else becomes `-`.
fn sanitise(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}
