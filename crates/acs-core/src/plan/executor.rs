//! The plan executor: runs every ready task at once on rayon's shared pool, fuses greps that
//! become ready together into one pass, substitutes references as results arrive, and
//! accepts tasks while earlier ones run (a planner can stream its plan in).
//!
//! Failure is contained: a failing task does not stop its independent siblings; its
//! dependents are skipped, with the reason. A panic inside a tool becomes that task's
//! `internal` error.
//!
//! Cancellation: [`PlanRun::cancel`] (or the deadline of the run's [`Cancel`]) stops the
//! run within a fraction of a second: running tools check it between files, tasks not yet
//! started end as `cancelled` errors (their dependents as skipped), and so do tasks
//! submitted afterwards. All results of one run together are capped at
//! [`MAX_PLAN_RESULT_BYTES`]: a task whose result would cross it fails.
//!
//! Memory: a batch holds at most [`MAX_PLAN_TASKS`] tasks and a run [`MAX_RUN_TASKS`]; at
//! most [`job_slots`] jobs of one run are in flight at once, the others wait in a queue
//! (where greps that wait together fuse into one pass). Without that bound every ready task
//! was spawned at once, and rayon workers waiting inside one job's parallel loop started
//! the others on top of it: 2,000 streamed greps were all in flight, each holding its
//! scan's matches (4.3 GB), although the results kept stayed under the cap.

use super::refs;
use super::{order, TaskSpec};
use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::index::repo::Repo;
use crate::limits::{MAX_PLAN_RESULT_BYTES, MAX_PLAN_TASKS, MAX_RUN_TASKS};
use crate::tools::grep::{grep_fused_cancellable, GrepRequest};
use crate::tools::{self, Tool};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::{HashMap, HashSet, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How a task ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The tool ran and returned a result.
    Ok,
    /// The tool failed, or the task was refused or cancelled.
    Error,
    /// Not run: a task it depends on failed or was skipped.
    Skipped,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ErrorInfo {
    /// Stable name of the error kind (see [`Error::kind`]).
    pub kind: String,
    pub message: String,
}

/// What became of one task.
#[derive(Clone, Debug, Serialize)]
pub struct TaskOutcome {
    /// The task's id, as submitted.
    pub id: u64,
    /// The tool it called.
    pub tool: Tool,
    /// How it ended.
    pub status: Status,
    /// The tool's result as JSON text: serialised once, embedded as is in reports, and
    /// parsed only when a later task references it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Box<RawValue>>,
    /// Why it failed or was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    /// The tasks it referenced.
    pub deps: Vec<u64>,
    /// Milliseconds from the start of the run: when the task was submitted, when it started.
    pub submitted_ms: f64,
    /// See `submitted_ms`.
    pub started_ms: f64,
    /// Wall time of the task itself (of the whole fused pass for a fused grep).
    pub elapsed_ms: f64,
    /// How many greps shared this task's pass over the files (1 when not fused).
    pub fused: usize,
}

/// Every outcome so far, in submission order.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// In submission order.
    pub tasks: Vec<Arc<TaskOutcome>>,
    /// False when a wait timed out before every submitted task finished.
    pub complete: bool,
    /// Milliseconds from the start of the run.
    pub elapsed_ms: f64,
}

struct State {
    specs: HashMap<u64, TaskSpec>,
    submitted: Vec<u64>,
    submitted_ms: HashMap<u64, f64>,
    /// Unfinished dependencies of each task that has not started yet.
    waiting: HashMap<u64, usize>,
    dependents: HashMap<u64, Vec<u64>>,
    outcomes: HashMap<u64, Arc<TaskOutcome>>,
    /// Bytes of the results kept so far (see [`MAX_PLAN_RESULT_BYTES`]).
    result_bytes: usize,
    /// Jobs ready to run, waiting for a slot (see [`job_slots`]).
    queued: VecDeque<Job>,
    /// Jobs spawned and not finished.
    running: usize,
}

/// Jobs of one run in flight at once: enough to keep every worker busy.
fn job_slots() -> usize {
    rayon::current_num_threads().max(2)
}

struct Shared {
    repo: Arc<Repo>,
    cancel: Cancel,
    start: Instant,
    state: Mutex<State>,
    changed: Condvar,
}

/// A running plan. Cheap to clone; all clones see the same run.
#[derive(Clone)]
pub struct PlanRun {
    shared: Arc<Shared>,
}

/// Run a whole validated plan and wait for it.
pub fn execute(repo: Arc<Repo>, plan: &super::Plan) -> RunReport {
    let run = PlanRun::new(repo);
    run.submit_many(plan.tasks.clone())
        .expect("a validated plan submits cleanly");
    run.wait_all(None)
}

enum Job {
    One(TaskSpec, Value),
    Greps(Vec<(TaskSpec, Value)>),
}

impl PlanRun {
    /// An empty run over `repo`, never cancelled unless [`PlanRun::cancel`] is called.
    pub fn new(repo: Arc<Repo>) -> PlanRun {
        Self::with_cancel(repo, Cancel::new())
    }

    /// A run that stops when `cancel` is set or its deadline passes.
    pub fn with_cancel(repo: Arc<Repo>, cancel: Cancel) -> PlanRun {
        let state = State {
            specs: HashMap::new(),
            submitted: Vec::new(),
            submitted_ms: HashMap::new(),
            waiting: HashMap::new(),
            dependents: HashMap::new(),
            outcomes: HashMap::new(),
            result_bytes: 0,
            queued: VecDeque::new(),
            running: 0,
        };
        PlanRun {
            shared: Arc::new(Shared {
                repo,
                cancel,
                start: Instant::now(),
                state: Mutex::new(state),
                changed: Condvar::new(),
            }),
        }
    }

    /// Stop the run: running tools stop between files, and every task not finished yet
    /// (or submitted later) ends as a `cancelled` error. Waiters wake up as tasks end.
    pub fn cancel(&self) {
        // Spawned jobs check the flag before they start; tasks still waiting on a
        // dependency are skipped when it ends cancelled.
        self.shared.cancel.cancel();
    }

    /// Whether the run was cancelled (or its deadline passed).
    pub fn is_cancelled(&self) -> bool {
        self.shared.cancel.is_cancelled()
    }

    fn now_ms(&self) -> f64 {
        self.shared.start.elapsed().as_secs_f64() * 1000.0
    }

    /// Submit one task; it may reference only tasks already submitted. It starts at once
    /// when its dependencies are done.
    pub fn submit(&self, spec: TaskSpec) -> Result<()> {
        self.submit_many(vec![spec])
    }

    /// Submit a batch that may reference itself and earlier tasks. Invalid batches are
    /// refused whole. Greps of the batch that are ready now run as one fused pass.
    pub fn submit_many(&self, specs: Vec<TaskSpec>) -> Result<()> {
        super::check_batch_size(specs.len())?;
        let now = self.now_ms();
        let mut state = lock(&self.shared.state);
        let total = state.submitted.len() + specs.len();
        if total > MAX_RUN_TASKS {
            return Err(Error::plan(
                None,
                format!(
                    "{total} tasks in this run: a run takes at most {MAX_RUN_TASKS} (the cap \
                     on tasks per run; each plan or submission, at most {MAX_PLAN_TASKS})"
                ),
            ));
        }
        let known: HashSet<u64> = state.specs.keys().copied().collect();
        let ordered = order(specs, &known)?;
        let mut ready = Vec::new();
        let mut failed_deps = Vec::new();
        for spec in ordered {
            let id = spec.id;
            let mut unfinished = 0;
            let mut failed = None;
            for d in &spec.deps {
                match state.outcomes.get(d) {
                    Some(o) if o.status != Status::Ok => failed = failed.or(Some(*d)),
                    Some(_) => {}
                    None => unfinished += 1,
                }
                state.dependents.entry(*d).or_default().push(id);
            }
            state.submitted.push(id);
            state.submitted_ms.insert(id, now);
            state.specs.insert(id, spec);
            if let Some(d) = failed {
                failed_deps.push((id, d));
            } else if unfinished == 0 {
                ready.push(id);
            } else {
                state.waiting.insert(id, unfinished);
            }
        }
        for (id, dep) in failed_deps {
            let skip = skipped(&state, id, dep, self.now_ms());
            ready.extend(finish(&mut state, skip));
        }
        self.dispatch(state, ready);
        Ok(())
    }

    /// Start `ready` tasks: substitute their references, group the greps, spawn the jobs.
    fn dispatch(&self, mut state: MutexGuard<'_, State>, mut ready: Vec<u64>) {
        let mut jobs = Vec::new();
        let mut greps = Vec::new();
        while let Some(id) = ready.pop() {
            let spec = state.specs[&id].clone();
            let resolved = match self.shared.cancel.check() {
                // Each referenced result is parsed once, however often the task names it.
                Ok(()) => {
                    let parsed: HashMap<u64, Value> = spec
                        .deps
                        .iter()
                        .filter_map(|&task| {
                            let raw = state.outcomes.get(&task)?.result.as_ref()?;
                            Some((task, serde_json::from_str(raw.get()).ok()?))
                        })
                        .collect();
                    refs::substitute(&spec.args, &|task| parsed.get(&task))
                }
                Err(e) => Err(e),
            };
            match resolved {
                Ok(args) if spec.tool == Tool::Grep => greps.push((spec, args)),
                Ok(args) => jobs.push(Job::One(spec, args)),
                Err(e) => {
                    let failed = outcome(
                        &spec,
                        state.submitted_ms[&id],
                        self.now_ms(),
                        0.0,
                        0,
                        Err(e),
                    );
                    ready.extend(finish(&mut state, failed));
                }
            }
        }
        if !greps.is_empty() {
            greps.sort_by_key(|(s, _)| s.id);
            jobs.push(Job::Greps(greps));
        }
        state.queued.extend(jobs);
        let start = startable(&mut state);
        drop(state);
        self.shared.changed.notify_all();
        for job in start {
            let run = self.clone();
            rayon::spawn(move || run.run_job(job));
        }
    }

    fn run_job(&self, job: Job) {
        let started = self.now_ms();
        let clock = Instant::now();
        let repo = &*self.shared.repo;
        let cancel = &self.shared.cancel;
        let (specs, results): (Vec<TaskSpec>, Vec<Result<Box<RawValue>>>) = match job {
            Job::One(spec, args) => {
                let r = guarded(|| spec.tool.run_raw_cancellable(repo, &args, cancel));
                (vec![spec], vec![r])
            }
            Job::Greps(batch) => {
                let (specs, args): (Vec<TaskSpec>, Vec<Value>) = batch.into_iter().unzip();
                let results = guarded(|| {
                    let parsed: Vec<Result<GrepRequest>> =
                        args.iter().map(|a| tools::parse(Tool::Grep, a)).collect();
                    let valid: Vec<&GrepRequest> =
                        parsed.iter().filter_map(|p| p.as_ref().ok()).collect();
                    let mut fused = grep_fused_cancellable(repo, &valid, cancel).into_iter();
                    Ok(parsed
                        .iter()
                        .map(|p| match p {
                            Ok(_) => fused
                                .next()
                                .unwrap_or_else(|| {
                                    Err(Error::Internal("fused grep lost a result".into()))
                                })
                                .and_then(tools::to_raw),
                            Err(e) => Err(e.clone()),
                        })
                        .collect::<Vec<_>>())
                });
                let results = match results {
                    Ok(r) => r,
                    Err(e) => specs.iter().map(|_| Err(e.clone())).collect(),
                };
                (specs, results)
            }
        };
        let elapsed = clock.elapsed().as_secs_f64() * 1000.0;
        let fused = specs.len();
        let mut state = lock(&self.shared.state);
        state.running -= 1;
        let mut ready = Vec::new();
        for (spec, mut result) in specs.iter().zip(results) {
            if let Ok(raw) = &result {
                let n = raw.get().len();
                if state.result_bytes + n > MAX_PLAN_RESULT_BYTES {
                    result = Err(Error::InvalidArgument(format!(
                        "the result ({n} bytes) would take this run's results over the cap of \
                         {MAX_PLAN_RESULT_BYTES} bytes per plan; it was dropped"
                    )));
                } else {
                    state.result_bytes += n;
                }
            }
            let o = outcome(
                spec,
                state.submitted_ms[&spec.id],
                started,
                elapsed,
                fused,
                result,
            );
            ready.extend(finish(&mut state, o));
        }
        self.dispatch(state, ready);
    }

    /// Wait for one task. `Ok(None)` on timeout; an error if no such task was submitted.
    pub fn wait(&self, id: u64, timeout: Option<Duration>) -> Result<Option<Arc<TaskOutcome>>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut state = lock(&self.shared.state);
        if !state.specs.contains_key(&id) {
            return Err(Error::InvalidArgument(format!(
                "no task {id} was submitted"
            )));
        }
        loop {
            if let Some(o) = state.outcomes.get(&id) {
                return Ok(Some(o.clone()));
            }
            state = match wait_until(&self.shared.changed, state, deadline) {
                Some(s) => s,
                None => return Ok(None),
            };
        }
    }

    /// Wait until every submitted task has finished (or the timeout passes).
    pub fn wait_all(&self, timeout: Option<Duration>) -> RunReport {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut state = lock(&self.shared.state);
        loop {
            if state.outcomes.len() == state.submitted.len() {
                return self.report(&state, true);
            }
            state = match wait_until(&self.shared.changed, state, deadline) {
                Some(s) => s,
                None => return self.report(&lock(&self.shared.state), false),
            };
        }
    }

    /// The outcomes so far, without waiting.
    pub fn snapshot(&self) -> RunReport {
        let state = lock(&self.shared.state);
        let complete = state.outcomes.len() == state.submitted.len();
        self.report(&state, complete)
    }

    fn report(&self, state: &State, complete: bool) -> RunReport {
        let tasks = state
            .submitted
            .iter()
            .filter_map(|id| state.outcomes.get(id).cloned())
            .collect();
        RunReport {
            tasks,
            complete,
            elapsed_ms: self.now_ms(),
        }
    }
}

/// Take the queued jobs that fit in the free slots, counted as running. Greps waiting in the
/// queue start together, as one fused pass.
fn startable(state: &mut State) -> Vec<Job> {
    let mut start = Vec::new();
    while state.running < job_slots() {
        let Some(job) = state.queued.pop_front() else {
            break;
        };
        let job = match job {
            Job::Greps(batch) => Job::Greps(fuse_queued_greps(&mut state.queued, batch)),
            one => one,
        };
        state.running += 1;
        start.push(job);
    }
    start
}

/// `batch` with the greps of `queued` that fit beside it (a fused pass of at most
/// [`MAX_PLAN_TASKS`] requests, as a plan's own); the rest stay queued, in order.
fn fuse_queued_greps(
    queued: &mut VecDeque<Job>,
    mut batch: Vec<(TaskSpec, Value)>,
) -> Vec<(TaskSpec, Value)> {
    let mut rest = VecDeque::with_capacity(queued.len());
    for job in queued.drain(..) {
        match job {
            Job::Greps(more) if batch.len() + more.len() <= MAX_PLAN_TASKS => batch.extend(more),
            other => rest.push_back(other),
        }
    }
    *queued = rest;
    batch.sort_by_key(|(s, _)| s.id);
    batch
}

/// Record an outcome; return the tasks that it made ready. Dependents of a failed task are
/// finished as skipped right away (recursively), whatever their other dependencies do.
fn finish(state: &mut State, done: TaskOutcome) -> Vec<u64> {
    let mut ready = Vec::new();
    let mut queue = vec![done];
    while let Some(o) = queue.pop() {
        let (id, ok) = (o.id, o.status == Status::Ok);
        if state.outcomes.contains_key(&id) {
            continue;
        }
        state.waiting.remove(&id);
        state.outcomes.insert(id, Arc::new(o));
        for dep in state.dependents.get(&id).cloned().unwrap_or_default() {
            if state.outcomes.contains_key(&dep) {
                continue;
            }
            if !ok {
                let at = state.outcomes[&id].started_ms + state.outcomes[&id].elapsed_ms;
                queue.push(skipped(state, dep, id, at));
            } else if let Some(n) = state.waiting.get_mut(&dep) {
                *n -= 1;
                if *n == 0 {
                    state.waiting.remove(&dep);
                    ready.push(dep);
                }
            }
        }
    }
    ready
}

/// The outcome of task `id`, skipped because its dependency `dep` failed or was skipped.
fn skipped(state: &State, id: u64, dep: u64, at_ms: f64) -> TaskOutcome {
    let why = match state.outcomes.get(&dep).map(|o| o.status) {
        Some(Status::Skipped) => format!("dependency {dep} was skipped"),
        _ => format!("dependency {dep} failed"),
    };
    outcome(
        &state.specs[&id],
        state.submitted_ms[&id],
        at_ms,
        0.0,
        0,
        Err(Error::Skipped(why)),
    )
}

fn outcome(
    spec: &TaskSpec,
    submitted_ms: f64,
    started_ms: f64,
    elapsed_ms: f64,
    fused: usize,
    r: Result<Box<RawValue>>,
) -> TaskOutcome {
    let (status, result, error) = match r {
        Ok(v) => (Status::Ok, Some(v), None),
        Err(e @ Error::Skipped(_)) => (
            Status::Skipped,
            None,
            Some(ErrorInfo {
                kind: e.kind().into(),
                message: e.to_string(),
            }),
        ),
        Err(e) => (
            Status::Error,
            None,
            Some(ErrorInfo {
                kind: e.kind().into(),
                message: e.to_string(),
            }),
        ),
    };
    TaskOutcome {
        id: spec.id,
        tool: spec.tool,
        status,
        result,
        error,
        deps: spec.deps.clone(),
        submitted_ms,
        started_ms,
        elapsed_ms,
        fused,
    }
}

/// Run `f`, turning a panic into an internal error so it cannot take the pool down.
pub fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let msg = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        Err(Error::Internal(msg))
    })
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn wait_until<'a, T>(
    cv: &Condvar,
    guard: MutexGuard<'a, T>,
    deadline: Option<Instant>,
) -> Option<MutexGuard<'a, T>> {
    match deadline {
        None => Some(cv.wait(guard).unwrap_or_else(|e| e.into_inner())),
        Some(d) => {
            let left = d.checked_duration_since(Instant::now())?;
            let (g, _) = cv
                .wait_timeout(guard, left)
                .unwrap_or_else(|e| e.into_inner());
            Some(g)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_internal_error() {
        let r: Result<()> = guarded(|| panic!("boom"));
        assert_eq!(r.unwrap_err(), Error::Internal("boom".into()));
        let r: Result<()> = guarded(|| panic!("{} {}", "formatted", 1));
        assert_eq!(r.unwrap_err(), Error::Internal("formatted 1".into()));
    }
}
