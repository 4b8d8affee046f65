"""The two cached feature tables of a catalogue: head outputs (the frozen part's feature maps, input of
the trainable tail) and pooled backbone features (input of the frozen variants)."""
from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from hm_lib.image_model.backbone import BackboneSplit, preprocess, weights_digest
from hm_lib.image_model.cache import FeatureTable, cached_features, config_digest
from hm_lib.image_model.images import ImageSource, log_placeholders
from hm_lib.image_model.settings import ImageModelSettings

log = logging.getLogger(__name__)

PREDICT_BATCH = 128
STATS_ROWS = 8192


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


def pooled_chunks(pooled: FeatureTable) -> Iterator[np.ndarray]:
    """The pooled features of every article in order, ``STATS_ROWS`` rows at a time, as float64."""
    n = pooled.rows.size
    for lo in range(0, n, STATS_ROWS):
        yield pooled.take(np.arange(lo, min(n, lo + STATS_ROWS))).astype(np.float64)


def pooled_stats(pooled: FeatureTable) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of the pooled features over the catalogue (chunked)."""
    n = pooled.rows.size
    total = np.zeros(pooled.shape, dtype=np.float64)
    squares = np.zeros(pooled.shape, dtype=np.float64)
    for x in pooled_chunks(pooled):
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

    def standardised() -> Iterator[np.ndarray]:
        return ((x - mean) * scale for x in pooled_chunks(pooled))

    cov = sum(z.T @ z for z in standardised()) / max(pooled.rows.size, 1)
    values, vectors = np.linalg.eigh(cov)
    top = np.argsort(values)[::-1][:dims]
    axes = vectors[:, top] / np.sqrt(np.maximum(values[top], 1e-9))
    return np.concatenate([z @ axes for z in standardised()]).astype(np.float32)


def run_in_batches(model: keras.Model, x: np.ndarray, batch: int = PREDICT_BATCH) -> np.ndarray:
    """``model(x)`` in inference mode, ``batch`` rows at a time, as float32 numpy."""
    return np.concatenate([keras.ops.convert_to_numpy(model(x[lo:lo + batch], training=False))
                           for lo in range(0, len(x), batch)]).astype(np.float32)


def article_features(split: BackboneSplit, settings: ImageModelSettings, source: ImageSource,
                     article_ids: np.ndarray, cache_root: Path) -> ArticleFeatures:
    """Cached head maps and pooled features of ``article_ids`` (computed for new or changed photos)."""
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
