"""Moved to `acs.task.patch` (the localization task that evaluation, training and the data
miner share). This name stays importable, deprecated: it is the same module."""

import sys
import warnings

from ..task import patch as _moved

warnings.warn("acs.eval.patch moved to acs.task.patch", DeprecationWarning, stacklevel=2)
sys.modules[__name__] = _moved
