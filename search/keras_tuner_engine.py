"""Running a search with KerasTuner: the same space, budget, proxy and records, on one machine.

For users who already drive experiments with KerasTuner and need no cluster. Out-of-budget
samples are logged to rejected.csv and scored as the worst result; each finished trial's record
is appended to `keras_tuner_trials.jsonl` at once, and KerasTuner's own state under
`keras_tuner/` lets `resume=True` continue where a killed run stopped.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from proxies.ray_trial import curriculum_source, proxy_sources
from search_space import SearchSpace

from .options import SearchOptions
from .trial import TrialTask
from .trial_records import RejectionLog, trial_record

__all__ = ["run_keras_tuner", "keras_tuner_hyperparameters"]

_PROJECT = "search"


def keras_tuner_hyperparameters(space: SearchSpace):
    """A KerasTuner `HyperParameters` with one Choice per parameter of `space`."""
    import keras_tuner

    hp = keras_tuner.HyperParameters()
    for name, values in space.choices().items():
        hp.Choice(name, list(values))
    return hp


def run_keras_tuner(options: SearchOptions, task: TrialTask, log: RejectionLog,
                    resume: bool) -> tuple[list[dict], list[dict]]:
    """Runs (or resumes) the KerasTuner search; returns (trial records, sampled choices)."""
    import keras_tuner

    from proxies.proxy import train_proxy

    output = Path(options.output)
    records_path = output / "keras_tuner_trials.jsonl"

    class ProxyTuner(keras_tuner.Tuner):
        """KerasTuner over the search space: each trial is one proxy training."""

        def run_trial(self, trial, *args, **kwargs):
            params = dict(trial.hyperparameters.values)
            spec = task.spec(params, trial.trial_id)
            cost = task.budget.cost(spec, task.num_classes)
            if cost not in task.budget:
                log({**params, task.budget.metric: cost, "status": "rejected_budget"})
                return {"reward": -1e9}
            curve: list[float] = []
            result = train_proxy(spec, task.proxy, *proxy_sources(spec, task.data),
                                 report=lambda metrics: curve.append(metrics["top1"]),
                                 warm_up=curriculum_source(spec, task.data, task.proxy))
            metrics = result.to_dict() | {"reward": task.score(result.top1, spec), "timestamp": time.time()}
            record = trial_record(trial.trial_id, spec, task.num_classes, metrics, node="local",
                                  member_input=task.member_input, curve=curve, latency_ms=task.latency_ms(spec))
            with records_path.open("a") as handle:
                handle.write(json.dumps({"record": record, "choices": {"trial_id": trial.trial_id, **params}}) + "\n")
            done = len(records_path.read_text().splitlines())
            print(f"[{done}/{options.num_samples}] trial {trial.trial_id}: {record['status']}, depths {record['depths']}, "
                  f"{record['gflops']:.4g} GFLOPs, top-1 {record['top1']:.3f} after {record['epochs']:.0f} epochs "
                  f"({record['wall_time_s']:.0f} s)", flush=True)
            return {"reward": metrics["reward"]}

    oracle = keras_tuner.oracles.RandomSearchOracle(objective=keras_tuner.Objective("reward", "max"),
                                                    max_trials=options.num_samples,
                                                    hyperparameters=keras_tuner_hyperparameters(task.space),
                                                    seed=options.seed)
    tuner = ProxyTuner(oracle=oracle, directory=str(output / "keras_tuner"), project_name=_PROJECT,
                       overwrite=not resume)
    tuner.search(verbose=0)  # one line per trial (above), not KerasTuner's table of every hyperparameter
    lines = [json.loads(line) for line in records_path.read_text().splitlines()] if records_path.exists() else []
    return [line["record"] for line in lines], [line["choices"] for line in lines]
