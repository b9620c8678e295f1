//! The one thread pool: rayon's global pool, shared by the plan executor and every tool's
//! parallel loops (so nested parallelism never oversubscribes the cores). acs configures it
//! on first use with large worker stacks, because tree-sitter's C code can recurse deeply on
//! pathological input (see `index::symbols::extract`); only address space is reserved, pages are
//! committed as they are touched.

use std::cell::Cell;
use std::sync::{Once, OnceLock};

/// Enough for the worst measured parse of a file at the default 4 MiB size cap.
pub(crate) const WORKER_STACK_BYTES: usize = 640 << 20;

thread_local! {
    /// [`WORKER_STACK_BYTES`] on the pools' workers, 0 on any other thread.
    static WORKER_STACK: Cell<usize> = const { Cell::new(0) };
}

/// The stack size of the current thread when it is one of the pools' workers (set as each
/// starts); 0 when unknown. The parser asks, to run a deep parse on this thread rather than
/// on a helper with a larger stack.
pub(crate) fn worker_stack_size() -> usize {
    WORKER_STACK.try_with(Cell::get).unwrap_or(0)
}

fn start_worker() {
    let _ = WORKER_STACK.try_with(|s| s.set(WORKER_STACK_BYTES));
}

/// Configure the global pool if nobody has yet. When the embedding program configured rayon
/// itself, its pool is used as is and large parses run on helper threads instead.
pub(crate) fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let _ = rayon::ThreadPoolBuilder::new()
            .stack_size(WORKER_STACK_BYTES)
            .thread_name(|i| format!("acs-worker-{i}"))
            .start_handler(|_| start_worker())
            .build_global();
    });
}

/// `f` over every item in parallel, results in item order, on a second pool kept for
/// building the per-snapshot indexes (same large stacks; its threads persist, so their
/// allocator arenas stay warm from one build to the next).
///
/// Why not rayon's global pool: the indexes sit behind `OnceLock`s, and a global worker that
/// initialises one while joining a parallel loop may meanwhile run another queued plan task
/// that waits on the same `OnceLock`, on the same thread: a deadlock. Here the caller hands
/// the work to a plain thread and waits on it; a plain thread that enters a pool just blocks,
/// it never runs other tasks meanwhile.
pub(crate) fn build_map<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(usize, &T) -> R + Sync,
) -> Vec<R> {
    use rayon::prelude::*;
    static BUILDERS: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    let builders = BUILDERS.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .stack_size(WORKER_STACK_BYTES)
            .thread_name(|i| format!("acs-index-{i}"))
            .start_handler(|_| start_worker())
            .build()
            .ok()
    });
    let run = || {
        items
            .par_iter()
            .enumerate()
            .map(|(i, item)| f(i, item))
            .collect()
    };
    let Some(builders) = builders else {
        // No threads to be had (resource limits): build on this thread.
        return items
            .iter()
            .enumerate()
            .map(|(i, item)| f(i, item))
            .collect();
    };
    std::thread::scope(|scope| {
        match std::thread::Builder::new().spawn_scoped(scope, || builders.install(run)) {
            // A panic in `f` propagates as it would have on this thread.
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            Err(_) => items
                .iter()
                .enumerate()
                .map(|(i, item)| f(i, item))
                .collect(),
        }
    })
}
