"""`acs mcp`: acs's search tools as a Model Context Protocol server, for coding agents.

* `schemas.py`: the JSON schemas the tools publish, and the check of a call's arguments;
* `tools.py`: each tool's description and handler (an `acs.Repo` call, results paged and
  sized for a model's context);
* `workspace.py`: the repositories a session may search, each kept open and indexed across
  calls, re-opened when its files change on disk;
* `server.py`: the MCP protocol (the official `mcp` SDK, 1.x or 2.x), stdio and streamable
  HTTP transports, engine calls on worker threads;
* `cli.py`: the `acs mcp` subcommand.

Nothing here imports the SDK at import time but `server.py`, so `acs --help` works without it.
"""
