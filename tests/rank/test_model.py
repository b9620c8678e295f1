"""The shipped ranker: what it loads, what it refuses, and the shape of what it returns."""

from __future__ import annotations

from importlib import resources

import orjson
import pytest

import acs
from acs.errors import InvalidArgumentError
from acs.issue import parse_issue
from acs.policies.base import Turn
from acs.rank.calibration import calibrated
from acs.rank.features import FEATURES_VERSION, FILE_FEATURES, FUNCTION_FEATURES
from acs.rank.model import MODEL_RESOURCE, LearnedRanker, shipped


def model_text() -> str:
    return resources.files("acs.rank").joinpath("models", MODEL_RESOURCE).read_text()


def test_the_package_ships_a_small_model_of_this_feature_version():
    text = model_text()
    assert len(text.encode()) < 1_000_000
    model = shipped()
    assert model is not None
    # The engine may compute columns added after this model was trained; the model reads
    # its own, by name, and every one of them is computed.
    assert set(model.files.feature_names) <= set(FILE_FEATURES)
    assert set(model.functions.feature_names) <= set(FUNCTION_FEATURES)
    meta = orjson.loads(text)
    assert meta["features_version"] == FEATURES_VERSION
    assert meta["info"]["train_queries"] > 1000  # trained on mined data, not a toy


def test_a_model_of_another_feature_version_is_refused():
    meta = orjson.loads(model_text())
    meta["features_version"] = FEATURES_VERSION + 1
    with pytest.raises(InvalidArgumentError, match="features version"):
        LearnedRanker(orjson.dumps(meta).decode())


@pytest.mark.parametrize("text", ["", "[]", '{"files": {}}', '{"format": "acs-ranker"}'])
def test_a_file_that_is_not_a_model_is_refused_clearly(text):
    with pytest.raises(InvalidArgumentError, match=r"(ranker|gbdt) model"):
        LearnedRanker(text)


@pytest.mark.parametrize(
    ("part", "value"),
    [
        ("calibration", {"files": [1.0, 2.0], "functions": [1.0, 0.0, 0.0]}),
        ("calibration", {"files": [1.0, "x", 0.0], "functions": [1.0, 0.0, 0.0]}),
        ("confident", {"files": None, "functions": 0.3}),
        ("confident", {"files": 0.5}),
    ],
)
def test_a_model_with_malformed_calibration_is_refused_when_loaded(part, value):
    meta = orjson.loads(model_text())
    meta[part] = value
    with pytest.raises(InvalidArgumentError, match="ranker model"):
        LearnedRanker(orjson.dumps(meta).decode())


def test_calibration_keeps_the_ranking_order():
    meta = orjson.loads(model_text())
    for level in ("files", "functions"):
        a, b, _ = meta["calibration"][level]
        assert a + b > 0  # probabilities rise with the score within a query
    probs = calibrated([3.0, 1.0, -2.0], meta["calibration"]["files"])
    assert probs == sorted(probs, reverse=True) and all(0 < p < 1 for p in probs)


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    root = tmp_path_factory.mktemp("shop")
    (root / "shop").mkdir()
    (root / "shop" / "pricing.py").write_text(
        "def format_price(amount, currency):\n    return f'{amount:.2f}'\n\n\n"
        "def apply_discount(total, percent):\n    return total - total * percent / 100\n"
    )
    (root / "shop" / "cart.py").write_text(
        "from shop.pricing import apply_discount\n\n\nclass Cart:\n"
        "    def total(self):\n        return apply_discount(sum(self.items), self.percent)\n"
    )
    (root / "README.md").write_text("A shop. Prices, carts, discounts.\n")
    return acs.Repo.open(root)


def test_the_default_policy_ranks_with_calibrated_probabilities(shop):
    r = acs.localize(shop, "`format_price` ignores the currency argument", explain=True)
    assert r["files"][0]["path"] == "shop/pricing.py"
    assert r["functions"][0]["name"] == "format_price"
    for items in (r["files"], r["functions"]):
        scores = [f["score"] for f in items]
        assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
        assert items[0]["confident"]  # the best item is always in the confident set
        flags = [f["confident"] for f in items]
        assert flags == sorted(flags, reverse=True)  # the confident set is a head of the list
    assert "shop/pricing.py" in r["why"]


def test_the_hand_policy_is_the_joiner_baseline(shop):
    issue = "`format_price` ignores the currency argument"
    hand = acs.localize(shop, issue, policy="hand")
    assert hand["files"][0] == {"path": "shop/pricing.py", "score": 1.0, "confident": True}


def with_function_features(names_of: object) -> str:
    """The shipped model with its function ensemble's features renamed or reordered:
    `names_of(names)` gives the new list, each split reads its feature by its new place."""
    meta = orjson.loads(model_text())
    ensemble = meta["functions"]
    old = ensemble["features"]
    new = names_of(list(old))  # type: ignore[operator]
    place = {name: i for i, name in enumerate(new)}
    for tree in ensemble["trees"]:
        tree["split_feature"] = [place.get(old[f], f) for f in tree["split_feature"]]
    ensemble["features"] = new
    return orjson.dumps(meta).decode()


def test_a_model_reads_its_columns_by_name_in_any_order(shop):
    issue = "`apply_discount` gives the wrong total for a Cart"
    found = acs.localize(shop, issue, trajectory=True)
    turns = [Turn(t["tasks"], t["outcomes"]) for t in found["trajectory"]["turns"]]
    signals = parse_issue(issue)
    model = shipped()
    assert model is not None
    reordered = LearnedRanker(with_function_features(lambda names: names[::-1]))
    assert reordered.functions.feature_names != model.functions.feature_names
    want = model.rank(signals, turns, issue, 5, 10)
    assert want["functions"]
    assert reordered.rank(signals, turns, issue, 5, 10) == want


def test_a_model_that_reads_a_feature_this_acs_lacks_is_refused_naming_it_briefly():
    def rename(names: list[str]) -> list[str]:
        return [*names[:-1], "no_such_feature" + "x" * 10_000]

    with pytest.raises(InvalidArgumentError, match="no_such_feature") as e:
        LearnedRanker(with_function_features(rename))
    assert len(str(e.value)) < 300
