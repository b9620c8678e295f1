//! grep: what it matches, how matches are attributed, and how bad input fails.

use acs_core::{grep, grep_fused, CaseMode, Error, GrepRequest, Repo};

fn repo() -> Repo {
    Repo::from_files([
        (
            "src/app.py",
            "import os\nclass Config:\n    def load(self):\n        return os.environ\n",
        ),
        (
            "src/util.py",
            "def load_all():\n    pass\n# TODO: config loader\n",
        ),
        (
            "tests/test_app.py",
            "from src.app import Config\ndef test_load():\n    Config().load()\n",
        ),
        ("docs/guide.md", "Call `Config.load()` to read CONFIG.\n"),
    ])
    .unwrap()
}

fn lines(r: &acs_core::GrepResult) -> Vec<String> {
    r.matches
        .iter()
        .map(|m| format!("{}:{}:{}", m.pattern, m.path, m.line))
        .collect()
}

#[test]
fn several_patterns_in_one_request_are_attributed_to_their_pattern() {
    let r = grep(
        &repo(),
        &GrepRequest {
            patterns: vec!["class Config".into(), "TODO".into()],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(lines(&r), ["0:src/app.py:2", "1:src/util.py:3"]);
    assert_eq!(r.counts, [1, 1]);
}

#[test]
fn a_line_matching_two_patterns_counts_for_both() {
    let r = grep(
        &repo(),
        &GrepRequest {
            patterns: vec!["Config".into(), "load".into()],
            ..Default::default()
        },
    )
    .unwrap();
    assert!(lines(&r).contains(&"0:tests/test_app.py:3".into()));
    assert!(lines(&r).contains(&"1:tests/test_app.py:3".into()));
}

#[test]
fn case_modes_follow_ripgrep() {
    let count = |p: &str, case| {
        grep(
            &repo(),
            &GrepRequest {
                case,
                ..GrepRequest::new(p)
            },
        )
        .unwrap()
        .matches
        .len()
    };
    assert_eq!(count("config", CaseMode::Sensitive), 1); // only "config loader"
    assert_eq!(count("config", CaseMode::Insensitive), 5);
    assert_eq!(count("config", CaseMode::Smart), 5); // lower case: insensitive
    assert_eq!(count("CONFIG", CaseMode::Smart), 1); // upper case: sensitive
}

#[test]
fn whole_words_and_fixed_strings() {
    let r = grep(
        &repo(),
        &GrepRequest {
            word: true,
            ..GrepRequest::new("load")
        },
    )
    .unwrap();
    assert_eq!(
        lines(&r),
        [
            "0:docs/guide.md:1",
            "0:src/app.py:3",
            "0:tests/test_app.py:3"
        ]
    );
    let r = grep(
        &repo(),
        &GrepRequest {
            fixed_strings: true,
            ..GrepRequest::new("Config.load()")
        },
    )
    .unwrap();
    assert_eq!(lines(&r), ["0:docs/guide.md:1"]);
}

#[test]
fn globs_and_paths_restrict_the_files() {
    let only_py = GrepRequest {
        include: vec!["*.py".into()],
        exclude: vec!["tests/**".into()],
        ..GrepRequest::new("Config")
    };
    assert_eq!(lines(&grep(&repo(), &only_py).unwrap()), ["0:src/app.py:2"]);
    let under = GrepRequest {
        paths: vec!["tests".into()],
        ..GrepRequest::new("Config")
    };
    assert_eq!(grep(&repo(), &under).unwrap().files.len(), 1);
    let outside = GrepRequest {
        paths: vec!["../etc".into()],
        ..GrepRequest::new("x")
    };
    assert!(matches!(
        grep(&repo(), &outside),
        Err(Error::PathOutsideRepo { .. })
    ));
    let missing = GrepRequest {
        paths: vec!["nope".into()],
        ..GrepRequest::new("x")
    };
    assert!(matches!(
        grep(&repo(), &missing),
        Err(Error::FileNotFound { .. })
    ));
}

#[test]
fn context_lines_come_with_each_match() {
    let r = grep(
        &repo(),
        &GrepRequest {
            context: 1,
            ..GrepRequest::new("def load\\(")
        },
    )
    .unwrap();
    let m = &r.matches[0];
    assert_eq!((m.line, m.column), (3, 5));
    assert_eq!(m.before, ["class Config:"]);
    assert_eq!(m.after, ["        return os.environ"]);
}

#[test]
fn results_are_capped_per_pattern_and_say_so() {
    let many = Repo::from_files((0..2000).map(|i| (format!("f{i:04}.txt"), "hit\nhit\n"))).unwrap();
    let r = grep(
        &many,
        &GrepRequest {
            max_results: 10,
            ..GrepRequest::new("hit")
        },
    )
    .unwrap();
    assert_eq!(r.matches.len(), 10);
    assert!(r.truncated);
    assert!(
        r.files_searched < 2000,
        "stops early, searched {}",
        r.files_searched
    );
    assert_eq!(r.files[0].path.as_ref(), "f0000.txt");
}

#[test]
fn an_invalid_regex_is_an_invalid_pattern_error() {
    for bad in ["(unclosed", "a{2,1}", "[z-a]"] {
        let err = grep(&repo(), &GrepRequest::new(bad)).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidPattern { pattern, .. } if pattern == bad),
            "{err}"
        );
        // One line about the caller's pattern: no caret drawing, no internal `(?:` wrapper.
        let message = err.to_string();
        assert!(
            !message.contains('\n') && !message.contains("(?:"),
            "{message}"
        );
    }
}

#[test]
fn a_huge_line_is_clipped_around_the_match() {
    let mut line = "x".repeat(1_000_000);
    line.push_str("NEEDLE");
    line.push_str(&"y".repeat(1000));
    let r = grep(
        &Repo::from_files([("min.js", line)]).unwrap(),
        &GrepRequest::new("NEEDLE"),
    )
    .unwrap();
    let text = &r.matches[0].text;
    assert!(
        text.contains("NEEDLE") && text.chars().count() <= 302,
        "{}",
        text.len()
    );
    assert_eq!(r.matches[0].column, 1_000_001);
}

#[test]
fn fused_requests_equal_separate_requests_and_fail_alone() {
    let repo = repo();
    let reqs = [
        GrepRequest {
            include: vec!["*.py".into()],
            ..GrepRequest::new("load")
        },
        GrepRequest {
            case: CaseMode::Insensitive,
            word: true,
            ..GrepRequest::new("config")
        },
        GrepRequest::new("(bad"),
        GrepRequest {
            fixed_strings: true,
            ..GrepRequest::new("os.environ")
        },
    ];
    let fused = grep_fused(&repo, &reqs.iter().collect::<Vec<_>>());
    for (req, got) in reqs.iter().zip(&fused) {
        match (grep(&repo, req), got) {
            (Ok(alone), Ok(together)) => assert_eq!(alone.matches, together.matches),
            (Err(a), Err(b)) => assert_eq!(&a, b),
            (a, b) => panic!("{a:?} vs {b:?}"),
        }
    }
}

#[test]
fn every_mix_of_literal_and_regex_patterns_is_searched() {
    let repo = repo();
    // Literals share a scan only when there are two or more; each regex scans alone.
    for patterns in [
        vec!["def lo+ad", "TODO"],
        vec!["TODO", "def lo+ad"],
        vec!["def lo+ad", "TODO", "import"],
        vec!["TODO"],
        vec!["c.nfig", "Config", "cl[a]ss"],
    ] {
        let fused = GrepRequest {
            patterns: patterns.iter().map(|p| p.to_string()).collect(),
            ..Default::default()
        };
        let together = grep(&repo, &fused).unwrap();
        for (i, p) in patterns.iter().enumerate() {
            let alone = grep(&repo, &GrepRequest::new(*p)).unwrap();
            let mine: Vec<_> = together
                .matches
                .iter()
                .filter(|m| m.pattern == i)
                .map(|m| (&m.path, m.line))
                .collect();
            let theirs: Vec<_> = alone.matches.iter().map(|m| (&m.path, m.line)).collect();
            assert_eq!(mine, theirs, "{patterns:?}: {p}");
            assert!(!theirs.is_empty(), "{p} should match something");
        }
    }
}
