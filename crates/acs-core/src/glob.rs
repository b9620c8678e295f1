//! Include/exclude path filters with ripgrep's `-g` conventions: a glob without `/` matches a
//! file name at any depth, one with `/` matches the whole relative path, `!glob` excludes.

use crate::error::{Error, Result};
use crate::limits::{MAX_GLOBS, MAX_GLOB_BYTES};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

#[derive(Clone, Debug, Default)]
pub(crate) struct PathFilter {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

impl PathFilter {
    /// At most [`MAX_GLOBS`] globs in all, each at most [`MAX_GLOB_BYTES`] long.
    pub(crate) fn new(include: &[String], exclude: &[String]) -> Result<Self> {
        let n = include.len() + exclude.len();
        if n > MAX_GLOBS {
            return Err(Error::InvalidArgument(format!(
                "{n} globs: at most {MAX_GLOBS} (include and exclude together) are allowed"
            )));
        }
        let mut inc = Vec::new();
        let mut exc: Vec<&str> = exclude.iter().map(String::as_str).collect();
        for g in include {
            match g.strip_prefix('!') {
                Some(neg) => exc.push(neg),
                None => inc.push(g.as_str()),
            }
        }
        Ok(Self {
            include: build(&inc)?,
            exclude: build(&exc)?,
        })
    }

    pub(crate) fn matches(&self, path: &str) -> bool {
        if let Some(inc) = &self.include {
            if !inc.is_match(path) {
                return false;
            }
        }
        match &self.exclude {
            Some(exc) => !exc.is_match(path),
            None => true,
        }
    }
}

/// Compile one glob the way `PathFilter` reads it. Longer than [`MAX_GLOB_BYTES`] is an
/// invalid argument (globset's compile time grows with the square of the length).
pub(crate) fn compile(glob: &str) -> Result<globset::Glob> {
    if glob.len() > MAX_GLOB_BYTES {
        return Err(Error::InvalidArgument(format!(
            "a glob of {} bytes: at most {MAX_GLOB_BYTES} are allowed",
            glob.len()
        )));
    }
    compile_unchecked(glob)
}

fn compile_unchecked(glob: &str) -> Result<globset::Glob> {
    let trimmed = glob.trim_start_matches("./");
    let anchored = if trimmed.contains('/') {
        trimmed.trim_start_matches('/').to_string()
    } else {
        format!("**/{trimmed}")
    };
    GlobBuilder::new(&anchored)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| Error::InvalidPattern {
            pattern: glob.to_string(),
            message: e.kind().to_string(),
        })
}

fn build(globs: &[&str]) -> Result<Option<GlobSet>> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut set = GlobSetBuilder::new();
    for g in globs {
        set.add(compile(g)?);
        // `dir/` or `dir` style globs also cover everything below them, as in gitignore.
        if !g.contains('*') {
            set.add(compile_unchecked(&format!(
                "{}/**",
                g.trim_end_matches('/')
            ))?);
        }
    }
    set.build().map(Some).map_err(|e| Error::InvalidPattern {
        pattern: globs.join(","),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(inc: &[&str], exc: &[&str]) -> PathFilter {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        PathFilter::new(&s(inc), &s(exc)).unwrap()
    }

    #[test]
    fn a_bare_glob_matches_file_names_at_any_depth() {
        let f = filter(&["*.py"], &[]);
        assert!(f.matches("a.py") && f.matches("x/y/a.py"));
        assert!(!f.matches("a.pyc"));
    }

    #[test]
    fn a_glob_with_a_slash_is_anchored_at_the_root() {
        let f = filter(&["src/*.py"], &[]);
        assert!(f.matches("src/a.py"));
        assert!(!f.matches("lib/src/a.py") && !f.matches("src/x/a.py"));
    }

    #[test]
    fn excludes_win_and_bang_globs_exclude() {
        let f = filter(&["*.py", "!tests"], &["*_pb2.py"]);
        assert!(f.matches("pkg/core.py"));
        assert!(!f.matches("tests/test_core.py"));
        assert!(!f.matches("pkg/api_pb2.py"));
    }

    #[test]
    fn a_broken_glob_is_an_invalid_pattern() {
        assert!(matches!(
            PathFilter::new(&["a[".into()], &[]),
            Err(Error::InvalidPattern { .. })
        ));
    }
}
