"""Evaluation instances: SWE-bench-style rows (`instance_id`, `repo`, `base_commit`,
`problem_statement`, `patch`) from a local jsonl/json/parquet file (or a folder of them) or a
Hugging Face Hub dataset.

JSON files are read here, row by row, never by `datasets`: its JSON reader infers a column's
type per block of the file (~10 MB), and a row of another type past the first block (a number
as `problem_statement`) silently turned every later string of that column into a quoted JSON
string, while the same row in a small file was refused. Here each row is checked as it is
read, and a field of the wrong type is an error naming its line, whatever the file's size.
Parquet files and Hub datasets (typed columns) are read with `datasets`; their rows go through
the same check."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from ..errors import AcsError
from ..extras import install_hint

FIELDS = ("instance_id", "repo", "base_commit", "problem_statement", "patch")
LOCAL_FORMATS = {".jsonl": "json", ".json": "json", ".parquet": "parquet"}
SHOWN_CHARS = 80  # of a value quoted in an error: a 10 MB instance id must not come back whole
_JSON_TYPES: dict[type, str] = {dict: "an object", list: "an array", bool: "a boolean"}
_JSON_TYPES |= {int: "a number", float: "a number", type(None): "null"}

# A row and where it is: `data.jsonl:12: ` (a line), `data.json: row 12: ` or `row 12: `.
Located = tuple[str, Mapping[str, Any]]


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
        """The instance of one row; `where` (`data.jsonl:12: `) opens any error."""
        values = {}
        for name in FIELDS:
            value = row.get(name)
            if isinstance(value, str):
                values[name] = value
                continue
            ident = row.get("instance_id") if name != "instance_id" else None
            at = f" (instance {_short(ident)})" if isinstance(ident, str) and ident else ""
            if name not in row:
                raise DatasetError(f"{where}row{at} has no field {name!r}")
            kind = _JSON_TYPES.get(type(value), type(value).__name__)
            raise DatasetError(f"{where}row{at}: field {name!r} is {kind}, not a string")
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
    `repo` one repository (`owner/name`), and `limit` the first N of what is left. A row
    whose fields are missing or not strings is a `DatasetError` naming its line."""
    path = Path(source)
    if path.exists():
        rows, name = _local_rows(path, split), f"{path}: "
    elif str(source).endswith(tuple(LOCAL_FORMATS)):
        raise DatasetError(f"no such file: {source}")
    else:
        rows, name = _hub_rows(str(source), split), f"{source}: "
    wanted = set(instances) if instances is not None else None
    out: list[Instance] = []
    seen: set[str] = set()
    for where, row in rows:
        inst = Instance.from_row(row, where)
        if inst.instance_id in seen:
            raise DatasetError(f"{where}instance {_short(inst.instance_id)} appears twice")
        seen.add(inst.instance_id)
        if wanted is not None and inst.instance_id not in wanted:
            continue
        if repo is not None and inst.repo != repo:
            continue
        out.append(inst)
    if wanted is not None and (unknown := wanted - seen):
        missing = ", ".join(_short(i) for i in sorted(unknown)[:5])
        raise DatasetError(f"{name}no instance {missing}")
    return out[:limit] if limit is not None else out


def _datasets() -> Any | None:
    try:
        import datasets
    except ImportError:
        return None
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    return datasets


def _local_rows(path: Path, split: str | None) -> Iterable[Located]:
    if path.is_dir():
        return _folder_rows(path, split)
    kind = LOCAL_FORMATS.get(path.suffix.lower())
    if kind is None:
        raise DatasetError(f"{path}: unknown format (expected .jsonl, .json or .parquet)")
    if kind == "json":
        return iter_json_rows(path)
    ds = _datasets()
    if ds is None:
        raise DatasetError(f"reading {path} needs `datasets`: {INSTALL_HINT}")
    try:
        table = ds.load_dataset("parquet", data_files=str(path), split="train")
    except Exception as e:
        raise DatasetError(f"cannot read {path}: {_one_line(e)}") from e
    return _table_rows(table, f"{path}: ")


def _folder_rows(path: Path, split: str | None) -> Iterable[Located]:
    """A folder of data files, its splits as `datasets` names them (`test.jsonl`,
    `data/test-00000-of-00001.parquet`, ...); JSON files are read here all the same."""
    ds = _datasets()
    if ds is None:
        raise DatasetError(f"reading folder {path} needs `datasets`: {INSTALL_HINT}")
    failure = f"cannot read {path}"
    try:
        data_files = ds.load_dataset_builder(str(path)).config.data_files
    except Exception as e:
        raise DatasetError(f"{failure}: {_one_line(e)}") from e
    by_split = {str(name): files for name, files in (data_files or {}).items()}
    chosen = _choose_split(str(path), split, list(by_split))
    files = [Path(f) for f in by_split[chosen]]
    if files and all(LOCAL_FORMATS.get(f.suffix.lower()) == "json" for f in files):
        return (located for f in files for located in iter_json_rows(f))
    return _table_rows(_load(ds, str(path), chosen, failure), f"{path}: ")


def _hub_rows(name: str, split: str | None) -> Iterable[Located]:
    ds = _datasets()
    if ds is None:
        raise DatasetError(
            f"no file {name}, and loading it from the Hub needs `datasets`: {INSTALL_HINT}"
        )
    return _table_rows(_load(ds, name, split, f"cannot load dataset {name}"), f"{name}: ")


def _choose_split(name: str, split: str | None, splits: list[str]) -> str:
    """`split` when the dataset has it; else `test`, or the only split there is."""
    if split is not None:
        if split not in splits:
            raise DatasetError(f"{name} has no split {_short(split)} (it has {', '.join(splits)})")
        return split
    if "test" in splits:
        return "test"
    if len(splits) == 1:
        return splits[0]
    raise DatasetError(f"{name} has splits {', '.join(splits)}: choose one with --split")


def _load(ds: Any, name: str, split: str | None, failure: str) -> Any:
    """One split of a dataset: `split`, else `test` or the only split there is."""
    try:
        if split is not None:
            return ds.load_dataset(name, split=split)
        loaded = ds.load_dataset(name)
    except Exception as e:
        raise DatasetError(f"{failure}: {_one_line(e)}") from e
    return loaded[_choose_split(name, None, [str(s) for s in loaded])]


def _table_rows(table: Iterable[Mapping[str, Any]], name: str) -> Iterator[Located]:
    for number, row in enumerate(table, 1):
        yield f"{name}row {number}: ", row


def iter_json_rows(path: Path) -> Iterator[Located]:
    """The objects of a jsonl file, one a line (blank lines skipped), or of a json file
    holding a list of objects, each with where it is (`data.jsonl:12: `), read as they are
    needed: a line that is not a JSON object is an error naming it."""
    try:
        f = path.open("rb")
    except OSError as e:
        raise DatasetError(f"cannot read {path}: {e.strerror}") from e
    with f:
        start = f.read(1 << 16).lstrip(b"\xef\xbb\xbf").lstrip()  # a BOM, blank lines
        if start.startswith(b"["):
            yield from _json_list_rows(path, start + f.read())
            return
        f.seek(0)
        for number, line in enumerate(f, 1):
            if number == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError as e:
                raise DatasetError(f"{path}:{number}: not valid JSON: {e}") from e
            if not isinstance(row, dict):
                raise DatasetError(f"{path}:{number}: a row must be a JSON object")
            yield f"{path}:{number}: ", row


def _json_list_rows(path: Path, data: bytes) -> Iterator[Located]:
    try:
        rows = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise DatasetError(f"{path} is not valid JSON: {e}") from e
    for number, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise DatasetError(f"{path}: row {number}: a row must be a JSON object")
        yield f"{path}: row {number}: ", row


def read_json_rows(path: Path) -> list[dict[str, Any]]:
    """Every object of a jsonl file (or of a json file holding a list of objects)."""
    return [dict(row) for _, row in iter_json_rows(path)]


def _short(value: object) -> str:
    """A value quoted in an error, cut to its first `SHOWN_CHARS` characters."""
    text = str(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}... ({len(text):,} chars)"


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


INSTALL_HINT = install_hint("datasets")
