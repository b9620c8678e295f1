//! Each tool's arguments described once: name, type (with the values of an enumeration),
//! default, limits and a one-line help. Everything else that names a tool's arguments derives
//! from this table: [`Tool::argument_names`], the bindings' `tool_specs()`, and in Python the
//! plan language's `TOOLS` and the MCP input schemas (tests there pin `Repo`'s typed keyword
//! defaults to it).
//!
//! The defaults are not restated here: [`Tool::argument_defaults`] serialises the request
//! type's own `Default`, so they cannot drift. A test checks that the table and the request
//! types name the same fields.

use crate::error::{Error, Result};
use crate::index::symbols::SymbolRequest;
use crate::limits::{MAX_CONTEXT_LINES, MAX_GLOBS, MAX_GLOB_BYTES, MAX_GREP_PATTERNS};
use crate::tools::bm25::Bm25Request;
use crate::tools::files::FindFilesRequest;
use crate::tools::grep::GrepRequest;
use crate::tools::imports::ImportsRequest;
use crate::tools::outline::OutlineRequest;
use crate::tools::read::ReadRequest;
use crate::tools::references::ReferencesRequest;
use crate::tools::Tool;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// The type of one argument, as JSON carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    /// A string.
    Str,
    /// A non-negative integer.
    Int,
    /// `true` or `false`.
    Bool,
    /// A list of strings.
    Strs,
    /// One of these strings.
    Enum(&'static [&'static str]),
    /// A list of these strings.
    Enums(&'static [&'static str]),
}

impl ArgType {
    /// The name the bindings and the plan language use (`str`, `int`, ..., `enums`).
    pub fn name(self) -> &'static str {
        match self {
            ArgType::Str => "str",
            ArgType::Int => "int",
            ArgType::Bool => "bool",
            ArgType::Strs => "strs",
            ArgType::Enum(_) => "enum",
            ArgType::Enums(_) => "enums",
        }
    }

    /// The values of an enumeration (empty for the other types).
    pub fn values(self) -> &'static [&'static str] {
        match self {
            ArgType::Enum(v) | ArgType::Enums(v) => v,
            _ => &[],
        }
    }
}

/// One argument of a tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgSpec {
    /// The name, as plans, the bindings and MCP clients write it.
    pub name: &'static str,
    /// Its JSON type.
    pub ty: ArgType,
    /// One line for a reader (a model, a user) deciding what to pass.
    pub help: &'static str,
    /// Smallest integer accepted.
    pub minimum: Option<u64>,
    /// Largest integer accepted, or most characters of a string (of each item of a list).
    pub maximum: Option<usize>,
    /// Most items of a list.
    pub max_items: Option<usize>,
}

const fn arg(name: &'static str, ty: ArgType, help: &'static str) -> ArgSpec {
    ArgSpec {
        name,
        ty,
        help,
        minimum: None,
        maximum: None,
        max_items: None,
    }
}

impl ArgSpec {
    const fn min(mut self, minimum: u64) -> Self {
        self.minimum = Some(minimum);
        self
    }

    const fn max(mut self, maximum: usize) -> Self {
        self.maximum = Some(maximum);
        self
    }

    const fn items(mut self, max_items: usize) -> Self {
        self.max_items = Some(max_items);
        self
    }
}

pub(crate) const CASE_MODES: &[&str] = &["sensitive", "insensitive", "smart"];
pub(crate) const MATCH_MODES: &[&str] = &["exact", "prefix", "regex", "fuzzy"];
pub(crate) const BM25_LEVELS: &[&str] = &["file", "function"];
pub(crate) const IMPORT_DIRECTIONS: &[&str] = &["imports", "imported_by", "both"];
pub(crate) const SYMBOL_KINDS: &[&str] = &[
    "class",
    "interface",
    "struct",
    "enum",
    "trait",
    "impl",
    "function",
    "method",
    "module",
];

const INCLUDE: ArgSpec = arg(
    "include",
    ArgType::Strs,
    "Only paths matching these globs (ripgrep -g syntax), e.g. ['*.py', 'src/**'].",
)
.items(MAX_GLOBS)
.max(MAX_GLOB_BYTES);
const EXCLUDE: ArgSpec = arg(
    "exclude",
    ArgType::Strs,
    "Leave out paths matching these globs, e.g. ['tests/**'].",
)
.items(MAX_GLOBS)
.max(MAX_GLOB_BYTES);
const PATHS: ArgSpec = arg(
    "paths",
    ArgType::Strs,
    "Only these files or folders (relative to the repository root).",
);

const GREP: &[ArgSpec] = &[
    arg(
        "pattern",
        ArgType::Str,
        "One more pattern (shorthand for a one-element `patterns`).",
    ),
    arg(
        "patterns",
        ArgType::Strs,
        "Regexes (or literal text): a line matches when any does.",
    )
    .items(MAX_GREP_PATTERNS),
    arg(
        "fixed_strings",
        ArgType::Bool,
        "Patterns are literal text, not regexes.",
    ),
    arg(
        "case",
        ArgType::Enum(CASE_MODES),
        "Case sensitivity (smart: insensitive unless the pattern has capitals).",
    ),
    arg("word", ArgType::Bool, "Match whole words only."),
    INCLUDE,
    EXCLUDE,
    PATHS,
    arg(
        "context",
        ArgType::Int,
        "Lines of context before and after each match.",
    )
    .max(MAX_CONTEXT_LINES),
    arg(
        "max_results",
        ArgType::Int,
        "Most matches per pattern; the result says when it was cut.",
    ),
    arg(
        "max_line_chars",
        ArgType::Int,
        "Longer lines are cut to this many characters, around the match.",
    ),
    arg(
        "enclosing",
        ArgType::Bool,
        "Name the definition around each match.",
    ),
];

const FIND_FILES: &[ArgSpec] = &[
    arg(
        "query",
        ArgType::Str,
        "Path fragment or fuzzy file name, e.g. 'json/decoder'.",
    ),
    arg(
        "glob",
        ArgType::Str,
        "Glob the path must match, e.g. 'src/**/*.rs'.",
    )
    .max(MAX_GLOB_BYTES),
    EXCLUDE,
    arg("limit", ArgType::Int, "Most files to return."),
];

const SYMBOLS: &[ArgSpec] = &[
    arg(
        "name",
        ArgType::Str,
        "The name, e.g. 'raw_decode' or 'JSONDecoder.raw_decode'.",
    ),
    arg("mode", ArgType::Enum(MATCH_MODES), "How `name` matches."),
    arg(
        "ignore_case",
        ArgType::Bool,
        "Match names regardless of case.",
    ),
    arg(
        "kinds",
        ArgType::Enums(SYMBOL_KINDS),
        "Only these kinds of definition: class, function, method, ...",
    ),
    INCLUDE,
    EXCLUDE,
    PATHS,
    arg("limit", ArgType::Int, "Most definitions to return."),
];

const OUTLINE: &[ArgSpec] = &[arg(
    "path",
    ArgType::Str,
    "File path relative to the repository root.",
)];

const READ: &[ArgSpec] = &[
    arg(
        "path",
        ArgType::Str,
        "File path relative to the repository root.",
    ),
    arg("start", ArgType::Int, "First line (1-based).").min(1),
    arg(
        "end",
        ArgType::Int,
        "Last line, inclusive (default: as far as max_lines allows).",
    )
    .min(1),
    arg(
        "symbol",
        ArgType::Str,
        "Read this definition instead of a line range.",
    ),
    arg("max_lines", ArgType::Int, "Most lines to return."),
    arg(
        "max_line_chars",
        ArgType::Int,
        "Longer lines are cut to this many characters.",
    ),
];

const REFERENCES: &[ArgSpec] = &[
    arg("name", ArgType::Str, "The identifier, e.g. 'raw_decode'."),
    INCLUDE,
    EXCLUDE,
    PATHS,
    arg("max_results", ArgType::Int, "Most uses to return."),
];

const BM25: &[ArgSpec] = &[
    arg(
        "query",
        ArgType::Str,
        "Free text to rank against: an issue, a question, a list of words.",
    ),
    arg(
        "level",
        ArgType::Enum(BM25_LEVELS),
        "Rank whole files, or functions and classes.",
    ),
    INCLUDE,
    EXCLUDE,
    arg("limit", ArgType::Int, "Most hits to return."),
];

const IMPORTS: &[ArgSpec] = &[
    arg(
        "paths",
        ArgType::Strs,
        "The Python files whose import-graph neighbours to list.",
    )
    .items(MAX_GLOBS),
    arg(
        "direction",
        ArgType::Enum(IMPORT_DIRECTIONS),
        "The files they import, the files importing them, or both.",
    ),
    arg("limit", ArgType::Int, "Most files to return."),
];

impl Tool {
    /// The arguments the tool accepts, in the order documentation lists them (the plan
    /// language's grammar lists them in this order too).
    pub fn arguments(self) -> &'static [ArgSpec] {
        match self {
            Tool::Grep => GREP,
            Tool::FindFiles => FIND_FILES,
            Tool::Symbols => SYMBOLS,
            Tool::Outline => OUTLINE,
            Tool::Read => READ,
            Tool::References => REFERENCES,
            Tool::Bm25 => BM25,
            Tool::Imports => IMPORTS,
        }
    }

    /// The argument names the tool accepts.
    pub fn argument_names(self) -> Vec<&'static str> {
        self.arguments().iter().map(|a| a.name).collect()
    }

    /// Each argument's default, from the request type's own `Default` (`null` where there
    /// is none, as for an unset `Option`).
    pub fn argument_defaults(self) -> Result<Map<String, Value>> {
        let mut defaults = self.request_defaults()?;
        // Fields skipped when unset (grep's `pattern`) default to null.
        for a in self.arguments() {
            defaults.entry(a.name).or_insert(Value::Null);
        }
        Ok(defaults)
    }

    /// The fields the request type's default serialises.
    fn request_defaults(self) -> Result<Map<String, Value>> {
        match self {
            Tool::Grep => request_fields::<GrepRequest>(),
            Tool::FindFiles => request_fields::<FindFilesRequest>(),
            Tool::Symbols => request_fields::<SymbolRequest>(),
            Tool::Outline => request_fields::<OutlineRequest>(),
            Tool::Read => request_fields::<ReadRequest>(),
            Tool::References => request_fields::<ReferencesRequest>(),
            Tool::Bm25 => request_fields::<Bm25Request>(),
            Tool::Imports => request_fields::<ImportsRequest>(),
        }
    }

    /// The tool described as JSON: `{"name", "arguments": [{"name", "type", "values",
    /// "default", "help", "minimum", "maximum", "max_items"}]}` (absent limits are null).
    pub fn spec(self) -> Result<Value> {
        let defaults = self.argument_defaults()?;
        let arguments: Vec<Value> = self
            .arguments()
            .iter()
            .map(|a| {
                json!({
                    "name": a.name,
                    "type": a.ty.name(),
                    "values": a.ty.values(),
                    "default": defaults.get(a.name).cloned().unwrap_or(Value::Null),
                    "help": a.help,
                    "minimum": a.minimum,
                    "maximum": a.maximum,
                    "max_items": a.max_items,
                })
            })
            .collect();
        Ok(json!({"name": self.name(), "arguments": arguments}))
    }
}

/// The fields of a request type's default, as JSON.
fn request_fields<T: Default + Serialize>() -> Result<Map<String, Value>> {
    match serde_json::to_value(T::default()) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(Error::Internal(format!(
            "a default request serialised to {other}, not an object"
        ))),
        Err(e) => Err(Error::Internal(format!(
            "serialising a default request: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::bm25::Level;
    use crate::index::symbols::{MatchMode, SymbolKind};
    use crate::tools::grep::CaseMode;
    use crate::tools::imports::ImportDirection;
    use std::collections::BTreeSet;

    /// Every field a request type serialises, with each optional field set so that
    /// `skip_serializing_if` hides none.
    fn request_keys(tool: Tool) -> BTreeSet<String> {
        let mut keys: BTreeSet<String> = tool.request_defaults().unwrap().keys().cloned().collect();
        if tool == Tool::Grep {
            let full = GrepRequest {
                pattern: Some("x".into()),
                ..GrepRequest::default()
            };
            let Value::Object(map) = serde_json::to_value(full).unwrap() else {
                panic!("grep request is an object")
            };
            keys.extend(map.keys().cloned());
        }
        keys
    }

    #[test]
    fn the_table_and_the_request_types_name_the_same_fields() {
        for tool in Tool::ALL {
            let table: BTreeSet<String> = tool
                .argument_names()
                .iter()
                .map(|s| s.to_string())
                .collect();
            let fields = request_keys(tool);
            assert_eq!(
                table.symmetric_difference(&fields).collect::<Vec<_>>(),
                Vec::<&String>::new(),
                "{}: arguments in the spec table but not the request type, or the reverse",
                tool.name()
            );
        }
    }

    #[test]
    fn names_are_unique_and_helps_are_one_line() {
        for tool in Tool::ALL {
            let names = tool.argument_names();
            let unique: BTreeSet<_> = names.iter().collect();
            assert_eq!(unique.len(), names.len(), "{}", tool.name());
            for a in tool.arguments() {
                assert!(
                    !a.help.is_empty() && !a.help.contains('\n'),
                    "{}.{}",
                    tool.name(),
                    a.name
                );
            }
        }
    }

    #[test]
    fn defaults_come_from_the_request_types() {
        let grep = Tool::Grep.argument_defaults().unwrap();
        assert_eq!(grep["max_results"], json!(200));
        assert_eq!(grep["case"], json!("sensitive"));
        assert_eq!(grep["pattern"], Value::Null);
        let read = Tool::Read.argument_defaults().unwrap();
        assert_eq!(
            (&read["max_lines"], &read["start"]),
            (&json!(400), &Value::Null)
        );
    }

    #[test]
    fn each_default_has_its_arguments_type() {
        for tool in Tool::ALL {
            let defaults = tool.argument_defaults().unwrap();
            for a in tool.arguments() {
                let d = &defaults[a.name];
                let fits = match a.ty {
                    ArgType::Str => d.is_string() || d.is_null(),
                    ArgType::Int => d.is_u64() || d.is_null(),
                    ArgType::Bool => d.is_boolean(),
                    ArgType::Strs => d.as_array().is_some_and(|v| v.iter().all(Value::is_string)),
                    ArgType::Enum(values) => d.as_str().is_some_and(|s| values.contains(&s)),
                    ArgType::Enums(_) => d.is_null() || d.is_array(),
                };
                assert!(fits, "{}.{}: default {d}", tool.name(), a.name);
            }
        }
    }

    /// Exhaustive matches: a new variant fails to compile here until its name is listed.
    fn case_mode_name(c: CaseMode) -> &'static str {
        match c {
            CaseMode::Sensitive => "sensitive",
            CaseMode::Insensitive => "insensitive",
            CaseMode::Smart => "smart",
        }
    }

    fn match_mode_name(m: MatchMode) -> &'static str {
        match m {
            MatchMode::Exact => "exact",
            MatchMode::Prefix => "prefix",
            MatchMode::Regex => "regex",
            MatchMode::Fuzzy => "fuzzy",
        }
    }

    fn direction_name(d: ImportDirection) -> &'static str {
        match d {
            ImportDirection::Imports => "imports",
            ImportDirection::ImportedBy => "imported_by",
            ImportDirection::Both => "both",
        }
    }

    fn level_name(l: Level) -> &'static str {
        match l {
            Level::File => "file",
            Level::Function => "function",
        }
    }

    #[test]
    fn enumerations_list_every_variant_and_each_parses() {
        use CaseMode::*;
        let cases: Vec<_> = [Sensitive, Insensitive, Smart].map(case_mode_name).to_vec();
        assert_eq!(cases, CASE_MODES);
        let modes: Vec<_> = [
            MatchMode::Exact,
            MatchMode::Prefix,
            MatchMode::Regex,
            MatchMode::Fuzzy,
        ]
        .map(match_mode_name)
        .to_vec();
        assert_eq!(modes, MATCH_MODES);
        let levels: Vec<_> = [Level::File, Level::Function].map(level_name).to_vec();
        assert_eq!(levels, BM25_LEVELS);
        let directions: Vec<_> = [
            ImportDirection::Imports,
            ImportDirection::ImportedBy,
            ImportDirection::Both,
        ]
        .map(direction_name)
        .to_vec();
        assert_eq!(directions, IMPORT_DIRECTIONS);
        let kinds: Vec<_> = SymbolKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(kinds, SYMBOL_KINDS);
        for tool in Tool::ALL {
            for a in tool.arguments() {
                for v in a.ty.values() {
                    let value = match a.ty {
                        ArgType::Enums(_) => json!([v]),
                        _ => json!(v),
                    };
                    let args = json!({ a.name: value });
                    let err = tool.validate(&args, false).err().map(|e| e.to_string());
                    assert!(
                        !err.as_deref().unwrap_or("").contains("unknown variant"),
                        "{}.{} = {v}: {err:?}",
                        tool.name(),
                        a.name
                    );
                }
            }
        }
    }

    #[test]
    fn the_spec_is_json_with_every_argument() {
        let spec = Tool::Grep.spec().unwrap();
        assert_eq!(spec["name"], "grep");
        let case = &spec["arguments"][3];
        assert_eq!(case["name"], "case");
        assert_eq!(case["type"], "enum");
        assert_eq!(case["values"], json!(CASE_MODES));
        assert_eq!(case["default"], "sensitive");
        assert_eq!(spec["arguments"][8]["maximum"], json!(MAX_CONTEXT_LINES));
    }
}
