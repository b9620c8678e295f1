//! The `symbols` tool: definitions of a [`Repo`] by exact name, prefix, regex or fuzzy
//! match, looked up in the repo's symbol index (built on first use).

use crate::error::{Error, Result};
use crate::index::repo::Repo;
use crate::index::symbols::{SymbolRequest, SymbolResult};

/// Look up definitions in `repo` (building its index on first use).
pub fn symbols(repo: &Repo, req: &SymbolRequest) -> Result<SymbolResult> {
    if req.name.is_empty() {
        return Err(Error::InvalidArgument(
            "symbols: `name` must not be empty".into(),
        ));
    }
    repo.symbol_index().lookup(repo, req)
}
