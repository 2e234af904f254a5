"""The one-shot search's controller: one categorical distribution per decision of the space,
trained by REINFORCE (TuNAS, Bender et al. 2020, which found the MoViNets).

A sample is one index per parameter of `space.choices()` (the supernet's choice vector). The
policy gradient of a sample counts only the decisions that shaped the sampled network: a layer
past its block's sampled depth does not exist, so its kernel and expansion were never tried and
must not be rewarded or blamed. The reward's moving average is the baseline, which turns "was
this good" into "was this better than what the controller usually samples".
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import keras
import numpy as np
import tensorflow as tf

from search_space import SearchSpace

__all__ = ["Controller", "active_decisions"]


def active_decisions(space: SearchSpace, params: Mapping[str, Any]) -> np.ndarray:
    """1.0 for each parameter of `space.choices()` that shapes the network `params` stands for,
    0.0 for the kernels and expansions of layers past their block's depth."""
    mask = []
    for name in space.choices():
        if name.startswith("block") and "_layer" in name:
            block, layer = name[len("block"):].split("_layer")
            mask.append(float(int(layer.split("_")[0]) < int(params[f"block{block}_depth"])))
        else:
            mask.append(1.0)
    return np.array(mask, np.float32)


class Controller:
    """Logits of one categorical per decision, an Adam optimiser and the reward baseline.

    `state()` / `load_state()` carry all of it (the random generator included) through a
    checkpoint, so a resumed search samples what an uninterrupted one would have.
    """

    def __init__(self, choices: Mapping[str, Sequence], learning_rate: float = 0.05, baseline_decay: float = 0.95,
                 entropy_weight: float = 0.0, seed: int = 0):
        self.names = list(choices)
        self.sizes = [len(values) for values in choices.values()]
        width = max(self.sizes)
        # One row per decision, padded to the widest: padded entries hold -inf-like logits.
        self._padding = tf.constant(np.array([[0.0] * n + [-1e9] * (width - n) for n in self.sizes], np.float32))
        self.logits = tf.Variable(tf.zeros([len(self.sizes), width]), name="logits")
        self.baseline = tf.Variable(0.0, name="baseline")
        self.updates = tf.Variable(0, dtype=tf.int64, name="updates")
        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.optimizer.build([self.logits])
        self.baseline_decay = baseline_decay
        self.entropy_weight = entropy_weight
        self.rng = tf.random.Generator.from_seed(seed)

    def _log_probs(self) -> tf.Tensor:
        return tf.nn.log_softmax(self.logits + self._padding)

    def _entropies(self, log_probs: tf.Tensor) -> tf.Tensor:
        """Each decision's entropy in nats (padded entries count nothing)."""
        return tf.reduce_sum(tf.where(self._padding < 0, 0.0, -tf.exp(log_probs) * log_probs), axis=1)

    def probabilities(self) -> list[np.ndarray]:
        """Each decision's probabilities over its own choices."""
        probs = tf.exp(self._log_probs()).numpy()
        return [row[:n] for row, n in zip(probs, self.sizes)]

    def sample(self) -> np.ndarray:
        """One choice vector drawn from the current policy (reproducibly: the generator is saved)."""
        # Gumbel-max: the argmax of logits plus Gumbel noise is a categorical draw, taken from
        # the controller's own generator (tf.random.Generator has no categorical).
        gumbel = -tf.math.log(-tf.math.log(self.rng.uniform(self.logits.shape, 1e-12, 1.0)))
        return tf.argmax(self.logits + self._padding + gumbel, axis=1, output_type=tf.int32).numpy()

    def most_likely(self) -> np.ndarray:
        """The policy's mode: every decision's most probable choice."""
        return np.argmax((self.logits + self._padding).numpy(), axis=1).astype(np.int32)

    def entropy(self) -> float:
        """Mean entropy per decision in nats (log of the choices' count when uniform, 0 when settled)."""
        return float(tf.reduce_mean(self._entropies(self._log_probs())))

    def update(self, choice: np.ndarray, reward: float, active: np.ndarray) -> float:
        """One REINFORCE step for a sample's reward; returns the advantage (reward - baseline).
        The first reward sets the baseline, so the first step does not push on a guess of 0."""
        if int(self.updates) == 0:
            self.baseline.assign(reward)
        advantage = reward - float(self.baseline)
        index = tf.stack([tf.range(len(self.sizes)), tf.convert_to_tensor(choice, tf.int32)], axis=1)
        with tf.GradientTape() as tape:
            log_probs = self._log_probs()
            chosen = tf.gather_nd(log_probs, index) * tf.constant(active, tf.float32)
            entropy = tf.reduce_sum(self._entropies(log_probs))
            loss = -advantage * tf.reduce_sum(chosen) - self.entropy_weight * entropy
        self.optimizer.apply([tape.gradient(loss, self.logits)], [self.logits])
        self.baseline.assign(self.baseline_decay * self.baseline + (1 - self.baseline_decay) * reward)
        self.updates.assign_add(1)
        return advantage

    def state(self) -> dict[str, np.ndarray]:
        """Everything a resumed search needs, as arrays (saved beside the supernet's weights)."""
        state = {"logits": self.logits.numpy(), "baseline": self.baseline.numpy(), "updates": self.updates.numpy(),
                 "rng": self.rng.state.numpy()}
        state.update({f"optimizer_{i}": np.asarray(v) for i, v in enumerate(self.optimizer.variables)})
        return state

    def load_state(self, state: Mapping[str, np.ndarray]) -> None:
        self.logits.assign(state["logits"])
        self.baseline.assign(state["baseline"])
        self.updates.assign(state["updates"])
        self.rng.state.assign(state["rng"])
        for i, variable in enumerate(self.optimizer.variables):
            variable.assign(state[f"optimizer_{i}"])
