"""The two cached feature tables of a catalogue: head outputs (the frozen part's feature maps, input of
the trainable tail) and pooled backbone features (input of the frozen variants).

A photo window (``ImageModelSettings.photo_days``) limits the photos read to the articles that can
matter for the weeks after a cut-off: those sold in the window before it and those not sold before it
(new arrivals, known by their photo alone). The others share the white placeholder's features, as an
article without a photo does; statistics and image codes are taken over the photos read.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import polars as pl

from hm_lib.image_model.backbone import BackboneSplit, preprocess, weights_digest
from hm_lib.image_model.cache import FeatureTable, cached_features, config_digest
from hm_lib.image_model.images import NOT_READ, ImageSource, log_placeholders
from hm_lib.image_model.settings import ImageModelSettings
from hm_lib.schema import ARTICLE

log = logging.getLogger(__name__)

PREDICT_BATCH = 128
STATS_ROWS = 8192
PLACEHOLDER_ID = 0  # no article has it: its photo is missing, so it is the white placeholder


@dataclass(frozen=True)
class ArticleFeatures:
    """Head feature maps and pooled features of the same articles (positions of ``article_ids``)."""

    article_ids: np.ndarray
    maps: FeatureTable
    pooled: FeatureTable

    @property
    def status(self) -> np.ndarray:
        return self.maps.status

    @functools.cached_property
    def pooled_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of the pooled features over the catalogue (computed once)."""
        return pooled_stats(self.pooled)


def photo_window(article_ids: np.ndarray, transactions: pl.DataFrame, cutoff: dt.date,
                 days: int | None) -> np.ndarray | None:
    """Mask of the articles whose photos are read: sold in the ``days`` before ``cutoff`` or never before it
    (None: every photo, when ``days`` is None)."""
    if days is None:
        return None
    before = transactions.filter(pl.col("t_dat") < cutoff)
    recent = before.filter(pl.col("t_dat") >= cutoff - dt.timedelta(days=days))[ARTICLE].unique().to_numpy()
    return np.isin(article_ids, recent) | ~np.isin(article_ids, before[ARTICLE].unique().to_numpy())


def pooled_chunks(pooled: FeatureTable, positions: np.ndarray | None = None) -> Iterator[np.ndarray]:
    """The pooled features of ``positions`` (default: every article) in order, ``STATS_ROWS`` rows at a time,
    as float64."""
    positions = np.arange(pooled.rows.size) if positions is None else positions
    for lo in range(0, positions.size, STATS_ROWS):
        yield pooled.take(positions[lo:lo + STATS_ROWS]).astype(np.float64)


def read_positions(pooled: FeatureTable) -> np.ndarray:
    """The positions of the articles whose photo was read (or tried: missing and unreadable ones count)."""
    return np.flatnonzero(pooled.status != NOT_READ)


def pooled_stats(pooled: FeatureTable) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of the pooled features over the photos read (chunked)."""
    positions = read_positions(pooled)
    n = positions.size
    total = np.zeros(pooled.shape, dtype=np.float64)
    squares = np.zeros(pooled.shape, dtype=np.float64)
    for x in pooled_chunks(pooled, positions):
        total += x.sum(axis=0)
        squares += (x * x).sum(axis=0)
    mean = total / max(n, 1)
    return mean, np.sqrt(np.maximum(squares / max(n, 1) - mean * mean, 0.0))


def image_codes(pooled: FeatureTable, stats: tuple[np.ndarray, np.ndarray], dims: int) -> np.ndarray:
    """(n, dims) float32: the standardised pooled features on their first ``dims`` principal axes, whitened.

    A compact, fixed picture of every article that the customer tower averages over a purchase
    history. The covariance is accumulated in chunks, so memory grows with the feature width only.
    """
    mean, std = stats
    scale = 1.0 / np.maximum(std, 1e-6)

    def standardised(positions: np.ndarray | None = None) -> Iterator[np.ndarray]:
        return ((x - mean) * scale for x in pooled_chunks(pooled, positions))

    read = read_positions(pooled)
    cov = sum(z.T @ z for z in standardised(read)) / max(read.size, 1)
    values, vectors = np.linalg.eigh(cov)
    top = np.argsort(values)[::-1][:dims]
    axes = vectors[:, top] / np.sqrt(np.maximum(values[top], 1e-9))
    return np.concatenate([z @ axes for z in standardised()]).astype(np.float32)


def run_in_batches(model: keras.Model, x: np.ndarray, batch: int = PREDICT_BATCH) -> np.ndarray:
    """``model(x)`` in inference mode, ``batch`` rows at a time, as float32 numpy.

    Through Keras' compiled predict step (``predict_on_batch``: traced once per batch shape, on any
    backend), not eager calls: the same figures, and ResNet50's head runs about 1.4x faster on the CPU
    (docs/benchmarks.md, "Compiled inference").
    """
    return np.concatenate([np.asarray(model.predict_on_batch(x[lo:lo + batch]))
                           for lo in range(0, len(x), batch)]).astype(np.float32)


def photo_features(split: BackboneSplit, settings: ImageModelSettings, source: ImageSource,
                   article_ids: np.ndarray, cache_root: Path, read: np.ndarray | None = None) -> ArticleFeatures:
    """Cached head maps and pooled features of ``article_ids`` (computed for new or changed photos).

    ``read`` (a mask, see :func:`photo_window`): only those articles' photos are read; the others take the
    placeholder's features and the status NOT_READ.
    """
    article_ids = np.asarray(article_ids)
    if read is None or read.all():
        return _features(split, settings, source, article_ids, cache_root)
    log.info("image model: reading the photos of %d of %d articles (the photo window); the others take the "
             "white placeholder's features", int(read.sum()), read.size)
    some = _features(split, settings, source, np.append(article_ids[read], PLACEHOLDER_ID), cache_root)
    return ArticleFeatures(article_ids, some.maps.spread(read, NOT_READ), some.pooled.spread(read, NOT_READ))


def _features(split: BackboneSplit, settings: ImageModelSettings, source: ImageSource, article_ids: np.ndarray,
              cache_root: Path) -> ArticleFeatures:
    states = source.states(article_ids)
    key = {"backbone": settings.backbone, "image_size": list(settings.image_size), "decoder": settings.decoder,
           "cut": split.cut_layer, "head_weights": weights_digest(split.head)}
    maps_dir = cache_root / f"maps-{config_digest(key)}"

    def compute_maps(positions: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        for pos, images, status in source.read(article_ids[positions]):
            yield positions[pos], run_in_batches(split.head, preprocess(images)), status

    shape = tuple(int(d) for d in split.head.output.shape[1:])
    maps = cached_features(maps_dir, article_ids, states, shape, compute_maps, "head")
    log_placeholders(maps.status, f"{article_ids.size} articles")

    def compute_pooled(positions: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        for lo in range(0, positions.size, 1024):
            pos = positions[lo:lo + 1024]
            yield pos, run_in_batches(split.tail, maps.take(pos).astype(np.float32)), maps.status[pos]

    pooled_key = {**key, "tail_weights": weights_digest(split.tail)}
    pooled = cached_features(cache_root / f"pooled-{config_digest(pooled_key)}", article_ids, states,
                             (int(split.tail.output.shape[-1]),), compute_pooled, "pooled")
    return ArticleFeatures(np.asarray(article_ids), maps, pooled)
