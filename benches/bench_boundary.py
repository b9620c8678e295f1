"""How results cross into Python: JSON bytes parsed by orjson (what the API does) vs Python
objects built in Rust with pythonize. Same call, same result, small and large."""

from __future__ import annotations

import orjson
import pytest

CALLS = {
    "small": ("symbols", {"name": "decode", "mode": "prefix", "limit": 50}),
    "large": ("grep", {"patterns": [r"\bself\.assert\w+\("], "max_results": 100_000}),
}


@pytest.fixture(params=sorted(CALLS))
def call(request):
    tool, args = CALLS[request.param]
    return tool, orjson.dumps(args)


def test_result_as_json_bytes(benchmark, loaded, call):
    tool, args = call
    native = loaded._native
    benchmark(lambda: orjson.loads(native.call(tool, args)))


def test_result_as_python_objects(benchmark, loaded, call):
    tool, args = call
    native = loaded._native
    assert native.call_objects(tool, args) == orjson.loads(native.call(tool, args))
    benchmark(native.call_objects, tool, args)
