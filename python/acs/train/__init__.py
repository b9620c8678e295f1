"""Training, by what it trains:

- `acs.train.ranker`: the learned ranker. `python -m acs.train.ranker.collect` records the
  evidence of dataset instances; `python -m acs.train.ranker` fits the file and function
  models, calibrates them and exports the shipped model (`acs.rank`).
- `acs.train.planner`: the model planner. Supervised data (`sft`), RL data (`rl_data`), the
  reward (`reward`, with the tools' latency model `latency_model`), the SkyRL environment and
  entry point (`env`, `skyrl_*`), and a small policy-gradient loop (`pg`, `pg_smoke`).

Both read their instances through `acs.task`."""
