//! dockerfile stage (see DESIGN.md).
