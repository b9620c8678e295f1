//! What the reader reads: an issue's facts and the outcomes of the search's tool calls, as
//! JSON (the Python caller sends `orjson.dumps` of them; training records hold the same).
//!
//! ```json
//! {"issue": "the issue text", "title": "its first line",
//!  "identifiers": ["render_widget"], "frames": [["pkg/widget.py", 12, "render"]],
//!  "outcomes": [["bm25", {"query": "..."}, {"hits": [{"path": "a.py", "score": 3.5}]}]]}
//! ```
//!
//! `outcomes` are the successful calls, in order: `[tool, arguments, result]`, read in one
//! pass. Only the fields the reader uses are parsed, and only for the tools it reads (`bm25`,
//! `symbols`, `find_files`, `references`, `grep`, `outline`); any other tool is skipped
//! unread. Strings are borrowed from the JSON unless they hold escapes. Scores
//! are parsed exactly (correctly rounded, as Python's `float` reads them): serde_json's
//! default number parser may be one ulp off, and a feature table must be bit-identical.

use crate::{Error, Result};
use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

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

/// The whole input, read in one pass: each call's result is parsed into its tool's shape as
/// it is met (strings borrowed from the JSON where they have no escapes).
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
    pub(crate) outcomes: Vec<Call<'a>>,
}

impl<'a> Input<'a> {
    pub(crate) fn parse(json: &'a [u8]) -> Result<Input<'a>> {
        // Validated once, whole: reading `&str` spares a check of every string.
        let text = std::str::from_utf8(json)
            .map_err(|e| invalid(format!("not a search: not UTF-8 ({e})")))?;
        serde_json::from_str(text).map_err(|e| invalid(format!("not a search: {e}")))
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

/// Text borrowed from the JSON, or owned where it had escapes (serde's own `Cow` always
/// copies, inside an `Option` or behind an alias).
#[derive(Debug, Clone)]
pub(crate) struct Text<'a>(Cow<'a, str>);

impl Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> std::result::Result<Text<'de>, E> {
        Ok(Text(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(v.to_string())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(v)))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor)
    }
}

/// One successful call: `[tool, arguments, result]`, the result read as its tool's.
pub(crate) struct Call<'a> {
    pub(crate) args: Map<String, Value>,
    pub(crate) result: ToolResult<'a>,
}

/// A result in the shape the reader needs; a tool it does not read is skipped unread.
pub(crate) enum ToolResult<'a> {
    Bm25(Bm25Result<'a>),
    Symbols(SymbolsResult<'a>),
    FindFiles(FindFilesResult<'a>),
    References(ReferencesResult<'a>),
    Grep(GrepResult<'a>),
    Outline(OutlineResult<'a>),
    Imports(ImportsResult<'a>),
    Other,
}

struct CallVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for CallVisitor<'a> {
    type Value = Call<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a call: [tool, arguments, result]")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> std::result::Result<Call<'a>, S::Error> {
        let missing = |what: &str| de::Error::custom(format!("a call without its {what}"));
        let tool: Text<'a> = seq.next_element()?.ok_or_else(|| missing("tool"))?;
        let args: Map<String, Value> = seq.next_element()?.ok_or_else(|| missing("arguments"))?;
        let result = match &*tool {
            "bm25" => seq.next_element()?.map(ToolResult::Bm25),
            "symbols" => seq.next_element()?.map(ToolResult::Symbols),
            "find_files" => seq.next_element()?.map(ToolResult::FindFiles),
            "references" => seq.next_element()?.map(ToolResult::References),
            "grep" => seq.next_element()?.map(ToolResult::Grep),
            "outline" => seq.next_element()?.map(ToolResult::Outline),
            "imports" => seq.next_element()?.map(ToolResult::Imports),
            _ => seq.next_element::<IgnoredAny>()?.map(|_| ToolResult::Other),
        }
        .ok_or_else(|| missing("result"))?;
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::custom(
                "a call of more than [tool, arguments, result]",
            ));
        }
        Ok(Call { args, result })
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Call<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_seq(CallVisitor(PhantomData))
    }
}

/// A definition as every tool names one (`acs.types.Definition`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Def<'a> {
    #[serde(borrow)]
    pub(crate) path: Text<'a>,
    #[serde(default, borrow)]
    pub(crate) name: Option<Text<'a>>,
    #[serde(borrow)]
    pub(crate) qualified_name: Text<'a>,
    #[serde(borrow)]
    pub(crate) kind: Text<'a>,
    pub(crate) start_line: i64,
    pub(crate) end_line: i64,
}

impl Def<'_> {
    /// `d["name"]`, which a symbols result always carries.
    pub(crate) fn name(&self) -> Result<&str> {
        self.name
            .as_deref()
            .ok_or_else(|| invalid("a definition without a name".into()))
    }
}

/// A BM25 hit: a file, or (function level) a definition with its score.
#[derive(Debug, Deserialize)]
pub(crate) struct Bm25Hit<'a> {
    #[serde(borrow)]
    pub(crate) path: Text<'a>,
    pub(crate) score: Exact,
    #[serde(default, borrow)]
    pub(crate) qualified_name: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub(crate) kind: Option<Text<'a>>,
    #[serde(default)]
    pub(crate) start_line: Option<i64>,
    #[serde(default)]
    pub(crate) end_line: Option<i64>,
}

impl<'a> Bm25Hit<'a> {
    /// The definition a function-level hit is.
    pub(crate) fn definition(&self) -> Result<Def<'a>> {
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
pub(crate) struct Bm25Result<'a> {
    #[serde(borrow)]
    pub(crate) hits: Vec<Bm25Hit<'a>>,
}

/// A file of the import graph next to an asked file (`via`): `direction` "imports" when
/// `via` imports it, "imported_by" when it imports `via`.
#[derive(Debug, Deserialize)]
pub(crate) struct ImportHit<'a> {
    #[serde(borrow)]
    pub(crate) path: Text<'a>,
    #[serde(borrow)]
    pub(crate) via: Text<'a>,
    #[serde(borrow)]
    pub(crate) direction: Text<'a>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ImportsResult<'a> {
    #[serde(borrow)]
    pub(crate) files: Vec<ImportHit<'a>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SymbolsResult<'a> {
    #[serde(borrow)]
    pub(crate) symbols: Vec<Def<'a>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ScoredFile<'a> {
    #[serde(borrow)]
    pub(crate) path: Text<'a>,
    pub(crate) score: Exact,
}

#[derive(Debug, Deserialize)]
pub(crate) struct FindFilesResult<'a> {
    #[serde(borrow)]
    pub(crate) files: Vec<ScoredFile<'a>>,
}

/// A group of uses; `enclosing` absent, null or `{}` at module level.
#[derive(Debug, Deserialize)]
pub(crate) struct Group<'a> {
    #[serde(default, borrow)]
    enclosing: Option<Enclosing<'a>>,
}

impl<'a> Group<'a> {
    pub(crate) fn enclosing(&self) -> Result<Option<Def<'a>>> {
        self.enclosing
            .as_ref()
            .map_or(Ok(None), Enclosing::definition)
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ReferencesFile<'a> {
    #[serde(borrow)]
    pub(crate) path: Text<'a>,
    #[serde(borrow)]
    pub(crate) groups: Vec<Group<'a>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ReferencesResult<'a> {
    #[serde(borrow)]
    pub(crate) files: Vec<ReferencesFile<'a>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PathOnly<'a> {
    #[serde(borrow)]
    pub(crate) path: Text<'a>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct GrepMatch<'a> {
    #[serde(borrow)]
    pub(crate) path: Text<'a>,
    pub(crate) line: i64,
    #[serde(default, borrow)]
    enclosing: Option<Enclosing<'a>>,
}

impl<'a> GrepMatch<'a> {
    pub(crate) fn enclosing(&self) -> Result<Option<Def<'a>>> {
        self.enclosing
            .as_ref()
            .map_or(Ok(None), Enclosing::definition)
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct GrepResult<'a> {
    #[serde(borrow)]
    pub(crate) files: Vec<PathOnly<'a>>,
    #[serde(borrow)]
    pub(crate) matches: Vec<GrepMatch<'a>>,
}

/// An outline node; nested nodes follow their parent (a record's outline is flat already).
#[derive(Debug, Deserialize)]
pub(crate) struct OutlineNode<'a> {
    #[serde(borrow)]
    pub(crate) path: Text<'a>,
    #[serde(borrow)]
    pub(crate) qualified_name: Text<'a>,
    #[serde(borrow)]
    pub(crate) kind: Text<'a>,
    pub(crate) start_line: i64,
    pub(crate) end_line: i64,
    #[serde(default, borrow)]
    pub(crate) children: Vec<OutlineNode<'a>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct OutlineResult<'a> {
    #[serde(borrow)]
    pub(crate) symbols: Vec<OutlineNode<'a>>,
}

/// A grep match's or a references group's `enclosing`, as Python's `m.get("enclosing")`
/// tests it: an object with none of a definition's fields (`{}`) is no definition.
#[derive(Debug, Deserialize)]
struct Enclosing<'a> {
    #[serde(default, borrow)]
    path: Option<Text<'a>>,
    #[serde(default, borrow)]
    qualified_name: Option<Text<'a>>,
    #[serde(default, borrow)]
    kind: Option<Text<'a>>,
    #[serde(default)]
    start_line: Option<i64>,
    #[serde(default)]
    end_line: Option<i64>,
}

impl<'a> Enclosing<'a> {
    fn definition(&self) -> Result<Option<Def<'a>>> {
        let fields = (
            &self.path,
            &self.qualified_name,
            &self.kind,
            self.start_line,
            self.end_line,
        );
        match fields {
            (None, None, None, None, None) => Ok(None),
            (Some(path), Some(qualified_name), Some(kind), Some(start_line), Some(end_line)) => {
                Ok(Some(Def {
                    path: path.clone(),
                    name: None,
                    qualified_name: qualified_name.clone(),
                    kind: kind.clone(),
                    start_line,
                    end_line,
                }))
            }
            _ => Err(invalid(
                "an `enclosing` definition without all its fields".into(),
            )),
        }
    }
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
