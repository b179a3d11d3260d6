//! binary stage (see DESIGN.md).
