"""Shared helpers of the test suite. Tests import them from here (`from helpers.repos import
git`), never from another test module or from a conftest.py: a conftest holds fixtures and
hooks only, and a test module holds tests (tests/test_layout.py checks both).

The root tests/conftest.py puts tests/ on `sys.path`, so `helpers` imports the same way from
a checkout (pyproject's pytest options), the wheel stage (scripts/test-wheel, no pyproject)
and the SkyRL stage (scripts/test-skyrl).
"""

from __future__ import annotations

from pathlib import Path

# The project root: the folder holding tests/ (a checkout, or the wheel stage's copy of
# tests/, docs/, training/ and the top-level Markdown files). Tests read project files from
# here, whatever folder of tests/ they sit in.
ROOT = Path(__file__).resolve().parents[2]
