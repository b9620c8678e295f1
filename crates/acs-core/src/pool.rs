//! The one thread pool: rayon's global pool, shared by the plan executor and every tool's
//! parallel loops (so nested parallelism never oversubscribes the cores). acs configures it
//! on first use with large worker stacks, because tree-sitter's C code can recurse deeply on
//! pathological input (see `symbols::extract`); only address space is reserved, pages are
//! committed as they are touched.

use std::sync::Once;

/// Enough for the worst measured parse of a file at the default 4 MiB size cap.
pub const WORKER_STACK_BYTES: usize = 640 << 20;

/// Configure the global pool if nobody has yet. When the embedding program configured rayon
/// itself, its pool is used as is and large parses run on helper threads instead.
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let _ = rayon::ThreadPoolBuilder::new()
            .stack_size(WORKER_STACK_BYTES)
            .thread_name(|i| format!("acs-worker-{i}"))
            .start_handler(|_| crate::symbols::extract::set_thread_stack_size(WORKER_STACK_BYTES))
            .build_global();
    });
}

/// `f` over every item, in parallel on short-lived threads of their own (with the same large
/// stacks) plus the calling thread, results in item order.
///
/// For building the per-snapshot indexes, which sit behind `OnceLock`s: a rayon worker that
/// initialises one and joins a parallel loop may meanwhile run another queued task that waits
/// on the same `OnceLock`, on the same thread: a deadlock. Plain threads do not steal work,
/// so whoever waits on the index just waits.
pub fn build_map<T: Sync, R: Send>(items: &[T], f: impl Fn(usize, &T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const BATCH: usize = 16;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let threads = cores.min(items.len().div_ceil(BATCH)).max(1);
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let start = next.fetch_add(BATCH, Ordering::Relaxed);
            if start >= items.len() {
                return done;
            }
            let end = (start + BATCH).min(items.len());
            done.extend((start..end).map(|i| (i, f(i, &items[i]))));
        }
    };
    let mut parts: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..threads)
            .filter_map(|_| {
                std::thread::Builder::new()
                    .stack_size(WORKER_STACK_BYTES)
                    .spawn_scoped(scope, || {
                        crate::symbols::extract::set_thread_stack_size(WORKER_STACK_BYTES);
                        work()
                    })
                    .ok()
            })
            .collect();
        let mut all = work();
        for h in handles {
            // A panic in `f` on a builder thread propagates as it would on this one.
            all.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        all
    });
    parts.sort_unstable_by_key(|(i, _)| *i);
    parts.into_iter().map(|(_, r)| r).collect()
}
