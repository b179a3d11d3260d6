//! gobuild stage (see DESIGN.md).
