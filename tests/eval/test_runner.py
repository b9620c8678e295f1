"""`acs eval`: datasets, repository layouts, the runner (parallel, resumable, time-limited),
the report and the comparison, end to end on git repositories made here."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

import acs
from acs.cli import main
from acs.eval.report import compare, distribution, summarize
from acs.eval.results import read_rows
from acs.eval.runner import evaluate
from acs.task.dataset import DatasetError, Instance, load_instances
from acs.task.repos import RepositoryMissing, commit_order, find_repository, locate
from helpers.eval_world import ISSUES, RUN_TIMEOUT_S, SLOW_POLICY, jsonl_rows

# -- end to end -------------------------------------------------------------------------------


def test_eval_end_to_end_resume_and_compare(world, tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["eval", str(world["data"]), "--repos", str(world["repos"]), "--out", str(out)]
    assert main([*argv, "--workers", "2", "--no-progress"]) == 0
    report = capsys.readouterr().out
    for name in ("results.jsonl", "summary.json", "report.md"):
        assert (out / name).is_file()
    for name in ("latency.png", "accuracy_by_repo.png", "accuracy_by_level.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "reliability.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| default − bm25 |" in report and "bm25 (baseline)" in report
    ranked_part, rest = report.split("## Confident set (%)")
    assert "## Ranked lists (%)" in ranked_part and "| recall@3 |" in ranked_part
    assert "| precision |" not in ranked_part and "| f0.5 |" in rest
    assert "## Calibration" in rest and "| ECE |" in rest and "Reliability, file level:" in rest

    rows = {(r["instance_id"], r["policy"]): r for r in jsonl_rows(out / "results.jsonl")}
    assert len(rows) == 8  # 4 instances x (default, bm25)
    first = rows[("acme__widgets-1", "default")]
    assert first["status"] == "ok", first["error"]
    assert first["gold"]["files"] == ["pkg/parser.py"]
    assert first["gold"]["functions"] == ["pkg/parser.py:parse_header"]
    assert first["prediction"]["files"][0] == "pkg/parser.py"
    assert first["metrics"]["file"]["acc@1"] == 1.0
    assert first["metrics"]["function"]["acc@5"] == 1.0
    # The ranked list goes on past the confident set; each ranked item's score and whether it
    # is gold are kept for the reliability diagram.
    assert first["prediction"]["confident"]["files"] == ["pkg/parser.py"]
    files_scored = first["calibration"]["file"]
    assert files_scored[0][1] == 1 and 0 < files_scored[0][0] <= 1
    assert len(files_scored) == len(first["prediction"]["files"])
    assert all(gold == 0 for _, gold in files_scored[1:])
    assert first["latency_ms"] >= 0 and first["index_ms"] >= 0 and first["open_ms"] > 0
    assert first["index_source"] in ("built", "disk")
    assert first["turns"] >= 1 and first["tool_calls"] == sum(first["calls_per_turn"])
    # Where the search's time went: localize's parts but the index, adding up to it.
    for ok in (first, rows[("acme__widgets-1", "bm25")]):
        split = ok["latency_split_ms"]
        assert list(split) == ["issue", "plan", "tools", "rank", "other"]
        assert sum(split.values()) == pytest.approx(ok["latency_ms"], abs=0.01)
    assert rows[("nobody__missing-1", "default")]["latency_split_ms"] is None
    second = rows[("acme__widgets-2", "default")]
    assert second["metrics"]["function"]["acc@5"] == 1.0  # Renderer.draw
    bm25 = rows[("acme__widgets-1", "bm25")]
    assert bm25["status"] == "ok" and bm25["prediction"]["functions"] == []

    missing = rows[("nobody__missing-1", "default")]
    assert (
        missing["status"] == "error" and "no git repository for nobody/missing" in missing["error"]
    )
    assert missing["gold"] is None and missing["prediction"]["files"] == []
    assert set(missing["metrics"]) == {"file", "module", "function", "line"}
    assert all(v == 0.0 for m in missing["metrics"].values() for v in m.values())
    unknown = rows[("acme__widgets-3", "bm25")]
    assert (
        unknown["status"] == "error"
        and "cannot open acme/widgets at 0123456789ab" in unknown["error"]
    )

    summary = orjson.loads((out / "summary.json").read_bytes())
    default = summary["per_policy"]["default"]
    assert default["counts"] == {"total": 4, "ok": 2, "error": 2, "timeout": 0}
    assert default["metrics"]["file"]["n"] == 4  # failures count in every metric
    assert default["metrics"]["file"]["acc@1"] == pytest.approx(0.5)
    assert default["latency_ms"]["n"] == 2 and default["latency_ms"]["p50"] is not None
    assert list(default["latency_split_ms"]) == ["issue", "plan", "tools", "rank", "other"]
    assert all(
        d["n"] == 2 and d["p95"] >= d["p50"] >= 0 for d in default["latency_split_ms"].values()
    )
    where = report.split("## Where the time goes")[1].split("## By repository")[0]
    assert "| p50 / p95 | default | bm25 (baseline) |" in where
    assert "| ranking |" in where and "| waiting for the tools |" in where
    file_reliability = default["reliability"]["file"]
    assert file_reliability["n"] == sum(b["n"] for b in file_reliability["bins"]) > 0
    assert 0 <= file_reliability["ece"] <= 1 and 0 <= file_reliability["brier"] <= 1
    assert summary["per_policy"]["bm25"]["reliability"]["function"]["n"] == 0  # no functions
    assert summary["baseline"] == "bm25" and "default" in summary["gap"]
    assert summary["per_policy"]["bm25"]["turns_mean"] == 1.0
    assert set(default["by_repo"]) == {"acme/widgets", "nobody/missing"}

    # Resume: the ok rows are kept, the failures run again.
    before = jsonl_rows(out / "results.jsonl")
    assert main([*argv, "--workers", "1", "--no-progress"]) == 0
    after = jsonl_rows(out / "results.jsonl")
    assert after[: len(before)] == before
    again = {(r["instance_id"], r["policy"]) for r in after[len(before) :]}
    assert again == {
        (i, p) for i in ("nobody__missing-1", "acme__widgets-3") for p in ("default", "bm25")
    }

    # Only two instances, no baseline, into another folder; then compare.
    other = tmp_path / "other"
    only = "acme__widgets-1,acme__widgets-2"
    argv2 = ["eval", str(world["data"]), "--repos", str(world["repos"]), "--out", str(other)]
    assert main([*argv2, "--instances", only, "--no-baseline", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["eval", "--compare", str(out), str(other)]) == 0
    text = capsys.readouterr().out
    assert "run (A) vs other (B)" in text and "2 instances in common" in text
    assert (
        "| B − A |" in text and "## default" in text and "bm25" not in text.split("## default")[1]
    )
    assert "| planning (the policy) |" in text.split("## default")[1]


def test_eval_usage_errors(world, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["eval"])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["eval", str(world["data"])])
    assert e.value.code == 2 and "--repos" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["eval", str(world["data"]), "--repos", str(world["repos"]), "--policy", "nope"])
    assert e.value.code == 2 and "unknown policy 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["eval", str(tmp_path / "none.jsonl"), "--repos", str(world["repos"])])
    assert e.value.code == 1 and "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["eval", "--compare", str(tmp_path), str(tmp_path)])
    assert e.value.code == 1 and "summary.json" in capsys.readouterr().err


# -- time limits and crashes ------------------------------------------------------------------


def test_timeout_and_crash_are_recorded(world, tmp_path, monkeypatch):
    (tmp_path / "slowpolicy.py").write_text(SLOW_POLICY)
    monkeypatch.syspath_prepend(str(tmp_path))  # workers (spawned) inherit sys.path
    good = Instance(**world["rows"][1])
    sleepy = Instance(**{**world["rows"][1], "instance_id": "sleepy", "problem_statement": "SLEEP"})
    crash = Instance(**{**world["rows"][0], "instance_id": "crash", "problem_statement": "CRASH"})
    results = tmp_path / "r.jsonl"
    rows = evaluate(
        [sleepy, crash, good],
        repos_dir=world["repos"],
        policies=["slowpolicy:Slow"],
        baseline="bm25",
        workers=1,
        timeout_s=RUN_TIMEOUT_S,
        results_path=results,
        progress=False,
    )
    by = {(r["instance_id"], r["policy"]): r for r in rows}
    slow = by[("sleepy", "slowpolicy:Slow")]
    assert slow["status"] == "timeout" and "no result after 10 s" in slow["error"]
    assert slow["elapsed_ms"] >= 10_000 and slow["gold"]["files"] == ["pkg/parser.py"]
    assert slow["metrics"]["file"]["acc@1"] == 0.0 and slow["prediction"]["files"] == []
    # The policy after the one that timed out still ran, in a new worker.
    assert by[("sleepy", "bm25")]["status"] == "ok"
    died = by[("crash", "slowpolicy:Slow")]
    assert died["status"] == "error" and "worker died (exit code 3)" in died["error"]
    assert by[("crash", "bm25")]["status"] == "ok"
    assert by[("acme__widgets-1", "slowpolicy:Slow")]["metrics"]["file"]["acc@1"] == 1.0
    assert len(read_rows(results)) == 6
    summary = summarize(rows, baseline="bm25")
    counts = summary["per_policy"]["slowpolicy:Slow"]["counts"]
    assert counts == {"total": 3, "ok": 1, "error": 1, "timeout": 1}
    with_index = summary["per_policy"]["slowpolicy:Slow"]["latency_with_index_ms"]
    assert with_index["n"] == 2 and with_index["max"] >= 10_000  # the timeout is in the tail


# -- the baseline -----------------------------------------------------------------------------


def test_bm25_baseline_is_bm25_order():
    repo = acs.Repo.from_files(
        {
            "tests/test_cache.py": "def test_cache_eviction(): cache evict evict eviction",
            "docs/cache.md": "The cache evicts entries. Eviction of the cache.",
            "lib/cache.py": "class Cache:\n    def evict(self): pass\n",
            "lib/other.py": "def unrelated(): pass\n",
        }
    )
    issue = "cache eviction evicts the wrong entry"
    result = acs.localize(repo, issue, policy="bm25", top_k=3)
    hits = repo.bm25(issue, limit=3)["hits"]
    assert [f["path"] for f in result["files"]] == [h["path"] for h in hits]
    assert result["files"][0]["path"] in (
        "docs/cache.md",
        "tests/test_cache.py",
    )  # not down-weighted
    assert result["files"][0]["score"] == 1.0 and result["functions"] == []
    assert all(f["confident"] for f in result["files"])  # what BM25 returns is its answer
    assert result["stats"]["tool_calls"] == 1 and result["stats"]["turns"] == 1


# -- repositories -----------------------------------------------------------------------------


def _bare(path: Path) -> Path:
    (path / "objects").mkdir(parents=True)
    (path / "refs").mkdir()
    (path / "HEAD").write_text("ref: refs/heads/main\n")
    return path


@pytest.mark.parametrize(
    "layout",
    [
        "owner__name",
        "owner__name.git",
        "owner+name/repo",
        "owner+name",
        "owner/name",
        "name",
        "name.git",
    ],
)
def test_find_repository_layouts(tmp_path, layout):
    where = tmp_path / layout.replace("owner", "acme").replace("name", "widgets")
    _bare(where)
    assert find_repository(tmp_path, "acme/widgets") == where


def test_find_repository_work_tree_and_missing(tmp_path):
    (tmp_path / "widgets" / ".git").mkdir(parents=True)
    assert find_repository(tmp_path, "acme/widgets") == tmp_path / "widgets"
    (tmp_path / "acme__gadgets").mkdir()  # a folder, but no repository
    with pytest.raises(RepositoryMissing, match="no git repository for acme/gadgets under"):
        find_repository(tmp_path, "acme/gadgets")
    with pytest.raises(RepositoryMissing, match="not a repository name"):
        find_repository(tmp_path, "../etc")


def test_clone_into_cache(world, tmp_path, monkeypatch):
    src = tmp_path / "src" / "acme"
    src.mkdir(parents=True)
    (src / "widgets").symlink_to(world["root"])
    monkeypatch.setenv("ACS_CLONE_URL", f"file://{tmp_path}/src/{{repo}}")
    empty, cache = tmp_path / "empty", tmp_path / "cache"
    empty.mkdir()
    with pytest.raises(RepositoryMissing):
        locate(empty, "acme/widgets")  # cloning is opt-in
    cloned = locate(empty, "acme/widgets", clone=True, cache_dir=cache)
    assert cloned == cache / "acme__widgets.git" and (cloned / "HEAD").is_file()
    assert acs.Repo.open(cloned, commit=world["commits"][0]).paths()
    assert locate(empty, "acme/widgets", clone=True, cache_dir=cache) == cloned  # cached
    with pytest.raises(RepositoryMissing, match="cannot clone"):
        locate(empty, "acme/absent", clone=True, cache_dir=cache)


def test_commit_order(world):
    c0, c1, c2 = world["commits"]
    assert commit_order(world["repos"] / "acme__widgets.git", [c2, "f" * 40, c0, c1]) == [
        c0,
        c1,
        c2,
        "f" * 40,
    ]


# -- datasets ---------------------------------------------------------------------------------


def test_load_jsonl_and_filters(world):
    all_ = load_instances(world["data"])
    assert [i.instance_id for i in all_][:2] == ["acme__widgets-2", "acme__widgets-1"]
    assert all_[1].problem_statement == ISSUES["acme__widgets-1"]
    assert len(load_instances(world["data"], limit=2)) == 2
    only = load_instances(world["data"], repo="nobody/missing")
    assert [i.instance_id for i in only] == ["nobody__missing-1"]
    picked = load_instances(world["data"], instances=["acme__widgets-1"])
    assert [i.instance_id for i in picked] == ["acme__widgets-1"]
    with pytest.raises(DatasetError, match="no instance nope"):
        load_instances(world["data"], instances=["nope"])


def test_load_without_datasets(world, monkeypatch):
    import acs.task.dataset as dataset

    monkeypatch.setattr(dataset, "_datasets", lambda: None)
    assert len(load_instances(world["data"])) == 4
    with pytest.raises(DatasetError, match="agentic-code-search\\[eval\\]"):
        load_instances("someone/some-dataset")


def test_load_parquet(world, tmp_path):
    datasets = pytest.importorskip("datasets")
    path = tmp_path / "dev.parquet"
    datasets.Dataset.from_list(world["rows"]).to_parquet(str(path))
    loaded = load_instances(path, limit=3)
    assert [i.instance_id for i in loaded] == [r["instance_id"] for r in world["rows"][:3]]
    assert loaded[0].patch == world["rows"][0]["patch"]


def test_missing_field_is_named(tmp_path):
    path = tmp_path / "bad.jsonl"
    row = {"instance_id": "x-1", "repo": "a/b", "base_commit": "abc", "problem_statement": "t"}
    path.write_bytes(orjson.dumps(row) + b"\n")
    with pytest.raises(DatasetError, match=r"instance x-1.*no field 'patch'"):
        load_instances(path)


def _row(n: int, statement: object) -> dict:
    return {
        "instance_id": f"x-{n}",
        "repo": "a/b",
        "base_commit": "c" * 40,
        "problem_statement": statement,
        "patch": "diff --git a/x.py b/x.py\n",
    }


def _write_rows(path: Path, rows: list[dict], *, pad_to: int = 0) -> int:
    """`rows` as jsonl after enough good rows to make the file `pad_to` bytes; returns the
    line number of the first of `rows`."""
    with path.open("wb") as f:
        n = 0
        while f.tell() < pad_to:
            f.write(orjson.dumps(_row(n, "a statement " + "y" * 4000)) + b"\n")
            n += 1
        for i, row in enumerate(rows):
            f.write(orjson.dumps({**row, "instance_id": f"late-{i}"}) + b"\n")
    return n + 1


@pytest.mark.parametrize("pad_to", [0, 12 << 20], ids=["small", "past-one-datasets-block"])
def test_a_row_of_the_wrong_type_is_refused_by_line_whatever_the_file_size(tmp_path, pad_to):
    # `datasets` infers a JSON column's type per ~10 MB block: past the first block, a number
    # as problem_statement turned every later statement into a quoted JSON string.
    path = tmp_path / "mixed.jsonl"
    line = _write_rows(path, [_row(0, 42), _row(0, "after the number")], pad_to=pad_to)
    with pytest.raises(DatasetError) as e:
        load_instances(path)
    what = "field 'problem_statement' is a number, not a string"
    assert str(e.value) == f"{path}:{line}: row (instance late-0): {what}"


@pytest.mark.parametrize(
    ("value", "kind"), [(None, "null"), (["a"], "an array"), (True, "a boolean")]
)
def test_each_json_type_is_named(tmp_path, value, kind):
    path = tmp_path / "d.jsonl"
    path.write_bytes(orjson.dumps(_row(1, "ok")) + b"\n\n" + orjson.dumps(_row(2, value)))
    with pytest.raises(DatasetError, match=rf"d\.jsonl:3: .*'problem_statement' is {kind},"):
        load_instances(path)


def test_a_folder_of_jsonl_is_read_by_line_too(tmp_path):
    pytest.importorskip("datasets")
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "test.jsonl").write_bytes(
        orjson.dumps(_row(1, "fine")) + b"\n" + orjson.dumps(_row(2, 7)) + b"\n"
    )
    (folder / "train.jsonl").write_bytes(orjson.dumps(_row(3, "fine")) + b"\n")
    with pytest.raises(DatasetError, match=r"test\.jsonl:2: .*is a number, not a string"):
        load_instances(folder)
    assert [i.instance_id for i in load_instances(folder, split="train")] == ["x-3"]


def test_errors_quote_a_short_prefix_of_an_instance_id(tmp_path):
    path = tmp_path / "long.jsonl"
    row = _row(0, "t")
    row["instance_id"] = "i" * 1_000_000
    path.write_bytes(orjson.dumps(row) + b"\n" + orjson.dumps(row) + b"\n")
    with pytest.raises(DatasetError, match="appears twice") as e:
        load_instances(path)
    assert len(str(e.value)) < 300


# -- report pieces ----------------------------------------------------------------------------


def test_distribution():
    d = distribution([10, 20, 30, 40, None])
    assert d == {"n": 4, "mean": 25.0, "p50": 25.0, "p95": 38.5, "max": 40.0}
    assert distribution([])["p50"] is None


def test_rows_written_before_calibration_pairs_still_report():
    from acs.eval.report import markdown

    row = {
        "instance_id": "o__r-1",
        "repo": "o/r",
        "policy": "default",
        "status": "ok",
        "metrics": {"file": {"acc@1": 1.0, "precision": 0.5}},
        "latency_ms": 5.0,
        "index_ms": 1.0,
        "open_ms": 1.0,
        "turns": 1,
        "tool_calls": 2,
        "calls_per_turn": [2],
    }
    summary = summarize([row])
    assert summary["per_policy"]["default"]["reliability"]["file"]["n"] == 0
    text = markdown(summary)
    assert "| ECE | – |" in text and "Reliability, file level" not in text
    # nor the latency's split: its parts are empty, the search's whole latency is there
    assert summary["per_policy"]["default"]["latency_split_ms"]["rank"]["n"] == 0
    assert "| ranking | – |" in text and "| search (all parts) | 5.0 ms / 5.0 ms |" in text


def test_compare_needs_common_instances(tmp_path):
    for name, iid in (("a", "x-1"), ("b", "y-1")):
        d = tmp_path / name
        d.mkdir()
        row = {"instance_id": iid, "policy": "default", "repo": "a/b", "status": "ok"}
        (d / "results.jsonl").write_bytes(orjson.dumps(row) + b"\n")
        summary = {"instance_ids": [iid], "policies": ["default"], "baseline": None}
        (d / "summary.json").write_bytes(orjson.dumps(summary))
    with pytest.raises(Exception, match="no instance in common"):
        compare(tmp_path / "a", tmp_path / "b")


def test_resume_reruns_a_row_whose_instance_changed():
    from acs.eval.results import fingerprint
    from acs.task.dataset import Instance

    inst = Instance("o__r-1", "o/r", "abc", "issue text", "--- a/x.py\n+++ b/x.py\n")
    same = fingerprint(inst, "default", 10)
    assert fingerprint(inst, "default", 10) == same
    assert fingerprint(inst, "bm25", 10) != same
    assert fingerprint(inst, "default", 5) != same
    edited = Instance("o__r-1", "o/r", "abc", "issue text, edited", inst.patch)
    assert fingerprint(edited, "default", 10) != same


def test_resume_reruns_a_model_planners_row_made_with_another_prompt(monkeypatch):
    """Rows of `planner-v1` are not reused as `planner-v2`'s: the prompt is the model's input."""
    from acs.eval.results import fingerprint
    from acs.llm import prompt
    from acs.task.dataset import Instance

    inst = Instance("o__r-1", "o/r", "abc", "issue text", "--- a/x.py\n+++ b/x.py\n")
    model, default = fingerprint(inst, "vllm", 10), fingerprint(inst, "default", 10)
    monkeypatch.setattr(prompt, "PROMPT_VERSION", "planner-v1")
    assert fingerprint(inst, "vllm", 10) != model
    assert fingerprint(inst, "default", 10) == default  # no prompt: its rows stay


# -- the --out folder -------------------------------------------------------------------------

FOREIGN_RESULTS = {
    "a dataset": orjson.dumps({"instance_id": "x-1", "repo": "a/b", "patch": "p"}) + b"\n",
    "prose": b"my notes on the last run\n",
    "an array": b"[1, 2, 3]\n",
}


def _eval_argv(world, out: Path) -> list[str]:
    return ["eval", str(world["data"]), "--repos", str(world["repos"]), "--out", str(out),
            "--instances", "acme__widgets-1", "--no-baseline", "--workers", "1",
            "--no-progress"]  # fmt: skip


@pytest.mark.parametrize("content", FOREIGN_RESULTS.values(), ids=FOREIGN_RESULTS)
def test_out_refuses_a_folder_with_a_foreign_results_file(world, tmp_path, capsys, content):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "results.jsonl").write_bytes(content)
    with pytest.raises(SystemExit) as e:
        main(_eval_argv(world, out))
    assert e.value.code == 2
    assert "holds files acs eval did not write (results.jsonl)" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["results.jsonl"]
    assert (out / "results.jsonl").read_bytes() == content


def test_out_refuses_a_folder_with_only_a_foreign_report(world, tmp_path, capsys):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "report.md").write_text("# my own report\n")
    with pytest.raises(SystemExit) as e:
        main(_eval_argv(world, out))
    assert e.value.code == 2 and "(report.md)" in capsys.readouterr().err
    assert (out / "report.md").read_text() == "# my own report\n"
    assert sorted(p.name for p in out.iterdir()) == ["report.md"]


def test_out_resumes_a_killed_run_and_a_run_from_before_the_marker(world, tmp_path, capsys):
    out = tmp_path / "run"
    argv = _eval_argv(world, out)
    assert main(argv) == 0
    capsys.readouterr()
    rows = jsonl_rows(out / "results.jsonl")
    assert len(rows) == 1 and rows[0]["status"] == "ok"
    # killed in the middle of its next row: the folder is still the run's
    with (out / "results.jsonl").open("ab") as f:
        f.write(b'{"instance_id":"acme__widgets-2","pol')
    (out / "report.md").unlink()
    assert main(argv) == 0
    assert (out / "report.md").is_file()
    # a run made before the marker existed: known by its results file
    (out / ".acs-eval-run").unlink()
    assert main(argv) == 0
    capsys.readouterr()
    assert _lines_lenient(out / "results.jsonl") == rows  # reused, not run again
    # an empty folder is taken as it is
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(_eval_argv(world, empty)) == 0


def _lines_lenient(path: Path) -> list[dict]:
    out = []
    for line in path.read_bytes().splitlines():
        try:
            out.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            continue
    return out


def test_evaluate_never_writes_over_a_file_of_other_rows(world, tmp_path):
    path = tmp_path / "dev-copy.jsonl"
    data = world["data"].read_bytes()
    path.write_bytes(data)
    inst = Instance(**world["rows"][1])
    for resume in (True, False):
        with pytest.raises(acs.InvalidArgumentError, match="line 1 is not a result row"):
            evaluate([inst], repos_dir=world["repos"], results_path=path, resume=resume,
                     progress=False)  # fmt: skip
    assert path.read_bytes() == data
