"""Photo descriptors: what an article looks like, before any training, for the look-alike candidate source.

The output of the backbone's first residual stage (``conv2_block3_out`` of ResNet50), max-pooled over the image.
That early stage is where small marks on a garment are found: on the default world a linear probe of the hidden
style (an emblem seen only in the photo) reached 0.69 from it against 0.49 from the pooled last block that the
image model reads (0.75 with untrained weights; docs/benchmarks.md, "Why: the style is weakly in the
features"). It needs no purchase, so an article that has not sold yet has one, and it costs about a tenth of the
whole network. The weights are ImageNet's when Keras' file is on the machine, else seeded random ones (no
pretraining: the descriptors exist before the image stage runs). Cached per photo like the image stage's
features (:mod:`hm_lib.image_model.cache`).
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path

import keras
import numpy as np
import polars as pl

from hm_lib.image_model.backbone import (
    BLOCK_SUFFIX,
    build_backbone,
    cached_imagenet,
    preprocess,
    weights_digest,
)
from hm_lib.image_model.cache import cached_features, config_digest
from hm_lib.image_model.features import photo_window, run_in_batches
from hm_lib.image_model.images import OK, ImageSource
from hm_lib.image_model.settings import ImageModelSettings
from hm_lib.schema import ARTICLE

log = logging.getLogger(__name__)

STAGE = "conv2_"  # the residual stage whose last block output is the descriptor


def descriptor_layer(backbone: keras.Model) -> str:
    """The name of the last block output of the backbone's first residual stage."""
    names = [layer.name for layer in backbone.layers
             if layer.name.startswith(STAGE) and layer.name.endswith(BLOCK_SUFFIX)]
    if not names:
        raise ValueError(f"{backbone.name} has no {STAGE}*{BLOCK_SUFFIX} layer")
    return names[-1]


def descriptor_net(settings: ImageModelSettings) -> tuple[keras.Model, str]:
    """The backbone up to :func:`descriptor_layer`, global max pooled, and where its weights come from."""
    cached = cached_imagenet()
    keras.utils.set_random_seed(settings.seed)
    imagenet = cached is not None and settings.backbone == "resnet50"
    backbone = build_backbone(settings, weights_path=cached if imagenet else None)
    layer = backbone.get_layer(descriptor_layer(backbone))
    pooled = keras.layers.GlobalMaxPooling2D(name="descriptor_pool")(layer.output)
    origin = f"ImageNet weights from {cached}" if imagenet else f"random weights, seed {settings.seed}"
    return keras.Model(backbone.input, pooled, name="photo_descriptor"), origin


def photo_descriptors(raw_dir: Path, article_ids: np.ndarray, settings: ImageModelSettings, cache_root: Path,
                      read: np.ndarray | None = None) -> np.ndarray:
    """float16 descriptors of ``article_ids`` (one row each, in their order); the articles outside ``read`` (a
    mask; default all) and those whose photo is missing or unreadable get a row of zeros."""
    article_ids = np.asarray(article_ids)
    wanted = np.ones(article_ids.size, dtype=bool) if read is None else read
    net, origin = descriptor_net(settings)
    source = ImageSource(raw_dir, settings.image_size, settings.decode_workers, settings.decoder)
    key = {"backbone": settings.backbone, "image_size": list(settings.image_size), "decoder": settings.decoder,
           "layer": net.layers[-2].name, "weights": weights_digest(net)}
    ids = article_ids[wanted]

    def compute(positions: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        for pos, images, status in source.read(ids[positions]):
            yield positions[pos], run_in_batches(net, preprocess(images)), status

    width = int(net.output.shape[-1])
    table = cached_features(cache_root / f"descriptors-{config_digest(key)}", ids, source.states(ids), (width,),
                            compute, "photo descriptor")
    out = np.zeros((article_ids.size, width), dtype=np.float16)
    out[wanted] = np.where((table.status == OK)[:, None], table.take(np.arange(ids.size)), 0)
    log.info("photo descriptors: %d articles (%d photos read), %s", article_ids.size, ids.size, origin)
    return out


def catalogue_descriptors(raw_dir: Path, articles: pl.DataFrame, transactions: pl.DataFrame, cutoff: dt.date,
                          days: int, settings: ImageModelSettings, cache_root: Path) -> np.ndarray:
    """:func:`photo_descriptors` of the catalogue (``articles`` in article_id order) for a cut-off: the photos of
    the articles sold in the ``days`` before it or never before it are read (:func:`photo_window`)."""
    ids = articles[ARTICLE].to_numpy()
    return photo_descriptors(raw_dir, ids, settings, cache_root, photo_window(ids, transactions, cutoff, days))
