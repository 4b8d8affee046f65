"""Integer codes of articles and customers for the model: article positions, attribute codes and the
customers' purchase histories.

Code 0 means unknown (a null value); the others are the dense rank of the value, so a cardinality is
the largest code plus one. Purchase histories (hm_lib.image_model.history) are set for a date.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import polars as pl

from hm_lib.schema import ARTICLE, CUSTOMER

AGE_MIN, AGE_MAX, AGE_BIN = 16, 99, 5


def _dense_codes(column: pl.Expr) -> pl.Expr:
    return column.rank("dense").fill_null(0).cast(pl.Int32)


def _age_bucket(age: pl.Expr) -> pl.Expr:
    return ((age.clip(AGE_MIN, AGE_MAX) - AGE_MIN) // AGE_BIN + 1).fill_null(0).cast(pl.Int32)


def _codes(frame: pl.DataFrame, exprs: list[pl.Expr], n: int) -> tuple[np.ndarray, list[int]]:
    if not exprs:
        return np.zeros((n, 0), dtype=np.int32), []
    codes = frame.select(exprs).to_numpy().astype(np.int32)
    return codes, [int(c) + 1 for c in codes.max(axis=0)]


@dataclass(frozen=True)
class ModelTables:
    """Article positions (``article_ids`` sorted), attribute codes of articles and customers and, when the
    customer tower reads purchase histories, each customer's history and each article's image code."""

    article_ids: np.ndarray
    article_codes: np.ndarray
    article_cards: list[int]
    customer_codes: np.ndarray
    customer_cards: list[int]
    history: np.ndarray | None = None        # (customers, length) int32 article positions, -1: none
    history_image: np.ndarray | None = None  # (articles, d) float32 image codes of history items
    article_seen: np.ndarray | None = None   # (articles,) float32: 1 with a training purchase, 0 cold (None: all 1)

    @property
    def history_length(self) -> int:
        return 0 if self.history is None else int(self.history.shape[1])

    def with_history(self, history: np.ndarray | None, history_image: np.ndarray | None = None) -> ModelTables:
        """These tables with purchase histories (and the image codes the history reads) set."""
        if history is not None and history.shape[0] != self.n_customers:
            raise ValueError(f"history has {history.shape[0]} rows for {self.n_customers} customers")
        if history_image is not None and history_image.shape[0] != self.n_articles:
            raise ValueError(f"history_image has {history_image.shape[0]} rows for {self.n_articles} articles")
        return dataclasses.replace(self, history=history, history_image=history_image)

    def with_seen(self, pairs: pl.DataFrame) -> ModelTables:
        """These tables with ``article_seen`` marking the articles bought in ``pairs`` (label 1): the others
        have no trained id vector and are scored from their attributes and photo."""
        seen = np.zeros(self.n_articles, dtype=np.float32)
        seen[self.positions(pairs.filter(pl.col("label") == 1)[ARTICLE])] = 1.0
        return dataclasses.replace(self, article_seen=seen)

    @property
    def n_articles(self) -> int:
        return int(self.article_ids.size)

    @property
    def n_customers(self) -> int:
        return int(self.customer_codes.shape[0])

    def positions(self, article_ids: np.ndarray | pl.Series) -> np.ndarray:
        """Positions of article ids; unknown ids raise."""
        return article_positions(self.article_ids, article_ids)


def article_positions(known: np.ndarray, article_ids: np.ndarray | pl.Series) -> np.ndarray:
    """Positions in the sorted ``known`` ids; raises ValueError naming unknown ids."""
    ids = np.asarray(article_ids, dtype=np.int64)
    pos = np.clip(np.searchsorted(known, ids), 0, max(known.size - 1, 0))
    bad = known[pos] != ids if known.size else np.ones(ids.size, dtype=bool)
    if bad.any():
        raise ValueError(f"{int(bad.sum())} pairs have article ids the model does not know, "
                         f"e.g. {ids[bad][:3]}")
    return pos.astype(np.int32)


def model_tables(articles: pl.DataFrame, customers: pl.DataFrame, article_attributes: tuple[str, ...],
                 customer_attributes: tuple[str, ...]) -> ModelTables:
    """Codes of every article (sorted by id) and of every customer (by ``customer`` index 0..n-1)."""
    arts = articles.sort(ARTICLE)
    exprs = [_dense_codes(pl.col(c)) for c in article_attributes]
    article_codes, article_cards = _codes(arts, exprs, arts.height)
    custs = customers.sort(CUSTOMER)
    if custs.height and not (custs[CUSTOMER].to_numpy() == np.arange(custs.height)).all():
        raise ValueError("customers must be indexed 0..n-1 by their `customer` column")
    exprs = [_age_bucket(pl.col(c)) if c == "age" else _dense_codes(pl.col(c)) for c in customer_attributes]
    customer_codes, customer_cards = _codes(custs, exprs, custs.height)
    return ModelTables(arts[ARTICLE].to_numpy().astype(np.int64), article_codes, article_cards,
                       customer_codes, customer_cards)
