"""Calibration: ranking scores to the probability that a location is edited.

LambdaMART scores order the candidates of one query and mean nothing across queries, so the
probability is a logistic function of the score and of its distance to the query's best.
Its three coefficients are fitted on out-of-fold scores of the training data
(`acs.train.ranker.fit_calibration`) and shipped in the model file.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import _core


def calibrated(scores: Sequence[float], coef: Sequence[float]) -> list[float]:
    """P(edited) for each of a query's raw scores: sigmoid(a * s + b * (s - best) + c),
    computed by the engine, as the learned ranker's answers are."""
    a, b, c = coef
    return _core.calibrated(list(scores), (a, b, c))
