"""The policy registry: one entry per policy says how to make it, which options it takes,
whether an evaluation worker keeps one, and what identifies its runs; the command line, the
loop, the evaluation's workers and its resume read those properties, never a list of names."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import ClassVar

import pytest

import acs
from acs.cli import main
from acs.errors import InvalidArgumentError
from acs.eval.results import fingerprint
from acs.eval.worker import Once, worker_factories
from acs.policies import MODEL_OPTIONS, REGISTRY, PolicySpec, make_policy, policy_spec
from acs.policies.base import Turn
from acs.task.dataset import Instance

PACKAGE = Path(acs.__file__).parent
INSTANCE = Instance("o__r-1", "o/r", "abc", "issue text", "--- a/x.py\n+++ b/x.py\n")


class Recorder:
    """A policy that records the options it was made with and finishes at once."""

    made: ClassVar[list[dict[str, object]]] = []

    def __init__(self, **options: object) -> None:
        Recorder.made.append(options)

    def plan(self, issue: str, history: list[Turn]) -> list[object]:
        return []  # nothing to search: the answer is empty


@pytest.fixture
def registered(monkeypatch):
    """A new policy added as one registry entry, nothing else."""
    Recorder.made = []
    spec = PolicySpec(
        "recorder",
        Recorder,
        "records its options",
        options=("model", "max_turns"),
        once_per_worker=True,
        identity=lambda: ["recorder-model-7"],
    )
    monkeypatch.setitem(REGISTRY, "recorder", spec)
    return spec


def test_one_entry_is_all_a_new_policy_needs(registered, tmp_path, capsys):
    (tmp_path / "a.py").write_text("def f():\n    pass\n")
    # the loop hands it the turn limit it takes ...
    acs.localize(acs.Repo.open(tmp_path, index_cache=False), "f fails", policy="recorder")
    assert Recorder.made == [{"max_turns": 4}]
    # ... the command line its model option, and refuses what it does not take
    code = main(["localize", "--repo", str(tmp_path), "--policy", "recorder", "--model", "m", "x"])
    assert code == 0 and Recorder.made[-1] == {"model": "m", "max_turns": 4}
    with pytest.raises(SystemExit) as e:
        main(["localize", "--repo", str(tmp_path), "--policy", "recorder", "--device", "cpu", "x"])
    assert e.value.code == 2 and "--device only apply to --policy" in capsys.readouterr().err
    # an evaluation worker keeps one, and its identity reruns rows made with another
    assert isinstance(worker_factories(["recorder"])["recorder"], Once)
    before = fingerprint(INSTANCE, "recorder", 10)
    registered_again = PolicySpec("recorder", Recorder, "", identity=lambda: ["model-8"])
    REGISTRY["recorder"] = registered_again
    assert fingerprint(INSTANCE, "recorder", 10) != before


def test_a_policy_without_options_refuses_model_flags(tmp_path, capsys):
    (tmp_path / "a.py").write_text("x = 1\n")
    with pytest.raises(SystemExit) as e:
        main(["localize", "--repo", str(tmp_path), "--policy", "hand", "--base-url", "u", "x"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "--base-url only apply to --policy vllm|openai|transformers" in err


def test_the_model_planners_take_the_model_options_and_are_kept_per_worker():
    models = [name for name, spec in REGISTRY.items() if spec.options == MODEL_OPTIONS]
    assert models == ["vllm", "openai", "transformers"]
    assert all(REGISTRY[name].once_per_worker for name in models)
    assert not any(REGISTRY[name].once_per_worker for name in ("default", "hand", "bm25"))


def test_options_a_policy_does_not_take_are_dropped():
    assert type(make_policy("hand", model="m", max_turns=2)).__name__ == "HandPlanner"


def test_an_imported_policy_gets_an_entry_of_its_own():
    spec = policy_spec("acs.policies.default:HandPlanner")
    assert spec.options == () and not spec.once_per_worker and spec.identity() == []
    with pytest.raises(InvalidArgumentError, match="unknown policy 'nope'"):
        policy_spec("nope")


def test_no_module_tests_a_list_of_policy_names():
    """Properties live in the registry: a module that asks `name in LLM_POLICIES` (or
    `POLICIES`) would need editing for every new policy."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and any(
                isinstance(c, ast.Name) and c.id in ("LLM_POLICIES", "POLICIES")
                for c in node.comparators
            ):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not offenders, offenders
