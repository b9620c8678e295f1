"""SkyRL's experiment for `acs-localize`: `BasePPOExp` with the generator's inference client
wrapped in `PlanStopClient`, so that every generation ends where serving's would (at the
planner's `end` or answer line; acs.train.planner.plan_stop). Everything else is SkyRL's own.

Imports `skyrl` (Python >= 3.12, SkyRL 0.4): `acs.train.planner.skyrl_main` imports this module
inside the Ray task that runs the experiment.
"""

from typing import Any

from .plan_stop import PlanStopClient
from .skyrl_version import require_skyrl

require_skyrl()  # before any of SkyRL is imported

from skyrl.train.entrypoints.main_base import BasePPOExp  # noqa: E402

__all__ = ["AcsPPOExp"]


class AcsPPOExp(BasePPOExp):  # type: ignore[misc]  # SkyRL ships no type information
    def get_generator(self, cfg: Any, tokenizer: Any, inference_engine_client: Any) -> Any:
        """SkyRL's generator, on a client whose responses stop where the planner stops."""
        client = PlanStopClient(inference_engine_client, tokenizer)
        return super().get_generator(cfg, tokenizer, client)
