//! A gradient-boosted tree ensemble (trained by LightGBM, evaluated here): the learned
//! ranker's scores at inference, with no LightGBM in the process.
//!
//! The model file is JSON (`python/acs/rank/export.py` writes it from a LightGBM booster):
//!
//! ```json
//! {"format": "acs-gbdt", "version": 1,
//!  "features": ["bm25_file", "grep_hits"],
//!  "objective": "lambdarank",
//!  "trees": [
//!    {"num_leaves": 3, "split_feature": [0, 1], "threshold": [0.5, 2.0],
//!     "decision_type": [2, 10], "left_child": [1, -1], "right_child": [-2, -3],
//!     "leaf_value": [0.1, -0.2, 0.3]},
//!    {"num_leaves": 1, "split_feature": [], "threshold": [], "decision_type": [],
//!     "left_child": [], "right_child": [], "leaf_value": [0.05]}],
//!  "meta": {"anything": "the loader keeps opaque"}}
//! ```
//!
//! Each tree mirrors LightGBM's model text: internal node `i` splits on column
//! `split_feature[i]` at `threshold[i]`; a child `c >= 0` is internal node `c`, a child
//! `c < 0` is leaf `!c` (`~c`); node 0 is the root, and a tree of one leaf has no nodes.
//! A threshold may be the string `"inf"` or `"-inf"` (LightGBM splits at +inf: all but
//! NaN go left). `decision_type` is LightGBM's bit field: bit 0 categorical (refused: numeric splits
//! only), bit 1 default-left, bits 2–3 the missing type (0 None, 1 Zero, 2 NaN).
//!
//! [`TreeEnsemble::predict`] gives what LightGBM's own `predict(raw_score=True)` gives, bit
//! for bit: the same decisions and the same sum in the same order. A value goes left when
//! `value <= threshold` in `f64`, except that
//!
//! * as LightGBM's predictor does, values within ±1e-35 (`kZeroThreshold`) are read as 0;
//! * missing type None: NaN is read as 0;
//! * missing type Zero: 0 and NaN go the default direction;
//! * missing type NaN: NaN goes the default direction.
//!
//! Loading validates everything (array lengths, child indices, a tree shape with every
//! node reached once from the root, feature indices, finite numbers) and reports what is
//! wrong as [`Error::InvalidArgument`]; numbers are parsed exactly (correctly rounded), so
//! a value equal to a threshold in LightGBM is equal to it here.

use crate::error::{Error, Result};
use serde_json::value::RawValue;
use std::collections::{BTreeMap, HashSet};

/// The `format` a model file names.
pub(crate) const FORMAT: &str = "acs-gbdt";
/// The `version` of the layout this module reads and `export.py` writes.
pub(crate) const VERSION: u64 = 1;
/// LightGBM's upper bound on `num_leaves`.
pub(crate) const MAX_LEAVES: usize = 131_072;

/// LightGBM's `kZeroThreshold` (`1e-35f`, a float widened to a double): its predictor
/// drops values this close to zero from a row, so they read as 0.
const ZERO_THRESHOLD: f64 = 1e-35_f32 as f64;

/// Node flags. A node with none of them, the common case, is one comparison: NaN fails
/// `<=` and goes right.
const NAN_LEFT: u8 = 1;
const ZERO_MISSING: u8 = 2;
const ZERO_LEFT: u8 = 4;

/// A node of the flattened ensemble: a split, or a leaf. A leaf is a node whose children
/// are itself, so a walk can take a tree's depth in steps without testing for leaves
/// (several rows walk a tree at once, each step without a branch).
#[derive(Debug, Clone, Copy)]
struct Node {
    /// A split's threshold; a leaf's value.
    value: f64,
    feature: u32,
    flags: u8,
    /// Absolute indices into the node array: [left, right].
    children: [u32; 2],
}

impl Node {
    /// The next node for `v` (already zero-trimmed), without branches.
    #[inline(always)]
    fn next(&self, v: f64) -> usize {
        let nan = v.is_nan();
        let zero = (self.flags & ZERO_MISSING != 0) & (v == 0.0);
        let special = nan | zero;
        let special_left =
            (nan & (self.flags & NAN_LEFT != 0)) | (zero & (self.flags & ZERO_LEFT != 0));
        // NaN fails `<=`, so `special` only masks zeros of a Zero node.
        let left = (special & special_left) | (!special & (v <= self.value));
        self.children[usize::from(!left)] as usize
    }
}

/// Where a tree starts in the node array, and its depth (the most steps from the root to
/// a leaf; 0 for a tree of one leaf).
#[derive(Debug, Clone, Copy)]
struct Tree {
    root: u32,
    depth: u32,
    /// The first leaf: nodes from here on are leaves.
    leaves: u32,
}

/// Rows that walk a tree together: their steps are independent, so the processor
/// overlaps them instead of waiting on one chain of loads (8 measured best: 4 leaves
/// latency unhidden, 16 spills).
const BLOCK: usize = 8;

/// A validated, flattened tree ensemble. Cheap to share (`Send + Sync`, no interior
/// mutability); predicting allocates only its output and one copy of the rows.
#[derive(Debug, Clone)]
pub struct TreeEnsemble {
    features: Vec<String>,
    objective: Option<String>,
    meta: Option<String>,
    nodes: Vec<Node>,
    trees: Vec<Tree>,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidArgument(format!("gbdt model: {}", message.into()))
}

/// The raw fields of one tree, before validation.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTree<'a> {
    num_leaves: i64,
    split_feature: Vec<i64>,
    #[serde(borrow)]
    threshold: &'a RawValue,
    decision_type: Vec<i64>,
    left_child: Vec<i64>,
    right_child: Vec<i64>,
    #[serde(borrow)]
    leaf_value: &'a RawValue,
}

/// A JSON array of numbers parsed by the standard library, which rounds correctly
/// (serde_json's default float parsing may be one ulp off, enough to move a value that
/// sits exactly on a threshold to the other side). With `infinities`, the strings `"inf"`
/// and `"-inf"` stand for the infinities JSON cannot write (LightGBM does split at +inf:
/// everything but NaN goes left).
fn exact_floats(raw: &RawValue, what: &str, infinities: bool) -> Result<Vec<f64>, String> {
    let text = raw.get().trim();
    let inner = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .ok_or_else(|| format!("{what} is not an array of numbers"))?
        .trim();
    if inner.is_empty() {
        return Ok(Vec::new());
    }
    inner
        .split(',')
        .enumerate()
        .map(|(i, item)| {
            let item = item.trim();
            // JSON numbers only: the standard parser also takes `inf`, `+1` and `NaN`.
            let json_number = item
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'e' | b'E' | b'+'))
                && item.starts_with(|c: char| c == '-' || c.is_ascii_digit());
            let value = if json_number {
                item.parse::<f64>().ok()
            } else {
                None
            };
            let value = match item {
                r#""inf""# if infinities => Some(f64::INFINITY),
                r#""-inf""# if infinities => Some(f64::NEG_INFINITY),
                _ => value,
            };
            match value {
                Some(v) if v.is_finite() || (infinities && item.starts_with('"')) => Ok(v),
                Some(_) => Err(format!("{what}[{i}] = {item} is not a finite number")),
                None => Err(format!("{what}[{i}] = {item} is not a number")),
            }
        })
        .collect()
}

fn field<'a, T: serde::Deserialize<'a>>(
    fields: &BTreeMap<&str, &'a RawValue>,
    name: &str,
) -> Result<Option<T>> {
    fields
        .get(name)
        .copied()
        .map(|raw: &'a RawValue| {
            serde_json::from_str(raw.get()).map_err(|e| invalid(format!("field `{name}`: {e}")))
        })
        .transpose()
}

impl TreeEnsemble {
    /// Parse and validate a model file (see the module documentation for the layout).
    pub fn from_json(text: &str) -> Result<TreeEnsemble> {
        let fields: BTreeMap<&str, &RawValue> =
            serde_json::from_str(text).map_err(|e| invalid(format!("not a JSON object: {e}")))?;
        // Format and version first, so that a newer file says so rather than failing on a
        // field this version does not know.
        match field::<String>(&fields, "format")? {
            Some(f) if f == FORMAT => {}
            Some(f) => return Err(invalid(format!("format is {f:?}, expected {FORMAT:?}"))),
            None => return Err(invalid(format!("no `format` field (expected {FORMAT:?})"))),
        }
        match field::<u64>(&fields, "version")? {
            Some(VERSION) => {}
            Some(v) => {
                return Err(invalid(format!(
                    "version {v} is not supported (this acs reads version {VERSION})"
                )))
            }
            None => return Err(invalid("no `version` field")),
        }
        const KNOWN: [&str; 6] = [
            "format",
            "version",
            "features",
            "objective",
            "trees",
            "meta",
        ];
        if let Some(unknown) = fields.keys().find(|k| !KNOWN.contains(k)) {
            return Err(invalid(format!(
                "unknown field `{unknown}` (expected one of {})",
                KNOWN.join(", ")
            )));
        }
        let features: Vec<String> =
            field(&fields, "features")?.ok_or_else(|| invalid("no `features` field"))?;
        let mut seen = HashSet::new();
        if let Some(dup) = features.iter().find(|f| !seen.insert(f.as_str())) {
            return Err(invalid(format!("feature {dup:?} is named twice")));
        }
        let objective: Option<String> = field(&fields, "objective")?;
        let meta = match fields.get("meta") {
            None => None,
            Some(raw) if raw.get().trim_start().starts_with('{') => Some(raw.get().to_string()),
            Some(raw) if raw.get().trim() == "null" => None,
            Some(_) => return Err(invalid("`meta` is not an object")),
        };
        let trees: Vec<RawTree> =
            field(&fields, "trees")?.ok_or_else(|| invalid("no `trees` field"))?;
        let mut ensemble = TreeEnsemble {
            features,
            objective,
            meta,
            nodes: Vec::new(),
            trees: Vec::with_capacity(trees.len()),
        };
        for (t, tree) in trees.iter().enumerate() {
            ensemble
                .add_tree(tree)
                .map_err(|e| invalid(format!("tree {t}: {e}")))?;
        }
        Ok(ensemble)
    }

    fn add_tree(&mut self, tree: &RawTree) -> Result<(), String> {
        let num_leaves = usize::try_from(tree.num_leaves)
            .ok()
            .filter(|n| (1..=MAX_LEAVES).contains(n))
            .ok_or_else(|| {
                format!(
                    "num_leaves = {} is not in 1..={MAX_LEAVES}",
                    tree.num_leaves
                )
            })?;
        let internal = num_leaves - 1;
        let threshold = exact_floats(tree.threshold, "threshold", true)?;
        let leaf_value = exact_floats(tree.leaf_value, "leaf_value", false)?;
        for (name, len) in [
            ("split_feature", tree.split_feature.len()),
            ("threshold", threshold.len()),
            ("decision_type", tree.decision_type.len()),
            ("left_child", tree.left_child.len()),
            ("right_child", tree.right_child.len()),
        ] {
            if len != internal {
                return Err(format!(
                    "{name} has {len} entries, expected num_leaves - 1 = {internal}"
                ));
            }
        }
        if leaf_value.len() != num_leaves {
            return Err(format!(
                "leaf_value has {} entries, expected num_leaves = {num_leaves}",
                leaf_value.len()
            ));
        }
        // Internal nodes at `base..base + internal`, then the leaves.
        let base = self.nodes.len();
        if base + internal + num_leaves > u32::MAX as usize {
            return Err("too many nodes in the ensemble".into());
        }
        if internal == 0 {
            self.push_leaves(&leaf_value);
            self.trees.push(Tree {
                root: base as u32,
                depth: 0,
                leaves: base as u32,
            });
            return Ok(());
        }

        // Every node but the root, and every leaf, has exactly one parent; with every node
        // reached from the root, the tree is a tree (no cycle, no orphan), so a walk ends
        // within `internal` steps.
        let mut node_parents = vec![0u8; internal];
        let mut leaf_parents = vec![0u8; num_leaves];
        let child = |side: &str, i: usize, c: i64| -> Result<u32, String> {
            if c >= 0 {
                if c == 0 || c as usize >= internal {
                    return Err(format!(
                        "{side}_child[{i}] = {c} is not a node in 1..{internal}"
                    ));
                }
                Ok((base + c as usize) as u32)
            } else {
                let leaf = !c;
                if leaf as usize >= num_leaves {
                    return Err(format!(
                        "{side}_child[{i}] = {c} is leaf {leaf}, not in 0..{num_leaves}"
                    ));
                }
                Ok((base + internal + leaf as usize) as u32)
            }
        };
        let mut nodes = Vec::with_capacity(internal);
        for (i, &threshold) in threshold.iter().enumerate() {
            let f = tree.split_feature[i];
            if f < 0 || f as usize >= self.features.len() {
                return Err(format!(
                    "split_feature[{i}] = {f} is not a feature index in 0..{}",
                    self.features.len()
                ));
            }
            let d = tree.decision_type[i];
            if !(0..16).contains(&d) {
                return Err(format!("decision_type[{i}] = {d} is not in 0..16"));
            }
            if d & 1 != 0 {
                return Err(format!(
                    "decision_type[{i}] = {d} is a categorical split; only numeric splits are supported"
                ));
            }
            let default_left = d & 2 != 0;
            let flags = match (d >> 2) & 3 {
                // None: NaN reads as 0.
                0 => {
                    if 0.0 <= threshold {
                        NAN_LEFT
                    } else {
                        0
                    }
                }
                // Zero: 0 and NaN go the default way.
                1 => {
                    ZERO_MISSING
                        | if default_left {
                            NAN_LEFT | ZERO_LEFT
                        } else {
                            0
                        }
                }
                // NaN: NaN goes the default way.
                2 => {
                    if default_left {
                        NAN_LEFT
                    } else {
                        0
                    }
                }
                m => {
                    return Err(format!(
                        "decision_type[{i}] = {d} has missing type {m}, not 0 (None), 1 (Zero) or 2 (NaN)"
                    ))
                }
            };
            let (l, r) = (tree.left_child[i], tree.right_child[i]);
            for c in [l, r] {
                let count = if c >= 0 {
                    node_parents.get_mut(c as usize)
                } else {
                    leaf_parents.get_mut(!c as usize)
                };
                if let Some(count) = count {
                    *count = count.saturating_add(1);
                }
            }
            nodes.push(Node {
                value: threshold,
                feature: f as u32,
                flags,
                children: [child("left", i, l)?, child("right", i, r)?],
            });
        }
        if let Some(n) = node_parents.iter().skip(1).position(|&p| p != 1) {
            return Err(format!(
                "node {} is the child of {} nodes, expected exactly 1",
                n + 1,
                node_parents[n + 1]
            ));
        }
        if let Some(l) = leaf_parents.iter().position(|&p| p != 1) {
            return Err(format!(
                "leaf {l} is the child of {} nodes, expected exactly 1",
                leaf_parents[l]
            ));
        }
        // One parent each (the root none, checked above: no child is 0): walk from the
        // root; nodes it does not reach form a cycle of their own.
        let mut reached = 0usize;
        let mut depth = 0usize;
        let mut stack = vec![(0usize, 1usize)];
        while let Some((n, d)) = stack.pop() {
            reached += 1;
            if reached > internal {
                return Err("the nodes form a cycle".into());
            }
            depth = depth.max(d);
            for c in [tree.left_child[n], tree.right_child[n]] {
                if c >= 0 {
                    stack.push((c as usize, d + 1));
                }
            }
        }
        if reached != internal {
            return Err(format!(
                "{} of {internal} nodes are not reached from the root (a cycle)",
                internal - reached
            ));
        }
        self.nodes.extend(nodes);
        self.push_leaves(&leaf_value);
        self.trees.push(Tree {
            root: base as u32,
            depth: depth as u32,
            leaves: (base + internal) as u32,
        });
        Ok(())
    }

    /// Leaves as nodes that lead to themselves.
    fn push_leaves(&mut self, values: &[f64]) {
        for &value in values {
            let me = self.nodes.len() as u32;
            self.nodes.push(Node {
                value,
                feature: 0,
                flags: 0,
                children: [me, me],
            });
        }
    }

    /// The feature names, in column order.
    pub fn feature_names(&self) -> &[String] {
        &self.features
    }

    /// The number of trees (iterations of boosting).
    pub fn num_trees(&self) -> usize {
        self.trees.len()
    }

    /// The objective the model was trained with, as the exporter recorded it.
    pub fn objective(&self) -> Option<&str> {
        self.objective.as_deref()
    }

    /// The `meta` object exactly as the file wrote it, or `None`.
    pub fn meta_json(&self) -> Option<&str> {
        self.meta.as_deref()
    }

    /// Raw scores of `n_rows` rows given row-major in `rows` (`n_rows * features` values,
    /// NaN for missing): the sum of every tree's leaf, in tree order, from 0.
    pub fn predict(&self, rows: &[f64], n_rows: usize) -> Result<Vec<f64>> {
        let width = self.features.len();
        if n_rows.checked_mul(width) != Some(rows.len()) {
            return Err(Error::InvalidArgument(format!(
                "gbdt predict: {} values for {n_rows} rows of {width} features",
                rows.len()
            )));
        }
        // As LightGBM's predictor: values within ±kZeroThreshold are absent, i.e. 0.
        let values: Vec<f64> = rows
            .iter()
            .map(|&v| if v.abs() <= ZERO_THRESHOLD { 0.0 } else { v })
            .collect();
        let mut out = vec![0.0f64; n_rows];
        // Tree by tree, so one tree's nodes stay in cache across the rows; each row's sum
        // still runs in tree order, as LightGBM's does.
        for tree in &self.trees {
            if tree.depth == 0 {
                let leaf = self.nodes[tree.root as usize].value;
                out.iter_mut().for_each(|o| *o += leaf);
                continue;
            }
            // depth > 0: the tree splits, so there is at least one feature.
            let mut blocks = out.chunks_exact_mut(BLOCK);
            let mut block_rows = values.chunks_exact(BLOCK * width);
            for (o, rows) in (&mut blocks).zip(&mut block_rows) {
                self.walk::<BLOCK>(*tree, rows, width, o);
            }
            let rest = blocks.into_remainder();
            let rest_rows = block_rows.remainder();
            for (o, row) in rest.chunks_exact_mut(1).zip(rest_rows.chunks_exact(width)) {
                self.walk::<1>(*tree, row, width, o);
            }
        }
        Ok(out)
    }

    /// Add to `out[k]` the leaf value that row `k` of `rows` reaches in `tree`, for `K`
    /// rows: steps until all `K` stand on leaves (a leaf leads to itself), at most the
    /// tree's depth. Stopping early saves a fifth of the steps on a LambdaMART model of
    /// 31 leaves (their paths are about half the depth); testing for a leaf per row and
    /// step would cost a mispredicted branch per walk instead.
    #[inline(always)]
    fn walk<const K: usize>(&self, tree: Tree, rows: &[f64], width: usize, out: &mut [f64]) {
        let mut at = [tree.root as usize; K];
        for _ in 0..tree.depth {
            for (k, n) in at.iter_mut().enumerate() {
                let node = &self.nodes[*n];
                *n = node.next(rows[k * width + node.feature as usize]);
            }
            if at.iter().all(|&n| n >= tree.leaves as usize) {
                break;
            }
        }
        for (o, n) in out.iter_mut().zip(at) {
            *o += self.nodes[n].value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NAN: f64 = f64::NAN;

    fn model(features: &[&str], trees: serde_json::Value) -> serde_json::Value {
        json!({"format": "acs-gbdt", "version": 1, "features": features, "trees": trees})
    }

    fn load(v: &serde_json::Value) -> Result<TreeEnsemble> {
        TreeEnsemble::from_json(&v.to_string())
    }

    fn leaf(value: f64) -> serde_json::Value {
        json!({"num_leaves": 1, "split_feature": [], "threshold": [], "decision_type": [],
               "left_child": [], "right_child": [], "leaf_value": [value]})
    }

    /// One split on feature 0 at `threshold`: leaf 0 (value -1) left, leaf 1 (value 1) right.
    fn stump(threshold: f64, decision_type: i64) -> serde_json::Value {
        json!({"num_leaves": 2, "split_feature": [0], "threshold": [threshold],
               "decision_type": [decision_type], "left_child": [-1], "right_child": [-2],
               "leaf_value": [-1.0, 1.0]})
    }

    fn error(v: &serde_json::Value) -> String {
        match load(v) {
            Err(Error::InvalidArgument(m)) => m,
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }

    #[test]
    fn walks_a_tree_with_le_comparisons_and_sums_trees_in_order() {
        // node 0: x0 <= 0.5 ? node 1 : leaf 2; node 1: x1 <= 2 ? leaf 0 : leaf 1.
        let tree = json!({"num_leaves": 3, "split_feature": [0, 1], "threshold": [0.5, 2.0],
            "decision_type": [0, 0], "left_child": [1, -1], "right_child": [-3, -2],
            "leaf_value": [10.0, 20.0, 30.0]});
        let m = load(&model(&["a", "b"], json!([tree, leaf(0.25)]))).unwrap();
        assert_eq!(m.num_trees(), 2);
        assert_eq!(m.feature_names(), ["a", "b"]);
        let rows = [0.5, 2.0, 0.5, 2.5, 0.6, 0.0, -1.0, -1.0];
        assert_eq!(m.predict(&rows, 4).unwrap(), [10.25, 20.25, 30.25, 10.25]);
        assert!(m.predict(&rows, 3).is_err());
        assert_eq!(m.predict(&[], 0).unwrap(), Vec::<f64>::new());
    }

    #[test]
    fn missing_values_follow_lightgbm() {
        let predict = |threshold: f64, decision_type: i64, v: f64| {
            let m = load(&model(&["x"], json!([stump(threshold, decision_type)]))).unwrap();
            m.predict(&[v], 1).unwrap()[0]
        };
        // None (0, default bit ignored): NaN reads as 0.
        for dt in [0, 2] {
            assert_eq!(predict(0.5, dt, NAN), -1.0);
            assert_eq!(predict(-0.5, dt, NAN), 1.0);
            assert_eq!(predict(0.0, dt, NAN), -1.0);
            assert_eq!(predict(-0.5, dt, 0.0), 1.0);
        }
        // Zero: 0 and NaN go the default way, other values compare.
        for (dt, default) in [(4, 1.0), (6, -1.0)] {
            assert_eq!(predict(-0.5, dt, NAN), default);
            assert_eq!(predict(-0.5, dt, 0.0), default);
            assert_eq!(predict(-0.5, dt, -0.0), default);
            assert_eq!(predict(0.5, dt, 0.0), default);
            assert_eq!(predict(0.5, dt, 1e-36), default);
            assert_eq!(predict(0.5, dt, 0.25), -1.0);
            assert_eq!(predict(0.5, dt, 0.75), 1.0);
        }
        // NaN: NaN goes the default way, 0 compares.
        for (dt, default) in [(8, 1.0), (10, -1.0)] {
            assert_eq!(predict(-0.5, dt, NAN), default);
            assert_eq!(predict(0.5, dt, NAN), default);
            assert_eq!(predict(-0.5, dt, 0.0), 1.0);
            assert_eq!(predict(0.5, dt, 0.0), -1.0);
        }
        // Values within LightGBM's zero threshold read as 0; infinities compare.
        assert_eq!(predict(1e-38, 0, 1e-36), -1.0);
        assert_eq!(predict(1e-38, 0, 2e-35), 1.0);
        assert_eq!(predict(1e300, 0, f64::INFINITY), 1.0);
        assert_eq!(predict(-1e300, 0, f64::NEG_INFINITY), -1.0);
        // An infinite threshold, written as a string.
        let text = model(&["x"], json!([stump(0.0, 8)]))
            .to_string()
            .replace("\"threshold\":[0.0]", "\"threshold\":[\"inf\"]");
        let m = TreeEnsemble::from_json(&text).unwrap();
        assert_eq!(m.nodes[0].value, f64::INFINITY);
        assert_eq!(
            m.predict(&[1e308, f64::INFINITY, NAN], 3).unwrap(),
            [-1.0, -1.0, 1.0]
        );
        let text = text.replace("\"inf\"", "\"-inf\"");
        let m = TreeEnsemble::from_json(&text).unwrap();
        assert_eq!(
            m.predict(&[-1e308, f64::NEG_INFINITY], 2).unwrap(),
            [1.0, -1.0]
        );
        for bad in ["\"nan\"", "\"Infinity\"", "1e999"] {
            assert!(TreeEnsemble::from_json(&text.replace("\"-inf\"", bad)).is_err());
        }
    }

    #[test]
    fn thresholds_are_parsed_exactly() {
        // 0.1 + 0.2 != 0.3: a value just above a threshold must not round onto it.
        let t = 0.30000000000000004_f64;
        let text = format!(
            r#"{{"format": "acs-gbdt", "version": 1, "features": ["x"], "trees": [
            {{"num_leaves": 2, "split_feature": [0], "threshold": [{t:?}],
              "decision_type": [0], "left_child": [-1], "right_child": [-2],
              "leaf_value": [-1, 1e0]}}]}}"#
        );
        let m = TreeEnsemble::from_json(&text).unwrap();
        assert_eq!(m.predict(&[0.1 + 0.2, 0.3], 2).unwrap(), [-1.0, -1.0]);
        assert_eq!(
            m.predict(&[f64::from_bits(t.to_bits() + 1)], 1).unwrap(),
            [1.0]
        );
        // A 17-digit threshold serde_json alone might round differently.
        for bits in [
            0x3fb999999999999a_u64,
            0x400921fb54442d18,
            0x3e112e0be826d695,
        ] {
            let x = f64::from_bits(bits);
            let text = text.replace(&format!("{t:?}"), &format!("{x:.17e}"));
            let m = TreeEnsemble::from_json(&text).unwrap();
            assert_eq!(m.nodes[0].value.to_bits(), bits);
        }
    }

    #[test]
    fn single_leaf_trees_and_no_features() {
        let m = load(&model(&[], json!([leaf(1.5), leaf(-0.5)]))).unwrap();
        assert_eq!(m.predict(&[], 3).unwrap(), [1.0, 1.0, 1.0]);
        let m = load(&model(&["x"], json!([]))).unwrap();
        assert_eq!(m.predict(&[1.0, NAN], 2).unwrap(), [0.0, 0.0]);
    }

    #[test]
    fn meta_and_objective_are_kept() {
        let mut v = model(&["x"], json!([leaf(1.0)]));
        v["meta"] = json!({"calibration": {"a": 1.5, "b": -2}, "features_version": 3});
        v["objective"] = json!("lambdarank");
        let m = load(&v).unwrap();
        let meta: serde_json::Value = serde_json::from_str(m.meta_json().unwrap()).unwrap();
        assert_eq!(meta, v["meta"]);
        assert_eq!(m.objective(), Some("lambdarank"));
        assert_eq!(load(&model(&["x"], json!([]))).unwrap().meta_json(), None);
        v["meta"] = json!([1]);
        assert!(error(&v).contains("`meta` is not an object"));
    }

    #[test]
    fn malformed_files_are_invalid_arguments() {
        let ok_tree = json!({"num_leaves": 3, "split_feature": [0, 0], "threshold": [0.5, 2.0],
            "decision_type": [0, 0], "left_child": [1, -1], "right_child": [-3, -2],
            "leaf_value": [1.0, 2.0, 3.0]});
        assert!(load(&model(&["x"], json!([ok_tree.clone()]))).is_ok());
        let with = |key: &str, value: serde_json::Value| {
            let mut t = ok_tree.clone();
            t[key] = value;
            model(&["x"], json!([leaf(0.0), t]))
        };
        let cases = [
            (
                with("split_feature", json!([0, 1])),
                "tree 1: split_feature[1] = 1",
            ),
            (
                with("split_feature", json!([0, -1])),
                "split_feature[1] = -1",
            ),
            (
                with("split_feature", json!([0])),
                "split_feature has 1 entries",
            ),
            (with("threshold", json!([0.5])), "threshold has 1 entries"),
            (
                with("threshold", json!([0.5, "a"])),
                "threshold[1] = \"a\" is not a number",
            ),
            (with("threshold", json!([0.5, null])), "threshold[1] = null"),
            (with("threshold", json!([0.5, [1]])), "is not a number"),
            (
                with("threshold", json!({"a": 1})),
                "threshold is not an array",
            ),
            (
                with("leaf_value", json!([1.0, 2.0])),
                "leaf_value has 2 entries",
            ),
            (with("decision_type", json!([1, 0])), "categorical split"),
            (with("decision_type", json!([12, 0])), "missing type 3"),
            (
                with("decision_type", json!([0, 99])),
                "decision_type[1] = 99",
            ),
            (
                with("left_child", json!([2, -1])),
                "left_child[0] = 2 is not a node",
            ),
            (
                with("left_child", json!([0, -1])),
                "left_child[0] = 0 is not a node",
            ),
            (
                with("right_child", json!([-2, -2])),
                "leaf 1 is the child of 2 nodes",
            ),
            (
                with("right_child", json!([-4, -2])),
                "right_child[0] = -4 is leaf 3",
            ),
            (
                with("left_child", json!([1, 1])),
                "node 1 is the child of 2 nodes",
            ),
            (with("num_leaves", json!(0)), "num_leaves = 0"),
            (with("num_leaves", json!(-3)), "num_leaves = -3"),
            (with("num_leaves", json!(1 << 20)), "num_leaves = 1048576"),
            (with("extra", json!(1)), "unknown field `extra`"),
        ];
        for (v, expected) in cases {
            let message = error(&v);
            assert!(message.contains(expected), "{message:?} lacks {expected:?}");
        }
        // A cycle among non-root nodes: 1 -> 2 -> 1, unreachable from the root.
        let cycle = json!({"num_leaves": 4, "split_feature": [0, 0, 0],
            "threshold": [0.0, 0.0, 0.0], "decision_type": [0, 0, 0],
            "left_child": [-1, 2, 1], "right_child": [-2, -3, -4],
            "leaf_value": [1.0, 2.0, 3.0, 4.0]});
        assert!(error(&model(&["x"], json!([cycle]))).contains("not reached from the root"));
        // Numbers JSON cannot hold, and overflowing ones.
        let big = r#"{"format": "acs-gbdt", "version": 1, "features": ["x"], "trees": [
            {"num_leaves": 1, "split_feature": [], "threshold": [], "decision_type": [],
             "left_child": [], "right_child": [], "leaf_value": [1e400]}]}"#;
        let e = TreeEnsemble::from_json(big).unwrap_err().to_string();
        assert!(
            e.contains("leaf_value[0] = 1e400 is not a finite number"),
            "{e}"
        );
        assert!(TreeEnsemble::from_json(&big.replace("1e400", "NaN")).is_err());

        let mut v = model(&["x", "x"], json!([]));
        assert!(error(&v).contains("\"x\" is named twice"));
        v = model(&["x"], json!([]));
        v["version"] = json!(2);
        assert!(error(&v).contains("version 2 is not supported"));
        v["version"] = json!(1);
        v["format"] = json!("xgboost");
        assert!(error(&v).contains("format is \"xgboost\""));
        for text in ["", "[]", "{", "null", r#"{"format": "acs-gbdt"}"#] {
            assert!(matches!(
                TreeEnsemble::from_json(text),
                Err(Error::InvalidArgument(_))
            ));
        }
        let no_trees = r#"{"format": "acs-gbdt", "version": 1, "features": []}"#;
        assert!(TreeEnsemble::from_json(no_trees)
            .unwrap_err()
            .to_string()
            .contains("no `trees` field"));
    }
}
