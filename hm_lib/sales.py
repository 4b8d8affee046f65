"""Helpers over the sales and customer frames that the baselines, the candidate sources and the demo share."""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import polars as pl

from hm_lib.schema import ARTICLE, CUSTOMER, RANK, SCORE, K

Customers = pl.DataFrame | pl.Series | Sequence[int]


def customer_frame(customers: Customers) -> pl.DataFrame:
    """Distinct customer indexes (Int32, first-seen order) as a one-column frame."""
    if isinstance(customers, pl.DataFrame):
        series = customers.get_column(CUSTOMER)
    else:
        series = pl.Series(CUSTOMER, customers)
    return series.cast(pl.Int32).alias(CUSTOMER).unique(maintain_order=True).to_frame()


def before(transactions: pl.DataFrame, cutoff: dt.date, days: int) -> pl.DataFrame:
    """Rows of the ``days`` days before ``cutoff``: [cutoff - days, cutoff)."""
    date = pl.col("t_dat")
    return transactions.filter(date >= cutoff - dt.timedelta(days=days), date < cutoff)


def ranks(expr: pl.Expr) -> pl.Expr:
    """``expr`` as the Int32 rank column."""
    return expr.cast(pl.Int32).alias(RANK)


def top_articles(sales: pl.DataFrame, k: int = K, weight: pl.Expr | None = None) -> pl.DataFrame:
    """The ``k`` best articles by summed ``weight`` (default: rows), ties by article id: article_id, rank."""
    total = pl.len() if weight is None else weight.sum()
    return (
        sales.group_by(ARTICLE)
        .agg(total.cast(pl.Float64).alias(SCORE))
        .sort([SCORE, ARTICLE], descending=[True, False])
        .head(k)
        .select(pl.col(ARTICLE).cast(pl.Int32), ranks(pl.int_range(1, pl.len() + 1)))
    )


def decay_weight(cutoff: dt.date, half_life_days: float) -> pl.Expr:
    """Weight of a sale ``d`` days before ``cutoff`` (d >= 1): 0.5 ** ((d - 1) / half_life_days).

    An exponential stand-in for the hand-tuned curve of the "time is our best friend" notebook.
    """
    days = (pl.lit(cutoff) - pl.col("t_dat")).dt.total_days() - 1
    return (days * (-math.log(2) / half_life_days)).exp()
