"""One-shot search (`search --engine oneshot`): one weight-sharing supernet and a REINFORCE
controller instead of one training per architecture (TuNAS, the search that found MoViNets).

Each step trains the supernet's shared weights on a sub-network the controller samples (a
training batch), then, after `warmup_epochs` of weight-only training (the controller's samples
are uniform until it learns), samples again and rewards the controller with that sub-network's
accuracy on a held-out batch and the TuNAS absolute cost term, `top1 + beta * |cost / target - 1|`
with the budget's maximum as the target. Without a warm-up the controller would learn which
paths happened to be trained first.

Every epoch is one Ray Tune report with a checkpoint (supernet weights, optimiser, controller
and its random generator), so an interrupted search resumes where it stopped. At the end the
controller's most likely architecture and its most frequent samples are scored with the
inherited weights (batch norms re-estimated for each, `SuperNet.calibrate`) and become the
run's records, like the trials of the other engines.
"""
from __future__ import annotations

import json
import math
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from infra.errors import UserError

from .options import OneShotOptions, SearchOptions
from .trial import TrialTask, reward
from .trial_records import RejectionLog, trial_record

__all__ = ["OneShotTraining", "run_oneshot", "check_oneshot_run", "load_oneshot", "SUPERNET_FOLDER"]

SUPERNET_FOLDER = "supernet"  # the trained supernet and controller, in the run folder
_EXPERIMENT = "oneshot"
_WEIGHTS, _OPTIMIZER, _CONTROLLER, _PROGRESS = "supernet.weights.h5", "optimizer.npz", "controller.npz", "progress.json"


@dataclass
class Candidate:
    """A sub-network's validation scores with the supernet's weights, and what they took."""

    top1: float
    top5: float
    seconds: float


class OneShotTraining:
    """A supernet, its optimiser, the controller and their data, for one search."""

    def __init__(self, task: TrialTask, options: OneShotOptions, seed: int):
        from proxies.ray_trial import curriculum_source, proxy_sources
        from search_space.keras.supernet import SuperNet
        from training.compile import make_loss, make_optimizer

        from .controller import Controller

        self.task, self.options, self.seed = task, options, seed
        proxy = task.proxy
        widest = task.spec(task.space.widest_params(), "widest")
        self.train, self.val = proxy_sources(widest, task.data)
        self.warm_up = curriculum_source(widest, task.data, proxy)  # the curriculum's clips, if any
        self.net = SuperNet(task.space, task.num_classes, proxy.recipe.model).build_weights()
        self.optimizer = make_optimizer(proxy.recipe, proxy.batch_size, options.steps_per_epoch, options.epochs)
        self.optimizer.build(self.net.trainable_variables)
        self.loss = make_loss(proxy.recipe)
        self.controller = Controller(task.space.choices(), options.controller_learning_rate,
                                     options.baseline_decay, options.entropy_weight, seed)
        self.epochs_done = 0
        self._costs: dict[tuple, float] = {}
        self._weight_step = self._quality = self._evaluate = None

    # ----- what a choice costs and is worth ---------------------------------------------------
    def params(self, choice) -> dict[str, Any]:
        return self.net.decode(choice)

    def cost(self, choice) -> float:
        """The choice's cost in the budget's unit (GFLOPs or predicted ms), cached."""
        key = tuple(int(i) for i in choice)
        if key not in self._costs:
            self._costs[key] = self.task.budget.cost(self.task.spec(self.params(choice), "sample"),
                                                     self.task.num_classes)
        return self._costs[key]

    def reward(self, top1: float, choice) -> float:
        return reward(top1, self.cost(choice), "tunas", self.task.budget.high, self.options.beta)

    # ----- training -----------------------------------------------------------------------------
    def _functions(self):
        import tensorflow as tf

        net, optimizer, loss_fn, sampling = self.net, self.optimizer, self.loss, self.options.sampling
        space = self.task.space
        widest, smallest = (tf.constant(net.encode(params)) for params in (space.widest_params(),
                                                                             space.smallest_params()))

        @tf.function
        def weight_step(clips, labels, choice):
            """One optimiser step; returns the sample's loss on the labels (what is reported)."""
            with tf.GradientTape() as tape:
                logits = net((clips, choice), training=True)
                sample_loss = loss = loss_fn(labels, logits)
                if sampling == "sandwich":
                    # The sandwich: the widest and smallest bound every sample's paths, so each
                    # step trains all of them rather than one random path's share.
                    loss += (loss_fn(labels, net((clips, widest), training=True))
                             + loss_fn(labels, net((clips, smallest), training=True)))
                loss += tf.add_n(net.losses) if net.losses else 0.0
            grads = tape.gradient(loss, net.trainable_variables)
            # Paths a sample did not take have no gradient; they are left as they are.
            optimizer.apply([g if g is not None else tf.zeros_like(v) for g, v in zip(grads, net.trainable_variables)],
                            net.trainable_variables)
            return sample_loss

        @tf.function
        def quality(clips, labels, choice):
            # Batch statistics, as in training: the shared running averages fit no single sub-network.
            logits = net((clips, choice), training=True)
            return tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), tf.argmax(labels, 1)), tf.float32))

        return weight_step, quality

    def _streams(self, first_epoch: int):
        from training.compile import one_hot

        proxy, steps = self.task.proxy, self.options.steps_per_epoch
        encode = one_hot(self.task.num_classes)
        # The curriculum's epochs first (those not yet done), then the task's own clips.
        switch = min(max(first_epoch, proxy.curriculum_epochs), self.options.epochs)
        train = self.train.epochs(True, proxy.batch_size, switch, self.options.epochs, seed=self.seed,
                                  steps_per_epoch=steps)
        if switch > first_epoch:
            train = self.warm_up.epochs(True, proxy.batch_size, first_epoch, switch, seed=self.seed,
                                        steps_per_epoch=steps).concatenate(train)
        train = train.map(encode)

        def held_out():
            """The controller's batches: the validation clips, reshuffled each pass (the last batch
            of a pass may be short: a small validation split still gives every step a batch)."""
            epoch = first_epoch
            while True:
                yield from self.val.dataset(True, proxy.batch_size, seed=self.seed + 1, epoch=epoch).map(encode)
                epoch += 1

        return iter(train), held_out()

    def train_epochs(self, report: Callable[[dict], None]) -> None:
        """Trains from `epochs_done` to the last epoch, calling `report` after each."""
        if self._weight_step is None:
            self._weight_step, self._quality = self._functions()
        train, held_out = self._streams(self.epochs_done)
        options, batch = self.options, self.task.proxy.batch_size
        while self.epochs_done < options.epochs:
            start, losses, rewards, qualities = time.perf_counter(), [], [], []
            learning = self.epochs_done >= options.warmup_epochs
            for _ in range(options.steps_per_epoch):
                clips, labels = next(train)
                losses.append(float(self._weight_step(clips, labels, self.controller.sample())))
                clips, labels = next(held_out)
                if learning:
                    choice = self.controller.sample()
                    top1 = float(self._quality(clips, labels, choice))
                    value = self.reward(top1, choice)
                    self.controller.update(choice, value, self._active(choice))
                    rewards.append(value)
                    qualities.append(top1)
            self.epochs_done += 1
            seconds = time.perf_counter() - start
            best = self.controller.most_likely()
            report({"epoch": self.epochs_done, "train_loss": float(np.mean(losses)),
                    "controller_reward": float(np.mean(rewards)) if rewards else math.nan,
                    "sampled_top1": float(np.mean(qualities)) if qualities else math.nan,
                    "entropy": self.controller.entropy(), "most_likely": json.dumps(self.params(best)),
                    "most_likely_cost": self.cost(best), "train_clips_per_s": options.steps_per_epoch * batch / seconds,
                    "wall_time_s": seconds})

    def _active(self, choice) -> np.ndarray:
        from .controller import active_decisions

        return active_decisions(self.task.space, self.params(choice))

    # ----- checkpoints --------------------------------------------------------------------------
    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        self.net.save_weights(str(folder / _WEIGHTS))
        np.savez(folder / _OPTIMIZER, *[np.asarray(v) for v in self.optimizer.variables])
        np.savez(folder / _CONTROLLER, **self.controller.state())
        (folder / _PROGRESS).write_text(json.dumps({"epochs": self.epochs_done}))

    def restore(self, folder: str | Path) -> None:
        folder = Path(folder)
        self.net.load_weights(str(folder / _WEIGHTS))
        with np.load(folder / _OPTIMIZER) as saved:
            for i, variable in enumerate(self.optimizer.variables):
                variable.assign(saved[f"arr_{i}"])
        with np.load(folder / _CONTROLLER) as saved:
            self.controller.load_state(dict(saved))
        self.epochs_done = json.loads((folder / _PROGRESS).read_text())["epochs"]

    # ----- scoring sub-networks with inherited weights -----------------------------------------
    def evaluate(self, params: dict[str, Any]) -> Candidate:
        """Top-1 / top-5 on the validation clips of the sub-network `params`, with batch norms
        re-estimated on `calibration_clips` training clips first."""
        import tensorflow as tf

        from training.compile import make_metrics, one_hot

        start = time.perf_counter()
        choice = self.net.encode(params)
        clips = next(iter(self.train.dataset(True, self.options.calibration_clips, seed=self.seed + 2)))[0]
        self.net.calibrate(clips, choice)
        if self._evaluate is None:
            net = self.net
            self._evaluate = tf.function(lambda x, c: net((x, c), training=False))
        top1, top5 = make_metrics()  # the proxy's own top-1 and top-5
        for clips, labels in self.val.dataset(False, self.task.proxy.batch_size).map(one_hot(self.task.num_classes)):
            logits = self._evaluate(clips, choice)
            top1.update_state(labels, logits)
            top5.update_state(labels, logits)
        return Candidate(float(top1.result()), float(top5.result()), time.perf_counter() - start)

    def candidates(self, count: int, draws: int = 4000) -> list[dict[str, Any]]:
        """The controller's most likely architecture, then its `count - 1` most frequent distinct
        in-budget samples out of `draws`."""
        best = self.params(self.controller.most_likely())
        seen: dict[tuple, int] = {}
        for _ in range(draws):
            choice = self.controller.sample()
            if self.cost(choice) in self.task.budget:
                key = tuple(int(i) for i in choice)
                seen[key] = seen.get(key, 0) + 1
        ranked = [self.params(np.array(key)) for key, _ in sorted(seen.items(), key=lambda item: -item[1])]
        return [best] + [p for p in ranked if p != best][:count - 1]


class OneShotProgress:
    """The one-shot search's console: a line per supernet epoch with what the controller
    believes so far (its entropy, its most likely architecture and that one's cost)."""

    def __init__(self, task: TrialTask, options: OneShotOptions):
        self.task, self.options = task, options
        self.start = time.time()
        self._shown = 0

    def line(self, result: dict) -> str:
        elapsed = time.strftime("%H:%M:%S", time.gmtime(time.time() - self.start))
        text = f"[{elapsed}] supernet epoch {result['epoch']}/{self.options.epochs}: loss {result['train_loss']:.3f}"
        if result["epoch"] <= self.options.warmup_epochs:
            return text + f" (weights only until epoch {self.options.warmup_epochs})"
        spec = self.task.spec(json.loads(result["most_likely"]), "most_likely")
        depths = " ".join(str(len(block.layers)) for block in spec.blocks)
        return (text + f", sampled top-1 {result['sampled_top1']:.3f}, controller entropy {result['entropy']:.2f} "
                       f"nats a decision; most likely: depths {depths}, {result['most_likely_cost']:.4g} "
                       f"{self.task.budget.unit}")

    def reporter(self):
        from ray.tune import ProgressReporter

        progress = self

        class Reporter(ProgressReporter):
            def should_report(self, trials, done: bool = False) -> bool:
                result = trials[0].last_result if trials else {}
                return bool(result) and result.get("epoch", 0) > progress._shown and "train_loss" in result

            def report(self, trials, done: bool, *sys_info) -> None:
                result = trials[0].last_result
                progress._shown = result["epoch"]
                print(progress.line(result), flush=True)

        return Reporter()


def oneshot_trial(config: dict, task: TrialTask, options: OneShotOptions, seed: int, count: int) -> None:
    """The Ray Tune trainable: trains (or resumes) the supernet and controller, reporting each
    epoch with its checkpoint, then reports the scored candidates in one last row."""
    import ray
    from ray import tune

    from proxies.ray_trial import prepare_worker

    prepare_worker(task.cpus)
    training = OneShotTraining(task, options, seed)
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:
        training.restore(checkpoint.to_directory())
    node = ray.get_runtime_context().get_node_id()

    def report(metrics: dict) -> None:
        folder = tempfile.mkdtemp(prefix="oneshot_ckpt_")
        training.save(folder)
        tune.report({**metrics, "node": node, "status": "running"}, checkpoint=tune.Checkpoint.from_directory(folder))
        shutil.rmtree(folder, ignore_errors=True)

    training.train_epochs(report)
    scored = []
    for params in training.candidates(count):
        candidate = training.evaluate(params)
        scored.append({"params": params, "top1": candidate.top1, "top5": candidate.top5,
                       "reward": training.reward(candidate.top1, training.net.encode(params)),
                       "seconds": candidate.seconds})
    folder = tempfile.mkdtemp(prefix="oneshot_final_")
    training.save(folder)
    tune.report({"epoch": training.epochs_done, "status": "ok", "node": node, "candidates": json.dumps(scored),
                 "entropy": training.controller.entropy()}, checkpoint=tune.Checkpoint.from_directory(folder))
    shutil.rmtree(folder, ignore_errors=True)


def run_oneshot(options: SearchOptions, task: TrialTask, log: RejectionLog,
                resume: bool) -> tuple[list[dict], list[dict]]:
    """Runs (or resumes) the one-shot search as one Ray Tune trial; returns (records, choices):
    one record per scored candidate, its score inherited from the supernet."""
    from ray import tune

    from infra.ray_cluster import connect

    from .tune_runs import error_line, fit_tuner, saved_trials, unfinished

    output = Path(options.output).resolve()
    trainable = tune.with_resources(
        tune.with_parameters(oneshot_trial, task=task, options=options.oneshot, seed=options.seed,
                             count=options.num_samples),
        options.resources.tune_resources)

    def create() -> tune.Tuner:
        return tune.Tuner(trainable, param_space={},
                          run_config=tune.RunConfig(name=_EXPERIMENT, storage_path=str(output / "ray"),
                                                    failure_config=tune.FailureConfig(max_failures=1),
                                                    checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
                                                    progress_reporter=OneShotProgress(task, options.oneshot).reporter(),
                                                    verbose=1))

    connect(options.address)
    grid = fit_tuner(output / "ray" / _EXPERIMENT, trainable, resume, create)
    result = grid[0]
    interrupted = bool(unfinished(saved_trials(grid)))
    metrics = result.metrics or {}
    if result.checkpoint is not None:
        shutil.rmtree(output / SUPERNET_FOLDER, ignore_errors=True)
        shutil.copytree(result.checkpoint.to_directory(), output / SUPERNET_FOLDER)
    if interrupted or result.error is not None or metrics.get("status") != "ok":
        error = error_line(result)
        return [trial_record("supernet", task.spec(task.space.widest_params(), "supernet"), task.num_classes,
                             metrics, error, interrupted=interrupted)], []
    records, choices = [], []
    wall = metrics.get("time_total_s", math.nan)
    for i, scored in enumerate(json.loads(metrics["candidates"])):
        trial_id = "most_likely" if i == 0 else f"sample_{i:03d}"
        spec = task.spec(scored["params"], trial_id)
        row = {"top1": scored["top1"], "top5": scored["top5"], "reward": scored["reward"], "status": "ok",
               "epochs": options.oneshot.epochs, "wall_time_s": scored["seconds"], "timestamp": time.time(),
               "node": metrics.get("node")}
        records.append(trial_record(trial_id, spec, task.num_classes, row, member_input=task.member_input,
                                    latency_ms=task.latency_ms(spec)))
        choices.append({"trial_id": trial_id, **scored["params"]})
    print(f"supernet trained in {wall / 60:.1f} min; {len(records)} architectures scored with its weights", flush=True)
    return records, choices


def check_oneshot_run(run: str | Path) -> SearchOptions:
    """The options of a finished one-shot search run, or a UserError saying what it is not."""
    options = SearchOptions.load(run)
    if options.engine != "oneshot":
        raise UserError(f"{run}: a search with --engine {options.engine}, not a one-shot search (no supernet)")
    if not (Path(run) / SUPERNET_FOLDER / _WEIGHTS).is_file():
        raise UserError(f"{run}: no trained supernet in {Path(run) / SUPERNET_FOLDER} (an unfinished search: "
                        f"`run_search.py search --resume --output {run}` finishes it)")
    return options


def load_oneshot(run: str | Path) -> OneShotTraining:
    """The trained supernet and controller of a finished one-shot search, ready to score
    sub-networks of its space (`OneShotTraining.evaluate`)."""
    from .driver import plan_search, trial_task

    options = check_oneshot_run(run)
    training = OneShotTraining(trial_task(options, plan_search(options)), options.oneshot, options.seed)
    training.restore(Path(run) / SUPERNET_FOLDER)
    return training
