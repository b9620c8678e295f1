//! One error type for the whole engine. Each variant maps to one Python exception class
//! (see `acs.errors`), so callers can tell bad input from engine failures.
//!
//! A message quotes at most a short prefix of any input ([`Echo`]), and its free text is cut
//! at [`MESSAGE_CHARS`] ([`Clip`]): a 10 MB pattern made a 10 MB error, wherever the error
//! was raised. The variants keep the whole values for callers that match on them.

use std::fmt;

/// Everything that can go wrong in the engine. No variant is ever produced by a panic:
/// panics are caught at the binding layer and reported as [`Error::Internal`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A regular expression or glob that does not compile.
    #[error("invalid pattern {}: {}", Echo(.pattern), Clip(.message))]
    InvalidPattern {
        /// The pattern as the caller wrote it.
        pattern: String,
        /// Why it does not compile, on one line.
        message: String,
    },
    /// A path that escapes the repository (`..`, absolute, or a symlink pointing out).
    #[error("path {} is outside the repository", Echo(.path))]
    PathOutsideRepo {
        /// The path as given.
        path: String,
    },
    /// A path inside the repository that is not one of its (searchable) files.
    #[error("no such file in the repository: {}", Echo(.path))]
    FileNotFound {
        /// The path as given.
        path: String,
    },
    /// A definition that `read` or `outline` was asked for but does not exist.
    #[error("no definition named {} in {}", Echo(.name), Echo(.path))]
    SymbolNotFound {
        /// The file searched.
        path: String,
        /// The name asked for.
        name: String,
    },
    /// A revision that does not resolve to a commit.
    #[error("unknown commit {}: {}", Echo(.rev), Clip(.message))]
    UnknownCommit {
        /// The revision as given.
        rev: String,
        /// git's reason.
        message: String,
    },
    /// A repository that cannot be opened at all (missing directory, not a git directory).
    #[error("cannot open repository {}: {}", Echo(.path), Clip(.message))]
    Repository {
        /// The path as given.
        path: String,
        /// Why it cannot be opened.
        message: String,
    },
    /// A request whose arguments are malformed (wrong type, missing field, bad range).
    #[error("invalid argument: {}", Clip(.0))]
    InvalidArgument(String),
    /// A plan that fails validation; `task` names the offending task when there is one.
    #[error("{}", PlanMessage(.task, .message))]
    InvalidPlan {
        /// The offending task's id, when one is to blame.
        task: Option<u64>,
        /// What is wrong.
        message: String,
    },
    /// A dependency of this task failed or was skipped.
    #[error("skipped: {}", Clip(.0))]
    Skipped(String),
    /// Work stopped early by a [`crate::Cancel`]: a Ctrl-C, a timeout, a spent budget.
    #[error("cancelled: {}", Clip(.0))]
    Cancelled(String),
    /// A bug in acs: a caught panic or a broken invariant.
    #[error("internal error: {}", Clip(.0))]
    Internal(String),
}

struct PlanMessage<'a>(&'a Option<u64>, &'a String);

impl fmt::Display for PlanMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, "invalid plan: task {id}: {}", Clip(self.1)),
            None => write!(f, "invalid plan: {}", Clip(self.1)),
        }
    }
}

/// Characters of an input quoted back in an error (as `acs.echo.ECHO_CHARS` in Python).
pub(crate) const ECHO_CHARS: usize = 200;

/// Characters of an error's own text (which may hold an input, as serde's reports do).
pub(crate) const MESSAGE_CHARS: usize = 1_000;

/// An input quoted back: `"the input"` when short, else `"its first ECHO_CHARS
/// characters"… (N bytes)`.
pub(crate) struct Echo<'a>(pub(crate) &'a str);

impl fmt::Display for Echo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match cut(self.0, ECHO_CHARS) {
            None => write!(f, "{:?}", self.0),
            Some(head) => write!(f, "{head:?}… ({} bytes)", self.0.len()),
        }
    }
}

/// Free text cut at [`MESSAGE_CHARS`]: `its start… (N bytes)`.
pub(crate) struct Clip<'a>(pub(crate) &'a str);

impl fmt::Display for Clip<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match cut(self.0, MESSAGE_CHARS) {
            None => f.write_str(self.0),
            Some(head) => write!(f, "{head}… ({} bytes)", self.0.len()),
        }
    }
}

/// `text` itself when short, else its first [`ECHO_CHARS`] characters, `…` and its size:
/// for an input quoted inside a message.
pub(crate) fn short(text: &str) -> std::borrow::Cow<'_, str> {
    match cut(text, ECHO_CHARS) {
        None => text.into(),
        Some(head) => format!("{head}… ({} bytes)", text.len()).into(),
    }
}

/// The first `chars` characters of `text`, or None when it has no more.
fn cut(text: &str, chars: usize) -> Option<&str> {
    text.char_indices().nth(chars).map(|(at, _)| &text[..at])
}

impl Error {
    /// A stable machine-readable name for the variant, used by the bindings and in plan results.
    pub fn kind(&self) -> &'static str {
        self.error_kind().name()
    }

    /// The variant's [`ErrorKind`].
    pub fn error_kind(&self) -> ErrorKind {
        match self {
            Error::InvalidPattern { .. } => ErrorKind::InvalidPattern,
            Error::PathOutsideRepo { .. } => ErrorKind::PathOutsideRepo,
            Error::FileNotFound { .. } => ErrorKind::FileNotFound,
            Error::SymbolNotFound { .. } => ErrorKind::SymbolNotFound,
            Error::UnknownCommit { .. } => ErrorKind::UnknownCommit,
            Error::Repository { .. } => ErrorKind::Repository,
            Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::InvalidPlan { .. } => ErrorKind::InvalidPlan,
            Error::Skipped(_) => ErrorKind::Skipped,
            Error::Cancelled(_) => ErrorKind::Cancelled,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }

    /// An [`Error::InvalidPattern`] for `pattern`, with the regex engine's report made one
    /// line about the caller's own pattern: regex-syntax prints the pattern it was given
    /// (grep-regex wraps the caller's in `(?:…)`) over several lines with a caret.
    pub(crate) fn invalid_pattern(pattern: &str, report: impl fmt::Display) -> Self {
        Error::InvalidPattern {
            pattern: pattern.to_string(),
            message: one_line_regex_error(pattern, &report.to_string()),
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

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Defines [`ErrorKind`] from one list (variant, name, description), so its names, its
/// descriptions and [`ErrorKind::ALL`] cannot drift apart.
macro_rules! error_kinds {
    ($($variant:ident => $name:literal, $description:literal;)*) => {
        /// The kind of an [`Error`], without its details: what plan results report as
        /// `kind`, and what the Python bindings map to one exception class each.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorKind {
            $(#[doc = $description] $variant,)*
        }

        impl ErrorKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$variant),*];

            /// The stable name (`invalid_pattern`, ...).
            pub fn name(self) -> &'static str {
                match self { $(ErrorKind::$variant => $name,)* }
            }

            /// One sentence on what the kind means.
            pub fn description(self) -> &'static str {
                match self { $(ErrorKind::$variant => $description,)* }
            }
        }
    };
}

error_kinds! {
    InvalidPattern => "invalid_pattern", "A regular expression or glob that does not compile.";
    PathOutsideRepo => "path_outside_repo",
        "A path that escapes the repository (`..`, absolute, or a symlink pointing out).";
    FileNotFound => "file_not_found",
        "A path inside the repository that is not one of its searchable files.";
    SymbolNotFound => "symbol_not_found", "A definition that does not exist in the given file.";
    UnknownCommit => "unknown_commit", "A revision that does not resolve to a commit.";
    Repository => "repository",
        "A repository that cannot be opened (missing directory, not a git repository).";
    InvalidArgument => "invalid_argument",
        "Malformed tool arguments: a wrong type, a missing field, a bad line range.";
    InvalidPlan => "invalid_plan", "A plan that fails validation; the message names the offending task.";
    Skipped => "skipped", "A task not run because a task it depends on failed or was skipped.";
    Cancelled => "cancelled",
        "Work stopped early: the run was cancelled or its timeout passed.";
    Internal => "internal", "A bug in acs (a caught panic or a broken invariant).";
}

/// `regex parse error:\n    (?:a(b)\n    ^\nerror: unclosed group` becomes
/// `unclosed group at character 2`: the message, and where in the caller's pattern. Reports
/// of another shape are joined into one line.
fn one_line_regex_error(pattern: &str, report: &str) -> String {
    let lines: Vec<&str> = report.lines().collect();
    let reason = lines.iter().rev().find_map(|l| l.strip_prefix("error: "));
    match (lines.as_slice(), reason) {
        ([head, echo, caret, ..], Some(reason)) if head.starts_with("regex parse error") => {
            // The echo and the caret line share an indent; the caret marks the column in the
            // echoed pattern, which may carry a wrapper the caller never wrote.
            let indent = echo.len() - echo.trim_start().len();
            let wrapped = echo[indent..].starts_with("(?:") && !pattern.starts_with("(?:");
            let column = caret
                .find('^')
                .and_then(|c| c.checked_sub(indent + if wrapped { 3 } else { 0 }));
            match column {
                // One-line patterns only: a caret under a later line of a multi-line pattern
                // would name the wrong character.
                Some(c) if !pattern.contains('\n') && c < pattern.chars().count() => {
                    format!("{reason} at character {}", c + 1)
                }
                _ => reason.to_string(),
            }
        }
        _ => lines
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_kind_listed_once_in_all() {
        let one_of_each = [
            Error::invalid_pattern("(", "unclosed group"),
            Error::PathOutsideRepo { path: "..".into() },
            Error::FileNotFound { path: "x".into() },
            Error::SymbolNotFound {
                path: "x".into(),
                name: "f".into(),
            },
            Error::UnknownCommit {
                rev: "r".into(),
                message: "m".into(),
            },
            Error::Repository {
                path: "x".into(),
                message: "m".into(),
            },
            Error::InvalidArgument("a".into()),
            Error::plan_message("p"),
            Error::Skipped("s".into()),
            Error::Cancelled("c".into()),
            Error::Internal("i".into()),
        ];
        let kinds: Vec<ErrorKind> = one_of_each.iter().map(Error::error_kind).collect();
        assert_eq!(kinds, ErrorKind::ALL);
        let names: std::collections::HashSet<&str> =
            ErrorKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names.len(), ErrorKind::ALL.len(), "names are unique");
    }

    #[test]
    fn errors_quote_a_short_prefix_of_long_inputs() {
        let huge = "é".repeat(5_000_000); // 10 MB
        for e in [
            Error::invalid_pattern(&huge, "unclosed group"),
            Error::PathOutsideRepo { path: huge.clone() },
            Error::FileNotFound { path: huge.clone() },
            Error::SymbolNotFound {
                path: huge.clone(),
                name: huge.clone(),
            },
            Error::UnknownCommit {
                rev: huge.clone(),
                message: huge.clone(),
            },
            Error::Repository {
                path: huge.clone(),
                message: huge.clone(),
            },
            Error::InvalidArgument(huge.clone()),
            Error::plan(Some(3), huge.clone()),
            Error::Skipped(huge.clone()),
            Error::Cancelled(huge.clone()),
            Error::Internal(huge.clone()),
        ] {
            let text = e.to_string();
            assert!(text.len() < 2 * 4 * MESSAGE_CHARS, "{} bytes", text.len());
            assert!(text.contains("… (10000000 bytes)"), "{}", &text[..300]);
        }
        // Short inputs are quoted whole, as before.
        let short = Error::FileNotFound {
            path: "a.py".into(),
        };
        assert_eq!(
            short.to_string(),
            "no such file in the repository: \"a.py\""
        );
        assert_eq!(
            Echo(&"x".repeat(ECHO_CHARS)).to_string().len(),
            ECHO_CHARS + 2
        );
    }

    #[test]
    fn regex_reports_become_one_line_about_the_callers_pattern() {
        // The caret under grep-regex's own wrapper names no character of the caller's.
        let wrapped = "regex parse error:\n    (?:a(b)\n    ^\nerror: unclosed group";
        assert_eq!(one_line_regex_error("a(b", wrapped), "unclosed group");
        let inside = "regex parse error:\n    (?:a\\q)\n        ^^\nerror: unrecognized escape";
        assert_eq!(
            one_line_regex_error("a\\q", inside),
            "unrecognized escape at character 2"
        );
        let plain = "regex parse error:\n    x[\n     ^\nerror: unclosed character class";
        assert_eq!(
            one_line_regex_error("x[", plain),
            "unclosed character class at character 2"
        );
        assert_eq!(
            one_line_regex_error("g", "first line\n  second line\n"),
            "first line second line"
        );
    }
}
