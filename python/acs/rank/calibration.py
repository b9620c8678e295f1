"""Calibration: ranking scores to the probability that a location is edited.

LambdaMART scores order the candidates of one query and mean nothing across queries, so the
probability is a logistic function of the score and of its distance to the query's best.
Its three coefficients are fitted on out-of-fold scores of the training data
(`acs.train.ranker.fit_calibration`) and shipped in the model file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)


def calibrated(scores: Sequence[float], coef: Sequence[float]) -> list[float]:
    """P(edited) for each of a query's raw scores: sigmoid(a * s + b * (s - best) + c)."""
    if not scores:
        return []
    best = max(scores)
    a, b, c = coef
    return [sigmoid(a * s + b * (s - best) + c) for s in scores]
