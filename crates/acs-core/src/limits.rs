//! Caps on the work and the output one request can cause. Each guards against a small input
//! that would otherwise cost unbounded time or memory (a hostile or confused planner); each
//! sits far above what the planners emit (a few patterns, no context, results of a few
//! hundred KB). Exceeding an argument cap is an [`Error::InvalidArgument`] that names the cap;
//! output caps truncate where a shorter answer is still a correct answer (grep), and fail the
//! task otherwise.
//!
//! [`Error::InvalidArgument`]: crate::Error::InvalidArgument

/// Patterns in one grep request (`patterns` plus `pattern`). Literal patterns share one
/// multi-literal scan, so this many cost about as much as a handful.
pub const MAX_GREP_PATTERNS: usize = 10_000;

/// Patterns of one grep request that are regexes (not plain literals): each compiles its
/// own matcher and scans every file on its own, so their cost adds up (64 regexes without a
/// literal to skip by scan a 190 MB tree for about 10 s).
pub const MAX_GREP_REGEXES: usize = 64;

/// `context` lines before and after a grep match.
pub const MAX_CONTEXT_LINES: usize = 100;

/// Bytes of one glob (`include`, `exclude`, `find_files`'s `glob`): compiling a glob costs
/// time quadratic in its length.
pub const MAX_GLOB_BYTES: usize = 1_000;

/// Globs of one request (`include` and `exclude` together).
pub const MAX_GLOBS: usize = 256;

/// Values one task may receive through `[*]` references, counted after substitution: a
/// spread turns one result into as many arguments as it has items.
pub const MAX_SPREAD_VALUES: usize = 1_000;

/// Approximate JSON bytes of the values one task receives through references, all of them
/// together: a plain `$1` copies a whole result, and a plan may write it many times.
pub const MAX_SUBSTITUTED_BYTES: usize = 8 << 20;

/// Tasks in one plan, or in one batch submitted to a running plan. Planners write a few to a
/// few tens per turn (the rule-based planner at most about 25; a model's 512-token turn holds
/// about 35 lines); a 2,000-task plan took 4.3 GB.
pub const MAX_PLAN_TASKS: usize = 256;

/// Tasks submitted to one running plan, all batches together: one run serves one search,
/// turn after turn (16 turns at the per-plan cap).
pub const MAX_RUN_TASKS: usize = 4_096;

/// Serialised bytes of one task's result. grep and references stop collecting matches
/// before their result reaches half of it (and say `truncated`); any other result over it
/// fails the task with `invalid_argument`.
pub const MAX_TASK_RESULT_BYTES: usize = 8 << 20;

/// Serialised bytes of all task results of one plan run together. A task whose result would
/// cross it fails with `invalid_argument` (its dependents are skipped); the results already
/// kept stay.
pub const MAX_PLAN_RESULT_BYTES: usize = 64 << 20;
