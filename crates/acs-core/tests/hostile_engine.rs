//! Hostile input to the engine (issue 9, findings 5, 7 and 10): every cap of
//! `acs_core::limits` is hit and fails clearly, the work that was quadratic is linear, a
//! UTF-8 byte-order mark shifts nothing, and cancellation stops grep, index builds and plans
//! promptly without keeping anything partial.
//!
//! Time is bounded in CPU time, in a child process running the test alone (see `common`).

mod common;

use acs_core::limits::*;
use acs_core::Status;
use acs_core::{
    grep, grep_cancellable, grep_fused_cancellable, read, references, Cancel, Error, GrepRequest,
    Plan, PlanRun, ReadRequest, ReferencesRequest, Repo, Tool,
};
use common::{cpu_of, process_cpu, process_cpu_at, ran_alone, HANG_LIMIT};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A deterministic generated tree: `files` Python files of about `lines` lines each. `salt`
/// makes the content unique, so the process-wide parse cache cannot serve it.
fn generated(files: usize, lines: usize, salt: &str) -> Repo {
    let mut out = Vec::with_capacity(files);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for f in 0..files {
        let mut text = String::new();
        for l in 0..lines {
            let (a, b) = (next() % 5000, next() % 5000);
            if l % 10 == 0 {
                text.push_str(&format!("def func_{salt}_{f}_{l}(arg_{a}):\n"));
            } else {
                text.push_str(&format!(
                    "    value_{a} = compute_{b}(arg_{a}, 'text {a} and {b}') + {l}\n"
                ));
            }
        }
        out.push((format!("pkg{}/mod_{f}.py", f % 20), text));
    }
    Repo::from_files(out).unwrap()
}

fn invalid_argument(e: Error, needle: &str) {
    match &e {
        Error::InvalidArgument(m) => assert!(m.contains(needle), "{m:?} lacks {needle:?}"),
        other => panic!("expected invalid_argument, got {other:?}"),
    }
}

fn walk_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk_files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// `f`'s result and the CPU time it took on every thread; call it only in a test that ran
/// alone (`ran_alone`), where no other test's threads are counted.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    cpu_of(process_cpu, f)
}

// ---- finding 5: linear work -----------------------------------------------------------

#[test]
fn ten_thousand_literal_patterns_cost_linear_time() {
    if ran_alone() {
        return;
    }
    let repo = generated(300, 200, "lin");
    // Names of the kind that occur (compute_N, value_N) and some that do not.
    let names = |n: usize| -> Vec<String> {
        (0..n)
            .map(|i| match i % 3 {
                0 => format!("compute_{}", i % 5000),
                1 => format!("value_{}", i % 5000),
                _ => format!("absent_name_{i}"),
            })
            .collect()
    };
    let run = |n: usize| {
        let req = GrepRequest {
            patterns: names(n),
            fixed_strings: true,
            word: true,
            max_results: 5,
            ..Default::default()
        };
        timed(|| grep(&repo, &req).unwrap())
    };
    let (small, t1) = run(1_000);
    let (big, t10) = run(10_000);
    assert!(small.matches.len() > 100 && big.matches.len() > small.matches.len());
    // Linear: ~10x. The per-file `which.contains` filter made it ~100x (and minutes here).
    let ratio = t10.as_secs_f64() / t1.as_secs_f64().max(0.02);
    eprintln!("CPU for 1,000 patterns: {t1:?}; 10,000: {t10:?}; ratio {ratio:.1}");
    assert!(ratio < 40.0, "1,000 patterns: {t1:?}; 10,000: {t10:?}");
}

#[test]
fn a_glob_at_the_length_cap_compiles_fast_and_one_over_is_refused() {
    if ran_alone() {
        return;
    }
    let repo = generated(5, 5, "glob");
    let at_cap = format!("{}*.py", "a".repeat(MAX_GLOB_BYTES - 4));
    let (r, t) = timed(|| {
        grep(
            &repo,
            &GrepRequest {
                patterns: vec!["def".into()],
                include: vec![at_cap],
                ..Default::default()
            },
        )
    });
    assert!(r.unwrap().matches.is_empty());
    assert!(t < Duration::from_secs(2), "CPU {t:?}");
    let over = "*".repeat(MAX_GLOB_BYTES + 1);
    let err = grep(
        &repo,
        &GrepRequest {
            patterns: vec!["def".into()],
            exclude: vec![over.clone()],
            ..Default::default()
        },
    )
    .unwrap_err();
    invalid_argument(err, &MAX_GLOB_BYTES.to_string());
    // find_files's glob goes through the same check.
    let err = Tool::FindFiles
        .run(&repo, &json!({ "glob": over }))
        .unwrap_err();
    invalid_argument(err, "glob of");
}

#[test]
fn too_many_globs_are_refused() {
    let repo = generated(2, 2, "globs");
    let globs: Vec<String> = (0..=MAX_GLOBS).map(|i| format!("*.x{i}")).collect();
    let err = grep(
        &repo,
        &GrepRequest {
            patterns: vec!["def".into()],
            include: globs,
            ..Default::default()
        },
    )
    .unwrap_err();
    invalid_argument(err, &MAX_GLOBS.to_string());
}

#[test]
fn pattern_regex_and_context_caps_are_invalid_arguments() {
    if ran_alone() {
        return;
    }
    let repo = generated(2, 5, "caps");
    let base = GrepRequest {
        patterns: vec!["def".into()],
        ..Default::default()
    };
    let too_many: Vec<String> = (0..=MAX_GREP_PATTERNS).map(|i| format!("w{i}")).collect();
    let err = grep(
        &repo,
        &GrepRequest {
            patterns: too_many,
            ..base.clone()
        },
    )
    .unwrap_err();
    invalid_argument(err, &MAX_GREP_PATTERNS.to_string());

    let regexes: Vec<String> = (0..=MAX_GREP_REGEXES).map(|i| format!("w{i}+")).collect();
    let (r, t) = timed(|| {
        grep(
            &repo,
            &GrepRequest {
                patterns: regexes,
                ..base.clone()
            },
        )
    });
    invalid_argument(r.unwrap_err(), &MAX_GREP_REGEXES.to_string());
    assert!(
        t < Duration::from_secs(1),
        "refused before compiling: CPU {t:?}"
    );
    // At the cap it runs.
    let regexes: Vec<String> = (0..MAX_GREP_REGEXES).map(|i| format!("w{i}+")).collect();
    grep(
        &repo,
        &GrepRequest {
            patterns: regexes,
            ..base.clone()
        },
    )
    .unwrap();

    let err = grep(
        &repo,
        &GrepRequest {
            context: MAX_CONTEXT_LINES + 1,
            ..base.clone()
        },
    )
    .unwrap_err();
    invalid_argument(err, &MAX_CONTEXT_LINES.to_string());
    let ok = grep(
        &repo,
        &GrepRequest {
            context: MAX_CONTEXT_LINES,
            ..base
        },
    )
    .unwrap();
    assert!(!ok.matches[0].after.is_empty());
}

#[test]
fn a_huge_grep_result_is_truncated_under_the_task_cap() {
    // 200,000 matching lines of 100 bytes, all asked for.
    let line = format!("needle {}\n", "x".repeat(92));
    let repo = Repo::from_files([("big.txt", line.repeat(200_000))]).unwrap();
    let req = json!({"pattern": "needle", "max_results": 1_000_000_000u64, "context": 3});
    let bytes = Tool::Grep.run_json(&repo, &req).unwrap();
    assert!(bytes.len() <= MAX_TASK_RESULT_BYTES, "{}", bytes.len());
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["truncated"], true);
    assert!(v["matches"].as_array().unwrap().len() > 1_000);
}

#[test]
fn a_result_over_the_task_cap_fails_the_task() {
    let text = format!("{}\n", "y".repeat(999)).repeat(10_000); // 10 MB
    let repo = Repo::from_files([("big.txt", text)]).unwrap();
    let args = json!({"path": "big.txt", "max_lines": 100_000, "max_line_chars": 100_000});
    invalid_argument(
        Tool::Read.run_json(&repo, &args).unwrap_err(),
        &MAX_TASK_RESULT_BYTES.to_string(),
    );
    invalid_argument(Tool::Read.run_raw(&repo, &args).unwrap_err(), "per task");
}

#[test]
fn plan_results_are_capped_per_run() {
    // Each read returns ~4 MB; 20 of them would be 80 MB.
    let text = format!("{}\n", "z".repeat(999)).repeat(4_000);
    let repo = Arc::new(Repo::from_files([("big.txt", text)]).unwrap());
    let tasks: Vec<_> = (1..=20)
        .map(|id| {
            json!({"id": id, "tool": "read",
                   "args": {"path": "big.txt", "max_lines": 4_000, "max_line_chars": 2_000}})
        })
        .collect();
    let plan = Plan::from_json(&json!({ "tasks": tasks })).unwrap();
    let report = acs_core::execute(repo, &plan);
    let ok = report
        .tasks
        .iter()
        .filter(|t| t.status == Status::Ok)
        .count();
    let kept: usize = report
        .tasks
        .iter()
        .filter_map(|t| t.result.as_ref().map(|r| r.get().len()))
        .sum();
    assert!(kept <= MAX_PLAN_RESULT_BYTES, "{kept}");
    assert!((1..20).contains(&ok), "{ok} tasks kept");
    let failed = report
        .tasks
        .iter()
        .find(|t| t.status == Status::Error)
        .unwrap();
    let e = failed.error.as_ref().unwrap();
    assert_eq!(e.kind, "invalid_argument");
    assert!(e.message.contains("per plan"), "{}", e.message);
}

#[test]
fn spread_fan_out_is_capped() {
    if ran_alone() {
        return;
    }
    // Task 1 finds 2,000 lines; spreading their texts into task 2's patterns is refused.
    let text: String = (0..2_000).map(|i| format!("item_{i} = {i}\n")).collect();
    let repo = Arc::new(Repo::from_files([("a.py", text)]).unwrap());
    let plan = Plan::from_json(&json!({"tasks": [
        {"id": 1, "tool": "grep", "args": {"pattern": "item_", "max_results": 5000}},
        {"id": 2, "tool": "grep", "args": {"patterns": ["$1.matches[*].text"], "fixed_strings": true}},
        {"id": 3, "tool": "grep", "args": {"patterns": ["$1.matches[*].text", "$1.matches[*].path"],
                                            "fixed_strings": true, "max_results": 1}},
    ]}))
    .unwrap();
    let (report, t) = timed(|| acs_core::execute(repo, &plan));
    assert!(t < Duration::from_secs(5), "CPU {t:?}");
    for id in [2, 3] {
        let task = report.tasks.iter().find(|o| o.id == id).unwrap();
        let e = task.error.as_ref().expect("refused");
        assert_eq!(e.kind, "invalid_argument");
        assert!(
            e.message.contains(&MAX_SPREAD_VALUES.to_string()),
            "{}",
            e.message
        );
    }
    // Under the cap a spread works.
    let repo = Arc::new(generated(3, 20, "spread"));
    let plan = Plan::from_json(&json!({"tasks": [
        {"id": 1, "tool": "find_files", "args": {"glob": "*.py"}},
        {"id": 2, "tool": "grep", "args": {"pattern": "def", "paths": ["$1.files[*].path"]}},
    ]}))
    .unwrap();
    let report = acs_core::execute(repo, &plan);
    assert!(report.tasks.iter().all(|t| t.status == Status::Ok));
}

// ---- finding 7: a UTF-8 byte-order mark ------------------------------------------------

fn bom_repo() -> Repo {
    Repo::from_files([(
        "bom.py",
        "\u{feff}ALPHA = 1\nBETA = 2\n\ndef gamma():\n    return BETA\n",
    )])
    .unwrap()
}

#[test]
fn grep_in_a_bom_file_reports_the_right_text_and_context() {
    let repo = bom_repo();
    let r = grep(
        &repo,
        &GrepRequest {
            patterns: vec!["BETA".into(), "^ALPHA".into()],
            context: 1,
            ..Default::default()
        },
    )
    .unwrap();
    let got: Vec<_> = r
        .matches
        .iter()
        .map(|m| (m.pattern, m.line, m.column, m.text.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, 1, 1, "ALPHA = 1"),
            (0, 2, 1, "BETA = 2"),
            (0, 5, 12, "    return BETA"),
        ]
    );
    let beta = &r.matches[1];
    assert_eq!(beta.before, vec!["ALPHA = 1"]);
    assert_eq!(beta.after, vec![""]);
    assert_eq!(r.matches[0].after, vec!["BETA = 2"]);
    assert!(r.matches[0].before.is_empty());
    assert!(r.matches.iter().all(|m| !m.text.contains('\u{feff}')));
}

#[test]
fn references_and_read_in_a_bom_file() {
    let repo = bom_repo();
    let r = references(
        &repo,
        &ReferencesRequest {
            name: "BETA".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let lines: Vec<_> = r.files[0]
        .groups
        .iter()
        .flat_map(|g| g.lines.iter().map(|l| (l.line, l.text.as_str())))
        .collect();
    assert_eq!(lines, vec![(2, "BETA = 2"), (5, "    return BETA")]);
    let whole = read(
        &repo,
        &ReadRequest {
            path: "bom.py".into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(whole.lines[0], "ALPHA = 1");
    assert_eq!(whole.total_lines, 5);
    let body = read(
        &repo,
        &ReadRequest {
            path: "bom.py".into(),
            symbol: Some("gamma".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(body.lines, vec!["def gamma():", "    return BETA"]);
}

// ---- finding 10: cancellation ------------------------------------------------------------

/// Regexes with no literal to skip by: each scans every byte of every file.
fn slow_regexes() -> Vec<String> {
    (0..MAX_GREP_REGEXES)
        .map(|i| format!(r"(?:[a-z]+\s){{3}}[0-9]{{{}}}[A-Z]", 3 + i % 7))
        .collect()
}

/// Eight requests of [`slow_regexes`], fused: far more than a second of work.
fn slow_requests() -> Vec<GrepRequest> {
    let one = GrepRequest {
        patterns: slow_regexes(),
        ..Default::default()
    };
    vec![one; 8]
}

#[test]
fn a_cancelled_grep_stops_promptly() {
    if ran_alone() {
        return;
    }
    let repo = generated(400, 400, "cgrep"); // ~20 MB; 256 scans take far more than a second
    let cancel = Cancel::new();
    let trigger = cancel.clone();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let at = process_cpu();
        trigger.cancel();
        at
    });
    let requests = slow_requests();
    let refs: Vec<&GrepRequest> = requests.iter().collect();
    let results = grep_fused_cancellable(&repo, &refs, &cancel);
    let stopped = process_cpu();
    let cancelled_at = canceller.join().unwrap();
    // Uncancelled, the rest of the scans would take many CPU seconds.
    let after = stopped.saturating_sub(cancelled_at);
    eprintln!("grep spent {after:?} of CPU after the cancel");
    for r in results {
        assert_eq!(r.unwrap_err().kind(), "cancelled");
    }
    assert!(after < Duration::from_secs(1), "CPU {after:?}");
}

#[test]
fn a_deadline_cancels_a_grep() {
    if ran_alone() {
        return;
    }
    let repo = generated(1_500, 400, "dgrep"); // 64 scans of ~33 MB
    let deadline = Instant::now() + Duration::from_millis(200);
    let cancel = Cancel::with_deadline(deadline);
    let at_deadline = process_cpu_at(deadline);
    let requests = slow_requests();
    let r = grep_cancellable(&repo, &requests[0], &cancel);
    let after = process_cpu().saturating_sub(at_deadline.join().unwrap());
    let e = r.unwrap_err();
    assert_eq!(e.kind(), "cancelled");
    assert!(e.to_string().contains("deadline"), "{e}");
    assert!(
        after < Duration::from_secs(1),
        "CPU after the deadline: {after:?}"
    );
}

#[test]
fn a_cancelled_index_build_is_not_kept() {
    if ran_alone() {
        return;
    }
    let repo = generated(1_500, 150, "cindex");
    // Cancelled before it starts.
    let cancel = Cancel::new();
    cancel.cancel();
    assert_eq!(
        repo.try_symbol_index(&cancel).map(drop).unwrap_err().kind(),
        "cancelled"
    );
    assert_eq!(
        repo.index_cancellable(None, &cancel).unwrap_err().kind(),
        "cancelled"
    );
    // With a cache folder: nothing is written to the store for a cancelled build.
    let dir = tempfile::tempdir().unwrap();
    let cache = acs_core::IndexCache::new(dir.path());
    assert_eq!(
        repo.index_cancellable(Some(&cache), &cancel)
            .unwrap_err()
            .kind(),
        "cancelled"
    );
    let written: Vec<_> = walk_files(dir.path());
    assert!(written.is_empty(), "{written:?}");
    // Cancelled in the middle: the build stops early.
    let cancel = Cancel::with_deadline(Instant::now() + Duration::from_millis(30));
    let (r, t) = timed(|| {
        repo.try_bm25_index(acs_core::Bm25Level::Function, &cancel)
            .map(drop)
    });
    assert_eq!(r.unwrap_err().kind(), "cancelled");
    eprintln!("index build stopped after {t:?} of CPU");
    // Nothing partial was kept: the next call builds the whole index.
    let (index, full) = timed(|| repo.symbol_index().len());
    eprintln!("full symbol index build: {full:?} of CPU");
    assert_eq!(index, 1_500 * 15, "a def every ten lines");
    assert!(t < full + Duration::from_millis(500), "{t:?} vs {full:?}");
    let report = repo
        .index_cancellable(Some(&cache), &Cancel::new())
        .unwrap();
    assert_eq!(report.symbols, 1_500 * 15);
    assert!(
        !walk_files(dir.path()).is_empty(),
        "an uncancelled build is saved"
    );
}

#[test]
fn a_cancelled_plan_stops_and_reports_cancelled() {
    if ran_alone() {
        return;
    }
    let repo = Arc::new(generated(400, 400, "cplan"));
    let run = PlanRun::new(repo);
    let tasks: Vec<_> = (1..=8u64)
        .map(|id| {
            acs_core::TaskSpec::from_json(&json!({"id": id, "tool": "grep",
                "args": {"patterns": slow_regexes()}}))
            .unwrap()
        })
        .chain([acs_core::TaskSpec::from_json(
            &json!({"id": 9, "tool": "read", "args": {"path": "$1.matches[0].path"}}),
        )
        .unwrap()])
        .collect();
    run.submit_many(tasks).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let at = process_cpu();
    run.cancel();
    let report = run.wait_all(Some(HANG_LIMIT));
    let after = process_cpu() - at;
    eprintln!("the plan spent {after:?} of CPU after the cancel");
    assert!(report.complete);
    assert!(after < Duration::from_secs(1), "CPU {after:?}");
    for o in &report.tasks[..8] {
        assert_eq!(o.error.as_ref().unwrap().kind, "cancelled", "task {}", o.id);
    }
    assert_eq!(report.tasks[8].status, Status::Skipped);
    // Tasks submitted after the cancel end cancelled at once.
    run.submit(
        acs_core::TaskSpec::from_json(
            &json!({"id": 10, "tool": "find_files", "args": {"glob": "*.py"}}),
        )
        .unwrap(),
    )
    .unwrap();
    let six = run.wait(10, Some(HANG_LIMIT)).unwrap().unwrap();
    assert_eq!(six.error.as_ref().unwrap().kind, "cancelled");
}

#[test]
fn one_result_named_many_times_is_capped_by_the_bytes_it_copies() {
    if ran_alone() {
        return;
    }
    // A 2 kB plan naming a multi-megabyte result 300 times once took 36 s and 8.8 GB.
    let text: String = (0..40_000).map(|i| format!("value_{i} = {i}\n")).collect();
    let repo = Arc::new(Repo::from_files([("a.py", text)]).unwrap());
    let plan = Plan::from_json(&json!({"tasks": [
        {"id": 1, "tool": "grep", "args": {"pattern": "value", "max_results": 40000}},
        {"id": 2, "tool": "grep", "args": {"pattern": "x", "include": vec!["$1"; 300]}},
    ]}))
    .unwrap();
    let (report, t) = timed(|| acs_core::execute(repo, &plan));
    assert!(t < Duration::from_secs(10), "CPU {t:?}");
    let task = report.tasks.iter().find(|o| o.id == 2).unwrap();
    let e = task.error.as_ref().expect("refused");
    assert_eq!(e.kind, "invalid_argument");
    assert!(
        e.message.contains(&MAX_SUBSTITUTED_BYTES.to_string()),
        "{}",
        e.message
    );
}

#[test]
fn an_index_build_cancelled_midway_writes_nothing_to_the_store() {
    // Cancelled while it processes files (a debug build of 1,500 files takes far longer
    // than 2 ms): no record reaches the shared store, and the next build does all the work.
    let repo = generated(1_500, 150, "cmid");
    let dir = tempfile::tempdir().unwrap();
    let cache = acs_core::IndexCache::new(dir.path());
    let cancel = Cancel::with_deadline(Instant::now() + Duration::from_millis(2));
    let err = repo.index_cancellable(Some(&cache), &cancel).unwrap_err();
    assert_eq!(err.kind(), "cancelled");
    let written: Vec<_> = walk_files(dir.path());
    assert!(written.is_empty(), "{written:?}");
    let report = repo
        .index_cancellable(Some(&cache), &Cancel::new())
        .unwrap();
    assert_eq!(
        report.files_disk, 0,
        "nothing of the cancelled build was stored"
    );
    assert_eq!(report.symbols, 1_500 * 15);
}

// ---- issue 20, finding 2: tasks per plan and per run; a pass's memory -----------------

/// CPU time of the calling thread: a refusal happens there, and other work on the machine
/// does not inflate it.
#[cfg(unix)]
#[allow(unsafe_code)] // clock_gettime
fn thread_cpu() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a valid pointer to a timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

fn grep_tasks(ids: std::ops::RangeInclusive<u64>, pattern: &str) -> Vec<serde_json::Value> {
    ids.map(|id| json!({"id": id, "tool": "grep", "args": {"pattern": pattern}}))
        .collect()
}

fn specs(tasks: &[serde_json::Value]) -> Vec<acs_core::TaskSpec> {
    tasks
        .iter()
        .map(|t| acs_core::TaskSpec::from_json(t).unwrap())
        .collect()
}

#[cfg(unix)]
#[test]
fn a_plan_over_the_task_cap_is_refused_before_anything_runs() {
    // 2,000 greps of one letter took 28 s and 4.3 GB; 4,000 aborted the process.
    let plan = json!({ "tasks": grep_tasks(1..=2_000, "a") });
    let before = thread_cpu();
    let err = Plan::from_json(&plan).unwrap_err();
    let spent = thread_cpu() - before;
    assert_eq!(err.kind(), "invalid_plan");
    let m = err.to_string();
    assert!(
        m.contains("2000 tasks")
            && m.contains(&MAX_PLAN_TASKS.to_string())
            && m.contains("tasks per plan"),
        "{m}"
    );
    // Counted before any task is parsed: far under what parsing them all costs.
    assert!(spent < Duration::from_millis(100), "{spent:?}");
    // One batch submitted to a run is refused whole: nothing of it runs.
    let run = PlanRun::new(Arc::new(generated(3, 20, "cap")));
    let over = specs(&grep_tasks(1..=MAX_PLAN_TASKS as u64 + 1, "a"));
    assert_eq!(run.submit_many(over).unwrap_err().kind(), "invalid_plan");
    assert!(run.snapshot().tasks.is_empty());
}

#[test]
fn a_plan_at_the_task_cap_runs_as_one_pass_with_whole_results() {
    // Every line holds an `a`: each of the 256 fused greps still gets exactly what it gets
    // alone (the pass keeps at most max_results lines per pattern and file, no more).
    let repo = Arc::new(generated(300, 100, "atcap"));
    let plan =
        Plan::from_json(&json!({ "tasks": grep_tasks(1..=MAX_PLAN_TASKS as u64, "a") })).unwrap();
    let report = acs_core::execute(repo.clone(), &plan);
    // How many files a pass read before every result was full depends on its steps.
    let comparable = |mut v: serde_json::Value| {
        v.as_object_mut().unwrap().remove("files_searched");
        v
    };
    let alone = serde_json::to_value(grep(&repo, &GrepRequest::new("a")).unwrap()).unwrap();
    let alone = comparable(alone);
    assert_eq!(alone["counts"], json!([200]));
    assert_eq!(alone["truncated"], json!(true));
    assert_eq!(report.tasks.len(), MAX_PLAN_TASKS);
    for t in &report.tasks {
        assert_eq!(t.status, Status::Ok, "{:?}", t.error);
        assert_eq!(t.fused, MAX_PLAN_TASKS);
        let result = serde_json::from_str(t.result.as_ref().unwrap().get()).unwrap();
        assert!(comparable(result) == alone, "task {} differs", t.id);
    }
}

#[test]
fn a_run_takes_at_most_max_run_tasks() {
    let repo = Arc::new(Repo::from_files([("a.py", "x = 1\n")]).unwrap());
    let run = PlanRun::new(repo);
    let reads = |ids: std::ops::Range<u64>| -> Vec<serde_json::Value> {
        ids.map(|id| json!({"id": id, "tool": "read", "args": {"path": "a.py"}}))
            .collect()
    };
    let per_batch = MAX_PLAN_TASKS as u64;
    for batch in 0..MAX_RUN_TASKS as u64 / per_batch {
        let first = batch * per_batch + 1;
        run.submit_many(specs(&reads(first..first + per_batch)))
            .unwrap();
    }
    let next = MAX_RUN_TASKS as u64 + 1;
    let err = run.submit_many(specs(&reads(next..next + 1))).unwrap_err();
    let m = err.to_string();
    assert!(
        m.contains(&MAX_RUN_TASKS.to_string()) && m.contains("tasks per run"),
        "{m}"
    );
    // Only a hang reaches this bound.
    let report = run.wait_all(Some(Duration::from_secs(600)));
    assert!(report.complete);
    assert_eq!(report.tasks.len(), MAX_RUN_TASKS);
    assert!(report.tasks.iter().all(|t| t.status == Status::Ok));
}

#[test]
fn streamed_greps_wait_for_a_slot_and_share_a_pass() {
    // Submitted one at a time, faster than they run. Before, each became a job of its own
    // at once, and rayon workers waiting inside one job's loop started the others on top of
    // it: every grep was in flight, each holding its scan's matches. Now a few jobs of a run
    // run at once, and the greps that wait together share one pass.
    let repo = Arc::new(generated(1_000, 50, "stream"));
    let run = PlanRun::new(repo);
    for id in 1..=200u64 {
        let task = json!({"id": id, "tool": "grep", "args": {"pattern": format!("value_{id}")}});
        run.submit(acs_core::TaskSpec::from_json(&task).unwrap())
            .unwrap();
    }
    let report = run.wait_all(Some(Duration::from_secs(600)));
    assert!(report.complete);
    assert!(report.tasks.iter().all(|t| t.status == Status::Ok));
    let widest = report.tasks.iter().map(|t| t.fused).max().unwrap();
    assert!(widest > 1, "no grep waited for a slot");
}

#[test]
fn a_pattern_past_its_cap_does_not_hide_another_in_the_same_file() {
    // A fused pass keeps at most max_results lines per pattern and file: the rare pattern
    // after 5,000 lines of the common one is still found, and only the common one is cut.
    let mut text: String = (0..5_000).map(|i| format!("common {i}\n")).collect();
    text.push_str("rare\n");
    let repo = Repo::from_files([("a.txt", text)]).unwrap();
    let common = GrepRequest {
        max_results: 3,
        ..GrepRequest::new("common")
    };
    let rare = GrepRequest::new("rare");
    let both = grep_fused_cancellable(&repo, &[&common, &rare], &Cancel::new());
    let (common, rare) = (both[0].as_ref().unwrap(), both[1].as_ref().unwrap());
    assert_eq!((common.counts.clone(), common.truncated), (vec![3], true));
    assert_eq!((rare.counts.clone(), rare.truncated), (vec![1], false));
    assert_eq!(rare.matches[0].line, 5_001);
    // Exactly max_results matching lines is a whole result.
    let exact = GrepRequest {
        max_results: 1,
        ..GrepRequest::new("rare")
    };
    assert!(!grep(&repo, &exact).unwrap().truncated);
}

// ---- issue 20: errors echo a short prefix of their input ------------------------------

#[test]
fn errors_quote_a_short_prefix_of_a_huge_input() {
    let repo = Arc::new(generated(2, 10, "echo"));
    let huge = "x".repeat(10 << 20);
    let pattern = format!("({huge}");
    let e = grep(&repo, &GrepRequest::new(pattern)).unwrap_err();
    assert_eq!(e.kind(), "invalid_pattern");
    let read_missing = ReadRequest {
        path: huge.clone(),
        ..Default::default()
    };
    let missing = read(&repo, &read_missing).unwrap_err();
    let tool = Plan::from_json(&json!([{ "id": 1, "tool": huge.clone() }])).unwrap_err();
    let field = Plan::from_json(&json!([{ "id": 1, "tool": "grep", "args": { huge.clone(): 1 } }]))
        .unwrap_err();
    for e in [e, missing, tool, field] {
        let m = e.to_string();
        assert!(m.len() < 2_000, "{} bytes: {}", m.len(), &m[..200]);
        assert!(m.contains("bytes)"), "{m}");
    }
}
