//! Everything gopack reads from a linked binary before putting it in an image: how it is linked
//! (ELF), its build info, what it needs at run time (pclntab), and the programs it may run.

use std::path::{Path, PathBuf};

use super::buildinfo::{BuildInfo, read_build_info};
use super::elf::{Linkage, read_linkage};
use super::needs::{NeedsReport, needs_of_file};
use super::programs::program_paths;

/// What a linked binary is.
#[derive(Clone, Debug)]
pub struct CheckedBinary {
    /// The binary file.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Interpreter and DT_NEEDED libraries.
    pub linkage: Linkage,
    /// `None` when the binary has no readable build info.
    pub build_info: Option<BuildInfo>,
    /// What it needs, or why its function table could not be read.
    pub needs: Result<NeedsReport, String>,
    /// Absolute program paths in its read-only data, when it links `os.StartProcess`.
    pub programs: Vec<String>,
}

/// A built binary that cannot be read as an ELF executable.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the built binary {path}: {reason}")]
pub struct CheckError {
    /// The binary.
    pub path: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

impl CheckedBinary {
    /// A build setting of the binary (`GOAMD64`, `vcs.modified`…).
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.build_info.as_ref().and_then(|i| i.setting(key))
    }
}

/// Reads a linked binary. Only a file that is not an ELF executable is an error; missing build
/// info or function table are recorded as such.
pub fn check_binary(path: &Path) -> Result<CheckedBinary, CheckError> {
    let bad = |reason: String| CheckError {
        path: path.to_path_buf(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
    // SAFETY: the binary was just written by `go build` into gopack's private build directory
    // and nothing else writes to it while it is mapped.
    let data = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| bad(e.to_string()))?;
    let linkage = read_linkage(&data).map_err(|e| bad(e.to_string()))?;
    let needs = needs_of_file(path).map_err(|e| e.to_string());
    let programs = match &needs {
        Ok(n) if n.starts_processes.is_some() => program_paths(&data),
        _ => Vec::new(),
    };
    Ok(CheckedBinary {
        path: path.to_path_buf(),
        size: data.len() as u64,
        linkage,
        build_info: read_build_info(&data).ok(),
        needs,
        programs,
    })
}
