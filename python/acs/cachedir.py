"""Where acs keeps its on-disk index (the per-file store): the user's cache folder, unless
told otherwise.

- `ACS_CACHE_DIR`: the acs cache folder (the store goes in its `index/` folder);
- `ACS_NO_CACHE=1`: no on-disk index at all (indexes live in memory only);
- `ACS_CACHE_MAX_MB`: budget of the store (default 2048); the oldest generation goes first.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DEFAULT_MAX_MB = 2048


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
    return user_cache_root() / "index"


# The engine takes the budget as an unsigned 64-bit count of bytes.
MAX_BYTES = 2**64 - 1


def max_cache_bytes() -> int:
    """The index folder's budget in bytes: `ACS_CACHE_MAX_MB` (a larger value than the engine
    can hold means no limit; an unreadable one, the default)."""
    try:
        mb = int(os.environ.get("ACS_CACHE_MAX_MB", DEFAULT_MAX_MB))
    except ValueError:
        mb = DEFAULT_MAX_MB
    return min(max(mb, 0) << 20, MAX_BYTES)
