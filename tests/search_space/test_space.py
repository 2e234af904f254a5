"""The searchable space and the FLOP budget: sampling in budget, parameters <-> spec, YAML."""
from __future__ import annotations

import random

import pytest

from search.keras_tuner_engine import keras_tuner_hyperparameters
from search.ray_engine import tune_param_space
from search.searcher import BudgetSearcher
from search_space import (
    Budget,
    SearchSpace,
    SpecError,
    UserError,
    check_budget_feasible,
    count_flops,
    preset,
)


def test_space_samples_only_valid_in_budget_specs():
    space = SearchSpace()
    budget = Budget.parse("0.03:0.06")
    searcher = BudgetSearcher(space, budget, num_classes=6, seed=1)
    for i in range(40):
        params = searcher.suggest(f"t{i}")
        spec = space.to_spec(params)
        assert 0.03 <= count_flops(spec, num_classes=6).gflops <= 0.06
        assert space.to_spec(space.to_params(spec)) == spec  # round trip spec -> params -> spec
    assert searcher.rejected and all(not 0.03 <= r["gflops"] <= 0.06 for r in searcher.rejected)


def test_prefiltered_sampling_trains_the_best_scored_draw_and_records_the_others():
    space, budget = SearchSpace(), Budget.parse("0.03:0.06")
    def depth(params):  # a stand-in score: total layers
        return float(sum(len(block.layers) for block in space.to_spec(params).blocks))

    searcher = BudgetSearcher(space, budget, num_classes=6, seed=1, prefilter=depth, candidates=4)
    plain = BudgetSearcher(space, budget, num_classes=6, seed=1)  # the same draws, unfiltered
    draws = [plain.suggest(f"t{i}") for i in range(8)]
    chosen = [searcher.suggest("t0"), searcher.suggest("t1")]
    assert chosen == [max(draws[:4], key=depth), max(draws[4:], key=depth)]
    prefiltered = [r for r in searcher.rejected if r["status"] == "prefiltered"]
    assert len(prefiltered) == 6 and all(r["zero_cost"] <= depth(c) for r, c in zip(prefiltered, [chosen[0]] * 3
                                                                                    + [chosen[1]] * 3))
    assert all(0.03 <= r["gflops"] <= 0.06 for r in prefiltered)


def test_prefilter_options_are_checked():
    from search.options import Prefilter, SearchOptions

    assert Prefilter.parse("synflow:0.25").candidates == 4 and Prefilter.parse(None).candidates == 1
    for text, message in (("synflow", "SCORE:FRACTION"), ("flops:0.5", "not one of"), ("naswot:0", r"\(0, 1\]")):
        with pytest.raises(UserError, match=message):
            Prefilter.parse(text)
    with pytest.raises(UserError, match="random"):
        SearchOptions(search_alg="optuna", prefilter=Prefilter("synflow", 0.5))


def test_random_round_trips():
    space, rng = SearchSpace(), random.Random(7)
    for _ in range(100):
        spec = space.to_spec(space.sample(rng))
        assert space.to_spec(space.to_params(spec)) == spec


def test_seed_architecture_maps_into_widened_space():
    a0 = preset("a0")
    with pytest.raises(SpecError, match="outside the search space"):
        SearchSpace().to_params(a0)
    space = SearchSpace().including(a0)
    params = space.to_params(a0)
    assert space.to_spec(params, name="a0").replace(input=a0.input) == a0
    assert set(tune_param_space(space)) == set(params)
    assert set(keras_tuner_hyperparameters(space).values) == set(params)


def test_space_yaml_round_trip(tmp_path):
    space = SearchSpace(kernels=("1x3x3", "3x3x3"), frames=(8, 12), depths=((1, 2),) * 5)
    space.to_yaml(tmp_path / "space.yaml")
    assert SearchSpace.from_yaml(tmp_path / "space.yaml") == space
    (tmp_path / "bad.yaml").write_text("kernals: [1x3x3]\n")
    with pytest.raises(UserError, match="bad.yaml: kernals: unknown field"):
        SearchSpace.from_yaml(tmp_path / "bad.yaml")
    (tmp_path / "bad.yaml").write_text("frames: [8, '12']\n")
    with pytest.raises(UserError, match=r"frames\[1\]: must be an integer, got str"):
        SearchSpace.from_yaml(tmp_path / "bad.yaml")


def test_impossible_budget_is_an_error_at_start():
    with pytest.raises(SpecError, match="no architecture in the search space meets it"):
        check_budget_feasible(SearchSpace(), Budget.parse("500:900"), num_classes=6)
    with pytest.raises(SpecError, match="MIN:MAX"):
        Budget.parse("cheap")
