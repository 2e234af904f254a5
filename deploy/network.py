"""The trained network a deployment starts from: a training run's folder, an official Model
Garden checkpoint, or a bare spec (untrained weights: enough to time a model or test a
pipeline, never to classify).

`predict`, `export-model` and `latency` all take the same three sources, so they read them
here, once.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infra.errors import UserError
from infra.files import read_json
from search_space import OFFICIAL_CLASSES, ArchSpec, SpecError, build_model, load_arch, load_official_checkpoint
from video_data.errors import DataError
from video_data.layout import read_class_names

__all__ = ["Network", "load_network", "trained_run_files", "with_live_branches"]


@dataclass
class Network:
    """A built model, its class names, and where its weights came from (for records and messages)."""

    model: object
    class_names: list[str]
    weights: str  # "run FOLDER", "checkpoint PREFIX" or "untrained"

    @property
    def spec(self) -> ArchSpec:
        return self.model.spec

    @property
    def trained(self) -> bool:
        return self.weights != "untrained"


def trained_run_files(run: str | Path) -> tuple[Path, Path]:
    """The spec and weights a finished training run ships: `inference.yaml` and its weights for
    stream runs (the (2+1)D model), else `spec.yaml` and `model.weights.h5`."""
    run = Path(run)
    if (run / "inference.yaml").is_file():
        spec_path, weights = run / "inference.yaml", run / "inference.weights.h5"
    else:
        spec_path, weights = run / "spec.yaml", run / "model.weights.h5"
    if not spec_path.is_file() or not weights.is_file() or not (run / "result.json").is_file():
        raise DataError(f"{run}: not a finished training run (expected spec.yaml, model.weights.h5, result.json)")
    return spec_path, weights


def with_live_branches(model):
    """`model` with its ReZero scales at 1. Freshly built, they are 0, and TFLite's converter then
    folds every residual branch away: an untrained model would time faster than a trained one."""
    for variable in model.weights:
        if variable.path.endswith("rezero/scale"):
            variable.assign(variable * 0 + 1)
    return model


def _class_names(path: Path | None, count: int) -> list[str]:
    if path is None:
        return [str(i) for i in range(count)]
    names = read_class_names(path)
    if len(names) != count:
        raise DataError(f"{path}: {len(names)} class names for a model with {count} classes")
    return names


def load_network(run: str | Path | None = None, arch: str | None = None, checkpoint: str | Path | None = None,
                 classes: str | Path | None = None, num_classes: int = OFFICIAL_CLASSES,
                 untrained: bool = False, stream: bool = False) -> Network:
    """A training run's folder, or a preset / spec YAML with an official checkpoint (or, with
    `untrained`, without one). `stream` asks for the causal variant of a preset."""
    if run is not None:
        spec_path, weights = trained_run_files(run)
        spec = ArchSpec.from_yaml(spec_path)
        result = read_json(Path(run) / "result.json", "training result")
        model = build_model(spec, result["num_classes"])
        model.load_weights(str(weights))
        names = result.get("classes") or [str(i) for i in range(result["num_classes"])]
        return Network(model, names, f"run {run}")
    if arch is None or (checkpoint is None and not untrained):
        raise UserError("give --run (a training run folder) or --arch with --checkpoint")
    spec = load_arch(arch, stream=stream)
    if not isinstance(spec, ArchSpec):
        raise SpecError(f"--arch {arch}: an ensemble ships member by member; give one member's spec")
    model = build_model(spec, num_classes)
    if checkpoint is None:
        return Network(with_live_branches(model), [str(i) for i in range(num_classes)], "untrained")
    load_official_checkpoint(model, checkpoint)
    return Network(model, _class_names(Path(classes) if classes else None, num_classes), f"checkpoint {checkpoint}")
