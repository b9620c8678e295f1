"""The examples in docstrings run."""

from __future__ import annotations

import doctest

import pytest

import acs
import acs.issue


@pytest.mark.parametrize("module", [acs, acs.issue])
def test_docstring_examples(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
