"""No test bounds the code under test in wall time (tests/helpers/cpu_clock.py says why, and what to
use instead). Seen: an assert on a wall-clock read, a wall-clock duration kept to assert on,
a Hypothesis deadline; in Rust, a comparison with `.elapsed()` or a duration taken from it.
A line that is no such bound (a hang guard's limit, a timeout's own time, a printed
measurement) carries the comment `wall-clock: allowed` and its reason. Waits for an event
with a wall-clock limit (hang guards) are not seen, and need no comment."""

from __future__ import annotations

import re

from helpers import ROOT

MARKER = "wall-clock: allowed"
HELPERS = {
    "tests/helpers/cpu_clock.py",
    "tests/test_timing_lint.py",
    "crates/acs-core/tests/common/mod.rs",
}

WALL = r"\b(time\.)?(time|perf_counter|monotonic)(_ns)?\("
PYTHON = re.compile(
    rf"^\s*assert\b.*{WALL}"  # an assert on the wall clock
    rf"|^\s*\w+\s*=\s*{WALL}\)\s*-"  # a wall-clock duration, to assert on later
    r"|\bdeadline=[1-9]"  # Hypothesis's deadline is wall time
)
TEST_MODULE = re.compile(r"#\[cfg\(test\)\]\s*mod\s")
RUST = re.compile(
    r"\.elapsed\(\)[\w.()]*\s*[<>]"  # a comparison with a wall-clock duration
    r"|\blet\s+\w+\s*=\s*[\w.]*\.elapsed\(\)"  # a duration, to assert on later
)


def wall_clock_reads(text: str, pattern: re.Pattern[str]) -> list[int]:
    """The numbers of the lines of `text` that read the wall clock without the marker."""
    return [
        number
        for number, line in enumerate(text.splitlines(), 1)
        if pattern.search(line) and MARKER not in line
    ]


def code_of_tests() -> list[tuple[str, str, re.Pattern[str]]]:
    """(path, test code, pattern) for every test source: Python tests, Rust integration tests,
    and the `#[cfg(test)]` part of each Rust source file."""
    out = []
    for path in sorted(ROOT.glob("tests/**/*.py")):
        out.append((path, path.read_text(), PYTHON))
    for path in sorted(ROOT.glob("crates/*/tests/**/*.rs")):
        if "fixtures" not in path.parts:
            out.append((path, path.read_text(), RUST))
    for path in sorted(ROOT.glob("crates/*/src/**/*.rs")):
        text = path.read_text()
        start = TEST_MODULE.search(text)
        if start:
            # Keep the line numbers: blank out the code before the tests.
            out.append(
                (path, "\n" * text.count("\n", 0, start.start()) + text[start.start() :], RUST)
            )
    return [
        (str(path.relative_to(ROOT)), text, pattern)
        for path, text, pattern in out
        if str(path.relative_to(ROOT)) not in HELPERS
    ]


def test_no_test_bounds_wall_time() -> None:
    found = [
        f"{path}:{number}"
        for path, text, pattern in code_of_tests()
        for number in wall_clock_reads(text, pattern)
    ]
    assert not found, (
        "wall-clock reads in tests (bound CPU time, see tests/helpers/cpu_clock.py and "
        f"crates/acs-core/tests/common/mod.rs; or mark the line `{MARKER}: why`): {found}"
    )


def test_the_lint_sees_wall_clock_bounds() -> None:
    python = "start = time.perf_counter()\nx = 1\nassert time.monotonic() - start < 2\n"
    python += "took = time.perf_counter() - start\n"
    assert wall_clock_reads(python, PYTHON) == [3, 4]
    assert wall_clock_reads("@settings(deadline=2000)\n", PYTHON) == [1]
    # Waits for an event, with a wall-clock limit, are hang guards.
    wait = "while not done() and time.monotonic() < end:\n    time.sleep(0.1)\n"
    assert wall_clock_reads(wait + "t = time.process_time() - t0\n", PYTHON) == []
    rust = "let t = Instant::now();\nlet d = Cancel::with_deadline(Instant::now() + d);\n"
    rust += "assert!(t.elapsed() < limit);\nlet took = t.elapsed();\n"
    rust += (
        "    t.elapsed().as_secs_f64() > 1.0,\nwhile t.elapsed() < d {} // wall-clock: allowed\n"
    )
    assert wall_clock_reads(rust, RUST) == [3, 4, 5]
