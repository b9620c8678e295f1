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
