"""Shared test helpers: fixture locations, random weights, random valid specs."""
from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MOVINET_SHARED", REPO.parent / "shared"))
OFFICIAL = SHARED / "fixtures" / "official"
REFERENCE = SHARED / "reference"


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long end-to-end tests (CI runs their short versions)")
    config.addinivalue_line("markers", "e2e: end-to-end tests (Ray, subprocesses); collected first")


def pytest_collection_modifyitems(config, items):
    """End-to-end tests first: with two xdist workers handed two tests at a time
    (`--maxschedchunk 2`), the long ones then overlap from the start instead of one of them
    running alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is None)


def missing(reason: str) -> None:
    """A test's official numbers are not here: skipped on a machine without ../shared, failed
    where they must be (MOVINET_REQUIRE_SHARED=1, which CI sets): a silent skip there would pass
    the official-number checks without running them."""
    if os.environ.get("MOVINET_REQUIRE_SHARED") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def official_dir() -> Path:
    if not OFFICIAL.is_dir():
        missing(f"official fixtures not found at {OFFICIAL} (set MOVINET_SHARED)")
    return OFFICIAL


def randomize_weights(model, seed: int = 0) -> None:
    """Random, non-degenerate weights everywhere (ReZero scales start at 0, which hides bugs)."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        shape = tuple(variable.shape)
        if "moving_variance" in variable.path:
            value = rng.uniform(0.5, 1.5, shape)
        else:
            fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
            value = rng.normal(0.0, 1.0 / np.sqrt(max(fan_in, 1)), shape)
            if not shape:
                value = rng.uniform(0.3, 1.0)
        variable.assign(np.asarray(value, dtype=variable.dtype))


def random_spec(seed: int, causal: bool | None = None):
    """A random valid spec across conv types, SE types, kernels, strides and widths."""
    from search_space import ArchSpec, BlockSpec, HeadSpec, InputSpec, LayerSpec, StemSpec

    rnd = random.Random(seed)
    causal = rnd.random() < 0.5 if causal is None else causal
    kernels = [(1, 3, 3), (1, 5, 5), (1, 7, 7), (3, 3, 3), (5, 3, 3), (5, 1, 1), (7, 1, 1), (3, 1, 1)]
    se_type = rnd.choice(["3d", "2d", "2plus3d", "none"])
    blocks = []
    for b in range(5):
        filters = rnd.choice([8, 16, 24, 32])
        layers = []
        for i in range(rnd.randint(1, 3)):
            stride = (1, 1, 1)
            if i == 0 and b != 3:
                stride = (1 if causal else rnd.choice([1, 2]), rnd.choice([1, 2]), rnd.choice([1, 2]))
                stride = (stride[0], stride[1], stride[1])
            layers.append(LayerSpec(expand=filters * rnd.choice([1, 2, 3]), kernel=rnd.choice(kernels), stride=stride))
        blocks.append(BlockSpec(filters=filters, layers=tuple(layers)))
    return ArchSpec(
        name=f"random{seed}", stem=StemSpec(filters=rnd.choice([8, 16]), kernel=rnd.choice([(1, 3, 3), (3, 3, 3)]),
                                            stride=(1, 2, 2)),
        blocks=tuple(blocks), head=HeadSpec(project_filters=rnd.choice([32, 64]), head_filters=rnd.choice([64, 128])),
        conv_type=rnd.choice(["3d", "2plus1d", "3d_2plus1d"]), se_type=se_type,
        activation=rnd.choice(["swish", "hard_swish", "relu"]),
        gating_activation=rnd.choice(["sigmoid", "hard_sigmoid"]), causal=causal,
        positional_encoding=causal and se_type != "none" and rnd.random() < 0.5, input=InputSpec(frames=16, resolution=64, frame_stride=2))


def write_run(folder: Path, trials: int, seed: int = 3, search_alg: str = "random") -> None:
    """A search run folder of `trials` tiny architectures with made-up scores, written as the
    driver writes one (records, choices, space, options), without training anything."""

    from analysis import write_results
    from proxies.config import ProxyConfig
    from search import SearchOptions
    from search.trial_records import trial_record, write_run_tables
    from search_space import SearchSpace
    from video_data.config import DataConfig
    from video_data.synthetic import SyntheticConfig

    space = SearchSpace(stem_widths=(8,), block_widths=((8,), (16,), (16,), (16,), (24,)), depths=((1, 2),) * 5,
                        expansion_ratios=(1.5, 2.0, 3.0), kernels=("1x3x3", "3x3x3", "3x1x1"), head_widths=(32,),
                        head_filters=32)
    data = DataConfig(synthetic=SyntheticConfig(num_classes=3, clips_per_class=5, frames=8, resolution=32))
    options = SearchOptions(output=str(folder), space=space, data=data, proxy=ProxyConfig(epochs=1, batch_size=4),
                            search_alg=search_alg)
    folder.mkdir(parents=True, exist_ok=True)
    options.save(folder)
    rng, records, choices = random.Random(seed), [], []
    for i in range(trials):
        params = space.sample(rng)
        spec = space.to_spec(params, name=f"trial_t{i}")
        top1 = rng.uniform(0.3, 0.9)
        status = "stopped_early" if i % 4 == 3 else "ok"
        metrics = {"status": "running" if status == "stopped_early" else "ok", "top1": top1, "top5": 1.0,
                   "timestamp": 1000.0 + i}
        records.append(trial_record(f"t{seed}_{i}", spec, 3, metrics, curve=[top1 / 2, top1]))
        choices.append({"trial_id": f"t{seed}_{i}", **params})
    write_results(folder, write_run_tables(folder, records, choices, space))


def one_layer_t0():
    """t0 with one layer a block and a small head: for tests where the architecture does not
    matter (most of a tiny training is tracing the model's graph)."""
    import dataclasses

    from search_space import preset

    t0 = preset("t0")
    return t0.replace(blocks=tuple(dataclasses.replace(b, layers=b.layers[:1]) for b in t0.blocks),
                      head=dataclasses.replace(t0.head, head_filters=64))


def tiny_spec(name: str, frames: int, resolution: int):
    """t0 named `name`, taking clips of `frames` x `resolution`^2."""
    from search_space import InputSpec, preset

    return preset("t0").replace(name=name, input=InputSpec(frames, resolution, 2))
