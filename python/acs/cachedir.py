"""Where acs keeps its on-disk index (the per-file store): the user's cache folder, unless
told otherwise.

- `ACS_CACHE_DIR`, or `--cache-dir DIR` for one command: the acs cache folder (the store goes
  in its `index/` folder, as `index/files-v1/`); both name the same folder, so a store
  written with one is found with the other;
- `ACS_NO_CACHE=1`: no on-disk index at all (indexes live in memory only);
- `ACS_CACHE_MAX_MB`: budget of the store, a whole number of megabytes (default 2048); the
  oldest generation goes first. Anything else is an `InvalidArgumentError`.

`Repo.open(index_cache=FOLDER)` takes the index folder itself (the store goes in
`FOLDER/files-v1/`).
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from .errors import InvalidArgumentError

DEFAULT_MAX_MB = 2048
# The index folder inside the acs cache folder, and the engine's store folder inside that
# (`FOLDER` in crates/acs-core/src/index/filestore.rs).
INDEX_FOLDER = "index"
STORE_FOLDER = "files-v1"


def user_cache_root() -> Path:
    """The platform's per-user cache folder for acs."""
    if root := os.environ.get("ACS_CACHE_DIR"):
        return Path(root)
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "acs" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "acs"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "acs"


def default_index_cache() -> Path | None:
    """The index folder to use by default, or None when the on-disk index is turned off."""
    if os.environ.get("ACS_NO_CACHE", "").strip().lower() in {"1", "true", "yes", "on"}:
        return None
    return user_cache_root() / INDEX_FOLDER


def index_folder(cache_dir: str | os.PathLike[str]) -> Path:
    """The index folder of the acs cache folder `cache_dir` (`--cache-dir DIR`, which means
    what `ACS_CACHE_DIR=DIR` means). Earlier versions put the store of `--cache-dir DIR` in
    `DIR/files-v1/`: such a store is moved to `DIR/index/files-v1/` here, so it stays warm."""
    index = Path(cache_dir) / INDEX_FOLDER
    _adopt_earlier_store(Path(cache_dir) / STORE_FOLDER, index / STORE_FOLDER)
    return index


def _adopt_earlier_store(earlier: Path, target: Path) -> None:
    """Move the store folder `earlier` to `target` when it is a real folder of this user's
    and `target` does not exist yet. Best effort: if it cannot be moved, the index is built
    anew (another process may have moved it first)."""
    try:
        found = os.lstat(earlier)
    except OSError:
        return
    ours = not hasattr(os, "geteuid") or found.st_uid == os.geteuid()
    if not stat.S_ISDIR(found.st_mode) or not ours or os.path.lexists(target):
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(earlier, target)
    except OSError:
        pass


# The engine takes the budget as an unsigned 64-bit count of bytes.
MAX_BYTES = 2**64 - 1


def max_cache_bytes() -> int:
    """The index folder's budget in bytes: `ACS_CACHE_MAX_MB` megabytes (unset or empty: the
    default; more than the engine can hold: no limit). A value that is not a whole number
    (`500M`, `abc`, `nan`, `-1`) is an `InvalidArgumentError`: taking the default instead
    would let the store grow far past the budget the user meant to set."""
    raw = os.environ.get("ACS_CACHE_MAX_MB", "")
    text = raw.strip()
    if not text:
        return DEFAULT_MAX_MB << 20
    if not (text.isascii() and text.isdigit()):
        raise InvalidArgumentError(
            f"ACS_CACHE_MAX_MB must be a whole number of megabytes (0 or more, like 2048), "
            f"got {raw!r:.40}"
        )
    # Over 20 digits is past 2**64 bytes anyway (and int() refuses very long digit strings).
    return MAX_BYTES if len(text) > 20 else min(int(text) << 20, MAX_BYTES)
