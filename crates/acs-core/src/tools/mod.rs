//! The tools layer: each tool reads a [`Repo`] (and nothing else), takes a typed request and
//! returns a typed, serialisable result (`grep.rs`, `files.rs`, `symbols.rs`, `outline.rs`,
//! `read.rs`, `references.rs`, `bm25.rs`, `imports.rs`); `spec.rs` describes each tool's arguments once.
//! Here, the tool table: names, argument parsing and dispatch, shared by the plan executor
//! and the bindings so that a tool behaves the same whichever way it is called.

pub(crate) mod bm25;
pub(crate) mod files;
pub(crate) mod grep;
pub(crate) mod imports;
pub(crate) mod outline;
pub(crate) mod read;
pub(crate) mod references;
pub(crate) mod spec;
pub(crate) mod symbols;

use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::index::repo::Repo;
use crate::index::symbols::SymbolRequest;
use crate::limits::MAX_TASK_RESULT_BYTES;
use crate::tools::bm25::{bm25, Bm25Request};
use crate::tools::files::{find_files, FindFilesRequest};
use crate::tools::grep::{grep_cancellable, GrepRequest};
use crate::tools::imports::{imports, ImportsRequest};
use crate::tools::outline::{outline, OutlineRequest};
use crate::tools::read::{read, ReadRequest};
use crate::tools::references::{references_cancellable, ReferencesRequest};
use crate::tools::symbols::symbols as symbols_tool;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

/// The tools a plan or a binding can call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tool {
    /// Regex or literal search ([`crate::grep()`]).
    Grep,
    /// Files by glob or name ([`crate::find_files`]).
    FindFiles,
    /// Definitions by name ([`crate::symbols()`]).
    Symbols,
    /// A file's definitions, nested ([`crate::outline()`]).
    Outline,
    /// A line range or a definition's body ([`crate::read()`]).
    Read,
    /// Whole-word uses of a name ([`crate::references()`]).
    References,
    /// Lexical ranking against free text ([`crate::bm25()`]).
    Bm25,
    /// Neighbours in the Python import graph ([`crate::imports()`]).
    Imports,
}

impl Tool {
    /// Every tool, in the order documentation lists them.
    pub const ALL: [Tool; 8] = [
        Tool::Grep,
        Tool::FindFiles,
        Tool::Symbols,
        Tool::Outline,
        Tool::Read,
        Tool::References,
        Tool::Bm25,
        Tool::Imports,
    ];

    /// The name plans and the bindings use (`find_files`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Tool::Grep => "grep",
            Tool::FindFiles => "find_files",
            Tool::Symbols => "symbols",
            Tool::Outline => "outline",
            Tool::Read => "read",
            Tool::References => "references",
            Tool::Bm25 => "bm25",
            Tool::Imports => "imports",
        }
    }

    /// The tool of that name, if any.
    pub fn from_name(name: &str) -> Option<Tool> {
        Tool::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Check the shape of `args` without running anything. References (`$N...`) cannot be
    /// typed before they resolve, so for those only the argument names are checked.
    pub fn validate(self, args: &Value, has_references: bool) -> Result<()> {
        let Value::Object(map) = args else {
            return Err(Error::InvalidArgument(format!(
                "{}: arguments must be an object",
                self.name()
            )));
        };
        if has_references {
            let allowed = self.argument_names();
            return match map.keys().find(|k| !allowed.contains(&k.as_str())) {
                Some(k) => Err(Error::InvalidArgument(format!(
                    "{}: unknown argument `{k}` (expected one of: {})",
                    self.name(),
                    allowed.join(", ")
                ))),
                None => Ok(()),
            };
        }
        match self {
            Tool::Grep => parse::<GrepRequest>(self, args).map(drop),
            Tool::FindFiles => parse::<FindFilesRequest>(self, args).map(drop),
            Tool::Symbols => parse::<SymbolRequest>(self, args).map(drop),
            Tool::Outline => parse::<OutlineRequest>(self, args).map(drop),
            Tool::Read => parse::<ReadRequest>(self, args).map(drop),
            Tool::References => parse::<ReferencesRequest>(self, args).map(drop),
            Tool::Bm25 => parse::<Bm25Request>(self, args).map(drop),
            Tool::Imports => parse::<ImportsRequest>(self, args).map(drop),
        }
    }

    /// Run this tool on `repo` with JSON arguments, returning a JSON value (what plans
    /// need, to resolve references into the result).
    pub fn run(self, repo: &Repo, args: &Value) -> Result<Value> {
        self.run_as(repo, args, AsValue, &Cancel::new())
    }

    /// Run this tool and serialise its result straight to JSON bytes (no intermediate
    /// `Value`: about half the cost for large results).
    pub fn run_json(self, repo: &Repo, args: &Value) -> Result<Vec<u8>> {
        self.run_json_cancellable(repo, args, &Cancel::new())
    }

    /// [`Tool::run_json`] that stops with [`Error::Cancelled`] once `cancel` is set.
    pub fn run_json_cancellable(
        self,
        repo: &Repo,
        args: &Value,
        cancel: &Cancel,
    ) -> Result<Vec<u8>> {
        self.run_as(repo, args, AsJson, cancel)
    }

    /// Run this tool and keep its result as JSON text (what plans store).
    pub fn run_raw(self, repo: &Repo, args: &Value) -> Result<Box<RawValue>> {
        self.run_raw_cancellable(repo, args, &Cancel::new())
    }

    /// [`Tool::run_raw`] that stops with [`Error::Cancelled`] once `cancel` is set.
    pub fn run_raw_cancellable(
        self,
        repo: &Repo,
        args: &Value,
        cancel: &Cancel,
    ) -> Result<Box<RawValue>> {
        self.run_as(repo, args, AsRaw, cancel)
    }

    /// The tools themselves are not cancellable, except grep's file loop: the indexes a tool
    /// needs are made ready here first, cancellably, so the tool then finds them built.
    fn run_as<E: Emit>(
        self,
        repo: &Repo,
        args: &Value,
        emit: E,
        cancel: &Cancel,
    ) -> Result<E::Out> {
        cancel.check()?;
        let symbols = || repo.try_symbol_index(cancel).map(drop);
        match self {
            Tool::Grep => {
                let req: GrepRequest = parse(self, args)?;
                emit.emit(grep_cancellable(repo, &req, cancel)?)
            }
            Tool::FindFiles => emit.emit(find_files(repo, &parse(self, args)?)?),
            Tool::Symbols => {
                let req = parse(self, args)?;
                symbols()?;
                emit.emit(symbols_tool(repo, &req)?)
            }
            Tool::Outline => {
                let req = parse(self, args)?;
                symbols()?;
                emit.emit(outline(repo, &req)?)
            }
            Tool::Read => {
                let req: ReadRequest = parse(self, args)?;
                if req.symbol.is_some() {
                    symbols()?;
                }
                emit.emit(read(repo, &req)?)
            }
            Tool::References => {
                let req = parse(self, args)?;
                symbols()?;
                emit.emit(references_cancellable(repo, &req, cancel)?)
            }
            Tool::Bm25 => {
                let req: Bm25Request = parse(self, args)?;
                repo.try_bm25_index(req.level, cancel)?;
                emit.emit(bm25(repo, &req)?)
            }
            Tool::Imports => emit.emit(imports(repo, &parse(self, args)?)?),
        }
    }
}

/// How a typed result leaves [`Tool::run_as`].
trait Emit {
    type Out;
    fn emit<T: Serialize>(&self, value: T) -> Result<Self::Out>;
}

struct AsValue;
struct AsJson;
struct AsRaw;

impl Emit for AsRaw {
    type Out = Box<RawValue>;
    fn emit<T: Serialize>(&self, value: T) -> Result<Box<RawValue>> {
        to_raw(value)
    }
}

impl Emit for AsValue {
    type Out = Value;
    fn emit<T: Serialize>(&self, value: T) -> Result<Value> {
        to_value(value)
    }
}

impl Emit for AsJson {
    type Out = Vec<u8>;
    fn emit<T: Serialize>(&self, value: T) -> Result<Vec<u8>> {
        let bytes = serde_json::to_vec(&value)
            .map_err(|e| Error::Internal(format!("serialising a result: {e}")))?;
        check_size(bytes.len())?;
        Ok(bytes)
    }
}

/// A result over [`MAX_TASK_RESULT_BYTES`] is refused rather than handed on.
fn check_size(n: usize) -> Result<()> {
    if n > MAX_TASK_RESULT_BYTES {
        return Err(Error::InvalidArgument(format!(
            "the result has {n} bytes, over the cap of {MAX_TASK_RESULT_BYTES} per task: \
             ask for less (a narrower range, fewer lines, a lower limit)"
        )));
    }
    Ok(())
}

/// Parse a tool's JSON arguments into its typed request, naming the tool in the error.
pub(crate) fn parse<T: DeserializeOwned>(tool: Tool, args: &Value) -> Result<T> {
    T::deserialize(args).map_err(|e| Error::InvalidArgument(format!("{}: {e}", tool.name())))
}

/// A result as JSON text, refused over [`MAX_TASK_RESULT_BYTES`].
pub(crate) fn to_raw<T: Serialize>(v: T) -> Result<Box<RawValue>> {
    let raw = serde_json::value::to_raw_value(&v)
        .map_err(|e| Error::Internal(format!("serialising a result: {e}")))?;
    check_size(raw.get().len())?;
    Ok(raw)
}

pub(crate) fn to_value<T: Serialize>(v: T) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| Error::Internal(format!("serialising a result: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn argument_name_lists_match_the_request_types() {
        // Every listed name must be accepted by the typed parser, so the two cannot drift.
        for tool in Tool::ALL {
            for name in tool.argument_names() {
                let err = tool.validate(&json!({ name: Value::Null }), false).err();
                let msg = err.map(|e| e.to_string()).unwrap_or_default();
                assert!(
                    !msg.contains("unknown field"),
                    "{}: {name}: {msg}",
                    tool.name()
                );
            }
        }
    }

    #[test]
    fn unknown_arguments_are_named() {
        let err = Tool::Grep
            .validate(&json!({"patern": "x"}), false)
            .unwrap_err();
        assert!(err.to_string().contains("patern"), "{err}");
        let err = Tool::Grep
            .validate(&json!({"patern": "$1"}), true)
            .unwrap_err();
        assert!(err.to_string().contains("patern"), "{err}");
    }
}
