"""The engine's error kinds and the exception classes of `acs.errors` are one table.

Rust declares the kinds (`ErrorKind` in crates/acs-core/src/error.rs) and exports them as
`_core.error_kinds()`; `acs.errors` has one class per kind and registers them with the
extension at import. These tests fail when either side adds, removes or renames a kind.
"""

from __future__ import annotations

import pytest

import acs
from acs import _core, errors

RUST_KINDS = dict(_core.error_kinds())


def test_every_engine_error_kind_has_exactly_one_python_class():
    assert set(errors._BY_KIND) == set(RUST_KINDS)
    classes = list(errors._BY_KIND.values())
    assert len(set(classes)) == len(classes), "one class per kind"


def test_each_class_is_documented_by_its_kinds_description():
    for kind, cls in errors._BY_KIND.items():
        assert (cls.__doc__ or "").startswith(RUST_KINDS[kind]), (kind, cls.__name__)


def test_each_class_round_trips_through_its_kind():
    for kind, cls in errors._BY_KIND.items():
        error = errors.error_for(kind, "m")
        assert type(error) is cls and isinstance(error, acs.AcsError)
        assert errors.kind_of(error) == kind


@pytest.mark.parametrize("drop", sorted(RUST_KINDS))
def test_a_registration_missing_a_kind_is_refused(drop):
    partial = {k: c for k, c in errors._BY_KIND.items() if k != drop}
    try:
        with pytest.raises(ValueError, match=f"missing {drop}; unknown none$"):
            _core._register_errors(partial)
    finally:
        _core._register_errors(errors._BY_KIND)


def test_a_registration_with_an_unknown_kind_or_a_non_exception_is_refused():
    try:
        with pytest.raises(ValueError, match=r"missing none; unknown renamed$"):
            _core._register_errors({**errors._BY_KIND, "renamed": errors.AcsError})
        with pytest.raises(TypeError, match="`internal` is not an Exception"):
            _core._register_errors({**errors._BY_KIND, "internal": int})
    finally:
        _core._register_errors(errors._BY_KIND)


def test_the_engine_raises_the_registered_class():
    repo = acs.Repo.from_files({"a.py": "x = 1\n"})
    with pytest.raises(errors.InvalidPatternError):
        repo.grep("(")
    with pytest.raises(errors.PathNotFoundError):
        repo.read("missing.py")
    with pytest.raises(errors.PathOutsideRepoError):
        repo.read("../outside.py")
