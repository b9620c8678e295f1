//! The modules of acs-core depend on one another without cycles, and each layer (a folder of
//! `src/`) depends only on the layers before it. Read from the source with `syn`, as
//! `tests/test_import_graph.py` reads the Python package: every path counts (in `use` items,
//! in code, inside macro calls), and one that names an item re-exported elsewhere counts as a
//! dependency on the module that defines it, so a facade hides no edge.

use proc_macro2::{TokenStream, TokenTree};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::visit::{self, Visit};

/// The layers, bottom first: a folder of `src/` may use its own modules, the root files
/// (the shared foundation: errors, limits, languages, the thread pool, ...) and the folders
/// before it. The crate root (`lib.rs`) re-exports every layer and is in none.
const LAYERS: &[&str] = &["snapshot", "index", "tools", "plan", "evidence"];

/// A module's path below the crate root: `["index", "bm25"]`; the root is `[]`.
type ModPath = Vec<String>;

/// What one module's source says.
#[derive(Default)]
struct Module {
    /// The file it is written in (an inline module: its parent's file).
    file: PathBuf,
    /// Whether its children's files sit in a folder of its own (`x/mod.rs`, or `x.rs` with
    /// an `x/` beside it); set for every module with a child file.
    folder: bool,
    children: BTreeSet<String>,
    /// Names its `use` items bring in, with the path each stands for.
    imports: BTreeMap<String, Vec<String>>,
    /// Every multi-segment path it writes, as written.
    paths: Vec<Vec<String>>,
}

struct Crate {
    modules: BTreeMap<ModPath, Module>,
}

impl Crate {
    /// The module tree of the crate whose root file is `lib`, every module file read.
    fn read(lib: &Path) -> Crate {
        let mut krate = Crate {
            modules: BTreeMap::new(),
        };
        let dir = lib.parent().unwrap().to_path_buf();
        krate.read_file(Vec::new(), lib, dir);
        krate
    }

    /// Read the module `path` from `file`; its child files live in `child_dir`.
    fn read_file(&mut self, path: ModPath, file: &Path, child_dir: PathBuf) {
        let source = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        let parsed = syn::parse_file(&source).unwrap_or_else(|e| panic!("{file:?}: {e}"));
        self.read_items(path, file, child_dir, &parsed.items);
    }

    fn read_items(&mut self, path: ModPath, file: &Path, child_dir: PathBuf, items: &[syn::Item]) {
        let mut scan = Scan::default();
        for item in items {
            scan.visit_item(item);
        }
        let mut module = Module {
            file: file.to_path_buf(),
            paths: scan.paths,
            imports: scan.imports,
            ..Module::default()
        };
        let mut inner = Vec::new();
        for m in scan.mods {
            let name = m.ident.to_string();
            assert!(
                !m.attrs.iter().any(|a| a.path().is_ident("path")),
                "{file:?}: #[path] on `mod {name}` is not followed by this test"
            );
            module.children.insert(name.clone());
            inner.push((name, m));
        }
        self.modules.insert(path.clone(), module);
        for (name, m) in inner {
            let mut child = path.clone();
            child.push(name.clone());
            match &m.content {
                Some((_, items)) => self.read_items(child, file, child_dir.join(&name), items),
                None => {
                    let (child_file, dir) = module_file(&child_dir, &name);
                    self.modules.get_mut(&path).unwrap().folder = true;
                    self.read_file(child, &child_file, dir);
                }
            }
        }
    }

    /// The module that defines what `segments`, written in module `at`, names: `None` for a
    /// path outside the crate (std, a dependency, a local variable's field...).
    fn resolve(&self, at: &ModPath, segments: &[String], depth: usize) -> Option<ModPath> {
        if depth > 16 || segments.is_empty() {
            return None;
        }
        let here = self.modules.get(at)?;
        let (mut base, mut rest) = match segments[0].as_str() {
            "crate" => (Vec::new(), &segments[1..]),
            "self" => (at.clone(), &segments[1..]),
            "super" => {
                let ups = segments.iter().take_while(|s| *s == "super").count();
                let base = at[..at.len().checked_sub(ups)?].to_vec();
                (base, &segments[ups..])
            }
            first if here.children.contains(first) => (at.clone(), segments),
            first => {
                // A name one of its `use` items brought in: resolve what it stands for.
                let target = here.imports.get(first)?;
                let whole: Vec<String> = target.iter().chain(&segments[1..]).cloned().collect();
                return self.resolve(at, &whole, depth + 1);
            }
        };
        while let Some(first) = rest.first() {
            if !self.modules[&base].children.contains(first) {
                break;
            }
            base.push(first.clone());
            rest = &rest[1..];
        }
        // An item `base` only re-exports is defined where its `use` points.
        if let Some(target) = rest
            .first()
            .and_then(|name| self.modules[&base].imports.get(name))
        {
            let whole: Vec<String> = target.iter().chain(&rest[1..]).cloned().collect();
            if let Some(defined) = self.resolve(&base, &whole, depth + 1) {
                return Some(defined);
            }
        }
        Some(base)
    }

    /// Module -> the modules it depends on. A module's ancestors are left out: their own
    /// items are its context (as a Python package's `__init__` is its modules'), and what
    /// they only re-export resolves to where it is defined.
    fn graph(&self) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
        let mut graph = BTreeMap::new();
        for (at, module) in &self.modules {
            let uses = module
                .paths
                .iter()
                .filter_map(|p| self.resolve(at, p, 0))
                .filter(|target| target != at && !at.starts_with(target))
                .collect();
            graph.insert(at.clone(), uses);
        }
        graph
    }
}

/// The file of module `name` declared by a module whose child files live in `dir`, and the
/// folder of its own child files.
fn module_file(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let flat = dir.join(format!("{name}.rs"));
    let nested = dir.join(name).join("mod.rs");
    match (flat.is_file(), nested.is_file()) {
        (true, false) => (flat, dir.join(name)),
        (false, true) => (nested, dir.join(name)),
        found => panic!("mod {name} in {dir:?}: {name}.rs and {name}/mod.rs found: {found:?}"),
    }
}

/// What a module's own items say (inline child modules are collected, not entered).
#[derive(Default)]
struct Scan<'a> {
    mods: Vec<&'a syn::ItemMod>,
    imports: BTreeMap<String, Vec<String>>,
    paths: Vec<Vec<String>>,
}

impl<'a> Visit<'a> for Scan<'a> {
    fn visit_item_mod(&mut self, m: &'a syn::ItemMod) {
        self.mods.push(m);
    }

    fn visit_item_use(&mut self, u: &'a syn::ItemUse) {
        if u.leading_colon.is_none() {
            self.use_tree(Vec::new(), &u.tree);
        }
    }

    fn visit_path(&mut self, p: &'a syn::Path) {
        if p.leading_colon.is_none() && p.segments.len() > 1 {
            self.paths
                .push(p.segments.iter().map(|s| s.ident.to_string()).collect());
        }
        visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'a syn::Macro) {
        self.macro_paths(m.tokens.clone());
        visit::visit_macro(self, m);
    }
}

impl Scan<'_> {
    fn use_tree(&mut self, mut prefix: Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
            }
            syn::UseTree::Name(n) if n.ident == "self" => {
                if let Some(last) = prefix.last() {
                    self.imports.insert(last.clone(), prefix.clone());
                    self.paths.push(prefix);
                }
            }
            syn::UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                self.imports.insert(n.ident.to_string(), prefix.clone());
                self.paths.push(prefix);
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                self.imports.insert(r.rename.to_string(), prefix.clone());
                self.paths.push(prefix);
            }
            syn::UseTree::Glob(_) => self.paths.push(prefix),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix.clone(), t);
                }
            }
        }
    }

    /// Paths (`a::b::c`) written inside a macro call, which `syn` leaves as tokens.
    fn macro_paths(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let is_colons = |i: usize| {
            matches!((tokens.get(i), tokens.get(i + 1)),
                (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
                    if a.as_char() == ':' && b.as_char() == ':')
        };
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                TokenTree::Group(g) => self.macro_paths(g.stream()),
                TokenTree::Ident(first) if !(i >= 2 && is_colons(i - 2)) => {
                    let mut path = vec![first.to_string()];
                    while is_colons(i + 1) {
                        let Some(TokenTree::Ident(next)) = tokens.get(i + 3) else {
                            break;
                        };
                        path.push(next.to_string());
                        i += 3;
                    }
                    if path.len() > 1 {
                        self.paths.push(path);
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
}

/// The strongly connected components of more than one module (Tarjan's algorithm).
fn cycles(graph: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<BTreeSet<ModPath>> {
    struct Tarjan<'g> {
        graph: &'g BTreeMap<ModPath, BTreeSet<ModPath>>,
        index: BTreeMap<&'g ModPath, usize>,
        low: BTreeMap<&'g ModPath, usize>,
        stack: Vec<&'g ModPath>,
        found: Vec<BTreeSet<ModPath>>,
    }
    impl<'g> Tarjan<'g> {
        fn visit(&mut self, node: &'g ModPath) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            for child in &self.graph[node] {
                if !self.index.contains_key(child) {
                    self.visit(child);
                    let low = self.low[node].min(self.low[child]);
                    self.low.insert(node, low);
                } else if self.stack.contains(&child) {
                    let low = self.low[node].min(self.index[child]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = BTreeSet::new();
                loop {
                    let member = self.stack.pop().unwrap();
                    component.insert(member.clone());
                    if member == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.found.push(component);
                }
            }
        }
    }
    let mut t = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !t.index.contains_key(node) {
            t.visit(node);
        }
    }
    t.found
}

fn name(path: &ModPath) -> String {
    if path.is_empty() {
        "crate".to_string()
    } else {
        path.join("::")
    }
}

fn engine() -> Crate {
    Crate::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
}

fn module(path: &str) -> ModPath {
    path.split("::").map(str::to_string).collect()
}

/// A module's layer: the position of its top folder in [`LAYERS`] (1-based), 0 for the
/// root files; `None` for a folder in no layer.
fn layer(krate: &Crate, path: &ModPath) -> Option<usize> {
    let top = &path[..1];
    match LAYERS.iter().position(|l| *l == top[0]) {
        Some(i) => Some(i + 1),
        None if krate.modules[top].folder => None,
        None => Some(0),
    }
}

#[test]
fn every_source_file_is_a_module_the_scan_reads() {
    let krate = engine();
    let read: BTreeSet<PathBuf> = krate.modules.values().map(|m| m.file.clone()).collect();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut pending = vec![src];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                assert!(
                    read.contains(&path),
                    "{path:?} is in no module the scan read"
                );
            }
        }
    }
}

#[test]
fn the_scan_sees_paths_in_code_in_macros_and_through_reexports() {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "lib.rs",
        "mod a;\nmod b;\nmod c;\npub use c::deep::Thing;\n",
    );
    // a -> b only inside a macro call; its doc link names c, which is no dependency.
    write(
        "a.rs",
        "/// See [`crate::c`].\npub fn f() { println!(\"{}\", crate::b::g()); }\n",
    );
    // b -> c::deep through the root's re-export; its test module's use of a is not b's.
    write(
        "b.rs",
        "pub fn g() -> u32 { let _: Option<crate::Thing> = None; 1 }\n\
         #[cfg(test)]\nmod tests { use crate::a::f; }\n",
    );
    // c::deep -> a through a name its parent imported; c -> c::deep (a child) by a path.
    write(
        "c/mod.rs",
        "pub mod deep;\nuse crate::a;\nfn h() { deep::touch() }\n",
    );
    write(
        "c/deep.rs",
        "pub struct Thing;\npub fn touch() { super::a::f() }\n",
    );
    let krate = Crate::read(&dir.path().join("lib.rs"));
    let graph = krate.graph();
    let edges = |m: &str| graph[&module(m)].iter().map(name).collect::<Vec<_>>();
    assert_eq!(edges("a"), ["b"]);
    assert_eq!(edges("b"), ["c::deep"]);
    assert_eq!(edges("b::tests"), ["a"]);
    assert_eq!(edges("c"), ["a", "c::deep"]);
    assert_eq!(edges("c::deep"), ["a"]);
    let found = cycles(&graph);
    let expected: BTreeSet<ModPath> = ["a", "b", "c::deep"].map(module).into();
    assert_eq!(found, [expected]);
}

#[test]
fn the_engine_modules_have_no_cycle() {
    let krate = engine();
    let graph = krate.graph();
    // The scan reads the real crate: the tools reach the repository through it.
    assert!(graph[&module("tools::grep")].contains(&module("index::repo")));
    let found: Vec<Vec<String>> = cycles(&graph)
        .iter()
        .map(|c| c.iter().map(name).collect())
        .collect();
    assert!(found.is_empty(), "cycles between modules: {found:?}");
}

#[test]
fn each_layer_uses_only_the_layers_before_it() {
    let krate = engine();
    let mut wrong = BTreeSet::new();
    for (at, uses) in krate.graph() {
        if at.is_empty() {
            continue; // lib.rs re-exports every layer
        }
        let Some(mine) = layer(&krate, &at) else {
            wrong.insert(format!(
                "`{}` is in no layer: add its folder to LAYERS in {}",
                at[0],
                file!()
            ));
            continue;
        };
        for target in uses {
            if layer(&krate, &target).is_some_and(|theirs| theirs > mine) {
                wrong.insert(format!("{} uses {}", name(&at), name(&target)));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
