"""Candidates and their features, from the evidence of a search.

Every file and function that any tool surfaced is a candidate. Its features say what each
piece of evidence was, raw: scores normalised to their query's best and ranks for every BM25
query (the whole issue, its title, the drill-down), what the issue names (definitions, paths,
stack frames, messages), callers of message-building code, how the candidate's name and path
read against the issue's words, and what kind of file it is. The hand-weighted joiner's score
is a feature too, so the model starts from it. Scores are relative within one search (a
query's best hit is 1.0), so they mean the same on any repository.

Missing evidence is NaN, not zero: "no BM25 hit" is not "the lowest BM25 hit", and the tree
model learns a direction for it. `FILE_FEATURES` and `FUNCTION_FEATURES` are the column
orders the shipped model was trained with (`FEATURES_VERSION` changes whenever they do).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import repeat
from typing import Any

from .. import definitions
from ..issue import IssueSignals
from ..joiner import (
    _SOURCE,
    _TEST_MENTION,
    Evidence,
    _path_overlap,
    _words,
    caller_groups,
    is_auxiliary,
    path_words,
    rank,
    tool_results,
)
from ..policy import Turn

FEATURES_VERSION = 1
FUNCTION_FILES = 10  # function candidates come from this many of the best files
NAN = math.nan

_TEST_PATH = re.compile(
    r"(^|/)(tests?|testing)(/|$)|(^|/)test_[^/]*$|_tests?\.\w+$|(^|/)conftest\.py$"
)

# Per-query evidence kinds: the issue text and its title, at the file and function levels.
_QUERIES = ("issue", "title")

FILE_FEATURES: tuple[str, ...] = (
    *(f"bm25_{q}_{m}" for q in _QUERIES for m in ("norm", "rank", "raw")),
    *(f"fn_bm25_{q}_{m}" for q in _QUERIES for m in ("max", "best_rank", "hits")),
    "drill_max",
    "sym_hits",
    "sym_specificity",
    "sym_ident_rank",
    "sym_weight",
    "sym_frame",
    "sym_fuzzy",
    "path_score",
    "path_top",
    "frame_hits",
    "grep_hits",
    "grep_specificity",
    "caller_hits",
    "caller_weight",
    "name_share",
    "dir_share",
    "stem_in_issue",
    "is_test",
    "is_auxiliary",
    "is_source",
    "is_init",
    "depth",
    "function_candidates",
    "hand_norm",
    "hand_rank",
    "issue_mentions_tests",
    "issue_words",
    "issue_identifiers",
    "issue_frames",
    "candidates",
)

FUNCTION_FEATURES: tuple[str, ...] = (
    *(f"bm25_{q}_{m}" for q in _QUERIES for m in ("norm", "rank")),
    "drill_norm",
    "drill_rank",
    "sym_specificity",
    "sym_ident_rank",
    "sym_frame",
    "sym_fuzzy",
    "qualified_in_issue",
    "name_in_issue",
    "name_share",
    "caller_weight",
    "grep_hits",
    "outlined",
    "is_method",
    "is_class",
    "is_private",
    "is_dunder",
    "span_lines",
    "file_score",
    "file_rank",
    "file_is_test",
    "file_is_auxiliary",
    "file_functions",
    "hand_norm",
    "hand_rank",
    "issue_words",
    "candidates",
)


@dataclass
class FileEvidence:
    values: dict[str, float] = field(default_factory=dict)

    def best(self, name: str, value: float, *, low: bool = False) -> None:
        """Keep the larger value of a feature (the smaller when `low`, for ranks)."""
        old = self.values.get(name)
        if old is None or (value < old if low else value > old):
            self.values[name] = value

    def add(self, name: str, value: float) -> None:
        self.values[name] = self.values.get(name, 0.0) + value


@dataclass
class Candidates:
    """The candidates of one search and their raw feature values (absent = NaN)."""

    files: dict[str, FileEvidence] = field(default_factory=lambda: defaultdict(FileEvidence))
    functions: dict[tuple[str, str], FileEvidence] = field(
        default_factory=lambda: defaultdict(FileEvidence)
    )
    spans: dict[tuple[str, str], tuple[str, int, int]] = field(default_factory=dict)


def _query_kind(args: dict[str, Any], signals: IssueSignals) -> str:
    return "title" if signals.title and args.get("query") == signals.title else "issue"


def _ranked(hits: Sequence[dict[str, Any]]) -> list[tuple[int, dict[str, Any], float]]:
    """(1-based rank, hit, score / best score) for hits in result order."""
    top = max((h["score"] for h in hits), default=0.0)
    if top <= 0:
        return []
    return [(i + 1, h, h["score"] / top) for i, h in enumerate(hits)]


def gather(signals: IssueSignals, turns: Sequence[Turn]) -> Candidates:
    """Every file and function the tools surfaced, with what each tool said about it."""
    c = Candidates()
    frame_functions = {f.function for f in signals.frames if f.function}
    identifier_rank = {name: i for i, name in enumerate(signals.identifiers)}
    for tool, args, result in tool_results(turns):
        match tool:
            case "bm25" if args.get("level") == "function":
                drill = bool(args.get("include"))
                q = _query_kind(args, signals)
                for r, hit, s in _ranked(result["hits"]):
                    key = definitions.key(hit)
                    c.spans[key] = definitions.span(hit)
                    fn, f = c.functions[key], c.files[hit["path"]]
                    if drill:
                        fn.best("drill_norm", s)
                        fn.best("drill_rank", r, low=True)
                        f.best("drill_max", s)
                        continue
                    fn.best(f"bm25_{q}_norm", s)
                    fn.best(f"bm25_{q}_rank", r, low=True)
                    f.best(f"fn_bm25_{q}_max", s)
                    f.best(f"fn_bm25_{q}_best_rank", r, low=True)
                    f.add(f"fn_bm25_{q}_hits", 1)
            case "bm25":
                q = _query_kind(args, signals)
                for r, hit, s in _ranked(result["hits"]):
                    f = c.files[hit["path"]]
                    f.best(f"bm25_{q}_norm", s)
                    f.best(f"bm25_{q}_rank", r, low=True)
                    f.best(f"bm25_{q}_raw", hit["score"])
            case "symbols":
                defs = result["symbols"]
                if not defs:
                    continue
                specificity = 1.0 / len(defs) ** 0.5
                rank_ = identifier_rank.get(args["name"], 10)
                fuzzy = args.get("mode") == "fuzzy"
                for d in defs:
                    key = definitions.key(d)
                    c.spans[key] = definitions.span(d)
                    fn, f = c.functions[key], c.files[d["path"]]
                    in_frame = float(d["name"] in frame_functions)
                    if fuzzy:
                        fn.best("sym_fuzzy", specificity)
                        f.add("sym_fuzzy", 1)
                        continue
                    fn.best("sym_specificity", specificity)
                    fn.best("sym_ident_rank", rank_, low=True)
                    fn.best("sym_frame", in_frame)
                    f.add("sym_hits", 1)
                    f.best("sym_specificity", specificity)
                    f.best("sym_ident_rank", rank_, low=True)
                    f.add("sym_weight", specificity / (1 + 0.1 * rank_))
                    f.add("sym_frame", in_frame)
            case "find_files":
                for i, hit in enumerate(result["files"]):
                    f = c.files[hit["path"]]
                    f.best("path_score", hit["score"])
                    if i == 0 and hit["score"] >= 85:
                        f.values["path_top"] = 1.0
                        for frame in signals.frames:
                            if frame.path.endswith(hit["path"]):
                                f.add("frame_hits", 1)
            case "references":
                groups = caller_groups(args["name"], result)
                amount = 1 / max(1, len(groups)) ** 0.5
                for path, g in groups:
                    key = definitions.key(g["enclosing"])
                    c.spans[key] = definitions.span(g["enclosing"])
                    c.functions[key].add("caller_weight", amount)
                    c.files[path].add("caller_hits", 1)
                    c.files[path].add("caller_weight", amount)
            case "outline":
                for d in definitions.outline_nodes(result["symbols"]):
                    key = definitions.key(d)
                    c.spans[key] = definitions.span(d)
                    c.functions[key].values["outlined"] = 1.0
            case "grep":
                specificity = 1 / max(1, len(result["files"])) ** 0.5
                for hit in result["files"]:
                    f = c.files[hit["path"]]
                    f.add("grep_hits", 1)
                    f.best("grep_specificity", specificity)
                for m in result["matches"][:20]:
                    if e := m.get("enclosing"):
                        key = definitions.key(e)
                        c.spans[key] = definitions.span(e)
                        c.functions[key].add("grep_hits", 1)
    for path, _ in list(c.functions):
        c.files.setdefault(path, FileEvidence())  # a function's file is a candidate too
    return c


def flat_symbols(symbols: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """An outline's definitions, nested ones after their parent, without `children`."""
    return [
        {k: v for k, v in node.items() if k != "children"}
        for node in definitions.outline_nodes(symbols)
    ]


_TOKEN = re.compile(r"\w+")


def _tokens(text: str) -> set[str]:
    """The words of a text (runs of word characters), for whole-word membership tests."""
    return set(_TOKEN.findall(text))


@lru_cache(maxsize=65536)
def _name_words(name: str) -> frozenset[str]:
    return frozenset(_words(name))


def _ranks(scores: dict[Any, float]) -> dict[Any, int]:
    order = sorted(scores, key=lambda k: (-scores[k], str(k)))
    return {k: i + 1 for i, k in enumerate(order)}


def _row(values: dict[str, float], names: Sequence[str]) -> list[float]:
    return list(map(values.get, names, repeat(NAN, len(names))))


@dataclass
class FeatureTable:
    """Candidates (file paths, or (path, qualified name) pairs) and their feature rows."""

    keys: list[Any]
    rows: list[list[float]]


def hand_ranking(
    signals: IssueSignals,
    turns: Sequence[Turn],
    issue: str,
    c: Candidates,
    evidence: Evidence | None = None,
) -> dict[str, Any]:
    """The hand-weighted joiner's ranking of every candidate (its scores are features)."""
    n_files, n_functions = max(1, len(c.files)), max(1, len(c.functions))
    return rank(signals, turns, issue, n_files, n_functions, evidence=evidence)


def file_features(
    signals: IssueSignals,
    turns: Sequence[Turn],
    issue: str,
    cands: Candidates | None = None,
    hand: dict[str, Any] | None = None,
) -> tuple[FeatureTable, Candidates]:
    c = cands or gather(signals, turns)
    hand = hand or hand_ranking(signals, turns, issue, c)
    hand_files = {f["path"]: f["score"] for f in hand["files"]}
    hand_rank = _ranks(hand_files)
    words = _words(issue)
    tokens = _tokens(issue.lower())
    functions_per_file: dict[str, int] = defaultdict(int)
    for path, _ in c.functions:
        functions_per_file[path] += 1
    query = {
        "issue_mentions_tests": float(bool(_TEST_MENTION.search(issue))),
        "issue_words": float(len(issue.split())),
        "issue_identifiers": float(len(signals.identifiers)),
        "issue_frames": float(len(signals.frames)),
        "candidates": float(len(c.files)),
    }
    keys = sorted(c.files)
    rows = []
    for path in keys:
        v = dict(c.files[path].values)
        stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        name_words = path_words(path)[0]
        v["name_share"] = len(name_words & words) / max(1, len(name_words))
        v["dir_share"] = _path_overlap(path, words) - v["name_share"]
        v["stem_in_issue"] = float(len(stem) >= 3 and stem.lower() in tokens)
        v["is_test"] = float(bool(_TEST_PATH.search(path)))
        v["is_auxiliary"] = float(is_auxiliary(path))
        v["is_source"] = float(bool(_SOURCE.search(path)))
        v["is_init"] = float(path.endswith("__init__.py"))
        v["depth"] = float(path.count("/"))
        v["function_candidates"] = float(functions_per_file.get(path, 0))
        if path in hand_files:
            v["hand_norm"] = hand_files[path]
            v["hand_rank"] = hand_rank[path]
        v.update(query)
        rows.append(_row(v, FILE_FEATURES))
    return FeatureTable(keys, rows), c


def function_features(
    signals: IssueSignals,
    turns: Sequence[Turn],
    issue: str,
    c: Candidates,
    file_scores: dict[str, float],
    hand: dict[str, Any] | None = None,
) -> FeatureTable:
    """Function candidates; `file_scores` are the file ranker's scores of their files."""
    hand = hand or hand_ranking(signals, turns, issue, c)
    hand_fns = {(f["path"], f["name"]): f["score"] for f in hand["functions"]}
    hand_rank = _ranks(hand_fns)
    file_rank = _ranks(file_scores)
    words = _words(issue)
    identifiers = set(signals.identifiers)
    tokens = _tokens(issue)
    functions_per_file: dict[str, int] = defaultdict(int)
    for path, _ in c.functions:
        functions_per_file[path] += 1
    # Functions of the best files only: the rest almost never make a top 20, and cost time.
    best_files = set(sorted(file_scores, key=lambda p: (-file_scores[p], p))[:FUNCTION_FILES])
    keys = sorted(k for k in c.functions if k in c.spans and k[0] in best_files)
    issue_words = float(len(issue.split()))
    rows = []
    for key in keys:
        path, qualified = key
        kind, start, end = c.spans[key]
        name = qualified.rsplit(".", 1)[-1]
        v = dict(c.functions[key].values)
        name_words = _name_words(name)
        v["qualified_in_issue"] = float(qualified in identifiers or qualified in issue)
        v["name_in_issue"] = float(name in tokens)
        v["name_share"] = len(name_words & words) / max(1, len(name_words))
        v["is_method"] = float(kind == "method")
        v["is_class"] = float(kind == "class")
        v["is_private"] = float(name.startswith("_") and not name.startswith("__"))
        v["is_dunder"] = float(name.startswith("__") and name.endswith("__"))
        v["span_lines"] = float(end - start + 1)
        if path in file_scores:
            v["file_score"] = file_scores[path]
            v["file_rank"] = file_rank[path]
        v["file_is_test"] = float(bool(_TEST_PATH.search(path)))
        v["file_is_auxiliary"] = float(is_auxiliary(path))
        v["file_functions"] = float(functions_per_file[path])
        if key in hand_fns:
            v["hand_norm"] = hand_fns[key]
            v["hand_rank"] = hand_rank[key]
        v["issue_words"] = issue_words
        v["candidates"] = float(len(keys))
        rows.append(_row(v, FUNCTION_FEATURES))
    return FeatureTable(keys, rows)
