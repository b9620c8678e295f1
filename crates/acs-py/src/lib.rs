//! `acs._core`: the thin pyo3 layer over `acs-core`.
//!
//! Requests go in and results come out as JSON bytes (parsed with orjson on the Python
//! side): one allocation crossing the boundary instead of thousands of small objects.
//! Every call releases the GIL for its whole duration and turns engine errors, and panics,
//! into the exception classes of `acs.errors`, which registers one class per
//! [`ErrorKind`] at import (`_register_errors`).
//!
//! Ctrl-C: calls that can run long (tools, plans, index builds) run the engine on a helper
//! thread while the calling thread lets Python handle signals every 50 ms. When a handler
//! raises (`KeyboardInterrupt`), the engine's [`Cancel`] token is set, the call waits for
//! the work to stop (a fraction of a second) and the exception is raised.

use acs_core::{
    guarded, Cancel, Error, ErrorKind, IndexCache, Plan, PlanRun, Repo, SourceOptions, Store,
    SymbolKind, TaskSpec, Tool, TreeEnsemble,
};
use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyException, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyType};
use serde::Serialize;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

mod build_facts;
mod evidence;
mod history;

/// How often a waiting call lets Python run its signal handlers.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// The exception class of each error kind, in [`ErrorKind::ALL`] order, as `acs.errors`
/// registers them at import (`_register_errors`): the bindings never look a class up by
/// name, and a registration that misses a kind is refused.
static ERROR_CLASSES: Mutex<Vec<Py<PyType>>> = Mutex::new(Vec::new());

/// Map an engine error to the class registered for its kind (a `RuntimeError` if
/// `acs.errors` never registered, i.e. `acs._core` was loaded without its package).
fn to_py_err(py: Python<'_>, e: Error) -> PyErr {
    let message = e.to_string();
    let index = ErrorKind::ALL.iter().position(|k| *k == e.error_kind());
    let class = {
        let classes = ERROR_CLASSES.lock().unwrap_or_else(|e| e.into_inner());
        index.and_then(|i| classes.get(i).map(|c| c.clone_ref(py)))
    };
    match class {
        Some(class) => PyErr::from_type(class.into_bound(py), message),
        None => PyRuntimeError::new_err(message),
    }
}

/// `{kind: exception class}` for every error kind: registered by `acs.errors` at import.
/// Refused (ValueError) unless the kinds are exactly those of [`error_kinds`], each mapped
/// to an exception class.
#[pyfunction]
fn _register_errors(classes: &Bound<'_, PyDict>) -> PyResult<()> {
    let names: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.name()).collect();
    let mut given = Vec::new();
    for key in classes.keys() {
        given.push(key.extract::<String>()?);
    }
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !given.iter().any(|g| g == n))
        .collect();
    let unknown: Vec<&str> = given
        .iter()
        .map(String::as_str)
        .filter(|g| !names.contains(g))
        .collect();
    if !missing.is_empty() || !unknown.is_empty() {
        let list = |names: &[&str]| match names {
            [] => "none".to_string(),
            _ => names.join(", "),
        };
        return Err(PyValueError::new_err(format!(
            "the error classes do not match the engine's error kinds: missing {}; unknown {}",
            list(&missing),
            list(&unknown)
        )));
    }
    let mut ordered = Vec::with_capacity(names.len());
    for name in names {
        let class = classes.get_item(name)?.expect("checked above");
        let class = class
            .cast_into::<PyType>()
            .map_err(|_| PyTypeError::new_err(format!("the class for `{name}` is not a class")))?;
        if !class.is_subclass_of::<PyException>()? {
            return Err(PyTypeError::new_err(format!(
                "the class for `{name}` is not an Exception subclass"
            )));
        }
        ordered.push(class.unbind());
    }
    *ERROR_CLASSES.lock().unwrap_or_else(|e| e.into_inner()) = ordered;
    Ok(())
}

/// The engine's error kinds and what each means, as (name, description) pairs: the one
/// table `acs.errors` builds its registration from and its tests compare against.
#[pyfunction]
fn error_kinds() -> Vec<(&'static str, &'static str)> {
    ErrorKind::ALL
        .iter()
        .map(|k| (k.name(), k.description()))
        .collect()
}

/// The names of the symbol kinds the engine reports (`class`, `function`, ...).
#[pyfunction]
fn symbol_kinds() -> Vec<&'static str> {
    SymbolKind::ALL.iter().map(|k| k.as_str()).collect()
}

/// Run `f` without the GIL, catching panics, and raise its error in Python.
fn detached<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> acs_core::Result<T> + Send,
) -> PyResult<T> {
    py.detach(|| guarded(f)).map_err(|e| to_py_err(py, e))
}

/// The cache folder a binding was handed (none: memory only), with its byte budget.
pub(crate) fn index_cache(dir: Option<PathBuf>, max_bytes: Option<u64>) -> Option<IndexCache> {
    dir.map(|dir| {
        let mut cache = IndexCache::new(dir);
        if let Some(m) = max_bytes {
            cache.max_bytes = m;
        }
        cache
    })
}

/// Like [`detached`], for work that may run long and checks `cancel`: it runs on a helper
/// thread while this one checks for signals every [`SIGNAL_POLL`]. A signal handler that
/// raises (Ctrl-C) sets `cancel`; once the work has stopped, its exception is raised.
fn interruptible<T: Send + 'static>(
    py: Python<'_>,
    cancel: &Cancel,
    f: impl FnOnce() -> acs_core::Result<T> + Send + 'static,
) -> PyResult<T> {
    // Python runs signal handlers on its main thread only: elsewhere there is nothing to
    // poll, so the work runs here (a hand-off to a helper costs ~30 µs).
    if MAIN_THREAD
        .get()
        .is_some_and(|main| *main != std::thread::current().id())
    {
        return detached(py, f);
    }
    let (tx, rx) = mpsc::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(guarded(f));
    });
    // `move`: the receiver goes with the closure (it may be sent, not shared).
    let (result, interrupted) = py.detach(move || {
        if let Err(e) = run_on_helper(job) {
            let e = Error::Internal(format!("cannot start a thread for the call: {e}"));
            return (Err(e), None);
        }
        let mut interrupted: Option<PyErr> = None;
        loop {
            match rx.recv_timeout(SIGNAL_POLL) {
                Ok(r) => return (r, interrupted),
                Err(RecvTimeoutError::Timeout) => {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        cancel.cancel();
                        if interrupted.is_some() {
                            // A second Ctrl-C: stop waiting for work that does not stop
                            // (it ends on its own when it next checks the token).
                            let e2 = Error::Cancelled("interrupted again".into());
                            return (Err(e2), Some(e));
                        }
                        interrupted = Some(e);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let e = Error::Internal("the call's thread ended without a result".into());
                    return (Err(e), interrupted);
                }
            }
        }
    });
    match interrupted {
        Some(e) => Err(e),
        None => result.map_err(|e| to_py_err(py, e)),
    }
}

/// Python's main thread, when `acs._core` was imported on it.
static MAIN_THREAD: OnceLock<std::thread::ThreadId> = OnceLock::new();

type Job = Box<dyn FnOnce() + Send + 'static>;

/// Helper threads waiting for a call to run. Starting a thread per call cost ~30 µs (15
/// times a small call), so helpers are kept; they never exit, so a job handed to one that
/// is idle is never lost. There are as many as calls ever ran at once.
static IDLE_HELPERS: Mutex<Vec<mpsc::Sender<Job>>> = Mutex::new(Vec::new());

fn idle_helpers() -> MutexGuard<'static, Vec<mpsc::Sender<Job>>> {
    IDLE_HELPERS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Run `job` on an idle helper thread, or on a new one.
fn run_on_helper(job: Job) -> std::io::Result<()> {
    let idle = idle_helpers().pop();
    let job = match idle {
        Some(helper) => match helper.send(job) {
            Ok(()) => return Ok(()),
            Err(mpsc::SendError(job)) => job,
        },
        None => job,
    };
    let (tx, rx) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("acs-call".into())
        .spawn(move || {
            let mut next = Some(job);
            while let Some(job) = next.take() {
                job();
                idle_helpers().push(tx.clone());
                next = rx.recv().ok();
            }
        })
        .map(drop)
}

fn json_bytes<T: Serialize>(py: Python<'_>, value: &T) -> PyResult<Py<PyBytes>> {
    let bytes =
        serde_json::to_vec(value).map_err(|e| to_py_err(py, Error::Internal(e.to_string())))?;
    Ok(PyBytes::new(py, &bytes).unbind())
}

fn parse_json(bytes: &[u8], what: &str) -> acs_core::Result<Value> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::InvalidArgument(format!("{what} is not valid JSON: {e}")))
}

fn options(max_file_size: Option<u64>, hidden: bool, exclude: Vec<String>) -> SourceOptions {
    let mut opts = SourceOptions {
        hidden,
        exclude,
        ..SourceOptions::default()
    };
    if let Some(m) = max_file_size {
        opts.max_file_size = m;
    }
    opts
}

/// An immutable snapshot of a repository.
#[pyclass(frozen, module = "acs._core", name = "Repo")]
struct PyRepo {
    inner: Arc<Repo>,
}

#[pymethods]
impl PyRepo {
    #[staticmethod]
    #[pyo3(signature = (path, *, max_file_size=None, hidden=false, exclude=Vec::new()))]
    fn open_dir(
        py: Python<'_>,
        path: PathBuf,
        max_file_size: Option<u64>,
        hidden: bool,
        exclude: Vec<String>,
    ) -> PyResult<Self> {
        let opts = options(max_file_size, hidden, exclude);
        let repo = detached(py, || Repo::open_dir(path, &opts))?;
        Ok(PyRepo {
            inner: Arc::new(repo),
        })
    }

    #[staticmethod]
    #[pyo3(signature = (git_dir, rev, *, max_file_size=None, hidden=false, exclude=Vec::new()))]
    fn open_git(
        py: Python<'_>,
        git_dir: PathBuf,
        rev: String,
        max_file_size: Option<u64>,
        hidden: bool,
        exclude: Vec<String>,
    ) -> PyResult<Self> {
        let opts = options(max_file_size, hidden, exclude);
        let repo = detached(py, || Repo::open_git(git_dir, &rev, &opts))?;
        Ok(PyRepo {
            inner: Arc::new(repo),
        })
    }

    #[staticmethod]
    fn from_files(py: Python<'_>, files: Vec<(String, Vec<u8>)>) -> PyResult<Self> {
        let repo = detached(py, || Repo::from_files(files))?;
        Ok(PyRepo {
            inner: Arc::new(repo),
        })
    }

    /// Run one tool: `call("grep", b'{"pattern": "x"}')` -> JSON bytes.
    fn call(&self, py: Python<'_>, tool: &str, args: &[u8]) -> PyResult<Py<PyBytes>> {
        let repo = self.inner.clone();
        let cancel = Cancel::new();
        let token = cancel.clone();
        let (tool, args) = (tool.to_owned(), args.to_vec());
        let result = interruptible(py, &cancel, move || {
            let tool = Tool::from_name(&tool)
                .ok_or_else(|| Error::InvalidArgument(format!("unknown tool `{tool}`")))?;
            let args = parse_json(&args, "arguments")?;
            tool.run_json_cancellable(&repo, &args, &token)
        })?;
        Ok(PyBytes::new(py, &result).unbind())
    }

    /// Like `call`, but builds the result as Python objects in Rust (pythonize) instead of
    /// returning JSON bytes. Kept to measure the two ways of crossing the boundary
    /// (`benches/bench_boundary.py`); `call` is the one the API uses. Only in builds with
    /// the `bench-objects` feature: the shipped extension leaves it (and pythonize) out.
    #[cfg(feature = "bench-objects")]
    fn call_objects<'py>(
        &self,
        py: Python<'py>,
        tool: &str,
        args: &[u8],
    ) -> PyResult<Bound<'py, PyAny>> {
        let repo = self.inner.clone();
        let result = detached(py, || {
            let tool = Tool::from_name(tool)
                .ok_or_else(|| Error::InvalidArgument(format!("unknown tool `{tool}`")))?;
            tool.run(&repo, &parse_json(args, "arguments")?)
        })?;
        pythonize::pythonize(py, &result).map_err(|e| to_py_err(py, Error::Internal(e.to_string())))
    }

    /// Several grep requests in one fused pass: JSON list in, JSON list of
    /// `{"ok": result}` / `{"error": {"kind", "message"}}` out.
    fn grep_many(&self, py: Python<'_>, requests: &[u8]) -> PyResult<Py<PyBytes>> {
        let repo = self.inner.clone();
        let cancel = Cancel::new();
        let token = cancel.clone();
        let requests = requests.to_vec();
        let out = interruptible(py, &cancel, move || {
            let list: Vec<acs_core::GrepRequest> = serde_json::from_slice(&requests)
                .map_err(|e| Error::InvalidArgument(format!("grep requests: {e}")))?;
            let refs: Vec<&acs_core::GrepRequest> = list.iter().collect();
            Ok(acs_core::grep_fused_cancellable(&repo, &refs, &token)
                .into_iter()
                .map(|r| match r {
                    Ok(v) => serde_json::json!({ "ok": v }),
                    Err(e) => serde_json::json!({ "error": { "kind": e.kind(), "message": e.to_string() } }),
                })
                .collect::<Vec<_>>())
        })?;
        json_bytes(py, &out)
    }

    /// Validate and run a whole plan; returns the run report as JSON bytes.
    fn run_plan(&self, py: Python<'_>, plan: &[u8]) -> PyResult<Py<PyBytes>> {
        let run = PlanRun::new(self.inner.clone());
        detached(py, || {
            let plan = Plan::from_json(&parse_json(plan, "plan")?)?;
            run.submit_many(plan.tasks)
        })?;
        let report = wait_all_interruptible(py, &run, None)?;
        json_bytes(py, &report)
    }

    /// Start an empty run that accepts tasks while it executes; with `timeout_s`, the run
    /// is cancelled that many seconds from now.
    #[pyo3(signature = (timeout_s=None))]
    fn start(&self, py: Python<'_>, timeout_s: Option<f64>) -> PyResult<PyPlanRun> {
        let cancel = match timeout(timeout_s).map_err(|e| to_py_err(py, e))? {
            Some(t) => Cancel::with_deadline(Instant::now() + t),
            None => Cancel::new(),
        };
        Ok(PyPlanRun {
            inner: PlanRun::with_cancel(self.inner.clone(), cancel),
        })
    }

    /// Origin and open statistics as JSON bytes.
    fn info(&self, py: Python<'_>) -> PyResult<Py<PyBytes>> {
        json_bytes(
            py,
            &serde_json::json!({ "origin": self.inner.origin(), "stats": self.inner.stats() }),
        )
    }

    fn paths(&self) -> Vec<String> {
        self.inner
            .files()
            .iter()
            .map(|f| f.path.to_string())
            .collect()
    }

    /// Build the symbol index now (otherwise built by the first symbol lookup); returns
    /// the number of definitions.
    fn index_symbols(&self, py: Python<'_>) -> PyResult<usize> {
        let repo = self.inner.clone();
        let cancel = Cancel::new();
        let token = cancel.clone();
        interruptible(py, &cancel, move || {
            Ok(repo.try_symbol_index(&token)?.len())
        })
    }

    /// Make every index ready, reading and feeding the per-file store in `cache_dir`
    /// when one is given; returns the report as JSON bytes.
    #[pyo3(signature = (cache_dir=None, max_bytes=None))]
    fn index(
        &self,
        py: Python<'_>,
        cache_dir: Option<PathBuf>,
        max_bytes: Option<u64>,
    ) -> PyResult<Py<PyBytes>> {
        let repo = self.inner.clone();
        let cache = index_cache(cache_dir, max_bytes);
        let cancel = Cancel::new();
        let token = cancel.clone();
        let report = interruptible(py, &cancel, move || {
            repo.index_cancellable(cache.as_ref(), &token)
        })?;
        json_bytes(py, &report)
    }

    fn __len__(&self) -> usize {
        self.inner.files().len()
    }
}

/// A plan run that accepts tasks while earlier ones execute.
#[pyclass(frozen, module = "acs._core", name = "PlanRun")]
struct PyPlanRun {
    inner: PlanRun,
}

fn parse_tasks(bytes: &[u8]) -> acs_core::Result<Vec<TaskSpec>> {
    match parse_json(bytes, "tasks")? {
        Value::Array(items) => TaskSpec::list_from_json(&items),
        one @ Value::Object(_) => Ok(vec![TaskSpec::from_json(&one)?]),
        _ => Err(Error::plan_message(
            "expected a task object or a list of tasks",
        )),
    }
}

/// Wait for every task of `run` (or until `limit`) in slices of [`SIGNAL_POLL`], letting
/// Python handle signals between them. A handler that raises cancels the run; the call
/// waits (briefly) for its tasks to stop, then raises.
fn wait_all_interruptible(
    py: Python<'_>,
    run: &PlanRun,
    limit: Option<Duration>,
) -> PyResult<acs_core::RunReport> {
    let deadline = limit.map(|t| Instant::now() + t);
    loop {
        let slice = deadline.map_or(SIGNAL_POLL, |d| {
            d.saturating_duration_since(Instant::now()).min(SIGNAL_POLL)
        });
        let report = py.detach(|| run.wait_all(Some(slice)));
        if report.complete || deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(report);
        }
        if let Err(e) = py.check_signals() {
            stop(py, run);
            return Err(e);
        }
    }
}

/// Cancel `run` and give its tasks a moment to end (they check the flag between files).
fn stop(py: Python<'_>, run: &PlanRun) {
    run.cancel();
    py.detach(|| run.wait_all(Some(Duration::from_secs(5))));
}

fn timeout(seconds: Option<f64>) -> acs_core::Result<Option<Duration>> {
    seconds
        .map(|s| {
            Duration::try_from_secs_f64(s)
                .map_err(|_| Error::InvalidArgument(format!("bad timeout {s}")))
        })
        .transpose()
}

#[pymethods]
impl PyPlanRun {
    /// Submit one task or a list of tasks (JSON bytes). Ready tasks start at once.
    fn submit(&self, py: Python<'_>, tasks: &[u8]) -> PyResult<()> {
        let run = self.inner.clone();
        detached(py, || run.submit_many(parse_tasks(tasks)?))
    }

    /// Wait for task `id`; JSON bytes of its outcome, or None on timeout.
    #[pyo3(signature = (id, timeout_s=None))]
    fn wait(
        &self,
        py: Python<'_>,
        id: u64,
        timeout_s: Option<f64>,
    ) -> PyResult<Option<Py<PyBytes>>> {
        let limit = timeout(timeout_s).map_err(|e| to_py_err(py, e))?;
        let deadline = limit.map(|t| Instant::now() + t);
        let run = &self.inner;
        loop {
            let slice = deadline.map_or(SIGNAL_POLL, |d| {
                d.saturating_duration_since(Instant::now()).min(SIGNAL_POLL)
            });
            let outcome = detached(py, || run.wait(id, Some(slice)))?;
            if let Some(o) = outcome {
                return json_bytes(py, &*o).map(Some);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(None);
            }
            if let Err(e) = py.check_signals() {
                stop(py, run);
                return Err(e);
            }
        }
    }

    /// Wait for every submitted task; JSON bytes of the run report.
    #[pyo3(signature = (timeout_s=None))]
    fn wait_all(&self, py: Python<'_>, timeout_s: Option<f64>) -> PyResult<Py<PyBytes>> {
        let limit = timeout(timeout_s).map_err(|e| to_py_err(py, e))?;
        let report = wait_all_interruptible(py, &self.inner, limit)?;
        json_bytes(py, &report)
    }

    /// Cancel the run: running tools stop between files (within a fraction of a second),
    /// and every task not finished yet, or submitted later, ends as a `cancelled` error.
    fn cancel(&self) {
        self.inner.cancel();
    }

    /// Whether the run was cancelled, by `cancel()` or by its timeout.
    fn cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }

    /// The outcomes so far, without waiting.
    fn snapshot(&self, py: Python<'_>) -> PyResult<Py<PyBytes>> {
        json_bytes(py, &self.inner.snapshot())
    }
}

/// A gradient-boosted tree ensemble (`acs_core::gbdt`): the learned ranker's model.
#[pyclass(frozen, module = "acs._core", name = "TreeEnsemble")]
struct PyTreeEnsemble {
    inner: Arc<TreeEnsemble>,
}

/// One value of a row: a number, or None for missing (NaN).
fn feature_value(py: Python<'_>, item: &Bound<'_, PyAny>, row: usize, col: usize) -> PyResult<f64> {
    if item.is_none() {
        return Ok(f64::NAN);
    }
    item.extract::<f64>().map_err(|_| {
        let kind = item
            .get_type()
            .name()
            .map_or_else(|_| "?".to_string(), |n| n.to_string());
        let message = format!("row {row}, column {col}: expected a number or None, got {kind}");
        to_py_err(py, Error::InvalidArgument(message))
    })
}

/// Append the values of `row` (any iterable) to `values`.
fn push_row(
    py: Python<'_>,
    row: &Bound<'_, PyAny>,
    r: usize,
    values: &mut Vec<f64>,
) -> PyResult<usize> {
    let start = values.len();
    if let Ok(list) = row.cast::<PyList>() {
        for (c, item) in list.iter().enumerate() {
            values.push(feature_value(py, &item, r, c)?);
        }
    } else {
        for (c, item) in row.try_iter()?.enumerate() {
            values.push(feature_value(py, &item?, r, c)?);
        }
    }
    Ok(values.len() - start)
}

#[pymethods]
impl PyTreeEnsemble {
    /// Parse and validate a model file (JSON text).
    #[new]
    fn new(py: Python<'_>, model_json: &str) -> PyResult<Self> {
        let inner = detached(py, || TreeEnsemble::from_json(model_json))?;
        Ok(PyTreeEnsemble {
            inner: Arc::new(inner),
        })
    }

    /// Raw scores of `rows`, each a sequence of one value per feature (None: missing).
    fn predict(&self, py: Python<'_>, rows: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
        let width = self.inner.feature_names().len();
        let mut values = Vec::with_capacity(width * rows.len().unwrap_or(0));
        let mut n_rows = 0;
        for (r, row) in rows.try_iter()?.enumerate() {
            let got = push_row(py, &row?, r, &mut values)?;
            if got != width {
                let message = format!("row {r} has {got} values, the model has {width} features");
                return Err(to_py_err(py, Error::InvalidArgument(message)));
            }
            n_rows += 1;
        }
        detached(py, || self.inner.predict(&values, n_rows))
    }

    /// Raw scores of `n_rows` rows given row-major in one flat float64 buffer (a numpy
    /// array, `array.array("d")`) or sequence of numbers (None: missing).
    fn predict_flat(
        &self,
        py: Python<'_>,
        values: &Bound<'_, PyAny>,
        n_rows: usize,
    ) -> PyResult<Vec<f64>> {
        let values = match PyBuffer::<f64>::get(values) {
            Ok(buffer) => buffer.to_vec(py)?,
            Err(_) => {
                let mut out = Vec::new();
                push_row(py, values, 0, &mut out)?;
                out
            }
        };
        detached(py, || self.inner.predict(&values, n_rows))
    }

    /// The feature names, in column order.
    #[getter]
    fn feature_names(&self) -> Vec<String> {
        self.inner.feature_names().to_vec()
    }

    /// The number of trees.
    #[getter]
    fn num_trees(&self) -> usize {
        self.inner.num_trees()
    }

    /// The objective the exporter recorded (`lambdarank`, `regression`, ...), or None.
    #[getter]
    fn objective(&self) -> Option<String> {
        self.inner.objective().map(str::to_string)
    }

    /// The file's `meta` object as JSON text, or None.
    #[getter]
    fn meta(&self) -> Option<String> {
        self.inner.meta_json().map(str::to_string)
    }
}

/// Set the byte budgets of the process-wide content, symbol and term-statistics caches.
/// `term_bytes` defaults to `symbol_bytes`: both hold per-file index work, and a caller
/// that turns parse sharing off (a budget of 0) means tokenising too.
#[pyfunction]
#[pyo3(signature = (content_bytes, symbol_bytes, term_bytes=None))]
fn set_cache_budgets(content_bytes: usize, symbol_bytes: usize, term_bytes: Option<usize>) {
    let store = Store::global();
    store.set_budgets(content_bytes, symbol_bytes);
    store.set_term_budget(term_bytes.unwrap_or(symbol_bytes));
}

/// ((entries, bytes) of the content cache, (entries, bytes) of the symbol cache).
#[pyfunction]
fn cache_usage() -> ((usize, usize), (usize, usize)) {
    Store::global().usage()
}

/// (entries, bytes) of the term-statistics cache, its term interner included.
#[pyfunction]
fn term_cache_usage() -> (usize, usize) {
    Store::global().term_usage()
}

/// The tool names and their argument names, for planners and documentation.
#[pyfunction]
fn tool_arguments() -> Vec<(String, Vec<String>)> {
    Tool::ALL
        .iter()
        .map(|t| {
            (
                t.name().to_string(),
                t.argument_names().iter().map(|s| s.to_string()).collect(),
            )
        })
        .collect()
}

/// Each tool and its arguments (name, type, enumerated values, default, help, limits), as
/// `[{"name": tool, "arguments": [...]}]` in `Tool::ALL`'s order: the one description that
/// the plan language, the MCP schemas and the documentation derive from.
#[pyfunction]
fn tool_specs(py: Python<'_>) -> PyResult<Py<PyAny>> {
    let specs = Tool::ALL
        .iter()
        .map(|t| t.spec())
        .collect::<acs_core::Result<Vec<Value>>>()
        .map_err(|e| to_py_err(py, e))?;
    let text =
        serde_json::to_string(&specs).map_err(|e| to_py_err(py, Error::Internal(e.to_string())))?;
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}

/// The engine's build as JSON bytes: crate version, profile, target, rustc, git commit,
/// tree-sitter and grammar versions (`acs --version`).
#[pyfunction]
fn build_info(py: Python<'_>) -> PyResult<Py<PyBytes>> {
    json_bytes(py, &build_facts::build_info())
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let threading = m.py().import("threading")?;
    if threading
        .call_method0("main_thread")?
        .is(&threading.call_method0("current_thread")?)
    {
        let _ = MAIN_THREAD.set(std::thread::current().id());
    }
    m.add_class::<PyRepo>()?;
    m.add_class::<PyPlanRun>()?;
    m.add_class::<PyTreeEnsemble>()?;
    evidence::register(m)?;
    history::register(m)?;
    m.add_function(wrap_pyfunction!(set_cache_budgets, m)?)?;
    m.add_function(wrap_pyfunction!(cache_usage, m)?)?;
    m.add_function(wrap_pyfunction!(term_cache_usage, m)?)?;
    m.add_function(wrap_pyfunction!(tool_arguments, m)?)?;
    m.add_function(wrap_pyfunction!(tool_specs, m)?)?;
    m.add_function(wrap_pyfunction!(build_info, m)?)?;
    m.add_function(wrap_pyfunction!(symbol_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(error_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(_register_errors, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
