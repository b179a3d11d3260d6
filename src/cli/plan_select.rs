//! `--shard I/N` and `--changed-since GITREF`: which of the main packages this run builds.
//!
//! Shards: the main packages sorted by import path, the k-th (from 0) going to shard
//! `k mod N + 1` — the same split on every machine for the same package set, and shards of
//! sizes that differ by at most one. The union of the N shards is the whole build.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use gopack::config::GoEnv;
use gopack::project::changes::{self, MainInputs};

use super::UsageError;
use super::plan_targets::Selection;

/// Parses `I/N` (1 ≤ I ≤ N).
pub fn parse_shard(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--shard `{text}` must be I/N with 1 <= I <= N, e.g. 2/3");
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if i == 0 || n == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

/// What the selection keeps, and what it leaves out and why.
#[derive(Debug, Default)]
pub struct Chosen {
    /// Import paths to build.
    pub build: BTreeSet<String>,
    /// Left out: not affected by the changes since the ref.
    pub unchanged: Vec<String>,
    /// Left out: another shard's.
    pub other_shards: Vec<String>,
}

/// Splits import paths into this shard's and the others' (sorted, round robin).
pub fn shard_split(mains: &[String], shard: Option<(usize, usize)>) -> (Vec<String>, Vec<String>) {
    let mut sorted: Vec<&String> = mains.iter().collect();
    sorted.sort();
    let (mut mine, mut others) = (Vec::new(), Vec::new());
    for (k, m) in sorted.into_iter().enumerate() {
        match shard {
            Some((i, n)) if k % n != i - 1 => others.push(m.clone()),
            _ => mine.push(m.clone()),
        }
    }
    (mine, others)
}

/// Applies `--shard` then `--changed-since` to `mains` (import path, data directories).
pub fn choose(
    goenv: &GoEnv,
    root: &Path,
    mains: &[(String, Vec<PathBuf>)],
    tags: &[String],
    selection: &Selection,
) -> anyhow::Result<Chosen> {
    let names: Vec<String> = mains.iter().map(|m| m.0.clone()).collect();
    let (mine_names, others) = shard_split(&names, selection.shard);
    let mut chosen = Chosen {
        other_shards: others,
        ..Chosen::default()
    };
    let mine: Vec<&(String, Vec<PathBuf>)> =
        mains.iter().filter(|m| mine_names.contains(&m.0)).collect();
    let Some(gitref) = &selection.changed_since else {
        chosen.build = mine.iter().map(|m| m.0.clone()).collect();
        return Ok(chosen);
    };
    let changed = changes::changed_files(root, gitref)
        .map_err(|e| UsageError(format!("--changed-since {gitref}: {e}")))?;
    let inputs: Vec<MainInputs> = mine
        .iter()
        .map(|(path, data)| MainInputs {
            import_path: path.clone(),
            data_dirs: data
                .iter()
                .map(|d| d.canonicalize().unwrap_or_else(|_| d.clone()))
                .collect(),
        })
        .collect();
    let affected = if inputs.is_empty() {
        BTreeSet::new()
    } else {
        changes::affected(goenv, root, &inputs, &changed, tags)?
    };
    for m in mine {
        if affected.contains(&m.0) {
            chosen.build.insert(m.0.clone());
        } else {
            chosen.unchanged.push(m.0.clone());
        }
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_split_evenly() {
        assert_eq!(parse_shard("2/3"), Ok((2, 3)));
        assert!(parse_shard("0/3").is_err() && parse_shard("4/3").is_err());
        assert!(parse_shard("x").is_err());
        let mains: Vec<String> = (0..7).rev().map(|i| format!("m/cmd/c{i}")).collect();
        let mut all = BTreeSet::new();
        for i in 1..=3 {
            let (mine, others) = shard_split(&mains, Some((i, 3)));
            assert!(mine.len() == 2 || mine.len() == 3, "{mine:?}");
            assert_eq!(mine.len() + others.len(), 7);
            assert!(mine.iter().all(|m| all.insert(m.clone())), "shards overlap");
        }
        assert_eq!(all.len(), 7);
        assert_eq!(shard_split(&mains, Some((1, 3))).0[0], "m/cmd/c0");
    }
}
