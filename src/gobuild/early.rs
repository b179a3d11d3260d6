//! A `go build` started before `go list` has answered, for the common case of one directory
//! with one main package: the two Go commands then run side by side, and a warm build costs
//! little more than `go build` alone. Its binary is used only for exactly the same build (same
//! package directory, flags, environment and target); otherwise it is discarded once it has
//! finished (so two builds never write the same file at once). It never decides anything:
//! cgo is detected with `go list`, never from a cgo-off build.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

use super::{BuiltBinary, GoBuildError, GoBuildRequest};
use crate::config::GoEnv;

/// Early builds running now.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// True while an early `go build` is running: a `go list` started meanwhile (the plan, which
/// is needed only once the build is done) should yield the cores to the compiler.
pub fn running() -> bool {
    RUNNING.load(Ordering::SeqCst) > 0
}

pub(super) struct EarlyBuild {
    request: GoBuildRequest,
    handle: JoinHandle<Result<BuiltBinary, GoBuildError>>,
}

impl EarlyBuild {
    pub(super) fn start(goenv: &GoEnv, request: GoBuildRequest, output: PathBuf) -> EarlyBuild {
        let goenv = goenv.clone();
        let for_thread = request.clone();
        RUNNING.fetch_add(1, Ordering::SeqCst);
        let handle = std::thread::spawn(move || {
            let result = super::run(&goenv, &for_thread, &output);
            RUNNING.fetch_sub(1, Ordering::SeqCst);
            result
        });
        EarlyBuild { request, handle }
    }

    /// The early binary if `planned` is the same build and it succeeded, else `None`.
    pub(super) fn result_for(self, planned: &GoBuildRequest) -> Option<BuiltBinary> {
        let same = planned.same_build(&self.request);
        let result = self.handle.join().ok()?;
        match (same, result) {
            (true, Ok(built)) => Some(built),
            _ => None,
        }
    }
}
