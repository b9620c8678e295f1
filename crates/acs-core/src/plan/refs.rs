//! References from one task's arguments to an earlier task's result.
//!
//! Syntax: a JSON string argument that is *entirely* a reference, `$N` followed by any
//! number of steps: `.field`, `[index]` (negative counts from the end) or `[*]` (every
//! element; later steps apply to each). Examples: `$1` (the whole result),
//! `$1.files[0].path`, `$2.symbols[*].path`. A `[*]` reference inside a list is spliced
//! into it. Write `$$` to start a literal string with `$`.
//!
//! One task receives at most [`MAX_SPREAD_VALUES`] values through `[*]` steps, all its
//! references together: a spread turns one result into as many arguments (say, patterns)
//! as it has items, and chained spreads multiply. And at most [`MAX_SUBSTITUTED_BYTES`] of
//! values through all its references: `$1` written 300 times copies a 4 MB result 300
//! times.

use crate::error::{Error, Result};
use crate::limits::{MAX_SPREAD_VALUES, MAX_SUBSTITUTED_BYTES};
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Field(String),
    Index(i64),
    Each,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Reference {
    pub task: u64,
    pub steps: Vec<Step>,
}

impl Reference {
    /// Parse `text` as a reference; `Ok(None)` when it is an ordinary string.
    pub(crate) fn parse(text: &str) -> Result<Option<Reference>> {
        let Some(rest) = text.strip_prefix('$') else {
            return Ok(None);
        };
        if rest.starts_with('$') {
            return Ok(None);
        }
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Ok(None); // `$` followed by anything else is plain text (a regex anchor, say)
        }
        let bad = |why: &str| Error::InvalidArgument(format!("bad reference {text:?}: {why}"));
        let task: u64 = rest[..digits]
            .parse()
            .map_err(|_| bad("task id too large"))?;
        let mut steps = Vec::new();
        let mut s = &rest[digits..];
        while !s.is_empty() {
            if let Some(after) = s.strip_prefix('.') {
                let n = after
                    .bytes()
                    .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                    .count();
                if n == 0 {
                    return Err(bad("expected a field name after `.`"));
                }
                steps.push(Step::Field(after[..n].to_string()));
                s = &after[n..];
            } else if let Some(after) = s.strip_prefix('[') {
                let close = after.find(']').ok_or_else(|| bad("unclosed `[`"))?;
                let inner = after[..close].trim();
                steps.push(if inner == "*" {
                    Step::Each
                } else {
                    Step::Index(
                        inner
                            .parse()
                            .map_err(|_| bad("index must be an integer or `*`"))?,
                    )
                });
                s = &after[close + 1..];
            } else {
                return Err(bad("expected `.field`, `[index]` or `[*]`"));
            }
        }
        Ok(Some(Reference { task, steps }))
    }

    pub(crate) fn spreads(&self) -> bool {
        self.steps.contains(&Step::Each)
    }

    /// Resolve, adding what it produces to `spent` (checked against the caps as values are
    /// produced, before they are copied).
    fn resolve_counted(&self, root: &Value, spent: &mut Spent) -> Result<Value> {
        walk(root, &self.steps, spent)
            .map_err(|why| Error::InvalidArgument(format!("reference ${}: {why}", self.task)))
    }
}

/// What one task's references have produced so far.
#[derive(Default)]
struct Spent {
    /// Values from `[*]` steps.
    spread: usize,
    /// Approximate JSON bytes of the values substituted.
    bytes: usize,
}

/// Approximate JSON size of `v`, counted no further than `limit`.
fn json_bytes(v: &Value, limit: usize) -> usize {
    match v {
        Value::String(s) => s.len() + 2,
        Value::Array(items) => {
            let mut n = 2;
            for item in items {
                n += json_bytes(item, limit.saturating_sub(n)) + 1;
                if n > limit {
                    break;
                }
            }
            n
        }
        Value::Object(map) => {
            let mut n = 2;
            for (k, item) in map {
                n += k.len() + 4 + json_bytes(item, limit.saturating_sub(n));
                if n > limit {
                    break;
                }
            }
            n
        }
        _ => 8,
    }
}

fn walk(value: &Value, steps: &[Step], spent: &mut Spent) -> std::result::Result<Value, String> {
    let Some((step, rest)) = steps.split_first() else {
        let left = MAX_SUBSTITUTED_BYTES.saturating_sub(spent.bytes);
        spent.bytes += json_bytes(value, left);
        if spent.bytes > MAX_SUBSTITUTED_BYTES {
            return Err(format!(
                "references give this task more than {MAX_SUBSTITUTED_BYTES} bytes of values \
                 (the cap per task); reference a part of the result"
            ));
        }
        return Ok(value.clone());
    };
    match step {
        Step::Field(name) => match value.get(name) {
            Some(v) => walk(v, rest, spent),
            None => Err(format!("no field `{name}`")),
        },
        Step::Index(i) => {
            let items = value
                .as_array()
                .ok_or("indexing something that is not a list")?;
            let len = items.len() as i64;
            let at = if *i < 0 { len + i } else { *i };
            if at < 0 || at >= len {
                return Err(format!("index {i} out of range (length {len})"));
            }
            walk(&items[at as usize], rest, spent)
        }
        Step::Each => {
            let items = value
                .as_array()
                .ok_or("`[*]` on something that is not a list")?;
            spent.spread += items.len();
            if spent.spread > MAX_SPREAD_VALUES {
                return Err(format!(
                    "`[*]` gives this task more than {MAX_SPREAD_VALUES} values \
                     (the cap on spread values per task); select fewer with an index"
                ));
            }
            items
                .iter()
                .map(|v| walk(v, rest, spent))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map(Value::Array)
        }
    }
}

/// Every reference in `args`, in document order.
pub(crate) fn collect(args: &Value) -> Result<Vec<Reference>> {
    let mut out = Vec::new();
    visit(args, &mut |s| {
        if let Some(r) = Reference::parse(s)? {
            out.push(r);
        }
        Ok(())
    })?;
    Ok(out)
}

fn visit(v: &Value, f: &mut dyn FnMut(&str) -> Result<()>) -> Result<()> {
    match v {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().try_for_each(|i| visit(i, f)),
        Value::Object(map) => map.values().try_for_each(|i| visit(i, f)),
        _ => Ok(()),
    }
}

/// Replace each reference in `args` by its value; `results(task)` yields a task's result.
/// At most [`MAX_SPREAD_VALUES`] values in all come from `[*]` steps, and at most
/// [`MAX_SUBSTITUTED_BYTES`] of values from all references.
pub(crate) fn substitute<'a>(
    args: &Value,
    results: &dyn Fn(u64) -> Option<&'a Value>,
) -> Result<Value> {
    substitute_counted(args, results, &mut Spent::default())
}

fn substitute_counted<'a>(
    args: &Value,
    results: &dyn Fn(u64) -> Option<&'a Value>,
    spent: &mut Spent,
) -> Result<Value> {
    match args {
        Value::String(s) => match Reference::parse(s)? {
            Some(r) => {
                let root = results(r.task)
                    .ok_or_else(|| Error::Internal(format!("result of task {} missing", r.task)))?;
                r.resolve_counted(root, spent)
            }
            None => Ok(Value::String(
                s.strip_prefix("$$")
                    .map(|t| format!("${t}"))
                    .unwrap_or_else(|| s.clone()),
            )),
        },
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let spliced = matches!(item, Value::String(s) if Reference::parse(s)?.is_some_and(|r| r.spreads()));
                match (substitute_counted(item, results, spent)?, spliced) {
                    (Value::Array(inner), true) => out.extend(inner),
                    (v, _) => out.push(v),
                }
            }
            Ok(Value::Array(out))
        }
        Value::Object(map) => {
            let mut out = serde_json::Map::with_capacity(map.len());
            for (k, v) in map {
                out.insert(k.clone(), substitute_counted(v, results, spent)?);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resolve(reference: &str, result: Value) -> Result<Value> {
        substitute(&json!(reference), &|_| Some(&result))
    }

    #[test]
    fn parses_the_documented_forms() {
        let r = Reference::parse("$12.files[0].path").unwrap().unwrap();
        assert_eq!(r.task, 12);
        assert_eq!(
            r.steps,
            vec![
                Step::Field("files".into()),
                Step::Index(0),
                Step::Field("path".into())
            ]
        );
        assert_eq!(Reference::parse("$3").unwrap().unwrap().steps, vec![]);
        assert!(Reference::parse("$2.symbols[*].path")
            .unwrap()
            .unwrap()
            .spreads());
    }

    #[test]
    fn ordinary_strings_are_not_references() {
        for s in ["plain", "$", "$foo", "^x$", "$$1"] {
            assert_eq!(Reference::parse(s).unwrap(), None, "{s}");
        }
        assert_eq!(substitute(&json!("$$1"), &|_| None).unwrap(), json!("$1"));
    }

    #[test]
    fn malformed_references_are_errors() {
        for s in ["$1.", "$1[", "$1[x]", "$1..a", "$1#"] {
            assert!(Reference::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn resolves_fields_indexes_and_spreads() {
        let result = json!({"files": [{"path": "a.py"}, {"path": "b.py"}]});
        assert_eq!(
            resolve("$1.files[0].path", result.clone()).unwrap(),
            json!("a.py")
        );
        assert_eq!(
            resolve("$1.files[-1].path", result.clone()).unwrap(),
            json!("b.py")
        );
        assert_eq!(
            resolve("$1.files[*].path", result.clone()).unwrap(),
            json!(["a.py", "b.py"])
        );
        let spliced = substitute(&json!(["x.py", "$1.files[*].path"]), &|_| Some(&result)).unwrap();
        assert_eq!(spliced, json!(["x.py", "a.py", "b.py"]));
    }

    #[test]
    fn resolution_failures_explain_themselves() {
        let err = resolve("$1.files[5].path", json!({"files": []})).unwrap_err();
        assert!(
            err.to_string().contains("index 5 out of range (length 0)"),
            "{err}"
        );
        let err = resolve("$1.nope", json!({})).unwrap_err();
        assert!(err.to_string().contains("no field `nope`"), "{err}");
    }

    #[test]
    fn a_result_named_many_times_is_capped_by_the_bytes_it_would_copy() {
        // 300 copies of a 100 kB result: 30 MB of arguments from a 2 kB plan.
        let result = json!({"text": "x".repeat(100_000)});
        let many = Value::Array(vec![json!("$1"); 300]);
        let err = substitute(&many, &|_| Some(&result)).unwrap_err();
        assert!(err.to_string().contains("bytes of values"), "{err}");
        // Under the cap it resolves.
        let few = Value::Array(vec![json!("$1.text"); 10]);
        assert_eq!(
            substitute(&few, &|_| Some(&result)).unwrap()[9],
            result["text"]
        );
    }
}
