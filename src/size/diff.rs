//! The difference between two size reports at the module, package and symbol levels.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::report::SizeReport;

/// Whether an owner appeared, went away or changed size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Only in the new binary (`old` is 0).
    Add,
    /// Only in the old binary (`new` is 0).
    Remove,
    /// In both (the size may be the same).
    Change,
}

/// One owner's size in both binaries (file bytes).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Change {
    /// The owner: a module path, a package import path, a symbol name or a section name.
    pub name: String,
    /// File bytes in the old binary.
    pub old: u64,
    /// File bytes in the new binary.
    pub new: u64,
    /// Whether it was added, removed or is in both.
    pub kind: ChangeKind,
}

impl Change {
    /// `new - old` in bytes.
    pub fn delta(&self) -> i64 {
        self.new as i64 - self.old as i64
    }
}

/// Two reports compared; each list holds every owner present in either, largest absolute
/// change first, unchanged ones last.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SizeDiff {
    /// Path of the old binary, as its report names it.
    pub old_name: String,
    /// Path of the new binary, as its report names it.
    pub new_name: String,
    /// File size of the old binary in bytes.
    pub old_size: u64,
    /// File size of the new binary in bytes.
    pub new_size: u64,
    /// Changes per module.
    pub modules: Vec<Change>,
    /// Changes per package.
    pub packages: Vec<Change>,
    /// Changes per symbol.
    pub symbols: Vec<Change>,
    /// Changes per ELF section (file bytes).
    pub sections: Vec<Change>,
}

impl SizeDiff {
    /// `new_size - old_size` in bytes.
    pub fn delta(&self) -> i64 {
        self.new_size as i64 - self.old_size as i64
    }

    /// Growth in percent of the old size (0 when the old size is 0).
    pub fn growth_percent(&self) -> f64 {
        if self.old_size == 0 {
            0.0
        } else {
            self.delta() as f64 * 100.0 / self.old_size as f64
        }
    }
}

/// Compares `old` with `new`.
pub fn diff(old: &SizeReport, new: &SizeReport) -> SizeDiff {
    SizeDiff {
        old_name: old.binary.path.clone(),
        new_name: new.binary.path.clone(),
        old_size: old.totals.file_size,
        new_size: new.totals.file_size,
        modules: compare(
            old.modules.iter().map(|m| (m.path.as_str(), m.size)),
            new.modules.iter().map(|m| (m.path.as_str(), m.size)),
        ),
        packages: compare(
            old.packages.iter().map(|p| (p.path.as_str(), p.size)),
            new.packages.iter().map(|p| (p.path.as_str(), p.size)),
        ),
        symbols: compare(
            old.symbols.iter().map(|s| (s.name.as_str(), s.size)),
            new.symbols.iter().map(|s| (s.name.as_str(), s.size)),
        ),
        sections: compare(
            old.sections.iter().map(|s| (s.name.as_str(), s.file_size)),
            new.sections.iter().map(|s| (s.name.as_str(), s.file_size)),
        ),
    }
}

fn compare<'a>(
    old: impl Iterator<Item = (&'a str, u64)>,
    new: impl Iterator<Item = (&'a str, u64)>,
) -> Vec<Change> {
    let mut both: BTreeMap<&str, (Option<u64>, Option<u64>)> = BTreeMap::new();
    for (name, size) in old {
        let e = both.entry(name).or_default();
        e.0 = Some(e.0.unwrap_or(0) + size);
    }
    for (name, size) in new {
        let e = both.entry(name).or_default();
        e.1 = Some(e.1.unwrap_or(0) + size);
    }
    let mut changes: Vec<Change> = both
        .into_iter()
        .map(|(name, (o, n))| Change {
            name: name.to_string(),
            old: o.unwrap_or(0),
            new: n.unwrap_or(0),
            kind: match (o, n) {
                (None, _) => ChangeKind::Add,
                (_, None) => ChangeKind::Remove,
                _ => ChangeKind::Change,
            },
        })
        .collect();
    changes.sort_by(|a, b| {
        b.delta()
            .unsigned_abs()
            .cmp(&a.delta().unsigned_abs())
            .then_with(|| a.name.cmp(&b.name))
    });
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_sorted_by_absolute_delta_and_classified() {
        let old = [("a", 10), ("b", 100), ("gone", 5)];
        let new = [("a", 10), ("b", 40), ("c", 70)];
        let c = compare(old.into_iter(), new.into_iter());
        let names: Vec<_> = c
            .iter()
            .map(|c| (c.name.as_str(), c.delta(), c.kind))
            .collect();
        assert_eq!(
            names,
            vec![
                ("c", 70, ChangeKind::Add),
                ("b", -60, ChangeKind::Change),
                ("gone", -5, ChangeKind::Remove),
                ("a", 0, ChangeKind::Change),
            ]
        );
    }
}
