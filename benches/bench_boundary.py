"""How results cross into Python: JSON bytes parsed by orjson (what the API does) vs Python
objects built in Rust with pythonize. Same call, same result, small and large.

`Repo.call_objects` exists only in an extension built with the `bench-objects` feature
(`maturin build --release --features bench-objects`); the shipped one leaves it and
pythonize out, and then the comparison is skipped, the JSON measurement still runs."""

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
    if not hasattr(native, "call_objects"):
        pytest.skip(
            "Repo.call_objects is not in this build of acs._core: build the extension with "
            "`maturin build --release --features bench-objects` to compare with pythonize"
        )
    assert native.call_objects(tool, args) == orjson.loads(native.call(tool, args))
    benchmark(native.call_objects, tool, args)
