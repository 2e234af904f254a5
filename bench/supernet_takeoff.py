"""Does the supernet's training leave chance, and under which sampling? (docs/search.md, one-shot)

Trains with the one-shot search's own optimiser, loss and data (the proxy recipe, batches of 16
default synthetic clips at 8x32x32), on the default space cut to 1-3 layers a block so a step
is short, and prints the mean training loss of every `--every` steps. `--mode`:

- alone: one sub-network built as a standalone `MoViNet` (the baseline take-off);
- fixed: the same sub-network through the supernet's masks (a bug in the masks shows here);
- uniform: a uniformly sampled sub-network every step (one-shot training's warm-up);
- maxsize: the widest sizes with a random kernel for the first 200 steps, then uniform;
- fixedthen: the fixed sub-network for the first 250 steps, then uniform;
- sandwich: the widest, the smallest and a uniform sub-network each step, their losses summed
  (BigNAS' sandwich rule without its distillation; 3 passes a step); the loss printed is the
  uniform sample's;
- distill: the sandwich with BigNAS' in-place distillation: the widest learns from the labels,
  the smallest and the uniform sample from the widest's predictions (not back-propagated into
  it); the loss printed is the uniform sample's against the labels.

    python bench/supernet_takeoff.py --mode uniform --steps 600 --every 50 --lr-scale 0.25
"""
from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODES = ("alone", "fixed", "uniform", "maxsize", "fixedthen", "sandwich", "distill")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=MODES, default="uniform")
    parser.add_argument("--steps", type=int, default=250)
    parser.add_argument("--every", type=int, default=25, help="steps per printed mean loss")
    parser.add_argument("--lr-scale", type=float, default=1.0, help="multiplies the proxy recipe's learning rate")
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    from proxies.config import PROXY_RECIPE
    from search_space import SearchSpace
    from search_space.keras import build_model
    from search_space.keras.supernet import SuperNet
    from training.compile import make_loss, make_optimizer, one_hot
    from video_data.config import DataConfig
    from video_data.pipeline import ClipConfig, open_data

    tf.config.threading.set_intra_op_parallelism_threads(2)
    space = dataclasses.replace(SearchSpace(), depths=((1, 2, 3),) * 5)
    train, _ = open_data(DataConfig(), ClipConfig(frames=8, resolution=32, stride=2, flip=False))
    supernet = SuperNet(space, 14, PROXY_RECIPE.model).build_weights()
    params = space.sample(random.Random(4))
    fixed = supernet.encode(params)
    alone = build_model(space.to_spec(params), 14, PROXY_RECIPE.model) if args.mode == "alone" else None
    net = alone or supernet
    recipe = dataclasses.replace(PROXY_RECIPE, learning_rate=PROXY_RECIPE.learning_rate * args.lr_scale)
    optimizer = make_optimizer(recipe, 16, args.steps, 1)
    optimizer.build(net.trainable_variables)
    loss_fn = make_loss(recipe)
    kd = keras.losses.CategoricalCrossentropy(from_logits=True)
    sizes = [len(values) for values in space.choices().values()]
    rng = np.random.default_rng(0)

    widest = supernet.encode(space.widest_params())
    smallest = supernet.encode(space.smallest_params())

    @tf.function
    def step(clips, labels, choice):
        with tf.GradientTape() as tape:
            if alone is not None:
                loss = loss_fn(labels, alone(clips, training=True))
            elif args.mode == "sandwich":
                parts = [loss_fn(labels, supernet((clips, c), training=True)) for c in (widest, smallest, choice)]
                loss = tf.add_n(parts)
            elif args.mode == "distill":
                teacher = supernet((clips, widest), training=True)
                soft = tf.stop_gradient(tf.nn.softmax(teacher))
                students = [supernet((clips, c), training=True) for c in (smallest, choice)]
                loss = loss_fn(labels, teacher) + tf.add_n([kd(soft, s) for s in students])
                parts = [loss_fn(labels, students[-1])]
            else:
                loss = loss_fn(labels, supernet((clips, choice), training=True))
        grads = tape.gradient(loss, net.trainable_variables)
        optimizer.apply([g if g is not None else tf.zeros_like(v) for g, v in zip(grads, net.trainable_variables)],
                        net.trainable_variables)
        return parts[-1] if args.mode in ("sandwich", "distill") else loss

    def choice_at(i: int) -> np.ndarray:
        uniform = np.array([rng.integers(n) for n in sizes], np.int32)
        if args.mode in ("alone", "fixed") or (args.mode == "fixedthen" and i < 250):
            return fixed
        if args.mode == "maxsize" and i < 200:
            point = space.sample(random.Random(i))
            point.update({k: v for k, v in space.widest_params().items() if not k.endswith("_kernel")})
            return supernet.encode(point)
        return uniform

    batches = iter(train.epochs(True, 16, 0, 10 ** 4, steps_per_epoch=36).map(one_hot(14)))
    start, losses = time.time(), []
    for i in range(args.steps):
        clips, labels = next(batches)
        losses.append(float(step(clips, labels, choice_at(i))))  # sandwich: the uniform sample's loss
        if (i + 1) % args.every == 0:
            print(f"{args.mode} step {i + 1}: loss {np.mean(losses[-args.every:]):.3f} ({time.time() - start:.0f} s)",
                  flush=True)


if __name__ == "__main__":
    main()
