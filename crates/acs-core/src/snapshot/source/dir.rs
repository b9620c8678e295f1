//! Directory source: a gitignore-aware walk (ripgrep's `ignore` crate), then a parallel read.
//!
//! The crate walks, but does not read ignore files: it would open them by path, following
//! links (`.gitignore -> /dev/zero` aborts the process, a FIFO hangs it) and read those
//! above the root. [`IgnoreRules`] reads each folder's `.ignore`, `.gitignore` and
//! `.git/info/exclude` through [`Beneath`] (no links, regular files, at most
//! [`MAX_IGNORE_FILE`] bytes) and matches as ripgrep does (with `require_git` off).

use super::{bad_name, entry, is_binary};
use crate::error::{Error, Result};
use crate::snapshot::content::ContentCache;
use crate::snapshot::{FileEntry, Loaded, OpenStats, SourceOptions};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::Match;
use std::collections::{HashMap, HashSet};
use std::io::Read as _;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

enum Walked {
    File(String),
    Link(String, bool),
    /// A name that cannot be a repository path: not UTF-8 (its lossy spelling could collide
    /// with another file's), or a component [`super::bad_name`] refuses (on unix a `\` is an
    /// ordinary byte of a name, but a separator to every path the engine reads). Skipped and
    /// counted, never rewritten.
    BadName,
}

pub(crate) fn load(root: &Path, opts: &SourceOptions, contents: &ContentCache) -> Result<Loaded> {
    let repo_error = |message: String| Error::Repository {
        path: root.display().to_string(),
        message,
    };
    let meta = std::fs::metadata(root).map_err(|e| repo_error(e.to_string()))?;
    if !meta.is_dir() {
        return Err(repo_error("not a directory".into()));
    }
    let beneath = Arc::new(Beneath::open(root).map_err(|e| repo_error(e.to_string()))?);
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let walker = walker(root, opts, beneath.clone())?;

    let mut stats = OpenStats::default();
    let mut links = HashMap::new();
    let mut seen: HashSet<String> = HashSet::new();
    let read: Mutex<Vec<Result<FileEntry, (String, Read)>>> = Mutex::new(Vec::new());
    // The walk runs on this thread while the pool reads (and hashes) what it has found so
    // far. A file that vanished or is unreadable is counted, not fatal: a live work tree
    // changes under us.
    rayon::in_place_scope(|scope| {
        for dent in walker.flatten() {
            match classify(dent, root, &canonical_root) {
                Some(Walked::File(rel)) => {
                    // Components joined with `/` are unique; this guards that promise.
                    if !seen.insert(rel.clone()) {
                        stats.skipped_names += 1;
                        continue;
                    }
                    if super::binary_by_name(&rel) {
                        stats.skipped_binary += 1;
                        continue;
                    }
                    let (read, beneath) = (&read, &*beneath);
                    let max = opts.max_file_size;
                    scope.spawn(move |_| {
                        let item = match read_text(beneath, &rel, max) {
                            Read::Text(bytes) => Ok(entry(rel, bytes, None, contents)),
                            skipped => Err((rel, skipped)),
                        };
                        read.lock().unwrap_or_else(|e| e.into_inner()).push(item);
                    });
                }
                Some(Walked::Link(rel, outside)) => {
                    stats.skipped_links += 1;
                    links.insert(rel, outside);
                }
                Some(Walked::BadName) => stats.skipped_names += 1,
                None => {}
            }
        }
    });
    let mut files = Vec::new();
    for item in read.into_inner().unwrap_or_else(|e| e.into_inner()) {
        match item {
            Ok(file) => files.push(file),
            Err((_, Read::Binary)) => stats.skipped_binary += 1,
            Err((_, Read::Large)) => stats.skipped_large += 1,
            Err((rel, Read::Unreadable(why))) => stats.add_unreadable(&rel, &why),
            Err((_, Read::Text(_))) => unreachable!("text is loaded"),
        }
    }
    Ok(Loaded {
        files,
        links,
        stats,
    })
}

enum Read {
    Text(Vec<u8>),
    Binary,
    Large,
    /// Why, briefly.
    Unreadable(String),
}

/// Read a file unless it is binary or too large. Like ripgrep, look at the head first, so
/// that a compiled file (`.pyc`, images) costs one small read, not a whole one. The size from
/// `fstat` sizes the buffer, which saves the extra read that finds the end of the file.
///
/// The file is opened below the root without following any link (see [`Beneath`]) and must
/// be a regular file: the walk classified it earlier, and it may have been swapped since.
fn read_text(beneath: &Beneath, rel: &str, max_size: u64) -> Read {
    const HEAD: usize = 8 * 1024;
    let unreadable = |e: std::io::Error| Read::Unreadable(e.to_string());
    let mut file = match beneath.open_file(rel) {
        Ok(file) => file,
        Err(e) => return unreadable(e),
    };
    let size = match file.metadata() {
        Ok(m) if !m.is_file() => return Read::Unreadable("not a regular file".into()),
        Ok(m) if m.len() > max_size => return Read::Large,
        Ok(m) => m.len() as usize,
        Err(e) => return unreadable(e),
    };
    let mut bytes = vec![0u8; size];
    let head = size.min(HEAD);
    let got = match read_full(&mut file, &mut bytes[..head]) {
        Ok(got) => got,
        Err(e) => return unreadable(e),
    };
    let utf16 = super::is_utf16(&bytes[..got]);
    if !utf16 && is_binary(&bytes[..got]) {
        return Read::Binary;
    }
    if got < head {
        bytes.truncate(got); // shrank since fstat
    } else {
        let rest = match read_full(&mut file, &mut bytes[head..]) {
            Ok(rest) => rest,
            Err(e) => return unreadable(e),
        };
        bytes.truncate(head + rest);
        if !utf16 && is_binary(&bytes[head..]) {
            return Read::Binary;
        }
    }
    if !utf16 {
        return Read::Text(bytes);
    }
    match super::text_of(bytes) {
        Some(text) => Read::Text(text),
        None => Read::Binary,
    }
}

/// Fill `buf` or stop at the end of the file; the number of bytes read.
fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Opens files below the root without ever following a symbolic link, in the final
/// component or in a folder on the way: the walk (the `ignore` crate) reads folders by path,
/// so a file or folder swapped for a link after it was listed must not be read through it.
#[cfg(unix)]
struct Beneath {
    root: std::os::fd::OwnedFd,
}

#[cfg(unix)]
impl Beneath {
    fn open(root: &Path) -> std::io::Result<Beneath> {
        use std::os::fd::FromRawFd as _;
        use std::os::unix::ffi::OsStrExt as _;
        let path = std::ffi::CString::new(root.as_os_str().as_bytes())?;
        // The root itself may be a link: the user named it.
        // SAFETY: a valid C string; the returned descriptor is owned below.
        let fd = unsafe {
            libc::open(
                path.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `fd` is a fresh descriptor nobody else owns.
        let root = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
        Ok(Beneath { root })
    }

    /// Open `rel` (`/`-separated, components checked by `classify`) for reading.
    fn open_file(&self, rel: &str) -> std::io::Result<std::fs::File> {
        // `classify` lets no such name through; refuse it here too.
        if rel.split('/').any(bad_name) {
            return Err(std::io::ErrorKind::InvalidInput.into());
        }
        self.open_beneath(rel)
    }

    /// Like [`Beneath::open_file`], but `rel` may pass through a `.git` folder (for
    /// `.git/info/exclude`); it still cannot climb or follow a link.
    fn open_git_file(&self, rel: &str) -> std::io::Result<std::fs::File> {
        if rel.split('/').any(climbs) {
            return Err(std::io::ErrorKind::InvalidInput.into());
        }
        self.open_beneath(rel)
    }

    fn open_beneath(&self, rel: &str) -> std::io::Result<std::fs::File> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if OPENAT2.load(std::sync::atomic::Ordering::Relaxed) {
            match self.openat2(rel) {
                Ok(file) => return Ok(file),
                // No openat2 (kernel < 5.6) or a sandbox that forbids it: walk per component.
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) => {
                    OPENAT2.store(false, std::sync::atomic::Ordering::Relaxed)
                }
                Err(e) => return Err(e),
            }
        }
        self.open_per_component(rel)
    }

    /// One syscall: no link anywhere on the path, nothing above the root.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn openat2(&self, rel: &str) -> std::io::Result<std::fs::File> {
        use std::os::fd::{AsRawFd as _, FromRawFd as _};
        let path = std::ffi::CString::new(rel)?;
        // SAFETY: `open_how` is plain data; zeroed is a valid value.
        let mut how: libc::open_how = unsafe { std::mem::zeroed() };
        how.flags = (libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC) as u64;
        how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS;
        // SAFETY: valid descriptor, C string and struct, with the struct's true size.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                self.root.as_raw_fd(),
                path.as_ptr(),
                &how as *const libc::open_how,
                std::mem::size_of::<libc::open_how>(),
            )
        };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor nobody else owns.
        Ok(unsafe { std::fs::File::from_raw_fd(fd as i32) })
    }

    /// `openat` each component from the previous folder's handle, never following a link.
    /// `O_NONBLOCK`: a FIFO swapped in must not block the open (it is refused by `fstat`).
    fn open_per_component(&self, rel: &str) -> std::io::Result<std::fs::File> {
        use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
        let parts: Vec<&str> = rel.split('/').collect();
        if parts.iter().any(|p| climbs(p)) {
            return Err(std::io::ErrorKind::InvalidInput.into());
        }
        let Some((last, folders)) = parts.split_last() else {
            return Err(std::io::ErrorKind::InvalidInput.into());
        };
        let open_at = |at: i32, name: &str, flags: i32| -> std::io::Result<OwnedFd> {
            let name = std::ffi::CString::new(name)?;
            // SAFETY: valid descriptor and C string.
            let fd = unsafe { libc::openat(at, name.as_ptr(), flags | libc::O_CLOEXEC) };
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            // SAFETY: a fresh descriptor nobody else owns.
            Ok(unsafe { OwnedFd::from_raw_fd(fd) })
        };
        let mut folder: Option<OwnedFd> = None;
        for name in folders {
            let at = folder.as_ref().unwrap_or(&self.root).as_raw_fd();
            let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW;
            folder = Some(open_at(at, name, flags)?);
        }
        let at = folder.as_ref().unwrap_or(&self.root).as_raw_fd();
        let flags = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK;
        Ok(std::fs::File::from(open_at(at, last, flags)?))
    }
}

/// A component that is not a plain name below its folder.
#[cfg(unix)]
fn climbs(name: &str) -> bool {
    name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\'])
}

#[cfg(any(target_os = "linux", target_os = "android"))]
static OPENAT2: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Elsewhere: a plain open; `read_text` still refuses anything but a regular file.
#[cfg(not(unix))]
struct Beneath {
    root: std::path::PathBuf,
}

#[cfg(not(unix))]
impl Beneath {
    fn open(root: &Path) -> std::io::Result<Beneath> {
        Ok(Beneath {
            root: root.to_path_buf(),
        })
    }

    fn open_file(&self, rel: &str) -> std::io::Result<std::fs::File> {
        std::fs::File::open(self.root.join(rel))
    }

    fn open_git_file(&self, rel: &str) -> std::io::Result<std::fs::File> {
        std::fs::File::open(self.root.join(rel))
    }
}

/// Ignore files larger than this are not read (and so ignore nothing).
const MAX_IGNORE_FILE: u64 = 1 << 20;

/// One folder's ignore rules, by kind.
struct FolderRules {
    /// `.ignore`: wins over all `.gitignore` rules.
    ignore: Gitignore,
    gitignore: Gitignore,
    /// `.git/info/exclude` of a folder holding a `.git` folder.
    exclude: Gitignore,
}

/// A folder's rules and those of the folders above it, up to the root.
struct Chain {
    rules: Option<FolderRules>,
    parent: Option<Arc<Chain>>,
}

/// The ignore rules of the walk, read once per folder (on first need) and kept by the
/// folder's path relative to the root.
struct IgnoreRules {
    root: PathBuf,
    beneath: Arc<Beneath>,
    chains: Mutex<HashMap<PathBuf, Arc<Chain>>>,
}

impl IgnoreRules {
    fn new(root: &Path, beneath: Arc<Beneath>) -> IgnoreRules {
        IgnoreRules {
            root: root.to_path_buf(),
            beneath,
            chains: Mutex::new(HashMap::new()),
        }
    }

    /// What the rules say about `path` (the walk's path of an entry below the root), as
    /// ripgrep decides: the innermost matching `.ignore`, else the innermost matching
    /// `.gitignore`, else the innermost matching `.git/info/exclude`.
    fn matched(&self, path: &Path, is_dir: bool) -> Match<()> {
        let Some(folder) = path.parent().and_then(|p| p.strip_prefix(&self.root).ok()) else {
            return Match::None;
        };
        let chain = self.chain(folder);
        let (mut ignore, mut gitignore, mut exclude) = (Match::None, Match::None, Match::None);
        let mut at = Some(&chain);
        while let Some(link) = at {
            if let Some(rules) = &link.rules {
                if ignore.is_none() {
                    ignore = rules.ignore.matched(path, is_dir).map(|_| ());
                }
                if gitignore.is_none() {
                    gitignore = rules.gitignore.matched(path, is_dir).map(|_| ());
                }
                if exclude.is_none() {
                    exclude = rules.exclude.matched(path, is_dir).map(|_| ());
                }
            }
            at = link.parent.as_ref();
        }
        ignore.or(gitignore).or(exclude)
    }

    /// The chain of `folder` (relative to the root), read on first need.
    fn chain(&self, folder: &Path) -> Arc<Chain> {
        if let Some(chain) = self.lock().get(folder) {
            return chain.clone();
        }
        let parent = folder.parent().map(|p| self.chain(p));
        let chain = Arc::new(Chain {
            rules: self.read_rules(folder),
            parent,
        });
        self.lock().insert(folder.to_path_buf(), chain.clone());
        chain
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Arc<Chain>>> {
        self.chains.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn read_rules(&self, folder: &Path) -> Option<FolderRules> {
        // A folder whose path `classify` would not accept holds only names it skips.
        let mut prefix = String::new();
        for component in folder.components() {
            match component {
                Component::Normal(name) => match name.to_str() {
                    Some(name) if !bad_name(name) => {
                        prefix.push_str(name);
                        prefix.push('/');
                    }
                    _ => return None,
                },
                _ => return None,
            }
        }
        let dir = if prefix.is_empty() {
            self.root.clone()
        } else {
            self.root.join(folder)
        };
        let build = |text: Option<Vec<u8>>| match text {
            Some(text) => gitignore(&dir, &text),
            None => Gitignore::empty(),
        };
        let beneath = &self.beneath;
        let rules = FolderRules {
            ignore: build(read_ignore_file(
                beneath.open_file(&format!("{prefix}.ignore")),
            )),
            gitignore: build(read_ignore_file(
                beneath.open_file(&format!("{prefix}.gitignore")),
            )),
            exclude: build(read_ignore_file(
                beneath.open_git_file(&format!("{prefix}.git/info/exclude")),
            )),
        };
        let empty = rules.ignore.is_empty() && rules.gitignore.is_empty();
        (!empty || !rules.exclude.is_empty()).then_some(rules)
    }
}

/// An opened ignore file's bytes, or `None` when it is not a regular file or too large.
fn read_ignore_file(file: std::io::Result<std::fs::File>) -> Option<Vec<u8>> {
    let file = file.ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > MAX_IGNORE_FILE {
        return None;
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_IGNORE_FILE + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    (bytes.len() as u64 <= MAX_IGNORE_FILE).then_some(bytes)
}

/// A matcher rooted at `dir` from an ignore file's text, line by line as
/// `GitignoreBuilder::add` reads a file: lines that are not UTF-8 or not valid globs are
/// skipped, a UTF-8 byte order mark on the first line is dropped.
fn gitignore(dir: &Path, text: &[u8]) -> Gitignore {
    let mut builder = GitignoreBuilder::new(dir);
    let mut lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    if text.ends_with(b"\n") {
        lines.pop();
    }
    for (i, line) in lines.into_iter().enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        let line = if i == 0 {
            line.trim_start_matches('\u{feff}')
        } else {
            line
        };
        let _ = builder.add_line(None, line);
    }
    builder.build().unwrap_or_else(|_| Gitignore::empty())
}

/// The walk. Ignore rules and hidden names are applied here, not by the crate (see the
/// module doc), with ripgrep's semantics: `.ignore`, `.gitignore` and `.git/info/exclude`
/// of the root and the folders below it (not above), with or without git (`require_git`
/// off), no global gitignore; an entry no rule names is skipped when hidden (a `!` rule
/// that whitelists a hidden name keeps it, as in ripgrep).
fn walker(root: &Path, opts: &SourceOptions, beneath: Arc<Beneath>) -> Result<ignore::Walk> {
    let excluded = opts.exclusion()?;
    let root_owned = root.to_path_buf();
    let rules = IgnoreRules::new(root, beneath);
    let show_hidden = opts.hidden;
    let mut builder = ignore::WalkBuilder::new(root);
    builder
        .standard_filters(false)
        .hidden(false)
        .parents(false)
        .ignore(false)
        .git_ignore(false)
        .git_global(false) // results must not depend on the user's global git config
        .git_exclude(false)
        .require_git(false)
        .follow_links(false)
        .filter_entry(move |e| {
            if e.file_name() == ".git" {
                return false;
            }
            // Prune excluded folders here so the walk never descends into them.
            let kept = match (&excluded, e.path().strip_prefix(&root_owned)) {
                (Some(x), Ok(rel)) if !rel.as_os_str().is_empty() => {
                    x.matches(&rel.to_string_lossy().replace('\\', "/"))
                }
                _ => true,
            };
            if !kept {
                return false;
            }
            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
            match rules.matched(e.path(), is_dir) {
                Match::Ignore(()) => false,
                Match::Whitelist(()) => true,
                Match::None => show_hidden || !e.file_name().as_encoded_bytes().starts_with(b"."),
            }
        });
    Ok(builder.build())
}

fn classify(dent: ignore::DirEntry, root: &Path, canonical_root: &Path) -> Option<Walked> {
    let file_type = dent.file_type()?;
    if file_type.is_dir() {
        return None; // the files below are counted one by one
    }
    let rel = dent.path().strip_prefix(root).ok()?;
    if rel.as_os_str().is_empty() {
        return None;
    }
    // Exactly the path's components, joined with `/`: never a rewrite of a name.
    let mut parts = Vec::new();
    for component in rel.components() {
        match component {
            Component::Normal(name) => match name.to_str() {
                Some(name) if !bad_name(name) => parts.push(name),
                _ => return Some(Walked::BadName),
            },
            _ => return Some(Walked::BadName),
        }
    }
    let rel = parts.join("/");
    if file_type.is_symlink() {
        let outside = match dent.path().canonicalize() {
            Ok(target) => !target.starts_with(canonical_root),
            Err(_) => false, // dangling or a loop: nothing to read either way
        };
        Some(Walked::Link(rel, outside))
    } else if file_type.is_file() {
        // The size is checked when the file is opened: a `stat` here would double the calls.
        Some(Walked::File(rel))
    } else {
        None
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// Both ways of opening (openat2 where the kernel has it, per component everywhere)
    /// refuse a link anywhere on the path, and a FIFO neither blocks nor is read.
    #[test]
    fn links_on_the_way_and_special_files_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "secret").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/ok.txt"), "ok").unwrap();
        symlink(outside.path(), root.join("a/out")).unwrap();
        symlink(outside.path().join("secret"), root.join("a/b/link")).unwrap();
        let fifo = std::ffi::CString::new(root.join("fifo").to_str().unwrap()).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);

        let beneath = Beneath::open(root).unwrap();
        type Open<'a> = &'a dyn Fn(&str) -> std::io::Result<std::fs::File>;
        let opens: [(&str, Open); 2] = [
            ("per component", &|rel| beneath.open_per_component(rel)),
            ("any", &|rel| beneath.open_file(rel)),
        ];
        for (how, open) in opens {
            assert!(open("a/b/ok.txt").is_ok(), "{how}");
            assert!(open("a/out/secret").is_err(), "{how}: folder link followed");
            assert!(open("a/b/link").is_err(), "{how}: file link followed");
            assert!(open("a/../a/b/ok.txt").is_err(), "{how}: `..` accepted");
        }
        assert!(matches!(
            read_text(&beneath, "fifo", 1 << 20),
            Read::Unreadable(_)
        ));
        assert!(matches!(
            read_text(&beneath, "a/b/ok.txt", 1 << 20),
            Read::Text(_)
        ));
    }
}
