//! What the reader reads: an issue's facts and the outcomes of the search's tool calls, as
//! JSON (the Python caller sends `orjson.dumps` of them; training records hold the same).
//!
//! ```json
//! {"issue": "the issue text", "title": "its first line",
//!  "identifiers": ["render_widget"], "frames": [["pkg/widget.py", 12, "render"]],
//!  "outcomes": [["bm25", {"query": "..."}, {"hits": [{"path": "a.py", "score": 3.5}]}]]}
//! ```
//!
//! `outcomes` are the successful calls, in order: `[tool, arguments, result]`. Only the
//! fields the reader uses are parsed, and only for the tools it reads (`bm25`, `symbols`,
//! `find_files`, `references`, `grep`, `outline`); any other tool is skipped unread. Scores
//! are parsed exactly (correctly rounded, as Python's `float` reads them): serde_json's
//! default number parser may be one ulp off, and a feature table must be bit-identical.

use crate::{Error, Result};
use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// A number parsed as Python reads it: correctly rounded to the nearest `f64`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Exact(pub(crate) f64);

impl<'de> Deserialize<'de> for Exact {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let raw: &RawValue = Deserialize::deserialize(deserializer)?;
        let text = raw.get();
        // A JSON number; `str::parse` is correctly rounded (serde_json's default is not).
        let json_number = text.starts_with(|c: char| c == '-' || c.is_ascii_digit())
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
        match text.parse::<f64>() {
            Ok(v) if json_number => Ok(Exact(v)),
            _ => Err(de::Error::custom(format!(
                "expected a number, got {}",
                prefix(text)
            ))),
        }
    }
}

/// A stack-trace frame of the issue: path as printed, line, function.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Frame(pub(crate) String, pub(crate) i64, pub(crate) Option<String>);

/// The whole input, borrowed from the JSON text: results stay raw until their tool is known.
#[derive(Deserialize)]
pub(crate) struct Input<'a> {
    pub(crate) issue: String,
    #[serde(default)]
    pub(crate) title: String,
    #[serde(default)]
    pub(crate) identifiers: Vec<String>,
    #[serde(default)]
    pub(crate) frames: Vec<Frame>,
    #[serde(borrow)]
    pub(crate) outcomes: Vec<(String, Map<String, Value>, &'a RawValue)>,
}

impl<'a> Input<'a> {
    pub(crate) fn parse(json: &'a [u8]) -> Result<Input<'a>> {
        serde_json::from_slice(json).map_err(|e| invalid(format!("not a search: {e}")))
    }
}

/// At most a short prefix of some input, for an error message.
fn prefix(text: &str) -> String {
    const CHARS: usize = 40;
    match text.char_indices().nth(CHARS) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_string(),
    }
}

pub(crate) fn invalid(message: String) -> Error {
    Error::InvalidArgument(format!("evidence: {message}"))
}

/// A definition as every tool names one (`acs.types.Definition`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Def {
    pub(crate) path: String,
    #[serde(default)]
    pub(crate) name: Option<String>,
    pub(crate) qualified_name: String,
    pub(crate) kind: String,
    pub(crate) start_line: i64,
    pub(crate) end_line: i64,
}

impl Def {
    /// `d["name"]`, which a symbols result always carries.
    pub(crate) fn name(&self) -> Result<&str> {
        self.name
            .as_deref()
            .ok_or_else(|| invalid("a definition without a name".into()))
    }
}

/// A BM25 hit: a file, or (function level) a definition with its score.
#[derive(Debug, Deserialize)]
pub(crate) struct Bm25Hit {
    pub(crate) path: String,
    pub(crate) score: Exact,
    #[serde(default)]
    pub(crate) qualified_name: Option<String>,
    #[serde(default)]
    pub(crate) kind: Option<String>,
    #[serde(default)]
    pub(crate) start_line: Option<i64>,
    #[serde(default)]
    pub(crate) end_line: Option<i64>,
}

impl Bm25Hit {
    /// The definition a function-level hit is.
    pub(crate) fn definition(&self) -> Result<Def> {
        let missing = |field: &str| invalid(format!("a function-level bm25 hit without `{field}`"));
        Ok(Def {
            path: self.path.clone(),
            name: None,
            qualified_name: self
                .qualified_name
                .clone()
                .ok_or_else(|| missing("qualified_name"))?,
            kind: self.kind.clone().ok_or_else(|| missing("kind"))?,
            start_line: self.start_line.ok_or_else(|| missing("start_line"))?,
            end_line: self.end_line.ok_or_else(|| missing("end_line"))?,
        })
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Bm25Result {
    pub(crate) hits: Vec<Bm25Hit>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SymbolsResult {
    pub(crate) symbols: Vec<Def>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ScoredFile {
    pub(crate) path: String,
    pub(crate) score: Exact,
}

#[derive(Debug, Deserialize)]
pub(crate) struct FindFilesResult {
    pub(crate) files: Vec<ScoredFile>,
}

/// A group of uses; `enclosing` absent or null (or `{}`) at module level.
#[derive(Debug, Deserialize)]
pub(crate) struct Group {
    #[serde(default, deserialize_with = "truthy_definition")]
    pub(crate) enclosing: Option<Def>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ReferencesFile {
    pub(crate) path: String,
    pub(crate) groups: Vec<Group>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ReferencesResult {
    pub(crate) files: Vec<ReferencesFile>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PathOnly {
    pub(crate) path: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct GrepMatch {
    pub(crate) path: String,
    pub(crate) line: i64,
    #[serde(default, deserialize_with = "truthy_definition")]
    pub(crate) enclosing: Option<Def>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct GrepResult {
    pub(crate) files: Vec<PathOnly>,
    pub(crate) matches: Vec<GrepMatch>,
}

/// An outline node; nested nodes follow their parent (a record's outline is flat already).
#[derive(Debug, Deserialize)]
pub(crate) struct OutlineNode {
    pub(crate) path: String,
    pub(crate) qualified_name: String,
    pub(crate) kind: String,
    pub(crate) start_line: i64,
    pub(crate) end_line: i64,
    #[serde(default)]
    pub(crate) children: Vec<OutlineNode>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct OutlineResult {
    pub(crate) symbols: Vec<OutlineNode>,
}

/// `enclosing` as Python's `m.get("enclosing")` tests it: null and `{}` are no definition.
fn truthy_definition<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<Def>, D::Error> {
    let value: Option<Map<String, Value>> = Deserialize::deserialize(deserializer)?;
    match value {
        Some(map) if !map.is_empty() => Def::deserialize(Value::Object(map))
            .map(Some)
            .map_err(de::Error::custom),
        _ => Ok(None),
    }
}

/// A tool's result, parsed into the shape the reader needs.
pub(crate) fn parse_result<'a, T: Deserialize<'a>>(tool: &str, raw: &'a RawValue) -> Result<T> {
    serde_json::from_str(raw.get()).map_err(|e| invalid(format!("a {tool} result: {e}")))
}

/// Python's truthiness of a JSON value (`bool(args.get("include"))`).
pub(crate) fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|v| v != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

/// `args.get(name) == text`: a JSON string equal to `text`.
pub(crate) fn arg_is(args: &Map<String, Value>, name: &str, text: &str) -> bool {
    matches!(args.get(name), Some(Value::String(s)) if s == text)
}

/// A string argument the tool requires (`args[name]` in Python).
pub(crate) fn required_str<'m>(
    args: &'m Map<String, Value>,
    tool: &str,
    name: &str,
) -> Result<&'m str> {
    match args.get(name) {
        Some(Value::String(s)) => Ok(s),
        _ => Err(invalid(format!("a {tool} call without a text `{name}`"))),
    }
}
