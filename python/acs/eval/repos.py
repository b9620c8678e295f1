"""Moved to `acs.task.repos` (the localization task that evaluation, training and the data
miner share). This name stays importable, deprecated: it is the same module."""

import sys
import warnings

from ..task import repos as _moved

warnings.warn("acs.eval.repos moved to acs.task.repos", DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
