//! oci stage (see DESIGN.md).
