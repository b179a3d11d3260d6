//! How image sets are named in each kind of output, from the target's own tag and `--tag`s.
//! Every tag is applied; a name the format cannot hold is refused before anything is built.

use crate::oci::check_ref_name;
use crate::registry::{DOCKER_HUB, Reference};

use super::{ImageSet, SinkError, parse_reference};

/// Ref names (`org.opencontainers.image.ref.name`) in a layout or OCI archive, per set: the
/// tags (default `latest`) for one set; `<binary>-<tag>` (default `<binary>`) for several.
pub(super) fn layout_names(sets: &[ImageSet], tags: &[String]) -> Vec<Vec<String>> {
    sets.iter()
        .map(|set| match (sets.len(), tags.is_empty()) {
            (1, true) => vec!["latest".to_string()],
            (1, false) => tags.to_vec(),
            (_, true) => vec![set.name.clone()],
            (_, false) => tags.iter().map(|t| format!("{}-{t}", set.name)).collect(),
        })
        .collect()
}

/// Refuses tags that are not valid ref names.
pub(super) fn check_layout_tags(tags: &[String]) -> Result<(), SinkError> {
    for t in tags {
        check_ref_name(t).map_err(SinkError::Name)?;
    }
    Ok(())
}

/// One docker-archive name before it is applied to a set: a repository (or the binary's name
/// when `None`) and a tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct DockerName {
    repository: Option<Reference>,
    tag: String,
}

/// The docker-archive names from `docker-archive:FILE:REF` and the `--tag`s: a bare tag
/// (`v1`) names REF's repository (or the binary's); a full reference (`example.com/app:v1`)
/// is used as it is. With none, `<REF or binary>:latest`.
pub(super) fn docker_names(
    reference: Option<&Reference>,
    tags: &[String],
) -> Result<Vec<DockerName>, SinkError> {
    if let Some(r) = reference
        && r.digest.is_some()
    {
        return Err(SinkError::Name(format!(
            "docker-archive:FILE:{r} names a digest; an archive names images by tag \
             (REPOSITORY:TAG)"
        )));
    }
    let repo = reference.map(|r| Reference {
        tag: None,
        ..r.clone()
    });
    let mut own_tags: Vec<String> = reference.and_then(|r| r.tag.clone()).into_iter().collect();
    let mut full = Vec::new();
    for t in tags {
        if is_bare_tag(t) {
            own_tags.push(t.clone());
        } else {
            let r = parse_reference(t, "--tag")?;
            if r.digest.is_some() {
                return Err(SinkError::Name(format!(
                    "--tag {t} names a digest; a docker archive names images by tag"
                )));
            }
            full.push(DockerName {
                tag: r.tag.clone().unwrap_or_else(|| "latest".into()),
                repository: Some(Reference { tag: None, ..r }),
            });
        }
    }
    if own_tags.is_empty() && (repo.is_some() || full.is_empty()) {
        own_tags.push("latest".into());
    }
    let mut names: Vec<DockerName> = own_tags
        .into_iter()
        .map(|tag| DockerName {
            repository: repo.clone(),
            tag,
        })
        .collect();
    names.extend(full);
    names.dedup();
    Ok(names)
}

/// The references each set gets in a docker archive: with one set, the names as they are;
/// with several, `<repository>/<binary>:<tag>`, or `<binary>:<tag>` for a bare tag.
pub(super) fn docker_references(
    sets: &[ImageSet],
    names: &[DockerName],
) -> Result<Vec<Vec<Reference>>, SinkError> {
    sets.iter()
        .map(|set| {
            let binary = set.name.to_ascii_lowercase();
            names
                .iter()
                .map(|n| {
                    let text = match (&n.repository, sets.len()) {
                        (Some(r), 1) => format!("{}:{}", r.name(), n.tag),
                        (Some(r), _) => format!("{}/{binary}:{}", r.name(), n.tag),
                        (None, _) => format!("{binary}:{}", n.tag),
                    };
                    parse_reference(&text, "image name")
                })
                .collect()
        })
        .collect()
}

/// A `--tag` that is only a tag (`v1.4`, `latest`), not a reference.
pub(super) fn is_bare_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// Docker's short form of a reference, as `docker images` shows it and `RepoTags` holds it:
/// `docker.io/library/alpine:3` → `alpine:3`, `docker.io/team/app:v1` → `team/app:v1`; other
/// registries stay whole.
pub fn familiar_name(r: &Reference) -> String {
    let mut out = if r.registry == DOCKER_HUB {
        r.repository
            .strip_prefix("library/")
            .filter(|rest| !rest.contains('/'))
            .unwrap_or(&r.repository)
            .to_string()
    } else {
        r.name()
    };
    if let Some(t) = &r.tag {
        out.push(':');
        out.push_str(t);
    }
    if let Some(d) = &r.digest {
        out.push('@');
        out.push_str(&d.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(name: &str) -> ImageSet {
        ImageSet {
            name: name.into(),
            images: Vec::new(),
            index: None,
        }
    }

    fn refs(reference: Option<&str>, tags: &[&str], sets: &[&str]) -> Vec<Vec<String>> {
        let reference = reference.map(|r| r.parse::<Reference>().unwrap());
        let tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
        let names = docker_names(reference.as_ref(), &tags).unwrap();
        let sets: Vec<ImageSet> = sets.iter().map(|s| set(s)).collect();
        docker_references(&sets, &names)
            .unwrap()
            .iter()
            .map(|rs| rs.iter().map(familiar_name).collect())
            .collect()
    }

    #[test]
    fn every_tag_names_the_image_in_a_docker_archive() {
        assert_eq!(refs(None, &[], &["api"]), [["api:latest"]]);
        assert_eq!(
            refs(Some("example.com/app:v1"), &[], &["api"]),
            [["example.com/app:v1"]]
        );
        assert_eq!(
            refs(Some("localhost:5000/app"), &[], &["api"]),
            [["localhost:5000/app:latest"]]
        );
        assert_eq!(
            refs(
                None,
                &["example.com/app:v1", "example.com/app:latest"],
                &["x"]
            ),
            [["example.com/app:v1", "example.com/app:latest"]]
        );
        assert_eq!(
            refs(Some("example.com/app"), &["v1", "latest"], &["x"]),
            [["example.com/app:v1", "example.com/app:latest"]]
        );
        assert_eq!(refs(None, &["v2"], &["UPPER"]), [["upper:v2"]]);
        assert_eq!(
            refs(Some("example.com/team:v2"), &[], &["api", "worker"]),
            [["example.com/team/api:v2"], ["example.com/team/worker:v2"]]
        );
    }

    #[test]
    fn layout_names_use_every_tag() {
        let one = [set("api")];
        let two = [set("api"), set("worker")];
        let tags = vec!["v1".to_string(), "latest".to_string()];
        assert_eq!(layout_names(&one, &[]), [["latest"]]);
        assert_eq!(layout_names(&one, &tags), [["v1", "latest"]]);
        assert_eq!(layout_names(&two, &[]), [["api"], ["worker"]]);
        assert_eq!(
            layout_names(&two, &tags),
            [["api-v1", "api-latest"], ["worker-v1", "worker-latest"]]
        );
    }

    #[test]
    fn familiar_names_are_dockers() {
        let f = |s: &str| familiar_name(&s.parse().unwrap());
        assert_eq!(f("alpine:3"), "alpine:3");
        assert_eq!(f("team/app:v1"), "team/app:v1");
        assert_eq!(f("ghcr.io/a/b:c"), "ghcr.io/a/b:c");
    }
}
