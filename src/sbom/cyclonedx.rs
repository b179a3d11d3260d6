//! CycloneDX 1.6 JSON (`schema/bom-1.6.schema.json`) written from a [`Bom`].
//!
//! - `metadata.component` is the root (the image as `container` with its `pkg:oci` purl, or the
//!   only binary); `components` the rest: each binary as `application`, modules and the standard
//!   library as `library`, each with `purl`, `hashes` (`SHA-256`), `licenses` and, for
//!   binaries, `evidence.occurrences[].location` (the path in the image).
//! - Properties use the registered `cdx:gomod:*` taxonomy (`cdx:gomod:build:env:GOOS`,
//!   `cdx:gomod:binary:name`, `cdx:gomod:binary:hash:SHA-256`, `cdx:gomod:build:tag`); gopack's
//!   extras are `gopack:*`.
//! - Licences: SPDX IDs as `license.id` (or one `expression` when a file declared one); an
//!   unrecognised file as a named licence `LicenseRef-gopack-…` with its text, the same
//!   reference the SPDX document uses. `acknowledgement: declared`.
//! - `serialNumber` is a name-based UUID of the content (same content → same serial).

use serde::Serialize;

use super::bom::{Bom, Component, Kind};
use super::licence::Licence;
use super::spdx::licence_ref;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata,
    components: Vec<CdxComponent>,
    dependencies: Vec<Dependency>,
}

#[derive(Serialize)]
struct Metadata {
    timestamp: String,
    tools: Tools,
    #[serde(skip_serializing_if = "Option::is_none")]
    component: Option<CdxComponent>,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Tool>,
}

#[derive(Serialize)]
struct Tool {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'static str,
    version: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CdxComponent {
    #[serde(rename = "bom-ref")]
    bom_ref: String,
    #[serde(rename = "type")]
    kind: &'static str,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashes: Vec<Hash>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cpe: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_references: Vec<ExternalReference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<Evidence>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Hash {
    alg: &'static str,
    content: String,
}

#[derive(Serialize)]
#[serde(untagged)]
enum LicenseChoice {
    License {
        license: License,
    },
    Expression {
        expression: String,
        acknowledgement: &'static str,
    },
}

#[derive(Serialize)]
struct License {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    acknowledgement: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<Attachment>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Attachment {
    content_type: &'static str,
    content: String,
}

#[derive(Serialize)]
struct ExternalReference {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

#[derive(Serialize)]
struct Evidence {
    occurrences: Vec<Occurrence>,
}

#[derive(Serialize)]
struct Occurrence {
    location: String,
}

#[derive(Serialize)]
struct Property {
    name: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    depends_on: Vec<String>,
}

/// The CycloneDX 1.6 JSON document for `bom`, pretty-printed, ending in a newline.
pub fn render(bom: &Bom) -> Vec<u8> {
    let serial = uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("gopack-sbom:{}", bom.content_hash).as_bytes(),
    );
    let root = bom.component(&bom.root).map(component);
    let components = bom
        .components
        .iter()
        .filter(|c| c.key != bom.root)
        .map(component)
        .collect();
    let dependencies = bom
        .components
        .iter()
        .map(|c| Dependency {
            reference: c.key.clone(),
            depends_on: bom
                .depends_on
                .get(&c.key)
                .map(|s| s.iter().cloned().collect())
                .unwrap_or_default(),
        })
        .collect();
    let document = Document {
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number: format!("urn:uuid:{serial}"),
        version: 1,
        metadata: Metadata {
            timestamp: bom.created.clone(),
            tools: Tools {
                components: vec![Tool {
                    kind: "application",
                    name: "gopack",
                    version: bom.tool_version.clone(),
                }],
            },
            component: root,
        },
        components,
        dependencies,
    };
    let mut out = serde_json::to_vec_pretty(&document).unwrap_or_default();
    out.push(b'\n');
    out
}

fn component(c: &Component) -> CdxComponent {
    let mut external_references = Vec::new();
    if let Some(url) = &c.download {
        external_references.push(ExternalReference {
            kind: "distribution",
            url: url.clone(),
        });
    }
    CdxComponent {
        bom_ref: c.key.clone(),
        kind: match c.kind {
            Kind::Container => "container",
            Kind::Application => "application",
            Kind::Library | Kind::Stdlib => "library",
        },
        name: c.name.clone(),
        version: c.version.clone(),
        hashes: c
            .sha256
            .iter()
            .map(|h| Hash {
                alg: "SHA-256",
                content: h.clone(),
            })
            .collect(),
        licenses: licenses(&c.licence),
        cpe: c.cpe.clone(),
        purl: c.purl.clone(),
        external_references,
        evidence: (c.kind == Kind::Application).then(|| Evidence {
            occurrences: c
                .locations
                .iter()
                .map(|l| Occurrence {
                    location: l.clone(),
                })
                .collect(),
        }),
        properties: c
            .properties
            .iter()
            .map(|(name, value)| Property {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
    }
}

/// The `licenses` array: license objects, or a single expression when a file declared a
/// compound one (the schema allows one form or the other, not both).
fn licenses(licence: &Licence) -> Vec<LicenseChoice> {
    let ids = licence.identifiers();
    let unknown = licence.unrecognised();
    if ids.iter().any(|id| id.contains(' ')) {
        let mut terms: Vec<String> = ids
            .iter()
            .map(|id| {
                if id.contains(' ') {
                    format!("({id})")
                } else {
                    id.clone()
                }
            })
            .collect();
        terms.extend(
            unknown
                .iter()
                .map(|f| licence_ref(f.text.as_deref().unwrap_or(""))),
        );
        return vec![LicenseChoice::Expression {
            expression: terms.join(" AND "),
            acknowledgement: "declared",
        }];
    }
    // `id` must be on the SPDX licence list (the schema's enum); anything else is a name.
    let mut out: Vec<LicenseChoice> = ids
        .into_iter()
        .map(|id| {
            let listed = spdx::license_id(&id).is_some();
            LicenseChoice::License {
                license: License {
                    name: (!listed).then(|| id.clone()),
                    id: listed.then_some(id),
                    acknowledgement: "declared",
                    text: None,
                },
            }
        })
        .collect();
    for f in unknown {
        let text = f.text.clone().unwrap_or_default();
        out.push(LicenseChoice::License {
            license: License {
                id: None,
                name: Some(licence_ref(&text)),
                acknowledgement: "declared",
                text: Some(Attachment {
                    content_type: "text/plain",
                    content: text,
                }),
            },
        });
    }
    out
}
