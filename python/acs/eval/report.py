"""Evaluation reports: a JSON summary, markdown tables (every policy beside the BM25
baseline, with the gap: the ranked lists' Acc@k and Recall@k, the confident set's precision,
recall and F-scores, the reliability of the scores), plots, and a side-by-side comparison of
two runs.

Accuracy counts every row: a failed run (error or timeout) has an empty prediction, scored
against the gold locations when they are known and zero at every level when they are not.
Latency without index (`latency_ms`: `localize` with every index ready) is over the runs that
finished; latency with index (`open_ms + index_ms + latency_ms`: opening the commit, loading
or building the indexes, searching) also counts each timeout at the time it was given, so a
slow tail is not hidden. Where the search's time went (`latency_split_ms`: reading the issue,
the policy's planning, the wait for its tools, ranking, the rest) is over the runs that
finished and recorded it."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from ..errors import AcsError
from ..extras import install_hint
from ..task.metrics import ACC_K, CALIBRATED, LEVELS, aggregate, reliability
from .results import RESULTS, ROW_LATENCY_PARTS, STATUSES, read_rows

SUMMARY = "summary.json"
MARKDOWN = "report.md"
PLOTS = ("latency.png", "accuracy_by_repo.png", "accuracy_by_level.png", "reliability.png")

# What the markdown shows per level (summary.json has every metric): the ranked lists' metrics
# (every item returned) and the confident set's (the items marked `confident`).
RANKED_SHOWN = {
    level: [*(f"acc@{k}" for k in ks), *(f"recall@{k}" for k in ks)] for level, ks in ACC_K.items()
}
SET_SHOWN = {level: ["precision", "recall", "f1", "f0.5"] for level in LEVELS}
PART_LABELS = {
    "issue": "reading the issue",
    "plan": "planning (the policy)",
    "tools": "waiting for the tools",
    "rank": "ranking",
    "other": "other",
}
BY_REPO = [("file", "acc@1"), ("file", "acc@5"), ("function", "acc@10")]


# -- summary ----------------------------------------------------------------------------------


def distribution(values: Iterable[float | None]) -> dict[str, float | int | None]:
    """n, mean, p50, p95 and max (linear interpolation between ranks)."""
    xs = sorted(float(v) for v in values if v is not None)
    if not xs:
        return {"n": 0, "mean": None, "p50": None, "p95": None, "max": None}
    return {
        "n": len(xs),
        "mean": round(sum(xs) / len(xs), 3),
        "p50": round(_quantile(xs, 0.5), 3),
        "p95": round(_quantile(xs, 0.95), 3),
        "max": round(xs[-1], 3),
    }


def _quantile(xs: Sequence[float], q: float) -> float:
    pos = q * (len(xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _ready_ms(row: Mapping[str, Any]) -> float | None:
    return float(row["latency_ms"]) if row["status"] == "ok" else None


def with_index_ms(row: Mapping[str, Any]) -> float | None:
    """The latency of a run with opening and index building, or a timeout's time."""
    if row["status"] == "ok":
        return float((row.get("open_ms") or 0.0) + (row.get("index_ms") or 0.0) + row["latency_ms"])
    if row["status"] == "timeout":
        elapsed = row.get("elapsed_ms")
        return None if elapsed is None else float(elapsed)
    return None


def _tally(values: Iterable[str | None]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        if v is not None:
            out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items()))


def _mean(values: Iterable[float]) -> float | None:
    xs = list(values)
    return round(sum(xs) / len(xs), 3) if xs else None


def latency_split_summary(ok: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per part of the search's latency, its distribution over the rows that recorded the
    split (rows written before it was recorded add nothing)."""
    splits = [r["latency_split_ms"] for r in ok if r.get("latency_split_ms")]
    return {part: distribution(s.get(part) for s in splits) for part in ROW_LATENCY_PARTS}


def policy_summary(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    ok = [r for r in rows if r["status"] == "ok"]
    counts = {"total": len(rows), **{s: sum(r["status"] == s for r in rows) for s in STATUSES}}
    depth = max((len(r["calls_per_turn"] or []) for r in ok), default=0)
    by_turn = [
        _mean(r["calls_per_turn"][i] for r in ok if len(r["calls_per_turn"] or []) > i)
        for i in range(depth)
    ]
    by_repo: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        by_repo.setdefault(r["repo"], []).append(r)
    return {
        "counts": counts,
        "metrics": aggregate(r["metrics"] for r in rows),
        "reliability": reliability_summary(rows),
        "latency_ms": distribution(r["latency_ms"] for r in ok),
        "latency_split_ms": latency_split_summary(ok),
        "latency_with_index_ms": distribution(with_index_ms(r) for r in rows),
        "index_ms": distribution(r["index_ms"] for r in ok),
        "open_ms": distribution(r["open_ms"] for r in ok),
        "index_sources": _tally(r.get("index_source") for r in ok),
        "turns_mean": _mean(r["turns"] for r in ok),
        "tool_calls_mean": _mean(r["tool_calls"] for r in ok),
        "calls_per_turn_mean": _mean(r["tool_calls"] / r["turns"] for r in ok if r["turns"]),
        "calls_per_turn_by_turn": by_turn,
        "by_repo": {
            repo: {"n": len(rs), "metrics": aggregate(r["metrics"] for r in rs)}
            for repo, rs in sorted(by_repo.items())
        },
    }


def reliability_summary(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Per level of `CALIBRATED`, the reliability diagram (10 bins), ECE and Brier score of
    every ranked item of every row (`calibration` pairs; rows written before they were
    recorded add nothing), rounded to 4 decimals."""
    pairs: dict[str, list[Sequence[float]]] = {level: [] for level in CALIBRATED}
    for r in rows:
        for level, level_pairs in (r.get("calibration") or {}).items():
            if level in pairs:
                pairs[level].extend(level_pairs)
    return {level: _rounded(reliability(ps)) for level, ps in pairs.items()}


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def metric_gap(
    a: Mapping[str, Mapping[str, float]], b: Mapping[str, Mapping[str, float]]
) -> dict[str, dict[str, float]]:
    """a - b for every metric both have (`n` left out)."""
    return {
        level: {
            m: round(v - b[level][m], 6) for m, v in a[level].items() if m != "n" and m in b[level]
        }
        for level in a
        if level in b
    }


def summarize(
    rows: Sequence[Mapping[str, Any]],
    *,
    baseline: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The summary of a run's rows: per policy (in first-seen order), counts, metrics per
    level, latency, turns and tool calls, accuracy per repository; and each policy's gap to
    the baseline (policy minus baseline)."""
    policies = list(dict.fromkeys(r["policy"] for r in rows))
    per = {p: policy_summary([r for r in rows if r["policy"] == p]) for p in policies}
    gap = {}
    if baseline in per:
        base = per[baseline]["metrics"]
        gap = {p: metric_gap(s["metrics"], base) for p, s in per.items() if p != baseline}
    ids = list(dict.fromkeys(r["instance_id"] for r in rows))
    return {
        "meta": dict(meta or {}),
        "instances": len(ids),
        "repositories": len({r["repo"] for r in rows}),
        "policies": policies,
        "baseline": baseline if baseline in per else None,
        "per_policy": per,
        "gap": gap,
        "instance_ids": ids,
    }


# -- markdown ---------------------------------------------------------------------------------


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f}"


def _signed(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:+.1f}"


def _ms(v: float | None) -> str:
    if v is None:
        return "–"
    return f"{v / 1000:.2f} s" if v >= 10_000 else f"{v:.0f} ms"


def _dist(d: Mapping[str, Any]) -> str:
    return " / ".join(_ms(d[k]) for k in ("p50", "p95", "max"))


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], left: int = 1) -> list[str]:
    out = ["| " + " | ".join(header) + " |"]
    out.append("|" + "|".join("---" if i < left else "---:" for i in range(len(header))) + "|")
    out.extend("| " + " | ".join(r) + " |" for r in rows)
    return out


def _metric(summary: Mapping[str, Any], level: str, name: str) -> float | None:
    value = summary["metrics"].get(level, {}).get(name)
    return None if value is None else float(value)


def accuracy_table(
    columns: Sequence[tuple[str, Mapping[str, Any]]],
    gaps: Sequence[tuple[str, Mapping[str, Any], Mapping[str, Any]]] = (),
    shown: Mapping[str, Sequence[str]] = RANKED_SHOWN,
) -> list[str]:
    """Rows of (level, metric) for the metrics `shown` per level; a column per (label, policy
    summary) and per gap (label, minuend summary, subtrahend summary). Percentages."""
    header = ["level", "metric", *(c for c, _ in columns), *(g for g, _, _ in gaps)]
    body = []
    for level in LEVELS:
        if level not in shown or not any(level in s["metrics"] for _, s in columns):
            continue
        ns = [str(s["metrics"].get(level, {}).get("n", 0)) for _, s in columns]
        body.append([level, "n", *ns, *("" for _ in gaps)])
        for name in shown[level]:
            values = [_pct(_metric(s, level, name)) for _, s in columns]
            diffs = []
            for _, a, b in gaps:
                x, y = _metric(a, level, name), _metric(b, level, name)
                diffs.append(_signed(x - y) if x is not None and y is not None else "–")
            body.append(["", name, *values, *diffs])
    return _table(header, body, left=2)


def _fraction(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def calibration_table(columns: Sequence[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """ECE and Brier score per calibrated level (rows), a column per policy summary."""
    body = []
    for level in CALIBRATED:
        for name in ("ece", "brier", "n"):
            cells = []
            for _, s in columns:
                r = s.get("reliability", {}).get(level)
                if r is None or not r["n"]:
                    cells.append("–")
                else:
                    cells.append(str(r["n"]) if name == "n" else _fraction(r[name]))
            label = {"ece": "ECE", "brier": "Brier", "n": "items"}[name]
            body.append([level if name == "ece" else "", label, *cells])
    return _table(["level", "", *(c for c, _ in columns)], body, left=2)


def reliability_table(columns: Sequence[tuple[str, Mapping[str, Any]]], level: str) -> list[str]:
    """The reliability diagram of one level as a table: a row per score bin; per policy the
    items in it, their mean score and the fraction of them that is gold."""
    shown = [(c, s["reliability"][level]) for c, s in columns if _has_pairs(s, level)]
    if not shown:
        return []
    header = ["score"]
    for label, _ in shown:
        header += [f"{label} n", f"{label} mean score", f"{label} fraction gold"]
    body = []
    for i, b in enumerate(shown[0][1]["bins"]):
        cells = [f"{b['lo']:.1f}–{b['hi']:.1f}"]
        for _, r in shown:
            bin_ = r["bins"][i]
            cells += [str(bin_["n"]), _fraction(bin_["score"]), _fraction(bin_["observed"])]
        body.append(cells)
    return _table(header, body)


def _has_pairs(summary: Mapping[str, Any], level: str) -> bool:
    r = summary.get("reliability", {}).get(level)
    return r is not None and r["n"] > 0


def runs_table(columns: Sequence[tuple[str, Mapping[str, Any]]]) -> list[str]:
    def row(label: str, f: Any) -> list[str]:
        return [label, *(f(s) for _, s in columns)]

    def num(v: float | None) -> str:
        return "–" if v is None else f"{v:.2f}"

    body = [
        row(
            "runs ok / error / timeout",
            lambda s: "{ok} / {error} / {timeout}".format(**s["counts"]),
        ),
        row("latency p50 / p95 / max", lambda s: _dist(s["latency_ms"])),
        row("with index p50 / p95 / max", lambda s: _dist(s["latency_with_index_ms"])),
        row(
            "index from",
            lambda s: ", ".join(f"{k} {v}" for k, v in s["index_sources"].items()) or "–",
        ),
        row(
            "open p50 / index p50",
            lambda s: f"{_ms(s['open_ms']['p50'])} / {_ms(s['index_ms']['p50'])}",
        ),
        row("turns (mean)", lambda s: num(s["turns_mean"])),
        row("tool calls (mean)", lambda s: num(s["tool_calls_mean"])),
        row("tool calls per turn (mean)", lambda s: num(s["calls_per_turn_mean"])),
        row(
            "tool calls in turn 1, 2, …",
            lambda s: ", ".join(num(v) for v in s["calls_per_turn_by_turn"]) or "–",
        ),
    ]
    return _table(["", *(c for c, _ in columns)], body)


def _fine_ms(v: float | None) -> str:
    """Milliseconds with a decimal below 10 ms: most parts of a warm search are that small."""
    if v is None:
        return "–"
    return f"{v:.1f} ms" if v < 10 else _ms(v)


def latency_split_table(columns: Sequence[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """p50 / p95 of each part of the search's latency (rows), a column per policy summary."""
    body = []
    for part in ROW_LATENCY_PARTS:
        cells = []
        for _, s in columns:
            d = s.get("latency_split_ms", {}).get(part)
            cells.append(
                "–" if not d or not d["n"] else f"{_fine_ms(d['p50'])} / {_fine_ms(d['p95'])}"
            )
        body.append([PART_LABELS[part], *cells])
    total = [
        _fine_ms(s["latency_ms"]["p50"]) + " / " + _fine_ms(s["latency_ms"]["p95"])
        for _, s in columns
    ]
    body.append(["search (all parts)", *total])
    return _table(["p50 / p95", *(c for c, _ in columns)], body)


def repo_table(columns: Sequence[tuple[str, Mapping[str, Any]]]) -> list[str]:
    repos = sorted({repo for _, s in columns for repo in s["by_repo"]})
    header = ["repository", "n"]
    for label, _ in columns:
        header.extend(f"{label} {level} {m}" for level, m in BY_REPO)
    body = []
    for repo in repos:
        n = max(s["by_repo"].get(repo, {}).get("n", 0) for _, s in columns)
        cells = [repo, str(n)]
        for _, s in columns:
            metrics = s["by_repo"].get(repo, {}).get("metrics", {})
            cells.extend(_pct(metrics.get(level, {}).get(m)) for level, m in BY_REPO)
        body.append(cells)
    return _table(header, body, left=1)


def markdown(summary: Mapping[str, Any]) -> str:
    meta = summary.get("meta", {})
    base = summary.get("baseline")
    per = summary["per_policy"]
    label = {p: f"{p} (baseline)" if p == base else p for p in summary["policies"]}
    columns = [(label[p], per[p]) for p in summary["policies"]]
    gaps = (
        [(f"{p} − {base}", per[p], per[base]) for p in summary["policies"] if p != base]
        if base
        else []
    )
    title = meta.get("dataset", "evaluation")
    lines = [f"# acs eval: {title}", ""]
    facts = [f"{summary['instances']} instances from {summary['repositories']} repositories"]
    for key, text in (
        ("top_k", "top_k {}"),
        ("workers", "{} workers"),
        ("timeout_s", "timeout {} s"),
        ("wall_s", "wall time {:.0f} s"),
    ):
        if meta.get(key) is not None:
            facts.append(text.format(meta[key]))
    lines += [", ".join(facts) + ".", ""]
    lines += ["## Ranked lists (%)", ""]
    lines += [
        "Acc@k (every gold item in the top k) and Recall@k over every item returned.",
        "",
    ]
    lines += accuracy_table(columns, gaps, RANKED_SHOWN)
    lines += ["", "## Confident set (%)", ""]
    lines += [
        "Precision, recall, F1 and F0.5 of the items marked `confident` (the whole list "
        "when a result marks none); lines come from the confident set.",
        "",
    ]
    lines += accuracy_table(columns, gaps, SET_SHOWN)
    lines += ["", "## Calibration", ""]
    lines += [
        "How well `score` reads as the probability that an item is gold, over every ranked "
        "item of every instance (ECE: the bins' |mean score − fraction gold|, weighted by "
        "their items; Brier: the mean of (score − gold)²).",
        "",
    ]
    lines += calibration_table(columns)
    for level in CALIBRATED:
        table = reliability_table(columns, level)
        if table:
            lines += ["", f"Reliability, {level} level:", ""]
            lines += table
    lines += ["", "## Runs", ""]
    lines += runs_table(columns)
    lines += ["", "## Where the time goes", ""]
    lines += [
        "The search's latency (indexes ready) by part: reading the issue, the policy planning "
        "each turn (a model's writing; tools it streamed meanwhile are hidden in it), waiting "
        "for the tools after that, ranking the evidence, the rest. A run's parts add up to its "
        "latency; their percentiles need not.",
        "",
    ]
    lines += latency_split_table(columns)
    lines += ["", "## By repository (%)", ""]
    lines += repo_table(columns)
    lines += [
        "",
        "Failed runs (error, timeout) count in every metric with an empty prediction. Latency "
        "is `localize` with every index ready; with index adds opening the commit and loading "
        "(disk) or building (built) the indexes, and counts timeouts at their time.",
        "",
    ]
    return "\n".join(lines)


# -- plots ------------------------------------------------------------------------------------


def plots(summary: Mapping[str, Any], rows: Sequence[Mapping[str, Any]], out: Path) -> list[Path]:
    """latency.png, accuracy_by_repo.png, accuracy_by_level.png and reliability.png in `out`
    (matplotlib, Agg). Returns the files written; none, with a note on stderr, without
    matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter, NullFormatter
    except ImportError:
        print(f"acs: no plots without matplotlib ({install_hint('matplotlib')})", file=sys.stderr)
        return []
    policies = summary["policies"]
    written = []

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    panels: list[tuple[str, Callable[[Mapping[str, Any]], float | None]]] = [
        ("latency (indexes ready)", _ready_ms),
        ("latency with open + index", with_index_ms),
    ]
    for ax, (title, value) in zip(axes, panels, strict=True):
        for p in policies:
            xs = sorted(v for r in rows if r["policy"] == p and (v := value(r)) is not None)
            if xs:
                ys = [(i + 1) / len(xs) for i in range(len(xs))]
                ax.step([max(x, 0.01) for x in xs], ys, where="post", label=p)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("ms (log scale)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("fraction of runs")
    axes[0].legend(loc="lower right")
    written.append(_save(fig, out / PLOTS[0], plt))

    repos = sorted({r["repo"] for r in rows})
    sizes = {repo: len({r["instance_id"] for r in rows if r["repo"] == repo}) for repo in repos}
    fig, axes = plt.subplots(
        1, len(BY_REPO), figsize=(5 * len(BY_REPO), 0.45 * len(repos) + 2), sharey=True
    )
    for ax, (level, metric) in zip(axes, BY_REPO, strict=True):
        _bars(
            ax,
            repos,
            policies,
            lambda p, repo, lv=level, m=metric: (
                summary["per_policy"][p]["by_repo"]
                .get(repo, {})
                .get("metrics", {})
                .get(lv, {})
                .get(m)
            ),
            horizontal=True,
            labels=[f"{repo} ({sizes[repo]})" for repo in repos],
        )
        ax.set_title(f"{level} {metric}")
        ax.set_xlim(0, 100)
    axes[0].legend(loc="lower right", fontsize="small")
    written.append(_save(fig, out / PLOTS[1], plt))

    keys = [(lv, f"acc@{k}") for lv in ("file", "module", "function") for k in ACC_K[lv]]
    keys.append(("line", "f1"))
    fig, ax = plt.subplots(figsize=(11, 4))
    _bars(
        ax,
        [f"{lv}\n{m}" for lv, m in keys],
        policies,
        lambda p, label: (
            summary["per_policy"][p]["metrics"]
            .get(label.split("\n")[0], {})
            .get(label.split("\n")[1])
        ),
        horizontal=False,
    )
    ax.set_ylim(0, 100)
    ax.set_ylabel("%")
    ax.set_title("accuracy by level")
    ax.legend(fontsize="small")
    written.append(_save(fig, out / PLOTS[2], plt))

    fig, axes = plt.subplots(1, len(CALIBRATED), figsize=(5 * len(CALIBRATED), 4.5))
    for ax, level in zip(axes, CALIBRATED, strict=True):
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="calibrated")
        for p in policies:
            r = summary["per_policy"][p].get("reliability", {}).get(level)
            if r is None or not r["n"]:
                continue
            pts = [(b["score"], b["observed"]) for b in r["bins"] if b["n"]]
            ax.plot(*zip(*pts, strict=True), marker="o", label=f"{p} (ECE {r['ece']:.3f})")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("mean score in bin")
        ax.set_ylabel("fraction gold")
        ax.set_title(f"reliability, {level} level")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", fontsize="small")
    written.append(_save(fig, out / PLOTS[3], plt))
    return written


def _bars(
    ax: Any,
    groups: Sequence[str],
    policies: Sequence[str],
    value: Any,
    *,
    horizontal: bool,
    labels: Sequence[str] | None = None,
) -> None:
    width = 0.8 / max(1, len(policies))
    for i, p in enumerate(policies):
        pos = [g + (i - (len(policies) - 1) / 2) * width for g in range(len(groups))]
        vals = [100 * (value(p, g) or 0.0) for g in groups]
        if horizontal:
            ax.barh(pos, vals, height=width, label=p)
        else:
            ax.bar(pos, vals, width=width, label=p)
    if horizontal:
        ax.set_yticks(range(len(groups)), labels or groups)
        ax.invert_yaxis()
        ax.grid(True, axis="x", alpha=0.3)
    else:
        ax.set_xticks(range(len(groups)), labels or groups)
        ax.grid(True, axis="y", alpha=0.3)


def _save(fig: Any, path: Path, plt: Any) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# -- writing and comparing --------------------------------------------------------------------


def write_report(
    rows: Sequence[Mapping[str, Any]],
    out: str | os.PathLike[str],
    *,
    baseline: str | None = None,
    meta: Mapping[str, Any] | None = None,
    with_plots: bool = True,
) -> dict[str, Any]:
    """summary.json, report.md and the plots in `out`; returns the summary."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(rows, baseline=baseline, meta=meta)
    (out / SUMMARY).write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
    (out / MARKDOWN).write_text(markdown(summary), encoding="utf-8")
    if with_plots and rows:
        plots(summary, rows, out)
    return summary


class ReportError(AcsError):
    """A run folder that cannot be read."""


def load_run(run_dir: str | os.PathLike[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A run's summary and its rows (only the instances and policies the summary covers)."""
    d = Path(run_dir)
    try:
        summary = orjson.loads((d / SUMMARY).read_bytes())
    except FileNotFoundError:
        raise ReportError(f"{d} has no {SUMMARY} (not an `acs eval --out` folder?)") from None
    except (OSError, orjson.JSONDecodeError) as e:
        raise ReportError(f"cannot read {d / SUMMARY}: {e}") from e
    ids = set(summary.get("instance_ids", ()))
    policies = set(summary.get("policies", ()))
    rows = [
        r for r in read_rows(d / RESULTS) if r["instance_id"] in ids and r["policy"] in policies
    ]
    return summary, rows


def compare(run_a: str | os.PathLike[str], run_b: str | os.PathLike[str]) -> str:
    """Two runs side by side, on the instances both evaluated: accuracy per level and run
    figures for each policy they share (or their first policies when they share none),
    with B − A."""
    sa, rows_a = load_run(run_a)
    sb, rows_b = load_run(run_b)
    common = {r["instance_id"] for r in rows_a} & {r["instance_id"] for r in rows_b}
    if not common:
        raise ReportError(f"{run_a} and {run_b} have no instance in common")
    name_a, name_b = Path(run_a).resolve().name, Path(run_b).resolve().name
    if name_a == name_b:
        name_a, name_b = "A", "B"
    a = summarize([r for r in rows_a if r["instance_id"] in common], baseline=sa.get("baseline"))
    b = summarize([r for r in rows_b if r["instance_id"] in common], baseline=sb.get("baseline"))
    shared = [p for p in a["policies"] if p in b["per_policy"]]
    pairs = [(p, p) for p in shared] or [(a["policies"][0], b["policies"][0])]
    lines = [f"# acs eval: {name_a} (A) vs {name_b} (B)", ""]
    only = (len(sa.get("instance_ids", ())), len(sb.get("instance_ids", ())))
    lines += [f"{len(common)} instances in common (A ran {only[0]}, B ran {only[1]}).", ""]
    for pa, pb in pairs:
        head = pa if pa == pb else f"{pa} (A) vs {pb} (B)"
        left, right = a["per_policy"][pa], b["per_policy"][pb]
        cols = [(f"A: {pa}", left), (f"B: {pb}", right)]
        lines += [f"## {head}", ""]
        lines += accuracy_table(cols, [("B − A", right, left)], RANKED_SHOWN)
        lines += ["", "Confident set:", ""]
        lines += accuracy_table(cols, [("B − A", right, left)], SET_SHOWN)
        lines += [""]
        lines += calibration_table(cols)
        lines += [""]
        lines += runs_table(cols)
        lines += [""]
        lines += latency_split_table(cols)
        lines += [""]
    return "\n".join(lines)
