"""ResNet50's speed on this machine at the image model's input: a training step, and the frozen head's
inference eager, through Keras' compiled predict step (what the feature cache uses) and with XLA.

    python -m benchmarks.bench_backbone [--scale default] [--batches 8]

Random weights and random images (speed does not depend on them). The figures explain most of the
difference between machines in the image stage's time (stage 04's pretraining and feature cache).
"""
from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import keras
import numpy as np

from benchmarks.measure import machine, machine_line
from hm_lib.image_model.backbone import build_backbone, split_backbone
from hm_lib.image_model.settings import ImageModelSettings


def images_per_second(step: Callable[[np.ndarray], object], x: np.ndarray, batch: int) -> float:
    """Rows of ``x`` a second through ``step``, ``batch`` at a time, after one warm-up call."""
    step(x[:batch])
    start = time.perf_counter()
    for lo in range(0, len(x), batch):
        np.asarray(step(x[lo:lo + batch]))
    return len(x) / (time.perf_counter() - start)


def measure(settings: ImageModelSettings, batches: int) -> dict[str, float]:
    import tensorflow as tf

    w, h = settings.image_size
    rng = np.random.default_rng(0)
    split = split_backbone(build_backbone(settings), settings.trainable_from)
    head = split.head
    x = (rng.random((128 * batches, h, w, 3)) * 255).astype(np.float32)
    figures = {
        "head eager": images_per_second(lambda b: head(b, training=False), x, 128),
        "head predict_on_batch": images_per_second(head.predict_on_batch, x, 128),
        "head XLA": images_per_second(tf.function(lambda b: head(b, training=False), jit_compile=True), x, 128),
    }
    model = keras.Sequential([build_backbone(settings), keras.layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    y = rng.integers(0, 10, len(x))
    batch = settings.pretrain_batch
    figures["training step (whole backbone)"] = images_per_second(
        lambda b: model.train_on_batch(b, y[:len(b)]), x[:batch * batches], batch)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="default", choices=("small", "default", "full"))
    parser.add_argument("--batches", type=int, default=8)
    args = parser.parse_args()
    settings = ImageModelSettings.for_scale(args.scale)
    figures = measure(settings, args.batches)
    print(machine_line())
    print(f"ResNet50 at {settings.image_size[0]}x{settings.image_size[1]}, cut at layer {settings.trainable_from}\n")
    print("| step | images/s |\n|---|---:|")
    for name, value in figures.items():
        print(f"| {name} | {value:.0f} |")
    print(json.dumps({"machine": machine(), "images_per_second": figures}))


if __name__ == "__main__":
    main()
