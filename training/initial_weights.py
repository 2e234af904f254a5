"""Where a fine-tuning run starts: the weights of an official Model Garden checkpoint or of a
finished training run, every layer but the class logits, which are rebuilt for the new data's
classes; and which layers then stay frozen.

The source is built as its own model first (an official stream checkpoint holds the '2plus1d'
layout, while stream specs train as '3d_2plus1d'; a run holds its own number of classes), then
copied variable by variable into the model to train: a different architecture is refused
naming the first variable that differs, before any weight is assigned.
"""
from __future__ import annotations

from pathlib import Path

from search_space import ArchSpec, CheckpointMismatchError, SpecError, build_model, load_official_checkpoint
from search_space.keras.builder import MoViNet

__all__ = ["load_initial_weights", "freeze", "backbone_variables"]


def _is_run(path: Path) -> bool:
    return path.is_dir() and (path / "spec.yaml").is_file() and (path / "model.weights.h5").is_file()


def backbone_variables(model: MoViNet) -> list:
    """Every weight but the class logits (and the drop-path generators' states, which are not weights)."""
    logits = {id(v) for v in model.classifier.logits.weights}
    return [v for v in model.weights if id(v) not in logits and not v.path.endswith("seed_generator_state")]


def _source_model(model: MoViNet, path: Path) -> MoViNet:
    if _is_run(path):
        import json

        spec = ArchSpec.from_yaml(path / "spec.yaml")
        classes = json.loads((path / "result.json").read_text())["num_classes"] if (path / "result.json").is_file() \
            else model.num_classes
        source = build_model(spec.replace(input=model.spec.input), classes, model.options)
        source.load_weights(str(path / "model.weights.h5"))
        return source
    spec = model.spec
    if spec.causal and spec.conv_type == "3d_2plus1d":  # official stream checkpoints hold the '2plus1d' layout
        spec = spec.replace(conv_type="2plus1d")
    source = build_model(spec, model.num_classes, model.options)
    load_official_checkpoint(source, path, classifier=False)
    return source


def load_initial_weights(model: MoViNet, init: str | Path) -> int:
    """Copies the backbone and head of `init` (an official checkpoint prefix or folder, or a
    training run folder) into `model`; returns how many variables were set."""
    path = Path(init)
    source = _source_model(model, path)
    ours, theirs = backbone_variables(model), backbone_variables(source)
    if len(ours) != len(theirs):
        raise CheckpointMismatchError(f"{init}: holds {len(theirs)} backbone variables, model {model.spec.name} "
                                      f"has {len(ours)} (another architecture?)")
    for mine, other in zip(ours, theirs):
        if tuple(mine.shape) != tuple(other.shape):
            raise CheckpointMismatchError(f"{init}: variable {other.path} has shape {list(other.shape)}, model "
                                          f"{model.spec.name} expects {list(mine.shape)} at {mine.path}")
    for mine, other in zip(ours, theirs):
        mine.assign(other)
    return len(ours)


def freeze(model: MoViNet, until: str) -> list[str]:
    """Makes layers untrainable: 'backbone' (stem, every block, the head's projection: only the
    classifier trains) or 'blockN' (the stem and blocks 0..N). Frozen batch norms also keep
    their statistics (Keras runs an untrainable BatchNormalization in inference mode).
    Returns the names of the frozen layers."""
    if until == "backbone":
        layers = [model.stem, *model.bottlenecks, model.head]
    elif until.startswith("block") and until[5:].isdigit():
        last = int(until[5:])
        blocks = {int(layer.name.split("_")[0][5:]) for layer in model.bottlenecks}
        if last not in blocks:
            raise SpecError(f"freeze until {until}: {model.spec.name} has blocks 0..{max(blocks)}")
        layers = [model.stem, *[layer for layer in model.bottlenecks if int(layer.name.split("_")[0][5:]) <= last]]
    else:
        raise SpecError(f"freeze until {until!r}: 'backbone' or 'blockN' (e.g. block2)")
    for layer in layers:
        layer.trainable = False
    return [layer.name for layer in layers]
