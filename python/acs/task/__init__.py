"""The localization task, shared by evaluation (`acs.eval`), training (`acs.train`) and the
data miner (`acs.data`): instances (`dataset`: an issue, its repository at a base commit,
its gold patch), where their repositories are (`repos`), the gold patch read (`patch`) and
turned into gold locations (`groundtruth`), and how a ranked answer scores against them
(`metrics`). A task here is one localization problem, not a plan's tool call
(`acs.types.Task`)."""
