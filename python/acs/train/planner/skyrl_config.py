"""SkyRL's typed training config, extended with `acs-localize`'s options.

SkyRL 0.4 rejects keys its dataclasses do not declare, and its generator hands each
environment `getattr(cfg.environment.skyrl_gym, env_class, {})`. So the options live in a
declared field, `environment.skyrl_gym.acs_localize.*` (a dataclass field cannot be named
`acs-localize`), and the class also answers to the name `acs-localize` with the same object,
which the environment reads as a mapping.

Imports `skyrl` (GPU stack, Python >= 3.12): importing this module without SkyRL 0.4 (or on
Python < 3.12, where pip falls back to SkyRL 0.3) raises `SkyRLMissingError`, before any of an
old SkyRL is imported. No `from __future__ import annotations`: SkyRL builds nested configs from
the fields' real types, not from strings.
"""

from collections.abc import ItemsView
from dataclasses import asdict, dataclass, field
from typing import Any

from ...llm.policy import TURN_TOKENS
from .rl_data import ENV_CLASS
from .skyrl_version import require_skyrl

require_skyrl()  # the Python and SkyRL's version, before any of SkyRL is imported

from skyrl.train.config import (  # noqa: E402
    BaseConfig,
    EnvironmentConfig,
    SkyRLGymConfig,
    SkyRLTrainConfig,
)

__all__ = [
    "AcsEnvironmentConfig",
    "AcsLocalizeEnvConfig",
    "AcsSkyRLGymConfig",
    "AcsTrainConfig",
    "check_config",
]


@dataclass
class AcsLocalizeEnvConfig(BaseConfig):
    """`acs.train.planner.env.AcsLocalizeEnv`'s `env_config` (its OPTIONS)."""

    repos_dir: str | None = None
    """Folder of git mirrors (as `acs eval --repos`); None: the workers' `$ACS_REPOS`."""
    max_turns: int = 4
    """Plan turns; must equal `generator.max_turns` and the data builder's `--max-turns`."""
    turn_timeout_s: float = 30.0
    """A turn's tool-time limit."""
    reward: dict[str, Any] = field(default_factory=dict)
    """Overrides of `acs.train.planner.reward.RewardConfig` fields (docs/reward.md)."""
    tokenizer: str | None = None
    """The policy's tokenizer (a folder or Hub id): exact token counts for the latency term
    and the context."""
    context_tokens: int | None = None
    """The longest prompt a turn may send; None: `generator.max_input_length` (the launch
    copies it). The environment keeps every rollout within it (acs.train.planner.env)."""

    def items(self) -> ItemsView[str, Any]:  # the environment reads its config as a mapping
        return {k: v for k, v in asdict(self).items() if v is not None}.items()


@dataclass
class AcsSkyRLGymConfig(SkyRLGymConfig):
    acs_localize: AcsLocalizeEnvConfig = field(default_factory=AcsLocalizeEnvConfig)


# SkyRL's generator looks the env's options up by the env class's name.
setattr(AcsSkyRLGymConfig, ENV_CLASS, property(lambda self: self.acs_localize))


@dataclass
class AcsEnvironmentConfig(EnvironmentConfig):
    env_class: str = ENV_CLASS
    skyrl_gym: AcsSkyRLGymConfig = field(default_factory=AcsSkyRLGymConfig)


@dataclass
class AcsTrainConfig(SkyRLTrainConfig):
    """`SkyRLTrainConfig` whose environment section knows `acs_localize`."""

    environment: AcsEnvironmentConfig = field(default_factory=AcsEnvironmentConfig)


def check_config(cfg: AcsTrainConfig) -> None:
    """What SkyRL's `validate_cfg` cannot know about this environment, and what keeps
    training what serving is (`LlmPolicy`'s turn cap, its re-rendered conversation, its stop
    at the planner's last line). Fills `context_tokens` from `generator.max_input_length`."""
    env = cfg.environment.skyrl_gym.acs_localize
    generator = cfg.generator
    limit = generator.max_input_length or cfg.trainer.max_prompt_length
    if env.context_tokens is None:
        env.context_tokens = limit
    elif env.context_tokens > limit:
        raise ValueError(
            f"environment.skyrl_gym.acs_localize.context_tokens={env.context_tokens} exceeds "
            f"generator.max_input_length={limit}: SkyRL would stop such rollouts unscored"
        )
    if generator.sampling_params.max_generate_length != TURN_TOKENS:
        raise ValueError(
            "generator.sampling_params.max_generate_length="
            f"{generator.sampling_params.max_generate_length} differs from the {TURN_TOKENS} "
            "tokens a turn may have at inference (acs.llm.policy.TURN_TOKENS): the model "
            "would be trained on turns serving never lets it write"
        )
    if not generator.step_wise_trajectories:
        raise ValueError(
            "generator.step_wise_trajectories=false: each turn's prompt must be the "
            "conversation re-rendered by the chat template, as inference sends it (token-in/"
            "token-out keeps Qwen3's empty think blocks in earlier turns; inference drops them)"
        )
    engine = generator.inference_engine
    if engine.enable_return_routed_experts or engine.enable_return_sample_support_set:
        raise ValueError(
            "generator.inference_engine.enable_return_routed_experts and "
            "enable_return_sample_support_set are not supported: responses are cut at the "
            "planner's last line (acs.train.planner.plan_stop), and those traces are not"
        )
    if env.max_turns != cfg.generator.max_turns:
        raise ValueError(
            f"environment.skyrl_gym.acs_localize.max_turns={env.max_turns} differs from "
            f"generator.max_turns={cfg.generator.max_turns}: the prompt states one turn budget"
        )
    if cfg.generator.max_turns > 1 and cfg.generator.batched:
        raise ValueError("multi-turn rollouts need generator.batched=false")
