"""The stacker: a Dense layer with a sigmoid over the K members' logits (Keras, as in the design)."""
from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

BATCH = 4096


@dataclass(frozen=True)
class Stacker:
    """Weights over the members' logits, bias, and the training loss per epoch."""

    weights: np.ndarray
    bias: float
    losses: list[float]


def fit_stacker(member_logits: np.ndarray, labels: np.ndarray, epochs: int, lr: float, seed: int) -> Stacker:
    """Train Dense(1, sigmoid) on (n, K) member logits of pairs that no member saw."""
    if member_logits.shape[0] == 0 or np.unique(labels).size < 2:
        raise ValueError("the stacker needs held-out pairs of both labels: raise ensemble stack_share")
    keras.utils.set_random_seed(seed)
    k = member_logits.shape[1]
    model = keras.Sequential([keras.Input((k,)), keras.layers.Dense(
        1, activation="sigmoid", kernel_initializer=keras.initializers.Constant(1.0 / k), name="stacker")])
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="binary_crossentropy")
    history = model.fit(member_logits.astype(np.float32), labels.astype(np.float32)[:, None], batch_size=BATCH,
                        epochs=epochs, shuffle=True, verbose=0)
    kernel, bias = model.get_layer("stacker").get_weights()
    return Stacker(kernel[:, 0].astype(np.float32), float(bias[0]), [float(x) for x in history.history["loss"]])
