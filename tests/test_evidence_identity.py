"""The engine's evidence reader (`acs_core::evidence`) against the Python reader it replaced
(`tests/helpers/evidence_reference.py`, frozen): the feature tables the shipped model reads, the
hand joiner's rankings and the learned ranker's answers must be the same to the bit, on live
searches, on generated searches that aim at every tie, path shape and Unicode corner the two
languages could read differently, and on recorded searches.

`ACS_EVIDENCE_RECORDS=records.jsonl` (from `python -m acs.train.ranker.collect`, e.g. on the
development set: its records stay outside the repository) adds a test over every record of
that file, and prints how many rows and values it compared.

Deliberate changes since the move, each pinned by its own tests instead
(`tests/rank/test_features.py`): function candidates come from the best `FUNCTION_FILES`
files (the reference is run with the engine's number), and the engine computes columns the
reference never had (compared here: the reference's columns, by name). The learned rankings
are compared with the model shipped when the reference was frozen
(`tests/helpers/ranker_reference_columns.json`, which reads only the reference's columns):
today's model reads the new columns too, which the reference cannot compute."""

from __future__ import annotations

import math
import os
import random
import re
import struct
import unicodedata
from pathlib import Path
from typing import Any

import orjson
import pytest

import acs
import helpers.evidence_reference as ref
from acs.evidence import read_search
from acs.issue import parse_issue
from acs.joiner import rank as hand_rank
from acs.policies.base import Turn
from acs.rank.features import (
    FILE_FEATURES,
    FUNCTION_FEATURES,
    FUNCTION_FILES,
    file_features,
    function_features,
)
from acs.rank.model import LearnedRanker

# The reference, frozen, with the engine's number of files whose functions are candidates
# (a deliberate change: 10 when the reference was written).
ref.FUNCTION_FILES = FUNCTION_FILES
REFERENCE_MODEL = LearnedRanker(
    Path(ref.__file__).with_name("ranker_reference_columns.json").read_text()
)


def ulps(a: float, b: float) -> int:
    """How many representable doubles apart `a` and `b` are (0: the same bits, or both
    missing)."""
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return 0 if math.isnan(a) and math.isnan(b) else 1 << 62

    def ordered(x: float) -> int:
        (i,) = struct.unpack("<q", struct.pack("<d", x))
        return i if i >= 0 else -(i & 0x7FFFFFFFFFFFFFFF)

    return abs(ordered(a) - ordered(b))


class Tally:
    """What one comparison covered: rows, values, and the largest difference in ulps."""

    def __init__(self) -> None:
        self.rows = self.values = self.rankings = self.max_ulps = 0
        self.file_rows = self.function_rows = 0

    def table(
        self, got: Any, want: Any, names: tuple[str, ...], got_names: tuple[str, ...], what: str
    ) -> None:
        """Same keys, and rows of the same values, bit for bit (NaN: missing, in both), in
        every column of the reference (`names`), found by name among the engine's
        (`got_names`: a superset)."""
        assert got.keys == want.keys, what
        columns = [got_names.index(n) for n in names]
        for key, row, w in zip(want.keys, got.rows, want.rows, strict=True):
            assert len(row) == len(got_names) and len(w) == len(names), (what, key)
            g = [row[c] for c in columns]
            worst = max((ulps(x, y) for x, y in zip(g, w, strict=True)), default=0)
            self.max_ulps = max(self.max_ulps, worst)
            wrong = [(n, x, y) for n, x, y in zip(names, g, w, strict=True) if ulps(x, y)]
            assert not wrong, (what, key, wrong)
            self.rows += 1
            self.values += len(g)
            if names == ref.FUNCTION_FEATURES:
                self.function_rows += 1
            else:
                self.file_rows += 1

    def ranking(self, got: dict[str, Any], want: dict[str, Any], what: str) -> None:
        assert got["files"] == want["files"], what
        assert got["functions"] == want["functions"], what
        assert got["lines"] == want["lines"], what
        assert list(got["why"].items()) == list(want["why"].items()), what
        # The JSON a caller prints is the same text, key order included.
        assert orjson.dumps(got) == orjson.dumps(want), what
        self.rankings += 1


def compare(
    issue: str, turns: list[Turn], tally: Tally, *, top_ks: tuple[int, ...] = (10,)
) -> None:
    """Every output of the engine's reader against the reference's, for one search."""
    signals = parse_issue(issue)
    table, search = file_features(signals, turns, issue)
    want, cands = ref.file_features(signals, turns, issue)
    tally.table(table, want, ref.FILE_FEATURES, FILE_FEATURES, f"{issue[:30]!r} file table")
    model = REFERENCE_MODEL
    # The file scores the function rows read: the reference model's, as at inference, and the
    # reference's hand scores (ties, as out-of-fold scores of a weak model may have).
    raw = model.files.predict(want.rows)
    hand_norm = ref.FILE_FEATURES.index("hand_norm")
    hand = {k: r[hand_norm] for k, r in zip(want.keys, want.rows, strict=True)}
    hand = {k: 0.0 if math.isnan(v) else v for k, v in hand.items()}
    for scores in (dict(zip(want.keys, raw, strict=True)), hand):
        got = function_features(search, scores)
        tally.table(
            got,
            ref.function_features(signals, turns, issue, cands, scores),
            ref.FUNCTION_FEATURES,
            FUNCTION_FEATURES,
            f"{issue[:30]!r} function table",
        )
    for top_k in top_ks:
        for top_k_functions in (None, 2, 100):
            what = f"{issue[:30]!r} top {top_k}/{top_k_functions}"
            tally.ranking(
                hand_rank(signals, turns, issue, top_k, top_k_functions),
                ref.rank(signals, turns, issue, top_k, top_k_functions),
                f"hand {what}",
            )
            tally.ranking(
                model.rank(signals, turns, issue, top_k, top_k_functions),
                ref.learned_rank(model, signals, turns, issue, top_k, top_k_functions),
                f"learned {what}",
            )


def record_turns(rec: dict[str, Any]) -> list[Turn]:
    return [Turn(t["tasks"], t["outcomes"]) for t in rec["turns"]]


@pytest.mark.skipif(not os.environ.get("ACS_EVIDENCE_RECORDS"), reason="ACS_EVIDENCE_RECORDS unset")
def test_every_record_of_a_collected_file_reads_the_same() -> None:
    tally = Tally()
    n = 0
    with open(os.environ["ACS_EVIDENCE_RECORDS"], "rb") as f:
        for line in f:
            rec = orjson.loads(line)
            if "error" in rec:
                continue
            compare(rec["issue"], record_turns(rec), tally)
            n += 1
    print(
        f"\n{n} records: {tally.rows} rows ({tally.file_rows} file rows, "
        f"{tally.function_rows} function rows), {tally.values} values, {tally.rankings} "
        f"rankings compared; max difference {tally.max_ulps} ulp"
    )
    assert tally.max_ulps == 0


# -- live searches -----------------------------------------------------------------------------

LIVE_ISSUES = [
    "`localize` returns no functions when the issue quotes a traceback\n"
    'Traceback (most recent call last):\n  File "acs/localize.py", line 180, in localize\n'
    "    ranked = ranker(signals, turns, issue, top_k, top_k_functions)\n"
    "KeyError: 'why'",
    "parse_issue misses dotted identifiers like DataFrame.to_csv in backticks",
    "The MCP server should report InvalidArgumentError for a bad top_k; see tests/test_mcp.py",
    "merge_lines merges ranges of different files",
    "Error: 'the issue text is empty' even though the issue has text",
    "Repo.open_git ignores the exclude option; RepositoryError should name the path",
    "the BM25 baseline ranks README.md above the source files",
    "`acs eval --compare` crashes when a run folder has no summary.json",
    "set_cache_budgets(0, 0) leaks memory in term_cache_usage",
    "parse_isue does not find frames in JavaScript stack traces (at foo (src/app.js:10:5))",
    "TreeModel.predict_mappings should refuse unknown features with InvalidArgumentError",
    "Warnings: 'the issue is longer than 65,536 characters' is shown twice",
]


def known_tools(turn: dict[str, Any]) -> Turn:
    """A turn without the calls the frozen reader never knew (the import graph, asked in the
    drill-down and scored in a third turn, came after it): its identity holds for the rest."""
    kept = [i for i, t in enumerate(turn["tasks"]) if t["tool"] != "imports"]
    return Turn([turn["tasks"][i] for i in kept], [turn["outcomes"][i] for i in kept])


def test_live_searches_read_the_same() -> None:
    repo = acs.Repo.open(Path(acs.__file__).parent)
    tally = Tally()
    for issue in LIVE_ISSUES:
        result = acs.localize(repo, issue, trajectory=True)
        turns = [known_tools(t) for t in result["trajectory"]["turns"][:2]]
        compare(result["trajectory"]["issue"], turns, tally, top_ks=(3, 10))
    assert tally.rows > 100 and tally.max_ulps == 0


# -- generated searches ------------------------------------------------------------------------

PATHS = [
    "pkg/widget.py", "pkg/widget.pyx", "pkg/widget py.py", "pkg/it's.py", 'pkg/q"x.py',
    "pkg/back\\slash.py", "pkg/tab\tname.py", "pkg/nl.py\n", "pkg/ünïcode.py", "pkg/Ａwide.py",
    "pkg/core/__init__.py", "pkg/renderWidget.py", "tests/test_widget.py", "pkg/widget_test.py",
    "docs/conf.py", "README.md", "vendor/lib.js", "src/x_test.go", "a", "pkg/sw.swİft",
    "pkg/x.PY", "pkg/tests", "pkg/testsuite/run.py", "pkg/io/render_widget.py", "conftest.py",
    "pkg/a.b/c", "pkg/\u00a0odd.py", "pkg/\u0301mark.py",
]  # fmt: skip
NAMES = [
    "render_widget", "Widget", "Widget.draw", "_private", "__init__", "__", "_", "Ünï.f",
    "draw", "a.b.c", "renderWidget", "parse", "x²", "it's",
]  # fmt: skip
KINDS = ["function", "method", "class", "struct"]
WORDS = [
    "widget", "render", "Widget", "renderWidget", "tests/", "test_widget", "x_test.py",
    "conftest.py", "ünïcode", "core", "init", "draw", "the", "README", "swİft", "İstanbul",
    "ΣΑΣ", "x²", "\u0301", "latest_run", "Ａwide", "q\"x", "it's",
]  # fmt: skip
SPACES = [" ", "\n", "\t", "\x1c", "\x1f", "\u00a0", "\u2003", "\u200b", "  "]


class Generator:
    """A random search: tool results drawn from the pools above, with tied scores, integer
    scores, zero scores, repeated definitions with other spans, and calls that failed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.ties: list[float] = []
        self.tasks: list[dict[str, Any]] = []
        self.outcomes: list[dict[str, Any]] = []

    def issue(self) -> str:
        rng = self.rng
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 4)))
        body = "".join(rng.choice(WORDS) + rng.choice(SPACES) for _ in range(rng.randint(0, 25)))
        if rng.random() < 0.4:
            path = rng.choice(PATHS).replace("\n", "")
            line, name = rng.randint(1, 400), rng.choice(NAMES)
            body += f'\nTraceback:\n  File "/site/{path}", line {line}, in {name}\n'
        return f"{title}\n{body}" if rng.random() < 0.8 else body

    def score(self) -> float | int:
        kind = self.rng.random()
        if kind < 0.3 and self.ties:
            return self.rng.choice(self.ties)
        if kind < 0.45:
            return self.rng.randint(0, 12)
        value = round(self.rng.uniform(0, 20), self.rng.choice([1, 3, 17]))
        self.ties.append(value)
        return value

    def definition(self, path: str | None = None) -> dict[str, Any]:
        rng = self.rng
        name = rng.choice(NAMES)
        start = rng.randint(1, 300)
        return {
            "path": path or rng.choice(PATHS),
            "name": name.rsplit(".", 1)[-1],
            "qualified_name": name,
            "kind": rng.choice(KINDS),
            "start_line": start,
            "end_line": start + rng.randint(0, 60),
        }

    def call(self, tool: str, args: dict[str, Any], result: Any, status: str = "ok") -> None:
        self.tasks.append({"id": len(self.tasks) + 1, "tool": tool, "args": args})
        outcome = {"id": len(self.tasks), "tool": tool, "status": status, "result": result}
        self.outcomes.append(outcome)

    def bm25_files(self, queries: list[str]) -> None:
        hits = [{"path": self.rng.choice(PATHS), "score": self.score()} for _ in self.few(12)]
        args = {"query": self.rng.choice(queries), "level": self.rng.choice(["file", None])}
        self.call("bm25", args, {"hits": hits})

    def bm25_functions(self, queries: list[str]) -> None:
        hits = [dict(self.definition(), score=self.score()) for _ in self.few(12)]
        args: dict[str, Any] = {"query": self.rng.choice(queries), "level": "function"}
        if self.rng.random() < 0.3:
            args["include"] = self.rng.choice([[self.rng.choice(PATHS)], [], "x", None])
        self.call("bm25", args, {"hits": hits})

    def symbols(self, identifiers: list[str]) -> None:
        name = self.rng.choice(identifiers + NAMES)
        defs = [self.definition() for _ in range(self.rng.choice([0, 1, 1, 2, 3, 7]))]
        args = {"name": name, "mode": self.rng.choice(["exact", "fuzzy", None])}
        self.call("symbols", args, {"symbols": defs, "total": len(defs)})

    def find_files(self) -> None:
        scores = [100, 90, 85, 84.9, 60, 85.0]
        files = [
            {"path": self.rng.choice(PATHS), "score": self.rng.choice(scores)} for _ in self.few(3)
        ]
        self.call("find_files", {"query": self.rng.choice(PATHS)}, {"files": files})

    def references(self) -> None:
        name = self.rng.choice(NAMES).rsplit(".", 1)[-1]
        files = []
        for _ in self.few(4):
            path = self.rng.choice(PATHS)
            enclosing = [self.definition(path), self.definition(path), None, {}]
            groups = [{"enclosing": self.rng.choice(enclosing)} for _ in self.few(3)]
            files.append({"path": path, "groups": groups + [{}] * self.rng.randint(0, 1)})
        self.call("references", {"name": name}, {"files": files})

    def grep(self) -> None:
        paths = self.rng.sample(PATHS, self.rng.randint(0, 5))
        matches = []
        for _ in self.few(25):
            m: dict[str, Any] = {"path": self.rng.choice(paths or PATHS), "line": 7, "text": "x"}
            m["line"] = self.rng.randint(1, 500)
            if self.rng.random() < 0.6:
                m["enclosing"] = self.definition(m["path"])
            matches.append(m)
        args = self.rng.choice(GREP_ARGS)
        self.call("grep", args, {"files": [{"path": p} for p in paths], "matches": matches})

    def outline(self) -> None:
        path = self.rng.choice(PATHS)
        nodes = [
            dict(self.definition(path), children=[self.definition(path) for _ in self.few(2)])
            for _ in self.few(3)
        ]
        self.call("outline", {"path": path}, {"path": path, "symbols": nodes})

    def few(self, most: int) -> range:
        return range(self.rng.randint(0, most))

    def search(self) -> tuple[str, list[Turn]]:
        issue = self.issue()
        signals = parse_issue(issue)
        queries = [issue, signals.title or issue, "other text"]
        for _ in range(self.rng.randint(1, 14)):
            match self.rng.randrange(9):
                case 0:
                    self.bm25_files(queries)
                case 1:
                    self.bm25_functions(queries)
                case 2:
                    self.symbols(signals.identifiers)
                case 3:
                    self.find_files()
                case 4:
                    self.references()
                case 5:
                    self.grep()
                case 6:
                    self.outline()
                case 7:
                    self.call("read", {"path": "x"}, {"anything": [1, 2]})
                case _:
                    self.call("symbols", {"name": "x"}, None, status="error")
        tasks, outcomes = self.tasks, self.outcomes
        return issue, [Turn(tasks[:3], outcomes[:3]), Turn(tasks[3:], outcomes[3:])]  # type: ignore[arg-type]


GREP_ARGS: list[dict[str, Any]] = [
    {"pattern": "needle"},
    {"pattern": "ünï" * 30},
    {"pattern": "", "patterns": ["a", "b"]},
    {"patterns": ["x" * 60]},
    {"pattern": 'q"x'},
]


@pytest.mark.parametrize("chunk", range(8))
def test_generated_searches_read_the_same(chunk: int) -> None:
    tally = Tally()
    for seed in range(chunk * 40, chunk * 40 + 40):
        issue, turns = Generator(seed).search()
        compare(issue, turns, tally, top_ks=(1, 3, 10))
    assert tally.max_ulps == 0


# -- Unicode classes ---------------------------------------------------------------------------


def test_word_space_and_case_rules_are_pythons() -> None:
    """Python's `\\w`, `str.split()` and `str.lower()` decide `name_in_issue`, `issue_words`
    and `stem_in_issue`: for every code point `c` (all below U+3000, a sample above), a name
    `a<c>b` is a whole word of the issue, and a file `Ab<c>C.py`'s stem a word of the
    lower-cased issue, exactly when Python says so. Code points Python's Unicode database
    does not assign are left out: Python's own answer for them changes with its version."""
    points = [
        c
        for c in range(0x110000)
        if (c < 0x3000 or c % 97 == 0) and unicodedata.category(chr(c)) not in ("Cn", "Cs")
    ]
    names = [f"a{chr(c)}b" for c in points]
    stems = [f"Ab{chr(c)}C" for c in points]
    issue = " ".join(names + stems)
    hits = [
        {
            "path": "p.py",
            "score": 1.0,
            "qualified_name": n,
            "kind": "function",
            "start_line": 1,
            "end_line": 1,
        }
        for n in names
    ]
    files = [{"path": f"d/{stem}.py", "score": 1.0} for stem in stems]
    tasks = [
        {"id": 1, "tool": "bm25", "args": {"query": "q", "level": "function"}},
        {"id": 2, "tool": "bm25", "args": {"query": "q"}},
    ]
    outcomes = [
        {"id": 1, "tool": "bm25", "status": "ok", "result": {"hits": hits}},
        {"id": 2, "tool": "bm25", "status": "ok", "result": {"hits": files}},
    ]
    turns = [Turn(tasks, outcomes)]  # type: ignore[arg-type]
    search = read_search(parse_issue("x"), turns, issue)
    keys, rows = search.function_table([("p.py", 1.0)])
    tokens = set(re.findall(r"\w+", issue))
    col = FUNCTION_FEATURES.index("name_in_issue")
    wrong = [
        k[1]
        for k, r in zip(keys, rows, strict=True)
        if r[col] != float(k[1].rsplit(".", 1)[-1] in tokens)
    ]
    assert wrong == [], [hex(ord(w[1])) for w in wrong[:20]]
    words = FUNCTION_FEATURES.index("issue_words")
    assert {r[words] for r in rows} == {float(len(issue.split()))}
    paths, rows = search.file_table()
    lowered = set(re.findall(r"\w+", issue.lower()))
    col = FILE_FEATURES.index("stem_in_issue")
    expected = {f"d/{stem}.py": float(len(stem) >= 3 and stem.lower() in lowered) for stem in stems}
    wrong = [p for p, r in zip(paths, rows, strict=True) if p in expected and r[col] != expected[p]]
    assert wrong == [], [hex(ord(w[4])) for w in wrong[:20]]
