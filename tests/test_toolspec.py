"""Each tool's arguments are described once, in the engine (`crates/acs-core/src/tools/spec.rs`,
exported as `_core.tool_specs()`). Everything else is derived from it or pinned to it here, so
an argument added in Rust alone either appears everywhere by itself (the plan language's
grammar, the MCP input schemas) or fails a test naming it (`Repo`'s typed methods, which are
written by hand for type checkers)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from acs import _core
from acs.llm import planlang
from acs.mcp.tools import BY_NAME
from acs.repo import Repo
from acs.toolspec import TOOL_SPECS, ArgSpec

EVERY_ARGUMENT = [(tool, arg) for tool, args in TOOL_SPECS.items() for arg in args.values()]
IDS = [f"{tool}.{arg.name}" for tool, arg in EVERY_ARGUMENT]

# `Repo.grep(pattern)` takes one pattern or several: the engine's `patterns` is given
# through it.
REPO_ALIASES = {("grep", "patterns"): "pattern"}
# Engine tools the MCP server does not offer as tools of their own (run_plan runs them).
MCP_NOT_OFFERED = {"bm25"}
# Engine arguments an MCP tool offers another way.
MCP_OFFERED_OTHERWISE = {
    ("grep", "patterns"): "`pattern` takes a list",
    ("grep", "max_results"): "paged by offset and limit",
}
# What each engine type is as JSON Schema.
JSON_TYPES = {
    "str": "string",
    "int": "integer",
    "bool": "boolean",
    "strs": "array",
    "enum": "string",
    "enums": "array",
}


def test_the_spec_covers_every_tool_and_argument_the_engine_accepts():
    assert [(t, list(a)) for t, a in _core.tool_arguments()] == [
        (t, list(a)) for t, a in TOOL_SPECS.items()
    ]
    for tool, arg in EVERY_ARGUMENT:
        assert arg.help and "\n" not in arg.help, f"{tool}.{arg.name}"


@pytest.mark.parametrize(("tool", "arg"), EVERY_ARGUMENT, ids=IDS)
def test_each_argument_is_in_the_plan_language(tool: str, arg: ArgSpec):
    assert planlang.TOOLS[tool][arg.name] == planlang.Arg(arg.type, arg.values)
    assert f'"{arg.name}="' in planlang.grammar(), f"{tool}.{arg.name} not in the grammar"


@pytest.mark.parametrize(("tool", "arg"), EVERY_ARGUMENT, ids=IDS)
def test_each_argument_is_in_the_mcp_schema(tool: str, arg: ArgSpec):
    if tool in MCP_NOT_OFFERED:
        pytest.skip(f"the MCP server offers {tool} through run_plan only")
    if (tool, arg.name) in MCP_OFFERED_OTHERWISE:
        assert arg.name not in BY_NAME[tool].schema["properties"]
        return
    schema = BY_NAME[tool].schema["properties"].get(arg.name)
    assert schema is not None, f"{tool}.{arg.name} is not in the MCP input schema"
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    assert JSON_TYPES[arg.type] in types, f"{tool}.{arg.name}: {schema}"
    assert schema.get("description"), f"{tool}.{arg.name}"
    if arg.type == "enum":
        assert schema["enum"] == list(arg.values)
    if arg.type == "enums":
        assert schema["items"]["enum"] == list(arg.values)


def _python_default(arg: ArgSpec) -> Any:
    """The keyword default a typed method writes for the engine's default."""
    return () if arg.default == [] else arg.default


@pytest.mark.parametrize(("tool", "arg"), EVERY_ARGUMENT, ids=IDS)
def test_each_argument_is_in_the_repo_method_with_the_engines_default(tool: str, arg: ArgSpec):
    parameters = inspect.signature(getattr(Repo, tool)).parameters
    name = REPO_ALIASES.get((tool, arg.name), arg.name)
    assert name in parameters, f"Repo.{tool} has no argument {name!r} (engine: {tool}.{arg.name})"
    default = parameters[name].default
    if default is inspect.Parameter.empty:
        # A required argument: the engine's default is the empty value it refuses.
        assert arg.default in ("", None, []), f"Repo.{tool}({name}) is required"
    else:
        assert default == _python_default(arg), (
            f"Repo.{tool}({name}={default!r}): the engine's default is {arg.default!r}"
        )


@pytest.mark.parametrize("tool", sorted(TOOL_SPECS))
def test_the_repo_methods_take_no_argument_the_engine_lacks(tool: str):
    parameters = set(inspect.signature(getattr(Repo, tool)).parameters) - {"self"}
    engine = {REPO_ALIASES.get((tool, name), name) for name in TOOL_SPECS[tool]}
    assert parameters - engine == set(), f"Repo.{tool}"


def test_mcp_tools_pass_every_engine_argument_on(monkeypatch):
    """A call's engine arguments reach the engine, an argument added to the engine too."""
    seen: dict[str, dict[str, Any]] = {}

    def recorder(tool: str):
        def record(self: Repo, *args: Any, **kwargs: Any) -> Any:
            seen[tool] = kwargs
            raise StopIteration

        return record

    repo = Repo.from_files({"a.py": "def f():\n    pass\n"})
    for tool in set(TOOL_SPECS) - MCP_NOT_OFFERED:
        monkeypatch.setattr(Repo, tool, recorder(tool))
        arguments = {
            name: prop.get("default") for name, prop in BY_NAME[tool].schema["properties"].items()
        }
        with pytest.raises(StopIteration):
            BY_NAME[tool].run(repo, arguments)
        offered = {n for n in TOOL_SPECS[tool] if (tool, n) not in MCP_OFFERED_OTHERWISE}
        assert offered <= set(seen[tool]), tool
