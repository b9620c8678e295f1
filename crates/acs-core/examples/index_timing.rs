//! Index timings for the figures of issue 10 (release build):
//!
//! ```text
//! index_timing phases SRC [REV]               symbols / BM25 files / BM25 functions, no cache
//! index_timing index SRC [REV] [CACHE_DIR]    open + Repo::index, one snapshot, this process
//! index_timing next SRC REV1 REV2 [CACHE_DIR] index REV1, then REV2 in the same process
//! index_timing walk GIT_DIR N [C S T]          index HEAD~N .. HEAD in one process: per
//!                                              commit, time and resident memory; with the
//!                                              content, symbol and term cache budgets (MB)
//! ```
//!
//! SRC is a directory, or a git directory when a REV is given; `site-packages` is left out.

use acs_core::Bm25Index;
use acs_core::SymbolIndex;
use acs_core::{IndexCache, Repo, SourceOptions, Store};
use std::time::Instant;

fn open(src: &str, rev: Option<&str>) -> Repo {
    // The standard library's own files, not the packages installed beside it.
    let opts = SourceOptions {
        exclude: vec!["site-packages".into()],
        ..Default::default()
    };
    match rev {
        Some(rev) => Repo::open_git(src, rev, &opts).unwrap(),
        None => Repo::open_dir(src, &opts).unwrap(),
    }
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn index(repo: &Repo, cache: Option<&str>) {
    let cache = cache.map(IndexCache::new);
    let t = Instant::now();
    let report = repo.index(cache.as_ref());
    let report = serde_json::to_value(&report).unwrap();
    println!("index {:.0} ms  {report}", ms(t));
}

/// Resident memory in MB (Linux), or 0.
fn rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    match arg(0) {
        Some("phases") => {
            let repo = open(arg(1).unwrap(), arg(2));
            let store = Store::new(1 << 30, 1 << 30);
            println!("files {} bytes {}", repo.files().len(), repo.stats().bytes);
            let t = Instant::now();
            let symbols = SymbolIndex::build(&repo, &store);
            println!("symbols {:.0} ms ({} definitions)", ms(t), symbols.len());
            let t = Instant::now();
            let files = Bm25Index::files(&repo, &store);
            println!("bm25 files {:.0} ms ({} docs)", ms(t), files.len());
            let t = Instant::now();
            let functions = Bm25Index::functions(&repo, &symbols, &store);
            println!("bm25 functions {:.0} ms ({} docs)", ms(t), functions.len());
        }
        Some("index") => {
            let (src, rev, cache) = match args.len() {
                2 => (arg(1).unwrap(), None, None),
                3 => (arg(1).unwrap(), None, arg(2)),
                _ => (arg(1).unwrap(), arg(2), arg(3)),
            };
            let t = Instant::now();
            let repo = open(src, rev);
            println!("open {:.0} ms ({} files)", ms(t), repo.files().len());
            index(&repo, cache);
        }
        Some("next") => {
            let (src, first, second, cache) = (arg(1).unwrap(), arg(2), arg(3), arg(4));
            index(&open(src, first), cache);
            let t = Instant::now();
            let repo = open(src, second);
            println!("open {:.0} ms", ms(t));
            index(&repo, cache);
        }
        Some("walk") => {
            let (src, n): (&str, usize) = (arg(1).unwrap(), arg(2).unwrap().parse().unwrap());
            if let (Some(c), Some(s), Some(t)) = (arg(3), arg(4), arg(5)) {
                let mb = |v: &str| v.parse::<usize>().unwrap() << 20;
                Store::global().set_budgets(mb(c), mb(s));
                Store::global().set_term_budget(mb(t));
            }
            let mut times = Vec::new();
            for back in (0..=n).rev() {
                let t = Instant::now();
                let repo = open(src, Some(&format!("HEAD~{back}")));
                let report = repo.index(None);
                let elapsed = ms(t);
                times.push(elapsed);
                println!(
                    "HEAD~{back}: {elapsed:.0} ms (open+index), {} files processed, rss {} MB",
                    report.files_processed,
                    rss_mb()
                );
            }
            times.remove(0);
            times.sort_by(f64::total_cmp);
            println!("after the first: p50 {:.0} ms", times[times.len() / 2]);
        }
        _ => eprintln!("usage: see the module comment"),
    }
}
