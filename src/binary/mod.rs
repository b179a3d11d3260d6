//! binary stage (see DESIGN.md).

pub mod pclntab;
