//! The Python import graph of a snapshot: for each file, the repository files its `import`
//! and `from ... import` statements name, and the reverse. Built once per [`Repo`](crate::Repo)
//! on first use (a scan of the Python files' statement starts, no parse), read by the
//! `imports` tool.
//!
//! A module name resolves to a file by its dotted path from the repository root
//! (`pkg/sub/mod.py` is `pkg.sub.mod`, `pkg/__init__.py` is `pkg`) and from the top of its
//! package (the highest folder chain with `__init__.py`: `src/pkg/mod.py` is also `pkg.mod`);
//! relative imports resolve against the importing file's package. `from M import n` names
//! the file of `M.n` when that is a module, else the file of `M`; `import a.b.c` names the
//! longest prefix that is a file. Names outside the repository (the standard library,
//! dependencies) resolve to nothing.

use crate::snapshot::Snapshot;
use rustc_hash::{FxHashMap, FxHashSet};

/// One file another imports, with the module name as written (relative ones resolved).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Import {
    /// The imported file's index in the snapshot.
    pub(crate) file: u32,
    /// The dotted module name that named it.
    pub(crate) module: String,
}

/// Which files each Python file imports, and which files import it.
#[derive(Debug, Default)]
pub(crate) struct ImportGraph {
    imports: Vec<Vec<Import>>,
    imported_by: Vec<Vec<u32>>,
}

impl ImportGraph {
    /// The graph of `snapshot`'s Python files.
    pub(crate) fn build(snapshot: &Snapshot) -> ImportGraph {
        let files = snapshot.files();
        let modules = ModuleMap::new(snapshot);
        // Each file's statements are scanned and resolved on the build pool (the files are
        // independent); the reverse edges are assembled after, in file order.
        let imports: Vec<Vec<Import>> = crate::pool::build_map(files, |i, f| {
            if !is_python(&f.path) {
                return Vec::new();
            }
            let package = modules.package_of(&f.path);
            let mut seen = FxHashSet::default();
            let mut found = Vec::new();
            for statement in statements(&f.content) {
                for (module, file) in modules.resolve(&statement, &package) {
                    if file as usize != i && seen.insert(file) {
                        found.push(Import { file, module });
                    }
                }
            }
            found.sort_by_key(|imp| imp.file);
            found
        });
        let mut imported_by: Vec<Vec<u32>> = vec![Vec::new(); files.len()];
        for (i, found) in imports.iter().enumerate() {
            for imp in found {
                imported_by[imp.file as usize].push(i as u32);
            }
        }
        ImportGraph {
            imports,
            imported_by,
        }
    }

    /// The files file `i` imports, in path order.
    pub(crate) fn imports(&self, i: usize) -> &[Import] {
        self.imports.get(i).map_or(&[], Vec::as_slice)
    }

    /// The files that import file `i`, in path order.
    pub(crate) fn imported_by(&self, i: usize) -> &[u32] {
        self.imported_by.get(i).map_or(&[], Vec::as_slice)
    }
}

fn is_python(path: &str) -> bool {
    path.ends_with(".py") || path.ends_with(".pyi")
}

/// Dotted module names to file indexes.
struct ModuleMap {
    by_name: FxHashMap<String, u32>,
    /// Folders that hold an `__init__.py` (a regular package).
    packages: FxHashSet<String>,
}

impl ModuleMap {
    fn new(snapshot: &Snapshot) -> ModuleMap {
        let files = snapshot.files();
        let packages: FxHashSet<String> = files
            .iter()
            .filter_map(|f| f.path.strip_suffix("/__init__.py").map(str::to_string))
            .collect();
        let mut map = ModuleMap {
            by_name: FxHashMap::default(),
            packages,
        };
        // Files come sorted by path, and a name keeps its first file: a `.py` before its
        // `.pyi` stub, a shallower path before a deeper one of the same name.
        for (i, f) in files.iter().enumerate() {
            if !is_python(&f.path) {
                continue;
            }
            let parts = module_parts(&f.path);
            if parts.is_empty() {
                continue;
            }
            let from_root = parts.join(".");
            let from_package = map.package_name(&f.path).join(".");
            for name in [from_root, from_package] {
                if !name.is_empty() {
                    map.by_name.entry(name).or_insert(i as u32);
                }
            }
        }
        map
    }

    /// The module name of `path` from the top of its package chain (`src/pkg/mod.py`, with
    /// `src/pkg/__init__.py`, is `["pkg", "mod"]`); a file outside any package is its stem.
    fn package_name<'p>(&self, path: &'p str) -> Vec<&'p str> {
        let parts = module_parts(path);
        let folders: Vec<&str> = path.split('/').collect();
        let folders = &folders[..folders.len() - 1];
        // How many of the innermost folders are packages, counted outwards.
        let mut depth = 0;
        while depth < folders.len()
            && self
                .packages
                .contains(&folders[..folders.len() - depth].join("/"))
        {
            depth += 1;
        }
        let is_init = path.ends_with("/__init__.py") || path == "__init__.py";
        let keep = depth + usize::from(!is_init);
        parts[parts.len().saturating_sub(keep)..].to_vec()
    }

    /// The package a file's relative imports start from: its package name less the module
    /// itself (a package's `__init__` is its own package).
    fn package_of(&self, path: &str) -> Vec<String> {
        let mut name: Vec<String> = self
            .package_name(path)
            .into_iter()
            .map(str::to_string)
            .collect();
        if !(path.ends_with("/__init__.py") || path == "__init__.py") {
            name.pop();
        }
        name
    }

    fn get(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }

    /// The files a statement names, each with the module name that named it.
    fn resolve(&self, statement: &Statement, package: &[String]) -> Vec<(String, u32)> {
        let base = match statement.level {
            0 => statement.module.clone(),
            level => {
                let Some(keep) = package.len().checked_sub(level - 1) else {
                    return Vec::new(); // above the top package
                };
                let mut parts = package[..keep].to_vec();
                if !statement.module.is_empty() {
                    parts.push(statement.module.clone());
                }
                parts.join(".")
            }
        };
        let mut out = Vec::new();
        if statement.names.is_empty() {
            // `import a.b.c`: the longest prefix that is a module of the repository.
            let mut name = base.as_str();
            loop {
                if let Some(f) = self.get(name) {
                    out.push((name.to_string(), f));
                    break;
                }
                match name.rfind('.') {
                    Some(dot) => name = &name[..dot],
                    None => break,
                }
            }
            return out;
        }
        let mut whole = false;
        for n in &statement.names {
            let full = if base.is_empty() {
                n.clone()
            } else {
                format!("{base}.{n}")
            };
            match self.get(&full) {
                Some(f) => out.push((full, f)),
                None => whole = true,
            }
        }
        if whole && !base.is_empty() {
            if let Some(f) = self.get(&base) {
                out.push((base, f));
            }
        }
        out
    }
}

/// `pkg/sub/mod.py` -> `["pkg", "sub", "mod"]`; `pkg/__init__.py` -> `["pkg"]`.
fn module_parts(path: &str) -> Vec<&str> {
    let stem = path
        .strip_suffix(".pyi")
        .or_else(|| path.strip_suffix(".py"))
        .unwrap_or(path);
    let mut parts: Vec<&str> = stem.split('/').collect();
    if parts.last() == Some(&"__init__") {
        parts.pop();
    }
    parts
}

/// One import statement: `from` + dots (`level`) + `module` + `names`, or `import module`
/// (no names; one statement per comma-separated module).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Statement {
    level: usize,
    module: String,
    names: Vec<String>,
}

/// The import statements of a Python source: lines whose statement starts with `import` or
/// `from`, at any indentation, outside triple-quoted strings; parenthesised and
/// backslash-continued name lists followed to their end. Read as bytes (the keywords and
/// quotes are ASCII): only a statement's own lines are decoded, so a file is never
/// validated whole, and a line is searched for triple quotes only when it has a quote.
fn statements(source: &[u8]) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut in_string: Option<&[u8]> = None;
    let mut lines = source_lines(source);
    while let Some(line) = lines.next() {
        if let Some(quote) = in_string {
            if count(line, quote) % 2 == 1 {
                in_string = None;
            }
            continue;
        }
        let code = trim_start(line);
        let starts = code.starts_with(b"import ") || code.starts_with(b"from ");
        if !starts {
            if memchr::memchr2(b'"', b'\'', line).is_some() {
                for quote in [&b"\"\"\""[..], &b"'''"[..]] {
                    if count(line, quote) % 2 == 1 {
                        in_string = Some(quote);
                        break;
                    }
                }
            }
            continue;
        }
        let mut logical = strip_comment(&String::from_utf8_lossy(code)).to_string();
        // Follow the statement over `(...)` or `\` continuation lines, boundedly.
        let mut extra = 0;
        while extra < MAX_CONTINUATION_LINES
            && (logical.trim_end().ends_with('\\')
                || (logical.contains('(') && !logical.contains(')')))
        {
            let Some(next) = lines.next() else { break };
            logical = logical.trim_end().trim_end_matches('\\').to_string();
            logical.push(' ');
            logical.push_str(strip_comment(&String::from_utf8_lossy(next)));
            extra += 1;
        }
        out.extend(parse_statement(&logical));
    }
    out
}

/// The lines of `source` as `str::lines` splits them: at `\n`, a `\r` before it dropped.
fn source_lines(source: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = source;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(at) => (&rest[..at], &rest[at + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    })
}

/// Non-overlapping occurrences of `needle` in `line` (`str::matches(..).count()`).
fn count(line: &[u8], needle: &[u8]) -> usize {
    memchr::memmem::find_iter(line, needle).count()
}

/// `line` without its leading whitespace (`str::trim_start` for the ASCII whitespace and the
/// form feed Python allows there; other Unicode spaces never start an import statement).
fn trim_start(line: &[u8]) -> &[u8] {
    let skip = line
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\x0c' | b'\x0b'))
        .count();
    &line[skip..]
}

/// A name list longer than this many lines is not followed further (a malformed file).
const MAX_CONTINUATION_LINES: usize = 200;

fn strip_comment(line: &str) -> &str {
    line.split_once('#').map_or(line, |(code, _)| code)
}

fn is_dotted_name(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            let mut chars = part.chars();
            chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
                && chars.all(|c| c.is_alphanumeric() || c == '_')
        })
}

/// `import a.b as c, d` or `from ..x import (y as z, w)`; anything else yields nothing.
fn parse_statement(logical: &str) -> Vec<Statement> {
    let logical = logical.split(';').next().unwrap_or("").trim();
    if let Some(rest) = logical.strip_prefix("import ") {
        return rest
            .split(',')
            .filter_map(|item| {
                let module = item.split_whitespace().next()?;
                is_dotted_name(module).then(|| Statement {
                    level: 0,
                    module: module.to_string(),
                    names: Vec::new(),
                })
            })
            .collect();
    }
    let Some(rest) = logical.strip_prefix("from ") else {
        return Vec::new();
    };
    let Some((source, names)) = rest.split_once(" import ") else {
        return Vec::new();
    };
    let source = source.trim();
    let level = source.len() - source.trim_start_matches('.').len();
    let module = &source[level..];
    // `from . import x` has no module; otherwise the module must be a dotted name.
    let bare_relative = module.is_empty() && level > 0;
    if !(bare_relative || is_dotted_name(module)) {
        return Vec::new();
    }
    let names: Vec<String> = names
        .replace(['(', ')'], " ")
        .split(',')
        .filter_map(|item| item.split_whitespace().next())
        .filter(|n| *n != "*" && is_dotted_name(n))
        .map(str::to_string)
        .collect();
    vec![Statement {
        level,
        module: module.to_string(),
        names,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::repo::Repo;

    fn graph(files: &[(&str, &str)]) -> (Repo, ImportGraph) {
        let repo = Repo::from_files(files.iter().copied()).unwrap();
        let graph = ImportGraph::build(&repo);
        (repo, graph)
    }

    fn imports_of(repo: &Repo, graph: &ImportGraph, path: &str) -> Vec<String> {
        let i = repo.index_of(path).unwrap();
        graph
            .imports(i)
            .iter()
            .map(|imp| repo.files()[imp.file as usize].path.to_string())
            .collect()
    }

    #[test]
    fn statements_cover_the_forms_python_writes() {
        let text = "import os, pkg.a as alias\n\
                    from pkg.b import (\n    x,  # a comment\n    y as z,\n)\n\
                    from . import sibling\nfrom ..up import thing\n\
                    def f():\n    from pkg.c import \\\n        w\n\
                    \"\"\"\nimport not_code\n\"\"\"\nx = 'import nope'\n";
        let found: Vec<(usize, String, Vec<String>)> = statements(text.as_bytes())
            .into_iter()
            .map(|s| (s.level, s.module, s.names))
            .collect();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            found,
            vec![
                (0, "os".into(), vec![]),
                (0, "pkg.a".into(), vec![]),
                (0, "pkg.b".into(), s(&["x", "y"])),
                (1, String::new(), s(&["sibling"])),
                (2, "up".into(), s(&["thing"])),
                (0, "pkg.c".into(), s(&["w"])),
            ]
        );
    }

    #[test]
    fn sources_are_read_as_bytes_crlf_and_undecodable_bytes_included() {
        let mut source =
            b"import os\r\nx = '\xff\xfe'\r\n\t\x0cfrom pkg import (a,\r\n  b)\r\n".to_vec();
        source.extend_from_slice(b"s = '''\xff\nimport hidden\n'''\nimport last");
        let found: Vec<(String, Vec<String>)> = statements(&source)
            .into_iter()
            .map(|s| (s.module, s.names))
            .collect();
        assert_eq!(
            found,
            vec![
                ("os".to_string(), vec![]),
                ("pkg".to_string(), vec!["a".to_string(), "b".to_string()]),
                ("last".to_string(), vec![]),
            ]
        );
    }

    #[test]
    fn names_resolve_to_files_of_the_repository() {
        let (repo, g) = graph(&[
            ("src/pkg/__init__.py", "from .core import run\n"),
            (
                "src/pkg/core.py",
                "import os\nfrom pkg.util import helper\nfrom . import io\n",
            ),
            ("src/pkg/util.py", "import pkg.core\n"),
            ("src/pkg/io.py", "from ..pkg import nothing\n"),
            ("src/pkg/sub/__init__.py", ""),
            (
                "src/pkg/sub/deep.py",
                "from .. import util\nfrom ...outside import x\n",
            ),
            (
                "tools/script.py",
                "from src.pkg.sub import deep\nimport json\n",
            ),
        ]);
        assert_eq!(
            imports_of(&repo, &g, "src/pkg/__init__.py"),
            ["src/pkg/core.py"]
        );
        assert_eq!(
            imports_of(&repo, &g, "src/pkg/core.py"),
            ["src/pkg/io.py", "src/pkg/util.py"]
        );
        assert_eq!(
            imports_of(&repo, &g, "src/pkg/util.py"),
            ["src/pkg/core.py"]
        );
        assert_eq!(
            imports_of(&repo, &g, "src/pkg/sub/deep.py"),
            ["src/pkg/util.py"]
        );
        assert_eq!(
            imports_of(&repo, &g, "tools/script.py"),
            ["src/pkg/sub/deep.py"]
        );
        let core = repo.index_of("src/pkg/core.py").unwrap();
        let importers: Vec<&str> = g
            .imported_by(core)
            .iter()
            .map(|&i| &*repo.files()[i as usize].path)
            .collect();
        assert_eq!(importers, ["src/pkg/__init__.py", "src/pkg/util.py"]);
    }

    #[test]
    fn from_a_package_import_a_name_that_is_no_module_names_the_package() {
        let (repo, g) = graph(&[
            ("app/__init__.py", "VERSION = 1\n"),
            ("app/main.py", "from app import VERSION, models\n"),
            ("app/models.py", ""),
        ]);
        assert_eq!(
            imports_of(&repo, &g, "app/main.py"),
            ["app/__init__.py", "app/models.py"]
        );
    }

    #[test]
    fn malformed_sources_yield_what_they_can_within_bounds() {
        let long = format!("from pkg import ({}\n", "a,\n".repeat(10_000));
        let (repo, g) = graph(&[
            ("pkg/__init__.py", ""),
            ("pkg/a.py", ""),
            ("bad.py", &long),
            (
                "weird.py",
                "from import x\nimport\nfrom . import\nimport 3d\n",
            ),
        ]);
        assert_eq!(imports_of(&repo, &g, "bad.py"), ["pkg/a.py"]);
        assert!(imports_of(&repo, &g, "weird.py").is_empty());
    }
}
