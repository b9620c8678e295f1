"""Moved to `acs.task.groundtruth` (the localization task that evaluation, training and the data
miner share). This name stays importable, deprecated: it is the same module."""

import sys
import warnings

from ..task import groundtruth as _moved

warnings.warn(
    "acs.eval.groundtruth moved to acs.task.groundtruth", DeprecationWarning, stacklevel=2
)
sys.modules[__name__] = _moved
