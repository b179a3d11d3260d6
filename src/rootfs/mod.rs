//! rootfs stage (see DESIGN.md).
