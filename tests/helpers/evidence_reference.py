"""The Python reader of tool outcomes that the engine's (`acs_core::evidence`) replaced,
frozen as it was (`acs.joiner`, `acs.rank.features`, `acs.rank.model.LearnedRanker.rank`,
`acs.rank.calibration`): the reference the identity tests hold the engine to, bit for bit.
Not used by the package; do not change it, except to follow a deliberate change of the
features' meaning (which also bumps `FEATURES_VERSION`)."""

# ruff: noqa
# mypy: ignore-errors

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import repeat
from typing import Any

from acs import definitions
from acs.issue import IssueSignals
from acs.policies.base import Turn

W_BM25_FILE = 1.0
W_BM25_FUNCTION = 1.1
W_PATH = 1.25
W_FRAME = 0.7
W_SYMBOL = 1.5
W_STRING = 2.0
W_DRILL = 0.5
# BM25 of the title alone (a second opinion that the body's code and logs cannot drown out:
# file Acc@1 24.7 -> 27.4, Acc@5 49.3 -> 52.9 on the development set, both halves improving).
W_TITLE_FILE = 0.6
W_TITLE_FUNCTION = 0.6
W_FUNCTION_TO_FILE = 0.5  # share of a function's evidence its file receives
W_STRING_FUNCTION = 0.1  # the definition around a found message (share of W_STRING)
W_CALLER = 1.0  # a user of the definition or constant that holds a quoted message
W_FUZZY = 0.6  # a near miss of a name is weaker than the name itself
W_PATH_WORDS = 0.8  # the issue's words in a candidate file's name
DOWNWEIGHT = 0.06
CUT = 0.35  # the confident set: what scores at least this fraction of the best
FN_CUT = 0.35  # the same for functions
FILE_SHARE = 0.5  # how much a function's score follows its file's

_AUXILIARY = re.compile(
    r"(^|/)(tests?|testing|test[-_]data|testdata|fixtures|docs?|examples?|benchmarks?|"
    r"vendor|vendored|third_party|_vendor|typeshed|website)(/|$)|"
    r"(^|/)test_[^/]*$|_tests?\.\w+$|(^|/)conftest\.py$"
)
# Source code a fix edits; prose, data and configuration rarely are the fix.
_SOURCE = re.compile(
    r"\.(py|pyx|pxd|js|jsx|mjs|ts|tsx|go|rs|java|kt|scala|c|cc|cpp|cxx|h|hh|hpp|cs|rb|php|"
    r"swift|m|mm|lua|sh|r|jl|ex|exs|erl|hs|ml|clj|dart|vue|svelte)$",
    re.I,
)
NON_SOURCE = 0.3
# The issue is about tests when it names a test file or a test function.
_TEST_MENTION = re.compile(r"(^|[\s/`'\"(])(tests?/|test_\w+|\w+_test\.\w+|conftest\.py)")


# Path words too generic to say which file an issue is about.
_GENERIC_PATH_WORDS = {
    "the", "and", "for", "with", "not", "init", "core", "utils", "util", "base", "main",
    "models", "model", "types",
}  # fmt: skip


def _words(text: str) -> set[str]:
    """Lower-cased words of three letters or more, identifiers split on case changes."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    found = {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9]*", spaced)}
    return {w for w in found if len(w) >= 3 and w not in _GENERIC_PATH_WORDS}


@lru_cache(maxsize=1 << 16)
def path_words(path: str) -> tuple[frozenset[str], frozenset[str]]:
    """The words of a file's name, and of its whole path (cached: paths recur across runs)."""
    stem = path.rsplit(".", 1)[0]
    return frozenset(_words(stem.rsplit("/", 1)[-1])), frozenset(_words(stem.replace("/", " ")))


def _path_overlap(path: str, words: set[str]) -> float:
    """How much of a file's name (and, less, of its folders) the issue's words cover: an issue
    about "autotools" points at `autotools.py` more than its text similarity alone says."""
    name, parts = path_words(path)
    name_share = len(name & words) / max(1, len(name))
    return name_share + 0.3 * len(parts & words) / max(1, len(parts))


def is_auxiliary(path: str) -> bool:
    """Tests, docs, examples, benchmarks, vendored code."""
    return bool(_AUXILIARY.search(path))


@dataclass
class Evidence:
    files: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    functions: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    # Functions ranked inside files already chosen (drill-down): they rank functions but are
    # no new evidence for their file, which was chosen on the other evidence.
    drilled: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    spans: dict[tuple[str, str], tuple[str, int, int]] = field(default_factory=dict)
    lines: dict[str, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    # Why: per file or function, its strongest piece of evidence (amount, a line for people).
    why: dict[Any, tuple[float, str]] = field(default_factory=dict)

    def add_file(self, path: str, amount: float, why: str, *, similar: bool = False) -> None:
        self.files[path] += amount
        self.note(path, amount, why, similar=similar)

    def add_function(
        self,
        key: tuple[str, str],
        amount: float,
        why: str,
        *,
        drilled: bool = False,
        similar: bool = False,
    ) -> None:
        (self.drilled if drilled else self.functions)[key] += amount
        self.note(key, amount, why, similar=similar)

    def note(self, where: Any, amount: float, why: str, *, similar: bool = False) -> None:
        """Keep `why` if it is the strongest evidence of `where` so far. Text similarity
        (`similar`) explains least: a named definition, path or message says more."""
        if similar:
            amount *= 0.25
        if amount > self.why.get(where, (0.0, ""))[0]:
            self.why[where] = (amount, why)


def _normalised(hits: list[dict[str, Any]]) -> list[tuple[dict[str, Any], float]]:
    top = max((h["score"] for h in hits), default=0.0)
    return [(h, h["score"] / top) for h in hits] if top > 0 else []


def tool_results(turns: Sequence[Turn]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(tool, arguments, result) of every task of `turns` that succeeded, in order."""
    for turn in turns:
        for task, outcome in zip(turn.tasks, turn.outcomes, strict=True):
            if outcome.get("status") == "ok":
                yield task["tool"], task["args"], outcome["result"]


def caller_groups(name: str, result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(path, group) of a `references` result's uses inside other definitions than `name`
    itself: the callers of the definition that builds a message the issue quotes."""
    return [
        (f["path"], g)
        for f in result["files"]
        for g in f["groups"]
        if (d := g.get("enclosing")) and d["qualified_name"].rsplit(".", 1)[-1] != name
    ]


def collect(signals: IssueSignals, turns: Sequence[Turn]) -> Evidence:
    ev = Evidence()
    frame_functions = {f.function for f in signals.frames if f.function}
    identifier_rank = {name: i for i, name in enumerate(signals.identifiers)}
    for tool, args, result in tool_results(turns):
        match tool:
            case "bm25" if args.get("level") == "function":
                # A ranking inside chosen files (drill-down) is normalised to its own best.
                drill = bool(args.get("include"))
                weight = W_DRILL if drill else W_BM25_FUNCTION
                if args["query"] == signals.title:
                    weight = W_TITLE_FUNCTION
                why = "best text match in its file" if drill else "text similar to the issue"
                for hit, s in _normalised(result["hits"]):
                    key = definitions.key(hit)
                    ev.add_function(key, weight * s, f"{why} (BM25)", drilled=drill, similar=True)
                    ev.spans[key] = definitions.span(hit)
            case "bm25":
                weight = W_TITLE_FILE if args["query"] == signals.title else W_BM25_FILE
                why = "text similar to the issue (BM25)"
                for hit, s in _normalised(result["hits"]):
                    ev.add_file(hit["path"], weight * s, why, similar=True)
            case "symbols":
                defs = result["symbols"]
                if not defs:
                    continue
                # A name defined once is strong evidence; one defined everywhere is not.
                specificity = 1.0 / len(defs) ** 0.5
                rank = identifier_rank.get(args["name"], 10)
                weight = W_SYMBOL * specificity / (1 + 0.1 * rank)
                fuzzy = args.get("mode") == "fuzzy"
                if fuzzy:
                    weight *= W_FUZZY
                for d in defs:
                    key = definitions.key(d)
                    bonus = 1.5 if d["name"] in frame_functions else 1.0
                    why = f"defines `{d['qualified_name']}`" + (
                        f", close to `{args['name']}` in the issue"
                        if fuzzy
                        else (" (in the stack trace)" if bonus > 1 else ", named in the issue")
                    )
                    ev.add_function(key, weight * bonus, why)
                    ev.spans[key] = definitions.span(d)
                    ev.add_file(d["path"], 0.5 * weight, why)
            case "find_files":
                files = result["files"]
                if files and files[0]["score"] >= 85:
                    path = files[0]["path"]
                    ev.add_file(path, W_PATH, f"path named in the issue: {args['query']}")
                    for frame in signals.frames:
                        if frame.path.endswith(path):
                            ev.add_file(path, W_FRAME, f"stack trace, line {frame.line}")
                            ev.lines[files[0]["path"]].append(
                                (max(1, frame.line - 5), frame.line + 5)
                            )
            case "references":
                # Uses of a definition that builds a message the issue quotes (callers).
                name = args["name"]
                groups = caller_groups(name, result)
                amount = W_CALLER / max(1, len(groups)) ** 0.5
                for path, g in groups:
                    key = definitions.key(g["enclosing"])
                    ev.add_function(key, amount, f"uses `{name}`, which the issue's text leads to")
                    ev.spans[key] = definitions.span(g["enclosing"])
                    ev.add_file(path, 0.5 * amount, f"uses `{name}`")
            case "grep":
                amount = W_STRING / max(1, len(result["files"])) ** 0.5
                # `pattern`, or `patterns` (several in one task, as a model may write)
                text = args.get("pattern") or "; ".join(args.get("patterns") or [])
                text = text if len(text) <= 50 else text[:47]
                for f in result["files"]:
                    ev.add_file(f["path"], amount, f'contains "{text}"')
                for m in result["matches"][:20]:
                    if e := m.get("enclosing"):
                        key = definitions.key(e)
                        ev.add_function(key, W_STRING_FUNCTION * amount, f'contains "{text}"')
                        ev.spans[key] = definitions.span(e)
                for m in result["matches"][:20]:
                    ev.lines[m["path"]].append((m["line"], m["line"]))
    return ev


def rank(
    signals: IssueSignals,
    turns: Sequence[Turn],
    issue: str,
    top_k: int,
    top_k_functions: int | None = None,
    *,
    evidence: Evidence | None = None,
) -> dict[str, Any]:
    """The best `top_k` files and `top_k_functions` (default `2 * top_k`) functions, best
    first, each with its score normalised to the best of its list and `confident` (see
    `confident`); line ranges of the confident functions and files; `why` per item.
    `evidence`: `collect(signals, turns)` when the caller has it already."""
    top_k_functions = 2 * top_k if top_k_functions is None else top_k_functions
    ev = evidence if evidence is not None else collect(signals, turns)
    mentions_tests = bool(_TEST_MENTION.search(issue))
    files = dict(ev.files)
    # A function's evidence is also evidence for its file.
    for (path, _), s in ev.functions.items():
        files[path] = files.get(path, 0.0) + W_FUNCTION_TO_FILE * s
    words = _words(issue)
    for path in files:
        overlap = W_PATH_WORDS * _path_overlap(path, words)
        files[path] += overlap
        if overlap:
            ev.note(path, overlap, "its name matches words of the issue")
    for path in files:
        if is_auxiliary(path) and not mentions_tests:
            files[path] *= DOWNWEIGHT
        if not _SOURCE.search(path):
            files[path] *= NON_SOURCE
    ranked_files = sorted(files.items(), key=lambda kv: (-kv[1], kv[0]))
    ranked_files = [(p, s) for p, s in ranked_files[:top_k] if s > 0]
    top = ranked_files[0][1] if ranked_files else 1.0
    file_score = {p: s / top for p, s in ranked_files}
    file_sure = dict(zip(file_score, confident(list(file_score.values()), "file"), strict=True))

    # Functions of confident files only, scored as they always were: the confident functions
    # are exactly the list the joiner returned when it cut at CUT and FN_CUT.
    functions = []
    candidates = defaultdict(float, ev.functions)
    for key, s in ev.drilled.items():
        candidates[key] += s
    for (path, name), s in candidates.items():
        if not file_sure.get(path):
            continue
        score = s * (1 - FILE_SHARE + FILE_SHARE * file_score[path])
        functions.append(function_location(path, name, ev.spans[(path, name)], score))
    functions.sort(key=lambda f: (-f["score"], f["path"], f["start_line"]))
    functions = [f for f in functions[:top_k_functions] if f["score"] > 0]
    fn_top = functions[0]["score"] if functions else 1.0
    sure = confident([f["score"] for f in functions], "function")
    for f, is_sure in zip(functions, sure, strict=True):
        f["score"] = round(f["score"] / fn_top, 4)
        f["confident"] = is_sure

    lines = []
    for f in functions:
        if f["confident"]:
            lines.append({"path": f["path"], "start": f["start_line"], "end": f["end_line"]})
    for path, spans in ev.lines.items():
        if file_sure.get(path):
            lines.extend({"path": path, "start": a, "end": b} for a, b in spans[:5])
    why = {p: ev.why[p][1] for p in file_score if p in ev.why}
    for f in functions:
        if (key := (f["path"], f["name"])) in ev.why:
            why[f"{f['path']}:{f['name']}"] = ev.why[key][1]
    return {
        "files": [
            {"path": p, "score": round(s, 4), "confident": file_sure[p]}
            for p, s in file_score.items()
        ],
        "functions": functions,
        "lines": merge_lines(lines),
        "why": why,
    }


def confident(scores: Sequence[float], level: str) -> list[bool]:
    """Which items of a ranked list (`scores`, best first, at `level` "file" or "function")
    form the confident set, the answer chosen for precision. The joiner's rule: at least CUT
    (FN_CUT) of the best score, and above zero. A ranker with calibrated probabilities
    replaces this with a threshold on the probability."""
    if not scores:
        return []
    floor = (CUT if level == "file" else FN_CUT) * scores[0]
    return [s >= floor and s > 0 for s in scores]


def function_location(
    path: str, name: str, span: tuple[str, int, int], score: float
) -> dict[str, Any]:
    """A ranked function as `localize` returns it; `span` is (kind, start line, end line)."""
    kind, start, end = span
    return {
        "path": path,
        "name": name,
        "kind": kind,
        "start_line": start,
        "end_line": end,
        "score": score,
    }


def merge_lines(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Overlapping ranges of one file become one, in ranking order of their first range."""
    out: list[dict[str, Any]] = []
    for span in spans:
        for kept in out:
            if (
                kept["path"] == span["path"]
                and span["start"] <= kept["end"] + 1
                and kept["start"] <= span["end"] + 1
            ):
                kept["start"] = min(kept["start"], span["start"])
                kept["end"] = max(kept["end"], span["end"])
                break
        else:
            out.append(dict(span))
    return out


# -- acs.rank.features --------------------------------------------------------------

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


# -- acs.rank.calibration -----------------------------------------------------------


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)


def calibrated(scores: Sequence[float], coef: Sequence[float]) -> list[float]:
    """P(edited) for each of a query's raw scores: sigmoid(a * s + b * (s - best) + c)."""
    if not scores:
        return []
    best = max(scores)
    a, b, c = coef
    return [sigmoid(a * s + b * (s - best) + c) for s in scores]


# -- acs.rank.model.LearnedRanker.rank --------------------------------------------------


def learned_rank(
    model: Any,
    signals: IssueSignals,
    turns: Sequence[Turn],
    issue: str,
    top_k: int,
    top_k_functions: int | None = None,
) -> dict[str, Any]:
    top_k_functions = top_k_functions or 2 * top_k
    cands = gather(signals, turns)
    ev = collect(signals, turns)  # once: the joiner's ranking and the line ranges share it
    hand = hand_ranking(signals, turns, issue, cands, ev)
    table, _ = file_features(signals, turns, issue, cands, hand)
    raw = model.files.predict(table.rows)
    probs = calibrated(raw, model.calibration["files"])
    order = sorted(range(len(raw)), key=lambda i: (-raw[i], table.keys[i]))
    file_raw = {table.keys[i]: raw[i] for i in range(len(raw))}
    files = [{"path": table.keys[i], "score": round(probs[i], 4)} for i in order[:top_k]]
    _mark_confident(files, model.thresholds["files"])

    ftable = function_features(signals, turns, issue, cands, file_raw, hand)
    fraw = model.functions.predict(ftable.rows)
    fprobs = calibrated(fraw, model.calibration["functions"])
    forder = sorted(range(len(fraw)), key=lambda i: (-fraw[i], ftable.keys[i]))
    functions = []
    for i in forder[:top_k_functions]:
        path, name = ftable.keys[i]
        loc = function_location(path, name, cands.spans[(path, name)], round(fprobs[i], 4))
        functions.append(loc)
    _mark_confident(functions, model.thresholds["functions"])

    confident_files = {f["path"] for f in files if f["confident"]}
    lines = [
        {"path": f["path"], "start": f["start_line"], "end": f["end_line"]}
        for f in functions
        if f["confident"]
    ]
    for path, spans in ev.lines.items():
        if path in confident_files:
            lines.extend({"path": path, "start": a, "end": b} for a, b in spans[:5])
    reasons = hand["why"]
    why = {f["path"]: reasons[f["path"]] for f in files if f["path"] in reasons}
    for f in functions:
        if (key := f"{f['path']}:{f['name']}") in reasons:
            why[key] = reasons[key]
    return {"files": files, "functions": functions, "lines": merge_lines(lines), "why": why}


def _mark_confident(items: list[dict[str, Any]], threshold: float) -> None:
    """The set chosen for precision: scores at or above the threshold, and at least the
    first item (an empty answer has no precision at all)."""
    for i, item in enumerate(items):
        item["confident"] = i == 0 or item["score"] >= threshold
