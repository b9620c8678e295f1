"""Finding each instance's repository: a local git directory (a bare mirror or a work tree)
under a folder of repositories, read at the base commit without a checkout; optionally a
bare clone from GitHub into a cache when it is missing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from ..errors import AcsError

_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
CLONE_URL = "https://github.com/{repo}"
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "acs" / "repos"


def _valid(repo: str) -> bool:
    return bool(_NAME.match(repo)) and not any(p in (".", "..") for p in repo.split("/"))


class RepositoryMissing(AcsError):
    """No git directory for a repository (and no clone of it)."""


def candidates(repos_dir: Path, repo: str) -> list[Path]:
    """Where `owner/name` may live under `repos_dir`, in the order they are tried."""
    owner, name = repo.split("/", 1)
    bases = [
        repos_dir / f"{owner}__{name}",
        repos_dir / f"{owner}+{name}" / "repo",
        repos_dir / f"{owner}+{name}",
        repos_dir / owner / name,
        repos_dir / name,
    ]
    out = []
    for base in bases:
        out.append(base)
        out.append(base.with_name(base.name + ".git"))
    return out


def is_git_dir(path: Path) -> bool:
    """A bare repository or a `.git` folder (HEAD, objects, refs), or a work tree with `.git`."""
    if (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir():
        return True
    return (path / ".git").exists()


def find_repository(repos_dir: str | os.PathLike[str], repo: str) -> Path:
    """The git directory of `repo` ("owner/name") under `repos_dir`, trying the layouts
    `owner__name`, `owner+name/repo`, `owner+name`, `owner/name` and `name`, each also with
    a `.git` suffix, bare or a work tree. Raises `RepositoryMissing` naming what was tried."""
    if not _valid(repo):
        raise RepositoryMissing(f"not a repository name (owner/name): {repo!r}")
    root = Path(repos_dir)
    for path in candidates(root, repo):
        if path.is_dir() and is_git_dir(path):
            return path
    owner, name = repo.split("/", 1)
    raise RepositoryMissing(
        f"no git repository for {repo} under {root} "
        f"(tried {owner}__{name}, {owner}+{name}/repo, {owner}+{name}, {owner}/{name}, {name})"
    )


def clone_repository(repo: str, cache_dir: str | os.PathLike[str], timeout_s: float = 1800) -> Path:
    """A bare clone of https://github.com/owner/name (or of `$ACS_CLONE_URL` with `{repo}`
    replaced by owner/name) into `cache_dir/owner__name.git`, kept there for later runs.
    Raises `RepositoryMissing` when the clone fails (no network, say)."""
    if not _valid(repo):
        raise RepositoryMissing(f"not a repository name (owner/name): {repo!r}")
    owner, name = repo.split("/", 1)
    target = Path(cache_dir) / f"{owner}__{name}.git"
    if target.is_dir() and is_git_dir(target):
        return target
    partial = target.with_name(target.name + ".part")
    partial.parent.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("ACS_CLONE_URL", CLONE_URL).replace("{repo}", repo)
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    try:
        shutil.rmtree(partial, ignore_errors=True)
        subprocess.run(
            ["git", "clone", "--bare", "--quiet", url, str(partial)],
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=env,
        )
        partial.rename(target)
    except subprocess.CalledProcessError as e:
        why = (e.stderr or "").strip().splitlines()
        raise RepositoryMissing(
            f"cannot clone {url}: {why[-1] if why else f'git exit {e.returncode}'}"
        ) from e
    except subprocess.TimeoutExpired as e:
        raise RepositoryMissing(f"cannot clone {url}: no result after {timeout_s:.0f} s") from e
    except OSError as e:
        raise RepositoryMissing(f"cannot clone {url}: {e.strerror}") from e
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


def locate(
    repos_dir: str | os.PathLike[str],
    repo: str,
    *,
    clone: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """`find_repository`, then (with `clone`) the clone cache, then a fresh bare clone."""
    try:
        return find_repository(repos_dir, repo)
    except RepositoryMissing as missing:
        if not clone:
            raise
        cache = Path(cache_dir) if cache_dir is not None else DEFAULT_CACHE
        try:
            return find_repository(cache, repo)
        except RepositoryMissing:
            pass
        try:
            return clone_repository(repo, cache)
        except RepositoryMissing as e:
            raise RepositoryMissing(f"{missing}; {e}") from e


def commit_order(git_dir: Path, commits: Iterable[str]) -> list[str]:
    """`commits` in history order, oldest first (parents before children: `git rev-list
    --topo-order`), so consecutive snapshots share most blobs. Commits git does not know, or
    all of them when git fails, keep their order at the end."""
    wanted: Sequence[str] = list(dict.fromkeys(commits))
    if len(wanted) < 2:
        return list(wanted)
    try:
        out = subprocess.run(
            [
                *("git", "-C", str(git_dir), "rev-list", "--topo-order", "--reverse"),
                *("--ignore-missing", "--stdin"),
            ],
            input="\n".join(wanted) + "\n",
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return list(wanted)
    position = {sha: i for i, sha in enumerate(out.split())}

    def where(c: str) -> int | None:
        if c in position:
            return position[c]
        if len(c) >= 4:  # an abbreviated id
            return next((i for sha, i in position.items() if sha.startswith(c)), None)
        return None

    known = [(where(c), i, c) for i, c in enumerate(wanted)]
    placed = sorted((p, i, c) for p, i, c in known if p is not None)
    return [c for _, _, c in placed] + [c for p, _, c in known if p is None]
