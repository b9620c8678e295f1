//! One error type for the whole engine. Each variant maps to one Python exception class
//! (see `acs.errors`), so callers can tell bad input from engine failures.

use std::fmt;

/// Everything that can go wrong in the engine. No variant is ever produced by a panic:
/// panics are caught at the binding layer and reported as [`Error::Internal`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A regular expression or glob that does not compile.
    #[error("invalid pattern {pattern:?}: {message}")]
    InvalidPattern { pattern: String, message: String },
    /// A path that escapes the repository (`..`, absolute, or a symlink pointing out).
    #[error("path {path:?} is outside the repository")]
    PathOutsideRepo { path: String },
    /// A path inside the repository that is not one of its (searchable) files.
    #[error("no such file in the repository: {path:?}")]
    FileNotFound { path: String },
    /// A definition that `read` or `outline` was asked for but does not exist.
    #[error("no definition named {name:?} in {path:?}")]
    SymbolNotFound { path: String, name: String },
    /// A revision that does not resolve to a commit.
    #[error("unknown commit {rev:?}: {message}")]
    UnknownCommit { rev: String, message: String },
    /// A repository that cannot be opened at all (missing directory, not a git directory).
    #[error("cannot open repository {path:?}: {message}")]
    Repository { path: String, message: String },
    /// A request whose arguments are malformed (wrong type, missing field, bad range).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A plan that fails validation; `task` names the offending task when there is one.
    #[error("{}", PlanMessage(.task, .message))]
    InvalidPlan { task: Option<u64>, message: String },
    /// A dependency of this task failed or was skipped.
    #[error("skipped: {0}")]
    Skipped(String),
    /// Work stopped early by a [`crate::Cancel`]: a Ctrl-C, a timeout, a spent budget.
    #[error("cancelled: {0}")]
    Cancelled(String),
    /// A bug in acs: a caught panic or a broken invariant.
    #[error("internal error: {0}")]
    Internal(String),
}

struct PlanMessage<'a>(&'a Option<u64>, &'a String);

impl fmt::Display for PlanMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, "invalid plan: task {id}: {}", self.1),
            None => write!(f, "invalid plan: {}", self.1),
        }
    }
}

impl Error {
    /// A stable machine-readable name for the variant, used by the bindings and in plan results.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidPattern { .. } => "invalid_pattern",
            Error::PathOutsideRepo { .. } => "path_outside_repo",
            Error::FileNotFound { .. } => "file_not_found",
            Error::SymbolNotFound { .. } => "symbol_not_found",
            Error::UnknownCommit { .. } => "unknown_commit",
            Error::Repository { .. } => "repository",
            Error::InvalidArgument(_) => "invalid_argument",
            Error::InvalidPlan { .. } => "invalid_plan",
            Error::Skipped(_) => "skipped",
            Error::Cancelled(_) => "cancelled",
            Error::Internal(_) => "internal",
        }
    }

    /// A plan error not tied to one task.
    pub fn plan_message(message: impl Into<String>) -> Self {
        Error::InvalidPlan {
            task: None,
            message: message.into(),
        }
    }

    pub(crate) fn plan(task: Option<u64>, message: impl Into<String>) -> Self {
        Error::InvalidPlan {
            task,
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
