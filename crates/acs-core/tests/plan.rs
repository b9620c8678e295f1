//! The plan executor: concurrency, references, fusion, failure containment, streaming.

mod common;

use acs_core::{execute, Error, Plan, PlanRun, Repo, Status, TaskSpec};
use common::HANG_LIMIT;
use serde_json::{json, Value};
use std::sync::Arc;

fn repo() -> Arc<Repo> {
    Arc::new(
        Repo::from_files([
            ("pkg/config.py", "class Settings:\n    debug = False\n\ndef load_settings(path):\n    return Settings()\n"),
            ("pkg/cli.py", "from pkg.config import load_settings\n\ndef main():\n    load_settings('x')\n"),
            ("README.md", "Run `main` after `load_settings`.\n"),
        ])
        .unwrap(),
    )
}

fn task(v: Value) -> TaskSpec {
    TaskSpec::from_json(&v).unwrap()
}

fn result(outcome: &acs_core::TaskOutcome) -> Value {
    serde_json::from_str(outcome.result.as_ref().expect("task succeeded").get()).unwrap()
}

fn by_id(report: &acs_core::RunReport, id: u64) -> &acs_core::TaskOutcome {
    report.tasks.iter().find(|t| t.id == id).unwrap()
}

#[test]
fn references_carry_results_into_later_tasks() {
    let plan = Plan::from_json(&json!([
        {"id": 1, "tool": "find_files", "args": {"query": "config"}},
        {"id": 2, "tool": "read", "args": {"path": "$1.files[0].path", "start": 1, "end": 1}},
        {"id": 3, "tool": "grep", "args": {"pattern": "load_settings", "paths": ["$1.files[*].path"]}},
    ]))
    .unwrap();
    let report = execute(repo(), &plan);
    assert!(report.complete);
    assert_eq!(
        result(by_id(&report, 2))["lines"],
        json!(["class Settings:"])
    );
    assert_eq!(
        result(by_id(&report, 3))["files"][0]["path"],
        json!("pkg/config.py")
    );
    let (t1, t2) = (by_id(&report, 1), by_id(&report, 2));
    assert!(
        t2.started_ms >= t1.started_ms + t1.elapsed_ms,
        "a dependent starts after its dependency"
    );
    assert_eq!(t2.deps, [1]);
}

#[test]
fn greps_ready_together_share_one_pass() {
    let plan = Plan::from_json(&json!([
        {"id": 1, "tool": "grep", "args": {"pattern": "Settings"}},
        {"id": 2, "tool": "grep", "args": {"pattern": "main", "word": true}},
        {"id": 3, "tool": "grep", "args": {"pattern": "debug", "include": ["*.md"]}},
        {"id": 4, "tool": "outline", "args": {"path": "pkg/cli.py"}},
    ]))
    .unwrap();
    let report = execute(repo(), &plan);
    for id in 1..=3 {
        assert_eq!(by_id(&report, id).fused, 3);
    }
    assert_eq!(by_id(&report, 4).fused, 1);
    assert_eq!(result(by_id(&report, 1))["counts"], json!([2]));
    assert_eq!(result(by_id(&report, 3))["counts"], json!([0]));
}

#[test]
fn a_failing_task_spares_its_siblings_and_skips_its_dependents() {
    let plan = Plan::from_json(&json!([
        {"id": 1, "tool": "read", "args": {"path": "missing.py"}},
        {"id": 2, "tool": "grep", "args": {"pattern": "(bad"}},
        {"id": 3, "tool": "grep", "args": {"pattern": "main"}},
        {"id": 4, "tool": "outline", "args": {"path": "$1.path"}},
        {"id": 5, "tool": "read", "args": {"path": "$4.path"}},
        {"id": 6, "tool": "read", "args": {"path": "$3.files[9].path"}},
    ]))
    .unwrap();
    let report = execute(repo(), &plan);
    let status = |id| by_id(&report, id).status;
    let error = |id| by_id(&report, id).error.clone().unwrap();
    assert_eq!(status(1), Status::Error);
    assert_eq!(error(1).kind, "file_not_found");
    assert_eq!(error(2).kind, "invalid_pattern");
    assert_eq!(status(3), Status::Ok);
    assert_eq!(status(4), Status::Skipped);
    assert!(
        error(4).message.contains("dependency 1 failed"),
        "{}",
        error(4).message
    );
    assert_eq!(status(5), Status::Skipped);
    assert!(error(5).message.contains("dependency 4 was skipped"));
    // A reference that does not resolve fails the task that holds it, with the reason.
    assert_eq!(status(6), Status::Error);
    assert!(
        error(6).message.contains("index 9 out of range"),
        "{}",
        error(6).message
    );
}

#[test]
fn tasks_stream_in_while_earlier_ones_run() {
    let run = PlanRun::new(repo());
    run.submit(task(
        json!({"id": 1, "tool": "symbols", "args": {"name": "load_settings", "mode": "prefix"}}),
    ))
    .unwrap();
    let first = run.wait(1, None).unwrap().unwrap();
    assert_eq!(first.status, Status::Ok);
    // Submitted after task 1 finished: it starts at once with 1's result.
    run.submit(task(
        json!({"id": 2, "tool": "references", "args": {"name": "load_settings"}}),
    ))
    .unwrap();
    run.submit(task(
        json!({"id": 3, "tool": "read", "args": {"path": "$2.files[0].path"}}),
    ))
    .unwrap();
    let report = run.wait_all(Some(HANG_LIMIT));
    assert!(report.complete);
    assert_eq!(
        report.tasks.iter().map(|t| t.id).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(
        report.tasks.iter().all(|t| t.status == Status::Ok),
        "{report:?}"
    );
}

#[test]
fn streaming_refuses_references_to_unknown_tasks_and_runs_nothing() {
    let run = PlanRun::new(repo());
    let err = run
        .submit(task(
            json!({"id": 5, "tool": "read", "args": {"path": "$4.path"}}),
        ))
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidPlan { task: Some(5), .. }),
        "{err}"
    );
    run.submit(task(
        json!({"id": 1, "tool": "grep", "args": {"pattern": "x"}}),
    ))
    .unwrap();
    let dup = run
        .submit(task(
            json!({"id": 1, "tool": "grep", "args": {"pattern": "y"}}),
        ))
        .unwrap_err();
    assert!(dup.to_string().contains("duplicate"), "{dup}");
    assert_eq!(run.wait_all(None).tasks.len(), 1);
    assert!(run.wait(99, None).is_err());
}

#[test]
fn a_dependent_of_an_already_failed_task_is_skipped_on_submission() {
    let run = PlanRun::new(repo());
    run.submit(task(
        json!({"id": 1, "tool": "read", "args": {"path": "nope"}}),
    ))
    .unwrap();
    run.wait(1, None).unwrap();
    run.submit(task(
        json!({"id": 2, "tool": "outline", "args": {"path": "$1.path"}}),
    ))
    .unwrap();
    assert_eq!(
        run.wait(2, Some(HANG_LIMIT)).unwrap().unwrap().status,
        Status::Skipped
    );
}

#[test]
fn tasks_that_all_need_a_fresh_index_do_not_deadlock() {
    // Every task below builds or waits for the same lazily built indexes, from pool workers.
    let files: Vec<(String, String)> = (0..400)
        .map(|i| {
            (
                format!("pkg/m{i}.py"),
                format!("class C{i}:\n    def run_{i}(self):\n        return {i}\n"),
            )
        })
        .collect();
    for _ in 0..3 {
        let repo = Arc::new(Repo::from_files(files.clone()).unwrap());
        let mut tasks = Vec::new();
        for (n, tool) in [
            "symbols",
            "bm25",
            "outline",
            "references",
            "read",
            "symbols",
            "bm25",
        ]
        .iter()
        .enumerate()
        {
            let args = match *tool {
                "symbols" => json!({"name": format!("C{n}")}),
                "bm25" => {
                    json!({"query": "run class", "level": if n % 2 == 0 { "file" } else { "function" }})
                }
                "outline" => json!({"path": "pkg/m1.py"}),
                "references" => json!({"name": "run_3"}),
                _ => json!({"path": "pkg/m2.py", "symbol": "C2.run_2"}),
            };
            tasks.push(task(json!({"id": n + 1, "tool": tool, "args": args})));
        }
        let run = PlanRun::new(repo);
        run.submit_many(tasks).unwrap();
        let report = run.wait_all(Some(HANG_LIMIT));
        assert!(report.complete, "the run hung");
        assert!(
            report.tasks.iter().all(|t| t.status == Status::Ok),
            "{report:?}"
        );
    }
}
