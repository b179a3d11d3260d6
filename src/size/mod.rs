//! `gopack size`: where a Go binary's bytes go. Every file byte in one bucket (symbol → package →
//! module, section remainders, headers, padding), diffs of two binaries, size budgets, the
//! shortest import chain to a package, build variants, and a self-contained HTML treemap.

pub mod budget;
pub mod diff;
pub mod html;
pub mod render;
pub mod report;
pub mod variants;
pub mod why;

/// A value as its JSON spelling (`function`, `add`…), so text and JSON use the same words.
pub(crate) fn word<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}
