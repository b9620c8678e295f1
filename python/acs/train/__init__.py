"""Training: the learned ranker (`python -m acs.train.ranker`)."""
