//! The evidence reader (`acs_core::evidence`) on searches written by hand: what each tool
//! contributes to the joiner's ranking and to the feature rows, and what it refuses. (Its
//! identity with the Python reader it replaced is tests/test_evidence_identity.py's.)

use acs_core::evidence::{Search, FILE_FEATURES, FUNCTION_FEATURES, FUNCTION_FILES};
use acs_core::{Error, TreeEnsemble};
use serde_json::{json, Value};

fn search(outcomes: Value) -> Search {
    search_of("render_widget breaks the widget", outcomes)
}

fn search_of(issue: &str, outcomes: Value) -> Search {
    let input = json!({
        "issue": issue, "title": issue.lines().next().unwrap_or(""),
        "identifiers": ["render_widget"], "frames": [["/x/pkg/widget.py", 12, "render_widget"]],
        "outcomes": outcomes,
    });
    Search::from_json(&serde_json::to_vec(&input).unwrap()).unwrap()
}

fn def(path: &str, name: &str, start: i64) -> Value {
    json!({"path": path, "name": name, "qualified_name": name, "kind": "function",
           "start_line": start, "end_line": start + 9})
}

fn value(table: &acs_core::evidence::FeatureTable<String>, key: &str, name: &str) -> f64 {
    let row = table.keys.iter().position(|k| k == key).unwrap();
    let col = FILE_FEATURES.iter().position(|n| *n == name).unwrap();
    table.row(row)[col]
}

#[test]
fn a_named_definition_ranks_its_file_and_function_first() {
    let s = search(json!([
        ["bm25", {"query": "q"}, {"hits": [{"path": "pkg/other.py", "score": 9.0},
                                           {"path": "pkg/widget.py", "score": 3.0}]}],
        ["symbols", {"name": "render_widget"}, {"symbols": [def("pkg/widget.py", "render_widget", 30)]}],
    ]));
    let ranked = s.hand_ranking(10, 20);
    assert_eq!(ranked.files[0].path, "pkg/widget.py");
    assert_eq!(ranked.files[0].score, 1.0);
    assert_eq!(ranked.functions[0].name, "render_widget");
    let why = |key: &str| {
        ranked
            .why
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    // The file's name says more than the definition's half-share; the function's reason is
    // the definition the issue's stack trace names.
    assert_eq!(
        why("pkg/widget.py"),
        Some("its name matches words of the issue")
    );
    assert_eq!(
        why("pkg/widget.py:render_widget"),
        Some("defines `render_widget` (in the stack trace)")
    );
}

#[test]
fn absent_evidence_is_nan_and_present_evidence_is_normalised() {
    let s = search(json!([
        ["bm25", {"query": "q"}, {"hits": [{"path": "a.py", "score": 8}, {"path": "b.py", "score": 2}]}],
        ["read", {"path": "a.py"}, {"anything": [1, {"at": "all"}]}],
    ]));
    let table = s.file_table();
    assert_eq!(table.keys, ["a.py", "b.py"]);
    assert_eq!(value(&table, "b.py", "bm25_issue_norm"), 0.25);
    assert_eq!(value(&table, "b.py", "bm25_issue_rank"), 2.0);
    assert_eq!(value(&table, "b.py", "bm25_issue_raw"), 2.0);
    assert!(value(&table, "b.py", "sym_hits").is_nan());
    assert_eq!(value(&table, "a.py", "candidates"), 2.0);
}

#[test]
fn function_rows_come_from_the_best_files_only() {
    let mut outcomes = Vec::new();
    for i in 0..25 {
        let node = def(&format!("f{i:02}.py"), "f", 1);
        outcomes.push(json!(["outline", {"path": "x"}, {"path": "x", "symbols": [node]}]));
    }
    let s = search(Value::Array(outcomes));
    let scores: Vec<(String, f64)> = (0..25)
        .map(|i| (format!("f{i:02}.py"), f64::from(i)))
        .collect();
    let scores: Vec<(&str, f64)> = scores.iter().map(|(p, v)| (p.as_str(), *v)).collect();
    let table = s.function_table(&scores);
    assert_eq!(FUNCTION_FILES, 10);
    assert_eq!(table.keys.len(), FUNCTION_FILES);
    let first = format!("f{:02}.py", 25 - FUNCTION_FILES);
    assert_eq!(table.keys[0], (first, "f".to_string()));
    assert_eq!(table.width, FUNCTION_FEATURES.len());
}

#[test]
fn malformed_results_are_one_line_invalid_arguments() {
    let huge = "x".repeat(1 << 20);
    let cases = [
        json!({"issue": "x", "outcomes": [["bm25", {}, {"no hits": []}]]}),
        json!({"issue": "x", "outcomes": [["bm25", {"level": "function"}, {"hits": [{"path": "a", "score": 1}]}]]}),
        json!({"issue": "x", "outcomes": [["bm25", {}, {"hits": [{"path": "a", "score": huge}]}]]}),
        json!({"issue": "x", "outcomes": [["symbols", {}, {"symbols": [def("a.py", "f", 1)]}]]}),
        json!({"issue": "x", "outcomes": [["grep", {}, {"files": [], "matches": [{"path": "a", "line": 1, "enclosing": {"path": huge}}]}]]}),
        json!({"issue": "x", "outcomes": [["bm25", {}]]}),
        json!({"outcomes": []}),
        json!([huge]),
    ];
    for case in cases {
        match Search::from_json(&serde_json::to_vec(&case).unwrap()) {
            Err(e @ Error::InvalidArgument(_)) => {
                let message = e.to_string();
                assert!(
                    !message.contains('\n') && message.len() < 600,
                    "{message:.200}"
                );
            }
            other => panic!("{case:.100} gave {:?}", other.map(|_| ())),
        }
    }
    let not_utf8 = b"{\"issue\": \"\xff\", \"outcomes\": []}";
    assert!(matches!(
        Search::from_json(not_utf8),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn extreme_numbers_do_not_panic() {
    let s = search_of(
        "x",
        json!([
            ["find_files", {"query": "w"}, {"files": [{"path": "pkg/widget.py", "score": 100}]}],
            ["grep", {"pattern": "p"}, {"files": [{"path": "pkg/widget.py"}],
              "matches": [{"path": "pkg/widget.py", "line": i64::MAX},
                          {"path": "pkg/widget.py", "line": i64::MIN}]}],
            ["symbols", {"name": "f"}, {"symbols": [{"path": "pkg/widget.py", "name": "f",
              "qualified_name": "f", "kind": "function", "start_line": i64::MIN, "end_line": i64::MAX}]}],
        ]),
    );
    let ranked = s.hand_ranking(usize::MAX, usize::MAX);
    assert_eq!(ranked.files[0].path, "pkg/widget.py");
    let table = s.function_table(&[("pkg/widget.py", f64::NAN)]);
    let span = FUNCTION_FEATURES
        .iter()
        .position(|n| *n == "span_lines")
        .unwrap();
    assert_eq!(table.row(0)[span], 2f64.powi(64));
}

#[test]
fn a_ranker_of_other_features_is_refused() {
    let model = r#"{"format": "acs-gbdt", "version": 1, "features": ["a"], "trees": []}"#;
    let other = std::sync::Arc::new(TreeEnsemble::from_json(model).unwrap());
    let calibration = acs_core::evidence::Calibration {
        coefficients: [1.0, 0.0, 0.0],
        threshold: 0.5,
    };
    let refused =
        acs_core::evidence::LearnedRanker::new(other.clone(), other, calibration, calibration);
    assert!(
        matches!(refused, Err(Error::InvalidArgument(m)) if m.contains("\"a\"") && m.contains("does not compute"))
    );
}

#[test]
fn a_ranker_reads_its_columns_by_name() {
    // One split on `is_test` (column 29 of the engine's rows, the model's only column):
    // test files score 1, others 0. Read as column 0 (`bm25_issue_norm`), pkg/a.py would
    // win instead.
    let files = r#"{"format": "acs-gbdt", "version": 1, "features": ["is_test"], "trees": [
        {"num_leaves": 2, "split_feature": [0], "threshold": [0.5], "decision_type": [2],
         "left_child": [-1], "right_child": [-2], "leaf_value": [0.0, 1.0]}]}"#;
    let functions = r#"{"format": "acs-gbdt", "version": 1, "features": ["rank_in_file", "outlined"], "trees": []}"#;
    let files = std::sync::Arc::new(TreeEnsemble::from_json(files).unwrap());
    let functions = std::sync::Arc::new(TreeEnsemble::from_json(functions).unwrap());
    let calibration = acs_core::evidence::Calibration {
        coefficients: [1.0, 0.0, 0.0],
        threshold: 0.5,
    };
    let ranker =
        acs_core::evidence::LearnedRanker::new(files, functions, calibration, calibration).unwrap();
    let s = search(json!([
        ["bm25", {"query": "q"}, {"hits": [{"path": "pkg/a.py", "score": 10.0},
                                           {"path": "tests/test_a.py", "score": 4.0}]}],
    ]));
    let ranked = s.learned_ranking(&ranker, 2, 2).unwrap();
    let paths: Vec<&str> = ranked.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["tests/test_a.py", "pkg/a.py"]);
}

#[test]
fn import_graph_neighbours_are_candidates_of_the_learned_ranker_only() {
    // The imports call asks the best files in the file ranker's order: a.py first, b.py second.
    let s = search(json!([
        ["bm25", {"query": "q"}, {"hits": [{"path": "pkg/a.py", "score": 4.0},
                                           {"path": "pkg/b.py", "score": 2.0}]}],
        ["imports", {"paths": ["pkg/a.py", "pkg/b.py"], "direction": "both"}, {"files": [
            {"path": "pkg/util.py", "via": "pkg/a.py", "direction": "imports", "module": "pkg.util"},
            {"path": "pkg/util.py", "via": "pkg/b.py", "direction": "imports", "module": "pkg.util"},
            {"path": "pkg/cli.py", "via": "pkg/b.py", "direction": "imported_by", "module": "pkg.b"},
        ]}],
        ["bm25", {"query": "q", "level": "file", "include": ["pkg/util.py", "pkg/cli.py"]},
         {"hits": [{"path": "pkg/cli.py", "score": 1.5}, {"path": "pkg/util.py", "score": 0.5}]}],
    ]));
    let table = s.file_table();
    assert_eq!(
        table.keys,
        ["pkg/a.py", "pkg/b.py", "pkg/cli.py", "pkg/util.py"]
    );
    assert_eq!(value(&table, "pkg/util.py", "import_hits"), 2.0);
    assert_eq!(value(&table, "pkg/util.py", "import_best_rank"), 1.0);
    assert_eq!(value(&table, "pkg/util.py", "imported_by_best"), 2.0);
    assert!(value(&table, "pkg/util.py", "imports_best").is_nan());
    assert_eq!(value(&table, "pkg/cli.py", "import_best_rank"), 2.0);
    assert_eq!(value(&table, "pkg/cli.py", "imports_best"), 1.0);
    // The neighbours' own BM25 is theirs alone: the repository-wide BM25 columns are untouched.
    assert_eq!(value(&table, "pkg/cli.py", "neighbour_bm25_raw"), 1.5);
    assert_eq!(value(&table, "pkg/util.py", "neighbour_bm25_rank"), 2.0);
    assert!(value(&table, "pkg/cli.py", "bm25_issue_raw").is_nan());
    assert_eq!(value(&table, "pkg/a.py", "bm25_issue_raw"), 4.0);
    assert!(value(&table, "pkg/a.py", "import_hits").is_nan());
    // The hand joiner never read the import graph: its ranking has the BM25 files only.
    let hand: Vec<String> = s
        .hand_ranking(10, 20)
        .files
        .into_iter()
        .map(|f| f.path)
        .collect();
    assert_eq!(hand, ["pkg/a.py", "pkg/b.py"]);
}

#[test]
fn a_malformed_imports_result_is_an_invalid_argument() {
    let input = json!({"issue": "x", "title": "x", "identifiers": [], "frames": [],
        "outcomes": [["imports", {"paths": ["a.py"]}, {"files": [{"path": "b.py"}]}]]});
    let err = Search::from_json(&serde_json::to_vec(&input).unwrap()).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
}
