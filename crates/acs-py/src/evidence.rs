//! Bindings of `acs_core::evidence`: a search read once in the engine (`Search`), its
//! rankings as JSON bytes, its feature tables as lists, and the learned ranker
//! (`LearnedRanker`) built from two loaded `TreeEnsemble`s. The feature names, their
//! version and the joiner's cuts are module constants, so Python never restates them.

use crate::{detached, json_bytes, to_py_err, PyTreeEnsemble};
use acs_core::evidence::{
    Calibration, FeatureTable, LearnedRanker, Search, CUT, FEATURES_VERSION, FILE_FEATURES, FN_CUT,
    FUNCTION_FEATURES, FUNCTION_FILES,
};
use acs_core::Error;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

/// One search's candidates and evidence (`acs_core::evidence::Search`).
#[pyclass(frozen, module = "acs._core", name = "Search")]
pub(crate) struct PySearch {
    inner: Search,
}

/// A feature table as Python receives it: (keys, rows).
type Table<K> = (Vec<K>, Vec<Vec<f64>>);

/// Rows as lists of floats (NaN: missing).
fn rows<K>(table: &FeatureTable<K>) -> Vec<Vec<f64>> {
    (0..table.keys.len())
        .map(|i| table.row(i).to_vec())
        .collect()
}

#[pymethods]
impl PySearch {
    /// Read a search given as JSON bytes (see `acs.rank.features.search_json`).
    #[new]
    fn new(py: Python<'_>, search_json: &[u8]) -> PyResult<Self> {
        let inner = detached(py, || Search::from_json(search_json))?;
        Ok(PySearch { inner })
    }

    /// The hand joiner's ranking, as JSON bytes.
    fn hand_ranking(
        &self,
        py: Python<'_>,
        top_k: usize,
        top_k_functions: usize,
    ) -> PyResult<Py<PyBytes>> {
        let answer = detached(py, || Ok(self.inner.hand_ranking(top_k, top_k_functions)))?;
        json_bytes(py, &answer)
    }

    /// The learned ranker's ranking, as JSON bytes.
    fn learned_ranking(
        &self,
        py: Python<'_>,
        ranker: &PyLearnedRanker,
        top_k: usize,
        top_k_functions: usize,
    ) -> PyResult<Py<PyBytes>> {
        let answer = detached(py, || {
            self.inner
                .learned_ranking(&ranker.inner, top_k, top_k_functions)
        })?;
        json_bytes(py, &answer)
    }

    /// (paths, rows) of the candidate files.
    fn file_table(&self, py: Python<'_>) -> PyResult<Table<String>> {
        let table = detached(py, || Ok(self.inner.file_table()))?;
        let rows = rows(&table);
        Ok((table.keys, rows))
    }

    /// ((path, name) pairs, rows) of the function candidates of the best files by
    /// `file_scores`.
    fn function_table(
        &self,
        py: Python<'_>,
        file_scores: Vec<(String, f64)>,
    ) -> PyResult<Table<(String, String)>> {
        let table = detached(py, || {
            let scores: Vec<(&str, f64)> =
                file_scores.iter().map(|(p, s)| (p.as_str(), *s)).collect();
            Ok(self.inner.function_table(&scores))
        })?;
        let rows = rows(&table);
        Ok((table.keys, rows))
    }

    /// (files, functions): how many candidates the search surfaced.
    #[getter]
    fn candidates(&self) -> (usize, usize) {
        self.inner.candidates()
    }
}

/// The learned ranker: two ensembles and their calibrations.
#[pyclass(frozen, module = "acs._core", name = "LearnedRanker")]
pub(crate) struct PyLearnedRanker {
    inner: LearnedRanker,
}

fn calibration(py: Python<'_>, coefficients: Vec<f64>, threshold: f64) -> PyResult<Calibration> {
    let coefficients: [f64; 3] = coefficients.try_into().map_err(|c: Vec<f64>| {
        let message = format!("ranker model: {} calibration coefficients, not 3", c.len());
        to_py_err(py, Error::InvalidArgument(message))
    })?;
    Ok(Calibration {
        coefficients,
        threshold,
    })
}

#[pymethods]
impl PyLearnedRanker {
    /// A ranker of the file and function ensembles, each with its calibration
    /// coefficients (a, b, c) and confident threshold.
    #[new]
    fn new(
        py: Python<'_>,
        files: &PyTreeEnsemble,
        functions: &PyTreeEnsemble,
        file_calibration: Vec<f64>,
        file_threshold: f64,
        function_calibration: Vec<f64>,
        function_threshold: f64,
    ) -> PyResult<Self> {
        let file_calibration = calibration(py, file_calibration, file_threshold)?;
        let function_calibration = calibration(py, function_calibration, function_threshold)?;
        let inner = LearnedRanker::new(
            files.inner.clone(),
            functions.inner.clone(),
            file_calibration,
            function_calibration,
        )
        .map_err(|e| to_py_err(py, e))?;
        Ok(PyLearnedRanker { inner })
    }
}

/// P(edited) of each of a query's raw scores: sigmoid(a * s + b * (s - best) + c).
#[pyfunction]
fn calibrated(scores: Vec<f64>, coefficients: (f64, f64, f64)) -> Vec<f64> {
    let (a, b, c) = coefficients;
    acs_core::evidence::calibrated(&scores, &[a, b, c])
}

/// Add the classes, functions and constants of this module to `acs._core`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<PySearch>()?;
    m.add_class::<PyLearnedRanker>()?;
    m.add_function(wrap_pyfunction!(calibrated, m)?)?;
    m.add("FILE_FEATURES", PyTuple::new(py, FILE_FEATURES)?)?;
    m.add("FUNCTION_FEATURES", PyTuple::new(py, FUNCTION_FEATURES)?)?;
    m.add("FEATURES_VERSION", FEATURES_VERSION)?;
    m.add("FUNCTION_FILES", FUNCTION_FILES)?;
    m.add("CUT", CUT)?;
    m.add("FN_CUT", FN_CUT)?;
    Ok(())
}
