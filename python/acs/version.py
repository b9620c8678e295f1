"""What `acs --version` says: acs's version, how the engine was built, and the tree-sitter
grammars compiled into it (their crates' versions and the ABI each grammar declares)."""

from __future__ import annotations

from typing import TypedDict, cast

import orjson

from . import _core


class Grammar(TypedDict):
    language: str
    crate: str
    version: str | None  # from Cargo.lock at build time; None when built without one
    abi: int


class BuildInfo(TypedDict):
    version: str  # the engine crate's version, which is acs's (maturin takes it from Cargo)
    profile: str | None
    target: str | None
    rustc: str | None
    commit: str | None  # None when built outside a git checkout (from an sdist)
    tree_sitter: str | None
    grammars: list[Grammar]


def build_info() -> BuildInfo:
    """The engine's build facts, as `build.rs` embedded them."""
    return cast(BuildInfo, orjson.loads(_core.build_info()))


def version_text() -> str:
    """Three lines: acs, the engine's build, the grammars."""
    info = build_info()
    commit = f"commit {info['commit'][:12]}" if info["commit"] else "commit unknown"
    build = ", ".join(x for x in (info["profile"], info["target"], commit, info["rustc"]) if x)
    grammars = ", ".join(
        f"{g['language']} {g['version'] or '?'} (ABI {g['abi']})" for g in info["grammars"]
    )
    return (
        f"acs {_core.__version__}\n"
        f"engine: acs-core {info['version']} ({build})\n"
        f"tree-sitter {info['tree_sitter'] or '?'}; grammars: {grammars}"
    )
