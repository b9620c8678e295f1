"""What kind of file a path is: `test`, `changelog`, `docs`, `config` or `source`, by its
name and folders alone (the miner never reads file contents to decide).

* **test**: under `tests/`, `test/`, `testing/`, `test_data/`, `testdata/` or `__tests__/`;
  `test_*`, `*_test.*`, `*_tests.*`, `tests.py`, `conftest.py` (the test part of
  `acs.joiner`'s auxiliary paths). Their diff is an instance's `test_patch`.
* **changelog**: release notes: `CHANGES*`, `CHANGELOG*`, `HISTORY*`, `NEWS*`,
  `RELEASE_NOTES*`, `whatsnew*`, and news fragments under `changelog.d/`, `changes/`,
  `newsfragments/`, `news/`, `unreleased/` (never a `.py` file).
* **docs**: `.md`, `.rst`, `.txt`, `.adoc`, `.ipynb`; anything under `doc/`, `docs/` or
  `documentation/` (a docs `conf.py` too); `README*`, `AUTHORS*`, `LICENSE*`,
  `CONTRIBUTING*` and the like.
* **config**: build, packaging, CI and tool settings: `.toml`, `.cfg`, `.ini`, `.yml`,
  `.yaml`, `.json`, `.lock`; `setup.py`, `noxfile.py`, `Makefile`, `Dockerfile`,
  `MANIFEST.in`, `requirements*.txt`; dotfiles; anything under `.github/`, `.circleci/`,
  `.gitlab/`, `.ci/`, `requirements/`. `setup.py` is code, but a fix to it is a packaging
  fix, which is why it is config. Data files in JSON count as config: an approximation.
* **source**: everything else (Python, C, templates, stubs, data the code reads).

The first kind that matches wins, in the order above.
"""

from __future__ import annotations

import re
from typing import Literal

Kind = Literal["test", "changelog", "docs", "config", "source"]

_TEST = re.compile(
    r"(^|/)(tests?|testing|test[-_]?data|__tests__)(/|$)|"
    r"(^|/)test_[^/]*$|_tests?\.\w+$|(^|/)tests?\.py$|(^|/)conftest\.py$",
    re.I,
)
_CHANGELOG = re.compile(
    r"(^|/)(changes|changelog|history|news|release[-_ ]?notes|whatsnew)([-_.][^/]*)?$|"
    r"(^|/)(changelog\.d|changes|newsfragments|news|unreleased|release[-_]?notes|whatsnew)/",
    re.I,
)
_DOCS = re.compile(
    r"\.(md|markdown|rst|txt|adoc|asciidoc|rdoc|ipynb)$|"
    r"(^|/)(docs?|documentation)/|"
    r"(^|/)(readme|authors|contributors|license|licence|copying|contributing|"
    r"code_of_conduct|security|support|maintainers|thanks)([-_.][^/]*)?$",
    re.I,
)
_CONFIG = re.compile(
    r"\.(toml|cfg|ini|ya?ml|json|lock|conf)$|"
    r"(^|/)(setup\.py|noxfile\.py|fabfile\.py|manifest\.in|makefile|gnumakefile|dockerfile|"
    r"containerfile|cmakelists\.txt|pipfile|justfile|procfile|codecov\.yml)$|"
    r"(^|/)(requirements|constraints)[^/]*\.(txt|in)$|"
    r"(^|/)\.[^/]+$|"
    r"(^|/)(\.github|\.circleci|\.gitlab|\.ci|\.azure-pipelines|requirements)/",
    re.I,
)


def path_kind(path: str) -> Kind:
    """The kind of file at `path` (a repository-relative path with `/` separators)."""
    if _TEST.search(path):
        return "test"
    if _CHANGELOG.search(path) and not path.endswith(".py"):
        return "changelog"
    if _CONFIG.search(path) and not _in_docs(path):
        return "config"
    if _DOCS.search(path):
        return "docs"
    return "source"


def is_test(path: str) -> bool:
    return path_kind(path) == "test"


def _in_docs(path: str) -> bool:
    """Under a docs folder, a `.json` or a `conf.py` is documentation, not project config."""
    return re.search(r"(^|/)(docs?|documentation)/", path, re.I) is not None
