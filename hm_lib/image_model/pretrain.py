"""A starting point for the backbone without ImageNet: pretrain it on the catalogue's own photos.

The whole backbone (randomly initialised) learns to predict article attributes (product type,
colour group, graphical appearance) from a seeded subsample of the photos, with horizontal flips.
The weights are kept in the cache, keyed by everything they depend on, and reused.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np
import polars as pl
from keras import layers

from hm_lib.image_model.backbone import build_backbone, preprocess
from hm_lib.image_model.cache import config_digest
from hm_lib.image_model.images import OK, ImageSource
from hm_lib.image_model.settings import ImageModelSettings
from hm_lib.image_model.train import BatchProgress
from hm_lib.io import atomic_path, read_json, write_json
from hm_lib.schema import ARTICLE

log = logging.getLogger(__name__)
HOLDOUT = 0.1
BN_MOMENTUM = 0.9  # Keras' 0.99 leaves the moving statistics near their start after a few hundred steps


def _targets(articles: pl.DataFrame, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Dense class codes 0..m-1 of each target column (null is a class of its own)."""
    return {c: articles.select(pl.col(c).rank("dense").fill_null(0)).to_series().to_numpy().astype(np.int32)
            for c in columns}


def pretrained_weights(settings: ImageModelSettings, articles: pl.DataFrame, source: ImageSource,
                       cache_root: Path) -> tuple[Path, dict[str, Any]]:
    """The path of pretrained backbone weights (trained now unless cached) and the pretraining report."""
    arts = articles.sort(ARTICLE)
    ids = arts[ARTICLE].to_numpy()
    states = source.states(ids)
    rng = np.random.default_rng(settings.seed)
    candidates = np.flatnonzero(states[:, 0] >= 0)
    chosen = rng.choice(candidates, size=min(settings.pretrain_images, candidates.size), replace=False)
    targets = _targets(arts, settings.pretrain_targets)
    key = config_digest({
        "backbone": settings.backbone, "image_size": list(settings.image_size), "decoder": settings.decoder,
        "targets": list(settings.pretrain_targets), "images": settings.pretrain_images,
        "epochs": settings.pretrain_epochs, "batch": settings.pretrain_batch, "lr": settings.pretrain_lr,
        "seed": settings.seed,
        "ids": config_digest({"ids": ids[chosen].tolist(), "states": states[chosen].tolist()}),
        "labels": config_digest({c: t[chosen].tolist() for c, t in targets.items()}),
    })
    path = cache_root / "backbones" / f"pretrained-{key}.weights.h5"
    report_path = path.with_name(f"pretrained-{key}.json")
    if path.is_file() and report_path.is_file():
        log.info("image model: reusing the pretrained backbone %s", path)
        return path, {**read_json(report_path), "reused": True}
    report = _pretrain(settings, source, ids[chosen], {c: t[chosen] for c, t in targets.items()}, path)
    write_json(report, report_path)
    return path, report


def _pretrain(settings: ImageModelSettings, source: ImageSource, article_ids: np.ndarray,
              targets: dict[str, np.ndarray], path: Path) -> dict[str, Any]:
    start = time.perf_counter()
    images, status = source.read_all(article_ids)
    keep = status == OK
    x = preprocess(images[keep])
    y = {c: t[keep] for c, t in targets.items()}
    log.info("image model: pretraining the %s backbone on %d photos (%s) for %d epochs", settings.backbone,
             x.shape[0], ", ".join(y), settings.pretrain_epochs)
    keras.utils.set_random_seed(settings.seed)
    backbone = build_backbone(settings)
    for layer in backbone.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.momentum = BN_MOMENTUM
    inputs = keras.Input(x.shape[1:])
    pooled = backbone(layers.RandomFlip("horizontal", seed=settings.seed)(inputs))
    outputs = {c: layers.Dense(int(t.max()) + 1, name=c)(pooled) for c, t in y.items()}
    model = keras.Model(inputs, outputs, name="pretrain")
    model.compile(optimizer=keras.optimizers.Adam(settings.pretrain_lr),
                  loss={c: keras.losses.SparseCategoricalCrossentropy(from_logits=True) for c in y},
                  metrics={c: ["accuracy"] for c in y}, run_eagerly=settings.run_eagerly)
    progress = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: log.info(
        "image model: pretraining epoch %d/%d: loss %.3f, held-out loss %.3f", epoch + 1,
        settings.pretrain_epochs, logs.get("loss", np.nan), logs.get("val_loss", np.nan)))
    fit = model.fit(x, y, batch_size=settings.pretrain_batch, epochs=settings.pretrain_epochs,
                    validation_split=HOLDOUT, verbose=0, callbacks=[BatchProgress("pretraining"), progress])
    with atomic_path(path, suffix=".weights.h5") as tmp:
        backbone.save_weights(tmp)
    held = slice(int(x.shape[0] * (1 - HOLDOUT)), None)
    report = {
        "photos": int(x.shape[0]), "epochs": settings.pretrain_epochs, "seconds": time.perf_counter() - start,
        "holdout_accuracy": {c: float(fit.history[f"val_{c}_accuracy"][-1]) for c in y},
        "holdout_majority": {c: float(np.bincount(t[held]).max() / max(t[held].size, 1)) for c, t in y.items()},
        "reused": False,
    }
    log.info("image model: pretraining done in %.0f s; held-out accuracy %s (majority class %s)",
             report["seconds"],
             {c: round(v, 3) for c, v in report["holdout_accuracy"].items()},
             {c: round(v, 3) for c, v in report["holdout_majority"].items()})
    return report
