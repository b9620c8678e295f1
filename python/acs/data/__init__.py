"""Training data: SWE-bench-format instances mined from a repository's git history
(`acs data mine`), the repositories that must never be mined (`heldout`), and the data card
table (`acs data card`)."""
