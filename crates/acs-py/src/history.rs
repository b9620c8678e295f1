//! Bindings of `acs_core::History`: a repository's history index seen as of a commit. Opened
//! with the GIL released (a first build walks the whole history: Ctrl-C stops it); queries
//! return JSON bytes, as the tools do.

use crate::{detached, interruptible, json_bytes};
use acs_core::{Cancel, History};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::PathBuf;
use std::sync::Arc;

/// A repository's history as seen from one commit (`acs_core::History`).
#[pyclass(frozen, module = "acs._core", name = "History")]
pub(crate) struct PyHistory {
    inner: Arc<History>,
}

fn strs(paths: &[String]) -> Vec<&str> {
    paths.iter().map(String::as_str).collect()
}

#[pymethods]
impl PyHistory {
    /// Open the history of the git repository at `git_dir` as of `as_of`, using the store
    /// in `cache_dir` when given: (history, report as JSON bytes).
    #[staticmethod]
    #[pyo3(signature = (git_dir, as_of, cache_dir=None, max_bytes=None))]
    fn open(
        py: Python<'_>,
        git_dir: PathBuf,
        as_of: String,
        cache_dir: Option<PathBuf>,
        max_bytes: Option<u64>,
    ) -> PyResult<(Self, Py<PyBytes>)> {
        let cache = crate::index_cache(cache_dir, max_bytes);
        let cancel = Cancel::new();
        let token = cancel.clone();
        let (history, report) = interruptible(py, &cancel, move || {
            History::open(&git_dir, &as_of, cache.as_ref(), &token)
        })?;
        let report = json_bytes(py, &report)?;
        let history = PyHistory {
            inner: Arc::new(history),
        };
        Ok((history, report))
    }

    /// Drop the repository's history index from this process's memory.
    #[staticmethod]
    fn forget(py: Python<'_>, git_dir: PathBuf) -> PyResult<()> {
        detached(py, || {
            History::forget(&git_dir);
            Ok(())
        })
    }

    /// The full id of the commit the history is seen from.
    #[getter]
    fn as_of(&self) -> String {
        self.inner.as_of()
    }

    /// Visible commits (proper ancestors of `as_of`), merges included.
    #[getter]
    fn visible_commits(&self) -> usize {
        self.inner.visible_commits()
    }

    /// Past commits like `text` and the files they touched, as JSON bytes.
    fn similar_fixes(
        &self,
        py: Python<'_>,
        text: &str,
        commits: usize,
        files: usize,
    ) -> PyResult<Py<PyBytes>> {
        let found = detached(py, || self.inner.similar_fixes(text, commits, files))?;
        json_bytes(py, &found)
    }

    /// Files changed together with `paths`, as JSON bytes.
    fn co_change(&self, py: Python<'_>, paths: Vec<String>, limit: usize) -> PyResult<Py<PyBytes>> {
        let found = detached(py, || self.inner.co_change(&strs(&paths), limit))?;
        json_bytes(py, &found)
    }

    /// Churn and recency of each of `paths`, as JSON bytes.
    fn activity(&self, py: Python<'_>, paths: Vec<String>) -> PyResult<Py<PyBytes>> {
        let found = detached(py, || self.inner.activity(&strs(&paths)))?;
        json_bytes(py, &found)
    }

    /// One visible commit (full hex id) as JSON bytes, or None.
    fn commit(&self, py: Python<'_>, id: &str) -> PyResult<Option<Py<PyBytes>>> {
        match detached(py, || Ok(self.inner.commit(id)))? {
            Some(info) => json_bytes(py, &info).map(Some),
            None => Ok(None),
        }
    }
}

/// Register the class on the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyHistory>()
}
