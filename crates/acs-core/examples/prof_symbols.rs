use acs_core::{Lang, Repo, SourceOptions};
use std::time::Instant;
fn main() {
    let p = std::env::args().nth(1).unwrap();
    let repo = Repo::open_dir(
        &p,
        &SourceOptions {
            exclude: vec!["site-packages".into()],
            ..Default::default()
        },
    )
    .unwrap();
    let files: Vec<_> = repo
        .files()
        .iter()
        .filter(|f| f.lang == Some(Lang::Python))
        .collect();
    let t = Instant::now();
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&Lang::Python.ts_language()).unwrap();
    let mut nodes = 0usize;
    for f in &files {
        let tree = parser.parse(&f.content[..], None).unwrap();
        nodes += tree.root_node().descendant_count();
    }
    println!("parse only 1 thread: {:?} nodes {}", t.elapsed(), nodes);
    let t = Instant::now();
    let mut n = 0;
    for f in &files {
        n += acs_core::symbols::extract_symbols(Lang::Python, &f.content).len();
    }
    println!("extract 1 thread: {:?} defs {}", t.elapsed(), n);
}
