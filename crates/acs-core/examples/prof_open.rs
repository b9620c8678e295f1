use acs_core::{Repo, SourceOptions};
use std::time::Instant;
fn main() {
    let p = std::env::args().nth(1).unwrap();
    for _ in 0..3 {
        let t = Instant::now();
        let mut b = ignore::WalkBuilder::new(&p);
        b.git_global(false)
            .require_git(false)
            .filter_entry(|e| e.file_name() != "site-packages");
        let paths: Vec<_> = b
            .build()
            .flatten()
            .filter(|d| d.file_type().map_or(false, |t| t.is_file()))
            .map(|d| d.into_path())
            .collect();
        let walk = t.elapsed();
        let t2 = Instant::now();
        let total: usize = paths
            .iter()
            .map(|p| std::fs::read(p).map(|v| v.len()).unwrap_or(0))
            .sum();
        let read = t2.elapsed();
        let t3 = Instant::now();
        let repo = Repo::open_dir(
            &p,
            &SourceOptions {
                exclude: vec!["site-packages".into()],
                ..Default::default()
            },
        )
        .unwrap();
        println!(
            "walk {:?} ({} files) seq-read {:?} ({} bytes) open {:?} files {}",
            walk,
            paths.len(),
            read,
            total,
            t3.elapsed(),
            repo.files().len()
        );
    }
}
