//! Lexical normalisation of user-supplied paths. The engine only ever reads the in-memory
//! snapshot, so this is about giving a precise error, not about filesystem safety.

use crate::error::{Error, Result};
use std::path::Path;

/// Normalise `raw` to a repository-relative path with `/` separators.
///
/// `./a//b/../c` becomes `a/c`. An absolute path is accepted when it lies under `root`
/// (a directory source); anything that climbs above the root is [`Error::PathOutsideRepo`].
/// The empty path (or `.`) means the repository root and normalises to `""`.
pub(crate) fn normalize(raw: &str, root: Option<&Path>) -> Result<String> {
    let outside = || Error::PathOutsideRepo {
        path: raw.to_string(),
    };
    let unified = raw.replace('\\', "/");
    let relative: &str = if unified.starts_with('/') || has_drive_prefix(&unified) {
        let root = root.ok_or_else(outside)?;
        let root = root.to_string_lossy().replace('\\', "/");
        let root = root.trim_end_matches('/');
        match unified.strip_prefix(root) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
            _ => return Err(outside()),
        }
    } else {
        &unified
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(outside());
                }
            }
            other => parts.push(other),
        }
    }
    Ok(parts.join("/"))
}

/// `C:` starts an absolute path only on Windows; elsewhere a folder may be named `C:`.
fn has_drive_prefix(path: &str) -> bool {
    let bytes = path.as_bytes();
    cfg!(windows) && bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_cleaned() {
        assert_eq!(normalize("./a//b/../c.py", None).unwrap(), "a/c.py");
        assert_eq!(normalize("a\\b.py", None).unwrap(), "a/b.py");
        assert_eq!(normalize(".", None).unwrap(), "");
    }

    #[test]
    fn climbing_above_the_root_is_refused() {
        for bad in ["..", "../etc/passwd", "a/../../b"] {
            assert!(
                matches!(normalize(bad, None), Err(Error::PathOutsideRepo { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn absolute_paths_must_lie_under_the_root() {
        let root = Path::new("/srv/repo");
        assert_eq!(normalize("/srv/repo/x/y.py", Some(root)).unwrap(), "x/y.py");
        assert!(normalize("/srv/repository/x.py", Some(root)).is_err());
        assert!(normalize("/etc/passwd", Some(root)).is_err());
        assert!(normalize("/etc/passwd", None).is_err());
    }

    #[test]
    fn drive_prefixes_are_absolute_only_on_windows() {
        if cfg!(windows) {
            assert!(normalize("C:/x", None).is_err());
            assert!(normalize("C:\\x", None).is_err());
        } else {
            assert_eq!(normalize("C:/x", None).unwrap(), "C:/x");
            assert_eq!(normalize("C:", None).unwrap(), "C:");
        }
    }
}
