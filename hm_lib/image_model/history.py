"""Purchase histories for the customer tower: a function of a date, so training and scoring never see
a purchase from on or after the day they stand for.

A history holds the positions of the last ``length`` distinct articles a customer bought before the
date, most recent first, -1 where there are fewer. Training pairs read the histories before the
first day of their window; scores for the days after a cut-off read those before the cut-off.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from hm_lib.image_model.features import ArticleFeatures, image_codes
from hm_lib.image_model.settings import ImageModelSettings
from hm_lib.image_model.tables import ModelTables, article_positions
from hm_lib.negatives.sampling import DAY
from hm_lib.schema import ARTICLE, CUSTOMER

T_DAT = "t_dat"


def purchase_history(transactions: pl.DataFrame, article_ids: np.ndarray, n_customers: int, before: dt.date,
                     length: int) -> np.ndarray:
    """(n_customers, length) int32: each customer's last ``length`` distinct articles bought before
    ``before`` (positions in ``article_ids``), most recent first; -1 pads shorter histories."""
    out = np.full((n_customers, length), -1, dtype=np.int32)
    if length <= 0:
        return out
    recent = (transactions.lazy().filter(pl.col(T_DAT) < before)
              .group_by(CUSTOMER, ARTICLE).agg(pl.col(T_DAT).max())
              .sort([CUSTOMER, T_DAT, ARTICLE], descending=[False, True, False])
              .group_by(CUSTOMER, maintain_order=True).head(length)
              .with_columns(pl.int_range(pl.len()).over(CUSTOMER).alias("slot"))
              .collect())
    out[recent[CUSTOMER].to_numpy(), recent["slot"].to_numpy()] = article_positions(article_ids, recent[ARTICLE])
    return out


def with_purchase_history(tables: ModelTables, transactions: pl.DataFrame, before: dt.date,
                          settings: ImageModelSettings, features: ArticleFeatures | None = None) -> ModelTables:
    """``tables`` with the histories before ``before`` and, given image features, the articles' image codes."""
    if not settings.history_length:
        return tables.with_history(None)
    history = purchase_history(transactions, tables.article_ids, tables.n_customers, before,
                               settings.history_length)
    codes = None
    if features is not None and settings.history_image_dim:
        codes = image_codes(features.pooled, features.pooled_stats, settings.history_image_dim)
    return tables.with_history(history, codes)


def history_start(pairs_train: pl.DataFrame) -> dt.date:
    """The first day of the training pairs: their histories are the purchases before it."""
    if pairs_train.is_empty():
        raise ValueError("no training pairs to date the purchase histories by")
    return pairs_train[DAY].min()


def scoring_histories(tables: ModelTables, transactions: pl.DataFrame, cutoff: dt.date) -> np.ndarray | None:
    """The histories before ``cutoff`` (for scores after it), as long as ``tables``' own; None without."""
    if not tables.history_length:
        return None
    return purchase_history(transactions, tables.article_ids, tables.n_customers, cutoff, tables.history_length)
