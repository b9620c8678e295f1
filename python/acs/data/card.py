"""The data card's tables, from `acs data mine --summary` files: one row per repository
(domain, commits seen, instances, labels) and one per filter, with totals. Generated, so the
card can be reproduced from the summaries (`acs data card OUT_DIR --repos-file FILE`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

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
    """Markdown: the per-repository table, then the per-filter table. Repositories follow
    the order of `domains` (a repos file) when given, else their names."""
    domains = domains or {}
    order = {name.lower(): i for i, name in enumerate(domains)}
    rows = sorted(summaries, key=lambda s: (order.get(s["repo"].lower(), len(order)), s["repo"]))
    lower_domains = {k.lower(): v for k, v in domains.items()}
    lines = [
        "| repository | domain | commits seen | instances | with test_patch | "
        + " | ".join(LABELS)
        + " |",
        "|---|---|--:|--:|--:|" + "--:|" * len(LABELS),
    ]
    for s in rows:
        lines.append(
            f"| {s['repo']} | {lower_domains.get(s['repo'].lower(), '')} | {s['seen']} | "
            f"{s['emitted']} | {s.get('with_tests', 0)} | "
            + " | ".join(str(s.get("labels", {}).get(lb, 0)) for lb in LABELS)
            + " |"
        )
    total = _total(rows)
    lines.append(
        f"| **total** ({len(rows)}) | | {total['seen']} | {total['emitted']} | "
        f"{total['with_tests']} | " + " | ".join(str(total[lb]) for lb in LABELS) + " |"
    )
    seen = max(total["seen"], 1)
    lines += ["", "| filter | commits | share of seen |", "|---|--:|--:|"]
    lines.append(f"| *emitted* | {total['emitted']} | {100 * total['emitted'] / seen:.1f}% |")
    for reason in REASONS:
        n = total[reason]
        lines.append(f"| {reason} | {n} | {100 * n / seen:.1f}% |")
    return "\n".join(lines) + "\n"


def _total(summaries: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    total = dict.fromkeys(("seen", "emitted", "with_tests", *LABELS, *REASONS), 0)
    for s in summaries:
        for key in ("seen", "emitted", "with_tests"):
            total[key] += int(s.get(key, 0))
        for label in LABELS:
            total[label] += int(s.get("labels", {}).get(label, 0))
        for reason in REASONS:
            total[reason] += int(s["filtered"].get(reason, 0))
    return total
