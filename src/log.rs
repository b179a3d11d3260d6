//! `-v`: the exact `go` command lines and registry requests gopack makes, on stderr. Never
//! credentials: registry lines carry the method, the URL and the status, no header.

use std::sync::atomic::{AtomicBool, Ordering};

static VERBOSE: AtomicBool = AtomicBool::new(false);

/// Turns the `-v` lines on or off for this process.
pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

/// Whether `-v` lines are printed.
pub fn is_verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// Prints `gopack: LINE` on stderr when `-v` is on (the line made printable first).
pub fn verbose(line: &str) {
    if is_verbose() {
        eprintln!("gopack: {}", crate::text::printable(line, 4096));
    }
}
