"""Evaluation: ground truth from gold patches, Agentless-style localization metrics, and the
`acs eval` runner that measures a policy on a dataset of issues."""
