"""Moved to `acs.task.dataset` (the localization task that evaluation, training and the data
miner share). This name stays importable, deprecated: it is the same module."""

import sys
import warnings

from ..task import dataset as _moved

warnings.warn("acs.eval.dataset moved to acs.task.dataset", DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
