//! Plans: DAGs of tool calls (LLMCompiler style), their validation, and their execution.
//!
//! ```json
//! {"tasks": [
//!   {"id": 1, "tool": "symbols", "args": {"name": "parse_config"}},
//!   {"id": 2, "tool": "read", "args": {"path": "$1.symbols[0].path", "symbol": "$1.symbols[0].qualified_name"}}
//! ]}
//! ```
//! A bare JSON list of tasks is accepted too. See [`refs`] for the reference syntax and
//! [`executor`] for how tasks run.

pub(crate) mod executor;
pub(crate) mod refs;

use crate::error::{short, Error, Result};
use crate::limits::MAX_PLAN_TASKS;
use crate::tools::Tool;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashSet;

/// One validated task.
#[derive(Clone, Debug)]
pub struct TaskSpec {
    /// Unique within its plan or run; `$N` references name it.
    pub id: u64,
    /// The tool to call.
    pub tool: Tool,
    /// Its arguments (a JSON object), references unresolved.
    pub args: Value,
    /// Tasks this one references, deduplicated, in order of first mention.
    pub deps: Vec<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    id: Value,
    tool: String,
    #[serde(default = "empty_object")]
    args: Value,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

impl TaskSpec {
    /// Parse and check one task on its own: its id, tool, argument names and references.
    pub fn from_json(value: &Value) -> Result<TaskSpec> {
        let id_hint = value.get("id").and_then(Value::as_u64);
        let raw = RawTask::deserialize(value).map_err(|e| Error::plan(id_hint, e.to_string()))?;
        let id = match raw.id.as_u64() {
            Some(id) if id > 0 => id,
            _ => {
                return Err(Error::plan(
                    None,
                    format!("task id must be a positive integer, got {}", raw.id),
                ))
            }
        };
        let tool = Tool::from_name(&raw.tool).ok_or_else(|| {
            let known: Vec<&str> = Tool::ALL.iter().map(|t| t.name()).collect();
            Error::plan(
                Some(id),
                format!(
                    "unknown tool `{}` (known: {})",
                    short(&raw.tool),
                    known.join(", ")
                ),
            )
        })?;
        let references =
            refs::collect(&raw.args).map_err(|e| Error::plan(Some(id), e.to_string()))?;
        tool.validate(&raw.args, !references.is_empty())
            .map_err(|e| Error::plan(Some(id), e.to_string()))?;
        let mut deps = Vec::new();
        for r in references {
            if r.task == id {
                return Err(Error::plan(Some(id), "a task cannot reference itself"));
            }
            if !deps.contains(&r.task) {
                deps.push(r.task);
            }
        }
        Ok(TaskSpec {
            id,
            tool,
            args: raw.args,
            deps,
        })
    }
}

impl TaskSpec {
    /// Parse and check a batch of tasks (a plan, or what one submission adds to a run): at
    /// most [`MAX_PLAN_TASKS`], counted before any is parsed.
    pub fn list_from_json(items: &[Value]) -> Result<Vec<TaskSpec>> {
        check_batch_size(items.len())?;
        items.iter().map(TaskSpec::from_json).collect()
    }
}

/// A plan or batch over [`MAX_PLAN_TASKS`] is refused whole: running its first tasks would
/// spend the time and memory the cap is there to bound.
pub(crate) fn check_batch_size(tasks: usize) -> Result<()> {
    if tasks > MAX_PLAN_TASKS {
        return Err(Error::plan(
            None,
            format!(
                "{tasks} tasks: a plan (or one submission to a run) holds at most \
                 {MAX_PLAN_TASKS} (the cap on tasks per plan)"
            ),
        ));
    }
    Ok(())
}

/// A whole plan, validated, with tasks in an order where dependencies come first.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Dependencies first.
    pub tasks: Vec<TaskSpec>,
}

impl Plan {
    /// A plan from `{"tasks": [...]}` or a bare list of tasks, validated.
    pub fn from_json(value: &Value) -> Result<Plan> {
        let list = match value {
            Value::Array(items) => items,
            Value::Object(map) => match map.get("tasks") {
                Some(Value::Array(items)) if map.len() == 1 => items,
                _ => {
                    return Err(Error::plan(
                        None,
                        "expected {\"tasks\": [...]} or a list of tasks",
                    ))
                }
            },
            _ => {
                return Err(Error::plan(
                    None,
                    "expected {\"tasks\": [...]} or a list of tasks",
                ))
            }
        };
        Self::new(TaskSpec::list_from_json(list)?)
    }

    /// [`Plan::from_json`] of JSON text.
    pub fn parse(text: &str) -> Result<Plan> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| Error::plan(None, format!("not JSON: {e}")))?;
        Self::from_json(&value)
    }

    /// Check ids are unique, references point at tasks of the plan, and there is no cycle.
    pub fn new(tasks: Vec<TaskSpec>) -> Result<Plan> {
        Ok(Plan {
            tasks: order(tasks, &HashSet::new())?,
        })
    }
}

/// Validate a batch of tasks that may reference each other and tasks in `known` (already
/// submitted), and return it in an order where every task follows its dependencies
/// (lowest id first among those ready).
pub(crate) fn order(tasks: Vec<TaskSpec>, known: &HashSet<u64>) -> Result<Vec<TaskSpec>> {
    let mut ids = HashSet::new();
    for t in &tasks {
        if known.contains(&t.id) || !ids.insert(t.id) {
            return Err(Error::plan(Some(t.id), "duplicate task id"));
        }
    }
    for t in &tasks {
        if let Some(missing) = t
            .deps
            .iter()
            .find(|d| !ids.contains(d) && !known.contains(d))
        {
            return Err(Error::plan(
                Some(t.id),
                format!("references task {missing}, which is not in the plan"),
            ));
        }
    }
    let mut pending: Vec<TaskSpec> = tasks;
    pending.sort_by_key(|t| t.id);
    let mut placed: HashSet<u64> = HashSet::new();
    let mut sorted = Vec::with_capacity(pending.len());
    // Repeated sweeps: plans are small (tens of tasks), so O(n^2) is cheaper than a graph.
    while !pending.is_empty() {
        let before = pending.len();
        let mut rest = Vec::with_capacity(pending.len());
        for t in pending {
            if t.deps
                .iter()
                .all(|d| known.contains(d) || placed.contains(d))
            {
                placed.insert(t.id);
                sorted.push(t);
            } else {
                rest.push(t);
            }
        }
        if rest.len() == before {
            let stuck: Vec<u64> = rest.iter().map(|t| t.id).collect();
            return Err(Error::plan(
                Some(stuck[0]),
                format!("dependency cycle among tasks {stuck:?}"),
            ));
        }
        pending = rest;
    }
    Ok(sorted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan(v: Value) -> Result<Plan> {
        Plan::from_json(&v)
    }

    fn message(r: Result<Plan>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn a_valid_plan_keeps_dependencies_first() {
        let p = plan(json!({"tasks": [
            {"id": 2, "tool": "read", "args": {"path": "$1.files[0].path"}},
            {"id": 1, "tool": "find_files", "args": {"query": "config"}},
        ]}))
        .unwrap();
        assert_eq!(p.tasks.iter().map(|t| t.id).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(p.tasks[1].deps, vec![1]);
    }

    #[test]
    fn an_unknown_tool_names_the_task() {
        let m = message(plan(json!([{"id": 3, "tool": "grepp", "args": {}}])));
        assert!(
            m.contains("task 3") && m.contains("unknown tool `grepp`"),
            "{m}"
        );
    }

    #[test]
    fn bad_arguments_name_the_task() {
        let m = message(plan(
            json!([{"id": 4, "tool": "grep", "args": {"patterns": "not-a-list"}}]),
        ));
        assert!(m.contains("task 4") && m.contains("grep"), "{m}");
    }

    #[test]
    fn a_reference_to_a_missing_task_is_refused() {
        let m = message(plan(
            json!([{"id": 1, "tool": "read", "args": {"path": "$7.files[0].path"}}]),
        ));
        assert!(m.contains("task 1") && m.contains("task 7"), "{m}");
    }

    #[test]
    fn cycles_are_refused() {
        let m = message(plan(json!([
            {"id": 1, "tool": "read", "args": {"path": "$2.path"}},
            {"id": 2, "tool": "read", "args": {"path": "$1.path"}},
            {"id": 3, "tool": "find_files", "args": {"query": "x"}},
        ])));
        assert!(m.contains("cycle") && m.contains("[1, 2]"), "{m}");
    }

    #[test]
    fn duplicate_ids_and_bad_ids_are_refused() {
        assert!(message(plan(json!([
            {"id": 1, "tool": "find_files", "args": {"query": "a"}},
            {"id": 1, "tool": "find_files", "args": {"query": "b"}},
        ])))
        .contains("duplicate"));
        assert!(
            message(plan(json!([{"id": 0, "tool": "find_files", "args": {}}])))
                .contains("positive integer")
        );
        assert!(
            message(plan(json!([{"id": "a", "tool": "find_files", "args": {}}])))
                .contains("positive integer")
        );
        assert!(message(plan(json!({"steps": []}))).contains("expected"));
    }
}
