"""Heuristic baselines: popularity and repurchase, as long prediction frames.

Every baseline has the signature ``(transactions, cutoff, customers, k)`` and uses only the rows
strictly before ``cutoff``. ``customers`` is a frame with a ``customer`` column (e.g. the customers
table), a series or a sequence of customer indexes; the output has ``k`` rows per customer
(fewer only when fewer articles were sold), columns customer, article_id, rank, ordered as
``customers`` then by rank.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import polars as pl

from hm_lib.sales import Customers, before, customer_frame, decay_weight, ranks, top_articles
from hm_lib.schema import ARTICLE, CUSTOMER, RANK, K

Baseline = Callable[[pl.DataFrame, dt.date, Customers, int], pl.DataFrame]

_WEIGHT = "_weight"


def ranked_lists(
    predictions: pl.DataFrame, fill: pl.DataFrame | Sequence[int], customers: Customers, k: int = K
) -> pl.DataFrame:
    """One row per customer (``customers`` order): their ``k`` best distinct articles as a list.

    Each customer's predictions in rank order (a repeat keeps its best rank) come first, then the
    ``fill`` articles (a ranked frame article_id, rank or a list of ids, best first) they lack;
    lists stay shorter than ``k`` only when both run out. Output: customer, article_id (List[Int32]).
    """
    fill_ids = fill.sort(RANK).get_column(ARTICLE) if isinstance(fill, pl.DataFrame) else fill
    fill_list = pl.lit(pl.Series([list(fill_ids)], dtype=pl.List(pl.Int32)))
    own = (
        predictions.select(pl.col(CUSTOMER).cast(pl.Int32), pl.col(ARTICLE).cast(pl.Int32), RANK)
        .sort(CUSTOMER, RANK, maintain_order=True)
        .group_by(CUSTOMER)
        .agg(ARTICLE)
    )
    merged = (
        pl.col(ARTICLE).fill_null(pl.lit([], dtype=pl.List(pl.Int32)))
        .list.concat(fill_list).list.unique(maintain_order=True).list.head(k)
    )
    lists = customer_frame(customers).join(own, on=CUSTOMER, how="left", maintain_order="left")
    return lists.with_columns(merged)


def fill_up(
    predictions: pl.DataFrame, fill: pl.DataFrame | Sequence[int], customers: Customers, k: int = K
) -> pl.DataFrame:
    """:func:`ranked_lists` as a long frame: customer, article_id, rank 1..k."""
    lists = ranked_lists(predictions, fill, customers, k)
    ranks = pl.int_ranges(1, pl.col(ARTICLE).list.len() + 1, dtype=pl.Int32).alias(RANK)
    return lists.with_columns(ranks).explode(ARTICLE, RANK)


def popular_last_week(
    transactions: pl.DataFrame, cutoff: dt.date, customers: Customers, k: int = K
) -> pl.DataFrame:
    """The ``k`` best-sellers (rows) of the 7 days before ``cutoff``, for every customer."""
    popular = top_articles(before(transactions, cutoff, 7), k)
    return customer_frame(customers).join(popular, how="cross")


def decayed_popularity_with_repurchase(
    transactions: pl.DataFrame,
    cutoff: dt.date,
    customers: Customers,
    k: int = K,
    half_life_days: float = 7.0,
    history_days: int = 28,
) -> pl.DataFrame:
    """Own purchases of the last ``history_days`` first, then time-decayed best-sellers.

    Every sale is weighted by :func:`decay_weight`. A customer's distinct articles are ordered by
    their summed weight (then most recent, then article id); the popularity list (same weights,
    all customers) fills each list up to ``k`` distinct articles.
    """
    weight = decay_weight(cutoff, half_life_days).alias(_WEIGHT)
    recent = before(transactions, cutoff, history_days).with_columns(weight)
    own = (
        recent.join(customer_frame(customers), on=CUSTOMER, how="semi")
        .group_by(CUSTOMER, ARTICLE)
        .agg(pl.col(_WEIGHT).sum(), pl.col("t_dat").max())
        .sort([CUSTOMER, _WEIGHT, "t_dat", ARTICLE], descending=[False, True, True, False])
        .with_columns(ranks(pl.int_range(1, pl.len() + 1).over(CUSTOMER)))
    )
    return fill_up(own, top_articles(recent, k, pl.col(_WEIGHT)), customers, k)


BASELINES: dict[str, Baseline] = {
    "popular": popular_last_week,
    "decayed_repurchase": decayed_popularity_with_repurchase,
}
