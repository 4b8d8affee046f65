"""Scores and embeddings from a trained model: item vectors once per article, customer vectors per shard.

:func:`score_pairs` computes the item tower once for every distinct article of the frame (in chunks),
then walks the pairs in shards of ``score_shard`` rows, so memory grows with the number of articles,
not of pairs.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import polars as pl

from hm_lib.image_model.cache import FeatureTable
from hm_lib.image_model.images import NOT_READ
from hm_lib.image_model.model import RelevanceModel
from hm_lib.image_model.settings import ImageModelSettings
from hm_lib.image_model.tables import article_positions
from hm_lib.schema import ARTICLE, CUSTOMER, SCORE

ITEM_CHUNK = 1024
CUSTOMER_CHUNK = 8192


@dataclass
class ImageRelevanceModel:
    """A trained :class:`RelevanceModel` with its article ids (positions) and cached image input."""

    model: RelevanceModel
    settings: ImageModelSettings
    article_ids: np.ndarray          # position -> article_id, sorted
    image: FeatureTable | None       # the image branch's input per article position (None: no_image)

    @property
    def variant(self) -> str:
        return self.model.variant

    @property
    def read(self) -> np.ndarray | None:
        """Mask of the articles whose photo the image input comes from (None: every article's, or no image)."""
        if self.image is None or not (self.image.status == NOT_READ).any():
            return None
        return self.image.status != NOT_READ

    def positions(self, article_ids: np.ndarray | pl.Series) -> np.ndarray:
        return article_positions(self.article_ids, article_ids)

    def _inputs(self, positions: np.ndarray) -> dict[str, np.ndarray]:
        inputs = {"article": positions.astype(np.int32)}
        if self.image is not None:
            inputs["image"] = self.image.take(positions)
        return inputs

    def item_table(self, positions: np.ndarray) -> np.ndarray:
        """(n, k + 1) float32 item vectors and biases of article positions."""
        return in_chunks(lambda c: self.model.item_vectors(**self._inputs(c)), positions, ITEM_CHUNK,
                         self.model.k + 1)

    def customer_table(self, customers: np.ndarray) -> np.ndarray:
        """(n, k + 1) float32 customer vectors and biases.

        The purchase history's part is the mean of the history items' rows of the model's
        :meth:`~RelevanceModel.history_projection` plus the bias, summed here in numpy item by item, so
        that a customer's row is the same whatever rows it is computed with.
        """
        if customers.size and (customers.min() < 0 or customers.max() >= self.model.n_customers):
            raise ValueError(f"customer indexes outside 0..{self.model.n_customers - 1}")
        if self.model.history_dense is None:
            return in_chunks(self.model.customer_vectors, customers, CUSTOMER_CHUNK, self.model.k + 1)
        table = in_chunks(lambda c: self.model.customer_vectors(c, history=False), customers, CUSTOMER_CHUNK,
                          self.model.k + 1)
        projection = keras.ops.convert_to_numpy(self.model.history_projection()).astype(np.float32)
        bias = keras.ops.convert_to_numpy(self.model.history_dense.bias).astype(np.float32)
        history = self.history
        for lo in range(0, customers.size, CUSTOMER_CHUNK):
            rows = history[customers[lo:lo + CUSTOMER_CHUNK]]
            mask = rows >= 0
            count = mask.sum(axis=1, keepdims=True).astype(np.float32)
            total = np.zeros((rows.shape[0], projection.shape[1]), np.float32)
            for step in range(rows.shape[1]):  # item by item: the same sum for every row
                total += projection[np.maximum(rows[:, step], 0)] * mask[:, step, None]
            table[lo:lo + CUSTOMER_CHUNK] += (total / np.maximum(count, 1.0) + bias) * np.minimum(count, 1.0)
        return table

    @property
    def history(self) -> np.ndarray:
        """(customers, length) int32: the purchase histories the customer tower reads now."""
        return keras.ops.convert_to_numpy(self.model.customer_history)

    def customer_table_at(self, customers: np.ndarray, history: np.ndarray) -> np.ndarray:
        """:meth:`customer_table` with the purchase histories ``history`` (e.g. those before a scoring date);
        the model keeps its own."""
        own = self.history
        self.model.set_history(history)
        try:
            return self.customer_table(customers)
        finally:
            self.model.set_history(own)

    def image_embeddings(self, positions: np.ndarray) -> np.ndarray:
        """(n, d) float32 output of the image branch (calibration layer, or standardised pooled features)."""
        if self.image is None:
            raise ValueError("the no_image variant has no image embedding")
        width = self.model.calibration_units if self.model.calibration is not None else self.model.image_dim
        return in_chunks(lambda c: self.model.image_embedding(self.image.take(c)), positions, ITEM_CHUNK, width)

    @property
    def global_bias(self) -> float:
        return float(self.model.global_bias.numpy())


def in_chunks(fn: Callable[[np.ndarray], Any], index: np.ndarray, chunk: int, width: int) -> np.ndarray:
    """(n, width) float32 ``fn`` of ``index`` in calls of exactly ``chunk`` rows (the last one padded).

    One input shape for every call: compiled once per backend, and a row's result does not depend on
    how many rows it came with (XLA's dot products round differently for different shapes).
    """
    out = []
    for lo in range(0, index.size, chunk):
        part = index[lo:lo + chunk]
        padded = np.pad(part, (0, chunk - part.size), mode="edge")
        out.append(keras.ops.convert_to_numpy(fn(padded))[:part.size])
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0, width), np.float32)


def logits(customers: np.ndarray, items: np.ndarray, global_bias: float) -> np.ndarray:
    """Row-wise logits of aligned customer and item tables (same formula as the model's)."""
    return (np.einsum("ij,ij->i", customers[:, :-1], items[:, :-1]) + customers[:, -1] + items[:, -1]
            + np.float32(global_bias)).astype(np.float32)


def score_pairs(model: ImageRelevanceModel, pairs: pl.DataFrame, shard: int | None = None) -> pl.Series:
    """Relevance logit of each (customer, article_id) row of ``pairs``, in row order (Float32 "score")."""
    shard = shard or model.settings.score_shard
    positions = model.positions(pairs[ARTICLE])
    unique, slot = np.unique(positions, return_inverse=True)
    items = model.item_table(unique)
    customers = pairs[CUSTOMER].to_numpy().astype(np.int32)
    scores = np.empty(pairs.height, dtype=np.float32)
    bias = model.global_bias
    for lo in range(0, pairs.height, shard):
        cs = customers[lo:lo + shard]
        uniq_c, c_slot = np.unique(cs, return_inverse=True)
        scores[lo:lo + shard] = logits(model.customer_table(uniq_c)[c_slot], items[slot[lo:lo + shard]], bias)
    return pl.Series(SCORE, scores, dtype=pl.Float32)


def embedding_frame(article_ids: np.ndarray, embeddings: np.ndarray) -> pl.DataFrame:
    """article_id and its embedding as a Float32 list column ``embedding``."""
    return pl.DataFrame({ARTICLE: pl.Series(article_ids, dtype=pl.Int32),
                         "embedding": pl.Series(list(embeddings), dtype=pl.List(pl.Float32))})


def image_embedding_frame(model: ImageRelevanceModel, article_ids: np.ndarray | None = None) -> pl.DataFrame:
    """Image embeddings (:meth:`ImageRelevanceModel.image_embeddings`) of articles, every one by default."""
    ids = model.article_ids if article_ids is None else np.asarray(article_ids)
    return embedding_frame(ids, model.image_embeddings(model.positions(ids)))
