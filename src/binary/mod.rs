//! Reading built Go binaries: how they are linked, their build information, and what they need
//! at run time.

pub mod buildinfo;
pub mod check;
pub mod elf;

pub mod needs;
pub mod pclntab;
pub mod programs;

pub mod attribution;
pub mod dwarf;
pub mod layout;
pub mod pclnsize;
pub mod symbols;
