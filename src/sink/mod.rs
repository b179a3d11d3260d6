//! sink stage (see DESIGN.md).
