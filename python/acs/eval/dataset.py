"""Evaluation instances: SWE-bench-style rows (`instance_id`, `repo`, `base_commit`,
`problem_statement`, `patch`) from a local jsonl/json/parquet file or a Hugging Face Hub
dataset, read with `datasets` (a plain jsonl reader is the fallback when it is missing)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import orjson

from ..errors import AcsError

FIELDS = ("instance_id", "repo", "base_commit", "problem_statement", "patch")
LOCAL_FORMATS = {".jsonl": "json", ".json": "json", ".parquet": "parquet"}


class DatasetError(AcsError):
    """The dataset cannot be read, or a row lacks a field."""


@dataclass(frozen=True)
class Instance:
    instance_id: str
    repo: str  # GitHub "owner/name"
    base_commit: str
    problem_statement: str
    patch: str  # the gold fix, a unified diff

    @classmethod
    def from_row(cls, row: Mapping[str, Any], where: str = "") -> Instance:
        values = {}
        for name in FIELDS:
            value = row.get(name)
            if value is None:
                ident = row.get("instance_id")
                at = f" (instance {ident})" if ident and name != "instance_id" else ""
                raise DatasetError(f"{where}row{at} has no field {name!r}")
            if not isinstance(value, str):
                raise DatasetError(f"{where}field {name!r} is not a string")
            values[name] = value
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def load_instances(
    source: str | Path,
    *,
    split: str | None = None,
    limit: int | None = None,
    instances: Collection[str] | None = None,
    repo: str | None = None,
) -> list[Instance]:
    """Instances from `source`, in dataset order: a local `.jsonl`, `.json` or `.parquet`
    file (or a folder of data files), else a Hub dataset id such as `SWE-Gym/SWE-Gym`
    (split `test` by default, or the only split there is). `instances` keeps those ids,
    `repo` one repository (`owner/name`), and `limit` the first N of what is left."""
    path = Path(source)
    if path.exists():
        rows, where = _local_rows(path, split), f"{path}: "
    elif str(source).endswith(tuple(LOCAL_FORMATS)):
        raise DatasetError(f"no such file: {source}")
    else:
        rows, where = _hub_rows(str(source), split), f"{source}: "
    wanted = set(instances) if instances is not None else None
    out: list[Instance] = []
    seen: set[str] = set()
    for row in rows:
        inst = Instance.from_row(row, where)
        if inst.instance_id in seen:
            raise DatasetError(f"{where}instance {inst.instance_id} appears twice")
        seen.add(inst.instance_id)
        if wanted is not None and inst.instance_id not in wanted:
            continue
        if repo is not None and inst.repo != repo:
            continue
        out.append(inst)
    if wanted is not None and (unknown := wanted - seen):
        raise DatasetError(f"{where}no instance {', '.join(sorted(unknown)[:5])}")
    return out[:limit] if limit is not None else out


def _datasets() -> Any | None:
    try:
        import datasets
    except ImportError:
        return None
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    return datasets


def _local_rows(path: Path, split: str | None) -> Iterable[Mapping[str, Any]]:
    ds = _datasets()
    if path.is_dir():
        if ds is None:
            raise DatasetError(f"reading folder {path} needs `datasets`: {INSTALL_HINT}")
        return cast(Iterable[Mapping[str, Any]], _load(ds, str(path), split, f"cannot read {path}"))
    kind = LOCAL_FORMATS.get(path.suffix.lower())
    if kind is None:
        raise DatasetError(f"{path}: unknown format (expected .jsonl, .json or .parquet)")
    if ds is None:
        if kind == "parquet":
            raise DatasetError(f"reading {path} needs `datasets`: {INSTALL_HINT}")
        return read_json_rows(path)
    try:
        rows: Iterable[Mapping[str, Any]] = ds.load_dataset(
            kind, data_files=str(path), split="train"
        )
        return rows
    except Exception as e:
        if kind == "json":  # e.g. a column whose type varies between rows: read it plainly
            return read_json_rows(path)
        raise DatasetError(f"cannot read {path}: {_one_line(e)}") from e


def _hub_rows(name: str, split: str | None) -> Iterable[Mapping[str, Any]]:
    ds = _datasets()
    if ds is None:
        raise DatasetError(
            f"no file {name}, and loading it from the Hub needs `datasets`: {INSTALL_HINT}"
        )
    return cast(Iterable[Mapping[str, Any]], _load(ds, name, split, f"cannot load dataset {name}"))


def _load(ds: Any, name: str, split: str | None, failure: str) -> Any:
    try:
        if split is not None:
            return ds.load_dataset(name, split=split)
        loaded = ds.load_dataset(name)
    except Exception as e:
        raise DatasetError(f"{failure}: {_one_line(e)}") from e
    if "test" in loaded:
        return loaded["test"]
    if len(loaded) == 1:
        return next(iter(loaded.values()))
    raise DatasetError(f"{name} has splits {', '.join(loaded)}: choose one with --split")


def read_json_rows(path: Path) -> list[dict[str, Any]]:
    """A jsonl file (or a json file holding a list of objects), without `datasets`."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DatasetError(f"cannot read {path}: {e.strerror}") from e
    stripped = data.lstrip()
    if stripped.startswith(b"["):
        try:
            rows: list[dict[str, Any]] = orjson.loads(data)
        except orjson.JSONDecodeError as e:
            raise DatasetError(f"{path} is not valid JSON: {e}") from e
    else:
        rows = []
        for number, line in enumerate(data.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append(orjson.loads(line))
            except orjson.JSONDecodeError as e:
                raise DatasetError(f"{path}:{number}: not valid JSON: {e}") from e
    if not all(isinstance(r, dict) for r in rows):
        raise DatasetError(f"{path}: every row must be a JSON object")
    return rows


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


INSTALL_HINT = "pip install 'acs[eval]'"
