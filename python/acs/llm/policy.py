"""The model planner: a language model writes the plan, the engine runs each task as soon as
its line is written, the model sees the results and plans again or answers.

Turn by turn (`plan` is called by `acs.localize` once per turn):

1. the model streams a plan; each complete line becomes a task at once (dispatch while
   streaming); a line the parser cannot read becomes an error outcome of this turn;
2. at `end` the stream is closed (the server stops generating) and the engine's results
   are rendered into the next user message;
3. the last turn allowed (`max_turns`) asks for the answer only (under constrained
   decoding, the grammar admits nothing else); the model may also answer earlier.

`rank` merges the model's answer with the default ranking of the evidence (the shipped
learned ranker's; the hand joiner's where no model ships), so an empty,
malformed or hallucinated answer still gives a result: answered paths must have appeared in
some tool result, answered functions are located through the definitions the tools found.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, cast

from .. import definitions
from ..issue import IssueSignals
from ..joiner import function_location, merge_lines
from ..policies.default import default_ranking
from ..types import Task, Turn
from . import planlang
from .backends import Backend
from .prompt import PROMPT_VERSION, Conversation, load_prompts

_REFERENCE = re.compile(r"^\$(\d{1,9})(?!\d)")
# An invalid line's error: its quote and message together (the observation shows an error
# on one line of 160 characters), the quote at least this long.
INVALID_LINE_CHARS, INVALID_QUOTE_MIN = 150, 24
# Tokens the model may write in one turn, plan or answer. Training samples under the same cap
# (training/configs/base.args: generator.sampling_params.max_generate_length; the launch
# refuses another value), so the model is never trained on text serving would cut.
TURN_TOKENS = 512


class LlmPolicy:
    """A policy whose plans a language model writes (see the module docstring)."""

    def __init__(
        self,
        backend: Backend,
        *,
        max_turns: int = 4,
        prompt_version: str = PROMPT_VERSION,
        constrain: bool = True,
        plan_tokens: int = TURN_TOKENS,
        answer_tokens: int = TURN_TOKENS,
        model_weight: float = 0.5,
        name: str | None = None,
    ) -> None:
        self.backend = backend
        self.max_turns = max_turns
        self.prompts = load_prompts(prompt_version)
        self.constrain = constrain
        self.plan_tokens = plan_tokens
        self.answer_tokens = answer_tokens
        self.model_weight = model_weight
        self.name: str = name or str(getattr(backend, "name", "llm"))
        self._start("")

    def _start(self, issue: str) -> None:
        self.conversation = Conversation(self.prompts, issue, self.max_turns)
        self.answer: planlang.Answer | None = None
        self.finished = False
        self.used: set[int] = set()
        self.turns: list[dict[str, Any]] = []

    # -- planning --------------------------------------------------------------------------

    def plan(self, issue: str, history: Sequence[Turn]) -> Iterator[Task] | list[Task]:
        if not history:
            self._start(issue)
        if self.finished or self.answer is not None:
            return []
        self.used = {t["id"] for turn in history for t in turn.tasks}
        final = bool(history) and len(history) >= self.max_turns - 1
        if history:
            self.conversation.results(
                history[-1], number=len(history) + 1, next_id=self._free(), final=final
            )
        self.finished = final
        return self._write(final)

    def _free(self) -> int:
        return max(self.used, default=0) + 1

    def _write(self, final: bool) -> Iterator[Task]:
        """Stream the model's output, yielding each task as its line completes."""
        parser = planlang.PlanParser()
        aliases: dict[int, int] = {}  # the number the model wrote -> the task id in the run
        unnumbered: list[planlang.Invalid] = []
        constraint = planlang.constraint(final) if self.constrain else None
        budget = self.answer_tokens if final else self.plan_tokens
        started = time.perf_counter()
        first: float | None = None
        record: dict[str, Any] = {"final": final}
        self.turns.append(record)
        stream = self.backend.stream(
            list(self.conversation.messages), constraint=constraint, max_tokens=budget
        )
        try:
            for chunk in stream:
                if first is None:
                    first = time.perf_counter()
                for item in parser.feed(chunk):
                    if (task := self._task(item, aliases, unnumbered)) is not None:
                        yield task
                if parser.done:
                    break
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
            record["output"] = parser.output()
            record["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 3)
            if first is not None:
                record["first_chunk_ms"] = round((first - started) * 1000, 3)
            record.update(getattr(self.backend, "stats", {}))
        for item in parser.close():
            if (task := self._task(item, aliases, unnumbered)) is not None:
                yield task
        # Lines with no task number (prose, say) are reported after the tasks, so that the
        # ids they need do not shift the numbers the model gave its tasks.
        for item in unnumbered:
            yield self._invalid(item, self._take(None))
        record["output"] = parser.output()
        self.conversation.answered(record["output"])

    def _take(self, number: int | None) -> int:
        """The task id for a line: the number the model wrote when it is still free."""
        task_id = number if number is not None and number > 0 and number not in self.used else None
        task_id = task_id or self._free()
        self.used.add(task_id)
        return task_id

    def _task(
        self, item: planlang.Item, aliases: dict[int, int], unnumbered: list[planlang.Invalid]
    ) -> Task | None:
        if isinstance(item, planlang.Answer):
            self.answer = item
            return None
        if isinstance(item, planlang.End):
            return None
        number = _written_number(item.text)
        if isinstance(item, planlang.Invalid):
            if number is None:
                unnumbered.append(item)
                return None
            return self._invalid(item, self._take(number))
        args = {k: _renumber(v, aliases) for k, v in item.args.items()}  # earlier lines only
        task_id = self._take(item.number)
        if item.number is not None:
            aliases[item.number] = task_id
        return cast(Task, {"id": task_id, "tool": item.tool, "args": args})

    @staticmethod
    def _invalid(item: planlang.Invalid, task_id: int) -> Task:
        """Not run: recorded as this turn's error outcome, shown to the model next turn. The
        line is quoted short enough that the message fits the observation's line."""
        room = max(INVALID_QUOTE_MIN, INVALID_LINE_CHARS - len(item.message))
        text = item.text if len(item.text) <= room else item.text[: room - 1] + "…"
        return {  # type: ignore[typeddict-unknown-key]
            "id": task_id,
            "tool": item.tool or "?",  # type: ignore[typeddict-item]
            "args": {},
            "error": {"kind": "plan_syntax", "message": f"`{text}`: {item.message}"},
        }

    # -- the final answer --------------------------------------------------------------------

    def rank(
        self,
        signals: IssueSignals,
        turns: Sequence[Turn],
        issue: str,
        top_k: int,
        top_k_functions: int | None = None,
    ) -> dict[str, list[dict[str, Any]]]:
        # What the default policy would answer from this evidence (the learned ranking).
        base = default_ranking(signals, turns, issue, top_k, top_k_functions)
        if self.answer is None or not (self.answer.files or self.answer.functions):
            return base
        return merge_answer(
            self.answer, base, turns, top_k, self.model_weight, top_k_functions=top_k_functions
        )

    def transcript(self) -> dict[str, Any]:
        """What the model saw and wrote: the exact chat messages (training reads these) and,
        per turn, its output, timings and token counts."""
        return {
            "prompt_version": self.prompts.version,
            "backend": self.name,
            "model": _model_name(self.backend),
            "messages": list(self.conversation.messages),
            "turns": self.turns,
            "answer": None
            if self.answer is None
            else {"files": self.answer.files, "functions": self.answer.functions},
        }


def _written_number(line: str) -> int | None:
    m = re.match(r"\s*(?:[-*]\s+)?(\d{1,9})\s*[.):]", line)
    return int(m[1]) if m else None


def _model_name(backend: Backend) -> str | None:
    try:
        return backend.model_name
    except Exception:  # an unreachable server: the transcript still gets written
        return None


def _renumber(value: Any, aliases: dict[int, int]) -> Any:
    """`$N...` references to a number the model wrote this turn point at its task id."""
    if isinstance(value, list):
        return [_renumber(v, aliases) for v in value]
    if isinstance(value, str) and (m := _REFERENCE.match(value)):
        written = int(m[1])
        if written in aliases:
            return f"${aliases[written]}{value[m.end() :]}"
    return value


# --- merging the model's answer with the evidence ----------------------------------------


def _evidence(
    turns: Sequence[Turn],
) -> tuple[set[str], dict[definitions.Key, definitions.Span]]:
    """Paths that appeared in any result, and the definitions found (path, qualified name)
    with their kind and lines."""
    paths: set[str] = set()
    spans: dict[definitions.Key, definitions.Span] = {}

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(path := value.get("path"), str):
                paths.add(path)
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for turn in turns:
        for outcome in turn.outcomes:
            if outcome.get("status") != "ok":
                continue
            walk(outcome["result"])
            for d in definitions.named(outcome["tool"], outcome["result"]):
                spans[definitions.key(d)] = definitions.span(d)
    return paths, spans


def _resolve(
    entry: str, files: Sequence[str], spans: dict[tuple[str, str], tuple[str, int, int]]
) -> tuple[str, str] | None:
    """`path:Class.method`, `path::name` or a bare name -> a definition the tools found."""
    path, _, name = entry.replace("::", ":").rpartition(":")
    path = path.strip().removeprefix("./")
    name = name.strip()
    if not name:
        return None
    candidates = [
        key
        for key in spans
        if (not path or key[0] == path)
        and (key[1] == name or key[1].endswith("." + name) or name.endswith("." + key[1]))
    ]
    if not candidates:
        return None
    # Prefer the exact name, then files the model named, in its order.
    order = {p: i for i, p in enumerate(files)}
    candidates.sort(key=lambda k: (k[1] != name, order.get(k[0], len(order)), k))
    return candidates[0]


def merge_answer(
    answer: planlang.Answer,
    base: Mapping[str, Any],
    turns: Sequence[Turn],
    top_k: int,
    weight: float,
    *,
    top_k_functions: int | None = None,
) -> dict[str, Any]:
    """Each list scored `weight * model + (1 - weight) * base`, where the model's score
    falls from 1 to 0.5 along its answer and the base ranking's (`planner.default_ranking`:
    the learned ranker's probability, or the joiner's normalised score) is its score over
    its confident set (0 where it did not put the item there); then normalised to a best of 1 and
    cut to `top_k` files and `top_k_functions` (default `2 * top_k`) functions. The answer is
    the model's chosen set: every item is confident."""
    top_k_functions = 2 * top_k if top_k_functions is None else top_k_functions
    paths, spans = _evidence(turns)
    # The base ranking's confident set (an item without the flag counts as confident).
    base_files = [f for f in base["files"] if f.get("confident", True)]
    base_functions = [f for f in base["functions"] if f.get("confident", True)]

    def positional(items: Sequence[Any]) -> dict[Any, float]:
        out: dict[Any, float] = {}
        for item in items:
            if item not in out:
                out[item] = 1.0 - 0.5 * len(out) / max(len(items), 1)
        return out

    files_model = positional(
        [p for p in (f.removeprefix("./") for f in answer.files) if p in paths]
    )
    functions_model = positional(
        [key for e in answer.functions if (key := _resolve(e, list(files_model), spans))]
    )
    named_files = list(files_model)
    for (path, _), score in functions_model.items():  # a function's file is evidence too
        files_model.setdefault(path, 0.5 * score)

    file_scores = {f["path"]: (1 - weight) * f["score"] for f in base_files}
    for path, score in files_model.items():
        file_scores[path] = file_scores.get(path, 0.0) + weight * score
    files = _normalised(file_scores, top_k)

    by_key = {(f["path"], f["name"]): f for f in base_functions}
    fn_scores = {key: (1 - weight) * f["score"] for key, f in by_key.items()}
    for key, score in functions_model.items():
        fn_scores[key] = fn_scores.get(key, 0.0) + weight * score
    functions = []
    for (path, name), score in _normalised(fn_scores, top_k_functions).items():
        if known := by_key.get((path, name)):
            span = (known["kind"], known["start_line"], known["end_line"])
        else:
            span = spans[(path, name)]
        functions.append({**function_location(path, name, span, score), "confident": True})

    # Why each item is there (`localize(explain=True)`): the base ranking's reason and the
    # model's.
    base_why: Mapping[str, str] = base.get("why", {})
    why: dict[str, str] = {}
    answered = {path: i for i, path in enumerate(named_files)}
    answered_fn = {key: i for i, key in enumerate(functions_model)}
    for path in files:
        reasons = [base_why[path]] if path in base_why else []
        if path in answered:
            reasons.append(f"the model's answer ranks it #{answered[path] + 1}")
        if reasons:
            why[path] = "; ".join(reasons)
    for f in functions:
        key, label = (f["path"], f["name"]), f"{f['path']}:{f['name']}"
        reasons = [base_why[label]] if label in base_why else []
        if key in answered_fn:
            reasons.append(f"the model's answer ranks it #{answered_fn[key] + 1}")
        if reasons:
            why[label] = "; ".join(reasons)

    spans_out = [
        {"path": f["path"], "start": f["start_line"], "end": f["end_line"]} for f in functions
    ]
    spans_out += [dict(line) for line in base["lines"] if line["path"] in files]
    return {
        "files": [{"path": p, "score": s, "confident": True} for p, s in files.items()],
        "functions": functions,
        "lines": merge_lines(spans_out),
        "why": why,
    }


def _normalised(scores: dict[Any, float], limit: int) -> dict[Any, float]:
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    top = ranked[0][1] if ranked and ranked[0][1] > 0 else 1.0
    return {k: round(s / top, 4) for k, s in ranked if s > 0}
