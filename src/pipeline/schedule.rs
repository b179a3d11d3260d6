//! How much runs at once, bounded by cores *and* memory (ko ran ~60 `go build`s at once and
//! was killed for memory, ko#642):
//!
//! - `go build`: one invocation at a time per batch of packages; go runs its own compile and
//!   link jobs inside it, one per core (`-p`), lowered to one per GiB of available memory when
//!   memory is the tighter bound (a link of a large binary takes several hundred MiB).
//! - Checking binaries and writing layers: `jobs` targets at once, `jobs` = the cores, lowered
//!   to one per 512 MiB of available memory (a target streams its layers; memory stays flat).
//! - Pushes: [`PUSH_IMAGES_AT_ONCE`] images at once, each with the registry client's own blob
//!   concurrency.
//!
//! `--jobs N` (or `GOPACK_JOBS`) sets `jobs` by hand.

/// Images pushed at the same time.
pub const PUSH_IMAGES_AT_ONCE: usize = 4;

/// Memory one target's check and layer writing may take (bytes).
const MEMORY_PER_JOB: u64 = 512 << 20;
/// Memory one go compile or link job may take (bytes).
const MEMORY_PER_GO_JOB: u64 = 1 << 30;

/// The bounds of one build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Schedule {
    /// Targets checked and assembled at once.
    pub jobs: usize,
    /// `go build -p`: `None` leaves go's default (one per core).
    pub go_procs: Option<usize>,
    /// Cores seen.
    pub cores: usize,
    /// Available memory seen, in bytes (`None` when unknown).
    pub memory_available: Option<u64>,
}

impl Schedule {
    /// Bounds from this machine's cores and available memory (`MemAvailable` of
    /// /proc/meminfo), or `jobs` when given.
    pub fn detect(jobs: Option<usize>) -> Schedule {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Schedule::for_machine(cores, memory_available(), jobs)
    }

    /// Bounds for `cores` and `memory_available` bytes.
    pub fn for_machine(
        cores: usize,
        memory_available: Option<u64>,
        jobs: Option<usize>,
    ) -> Schedule {
        let by_memory = |per: u64| memory_available.map(|m| ((m / per) as usize).max(1));
        let auto_jobs = by_memory(MEMORY_PER_JOB).map_or(cores, |m| m.min(cores));
        let go_procs = by_memory(MEMORY_PER_GO_JOB).filter(|m| *m < cores);
        Schedule {
            jobs: jobs.unwrap_or(auto_jobs).max(1),
            go_procs,
            cores,
            memory_available,
        }
    }
}

fn memory_available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

pub use crate::parallel::run_bounded;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_lowers_the_bounds_below_the_cores() {
        let roomy = Schedule::for_machine(8, Some(64 << 30), None);
        assert_eq!((roomy.jobs, roomy.go_procs), (8, None));
        let tight = Schedule::for_machine(8, Some(3 << 30), None);
        assert_eq!((tight.jobs, tight.go_procs), (6, Some(3)));
        let tiny = Schedule::for_machine(8, Some(100 << 20), None);
        assert_eq!((tiny.jobs, tiny.go_procs), (1, Some(1)));
        assert_eq!(Schedule::for_machine(2, None, Some(5)).jobs, 5);
    }

    #[test]
    fn bounded_runs_keep_order_and_stop_on_error() {
        let items: Vec<u32> = (0..20).collect();
        let doubled = run_bounded(&items, 3, |_, x| Ok::<_, String>(x * 2)).unwrap();
        assert_eq!(doubled, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        let err = run_bounded(
            &items,
            3,
            |_, x| if *x == 7 { Err("seven") } else { Ok(*x) },
        );
        assert_eq!(err.unwrap_err(), "seven");
    }
}
