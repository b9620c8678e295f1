"""Where batch work runs: threads of this process, or a Ray cluster (SkyRL's runtime too) when
one machine is not enough. `acs eval --executor ray` and the training data builders
(`acs.train.planner.rl_data`, `acs.train.planner.sft`) take their Ray session from here.

    with ray_session(address=None, num_cpus=2) as ray:   # a local instance, shut down after
        ...
    rows = ordered_map(build_one, instances, executor="ray", workers=4)

On a cluster every node must see the repositories at the paths the caller resolved (a shared
filesystem) and have acs installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from .errors import InvalidArgumentError
from .extras import install_hint

__all__ = [
    "EXECUTORS",
    "RAY_MISSING",
    "add_executor_arguments",
    "import_ray",
    "ordered_map",
    "ray_session",
]

EXECUTORS = ("local", "ray")
RAY_MISSING = f"--executor ray needs the ray package: {install_hint('ray')}"

T = TypeVar("T")
R = TypeVar("R")


def import_ray() -> Any:
    try:
        import ray
    except ImportError as e:
        raise InvalidArgumentError(RAY_MISSING) from e
    return ray


@contextmanager
def ray_session(address: str | None = None, *, num_cpus: int | None = None) -> Iterator[Any]:
    """The `ray` module, connected: to the cluster at `address` (`"auto"` finds the local
    node's), else to a new local instance of `num_cpus` CPUs. A session this call started is
    shut down on exit; one already connected is left as it was."""
    ray = import_ray()
    started = False
    if not ray.is_initialized():
        if address is not None:
            ray.init(address=address)
        else:
            ray.init(num_cpus=num_cpus, include_dashboard=False)
        started = True
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def ordered_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    executor: str = "local",
    workers: int = 1,
    ray_address: str | None = None,
) -> list[R]:
    """`[fn(item) for item in items]`, in input order: on `workers` threads here, or as Ray
    tasks (one CPU each) on the cluster at `ray_address` or a local instance of `workers`
    CPUs. `fn` and the items must pickle for Ray (a module-level function, plain data)."""
    if executor not in EXECUTORS:
        raise InvalidArgumentError(f"executor must be one of {EXECUTORS}, not {executor!r}")
    if ray_address is not None and executor != "ray":
        raise InvalidArgumentError("ray_address needs executor='ray'")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidArgumentError(f"workers must be a positive integer, got {workers!r}")
    todo = list(items)
    if executor == "local":
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(fn, todo))
    with ray_session(ray_address, num_cpus=workers) as ray:
        remote = ray.remote(num_cpus=1, max_retries=0)(_apply)
        return list(ray.get([remote.remote(fn, item) for item in todo]))


def _apply(fn: Callable[[T], R], item: T) -> R:
    """The Ray task's body (any callable goes as an argument; Ray wraps only functions)."""
    return fn(item)


def add_executor_arguments(parser: Any, *, workers: int = 1) -> None:
    """`--executor`, `--workers` and `--ray-address` for a batch command's parser."""
    parser.add_argument(
        "--executor",
        choices=EXECUTORS,
        default="local",
        help="local threads (default), or Ray tasks: a local instance, or --ray-address",
    )
    parser.add_argument("--workers", type=int, default=workers, help="parallel jobs")
    parser.add_argument("--ray-address", default=None, help="an existing Ray cluster (or auto)")
