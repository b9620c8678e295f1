"""Localization metrics: strict Acc@k and Recall@k of the ranked lists, P/R/F1/F0.5 of the
confident set, line scores, aggregation, reliability (ECE, Brier)."""

from __future__ import annotations

import doctest

import pytest

import acs.task.metrics
from acs.errors import InvalidArgumentError
from acs.task.groundtruth import GroundTruth
from acs.task.metrics import (
    ACC_K,
    LEVELS,
    Prediction,
    acc_at_k,
    aggregate,
    calibration_pairs,
    line_scores,
    recall_at_k,
    reliability,
    score,
    set_scores,
)

RANKED = ["a", "b", "c", "d", "e", "f"]


def test_levels_and_ks():
    assert LEVELS == ("file", "module", "function", "line")
    assert ACC_K == {"file": (1, 3, 5), "module": (5, 10), "function": (5, 10)}


# -- Acc@k and Recall@k ------------------------------------------------------------------------


def test_acc_at_k_is_one_only_when_every_gold_item_is_in_the_top_k():
    gold = {"b", "d"}
    assert [acc_at_k(RANKED, gold, k) for k in (1, 2, 3, 4, 5)] == [0.0, 0.0, 0.0, 1.0, 1.0]


def test_acc_at_k_with_k_beyond_the_prediction_length():
    assert acc_at_k(["a"], {"a"}, 10) == 1.0
    assert acc_at_k(["a"], {"a", "z"}, 10) == 0.0


def test_recall_at_k_is_the_fraction_of_gold_in_the_top_k():
    gold = {"b", "d", "z"}
    assert [recall_at_k(RANKED, gold, k) for k in (1, 2, 4)] == [0.0, 1 / 3, 2 / 3]


def test_duplicate_gold_items_count_once():
    assert recall_at_k(["a"], ["a", "a", "b"], 1) == 0.5


@pytest.mark.parametrize("fn", [acc_at_k, recall_at_k])
def test_ranked_metrics_reject_empty_gold_and_k_below_one(fn):
    with pytest.raises(InvalidArgumentError, match="gold is empty"):
        fn(RANKED, set(), 1)
    with pytest.raises(InvalidArgumentError, match="k must be at least 1"):
        fn(RANKED, {"a"}, 0)


# -- set scores --------------------------------------------------------------------------------


def test_set_scores_by_hand():
    # 1 hit of 2 predicted, 3 gold: P = 1/2, R = 1/3, F1 = 2PR/(P+R) = 0.4,
    # F0.5 = 1.25PR/(0.25P+R) = (1.25/6)/(0.125+1/3) = 5/11
    scores = set_scores(["a", "b"], {"a", "c", "d"})
    assert scores == pytest.approx({"precision": 0.5, "recall": 1 / 3, "f1": 0.4, "f0.5": 5 / 11})


def test_set_scores_of_a_perfect_prediction_are_one():
    assert set_scores(["b", "a"], {"a", "b"}) == {
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
        "f0.5": 1.0,
    }


def test_set_scores_of_an_empty_prediction_are_zero():
    assert set_scores([], {"a"}) == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "f0.5": 0.0}


def test_set_scores_of_a_disjoint_prediction_are_zero():
    assert set_scores(["x"], {"a"}) == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "f0.5": 0.0}


def test_set_scores_with_another_beta_names_its_key():
    # P = 1, R = 1/2: F2 = 5PR/(4P+R) = 2.5/4.5
    scores = set_scores(["a"], {"a", "b"}, beta=2)
    assert set(scores) == {"precision", "recall", "f1", "f2"}
    assert scores["f2"] == pytest.approx(5 / 9)


def test_set_scores_reject_empty_gold():
    with pytest.raises(InvalidArgumentError, match="gold is empty"):
        set_scores(["a"], [])


# -- line scores -------------------------------------------------------------------------------


def test_line_scores_count_covered_lines_per_path():
    # predicted a.py:1-10 (10 lines); gold a.py:5-14 and b.py:1 (11 lines); common a.py:5-10 (6)
    scores = line_scores({"a.py": [(1, 10)]}, {"a.py": [(5, 14)], "b.py": [(1, 1)]})
    p, r = 6 / 10, 6 / 11
    assert scores == pytest.approx(
        {
            "precision": p,
            "recall": r,
            "f1": 2 * p * r / (p + r),
            "f0.5": 1.25 * p * r / (0.25 * p + r),
        }
    )


def test_line_scores_count_overlapping_predicted_ranges_once():
    scores = line_scores({"a.py": [(1, 4), (3, 6)]}, {"a.py": [(1, 6)]})
    assert (scores["precision"], scores["recall"]) == (1.0, 1.0)


def test_line_scores_same_lines_in_different_files_do_not_match():
    scores = line_scores({"a.py": [(1, 5)]}, {"b.py": [(1, 5)]})
    assert scores["recall"] == 0.0


def test_line_scores_of_no_predicted_lines_are_zero():
    assert line_scores({}, {"a.py": [(3, 3)]})["f1"] == 0.0


def test_line_scores_reject_empty_gold():
    with pytest.raises(InvalidArgumentError, match="gold is empty"):
        line_scores({"a.py": [(1, 1)]}, {})


# -- score -------------------------------------------------------------------------------------

GOLD = GroundTruth(
    files=("a.py", "b.py"),
    modules=("a.py:A",),
    functions=("a.py:A.f", "a.py:A.g"),
    lines={"a.py": ((10, 12),)},
)


def test_score_reports_every_metric_at_every_level():
    prediction = Prediction(
        files=("a.py", "c.py", "b.py"),
        modules=("a.py:A",),
        functions=("a.py:A.f", "a.py:B.h"),
        lines={"a.py": ((11, 14),)},
    )
    result = score(prediction, GOLD)
    assert set(result) == {"file", "module", "function", "line"}
    assert result["file"] == pytest.approx(
        {
            "acc@1": 0.0,
            "recall@1": 0.5,
            "acc@3": 1.0,
            "recall@3": 1.0,
            "acc@5": 1.0,
            "recall@5": 1.0,
            "precision": 2 / 3,
            "recall": 1.0,
            "f1": 0.8,
            "f0.5": 1.25 * (2 / 3) / (0.25 * 2 / 3 + 1),
        }
    )
    assert result["module"]["acc@5"] == 1.0 and result["module"]["precision"] == 1.0
    assert (result["function"]["acc@10"], result["function"]["recall@10"]) == (0.0, 0.5)
    assert set(result["line"]) == {"precision", "recall", "f1", "f0.5"}
    assert (result["line"]["precision"], result["line"]["recall"]) == (0.5, 2 / 3)


def test_ranked_metrics_read_the_whole_list_and_set_metrics_the_confident_set():
    # Ranked a, c, b; only a is confident. Gold a, b: both in the top 3 of the list, but the
    # confident set holds one of them and nothing else.
    prediction = Prediction(
        files=("a.py", "c.py", "b.py"),
        functions=("a.py:A.f", "a.py:A.g", "a.py:B.h"),
        modules=("a.py:A", "a.py:B"),
        confident_files=("a.py",),
        confident_functions=("a.py:B.h",),
        confident_modules=("a.py:B",),
    )
    result = score(prediction, GOLD)
    assert (result["file"]["acc@3"], result["file"]["recall@3"]) == (1.0, 1.0)
    assert (result["file"]["precision"], result["file"]["recall"]) == (1.0, 0.5)
    assert result["function"]["acc@5"] == 1.0
    assert result["function"]["precision"] == result["function"]["recall"] == 0.0
    assert result["module"]["acc@5"] == 1.0 and result["module"]["f1"] == 0.0


def test_without_confident_sets_the_whole_list_is_the_set():
    prediction = Prediction(files=("a.py", "c.py"))
    assert prediction.confident_set("file") == ("a.py", "c.py")
    assert score(prediction, GOLD)["file"]["precision"] == 0.5


def test_score_omits_levels_whose_gold_is_empty():
    gold = GroundTruth(files=("a.py",), lines={"a.py": ((3, 3),)})  # top-level code only
    assert set(score(Prediction(files=("a.py",)), gold)) == {"file", "line"}


def test_score_of_an_empty_prediction_is_zero_wherever_gold_exists():
    result = score(Prediction.empty(), GOLD)
    assert set(result) == {"file", "module", "function", "line"}
    assert all(value == 0.0 for metrics in result.values() for value in metrics.values())


# -- aggregate ---------------------------------------------------------------------------------


def test_aggregate_means_each_metric_over_the_instances_that_have_the_level():
    scores = [
        {"file": {"acc@1": 1.0, "f1": 0.5}, "function": {"acc@5": 1.0}},
        {"file": {"acc@1": 0.0, "f1": 0.25}},
        {"file": {"acc@1": 1.0, "f1": 0.0}, "function": {"acc@5": 0.0}},
    ]
    assert aggregate(scores) == {
        "file": {"acc@1": pytest.approx(2 / 3), "f1": 0.25, "n": 3},
        "function": {"acc@5": 0.5, "n": 2},
    }


def test_aggregate_orders_levels_as_levels():
    scores = [{"line": {"f1": 1.0}, "file": {"f1": 1.0}}]
    assert list(aggregate(scores)) == ["file", "line"]


def test_aggregate_of_nothing_is_empty():
    assert aggregate([]) == {}


# -- reliability -------------------------------------------------------------------------------


def test_reliability_by_hand():
    # Four items: scores 0.9 (gold), 0.8 (not), 0.15 (not), 1.0 (gold).
    # Bins of 0.1: [0.1, 0.2) holds 0.15; [0.8, 0.9) holds 0.8; [0.9, 1.0] holds 0.9 and 1.0.
    # ECE = 1/4 |0.15 - 0| + 1/4 |0.8 - 0| + 2/4 |0.95 - 1| = 0.0375 + 0.2 + 0.025 = 0.2625
    # Brier = (0.1² + 0.8² + 0.15² + 0²) / 4 = (0.01 + 0.64 + 0.0225) / 4 = 0.168125
    r = reliability([(0.9, 1), (0.8, 0), (0.15, 0), (1.0, 1)])
    assert r["n"] == 4 and len(r["bins"]) == 10
    filled = {(b["lo"], b["hi"]): (b["n"], b["score"], b["observed"]) for b in r["bins"] if b["n"]}
    assert filled == {
        (0.1, 0.2): (1, 0.15, 0.0),
        (0.8, 0.9): (1, 0.8, 0.0),
        (0.9, 1.0): (2, pytest.approx(0.95), 1.0),
    }
    empty = [b for b in r["bins"] if not b["n"]]
    assert len(empty) == 7 and all(b["score"] is b["observed"] is None for b in empty)
    assert r["ece"] == pytest.approx(0.2625)
    assert r["brier"] == pytest.approx(0.168125)


def test_a_perfectly_calibrated_score_has_no_calibration_error():
    pairs = [(0.25, 1)] + [(0.25, 0)] * 3 + [(1.0, 1)] * 2
    r = reliability(pairs)
    assert r["ece"] == pytest.approx(0.0)
    assert r["brier"] == pytest.approx((0.75**2 + 3 * 0.25**2) / 6)


def test_a_score_on_a_bin_edge_goes_in_the_bin_above():
    edges = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    r = reliability([(s, 0) for s in edges] + [(1.0, 0)])
    assert [b["n"] for b in r["bins"]] == [1] * 9 + [2]  # 1.0 shares the last bin


def test_reliability_of_nothing_has_no_errors_to_report():
    r = reliability([])
    assert (r["n"], r["ece"], r["brier"]) == (0, None, None)
    with pytest.raises(InvalidArgumentError):
        reliability([], bins=0)


def test_calibration_pairs_are_each_ranked_item_and_whether_it_is_gold():
    prediction = Prediction.from_result(RESULT)
    gold = GroundTruth(files=("b.py",), functions=("a.py:A.g",))
    assert calibration_pairs(prediction, gold) == {
        "file": [[1.0, 0], [0.5, 1]],
        "function": [[1.0, 0], [0.8, 0], [0.5, 1]],  # the duplicate A.f counts once
    }
    # A level without gold is not scored; one without scores (an old run) gives nothing.
    assert set(calibration_pairs(prediction, GroundTruth(files=("b.py",)))) == {"file"}
    assert calibration_pairs(Prediction(files=("a.py",)), gold) == {}


# -- Prediction --------------------------------------------------------------------------------

RESULT = {
    "files": [{"path": "a.py", "score": 1.0}, {"path": "b.py", "score": 0.5}],
    "functions": [
        {
            "path": "a.py",
            "name": "A.f",
            "kind": "method",
            "start_line": 3,
            "end_line": 9,
            "score": 1,
        },
        {
            "path": "b.py",
            "name": "run",
            "kind": "function",
            "start_line": 1,
            "end_line": 4,
            "score": 0.8,
        },
        {
            "path": "a.py",
            "name": "A.g",
            "kind": "method",
            "start_line": 11,
            "end_line": 12,
            "score": 0.5,
        },
        {
            "path": "a.py",
            "name": "A.f",
            "kind": "method",
            "start_line": 3,
            "end_line": 9,
            "score": 0.4,
        },
    ],
    "lines": [
        {"path": "a.py", "start": 11, "end": 12},
        {"path": "a.py", "start": 3, "end": 9},
        {"path": "b.py", "start": 1, "end": 4},
        {"path": "a.py", "start": 8, "end": 10},
    ],
    "stats": {"latency_ms": 1.0, "turns": 1, "tool_calls": 3, "calls_per_turn": [3]},
}


def test_prediction_from_result_keeps_rank_order_without_duplicates():
    prediction = Prediction.from_result(RESULT)
    assert prediction.files == ("a.py", "b.py")
    assert prediction.functions == ("a.py:A.f", "b.py:run", "a.py:A.g")
    assert prediction.modules == ("a.py:A", "b.py:run")
    assert prediction.lines == {"a.py": ((3, 12),), "b.py": ((1, 4),)}


def test_prediction_from_result_keeps_the_confident_items_per_list():
    flagged = {
        **RESULT,
        "files": [{**f, "confident": i == 0} for i, f in enumerate(RESULT["files"])],
        "functions": [{**f, "confident": f["name"] == "run"} for f in RESULT["functions"]],
    }
    prediction = Prediction.from_result(flagged)
    assert prediction.files == ("a.py", "b.py") and prediction.confident_files == ("a.py",)
    assert prediction.confident_functions == ("b.py:run",)
    assert prediction.confident_modules == ("b.py:run",)
    assert prediction.file_scores == (1.0, 0.5)
    assert prediction.function_scores == (1.0, 0.8, 0.5)  # the first of each function
    # A list whose items carry no flag is all confident (a model planner, an old result).
    unflagged = Prediction.from_result(RESULT)
    assert unflagged.confident_files is None and unflagged.confident_set("file") == ("a.py", "b.py")


def test_empty_prediction_has_nothing():
    assert Prediction.empty() == Prediction((), (), (), {})


def test_prediction_json_round_trip():
    prediction = Prediction.from_result(RESULT)
    data = prediction.to_json()
    assert data["lines"] == {"a.py": [[3, 12]], "b.py": [[1, 4]]}
    assert data["scores"] == {"files": [1.0, 0.5], "functions": [1.0, 0.8, 0.5]}
    assert "confident" not in data  # nothing was flagged
    assert Prediction.from_json(data) == prediction
    flagged = Prediction(files=("a.py", "b.py"), confident_files=("a.py",), file_scores=(1, 0.2))
    assert flagged.to_json()["confident"] == {"files": ["a.py"]}
    assert Prediction.from_json(flagged.to_json()) == flagged


def test_a_prediction_saved_before_confident_sets_loads_as_its_whole_list():
    # A row of results.jsonl as runs wrote it when the returned list was the cut set.
    old = {
        "files": ["a.py", "c.py"],
        "modules": ["a.py:A"],
        "functions": ["a.py:A.f"],
        "lines": {"a.py": [[10, 11]]},
    }
    prediction = Prediction.from_json(old)
    assert prediction.confident_files is None and prediction.file_scores is None
    assert prediction.to_json() == old  # written back unchanged
    result = score(prediction, GOLD)
    assert (result["file"]["precision"], result["file"]["recall"]) == (0.5, 0.5)
    assert calibration_pairs(prediction, GOLD) == {}


def test_docstring_examples():
    result = doctest.testmod(acs.task.metrics)
    assert result.attempted > 0 and result.failed == 0
