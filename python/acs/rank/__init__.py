"""Learned ranking: candidates and their features from a run's evidence, a gradient-boosted
tree ensemble (trained with LightGBM, evaluated by the engine), calibrated probabilities."""
