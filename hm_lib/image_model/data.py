"""Batches of labelled pairs for :class:`~hm_lib.image_model.model.RelevanceModel` (a keras PyDataset).

Each batch holds ``batch_size`` interactions (the last one padded, with weight 0) and the distinct
articles among them, with their image input gathered from the feature cache. The distinct count is
padded up to a few sizes per octave, so the compiled step sees few shapes on every backend.

Two orders: ``shuffle`` draws interactions at random (phase 1, where an article costs little);
``group_articles`` puts interactions of the same articles together (at most that many distinct
articles per batch, all of an article's interactions in as few batches as possible), so that in
phase 2 the trainable backbone tail runs about once per article per epoch instead of once per
interaction.
"""
from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from hm_lib.image_model.cache import FeatureTable

MIN_ARTICLES = 16
STEPS_PER_OCTAVE = 4


def padded_count(n: int) -> int:
    """``n`` rounded up to one of 4 sizes per octave (at most 19% padding), at least 16."""
    if n <= MIN_ARTICLES:
        return MIN_ARTICLES
    step = 2 ** max(0, math.floor(math.log2(n)) - int(math.log2(STEPS_PER_OCTAVE)))
    return -(-n // step) * step


def grouped_batches(articles: np.ndarray, batch_size: int, group_articles: int,
                    rng: np.random.Generator | None) -> list[np.ndarray]:
    """Interaction indices cut into batches of at most ``batch_size`` rows and ``group_articles`` articles.

    Articles come in random order (sorted order without ``rng``); an article with more than
    ``batch_size`` interactions spans several batches.
    """
    n = articles.size
    order = rng.permutation(n) if rng is not None else np.arange(n)
    _, codes = np.unique(articles, return_inverse=True)
    rank = rng.permutation(codes.max() + 1)[codes] if rng is not None else codes
    order = order[np.argsort(rank[order], kind="stable")]
    a = articles[order]
    starts = np.flatnonzero(np.r_[True, a[1:] != a[:-1]]) if n else np.array([], dtype=np.int64)
    bounds, lo, count = [0], 0, 0
    for s, e in zip(starts, np.r_[starts[1:], n]):
        if count == group_articles:
            bounds.append(s)
            lo, count = s, 0
        count += 1
        while e - lo > batch_size:
            lo += batch_size
            bounds.append(lo)
            count = 1
    bounds.append(n)
    return [order[b:c] for b, c in zip(bounds[:-1], bounds[1:]) if c > b]


class PairBatches(keras.utils.PyDataset):
    """(inputs, labels, weights) batches of pairs given as customer indexes and article positions.

    ``sample_weights`` (default 1) weight each pair's loss, e.g. class weights; padding weighs 0.
    """

    def __init__(self, customers: np.ndarray, articles: np.ndarray, labels: np.ndarray,
                 image: FeatureTable | None, batch_size: int, group_articles: int | None = None,
                 shuffle: bool = True, seed: int = 0, dedupe: bool = True,
                 sample_weights: np.ndarray | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.customers = np.asarray(customers, dtype=np.int32)
        self.articles = np.asarray(articles, dtype=np.int32)
        self.labels = np.asarray(labels, dtype=np.float32)
        self.weights = (np.ones(self.labels.size, dtype=np.float32) if sample_weights is None
                        else np.asarray(sample_weights, dtype=np.float32))
        self.image, self.batch_size, self.group_articles = image, batch_size, group_articles
        self.shuffle, self.dedupe = shuffle, dedupe
        self.rng = np.random.default_rng(seed)
        self.batches = self._plan()

    def _plan(self) -> list[np.ndarray]:
        rng = self.rng if self.shuffle else None
        if self.group_articles:
            return grouped_batches(self.articles, self.batch_size, self.group_articles, rng)
        order = rng.permutation(self.articles.size) if rng is not None else np.arange(self.articles.size)
        return [order[lo:lo + self.batch_size] for lo in range(0, order.size, self.batch_size)]

    def __len__(self) -> int:
        return len(self.batches)

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self.batches = self._plan()

    @property
    def distinct_articles(self) -> int:
        """Item-tower rows per epoch (padding included): the cost of the image branch."""
        return sum(padded_count(np.unique(self.articles[b]).size) if self.dedupe else self.batch_size
                   for b in self.batches)

    def __getitem__(self, i: int) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        idx = self.batches[i]
        pad = self.batch_size - idx.size
        articles = self.articles[idx]
        if self.dedupe:
            unique, slot = np.unique(articles, return_inverse=True)
            unique = np.pad(unique, (0, padded_count(unique.size) - unique.size), mode="edge")
        else:
            unique, slot = np.pad(articles, (0, pad), mode="edge"), np.arange(idx.size)
        inputs = {"customer": np.pad(self.customers[idx], (0, pad)),
                  "slot": np.pad(slot.astype(np.int32), (0, pad)),
                  "article": unique.astype(np.int32)}
        if self.image is not None:
            inputs["image"] = self.image.take(unique)
        labels = np.pad(self.labels[idx], (0, pad))[:, None]
        weights = np.pad(self.weights[idx], (0, pad))
        return inputs, labels, weights
