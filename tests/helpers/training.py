"""Training inputs built here, shared by the SkyRL tests: instances on real git repositories,
their JSONL file, and the presets' arguments for a batch those few instances fill."""

from __future__ import annotations

import json
from pathlib import Path

from acs.task.dataset import Instance
from acs.train.planner.skyrl_main import expand_args
from helpers import ROOT
from helpers.repos import repo_with_fix

CONFIGS = ROOT / "training" / "configs"
# A batch this test's few instances fill (SkyRL needs one full batch of prompts).
SMALL_BATCH = ["trainer.train_batch_size=1", "trainer.policy_mini_batch_size=1"]
BEFORE = {"pkg/io.py": "class Reader:\n    def read(self):\n        return 1\n"}
AFTER = {"pkg/io.py": "class Reader:\n    def read(self):\n        return 2\n"}


def make_instances(repos: Path, names: list[str]) -> list[Instance]:
    """One repository `acme/<name>` (a fix commit) under `repos` per name, and its instance."""
    out = []
    for name in names:
        base, patch = repo_with_fix(repos / f"acme__{name}", BEFORE, AFTER)
        out.append(Instance(f"acme__{name}-1", f"acme/{name}", base, "Reader.read is 1", patch))
    return out


def write_jsonl(path: Path, instances: list[Instance]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(i.to_json()) + "\n" for i in instances))
    return path


def preset_args(data: Path, repos: Path, model: Path) -> list[str]:
    environ = {"ACS_DATA": str(data), "ACS_REPOS": str(repos), "ACS_RUN_DIR": str(data / "run")}
    environ["ACS_MODEL"] = str(model)
    files = [f"@{CONFIGS / n}.args" for n in ("base", "1gpu", "grpo")]
    return expand_args([*files, *SMALL_BATCH], environ)
