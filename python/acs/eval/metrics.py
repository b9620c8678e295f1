"""Moved to `acs.task.metrics` (the localization task that evaluation, training and the data
miner share). This name stays importable, deprecated: it is the same module."""

import sys
import warnings

from ..task import metrics as _moved

warnings.warn("acs.eval.metrics moved to acs.task.metrics", DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
