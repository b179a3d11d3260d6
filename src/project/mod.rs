//! project stage (see DESIGN.md).
