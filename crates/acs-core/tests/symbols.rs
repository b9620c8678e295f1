//! Symbols, outlines, reads by definition and references, over tree-sitter parses.

mod common;

use acs_core::SymbolIndex;
use acs_core::{
    outline, read, references, symbols, Error, MatchMode, OutlineRequest, ReadRequest,
    ReferencesRequest, Repo, SourceOptions, Store, SymbolKind, SymbolRequest,
};
use common::*;

const MODELS: &str = "\
import os


class User:
    \"\"\"A user.\"\"\"

    @property
    def name(self):
        return self._name

    def save(self, db):
        def validate():
            return True
        db.write(self)


def load_user(path):
    return User()
";

fn repo() -> Repo {
    Repo::from_files([
        ("app/models.py", MODELS),
        ("app/views.py", "from app.models import User, load_user\n\ndef show(user):\n    user.save(None)\n    return load_user('x')\n"),
        ("web/client.ts", "export class ApiClient {\n  fetchUser(id: string) {\n    return id;\n  }\n}\n"),
        ("svc/main.go", "package main\n\ntype Server struct{}\n\nfunc (s *Server) Start() error {\n\treturn nil\n}\n"),
    ])
    .unwrap()
}

fn names(r: &acs_core::SymbolResult) -> Vec<String> {
    r.symbols
        .iter()
        .map(|s| {
            let d = &s.definition;
            format!(
                "{}:{}:{}-{}",
                d.path, d.qualified_name, d.start_line, d.end_line
            )
        })
        .collect()
}

#[test]
fn exact_lookup_by_bare_or_qualified_name() {
    let repo = repo();
    assert_eq!(
        names(&symbols(&repo, &SymbolRequest::exact("save")).unwrap()),
        ["app/models.py:User.save:11-14"]
    );
    assert_eq!(
        names(&symbols(&repo, &SymbolRequest::exact("User.name")).unwrap()),
        ["app/models.py:User.name:7-9"]
    );
    let go = symbols(&repo, &SymbolRequest::exact("Server.Start")).unwrap();
    assert_eq!(go.symbols[0].definition.kind, SymbolKind::Method);
    let ts = symbols(&repo, &SymbolRequest::exact("ApiClient.fetchUser")).unwrap();
    assert_eq!(names(&ts), ["web/client.ts:ApiClient.fetchUser:2-4"]);
}

#[test]
fn prefix_and_regex_lookups_with_filters() {
    let repo = repo();
    let prefix = SymbolRequest {
        name: "LOAD".into(),
        mode: MatchMode::Prefix,
        ignore_case: true,
        ..Default::default()
    };
    assert_eq!(
        names(&symbols(&repo, &prefix).unwrap()),
        ["app/models.py:load_user:17-18"]
    );
    let classes = SymbolRequest {
        name: "^[A-Z]".into(),
        mode: MatchMode::Regex,
        kinds: Some(vec![SymbolKind::Class]),
        ..Default::default()
    };
    assert_eq!(
        names(&symbols(&repo, &classes).unwrap()),
        ["app/models.py:User:4-14", "web/client.ts:ApiClient:1-5"]
    );
    let only_py = SymbolRequest {
        include: vec!["*.py".into()],
        ..SymbolRequest::exact("show")
    };
    assert_eq!(symbols(&repo, &only_py).unwrap().total, 1);
}

#[test]
fn outline_nests_methods_and_inner_functions() {
    let o = outline(
        &repo(),
        &OutlineRequest {
            path: "app/models.py".into(),
        },
    )
    .unwrap();
    let top: Vec<&str> = o
        .symbols
        .iter()
        .map(|n| n.definition.name.as_str())
        .collect();
    assert_eq!(top, ["User", "load_user"]);
    let methods: Vec<&str> = o.symbols[0]
        .children
        .iter()
        .map(|n| n.definition.name.as_str())
        .collect();
    assert_eq!(methods, ["name", "save"]);
    let validate = &o.symbols[0].children[1].children[0].definition;
    assert_eq!(
        (validate.qualified_name.as_str(), &*validate.path),
        ("User.save.validate", "app/models.py")
    );
    assert_eq!(o.line_count, 18);
}

#[test]
fn read_a_definition_by_name() {
    let repo = repo();
    let r = read(
        &repo,
        &ReadRequest {
            path: "app/models.py".into(),
            symbol: Some("User.save".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!((r.start_line, r.end_line), (11, 14));
    assert_eq!(r.lines[0], "    def save(self, db):");
    let unique_bare = ReadRequest {
        path: "app/models.py".into(),
        symbol: Some("load_user".into()),
        ..Default::default()
    };
    assert_eq!(read(&repo, &unique_bare).unwrap().start_line, 17);
    let missing = ReadRequest {
        path: "app/models.py".into(),
        symbol: Some("User.delete".into()),
        ..Default::default()
    };
    assert!(matches!(
        read(&repo, &missing),
        Err(Error::SymbolNotFound { .. })
    ));
}

/// (enclosing definition, line numbers)
type Group = (Option<String>, Vec<u64>);

#[test]
fn references_are_grouped_by_enclosing_definition() {
    let r = references(
        &repo(),
        &ReferencesRequest {
            name: "User".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let summary: Vec<(String, Vec<Group>)> = r
        .files
        .iter()
        .map(|f| {
            (
                f.path.to_string(),
                f.groups
                    .iter()
                    .map(|g| {
                        let name = g.enclosing.as_ref().map(|d| d.qualified_name.clone());
                        (name, g.lines.iter().map(|l| l.line).collect())
                    })
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "app/models.py".to_string(),
                vec![
                    (Some("User".to_string()), vec![4]),
                    (Some("load_user".to_string()), vec![18])
                ]
            ),
            ("app/views.py".to_string(), vec![(None, vec![1])]),
        ]
    );
}

#[test]
fn a_file_is_parsed_once_across_commits() {
    let (dir, ids) = git_repo(&[
        vec![
            ("a.py", Some("def a():\n    pass\n")),
            ("b.py", Some("def b():\n    pass\n")),
        ],
        vec![("b.py", Some("def b2():\n    pass\n"))],
    ]);
    let store = Store::new(1 << 24, 1 << 24);
    let first = Repo::open_git_in(dir.path(), &ids[0], &SourceOptions::default(), &store).unwrap();
    SymbolIndex::build(&first, &store);
    assert_eq!(store.usage().1 .0, 2);
    let second = Repo::open_git_in(dir.path(), &ids[1], &SourceOptions::default(), &store).unwrap();
    let index = SymbolIndex::build(&second, &store);
    assert_eq!(
        store.usage().1 .0,
        3,
        "only the changed b.py is parsed again"
    );
    assert_eq!(index.len(), 2);
}

#[test]
fn files_in_unsupported_languages_have_no_symbols_but_stay_searchable() {
    let repo = Repo::from_files([
        ("notes.md", "# def fake():\n"),
        ("x.py", "def real():\n    pass\n"),
    ])
    .unwrap();
    assert_eq!(
        symbols(&repo, &SymbolRequest::exact("fake")).unwrap().total,
        0
    );
    assert!(outline(
        &repo,
        &OutlineRequest {
            path: "notes.md".into()
        }
    )
    .unwrap()
    .symbols
    .is_empty());
    assert_eq!(
        symbols(&repo, &SymbolRequest::exact("real")).unwrap().total,
        1
    );
}

#[test]
fn prefix_matches_come_shortest_first_and_respect_the_limit() {
    let repo = Repo::from_files([
        ("a.py", "def load_everything():\n    pass\n"),
        ("b.py", "def loader():\n    pass\n"),
        ("c.py", "def load():\n    pass\n"),
        ("d.py", "def unload():\n    pass\n"),
    ])
    .unwrap();
    let req = SymbolRequest {
        name: "load".into(),
        mode: MatchMode::Prefix,
        limit: 2,
        ..Default::default()
    };
    let found = symbols(&repo, &req).unwrap();
    assert_eq!(found.total, 3);
    let got: Vec<&str> = found
        .symbols
        .iter()
        .map(|s| s.definition.name.as_str())
        .collect();
    assert_eq!(got, ["load", "loader"]);
}

#[test]
fn pathological_nesting_is_indexed_without_overflowing_a_stack() {
    // tree-sitter's error recovery recurses per input byte on these; 200 KB of them would
    // overflow an ordinary 2 MiB thread stack.
    let repo = Repo::from_files([
        ("Deep.java", "{(".repeat(100_000)),
        ("deep.tsx", "<T>(".repeat(50_000)),
        ("ok.py", "def fine():\n    pass\n".to_string()),
    ])
    .unwrap();
    assert_eq!(
        symbols(&repo, &SymbolRequest::exact("fine")).unwrap().total,
        1
    );
}

#[test]
fn fuzzy_lookup_finds_misspelled_names_closest_first() {
    let repo = Repo::from_files([(
        "a.py",
        "def load_settings():\n    pass\ndef load_setting():\n    pass\ndef save_settings():\n    pass\ndef run():\n    pass\n",
    )])
    .unwrap();
    let req = |name: &str| SymbolRequest {
        name: name.into(),
        mode: MatchMode::Fuzzy,
        ..Default::default()
    };
    let found = symbols(&repo, &req("load_setings")).unwrap();
    let names: Vec<&str> = found
        .symbols
        .iter()
        .map(|s| s.definition.name.as_str())
        .collect();
    assert_eq!(names, ["load_settings", "load_setting"]); // one edit, then two
    assert_eq!(
        symbols(&repo, &req("Load_Settings")).unwrap().symbols[0]
            .definition
            .name,
        "load_settings"
    );
    assert_eq!(symbols(&repo, &req("rnu")).unwrap().total, 0); // short names allow one edit only
    assert_eq!(
        symbols(&repo, &req("rum")).unwrap().symbols[0]
            .definition
            .name,
        "run"
    );
}

#[test]
fn reference_groups_carry_the_enclosing_definitions_lines() {
    let r = references(
        &repo(),
        &ReferencesRequest {
            name: "load_user".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let spans: Vec<_> = r
        .files
        .iter()
        .flat_map(|f| f.groups.iter().map(move |g| (&*f.path, g)))
        .map(|(p, g)| {
            let d = g.enclosing.as_ref();
            let span = d.map(|d| (d.qualified_name.as_str(), d.kind, d.start_line, d.end_line));
            assert!(
                d.is_none_or(|d| *d.path == *p),
                "a group's definition is in its file"
            );
            (p, span)
        })
        .collect();
    assert_eq!(
        spans,
        [
            (
                "app/models.py",
                Some(("load_user", SymbolKind::Function, 17, 18))
            ),
            ("app/views.py", None),
            ("app/views.py", Some(("show", SymbolKind::Function, 3, 5))),
        ]
    );
}

#[test]
fn grep_can_name_the_definition_around_each_match() {
    let req = acs_core::GrepRequest {
        enclosing: true,
        ..acs_core::GrepRequest::new("db.write")
    };
    let found = acs_core::grep(&repo(), &req).unwrap();
    let e = found.matches[0].enclosing.as_ref().unwrap();
    assert_eq!(
        (e.name.as_str(), e.qualified_name.as_str(), &*e.path),
        ("save", "User.save", "app/models.py")
    );
    assert_eq!(
        (e.kind, e.start_line, e.end_line),
        (SymbolKind::Method, 11, 14)
    );
    let plain = acs_core::grep(&repo(), &acs_core::GrepRequest::new("db.write")).unwrap();
    assert_eq!(plain.matches[0].enclosing, None);
}

#[test]
fn python_definitions_come_from_the_scanner_and_damaged_files_from_tree_sitter() {
    use acs_core::Lang;
    use acs_core::{definitions, extract_symbols, scan_python};
    // Well-formed: the scanner's answer, which is tree-sitter's.
    let fine = MODELS.as_bytes();
    assert_eq!(definitions(Lang::Python, fine), scan_python(fine));
    assert_eq!(
        definitions(Lang::Python, fine),
        extract_symbols(Lang::Python, fine)
    );
    // An unclosed bracket: the scanner would read the rest of the file as one line;
    // tree-sitter's error recovery reads it otherwise, and its answer is the one kept.
    let damaged = b"def broken(x:\n    pass\n\ndef after():\n    pass\n";
    let names = |d: Vec<acs_core::SymbolDef>| d.into_iter().map(|d| d.name).collect::<Vec<_>>();
    assert_eq!(
        names(definitions(Lang::Python, damaged)),
        names(extract_symbols(Lang::Python, damaged))
    );
    assert_ne!(
        names(scan_python(damaged)),
        names(extract_symbols(Lang::Python, damaged)),
        "{:?}",
        names(scan_python(damaged))
    );
    // Too large for tree-sitter's budget: the scanner's answer is kept, and fast.
    let mut huge = b"def broken(x:\n".to_vec();
    huge.extend(std::iter::repeat_n(b"    call(1, 2)\n".as_slice(), 80_000).flatten());
    assert!(huge.len() > 1 << 20);
    assert_eq!(definitions(Lang::Python, &huge), scan_python(&huge));
}

#[test]
fn an_index_build_counts_what_read_each_files_definitions() {
    // Contents unique to this test: the process-wide parse cache must not have them.
    let mut huge = b"def counted_huge(x:\n".to_vec();
    huge.extend(std::iter::repeat_n(b"    call(1, 2)\n".as_slice(), 80_000).flatten());
    let repo = Repo::from_files([
        ("fine.py", b"def counted_fine():\n    pass\n".to_vec()),
        ("broken.py", b"def counted_broken(x:\n    pass\n".to_vec()),
        ("web.js", b"function countedWeb() {}\n".to_vec()),
        ("huge.py", huge),
        ("notes.txt", b"no language\n".to_vec()),
    ])
    .unwrap();
    let report = repo.index(None);
    assert_eq!(report.files_processed, 5);
    let parsed = report.parsed;
    assert_eq!(
        (parsed.scanner, parsed.tree_sitter, parsed.over_budget),
        (1, 2, 1),
        "{parsed:?}"
    );
}
