"""The one-shot engine: the controller learns what its reward favours, a resumed supernet training
continues exactly where it stopped, and `search --engine oneshot` writes a run like any search."""
import dataclasses
import random

import numpy as np
import pytest

from search.options import OneShotOptions, SearchOptions
from search_space import Budget, SearchSpace
from infra.errors import OptionsError

pytest.importorskip("tensorflow")

from search.controller import Controller, active_decisions  # noqa: E402


def test_controller_learns_the_rewarded_choice_and_ignores_inactive_decisions():
    controller = Controller({"kernel": (3, 5, 7), "unused": (1, 2)}, learning_rate=0.1, seed=0)
    for _ in range(150):
        choice = controller.sample()
        controller.update(choice, float(choice[0] == 2), np.array([1.0, 0.0], np.float32))
    kernel, unused = controller.probabilities()
    assert kernel[2] > 0.9 and controller.most_likely()[0] == 2
    np.testing.assert_allclose(unused, [0.5, 0.5], atol=1e-6)  # never active: never pushed
    assert controller.entropy() < (np.log(3) + np.log(2)) / 2  # below uniform


def test_controller_state_round_trip_continues_the_same_samples():
    first = Controller(SearchSpace().choices(), seed=3)
    for _ in range(5):
        first.update(first.sample(), random.Random(0).random(), np.ones(len(first.names), np.float32))
    second = Controller(SearchSpace().choices(), seed=99)
    second.load_state(first.state())
    for _ in range(3):
        choice = first.sample()
        np.testing.assert_array_equal(choice, second.sample())
        first.update(choice, 0.3, np.ones(len(first.names), np.float32))
        second.update(choice, 0.3, np.ones(len(second.names), np.float32))
    np.testing.assert_allclose(first.logits.numpy(), second.logits.numpy(), rtol=1e-6)


def test_layers_past_a_blocks_depth_are_inactive():
    space = SearchSpace()
    params = space.sample(random.Random(0)) | {"block0_depth": 2}
    mask = dict(zip(space.choices(), active_decisions(space, params)))
    assert mask["block0_layer1_kernel"] == 1.0 and mask["block0_layer2_kernel"] == 0.0
    assert mask["block0_depth"] == mask["stem_width"] == 1.0


def test_oneshot_refuses_what_it_cannot_honour():
    with pytest.raises(OptionsError, match="budget's maximum"):
        SearchOptions(engine="oneshot")
    with pytest.raises(OptionsError, match="--replicas: not with --engine oneshot"):
        SearchOptions(engine="oneshot", budget=Budget(high=0.1),
                      proxy=dataclasses.replace(SearchOptions().proxy, replicas=2))
    with pytest.raises(OptionsError, match="leaves no epoch"):
        OneShotOptions(epochs=3, warmup_epochs=3)


def test_fidelity_refuses_a_supernet_from_a_run_that_has_none_before_writing(tmp_path):
    from conftest import write_run
    from infra.errors import UserError
    from search.fidelity import FidelityOptions, run_fidelity

    write_run(tmp_path / "run", 4)
    with pytest.raises(UserError, match="not a one-shot search"):
        run_fidelity(FidelityOptions(run=str(tmp_path / "run"), supernet=str(tmp_path / "run"),
                                     output=str(tmp_path / "fidelity")))
    assert not (tmp_path / "fidelity").exists()


@pytest.mark.parametrize("sampling", ["one", "sandwich"])
def test_the_sandwich_trains_the_layers_a_small_sample_skips(tmp_path, sampling):
    """A step on the smallest sub-network (block 0 one layer deep) leaves block 0's second layer
    alone unless the sandwich rule also trains the widest, which has that layer."""
    from search.driver import plan_search, trial_task
    from search.oneshot import OneShotTraining

    options = SearchOptions(engine="oneshot", budget=Budget(high=0.2), output=str(tmp_path)).smoke_test()
    options = dataclasses.replace(options, space=dataclasses.replace(options.space, depths=((1, 2),) + ((1,),) * 4),
                                  oneshot=dataclasses.replace(options.oneshot, sampling=sampling))
    training = OneShotTraining(trial_task(options, plan_search(options)), options.oneshot, seed=0)
    weight_step, _ = training._functions()
    kernel = next(v for v in training.net.trainable_variables
                  if v.path == "supernet/block0_layer1/expansion/conv/kernel")
    before = np.array(kernel)
    train, _ = training._streams(0)
    smallest = training.net.encode(options.space.smallest_params())
    for _ in range(3):  # the learning rate warms up from 0: the first step moves nothing
        clips, labels = next(train)
        loss = float(weight_step(clips, labels, smallest))
        assert np.isfinite(loss) and loss > 0
    assert np.array_equal(np.array(kernel), before) == (sampling == "one")
