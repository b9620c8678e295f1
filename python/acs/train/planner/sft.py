"""SFT/RFT warm start: the model-free default planner's best runs, exported as the very chat
conversations a model planner would have had, so a random or base model starts RL from plans
that already work.

A conversation is built only from code inference runs, never a second renderer:

* the first messages are `acs.llm.prompt.Conversation`'s (the versioned prompt files);
* each assistant turn is the planner's tasks in the canonical plan language
  (`planlang.format_task`, closed by `end`): the tolerant parser reads it back to exactly
  the tasks that ran, and it is in the language of the constrained-decoding grammar;
* each following user message is `Conversation.results` (the `next` template, or `final`
  before the last allowed turn) around `render_turn`, as `LlmPolicy` appends it;
* the last assistant turn is `answer(files=[...], functions=[...])`: the confident files and
  functions of the run's own ranking of the turns shown (the top few when none is
  confident), so the example teaches the whole protocol within `max_turns`.

A run is scored as the environment `acs-localize` scores a rollout
(`acs.train.planner.reward.score_answer`: the answer alone, grounded in the evidence) against
the gold of `acs.task.groundtruth`, with the conversation's token counts.

    python -m acs.train.planner.sft DATASET --repos MIRRORS --out sft.jsonl [--min-reward 0.5]
    python -m acs.train.planner.sft --trace run.json [--trace ...] --out sft.jsonl
        # (traces written by acs localize --trace)

Each line: `{"messages": [...], "reward": ..., "instance_id": ..., ...}`. Held-out
repositories (`acs.data.heldout`) are refused as by `acs.train.planner.rl_data`; development-set
repositories are skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...data.heldout import check_allowed
from ...distributed import add_executor_arguments, ordered_map
from ...errors import AcsError, InvalidArgumentError
from ...issue import parse_issue
from ...joiner import rank as joiner_rank
from ...llm import planlang
from ...llm.prompt import Conversation, Prompts, approx_tokens, load_prompts
from ...localize import localize
from ...policies import POLICIES
from ...task.dataset import DatasetError, Instance, load_instances
from ...task.groundtruth import GroundTruth
from ...types import Turn
from .reward import TOP_K, TOP_K_FUNCTIONS, Reward, RewardConfig, score_answer
from .rl_data import check_source, open_instance

__all__ = [
    "Example",
    "build_example",
    "conversation_from_trajectory",
    "export",
    "from_trace",
    "render_plan",
    "score_example",
]

FEW = 3  # answered when the ranking marks nothing confident
MAX_FILES, MAX_FUNCTIONS = 5, 10  # the prompt's limits on the answer line


def render_plan(tasks: Iterable[Mapping[str, Any]]) -> str:
    """A turn's tasks as a model writes them: `N. tool(arg=value, ...)` per line (N the task
    id), then `end`. `planlang.parse_plan` reads it back to the same tasks."""
    lines = [planlang.format_task(t["id"], t["tool"], dict(t.get("args") or {})) for t in tasks]
    return "".join(f"{line}\n" for line in lines) + f"{planlang.END}\n"


@dataclass
class Example:
    """One conversation and what it was built from: the turns it shows and its answer."""

    messages: list[dict[str, str]]
    turns: list[Turn]
    files: list[str]
    functions: list[str]
    policy: str = ""
    prompt_version: str = ""

    @property
    def answer(self) -> planlang.Answer:
        text = planlang.format_answer(self.files, self.functions)
        return planlang.Answer(0, list(self.files), list(self.functions), text)

    def tokens(self) -> tuple[int, int]:
        """(prompt, generated) tokens as the environment counts them: the first messages and
        each observation (prefix-cached), and each assistant turn."""
        prompt = sum(approx_tokens(m["content"]) for m in self.messages if m["role"] != "assistant")
        generated = sum(
            approx_tokens(m["content"]) for m in self.messages if m["role"] == "assistant"
        )
        return prompt, generated


def build_example(
    trajectory: Mapping[str, Any],
    *,
    max_turns: int = 4,
    prompts: Prompts | str | None = None,
) -> Example:
    """The conversation of a `localize(..., trajectory=True)` record (or an `acs localize
    --trace` file's): at most `max_turns - 1` search turns, then the answer turn. A longer
    run is cut, and the answer is ranked from the turns kept, so it rests only on what the
    conversation shows. Raises `InvalidArgumentError` on a record with no search turn."""
    if isinstance(max_turns, bool) or not isinstance(max_turns, int) or max_turns < 2:
        raise InvalidArgumentError(
            f"max_turns must be at least 2 (a search turn and the answer), got {max_turns!r}"
        )
    if not isinstance(prompts, Prompts):
        prompts = load_prompts(prompts) if prompts else load_prompts()
    issue = trajectory.get("issue")
    if not isinstance(issue, str) or not issue.strip():
        raise InvalidArgumentError("the trajectory has no issue text")
    records = trajectory.get("turns")
    if not isinstance(records, list):
        raise InvalidArgumentError("the trajectory has no `turns` list")
    turns = [
        Turn(list(t["tasks"]), list(t["outcomes"]), float(t.get("elapsed_ms", 0.0)))
        for t in records
        if t.get("tasks")
    ][: max_turns - 1]
    if not turns:
        raise InvalidArgumentError("the trajectory has no search turn")
    conversation = Conversation(prompts, issue, max_turns)
    for number, turn in enumerate(turns, start=1):
        conversation.answered(render_plan(turn.tasks))
        next_id = 1 + max(t["id"] for done in turns[:number] for t in done.tasks)
        # As `LlmPolicy.plan`: the turn about to be written is the last allowed one -> final.
        final = number >= max_turns - 1
        conversation.results(turn, number=number + 1, next_id=next_id, final=final)
    policy = str(trajectory.get("policy") or "default")
    ranked = _ranker(policy)(parse_issue(issue), turns, issue, TOP_K, TOP_K_FUNCTIONS)
    files = _chosen(ranked["files"], lambda f: f["path"])[:MAX_FILES]
    functions = _chosen(ranked["functions"], lambda f: f"{f['path']}:{f['name']}")
    functions = functions[:MAX_FUNCTIONS]
    conversation.answered(planlang.format_answer(files, functions) + "\n")
    return Example(conversation.messages, turns, files, functions, policy, prompts.version)


def conversation_from_trajectory(
    trajectory: Mapping[str, Any], *, max_turns: int = 4, prompts: Prompts | str | None = None
) -> list[dict[str, str]]:
    """The chat messages (system, user, then assistant and user in turn, ending with the
    assistant's answer) a model planner would have seen and written for this run."""
    return build_example(trajectory, max_turns=max_turns, prompts=prompts).messages


def from_trace(
    path: str | Path, *, max_turns: int = 4, prompts: Prompts | str | None = None
) -> list[dict[str, str]]:
    """The conversation of a trajectory written by `acs localize --trace FILE`."""
    try:
        record = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as e:
        raise InvalidArgumentError(f"cannot read trace {path}: {e}") from None
    if not isinstance(record, dict):
        raise InvalidArgumentError(f"{path} is not a trajectory (a JSON object)")
    return conversation_from_trajectory(record, max_turns=max_turns, prompts=prompts)


def score_example(
    example: Example,
    gold: GroundTruth | Mapping[str, Any],
    config: RewardConfig | None = None,
) -> Reward:
    """The reward the environment gives a rollout that writes this conversation: its answer
    alone, grounded in the turns shown (`acs.train.planner.reward.score_answer`)."""
    prompt_tokens, generated_tokens = example.tokens()
    return score_answer(
        example.answer,
        example.turns,
        gold,
        prompt_tokens=prompt_tokens,
        generated_tokens=generated_tokens,
        config=config,
    )


def _ranker(policy: str) -> Any:
    """The ranking the run's policy gives its evidence (the joiner's for any other)."""
    cls = POLICIES.get(policy)
    rank = getattr(cls(), "rank", None) if cls is not None else None
    return rank if callable(rank) else joiner_rank


def _chosen(items: Sequence[Mapping[str, Any]], key: Any) -> list[str]:
    """The confident items' keys in rank order, or the top `FEW` when none is confident."""
    confident = [key(i) for i in items if i.get("confident")]
    chosen = confident or [key(i) for i in items[:FEW]]
    return list(dict.fromkeys(chosen))


# --- the batch: a dataset through the default planner -------------------------------------


@dataclass
class Exported:
    rows: list[dict[str, Any]] = field(default_factory=list)
    below: int = 0  # scored under the threshold
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def export(
    instances: Iterable[Instance],
    repos_dir: str | Path,
    *,
    min_reward: float = 0.5,
    max_turns: int = 4,
    workers: int = 2,
    config: RewardConfig | None = None,
    executor: str = "local",
    ray_address: str | None = None,
) -> Exported:
    """Run the default planner on each instance at its base commit (`max_turns - 1` search
    turns, so the whole run fits the conversation), score its conversation against the gold,
    keep those scoring at least `min_reward`, in input order. Raises `InvalidArgumentError`
    on a held-out repository before anything runs; skips development-set repositories,
    missing repositories, unreadable patches and gold without files. `executor="ray"` runs
    the instances as Ray tasks (`acs.distributed.ordered_map`)."""
    if max_turns < 2:
        raise InvalidArgumentError(f"max_turns must be at least 2, got {max_turns}")
    todo = list(instances)
    for inst in todo:
        check_allowed(inst.repo, purpose="eval")  # raises for a held-out repository
    jobs = [(inst, str(repos_dir), max_turns, config) for inst in todo]
    out = Exported()
    for reason, row in ordered_map(
        _export_one, jobs, executor=executor, workers=workers, ray_address=ray_address
    ):
        if row is None:
            out.skip(reason)
        elif row["reward"] >= min_reward:
            out.rows.append(row)
        else:
            out.below += 1
    return out


def _export_one(
    job: tuple[Instance, str, int, RewardConfig | None],
) -> tuple[str, dict[str, Any] | None]:
    """One instance's scored conversation, or why there is none (module-level: Ray pickles
    it)."""
    inst, repos_dir, max_turns, config = job
    opened = open_instance(inst, repos_dir)
    if isinstance(opened, str):
        return opened, None
    repo, gold = opened
    try:
        result = localize(
            repo, inst.problem_statement, policy="default", max_turns=max_turns - 1, trajectory=True
        )
        example = build_example(result["trajectory"], max_turns=max_turns, prompts=load_prompts())
    except AcsError:
        return "localize failed", None
    reward = score_example(example, gold, config)
    return "", {
        "messages": example.messages,
        "reward": reward.total,
        "instance_id": inst.instance_id,
        "repo": inst.repo,
        "base_commit": inst.base_commit,
        "prompt_version": example.prompt_version,
        "reward_terms": dict(reward.terms),
    }


def write_jsonl(rows: Iterable[Mapping[str, Any]], path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m acs.train.planner.sft",
        description="SFT/RFT chat jsonl from the default planner's best runs on a dataset "
        "(SWE-bench format), or from `acs localize --trace` files (not scored)",
    )
    parser.add_argument("dataset", nargs="?", help="a .jsonl/.json/.parquet file, or a Hub id")
    parser.add_argument("--repos", help="folder of git mirrors (see acs eval)")
    parser.add_argument("--trace", action="append", default=[], help="a --trace file (repeat)")
    parser.add_argument("--out", required=True, help="the jsonl file to write")
    parser.add_argument("--split", default=None, help="the dataset split (a Hub dataset)")
    parser.add_argument("--min-reward", type=float, default=0.5)
    parser.add_argument("--max-turns", type=int, default=4)
    parser.add_argument("--limit", type=int, default=None)
    add_executor_arguments(parser, workers=2)
    args = parser.parse_args(argv)
    if bool(args.dataset) == bool(args.trace):
        parser.error("give either a DATASET (with --repos) or --trace files")
    if args.dataset and not args.repos:
        parser.error("a DATASET needs --repos")
    try:
        if args.trace:
            rows = [
                {"messages": from_trace(p, max_turns=args.max_turns), "reward": None, "trace": p}
                for p in args.trace
            ]
            write_jsonl(rows, args.out)
            print(f"wrote {len(rows)} conversations from traces", file=sys.stderr)
            return 0
        check_source(args.dataset)
        instances = load_instances(args.dataset, split=args.split, limit=args.limit)
        done = export(
            instances,
            args.repos,
            min_reward=args.min_reward,
            max_turns=args.max_turns,
            workers=args.workers,
            executor=args.executor,
            ray_address=args.ray_address,
        )
    except (InvalidArgumentError, DatasetError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    write_jsonl(done.rows, args.out)
    print(
        f"kept {len(done.rows)} conversations (reward >= {args.min_reward:g}), "
        f"dropped {done.below} below it",
        file=sys.stderr,
    )
    for reason, n in sorted(done.skipped.items()):
        print(f"skipped ({reason}): {n}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
