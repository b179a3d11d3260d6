//! Stage timings for people measuring gopack: with `GOPACK_TRACE=1`, every [`mark`] prints one
//! stderr line `gopack-trace: <ms since start> ms (+<ms since the previous mark>) <stage>`.
//! Off by default, and then a mark costs one relaxed atomic load.

use std::sync::Mutex;
use std::sync::OnceLock;
use std::time::Instant;

struct Clock {
    start: Instant,
    last: Mutex<Instant>,
}

fn clock() -> Option<&'static Clock> {
    static CLOCK: OnceLock<Option<Clock>> = OnceLock::new();
    CLOCK
        .get_or_init(|| {
            std::env::var_os("GOPACK_TRACE")
                .filter(|v| !v.is_empty() && v != "0")
                .map(|_| {
                    let now = Instant::now();
                    Clock {
                        start: now,
                        last: Mutex::new(now),
                    }
                })
        })
        .as_ref()
}

/// Starts the clock (call first thing in `main`, so times count from process start).
pub fn start() {
    let _ = clock();
}

/// Records that `stage` just finished.
pub fn mark(stage: &str) {
    let Some(clock) = clock() else { return };
    let now = Instant::now();
    let since_last = clock
        .last
        .lock()
        .map(|mut last| now.duration_since(std::mem::replace(&mut *last, now)))
        .unwrap_or_default();
    eprintln!(
        "gopack-trace: {:7.1} ms (+{:6.1} ms) {stage}",
        now.duration_since(clock.start).as_secs_f64() * 1e3,
        since_last.as_secs_f64() * 1e3
    );
}
