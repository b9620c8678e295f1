"""The data card's tables, from `acs data mine --summary` files: one row per repository
(domain, commits seen, instances, labels, mean closeness to an issue), one per filter, with
totals, and the distribution of closeness (`closeness.py`) over the emitted instances.
Generated, so the card can be reproduced from the summaries
(`acs data card OUT_DIR --repos-file FILE`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from .closeness import COUNTED, POINTS, SIGNALS
from .filters import LABELS, REASONS


def read_summaries(sources: Iterable[str | Path]) -> list[dict[str, Any]]:
    """Summaries from files, or from the `*.summary.json` files of folders. Raises
    `ValueError` for a file that is not a summary."""
    files: list[Path] = []
    for source in sources:
        path = Path(source)
        files += sorted(path.glob("*.summary.json")) if path.is_dir() else [path]
    out = []
    for path in files:
        try:
            data = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as e:
            raise ValueError(f"{path} is not valid JSON: {e}") from e
        if not isinstance(data, dict) or not {"repo", "seen", "emitted", "filtered"} <= set(data):
            raise ValueError(f"{path} is not a mining summary")
        out.append(data)
    return out


def card(summaries: Sequence[Mapping[str, Any]], domains: Mapping[str, str] | None = None) -> str:
    """Markdown: the per-repository table, the per-filter table, then closeness: the share
    of instances with each signal and the number with 0..6 points. Repositories follow
    the order of `domains` (a repos file) when given, else their names."""
    domains = domains or {}
    order = {name.lower(): i for i, name in enumerate(domains)}
    rows = sorted(summaries, key=lambda s: (order.get(s["repo"].lower(), len(order)), s["repo"]))
    lower_domains = {k.lower(): v for k, v in domains.items()}
    lines = [
        "| repository | domain | commits seen | instances | with test_patch | "
        + " | ".join(LABELS)
        + " | closeness |",
        "|---|---|--:|--:|--:|" + "--:|" * len(LABELS) + "--:|",
    ]
    for s in rows:
        lines.append(
            f"| {s['repo']} | {lower_domains.get(s['repo'].lower(), '')} | {s['seen']} | "
            f"{s['emitted']} | {s.get('with_tests', 0)} | "
            + " | ".join(str(s.get("labels", {}).get(lb, 0)) for lb in LABELS)
            + f" | {_mean_score(s.get('points', {}))} |"
        )
    total = _total(rows)
    total_points = {p: total[f"points {p}"] for p in POINTS}
    lines.append(
        f"| **total** ({len(rows)}) | | {total['seen']} | {total['emitted']} | "
        f"{total['with_tests']} | "
        + " | ".join(str(total[lb]) for lb in LABELS)
        + f" | {_mean_score(total_points)} |"
    )
    seen = max(total["seen"], 1)
    lines += ["", "| filter | commits | share of seen |", "|---|--:|--:|"]
    lines.append(f"| *emitted* | {total['emitted']} | {100 * total['emitted'] / seen:.1f}% |")
    for reason in REASONS:
        n = total[reason]
        lines.append(f"| {reason} | {n} | {100 * n / seen:.1f}% |")
    lines += ["", *_closeness_tables(total)]
    return "\n".join(lines) + "\n"


def _closeness_tables(total: Mapping[str, int]) -> list[str]:
    """The share of instances with each closeness signal, and how many have 0..6 points
    (from summaries that count them: `scored` instances)."""
    scored = sum(total[f"points {p}"] for p in POINTS)
    share = max(scored, 1)
    lines = [f"| closeness signal (of {scored} scored instances) | instances | share |"]
    lines.append("|---|--:|--:|")
    for key in COUNTED:
        n = total[f"closeness {key}"]
        lines.append(f"| {key} | {n} | {100 * n / share:.1f}% |")
    lines += ["", "| closeness points | instances | share |", "|---|--:|--:|"]
    for p in POINTS:
        n = total[f"points {p}"]
        lines.append(f"| {p} | {n} | {100 * n / share:.1f}% |")
    return lines


def _mean_score(points: Mapping[str, int]) -> str:
    """The mean closeness score (points / 6) of a points histogram; "–" without one."""
    n = sum(int(points.get(p, 0)) for p in POINTS)
    if not n:
        return "–"
    mean = sum(int(p) * int(points.get(p, 0)) for p in POINTS) / n
    return f"{mean / len(SIGNALS):.2f}"


def _total(summaries: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    keys: tuple[str, ...] = ("seen", "emitted", "with_tests", *LABELS, *REASONS)
    keys += tuple(f"closeness {k}" for k in COUNTED) + tuple(f"points {p}" for p in POINTS)
    total = dict.fromkeys(keys, 0)
    for s in summaries:
        for key in ("seen", "emitted", "with_tests"):
            total[key] += int(s.get(key, 0))
        for label in LABELS:
            total[label] += int(s.get("labels", {}).get(label, 0))
        for reason in REASONS:
            total[reason] += int(s["filtered"].get(reason, 0))
        for key in COUNTED:
            total[f"closeness {key}"] += int(s.get("closeness", {}).get(key, 0))
        for p in POINTS:
            total[f"points {p}"] += int(s.get("points", {}).get(p, 0))
    return total
