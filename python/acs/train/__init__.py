"""Training: the learned ranker (`python -m acs.train.ranker`), the RL reward
(`acs.train.reward`) and the RL data builder (`python -m acs.train.rl_data`)."""
